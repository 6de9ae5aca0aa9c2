"""Secrets in configuration files: find them, and template them out of the image.

A file that holds a password is copied into the image with the value replaced by
``${A2C_SECRET_…}``; the entry script fills the placeholder from the environment when the
container starts (ECS gets it from SSM Parameter Store). So no image layer ever holds the
value, and the application still reads a complete file.

Every format is read the way its application reads it, so that what the application would
see as a password is what gets templated: Java properties (``\\uXXXX`` escapes, ``\\`` line
continuations), YAML (flow maps, block scalars, anchors, values on the next line: through
PyYAML's event stream, which neither recurses nor expands aliases), XML (secret-named
attributes, ``name=``/``value=`` pairs, secret-named elements), JSON (the .NET reader), and
any other text by a conservative line scan. Beside names, values are checked for shapes:
URLs with a password (``scheme://user:PW@``, ``?password=``), Oracle ``user/PW@`` URLs, PEM
private keys. A file no parser accepts is line-scanned and reported; a binary file is reported.

Templating finds the secrets again in the bytes it is given (a file edited since the analysis
leaves no secret behind) and takes each one's variable from the analysis by (name, line), so
two secrets of one name keep the two variables ``assign_env_vars`` gave them.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import assign_env_vars, env_var_for, is_secret_name, secret_spans
from a2c.model import Finding

_PLACEHOLDER = re.compile(r"^\$\{[^}]*\}$")

# -- names and shapes -----------------------------------------------------------------------------


def is_secret_section(name: str) -> bool:
    """A section whose every leaf is a secret: Secrets, Credentials, ApiKeys, Tokens, Passwords."""
    if is_secret_name(name):
        return True
    return name[-1:] in ("s", "S") and is_secret_name(name[:-1])


def secret_under_section(leaf: str) -> bool:
    """A leaf of a secret section that is a secret (not its ``file``, ``path``, ``enabled``…)."""
    return is_secret_name(f"secret.{leaf}")


def _secret_key(name: str, leaf: str, in_section: bool) -> bool:
    """A name that makes its whole value a secret: itself, or a leaf of a secret section."""
    return is_secret_name(name) or (in_section and secret_under_section(leaf))


def _is_value(value: str) -> bool:
    value = value.strip().strip("\"'")
    return bool(value) and not _PLACEHOLDER.match(value)


_USERINFO = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:?#\"'<>]*:([^\s/@\"'<>]+)@")
_ORACLE = re.compile(r"(?i)jdbc:oracle:[a-z0-9]+:(?://)?[^\s/@:\"'<>]+/([^\s@\"'<>]+)@")
_PARAM = re.compile(r"(?:^|(?<=[?&;]))\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*=([^&;#\s\"'<>]*)")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,64})-----.*?(?:-----END \1-----|\Z)", re.DOTALL)
_PUBLIC_PEM = ("CERTIFICATE", "PUBLIC KEY", "X509 CRL", "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
               "TRUSTED CERTIFICATE", "PGP PUBLIC KEY BLOCK", "PKCS7", "DH PARAMETERS", "EC PARAMETERS")


def _is_private_pem(label: str) -> bool:
    return label.strip() not in _PUBLIC_PEM


def value_secret_spans(name: str, value: str) -> list[tuple[str, int, int]]:
    """(secret name, start, end) of the secrets inside a value whose name is not itself secret:
    URL passwords, secret-named URL/connection parameters, a PEM private key (the whole value)."""
    if not value:
        return []
    for match in _PEM.finditer(value):
        if _is_private_pem(match.group(1)):
            return [(name, 0, len(value))]
    spans: list[tuple[str, int, int]] = []
    for pattern in (_USERINFO, _ORACLE):
        for match in pattern.finditer(value):
            spans.append((f"{name}.password", match.start(1), match.end(1)))
    for match in _PARAM.finditer(value):
        if is_secret_name(match.group(1)) and match.group(2):
            spans.append((f"{name}.{match.group(1)}", match.start(2), match.end(2)))
    chosen: list[tuple[str, int, int]] = []
    for item in sorted(spans, key=lambda s: s[1]):
        if _PLACEHOLDER.match(value[item[1]:item[2]]) or (chosen and item[1] < chosen[-1][2]):
            continue
        chosen.append(item)
    for start, end in secret_spans(value, name.rsplit(".", 1)[-1]):
        if (start, end) == (0, len(value)) and not chosen:
            return [(name, 0, len(value))]
        if not any(start < e and s < end for _, s, e in chosen):
            chosen.append((f"{name}.secret", start, end))
    return _numbered(sorted(chosen, key=lambda s: s[1]))


def _numbered(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The second ``x.password`` of one value becomes ``x.password2``: names stay distinct."""
    seen: dict[str, int] = {}
    out = []
    for name, start, end in spans:
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}{seen[name]}", start, end))
    return out


