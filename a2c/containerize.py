"""Containerize: analysis.json -> Artifacts/ -> image (streamed build) -> running proof."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a2c.analyzers.registry import Registry
from a2c.build.context import ContextWriter
from a2c.build.validate import ValidationResult, validate_image
from a2c.deployment import build_deployment
from a2c.errors import A2CError, AppNotFound, BuildFailed, InvalidFile
from a2c.generate.container import render_container_artifacts
from a2c.generate.safe import http_path
from a2c.hosts.base import Host
from a2c.model import BuildPlan, json_fields
from a2c.progress import Reporter
from a2c.workspace import ANALYSIS, DEPLOYMENT, Workspace, atomic_write_json, encode_text

log = logging.getLogger(__name__)

RENDER_RECORD = ".a2c-rendered.json"


@dataclass(frozen=True)
class ContainerizeRequest:
    app_id: str
    build_only: bool = False
    artifacts_only: bool = False
    validate: bool = True
    validate_timeout: float = 180.0


@dataclass
class ContainerizeResult:
    app_id: str
    image: str
    image_id: str = ""
    image_size: int = 0
    artifacts: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    validation: ValidationResult | None = None
    deployment: str = ""
    context_files: int = 0
    context_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = json_fields(self)
        data["validation"] = None if self.validation is None else {
            "url": self.validation.url, "status": self.validation.status, "seconds": round(self.validation.seconds, 1)}
        return data


# The analyzer that takes over when a runtime's framework analyzer crashes (see a2c.analysis):
# its analyses keep the framework's application type.
PROCESS_MODE = {"java": "java-generic"}


def find_analyzer(analysis: dict[str, Any], registry: Registry, source: str = "analysis.json") -> Any:
    """The analyzer that plans the image: the one analysis.json names, else the one of its type.

    A named analyzer must exist and plan this type of application, or its plan would read
    fields this analysis does not have.
    """
    info = analysis["analysisInfo"]
    app_type = info["applicationType"]
    named = info.get("analyzer", "")
    by_type = registry.for_type(app_type)
    if not named:
        analyzer = by_type
    else:
        analyzer = registry.get(named)
        if analyzer is None:
            known = ", ".join(a.id for a in registry.ordered())
            raise InvalidFile(f"{source}: $.analysisInfo.analyzer: no analyzer {named!r} is installed (installed: {known})",
                              f"Set $.analysisInfo.analyzer to {by_type.id!r} (the analyzer of {app_type}) or remove it, "
                              "or install the plugin that analyzed this application." if by_type else
                              "Install the analyzer plugin that analyzed this application.")
        if not _plans(analyzer, app_type):
            raise InvalidFile(f"{source}: $.analysisInfo.analyzer: analyzer {named!r} plans {analyzer.application_type} "
                              f"applications, but $.analysisInfo.applicationType is {app_type}",
                              f"Set $.analysisInfo.analyzer back to {by_type.id!r}, or run `a2c analyze` again."
                              if by_type else "Run `a2c analyze` again to rewrite analysis.json.")
    if analyzer is None:
        raise AppNotFound(f"no analyzer can build application type {app_type}",
                          "Install the analyzer plugin that analyzed this application.")
    return analyzer


def _plans(analyzer: Any, app_type: str) -> bool:
    """Whether an analyzer can plan an analysis of this type: its own, or any of its runtime when
    it is the runtime's process-mode analyzer."""
    if analyzer.application_type == app_type:
        return True
    fallback = PROCESS_MODE.get(analyzer.runtime)
    return analyzer.id == fallback and app_type.startswith(f"{analyzer.runtime}-")


def make_plan(analysis: dict[str, Any], host: Host, registry: Registry, source: str = "analysis.json") -> BuildPlan:
    """The analyzer's build plan. A lookup that fails in the analysis itself (a field removed by an
    edit that the schema cannot require) is reported as that file's error, not as a crash."""
    analyzer = find_analyzer(analysis, registry, source)
    try:
        return analyzer.plan(analysis, host)
    except (KeyError, IndexError) as exc:
        log.debug("plan of %s failed", analyzer.id, exc_info=True)
        missing = f"the field {exc}" if isinstance(exc, KeyError) else "an item of a list"
        raise InvalidFile(f"{source}: analyzer {analyzer.id} cannot plan the image: the analysis lacks {missing}",
                          f"Restore the field in {source} (or run `a2c analyze` again to rewrite it); "
                          "run with --debug for the traceback.") from exc


def without_workspace(plan: BuildPlan, workspace: Workspace, host: Host) -> BuildPlan:
    """The plan with the a2c workspace left out of every layer: an application whose folder holds
    the workspace (a2c run from the app's own folder) must not get analyses, artifacts and
    extraction archives copied into its image."""
    if not host.is_local:
        return plan
    root = str(workspace.root)
    layers = tuple(dataclasses.replace(layer, excludes=layer.excludes + (root,)) for layer in plan.layers)
    return plan.replace(layers=layers)


def write_deployment_once(workspace: Workspace, app_id: str, analysis: dict[str, Any], reporter: Reporter,
                          result: ContainerizeResult) -> None:
    """deployment.json as App2Container writes it at containerize; an existing one (maybe edited) is kept."""
    path = workspace.app_dir(app_id) / DEPLOYMENT
    if not path.exists():
        workspace.write_deployment(app_id, build_deployment(analysis))
        reporter.step(f"Wrote {path}")
    result.deployment = str(path)


