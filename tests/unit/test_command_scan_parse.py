"""The CommandHost's parsers on scan output written by hand: the frames, the process facts built
with the local reader's parsers, and the hostile cases (noise before the frames, sizes that lie,
a vanished or unreadable process). The scripts themselves run against real /proc in
tests/integration/test_command_host_local.py."""

from __future__ import annotations

import os
import subprocess

import pytest

from a2c.errors import HostError
from a2c.hosts import command
from a2c.model import Connection, Socket


def frame(key: str, data: bytes | None) -> bytes:
    if data is None:
        return f"@{key} -1\n".encode()
    return f"@{key} {len(data)}\n".encode() + data


def sized(files: dict[str, bytes]) -> tuple[bytes, bytes]:
    """What `wc -c FILES` and `cat FILES` print."""
    lines = b"".join(b"%7d %s\n" % (len(data), name.encode()) for name, data in files.items())
    total = sum(len(d) for d in files.values())
    return lines + b"%7d total\n" % total, b"".join(files.values())


STAT = b"4242 (java) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 2 0 500 1 1 18446744073709551615\n"
STATUS = b"Name:\tjava\nUid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\n"
TCP = (b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
       b"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1\n"
       b"   1: 0100007F:D431 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000  1000        0 778 1\n")


def full_dump(*, pid_files: dict[str, bytes] | None = None, lost: bytes = b"", links: bytes | None = None,
              fdinfo: bytes = b"", extra: bytes = b"", noise: bytes = b"") -> bytes:
    files = pid_files if pid_files is not None else {
        "4242.stat": STAT, "4242.cmdline": b"/opt/jdk/bin/java\0-jar\0/srv/app.jar\0",
        "4242.environ": b"HOME=/home/app\0LANG=C.UTF-8\0", "4242.status": STATUS,
        "4242.maps": b"7f00-7f01 r-xp 00000000 08:01 12 /srv/lib/libnative.so\n7f02-7f03 rw-p 0 0:0 0 [heap]\n",
    }
    if links is None:
        links = b"".join(b"%s\0%s\0%s\0" % record for record in [
            (b"/proc/4242/exe", b"/opt/jdk/bin/java", b"f"),
            (b"/proc/4242/cwd", b"/srv", b"d"),
            (b"/proc/4242/fd", b"", b"d"),
            (b"/proc/4242/fd/3", b"/srv/app.jar", b"f"),
            (b"/proc/4242/fd/4", b"/srv/data/app.db", b"f"),
            (b"/proc/4242/fd/5", b"socket:[777]", b"s"),
            (b"/proc/4242/fd/6", b"socket:[778]", b"s"),
            (b"/proc/4242/fd/7", b"/dev/null", b"c"),
            (b"/proc/4242/fd/8", b"pipe:[99]", b"p"),
        ])
    sizes, blob = sized(files)
    return (noise + command.FRAMES_BEGIN + frame("self", b"99") + frame("clk", b"100")
            + frame("btime", b"btime 1700000000\n") + frame("passwd", b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n")
            + frame("tcp", TCP) + frame("tcp6", None) + frame("lost", lost) + frame("sizes", sizes) + frame("blob", blob)
            + frame("links", links) + frame("fdinfo", fdinfo or b"/proc/4242/fdinfo/3:flags:\t0100000\n"
                                                              b"/proc/4242/fdinfo/4:flags:\t0100002\n") + extra)


def test_a_full_read_gives_the_local_readers_facts():
    [info], notes = command.parse_scan(full_dump(noise=b"Welcome to web1!\n@@ not a frame\n"))
    assert notes == []
    assert info.pid == 4242 and info.ppid == 1 and info.cmdline == ("/opt/jdk/bin/java", "-jar", "/srv/app.jar")
    assert info.exe == "/opt/jdk/bin/java" and info.cwd == "/srv"
    assert info.environ == {"HOME": "/home/app", "LANG": "C.UTF-8"}
    assert (info.uid, info.gid, info.username) == (1000, 1001, "app")
    assert info.create_time == pytest.approx(1700000000 + 5.0)
    assert info.open_files == ("/srv/app.jar", "/srv/data/app.db") and info.written_files == ("/srv/data/app.db",)
    assert info.mapped_files == ("/srv/lib/libnative.so",)
    assert info.listening == (Socket(port=8080, address="127.0.0.1", protocol="tcp"),)
    assert info.connections == (Connection("127.0.0.1", 3306, 54321),)


def test_the_filter_sees_name_exe_and_cmdline():
    seen = []
    found, _ = command.parse_scan(full_dump(), lambda name, exe, cmdline: seen.append((name, exe, cmdline)) or False)
    assert found == [] and seen == [("java", "/opt/jdk/bin/java", ("/opt/jdk/bin/java", "-jar", "/srv/app.jar"))]


@pytest.mark.parametrize("lost, note", [
    (b"4242 stat gone\n4242 cmdline gone\n", "exited while it was being read"),
    (b"4242 cmdline denied\n", "permission denied"),
])
def test_a_process_that_vanished_or_is_unreadable_is_a_note(lost, note):
    files = {"4242.stat": STAT} if b"denied" in lost else {}
    found, notes = command.parse_scan(full_dump(pid_files=files, lost=lost, links=b""))
    assert found == [] and len(notes) == 1 and note in notes[0] and "4242" in notes[0]


def test_a_zombie_is_gone():
    zombie = STAT.replace(b") S ", b") Z ")
    found, notes = command.parse_scan(full_dump(pid_files={"4242.stat": zombie, "4242.cmdline": b""}, links=b""))
    assert found == [] and "exited" in notes[0]


def test_unreadable_facts_stay_empty():
    files = {"4242.stat": STAT, "4242.cmdline": b"java\0"}
    [info], _ = command.parse_scan(full_dump(pid_files=files, links=b"", lost=b"4242 environ denied\n4242 maps denied\n"))
    assert info.environ == {} and info.uid == -1 and info.username == "" and info.mapped_files == () and info.exe == ""


def test_the_scripts_own_shell_is_left_out():
    files = {"99.stat": STAT.replace(b"4242", b"99"), "99.cmdline": b"sh\0"}
    assert command.parse_scan(full_dump(pid_files=files, links=b""))[0] == []


def test_deleted_names_and_exe_guesses_are_asked_of_the_host():
    links = b"".join(b"%s\0%s\0%s\0" % r for r in [
        (b"/proc/4242/exe", b"", b"?"),  # unreadable: argv[0] is the guess
        (b"/proc/4242/fd/3", b"/srv/app.log (deleted)", b"f"),  # rotated: a new app.log exists
        (b"/proc/4242/fd/4", b"/srv/old.db (deleted)", b"f"),   # gone for good
    ])
    asked = []

    def flags(paths):
        asked.extend(paths)
        return {"/srv/app.log": "ef", "/opt/jdk/bin/java": "efx"}

    answers = b"/opt/jdk/bin/java\0efx\0"
    [info], _ = command.parse_scan(full_dump(links=links, extra=frame("flags", answers)), path_flags=flags)
    assert info.exe == "/opt/jdk/bin/java"  # from the flags frame: not asked again
    assert "/opt/jdk/bin/java" not in asked and "/srv/app.log (deleted)" in asked
    assert info.open_files == ("/srv/app.log",)


@pytest.mark.parametrize("data", [
    b"no frames at all",
    command.FRAMES_BEGIN + b"@sizes 10\nshort",
    command.FRAMES_BEGIN + b"@sizes x\n",
    command.FRAMES_BEGIN + frame("sizes", b"   50 4242.stat\n") + frame("blob", b"only a few bytes"),
    command.FRAMES_BEGIN + b"garbage\n",
])
def test_malformed_output_is_a_host_error(data):
    with pytest.raises(HostError, match="malformed"):
        command.parse_scan(data)


def test_the_cheap_pass():
    comm = b"10\0java\0" + b"11\0kworker/0:1\0" + b"12\0averyveryverylon\0"
    cmd = {"10/cmdline": b"java\0-jar\0a.jar\0", "11/cmdline": b"", "12/cmdline": b"/opt/averyveryverylongname\0"}
    sizes, blob = sized(cmd)
    exe = b"10/exe\0/usr/bin/java\0f\0" + b"11/exe\0\0N\0" + b"12/exe\0/opt/averyveryverylongname (deleted)\0f\0"
    data = command.FRAMES_BEGIN + frame("comm", comm) + frame("cmdsizes", sizes) + frame("cmdlines", blob) + frame("exe", exe)
    cheap = command.parse_cheap(data)
    assert cheap[10] == ("java", "/usr/bin/java", ("java", "-jar", "a.jar"))
    assert cheap[11] == ("kworker/0:1", "", ())
    assert cheap[12] == ("averyveryverylongname", "/opt/averyveryverylongname", ("/opt/averyveryverylongname",))


def test_stat_lines():
    st = command.parse_stat_line("/x", b"81a4 1577 1796142307 0 42 2026-12-01 16:25:07.564842730 +0000", b"")
    assert (st.kind, st.size, st.mode, st.uid, st.gid) == ("file", 1577, 0o644, 0, 42)
    assert st.mtime == 1796142307 + 564842730 * 1e-9
    link = command.parse_stat_line("/l", b"a1ff 4 1 0 0 1970-01-01 00:00:01 +0000", b"a\nb")
    assert (link.kind, link.link_target, link.mtime) == ("link", "a\nb", 1.0)


@pytest.mark.parametrize("path", ["/plain/path", "it's \"quoted\" $HOME `x`", "new\nline\n", "caf\udce9 latin-1",
                                  "-starts-with-dash", "sp ace\ttab\\back"])
def test_bound_paths_reach_sh_byte_for_byte(path):
    prelude, (word,) = command.bind_paths([path])
    assert prelude.isascii()
    out = subprocess.run(["/bin/sh", "-c", prelude + f"printf '%s' {word}"], capture_output=True, check=True).stdout
    expected = os.fsencode(path)
    assert out == (b"./" + expected if path.startswith("-") else expected)


def test_a_nul_in_a_path_is_refused():
    with pytest.raises(HostError, match="NUL"):
        command.bind_paths(["/a\0b"])
