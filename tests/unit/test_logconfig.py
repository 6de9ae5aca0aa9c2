"""Log locations from log4j 2, log4j 1, Logback and java.util.logging configurations."""

from __future__ import annotations

import pytest

from a2c.analyzers.java.logconfig import log_files, resolve, stdout_links

PROPS = {"catalina.base": "/opt/tomcat", "app.home": "/srv/app"}


@pytest.mark.parametrize("name, text, expected", [
    ("log4j2.xml", '<Configuration><Appenders><RollingFile name="f" fileName="${sys:app.home}/logs/app.log" '
                   'filePattern="x-%d.gz"/><Console name="c"/></Appenders></Configuration>', ["/srv/app/logs/app.log"]),
    ("logback.xml", "<configuration><appender class='ch.qos.logback.core.FileAppender'><file>/var/log/shop/shop.log</file>"
                    "</appender></configuration>", ["/var/log/shop/shop.log"]),
    ("log4j.xml", '<log4j:configuration xmlns:log4j="http://jakarta.apache.org/log4j/"><appender name="F">'
                  '<param name="File" value="/data/logs/legacy.log"/></appender></log4j:configuration>',
     ["/data/logs/legacy.log"]),
    ("log4j.properties", "log4j.rootLogger=INFO, F\nlog4j.appender.F.File=${app.home}/app.log\n", ["/srv/app/app.log"]),
    ("log4j2.properties", "appender.file.type=File\nappender.file.fileName=/var/log/app/app.log\n",
     ["/var/log/app/app.log"]),
    ("logging.properties", "1catalina.org.apache.juli.AsyncFileHandler.directory = ${catalina.base}/logs\n"
                           "1catalina.org.apache.juli.AsyncFileHandler.prefix = catalina.\n",
     ["/opt/tomcat/logs/catalina.*"]),
    ("log4j2.xml", '<Configuration><Appenders><File name="f" fileName="${env:UNSET}/x.log"/></Appenders></Configuration>',
     []),
    ("log4j2.xml", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Configuration>&e;</Configuration>', []),
])
def test_log_files(name, text, expected):
    assert log_files(f"/cfg/{name}", text.encode(), PROPS) == expected


def test_resolve_default_and_unresolved():
    assert resolve("${LOG_DIR:-/var/log/app}/a.log", {}) == "/var/log/app/a.log"
    assert resolve("${nope}/a.log", {}) == ""


def test_only_fixed_files_go_to_stdout():
    links = stdout_links(["/srv/app/app.log", "/opt/tomcat/logs/catalina.*", "/var/log/app/", "/x/app-%d.log"])
    assert links == {"/srv/app/app.log": "/dev/stdout"}
