"""The plain object every command receives: workspace, output, host and registry, built lazily."""

from __future__ import annotations

import logging
import logging.handlers
import os
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

    def local_host(self, snapshot: str | None = None) -> Any:
        if snapshot:
            from a2c.hosts.snapshot import SnapshotHost

            return SnapshotHost(snapshot)
        import sys

        if sys.platform == "win32":
            from a2c.hosts.windows import WindowsLocalHost

            return WindowsLocalHost()
        from a2c.hosts.local import LocalHost

        return LocalHost()

    def registry(self) -> Any:
        from a2c.analyzers.registry import load_registry

        return load_registry()


def setup_file_logging(workspace: Workspace) -> None:
    root = logging.getLogger("a2c")
    if any(getattr(h, "_a2c", False) for h in root.handlers):
        return
    try:
        handler = logging.handlers.RotatingFileHandler(workspace.log_path, maxBytes=5 * 1024 * 1024, backupCount=3)
    except OSError:
        return
    handler._a2c = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
