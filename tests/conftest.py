"""Shared fixtures. Real services only: the Docker engine, the sample Tomcat and Spring Boot
apps, cfn-lint. Locally a missing service skips its tests; under A2C_REQUIRE_SERVICES=1 (as
.ci/run sets) a missing service fails them, so CI can never pass by skipping."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import urllib.request
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TEST_JRE_IMAGE = os.environ.get("A2C_TEST_JRE_IMAGE", "a2c-test/jre17:latest")
REQUIRE = os.environ.get("A2C_REQUIRE_SERVICES") == "1"
SAMPLES_STATE_DIR = os.environ.get("A2C_SAMPLES_STATE_DIR", "/tmp/a2c-samples-tests")


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 (the only address tests serve on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Ask loopback directly even if the environment names a proxy.
_loopback = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    """Status and body of a GET to a test's own server (raises on HTTP errors, like urlopen)."""
    with _loopback.open(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def missing(what: str, how: str) -> None:
    """Skip locally, fail in CI."""
    message = f"{what} is not available ({how})"
    if REQUIRE:
        pytest.fail(message + "; A2C_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def load_script(path: Path, name: str):
    """Import a stand-alone script (scripts/, fixtures/ generators), which are not packages."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def load_samples_module():
    return load_script(ROOT / "scripts" / "samples.py", "a2c_samples")


def load_make_hostile():
    return load_script(FIXTURES / "hostile" / "make_hostile.py", "make_hostile")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite fixtures/expected/ from the current output.")


@pytest.fixture
def golden(request):
    """Compare generated text with fixtures/expected/<name>; --update-golden rewrites it on purpose."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = FIXTURES / "expected" / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert path.exists(), f"no golden file {path}; run pytest --update-golden and review the diff"
        assert text == path.read_text(), f"{name} differs from its golden file; review, then pytest --update-golden"

    return check


@pytest.fixture(scope="session")
def docker_client():
    try:
        import docker

        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        missing("the Docker engine", f"{exc}; run scripts/setup.sh")
    yield client
    client.close()


@pytest.fixture(scope="session")
def jre_image(docker_client):
    try:
        docker_client.images.get(TEST_JRE_IMAGE)
    except Exception:  # noqa: BLE001
        missing(f"the local JRE base image {TEST_JRE_IMAGE}", "run scripts/setup.sh")
    return TEST_JRE_IMAGE


@pytest.fixture(scope="session")
def samples():
    """The real sample servers (Tomcat 10 with hello.war, hello-boot.jar), started once per session."""
    if os.geteuid() != 0 or not Path("/usr/share/tomcat10/bin/catalina.sh").exists():
        missing("the sample application servers", "needs root and Debian's tomcat10; run scripts/setup.sh")
    module = load_samples_module()
    try:
        state = module.start_samples(SAMPLES_STATE_DIR)
    except Exception as exc:  # noqa: BLE001
        missing("the sample application servers", str(exc))
    yield state
    module.stop_samples(SAMPLES_STATE_DIR)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """An empty workspace and config file, used through the environment like a user would."""
    ws = tmp_path / "ws"
    monkeypatch.setenv("A2C_WORKSPACE", str(ws))
    monkeypatch.setenv("A2C_CONFIG", str(tmp_path / "config.json"))
    return ws


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.exit_code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"exit {self.exit_code}\nstdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"


@pytest.fixture
def run_a2c(workspace):
    """Run the installed CLI as a user would: a subprocess with the test's environment."""

    def run(*args: str, env: dict | None = None, timeout: float = 600, input: str | None = None) -> CliResult:
        full_env = {**os.environ, **(env or {})}
        full_env = {k: v for k, v in full_env.items() if v is not None}  # None removes a variable
        proc = subprocess.run([sys.executable, "-m", "a2c", *args], capture_output=True, text=True, env=full_env,
                              timeout=timeout, input=input)
        return CliResult(proc)

    return run
