"""Proof that an exported build context builds the image a2c builds: a real JVM application is
containerized by a2c (the context streamed to the engine) with --export-context, then a plain
`docker build DIR` of the exported folder (the docker SDK, no a2c) builds it again, without the
cache, and the two images are compared layer by layer (RootFS diff ids).

Every layer a2c's context adds is identical. That holds for /a2c too because the Dockerfile
copies a2c's scripts as ``COPY support/ /`` (support/a2c/… in the context, every folder with a2c's
fixed time): ``COPY a2c/ /a2c/`` would let Docker create /a2c with the build's own clock, so
that layer would differ between any two builds (the last test shows Docker doing so).
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from a2c.env import Environment
from a2c.steps import analyze, containerize, inventory
from a2c.workspace import Workspace
from tests.integration.state_writer import compile_into, running


@pytest.fixture
def live_app(tmp_path):
    """StateWriter (a real JVM) run from its folder, with a few files the stream treats specially."""
    app = tmp_path / "ledger"
    compile_into(app)
    (app / "conf").mkdir()
    (app / "conf" / "ledger.properties").write_text("currency=EUR\n")
    os.chmod(app / "conf" / "ledger.properties", 0o600)  # the image makes it readable: exported as a copy
    (app / "conf" / "current.properties").symlink_to("ledger.properties")
    with running(app) as proc:
        yield proc, app


def _a2c_added(client, image_id: str, base: str) -> list[str]:
    """The diff ids of the layers the Dockerfile adds above its base image."""
    layers = client.images.get(image_id).attrs["RootFS"]["Layers"]
    base_layers = client.images.get(base).attrs["RootFS"]["Layers"]
    assert layers[:len(base_layers)] == base_layers
    return layers[len(base_layers):]


def _a2c_folder(client, image_id: str) -> dict[str, tuple]:
    """What /a2c holds in the image: (kind, mode, mtime, bytes) per member, /a2c's own too."""
    container = client.containers.create(image_id, entrypoint=["/never-started"], command=[])
    try:
        stream, _ = container.get_archive("/a2c")
        data = b"".join(stream)
    finally:
        container.remove(force=True)
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            content = tar.extractfile(member).read() if member.isfile() else member.linkname
            out[member.name] = (member.type, member.mode, member.mtime, content)
    return out


def _build_and_export(env: Environment, app_id: str, jre_image: str, target: Path, mode: str, build_only: bool):
    request = containerize.ContainerizeRequest(app_id=app_id, base_image=jre_image, validate=False,
                                               build_only=build_only, export_context=target, export_mode=mode)
    return containerize.run(env, request)


@pytest.mark.parametrize("mode", ["link", "copy"])
def test_docker_build_of_the_exported_folder_gives_a2cs_layers(live_app, tmp_path, docker_client, jre_image, mode):
    proc, app = live_app
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    listed = inventory.run(env, inventory.InventoryRequest())
    (app_id,) = [k for k, e in listed.entries.items() if e.process_id == proc.pid]
    analyze.run(env, analyze.AnalyzeRequest(app_id))

    target = tmp_path / "context"
    result = _build_and_export(env, app_id, jre_image, target, mode, build_only=False)
    exported = result.exported_context
    assert exported is not None and exported["path"] == str(target) and exported["mode"] == mode
    assert exported["files"] == result.context_files > 0 and exported["linked"] + exported["copied"] == exported["files"]
    if mode == "link":  # the class files are linked; the 0600 properties file is copied, made readable
        assert exported["linked"] >= 1 and exported["copied"] >= 1
        assert (target / f"layers/application{app}/StateWriter.class").stat().st_ino == (app / "StateWriter.class").stat().st_ino
    else:
        assert exported["linked"] == 0
    assert (target / "Dockerfile").read_bytes() == (tmp_path / "ws" / app_id / "Artifacts" / "Dockerfile").read_bytes()

    rebuilt, _ = docker_client.images.build(path=str(target), nocache=True, rm=True, forcerm=True)
    try:
        ours, theirs = _a2c_added(docker_client, result.image_id, jre_image), _a2c_added(docker_client, rebuilt.id, jre_image)
        assert len(ours) == len(theirs)
        assert ours == theirs
        assert _a2c_folder(docker_client, result.image_id) == _a2c_folder(docker_client, rebuilt.id)
    finally:
        docker_client.images.remove(rebuilt.id, force=True)


def test_copy_a2c_layer_differs_between_two_builds_of_one_context(docker_client, jre_image):
    """Why the Dockerfile copies support/ onto /: two uncached builds of one byte-identical
    context give the same layer for a folder copied onto an existing one, another for
    COPY a2c/ /a2c/ (Docker makes the destination folder with its clock)."""
    def context() -> io.BytesIO:
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, body in (("Dockerfile", f"FROM {jre_image}\nCOPY layers/app/ /\nCOPY a2c/ /a2c/\n".encode()),
                               ("layers/app/opt/", None), ("layers/app/opt/f", b"f"), ("a2c/entrypoint.sh", b"#!/bin/sh\n")):
                info = tarfile.TarInfo(name)  # every folder copied below / named, as a2c's stream does
                info.type = tarfile.DIRTYPE if body is None else tarfile.REGTYPE
                info.mode, info.mtime = (0o755 if body is None else 0o644), 315532800
                info.size = len(body or b"")
                tar.addfile(info, io.BytesIO(body) if body else None)
        data.seek(0)
        return data

    built = []
    try:
        for _ in range(2):
            built.append(docker_client.images.build(fileobj=context(), custom_context=True, nocache=True, rm=True)[0])
            time.sleep(1.1)  # /a2c takes the build's clock, in whole seconds
        first, second = (_a2c_added(docker_client, image.id, jre_image) for image in built)
        assert first[0] == second[0] and first[1] != second[1]
    finally:
        for image in built:
            docker_client.images.remove(image.id, force=True)
