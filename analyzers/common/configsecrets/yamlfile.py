"""YAML files, read through PyYAML's event stream (flow maps, block scalars, anchors, values on the
next line), which neither recurses nor expands aliases; a file too deep or too big for it is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from a2c.analyzers.common.configsecrets.edits import FileSecret, _apply, _Chooser, _Edit, _found, _value_edit
from a2c.analyzers.common.configsecrets.linescan import _line_edits
from a2c.analyzers.common.configsecrets.shapes import _clean, _secrets_in, is_secret_section, secret_under_section
from a2c.analyzers.common.secrets import is_secret_name

MAX_YAML_FLOW_DEPTH = 64  # PyYAML's scanner is quadratic in flow nesting: deeper files are line-scanned
MAX_PURE_PYTHON_YAML = 512 * 1024  # without libyaml, bigger files are line-scanned
MAX_YAML_DEPTH = 256


class _YamlRefused(Exception):
    """A YAML text not read through the parser (too deep, too big, or not YAML)."""


@dataclass
class _Frame:
    kind: str  # map or seq
    name: str  # dotted name of the collection
    in_section: bool
    as_key: bool = False  # the collection is itself a mapping key (rare, but YAML allows it)
    expecting_key: bool = True
    key: str = ""
    index: int = 0

    def child(self) -> tuple[str, str]:
        """(dotted name, leaf) of the value that comes next."""
        if self.kind == "seq":
            leaf = str(self.index)
            return f"{self.name}[{leaf}]", leaf
        return (f"{self.name}.{self.key}" if self.name else self.key), self.key


def _flow_depth(text: str) -> int:
    depth = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        char = match.group()
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _yaml_events(text: str) -> Iterator[Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None and len(text) > MAX_PURE_PYTHON_YAML:
        raise _YamlRefused(f"larger than {MAX_PURE_PYTHON_YAML} bytes without libyaml")
    if _flow_depth(text) > MAX_YAML_FLOW_DEPTH:
        raise _YamlRefused(f"flow collections nested deeper than {MAX_YAML_FLOW_DEPTH}")
    try:
        yield from yaml.parse(text, Loader=loader or yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _YamlRefused(f"not valid YAML ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from exc


_NODE_PROPERTIES = re.compile(r"(?:[&!][^\s,\[\]{}]*|\s+|#[^\n]*)*")
_PLAIN_NON_STRING = re.compile(r"[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.inf|\.nan)|true|false|yes|no|on|off|~|null",
                               re.IGNORECASE)


def _scalar_edit(text: str, event: Any, found: list[tuple[str, int, int]]) -> _Edit:
    """The scalar rewritten as one double-quoted scalar with placeholders (its anchor and tag kept)."""
    start, end = event.start_mark.index, event.end_mark.index
    if event.anchor or event.tag:  # the event starts at them: the scalar's own token comes after
        start = _NODE_PROPERTIES.match(text, start, end).end()  # type: ignore[union-attr]
    end = start + len(text[start:end].rstrip())  # a block scalar's span ends after its line breaks
    return _value_edit(start, event.value, found, event.start_mark.line + 1, "yaml", end=end)


def _yaml_edits(text: str, choose: _Chooser | None = None) -> list[_Edit]:
    import yaml

    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}  # anchor -> its scalar event
    done: set[int] = set()  # start offsets of scalars already templated
    edits: list[_Edit] = []

    def template(event: Any, name: str, leaf: str, in_section: bool) -> None:
        if event.start_mark.index in done:
            return
        plain = event.style in (None, "")
        if plain and event.value.strip() in ("~", "null", "Null", "NULL"):
            return
        secret = is_secret_name(leaf) or (in_section and secret_under_section(leaf) and not (
            plain and _PLAIN_NON_STRING.fullmatch(event.value)))
        listed = choose is not None and choose.listed(_clean(name), event.start_mark.line + 1)
        found = _secrets_in(name, event.value, secret or listed)
        if found:
            done.add(event.start_mark.index)
            edits.append(_scalar_edit(text, event, found))

    for event in _yaml_events(text):
        if isinstance(event, (yaml.DocumentStartEvent, yaml.DocumentEndEvent)):
            stack.clear()
            continue
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.kind == "map" and parent.expecting_key
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= MAX_YAML_DEPTH:
                raise _YamlRefused(f"nested deeper than {MAX_YAML_DEPTH}")
            name, leaf = parent.child() if parent and not is_key else ("?", "?") if parent else ("", "")
            in_section = bool(parent and (parent.in_section or is_secret_section(leaf)))
            kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
            stack.append(_Frame(kind, name, in_section, as_key=is_key))
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            closed = stack.pop()
            if stack:
                _advance(stack[-1], closed.as_key)
            continue
        if isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                anchors[event.anchor] = event
            if is_key:
                parent.key = event.value  # type: ignore[union-attr]
            elif parent is not None:
                name, leaf = parent.child()
                template(event, name, leaf, parent.in_section)
        elif isinstance(event, yaml.AliasEvent):
            if parent is not None and not is_key and event.anchor in anchors:
                name, leaf = parent.child()  # the secret is where the anchor holds it
                template(anchors[event.anchor], name, leaf, parent.in_section)
        else:
            continue
        if parent is not None:
            _advance(parent, is_key)
    return edits


def _advance(frame: _Frame, was_key: bool) -> None:
    if frame.kind == "seq":
        frame.index += 1
    elif was_key:
        frame.expecting_key = False
    else:
        frame.expecting_key, frame.key = True, ""


def yaml_secrets(text: str, path: str) -> list[FileSecret]:
    """Secrets of a YAML file (``_YamlRefused`` when the parser is not used: line-scan it)."""
    return _found(_yaml_edits(text), path)


def template_yaml(text: str, secrets: Iterable[FileSecret]) -> str:
    choose = _Chooser(secrets)
    try:
        edits = _yaml_edits(text, choose)
    except _YamlRefused:
        edits = _line_edits(text, choose)
    return _apply(text, edits, "", choose)[0]
