"""The machine a2c runs on: processes from /proc (psutil where there is none), files through the
file system.

This is the only module that imports psutil, and only off Linux (Windows, macOS). On Linux the
scan reads /proc itself, in two passes: the cheap facts an analyzer filters on (name, exe,
command line) of every process, then everything else (ids, cwd, environment, open files,
sockets) only of the processes an analyzer wants, and the TCP sockets of all of those from one
read of /proc/net/tcp and tcp6 matched by inode, not one read per process. Processes vanish and
change while we look, so every per-process read is guarded and a vanished process becomes a
note, not a crash.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat as stat_module
import sys
from typing import Any, BinaryIO, Callable, Iterable, TypeVar

from a2c.errors import HostError
from a2c.hosts.base import Host, ProcessFilter
from a2c.model import Connection, FileStat, ProcessInfo, Socket


class LocalHost(Host):
    is_local = True

    def __init__(self, proc_root: str | None = None) -> None:
        """``proc_root``: where procfs is mounted (a fake one in tests); by default /proc on Linux
        and psutil everywhere else."""
        self.name = socket.gethostname() or "localhost"
        self._proc_root = proc_root if proc_root is not None else "/proc" if sys.platform.startswith("linux") else None

    # -- processes -------------------------------------------------------------------------
    def scan_processes(self, wanted: ProcessFilter | None = None) -> tuple[list[ProcessInfo], list[str]]:
        if self._proc_root is None:
            return _psutil_scan(wanted)
        return ProcFS(self._proc_root).scan(wanted)

    def process(self, pid: int) -> ProcessInfo:
        if self._proc_root is None:
            return _psutil_process(pid)
        return ProcFS(self._proc_root).process(pid)

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


# -- /proc -------------------------------------------------------------------------------------

def _gone_note(pid: int) -> str:
    return f"process {pid} exited while it was being read; skipped"


def _denied_note(pid: int) -> str:
    return f"process {pid}: permission denied; skipped (run a2c as root to see it)"


class Gone(Exception):
    """The process exited (or is a zombie) while it was being read."""


_TCP_LISTEN, _TCP_ESTABLISHED = b"0A", b"01"
_CHUNK = 1 << 16
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()  # os.fsdecode's, as psutil's
T = TypeVar("T")


class ProcFS:
    """One look at the processes under a procfs root. psutil's readings, minus its cost: one
    process read in full holds some fifteen file reads and, for its sockets, a parse of every
    TCP and UDP table of the host; here the tables are read once for all wanted processes."""

    def __init__(self, root: str = "/proc") -> None:
        self.root = root
        self._boot_time: float | None = None
        self._users: dict[int, str] = {}

    # -- the two passes --------------------------------------------------------------------
    def scan(self, wanted: ProcessFilter | None) -> tuple[list[ProcessInfo], list[str]]:
        notes: list[str] = []
        try:
            pids = sorted(int(name) for name in os.listdir(self.root) if name.isdigit())
        except OSError as exc:
            raise HostError(f"cannot list the processes in {self.root}: {exc.strerror}",
                            "Check that procfs is mounted there and readable.") from exc
        me = os.getpid()
        read: list[tuple[dict[str, Any], set[bytes]]] = []
        for pid in pids:
            if pid == me:
                continue
            try:
                if wanted is not None and not wanted(*self.facts(pid)):
                    continue
                read.append(self._read(pid))
            except Gone:
                notes.append(_gone_note(pid))
            except PermissionError:
                notes.append(_denied_note(pid))
            except OSError as exc:
                notes.append(f"process {pid}: could not be read ({exc.strerror}); skipped")
        return self._with_sockets(read), notes

    def process(self, pid: int) -> ProcessInfo:
        try:
            return self._with_sockets([self._read(pid)])[0]
        except Gone as exc:
            raise HostError(
                f"process {pid} is not running",
                "Start the application again, then run `a2c inventory` to refresh the process ids.",
            ) from exc
        except PermissionError as exc:
            raise HostError(f"process {pid}: permission denied", "Run a2c as root (sudo).") from exc

    # -- one process -----------------------------------------------------------------------
    def facts(self, pid: int) -> tuple[str, str, tuple[str, ...]]:
        """(name, exe, cmdline), what a ProcessFilter looks at: two small reads and a link."""
        cmdline = parse_cmdline(self._file(pid, "cmdline"))
        exe = self._exe(pid, cmdline)
        name = self._file(pid, "comm").rstrip(b"\n").decode(_FS_ENCODING, _FS_ERRORS)
        if len(name) >= 15 and cmdline:  # the kernel keeps 15 characters; argv[0] may have the rest
            extended = os.path.basename(cmdline[0])
            if extended.startswith(name):
                name = extended
        return name, exe, cmdline

    def _read(self, pid: int) -> tuple[dict[str, Any], set[bytes]]:
        """Everything but the sockets' addresses, and the inodes of the process's sockets.
        Gone when the process vanished; PermissionError when not even its command line is
        readable; any other unreadable fact is left empty."""
        state, ppid, start_ticks = parse_stat(self._file(pid, "stat"))
        if state == b"Z":
            raise Gone(pid)
        cmdline = parse_cmdline(self._file(pid, "cmdline"))
        exe = self._exe(pid, cmdline)
        cwd = self._guard(pid, lambda: _readlink(f"{self.root}/{pid}/cwd"), "")
        environ: dict[str, str] = self._guard(pid, lambda: parse_environ(self._file(pid, "environ")), {})
        uid, gid = self._guard(pid, lambda: parse_ids(self._file(pid, "status")), (-1, -1))
        no_fds: tuple[tuple[str, ...], tuple[str, ...], set[bytes]] = ((), (), set())
        open_files, written_files, inodes = self._guard(pid, lambda: self._fds(pid), no_fds)
        no_maps: tuple[str, ...] = ()
        mapped = self._guard(pid, lambda: parse_maps(self._file(pid, "maps"), set(open_files)), no_maps)
        fields = dict(
            pid=pid, cmdline=cmdline, exe=exe, cwd=cwd, environ=environ, uid=uid, gid=gid, ppid=ppid,
            username=self._user(uid) if uid >= 0 else "",
            create_time=start_ticks / _clock_ticks() + self._boot(),
            open_files=open_files, written_files=written_files, mapped_files=mapped,
        )
        return fields, inodes

    def _file(self, pid: int, name: str) -> bytes:
        path = f"{self.root}/{pid}/{name}"
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                # Until end of file: a /proc file gives at most a page or so per read (maps,
                # a long command line), whatever is asked for, so a short read is not the end.
                chunks = []
                while chunk := os.read(fd, _CHUNK):
                    chunks.append(chunk)
                data = b"".join(chunks)
            finally:
                os.close(fd)
        except (FileNotFoundError, ProcessLookupError):
            self._check_alive(pid)
            raise
        return data

    def _check_alive(self, pid: int) -> None:
        """After a read failed for want of the file: Gone when the process has exited (its stat
        file went too: psutil's test)."""
        if not os.path.exists(f"{self.root}/{pid}/stat"):
            raise Gone(pid)

    def _guard(self, pid: int, read: Callable[[], T], default: T) -> T:
        """One fact of a process: unreadable gives the default, vanishing raises Gone."""
        try:
            return read()
        except (FileNotFoundError, ProcessLookupError):
            self._check_alive(pid)
            return default
        except OSError:
            return default

    def _exe(self, pid: int, cmdline: tuple[str, ...]) -> str:
        """The executable (psutil's rules): empty for kernel threads; a zombie is Gone; when the
        link is not readable (another user's process), an absolute, executable argv[0]."""
        try:
            exe = _clean_link(os.readlink(f"{self.root}/{pid}/exe"))
        except (FileNotFoundError, ProcessLookupError):
            if not os.path.lexists(f"{self.root}/{pid}"):
                raise Gone(pid) from None
            if self._is_zombie(pid):
                raise Gone(pid) from None
            exe = ""
        except OSError:
            exe = ""
        if not exe and cmdline:
            exe = _guess_exe(cmdline[0])
        return exe

    def _is_zombie(self, pid: int) -> bool:
        try:
            return parse_stat(self._file(pid, "stat"))[0] == b"Z"
        except OSError:
            return False

    def _fds(self, pid: int) -> tuple[tuple[str, ...], tuple[str, ...], set[bytes]]:
        """Regular files open (absolute paths, sorted), those of them open for writing, and the
        inodes of the open sockets. Only a regular file's fdinfo is read (one small read each):
        sockets, pipes and anonymous inodes, most of a busy server's descriptors, cost nothing more."""
        folder = f"{self.root}/{pid}/fd"
        files: set[str] = set()
        written: set[str] = set()
        inodes: set[bytes] = set()
        for fd in os.listdir(folder):
            try:
                target = _readlink(f"{folder}/{fd}")
            except OSError:  # closed meanwhile, or a name too long
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1].encode())
            elif target.startswith("/") and _is_regular_file(target):
                files.add(target)
                if target not in written and _open_for_writing(f"{self.root}/{pid}/fdinfo/{fd}"):
                    written.add(target)
        return tuple(sorted(files)), tuple(sorted(written)), inodes

    def _user(self, uid: int) -> str:
        if uid not in self._users:
            try:
                self._users[uid] = pwd.getpwuid(uid).pw_name
            except (KeyError, OverflowError):
                self._users[uid] = str(uid)  # as psutil: the uid when no name is known
        return self._users[uid]

    def _boot(self) -> float:
        if self._boot_time is None:
            self._boot_time = 0.0
            try:
                with open(f"{self.root}/stat", "rb") as handle:
                    for line in handle:
                        if line.startswith(b"btime "):
                            self._boot_time = float(line.split()[1])
                            break
            except (OSError, ValueError, IndexError):
                pass
        return self._boot_time

    # -- sockets, for all wanted processes at once -----------------------------------------
    def _with_sockets(self, read: list[tuple[dict[str, Any], set[bytes]]]) -> list[ProcessInfo]:
        wanted: set[bytes] = set().union(*(inodes for _, inodes in read)) if read else set()
        table = self.tcp_sockets(wanted) if wanted else {}
        found = []
        for fields, inodes in read:
            listening: set[Socket] = set()
            connections: list[Connection] = []
            for inode in inodes:
                entry = table.get(inode)
                if entry is None:
                    continue
                if isinstance(entry, Socket):
                    listening.add(entry)
                else:
                    connections.append(entry)
            found.append(ProcessInfo(
                listening=tuple(sorted(listening, key=lambda s: (s.port, s.protocol, s.address))),
                connections=tuple(sorted(connections, key=lambda c: (c.remote_address, c.remote_port, c.local_port))),
                **fields,
            ))
        return found

    def tcp_sockets(self, inodes: set[bytes]) -> dict[bytes, Socket | Connection]:
        """The listening and established TCP sockets among ``inodes``, from /proc/net/tcp{,6}
        (this network namespace's, as psutil reads them)."""
        found: dict[bytes, Socket | Connection] = {}
        for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
            try:
                with open(f"{self.root}/net/{name}", "rb") as handle:
                    data = handle.read()
            except OSError:  # no IPv6, or no procfs network tables at all
                continue
            for line in data.splitlines()[1:]:
                entry = parse_tcp_line(line, family, inodes)
                if entry is not None:
                    found[entry[0]] = entry[1]
        return found


