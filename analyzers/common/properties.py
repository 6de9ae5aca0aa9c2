"""Readers for Java .properties, YAML and JAR manifests that never raise on odd input."""

from __future__ import annotations

import functools
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
    return utf16_pairs("".join(out))


def utf16_pairs(text: str) -> str:
    """Adjacent surrogates joined into the character they stand for, as Java reads them
    (``\\uD83D\\uDE00`` is one emoji); a lone surrogate stays as it is."""
    if not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")




MAX_FLAT_KEYS = 10_000
# Spring configs nest a handful of levels; a document nested deeper than this is not a config.
MAX_YAML_DEPTH = 64


def parse_yaml_flat(text: str) -> dict[str, str]:
    """A YAML config flattened to Spring-style dotted keys; {} when it does not parse.

    Flattening stops at MAX_FLAT_KEYS keys: aliases can make a few hundred bytes stand for
    billions of keys (a YAML "billion laughs"), or a node that contains itself. A document
    nested thousands deep would exhaust PyYAML's recursive composer (RecursionError) after
    its scanner spent time quadratic in the depth: the composer stops at MAX_YAML_DEPTH, so the
    scanner never reads further, and such a document gives {} like any YAML that does not parse."""
    import yaml

    result: dict[str, str] = {}
    try:
        documents = list(yaml.load_all(text, Loader=_depth_limited_loader()))
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):
        # ValueError/OverflowError: PyYAML's own constructors on odd scalars (a timestamp like 2024-13-99).
        return result
    budget = min(MAX_FLAT_KEYS, len(text))  # without aliases, a key costs at least a byte of text
    for document in documents:
        if isinstance(document, dict):
            _flatten(document, result, budget)
    return result


@functools.lru_cache(maxsize=1)
def _depth_limited_loader() -> type:
    """PyYAML's pure-Python SafeLoader whose composer refuses nodes deeper than MAX_YAML_DEPTH.
    (Not libyaml's CSafeLoader: its composer recurses in C and crashes the process on deep input.)"""
    import yaml

    class DepthLimitedLoader(yaml.SafeLoader):
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._depth += 1
            try:
                if self._depth > MAX_YAML_DEPTH:
                    raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels",
                                                      self.peek_event().start_mark)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return DepthLimitedLoader


def _flatten(document: dict[Any, Any], out: dict[str, str], budget: int) -> None:
    """Dotted keys of one document, iteratively: its depth and the nodes visited are bounded
    (MAX_YAML_DEPTH, and ten nodes per key of budget), and a node inside itself (``&a [*a]``)
    is not entered again, whatever aliases make of the document."""
    pending: list[tuple[Any, str, tuple[int, ...]]] = [(document, "", ())]
    visits = 10 * budget
    while pending and len(out) < budget and visits > 0:
        node, prefix, ancestors = pending.pop()
        visits -= 1
        if isinstance(node, (dict, list)):
            if id(node) in ancestors or len(ancestors) >= MAX_YAML_DEPTH:
                continue
            inside = ancestors + (id(node),)
            children = ([(f"{prefix}.{key}" if prefix else str(key), value) for key, value in node.items()]
                        if isinstance(node, dict) else [(f"{prefix}[{i}]", value) for i, value in enumerate(node)])
            pending.extend((value, key, inside) for key, value in reversed(children))
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
