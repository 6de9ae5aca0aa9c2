"""XML files: secret-named attributes, ``name=``/``value=`` pairs and secret-named elements, in the
parsed document, or in the text of a file the hardened XML reader refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from a2c.analyzers.common.configsecrets.edits import FileSecret, _Chooser, _Edit, _LineIndex, _render, _value_edit
from a2c.analyzers.common.configsecrets.shapes import _clean, _secrets_in
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import env_var_for, is_secret_name

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
