"""Secrets in configuration files: find them, and template them out of the image.

A file that holds a password is copied into the image with the value replaced by
``${A2C_SECRET_…}``; the entry script fills the placeholder from the environment when the
container starts (ECS gets it from SSM Parameter Store). So no image layer ever holds the
value, and the application still reads a complete file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from a2c.analyzers.common.safexml import UnsafeXML, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import env_var_for, is_secret_name

_PLACEHOLDER = re.compile(r"^\$\{[^}]*\}$")
_PROPERTY_LINE = re.compile(r"^(\s*)([^=:\s#!][^=:\s]*)(\s*[=:]\s*|\s+)(.*)$")
_YAML_LINE = re.compile(r"^(\s*)(-\s+)?([\w.\-\[\]\"']+)\s*:(\s*)(.*)$")


@dataclass(frozen=True)
class FileSecret:
    path: str
    key: str
    env_var: str
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.key, "foundIn": self.path, "envVar": self.env_var, "line": self.line}


def _is_secret_value(value: str) -> bool:
    value = value.strip().strip("\"'")
    return bool(value) and not _PLACEHOLDER.match(value)


def properties_secrets(text: str, path: str) -> list[FileSecret]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _PROPERTY_LINE.match(line)
        if match and is_secret_name(match.group(2)) and _is_secret_value(match.group(4)):
            found.append(FileSecret(path, match.group(2), env_var_for(match.group(2)), number))
    return found


def template_properties(text: str, secrets: Iterable[FileSecret]) -> str:
    by_key = {s.key: s.env_var for s in secrets}
    out = []
    dropping = False
    for line in text.splitlines(keepends=True):
        if dropping:  # continuation lines of a templated value
            dropping = line.rstrip("\r\n").endswith("\\")
            continue
        match = _PROPERTY_LINE.match(line.rstrip("\r\n"))
        if match and match.group(2) in by_key:
            newline = line[len(line.rstrip("\r\n")):]
            out.append(f"{match.group(1)}{match.group(2)}{match.group(3)}${{{by_key[match.group(2)]}}}{newline}")
            dropping = match.group(4).endswith("\\")
            continue
        out.append(line)
    return "".join(out)


def _yaml_walk(text: str) -> Iterable[tuple[int, str, str, re.Match[str]]]:
    """(line number, dotted key, value, match) for each ``key: value`` line, tracking nesting by indent."""
    stack: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        match = _YAML_LINE.match(line)
        if not match:
            continue
        indent = len(match.group(1)) + len(match.group(2) or "")
        key = match.group(3).strip("\"'")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        value = match.group(5).split(" #", 1)[0].strip()
        if value:
            yield number, dotted, value, match
        else:
            stack.append((indent, key))


def yaml_secrets(text: str, path: str) -> list[FileSecret]:
    return [FileSecret(path, dotted, env_var_for(dotted), number)
            for number, dotted, value, _ in _yaml_walk(text)
            if is_secret_name(dotted.rsplit(".", 1)[-1]) and _is_secret_value(value) and value[:1] not in "|>&*"]


def template_yaml(text: str, secrets: Iterable[FileSecret]) -> str:
    lines = text.splitlines(keepends=True)
    for secret in secrets:
        line = lines[secret.line - 1]
        body = line.rstrip("\r\n")
        match = _YAML_LINE.match(body)
        if match:
            prefix = body[: match.start(5)]
            lines[secret.line - 1] = f"{prefix}\"${{{secret.env_var}}}\"{line[len(body):]}"
    return "".join(lines)


def xml_secrets(data: bytes, path: str) -> list[FileSecret]:
    """Secret-named attributes (Resource password="…", DataSource password="…")."""
    try:
        root = parse_xml(data, path)
    except UnsafeXML:
        return []
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute, value in element.attrib.items():
            if is_secret_name(attribute) and _is_secret_value(value):
                owner = element.get("name") or element.get("id") or element.get("jndiName") or ""
                key = f"{owner}.{attribute}" if owner else attribute
                found.append(FileSecret(path, key, env_var_for(key), element.sourceline or 0))
    return found


def template_xml(data: bytes, path: str, secrets: Iterable[FileSecret]) -> bytes:
    wanted = {(s.line, s.key): s.env_var for s in secrets}
    root = parse_xml(data, path)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        owner = element.get("name") or element.get("id") or element.get("jndiName") or ""
        for attribute in list(element.attrib):
            key = f"{owner}.{attribute}" if owner else attribute
            env_var = wanted.get((element.sourceline or 0, key))
            if env_var:
                element.set(attribute, f"${{{env_var}}}")
    return serialize_xml(root)


def kind_of(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith((".properties", ".ini", ".conf", ".env")):
        return "properties"
    if lowered.endswith((".yml", ".yaml")):
        return "yaml"
    if lowered.endswith(".xml"):
        return "xml"
    return ""


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def find_secrets(path: str, data: bytes) -> list[FileSecret]:
    kind = kind_of(path)
    if kind == "xml":
        return xml_secrets(data, path)
    text, _ = _decode(data)
    if kind == "properties":
        return properties_secrets(text, path)
    if kind == "yaml":
        return yaml_secrets(text, path)
    return []


def template(path: str, data: bytes, secrets: Iterable[FileSecret]) -> bytes:
    """The file with every listed secret replaced by its ``${ENV}`` placeholder."""
    secrets = list(secrets)
    kind = kind_of(path)
    if kind == "xml":
        return template_xml(data, path, secrets)
    text, encoding = _decode(data)  # written back in the encoding it came in
    if kind == "properties":
        return template_properties(text, secrets).encode(encoding, "replace")
    if kind == "yaml":
        return template_yaml(text, secrets).encode(encoding, "replace")
    return data
