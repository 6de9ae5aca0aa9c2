"""Tomcat's server.xml: connectors, the HTTP port, web apps and the container copy of server.xml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from a2c.analyzers.common.safexml import local_name, parse_xml
from a2c.analyzers.java.tomcat import (
    app_base,
    catalina_dirs,
    container_server_xml,
    context_files,
    http_port,
    list_web_apps,
    parse_connectors,
    read_server_xml,
    tomcat_version,
)
from a2c.errors import InvalidFile
from a2c.hosts.local import LocalHost
from a2c.hosts.snapshot import SnapshotHost
from a2c.model import InventoryEntry, ProcessInfo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SNAPSHOT = FIXTURES / "snapshots" / "tomcat-host"
HOSTILE_XML = FIXTURES / "hostile" / "xml"

# TLS and AJP first, so that "the first connector" is the wrong answer.
SERVER_XML = b"""<?xml version="1.0"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8443" protocol="org.apache.coyote.http11.Http11NioProtocol" SSLEnabled="true" scheme="https" />
    <Connector port="8009" protocol="AJP/1.3" address="::1" redirectPort="8443" />
    <Connector port="8010" protocol="org.apache.coyote.ajp.AjpNioProtocol" />
    <Connector port="8444" protocol="HTTP/1.1" secure="true" scheme="https" />
    <Connector port="8080" address="127.0.0.1" redirectPort="8443" />
    <Connector port="9090" protocol="HTTP/1.1" address="10.0.0.5" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="apps" />
    </Engine>
  </Service>
