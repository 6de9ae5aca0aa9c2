"""The analyzer contract: metadata as class attributes, capabilities as methods of this class.

``detect`` claims a process cheaply during inventory; ``analyze`` reads everything the app
needs into App2Container's analysis sections; ``plan`` turns a (possibly user-edited)
analysis.json into an engine-independent build plan (Windows applications get one too, with
``platform="windows"``). All host access goes through ``host``. Analyzers return facts and
plans; they never write files or render templates.

Optional capabilities have defaults here, so the core calls them without asking:
``enumerate`` lists applications found in configuration rather than in the process table
(IIS sites, Windows services; set ``lists_configured``), and ``components`` names the libraries
an image will hold, for the SBOM.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from a2c.hosts.base import Host
from a2c.model import AnalyzerResult, BuildPlan, Detection, InventoryEntry, ProcessInfo
from a2c.model.sbom import ComponentScan


class Analyzer:
    id: ClassVar[str] = ""
    runtime: ClassVar[str] = ""  # "java" or "dotnet"
    application_type: ClassVar[str] = ""
    priority: ClassVar[int] = 100  # lower runs first; the generic fallback runs last
    description: ClassVar[str] = ""
    # Applications this analyzer lists from configuration (IIS sites, Windows services), found
    # again there by analyze; they need not be running.
    lists_configured: ClassVar[bool] = False
    # The analyzer of this runtime that takes over when a framework analyzer crashes, and that
    # can plan any analysis of its runtime (process mode).
    process_mode: ClassVar[bool] = False
    # A third-party analyzer's own object in analysisInfo (e.g. "toy") and its JSON Schema; the
    # built-ins' sections are in analysis.schema.json.
    info_section: ClassVar[str] = ""
    # The platform of the images it plans ("linux", or "windows" for IIS sites and services).
    platform: ClassVar[str] = "linux"

    def info_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        """Cheap pre-filter on process facts, before the process is read in full."""
        return False

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        raise NotImplementedError

    def enumerate(self, host: Host) -> list[tuple[Detection, dict[str, Any]]]:
        """Applications configured on the host, each with its inventory fields (``processId``,
        ``cmdline``, ``ports`` and any of its own); none unless ``lists_configured``."""
        return []

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        raise NotImplementedError

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        raise NotImplementedError

    def components(self, analysis: Mapping[str, Any], host: Host) -> ComponentScan | None:
        """The libraries the image of this analysis holds, for its SBOM; None (no SBOM) by default."""
        return None
