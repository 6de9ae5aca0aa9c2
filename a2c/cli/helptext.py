"""What every command's ``--help`` ends with (an example, the environment it honours, the exit
statuses it uses), and shell completion of application ids from the workspace's inventory."""

from __future__ import annotations

import json
import os
from typing import Any, Iterable

from a2c.errors import ExitStatus

# Every command honours these (click reads A2C_<OPTION> for each option too).
COMMON_ENV = {
    "A2C_WORKSPACE": "the workspace folder (like --workspace)",
    "A2C_JSON_MODE": "1 prints results and errors as JSON (like --json)",
    "A2C_CONFIG": "where `a2c init` keeps its settings (default ~/.a2c/config.json)",
}
_MEANING = {
    ExitStatus.OK: "done",
    ExitStatus.USAGE: "wrong usage",
    ExitStatus.WORKSPACE: "workspace problem (missing, read-only, full, locked)",
    ExitStatus.NOT_FOUND: "unknown application id, or the application is not running",
    ExitStatus.HOST: "a file or process on the host could not be read",
    ExitStatus.INVALID_FILE: "an invalid file (the message names it and the JSON path)",
    ExitStatus.DOCKER_UNAVAILABLE: "no Docker engine",
    ExitStatus.BUILD_FAILED: "the image build or push failed",
    ExitStatus.VALIDATION_FAILED: "the image ran but did not answer",
    ExitStatus.AWS: "AWS: no credentials, no region, or an API error",
    ExitStatus.WINDOWS_HOST_REQUIRED: "Windows artifacts written; build them on a Windows container host",
    ExitStatus.NOT_SUPPORTED: "not supported (yet) for this application",
    ExitStatus.PLUGIN: "an installed plugin cannot be used (a duplicate id)",
    ExitStatus.UNEXPECTED: "unexpected error (see the log)",
    ExitStatus.INTERRUPTED: "interrupted; run it again to finish",
}
_ALWAYS = (ExitStatus.OK, ExitStatus.UNEXPECTED, ExitStatus.USAGE, ExitStatus.WORKSPACE, ExitStatus.PLUGIN,
           ExitStatus.INTERRUPTED)


def epilog(examples: Iterable[str], statuses: Iterable[ExitStatus], env: dict[str, str] | None = None) -> str:
    """The text after a command's options: examples, environment variables, exit statuses.
    ``\\b`` keeps click from rewrapping the lines."""
    lines = ["\b", "Examples:"] + [f"  {e}" for e in examples]
    lines += ["", "\b", "Environment:"] + [f"  {k:<22} {v}" for k, v in {**COMMON_ENV, **(env or {})}.items()]
    codes = sorted(set(_ALWAYS) | set(statuses))
    lines += ["", "\b", "Exit statuses:"] + [f"  {int(c):<4} {_MEANING[c]}" for c in codes]
    return "\n".join(lines)


def _workspace_root(ctx: Any) -> str:
    """The workspace a completion looks in: --workspace already typed, A2C_WORKSPACE, `a2c init`'s."""
    while ctx is not None:
        value = ctx.params.get("workspace") if getattr(ctx, "params", None) else None
        if value:
            return os.path.expanduser(str(value))
        ctx = ctx.parent
    if os.environ.get("A2C_WORKSPACE"):
        return os.path.expanduser(os.environ["A2C_WORKSPACE"])
    from a2c.config import DEFAULT_WORKSPACE, load_config

    try:
        config = load_config()
    except Exception:  # noqa: BLE001 - completion must never fail the shell
        config = None
    return os.path.expanduser(config.workspace if config else DEFAULT_WORKSPACE)


def complete_application_ids(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    """The inventory's application ids that start with what was typed (nothing when there is none)."""
    from click.shell_completion import CompletionItem

    try:
        with open(os.path.join(_workspace_root(ctx), "inventory.json"), encoding="utf-8") as handle:
            inventory = json.load(handle)
    except (OSError, ValueError):
        return []
    if not isinstance(inventory, dict):
        return []
    return [CompletionItem(app_id, help=str(entry.get("applicationType", "")) if isinstance(entry, dict) else "")
            for app_id, entry in sorted(inventory.items()) if isinstance(app_id, str) and app_id.startswith(incomplete)]
