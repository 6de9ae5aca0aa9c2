"""WebSphere traditional and Liberty: detection, analysis of the websphere-host and liberty-host
snapshots, and their process-mode plans."""

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
from a2c.analyzers.java.weblogic import WebLogicAnalyzer
from a2c.analyzers.java.websphere.analyzer import WebSphereAnalyzer
from a2c.analyzers.java.websphere.liberty import (
    LibertyServer,
    container_http_endpoint,
    container_server_env,
    liberty_health_path,
    read_liberty_config,
)
from a2c.analyzers.java.websphere.traditional import context_roots
from a2c.analyzers.registry import Registry
from a2c.images.layers import ContextWriter
from a2c.steps.inventory import discover
from a2c.generate.container import render_container_artifacts
from a2c.hosts.local import LocalHost
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.model import ProcessInfo
from a2c.workspace import validate

from tests.conftest import FIXTURES

WAS_SNAPSHOT = FIXTURES / "snapshots" / "websphere-host"
LIBERTY_SNAPSHOT = FIXTURES / "snapshots" / "liberty-host"
HOSTILE_XML = FIXTURES / "hostile" / "xml"

WAS = "/opt/IBM/WebSphere/AppServer"
PROFILE = f"{WAS}/profiles/AppSrv01"
CELL = f"{PROFILE}/config/cells/DefaultCell01"
SERVERINDEX = f"{CELL}/nodes/DefaultNode01/serverindex.xml"
SECURITY = f"{CELL}/security.xml"
RESOURCES = f"{CELL}/nodes/DefaultNode01/servers/server1/resources.xml"
WAS_IDENTITY = f"websphere:{PROFILE}:server1"
HR_PASSWORD = "{xor}HyspKTk6ESwtMi0rOjstbzM="
LTPA_PASSWORD = "{xor}Ljo9PhM+LD4sLA=="
KEYSTORE_PASSWORD = "{xor}CDo9HgwMLis="

WLP = "/opt/ibm/wlp"
SERVER_DIR = f"{WLP}/usr/servers/shopServer"
SERVER_XML = f"{SERVER_DIR}/server.xml"
LIBERTY_IDENTITY = f"websphere:{SERVER_DIR}:shopServer"
SHOP_PASSWORD = "Sh0p-Fixture-Pa55"
LIBERTY_KEYSTORE = "Liberty-Keystore-Fixture-9f2c"

TRADITIONAL_TAIL = ["com.ibm.wsspi.bootstrap.WSPreLauncher", "-nosplash", "-application",
                    "com.ibm.ws.bootstrap.WSLauncher", "com.ibm.ws.runtime.WsServer", f"{PROFILE}/config",
                    "DefaultCell01", "DefaultNode01"]
TRADITIONAL_PROPS = [f"-Dwas.install.root={WAS}", f"-Duser.install.root={PROFILE}", f"-Dserver.root={PROFILE}"]


def _registry() -> Registry:
    return Registry([WebLogicAnalyzer(), WebSphereAnalyzer(), GenericJavaAnalyzer()])