def _secrets_in(name: str, value: str, secret: bool) -> list[tuple[str, int, int]]:
    """The secrets of one named value: all of it when its name is a secret's, else its shapes."""
    if not _is_value(value):
        return []
    if secret:
        return [(name, 0, len(value))]
    return value_secret_spans(name, value)


def _clean(text: str) -> str:
    """A name fit for JSON: lone surrogates (from ``\\uD800`` or a Latin-1 file) become U+FFFD."""
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)


# -- the records ----------------------------------------------------------------------------------


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
                 tuple(pieces), mode, prefix)


# -- Java properties ------------------------------------------------------------------------------

_PHYSICAL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
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


# -- YAML -----------------------------------------------------------------------------------------

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


# -- XML ------------------------------------------------------------------------------------------

_OWNER_ATTRIBUTES = ("name", "id", "jndiName")
_NAME_ATTRIBUTES = ("name", "key")


@dataclass(frozen=True)
class _XmlSpot:
    """A secret in a parsed XML file: an attribute's value or (attribute None) an element's text."""

    element: Any
    attribute: str | None
    secrets: tuple[tuple[str, int, int], ...]  # (name, start, end) in the value
    value: str

    @property
    def line(self) -> int:
        return int(self.element.sourceline or 0)


def _owner(element: Any) -> str:
    return next((element.get(a) for a in _OWNER_ATTRIBUTES if element.get(a)), "")


def _leaf_text(element: Any) -> str | None:
    """An element's text when it holds nothing else."""
    if len(element) or element.text is None:
        return None
    return element.text


def _xml_spots(root: Any, choose: _Chooser | None = None) -> list[_XmlSpot]:
    spots: list[_XmlSpot] = []

    def add(element: Any, attribute: str | None, name: str, value: str, secret: bool) -> None:
        listed = choose is not None and choose.listed(_clean(name), int(element.sourceline or 0))
        found = _secrets_in(name, value, secret or listed)
        if found:
            spots.append(_XmlSpot(element, attribute, tuple(found), value))

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        owner = _owner(element)
        named = next((element.get(a) for a in _NAME_ATTRIBUTES if element.get(a)), "")
        for attribute, value in element.attrib.items():
            attribute_name = local_name_of(attribute)
            if attribute in _NAME_ATTRIBUTES or attribute_name in _OWNER_ATTRIBUTES:
                continue
            if attribute_name == "value" and named:
                add(element, attribute, named, value, is_secret_name(named))
                continue
            add(element, attribute, f"{owner}.{attribute_name}" if owner else attribute_name, value,
                is_secret_name(attribute_name))
        text = _leaf_text(element)
        if text is not None and text.strip():
            tag = local_name(element)
            if named and element.get("value") is None:
                add(element, None, named, text, is_secret_name(named))
            elif tag.endswith("value") and _sibling_name(element):
                sibling = _sibling_name(element)
                add(element, None, sibling, text, is_secret_name(sibling))
            else:
                parent = element.getparent()
                base = _owner(parent) if parent is not None else ""
                parent_named = parent is not None and local_name(parent) == "property" and next(
                    (parent.get(a) for a in _NAME_ATTRIBUTES if parent.get(a)), "")
                if tag == "value" and parent_named:
                    add(element, None, parent_named, text, is_secret_name(parent_named))
                else:
                    add(element, None, f"{base}.{tag}" if base else tag, text, is_secret_name(tag))
    return spots


def local_name_of(attribute: str) -> str:
    return attribute.rsplit("}", 1)[-1]


def _sibling_name(element: Any) -> str:
    """``<param-name>db.password</param-name><param-value>…``: the name the value goes with."""
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is None or not local_name(previous).endswith("name") or len(previous):
        return ""
    return (previous.text or "").strip()


