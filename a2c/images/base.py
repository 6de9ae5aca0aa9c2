"""The Builder seam: every builder serves the same build plan.

containerize asks the builder for its plan's platform to render the artifacts users may edit
(``render``), to put what goes beside them into Artifacts/ (``stage``), to build the image
(``build``) and to prove it serves (``validate``). A builder that cannot build here (Windows
images on a Linux machine) writes its artifacts and stops with instructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from a2c.hosts.base import Host
from a2c.model import AnalysisHead, BuildPlan
from a2c.progress import Reporter


@dataclass(frozen=True)
class BuildJob:
    """One application's build, as containerize hands it to a builder."""

    plan: BuildPlan
    analysis: AnalysisHead
    host: Host
    artifacts_dir: Path  # the rendered artifacts as written (a user may have edited them)
    artifact_names: tuple[str, ...]  # the files of artifacts_dir that render() named
    reporter: Reporter
    source: str  # analysis.json, for messages that name a field
    workspace: Any = None  # the Workspace, for builders that write into Artifacts/ (staging)
    baseline: Any = None  # a2c.probe.Baseline: how the original answered, probed before the build

    @property
    def image(self) -> str:
        return self.analysis.image

    def artifacts(self) -> dict[str, bytes]:
        """The rendered artifacts' bytes as they stand now (edits included), read when a build needs them."""
        return {name: (self.artifacts_dir / name).read_bytes() for name in self.artifact_names}


@dataclass
class BuildOutcome:
    """What a builder did; containerize reports it."""

    image_id: str = ""
    size: int = 0
    context_files: int = 0
    context_bytes: int = 0
    notes: list[str] = field(default_factory=list)  # recorded in the result
    warnings: list[str] = field(default_factory=list)  # recorded and shown


@dataclass(frozen=True)
class Validation:
    """How the image answered: the health check (url, status) and, port by port, the parity
    table against the original (``rows``: a2c.probe.Row) with where the original's answers came from."""

    url: str
    status: int
    seconds: float
    rows: tuple[Any, ...] = ()
    baseline: str = ""  # "original", "analysis" or "health check"
    note: str = ""  # why the original itself was not the baseline


class Builder:
    """Base of every builder. Constructed with the Environment (for its gateways)."""

    id: ClassVar[str] = ""
    platform: ClassVar[str] = "linux"  # the plans it builds (BuildPlan.platform)
    priority: ClassVar[int] = 100  # lower wins among builders of one platform
    builds_here: ClassVar[bool] = True  # False: it writes artifacts and stops (build raises with instructions)
    description: ClassVar[str] = ""

    def __init__(self, env: Any = None) -> None:
        self.env = env

    def prepare(self, plan: BuildPlan, host: Host | None = None) -> BuildPlan:
        """The plan as this builder will build it from ``host``'s files (a base image pinned to its
        digest, files the base already holds left out); called only when an image is to be built."""
        return plan

    def render(self, plan: BuildPlan, analysis: AnalysisHead, host: Host, source: str) -> dict[str, str]:
        """``{name: text}`` of the artifacts written to Artifacts/ (kept when a user edited them)."""
        raise NotImplementedError

    def stage(self, job: BuildJob) -> BuildOutcome:
        """Put into Artifacts/ whatever the build needs beside the rendered files; nothing by default."""
        return BuildOutcome()

    def build(self, job: BuildJob) -> BuildOutcome:
        raise NotImplementedError

    def validate(self, job: BuildJob, timeout: float) -> Validation | None:
        """Run the image and prove it serves like the original; None when this builder cannot."""
        return None