def containerize_windows(workspace: Workspace, request: ContainerizeRequest, analyzer: Any, analysis: dict[str, Any],
                         host: Host, reporter: Reporter, result: ContainerizeResult) -> ContainerizeResult:
    """IIS sites and Windows services: the Windows Dockerfile and its build context are written;
    the image can only be built on a Windows container host of the same Windows build."""
    from a2c.errors import WindowsHostRequired

    from a2c.analyzers.dotnet.windows_artifacts import build_instructions, context_files

    artifacts_dir = workspace.artifacts_dir(request.app_id)
    rendered = analyzer.windows_artifacts(analysis)
    result.artifacts, result.kept_edited = write_artifacts(artifacts_dir, rendered, workspace, reuse=request.build_only)
    context = analyzer.windows_context(analysis, host)
    copied = 0
    for relative, host_path in context_files(context, host):
        with host.open(host_path) as source:
            workspace.copy_stream(artifacts_dir, relative, source)
        copied += 1
        if copied % 200 == 0:
            reporter.detail(f"copied {copied} files of the site into Artifacts/")
    workspace.write_files(artifacts_dir, dict(context.generated))
    result.context_files = copied
    result.notes += [f"{f.code} {f.message}" for f in context.findings]
    reporter.step(f"Wrote the Windows Dockerfile and its build context ({copied} files) to {artifacts_dir}")
    write_deployment_once(workspace, request.app_id, analysis, reporter, result)
    if request.artifacts_only:
        return result
    raise WindowsHostRequired(
        f"{request.app_id} needs a Windows container image, which only a Windows container host can build; "
        f"the Dockerfile and its build context are in {artifacts_dir}",
        f"{build_instructions(analysis)} Pass --artifacts-only here to stop after writing them.")


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


def containerize(workspace: Workspace, request: ContainerizeRequest, host: Host, registry: Registry,
                 reporter: Reporter) -> ContainerizeResult:
    from a2c.gateways.docker_engine import DockerEngine

    app_id = request.app_id
    analysis = workspace.read_analysis(app_id)
    params = analysis["containerParameters"]
    image = f"{params['imageRepository']}:{params['imageTag']}"
    result = ContainerizeResult(app_id=app_id, image=image)

    source = str(workspace.app_dir(app_id) / ANALYSIS)
    analyzer = find_analyzer(analysis, registry, source)
    if hasattr(analyzer, "windows_artifacts"):
        return containerize_windows(workspace, request, analyzer, analysis, host, reporter, result)
    engine = None if request.artifacts_only else DockerEngine.connect()
    plan = without_workspace(make_plan(analysis, host, registry, source), workspace, host)
    if engine is not None:
        plan = plan.replace(base_image=engine.pinned_reference(plan.base_image))
    present = tuple(l.name for l in plan.layers if any(host.lstat(p) is not None for p in l.paths))
    for layer in plan.layers:
        for path in layer.paths:
            if host.lstat(path) is None:
                result.notes.append(f"{path} (layer {layer.name}) does not exist on {host.name}; skipped")
    rendered = render_container_artifacts(plan, host_name=analysis["analysisInfo"].get("hostName", host.name),
                                          health_path=params.get("healthCheckPath", "/"),
                                          secrets=analysis["analysisInfo"].get("secrets", []), nonempty_layers=present,
                                          source=source)
    artifacts_dir = workspace.artifacts_dir(app_id)
    result.artifacts, result.kept_edited = write_artifacts(artifacts_dir, rendered, workspace, reuse=request.build_only)
    for name in result.kept_edited:
        reporter.warn(f"Artifacts/{name} was edited by hand; building from your version (delete it to regenerate)")
    reporter.step(f"Wrote build artifacts to {artifacts_dir}")
    if engine is None:  # --artifacts-only
        write_deployment_once(workspace, app_id, analysis, reporter, result)
        return result

    artifact_bytes = {name: (artifacts_dir / name).read_bytes() for name in rendered}
    writer = ContextWriter(host, plan, artifact_bytes,
                           progress=lambda s: reporter.detail(f"context: {s.files} files, {s.bytes // (1024 * 1024)} MiB"))
    reporter.step(f"Building {image} from {plan.base_image} (context streamed from {host.name})")
    try:
        built = engine.build(writer, image, reporter.detail)
    except BuildFailed as exc:
        if "pull access denied" in exc.message or "not found" in exc.message.lower():
            exc.hint = (f"The base image {plan.base_image} is not available to this Docker engine: pull it, or set "
                        f"containerParameters.containerBaseImage in analysis.json to a local JRE image.")
        raise
    result.image_id, result.image_size = built.image_id, built.size
    result.context_files, result.context_bytes = writer.stats.files, writer.stats.bytes
    for link in writer.stats.links_kept:
        result.notes.append(f"link kept as a link (its target is not copied): {link}")
    for path in writer.stats.unreadable:
        result.notes.append(f"could not read {path}; not in the image")
    for entry in writer.stats.refused:  # loud: an app that needs one (a TLS keystore) must get it at run time
        result.notes.append(f"credential store left out of the image: {entry}")
        reporter.warn(f"left out of the image (a credential store; supply it at run time, e.g. from Secrets "
                      f"Manager or a mounted volume): {entry}")
    reporter.step(f"Built {image} ({built.size // (1024 * 1024)} MiB, {writer.stats.files} files from the host)")
    if request.build_only:
        return result

    write_deployment_once(workspace, app_id, analysis, reporter, result)

    if request.validate:
        result.validation = validate_image(engine, image, app_id, int(params.get("applicationPort") or 0),
                                           http_path(params.get("healthCheckPath") or "/",
                                                     "$.containerParameters.healthCheckPath", source),
                                           request.validate_timeout, reporter)
        reporter.step(f"Pre-validation succeeded: HTTP {result.validation.status} from {result.validation.url} "
                      f"after {result.validation.seconds:.1f}s")
    return result


__all__ = ["ContainerizeRequest", "ContainerizeResult", "containerize", "make_plan", "A2CError"]
