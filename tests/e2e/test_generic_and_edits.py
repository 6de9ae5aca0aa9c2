"""A plain java process (process mode) through containerize, and the user's hand edits kept."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_local_host import _start, plain_java_classes  # noqa: F401 - fixture

from tests.conftest import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]


SECRET = "hunter2-a2c-canary"


@pytest.fixture
def plain_java_app(plain_java_classes, tmp_path, run_a2c):  # noqa: F811
    port = free_port()
    # Secrets on the command line and in the environment, as legacy services often have them.
    proc = _start(plain_java_classes, port, tmp_path, java_options=(f"-Ddb.password={SECRET}",),
                  env={"PAYMENT_API_TOKEN": SECRET, "SPRING_PROFILES_ACTIVE": "prod"})
    try:
        inventory = run_a2c("--json", "inventory").json()
        app_id = next(k for k, v in inventory.items() if v["processId"] == proc.pid)
        yield app_id, port
    finally:
        proc.kill()
        proc.wait()


def test_plain_java_process_mode_runs(plain_java_app, run_a2c, workspace, jre_image, docker_client):
    app_id, port = plain_java_app
    assert app_id.startswith("java-generic-")
    assert run_a2c("analyze", "--application-id", app_id).exit_code == 0
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    assert analysis["containerParameters"]["applicationMode"] is False
    assert analysis["containerParameters"]["applicationPort"] == port
    result = run_a2c("--json", "containerize", "--application-id", app_id, "--base-image", jre_image)
    assert result.exit_code == 0, result
    assert result.json()["validation"]["status"] == 200
    # Process mode copies what the command line names, not the disk.
    assert result.json()["contextFiles"] < 10
    # No secret anywhere: not in analysis.json, the artifacts, or any layer of the image.
    for path in (workspace / app_id).rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
    image = b"".join(docker_client.images.get(result.json()["image"]).save())
    assert SECRET.encode() not in image
    entrypoint = (workspace / app_id / "Artifacts" / "a2c" / "entrypoint.sh").read_text()
    assert "${A2C_SECRET_DB_PASSWORD}" in entrypoint
    environment = analysis["containerParameters"]["environment"]
    assert environment["SPRING_PROFILES_ACTIVE"] == "prod" and "PAYMENT_API_TOKEN" not in environment


def test_hand_edited_dockerfile_is_kept_by_build_only(plain_java_app, run_a2c, workspace, jre_image, docker_client):
    app_id, _ = plain_java_app
    assert run_a2c("analyze", "--application-id", app_id).exit_code == 0
    first = run_a2c("containerize", "--application-id", app_id, "--base-image", jre_image, "--no-validate")
    assert first.exit_code == 0, first
    dockerfile = workspace / app_id / "Artifacts" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("USER 10001:0", 'LABEL edited.by="hand"\nUSER 10001:0'))

    rebuilt = run_a2c("--json", "containerize", "--application-id", app_id, "--build-only")
    assert rebuilt.exit_code == 0, rebuilt
    assert "Dockerfile" in rebuilt.json()["keptEdited"]
    assert docker_client.images.get(rebuilt.json()["image"]).labels["edited.by"] == "hand"
    # A normal run keeps the edit too (and says so), instead of overwriting the user's work.
    again = run_a2c("containerize", "--application-id", app_id, "--no-validate")
    assert again.exit_code == 0, again
    assert "edited by hand" in again.stderr
    assert 'edited.by="hand"' in dockerfile.read_text()


def test_application_that_stopped_before_analyze(plain_java_classes, tmp_path, run_a2c):  # noqa: F811
    port = free_port()
    proc = _start(plain_java_classes, port, tmp_path)
    try:
        inventory = run_a2c("--json", "inventory").json()
        app_id = next(k for k, v in inventory.items() if v["processId"] == proc.pid)
    finally:
        proc.kill()
        proc.wait()
    result = run_a2c("analyze", "--application-id", app_id)
    assert result.exit_code == 4, result
    assert f"application {app_id} is not running" in result.stderr and "Hint: Start the application" in result.stderr