def _copy(snapshot: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "snap"
    shutil.copytree(snapshot, copy)
    return copy


def _analyze(host: SnapshotHost):
    entry = next(e for e in discover(host, _registry()).entries.values() if e.analyzer_id == "java-websphere")
    analyzer = WebSphereAnalyzer()
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    return analyzer, entry, result, build_document(result)


def _names(plan, host) -> tuple[set[str], set[str], bytes]:
    stream = b"".join(ContextWriter(host, plan, {}))
    names = set(tarfile.open(fileobj=io.BytesIO(stream)).getnames())
    copied = {"/" + n.split("/", 2)[2] for n in names if n.startswith("layers/") and n.count("/") >= 2}
    return names, copied, stream


@pytest.fixture(scope="module")
def was_host() -> SnapshotHost:
    return SnapshotHost(str(WAS_SNAPSHOT))


@pytest.fixture(scope="module")
def liberty_host() -> SnapshotHost:
    return SnapshotHost(str(LIBERTY_SNAPSHOT))


@pytest.fixture(scope="module")
def traditional(was_host):
    return _analyze(was_host)


@pytest.fixture(scope="module")
def liberty(liberty_host):
    return _analyze(liberty_host)


# -- detection -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cmdline", "cwd", "identity"),
    [
        (["java"] + TRADITIONAL_PROPS + TRADITIONAL_TAIL + ["server1"], PROFILE, WAS_IDENTITY),
        # WSLauncher as the main class, no -D for the profile: it is the config root's parent.
        (["java", "com.ibm.ws.bootstrap.WSLauncher", "com.ibm.ws.runtime.WsServer", f"{PROFILE}/config",
          "DefaultCell01", "DefaultNode01", "server1"], "/", WAS_IDENTITY),
        (["java"] + TRADITIONAL_PROPS + TRADITIONAL_TAIL + ["nodeagent"], PROFILE, f"websphere:{PROFILE}:nodeagent"),
        # wsadmin and other tools run the same launcher with another application.
        (["java"] + TRADITIONAL_PROPS + ["com.ibm.wsspi.bootstrap.WSPreLauncher", "-nosplash", "-application",
                                         "com.ibm.ws.bootstrap.WSLauncher", "com.ibm.ws.admin.services.WsAdmin",
                                         "-f", "deploy.py"], PROFILE, None),
        (["java"] + TRADITIONAL_TAIL, PROFILE, None),  # no server name
        (["java", "-javaagent:/opt/ibm/wlp/bin/tools/ws-javaagent.jar", "-jar", "/opt/ibm/wlp/bin/tools/ws-server.jar",
          "shopServer"], SERVER_DIR, LIBERTY_IDENTITY),
        (["java", "-jar", "../../../bin/tools/ws-server.jar", "shopServer", "--clean"], SERVER_DIR, LIBERTY_IDENTITY),
        (["java", "-jar", "/opt/ibm/wlp/bin/tools/ws-server.jar"], "/", f"websphere:{WLP}/usr/servers/defaultServer:"
                                                                       "defaultServer"),
        (["java", "-javaagent:/opt/ibm/wlp/bin/tools/ws-javaagent.jar", "com.ibm.ws.kernel.boot.cmdline.EnvCheck",
          "shopServer"], "/", LIBERTY_IDENTITY),
        (["java", "com.ibm.ws.kernel.boot.cmdline.EnvCheck", "shopServer"], "/", None),  # where is Liberty?
        (["java", "-jar", "/opt/app/ws-client.jar"], "/", None),
        (["java", "-Dweblogic.Name=AdminServer", "weblogic.Server"], "/", None),
    ],
)
def test_detection_table(was_host, liberty_host, cmdline, cwd, identity):
    host = liberty_host if any("wlp" in a or "EnvCheck" in a for a in cmdline) else was_host
    detection = WebSphereAnalyzer().detect(ProcessInfo(1, tuple(cmdline), cwd=cwd), host)
    if identity is None:
        assert detection is None
    else:
        assert detection is not None and detection.identity == identity
        assert detection.application_type == "java-websphere"


def test_liberty_user_dir_from_the_environment(tmp_path):
    server = tmp_path / "wlpusr" / "servers" / "api"
    server.mkdir(parents=True)
    (server / "server.xml").write_text('<server><webApplication location="api.war"/></server>')
    proc = ProcessInfo(1, ("java", "-jar", "/opt/ibm/wlp/bin/tools/ws-server.jar", "api"), cwd=str(server),
                       environ={"WLP_USER_DIR": str(tmp_path / "wlpusr")})
    detection = WebSphereAnalyzer().detect(proc, LocalHost())
    assert detection is not None
    assert detection.identity == f"websphere:{server}:api" and detection.web_apps == ("api",)


# -- traditional ---------------------------------------------------------------------------

