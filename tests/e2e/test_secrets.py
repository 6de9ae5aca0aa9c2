"""Secrets planted in every place legacy Java apps keep them: the command line, the environment,
Spring's application.properties/yml and Tomcat's context.xml. None may survive into any image
layer or any artifact; the running container gets them back from its environment."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import load_samples_module, free_port

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.slow]

CANARIES = ["cmdline-canary-1", "env-canary-2", "props-canary-3", "yaml-canary-4", "context-canary-5"]



def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def boot_with_secrets(samples, tmp_path):
    cwd = tmp_path / "shop"
    (cwd / "config").mkdir(parents=True)
    shutil.copy(samples["springboot"]["jar"], cwd / "shop.jar")
    port = free_port()
    (cwd / "application.properties").write_text(
        f"server.port={port}\nspring.datasource.url=jdbc:postgresql://orders-db.internal:5432/orders\n"
        f"spring.datasource.username=shop\nspring.datasource.password={CANARIES[2]}\n")
    (cwd / "config" / "application.yml").write_text(
        f"spring:\n  redis:\n    host: cache.internal\n    password: {CANARIES[3]}\n")
    proc = subprocess.Popen(["java", f"-Dkeystore.password={CANARIES[0]}", "-jar", str(cwd / "shop.jar")], cwd=cwd,
                            env={**os.environ, "PAYMENT_API_KEY": CANARIES[1]},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait(port)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _assert_no_canary(workspace, app_id, docker_client, image):
    for path in (workspace / app_id).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for canary in CANARIES:
                assert canary not in text, f"{canary} in {path}"
    saved = b"".join(docker_client.images.get(image).save())
    for canary in CANARIES:
        assert canary.encode() not in saved, f"{canary} in an image layer of {image}"


def test_spring_boot_secrets_stay_out_and_come_back_at_run_time(boot_with_secrets, run_a2c, workspace, jre_image,
                                                                  docker_client):
    inventory = run_a2c("--json", "inventory").json()
    app_id = next(k for k, v in inventory.items() if v["processId"] == boot_with_secrets.pid)
    assert CANARIES[0] not in json.dumps(inventory)
    assert run_a2c("analyze", "--application-id", app_id).exit_code == 0
    info = json.loads((workspace / app_id / "analysis.json").read_text())["analysisInfo"]
    found = {s["name"]: s["envVar"] for s in info["secrets"]}
    assert {"keystore.password", "PAYMENT_API_KEY", "spring.datasource.password", "spring.redis.password"} <= set(found)
    deps = {(d["kind"], d["host"], d["port"]) for d in info["outboundDependencies"]}
    assert {("jdbc", "orders-db.internal", 5432), ("redis", "cache.internal", 6379)} <= deps

    result = run_a2c("--json", "containerize", "--application-id", app_id, "--base-image", jre_image)
    assert result.exit_code == 0, result
    assert run_a2c("generate", "app-deployment", "--application-id", app_id).exit_code == 0
    image = result.json()["image"]
    _assert_no_canary(workspace, app_id, docker_client, image)
    # The extraction archive for a worker machine holds placeholders too, and still builds.
    extracted = run_a2c("--json", "extract", "--application-id", app_id)
    assert extracted.exit_code == 0, extracted
    archive = Path(extracted.json()["archive"]).read_bytes()
    for canary in CANARIES[1:4]:
        assert canary.encode() not in archive, canary
    worker = workspace.parent / "worker"
    built = run_a2c("--json", "--workspace", str(worker), "containerize", "--input-archive", extracted.json()["archive"],
                    "--base-image", jre_image)
    assert built.exit_code == 0, built
    assert built.json()["validation"]["status"] == 200
    _assert_no_canary(worker, app_id, docker_client, image)
    template = (workspace / app_id / "EcsDeployment" / "ecs-master.yml").read_text()
    assert "A2C_SECRET_SPRING_DATASOURCE_PASSWORD" in template and "PAYMENT_API_KEY" in template

    # At run time the platform supplies the values; the entry script puts them in place.
    container = docker_client.containers.run(image, detach=True, environment={
        "A2C_SECRET_SPRING_DATASOURCE_PASSWORD": "from-ssm-1", "A2C_SECRET_SPRING_REDIS_PASSWORD": "from-ssm-2"})
    try:
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline and "from-ssm-1" not in text:
            time.sleep(0.5)
            text = container.exec_run(["cat", str(boot_with_secrets.args[-1]).rsplit("/", 1)[0] + "/application.properties"]).output.decode()
        assert "spring.datasource.password=from-ssm-1" in text
        yml = container.exec_run(["cat", str(boot_with_secrets.args[-1]).rsplit("/", 1)[0] + "/config/application.yml"])
        assert 'password: "from-ssm-2"' in yml.output.decode()
    finally:
        container.remove(force=True)


def test_tomcat_context_secret_stays_out(tmp_path, run_a2c, workspace, jre_image, docker_client):
    samples = load_samples_module()
    state_dir = tmp_path / "samples"
    state = samples.start_samples(str(state_dir))
    try:
        base = state["tomcat"]["catalina_base"]
        context = Path(base) / "conf" / "context.xml"
        context.write_text(context.read_text().replace("</Context>", (
            '<Resource name="jdbc/orders" auth="Container" type="javax.sql.DataSource" '
            'driverClassName="org.postgresql.Driver" url="jdbc:postgresql://orders-db.internal:5432/orders" '
            f'username="orders" password="{CANARIES[4]}"/>\n</Context>')))
        inventory = run_a2c("--json", "inventory").json()
        app_id = next(k for k, v in inventory.items() if v["processId"] == state["tomcat"]["pid"])
        assert run_a2c("analyze", "--application-id", app_id).exit_code == 0
        info = json.loads((workspace / app_id / "analysis.json").read_text())["analysisInfo"]
        assert info["tomcat"]["resources"][0]["name"] == "jdbc/orders"
        assert any(d["host"] == "orders-db.internal" for d in info["outboundDependencies"])
        result = run_a2c("--json", "containerize", "--application-id", app_id, "--base-image", jre_image)
        assert result.exit_code == 0, result
        _assert_no_canary(workspace, app_id, docker_client, result.json()["image"])
        generated = (workspace / app_id / "Artifacts" / "a2c" / "entrypoint.sh").read_text()
        assert "a2c_render" in generated and "A2C_SECRET_JDBC_ORDERS_PASSWORD" in generated
    finally:
        samples.stop_samples(str(state_dir))
