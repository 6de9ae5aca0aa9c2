"""Unpacking extraction archives from another machine: nothing in one reaches the worker's own
files, writes outside the workspace, blows up the disk, or crashes a2c (issue 7)."""

from __future__ import annotations

import json
import os
import tarfile
import time
from pathlib import Path

import pytest

from a2c import archive as archive_module
from a2c.errors import A2CError, InvalidFile, WorkspaceError
from a2c.archive import read_archive_app_id, unpack_archive
from a2c.hosts.snapshot import SnapshotHost
from a2c.workspace import Workspace
from tests.unit import hostile_archives as hostile

STATIC = hostile.HERE
APP = hostile.APP_ID


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws").ensure()


@pytest.fixture
def canary(tmp_path):
    """A folder of "the worker's own files" that no archive may read."""
    folder = tmp_path / "worker"
    (folder / "conf").mkdir(parents=True)
    (folder / "server.xml").write_text("WORKER-CANARY-server\n")
    (folder / "conf" / "server.xml").write_text("WORKER-CANARY-conf\n")
    (folder / "hostname").write_text("WORKER-CANARY-hostname\n")
    return folder


def _links_inside(root: Path) -> None:
    """Every link under ``root`` resolves, by the operating system, inside ``root/files``."""
    files = os.path.realpath(root / "files")
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                real = os.path.realpath(path)
                assert real == files or real.startswith(files + "/"), (path, os.readlink(path), real)


