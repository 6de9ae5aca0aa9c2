"""One Jinja2 environment for every template, with a user folder in front of the packaged ones."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
from typing import Any

import jinja2

# Only references a2c itself writes stay live; any other ${…} from a host's command line is literal.
_ENV_REF = re.compile(r"\$\{(?:JAVA|A2C_SECRET_[A-Z0-9_]+)\}")


def to_json(value: Any) -> str:
    """Quote a value for YAML or JSON: JSON scalars are valid YAML."""
    return json.dumps(value, ensure_ascii=False)


def shell_word(arg: str) -> str:
    """Quote one argument for /bin/sh, keeping ``${NAME}`` references live."""
    if not _ENV_REF.search(arg):
        return shlex.quote(arg)
    out, last = [], 0
    for match in _ENV_REF.finditer(arg):
        literal = arg[last : match.start()]
        out.append(literal.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`"))
        out.append(match.group(0))
        last = match.end()
    tail = arg[last:]
    out.append(tail.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`"))
    return '"' + "".join(out) + '"'


def docker_json(value: Any) -> str:
    """A Dockerfile exec-form array or a quoted LABEL/ENV value."""
    return json.dumps(value, ensure_ascii=False)


@functools.lru_cache(maxsize=8)
def environment(user_dir: str | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(jinja2.PackageLoader("a2c.templates", ""))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["tojson"] = to_json
    env.filters["shell"] = shell_word
    env.filters["docker_json"] = docker_json
    return env


def render(template: str, **context: Any) -> str:
    return environment(os.environ.get("A2C_TEMPLATES") or None).get_template(template).render(**context)
