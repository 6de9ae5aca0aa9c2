"""Java's properties escapes, both ways: reading keys and values, writing templated ones."""

from __future__ import annotations

import re

_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def unescape_property(text: str) -> str:
    """Java's escapes: ``\\uXXXX``, ``\\t`` and friends, ``\\x`` for x; a malformed ``\\u`` is kept as ``u``."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        follower = text[i + 1]
        if follower == "u" and _HEX4.fullmatch(text[i + 2:i + 6]):
            out.append(chr(int(text[i + 2:i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(follower, follower))
        i += 2
    return "".join(out)


def _escape_property(text: str, leading: bool = False, key: bool = False) -> str:
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char in "\t\n\r\f":
            out.append("\\" + {"\t": "t", "\n": "n", "\r": "r", "\f": "f"}[char])
        elif char == " " and (key or (leading and index == 0)):
            out.append("\\ ")
        elif key and char in "=:#!":
            out.append("\\" + char)
        elif code < 0x20 or code > 0x7E:
            out.append("".join("\\u%04X" % unit for unit in _utf16_units(char)))
        else:
            out.append(char)
    return "".join(out)


def _utf16_units(char: str) -> list[int]:
    code = ord(char)
    if code < 0x10000:
        return [code]
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
