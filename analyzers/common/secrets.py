"""Recognise secret-looking names so values are masked in analysis.json and kept out of images."""

from __future__ import annotations

import re

MASK = "****"

_SECRET_NAME = re.compile(
    r"(pass(word|wd)?|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|credential|auth[_.-]?key)",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(r"(file|path|location|dir|url|provider|algorithm|type|length|policy|expir)$", re.IGNORECASE)


# Shell variables whose names happen to contain "pwd".
_KNOWN_PLAIN = {"PWD", "OLDPWD"}


def is_secret_name(name: str) -> bool:
    """True for names like DB_PASSWORD, spring.datasource.password, apiKey; not password.file or PWD."""
    return name not in _KNOWN_PLAIN and bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


def mask_mapping(values: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_name(k) and v else v) for k, v in values.items()}


def mask_cmdline(args: list[str] | tuple[str, ...]) -> list[str]:
    """-Dkey=secret and --key=secret arguments with their values masked."""
    masked = []
    for arg in args:
        key, sep, value = arg.partition("=")
        name = key.lstrip("-")
        if name.startswith("D"):
            name = name[1:]
        if sep and value and is_secret_name(name):
            masked.append(f"{key}={MASK}")
        else:
            masked.append(arg)
    return masked


def env_var_for(name: str) -> str:
    """The environment variable a secret is passed in at run time: spring.datasource.password -> A2C_SECRET_SPRING_DATASOURCE_PASSWORD."""
    return "A2C_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
