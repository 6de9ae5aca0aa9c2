"""Stable application ids: ``<type>-<8 hex>`` from what identifies the app, never from the PID.

An id is also a folder name in the workspace, so every id that comes from outside (an
archive's manifest or analysis.json, a command-line option) is checked by ``check_application_id``
before it is joined to a path.
"""

from __future__ import annotations

import hashlib
import re

from a2c.errors import InvalidFile, quoted

MAX_ID_BYTES = 128
# Lower-case letters, digits, '.', '_' and '-', starting with a letter or digit: no separator,
# no NUL or newline, nothing a shell, a tag or a file system reads specially.
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
# Names the workspace itself uses beside the application folders.
RESERVED_NAMES = frozenset({"inventory.json", "log", "remote"})


def application_id(application_type: str, identity: str) -> str:
    # surrogatepass: a non-UTF-8 command line or folder name (psutil's lone surrogates) still hashes.
    digest = hashlib.sha256(f"{application_type}\0{identity}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{application_type}-{digest[:8]}"


def application_id_problem(value: object) -> str | None:
    """Why ``value`` cannot be an application id, or None when it can."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if not value:
        return "is empty"
    if len(value.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        return f"is longer than {MAX_ID_BYTES} bytes"
    if _ID.fullmatch(value) is None:
        return "may hold only lower-case letters, digits, '.', '_' and '-', and must start with a letter or digit"
    if value in RESERVED_NAMES:
        return "is a name the workspace uses for itself"
    return None


def check_application_id(value: object, source: str) -> str:
    """The id itself, or InvalidFile naming ``source`` (a file and field) and what is wrong."""
    problem = application_id_problem(value)
    if problem is not None:
        raise InvalidFile(f"{source}: the application id {quoted(value)} {problem}",
                          "Application ids look like java-tomcat-1dd8e7ba; run `a2c inventory` to list them, "
                          "or write the archive again with `a2c extract`.")
    assert isinstance(value, str)
    return value


def secret_parameter_name(app_id: str, env_var: str) -> str:
    """The SSM parameter a secret's run-time variable is filled from: deployment.json's
    ``valueFrom`` and ``a2c analyze --store-secrets`` name it alike, from here."""
    return f"/a2c/{app_id}/{env_var}"
