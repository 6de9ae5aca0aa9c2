"""The analyzer contract: metadata as class attributes, three methods.

``detect`` claims a process cheaply during inventory; ``analyze`` reads everything the app
needs into App2Container's analysis sections; ``plan`` turns a (possibly user-edited)
analysis.json into a Docker-independent build plan. All host access goes through ``host``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from a2c.hosts.base import Host
from a2c.model import AnalyzerResult, BuildPlan, Detection, InventoryEntry, ProcessInfo


class Analyzer:
    id: ClassVar[str] = ""
    runtime: ClassVar[str] = ""  # "java" or "dotnet"
    application_type: ClassVar[str] = ""
    priority: ClassVar[int] = 100  # lower runs first; the generic fallback runs last
    description: ClassVar[str] = ""

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        """Cheap pre-filter on process facts, before the process is read in full."""
        return False

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        raise NotImplementedError

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        raise NotImplementedError

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        raise NotImplementedError
