"""LocalHost against real processes: vanishing processes, listening sockets, stable ids across restarts,
and the /proc reader giving what psutil gives."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from a2c.analyzers.registry import load_registry
from a2c.steps.inventory import discover
from a2c.errors import HostError
from a2c.hosts import local
from a2c.hosts.local import LocalHost

from tests.conftest import FIXTURES, missing, free_port



@pytest.fixture(scope="module")
def plain_java_classes(tmp_path_factory):
    if not shutil.which("javac"):
        missing("a JDK (javac)", "install openjdk-17-jdk-headless")
    out = tmp_path_factory.mktemp("plain-java")
    subprocess.run(["javac", "--release", "11", "-d", str(out), str(FIXTURES / "samples" / "plain-java" / "Main.java")],
                   check=True)
    return out


def _start(classes, port: int, cwd, java_options: tuple[str, ...] = (), env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(["java", *java_options, "-cp", str(classes), "Main", str(port)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("plain-java did not start")


def test_process_that_vanishes_mid_scan_is_a_note(tmp_path):
    # Popen returns once the exec began; its command line shows when the victim prints.
    victim = subprocess.Popen([sys.executable, "-c", "import time; print(flush=True); time.sleep(60)", "a2c-vanishing-marker"],
                              stdout=subprocess.PIPE)
    try:
        victim.stdout.readline()
        def wanted(name, exe, cmdline):
            if "a2c-vanishing-marker" in cmdline:
                victim.kill()
                victim.wait()
                return True
            return False

        processes, notes = LocalHost().scan_processes(wanted)
        assert all(p.pid != victim.pid for p in processes)
        assert any(str(victim.pid) in n and "exited" in n for n in notes)
    finally:
        victim.kill()
        victim.wait()
        victim.stdout.close()


SERVER = """
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
s6 = socket.socket(socket.AF_INET6); s6.bind(("::1", 0)); s6.listen()
c = socket.create_connection(s.getsockname()); peer, _ = s.accept()
log = open(sys.argv[1], "a")
print(s.getsockname()[1], s6.getsockname()[1], flush=True)
time.sleep(60)
"""


@pytest.fixture
def server(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "app.log"), "a2c-server-marker"], cwd=tmp_path,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "A2C_TEST_MARKER": "caf\u00e9"})
    try:
        ports = tuple(int(p) for p in proc.stdout.readline().split())
        yield proc, ports
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_scan_reads_a_wanted_process_in_full(server, tmp_path):
    proc, (port, port6) = server
    processes, _ = LocalHost().scan_processes(lambda name, exe, cmdline: "a2c-server-marker" in cmdline)
    [info] = processes
    assert info.pid == proc.pid and info.cwd == str(tmp_path) and info.exe == os.path.realpath(sys.executable)
    assert info.environ["A2C_TEST_MARKER"] == "caf\u00e9" and info.ppid == os.getpid()
    assert (info.uid, info.username) == (os.getuid(), local.pwd.getpwuid(os.getuid()).pw_name)
    assert [(s.port, s.protocol) for s in info.listening] == sorted([(port, "tcp"), (port6, "tcp6")])
    assert {c.remote_port for c in info.connections} >= {port}
    assert str(tmp_path / "app.log") in info.open_files
    assert abs(info.create_time - time.time()) < 60


def test_proc_reader_agrees_with_psutil(server):
    proc, _ = server
    ours = LocalHost().process(proc.pid)
    theirs = local._psutil_process(proc.pid)
    assert ours == theirs.__class__(**{**theirs.__dict__, "connections": tuple(sorted(
        theirs.connections, key=lambda c: (c.remote_address, c.remote_port, c.local_port)))})
    wanted = lambda name, exe, cmdline: "a2c-server-marker" in cmdline  # noqa: E731
    assert [p.pid for p in LocalHost().scan_processes(wanted)[0]] == [p.pid for p in local._psutil_scan(wanted)[0]]


def test_gone_process_is_a_host_error():
    proc = subprocess.Popen(["true"])
    proc.wait()
    with pytest.raises(HostError, match="not running"):
        LocalHost().process(proc.pid)


def test_generic_java_id_survives_restart(plain_java_classes, tmp_path):
    port = free_port()
    first = _start(plain_java_classes, port, tmp_path)
    try:
        before = {e.app_id: e for e in discover(LocalHost(), load_registry()).entries.values() if e.process_id == first.pid}
    finally:
        first.kill()
        first.wait()
    second = _start(plain_java_classes, port, tmp_path)
    try:
        after = {e.app_id: e for e in discover(LocalHost(), load_registry()).entries.values() if e.process_id == second.pid}
    finally:
        second.kill()
        second.wait()
    assert len(before) == 1 and before.keys() == after.keys()
    entry = next(iter(after.values()))
    assert entry.application_type == "java-generic" and entry.ports == (port,)
    assert entry.app_id.startswith("java-generic-")
    assert os.path.basename(entry.base_dir) == tmp_path.name