def test_traditional_analysis(traditional):
    _, entry, _, document = traditional
    validate(document, "analysis", "analysis.json")
    params, info = document["containerParameters"], document["analysisInfo"]
    assert entry.app_id == application_id("java-websphere", WAS_IDENTITY)
    assert params["applicationMode"] is False
    assert params["applicationPort"] == 9080  # WC_defaulthost
    assert params["healthCheckPath"] == "/hr/"
    assert params["logLocations"] == [f"{PROFILE}/logs/server1"]
    was = info["websphere"]
    assert (was["flavor"], was["version"], was["edition"]) == ("traditional", "9.0.5.17", "BASE")
    assert (was["cell"], was["node"], was["serverName"], was["serverType"]) == (
        "DefaultCell01", "DefaultNode01", "server1", "APPLICATION_SERVER")
    ports = {p["name"]: p["port"] for p in was["endpoints"]}
    assert ports == {"BOOTSTRAP_ADDRESS": 2809, "SOAP_CONNECTOR_ADDRESS": 8880, "ORB_LISTENER_ADDRESS": 9100,
                     "WC_adminhost": 9060, "WC_defaulthost": 9080, "WC_adminhost_secure": 9043,
                     "WC_defaulthost_secure": 9443, "IPC_CONNECTOR_ADDRESS": 9633}
    assert [(a["name"], a["binaries"], a["contextRoots"]) for a in was["applications"]] == [
        ("HRPortal", f"{PROFILE}/installedApps/DefaultCell01/HRPortal.ear", ["/hr"])]
    assert info["webApp"] == "HRPortal"
    assert info["AdvancedAppInfo"]["javaHome"] == f"{WAS}/java/8.0"
    deps = [d for d in info["outboundDependencies"] if d["kind"] == "jdbc"]
    assert deps == [{"kind": "jdbc", "host": "db2-hr.example.internal", "port": 50000, "foundIn": RESOURCES,
                     "name": "HRDS", "vendor": "db2", "database": "HRDB"}]


def test_traditional_secrets(traditional):
    document = traditional[3]
    text = json.dumps(document)
    for value in (HR_PASSWORD, LTPA_PASSWORD, KEYSTORE_PASSWORD, "HyspKTk6"):
        assert value not in text
    assert [(s["name"], s["foundIn"], s["envVar"]) for s in document["analysisInfo"]["secrets"]] == [
        ("DefaultNode01/hrdb_auth.password", SECURITY, "A2C_SECRET_DEFAULTNODE01_HRDB_AUTH_PASSWORD")]
    findings = {f["code"]: f["message"] for f in document["findings"]}
    assert "authMechanisms/@password" in findings["WAS-W002"] and "keyStores/@password" in findings["WAS-W002"]
    assert "process mode" in findings["WAS-I001"] and "Liberty" in findings["WAS-I001"]
    assert "was-app-01.example.internal" in findings["WAS-W004"]
    assert "WAS-W003" not in findings


def test_traditional_process_mode(traditional):
    mode = traditional[3]["analysisInfo"]["processMode"]
    assert mode["paths"] == [WAS, PROFILE] and mode["serverPaths"] == [WAS]
    for sub in ("logs", "temp", "wstemp", "tranlog", "workspace"):
        assert f"{PROFILE}/{sub}" in mode["excludes"]
    assert f"{PROFILE}/servers/server1/configuration/org.eclipse.osgi" in mode["excludes"]
    assert f"{WAS}/profiles/Dmgr01" in mode["excludes"] and f"{WAS}/logs" in mode["excludes"]
    assert "javacore.*.txt" in mode["excludeNames"]
    assert f"{PROFILE}/servers/server1/configuration" in mode["writableDirs"]


