"""IIS sites and Windows services from a host snapshot, through the CLI: inventory, analyze,
containerize writes the Windows Dockerfile and its build context, and says where to build it."""

from __future__ import annotations

import json
import shutil

from a2c.errors import ExitStatus

from tests.conftest import FIXTURES


def test_iis_and_services_through_the_cli(run_a2c, workspace, tmp_path):
    snapshot = tmp_path / "iis-host"
    shutil.copytree(FIXTURES / "snapshots" / "iis-host", snapshot, symlinks=True)
    result = run_a2c("--json", "inventory", "--type", "iis", "--snapshot", str(snapshot))
    assert result.exit_code == 0, result
    sites = result.json()
    assert {v["siteName"] for v in sites.values()} == {"Default Web Site", "OrdersApi", "LegacyReports"}
    assert all(v["applicationType"] == "dotnet-iis" for v in sites.values())
    services = run_a2c("--json", "inventory", "--type", "service", "--snapshot", str(snapshot)).json()
    assert {v["serviceName"] for v in services.values()} == {"OrderProcessor", "ReportScheduler"}

    site = next(k for k, v in sites.items() if v["siteName"] == "Default Web Site")
    assert run_a2c("analyze", "--application-id", site, "--snapshot", str(snapshot)).exit_code == 0
    analysis = json.loads((workspace / site / "analysis.json").read_text())
    assert analysis["containerParameters"]["containerBaseImage"].endswith("ltsc2019")
    report = (workspace / site / "report.txt").read_text()  # App2Container's connection-string report
    assert "Web.config:11" in report and "Password=****" in report
    assert analysis["analysisInfo"]["reportPath"] == str(workspace / site / "report.txt")

    result = run_a2c("containerize", "--application-id", site, "--snapshot", str(snapshot))
    assert result.exit_code == ExitStatus.WINDOWS_HOST_REQUIRED, result
    assert "only a Windows container host can build" in result.stderr and "docker build" in result.stderr
    artifacts = workspace / site / "Artifacts"
    assert (artifacts / "Dockerfile").read_text().startswith("# escape=`") or "FROM mcr.microsoft.com" in (
        artifacts / "Dockerfile").read_text()
    assert any(p.name.lower() == "web.config" for p in artifacts.rglob("*"))
    # The site's connection-string passwords are placeholders in the copied web.config, nowhere in clear.
    for path in (workspace / site).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "Sh0pP@ss!" not in text and "EfP@ss42" not in text, path
    # A narrowed inventory kept the other kind of application listed.
    assert set(sites) | set(services) <= set(json.loads((workspace / "inventory.json").read_text()))
    result = run_a2c("--json", "containerize", "--application-id", site, "--snapshot", str(snapshot),
                     "--artifacts-only")
    assert result.exit_code == 0, result
    assert result.json()["contextFiles"] > 0


def test_a_windows_site_deploys_to_ecs_on_windows_instances_and_nowhere_linux_only(run_a2c, workspace, tmp_path):
    snapshot = FIXTURES / "snapshots" / "iis-host"
    sites = run_a2c("--json", "inventory", "--type", "iis", "--snapshot", str(snapshot)).json()
    site = next(iter(sites))
    assert run_a2c("analyze", "--application-id", site, "--snapshot", str(snapshot)).exit_code == 0
    result = run_a2c("generate", "app-deployment", "--application-id", site)
    assert result.exit_code == 0, result
    template = (workspace / site / "EcsDeployment" / "ecs-master.yml").read_text()
    assert "Windows_Server-2022-English-Full-ECS_Optimized" in template and "AWS::ECS::CapacityProvider" in template
    assert "LaunchType: FARGATE" not in template
    deployment_path = workspace / site / "deployment.json"
    deployment = json.loads(deployment_path.read_text())
    assert deployment["platform"] == "windows" and deployment["ecsParameters"]["launchType"] == "EC2"
    deployment["ecsExpressParameters"]["createEcsExpressArtifacts"] = True
    deployment_path.write_text(json.dumps(deployment))
    refused = run_a2c("generate", "app-deployment", "--application-id", site)
    assert refused.exit_code == ExitStatus.NOT_SUPPORTED and "is a Windows application" in refused.stderr
    assert "createEcsExpressArtifacts to false" in refused.stderr
    assert not (workspace / site / "EcsExpressDeployment").exists()
