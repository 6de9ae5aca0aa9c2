"""A worker's image (no port, runs until stopped) is validated by starting and staying up; one
that crashes at start fails with its log. Real containers on the engine, built from busybox."""

from __future__ import annotations

import io

import pytest

from a2c.errors import ValidationFailed
from a2c.images import validate
from a2c.progress import Reporter

pytestmark = [pytest.mark.docker]
BUSYBOX = "a2c-test/busybox:latest"


def _image(docker_client, command: str) -> str:
    dockerfile = f'FROM {BUSYBOX}\nCMD ["sh", "-c", {command!r}]\n'.replace("'", '"')
    image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True)
    return image.id


def test_a_worker_that_stays_up_passes_and_one_that_crashes_fails(docker_client, monkeypatch):
    from a2c.gateways.docker_engine import DockerEngine

    monkeypatch.setattr(validate, "WORKER_GRACE_SECONDS", 3.0)
    engine = DockerEngine.connect()
    polling = _image(docker_client, "echo polling orders; sleep 600")
    crashing = _image(docker_client, "echo no such queue >&2; exit 4")
    try:
        result = validate.validate_stays_up(engine, polling, "java-generic-0a1b2c3d", 60, Reporter())
        assert "stayed up" in result.note and "polling orders" in result.note
        with pytest.raises(ValidationFailed) as failed:
            validate.validate_stays_up(engine, crashing, "java-generic-0a1b2c3d", 60, Reporter())
        assert "exited with code 4" in failed.value.message and "no such queue" in failed.value.message
        left = docker_client.containers.list(all=True, filters={"name": "a2c-validate-java-generic-0a1b2c3d"})
        assert left == []
    finally:
        for image in (polling, crashing):
            docker_client.images.remove(image, force=True)
