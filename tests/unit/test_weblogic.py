"""WebLogic: detection from command lines, analysis of the weblogic-host snapshot, the process-mode plan."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.common.safexml import local_name, parse_xml
from a2c.analyzers.java.generic import GenericJavaAnalyzer
from a2c.analyzers.java.jvm import parse_java_cmdline
from a2c.analyzers.java.weblogic import (
    WebLogicAnalyzer,
    health_path,
    is_weblogic_server,
    oracle_home_of,
    parse_domain,
    weblogic_home,
)
from a2c.analyzers.java.websphere.analyzer import WebSphereAnalyzer
from a2c.analyzers.registry import Registry
from a2c.images.layers import ContextWriter
from a2c.steps.inventory import discover
from a2c.generate.container import render_container_artifacts
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.model import InventoryEntry, ProcessInfo
from a2c.workspace import validate

from tests.conftest import FIXTURES, load_script

SNAPSHOT = FIXTURES / "snapshots" / "weblogic-host"
HOSTILE_XML = FIXTURES / "hostile" / "xml"
DOMAIN = "/u01/oracle/user_projects/domains/orders_domain"
IDENTITY = f"weblogic:{DOMAIN}:AdminServer"
APP_ID = application_id("java-weblogic", IDENTITY)
DESCRIPTOR = f"{DOMAIN}/config/jdbc/OrdersDS-jdbc.xml"
BOOT = f"{DOMAIN}/servers/AdminServer/security/boot.properties"
# The fixture's secrets: none may reach analysis.json, and the external ones never the image.
DS_PASSWORD = "{AES256}T3JkZXJzRFMtZml4dHVyZS1jaXBoZXJ0ZXh0LW5vdC1yZWFs"
BOOT_USER = "{AES256}Ym9vdC11c2VybmFtZS1maXh0dXJlLW5vdC1yZWFs"
BOOT_PASSWORD = "{AES256}Ym9vdC1wYXNzd29yZC1maXh0dXJlLW5vdC1yZWFs"
DOMAIN_CREDENTIAL = "{AES256}Zml4dHVyZS1kb21haW4tY3JlZGVudGlhbC1ub3QtcmVhbA=="

ADMIN_CMDLINE = [
    "/u01/jdk/bin/java", "-server", "-Xms256m", "-Xmx1024m", "-cp",
    "/u01/oracle/wlserver/server/lib/weblogic-launcher.jar", "-Dlaunch.use.env.classpath=true",
    "-Dweblogic.Name=AdminServer", "-Dwls.home=/u01/oracle/wlserver/server",
    "-Dweblogic.home=/u01/oracle/wlserver/server", "weblogic.Server",
]


def _registry() -> Registry:
    return Registry([WebLogicAnalyzer(), WebSphereAnalyzer(), GenericJavaAnalyzer()])


def _snapshot_copy(tmp_path: Path, change=None) -> Path:
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy)
    if change is not None:
        meta = json.loads((copy / "host.json").read_text())
        change(meta)
        (copy / "host.json").write_text(json.dumps(meta))
    return copy


def _analyze(host: SnapshotHost):
    entry = next(e for e in discover(host, _registry()).entries.values() if e.analyzer_id == "java-weblogic")
    analyzer = WebLogicAnalyzer()
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    return analyzer, entry, result, build_document(result)


@pytest.fixture(scope="module")
def snapshot() -> SnapshotHost:
    return SnapshotHost(str(SNAPSHOT))


@pytest.fixture(scope="module")
def analyzed(snapshot):
    return _analyze(snapshot)


# -- detection -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cmdline", "cwd", "identity"),
    [
        (ADMIN_CMDLINE, DOMAIN, IDENTITY),
        # A managed server started by Node Manager: the domain comes from -Dweblogic.RootDirectory.
        (["/u01/jdk/bin/java", "-Dweblogic.Name=orders_server1", f"-Dweblogic.RootDirectory={DOMAIN}",
          "-Dweblogic.management.server=http://wls-app-01.example.internal:7001", "weblogic.Server"],
         "/", f"weblogic:{DOMAIN}:orders_server1"),
        (["java", f"-Ddomain.home={DOMAIN}", "weblogic.Server"], "/tmp", IDENTITY),  # admin-server-name
        # weblogic.Server handed to a service wrapper.
        (["java", "-Dweblogic.Name=AdminServer", "-Dwls.home=/u01/oracle/wlserver/server",
          "org.tanukisoftware.wrapper.WrapperSimpleApp", "weblogic.Server"], DOMAIN, IDENTITY),
        (ADMIN_CMDLINE[:-1] + ["weblogic.NodeManager", "-v"], DOMAIN, None),
        (["java", "-Dweblogic.home=/u01/oracle/wlserver/server", "weblogic.WLST", "deploy.py"], DOMAIN, None),
        (["java", "-cp", "/u01/oracle/wlserver/server/lib/weblogic.jar", "weblogic.Deployer", "-deploy"], DOMAIN, None),
        (["java", "org.tanukisoftware.wrapper.WrapperSimpleApp", "weblogic.Server"], DOMAIN, None),  # no WebLogic hint
        (["java", "-jar", "/opt/app/app.jar"], "/opt/app", None),
        (["java", "-Dcatalina.home=/opt/tomcat", "org.apache.catalina.startup.Bootstrap", "start"], "/opt/tomcat", None),
    ],
)
def test_detection_table(snapshot, cmdline, cwd, identity):
    detection = WebLogicAnalyzer().detect(ProcessInfo(1, tuple(cmdline), cwd=cwd), snapshot)
    if identity is None:
        assert detection is None
    else:
        assert detection is not None and detection.identity == identity
        assert detection.application_type == "java-weblogic" and detection.base_dir == DOMAIN


def test_detection_lists_this_servers_applications(snapshot):
    admin = WebLogicAnalyzer().detect(ProcessInfo(1, tuple(ADMIN_CMDLINE), cwd=DOMAIN), snapshot)
    managed = WebLogicAnalyzer().detect(
        ProcessInfo(1, ("java", "-Dweblogic.Name=orders_server1", "weblogic.Server"), cwd=DOMAIN), snapshot)
    assert admin is not None and admin.web_apps == ("orders",)
    assert managed is not None and managed.web_apps == ("inventory-admin",)  # targeted at its cluster


def test_is_weblogic_server_needs_the_main_class():
    assert is_weblogic_server(parse_java_cmdline(ADMIN_CMDLINE))
    assert not is_weblogic_server(parse_java_cmdline(["java", "-Dweblogic.Name=x", "com.example.Main"]))


def test_weblogic_home_from_properties_class_path_and_environment(snapshot):
    def home(cmdline, environ=None):
        return weblogic_home(parse_java_cmdline(cmdline), ProcessInfo(1, tuple(cmdline), cwd="/", environ=environ or {}),
                             snapshot)

    assert home(ADMIN_CMDLINE) == "/u01/oracle/wlserver"
    assert home(["java", "-cp", "/u01/oracle/wlserver/server/lib/weblogic.jar", "weblogic.Server"]) == "/u01/oracle/wlserver"
    assert home(["java", "-Dlaunch.use.env.classpath=true", "weblogic.Server"],
                {"CLASSPATH": "/u01/jdk/lib/tools.jar:/u01/oracle/wlserver/server/lib/weblogic.jar"}) == "/u01/oracle/wlserver"
    assert home(["java", "weblogic.Server"], {"WL_HOME": "/u01/oracle/wlserver"}) == "/u01/oracle/wlserver"
    assert home(["java", "weblogic.Server"]) == ""
    assert oracle_home_of(snapshot, "/u01/oracle/wlserver") == "/u01/oracle"  # has oracle_common
    assert oracle_home_of(snapshot, "/opt/wls1036/wlserver") == "/opt/wls1036/wlserver"
    assert oracle_home_of(snapshot, "") == ""


def test_parse_domain_fills_weblogics_defaults():
    root = parse_xml(b"""<domain xmlns="http://xmlns.oracle.com/weblogic/domain">
      <name>d</name><server><name>AdminServer</name></server>
      <server><name>m1</name><listen-port>8001</listen-port><listen-port-enabled>false</listen-port-enabled>
        <ssl><enabled>true</enabled></ssl></server>
      <app-deployment><name>a</name><target>AdminServer, c1</target><source-path>apps/a.ear</source-path></app-deployment>
    </domain>""", "config.xml")
    parsed = parse_domain(root)
    admin, managed = parsed["servers"]
    assert (admin["listenPort"], admin["listenPortEnabled"], admin["sslEnabled"]) == (7001, True, False)
    assert (managed["listenPort"], managed["listenPortEnabled"], managed["sslListenPort"]) == (8001, False, 7002)
    assert parsed["deployments"] == [{"name": "a", "sourcePath": "apps/a.ear", "targets": ["AdminServer", "c1"],
                                      "moduleType": ""}]
    assert parsed["adminServerName"] == "" and parsed["productionMode"] is False


@pytest.mark.parametrize(
    ("version", "expected"),
    [("12.2.1.4.0", "/weblogic/ready"), ("14.1.1.0.0", "/weblogic/ready"), ("12.2.1.3.0", "/weblogic/ready"),
     ("12.2.1.2.0", "/orders/"), ("10.3.6.0", "/orders/"), ("", "/orders/")],
)
def test_health_path(version, expected):
    deployments = [{"name": "batch", "moduleType": "ear", "onThisServer": True},
                   {"name": "orders", "moduleType": "war", "onThisServer": True}]
    assert health_path(version, deployments) == expected
    assert health_path("", []) == "/"


# -- analysis ------------------------------------------------------------------------------

def test_analysis_of_the_snapshot(analyzed):
    _, entry, result, document = analyzed
    validate(document, "analysis", "analysis.json")
    params, info = document["containerParameters"], document["analysisInfo"]
    assert entry.app_id == APP_ID and info["applicationType"] == "java-weblogic"
    assert params["applicationMode"] is False
    assert params["applicationPort"] == 7001
    assert params["healthCheckPath"] == "/weblogic/ready"
    assert params["containerBaseImage"] == "eclipse-temurin:8-jdk"  # javac for JSPs, like Oracle's Server JRE
    assert params["logLocations"] == [f"{DOMAIN}/servers/AdminServer/logs"]
    assert params["environment"]["CLASSPATH"].startswith("/u01/jdk/lib/tools.jar:")  # -Dlaunch.use.env.classpath
    wls = info["weblogic"]
    assert (wls["domainName"], wls["version"], wls["serverName"]) == ("orders_domain", "12.2.1.4.0", "AdminServer")
    assert (wls["listenPort"], wls["sslListenPort"], wls["listenAddress"]) == (7001, 7002, "wls-app-01.example.internal")
    assert wls["isAdminServer"] and wls["productionMode"] and wls["cluster"] == ""
    assert [(s["name"], s["listenPort"], s["cluster"]) for s in wls["servers"]] == [
        ("AdminServer", 7001, ""), ("orders_server1", 8001, "orders_cluster")]
    assert [(d["name"], d["sourcePath"], d["onThisServer"]) for d in wls["deployments"]] == [
        ("orders", "/u01/apps/orders/orders.war", True),
        ("inventory-admin", f"{DOMAIN}/servers/AdminServer/upload/inventory-admin/app/inventory-admin.war", False),
    ]
    assert wls["dataSources"] == [{
        "name": "OrdersDS", "descriptor": DESCRIPTOR, "targets": ["AdminServer", "orders_cluster"], "onThisServer": True,
        "url": "jdbc:oracle:thin:@//orders-db.example.internal:1521/ORDERSPDB", "driver": "oracle.jdbc.OracleDriver",
        "user": "orders_app", "jndiNames": ["jdbc/OrdersDS"],
    }]
    assert info["webApp"] == "orders"
    assert info["AdvancedAppInfo"]["Directories"]["oracleHome"] == "/u01/oracle"


def test_outbound_dependencies(analyzed):
    info = analyzed[3]["analysisInfo"]
    jdbc = [d for d in info["outboundDependencies"] if d["kind"] == "jdbc"]
    assert jdbc == [{"kind": "jdbc", "host": "orders-db.example.internal", "port": 1521, "foundIn": DESCRIPTOR,
                     "url": "jdbc:oracle:thin:@//orders-db.example.internal:1521/ORDERSPDB", "name": "OrdersDS",
                     "vendor": "oracle", "database": "ORDERSPDB"}]


def test_secrets_are_listed_and_never_stored(analyzed):
    document = analyzed[3]
    text = json.dumps(document)
    for value in (DS_PASSWORD, BOOT_USER, BOOT_PASSWORD, DOMAIN_CREDENTIAL, "T3JkZXJzRFMtZml4dHVyZS"):
        assert value not in text
    secrets = {(s["name"], s["foundIn"]): s["envVar"] for s in document["analysisInfo"]["secrets"]}
    assert secrets == {
        ("OrdersDS.password", DESCRIPTOR): "A2C_SECRET_ORDERSDS_PASSWORD",
        ("username", BOOT): "A2C_SECRET_ADMINSERVER_BOOT_USERNAME",
        ("password", BOOT): "A2C_SECRET_ADMINSERVER_BOOT_PASSWORD",
    }


def test_findings(analyzed):
    findings = {f["code"]: f for f in analyzed[3]["findings"]}
    assert {"WLS-I001", "WLS-I002", "WLS-W001", "WLS-W002"} <= set(findings)
    assert "process mode" in findings["WLS-I001"]["message"]
    assert "WebLogic Kubernetes Operator" in findings["WLS-I001"]["message"]
    assert "licen" in findings["WLS-I001"]["message"]
    assert "credential-encrypted" in findings["WLS-W002"]["message"]
    assert not {"WLS-W003", "WLS-W004", "WLS-E001", "WLS-E002"} & set(findings)


def test_process_mode_paths(analyzed):
    mode = analyzed[3]["analysisInfo"]["processMode"]
    assert mode["paths"] == ["/u01/oracle", DOMAIN, "/u01/apps/orders/orders.war"]
    assert mode["serverPaths"] == ["/u01/oracle"]
    for name in ("AdminServer", "orders_server1"):
        for sub in ("logs", "tmp", "cache", "data/store"):
            assert f"{DOMAIN}/servers/{name}/{sub}" in mode["excludes"]
    assert "/u01/oracle/user_projects/domains/old_domain" in mode["excludes"]
    assert "/u01/oracle/.patch_storage" in mode["excludes"]
    assert not any(e.endswith("/data/ldap") or e.endswith("/data") for e in mode["excludes"])
    assert f"{DOMAIN}/servers/AdminServer/logs" in mode["writableDirs"]
    assert analyzed[3]["containerParameters"]["appExcludedFiles"] == ["/root/.aws"]  # the user's own list


def test_managed_server_in_a_cluster(tmp_path):
    def managed(meta):
        proc = next(p for p in meta["processes"] if p["pid"] == 3245)
        proc["cmdline"] = [a for a in proc["cmdline"] if a != "-Dweblogic.Name=AdminServer"]
        proc["cmdline"][-1:] = ["-Dweblogic.Name=orders_server1",
                                "-Dweblogic.management.server=http://wls-app-01.example.internal:7001",
                                "-Dweblogic.ListenPort=8011", "weblogic.Server"]

    host = SnapshotHost(str(_snapshot_copy(tmp_path, managed)))
    _, entry, _, document = _analyze(host)
    info, params = document["analysisInfo"], document["containerParameters"]
    assert entry.identity == f"weblogic:{DOMAIN}:orders_server1"
    assert params["applicationPort"] == 8011  # -Dweblogic.ListenPort wins over config.xml's 8001
    assert info["weblogic"]["isAdminServer"] is False and info["AdvancedAppInfo"]["flavor"] == "managed"
    assert info["weblogic"]["cluster"] == "orders_cluster"
    assert info["processMode"]["paths"] == ["/u01/oracle", DOMAIN]  # its app's source is inside the domain
    assert not any(s["foundIn"] == BOOT for s in info["secrets"])  # its own server folder has no boot.properties
    codes = {f["code"] for f in document["findings"]}
    assert {"WLS-W003", "WLS-W004"} <= codes


def test_missing_application_source_is_a_finding(tmp_path):
    copy = _snapshot_copy(tmp_path)
    (copy / "files" / "u01" / "apps" / "orders" / "orders.war").unlink()
    _, _, _, document = _analyze(SnapshotHost(str(copy)))
    assert "/u01/apps/orders/orders.war" not in document["analysisInfo"]["processMode"]["paths"]
    assert any(f["code"] == "WLS-W005" and f["path"] == "/u01/apps/orders/orders.war" for f in document["findings"])


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "xxe-parameter-entity.xml", "malformed.xml"])
def test_hostile_config_xml_is_a_finding(tmp_path, name):
    copy = _snapshot_copy(tmp_path)
    shutil.copy(HOSTILE_XML / name, copy / "files" / DOMAIN.lstrip("/") / "config" / "config.xml")
    host = SnapshotHost(str(copy))
    analyzer, entry, _, document = _analyze(host)
    validate(document, "analysis", "analysis.json")
    assert entry.identity == IDENTITY  # -Dweblogic.Name still names the server
    codes = [f["code"] for f in document["findings"]]
    assert "WLS-E001" in codes
    assert "root:" not in json.dumps(document)  # nothing from /etc/passwd
    assert document["analysisInfo"]["processMode"]["paths"][:2] == ["/u01/oracle", DOMAIN]
    analyzer.plan(document, host)  # still plannable


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "truncated.xml"])
def test_hostile_jdbc_descriptor_is_a_finding(tmp_path, name):
    copy = _snapshot_copy(tmp_path)
    shutil.copy(HOSTILE_XML / name, copy / "files" / DESCRIPTOR.lstrip("/"))
    host = SnapshotHost(str(copy))
    analyzer, _, _, document = _analyze(host)
    validate(document, "analysis", "analysis.json")
    assert any(f["code"] == "WLS-E002" and f["path"] == DESCRIPTOR for f in document["findings"])
    assert document["analysisInfo"]["weblogic"]["dataSources"][0]["url"] == ""
    plan = analyzer.plan(document, host)
    assert DESCRIPTOR not in plan.generated


# -- plan and image ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def plan(analyzed, snapshot):
    analyzer, _, _, document = analyzed
    return analyzer.plan(document, snapshot)


def test_plan_layers(plan):
    server, application = plan.layers
    assert (server.name, server.paths) == ("server", ("/u01/oracle",))
    assert DOMAIN in server.excludes  # the domain lives in the application layer only
    assert (application.name, application.paths) == ("application", (DOMAIN, "/u01/apps/orders/orders.war"))
    assert f"{DOMAIN}/servers/AdminServer/data/store" in application.excludes
    assert "javacore.*.txt" in application.exclude_names
    assert plan.entrypoint[0] == "${JAVA}" and plan.entrypoint[-1] == "weblogic.Server"
    assert "-XX:MaxRAMPercentage=75.0" not in plan.entrypoint  # the server had -Xmx1024m
    assert plan.workdir == DOMAIN and plan.ports == (7001,) and plan.health_port == 7001
    assert "JAVA_HOME" not in plan.env  # the JDK was not copied: the base image's Java runs WebLogic
    assert f"{DOMAIN}/servers/AdminServer/tmp" in plan.writable_dirs


def test_plan_templates_the_credentials(plan):
    descriptor = plan.generated[DESCRIPTOR].decode()
    assert "<password-encrypted>${A2C_SECRET_ORDERSDS_PASSWORD}</password-encrypted>" in descriptor
    assert "orders-db.example.internal" in descriptor
    assert plan.generated[BOOT].decode().splitlines()[1:] == [
        "username=${A2C_SECRET_ADMINSERVER_BOOT_USERNAME}", "password=${A2C_SECRET_ADMINSERVER_BOOT_PASSWORD}"]
    assert plan.render_at_start == {
        DESCRIPTOR: ("A2C_SECRET_ORDERSDS_PASSWORD",),
        BOOT: ("A2C_SECRET_ADMINSERVER_BOOT_USERNAME", "A2C_SECRET_ADMINSERVER_BOOT_PASSWORD"),
    }


def test_plan_opens_the_listen_address(plan):
    config = parse_xml(plan.generated[f"{DOMAIN}/config/config.xml"], "config.xml")
    addresses = {}
    for server in config:
        if isinstance(server.tag, str) and local_name(server) == "server":
            fields = {local_name(c): (c.text or "") for c in server if isinstance(c.tag, str)}
            addresses[fields["name"]] = fields["listen-address"]
    assert addresses == {"AdminServer": "", "orders_server1": "wls-app-02.example.internal"}


def test_build_context_holds_the_domain_but_no_secrets_or_state(plan, snapshot):
    stream = b"".join(ContextWriter(snapshot, plan, {}))
    names = set(tarfile.open(fileobj=io.BytesIO(stream)).getnames())
    copied = {n.split("/", 2)[2] for n in names if n.startswith("layers/")}
    assert f"u01/oracle/wlserver/server/lib/weblogic.jar" in copied
    assert f"{DOMAIN[1:]}/security/SerializedSystemIni.dat" in copied
    assert f"{DOMAIN[1:]}/servers/AdminServer/data/ldap/ldapfiles/EmbeddedLDAP.data" in copied
    assert "u01/apps/orders/orders.war" in copied
    assert f"generated{DESCRIPTOR}" in names and f"generated{BOOT}" in names
    for left_out in ("/servers/AdminServer/logs/", "/servers/AdminServer/tmp/", "/servers/AdminServer/cache/",
                     "/data/store/", "/servers/orders_server1/logs/", "/old_domain/", "/.patch_storage/", "u01/jdk/"):
        assert not any(left_out in "/" + n + "/" for n in copied), left_out
    for secret in (DS_PASSWORD, BOOT_USER, BOOT_PASSWORD):
        assert secret.encode() not in stream


def test_container_artifacts(analyzed, plan, golden):
    document = analyzed[3]
    files = render_container_artifacts(plan, host_name="wls-app-01", health_path=document["containerParameters"]
                                       ["healthCheckPath"], secrets=document["analysisInfo"]["secrets"])
    for name, text in files.items():
        golden(f"weblogic/Artifacts/{name}", text)
    for path, data in sorted(plan.generated.items()):
        golden(f"weblogic/generated{path}", data.decode())
    assert "A2C_SECRET_ORDERSDS_PASSWORD" in files["a2c/entrypoint.sh"]
    assert DS_PASSWORD not in "".join(files.values())


# -- discovery -----------------------------------------------------------------------------

def test_discovery_with_the_server_analyzers(snapshot):
    result = discover(snapshot, _registry())
    by_type = {e.application_type: e for e in result.entries.values()}
    assert set(by_type) == {"java-weblogic", "java-generic"}  # Node Manager stays generic
    entry = by_type["java-weblogic"]
    assert entry.app_id == APP_ID and entry.process_id == 3245 and entry.identity == IDENTITY
    assert entry.ports == (7001, 7002) and entry.web_apps == ("orders",) and entry.user == "oracle"
    assert "weblogic.NodeManager" in by_type["java-generic"].identity
    assert list(discover(snapshot, _registry()).entries) == list(result.entries)  # stable ids


def test_analysis_keeps_working_when_the_domain_moves_out_of_the_oracle_home(tmp_path):
    """A domain beside (not inside) the Oracle home: both are plain paths, no nesting to exclude."""
    copy = _snapshot_copy(tmp_path)
    files = copy / "files"
    shutil.move(str(files / DOMAIN.lstrip("/")), str(files / "u02" / "domains" / "orders_domain"))
    meta = json.loads((copy / "host.json").read_text())
    for proc in meta["processes"]:
        proc["cwd"] = proc["cwd"].replace(DOMAIN, "/u02/domains/orders_domain")
    (copy / "host.json").write_text(json.dumps(meta))
    host = SnapshotHost(str(copy))
    analyzer, _, _, document = _analyze(host)
    assert document["analysisInfo"]["processMode"]["paths"] == ["/u01/oracle", "/u02/domains/orders_domain",
                                                                 "/u01/apps/orders/orders.war"]
    plan = analyzer.plan(document, host)
    assert "/u02/domains/orders_domain" not in plan.layers[0].excludes
    assert "/u01/oracle/user_projects/domains/old_domain" not in document["analysisInfo"]["processMode"]["excludes"]


def test_fixture_binaries_are_reproducible(tmp_path, monkeypatch):
    module = load_script(SNAPSHOT / "make_binaries.py", "make_binaries")
    committed = module.binaries()
    monkeypatch.setattr(module, "SNAPSHOTS", tmp_path)
    module.main()
    for path in committed:
        relative = path.relative_to(FIXTURES / "snapshots")
        assert (tmp_path / relative).read_bytes() == path.read_bytes(), relative


def test_snapshot_has_no_links():
    assert not [p for p in SNAPSHOT.rglob("*") if p.is_symlink()]


def test_entry_without_config_uses_defaults(snapshot):
    proc = ProcessInfo(9, ("java", "-Dweblogic.Name=solo", "weblogic.Server"), cwd="/srv/nowhere")
    entry = InventoryEntry(application_id("java-weblogic", "x"), "java-weblogic", "java-weblogic", 9, "java", "x")
    result = WebLogicAnalyzer().analyze(entry, proc, snapshot)
    document = build_document(result)
    validate(document, "analysis", "analysis.json")
    assert document["containerParameters"]["applicationPort"] == 7001
    codes = {f.code for f in result.findings}
    assert {"WLS-E001", "WLS-W007"} <= codes
