"""A host read from a folder: an extracted ``a2c extract`` archive or a test fixture.

Layout: ``host.json`` (host name, os-release, processes) and ``files/`` holding the host's
files at their absolute paths. Links are resolved inside ``files/`` the way the host would
resolve them, so an absolute or ``..`` link can never reach outside the snapshot.
"""

from __future__ import annotations

import os
import posixpath
import stat as stat_module
from typing import Any, BinaryIO

from a2c.errors import HostError, InvalidFile, excerpt
from a2c.hosts.base import Host, ProcessFilter, is_within, parse_os_release
from a2c.hosts.local import _file_stat
from a2c.hosts.snapshot_schema import read_document, validate_document
from a2c.model import Connection, FileStat, ProcessInfo, Socket

_MAX_LINKS = 40


class SnapshotHost(Host):
    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        if not os.path.isdir(self.root):
            raise InvalidFile(f"{excerpt(root)}: no such host snapshot folder",
                              "Name a folder holding host.json and files/ (an unpacked `a2c extract` archive).")
        self.files = os.path.join(self.root, "files")
        if os.path.lexists(self.files) and (os.path.islink(self.files) or not os.path.isdir(self.files)):
            raise InvalidFile(f"{self.files}: not a folder (a link or a file); refusing to read the snapshot",
                              "files/ must be a real folder holding the host's files; write the archive again.")
        meta_path = os.path.join(self.root, "host.json")
        try:
            meta = read_document(meta_path, meta_path)
        except FileNotFoundError:
            meta = {}
        validate_document(meta, "host", meta_path)
        self.meta: dict[str, Any] = meta
        self.name = self.meta.get("hostname", os.path.basename(os.path.abspath(root)))

    def windows_facts(self) -> dict[str, Any]:
        windows = self.meta.get("windows")
        return dict(windows) if isinstance(windows, dict) else {}

    # -- processes -------------------------------------------------------------------------
    def scan_processes(self, wanted: ProcessFilter | None = None) -> tuple[list[ProcessInfo], list[str]]:
        procs = [process_from_json(p) for p in self.meta.get("processes", [])]
        if wanted is not None:
            procs = [p for p in procs if wanted(p.name, p.exe, p.cmdline)]
        return procs, []

    def process(self, pid: int) -> ProcessInfo:
        for proc in self.scan_processes()[0]:
            if proc.pid == pid:
                return proc
        raise HostError(f"process {pid} is not in the snapshot {self.root}", "Run `a2c extract` again.")

    def os_release(self) -> dict[str, str]:
        if "osRelease" in self.meta:
            return dict(self.meta["osRelease"])
        return super().os_release()

    def user_name(self, uid: int) -> str:
        return str(self.meta.get("users", {}).get(str(uid), ""))

    # -- files -----------------------------------------------------------------------------
    # Every operation maps a path the snapshot resolved (no link left but maybe the last
    # component) to a local path, checks with the operating system that its folder really is
    # inside files/, and then acts on it without following a link at the last component. So no
    # link, whatever its target, and no files/ swapped for a link, reaches the real machine.
    def _local(self, path: str) -> str:
        return self.files + posixpath.normpath("/" + path)

    def _contained(self, virtual: str, path: str) -> str:
        """The local path of a resolved snapshot path, once its folder is known to be inside files/."""
        local = self._local(virtual)
        if virtual == "/":
            parent = os.path.realpath(self.root)
            local = os.path.join(parent, "files")
        else:
            parent = os.path.realpath(os.path.dirname(local))
            if not is_within(parent, self.files):
                raise HostError(f"{excerpt(path)} resolves outside the snapshot {self.root}; not read",
                                "The snapshot's links or folders changed while a2c read it; unpack it again.")
            local = os.path.join(parent, os.path.basename(local))
        return local

    def realpath(self, path: str) -> str:
        """Resolve links component by component, rooted at the snapshot."""
        # Not normpath'd first: "link/.." must leave the link's target, as the kernel does.
        pending = [p for p in path.split("/") if p and p != "."]
        resolved = "/"
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == "..":
                resolved = posixpath.dirname(resolved)
                continue
            candidate = posixpath.join(resolved, part)
            target = self._link_target(candidate, path)
            if target is None:
                resolved = candidate
                continue
            hops += 1
            if hops > _MAX_LINKS:
                raise HostError(f"too many levels of links at {excerpt(path)}", "Check for a link loop in the snapshot.")
            if target.startswith("/"):
                resolved = "/"
            pending = [p for p in target.split("/") if p and p != "."] + pending
        return resolved

    def _link_target(self, virtual: str, path: str) -> str | None:
        """The target of the link at a snapshot path whose folder is resolved, or None when it is no link."""
        local = self._local(virtual)
        try:  # ValueError: a NUL or a lone surrogate no file name can hold
            st = os.lstat(local)
        except (OSError, ValueError):
            return None
        if not stat_module.S_ISLNK(st.st_mode):
            return None
        try:
            return os.readlink(self._contained(virtual, path))
        except (OSError, ValueError):
            return None

    def lstat(self, path: str) -> FileStat | None:
        if not _nameable(path):
            return None
        norm = posixpath.normpath("/" + path)
        parent = self.realpath(posixpath.dirname(norm))
        virtual = posixpath.join(parent, posixpath.basename(norm)) if norm != "/" else "/"
        local = self._contained(virtual, path)
        try:
            st = os.lstat(local)
            link = os.readlink(local) if stat_module.S_ISLNK(st.st_mode) else ""
        except (FileNotFoundError, ValueError):  # ValueError: no file can have such a name
            return None
        except OSError as exc:
            raise HostError(f"cannot read {excerpt(path)} in the snapshot: {exc.strerror}") from exc
        return _file_stat(virtual, st, link)

    def _open_fd(self, path: str, flags: int, verb: str) -> int:
        """A descriptor of the snapshot file at ``path``, never through a link on its last step."""
        if not _nameable(path):
            raise HostError(f"cannot {verb} {excerpt(path)} in the snapshot: no file has such a name")
        local = self._contained(self.realpath(path), path)
        try:
            return os.open(local, flags | os.O_NOFOLLOW | os.O_CLOEXEC)
        except ValueError as exc:  # a NUL or a lone surrogate: no file can have such a name
            raise HostError(f"cannot {verb} {excerpt(path)} in the snapshot: no file has such a name") from exc
        except OSError as exc:
            raise HostError(f"cannot {verb} {excerpt(path)} in the snapshot: {exc.strerror}") from exc

    def list_dir(self, path: str) -> list[str]:
        fd = self._open_fd(path, os.O_RDONLY | os.O_DIRECTORY, "list")
        try:
            return sorted(os.listdir(fd))
        except OSError as exc:
            raise HostError(f"cannot list {excerpt(path)} in the snapshot: {exc.strerror}") from exc
        finally:
            os.close(fd)

    def open(self, path: str) -> BinaryIO:
        fd = self._open_fd(path, os.O_RDONLY | os.O_NONBLOCK, "read")
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise HostError(f"{excerpt(path)} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")