def _no_canary_in(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert b"WORKER-CANARY" not in path.read_bytes(), path


def test_committed_fixtures_are_reproducible(tmp_path):
    written = hostile.main(tmp_path)
    for path in written:
        assert path.read_bytes() == (STATIC / path.name).read_bytes(), path.name


def test_valid_archive_unpacks(ws):
    app_id, host = unpack_archive(STATIC / "valid.tar", ws)
    assert app_id == APP and isinstance(host, SnapshotHost)
    assert host.read_text("/opt/tomcat/webapps/ROOT/index.html") == "hello from the archive\n"
    assert ws.read_analysis(APP)["analysisInfo"]["appId"] == APP
    assert not [p for p in ws.app_dir(APP).iterdir() if p.name.startswith(".extracted.")]


# -- links -----------------------------------------------------------------------------------
def test_files_link_to_root_is_refused(ws):
    with pytest.raises(InvalidFile, match="files entry is not a folder") as caught:
        unpack_archive(STATIC / "files-link-to-root.tar", ws)
    assert not (ws.app_dir(APP) / "extracted").exists()
    assert not ws.has(APP, "analysis.json")
    assert "hostname" not in caught.value.message


@pytest.mark.parametrize("name", ["analysis.json", "host.json"])
def test_metadata_link_is_refused_without_echo(ws, canary, tmp_path, name):
    archive = hostile.metadata_link(tmp_path / "a.tar", name, str(canary / "hostname"))
    with pytest.raises(InvalidFile, match=f"{name} is not a regular file") as caught:
        unpack_archive(archive, ws)
    assert "CANARY" not in caught.value.message + caught.value.hint
    _no_canary_in(ws.root)


def test_manifest_link_is_refused_without_echo(ws, canary, tmp_path):
    archive = hostile.metadata_link(tmp_path / "a.tar", "a2c-extraction.json", str(canary / "hostname"))
    with pytest.raises(InvalidFile, match="not a regular file") as caught:
        read_archive_app_id(archive)
    assert "CANARY" not in caught.value.message


def test_metadata_hard_link_is_refused(ws, canary, tmp_path):
    archive = hostile.metadata_hardlink(tmp_path / "a.tar", "analysis.json", str(canary / "hostname"))
    with pytest.raises(InvalidFile, match="not a regular file"):
        unpack_archive(archive, ws)


def test_escaping_links_are_stored_inside(ws, canary, tmp_path):
    archive = hostile.escaping_links(tmp_path / "a.tar", str(canary))
    _, host = unpack_archive(archive, ws)
    root = ws.app_dir(APP) / "extracted"
    _links_inside(root)
    # What the application host meant: the worker's folder path inside the snapshot, which has no such file.
    assert host.realpath("/opt/tomcat/lib") == str(canary)
    assert not host.exists("/opt/tomcat/lib/server.xml")
    assert not host.exists("/opt/tomcat/conf/worker.xml")
    assert host.realpath("/opt/root") == "/"
    assert host.list_dir("/opt/root") == ["opt"]
    with pytest.raises(A2CError):
        host.read_bytes("/opt/tomcat/logs/server.xml")
    # And the operating system, following the stored links, stays in files/ too.
    assert not os.path.exists(root / "files" / "opt" / "tomcat" / "lib" / "server.xml")


def test_link_made_escaping_by_a_later_link_is_refused(ws, tmp_path):
    (tmp_path / "y").write_text("outside\n")
    with pytest.raises(InvalidFile, match="resolves outside files/"):
        unpack_archive(STATIC / "link-order-escape.tar", ws)
    assert not (ws.app_dir(APP) / "extracted").exists()
    assert not [p for p in ws.app_dir(APP).iterdir() if p.name.startswith(".extracted.")]


def test_host_links_keep_their_meaning(ws):
    _, host = unpack_archive(STATIC / "link-chain.tar", ws)
    root = ws.app_dir(APP) / "extracted"
    _links_inside(root)
    jdk = "/usr/lib/jvm/java-17"
    assert host.realpath("/usr/bin/java") == f"{jdk}/bin/java"
    assert host.realpath("/usr/bin/jdk-chain/bin/java") == f"{jdk}/bin/java"
    assert host.read_text("/usr/bin/release") == 'JAVA_VERSION="17"\n'
    assert host.read_text("/usr/bin/too-high") == 'JAVA_VERSION="17"\n'
    assert os.readlink(root / "files" / "usr" / "bin" / "jdk") == "../lib/jvm/java-17"  # kept as it was
    assert host.realpath("/etc") == "/no/such/dir"
    assert host.stat("/usr/bin/loop1") is None


def test_worker_files_never_reach_the_build_context(ws, canary, tmp_path):
    """The issue's case: analysis paths aim at the worker's files; none lands in the context."""
    from a2c.analyzers.registry import load_registry
    from a2c.images.layers import ContextWriter
    from a2c.planning import make_plan

    dirs = {key: str(canary) for key in hostile.DIRECTORIES}
    archive = hostile.write(tmp_path / "a.tar", hostile.metadata(document=hostile.analysis(directories=dirs))
                            + hostile.tomcat_files() + [hostile.symlink_entry(f"files{canary}", "/"),
                                                        hostile.symlink_entry("files/opt/w", str(canary))])
    _, host = unpack_archive(archive, ws)
    plan = make_plan(ws.read_analysis(APP), host, load_registry())
    stream = b"".join(ContextWriter(host, plan, {}))
    assert b"WORKER-CANARY" not in stream
    with pytest.raises(InvalidFile):
        unpack_archive(hostile.files_link_to_root(tmp_path / "b.tar", str(canary)), Workspace(tmp_path / "ws2"))


# -- ids -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "reason"), [
    ("app-id-inventory.tar", "workspace uses"),
    ("app-id-log.tar", "workspace uses"),
    ("app-id-newline.tar", "may hold only"),
    ("app-id-nul.tar", "may hold only"),
    ("app-id-long.tar", "longer than 128 bytes"),
])
def test_bad_application_ids_are_refused(ws, name, reason):
    with pytest.raises(InvalidFile, match=reason) as caught:
        unpack_archive(STATIC / name, ws)
    assert "applicationId" in caught.value.message
    assert len(caught.value.message) < 400
    assert sorted(p.name for p in ws.root.iterdir()) == ["log"]


@pytest.mark.parametrize("app_id", ["../x", "a/b", ".hidden", "", "Java-Tomcat-1", "remote", "x" * 129])
def test_more_bad_ids(ws, tmp_path, app_id):
    with pytest.raises(InvalidFile):
        unpack_archive(hostile.with_app_id(tmp_path / "a.tar", app_id), ws)


