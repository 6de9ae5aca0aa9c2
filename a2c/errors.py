"""One error type for everything a user can act on.

Every error carries a message (what is wrong), a hint (what to do next) and an exit
status, so that only the CLI's ``main()`` decides how to print and exit.
"""

from __future__ import annotations

import enum
import traceback
from pathlib import Path


MAX_ECHO = 300  # characters of a message built from untrusted content


def excerpt(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut in the middle to about ``limit`` characters, keeping its start and end: an
    error quoting a 50 MB field from an archive stays a readable line."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…[{len(text) - 2 * half} characters cut]…{text[-half:]}"


def quoted(value: object, limit: int = 80) -> str:
    """A value for an error message: repr'd (NUL, newlines and controls show, on one line) and cut."""
    return excerpt(repr(value), limit)


class ExitStatus(enum.IntEnum):
    """Exit codes a script can branch on; documented in the README."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    WORKSPACE = 3
    NOT_FOUND = 4
    HOST = 5
    INVALID_FILE = 6
    DOCKER_UNAVAILABLE = 7
    BUILD_FAILED = 8
    VALIDATION_FAILED = 9
    AWS = 10
    WINDOWS_HOST_REQUIRED = 11
    NOT_SUPPORTED = 12
    PLUGIN = 13
    INTERRUPTED = 130


class A2CError(Exception):
    exit_status: ExitStatus = ExitStatus.UNEXPECTED

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(A2CError):
    """A command's arguments make no sense together (exit 2, like click's own usage errors)."""

    exit_status = ExitStatus.USAGE


class WorkspaceError(A2CError):
    exit_status = ExitStatus.WORKSPACE


class AppNotFound(A2CError):
    exit_status = ExitStatus.NOT_FOUND


class HostError(A2CError):
    """A file or process on the application host could not be read."""

    exit_status = ExitStatus.HOST


class InvalidFile(A2CError):
    """A workspace file (edited by the user) or a customer file does not parse or validate."""

    exit_status = ExitStatus.INVALID_FILE


class DockerUnavailable(A2CError):
    exit_status = ExitStatus.DOCKER_UNAVAILABLE


class BuildFailed(A2CError):
    exit_status = ExitStatus.BUILD_FAILED


class ValidationFailed(A2CError):
    """The built image ran but did not answer on its application port."""

    exit_status = ExitStatus.VALIDATION_FAILED


class AWSError(A2CError):
    exit_status = ExitStatus.AWS


class WindowsHostRequired(A2CError):
    """Artifacts for a Windows container are written; only a Windows container host can build them."""

    exit_status = ExitStatus.WINDOWS_HOST_REQUIRED


class NotSupported(A2CError):
    """A step a2c does not do (yet) for this kind of application."""

    exit_status = ExitStatus.NOT_SUPPORTED


def crash_summary(exc: BaseException) -> str:
    """An unexpected exception by type and place, never by message: messages of exceptions raised
    over host input can quote configuration values (a password in "invalid literal for int()"),
    and this text lands in analysis.json and the log. --debug prints the full traceback."""
    if isinstance(exc, A2CError):  # our own message: written for the user, values already cut
        return exc.message
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} in {Path(last.filename).name}:{last.lineno} ({last.name})"
