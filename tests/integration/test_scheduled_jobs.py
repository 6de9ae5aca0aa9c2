"""Scheduled jobs from inventory to a container that runs them once, on real components.

- A Java batch class (com.acme.Nightly) compiled with the machine's javac, run by a line of
  /etc/cron.d/billing (``cd /opt/batch && java … com.acme.Nightly --mode full >> log 2>&1``).
- A .NET console app (Report.dll) compiled with Debian's mcs against the dotnetcore2 wheel's .NET
  Core 3.1 runtime (it runs here first, as itself), run by a systemd timer and its service.

Each host is a snapshot folder (the layout `a2c extract` writes, read by SnapshotHost): the
host's crontab, units, /etc/passwd and the application's real files. The CLI runs inventory ->
analyze -> containerize --artifacts-only with no edit; with the Docker engine the image is built
on the local JRE / .NET runtime base image and run once (a2c.images.validate.validate_run_once):
exit 0 and the job's own output, and a failing run is reported as a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import missing

pytestmark = [pytest.mark.services]

JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
DOTNET_IMAGE = os.environ.get("A2C_TEST_DOTNET_IMAGE", "a2c-test/dotnet-runtime:3.1")

NIGHTLY = """\
package com.acme;

import java.io.FileInputStream;
import java.util.Properties;

/** A nightly batch: reads its configuration, does its work, prints a line and exits. */
public class Nightly {
    public static void main(String[] args) throws Exception {
        Properties config = new Properties();
        try (FileInputStream in = new FileInputStream(System.getProperty("batch.config"))) {
            config.load(in);
        }
        String fail = System.getenv("NIGHTLY_FAIL_WITH");
        if (fail != null) {
            System.err.println("nightly batch failed on purpose");
            System.exit(Integer.parseInt(fail));
        }
        System.out.println("nightly batch done: " + String.join(" ", args) + " region=" + config.getProperty("region")
                           + " mode=" + System.getenv("BATCH_MODE") + " cwd=" + System.getProperty("user.dir"));
    }
}
"""

CRON_D = """\
# billing batches
MAILTO=ops@example.com
CRON_TZ=America/New_York
BATCH_MODE=nightly
30 2 * * 1-5 batch cd /opt/batch && java -Xmx128m -Dbatch.config=/opt/batch/conf/batch.properties -cp classes \
com.acme.Nightly --mode full >> /var/log/nightly.log 2>&1
"""

REPORT = """\
using System;

public static class Report
{
    public static int Main(string[] args)
    {
        Console.WriteLine("report done: " + string.Join(" ", args) + " kind=" + Environment.GetEnvironmentVariable("REPORT_KIND"));
        return 0;
    }
}
"""

TIMER = """\
[Unit]
Description=Daily report

[Timer]
OnCalendar=Mon..Fri *-*-* 04:00:00 Europe/Berlin
Persistent=true
RandomizedDelaySec=5m

[Install]
WantedBy=timers.target
"""

SERVICE = """\
[Unit]
Description=Daily report

