"""Any other text: a conservative line scan (``name = value`` assignments, ``[sections]``, PEM private
keys, URLs with a password), also the fallback for a file its own reader refused."""

from __future__ import annotations

import re

from a2c.analyzers.common.configsecrets.edits import _PHYSICAL, _Chooser, _Edit, _LineIndex, _value_edit
from a2c.analyzers.common.configsecrets.shapes import (
    _PEM,
    _clean,
    _is_private_pem,
    _secret_key,
    _secrets_in,
    is_secret_section,
    value_secret_spans,
)

_ASSIGNMENT = re.compile(
    r"^(?P<lead>[ \t]*(?:export[ \t]+|set[ \t]+|setenv[ \t]+|SetEnv[ \t]+)?(?:-D|--?)?)"
    r"(?P<q>[\"']?)(?P<name>[A-Za-z0-9_$@][\w.\-\[\]/@$]*)(?P=q)"
    r"(?P<sep>[ \t]*(?::=|=>|=|:)[ \t]*|[ \t]+)(?P<value>.*?)[ \t]*$")
_SECTION = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*$")
_COMMENT = ("#", ";", "//", "!", "<!--", "REM ", "rem ")


def _quoted_region(value: str) -> tuple[int, int]:
    """The part of an assigned value that is the value: inside its quotes, without a trailing ``;``/``,``."""
    end = len(value)
    while end and value[end - 1] in ";,":
        end -= 1
    if end >= 2 and value[0] in "\"'" and value.find(value[0], 1) > 0:
        close = value.find(value[0], 1)
        return 1, close
    return 0, end


def _line_edits(text: str, choose: _Chooser | None = None) -> list[_Edit]:
    edits: list[_Edit] = []
    line_of = _LineIndex(text)
    covered: list[tuple[int, int]] = []
    pem_count = 0
    for match in _PEM.finditer(text):
        if _is_private_pem(match.group(1)):
            pem_count += 1
            name = match.group(1).strip().lower() + (f" {pem_count}" if pem_count > 1 else "")
            edits.append(_Edit(match.start(), match.end(), ((name, line_of(match.start())),), (0,)))
            covered.append((match.start(), match.end()))
    section = ""
    for number, m in enumerate(_PHYSICAL.finditer(text), 1):
        start, body = m.start(), m.group().rstrip("\r\n")
        if any(s <= start + len(body) and start < e for s, e in covered):
            continue
        stripped = body.strip()
        if not stripped or stripped.startswith(_COMMENT):
            continue
        header = _SECTION.match(body)
        if header:
            section = header.group(1).strip("\"' ")
            continue
        edit = _assignment_edit(body, start, number, section, choose)
        if edit is None:
            indent = len(body) - len(body.lstrip())
            found = value_secret_spans(f"{section}.url" if section else "url", body[indent:])
            if found:
                edit = _value_edit(start + indent, body[indent:], found, number)
        if edit is not None:
            edits.append(edit)
    return edits


def _assignment_edit(body: str, start: int, number: int, section: str, choose: _Chooser | None) -> _Edit | None:
    match = _ASSIGNMENT.match(body)
    if not match:
        return None
    key = match.group("name")
    name = f"{section}.{key}" if section else key
    whitespace_only = not match.group("sep").strip()
    listed = choose is not None and choose.listed(_clean(name), number)
    segments = key.split(".")
    in_section = is_secret_section(section) or any(is_secret_section(s) for s in segments[:-1])
    secret = listed or _secret_key(key, segments[-1], in_section)
    if whitespace_only and not secret:
        return None  # "word word" is prose, not an assignment
    value = match.group("value")
    lo, hi = _quoted_region(value)
    at = start + match.start("value") + lo
    found = _secrets_in(name, value[lo:hi], secret)
    if not found:
        return None
    return _value_edit(at, value[lo:hi], found, number)