def test_traditional_plan(traditional, was_host):
    analyzer, _, _, document = traditional
    plan = analyzer.plan(document, was_host)
    server, application = plan.layers
    assert (server.name, server.paths, application.paths) == ("server", (WAS,), (PROFILE,))
    assert PROFILE in server.excludes
    assert plan.env["JAVA_HOME"] == f"{WAS}/java/8.0"  # WebSphere runs on its own IBM SDK (-Xshareclasses…)
    assert plan.entrypoint[-5:] == ("com.ibm.ws.runtime.WsServer", f"{PROFILE}/config", "DefaultCell01",
                                    "DefaultNode01", "server1")
    assert plan.workdir == PROFILE and plan.ports == (9080,)
    security = plan.generated[SECURITY].decode()
    assert 'password="${A2C_SECRET_DEFAULTNODE01_HRDB_AUTH_PASSWORD}"' in security
    assert LTPA_PASSWORD in security  # the cell's own key material stays (WAS-W002)
    assert plan.render_at_start == {SECURITY: ("A2C_SECRET_DEFAULTNODE01_HRDB_AUTH_PASSWORD",)}
    index = parse_xml(plan.generated[SERVERINDEX], "serverindex.xml")
    hosts = {e.getparent().get("endPointName"): e.get("host") for e in index.iter()
             if isinstance(e.tag, str) and local_name(e) == "endPoint"}
    assert hosts["BOOTSTRAP_ADDRESS"] == hosts["SOAP_CONNECTOR_ADDRESS"] == hosts["WC_defaulthost"] == "*"
    assert hosts["IPC_CONNECTOR_ADDRESS"] == "localhost"  # loopback stays private

    names, copied, stream = _names(plan, was_host)
    assert f"{WAS}/java/8.0/bin/java" in copied
    assert f"{PROFILE}/installedApps/DefaultCell01/HRPortal.ear/hr-web.war/index.jsp" in copied
    assert f"{PROFILE}/servers/server1/configuration/config.ini" in copied
    assert f"generated{SECURITY}" in names and f"generated{SERVERINDEX}" in names
    for left_out in ("/logs/", "/temp/", "/wstemp/", "/tranlog/", "/Dmgr01/", "/org.eclipse.osgi/"):
        assert not any(left_out in p + "/" for p in copied), left_out
    assert not any("javacore" in p for p in copied)
    assert HR_PASSWORD.encode() not in stream


def test_traditional_container_artifacts(traditional, was_host, golden):
    analyzer, _, _, document = traditional
    plan = analyzer.plan(document, was_host)
    files = render_container_artifacts(plan, host_name="was-app-01", health_path=document["containerParameters"]
                                       ["healthCheckPath"], secrets=document["analysisInfo"]["secrets"])
    for name, text in files.items():
        golden(f"websphere/traditional/Artifacts/{name}", text)
    for path, data in sorted(plan.generated.items()):
        golden(f"websphere/traditional/generated{path}", data.decode())
    assert f'JAVA_HOME="{WAS}/java/8.0"' in files["Dockerfile"]


def test_context_roots_default_to_the_module_name(tmp_path):
    (tmp_path / "META-INF").mkdir()
    (tmp_path / "META-INF" / "application.xml").write_text(
        "<application><module><web><web-uri>shop-web.war</web-uri></web></module>"
        "<module><web><web-uri>root.war</web-uri><context-root>/</context-root></web></module>"
        "<module><ejb>core.jar</ejb></module></application>")
    assert context_roots(LocalHost(), str(tmp_path)) == ["/shop-web", "/"]
    assert context_roots(LocalHost(), str(tmp_path / "missing.ear")) == []


def test_installed_apps_when_serverindex_lists_none(tmp_path):
    copy = _copy(WAS_SNAPSHOT, tmp_path)
    index = copy / "files" / SERVERINDEX.lstrip("/")
    index.write_text(index.read_text().replace(
        "<deployedApplications>HRPortal.ear/deployments/HRPortal</deployedApplications>", ""))
    _, entry, _, document = _analyze(SnapshotHost(str(copy)))
    assert entry.web_apps == ("HRPortal",)
    assert document["containerParameters"]["healthCheckPath"] == "/hr/"


