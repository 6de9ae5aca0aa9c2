"""WildFly's ``${a,b:default}`` expressions, resolved from system properties and the environment."""

from __future__ import annotations

import re
from typing import Mapping


def resolve_expression(value: str, props: Mapping[str, str], environ: Mapping[str, str] | None = None,
                       depth: int = 0) -> str:
    """WildFly's ``${a,b:default}`` expressions (nested, ``env.NAME`` from the environment).

    What cannot be resolved stays as written; vault and encrypted expressions
    (``${VAULT::…}``, ``${ENC::…}``) are never touched.
    """
    if "${" not in value or depth > 8:
        return value
    out: list[str] = []
    index = 0
    while index < len(value):
        start = value.find("${", index)
        if start < 0:
            out.append(value[index:])
            break
        out.append(value[index:start])
        end = _closing_brace(value, start)
        if end < 0:
            out.append(value[start:])
            break
        out.append(_resolve_one(value[start + 2:end], props, environ or {}, depth))
        index = end + 1
    return "".join(out)


def _closing_brace(value: str, start: int) -> int:
    level = 0
    index = start
    while index < len(value):
        if value.startswith("${", index):
            level += 1
            index += 2
            continue
        if value[index] == "}":
            level -= 1
            if level == 0:
                return index
        index += 1
    return -1


def _resolve_one(inner: str, props: Mapping[str, str], environ: Mapping[str, str], depth: int) -> str:
    if inner.startswith(("VAULT::", "ENC::")):
        return "${" + inner + "}"
    names, default = _split_default(inner)
    for name in names.split(","):
        name = name.strip()
        found = environ.get(name[4:]) if name.startswith("env.") else props.get(name)
        if found is not None:
            return resolve_expression(found, props, environ, depth + 1)
    if default is not None:
        return resolve_expression(default, props, environ, depth + 1)
    return "${" + inner + "}"


def _split_default(inner: str) -> tuple[str, str | None]:
    level = 0
    for index, char in enumerate(inner):
        if inner.startswith("${", index):
            level += 1
        elif char == "}":
            level -= 1
        elif char == ":" and level == 0:
            return inner[:index], inner[index + 1:]
    return inner, None


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d+", value) else None
