"""The .NET Core analyzer against a real .NET app: fixtures/samples/dotnet-hello compiled with
Debian's mcs against the dotnetcore2 wheel's .NET Core 3.1 runtime, run by that runtime's
``dotnet`` host on a free 127.0.0.1 port. Discovery and analysis through LocalHost, then the CLI:
inventory -> analyze -> containerize on a2c-test/dotnet-runtime:3.1 (validated: HTTP 200) -> the
password from appsettings.json in no artifact and no image layer, but in the running container's
settings when supplied -> generate app-deployment -> cfn-lint without errors.

Needs scripts/setup-dotnet.sh (mcs, the wheel, the base image) and a Docker engine."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.dotnet.core import DotnetCoreAnalyzer
from a2c.analyzers.registry import Registry
from a2c.images.validate import probe
from a2c.steps.inventory import discover
from a2c.hosts.local import LocalHost
from a2c.workspace import validate

from tests.conftest import FIXTURES, missing, free_port, http_get

pytestmark = [pytest.mark.services]

DOTNET_IMAGE = os.environ.get("A2C_TEST_DOTNET_IMAGE", "a2c-test/dotnet-runtime:3.1")
PASSWORD = "Hello-Db-Pa55word!"  # ConnectionStrings:Default in the sample's appsettings.json
SECRET_VAR = "A2C_SECRET_CONNECTIONSTRINGS_DEFAULT_PASSWORD"
START_TIMEOUT = 30




def _runtime_dir() -> Path:
    spec = importlib.util.find_spec("dotnetcore2")
    origin = spec.origin if spec is not None else None
    if not origin:
        missing("the .NET Core 3.1 runtime (PyPI's dotnetcore2)", "run scripts/setup-dotnet.sh")
    root = Path(str(origin)).parent / "bin"
    if not (root / "dotnet").is_file():
        missing("the dotnet host in the dotnetcore2 wheel", f"{root}/dotnet is missing; reinstall dotnetcore2")
    return root


@pytest.fixture(scope="module")
def dotnet_hello(tmp_path_factory):
    """HelloApp built and running under the real runtime, as its own process; stopped (that pid only) at the end."""
    if not shutil.which("mcs"):
        missing("Debian's mcs (mono-mcs)", "run scripts/setup-dotnet.sh")
    runtime = _runtime_dir()
    root = tmp_path_factory.mktemp("dotnet-hello")
    app = root / "publish"
    subprocess.run(["bash", str(FIXTURES / "samples" / "dotnet-hello" / "build.sh"), str(app)], check=True,
                   env={**os.environ, "DOTNET_ROOT": str(runtime)}, capture_output=True, timeout=120)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASPNETCORE_", "DOTNET_"))}
    env.update(ASPNETCORE_URLS=f"http://127.0.0.1:{port}", DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
    log_path = root / "hello.out"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(runtime / "dotnet"), "HelloApp.dll"], cwd=app, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while probe(url) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"HelloApp did not answer 200 on {url}:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"pid": proc.pid, "port": port, "dir": str(app), "url": url, "runtime": str(runtime), "log": log_path}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def dotnet_image(docker_client):
    try:
        docker_client.images.get(DOTNET_IMAGE)
    except Exception:  # noqa: BLE001 - any failure means "not there"
        missing(f"the local .NET runtime base image {DOTNET_IMAGE}", "run scripts/setup-dotnet.sh")
    return DOTNET_IMAGE


def test_the_sample_is_a_real_dotnet_app(dotnet_hello):
    status, body = http_get(dotnet_hello["url"])
    assert status == 200 and body == "Hello from dotnet-hello\n"
    log = dotnet_hello["log"].read_text()
    assert f"HelloApp started: listening on http://127.0.0.1:{dotnet_hello['port']}" in log
    assert PASSWORD not in log


def test_local_discovery_and_analysis(dotnet_hello):
    host, analyzer = LocalHost(), DotnetCoreAnalyzer()
    entries = discover(host, Registry([analyzer]), "dotnet").entries
    found = [e for e in entries.values() if e.process_id == dotnet_hello["pid"]]
    assert found, f"HelloApp (pid {dotnet_hello['pid']}) not discovered: {entries}"
    entry = found[0]
    app = dotnet_hello["dir"]
    assert entry.identity == f"dotnet:{app}/HelloApp.dll" and entry.base_dir == app and dotnet_hello["port"] in entry.ports
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    analysis = build_document(result)
    validate(analysis, "analysis", "analysis.json")
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    dotnet = info["dotnet"]
    assert (dotnet["launch"], dotnet["kind"], dotnet["targetFramework"]) == ("dotnet-host", "console", "netcoreapp3.1")
    assert dotnet["requestedFrameworks"] == [{"name": "Microsoft.NETCore.App", "version": "3.1.0"}]
    # the runtime the process really loaded, from its open files: the wheel's 3.1.23 (3.1.0 rolled forward)
    assert dotnet["runtime"]["source"] == "open files"
    assert dotnet["runtime"]["version"].startswith("3.1.") and dotnet["runtime"]["dotnetRoot"] == dotnet_hello["runtime"]
    assert (dotnet["urlsSource"], dotnet["httpPort"], dotnet["loopbackOnly"]) == (
        "environment ASPNETCORE_URLS", dotnet_hello["port"], True)
    assert params["applicationPort"] == dotnet_hello["port"]
    assert params["containerBaseImage"] == "mcr.microsoft.com/dotnet/runtime:3.1"
    assert params["environment"]["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] == "1"
    assert params["logLocations"] == [f"{app}/logs"] and f"{app}/logs" in params["appExcludedFiles"]
    assert [(p["name"], p["version"], p["path"]) for p in info["nuget"]] == [
        ("Humanizer.Core", "2.8.26", f"{app}/Humanizer.dll"),
        ("Serilog.Sinks.File", "4.1.0", f"{app}/Serilog.Sinks.File.dll")]
    assert [(s["name"], s["envVar"]) for s in info["secrets"]] == [("ConnectionStrings:Default:Password", SECRET_VAR)]
    assert [(d["kind"], d["host"], d["port"]) for d in info["outboundDependencies"]] == [
        ("sqlserver", "hello-db.example.internal", 1433), ("redis", "hello-cache.example.internal", 6379)]
    assert PASSWORD not in json.dumps(analysis)

    plan = analyzer.plan(analysis, host)
    assert plan.entrypoint == ("dotnet", f"{app}/HelloApp.dll")
    assert plan.env["ASPNETCORE_URLS"] == f"http://+:{dotnet_hello['port']}"
    assert plan.env["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] == "1"
    assert plan.writable_dirs == (f"{app}/logs",) and plan.render_at_start == {f"{app}/appsettings.json": (SECRET_VAR,)}
    assert PASSWORD.encode() not in plan.generated[f"{app}/appsettings.json"]


def _no_secret_in_image(docker_client, image: str) -> None:
    """Every byte of every layer (``docker save``), searched with an overlap across chunk borders;
    the placeholder that stands in for the password must be found the same way (a control)."""
    needle, control = PASSWORD.encode(), f"Password=${{{SECRET_VAR}}};".encode()
    overlap = max(len(needle), len(control))
    tail, seen = b"", False
    for chunk in docker_client.images.get(image).save(named=False):
        window = tail + chunk
        assert needle not in window, f"the password is in an image layer of {image}"
        seen = seen or control in window
        tail = window[-overlap:]
    assert seen, "the templated appsettings.json was not found in the saved image: the search sees nothing"


@pytest.mark.docker
@pytest.mark.slow
def test_cli_end_to_end(dotnet_hello, dotnet_image, run_a2c, workspace, docker_client):
    result = run_a2c("--json", "inventory", "--type", "dotnet")
    assert result.exit_code == 0, result
    inventory = result.json()
    found = [k for k, v in inventory.items() if v["applicationType"] == "dotnet-core" and v["processId"] == dotnet_hello["pid"]]
    assert len(found) == 1, result.stdout[-3000:]
    app_id = found[0]
    assert dotnet_hello["port"] in inventory[app_id]["ports"]
    assert all(v["applicationType"].startswith("dotnet-") for v in inventory.values())

    result = run_a2c("analyze", "--application-id", app_id)
    assert result.exit_code == 0, result
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    assert analysis["containerParameters"]["applicationPort"] == dotnet_hello["port"]

    image = ""
    try:
        result = run_a2c("--json", "containerize", "--application-id", app_id, "--base-image", dotnet_image)
        assert result.exit_code == 0, result
        data = result.json()
        image = data["image"]
        assert data["validation"]["status"] == 200
        config = docker_client.images.get(image).attrs["Config"]
        assert config["User"] == "10001:0" and config["Labels"]["com.a2c.application-id"] == app_id
        assert f"ASPNETCORE_URLS=http://+:{dotnet_hello['port']}" in config["Env"]

        # The secret reaches the app only when the container starts, from its environment.
        port = dotnet_hello["port"]
        container = docker_client.containers.run(image, detach=True, environment={SECRET_VAR: PASSWORD},
                                                 ports={f"{port}/tcp": ("127.0.0.1", None)})
        try:
            container.reload()
            host_port = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"]
            url = f"http://127.0.0.1:{host_port}/"
            deadline = time.monotonic() + 60
            while probe(url) != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            status, body = http_get(url)
            assert status == 200 and body == "Hello from dotnet-hello\n", container.logs(tail=50).decode(errors="replace")
            settings = container.exec_run(["cat", f"{dotnet_hello['dir']}/appsettings.json"]).output.decode()
            assert f"Password={PASSWORD};" in settings and "${" not in settings
        finally:
            container.remove(force=True)

        for path in workspace.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), f"the password is in {path}"
        _no_secret_in_image(docker_client, image)

        if not shutil.which("cfn-lint"):
            missing("cfn-lint", "pip install cfn-lint")
        result = run_a2c("--json", "generate", "app-deployment", "--application-id", app_id)
        assert result.exit_code == 0, result
        template = workspace / app_id / "EcsDeployment" / "ecs-master.yml"
        lint = subprocess.run(["cfn-lint", str(template)], capture_output=True, text=True)
        assert lint.returncode & 2 == 0, lint.stdout + lint.stderr
        assert "AWS::ECS::TaskDefinition" in template.read_text()
        assert SECRET_VAR in (workspace / app_id / "deployment.json").read_text()
    finally:
        if image:
            docker_client.images.remove(image, force=True)
    # the original still answers on its own port
    assert http_get(dotnet_hello["url"])[0] == 200
