"""ARM64 tasks for an image built only for amd64 are refused before anything is written or pushed
(the real engine reports the local image's architecture)."""

from __future__ import annotations

import pytest

from a2c.env import Environment
from a2c.errors import InvalidFile
from a2c.steps.app_deployment import check_architecture
from a2c.workspace import Workspace
from tests.conftest import missing

BUSYBOX = "a2c-test/busybox:latest"


def test_an_image_of_another_architecture_is_refused_with_the_way_out(docker_client, tmp_path):
    try:
        built = docker_client.images.get(BUSYBOX).attrs["Architecture"]
    except Exception:  # noqa: BLE001
        missing(f"the local image {BUSYBOX}", "run scripts/setup.sh")
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    other = "ARM64" if built == "amd64" else "X86_64"
    same = "X86_64" if built == "amd64" else "ARM64"
    check_architecture(env, {"imageName": BUSYBOX, "ecsParameters": {"cpuArchitecture": same}}, "deployment.json")
    with pytest.raises(InvalidFile) as refusal:
        check_architecture(env, {"imageName": BUSYBOX, "ecsParameters": {"cpuArchitecture": other}}, "deployment.json")
    assert "$.ecsParameters.cpuArchitecture" in refusal.value.message and f"built for {built} only" in refusal.value.message
    assert f'Set it to "{same}"' in refusal.value.hint
    # An image this engine does not have (built elsewhere) is not judged.
    check_architecture(env, {"imageName": "a2c-test/not-here:1", "ecsParameters": {"cpuArchitecture": other}}, "x")
