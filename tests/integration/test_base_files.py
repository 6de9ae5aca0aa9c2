"""Opened files the base image already holds byte for byte are not copied again
(a2c/images/basefiles.py through DockerBuilder.prepare and the real engine's archive API)."""

from __future__ import annotations

import io
import tarfile

import pytest

from a2c.env import Environment
from a2c.hosts.local import LocalHost
from a2c.images.docker import DockerBuilder
from a2c.model import BuildPlan, CopyLayer
from a2c.model.plan import OPENED_LAYER
from a2c.workspace import Workspace
from tests.conftest import missing

BUSYBOX = "a2c-test/busybox:latest"


@pytest.fixture
def base_with_files(docker_client, tmp_path):
    """A base image holding tmp_path/same.jar as on the host, and tmp_path/other.jar with other bytes."""
    try:
        docker_client.images.get(BUSYBOX)
    except Exception:  # noqa: BLE001
        missing(f"the local image {BUSYBOX}", "run scripts/setup.sh")
    (tmp_path / "same.jar").write_bytes(b"PK same bytes" * 1000)
    (tmp_path / "other.jar").write_bytes(b"PK host bytes" * 1000)
    (tmp_path / "absent.jar").write_bytes(b"PK only here")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("same.jar", (tmp_path / "same.jar").read_bytes())
        add("other.jar", b"PK base bytes" * 1000)  # same size, other content
        add("Dockerfile", f"FROM {BUSYBOX}\nCOPY same.jar {tmp_path}/same.jar\nCOPY other.jar {tmp_path}/other.jar\n".encode())
    context.seek(0)
    tag = f"a2c-test/basefiles:{tmp_path.name.lower()}"
    docker_client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    yield tag
    docker_client.images.remove(tag, force=True)


def test_only_the_identical_file_is_left_to_the_base(base_with_files, tmp_path):
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    paths = tuple(str(tmp_path / n) for n in ("same.jar", "other.jar", "absent.jar"))
    plan = BuildPlan("a", base_with_files, (CopyLayer(OPENED_LAYER, paths), CopyLayer("application", (str(tmp_path),))), ())
    prepared = DockerBuilder(env).prepare(plan, LocalHost())
    assert prepared.base_image.startswith(("a2c-test/basefiles", "sha256:")) or "@sha256:" in prepared.base_image
    assert prepared.layers[0].name == OPENED_LAYER
    assert prepared.layers[0].paths == (str(tmp_path / "other.jar"), str(tmp_path / "absent.jar"))
    assert prepared.layers[1] == plan.layers[1]  # the application's own layer is never pruned


def test_a_layer_left_empty_goes_and_an_image_without_the_files_changes_nothing(base_with_files, tmp_path):
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    only_same = BuildPlan("a", base_with_files, (CopyLayer(OPENED_LAYER, (str(tmp_path / "same.jar"),)),
                                                 CopyLayer("application", ("/srv/app",))), ())
    assert [layer.name for layer in DockerBuilder(env).prepare(only_same, LocalHost()).layers] == ["application"]
    on_busybox = only_same.replace(base_image=BUSYBOX)
    assert DockerBuilder(env).prepare(on_busybox, LocalHost()).layers == on_busybox.layers
