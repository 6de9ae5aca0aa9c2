"""--export-context: the build context written to a folder (or one tar) holds what the stream
carries, with the metadata the stream writes, so `docker build DIR` builds the same layers."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from a2c.errors import UsageError
from a2c.hosts.local import LocalHost
from a2c.images import export as export_module
from a2c.images.export import export_context
from a2c.images.layers import ContextWriter, MADE_AT
from a2c.model import BuildPlan, CopyLayer

from tests.conftest import FIXTURES

ARTIFACTS = {"Dockerfile": b"FROM scratch\nCOPY layers/application/ /\n", "a2c/entrypoint.sh": b"#!/bin/sh\n"}


@pytest.fixture
def app(tmp_path):
    """An application folder with the cases the stream treats specially."""
    root = tmp_path / "host" / "app"
    (root / "lib").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "data").mkdir()
    (root / "app.jar").write_bytes(b"jar bytes")
    (root / "private.properties").write_text("a=b\n")
    os.chmod(root / "private.properties", 0o600)  # the stream makes it 0644: a link cannot
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o755)
    (root / "logs" / "out.log").write_text("log\n")
    (root / "data" / "state.db").write_bytes(b"state")
    (root / "lib" / "alias.jar").symlink_to("../app.jar")
    (root / ".ssh").mkdir()
    (root / ".ssh" / "id_rsa").write_text("-----BEGIN KEY-----\n")
    # sub-second: the stream keeps whole seconds, as Docker's layers do, so a link still agrees
    os.utime(root / "app.jar", (1_600_000_000.75, 1_600_000_000.75))
    return root


def _plan(app: Path) -> BuildPlan:
    layer = CopyLayer("application", (str(app),), excludes=(str(app / "logs"),))
    return BuildPlan(app_id="java-generic-00000000", base_image="eclipse-temurin:17-jre", layers=(layer,),
                     entrypoint=("${JAVA}", "-jar", "app.jar"), writable_dirs=(str(app / "data"),),
                     generated={str(app / "conf" / "made.xml"): b"<made/>\n"})


def _writer(app: Path) -> ContextWriter:
    return ContextWriter(LocalHost(), _plan(app), ARTIFACTS)


def _members(data: bytes) -> dict[str, tuple]:
    """name -> (kind, mode, mtime, content or link target), as `docker build` would unpack them."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for m in tar.getmembers():
            content = tar.extractfile(m).read() if m.isfile() else m.linkname
            out[m.name.rstrip("/")] = ("dir" if m.isdir() else "link" if m.issym() else "file",
                                       m.mode if not m.issym() else 0, int(m.mtime), content)
    return out


