"""What a corpus application is: a real server we did not write, started the way its users
start it, so that the whole workflow (inventory -> analyze -> containerize, validated) runs on it
with no edit. ``catalog.py`` holds the list; one entry is a few lines.

Stdlib only: ``benchmarks/migration.py`` imports this before a2c is installed anywhere special.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence


class NotAvailable(Exception):
    """The app cannot run on this machine (a Debian package or tool is missing): say which."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Running:
    """A started corpus application: the pid a2c's inventory will see (the JVM or dotnet
    process itself, not a wrapper shell), the ports it listens on by role, and how to stop it."""

    name: str
    pid: int
    ports: dict[str, int]
    workdir: Path
    process: subprocess.Popen | None = None
    log: Path | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log else ""
        except OSError:
            return ""


@dataclass(frozen=True)
class CorpusApp:
    """One application of the corpus.

    ``start(workdir)`` prepares the app under ``workdir`` (a fresh folder it owns) and starts
    it; it returns once every port in ``Running.ports`` accepts connections, or raises
    (``NotAvailable`` when the machine lacks what it needs). ``http`` lists the roles of
    ``Running.ports`` that speak HTTP (for the reader of the results; a2c must find it out).
    """

    name: str
    description: str
    start: Callable[[Path], Running]
    http: Sequence[str] = ()
    tags: Sequence[str] = field(default_factory=tuple)


def launch(name: str, argv: Sequence[str], workdir: Path, ports: Mapping[str, int], *, cwd: Path | None = None,
           env: Mapping[str, str] | None = None, timeout: float = 90.0, user: str | None = None) -> Running:
    """Start ``argv`` in its own process group (``exec``-style: the pid is the server's), its
    output to ``workdir/<name>.out``, and wait until every port listens on loopback."""
    log = workdir / f"{name}.out"
    full_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", **(env or {})}
    handle = log.open("ab")
    process = subprocess.Popen(list(argv), cwd=str(cwd or workdir), env=full_env, stdout=handle,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                               user=user)
    handle.close()
    running = Running(name, process.pid, dict(ports), workdir, process, log)
    try:
        wait_listening(running, timeout)
    except BaseException:
        running.stop()
        raise
    return running


def wait_listening(running: Running, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(running.ports)
    while pending:
        if running.process is not None and running.process.poll() is not None:
            raise RuntimeError(f"{running.name} exited with {running.process.returncode} before listening:\n"
                               + running.log_tail())
        for role, port in list(pending.items()):
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    del pending[role]
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"{running.name} did not listen on {pending} within {timeout:.0f}s:\n"
                               + running.log_tail())
        if pending:
            time.sleep(0.3)


def require(*paths: str) -> None:
    """Raise NotAvailable unless every path exists (the packages' files the app runs from)."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise NotAvailable(f"missing {', '.join(missing)} (run scripts/setup.sh)")
