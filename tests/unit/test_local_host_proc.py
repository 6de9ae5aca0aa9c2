"""LocalHost's /proc reader over a fake procfs tree: the parsers, the two-pass scan, sockets
matched by inode, and processes that vanish, turn zombie or refuse to be read."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from a2c.errors import HostError
from a2c.hosts.local import (LocalHost, ProcFS, decode_address, parse_cmdline, parse_environ, parse_ids,
                             parse_stat, parse_tcp_line)
from a2c.model import Connection, Socket

little_endian = pytest.mark.skipif(sys.byteorder != "little", reason="/proc/net/tcp addresses are in host byte order")

TCP_HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
# Lines as Linux writes them (x86-64): 127.0.0.1:8080 listening, an established 10.0.0.5:22 <- 10.0.0.9:51000,
# a TIME_WAIT one, a listener of another process.
TCP = TCP_HEADER + (
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1111 1 0 100 0 0 10 0\n"
    "   1: 0500000A:0016 0900000A:C738 01 00000000:00000000 02:000A7B8F 00000000     0        0 2222 2 0 20 4 30 10 -1\n"
    "   2: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0\n"
    "   3: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9999 1 0 100 0 0 10 0\n"
)
# [::]:8443 and [::1]:9090 listening, ::ffff:127.0.0.1:8443 <- ::ffff:127.0.0.1:40521 established.
TCP6 = TCP_HEADER + (
    "   0: 00000000000000000000000000000000:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 "
    "00:00000000 00000000  1000        0 3333 1 0 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 "
    "00:00000000 00000000  1000        0 4444 1 0 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:20FB 0000000000000000FFFF00000100007F:9E49 01 00000000:00000000 "
    "00:00000000 00000000  1000        0 5555 1 0 20 4 30 10 -1\n"
)
BOOT = 1_700_000_000
TICKS = os.sysconf("SC_CLK_TCK")


# -- parsers -----------------------------------------------------------------------------------

def test_cmdline():
    assert parse_cmdline(b"java\x00-jar\x00app.jar\x00") == ("java", "-jar", "app.jar")
    assert parse_cmdline(b"java\x00-Dx=\x00") == ("java", "-Dx=")  # an empty last argument stays
    assert parse_cmdline(b"nginx: worker process\x00") == ("nginx:", "worker", "process")  # a rewritten title
    assert parse_cmdline(b"postgres: checkpointer   ") == ("postgres:", "checkpointer", "", "")
    assert parse_cmdline(b"") == ()
    assert parse_cmdline(b"/opt/caf\xe9/bin/java\x00") == ("/opt/caf\udce9/bin/java",)  # as psutil decodes it


def test_environ():
    assert parse_environ(b"A=1\x00B=x=y\x00EMPTY=\x00") == {"A": "1", "B": "x=y", "EMPTY": ""}
    assert parse_environ(b"NOEQUALS\x00=nokey\x00C=3\x00") == {"C": "3"}
    assert parse_environ(b"A=1\x00\x00B=2\x00") == {"A": "1"}  # an empty entry ends the block
    assert parse_environ(b"") == {}
    assert parse_environ(b"P=caf\xe9\x00") == {"P": "caf\udce9"}


def test_stat_with_an_odd_name():
    line = b"4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 30 0 123456 1000 100\n"
    assert parse_stat(line) == (b"S", 1, 123456)
    assert parse_stat(b"7 (x) Z 1") == (b"Z", 0, 0)  # short: the state still, no numbers


def test_ids():
    status = b"Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t997\t997\t997\t997\nGid:\t996\t0\t996\t996\n"
    assert parse_ids(status) == (997, 996)
    assert parse_ids(b"Name:\tx\n") == (-1, -1)
    assert parse_ids(b"Uid:\n") == (-1, -1)


@little_endian
def test_addresses():
    assert decode_address(b"0100007F:1F90", socket.AF_INET) == ("127.0.0.1", 8080)
    assert decode_address(b"00000000:0000", socket.AF_INET) is None  # no end point
    assert decode_address(b"0000000000000000FFFF00000100007F:9E49", socket.AF_INET6) == ("::ffff:127.0.0.1", 40521)
    assert decode_address(b"00000000000000000000000001000000:2382", socket.AF_INET6) == ("::1", 9090)
    with pytest.raises(ValueError):
        decode_address(b"0100007F:zz", socket.AF_INET)
    with pytest.raises(ValueError):
        decode_address(b"0100007F:1F90", socket.AF_INET6)


@little_endian
def test_tcp_lines():
    lines = TCP.splitlines()[1:]
    assert parse_tcp_line(lines[0].encode(), socket.AF_INET) == (b"1111", Socket(8080, "127.0.0.1", "tcp"))
    assert parse_tcp_line(lines[1].encode(), socket.AF_INET) == (b"2222", Connection("10.0.0.9", 51000, 22))
    assert parse_tcp_line(lines[2].encode(), socket.AF_INET) is None  # TIME_WAIT
    assert parse_tcp_line(lines[3].encode(), socket.AF_INET, {b"1111"}) is None  # not one of ours
    six = TCP6.splitlines()[1:]
    assert parse_tcp_line(six[0].encode(), socket.AF_INET6) == (b"3333", Socket(8443, "::", "tcp6"))
    assert parse_tcp_line(six[2].encode(), socket.AF_INET6) == (b"5555", Connection("::ffff:127.0.0.1", 40521, 8443))
    assert parse_tcp_line(b"   0: garbage", socket.AF_INET) is None
    assert parse_tcp_line(b"   0: 0100007F:XYZ 00000000:0000 0A 0 0 0 0 0 1111", socket.AF_INET) is None


# -- a fake procfs -----------------------------------------------------------------------------

class FakeProc:
    def __init__(self, root: Path):
        self.root = root
        (root / "net").mkdir(parents=True)
        (root / "stat").write_text(f"cpu  1 2 3\nbtime {BOOT}\nprocesses 9\n")
        (root / "net" / "tcp").write_text(TCP)
        (root / "net" / "tcp6").write_text(TCP6)
        (root / "self").mkdir()  # not a pid

    def add(self, pid: int, cmdline: list[str], comm: str = "", exe: str | None = "/usr/bin/x", state: str = "S",
            start: int = 500, environ: bytes = b"", cwd: str = "/", uid: int = 0, gid: int = 0,
            fds: dict[str, str] | None = None) -> Path:
        folder = self.root / str(pid)
        folder.mkdir()
        (folder / "cmdline").write_bytes(b"".join(os.fsencode(a) + b"\x00" for a in cmdline))
        name = comm or (os.path.basename(cmdline[0])[:15] if cmdline else "kworker/0:1")
        (folder / "comm").write_text(name + "\n")
        (folder / "stat").write_text(f"{pid} ({name}) {state} 1 {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1 1\n")
        (folder / "status").write_text(f"Name:\t{name}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\n")
        (folder / "environ").write_bytes(environ)
        if exe is not None:
            os.symlink(exe, folder / "exe")
        os.symlink(cwd, folder / "cwd")
        (folder / "fd").mkdir()
        for fd, target in (fds or {}).items():
            os.symlink(target, folder / "fd" / fd)
        return folder


@pytest.fixture
def fake(tmp_path):
    return FakeProc(tmp_path / "proc")


def _java(name, exe, cmdline):
    return "java" in (name, os.path.basename(exe))


@little_endian
def test_a_wanted_process_is_read_in_full(fake, tmp_path):
    jar = tmp_path / "app.jar"
    jar.write_bytes(b"PK")
    fake.add(4242, ["/usr/lib/jvm/bin/java", "-jar", str(jar)], exe="/usr/lib/jvm/bin/java", start=12345,
             environ=b"JAVA_HOME=/usr/lib/jvm\x00LANG=C\x00", cwd=str(tmp_path), uid=0, gid=0,
             fds={"0": "/dev/null", "1": "pipe:[77]", "3": str(jar), "4": str(tmp_path), "5": "socket:[1111]",
                  "6": "socket:[3333]", "7": "socket:[2222]", "8": "socket:[5555]", "9": "socket:[8888]",
                  "10": "anon_inode:[eventpoll]"})
    fake.add(4300, ["sleep", "60"], exe="/usr/bin/sleep", fds={"3": "socket:[9999]"})
    processes, notes = LocalHost(str(fake.root)).scan_processes(_java)
    assert notes == []
    [proc] = processes
    assert proc.pid == 4242 and proc.cmdline == ("/usr/lib/jvm/bin/java", "-jar", str(jar))
    assert proc.exe == "/usr/lib/jvm/bin/java" and proc.name == "java" and proc.cwd == str(tmp_path)
    assert proc.environ == {"JAVA_HOME": "/usr/lib/jvm", "LANG": "C"}
    assert (proc.uid, proc.gid, proc.username, proc.ppid) == (0, 0, "root", 1)
    assert proc.create_time == pytest.approx(BOOT + 12345 / TICKS)
    assert proc.open_files == (str(jar),)  # regular files only: not /dev/null, pipes or folders
    assert proc.listening == (Socket(8080, "127.0.0.1", "tcp"), Socket(8443, "::", "tcp6"))
    assert set(proc.connections) == {Connection("10.0.0.9", 51000, 22), Connection("::ffff:127.0.0.1", 40521, 8443)}


@little_endian
def test_a_shared_listening_socket_belongs_to_every_process_holding_it(fake):
    for pid in (10, 11):  # a master and its forked worker
        fake.add(pid, ["java", "Main"], exe="/usr/bin/java", fds={"3": "socket:[1111]", "4": "socket:[1111]"})
    processes, _ = LocalHost(str(fake.root)).scan_processes(_java)
    assert [p.listening for p in processes] == [(Socket(8080, "127.0.0.1", "tcp"),)] * 2


def test_unwanted_processes_are_not_read_further(fake, monkeypatch):
    fake.add(20, ["sleep", "60"], exe="/usr/bin/sleep")
    fake.add(21, ["/usr/bin/java", "Main"], exe="/usr/bin/java")
    seen = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        seen.append(os.path.basename(str(path)))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    facts = []
    processes, _ = LocalHost(str(fake.root)).scan_processes(lambda *f: facts.append(f) or _java(*f))
    assert [p.pid for p in processes] == [21]
    assert ("sleep", "/usr/bin/sleep", ("sleep", "60")) in facts
    assert "environ" in seen and seen.count("environ") == 1 and seen.count("status") == 1  # the java one only


def test_no_filter_reads_everything_kernel_threads_too(fake):
    fake.add(2, [], exe=None)  # a kernel thread: no command line, no executable
    fake.add(30, ["sleep", "60"], exe="/usr/bin/sleep")
    processes, notes = LocalHost(str(fake.root)).scan_processes()
    assert [(p.pid, p.exe, p.cmdline) for p in processes] == [(2, "", ()), (30, "/usr/bin/sleep", ("sleep", "60"))]
    assert notes == []


def test_a_long_name_takes_argv0_when_it_starts_with_the_kernel_name(fake):
    fake.add(40, ["/opt/bin/gnome-keyring-daemon", "--start"], comm="gnome-keyring-d", exe="/opt/bin/gnome-keyring-daemon")
    fake.add(41, ["/opt/bin/other-name-entirely"], comm="java-but-longer", exe="/opt/bin/x")
    names = []
    LocalHost(str(fake.root)).scan_processes(lambda name, exe, cmdline: names.append(name) and False)
    assert names == ["gnome-keyring-daemon", "java-but-longer"]


def test_process_that_vanishes_between_the_passes_is_a_note(fake):
    folder = fake.add(50, ["java", "Main"], exe="/usr/bin/java")
    fake.add(51, ["java", "Other"], exe="/usr/bin/java")

    def wanted(name, exe, cmdline):
        if cmdline == ("java", "Main"):
            shutil.rmtree(folder)  # exits (and is reaped) right after the cheap look
        return True

    processes, notes = LocalHost(str(fake.root)).scan_processes(wanted)
    assert [p.pid for p in processes] == [51]
    assert notes == ["process 50 exited while it was being read; skipped"]


def test_process_whose_files_go_mid_read_is_a_note(fake, monkeypatch):
    folder = fake.add(52, ["java", "Main"], exe="/usr/bin/java")
    real_readlink = os.readlink

    def vanishing(path, *args, **kwargs):
        if str(path).endswith("/52/cwd"):
            shutil.rmtree(folder)
            raise FileNotFoundError(2, "No such file or directory", path)
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", vanishing)
    processes, notes = LocalHost(str(fake.root)).scan_processes(_java)
    assert processes == [] and notes == ["process 52 exited while it was being read; skipped"]


def test_zombies_are_notes(fake):
    fake.add(60, [], comm="java", exe=None, state="Z")
    processes, notes = LocalHost(str(fake.root)).scan_processes(_java)
    assert processes == [] and notes == ["process 60 exited while it was being read; skipped"]
    with pytest.raises(HostError, match="not running"):
        LocalHost(str(fake.root)).process(60)


def test_permission_denied(fake, monkeypatch):
    fake.add(70, ["/usr/bin/java", "Secret"], exe="/usr/bin/java", environ=b"A=1\x00")
    fake.add(71, ["/opt/none/bin/java", "Open"], exe="/opt/none/bin/java", environ=b"B=2\x00", cwd="/srv")
    real_open, real_readlink = os.open, os.readlink

    def denied(path, *args, **kwargs):
        path = str(path)
        if path.endswith("/70/cmdline") or path.endswith("/71/environ"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    def no_links(path, *args, **kwargs):
        if str(path).endswith("/71/exe") or str(path).endswith("/71/cwd"):
            raise PermissionError(13, "Permission denied", path)
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    monkeypatch.setattr(os, "readlink", no_links)
    host = LocalHost(str(fake.root))
    processes, notes = host.scan_processes(lambda name, exe, cmdline: name == "java")
    assert notes == ["process 70: permission denied; skipped (run a2c as root to see it)"]
    [proc] = processes  # what could not be read is empty; argv[0] stands in for exe only when it is a real executable
    assert (proc.pid, proc.environ, proc.cwd, proc.exe) == (71, {}, "", "")
    with pytest.raises(HostError, match="permission denied"):
        host.process(70)


def test_exe_from_argv0_when_the_link_is_unreadable(fake, monkeypatch):
    fake.add(72, [sys.executable, "-c", "pass"], exe="/nowhere")
    real_readlink = os.readlink
    monkeypatch.setattr(os, "readlink", lambda path, *a, **k: (_ for _ in ()).throw(PermissionError(13, "denied"))
                        if str(path).endswith("/72/exe") else real_readlink(path, *a, **k))
    assert LocalHost(str(fake.root)).process(72).exe == sys.executable  # psutil's guess: an absolute executable


def test_deleted_executable_keeps_its_path(fake):
    fake.add(73, ["java"], exe="/usr/lib/jvm/bin/java (deleted)")
    assert LocalHost(str(fake.root)).process(73).exe == "/usr/lib/jvm/bin/java"


def test_unknown_uid_is_shown_as_a_number(fake):
    fake.add(74, ["java"], uid=54321, gid=54321)
    proc = LocalHost(str(fake.root)).process(74)
    assert (proc.uid, proc.gid, proc.username) == (54321, 54321, "54321")


def test_gone_process_is_a_host_error(fake):
    with pytest.raises(HostError, match="not running"):
        LocalHost(str(fake.root)).process(12345)


def test_socket_tables_are_read_once_and_only_when_needed(fake, monkeypatch):
    for pid in range(80, 85):
        fake.add(pid, ["java", str(pid)], exe="/usr/bin/java", fds={"3": "socket:[1111]"})
    fake.add(85, ["java", "nosockets"], exe="/usr/bin/java")
    reads = []
    real = ProcFS.tcp_sockets

    def counting(self, inodes):
        reads.append(set(inodes))
        return real(self, inodes)

    monkeypatch.setattr(ProcFS, "tcp_sockets", counting)
    LocalHost(str(fake.root)).scan_processes(_java)
    assert reads == [{b"1111"}]
    LocalHost(str(fake.root)).process(85)
    assert len(reads) == 1  # no socket, no table read


def test_missing_ipv6_table_and_long_files(fake):
    (fake.root / "net" / "tcp6").unlink()
    long_arg = "x" * 200_000  # more than one read
    fake.add(90, ["java", long_arg], exe="/usr/bin/java", environ=b"BIG=" + b"y" * 100_000 + b"\x00",
             fds={"3": "socket:[3333]", "4": "socket:[1111]"})
    proc = LocalHost(str(fake.root)).process(90)
    assert proc.cmdline == ("java", long_arg) and len(proc.environ["BIG"]) == 100_000
    assert [s.protocol for s in proc.listening] == (["tcp"] if sys.byteorder == "little" else [])


def test_an_unmounted_procfs_is_a_host_error(tmp_path):
    with pytest.raises(HostError, match="cannot list the processes"):
        LocalHost(str(tmp_path / "none")).scan_processes()
