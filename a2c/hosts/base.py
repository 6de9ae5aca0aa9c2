"""The abstract Host and the helpers every implementation shares."""

from __future__ import annotations

import abc
import posixpath
from typing import Any, BinaryIO, Callable, Iterable

from a2c.errors import HostError
from a2c.model import FileStat, ProcessInfo

# Cheap facts (name, exe, cmdline) -> whether the process is worth reading in full.
ProcessFilter = Callable[[str, str, tuple[str, ...]], bool]

DEFAULT_READ_LIMIT = 16 * 1024 * 1024


class Host(abc.ABC):
    """A machine whose processes and files a2c reads; never writes."""

    name: str = "localhost"
    # True when the host's paths are this machine's own (the a2c workspace may then sit among them).
    is_local: bool = False

    # -- Windows ---------------------------------------------------------------------------
    def windows_facts(self) -> dict[str, Any]:
        """The Windows registry, IIS and service facts (``os``, ``build``, ``services``, ``features``,
        …) of a Windows host; empty on every other host."""
        return {}

    # -- network ---------------------------------------------------------------------------
    def probe_address(self, address: str) -> str | None:
        """The address a2c connects to for a socket the host listens on at ``address`` (to probe the
        original before validating its image), or None when it cannot reach the host's sockets (a
        snapshot, an archive; a remote host until it tunnels). A wildcard bind is reached on
        loopback."""
        import ipaddress
        import socket

        if not self.is_local:
            return None
        if address in ("", "*"):
            return "127.0.0.1"
        try:
            ip = ipaddress.ip_address(address.strip("[]").removeprefix("::ffff:"))  # a literal: never a DNS name
        except ValueError:
            return None
        if ip.is_unspecified:
            return "127.0.0.1"  # a JVM's wildcard is a dual-stack "::"
        if ip.is_loopback:
            return str(ip)
        # Another address must be this machine's own (binding to it proves that), never a remote one.
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.bind((str(ip), 0))
        except OSError:
            return None
        return str(ip)

    # -- processes -------------------------------------------------------------------------
    @abc.abstractmethod
    def scan_processes(self, wanted: ProcessFilter | None = None) -> tuple[list[ProcessInfo], list[str]]:
        """Processes worth a look, plus a note for each one that vanished or could not be read."""

    @abc.abstractmethod
    def process(self, pid: int) -> ProcessInfo:
        """One process, or HostError when it is gone or unreadable."""

    # -- files -----------------------------------------------------------------------------
    @abc.abstractmethod
    def lstat(self, path: str) -> FileStat | None:
        """The path itself (links not followed), or None when it does not exist."""

    @abc.abstractmethod
    def realpath(self, path: str) -> str:
        """The path with every link resolved (HostError on a link loop)."""

    @abc.abstractmethod
    def list_dir(self, path: str) -> list[str]:
        """Sorted entry names of a directory (HostError when unreadable)."""

    @abc.abstractmethod
    def open(self, path: str) -> BinaryIO:
        """A binary stream of a regular file (HostError when unreadable)."""

    def os_release(self) -> dict[str, str]:
        """/etc/os-release as key/values (empty when the host has none)."""
        for candidate in ("/etc/os-release", "/usr/lib/os-release"):
            if self.is_file(candidate):
                return parse_os_release(self.read_text(candidate))
        return {}

    def user_name(self, uid: int) -> str:
        return ""

    # -- derived helpers -------------------------------------------------------------------
    def stat(self, path: str) -> FileStat | None:
        """Like lstat, but following links (None when missing or dangling)."""
        try:
            return self.lstat(self.realpath(path))
        except HostError:
            return None

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def is_file(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and st.kind == "file"

    def is_dir(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and st.kind == "dir"

    def read_bytes(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """A whole file, refusing files larger than ``limit`` (customer files are untrusted)."""
        with self.open(path) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise HostError(
                f"{path} is larger than {limit} bytes; not read",
                "Check that this is the file you meant, or exclude it from the analysis.",
            )
        return data

    def read_text(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> str:
        """A text file; odd encodings never raise (UTF-8, then Latin-1)."""
        return decode_text(self.read_bytes(path, limit))

    def glob_names(self, directory: str, suffixes: Iterable[str] = ()) -> list[str]:
        """Entry names of a directory ending in one of the suffixes ([] when unreadable)."""
        try:
            names = self.list_dir(directory)
        except HostError:
            return []
        suffixes = tuple(suffixes)
        return [n for n in names if not suffixes or n.endswith(suffixes)]


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def join(base: str, *parts: str) -> str:
    """Join and normalise POSIX paths the way the application host sees them."""
    return posixpath.normpath(posixpath.join(base, *parts))


def is_within(path: str, root: str, fold_case: bool = False) -> bool:
    """Whether ``path`` is ``root`` or below it; ``fold_case`` for Windows paths (C:/Site = c:/site)."""
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    if fold_case:
        path, root = path.lower(), root.lower()
    return root == "/" or path == root or path.startswith(root + "/")