def test_node_agent_is_a_warning(tmp_path):
    copy = _copy(WAS_SNAPSHOT, tmp_path)
    index = copy / "files" / SERVERINDEX.lstrip("/")
    index.write_text(index.read_text().replace('serverType="APPLICATION_SERVER"', 'serverType="NODE_AGENT"'))
    _, _, _, document = _analyze(SnapshotHost(str(copy)))
    assert any(f["code"] == "WAS-W003" for f in document["findings"])


@pytest.mark.parametrize(("target", "code"), [(SERVERINDEX, "WAS-E001"), (SECURITY, "WAS-E002"),
                                               (RESOURCES, "WAS-E002")])
@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "malformed.xml"])
def test_hostile_traditional_config_is_a_finding(tmp_path, target, code, name):
    copy = _copy(WAS_SNAPSHOT, tmp_path)
    shutil.copy(HOSTILE_XML / name, copy / "files" / target.lstrip("/"))
    host = SnapshotHost(str(copy))
    analyzer, entry, _, document = _analyze(host)
    validate(document, "analysis", "analysis.json")
    assert entry.identity == WAS_IDENTITY
    assert any(f["code"] == code and f["path"] == target for f in document["findings"])
    assert "root:" not in json.dumps(document)
    plan = analyzer.plan(document, host)
    assert target not in plan.generated


# -- Liberty -------------------------------------------------------------------------------

def test_liberty_analysis(liberty):
    _, entry, _, document = liberty
    validate(document, "analysis", "analysis.json")
    params, info = document["containerParameters"], document["analysisInfo"]
    assert entry.app_id == application_id("java-websphere", LIBERTY_IDENTITY)
    assert params["applicationMode"] is False
    assert params["applicationPort"] == 9080  # ${shop.http.port} from the <variable> default
    assert params["healthCheckPath"] == "/health"  # mpHealth
    assert params["containerBaseImage"] == "eclipse-temurin:17-jre"
    assert params["environment"]["LOG_DIR"] == f"{SERVER_DIR}/logs"
    was = info["websphere"]
    assert (was["flavor"], was["version"], was["serverName"]) == ("liberty", "23.0.0.12", "shopServer")
    assert was["httpEndpoint"] == {"host": "localhost", "httpPort": 9080, "httpsPort": 9443, "id": "defaultHttpEndpoint"}
    assert "mpHealth-3.1" in was["features"] and "jdbc-4.2" in was["features"]
    assert [(a["name"], a["location"], a["contextRoot"]) for a in was["applications"]] == [
        ("shop", f"{SERVER_DIR}/apps/shop.war", "/shop")]
    assert was["configFiles"] == [SERVER_XML, f"{SERVER_DIR}/configDropins/overrides/logging.xml"]
    assert info["webApp"] == "shop"
    deps = [d for d in info["outboundDependencies"] if d["kind"] == "jdbc"]
    assert deps == [{"kind": "jdbc", "host": "shop-db.example.internal", "port": 5432, "foundIn": SERVER_XML,
                     "name": "ShopDS", "vendor": "postgresql", "database": "shop"}]
    assert was["dataSources"][0]["user"] == "shop_app"


def test_liberty_secrets(liberty):
    document = liberty[3]
    text = json.dumps(document)
    assert SHOP_PASSWORD not in text and LIBERTY_KEYSTORE not in text
    assert [(s["name"], s["foundIn"], s["envVar"]) for s in document["analysisInfo"]["secrets"]] == [
        ("keystore_password", "environment", "keystore_password"),  # also in server.env: listed once
        ("ShopDS.password", SERVER_XML, "A2C_SECRET_SHOPDS_PASSWORD"),
    ]
    codes = {f["code"] for f in document["findings"]}
    assert {"WAS-I001", "WAS-W001", "WAS-I002"} <= codes


