"""Stand-ins for AWS in the integration tests: moto server for the AWS API, and Debian's
``docker-registry`` (distribution 2.8) with htpasswd basic auth for ECR's registry.

ECR's registry takes basic auth with user ``AWS`` and the decoded authorization token as
password. moto's ``get_authorization_token`` hands out a deterministic token
(``AWS:<account id>-auth-token``); the fixtures do not rely on that: they ask moto for the
token through boto3 first, check that a second call gives the same one (the product makes its
own call later, so a per-call token could not work), and configure the registry's htpasswd
with the password moto issued.

Both services listen on 127.0.0.1 only, on free ports; each fixture stops exactly the process
it started (by its PID) and nothing else. Readiness waits are bounded (READY_TIMEOUT seconds)
and fail with the service's log tail.

Use in a test module::

    from tests.integration.aws_services import ecr_registry, moto, moto_server  # noqa: F401
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable

import pytest

from tests.conftest import missing, free_port

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3  # a free port can be taken between choosing it and the service binding it
TEST_REGION = "us-east-1"
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class ServiceError(RuntimeError):
    """A stand-in service did not start or answer."""



@dataclass
class Process:
    """One process this module started, its log file, and how to stop exactly it."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"

    def stop(self) -> None:
        """SIGTERM to our PID, then SIGKILL after STOP_TIMEOUT; never anything by name."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        self._log.close()


def start_process(name: str, argv: list[str], log_path: Path, probe: Callable[[], bool],
                  timeout: float = READY_TIMEOUT) -> Process:
    """Start ``argv`` (output to ``log_path``) and wait until ``probe()`` is true, at most ``timeout`` s."""
    log = open(log_path, "ab")  # noqa: SIM115 - closed by Process.stop
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as exc:
        log.close()
        raise ServiceError(f"cannot start {name} ({' '.join(argv)}): {exc}") from exc
    process = Process(name, proc, log_path, log)
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        code = proc.poll()
        if code is not None:
            process.stop()
            raise ServiceError(f"{name} exited with status {code} before it was ready; "
                               f"log {log_path}:\n{process.log_tail()}")
        try:
            if probe():
                return process
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            process.stop()
            raise ServiceError(f"{name} (pid {proc.pid}) was not ready within {timeout:.0f} s ({last}); "
                               f"log {log_path}:\n{process.log_tail()}")
        time.sleep(0.1)


def _start_on_free_port(start: Callable[[int], Process]) -> tuple[Process, int]:
    error: ServiceError | None = None
    for _ in range(START_ATTEMPTS):
        port = free_port()
        try:
            return start(port), port
        except ServiceError as exc:
            if "exited with status" not in str(exc):  # only a lost port race is worth another try
                raise
            error = exc
    assert error is not None
    raise error


def _http(method: str, url: str, auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None,
          timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}),
                                     data=b"" if method == "POST" else None)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


# -- moto server -------------------------------------------------------------------------------

@dataclass
class MotoServer:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def reset(self) -> None:
        status, _, body = _http("POST", f"{self.url}/moto-api/reset")
        if status != 200:
            raise ServiceError(f"moto reset answered {status}: {body[:200]!r}")

    def client(self, service: str, region: str = TEST_REGION) -> Any:
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.url, **TEST_CREDENTIALS)

    def stop(self) -> None:
        self.process.stop()


def start_moto(directory: Path) -> MotoServer:
    directory.mkdir(parents=True, exist_ok=True)

    def start(port: int) -> Process:
        def ready() -> bool:
            return _http("GET", f"http://{HOST}:{port}/moto-api/data.json", timeout=2)[0] == 200

        return start_process("moto server", [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                             directory / f"moto-{port}.log", ready)

    process, port = _start_on_free_port(start)
    return MotoServer(process, port)


def ecr_login_from_moto(server: MotoServer) -> tuple[str, str]:
    """(user, password) from moto's ECR authorization token, checked to be stable across calls."""
    ecr = server.client("ecr")
    try:
        tokens = [ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"] for _ in range(2)]
    finally:
        ecr.close()
    if tokens[0] != tokens[1]:
        raise ServiceError("moto issues a different ECR token on each call; the registry's htpasswd cannot match "
                           "the token the product obtains itself")
    user, _, password = base64.b64decode(tokens[0]).decode().partition(":")
    if not user or not password:
        raise ServiceError(f"moto's ECR token does not decode to user:password ({tokens[0]!r})")
    return user, password


# -- registry ----------------------------------------------------------------------------------

REGISTRY_CONFIG = """\
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {host}:{port}
  secret: {secret}
auth:
  htpasswd:
    realm: a2c-test-registry
    path: {htpasswd}
"""


MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"))


@dataclass
class Registry:
    """A distribution registry on 127.0.0.1 that takes basic auth for one user."""

    process: Process
    port: int
    user: str
    password: str

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def get(self, path: str, accept: str | None = None, auth: tuple[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Accept": accept} if accept else {}
        status, _, body = _http("GET", f"{self.url}{path}", auth=auth or (self.user, self.password), headers=headers)
        try:
            return status, json.loads(body or b"null")
        except ValueError:
            return status, body.decode("utf-8", "replace")

    def tags(self, name: str) -> tuple[int, Any]:
        return self.get(f"/v2/{name}/tags/list")

    def manifest_digest(self, name: str, reference: str) -> str:
        """The digest the registry itself names for ``name:reference`` (its Docker-Content-Digest)."""
        status, headers, body = _http("GET", f"{self.url}/v2/{name}/manifests/{reference}",
                                      auth=(self.user, self.password), headers={"Accept": MANIFEST_TYPES})
        if status != 200:
            raise ServiceError(f"the registry has no manifest {name}:{reference} ({status}: {body[:200]!r})")
        return {k.lower(): v for k, v in headers.items()}["docker-content-digest"]

    def stop(self) -> None:
        self.process.stop()


def htpasswd_line(user: str, password: str) -> str:
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        raise ServiceError("htpasswd (apache2-utils) is not installed")
    out = subprocess.run([htpasswd, "-nbB", user, password], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip() + "\n"


def start_registry(directory: Path, user: str, password: str) -> Registry:
    """docker-registry with bcrypt htpasswd auth for ``user``/``password``, storage under ``directory``."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise ServiceError("docker-registry is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    htpasswd = directory / "htpasswd"
    htpasswd.write_text(htpasswd_line(user, password), encoding="utf-8")

    def start(port: int) -> Process:
        config = directory / f"config-{port}.yml"
        config.write_text(REGISTRY_CONFIG.format(root=directory / "data", host=HOST, port=port,
                                                 secret=secrets.token_hex(16), htpasswd=htpasswd), encoding="utf-8")

        def ready() -> bool:
            status, headers, _ = _http("GET", f"http://{HOST}:{port}/v2/", timeout=2)
            challenge = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
            return status == 401 and challenge.lower().startswith("basic")

        return start_process("docker-registry", [binary, "serve", str(config)], directory / f"registry-{port}.log",
                             ready)

    process, port = _start_on_free_port(start)
    registry = Registry(process, port, user, password)
    status, _ = registry.get("/v2/")
    if status != 200:
        registry.stop()
        raise ServiceError(f"docker-registry on {registry.address} refuses its own credentials ({status})")
    return registry


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """One moto server (the AWS API) for the session, on a free 127.0.0.1 port."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        missing("moto server", "pip install -e '.[test]' (moto[server])")
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server):
    """The session's moto server, reset to empty for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture(scope="session")
def ecr_credentials(moto_server):
    """(user, password) that moto's ECR get_authorization_token hands out."""
    return ecr_login_from_moto(moto_server)


def _require_registry_tools() -> None:
    for tool, package in (("docker-registry", "docker-registry"), ("htpasswd", "apache2-utils")):
        if shutil.which(tool) is None:
            missing(f"{tool}", f"apt-get install -y {package}; run scripts/setup.sh")


@pytest.fixture(scope="session")
def ecr_registry(tmp_path_factory, ecr_credentials):
    """ECR's registry: basic auth with exactly the credentials moto's ECR token carries."""
    _require_registry_tools()
    user, password = ecr_credentials
    registry = start_registry(tmp_path_factory.mktemp("ecr-registry"), user, password)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def foreign_registry(tmp_path_factory, ecr_credentials):
    """A registry whose password is NOT the one moto's ECR token carries (wrong-credentials tests)."""
    _require_registry_tools()
    user, password = ecr_credentials
    other = "not-" + password + "-" + secrets.token_hex(4)
    registry = start_registry(tmp_path_factory.mktemp("foreign-registry"), user, other)
    yield registry
    registry.stop()
