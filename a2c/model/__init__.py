"""Frozen dataclasses for what flows between a2c's steps.

A step takes one of these (or a validated workspace JSON document) and returns the next;
nothing mutates its input. The JSON shapes that users edit live in ``a2c/schemas``; each
model that is written to the workspace keeps App2Container's field names in its JSON.
"""

from a2c.model.analysis import AnalysisHead, AnalyzerResult
from a2c.model.findings import Finding
from a2c.model.host import Connection, FileStat, ProcessInfo, Socket
from a2c.model.inventory import Detection, InventoryEntry
from a2c.model.jsonkeys import camel_case, json_fields
from a2c.model.plan import BuildPlan, CopyLayer

__all__ = ["AnalysisHead", "AnalyzerResult", "BuildPlan", "Connection", "CopyLayer", "Detection", "FileStat", "Finding",
           "InventoryEntry", "ProcessInfo", "Socket", "camel_case", "json_fields"]