def xml_secrets(data: bytes, path: str) -> list[FileSecret]:
    """Secrets of a parsed XML file ([] when the hardened reader refuses it: see ``scan_file``)."""
    try:
        root = parse_xml(data, path)
    except UnsafeXML:
        return []
    return [FileSecret(path, _clean(name), env_var_for(_clean(name)), spot.line)
            for spot in _xml_spots(root) for name, _, _ in spot.secrets]


def _template_parsed_xml(data: bytes, path: str, choose: _Chooser) -> tuple[bytes, list[FileSecret]]:
    root = parse_xml(data, path)
    applied: list[FileSecret] = []
    for spot in _xml_spots(root, choose):
        env_vars = [choose(_clean(name), spot.line) for name, _, _ in spot.secrets]
        applied += [FileSecret(path, _clean(n), v, spot.line) for (n, _, _), v in zip(spot.secrets, env_vars)]
        edit = _value_edit(0, spot.value, list(spot.secrets), spot.line)
        value = _render(edit, env_vars)
        if spot.attribute is None:
            spot.element.text = value
        else:
            spot.element.set(spot.attribute, value)
    return (serialize_xml(root) if applied else data), applied


def template_xml(data: bytes, path: str, secrets: Iterable[FileSecret]) -> bytes:
    return template_file(path, data, secrets)[0]


# XML the reader refused, scanned as text: attributes, name/value pairs, secret-named elements.
_XML_TAG = re.compile(r"<([A-Za-z_][\w.:\-]*)((?:\s[^<>]*?)?)(/?)>")
_XML_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.:\-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_XML_ELEMENT = re.compile(r"<((?:[\w\-]+:)?([\w.\-]+))((?:\s[^<>]*?)?)>(<!\[CDATA\[(.*?)\]\]>|[^<]*)</\1\s*>", re.DOTALL)
_XML_NAME_VALUE = re.compile(r"<((?:[\w\-]+:)?[\w.\-]*name)>\s*([^<]+?)\s*</\1>\s*<((?:[\w\-]+:)?[\w.\-]*value)>([^<]*)</\3>")
_XML_NAMED_VALUE = re.compile(r"<[\w.:\-]+\s[^<>]*?\b(?:name|key)\s*=\s*[\"']([^\"'<>]+)[\"'][^<>]*>\s*"
                              r"<((?:[\w\-]+:)?value)>([^<]*)</\2>")


def _xml_line_edits(text: str, choose: _Chooser | None) -> list[_Edit]:
    edits: list[_Edit] = []
    line_of = _LineIndex(text)

    def add(name: str, value: str, start: int, secret: bool) -> None:
        line = line_of(start)
        found = _secrets_in(name, value, secret or (choose is not None and choose.listed(_clean(name), line)))
        if found:
            edits.append(_value_edit(start, value, found, line))

    for tag in _XML_TAG.finditer(text):
        attributes = [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3),
                       m.start(2) if m.group(2) is not None else m.start(3))
                      for m in _XML_ATTRIBUTE.finditer(text, tag.start(2), tag.end(2))]
        values = {local_name_of(n.rsplit(":", 1)[-1]): v for n, v, _ in attributes}
        named = values.get("name") or values.get("key") or ""
        owner = next((values[a] for a in _OWNER_ATTRIBUTES if values.get(a)), "")
        for attribute, value, at in attributes:
            leaf = attribute.rsplit(":", 1)[-1]
            if leaf in _NAME_ATTRIBUTES or leaf in _OWNER_ATTRIBUTES:
                continue
            if leaf == "value" and named:
                add(named, value, at, is_secret_name(named))
            else:
                add(f"{owner}.{leaf}" if owner else leaf, value, at, is_secret_name(leaf))
    for element in _XML_ELEMENT.finditer(text):
        element_named = next((m.group(2) or m.group(3) or "" for m in _XML_ATTRIBUTE.finditer(element.group(3))
                              if m.group(1).rsplit(":", 1)[-1] in _NAME_ATTRIBUTES), "")
        text_group = 5 if element.group(5) is not None else 4  # inside a CDATA section, or plain text
        name = element_named or element.group(2)
        if element.group(text_group).strip():
            add(name, element.group(text_group), element.start(text_group), is_secret_name(name))
    for pair in _XML_NAME_VALUE.finditer(text):
        add(pair.group(2), pair.group(4), pair.start(4), is_secret_name(pair.group(2)))
    for pair in _XML_NAMED_VALUE.finditer(text):
        add(pair.group(1), pair.group(3), pair.start(3), is_secret_name(pair.group(1)))
    return edits


