"""LocalHost tells the files a real process holds open for writing (from /proc/PID/fdinfo), as
psutil does; and a real server's data folder becomes persistent storage from them and its
configuration."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from a2c.analyzers.registry import load_registry
from a2c.hosts import local
from a2c.hosts.local import LocalHost
from a2c.steps.analyze import build_document
from a2c.steps.inventory import discover
from a2c.workspace import validate

from tests.conftest import free_port, missing

HOLDER = """
import os, socket, sys, time
folder = sys.argv[1]
read = open(os.path.join(folder, "read.txt"), "r")
write = open(os.path.join(folder, "write.bin"), "w")
append = open(os.path.join(folder, "append.log"), "a")
both = os.open(os.path.join(folder, "both.db"), os.O_RDWR)
twice = (open(os.path.join(folder, "twice.dat"), "r"), open(os.path.join(folder, "twice.dat"), "r+"))
pipe = os.pipe()
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
folder_fd = os.open(folder, os.O_RDONLY)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    for name in ("read.txt", "both.db", "twice.dat"):
        (tmp_path / name).write_text("x")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "a2c-written-marker"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc, tmp_path
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_written_files_are_the_regular_files_open_for_writing(holder):
    proc, folder = holder
    info = LocalHost().process(proc.pid)
    written = {str(folder / n) for n in ("write.bin", "append.log", "both.db", "twice.dat")}
    assert set(info.written_files) == written
    assert set(info.open_files) >= written | {str(folder / "read.txt")}
    assert str(folder) not in info.open_files  # a folder is no regular file
    assert list(info.written_files) == sorted(info.written_files)


def test_scan_and_psutil_agree_on_written_files(holder):
    proc, _ = holder
    [scanned] = LocalHost().scan_processes(lambda name, exe, cmdline: "a2c-written-marker" in cmdline)[0]
    theirs = local._psutil_process(proc.pid)
    assert scanned.written_files == theirs.written_files == LocalHost().process(proc.pid).written_files


# -- a real server -------------------------------------------------------------------------------

HSQLDB_JAR = "/usr/share/java/hsqldb.jar"


def _wait_port(proc: subprocess.Popen, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.fixture
def hsqldb(tmp_path):
    """HSQLDB as its documentation starts it: ./server.properties names a file: database."""
    if not shutil.which("java") or not os.path.exists(HSQLDB_JAR):
        missing("Java and HSQLDB", "apt-get install default-jre-headless libhsqldb-java")
    port = free_port()
    (tmp_path / "server.properties").write_text(
        f"server.database.0=file:{tmp_path}/db/mydb\nserver.dbname.0=mydb\nserver.port={port}\nserver.silent=true\n")
    proc = subprocess.Popen(["java", "-cp", HSQLDB_JAR, "org.hsqldb.server.Server"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(proc, port)
        yield proc, tmp_path
    finally:
        proc.kill()
        proc.wait()


def test_a_running_hsqldb_gets_its_database_folder_as_persistent_storage(hsqldb):
    proc, folder = hsqldb
    host, registry = LocalHost(), load_registry()
    lock = str(folder / "db" / "mydb.lck")  # HSQLDB's lock file, held open read-write once the database is
    deadline = time.monotonic() + 30
    while lock not in (info := host.process(proc.pid)).written_files and time.monotonic() < deadline:
        time.sleep(0.2)
    assert lock in info.written_files
    entry = next(e for e in discover(host, registry).entries.values() if e.process_id == proc.pid)
    analyzer = registry.get(entry.analyzer_id)
    analysis = build_document(analyzer.analyze(entry, info, host))
    validate(analysis, "analysis", "analysis.json")
    [storage] = analysis["analysisInfo"]["persistentStorage"]
    assert storage["path"] == str(folder / "db") and storage["bakeContents"] is False
    assert storage["evidence"][0].startswith(f"server.database.0=file:{folder}/db/mydb in {folder}/server.properties")
    written = next(e for e in storage["evidence"] if e.startswith("open for writing: "))
    assert f"{folder}/db/mydb.lck" in written  # with others while it starts (mydb.properties.new)
    plan = analyzer.plan(analysis, host)
    assert str(folder / "db") in plan.writable_dirs and str(folder / "db") in plan.layers[-1].excludes
    assert str(folder) in plan.layers[-1].paths  # server.properties is copied
