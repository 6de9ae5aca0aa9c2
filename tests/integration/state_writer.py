"""StateWriter (fixtures/samples/state-writer), a real JVM that writes its state between opening
and closing a file, compiled into a folder and run from it: shared by the tests that need a live
application no option or configuration describes."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

from tests.conftest import FIXTURES, free_port, missing


def compile_into(app: Path) -> None:
    if not shutil.which("javac"):
        missing("a JDK (javac)", "install openjdk-17-jdk-headless")
    app.mkdir(parents=True, exist_ok=True)
    subprocess.run(["javac", "--release", "11", "-d", str(app), str(FIXTURES / "samples" / "state-writer" / "StateWriter.java")],
                   check=True)


@contextlib.contextmanager
def running(app: Path) -> Iterator[subprocess.Popen]:
    """StateWriter started from ``app`` on a free port, until it accepts; killed (by its pid) after."""
    port = free_port()
    proc = subprocess.Popen(["java", "-cp", str(app), "StateWriter", str(port)], cwd=app,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("StateWriter did not start")
        yield proc
    finally:
        proc.kill()
        proc.wait()