@pytest.mark.parametrize("manifest", [[], {"applicationId": 7}, {"applicationId": None}, {}])
def test_manifest_shapes(tmp_path, manifest):
    archive = hostile.write(tmp_path / "a.tar", [hostile.json_entry("a2c-extraction.json", manifest)])
    with pytest.raises(InvalidFile):
        read_archive_app_id(archive)


def test_analysis_id_must_match_the_manifest(ws):
    with pytest.raises(InvalidFile, match="appId is java-tomcat-00000000"):
        unpack_archive(STATIC / "app-id-mismatch.tar", ws)


# -- host.json -------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "where"), [
    ("host-json-list.tar", "host.json: $:"),
    ("host-json-no-pid.tar", "host.json: $.processes[0]: 'pid' is a required property"),
    ("host-json-pid-string.tar", "host.json: $.processes[0].pid:"),
])
def test_bad_host_json_is_refused(ws, name, where):
    with pytest.raises(InvalidFile) as caught:
        unpack_archive(STATIC / name, ws)
    assert where in caught.value.message


def test_deep_host_json(ws, tmp_path):
    deep = hostile.write(tmp_path / "a.tar", hostile.metadata()[:2] + [
        hostile.file_entry("host.json", '{"windows": ' + "[" * 100_000 + "]" * 100_000 + "}")])
    with pytest.raises(InvalidFile, match="host.json"):
        unpack_archive(deep, ws)


# -- size ------------------------------------------------------------------------------------
def test_huge_field_is_not_echoed(ws, tmp_path):
    archive = hostile.huge_field(tmp_path / "a.tar", 50 * 1024 * 1024)
    with pytest.raises(InvalidFile, match="processId") as caught:
        unpack_archive(archive, ws)
    assert len(caught.value.message) < 1000 and len(caught.value.hint) < 1000


def test_sparse_bomb_is_refused_before_writing(ws):
    started = time.monotonic()
    with pytest.raises(InvalidFile, match="unpack to more than"):
        unpack_archive(STATIC / "sparse-bomb.tar", ws)
    assert time.monotonic() - started < 10
    assert _disk_use(ws.root) < 1024 * 1024


def test_sparse_file_keeps_its_holes(ws):
    _, host = unpack_archive(STATIC / "sparse-small.tar", ws)
    local = ws.app_dir(APP) / "extracted" / "files" / "opt" / "tomcat" / "data" / "db.bin"
    st = local.stat()
    assert st.st_size == 40 * 1024 * 1024
    assert st.st_blocks * 512 < 1024 * 1024
    data = host.read_bytes("/opt/tomcat/data/db.bin", limit=64 * 1024 * 1024)
    assert data[4096:4104] == b"page-one" and data[-4:] == b"last" and data[:4096] == b"\0" * 4096


def test_zero_bomb_is_refused_before_writing(ws, tmp_path):
    archive = hostile.zero_bomb(tmp_path / "z.tar.gz", 256 * 1024 * 1024)
    assert archive.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(InvalidFile, match="100 times the archive"):
        unpack_archive(archive, ws)
    assert _disk_use(ws.root) < 1024 * 1024


def test_expansion_floor_lets_small_archives_through(ws, tmp_path):
    archive = hostile.zero_bomb(tmp_path / "z.tar.gz", 8 * 1024 * 1024)  # 1000:1 but under the floor
    unpack_archive(archive, ws)


def _disk_use(folder: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in folder.rglob("*"))


