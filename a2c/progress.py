"""How the core reports progress without printing: the CLI passes a Reporter in."""

from __future__ import annotations


class Reporter:
    """Default reporter: silent. The CLI's subclass prints on a terminal and stays quiet under --json."""

    def step(self, message: str) -> None:
        """A milestone the user should see (``✔ Built image …``)."""

    def detail(self, message: str) -> None:
        """A line of ongoing output (build log), shown as progress."""

    def warn(self, message: str) -> None:
        """Something the user should read, that does not stop the command."""