def _nameable(path: str) -> bool:
    """Whether a file can have this name: no NUL, and no lone surrogate that the file system
    encoding cannot write (host.json may carry any string; os calls raise ValueError on them)."""
    if "\0" in path:
        return False
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        return False
    return True


def process_to_json(proc: ProcessInfo) -> dict[str, Any]:
    return {
        "pid": proc.pid,
        "cmdline": list(proc.cmdline),
        "exe": proc.exe,
        "cwd": proc.cwd,
        "environ": dict(proc.environ),
        "username": proc.username,
        "uid": proc.uid,
        "gid": proc.gid,
        "ppid": proc.ppid,
        "createTime": proc.create_time,
        "listening": [{"port": s.port, "address": s.address, "protocol": s.protocol} for s in proc.listening],
        "connections": [
            {"remoteAddress": c.remote_address, "remotePort": c.remote_port, "localPort": c.local_port}
            for c in proc.connections
        ],
        "openFiles": list(proc.open_files),
        "writtenFiles": list(proc.written_files),
        "mappedFiles": list(proc.mapped_files),
    }


def process_from_json(data: dict[str, Any]) -> ProcessInfo:
    return ProcessInfo(
        pid=int(data["pid"]),
        cmdline=tuple(data.get("cmdline", ())),
        exe=data.get("exe", ""),
        cwd=data.get("cwd", ""),
        environ=dict(data.get("environ", {})),
        username=data.get("username", ""),
        uid=int(data.get("uid", -1)),
        gid=int(data.get("gid", -1)),
        ppid=int(data.get("ppid", 0)),
        create_time=float(data.get("createTime", 0.0)),
        listening=tuple(Socket(s["port"], s.get("address", ""), s.get("protocol", "tcp")) for s in data.get("listening", [])),
        connections=tuple(
            Connection(c["remoteAddress"], c["remotePort"], c.get("localPort", 0)) for c in data.get("connections", [])
        ),
        open_files=tuple(data.get("openFiles", ())),
        written_files=_strings(data.get("writtenFiles")),
        mapped_files=_strings(data.get("mappedFiles")),
    )


def _strings(value: Any) -> tuple[str, ...]:
    """A list of paths from host.json, or () when it is missing or not one (an older snapshot has
    no writtenFiles; the host schema does not type it, so a hand-edited one may be anything)."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


__all__ = ["SnapshotHost", "process_to_json", "process_from_json", "parse_os_release"]
