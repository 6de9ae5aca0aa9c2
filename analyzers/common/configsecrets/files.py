"""Which reader a file gets, and the two ways in: ``scan_file`` (its secrets, and findings when it
could not be read as its format) and ``template_file`` (its secrets replaced by placeholders).

JSON files go to the .NET configuration reader (a2c.analyzers.dotnet.coresecrets); binary files
are reported, not scanned.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Callable, Iterable

from a2c.analyzers.common.configsecrets.edits import FileSecret, ScanResult, _apply, _Chooser, _Edit, _found, _non_overlapping
from a2c.analyzers.common.configsecrets.linescan import _line_edits
from a2c.analyzers.common.configsecrets.properties import _property_edits
from a2c.analyzers.common.configsecrets.shapes import _clean
from a2c.analyzers.common.configsecrets.xmlfile import _template_parsed_xml, _xml_line_edits, _xml_spots
from a2c.analyzers.common.configsecrets.yamlfile import _yaml_edits, _YamlRefused
from a2c.analyzers.common.safexml import UnsafeXML, parse_xml
from a2c.analyzers.common.secrets import env_var_for
from a2c.model import Finding

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


def template_xml(data: bytes, path: str, secrets: Iterable[FileSecret]) -> bytes:
    return template_file(path, data, secrets)[0]


_XML_REFERENCE = re.compile(r"&(?:#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot|apos);")
_XML_NAMED = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}


def _xml_text(raw: str) -> str:
    """Raw XML text as the application reads it (``&amp;`` is ``&``): the entry script escapes
    the value again when it fills it into the file."""
    def one(match: re.Match[str]) -> str:
        ref = match.group()
        if ref in _XML_NAMED:
            return _XML_NAMED[ref]
        code = int(ref[3:-1], 16) if ref[2] in "xX" else int(ref[2:-1])
        return chr(code) if 0 < code <= 0x10FFFF else ref

    return _XML_REFERENCE.sub(one, raw)


def _edit_values(text: str, edits: Iterable[_Edit], choose: _Chooser,
                 decode: Callable[[str], str] | None = None) -> list[tuple[str, int, str, str]]:
    """The secrets of the edits ``_apply`` would make, each with its value."""
    found = []
    for edit in _non_overlapping(edits):
        # A private key block the line scan takes whole carries no values: its span is the value.
        values = edit.values or ((text[edit.start:edit.end],) if edit.pieces == (0,) else ())
        for (name, line), value in zip(edit.secrets, values):
            found.append((name, line, choose(name, line), decode(value) if decode else value))
    return found


def secret_values(path: str, data: bytes, secrets: Iterable[FileSecret] = ()) -> list[tuple[str, int, str, str]]:
    """(name, line, variable, value) of every secret ``template_file`` replaces in this file:
    the same readers, the same choice of variable, and each value as the application reads it
    (escapes undone), which is what the entry script fills back in at start. For
    ``a2c analyze --store-secrets``; the values must go nowhere but the secret store."""
    choose = _Chooser(secrets)
    kind = kind_of(path)
    if is_binary(data, bool(kind)):
        return []
    if kind == "json":
        return _json_values(path, data, choose)
    text = _decode(data)[0]
    if kind == "xml":
        try:
            root = parse_xml(data, path)
        except UnsafeXML:
            return _edit_values(text, _xml_line_edits(text, choose), choose, _xml_text)
        return [(_clean(name), spot.line, choose(_clean(name), spot.line), spot.value[start:end])
                for spot in _xml_spots(root, choose) for name, start, end in spot.secrets]
    return _edit_values(text, _edits_for(kind, text, path, choose)[0], choose)


def _json_values(path: str, data: bytes, choose: _Chooser) -> list[tuple[str, int, str, str]]:
    from a2c.analyzers.dotnet import coresecrets
    from a2c.analyzers.dotnet.coreconfig import JsonConfigError, parse_json

    text = _decode(data)[0]
    try:
        _, strings = parse_json(text)
    except JsonConfigError:
        return _edit_values(text, _line_edits(text, choose), choose)
    return [(name, item.line, choose(name, item.line), item.value if span is None else item.value[span[0]:span[1]])
            for item in strings for name, span in coresecrets.secrets_in_value(item.key, item.value)]
