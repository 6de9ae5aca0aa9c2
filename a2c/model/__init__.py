"""Frozen dataclasses for what flows between a2c's steps.

A step takes one of these (or a validated workspace JSON document) and returns the next;
nothing mutates its input. The JSON shapes that users edit live in ``a2c/schemas``; each
model that is written to the workspace keeps App2Container's field names in its JSON.

``from a2c.model import X`` imports only the submodule that holds X.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2c.model.analysis import AnalysisHead, AnalyzerResult
    from a2c.model.findings import Finding
    from a2c.model.host import Connection, FileStat, ProcessInfo, Socket
    from a2c.model.inventory import Detection, InventoryEntry
    from a2c.model.jsonkeys import camel_case, json_fields
    from a2c.model.plan import BuildPlan, CopyLayer

_SUBMODULES = {
    "AnalysisHead": "analysis", "AnalyzerResult": "analysis", "Finding": "findings", "Connection": "host",
    "FileStat": "host", "ProcessInfo": "host", "Socket": "host", "Detection": "inventory", "InventoryEntry": "inventory",
    "camel_case": "jsonkeys", "json_fields": "jsonkeys", "BuildPlan": "plan", "CopyLayer": "plan",
}

__all__ = ["AnalysisHead", "AnalyzerResult", "BuildPlan", "Connection", "CopyLayer", "Detection", "FileStat", "Finding",
           "InventoryEntry", "ProcessInfo", "Socket", "camel_case", "json_fields"]


def __getattr__(name: str) -> Any:
    submodule = _SUBMODULES.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
