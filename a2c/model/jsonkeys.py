"""The --json shape of result objects: camelCase keys, App2Container's words."""

from __future__ import annotations

import dataclasses
from typing import Any


def camel_case(name: str) -> str:
    """``context_files`` -> ``contextFiles``; ``app_id`` -> ``applicationId`` (App2Container's word)."""
    if name == "app_id":
        return "applicationId"
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_fields(obj: Any) -> dict[str, Any]:
    """A result dataclass as its ``--json`` object: every key camelCase, as everywhere in a2c's output."""
    return {camel_case(f.name): getattr(obj, f.name) for f in dataclasses.fields(obj)}