# -- parsing /proc, each a pure function of the bytes ------------------------------------------

def parse_cmdline(data: bytes) -> tuple[str, ...]:
    """/proc/PID/cmdline: NUL-separated; a process that rewrote its title may use spaces."""
    if not data:
        return ()
    text = data.decode(_FS_ENCODING, _FS_ERRORS)
    sep = "\x00" if text.endswith("\x00") else " "
    if text.endswith(sep):
        text = text[:-1]
    args = text.split(sep)
    if sep == "\x00" and len(args) == 1 and " " in text:
        args = text.split(" ")
    return tuple(args)


def parse_environ(data: bytes) -> dict[str, str]:
    """/proc/PID/environ: NUL-terminated KEY=VALUE entries (psutil's rules: an entry without a
    key is skipped, an empty entry ends the block)."""
    text = data.decode(_FS_ENCODING, _FS_ERRORS)
    env: dict[str, str] = {}
    pos = 0
    while True:
        end = text.find("\x00", pos)
        if end <= pos:
            break
        equal = text.find("=", pos, end)
        if equal > pos:
            env[text[pos:equal]] = text[equal + 1:end]
        pos = end + 1
    return env


def parse_stat(data: bytes) -> tuple[bytes, int, int]:
    """/proc/PID/stat: (state, ppid, start time in clock ticks). The name in parentheses may hold
    spaces and parentheses itself, so the fields start after the last ')'."""
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return fields[0], int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return (fields[0] if fields else b"?"), 0, 0