def test_member_count_is_checked_without_keeping_members(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_ARCHIVE_MEMBERS", 2000)
    archive = hostile.many_members(tmp_path / "m.tar.gz", 2500)
    with pytest.raises(InvalidFile, match="more than 2000 entries"):
        unpack_archive(archive, ws)
    assert not (ws.app_dir(APP) / "extracted").exists()
    # refused before any folder was made
    assert not [p for p in ws.app_dir(APP).rglob("d*")]
    monkeypatch.setattr(archive_module, "MAX_ARCHIVE_MEMBERS", 10_000)
    with tarfile.open(archive) as tar:
        for count, _ in enumerate(archive_module._members(tar, archive)):
            assert len(tar.members) == 0
        assert count + 1 == 3 + 2500


def test_truncated_archive(ws, tmp_path):
    data = (STATIC / "valid.tar").read_bytes()
    archive = tmp_path / "cut.tar"
    archive.write_bytes(data[: len(data) // 2 + 100])
    with pytest.raises(InvalidFile):
        unpack_archive(archive, ws)


# -- staging and partial files -----------------------------------------------------------------
def test_stale_staging_folders_are_removed(ws):
    app_dir = ws.app_dir(APP)
    app_dir.mkdir()
    old = [app_dir / ".extracted.partial", app_dir / ".extracted.abc123.partial"]
    for folder in old:
        (folder / "files").mkdir(parents=True)
        os.utime(folder, (time.time() - 3600, time.time() - 3600))
    fresh = app_dir / ".extracted.fresh.partial"  # newer than this process: maybe another a2c's
    fresh.mkdir()
    unpack_archive(STATIC / "valid.tar", ws)
    assert not any(p.exists() for p in old)
    assert fresh.exists()


def test_stale_partial_archives_are_removed(tmp_path):
    from a2c.locks import remove_stale

    folder = tmp_path / "app"
    folder.mkdir()
    stale = folder / ".app-extraction.tar.x1y2"
    stale.write_bytes(b"partial")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = folder / ".app-extraction.tar.z3"
    fresh.write_bytes(b"partial")
    other = folder / ".analysis.json.q.tmp"
    other.write_bytes(b"{}")
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    assert remove_stale(folder, ".app-extraction.tar.", before=time.time() - 60) == [stale.name]
    assert fresh.exists() and other.exists()


def test_replacing_an_earlier_unpack(ws):
    unpack_archive(STATIC / "valid.tar", ws)
    (ws.app_dir(APP) / "extracted" / "files" / "stale-file").write_text("old")
    unpack_archive(STATIC / "sparse-small.tar", ws)
    extracted = ws.app_dir(APP) / "extracted"
    assert not (extracted / "files" / "stale-file").exists()
    assert (extracted / "files" / "opt" / "tomcat" / "data" / "db.bin").exists()
    assert sorted(p.name for p in ws.app_dir(APP).iterdir() if p.name.startswith(".")) == [".lock"]


# -- the lock --------------------------------------------------------------------------------
def test_lock_is_reentrant_and_times_out(tmp_path):
    import subprocess
    import sys

    from a2c.locks import app_lock

    folder = tmp_path / "app"
    with app_lock(folder, "app"):
        with app_lock(folder, "app"):
            pass
        code = ("import sys; from pathlib import Path; from a2c.locks import app_lock\n"
                "from a2c.errors import WorkspaceError\n"
                "try:\n    with app_lock(Path(sys.argv[1]), 'app', wait=0.3): print('got it')\n"
                "except WorkspaceError as e: print(e.message); print(e.hint)\n")
        out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60)
        assert f"another a2c is working on app (pid {os.getpid()})" in out.stdout, out
        assert "A2C_LOCK_WAIT" in out.stdout
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "got it", out


def test_lock_file_link_is_refused(tmp_path):
    from a2c.locks import app_lock

    folder = tmp_path / "app"
    folder.mkdir()
    os.symlink(tmp_path / "elsewhere", folder / ".lock")
    with pytest.raises(WorkspaceError, match="lock file"):
        with app_lock(folder, "app"):
            pass
    assert not (tmp_path / "elsewhere").exists()


def test_unpacked_analysis_in_workspace_is_kept(ws):
    ws.app_dir(APP).mkdir()
    edited = hostile.analysis()
    edited["containerParameters"]["imageTag"] = "edited"
    ws.write_analysis(APP, edited)
    unpack_archive(STATIC / "valid.tar", ws)
    assert json.loads((ws.app_dir(APP) / "analysis.json").read_text())["containerParameters"]["imageTag"] == "edited"
