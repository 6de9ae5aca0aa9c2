"""One Jinja2 environment for every template, with a user folder in front of the packaged ones.

The environment fails closed: every ``{{ … }}`` must go through a quoting filter made for its
file (``a2c.generate.quoting``), or the render stops with an error instead of writing the raw
value into a script, a Dockerfile or a CloudFormation template.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jinja2

from a2c.generate import safe
from a2c.generate.quoting import FILTERS, Quoted, UnsafeValue, docker_json, finalize, shell_word, to_json

__all__ = ["Quoted", "UnsafeValue", "docker_json", "environment", "render", "shell_word", "to_json", "trusted"]


def trusted(text: str) -> Quoted:
    """Text a2c itself composed from constants and quoted parts (a YAML block, a !Ref)."""
    return Quoted(text)


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
        finalize=finalize,
    )
    env.filters.update(FILTERS)
    env.filters.update(safe.FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    try:
        return environment(os.environ.get("A2C_TEMPLATES") or None).get_template(template).render(**context)
    except UnsafeValue as exc:
        raise UnsafeValue(f"{template}: {exc.message}", exc.hint) from None