def test_liberty_process_mode(liberty):
    mode = liberty[3]["analysisInfo"]["processMode"]
    assert mode["paths"] == [WLP, SERVER_DIR] and mode["serverPaths"] == [WLP]
    assert mode["excludes"] == [f"{SERVER_DIR}/logs", f"{SERVER_DIR}/workarea", f"{WLP}/usr/servers/.pid",
                                f"{WLP}/usr/servers/defaultServer"]
    assert f"{WLP}/usr/servers/.pid" in mode["writableDirs"]


def test_liberty_plan(liberty, liberty_host):
    analyzer, _, _, document = liberty
    plan = analyzer.plan(document, liberty_host)
    server, application = plan.layers
    assert (server.paths, application.paths) == ((WLP,), (SERVER_DIR,))
    assert "JAVA_HOME" not in plan.env  # the JDK stays the base image's
    assert plan.render_at_start == {}  # Liberty reads ${env.…} itself: no file is rewritten at start
    server_xml = plan.generated[SERVER_XML].decode()
    assert 'password="${env.A2C_SECRET_SHOPDS_PASSWORD}"' in server_xml
    assert 'password="${keystore_password}"' in server_xml  # a variable reference is not a secret
    endpoint = next(e for e in parse_xml(plan.generated[SERVER_XML], "server.xml").iter()
                    if isinstance(e.tag, str) and local_name(e) == "httpEndpoint")
    assert endpoint.get("host") == "*" and endpoint.get("httpPort") == "${shop.http.port}"
    assert plan.generated[f"{SERVER_DIR}/server.env"].decode() == (
        "# keystore_password: supplied from the environment at run time (a2c)\nWLP_SKIP_MAXPERMSIZE=true\n")
    names, copied, stream = _names(plan, liberty_host)
    assert f"{SERVER_DIR}/apps/shop.war" in copied
    assert f"{WLP}/usr/shared/resources/postgresql/postgresql-42.7.1.jar" in copied
    for left_out in ("/logs/", "/workarea/", "/defaultServer/", "/.pid/"):
        assert not any(left_out in p + "/" for p in copied), left_out
    assert SHOP_PASSWORD.encode() not in stream and LIBERTY_KEYSTORE.encode() not in stream


def test_liberty_container_artifacts(liberty, liberty_host, golden):
    analyzer, _, _, document = liberty
    plan = analyzer.plan(document, liberty_host)
    files = render_container_artifacts(plan, host_name="liberty-01", health_path=document["containerParameters"]
                                       ["healthCheckPath"], secrets=document["analysisInfo"]["secrets"])
    for name, text in files.items():
        golden(f"websphere/liberty/Artifacts/{name}", text)
    for path, data in sorted(plan.generated.items()):
        golden(f"websphere/liberty/generated{path}", data.decode())


def _liberty(tmp_path: Path, server_xml: str, files: dict[str, str] | None = None) -> LibertyServer:
    server_dir = tmp_path / "usr" / "servers" / "s1"
    server_dir.mkdir(parents=True)
    (server_dir / "server.xml").write_text(server_xml)
    for name, text in (files or {}).items():
        path = server_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return LibertyServer(str(tmp_path), str(tmp_path / "usr"), str(server_dir), str(server_dir), "s1")


