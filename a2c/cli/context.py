"""The plain object every command receives: workspace, output and the steps' Environment, built lazily."""

from __future__ import annotations

import logging
import logging.handlers
import os
import traceback
from dataclasses import dataclass, field
from typing import Any

from a2c.cli.output import Output
from a2c.workspace import Workspace

log = logging.getLogger("a2c")


@dataclass
class AppContext:
    workspace_option: str | None
    output: Output
    debug: bool = False
    _workspace: Workspace | None = field(default=None, repr=False)
    _env: Any = field(default=None, repr=False)

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            from a2c.config import DEFAULT_WORKSPACE, load_config

            root = self.workspace_option
            if not root:
                config = load_config()
                root = config.workspace if config else DEFAULT_WORKSPACE
            self._workspace = Workspace(os.path.expanduser(root)).ensure()
            setup_file_logging(self._workspace)
        return self._workspace

    @property
    def env(self) -> Any:
        """The Environment the steps run in, built once per command."""
        if self._env is None:
            from a2c.env import Environment

            self._env = Environment(workspace=self.workspace, reporter=self.output)
        return self._env


def host_address(snapshot: str | None) -> str:
    """The host a command reads: this machine, or a snapshot folder given with --snapshot."""
    return f"snapshot:{snapshot}" if snapshot else "local"


# A log line is for finding a problem, not for keeping data: longer messages are cut.
MAX_LOG_MESSAGE = 2000

class WorkspaceLogFormatter(logging.Formatter):
    """Lines for ``<workspace>/log/a2c.log``, which must never hold a secret.

    Tracebacks keep their frames but not the messages of unexpected exceptions: those are
    raised over host input and can quote it (``invalid literal for int() with base 10:
    's3cret'``). Our own A2CError messages are written for the user and stay, shortened.
    ``--debug`` prints full tracebacks on the terminal, never into this file.
    """

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if len(record.message) > MAX_LOG_MESSAGE:
            record.message = record.message[:MAX_LOG_MESSAGE] + f" …[{len(record.message) - MAX_LOG_MESSAGE} characters cut]"
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text

    def formatException(self, ei: Any) -> str:
        return "".join(redacted_traceback(ei[1])).rstrip("\n")


def redacted_traceback(exc: BaseException) -> list[str]:
    """Traceback lines of ``exc`` and the exceptions chained to it, with unexpected messages withheld."""
    from a2c.errors import A2CError

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for item in reversed(chain):
        if lines:
            lines.append("\nThe above exception led to the following one:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_list(traceback.extract_tb(item.__traceback__))
        name = f"{type(item).__module__}.{type(item).__qualname__}"
        if isinstance(item, A2CError):
            lines.append(f"{name}: {item.message[:MAX_LOG_MESSAGE]}\n")
        else:
            lines.append(f"{name}: (message withheld from the log: {len(str(item))} characters)\n")
    return lines


class WorkspaceLogHandler(logging.handlers.RotatingFileHandler):
    """The log file is best effort. On a full or read-only workspace the step that writes there
    reports it (exit 3, with a hint); the logger must not print "--- Logging error ---" and a
    traceback for every line it could not write, nor fail when it is closed."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass

    def close(self) -> None:
        try:
            super().close()
        except OSError:
            pass


def setup_file_logging(workspace: Workspace) -> None:
    root = logging.getLogger("a2c")
    target = os.path.abspath(workspace.log_path)
    for existing in [h for h in root.handlers if getattr(h, "_a2c", False)]:
        if getattr(existing, "baseFilename", "") == target:
            return
        root.removeHandler(existing)  # main() run again in one process, for another workspace
        existing.close()
    try:
        # backslashreplace: a lone surrogate from a non-UTF-8 host value must not fail the write.
        handler = WorkspaceLogHandler(workspace.log_path, maxBytes=5 * 1024 * 1024, backupCount=3,
                                     encoding="utf-8", errors="backslashreplace")
    except OSError:
        return
    handler._a2c = True  # type: ignore[attr-defined]
    handler.setFormatter(WorkspaceLogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