def _folder(root: Path, metadata: bool = False) -> dict[str, tuple]:
    """name -> (kind, mode, mtime, content or link target); a2c's .a2c/ metadata folder and a
    checkout's .git only when asked."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        name = str(path.relative_to(root))
        if name.split("/")[0] == ".git" or (name.split("/")[0] == ".a2c" and not metadata):
            continue
        if path.is_symlink():
            out[name] = ("link", 0, int(st.st_mtime), os.readlink(path))
        elif path.is_dir():
            out[name] = ("dir", st.st_mode & 0o7777, int(st.st_mtime), "")
        else:
            out[name] = ("file", st.st_mode & 0o7777, int(st.st_mtime), path.read_bytes())
    return out


def _same_tree(folder: dict[str, tuple], stream: dict[str, tuple]) -> None:
    """Every streamed member is in the folder as streamed; the folder adds only the folders the
    stream leaves implicit (made 0755, at a2c's fixed time)."""
    for name, member in stream.items():
        assert folder.get(name) == member, name
    for name in set(folder) - set(stream):
        assert folder[name] == ("dir", 0o755, MADE_AT, ""), name


@pytest.mark.parametrize("mode", ["link", "copy"])
def test_the_folder_holds_what_the_stream_carries(app, tmp_path, mode):
    stream = _members(b"".join(_writer(app)))
    result = export_context(_writer(app), tmp_path / "context", mode)
    _same_tree(_folder(tmp_path / "context"), stream)
    assert (tmp_path / "context" / "Dockerfile").read_bytes() == ARTIFACTS["Dockerfile"]
    assert not any("id_rsa" in name or "out.log" in name for name in _folder(tmp_path / "context"))
    assert result.files == 4 and result.linked + result.copied == result.files  # made files are not counted
    assert result.to_json() == {"path": str(tmp_path / "context"), "mode": mode, "files": 4, "bytes": 28,
                                "linked": result.linked, "copied": result.copied}


def test_link_mode_links_what_it_can_and_copies_what_the_image_changes(app, tmp_path):
    result = export_context(_writer(app), tmp_path / "context", "link")
    inside = tmp_path / "context" / f"layers/application{app}"
    assert (inside / "run.sh").stat().st_ino == (app / "run.sh").stat().st_ino
    assert (inside / "private.properties").stat().st_ino != (app / "private.properties").stat().st_ino
    assert (inside / "private.properties").stat().st_mode & 0o777 == 0o644
    assert (app / "private.properties").stat().st_mode & 0o777 == 0o600  # the host file is never changed
    assert (inside / "app.jar").stat().st_ino == (app / "app.jar").stat().st_ino
    assert (inside / "data" / "state.db").stat().st_mode & 0o777 == 0o664  # group write, as in the stream: a copy
    assert result.copied == 2 and result.linked == 2


def test_link_falls_back_to_a_copy_across_devices(app, tmp_path, monkeypatch):
    def cross_device(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(export_module.os, "link", cross_device)
    stream = _members(b"".join(_writer(app)))
    result = export_context(_writer(app), tmp_path / "context", "link")
    assert result.linked == 0 and result.copied == result.files == 4
    _same_tree(_folder(tmp_path / "context"), stream)


def test_tar_mode_is_the_stream_byte_for_byte(app, tmp_path):
    result = export_context(_writer(app), tmp_path / "context.tar", "tar")
    assert (tmp_path / "context.tar").read_bytes() == b"".join(_writer(app))
    assert result.files == 4 and result.linked == result.copied == 0


def test_a_non_empty_folder_is_refused_unless_forced(app, tmp_path):
    target = tmp_path / "context"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        export_context(_writer(app), target, "copy")
    assert (target / "keep.txt").read_text() == "mine"
    export_context(_writer(app), target, "copy", force=True)
    assert not (target / "keep.txt").exists() and (target / "Dockerfile").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp sibling left


def test_an_empty_folder_is_used(app, tmp_path):
    (tmp_path / "context").mkdir()
    export_context(_writer(app), tmp_path / "context", "copy")
    assert (tmp_path / "context" / "Dockerfile").exists()


def test_an_interrupted_export_leaves_nothing(app, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export_module, "_copy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_context(_writer(app), tmp_path / "context", "copy")
    assert list(tmp_path.iterdir()) == [tmp_path / "host"]


def test_a_folder_overlapping_the_copied_files_is_refused(app):
    with pytest.raises(UsageError, match="overlaps"):
        export_context(_writer(app), app / "context", "copy")
    with pytest.raises(UsageError, match="overlaps"):  # --force would remove the application
        export_context(_writer(app), app.parent, "copy", force=True)
    assert (app / "app.jar").exists()


def test_names_that_leave_the_folder_or_pass_a_link_are_skipped(app, tmp_path):
    plan = _plan(app).replace(symlinks={"/opt/conf": "/etc", "/opt/conf/y": "z"}, generated={"/../../escape": b"x"})
    result = export_context(ContextWriter(LocalHost(), plan, ARTIFACTS), tmp_path / "context", "copy")
    assert set(result.skipped) == {"generated/../../escape", "generated/opt/conf/y"}
    assert not (tmp_path / "escape").exists() and os.readlink(tmp_path / "context" / "generated/opt/conf") == "/etc"


def test_the_command_exports_with_artifacts_only(tmp_path):
    """The CLI end to end on a snapshot, without Docker: the result names the folder it wrote."""
    snapshot, app_id = FIXTURES / "snapshots" / "tomcat-host", "java-tomcat-1dd8e7ba"
    env = {**os.environ, "A2C_WORKSPACE": str(tmp_path / "ws"), "A2C_CONFIG": str(tmp_path / "config.json")}

    def a2c(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "a2c", *args], capture_output=True, text=True, env=env, timeout=300)

    for args in (("inventory", "--snapshot", str(snapshot)), ("analyze", "--snapshot", str(snapshot), "--application-id", app_id)):
        assert a2c(*args).returncode == 0
    base = ("containerize", "--snapshot", str(snapshot), "--application-id", app_id, "--artifacts-only")
    proc = a2c("--json", *base, "--export-context", str(tmp_path / "context"))
    assert proc.returncode == 0, proc.stderr
    exported = json.loads(proc.stdout)["exportedContext"]
    assert exported["path"] == str(tmp_path / "context") and exported["mode"] == "link" and exported["files"] > 0
    assert exported["linked"] + exported["copied"] == exported["files"]
    dockerfile = (tmp_path / "context" / "Dockerfile").read_text()
    assert dockerfile == (tmp_path / "ws" / app_id / "Artifacts" / "Dockerfile").read_text()
    assert (tmp_path / "context" / "layers").is_dir() and (tmp_path / "context" / "support" / "a2c" / "entrypoint.sh").exists()
    again = a2c(*base, "--export-context", str(tmp_path / "context"))
    assert again.returncode == 2 and "not empty" in again.stderr
    forced = a2c(*base, "--export-context", str(tmp_path / "context"), "--export-mode", "copy", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Exported the build context" in forced.stdout + forced.stderr
    assert f"docker build {tmp_path / 'context'}" in forced.stdout + forced.stderr
    assert a2c(*base, "--export-mode", "tar").returncode == 2  # --export-mode without --export-context


def test_a_git_checkout_of_the_folder_gets_its_metadata_back_from_the_restore_script(app, tmp_path):
    """Git keeps no empty folder, no mode but 644/755 and no time; the manifest and script the
    export writes in .a2c/ give a real clone back every folder, mode and time of the export."""
    import shutil
    import subprocess

    folder = tmp_path / "context"
    export_context(_writer(app), folder, "copy")
    (folder / "writable" / "var" / "empty").mkdir(parents=True)  # an empty folder, as writable/ holds
    os.chmod(folder / "writable" / "var" / "empty", 0o775)
    os.utime(folder / "writable" / "var" / "empty", (MADE_AT, MADE_AT))
    manifest = json.loads((folder / ".a2c" / "context-metadata.json").read_text())
    manifest["entries"] += [["dir", "writable", 0o755, MADE_AT], ["dir", "writable/var", 0o755, MADE_AT],
                            ["dir", "writable/var/empty", 0o775, MADE_AT]]
    (folder / ".a2c" / "context-metadata.json").write_text(json.dumps(manifest))
    for name in ("writable/var", "writable"):
        os.utime(folder / name, (MADE_AT, MADE_AT))
    expected = _folder(folder)
    assert (folder / ".a2c" / "restore-metadata.py").stat().st_mode & 0o777 == 0o755

    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "context"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(folder), str(clone)], check=True, capture_output=True)
    shutil.rmtree(folder / ".git")
    lost = _folder(clone)
    assert lost != expected and "writable/var/empty" not in lost  # what Git dropped

    done = subprocess.run([sys.executable, str(clone / ".a2c" / "restore-metadata.py")], capture_output=True,
                          text=True, check=True)
    assert "restored the metadata" in done.stdout
    assert _folder(clone) == expected


def test_the_restore_script_never_leaves_its_folder(tmp_path):
    """A manifest naming '..', an absolute path or a path through a link changes nothing outside."""
    from a2c.images import restore_metadata

    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / ".a2c").mkdir(parents=True)
    outside.mkdir()
    (outside / "f").write_text("x")
    os.chmod(outside / "f", 0o600)
    (root / "link").symlink_to(outside)
    entries = [["file", "../outside/f", 0o777, 0], ["file", str(outside / "f"), 0o777, 0],
               ["file", "link/f", 0o777, 0], ["dir", "link/new", 0o777, 0]]
    (root / ".a2c" / "context-metadata.json").write_text(json.dumps({"version": 1, "entries": entries}))
    assert restore_metadata.restore(str(root)) == 0
    assert (outside / "f").stat().st_mode & 0o777 == 0o600 and not (outside / "new").exists()
