"""The machine a2c runs on: processes through psutil, files through the file system.

This is the only module that imports psutil. Processes vanish and change while we look,
so every per-process read is guarded and a vanished process becomes a note, not a crash.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat as stat_module
from typing import Any, BinaryIO, Iterable

import psutil

from a2c.errors import HostError
from a2c.hosts.base import Host, ProcessFilter
from a2c.model import Connection, FileStat, ProcessInfo, Socket

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)


class LocalHost(Host):
    is_local = True

    def __init__(self) -> None:
        self.name = socket.gethostname() or "localhost"

    # -- processes -------------------------------------------------------------------------
    def scan_processes(self, wanted: ProcessFilter | None = None) -> tuple[list[ProcessInfo], list[str]]:
        found: list[ProcessInfo] = []
        notes: list[str] = []
        for proc in psutil.process_iter():
            if proc.pid == os.getpid():
                continue
            try:
                with proc.oneshot():
                    cmdline = tuple(proc.cmdline())
                    name = proc.name()
                    try:
                        exe = proc.exe()
                    except psutil.AccessDenied:
                        exe = ""
                if wanted is not None and not wanted(name, exe, cmdline):
                    continue
                found.append(self._read(proc))
            except _GONE:
                notes.append(f"process {proc.pid} exited while it was being read; skipped")
            except psutil.AccessDenied:
                notes.append(f"process {proc.pid}: permission denied; skipped (run a2c as root to see it)")
        return found, notes

    def process(self, pid: int) -> ProcessInfo:
        try:
            return self._read(psutil.Process(pid))
        except _GONE as exc:
            raise HostError(
                f"process {pid} is not running",
                "Start the application again, then run `a2c inventory` to refresh the process ids.",
            ) from exc
        except psutil.AccessDenied as exc:
            raise HostError(f"process {pid}: permission denied", "Run a2c as root (sudo).") from exc

    def _read(self, proc: psutil.Process) -> ProcessInfo:
        with proc.oneshot():
            cmdline = tuple(proc.cmdline())
            exe = _guard(proc.exe, "")
            cwd = _guard(proc.cwd, "")
            environ = _guard(proc.environ, {})
            username = _guard(proc.username, "")
            uids = _guard(proc.uids, None)
            gids = _guard(proc.gids, None)
            ppid = _guard(proc.ppid, 0)
            create_time = _guard(proc.create_time, 0.0)
            conns = _guard(lambda: _net_connections(proc), [])
            open_files = _guard(lambda: tuple(sorted({f.path for f in proc.open_files()})), ())
        listening: list[Socket] = []
        connections: list[Connection] = []
        for conn in conns:
            if conn.status == psutil.CONN_LISTEN and conn.laddr:
                proto = "tcp6" if conn.family == socket.AF_INET6 else "tcp"
                listening.append(Socket(port=conn.laddr.port, address=conn.laddr.ip, protocol=proto))
            elif conn.status == psutil.CONN_ESTABLISHED and conn.raddr:
                connections.append(Connection(conn.raddr.ip, conn.raddr.port, conn.laddr.port if conn.laddr else 0))
        return ProcessInfo(
            pid=proc.pid,
            cmdline=cmdline,
            exe=exe,
            cwd=cwd,
            environ=dict(environ),
            username=username,
            uid=uids.real if uids else -1,
            gid=gids.real if gids else -1,
            ppid=ppid,
            create_time=create_time,
            listening=tuple(sorted(set(listening), key=lambda s: (s.port, s.protocol, s.address))),
            connections=tuple(connections),
            open_files=open_files,
        )

    def user_name(self, uid: int) -> str:
        try:
            return pwd.getpwuid(uid).pw_name
        except (KeyError, OverflowError):
            return ""

    # -- files -----------------------------------------------------------------------------
    # Paths come from host files too: one with a NUL, or a lone surrogate from a \\uD800 escape
    # that no file name can hold, makes os raise ValueError. No such file can exist.
    def lstat(self, path: str) -> FileStat | None:
        try:
            st = os.lstat(path)
        except (FileNotFoundError, ValueError):
            return None
        except OSError as exc:
            raise HostError(f"cannot read {path}: {exc.strerror}", "Run a2c as root or check permissions.") from exc
        return _file_stat(path, st, os.readlink(path) if stat_module.S_ISLNK(st.st_mode) else "")

    def realpath(self, path: str) -> str:
        try:
            return os.path.realpath(path, strict=False)
        except ValueError:  # no file can have this name, so no link leads anywhere from it
            return os.path.normpath(os.path.abspath(path))
        except OSError as exc:  # link loops raise here on 3.11+
            raise HostError(f"cannot resolve {path}: {exc}", "Check the links under that path.") from exc

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except ValueError as exc:
            raise HostError(f"cannot list {path!r}: not a possible file name", "Check the path in the configuration.") from exc
        except OSError as exc:
            raise HostError(f"cannot list {path}: {exc.strerror}", "Run a2c as root or check permissions.") from exc

    def open(self, path: str) -> BinaryIO:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except ValueError as exc:
            raise HostError(f"cannot read {path!r}: not a possible file name", "Check the path in the configuration.") from exc
        except OSError as exc:
            raise HostError(f"cannot read {path}: {exc.strerror}", "Run a2c as root or check permissions.") from exc
        try:
            if not stat_module.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise HostError(f"{path} is not a regular file", "Point a2c at a regular file.")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except OSError as exc:
            raise HostError(f"cannot read {path}: {exc.strerror}", "Run a2c as root or check permissions.") from exc


def _net_connections(proc: psutil.Process) -> list:
    method = getattr(proc, "net_connections", None) or proc.connections
    return method(kind="inet")


def _guard(read, default):
    """One attribute of a process; permission problems give the default, vanishing raises."""
    try:
        return read()
    except psutil.AccessDenied:
        return default
    except OSError:
        return default


def _file_stat(path: str, st: os.stat_result, link_target: str) -> FileStat:
    mode = st.st_mode
    if stat_module.S_ISLNK(mode):
        kind = "link"
    elif stat_module.S_ISDIR(mode):
        kind = "dir"
    elif stat_module.S_ISREG(mode):
        kind = "file"
    else:
        kind = "other"
    return FileStat(
        path=path,
        kind=kind,
        size=st.st_size,
        mode=stat_module.S_IMODE(mode),
        mtime=st.st_mtime,
        uid=st.st_uid,
        gid=st.st_gid,
        link_target=link_target,
    )


def windows_services() -> Iterable[Any]:
    """The Windows service manager's services (psutil stays in this module)."""
    return psutil.win_service_iter()  # type: ignore[attr-defined,unused-ignore]
