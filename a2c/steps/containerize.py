"""a2c containerize: analysis.json -> Artifacts/ -> image -> proof that it serves.

The builder of the plan's platform does the engine's part (a2c.images): the Docker engine
streams the build here; the Windows builder writes the artifacts and stops.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a2c.archive import read_archive_app_id, unpack_archive
from a2c.env import Environment
from a2c.errors import NotSupported
from a2c.hosts.base import Host
from a2c.images.base import BuildJob, Validation
from a2c.probe import Baseline
from a2c.locks import app_lock, existing_app_lock
from a2c.model import AnalysisHead, json_fields
from a2c.planning import make_plan, without_workspace
from a2c.progress import Reporter
from a2c.targets.deployment import ensure_deployment
from a2c.workspace import ANALYSIS, Workspace, atomic_write_json, encode_text

RENDER_RECORD = ".a2c-rendered.json"


@dataclass(frozen=True)
class ContainerizeRequest:
    app_id: str | None = None
    input_archive: Path | None = None  # an `a2c extract` archive, built here instead of from a host
    host: str = "local"
    base_image: str | None = None  # set containerParameters.containerBaseImage first
    build_only: bool = False
    artifacts_only: bool = False
    validate: bool = True
    validate_timeout: float = 180.0
    export_context: Path | None = None  # also write the build context here, for `docker build` elsewhere
    export_mode: str = "link"  # "link", "copy" or "tar" (a2c.images.export)
    export_force: bool = False  # replace a non-empty export_context


@dataclass
class ContainerizeResult:
    app_id: str
    image: str
    image_id: str = ""
    image_size: int = 0
    artifacts: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    validation: Validation | None = None
    deployment: str = ""
    context_files: int = 0
    context_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    application_port: int = 0
    exported_context: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = json_fields(self)
        data["validation"] = None if self.validation is None else {
            "url": self.validation.url, "status": self.validation.status, "seconds": round(self.validation.seconds, 1),
            "against": self.validation.baseline, "note": self.validation.note,
            "ports": [{"port": r.port, "probe": r.probe, "original": r.original, "container": r.container,
                       "match": r.match} for r in self.validation.rows]}
        return data


def run(env: Environment, request: ContainerizeRequest) -> ContainerizeResult:
    """One a2c at a time per application: a second run waits for the first, then fails clearly."""
    workspace = env.workspace
    app_id = read_archive_app_id(request.input_archive) if request.input_archive else request.app_id
    assert app_id is not None
    app_dir = workspace.app_dir(app_id)
    host: Host
    with app_lock(app_dir, app_id) if request.input_archive else existing_app_lock(app_dir, app_id):
        if request.input_archive:
            app_id, host = unpack_archive(request.input_archive, workspace)
            env.reporter.step(f"Unpacked {request.input_archive} for {app_id}")
        else:
            host = env.open_host(request.host)
        if request.base_image:
            analysis = workspace.read_analysis(app_id)
            analysis["containerParameters"]["containerBaseImage"] = request.base_image
            workspace.write_analysis(app_id, analysis)
        return containerize(env, app_id, host, request)


def containerize(env: Environment, app_id: str, host: Host, request: ContainerizeRequest) -> ContainerizeResult:
    workspace, reporter = env.workspace, env.reporter
    document = workspace.read_analysis(app_id)
    head = AnalysisHead.from_json(document)
    result = ContainerizeResult(app_id=app_id, image=head.image, application_port=head.application_port)
    source = str(workspace.app_dir(app_id) / ANALYSIS)

    plan = without_workspace(make_plan(document, host, env.analyzers, source), str(workspace.root), host)
    builder = env.builders.for_platform(plan.platform)
    if request.export_context is not None and getattr(builder, "context_writer", None) is None:
        raise NotSupported(f"the {builder.id} builder has no build context to export (--export-context)",
                           "Export the context of Linux images only; for Windows images, Artifacts/ is the context.")
    if not request.artifacts_only and builder.builds_here:
        plan = builder.prepare(plan, host)
    rendered = builder.render(plan, head, host, source)
    artifacts_dir = workspace.artifacts_dir(app_id)
    result.artifacts, result.kept_edited = write_artifacts(artifacts_dir, rendered, workspace, reuse=request.build_only)
    for name in result.kept_edited:
        reporter.warn(f"Artifacts/{name} was edited by hand; building from your version (delete it to regenerate)")
    if builder.builds_here:  # a builder that stops reports what it wrote itself
        reporter.step(f"Wrote build artifacts to {artifacts_dir}")
    found = None
    if request.validate and builder.builds_here and not (request.artifacts_only or request.build_only):
        found = probe_baseline(host, document, reporter)  # before the build: the original as it serves now
    job = BuildJob(plan=plan, analysis=head, host=host, artifacts_dir=artifacts_dir, artifact_names=tuple(rendered),
                   reporter=reporter, source=source, workspace=workspace, baseline=found)
    _record(result, builder.stage(job), reporter)
    if request.export_context is not None:
        result.exported_context = export_build_context(builder, job, request, result)
    if request.artifacts_only or not builder.builds_here:
        result.deployment = str(ensure_deployment(workspace, head, env.targets, reporter))
    if request.artifacts_only:
        return result
    _record(result, builder.build(job), reporter)
    if request.build_only:
        return result
    result.deployment = str(ensure_deployment(workspace, head, env.targets, reporter))
    if request.validate:
        result.validation = builder.validate(job, request.validate_timeout)
        if result.validation is not None:
            report_validation(result.validation, reporter)
    return result


def export_build_context(builder: Any, job: BuildJob, request: ContainerizeRequest,
                         result: ContainerizeResult) -> dict[str, Any]:
    """The context the build streams, written to a folder (or tar) that `docker build` builds
    without a2c; its notes (credential stores left out, unreadable files) are the build's."""
    from a2c.images.docker import context_outcome
    from a2c.images.export import describe, export_context

    assert request.export_context is not None
    reporter = job.reporter
    reporter.step(f"Exporting the build context to {request.export_context} ({request.export_mode})")
    writer = builder.context_writer(job)
    exported = export_context(writer, request.export_context, request.export_mode, request.export_force)
    reporter.step(describe(exported))
    if exported.mode == "link" and exported.copied:
        reporter.warn(f"{exported.copied} of {exported.files} files were copied, not hard-linked (another file "
                      f"system, or a mode or time the image gives them differs from the host's)")
    for name in exported.skipped:
        reporter.warn(f"not exported (its name leaves the folder or passes through a link): {name}")
    outcome = context_outcome(writer.stats)
    outcome.context_files = outcome.context_bytes = 0  # the build's own numbers, if it builds
    if not request.artifacts_only and builder.builds_here:
        outcome.warnings = []  # the build walks the same files and warns once
    _record(result, outcome, reporter)
    return exported.to_json()


