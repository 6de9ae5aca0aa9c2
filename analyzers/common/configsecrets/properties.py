"""Java properties files, read the way java.util.Properties reads them (``\\uXXXX`` escapes,
``\\`` line continuations), with their secrets templated out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from a2c.analyzers.common.configsecrets.edits import (
    _PHYSICAL,
    FileSecret,
    _apply,
    _Chooser,
    _Edit,
    _found,
    _value_edit,
)
from a2c.analyzers.common.configsecrets.escapes import _escape_property, unescape_property
from a2c.analyzers.common.configsecrets.shapes import _clean, _secret_key, _secrets_in, is_secret_section

_BLANK = " \t\f"


@dataclass(frozen=True)
class _Logical:
    line: int  # of its first physical line
    start: int  # of the first physical line
    end: int  # end of the last physical line, its line break excluded
    raw: str  # the physical lines joined, continuations removed
    single: bool  # one physical line


def _continues(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _logical_lines(text: str) -> Iterator[_Logical]:
    """Java's logical lines (comments and blank lines skipped, continuation lines joined)."""
    lines = [(m.start(), m.end(), m.group().rstrip("\r\n")) for m in _PHYSICAL.finditer(text)]
    index = 0
    while index < len(lines):
        start, _, body = lines[index]
        number = index + 1
        index += 1
        stripped = body.lstrip(_BLANK)
        if not stripped or stripped[0] in "#!":
            continue
        parts, end = [stripped], start + len(body)
        while _continues(parts[-1]) and index < len(lines):
            parts[-1] = parts[-1][:-1]
            next_start, _, next_body = lines[index]
            parts.append(next_body.lstrip(_BLANK))
            end = next_start + len(next_body)
            index += 1
        if _continues(parts[-1]):
            parts[-1] = parts[-1][:-1]  # a continuation at the end of the file
        yield _Logical(number, start, end, "".join(parts), len(parts) == 1)


def _split_property(raw: str) -> tuple[str, int]:
    """(raw key, offset of the value) of one logical line, as java.util.Properties splits it."""
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] in "=:" + _BLANK:
            break
        i += 1
    key_end = min(i, len(raw))
    j = key_end
    while j < len(raw) and raw[j] in _BLANK:
        j += 1
    if j < len(raw) and raw[j] in "=:":
        j += 1
        while j < len(raw) and raw[j] in _BLANK:
            j += 1
    return raw[:key_end], j



def _property_edits(text: str, choose: _Chooser | None = None) -> list[_Edit]:
    edits = []
    for logical in _logical_lines(text):
        raw_key, value_at = _split_property(logical.raw)
        key = unescape_property(raw_key)
        raw_value = logical.raw[value_at:]
        value = unescape_property(raw_value)
        segments = key.split(".")
        secret = _secret_key(key, segments[-1], any(is_secret_section(s) for s in segments[:-1]))
        found = _secrets_in(key, value, secret or (choose is not None and choose.listed(_clean(key), logical.line)))
        if not found:
            continue
        body = text[logical.start:logical.end]
        if logical.single and "\\" not in raw_key:
            indent = len(body) - len(body.lstrip(_BLANK))
            prefix = body[:indent + value_at]
            mode = "raw" if "\\" not in raw_value else "properties"
            value_text = raw_value if mode == "raw" else value
        else:  # rewritten as one line: an escaped key, "=", the value
            prefix = body[:len(body) - len(body.lstrip(_BLANK))] + _escape_property(key, key=True) + "="
            mode, value_text = "properties", value
        # raw mode: the value has no escapes, so its text is the value and the spans hold
        edits.append(_value_edit(logical.start, value_text, found, logical.line, mode, prefix, end=logical.end))
    return edits


def properties_secrets(text: str, path: str) -> list[FileSecret]:
    return _found(_property_edits(text), path)


def template_properties(text: str, secrets: Iterable[FileSecret]) -> str:
    choose = _Chooser(secrets)
    return _apply(text, _property_edits(text, choose), "", choose)[0]
