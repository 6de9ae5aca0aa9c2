"""The build context written where a CI system can build it: a folder, or the one tar a2c streams.

The entries are ContextWriter's own (``entries``), so the folder holds exactly what the stream
carries, under the same rules: excludes, credential stores refused, links kept or followed as
the stream does. A plain ``docker build DIR`` then builds the image a2c builds.

Why the files carry the stream's metadata: Docker's COPY keeps each file's mode and mtime in the
layer, so a folder whose files differ from the stream in either gives other layers. A host file
is hard-linked only when the link shows exactly what the stream writes (the mode the stream
makes readable, the size and time read when the walk saw it); any other is copied and given the
stream's mode and time. A link shares the host file's inode: the folder follows later changes
to the host file, as the stream would read them at the next build.

The folder is written beside the target under a temporary name and renamed at the end, so an
interrupted export leaves nothing half-done at the target.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a2c.errors import UsageError
from a2c.hosts.base import is_within
from a2c.images import restore_metadata
from a2c.images.layers import ContextWriter, Entry, sized_chunks
from a2c.model import json_fields

MODES = ("link", "copy", "tar")
# Beside the context in a folder export: the entries' modes and times, and the script a CI job
# runs to give a Git checkout or an unzipped copy back what those lose.
METADATA_DIR = ".a2c"
METADATA_FILE = restore_metadata.MANIFEST
RESTORE_SCRIPT = "restore-metadata.py"


@dataclass
class ExportedContext:
    """What an export wrote; ``files``/``bytes`` count the host's files, as the build's progress
    does, and ``linked`` + ``copied`` is ``files`` in the folder modes."""

    path: str
    mode: str
    files: int = 0
    bytes: int = 0
    linked: int = 0
    copied: int = 0
    skipped: list[str] = field(default_factory=list)  # names the folder cannot hold safely

    def to_json(self) -> dict[str, Any]:
        data = json_fields(self)
        data.pop("skipped")
        return data


def export_context(writer: ContextWriter, target: Path, mode: str = "link", force: bool = False) -> ExportedContext:
    """Write ``writer``'s context to ``target`` (a folder, or one tar for mode ``tar``)."""
    if mode not in MODES:
        raise UsageError(f"unknown export mode {mode!r}", f"Choose one of {', '.join(MODES)}.")
    target = Path(os.path.abspath(target))
    _check_target(target, writer, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = ExportedContext(path=str(target), mode=mode)
    temp = _temp_sibling(target, directory=mode != "tar")
    try:
        if mode == "tar":
            _write_tar(writer, temp)
        else:
            FolderSink(temp, writer, result, link=mode == "link").write()
        _put_in_place(temp, target)
    except BaseException:  # an interrupt too: nothing half-written stays behind
        _remove(temp)
        raise
    result.files, result.bytes = writer.stats.files, writer.stats.bytes
    return result


def _check_target(target: Path, writer: ContextWriter, force: bool) -> None:
    """Refuse a target that holds something (unless forced), and one overlapping the files the
    walk reads: inside them the export would copy itself, above them --force would remove them."""
    real = os.path.realpath(target)
    for layer in writer.plan.layers:
        for root in layer.paths:
            if is_within(real, root) or is_within(root, real):  # --force would delete the application
                raise UsageError(f"{target} overlaps {root}, which the image copies",
                                 "Export the build context to a folder outside the application's files.")
    if force or not os.path.lexists(target):
        return
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        return
    raise UsageError(f"{target} exists and is not empty; not overwritten",
                     "Choose a new or empty folder, or add --force to replace it.")


def _temp_sibling(target: Path, directory: bool) -> Path:
    prefix = f".{target.name}.a2c-export-"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    fd, name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
    os.close(fd)
    return Path(name)


def _write_tar(writer: ContextWriter, path: Path) -> None:
    """The stream itself, chunk by chunk, into the file."""
    with open(path, "wb") as out:
        for chunk in writer:
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o644)


def _put_in_place(temp: Path, target: Path) -> None:
    """Rename the finished export to ``target``; what stood there (empty, or --force) goes only
    once the new one is in place."""
    if not os.path.lexists(target):
        os.rename(temp, target)
        return
    old = _temp_sibling(target, directory=False)
    os.unlink(old)
    os.rename(target, old)
    os.rename(temp, target)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