def parse_ids(data: bytes) -> tuple[int, int]:
    """/proc/PID/status: the real uid and gid (-1 when missing)."""
    uid = gid = -1
    for line in data.splitlines():
        key = line[:4]
        if key in (b"Uid:", b"Gid:"):
            fields = line.split()
            value = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else -1
            if key == b"Uid:":
                uid = value
            else:
                gid = value
                break
    return uid, gid


def parse_tcp_line(line: bytes, family: int, inodes: set[bytes] | None = None) -> tuple[bytes, Socket | Connection] | None:
    """One line of /proc/net/tcp or tcp6: (inode, a listening Socket or an established
    Connection), or None for any other state, a line not of ``inodes`` or a malformed one."""
    parts = line.split()
    if len(parts) < 10:
        return None
    inode, state = parts[9], parts[3]
    if (inodes is not None and inode not in inodes) or state not in (_TCP_LISTEN, _TCP_ESTABLISHED):
        return None
    try:
        local = decode_address(parts[1], family)
        remote = decode_address(parts[2], family)
    except ValueError:
        return None
    if state == _TCP_LISTEN:
        if local is None:
            return None
        return inode, Socket(port=local[1], address=local[0], protocol="tcp6" if family == socket.AF_INET6 else "tcp")
    if remote is None:
        return None
    return inode, Connection(remote[0], remote[1], local[1] if local else 0)