[Service]
Type=oneshot
User=report
WorkingDirectory=/opt/report
Environment="REPORT_KIND=full daily" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
ExecStart=/usr/bin/dotnet /opt/report/Report.dll --region eu-west-1
"""

PASSWD = "root:x:0:0:root:/root:/bin/bash\nbatch:x:1001:1001::/home/batch:/bin/sh\nreport:x:1002:1002::/var/lib/report:/bin/sh\n"


def _write(root: Path, rel: str, text: str, mode: int = 0o644) -> Path:
    path = root / "files" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def _link(root: Path, rel: str, target: str) -> None:
    path = root / "files" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def _host_json(root: Path, processes: list | None = None) -> None:
    (root / "host.json").write_text(json.dumps({
        "hostname": "batch-host", "osRelease": {"ID": "debian", "VERSION_ID": "12"},
        "users": {"1001": "batch", "1002": "report", "0": "root"}, "processes": processes or []}))


@pytest.fixture(scope="module")
def java_host(tmp_path_factory):
    """A host whose cron runs the compiled batch; a running instance of the same job is in host.json."""
    if not shutil.which("javac"):
        missing("a JDK (javac)", "install openjdk-17-jdk-headless")
    root = tmp_path_factory.mktemp("cron-host")
    source = tmp_path_factory.mktemp("nightly-src") / "Nightly.java"
    source.write_text(NIGHTLY)
    classes = root / "files" / "opt" / "batch" / "classes"
    subprocess.run(["javac", "--release", "11", "-d", str(classes), str(source)], check=True, capture_output=True,
                   timeout=120)
    _write(root, "opt/batch/conf/batch.properties", "region=eu-west-1\n")
    _write(root, "etc/cron.d/billing", CRON_D)
    _write(root, "etc/passwd", PASSWD)
    _write(root, "etc/timezone", "Europe/Paris\n")
    _write(root, f"{JAVA_HOME.lstrip('/')}/release", 'JAVA_VERSION="17.0.15"\n')
    _write(root, f"{JAVA_HOME.lstrip('/')}/bin/java", "#!/bin/sh\n", 0o755)
    _link(root, "usr/bin/java", f"{JAVA_HOME}/bin/java")
    running = {"pid": 4321, "cmdline": ["java", "-Xmx128m", "-Dbatch.config=/opt/batch/conf/batch.properties", "-cp",
                                        "classes", "com.acme.Nightly", "--mode", "full"],
               "exe": f"{JAVA_HOME}/bin/java", "cwd": "/opt/batch", "username": "batch", "uid": 1001, "gid": 1001,
               "ppid": 4300}
    _host_json(root, [running])
    return root


def _dotnet_root() -> Path:
    spec = importlib.util.find_spec("dotnetcore2")
    if spec is None or not spec.origin:
        missing("the .NET Core 3.1 runtime (PyPI's dotnetcore2)", "run scripts/setup-dotnet.sh")
    root = Path(str(spec.origin)).parent / "bin"
    if not (root / "dotnet").is_file():
        missing("the dotnet host in the dotnetcore2 wheel", f"{root}/dotnet is missing")
    return root


@pytest.fixture(scope="module")
def dotnet_host(tmp_path_factory):
    """A host whose systemd timer runs Report.dll, compiled here and run once here to prove it is real."""
    if not shutil.which("mcs"):
        missing("Debian's mcs (mono-mcs)", "run scripts/setup-dotnet.sh")
    runtime = _dotnet_root()
    framework = sorted((runtime / "shared" / "Microsoft.NETCore.App").glob("3.1.*"))[-1]
    root = tmp_path_factory.mktemp("timer-host")
    app = root / "files" / "opt" / "report"
    app.mkdir(parents=True)
    source = tmp_path_factory.mktemp("report-src") / "Report.cs"
    source.write_text(REPORT)
    refs = [f"-r:{framework}/{name}.dll" for name in ("System.Private.CoreLib", "System.Runtime", "System.Console")]
    subprocess.run(["mcs", "-nostdlib", "-noconfig", "-nologo", *refs, "-target:exe", f"-out:{app}/Report.dll",
                    str(source)], check=True, capture_output=True, timeout=120)
    (app / "Report.runtimeconfig.json").write_text(json.dumps(
        {"runtimeOptions": {"tfm": "netcoreapp3.1", "framework": {"name": "Microsoft.NETCore.App", "version": "3.1.0"}}}))
    (app / "Report.deps.json").write_text(json.dumps({
        "runtimeTarget": {"name": ".NETCoreApp,Version=v3.1"},
        "targets": {".NETCoreApp,Version=v3.1": {"Report/1.0.0": {"runtime": {"Report.dll": {}}}}},
        "libraries": {"Report/1.0.0": {"type": "project", "serviceable": False, "sha512": ""}}}))
    ran = subprocess.run([str(runtime / "dotnet"), str(app / "Report.dll"), "--region", "here"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1",
                                                     "REPORT_KIND": "local"})
    assert ran.returncode == 0 and ran.stdout.strip() == "report done: --region here kind=local", ran
    _write(root, "etc/systemd/system/report.timer", TIMER)
    _write(root, "etc/systemd/system/report.service", SERVICE)
    _link(root, "etc/systemd/system/timers.target.wants/report.timer", "/etc/systemd/system/report.timer")
    _write(root, "etc/passwd", PASSWD)
    _write(root, "usr/share/dotnet/dotnet", "\x7fELF placeholder\n", 0o755)
    _write(root, f"usr/share/dotnet/shared/Microsoft.NETCore.App/{framework.name}/Microsoft.NETCore.App.deps.json", "{}")
    _link(root, "usr/bin/dotnet", "/usr/share/dotnet/dotnet")
    _link(root, "etc/localtime", "/usr/share/zoneinfo/Europe/Paris")
    _host_json(root)
    return root


def _only_entry(run_a2c, snapshot: Path) -> tuple[str, dict]:
    result = run_a2c("--json", "inventory", "--snapshot", str(snapshot))
    assert result.exit_code == 0, result
    entries = result.json()
    assert len(entries) == 1, entries
    return next(iter(entries.items()))


def _artifacts(workspace: Path, app_id: str) -> dict[str, str]:
    folder = workspace / app_id / "Artifacts"
    return {str(p.relative_to(folder)): p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


def _run_once(image: str, app_id: str, **kwargs):
    from a2c.gateways.docker_engine import DockerEngine
    from a2c.images.validate import validate_run_once
    from a2c.progress import Reporter

    return validate_run_once(DockerEngine.connect(), image, app_id, 120, Reporter(), **kwargs)


def test_cron_java_batch_from_inventory_to_artifacts(java_host, run_a2c, workspace):
    app_id, entry = _only_entry(run_a2c, java_host)
    # the running instance (pid 4321) is the job: listed once, as the job
    assert app_id.startswith("java-generic-") and entry["kind"] == "scheduled" and entry["processId"] == 0
    assert entry["schedule"] == {"cron": "30 2 * * 1-5", "onCalendar": "", "timezone": "America/New_York",
                                 "user": "batch", "source": "crontab", "file": "/etc/cron.d/billing", "line": 5,
                                 "unit": ""}
    assert entry["user"] == "batch"
    again = run_a2c("--json", "inventory", "--snapshot", str(java_host)).json()
    assert list(again) == [app_id]  # stable id

    analyzed = run_a2c("analyze", "--application-id", app_id, "--snapshot", str(java_host))
    assert analyzed.exit_code == 0, analyzed
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    assert info["workload"] == {"kind": "scheduled", "schedule": entry["schedule"]}
    assert info["cwd"] == "/opt/batch" and info["processId"] == 0 and info["ports"] == []
    assert params["applicationPort"] == 0 and params["environment"]["BATCH_MODE"] == "nightly"
    assert "MAILTO" not in params["environment"] and "CRON_TZ" not in params["environment"]
    assert any(f["code"] == "JOB-I001" for f in analysis["findings"])
    assert not any(f["code"].startswith("PROBE-") for f in analysis["findings"])

    done = run_a2c("containerize", "--application-id", app_id, "--snapshot", str(java_host), "--artifacts-only")
    assert done.exit_code == 0, done
    artifacts = _artifacts(workspace, app_id)
    dockerfile = artifacts["Dockerfile"]
    assert "EXPOSE" not in dockerfile and "HEALTHCHECK" not in dockerfile
    entrypoint = next(text for name, text in artifacts.items() if name.endswith("entrypoint.sh"))
    assert "com.acme.Nightly" in entrypoint and "--mode" in entrypoint and "full" in entrypoint
    assert "/var/log/nightly.log" not in entrypoint  # the crontab's redirection is the shell's, not the job's


def test_cron_java_batch_image_runs_once(java_host, run_a2c, workspace, jre_image, docker_client):
    from a2c.errors import ValidationFailed

    app_id, _ = _only_entry(run_a2c, java_host)
    assert run_a2c("analyze", "--application-id", app_id, "--snapshot", str(java_host)).exit_code == 0
    built = run_a2c("containerize", "--application-id", app_id, "--snapshot", str(java_host), "--base-image", jre_image,
                    "--no-validate")
    assert built.exit_code == 0, built
    image = f"{app_id}:latest"
    try:
        outcome = _run_once(image, app_id, expected_output="nightly batch done: --mode full region=eu-west-1 "
                                                           "mode=nightly cwd=/opt/batch")
        assert outcome.status == 0 and outcome.baseline == "run once" and "nightly batch done" in outcome.note
        with pytest.raises(ValidationFailed, match="exited with code 3"):
            _run_once(image, app_id, environment={"NIGHTLY_FAIL_WITH": "3"})
        with pytest.raises(ValidationFailed, match="did not print"):
            _run_once(image, app_id, expected_output="something the batch never prints")
    finally:
        docker_client.images.remove(image, force=True)


def test_systemd_timer_dotnet_app_from_inventory_to_a_run(dotnet_host, run_a2c, workspace, docker_client):
    app_id, entry = _only_entry(run_a2c, dotnet_host)
    assert app_id.startswith("dotnet-core-") and entry["kind"] == "scheduled"
    assert entry["schedule"] == {"cron": "", "onCalendar": "Mon..Fri *-*-* 04:00:00", "timezone": "Europe/Berlin",
                                 "user": "report", "source": "systemd", "file": "/etc/systemd/system/report.timer",
                                 "line": 5, "unit": "report.timer", "service": "report.service", "persistent": True,
                                 "randomizedDelaySec": "5m"}
    analyzed = run_a2c("analyze", "--application-id", app_id, "--snapshot", str(dotnet_host))
    assert analyzed.exit_code == 0, analyzed
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    assert info["workload"]["kind"] == "scheduled" and info["cwd"] == "/opt/report"
    assert info["dotnet"]["appDir"] == "/opt/report" and params["applicationPort"] == 0
    assert params["environment"]["REPORT_KIND"] == "full daily"
    done = run_a2c("containerize", "--application-id", app_id, "--snapshot", str(dotnet_host), "--artifacts-only")
    assert done.exit_code == 0, done
    artifacts = _artifacts(workspace, app_id)
    assert "HEALTHCHECK" not in artifacts["Dockerfile"]
    assert any("Report.dll" in text and "eu-west-1" in text for name, text in artifacts.items()
               if name.endswith(("entrypoint.sh", "Dockerfile")))

    try:
        docker_client.images.get(DOTNET_IMAGE)
    except Exception:  # noqa: BLE001 - any failure means "not there"
        missing(f"the local .NET runtime base image {DOTNET_IMAGE}", "run scripts/setup-dotnet.sh")
    built = run_a2c("containerize", "--application-id", app_id, "--snapshot", str(dotnet_host), "--base-image",
                    DOTNET_IMAGE, "--no-validate")
    assert built.exit_code == 0, built
    image = f"{app_id}:latest"
    try:
        outcome = _run_once(image, app_id, expected_output="report done: --region eu-west-1 kind=full daily")
        assert outcome.status == 0
    finally:
        docker_client.images.remove(image, force=True)
