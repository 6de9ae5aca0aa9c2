"""Checks of the values a2c writes into scripts, Dockerfiles and templates, by what each should be.

The schemas check the fields a user edits when a file is read; these checks run again where
the values are rendered (defence in depth, and for values no schema covers: host names, paths
of a build plan). A value that fails is refused with the JSON path of its field.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from a2c.errors import InvalidFile, quoted
from a2c.generate.quoting import ENV_NAME, Quoted, docker_value, refuse

# The distribution reference grammar (github.com/distribution/reference), ASCII only.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
# A first component is a registry only when it looks like one (a dot, a port, localhost, [IPv6]),
# as Docker reads it; "Upper/case" is then a (refused) repository name, not a registry.
_DOMAIN = (rf"(?:localhost|{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?"
           rf"|{_DOMAIN_COMPONENT}:[0-9]+")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_NAME = rf"(?:(?:{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
IMAGE_REFERENCE = re.compile(rf"(?P<name>{IMAGE_NAME})(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
MAX_NAME = 255
# A Dockerfile USER: a name or id, optionally ":group".
USER = r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?"
# LABEL and ENV keys, printed bare. ENV keys may hold dots (Java reads them; the Dockerfile
# and the container runtime pass them on), shell references never do (see ENV_NAME).
LABEL_KEY = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
ENV_KEY = r"[A-Za-z_][A-Za-z0-9_.]*"
# A name a2c gives a folder of the build context (layers/<name>/).
CONTEXT_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
# RFC 3986 path characters (unreserved, sub-delims, ':', '@', '/') and the query a path may carry.
_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?")
_HEX = frozenset("0123456789abcdefABCDEF")


def refusal(source: str, field: str, value: Any, why: str, hint: str = "") -> InvalidFile:
    return InvalidFile(f"{source}: {field}: {quoted(str(value))} {why}",
                       hint or f"Edit {source} and fix {field}, then run the command again.")


def image_reference(value: Any, field: str, source: str = "analysis.json") -> str:
    """An image reference (``[registry/]name[:tag][@digest]``): FROM and CloudFormation print it bare."""
    text = value if isinstance(value, str) else ""
    match = IMAGE_REFERENCE.fullmatch(text)
    if not match or len(match.group("name")) > MAX_NAME:
        raise refusal(source, field, value, "is not an image reference",
                      f"Edit {source} and set {field} to an image such as eclipse-temurin:17-jre or "
                      "registry.example.com/team/jre:17 (lowercase name, no spaces or line breaks).")
    return text


def has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text)


def absolute_path(value: Any, field: str, source: str = "analysis.json") -> str:
    """An absolute POSIX path with no control character (WORKDIR, cd, files the entry script edits)."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or has_control(text):
        raise refusal(source, field, value, "is not an absolute path without control characters")
    return text


def port(value: Any, field: str, source: str = "analysis.json") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise refusal(source, field, value, "is not a port number (1-65535)")
    return value


def env_var_name(value: Any, field: str, source: str = "analysis.json") -> str:
    """A variable the entry script reads by name: ``[A-Za-z_][A-Za-z0-9_]*``."""
    text = value if isinstance(value, str) else ""
    if not ENV_NAME.fullmatch(text):
        raise refusal(source, field, value, "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
                      f"Edit {source} and give {field} a name of letters, digits and '_' (not starting with a "
                      "digit), e.g. A2C_SECRET_DB_PASSWORD.")
    return text


def matches(value: Any, pattern: str, what: str, field: str, source: str = "analysis.json") -> str:
    text = value if isinstance(value, str) else ""
    if not re.fullmatch(pattern, text):
        raise refusal(source, field, value, f"is not a valid {what}")
    return text


def http_path(value: Any, field: str, source: str = "analysis.json") -> str:
    """An HTTP path starting with '/', with every character outside RFC 3986 percent-encoded
    (UTF-8), so that it is one URL whatever the folder it came from was named."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/"):
        raise refusal(source, field, value, "is not an HTTP path (it must start with '/')")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise refusal(source, field, value, "holds a lone surrogate")
    out = []
    for index, char in enumerate(text):
        if char in _PATH_CHARS:
            out.append(char)
        elif char == "%" and len(text) > index + 2 and text[index + 1] in _HEX and text[index + 2] in _HEX:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def one_line(text: Any, limit: int = 253) -> str:
    """Descriptive host text (a host name) as one line of printable characters, cut to ``limit``."""
    value = str(text)
    return "".join(c if c.isprintable() else "?" for c in value)[:limit]


# -- filters for bare template words (no field known here: the renderers check fields first) ----
def _word(pattern: str, what: str) -> Any:
    def check(value: Any) -> Quoted:
        text = str(value)
        if not re.fullmatch(pattern, text):
            raise refuse(text, "a Dockerfile", f"not a valid {what}")
        return Quoted(text)

    return check


def image_filter(value: Any) -> Quoted:
    text = str(value)
    match = IMAGE_REFERENCE.fullmatch(text)
    if not match or len(match.group("name")) > MAX_NAME:
        raise refuse(text, "a Dockerfile or template", "not an image reference")
    return Quoted(text)


def port_filter(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise refuse(str(value), "a generated file", "not a port number (1-65535)")
    return value


# A WORKDIR path printed bare when it is plain; else double-quoted (Docker removes the quotes
# when it expands the instruction's word, as for ENV values).
_PLAIN_PATH = r"/[A-Za-z0-9._+@%,:=~/-]*"


def docker_path(value: Any) -> Quoted:
    text = str(value)
    if not text.startswith("/") or has_control(text):
        raise refuse(text, "a Dockerfile", "not an absolute path without control characters")
    return Quoted(text) if re.fullmatch(_PLAIN_PATH, text) else docker_value(text)


FILTERS = {
    "docker_image": image_filter,
    "image": image_filter,
    "docker_user": _word(USER, "user"),
    "docker_label_key": _word(LABEL_KEY, "label key"),
    "docker_env_key": _word(ENV_KEY, "environment variable name"),
    "docker_context_name": _word(CONTEXT_NAME, "build context folder name"),
    "docker_path": docker_path,
    "port": port_filter,
}


def int_filter(value: Any) -> int:
    """A whole number printed bare (an IIS site id): an int, or a string of ASCII digits."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(str(value), "a generated file", "not a whole number")
    return value


FILTERS["int_strict"] = int_filter