def decode_address(text: bytes, family: int) -> tuple[str, int] | None:
    """``0100007F:1F90`` -> ("127.0.0.1", 8080): the address is the kernel's 32-bit words in the
    host's byte order; None for port 0 (no end point). ValueError when malformed."""
    host, _, port_hex = text.partition(b":")
    port = int(port_hex, 16)
    if not port:
        return None
    raw = bytes.fromhex(host.decode("ascii"))
    if len(raw) not in (4, 16) or (family == socket.AF_INET) != (len(raw) == 4):
        raise ValueError(f"bad address {text!r}")
    if sys.byteorder == "little":
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, raw), port


def _readlink(path: str) -> str:
    return _clean_link(os.readlink(path))


def _clean_link(target: str) -> str:
    """A /proc link's target as psutil reads it: what follows a NUL is garbage, and a
    " (deleted)" suffix goes when no file has that name."""
    if "\x00" in target:
        target = target.split("\x00")[0]
    if target.endswith(" (deleted)") and not os.path.lexists(target):
        target = target[:-10]
    return target


def _guess_exe(argv0: str) -> str:
    """psutil's guess when /proc/PID/exe cannot be read: an absolute argv[0] that is an
    executable file."""
    if os.path.isabs(argv0) and os.path.isfile(argv0) and os.access(argv0, os.X_OK):
        return argv0
    return ""


_ACCESS_MODE, _WRITE_MODES = 0o3, (os.O_WRONLY, os.O_RDWR)


def _open_for_writing(fdinfo: str) -> bool:
    """Whether /proc/PID/fdinfo/N says the descriptor was opened O_WRONLY or O_RDWR (its
    ``flags:`` line is octal; the access mode is the low two bits). False when it cannot be read:
    the descriptor was closed meanwhile, or this procfs has no fdinfo."""
    try:
        fd = os.open(fdinfo, os.O_RDONLY)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return False
    return (parse_fdinfo_flags(data) & _ACCESS_MODE) in _WRITE_MODES


def parse_fdinfo_flags(data: bytes) -> int:
    """The ``flags:`` of an fdinfo file (octal), 0 (read only) when it has none or a bad one."""
    for line in data.splitlines():
        if line.startswith(b"flags:"):
            try:
                return int(line[6:].strip(), 8)
            except ValueError:
                return 0
    return 0


def _is_regular_file(path: str) -> bool:
    try:
        return stat_module.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _clock_ticks() -> int:
    """Jiffies per second, the unit of a process's start time in /proc/PID/stat."""
    return os.sysconf("SC_CLK_TCK") or 100


# -- psutil, where there is no /proc ---------------------------------------------------------

