"""Everything the CLI shows: human text and progress on a terminal, JSON under --json."""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Callable, TextIO

import click

from a2c.progress import Reporter


# C0 and C1 control characters but tab and newline: host values must not move the cursor or
# restyle the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text any terminal can show: lone surrogates (a non-UTF-8 path or argument, as psutil
    decodes it) and control characters written as escapes, since a strict UTF-8 stdout raises
    on the first and the second can rewrite what the operator sees."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class Output(Reporter):
    def __init__(self, json_mode: bool = False, verbose: int = 0, stdout: TextIO | None = None,
                 stderr: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._detail_width = 0
        self._detail_active = False

    @property
    def interactive(self) -> bool:
        return not self.json_mode and self.stderr.isatty()

    # -- Reporter: progress goes to stderr so stdout stays data ---------------------------------
    def step(self, message: str) -> None:
        if self.json_mode:
            return
        self._end_detail()
        click.echo(click.style("✔ ", fg="green") + printable(message), file=self.stderr)

    def detail(self, message: str) -> None:
        if self.json_mode:
            return
        message = printable(message)
        if self.verbose:
            click.echo("  " + message, file=self.stderr)
        elif self.interactive:
            text = ("  " + message)[:110]
            pad = max(0, self._detail_width - len(text))
            self.stderr.write("\r" + text + " " * pad)
            self.stderr.flush()
            self._detail_width = len(text)
            self._detail_active = True

    def warn(self, message: str) -> None:
        self._end_detail()
        click.echo(click.style("! ", fg="yellow") + printable(message), file=self.stderr)

    def _end_detail(self) -> None:
        if self._detail_active:
            self.stderr.write("\r" + " " * self._detail_width + "\r")
            self._detail_active = False
            self._detail_width = 0

    # -- results ---------------------------------------------------------------------------------
    def result(self, data: Any, human: Callable[[], None] | None = None) -> None:
        """The command's result: JSON on stdout under --json, else the human rendering."""
        self._end_detail()
        if self.json_mode:
            self.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        elif human is not None:
            human()

    def echo(self, text: str = "") -> None:
        click.echo(printable(text), file=self.stdout)

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        rows = [[printable(str(c)) for c in row] for row in rows]
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row)]
        line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
        click.echo(click.style(line.rstrip(), bold=True), file=self.stdout)
        for row in rows:
            self.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())

    def next_steps(self, *steps: str) -> None:
        if self.json_mode or not steps:
            return
        self.echo("\nNext steps:")
        for number, step in enumerate(steps, 1):
            self.echo(f"  {number}. {step}")
