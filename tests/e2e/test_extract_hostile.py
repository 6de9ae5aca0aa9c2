"""The CLI over hostile extraction archives, concurrent runs and killed extracts (issue 7)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from a2c.errors import ExitStatus
from tests.unit import hostile_archives as hostile

STATIC = hostile.HERE
APP = hostile.APP_ID
SNAPSHOT = Path(__file__).resolve().parents[2] / "fixtures" / "snapshots" / "tomcat-host"

REFUSED = ["files-link-to-root.tar", "analysis-link.tar", "host-json-link.tar", "manifest-link.tar",
           "analysis-hardlink.tar", "link-order-escape.tar", "sparse-bomb.tar", "app-id-inventory.tar",
           "app-id-log.tar", "app-id-newline.tar", "app-id-nul.tar", "app-id-long.tar", "app-id-mismatch.tar",
           "host-json-list.tar", "host-json-no-pid.tar", "host-json-pid-string.tar"]


@pytest.mark.parametrize("name", REFUSED)
def test_hostile_archive_is_a_clear_error(run_a2c, workspace, name):
    result = run_a2c("containerize", "--input-archive", str(STATIC / name), "--artifacts-only")
    assert result.exit_code == ExitStatus.INVALID_FILE, result
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr.lower()
    assert not (workspace / "inventory.json").is_dir()
    assert not (workspace / "log").is_file()


@pytest.mark.parametrize("name", ["escaping-links.tar", "link-chain.tar", "sparse-small.tar"])
def test_odd_but_safe_archives_build_artifacts(run_a2c, workspace, name):
    result = run_a2c("--json", "containerize", "--input-archive", str(STATIC / name), "--artifacts-only")
    assert result.exit_code == 0, result
    assert (workspace / APP / "Artifacts" / "Dockerfile").is_file()


@pytest.mark.parametrize("value", ["../x", "inventory.json", "log", "a\nb", ".lock", "x" * 200])
@pytest.mark.parametrize("command", ["containerize", "extract"])
def test_bad_application_id_option(run_a2c, workspace, command, value):
    result = run_a2c(command, "--application-id", value)
    assert result.exit_code == ExitStatus.USAGE, result
    assert "--application-id" in result.stderr and "Traceback" not in result.stderr
    assert not (workspace / "inventory.json").exists()


@pytest.mark.slow
def test_concurrent_unpacks_of_one_application(workspace, tmp_path):
    """Ten containerize --input-archive at once on one workspace: all succeed, one after another."""
    env = {**os.environ, "A2C_WORKSPACE": str(workspace)}
    command = [sys.executable, "-m", "a2c", "--json", "containerize", "--input-archive", str(STATIC / "link-chain.tar"),
               "--artifacts-only"]

    def run(_: int) -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(run, range(10)))
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
    app_dir = workspace / APP
    assert sorted(p.name for p in app_dir.iterdir() if p.name.startswith(".")) == [".lock"]  # no staging left
    files = app_dir / "extracted" / "files"
    assert (files / "opt" / "tomcat" / "conf" / "server.xml").is_file()
    assert (files / "usr" / "lib" / "jvm" / "java-17" / "release").is_file()
    assert os.readlink(files / "usr" / "bin" / "jdk") == "../lib/jvm/java-17"


def test_second_run_waits_then_fails_clearly(run_a2c, workspace):
    from a2c.locks import app_lock

    (workspace / APP).mkdir(parents=True)
    with app_lock(workspace / APP, APP):
        result = run_a2c("containerize", "--input-archive", str(STATIC / "valid.tar"), "--artifacts-only",
                         env={"A2C_LOCK_WAIT": "1"})
    assert result.exit_code == ExitStatus.WORKSPACE, result
    assert f"another a2c is working on {APP} (pid {os.getpid()})" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_a2c("containerize", "--input-archive", str(STATIC / "valid.tar"), "--artifacts-only").exit_code == 0


@pytest.mark.slow
def test_partial_archive_of_a_killed_extract_is_removed(run_a2c, workspace, tmp_path):
    snapshot = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, snapshot, symlinks=True)
    big = snapshot / "files" / "opt" / "tomcat" / "webapps" / "ROOT" / "big.bin"
    with open(big, "wb") as handle:  # sparse here, but read (and archived) as 3 GB of zeros
        handle.truncate(3 * 1024**3)
    app_id = "java-tomcat-1dd8e7ba"
    assert run_a2c("inventory", "--snapshot", str(snapshot)).exit_code == 0
    assert run_a2c("analyze", "--application-id", app_id, "--snapshot", str(snapshot)).exit_code == 0
    app_dir = workspace / app_id
    proc = subprocess.Popen([sys.executable, "-m", "a2c", "extract", "--application-id", app_id, "--snapshot",
                             str(snapshot)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        partial: list[Path] = []
        while time.monotonic() < deadline and proc.poll() is None:
            partial = [p for p in app_dir.glob(f".{app_id}-extraction.tar.*") if p.stat().st_size > 1024 * 1024]
            if partial:
                break
            time.sleep(0.05)
        assert partial, "the extract finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert partial[0].exists()
    big.unlink()
    time.sleep(0.05)
    result = run_a2c("extract", "--application-id", app_id, "--snapshot", str(snapshot))
    assert result.exit_code == 0, result
    assert not partial[0].exists()
    assert not list(app_dir.glob(f".{app_id}-extraction.tar.*"))
    assert (app_dir / f"{app_id}-extraction.tar").is_file()


@pytest.mark.docker
@pytest.mark.slow
def test_image_from_hostile_links_holds_no_worker_file(run_a2c, workspace, tmp_path, jre_image, docker_client):
    canary_dir = tmp_path / "worker-etc"
    canary_dir.mkdir()
    (canary_dir / "server.xml").write_text("WORKER-CANARY-IMAGE\n")
    archive = hostile.escaping_links(tmp_path / "a.tar", str(canary_dir))
    result = run_a2c("--json", "containerize", "--input-archive", str(archive), "--base-image", jre_image,
                     "--no-validate")
    assert result.exit_code == 0, result
    image = result.json()["image"]
    try:
        saved = b"".join(docker_client.images.get(image).save())
        assert b"WORKER-CANARY" not in saved
    finally:
        docker_client.images.remove(image, force=True)
