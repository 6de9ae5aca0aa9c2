"""Tomcat as Debian and RPM packages lay it out (folders linked out to /etc, /var, /usr/share/java),
and TomEE's flavors."""

from __future__ import annotations

import json
import os
import posixpath

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.java.tomcat import TomcatAnalyzer, tomee_flavor
from a2c.analyzers.registry import load_registry
from a2c.images.layers import ContextWriter
from a2c.steps.inventory import discover
from a2c.hosts.snapshot import SnapshotHost

SERVER_XML = ('<?xml version="1.0"?>\n<Server port="-1"><Service name="Catalina">'
              '<Connector port="8080" protocol="HTTP/1.1" address="127.0.0.1"/>'
              '<Engine name="Catalina" defaultHost="localhost"><Host name="localhost" appBase="webapps"/></Engine>'
              '</Service></Server>\n')


def _file(root, path, text="x"):
    target = root / "files" / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def _link(root, path, target):
    link = root / "files" / path.lstrip("/")
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


def _snapshot(root, home, base):
    process = {"pid": 77, "cwd": base, "exe": "/usr/bin/java",
               "cmdline": ["/usr/bin/java", f"-Dcatalina.base={base}", f"-Dcatalina.home={home}",
                           f"-Djava.io.tmpdir={base}/temp", "-classpath", f"{home}/bin/bootstrap.jar",
                           "org.apache.catalina.startup.Bootstrap", "start"],
               "listening": [{"port": 8080}]}
    (root / "host.json").write_text(json.dumps({"hostname": "pkg-host", "processes": [process]}))
    return SnapshotHost(str(root))


@pytest.fixture
def debian(tmp_path):
    """Debian's tomcat9/10: CATALINA_BASE=/var/lib/tomcat10 with conf, logs, work linked out."""
    _file(tmp_path, "/usr/share/tomcat10/bin/bootstrap.jar")
    _file(tmp_path, "/usr/share/java/tomcat10-catalina.jar")
    _link(tmp_path, "/usr/share/tomcat10/lib/catalina.jar", "../../java/tomcat10-catalina.jar")
    _file(tmp_path, "/etc/tomcat10/server.xml", SERVER_XML)
    _file(tmp_path, "/etc/tomcat10/context.xml",
          '<Context><Resource name="jdbc/app" type="javax.sql.DataSource" url="jdbc:mysql://db:3306/app" '
          'password="pkg-canary"/></Context>')
    _file(tmp_path, "/var/log/tomcat10/catalina.out", "log")
    (tmp_path / "files/var/cache/tomcat10").mkdir(parents=True)
    _link(tmp_path, "/var/lib/tomcat10/conf", "/etc/tomcat10")
    _link(tmp_path, "/var/lib/tomcat10/logs", "../../log/tomcat10")
    _link(tmp_path, "/var/lib/tomcat10/work", "/var/cache/tomcat10")
    _file(tmp_path, "/var/lib/tomcat10/webapps/ROOT/index.html", "hi")
    return _snapshot(tmp_path, "/usr/share/tomcat10", "/var/lib/tomcat10")


def _analysis(host):
    registry = load_registry()
    entry = next(iter(discover(host, registry).entries.values()))
    analyzer = TomcatAnalyzer()
    return analyzer, build_document(analyzer.analyze(entry, host.process(entry.process_id), host))


def _tar_names(host, plan):
    import io
    import tarfile

    data = b"".join(ContextWriter(host, plan, {"Dockerfile": b"FROM x\n"}))
    return {m.name: m for m in tarfile.open(fileobj=io.BytesIO(data))}


def test_debian_layout_copies_the_linked_folders(debian):
    analyzer, analysis = _analysis(debian)
    assert analysis["containerParameters"]["applicationPort"] == 8080
    assert any(s["foundIn"] == "/var/lib/tomcat10/conf/context.xml" for s in analysis["analysisInfo"]["secrets"])
    plan = analyzer.plan(analysis, debian)
    application = next(layer for layer in plan.layers if layer.name == "application")
    assert "/etc/tomcat10" in application.paths
    assert "/var/log/tomcat10" in plan.writable_dirs and "/var/cache/tomcat10" in plan.writable_dirs
    # Generated files go where the file really is, and replace it there.
    assert "/etc/tomcat10/server.xml" in plan.generated and "/etc/tomcat10/context.xml" in plan.generated
    names = _tar_names(debian, plan)
    assert names["layers/application/var/lib/tomcat10/conf"].issym()
    assert "layers/application/etc/tomcat10/server.xml" not in names  # replaced by the generated one
    assert "generated/etc/tomcat10/server.xml" in names
    # Debian's jar link stays a link, and the jar it leads to comes at its own path
    assert names["layers/server/usr/share/tomcat10/lib/catalina.jar"].issym()
    jar = names["layers/server/usr/share/tomcat10/lib/catalina.jar"].linkname
    target = posixpath.normpath(posixpath.join("/usr/share/tomcat10/lib", jar))
    assert any(n.startswith("layers/server" + target) for n in names)
    assert not any("catalina.out" in n for n in names)
    assert b"pkg-canary" not in plan.generated["/etc/tomcat10/context.xml"]


def test_rpm_layout_home_is_base(tmp_path):
    _file(tmp_path, "/usr/share/tomcat/bin/bootstrap.jar")
    _file(tmp_path, "/usr/share/java/tomcat/catalina.jar")
    _link(tmp_path, "/usr/share/tomcat/lib", "/usr/share/java/tomcat")
    _file(tmp_path, "/etc/tomcat/server.xml", SERVER_XML)
    _link(tmp_path, "/usr/share/tomcat/conf", "/etc/tomcat")
    _file(tmp_path, "/var/lib/tomcat/webapps/shop/index.jsp", "<%= 1 %>")
    _link(tmp_path, "/usr/share/tomcat/webapps", "/var/lib/tomcat/webapps")
    (tmp_path / "files/var/log/tomcat").mkdir(parents=True)
    _link(tmp_path, "/usr/share/tomcat/logs", "/var/log/tomcat")
    host = _snapshot(tmp_path, "/usr/share/tomcat", "/usr/share/tomcat")
    analyzer, analysis = _analysis(host)
    assert analysis["analysisInfo"]["tomcat"]["webApps"] == ["shop"]
    plan = analyzer.plan(analysis, host)
    paths = {p for layer in plan.layers for p in layer.paths}
    assert {"/usr/share/tomcat", "/usr/share/java/tomcat", "/etc/tomcat", "/var/lib/tomcat/webapps"} <= paths
    names = _tar_names(host, plan)
    assert "layers/server/usr/share/java/tomcat/catalina.jar" in names
    assert "layers/application/var/lib/tomcat/webapps/shop/index.jsp" in names


@pytest.mark.parametrize("jars, expected", [
    (["catalina.jar", "tomcat-coyote.jar"], None),
    (["tomee-catalina-8.0.16.jar", "openejb-core-8.0.16.jar"], ("webprofile", "8.0.16")),
    (["tomee-catalina-9.1.2.jar", "microprofile-config-api-3.0.jar"], ("microprofile", "9.1.2")),
    (["tomee-catalina-8.0.16.jar", "activemq-broker-5.16.jar", "cxf-rt-ws-security-3.5.jar"], ("plus", "8.0.16")),
    (["tomee-catalina-8.0.16.jar", "activemq-broker-5.16.jar", "eclipselink-2.7.jar"], ("plume", "8.0.16")),
])
def test_tomee_flavor(jars, expected):
    assert tomee_flavor(jars) == expected
