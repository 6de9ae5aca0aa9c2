"""The records of the scan (``FileSecret``, ``ScanResult``) and the edits every reader makes of a
text: spans to replace, each secret's variable, applying them, and line numbers of offsets."""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from a2c.analyzers.common.configsecrets.escapes import _escape_property
from a2c.analyzers.common.configsecrets.shapes import _clean
from a2c.analyzers.common.secrets import env_var_for
from a2c.model import Finding

_PHYSICAL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True)
class FileSecret:
    path: str
    key: str
    env_var: str
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.key, "foundIn": self.path, "envVar": self.env_var, "line": self.line}


@dataclass(frozen=True)
class ScanResult:
    """What the scanner made of one file: its secrets, how it was read, and what the user should know."""

    secrets: tuple[FileSecret, ...] = ()
    findings: tuple[Finding, ...] = ()
    method: str = ""  # properties, yaml, xml, json, lines; "" when the file was not scanned


@dataclass(frozen=True)
class _Edit:
    """One span of the text to replace; ``pieces`` alternate kept text and secrets (their index)."""

    start: int
    end: int
    secrets: tuple[tuple[str, int], ...]  # (name, line)
    pieces: tuple[str | int, ...]
    mode: str = "raw"  # raw: text as is; yaml: one JSON-quoted scalar; properties: Java-escaped
    prefix: str = ""
    # Each secret's own text as the application reads it, in the order of ``secrets``: how
    # ``secret_values`` reads a value back (``a2c analyze --store-secrets``). Never rendered or shown.
    values: tuple[str, ...] = field(default=(), repr=False, compare=False)


class _Chooser:
    """The variable of each secret: the analysis' choice by (name, line), else by name, else the default."""

    def __init__(self, secrets: Iterable[FileSecret]) -> None:
        self.by_spot: dict[tuple[str, int], str] = {}
        self.by_name: dict[str, str] = {}
        for secret in secrets:
            self.by_spot.setdefault((secret.key, secret.line), secret.env_var)
            self.by_name.setdefault(secret.key, secret.env_var)

    def listed(self, name: str, line: int) -> bool:
        return (name, line) in self.by_spot

    def __call__(self, name: str, line: int) -> str:
        return self.by_spot.get((name, line)) or self.by_name.get(name) or env_var_for(name)


def _render(edit: _Edit, env_vars: Sequence[str]) -> str:
    parts = []
    for piece in edit.pieces:
        if isinstance(piece, int):
            parts.append("${%s}" % env_vars[piece])
        elif edit.mode == "properties":
            parts.append(_escape_property(piece, leading=not parts))
        else:
            parts.append(piece)
    text = "".join(parts)
    return edit.prefix + (json.dumps(text, ensure_ascii=False) if edit.mode == "yaml" else text)


def _apply(text: str, edits: Iterable[_Edit], path: str, choose: _Chooser) -> tuple[str, list[FileSecret]]:
    applied: list[FileSecret] = []
    chunks: list[str] = []
    pos = 0
    for edit in _non_overlapping(edits):
        env_vars = [choose(name, line) for name, line in edit.secrets]
        applied += [FileSecret(path, name, var, line) for (name, line), var in zip(edit.secrets, env_vars)]
        chunks += [text[pos:edit.start], _render(edit, env_vars)]
        pos = edit.end
    chunks.append(text[pos:])
    return "".join(chunks), applied


def _value_edit(start: int, value: str, found: list[tuple[str, int, int]], line: int, mode: str = "raw",
                prefix: str = "", end: int | None = None) -> _Edit:
    """An edit that replaces ``value`` (at ``start``) with itself, its secrets made placeholders."""
    pieces: list[str | int] = []
    pos = 0
    for index, (_, s, e) in enumerate(found):
        if value[pos:s]:
            pieces.append(value[pos:s])
        pieces.append(index)
        pos = e
    if value[pos:]:
        pieces.append(value[pos:])
    return _Edit(start, start + len(value) if end is None else end, tuple((_clean(n), line) for n, _, _ in found),
                 tuple(pieces), mode, prefix, tuple(value[s:e] for _, s, e in found))


def _non_overlapping(edits: Iterable[_Edit]) -> list[_Edit]:
    """Edits in text order; one that overlaps an earlier one is dropped (two rules saw one value)."""
    kept: list[_Edit] = []
    for edit in sorted(edits, key=lambda e: (e.start, -e.end)):
        if not kept or edit.start >= kept[-1].end:
            kept.append(edit)
    return kept


def _found(edits: Iterable[_Edit], path: str) -> list[FileSecret]:
    return [FileSecret(path, name, env_var_for(name), line)
            for edit in _non_overlapping(edits) for name, line in edit.secrets]


class _LineIndex:
    """Line numbers of offsets, from one table of line starts."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)