class FolderSink:
    """Writes entries under ``root``: folders, files (linked or copied), links. Folders get their
    mode and time last, deepest first, since writing into a folder changes its time (and a
    read-only one would refuse the writes)."""

    def __init__(self, root: Path, writer: ContextWriter, result: ExportedContext, link: bool) -> None:
        self.root = str(root)
        self.writer = writer
        self.result = result
        self.link = link
        self.folders: dict[str, tuple[int, float]] = {}  # relative name -> (mode, mtime)
        self.links: set[str] = set()
        self.inodes: set[tuple[int, int]] = set()
        self.metadata: dict[str, tuple[str, int, int]] = {}  # name -> (kind, mode, mtime), for METADATA

    def write(self) -> None:
        for entry in self.writer.entries():
            name = _relative(entry.name)
            if name is None or name.split("/")[0] == METADATA_DIR or not self._parents_ready(name):
                self.result.skipped.append(entry.name)
                continue
            self._write(name, entry)
            self.metadata.pop(name, None)  # a name the stream gives twice: the later entry, last
            self.metadata[name] = (entry.kind, entry.mode, int(entry.mtime))
        self._finish_folders()
        self._write_metadata()

    def _write_metadata(self) -> None:
        """``.a2c/``: every entry's mode and time, and the script that restores them where a Git
        checkout or a zip lost them (a2c/images/restore_metadata.py)."""
        for name, (mode, mtime) in self.folders.items():
            if name not in self.metadata:  # parents the stream left implicit
                self.metadata[name] = ("dir", mode, int(mtime))
        ordered = sorted(self.metadata.items(), key=lambda item: (item[0].count("/"), item[0]))  # parents first
        entries = [[kind, name, mode, mtime] for name, (kind, mode, mtime) in ordered]
        folder = os.path.join(self.root, METADATA_DIR)
        os.mkdir(folder, 0o755)
        manifest = json.dumps({"version": 1, "entries": entries}, indent=0).encode() + b"\n"
        script = Path(restore_metadata.__file__).read_bytes()
        for name, data, mode in ((METADATA_FILE, manifest, 0o644), (RESTORE_SCRIPT, script, 0o755)):
            path = os.path.join(folder, name)
            with open(path, "xb") as out:
                out.write(data)
                os.fchmod(out.fileno(), mode)
            os.utime(path, (self.writer.made_at,) * 2)
        os.utime(folder, (self.writer.made_at,) * 2)

    def _write(self, name: str, entry: Entry) -> None:
        path = os.path.join(self.root, name)
        if entry.kind == "dir":
            if not os.path.isdir(path) or os.path.islink(path):
                _clear(path)
                self.links.discard(name)
                os.mkdir(path, 0o700)
            self.folders[name] = (entry.mode, entry.mtime)
            return
        _clear(path)
        self.folders.pop(name, None)
        self.links.discard(name)
        if entry.kind == "link":
            os.symlink(entry.linkname, path)
            os.utime(path, (int(entry.mtime),) * 2, follow_symlinks=False)
            self.links.add(name)
        elif entry.source:
            self._host_file(path, entry)
        else:
            self._made_file(path, entry)

    def _parents_ready(self, name: str) -> bool:
        """Create the folders above ``name`` the stream leaves implicit (Docker makes them 0755);
        False when one is a link this export made, which a write must not follow."""
        current = ""
        for part in name.split("/")[:-1]:
            current = f"{current}/{part}" if current else part
            if current in self.links:
                return False
            if current not in self.folders:
                path = os.path.join(self.root, current)
                if not os.path.isdir(path):
                    os.mkdir(path, 0o700)
                self.folders[current] = (0o755, self.writer.made_at)
        return True

    def _made_file(self, path: str, entry: Entry) -> None:
        with open(path, "xb") as out:
            out.write(entry.data or b"")
            os.fchmod(out.fileno(), entry.mode)
        os.utime(path, (int(entry.mtime),) * 2)

    def _host_file(self, path: str, entry: Entry) -> None:
        stream = self.writer.open(entry)
        if stream is None:
            return
        with stream:
            if not (self.link and self._linked(stream, path, entry)):
                _copy(stream, path, entry)
                self.result.copied += 1
        self.writer.counted(entry)

    def _linked(self, stream: Any, path: str, entry: Entry) -> bool:
        """Hard-link the very file the host opened, when the link shows what the stream writes;
        False to copy. The link is made from the name the kernel gives the open file, and kept only
        when it is that file's inode, so the host's own rules for reaching the file hold."""
        try:
            fd = stream.fileno()
            st = os.fstat(fd)
        except (OSError, ValueError):
            return False
        inode = (st.st_dev, st.st_ino)
        if (not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != entry.mode or st.st_size != entry.size
                or int(st.st_mtime) != int(entry.mtime) or inode in self.inodes):
            return False  # a second name for one inode would reach the build as a tar hard link
        try:
            os.link(os.readlink(f"/proc/self/fd/{fd}"), path, follow_symlinks=False)
        except OSError:  # another file system (EXDEV), a link the kernel refuses, no /proc
            return False
        made = os.lstat(path)
        if (made.st_dev, made.st_ino) != inode:  # the name was replaced since the host opened it
            os.unlink(path)
            return False
        self.inodes.add(inode)
        self.result.linked += 1
        return True

    def _finish_folders(self) -> None:
        for name in sorted(self.folders, key=lambda n: n.count("/"), reverse=True):
            mode, mtime = self.folders[name]
            path = os.path.join(self.root, name)
            if os.path.islink(path) or not os.path.isdir(path):
                continue  # replaced by a later entry of another kind
            os.chmod(path, mode)
            os.utime(path, (int(mtime),) * 2)
        os.chmod(self.root, 0o755)


def _copy(stream: Any, path: str, entry: Entry) -> None:
    """The stream's bytes (cut or padded to the size the walk saw), mode and whole-second time."""
    with open(path, "xb") as out:
        for chunk in sized_chunks(stream, entry.size):
            out.write(chunk)
        os.fchmod(out.fileno(), entry.mode)
    os.utime(path, (int(entry.mtime),) * 2)


def _clear(path: str) -> None:
    """Make room for an entry the stream names twice (the tar's later member wins)."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _relative(name: str) -> str | None:
    """The entry's name inside the folder, or None when it would leave it."""
    normal = posixpath.normpath(name.rstrip("/"))
    if not name or normal.startswith("/") or normal in (".", "..") or normal.startswith("../"):
        return None
    return normal


def describe(result: ExportedContext) -> str:
    mib = result.bytes // (1024 * 1024)
    how = f"; {result.linked} linked, {result.copied} copied" if result.mode != "tar" else ""
    return f"Exported the build context to {result.path} ({result.mode}: {result.files} files, {mib} MiB{how})"