def probe_baseline(host: Host, document: dict[str, Any], reporter: Reporter) -> Baseline:
    """The original's answers on every port it listens on, before building (a2c.parity)."""
    from a2c import parity

    found = parity.baseline(host, document)
    if found.source == "original":
        reporter.step("Probed the original: " + "; ".join(
            f"port {p.port} {p.protocol}" + (" (" + ", ".join(f"{r.path} {r.shown()}" for r in p.paths) + ")"
                                             if p.paths else "") for p in found.probes))
    else:
        reporter.warn(f"could not probe the original: {found.reason}")
    return found


def report_validation(validation: Validation, reporter: Reporter) -> None:
    from a2c.probe import table

    if validation.rows:
        reporter.step("Original vs container:\n" + table(validation.rows))
        reporter.step(f"Pre-validation succeeded: the image answers like the original on every port after "
                      f"{validation.seconds:.1f}s")
    else:
        reporter.step(f"Pre-validation succeeded: HTTP {validation.status} from {validation.url} after "
                      f"{validation.seconds:.1f}s (checked against the analysis only: {validation.note})")


def _record(result: ContainerizeResult, outcome: Any, reporter: Reporter) -> None:
    result.image_id = outcome.image_id or result.image_id
    result.image_size = outcome.size or result.image_size
    result.context_files = outcome.context_files or result.context_files
    result.context_bytes = outcome.context_bytes or result.context_bytes
    result.notes += [note for note in outcome.notes if note not in result.notes]
    for warning in outcome.warnings:
        reporter.warn(warning)


def _digest(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def write_artifacts(directory: Path, rendered: dict[str, str], workspace: Workspace, reuse: bool) -> tuple[list[str], list[str]]:
    """Write rendered artifacts, keeping any file the user edited since a2c last wrote it."""
    record_path = directory / RENDER_RECORD
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        record = {}
    to_write: dict[str, str] = {}
    kept: list[str] = []
    for name, text in rendered.items():
        path = directory / name
        if path.exists():
            current = path.read_bytes()
            edited = record.get(name) != _digest(current)
            if reuse or edited:
                kept.append(name)
                continue
        to_write[name] = text
    workspace.write_files(directory, to_write, executable=tuple(n for n in to_write if n.endswith(".sh")))
    record.update({n: _digest(encode_text(n, t)) for n, t in to_write.items()})  # the bytes written
    atomic_write_json(record_path, record)
    return sorted(rendered), kept
