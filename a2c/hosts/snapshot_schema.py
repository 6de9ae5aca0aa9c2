"""Reading the JSON documents of a host snapshot or an extraction archive: host.json and the
archive's metadata come from another machine, so they are parsed with bounds, validated against
their schema, and any of their content echoed in an error is cut to a readable length.
"""

from __future__ import annotations

import json
import os
import stat as stat_module
from typing import Any

from a2c.errors import MAX_ECHO, InvalidFile, excerpt

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_document(path: str, source: str, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """Parse one JSON file that must be a regular file, not a link (which could reach outside the
    snapshot): FileNotFoundError when it is missing, InvalidFile naming ``source`` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InvalidFile(f"{source}: cannot be read ({exc.strerror}); it must be a regular file",
                          "Write the snapshot or archive again with `a2c extract`.") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidFile(f"{source}: not a regular file", "Write the snapshot or archive again with `a2c extract`.")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidFile(f"{source}: larger than {limit} bytes; not read",
                          "Write the snapshot or archive again with `a2c extract`.")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else excerpt(str(exc))
        raise InvalidFile(f"{source}: not valid JSON ({reason})",
                          "Write the snapshot or archive again with `a2c extract`.") from exc


def validate_document(document: Any, schema_name: str, source: str) -> None:
    """The workspace's schema check, with its message (which quotes the bad value) cut short."""
    from a2c.workspace import validate

    try:
        validate(document, schema_name, source)
    except InvalidFile as exc:
        raise InvalidFile(excerpt(exc.message, MAX_ECHO + len(source)), excerpt(exc.hint, MAX_ECHO + 2 * len(source))) from None
    except RecursionError:
        raise InvalidFile(f"{source}: nested too deeply to check",
                          "Write the snapshot or archive again with `a2c extract`.") from None


__all__ = ["read_document", "validate_document", "MAX_DOCUMENT_BYTES"]
