"""The Jetty analyzer against a real Jetty: Debian's jetty9 (9.4) serving a private jetty.base on
loopback. Discovery and analysis through LocalHost, then the whole CLI flow: inventory -> analyze
-> containerize (built, run, answering 200) -> ECS template that passes cfn-lint.

The CLI test needs ``a2c.analyzers.java.jetty:JettyAnalyzer`` in the registry's BUILTINS."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.java.jetty import JettyAnalyzer
from a2c.analyzers.registry import Registry
from a2c.images.validate import probe
from a2c.steps.inventory import discover
from a2c.hosts.local import LocalHost
from a2c.workspace import validate

from tests.conftest import FIXTURES, missing, free_port, http_get

pytestmark = [pytest.mark.services]

JETTY_HOME = Path("/usr/share/jetty9")
START_TIMEOUT = 60
# Ask loopback directly even if the environment names a proxy.




def _make_base(root: Path, war: Path) -> Path:
    """A private jetty.base with the http and deploy modules, as Jetty's own start.jar writes it
    (offline: the modules come from jetty.home), plus the WAR and a static folder."""
    base = root / "base"
    base.mkdir()
    subprocess.run(["java", "-jar", str(JETTY_HOME / "start.jar"), "--create-startd", "--add-to-start=http,deploy",
                    f"jetty.home={JETTY_HOME}", f"jetty.base={base}"],
                   cwd=base, check=True, capture_output=True, timeout=120)
    assert (base / "start.d" / "http.ini").is_file() and (base / "webapps").is_dir()
    shutil.copy(war, base / "webapps" / "hello-jetty.war")
    (base / "webapps" / "static").mkdir()
    (base / "webapps" / "static" / "index.html").write_text("<html><body>static</body></html>\n")
    return base


@pytest.fixture(scope="module")
def jetty(tmp_path_factory):
    """Jetty 9.4 on a free 127.0.0.1 port, as its own process, stopped (that pid only) at the end."""
    if not (JETTY_HOME / "start.jar").exists() or not shutil.which("java") or not shutil.which("javac"):
        missing("Debian's jetty9 and a JDK", "apt-get install jetty9 openjdk-17-jdk-headless")
    root = tmp_path_factory.mktemp("jetty")
    subprocess.run(["bash", str(FIXTURES / "samples" / "jetty" / "build.sh"), str(root / "build")], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    base = _make_base(root, root / "build" / "hello-jetty.war")
    port = free_port()
    # Like Debian's jetty.sh: home and base as system properties, Jetty's settings as arguments.
    cmd = ["java", f"-Djetty.home={JETTY_HOME}", f"-Djetty.base={base}", "-jar", str(JETTY_HOME / "start.jar"),
           "jetty.http.host=127.0.0.1", f"jetty.http.port={port}"]
    log_path = root / "jetty.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=base, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/hello-jetty/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while probe(url) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Jetty did not answer 200 on {url}:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"pid": proc.pid, "port": port, "base": str(base), "home": str(JETTY_HOME), "url": url}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _jetty_entry(jetty):
    entries = discover(LocalHost(), Registry([JettyAnalyzer()])).entries
    found = [e for e in entries.values() if e.process_id == jetty["pid"]]
    assert found, f"Jetty (pid {jetty['pid']}) not discovered: {entries}"
    return found[0]


def test_local_host_discovery(jetty):
    entry = _jetty_entry(jetty)
    assert entry.application_type == "java-jetty" and entry.analyzer_id == "java-jetty"
    assert entry.identity == f"jetty:{jetty['base']}" and entry.base_dir == jetty["base"]
    assert entry.web_apps == ("hello-jetty", "static")
    assert jetty["port"] in entry.ports


def test_analysis_and_plan_of_the_real_server(jetty):
    host, analyzer = LocalHost(), JettyAnalyzer()
    entry = _jetty_entry(jetty)
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    analysis = build_document(result)
    validate(analysis, "analysis", "analysis.json")
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    dirs = info["AdvancedAppInfo"]["Directories"]
    assert (dirs["home"], dirs["base"]) == (jetty["home"], jetty["base"])
    assert dirs["webapps"] == f"{jetty['base']}/webapps"
    assert info["AdvancedAppInfo"]["version"].startswith("9.4.")
    assert info["AdvancedAppInfo"]["javaMajorVersion"] >= 11
    assert {"http", "deploy"} <= set(info["jetty"]["modules"])
    assert info["jetty"]["iniFiles"] == [f"{jetty['base']}/start.d/deploy.ini", f"{jetty['base']}/start.d/http.ini"]
    assert (info["jetty"]["httpPort"], info["jetty"]["httpPortSource"]) == (jetty["port"], "command line")
    assert params["applicationPort"] == jetty["port"]
    assert params["healthCheckPath"] == "/hello-jetty/"
    assert [f.code for f in result.findings if f.code.startswith("JETTY-")] == ["JETTY-I001"]

    plan = analyzer.plan(analysis, host)
    server = plan.layers[0]
    # Debian links jetty.home/etc to /etc/jetty9 and the jars to /usr/share/java, and its start.jar's
    # manifest Class-Path names /usr/share/java/jetty9-util.jar: without it the container's start.jar fails.
    assert server.paths == (jetty["home"], "/etc/jetty9", "/usr/share/java/jetty9-util.jar")
    assert info["jetty"]["launcherFiles"] == ["/usr/share/java/jetty9-util.jar"]
    assert "/usr/share/java" in server.link_roots
    assert plan.layers[1].paths == (jetty["base"],)
    assert not any("jetty.http.host" in arg for arg in plan.entrypoint)
    assert f"jetty.http.port={jetty['port']}" in plan.entrypoint
    assert plan.generated == {}  # the loopback host is an argument here, not an ini line
    assert plan.writable_dirs == (f"{jetty['base']}/logs",)


# -- the whole CLI flow --------------------------------------------------------------------

def _containerize_and_check(run_a2c, workspace, app_id: str, jre_image: str, docker_client) -> None:
    result = run_a2c("--json", "containerize", "--application-id", app_id, "--base-image", jre_image)
    assert result.exit_code == 0, result
    data = result.json()
    assert data["validation"]["status"] == 200
    image = docker_client.images.get(data["image"])
    config = image.attrs["Config"]
    assert config["User"] == "10001:0"
    assert config["Labels"]["com.a2c.application-id"] == app_id
    # Proof beyond a2c's own probe: run it beside the original and ask for the page.
    params = json.loads((workspace / app_id / "analysis.json").read_text())["containerParameters"]
    port = params["applicationPort"]
    container = docker_client.containers.run(data["image"], detach=True, ports={f"{port}/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        host_port = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"]
        url = f"http://127.0.0.1:{host_port}{params['healthCheckPath']}"
        deadline = time.monotonic() + 90
        while probe(url) != 200 and time.monotonic() < deadline:
            time.sleep(1)
        status, body = http_get(url)
        assert status == 200 and "Hello from hello-jetty" in body, container.logs(tail=50).decode(errors="replace")
    finally:
        container.remove(force=True)


def _generate_and_lint(run_a2c, workspace, app_id: str) -> None:
    if not shutil.which("cfn-lint"):
        missing("cfn-lint", "pip install cfn-lint")
    result = run_a2c("--json", "generate", "app-deployment", "--application-id", app_id)
    assert result.exit_code == 0, result
    template = workspace / app_id / "EcsDeployment" / "ecs-master.yml"
    lint = subprocess.run(["cfn-lint", str(template)], capture_output=True, text=True)
    assert lint.returncode & 2 == 0, lint.stdout + lint.stderr
    assert "AWS::ECS::TaskDefinition" in template.read_text()


@pytest.mark.docker
@pytest.mark.slow
def test_cli_end_to_end(jetty, run_a2c, workspace, jre_image, docker_client):
    result = run_a2c("--json", "inventory")
    assert result.exit_code == 0, result
    found = [k for k, v in result.json().items() if v["applicationType"] == "java-jetty" and v["processId"] == jetty["pid"]]
    assert len(found) == 1, result.stdout[-3000:]
    app_id = found[0]
    assert jetty["port"] in result.json()[app_id]["ports"]

    result = run_a2c("analyze", "--application-id", app_id)
    assert result.exit_code == 0, result
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    assert analysis["containerParameters"]["applicationPort"] == jetty["port"]
    assert analysis["analysisInfo"]["jetty"]["webApps"] == ["hello-jetty", "static"]

    try:
        _containerize_and_check(run_a2c, workspace, app_id, jre_image, docker_client)
        dockerfile = (workspace / app_id / "Artifacts" / "Dockerfile").read_text()
        assert dockerfile.index("COPY layers/server/") < dockerfile.index("COPY layers/application/")
        entrypoint = (workspace / app_id / "Artifacts" / "a2c" / "entrypoint.sh").read_text()
        assert "jetty.http.host" not in entrypoint
        # The original still answers on its own port.
        assert http_get(jetty["url"])[0] == 200
        _generate_and_lint(run_a2c, workspace, app_id)
    finally:
        image = analysis["containerParameters"]["imageRepository"] + ":" + analysis["containerParameters"]["imageTag"]
        try:
            docker_client.images.remove(image)
        except Exception:  # noqa: BLE001 - best effort: the image may not have been built
            pass
