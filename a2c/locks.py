"""One advisory lock per application folder, so that two a2c commands never work on one
application at once (unpacking over each other's staging folder, or cleaning up a partial
file another command is still writing).

The lock is ``fcntl.flock`` on ``<app dir>/.lock``: the kernel drops it when its holder exits,
even after ``kill -9``, so a stale lock never needs removing. The file holds the holder's pid,
for the error message only. Taking a lock this process already holds is a no-op, so library
functions can lock for their own callers while the CLI holds the lock around a whole command.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from pathlib import Path
from typing import Iterator

from a2c.errors import WorkspaceError

LOCK_NAME = ".lock"
DEFAULT_WAIT = 600.0  # seconds; a containerize can hold the lock through a long image build
_POLL = 0.1
# When this process began working (close enough: a2c imports this module when a command starts).
# Partial files older than this were left by an earlier run.
STARTED = time.time()

_held: dict[str, tuple[int, int]] = {}  # real lock path -> (fd, depth)


def lock_wait() -> float:
    """How long to wait for another a2c: ``A2C_LOCK_WAIT`` seconds, else DEFAULT_WAIT."""
    try:
        return max(0.0, float(os.environ.get("A2C_LOCK_WAIT", DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


@contextlib.contextmanager
def app_lock(app_dir: Path, app_id: str, wait: float | None = None) -> Iterator[None]:
    """Hold the lock of one application folder (created if missing) for the ``with`` block."""
    try:
        app_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"cannot create {app_dir}: {exc.strerror}", "Check the workspace permissions.") from exc
    key = os.path.join(os.path.realpath(app_dir), LOCK_NAME)
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            _release(key)
        return
    fd = _acquire(key, app_id, lock_wait() if wait is None else wait)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        _release(key)


def _acquire(path: str, app_id: str, wait: float) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WorkspaceError(f"cannot open the lock file {path}: {exc.strerror}",
                             "Check the workspace permissions; remove the file if it is not a regular file.") from exc
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise WorkspaceError(
                    f"another a2c is working on {app_id} ({f'pid {holder}' if holder else 'pid unknown'}); "
                    f"waited {wait:g} s",
                    "Wait for it to finish and run the command again, or raise A2C_LOCK_WAIT (seconds).") from None
            time.sleep(_POLL)
        except OSError as exc:
            os.close(fd)
            raise WorkspaceError(f"cannot lock {path}: {exc.strerror}", "Check the workspace file system.") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _holder(fd: int) -> int:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return 0
    return int(text) if text.isascii() and text.isdigit() else 0


def _release(key: str) -> None:
    fd, depth = _held[key]
    if depth > 1:
        _held[key] = (fd, depth - 1)
        return
    del _held[key]
    os.close(fd)  # closing the only descriptor drops the flock


def remove_stale(directory: Path, prefix: str, before: float | None = None) -> list[str]:
    """Remove ``directory/<prefix>*`` files and folders last changed before ``before`` (default: when this
    process started): what a killed earlier run left. Call it only while holding the folder's
    app_lock, so that no live a2c is still writing one of them. Returns the names removed."""
    cutoff = STARTED if before is None else before
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(prefix) or name == LOCK_NAME:
            continue
        path = directory / name
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if st.st_mtime >= cutoff:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        removed.append(name)
    return removed


__all__ = ["app_lock", "existing_app_lock", "remove_stale", "lock_wait", "STARTED", "LOCK_NAME"]


@contextlib.contextmanager
def existing_app_lock(app_dir: Path, app_id: str) -> Iterator[None]:
    """``app_lock`` for a step on an application that must exist already: a missing folder is
    left missing (the step then says the application is unknown) instead of being created."""
    if not app_dir.is_dir():
        yield
        return
    with app_lock(app_dir, app_id):
        yield
