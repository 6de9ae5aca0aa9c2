"""What a Host tells about a machine: processes, their sockets, and file metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Socket:
    """A listening socket of a process."""

    port: int
    address: str = ""
    protocol: str = "tcp"  # "tcp" or "tcp6", as App2Container writes it


@dataclass(frozen=True)
class Connection:
    """An established outbound connection of a process."""

    remote_address: str
    remote_port: int
    local_port: int = 0


@dataclass(frozen=True)
class ProcessInfo:
    """What a host tells about one running process; fields it could not read are empty."""

    pid: int
    cmdline: tuple[str, ...]
    exe: str = ""
    cwd: str = ""
    environ: Mapping[str, str] = field(default_factory=dict)
    username: str = ""
    uid: int = -1
    gid: int = -1
    ppid: int = 0
    create_time: float = 0.0
    listening: tuple[Socket, ...] = ()
    connections: tuple[Connection, ...] = ()
    open_files: tuple[str, ...] = ()
    # The open regular files it holds open for writing (a subset of open_files): where it keeps
    # state that must be writable in the image (a database file, a transaction log).
    written_files: tuple[str, ...] = ()
    # Files mapped into its memory that no descriptor holds (a native library loaded through JNI).
    mapped_files: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return (self.exe or (self.cmdline[0] if self.cmdline else "")).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FileStat:
    """The part of ``lstat`` that a2c needs, from any host."""

    path: str
    kind: str  # "file", "dir", "link" or "other"
    size: int = 0
    mode: int = 0o644
    mtime: float = 0.0
    uid: int = 0
    gid: int = 0
    link_target: str = ""