</Server>
"""


def _entry(ports=()):
    return InventoryEntry("java-tomcat-00000000", "java-tomcat", "java-tomcat", 1, "java", "tomcat:/opt/tomcat",
                          ports=tuple(ports))


def test_parse_connectors():
    connectors = parse_connectors(parse_xml(SERVER_XML, "server.xml"))
    assert connectors == [
        {"port": 8443, "protocol": "org.apache.coyote.http11.Http11NioProtocol", "address": "", "scheme": "https",
         "secure": True, "redirectPort": ""},
        {"port": 8009, "protocol": "AJP/1.3", "address": "::1", "scheme": "http", "secure": False, "redirectPort": "8443"},
        {"port": 8010, "protocol": "org.apache.coyote.ajp.AjpNioProtocol", "address": "", "scheme": "http",
         "secure": False, "redirectPort": ""},
        {"port": 8444, "protocol": "HTTP/1.1", "address": "", "scheme": "https", "secure": True, "redirectPort": ""},
        {"port": 8080, "protocol": "HTTP/1.1", "address": "127.0.0.1", "scheme": "http", "secure": False,
         "redirectPort": "8443"},
        {"port": 9090, "protocol": "HTTP/1.1", "address": "10.0.0.5", "scheme": "http", "secure": False,
         "redirectPort": ""},
    ]


def test_http_port_picks_the_plain_http_connector():
    connectors = parse_connectors(parse_xml(SERVER_XML, "server.xml"))
    assert http_port(connectors, ProcessInfo(1, ("java",)), _entry([8005, 8009, 8080, 8443])) == 8080


@pytest.mark.parametrize(
    ("connectors", "ports", "expected"),
    [
        ([], [8081], 8081),
        ([], [], 8080),
        ([{"port": 8443, "protocol": "HTTP/1.1", "secure": True}], [8443], 8443),
        ([{"port": 8009, "protocol": "AJP/1.3", "secure": False}], [], 8080),
    ],
)
def test_http_port_fallbacks(connectors, ports, expected):
    assert http_port(connectors, ProcessInfo(1, ("java",)), _entry(ports)) == expected


def test_placeholder_port_is_kept_as_text():
    xml = b'<Server><Service><Connector port="${http.port}" protocol="HTTP/1.1"/></Service></Server>'
    assert parse_connectors(parse_xml(xml, "server.xml"))[0]["port"] == "${http.port}"


def test_placeholder_port_resolves_from_system_properties():
    xml = b'<Server port="8005"><Service><Connector port="${http.port}" protocol="HTTP/1.1"/></Service></Server>'
    proc = ProcessInfo(1, ("java", "-Dhttp.port=8080", "org.apache.catalina.startup.Bootstrap", "start"))
    assert http_port(parse_connectors(parse_xml(xml, "server.xml")), proc, _entry([8005, 8080])) == 8080


def test_app_base():
    assert app_base(parse_xml(SERVER_XML, "server.xml"), "/srv/base") == "/srv/base/apps"
    assert app_base(None, "/srv/base") == "/srv/base/webapps"
    absolute = b'<Server><Service><Engine><Host appBase="/data/apps"/></Engine></Service></Server>'
    assert app_base(parse_xml(absolute, "server.xml"), "/srv/base") == "/data/apps"


@pytest.fixture
def snapshot():
    return SnapshotHost(str(SNAPSHOT))


def test_snapshot_web_apps_and_version(snapshot):
    home, base = catalina_dirs({"catalina.base": "/opt/tomcat"}, ProcessInfo(1, ("java",), cwd="/"), snapshot)
    assert (home, base) == ("/", "/opt/tomcat")  # home falls back to the cwd
    server_xml, findings = read_server_xml(snapshot, base)
    assert findings == []
    assert list_web_apps(snapshot, base, server_xml) == ["ROOT", "app", "docs"]
    assert context_files(snapshot, base) == ["/opt/tomcat/conf/Catalina/localhost/docs.xml"]
    assert tomcat_version(snapshot, base) == "10.1.16.0"
    assert tomcat_version(snapshot, "/nowhere") == ""


def test_catalina_dirs_from_environment_and_relative_paths(snapshot):
    proc = ProcessInfo(1, ("java",), cwd="/opt", environ={"CATALINA_HOME": "tomcat", "CATALINA_BASE": "/opt/tomcat/"})
    assert catalina_dirs({}, proc, snapshot) == ("/opt/tomcat", "/opt/tomcat")


def test_container_server_xml_drops_loopback_addresses(snapshot):
    path = "/opt/tomcat/conf/server.xml"
    patched = container_server_xml(snapshot, path)
    assert patched is not None
    root = parse_xml(patched, "patched")
    connectors = {c.get("port"): c for c in root.iter() if local_name(c) == "Connector"}
    assert "address" not in connectors["8080"].attrib
    # everything else is kept
    assert connectors["8080"].get("redirectPort") == "8443"
    assert connectors["8080"].get("connectionTimeout") == "20000"
    assert connectors["8443"].get("SSLEnabled") == "true"
    assert any(local_name(e) == "Certificate" for e in root.iter())
    # the host's file is untouched (a snapshot host never writes)
    assert b'address="127.0.0.1"' in snapshot.read_bytes(path)


def test_container_server_xml_keeps_other_addresses(tmp_path):
    conf = tmp_path / "server.xml"
    conf.write_bytes(b'<Server><Service><Connector port="8080" address="10.0.0.5"/>'
                     b'<Connector port="8081" address="0.0.0.0"/></Service></Server>')
    assert container_server_xml(LocalHost(), str(conf)) is None
    conf.write_bytes(b'<Server><Service><Connector port="8080" address="localhost"/></Service></Server>')
    patched = container_server_xml(LocalHost(), str(conf))
    assert patched is not None and b"address" not in patched


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "malformed.xml"])
def test_container_server_xml_on_hostile_files(tmp_path, name):
    conf = tmp_path / "server.xml"
    shutil.copy(HOSTILE_XML / name, conf)
    assert container_server_xml(LocalHost(), str(conf)) is None
    assert container_server_xml(LocalHost(), str(tmp_path / "missing.xml")) is None


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "malformed.xml"])
def test_read_server_xml_turns_hostile_files_into_findings(tmp_path, name):
    (tmp_path / "conf").mkdir()
    shutil.copy(HOSTILE_XML / name, tmp_path / "conf" / "server.xml")
    root, findings = read_server_xml(LocalHost(), str(tmp_path))
    assert root is None
    assert [f.code for f in findings] == ["TOMCAT-E001"]
    assert findings[0].path == str(tmp_path / "conf" / "server.xml")
    root, findings = read_server_xml(LocalHost(), str(tmp_path / "nowhere"))
    assert root is None and [f.code for f in findings] == ["TOMCAT-E002"]


def test_corrupt_catalina_jar_gives_no_version(tmp_path):
    (tmp_path / "lib").mkdir()
    shutil.copy(FIXTURES / "hostile" / "archives" / "truncated.jar", tmp_path / "lib" / "catalina.jar")
    try:
        version = tomcat_version(LocalHost(), str(tmp_path))
    except InvalidFile as exc:
        pytest.fail(f"raised {exc.message}")
    assert version == ""