def _psutil_scan(wanted: ProcessFilter | None) -> tuple[list[ProcessInfo], list[str]]:
    import psutil

    gone = (psutil.NoSuchProcess, psutil.ZombieProcess)
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
            found.append(_psutil_read(proc))
        except gone:
            notes.append(_gone_note(proc.pid))
        except psutil.AccessDenied:
            notes.append(_denied_note(proc.pid))
    return found, notes


def _psutil_process(pid: int) -> ProcessInfo:
    import psutil

    try:
        return _psutil_read(psutil.Process(pid))
    except (psutil.NoSuchProcess, psutil.ZombieProcess) as exc:
        raise HostError(
            f"process {pid} is not running",
            "Start the application again, then run `a2c inventory` to refresh the process ids.",
        ) from exc
    except psutil.AccessDenied as exc:
        raise HostError(f"process {pid}: permission denied", "Run a2c as root (sudo).") from exc


def _psutil_read(proc: Any) -> ProcessInfo:
    import psutil

    def guard(read, default):
        """One attribute of a process; permission problems give the default, vanishing raises."""
        try:
            return read()
        except psutil.AccessDenied:
            return default
        except OSError:
            return default

    def connections() -> list:
        method = getattr(proc, "net_connections", None) or proc.connections
        return method(kind="inet")

    with proc.oneshot():
        cmdline = tuple(proc.cmdline())
        exe = guard(proc.exe, "")
        cwd = guard(proc.cwd, "")
        environ = guard(proc.environ, {})
        username = guard(proc.username, "")
        uids = guard(proc.uids, None)
        gids = guard(proc.gids, None)
        ppid = guard(proc.ppid, 0)
        create_time = guard(proc.create_time, 0.0)
        conns = guard(connections, [])
        opened = guard(proc.open_files, [])
        maps = guard(proc.memory_maps, [])
    listening: list[Socket] = []
    established: list[Connection] = []
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr:
            proto = "tcp6" if conn.family == socket.AF_INET6 else "tcp"
            listening.append(Socket(port=conn.laddr.port, address=conn.laddr.ip, protocol=proto))
        elif conn.status == psutil.CONN_ESTABLISHED and conn.raddr:
            established.append(Connection(conn.raddr.ip, conn.raddr.port, conn.laddr.port if conn.laddr else 0))
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
        connections=tuple(established),
        open_files=tuple(sorted({f.path for f in opened})),
        written_files=tuple(sorted({f.path for f in opened if _psutil_written(f)})),
        mapped_files=mapped_files((m.path for m in maps), {f.path for f in opened}),
    )


def parse_maps(data: bytes, held: set[str], limit: int = 2000) -> tuple[str, ...]:
    """The regular files in /proc/PID/maps that are not already open files: the path is the
    sixth field of each line."""
    paths = []
    for line in data.split(b"\n"):
        parts = line.split(None, 5)
        if len(parts) == 6:
            paths.append(os.fsdecode(parts[5]))
    return mapped_files(paths, held, limit)


def mapped_files(paths: Iterable[str], held: set[str], limit: int = 2000) -> tuple[str, ...]:
    """Of the paths a process maps, the regular files not already among its open files (at most
    ``limit``, sorted): deleted files and pseudo-paths ([heap], /dev/zero, memfd) are left out."""
    found: dict[str, None] = {}
    for path in paths:
        if not path.startswith("/") or path.endswith(" (deleted)") or path in held:
            continue
        if path.startswith(("/dev/", "/proc/", "/sys/", "/memfd:")):
            continue
        found[path] = None
        if len(found) >= limit:
            break
    return tuple(sorted(found))


def _psutil_written(opened: Any) -> bool:
    """Whether one of psutil's open files is open for writing: its ``mode`` ('w', 'a', 'r+', …)
    or ``flags`` where psutil gives them (Linux); False where it gives neither (elsewhere)."""
    mode = getattr(opened, "mode", "")
    if mode:
        return mode != "r"
    flags = getattr(opened, "flags", None)
    return isinstance(flags, int) and (flags & _ACCESS_MODE) in _WRITE_MODES


# -- shared ----------------------------------------------------------------------------------

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
    import psutil

    return psutil.win_service_iter()  # type: ignore[attr-defined,unused-ignore]
