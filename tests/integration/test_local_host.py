"""LocalHost against real processes: vanishing processes, listening sockets, stable ids across restarts."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from a2c.analyzers.registry import load_registry
from a2c.discovery import discover
from a2c.errors import HostError
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
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "a2c-vanishing-marker"])
    try:
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