class _LineIndex:
    """Line numbers of offsets, from one table of line starts."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


# -- any other text: a conservative line scan ----------------------------------------------------

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


# -- files: which reader, scan and template -------------------------------------------------------

_CONFIG_FOLDERS = {"conf", "config", "configuration", "etc", "cfg", "settings", "properties", "secrets", "env",
                   "environments", "resources"}
_LINE_SUFFIXES = (".env", ".conf", ".cfg", ".ini", ".toml", ".txt", ".cnf", ".local", ".credentials", ".secret",
                  ".secrets", ".opts", ".args")


def kind_of(path: str) -> str:
    """How a file is scanned: properties, yaml, xml, json, lines (a conservative line scan), or ""
    (not a configuration file by its name; ``scan_file`` still line-scans it when it is text)."""
    name = posixpath.basename(path).lower()
    if name.endswith(".properties"):
        return "properties"
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name.endswith((".xml", ".config")):
        return "xml"
    if name.endswith(".json"):
        return "json"
    if name.endswith(_LINE_SUFFIXES) or name.startswith(".env") or name in ("credentials", "secrets"):
        return "lines"
    folder = posixpath.basename(posixpath.dirname(path)).lower()
    if "." not in name.lstrip(".") and folder in _CONFIG_FOLDERS:
        return "lines"
    return ""


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode(data: bytes) -> tuple[str, str, bytes]:
    """(text, encoding, byte order mark) so that the file is written back the way it came."""
    if data.startswith(_UTF16_BOMS):
        return data[2:].decode("utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be", "replace"), \
            "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be", data[:2]
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    body = data[len(bom):]
    try:
        return body.decode("utf-8"), "utf-8", bom
    except UnicodeDecodeError:
        return body.decode("latin-1"), "latin-1", bom


def is_binary(data: bytes, text_kind: bool = False) -> bool:
    """Not text: mostly control characters, or (for a file not named like text) any NUL byte."""
    head = data[:8192]
    if head.startswith(_UTF16_BOMS):
        return False
    controls = sum(1 for b in head if b < 0x20 and b not in (9, 10, 12, 13, 27))
    return controls * 10 > len(head) or (b"\x00" in head and not text_kind)


def _line_scanned(path: str, why: str) -> Finding:
    return Finding("CONF-W002", "warning", f"{why}; it was scanned line by line for secrets instead (check the "
                   "templated copy: values a line scan cannot see stay as they are)", path)


def _edits_for(kind: str, text: str, path: str, choose: _Chooser | None) -> tuple[list[_Edit], list[Finding], str]:
    """The edits of one text file, the findings of reading it, and how it was read."""
    if kind == "properties":
        return _property_edits(text, choose), [], kind
    if kind == "yaml":
        try:
            return _yaml_edits(text, choose), [], kind
        except _YamlRefused as exc:
            return _line_edits(text, choose), [_line_scanned(path, f"YAML file not parsed: {exc}")], "lines"
    return _line_edits(text, choose), [], "lines"


def scan_file(path: str, data: bytes) -> ScanResult:
    """The secrets of one configuration file, and findings when it could not be read as its format."""
    kind = kind_of(path)
    if is_binary(data, bool(kind)):
        return ScanResult((), (Finding("CONF-W003", "warning", "binary file: not scanned for secrets; it is copied "
                                       "as it is (exclude it with appExcludedFiles if it holds credentials)", path),), "")
    if kind == "xml":
        try:
            root = parse_xml(data, path)
        except UnsafeXML as exc:
            text = _decode(data)[0]
            found = _found(_xml_line_edits(text, None), path)
            return ScanResult(tuple(found), (_line_scanned(path, f"XML file refused by the XML reader "
                                                                 f"({exc.message})"),), "lines")
        return ScanResult(tuple(FileSecret(path, _clean(n), env_var_for(_clean(n)), spot.line)
                                for spot in _xml_spots(root) for n, _, _ in spot.secrets), (), "xml")
    if kind == "json":
        return _scan_json(path, data)
    text = _decode(data)[0]
    edits, findings, method = _edits_for(kind, text, path, None)
    return ScanResult(tuple(_found(edits, path)), tuple(findings), method)


def _scan_json(path: str, data: bytes) -> ScanResult:
    from a2c.analyzers.dotnet import coresecrets

    text = _decode(data)[0]
    try:
        found = coresecrets.json_secrets(path, text)
    except coresecrets.JsonConfigError as exc:
        edits = _line_edits(text)
        return ScanResult(tuple(_found(edits, path)), (_line_scanned(path, f"JSON file not parsed ({exc})"),), "lines")
    return ScanResult(tuple(FileSecret(path, s.name, s.env_var, s.line) for s in found), (), "json")


def find_secrets(path: str, data: bytes) -> list[FileSecret]:
    return list(scan_file(path, data).secrets)


def template_file(path: str, data: bytes, secrets: Iterable[FileSecret] = ()) -> tuple[bytes, list[FileSecret]]:
    """The file with its secrets replaced by ``${ENV}`` placeholders, and the secrets replaced.

    The secrets are found again in ``data`` (listed ones are templated even where the scanner
    alone would not see them); each takes its variable from ``secrets`` by (name, line), then by
    name, else the default. Unchanged files come back as the same bytes.
    """
    choose = _Chooser(secrets)
    kind = kind_of(path)
    if is_binary(data, bool(kind)):
        return data, []
    if kind == "xml":
        try:
            return _template_parsed_xml(data, path, choose)
        except UnsafeXML:
            text, encoding, bom = _decode(data)
            return _encode(text, _xml_line_edits(text, choose), path, choose, data, encoding, bom)
    if kind == "json":
        return _template_json(path, data, choose)
    text, encoding, bom = _decode(data)
    edits, _, _ = _edits_for(kind, text, path, choose)
    return _encode(text, edits, path, choose, data, encoding, bom)


def _encode(text: str, edits: list[_Edit], path: str, choose: _Chooser, data: bytes, encoding: str,
            bom: bytes) -> tuple[bytes, list[FileSecret]]:
    if not edits:
        return data, []
    out, applied = _apply(text, edits, path, choose)
    return bom + out.encode(encoding, "replace"), applied


def _template_json(path: str, data: bytes, choose: _Chooser) -> tuple[bytes, list[FileSecret]]:
    from a2c.analyzers.dotnet import coresecrets

    chosen: dict[Any, str] = {**choose.by_name, **choose.by_spot}
    try:
        out, found = coresecrets.template_json(path, data, chosen)
    except coresecrets.JsonConfigError:
        text, encoding, bom = _decode(data)
        return _encode(text, _line_edits(text, choose), path, choose, data, encoding, bom)
    return (out if found else data), [FileSecret(path, s.name, s.env_var, s.line) for s in found]


def placeholders_in(data: bytes) -> set[str]:
    """The variables a file already has ``${…}`` placeholders for (a file templated earlier, as an
    extraction archive holds it): the entry script must still fill them."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", _decode(data)[0]))


def render_vars(data: bytes, templated: bytes, applied: Iterable[FileSecret],
                listed: Iterable[FileSecret]) -> tuple[str, ...]:
    """The variables the entry script fills into one file: those templated now, and those of the
    analysis whose placeholders the file already holds."""
    present = placeholders_in(templated) if templated is not data else placeholders_in(data)
    names = [s.env_var for s in applied] + [s.env_var for s in listed if s.env_var in present]
    return tuple(dict.fromkeys(names))


def template(path: str, data: bytes, secrets: Iterable[FileSecret]) -> bytes:
    """The file with every secret replaced by its ``${ENV}`` placeholder."""
    return template_file(path, data, secrets)[0]


# -- one variable per secret ---------------------------------------------------------------------

__all__ = ["FileSecret", "ScanResult", "assign_env_vars", "find_secrets", "is_binary", "is_secret_section",
           "kind_of", "placeholders_in", "properties_secrets", "render_vars", "scan_file", "secret_under_section", "template", "template_file",
           "template_properties", "template_yaml", "template_xml", "unescape_property", "value_secret_spans",
           "xml_secrets", "yaml_secrets"]
