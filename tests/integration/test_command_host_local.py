"""CommandHost over LocalShell against this machine's real /proc and files, compared fact for fact
with LocalHost: a real Java process the test starts (command line, environment, listening port,
open, written and mapped files), the inventory's ids, and file names that quoting usually breaks
(newlines, quotes, spaces, bytes that are not UTF-8)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from a2c.analyzers.common.archives import open_zip, read_directory, read_member
from a2c.analyzers.registry import load_registry
from a2c.errors import HostError
from a2c.hosts import command
from a2c.hosts.command import CommandHost
from a2c.hosts.local import LocalHost
from a2c.hosts.shell import LocalShell
from a2c.steps.inventory import discover

from tests.conftest import free_port
from tests.integration import sshd_server
from tests.integration.sshd_server import build_java_app, start_java_app, stop_process

# The shared fixtures, by name for pytest.
hang_guard = sshd_server.hang_guard

pytestmark = pytest.mark.usefixtures("hang_guard")


@pytest.fixture(scope="module")
def java_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("java-app")
    jar = build_java_app(folder / "build")
    port = free_port()
    proc = start_java_app(jar, folder / "run", port)
    yield proc, port, jar, folder / "run"
    stop_process(proc)


def is_app(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
    return "Main" in cmdline and any(arg.endswith("app.jar") for arg in cmdline)


def test_the_java_process_reads_the_same_as_locally(java_app):
    proc, port, jar, workdir = java_app
    host = CommandHost(LocalShell())
    ours = host.process(proc.pid)
    theirs = LocalHost().process(proc.pid)
    assert ours == theirs
    # and what is compared is really there: not two empty records
    assert ours.cmdline[-4:] == ("Main", str(port), str(workdir / "caf\u00e9 data\nbase.db"),
                                 str(workdir / "it's \"config\".properties"))
    assert ours.environ["A2C_TEST_MARKER"] == "caf\u00e9 \"quoted\" $HOME" and ours.environ["A2C_TEST_EMPTY"] == ""
    assert [(s.port, s.address.removeprefix("::ffff:")) for s in ours.listening] == [(port, "127.0.0.1")]
    assert str(jar) in ours.open_files and str(workdir / "caf\u00e9 data\nbase.db") in ours.written_files
    assert str(workdir / "it's \"config\".properties") in set(ours.open_files) - set(ours.written_files)
    assert any(path.endswith("libjvm.so") for path in ours.mapped_files)
    assert ours.exe == os.path.realpath(ours.exe) and ours.cwd == str(workdir) and ours.username == "root"


def test_a_filtered_scan_finds_the_same_processes(java_app):
    proc, *_ = java_app
    ours, _ = CommandHost(LocalShell()).scan_processes(is_app)
    theirs, _ = LocalHost().scan_processes(is_app)
    assert [p.pid for p in ours] == [proc.pid] and ours == theirs


def test_the_filter_sees_what_the_local_filter_sees(java_app):
    """Every process's cheap facts (name, exe, command line) as LocalHost's filter gets them. Other
    processes come and go on a busy machine: what LocalHost saw both before and after is what
    CommandHost must have seen in between (and it adds only itself and the odd newcomer)."""
    before: set[tuple] = set()
    ours: set[tuple] = set()
    after: set[tuple] = set()
    LocalHost().scan_processes(lambda *facts: before.add(facts) or False)
    CommandHost(LocalShell()).scan_processes(lambda *facts: ours.add(facts) or False)
    LocalHost().scan_processes(lambda *facts: after.add(facts) or False)
    stable = before & after
    assert len(stable) >= 5 and len(stable - ours) <= 2, stable - ours
    # A process that is exiting has lost its exe link: those are in flux, not wrongly read.
    extra = {facts for facts in ours - (before | after) if facts[1]}
    assert len(extra) <= 3, extra
    [java] = [facts for facts in ours if is_app(*facts)]
    assert java in stable and java[0] == "java" and java[1].endswith("/bin/java")


def test_the_full_scan_script_agrees_with_local_host(java_app):
    """SCAN_SCRIPT (what Systems Manager runs on every instance at once), parsed with the filter."""
    proc, *_ = java_app
    data = LocalShell().run(command.SCAN_SCRIPT)
    host = CommandHost(LocalShell(), prefetched_scan=data)
    [ours], _ = host.scan_processes(is_app)
    assert ours == LocalHost().process(proc.pid)


def test_inventory_gives_the_same_ids(java_app):
    proc, *_ = java_app
    registry = load_registry()
    ours = {k: v for k, v in discover(CommandHost(LocalShell()), registry).entries.items() if v.process_id == proc.pid}
    theirs = {k: v for k, v in discover(LocalHost(), registry).entries.items() if v.process_id == proc.pid}
    assert len(ours) == 1 and ours == theirs


def test_a_process_that_exits_is_a_host_error():
    done = subprocess.Popen(["true"])
    done.wait()
    with pytest.raises(HostError, match="not running"):
        CommandHost(LocalShell()).process(done.pid)


def test_a_process_that_vanishes_between_the_passes_is_a_note():
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "a2c-vanishing-marker"])
    try:
        def wanted(name, exe, cmdline):
            if "a2c-vanishing-marker" in cmdline:
                victim.kill()
                victim.wait()
                return True
            return False

        found, notes = CommandHost(LocalShell()).scan_processes(wanted)
        assert all(p.pid != victim.pid for p in found)
        assert any(str(victim.pid) in note and "exited" in note for note in notes)
    finally:
        victim.kill()
        victim.wait()


# -- files -------------------------------------------------------------------------------------

HARD_NAMES = ["plain.txt", "with space", "new\nline", "it's \"quoted\"", "$(touch pwned)", "-dash", "tab\there",
              "caf\u00e9", os.fsdecode(b"latin1-\xe9"), "trailing-newline\n"]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    for index, name in enumerate(HARD_NAMES):
        (root / name).write_bytes(f"content {index}\n".encode())
    (root / "sub dir").mkdir()
    os.symlink("new\nline", root / "link to newline")
    os.symlink("missing-target", root / "dangling")
    os.symlink(str(root / "sub dir"), root / "dirlink")
    os.mkfifo(root / "fifo")
    return root


def test_files_read_the_same_as_locally(tree):
    ours, theirs = CommandHost(LocalShell()), LocalHost()
    assert ours.list_dir(str(tree)) == theirs.list_dir(str(tree)) and len(ours.list_dir(str(tree))) == len(HARD_NAMES) + 5
    for name in ours.list_dir(str(tree)) + ["nonexistent", "sub dir/../plain.txt"]:
        path = str(tree / name)
        assert ours.lstat(path) == theirs.lstat(path), name
        assert ours.realpath(path) == theirs.realpath(path), name
        assert ours.stat(path) == theirs.stat(path), name
        if theirs.is_file(path):
            assert ours.read_bytes(path) == theirs.read_bytes(path), name
    assert not (tree / "pwned").exists() and not os.path.exists("pwned")
    assert ours.list_dir(str(tree / "dirlink")) == theirs.list_dir(str(tree / "dirlink")) == []


def test_files_that_cannot_be_read_are_host_errors(tree):
    host = CommandHost(LocalShell())
    with pytest.raises(HostError, match="not a regular file"):
        host.open(str(tree / "fifo"))  # would block forever if opened
    with pytest.raises(HostError, match="no such file"):
        host.open(str(tree / "nonexistent"))
    with pytest.raises(HostError, match="cannot list"):
        host.list_dir(str(tree / "plain.txt"))
    with pytest.raises(HostError, match="cannot list"):
        host.list_dir(str(tree / "nonexistent"))
    assert host.lstat(str(tree / "plain.txt" / "below-a-file")) is None


def test_a_jar_is_read_by_ranges(tmp_path):
    jar = build_java_app(tmp_path / "big", padding_bytes=8 << 20)
    host = CommandHost(LocalShell())
    with host.open(str(jar)) as stream:
        directory = read_directory(stream, str(jar))
        fetched = stream.raw.bytes_read  # type: ignore[attr-defined]
    with LocalHost().open(str(jar)) as local:
        assert directory.raw_names == read_directory(local, str(jar)).raw_names
    assert len(directory) == 10 and fetched < jar.stat().st_size / 20
    with open_zip(host, str(jar)) as archive:
        assert read_member(archive, "META-INF/MANIFEST.MF") == b"Manifest-Version: 1.0\nMain-Class: Main\n"


# -- the shell itself ----------------------------------------------------------------------------

def test_local_shell_limits():
    shell = LocalShell()
    assert shell.run("printf 'a\\000b'") == b"a\0b"
    assert shell.run("cat", stdin=b"x" * 300_000) == b"x" * 300_000
    started = time.monotonic()
    with pytest.raises(HostError, match="did not finish within"):
        shell.run("sleep 30 & sleep 30", timeout=0.5)
    with pytest.raises(HostError, match="more than 1048576 bytes"):
        shell.run("yes", limit=1 << 20)
    assert time.monotonic() - started < 5
    with pytest.raises(HostError, match=r"exit status 3\): went wrong"):
        shell.run("echo went wrong >&2; exit 3")


def test_the_fallbacks_give_the_same_facts(java_app):
    """Hosts without GNU find (busybox: links read one by one) and command lines that change
    between the batch reads (then copied one by one) give the same facts."""
    proc, *_ = java_app
    no_gnu_find = "a2c_gnufind=1; else a2c_gnufind=0; fi"
    assert no_gnu_find in command.CHEAP_SCRIPT
    racing = 'if [ "$a2c_s1" = "$a2c_s2" ]; then a2c_ok=1; break; fi'
    assert racing in command.CHEAP_SCRIPT

    class Busybox(LocalShell):
        def run(self, script, **kwargs):
            script = script.replace(no_gnu_find, "a2c_gnufind=0; else a2c_gnufind=0; fi").replace(racing, ":")
            return super().run(script, **kwargs)

    [ours], _ = CommandHost(Busybox()).scan_processes(is_app)
    assert ours == LocalHost().process(proc.pid)


def test_odd_process_names_reach_the_filter_unchanged(tmp_path):
    """The kernel's name of a process is its executable's base name: spaces, a backslash and
    bytes that are not UTF-8 included."""
    odd = tmp_path / os.fsdecode(b" sp\\ace \xe9")
    os.symlink(sys.executable, odd)
    victim = subprocess.Popen([str(odd), "-c", "import time; print(flush=True); time.sleep(60)", "a2c-odd-name"],
                              stdout=subprocess.PIPE)
    try:
        victim.stdout.readline()
        seen: list[tuple] = []
        CommandHost(LocalShell()).scan_processes(lambda *facts: "a2c-odd-name" in facts[2] and bool(seen.append(facts)))
        assert seen == [local_facts(victim.pid)] and seen[0][0] == os.fsdecode(b" sp\\ace \xe9")
    finally:
        victim.kill()
        victim.wait()
        victim.stdout.close()


def local_facts(pid: int) -> tuple:
    from a2c.hosts.local import ProcFS

    return ProcFS().facts(pid)
