"""The ``a2c`` command: a root group with the global options and one small module per command.

Commands only gather options and call one core function; ``main()`` is the only place that
prints errors and chooses the exit status.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import traceback

import click

from a2c import __version__
from a2c.cli.context import AppContext
from a2c.cli.output import Output, printable
from a2c.errors import A2CError, ExitStatus, crash_summary, excerpt

log = logging.getLogger("a2c")

HELP = """a2c discovers the Java applications running on a server and moves them into containers on AWS.

\b
Workflow (each step reads the previous step's file in the workspace):
  a2c init                                     configure the workspace and AWS profile
  a2c inventory                                find applications  -> inventory.json
  a2c analyze --application-id ID              study one          -> ID/analysis.json (edit it)
  a2c containerize --application-id ID         build and prove    -> image, ID/Artifacts/, ID/deployment.json
  a2c generate app-deployment --application-id ID               -> ID/EcsDeployment/
  a2c extract --application-id ID              archive an app to containerize on another machine
  a2c remote inventory --all                   many servers over SSH or SSM -> remote/<target>/
"""


# Each command's module, imported when the command runs (or --help lists it), not at start.
COMMAND_MODULES = {"init": ("init", "command"), "inventory": ("inventory", "command"), "analyze": ("analyze", "command"),
                   "extract": ("extract", "command"), "containerize": ("containerize", "command"),
                   "generate": ("generate", "group"), "remote": ("remote", "group")}


class LazyGroup(click.Group):
    """The root group: a command's module is imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module, attr = COMMAND_MODULES[cmd_name]
            self.add_command(getattr(importlib.import_module(f"a2c.cli.{module}"), attr))
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--workspace", metavar="DIR", help="Workspace folder (default: the one `a2c init` set, else ~/a2c). Env: A2C_WORKSPACE.")
@click.option("--json", "json_mode", is_flag=True, help="Print results as JSON on stdout, without progress output.")
@click.option("-v", "--verbose", count=True, help="Show build output and other detail line by line.")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.version_option(__version__, "--version", prog_name="a2c")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, json_mode: bool, verbose: int, debug: bool) -> None:
    state = ctx.obj if isinstance(ctx.obj, dict) else {}  # main()'s, to learn the workspace afterwards
    ctx.obj = state["app"] = AppContext(workspace_option=workspace, output=Output(json_mode=json_mode, verbose=verbose),
                                        debug=debug)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    # Whatever turns JSON on (the flag or A2C_JSON_MODE) makes errors JSON too.
    json_mode = "--json" in args or _env_flag("A2C_JSON_MODE")
    debug = "--debug" in args or _env_flag("A2C_DEBUG")
    state: dict[str, AppContext] = {}
    try:
        status = cli.main(args=argv, prog_name="a2c", standalone_mode=False, auto_envvar_prefix="A2C", obj=state)
        if isinstance(status, int) and status:  # click returns, not raises, ctx.exit(N) without standalone mode
            sys.exit(status)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitStatus.USAGE)
    except KeyboardInterrupt:
        click.echo("Interrupted; run the same command again to finish the job.", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the one place every error ends
        known = exc if isinstance(exc, A2CError) else _workspace_failure(exc, state.get("app"))
        if known is not None:
            log.error("%s (hint: %s)", known.message, known.hint, exc_info=debug)
            _report(json_mode, known.message, known.hint, known.exit_status)
            sys.exit(known.exit_status)
        _unexpected(exc, json_mode, debug)


def _env_flag(name: str) -> bool:
    """A boolean option set through the environment, read the way click reads it."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "t", "yes", "y", "on")


def _workspace_failure(exc: BaseException, app: AppContext | None) -> A2CError | None:
    """A write the workspace refused (read-only, full, not ours) that no step turned into a
    WorkspaceError itself: still exit 3 with a hint, not a traceback."""
    from a2c.workspace import WORKSPACE_ERRNOS, write_error

    if not isinstance(exc, OSError) or exc.errno not in WORKSPACE_ERRNOS:
        return None
    workspace = app._workspace if app is not None else None
    filename = exc.filename if isinstance(exc.filename, str) else ""
    if workspace is None or not filename or not workspace.contains(filename):
        return None
    return write_error(exc, filename)


def _unexpected(exc: Exception, json_mode: bool, debug: bool) -> None:
    """Anything else: a short note, the log path, the traceback with --debug; exit 1."""
    log.exception("unexpected error")
    where = _log_path()
    hint = f"The details are in {where}." if where else ""
    hint += " Run again with --debug to see the traceback." if not debug else ""
    # By type and place, not by message: an exception raised over host input can quote a value
    # (a password in "invalid literal for int()"); --debug prints everything.
    what = f"{type(exc).__name__}: {excerpt(str(exc))}" if debug else crash_summary(exc)
    _report(json_mode, f"unexpected error: {what}", hint.strip(), ExitStatus.UNEXPECTED)
    if debug:
        traceback.print_exc()
    sys.exit(ExitStatus.UNEXPECTED)


def _report(json_mode: bool, message: str, hint: str, status: int) -> None:
    if json_mode:
        click.echo(json.dumps({"error": message, "hint": hint, "exitStatus": int(status)}, indent=2))
        return
    click.echo(click.style("Error: ", fg="red", bold=True) + printable(message), err=True)
    if hint:
        click.echo("Hint: " + printable(hint), err=True)


def _log_path() -> str:
    for handler in logging.getLogger("a2c").handlers:
        if getattr(handler, "_a2c", False):
            return getattr(handler, "baseFilename", "")
    return ""