def test_liberty_variables_includes_and_dropins(tmp_path):
    server = _liberty(
        tmp_path,
        '<server><include location="more.xml"/><include location="absent.xml" optional="true"/>'
        '<httpEndpoint id="defaultHttpEndpoint" host="*" httpPort="${http.port}"/>'
        '<enterpriseApplication location="${shared.app.dir}/billing.ear" contextRoot="/billing"/></server>',
        {"more.xml": '<server><featureManager><feature>webProfile-8.0</feature></featureManager>'
                     '<dataSource id="Ora"><properties.oracle URL="jdbc:oracle:thin:@//ora.internal:1522/BILL" '
                     'password="{xor}Lz4sLA=="/></dataSource></server>',
         "bootstrap.properties": "http.port=9081\n",
         "configDropins/overrides/port.xml": '<server><httpEndpoint id="defaultHttpEndpoint" httpsPort="-1"/></server>'},
    )
    (tmp_path / "usr" / "servers" / "s1" / "dropins").mkdir()
    (tmp_path / "usr" / "servers" / "s1" / "dropins" / "hello.war").write_bytes(b"PK")
    config = read_liberty_config(LocalHost(), server)
    assert config.http_endpoint == {"host": "*", "httpPort": 9081, "httpsPort": -1, "id": "defaultHttpEndpoint"}
    assert config.features == ["webProfile-8.0"]
    assert [(a["name"], a["location"], a["contextRoot"]) for a in config.applications] == [
        ("billing", f"{tmp_path}/usr/shared/apps/billing.ear", "/billing"),
        ("hello", f"{tmp_path}/usr/servers/s1/dropins/hello.war", "/hello")]
    assert [(d["host"], d["port"], d["vendor"]) for d in config.dependencies] == [("ora.internal", 1522, "oracle")]
    assert config.findings == []
    assert liberty_health_path(config) == "/billing/"


def test_liberty_without_an_http_endpoint_gets_one_on_every_interface(tmp_path):
    server = _liberty(tmp_path, '<server><featureManager><feature>servlet-4.0</feature></featureManager></server>')
    config = read_liberty_config(LocalHost(), server)
    assert config.http_endpoint["host"] == "localhost" and config.http_endpoint["httpPort"] == 9080
    patched = container_http_endpoint(LocalHost(), server.server_xml)
    assert patched is not None
    endpoint = [e for e in parse_xml(patched, "server.xml") if isinstance(e.tag, str) and local_name(e) == "httpEndpoint"]
    assert [(e.get("id"), e.get("host")) for e in endpoint] == [("defaultHttpEndpoint", "*")]
    open_server = _liberty(tmp_path / "o", '<server><httpEndpoint id="defaultHttpEndpoint" host="*"/></server>')
    assert container_http_endpoint(LocalHost(), open_server.server_xml) is None


def test_server_env_without_secrets_is_left_alone(tmp_path):
    env = tmp_path / "server.env"
    env.write_text("WLP_SKIP_MAXPERMSIZE=true\nJVM_ARGS=-Xmx1g\n")
    assert container_server_env(LocalHost(), str(env)) is None
    env.write_text("DB_PASSWORD=x\n#API_TOKEN=old\n")
    assert container_server_env(LocalHost(), str(env)) == (
        b"# DB_PASSWORD: supplied from the environment at run time (a2c)\n#API_TOKEN=old\n")


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "xxe-parameter-entity.xml",
                                  "quadratic-blowup.xml", "truncated.xml"])
def test_hostile_server_xml_is_a_finding(tmp_path, name):
    copy = _copy(LIBERTY_SNAPSHOT, tmp_path)
    shutil.copy(HOSTILE_XML / name, copy / "files" / SERVER_XML.lstrip("/"))
    host = SnapshotHost(str(copy))
    analyzer, entry, _, document = _analyze(host)
    validate(document, "analysis", "analysis.json")
    assert entry.identity == LIBERTY_IDENTITY
    assert any(f["code"] == "WAS-E003" and f["path"] == SERVER_XML for f in document["findings"])
    assert "root:" not in json.dumps(document)
    assert document["containerParameters"]["applicationPort"] == 9080  # Liberty's default
    plan = analyzer.plan(document, host)
    assert SERVER_XML not in plan.generated


# -- discovery -----------------------------------------------------------------------------

@pytest.mark.parametrize(("snapshot", "identity", "pid", "apps"), [
    (WAS_SNAPSHOT, WAS_IDENTITY, 5120, ("HRPortal",)),
    (LIBERTY_SNAPSHOT, LIBERTY_IDENTITY, 2087, ("shop",)),
])
def test_discovery_with_the_server_analyzers(snapshot, identity, pid, apps):
    host = SnapshotHost(str(snapshot))
    result = discover(host, _registry())
    assert list(result.entries) == [application_id("java-websphere", identity)]
    entry = result.entries[application_id("java-websphere", identity)]
    assert (entry.analyzer_id, entry.process_id, entry.identity, entry.web_apps) == ("java-websphere", pid, identity, apps)
    assert result.notes == []


