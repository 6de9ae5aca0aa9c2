"""The Shell seam: a POSIX shell on some machine, the only thing a CommandHost needs of it.

SSH (``a2c.gateways.ssh.SshShell``) and Systems Manager (``a2c.gateways.ssm.SsmShell``) implement
it on remote machines; ``LocalShell`` runs ``/bin/sh`` here, so tests can read this machine through
the same scripts and compare with ``LocalHost``. Every implementation bounds what a host can do to
us: a timeout on each command and a limit on its output, both ending in HostError.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time
from typing import BinaryIO, Protocol

from a2c.errors import HostError, excerpt

DEFAULT_LIMIT = 64 * 1024 * 1024
STDERR_KEEP = 8192  # bytes of stderr kept for the error message
_CHUNK = 1 << 16


class Shell(Protocol):
    """A POSIX shell on some machine: how a CommandHost reads a host it cannot read directly."""

    name: str  # for messages: "web1 (10.0.0.5:22)"

    def run(self, script: str, *, stdin: bytes | None = None,
            timeout: float | None = None, limit: int = DEFAULT_LIMIT) -> bytes:
        """Run ``script`` with /bin/sh on the host; its stdout. Raises HostError on a non-zero exit
        (with an excerpt of stderr), on timeout, and when stdout passes ``limit`` (the read stops
        there: a hostile host cannot fill memory)."""
        ...

    def open(self, path: str) -> BinaryIO | None:
        """A seekable binary reader (ranged reads, e.g. SFTP), or None when the transport has none."""
        ...

    def close(self) -> None:
        ...


def failed_command(name: str, status: object, stderr: bytes) -> HostError:
    """The error for a script that exited non-zero, quoting (a cut of) what it said."""
    said = excerpt(stderr.decode("utf-8", "replace").strip()) or "nothing on stderr"
    return HostError(f"a command failed on {name} (exit status {status}): {said}",
                     "Check that the user a2c logs in as may read /proc and the application's files there "
                     "(root, or sudo-less read access).")


def timed_out(name: str, timeout: float) -> HostError:
    return HostError(f"a command on {name} did not finish within {timeout:g} s; stopped",
                     "The host is slow or the command hangs there; raise the target's timeout if the host is just slow.")


def too_much_output(name: str, limit: int) -> HostError:
    return HostError(f"a command on {name} printed more than {limit} bytes; stopped reading",
                     "The host's shell prints more than a2c asked for (a login banner or a forced command?); "
                     "check the account's shell start-up files and sshd's ForceCommand.")


class LocalShell:
    """``/bin/sh`` on this machine, with the limits every Shell has: the timeout kills the whole
    process group, and stdout stops being read (and the group is killed) past the limit."""

    def __init__(self, timeout: float = 120.0, name: str = "this machine (local shell)") -> None:
        self.name = name
        self.timeout = timeout

    def run(self, script: str, *, stdin: bytes | None = None,
            timeout: float | None = None, limit: int = DEFAULT_LIMIT) -> bytes:
        timeout = self.timeout if timeout is None else timeout
        proc = subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        feeder = None
        if stdin is not None:
            feeder = threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True)
            feeder.start()
        try:
            out, err = _collect(proc, self.name, time.monotonic() + timeout, timeout, limit)
        finally:
            _kill_group(proc)
            proc.wait()
            for stream in (proc.stdout, proc.stderr):
                assert stream is not None
                stream.close()
            if feeder is not None:
                feeder.join(1)
        if proc.returncode != 0:
            raise failed_command(self.name, proc.returncode, err)
        return out

    def open(self, path: str) -> BinaryIO | None:
        return None  # CommandHost reads ranges through dd, exactly as on a host without SFTP

    def close(self) -> None:
        pass


def _feed(pipe: BinaryIO | None, data: bytes) -> None:
    assert pipe is not None
    try:
        pipe.write(data)
    except OSError:  # the script exited without reading all of it
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _collect(proc: subprocess.Popen, name: str, deadline: float, timeout: float, limit: int) -> tuple[bytes, bytes]:
    """stdout (at most ``limit`` bytes) and the first bytes of stderr, until both close."""
    assert proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    size = 0
    err = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, "out")
        selector.register(proc.stderr, selectors.EVENT_READ, "err")
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise timed_out(name, timeout)
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data == "out":
                    size += len(chunk)
                    if size > limit:
                        raise too_much_output(name, limit)
                    out.append(chunk)
                elif len(err) < STDERR_KEEP:
                    err += chunk[:STDERR_KEEP - len(err)]
    # Both pipes closed; the shell itself may still be exiting.
    left = max(0.0, deadline - time.monotonic())
    try:
        proc.wait(left)
    except subprocess.TimeoutExpired:
        raise timed_out(name, timeout) from None
    return b"".join(out), bytes(err)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the script and everything it started (it leads its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
