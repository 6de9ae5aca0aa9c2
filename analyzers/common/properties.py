"""Readers for Java .properties, YAML and JAR manifests that never raise on odd input."""

from __future__ import annotations

import re
from typing import Any

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Java ends lines only here (not at \f, \x85, \u2028)
MAX_CONFIG_BYTES = 4 * 1024 * 1024


def parse_properties(text: str) -> dict[str, str]:
    """Java .properties semantics: ``=``, ``:`` or blank separators, ``\\`` continuations, comments."""
    result: dict[str, str] = {}
    logical = ""
    for raw in _LINE_BREAK.split(text):
        line = raw.lstrip() if not logical else raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if _ends_with_odd_backslashes(line):
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_property(logical)
        logical = ""
        if key:
            result[_unescape(key)] = _unescape(value)
    if logical:
        key, value = _split_property(logical)
        if key:
            result[_unescape(key)] = _unescape(value)
    return result


def _ends_with_odd_backslashes(line: str) -> bool:
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def _split_property(line: str) -> tuple[str, str]:
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            index += 2
            continue
        if char in "=: \t":
            key = line[:index]
            rest = line[index:].lstrip(" \t")
            if rest[:1] in ("=", ":") and char in " \t":
                rest = rest[1:].lstrip(" \t")
            elif char in "=:":
                rest = line[index + 1 :].lstrip(" \t")
            return key, rest
        index += 1
    return line, ""


def _unescape(value: str) -> str:
    """Java's escapes in one pass, so ``\\u0041`` stays literal and ``\u005cn`` is a backslash and n."""
    out = []
    index = 0
    while index < len(value):
        char = value[index]
        if char != "\\" or index + 1 == len(value):
            out.append(char)
            index += 1
            continue
        nxt = value[index + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", value[index + 2 : index + 6]):
            out.append(chr(int(value[index + 2 : index + 6], 16)))
            index += 6
            continue
        out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
        index += 2
    return "".join(out)


MAX_FLAT_KEYS = 10_000


def parse_yaml_flat(text: str) -> dict[str, str]:
    """A YAML config flattened to Spring-style dotted keys; {} when it does not parse.

    Flattening stops at MAX_FLAT_KEYS keys: aliases can make a few hundred bytes stand for
    billions of keys (a YAML "billion laughs")."""
    import yaml

    result: dict[str, str] = {}
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return result
    budget = min(MAX_FLAT_KEYS, len(text))  # without aliases, a key costs at least a byte of text
    for document in documents:
        if isinstance(document, dict):
            _flatten(document, "", result, budget)
    return result


def _flatten(node: Any, prefix: str, out: dict[str, str], budget: int) -> None:
    if len(out) >= budget:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out, budget)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(value, f"{prefix}[{index}]", out, budget)
    elif node is not None:
        out[prefix] = str(node).lower() if isinstance(node, bool) else str(node)


def parse_manifest(text: str) -> dict[str, str]:
    """A JAR manifest's main section, continuation lines joined."""
    result: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if result:
                break  # end of the main section
            continue
        if line.startswith(" ") and last:
            result[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            result[last] = value.strip()
    return result