@pytest.mark.parametrize("snapshot", [WAS_SNAPSHOT, LIBERTY_SNAPSHOT])
def test_snapshots_have_no_links(snapshot):
    assert not [p for p in snapshot.rglob("*") if p.is_symlink()]


def test_traditional_url_data_source_password_property_and_external_binaries(tmp_path):
    copy = _copy(WAS_SNAPSHOT, tmp_path)
    files = copy / "files"
    resources = files / RESOURCES.lstrip("/")
    resources.write_text(resources.read_text().replace(
        '<resourceProperties xmi:id="J2EEResourceProperty_1714039000103" name="databaseName"',
        '<resourceProperties name="URL" value="jdbc:oracle:thin:@//hr-ora.example.internal:1521/HR"/>'
        '<resourceProperties name="password" value="Plain-Fixture-Pw"/>'
        '<resourceProperties xmi:id="J2EEResourceProperty_1714039000103" name="databaseName"'))
    deployment = files / CELL.lstrip("/") / "applications/HRPortal.ear/deployments/HRPortal/deployment.xml"
    deployment.write_text(deployment.read_text().replace("$(APP_INSTALL_ROOT)/DefaultCell01/HRPortal.ear",
                                                         "/data/ears/HRPortal.ear"))
    shutil.move(str(files / PROFILE.lstrip("/") / "installedApps/DefaultCell01/HRPortal.ear"),
                str(files / "data" / "ears" / "HRPortal.ear"))
    host = SnapshotHost(str(copy))
    analyzer, _, _, document = _analyze(host)
    info = document["analysisInfo"]
    assert "Plain-Fixture-Pw" not in json.dumps(document)
    assert ("HRDS.password", RESOURCES) in {(s["name"], s["foundIn"]) for s in info["secrets"]}
    assert {(d["host"], d["port"], d.get("url", "")) for d in info["outboundDependencies"] if d["kind"] == "jdbc"} == {
        ("hr-ora.example.internal", 1521, "jdbc:oracle:thin:@//hr-ora.example.internal:1521/HR")}
    assert info["processMode"]["paths"] == [WAS, PROFILE, "/data/ears/HRPortal.ear"]
    assert document["containerParameters"]["healthCheckPath"] == "/hr/"
    plan = analyzer.plan(document, host)
    assert 'value="${A2C_SECRET_HRDS_PASSWORD}"' in plan.generated[RESOURCES].decode()
    assert plan.render_at_start[RESOURCES] == ("A2C_SECRET_HRDS_PASSWORD",)
    assert plan.layers[-1].paths == (PROFILE, "/data/ears/HRPortal.ear")


def test_liberty_variable_secrets_are_externalized(tmp_path):
    copy = _copy(LIBERTY_SNAPSHOT, tmp_path)
    server_xml = copy / "files" / SERVER_XML.lstrip("/")
    server_xml.write_text(server_xml.read_text().replace(
        '<variable name="shop.http.port" defaultValue="9080"/>',
        '<variable name="shop.http.port" defaultValue="9080"/>\n    <variable name="db.password" value="Var-Fixture-Pw"/>'))
    host = SnapshotHost(str(copy))
    analyzer, _, _, document = _analyze(host)
    assert "Var-Fixture-Pw" not in json.dumps(document)
    assert ("db.password", "A2C_SECRET_DB_PASSWORD") in {(s["name"], s["envVar"]) for s in
                                                          document["analysisInfo"]["secrets"]}
    generated = analyzer.plan(document, host).generated[SERVER_XML].decode()
    assert '<variable name="db.password" value="${env.A2C_SECRET_DB_PASSWORD}"/>' in generated
