"""a2c containerize: analysis.json -> Artifacts/ -> image -> proof that it serves.

The builder of the plan's platform does the engine's part (a2c.images): the Docker engine
streams the build here; the CodeBuild builder (``--builder codebuild``) builds and pushes on AWS;
the Windows builder writes the artifacts and stops. ``run_all`` does this for every analyzed
application of the workspace: one after the other on the local engine, a bounded number at once
on CodeBuild, and one application's failure never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from a2c.archive import read_archive_app_id, unpack_archive
from a2c.env import Environment
from a2c.errors import A2CError, AppNotFound, ExitStatus, NotSupported, UsageError, WindowsHostRequired, crash_summary
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
    builder: str | None = None  # a builder by id (``codebuild``); None: the plan's platform's first
    builder_options: Mapping[str, Any] = field(default_factory=dict)  # for a builder that takes them (configure)


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
    builder: str = ""
    image_uri: str = ""  # repository@sha256:… when the builder pushed the image (codebuild)
    build_id: str = ""
    build_context: str = ""  # where the builder uploaded the context (s3://…)

    def to_json(self) -> dict[str, Any]:
        data = json_fields(self)
        data["validation"] = None if self.validation is None else {
            "url": self.validation.url, "status": self.validation.status, "seconds": round(self.validation.seconds, 1),
            "against": self.validation.baseline, "note": self.validation.note,
            "ports": [{"port": r.port, "probe": r.probe, "original": r.original, "container": r.container,
                       "match": r.match} for r in self.validation.rows]}
        return data


def run(env: Environment, request: ContainerizeRequest, builder: Any = None) -> ContainerizeResult:
    """One a2c at a time per application: a second run waits for the first, then fails clearly.
    ``builder``: one shared by several runs (run_all), used for plans of its platform."""
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
        return containerize(env, app_id, host, request, builder)


def choose_builder(env: Environment, platform: str, request: ContainerizeRequest, shared: Any = None) -> Any:
    """The builder for the plan: ``shared`` when it builds this platform, else the one named, else
    the platform's first; configured with the request's builder options."""
    if shared is not None and shared.platform == platform:
        return shared
    builder = env.builders.for_platform(platform, request.builder if shared is None else None)
    configure_builder(builder, request)
    return builder


def configure_builder(builder: Any, request: ContainerizeRequest) -> None:
    """Hand the builder its options; the S3 bucket defaults to the one `a2c init` saved."""
    if not hasattr(builder, "configure"):
        return
    options = dict(request.builder_options)
    if not options.get("s3_bucket"):
        from a2c.config import load_config

        config = load_config()
        options["s3_bucket"] = config.s3Bucket if config else ""
    builder.configure(options)


def containerize(env: Environment, app_id: str, host: Host, request: ContainerizeRequest,
                 shared_builder: Any = None) -> ContainerizeResult:
    workspace, reporter = env.workspace, env.reporter
    document = workspace.read_analysis(app_id)
    head = AnalysisHead.from_json(document)
    result = ContainerizeResult(app_id=app_id, image=head.image, application_port=head.application_port)
    source = str(workspace.app_dir(app_id) / ANALYSIS)

    plan = without_workspace(make_plan(document, host, env.analyzers, source), str(workspace.root), host)
    builder = choose_builder(env, plan.platform, request, shared_builder)
    result.builder = builder.id
    remote = bool(getattr(builder, "remote", False))  # builds elsewhere: nothing is run here
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
    job_kind = (document["analysisInfo"].get("workload") or {}).get("kind", "service")
    if request.validate and builder.builds_here and not remote and not (request.artifacts_only or request.build_only) \
            and job_kind == "service":  # a job or a worker has no port to probe: it is validated by running
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
    if getattr(builder, "pushes", False):  # it tags the image by deployment.json's ecrParameters
        result.deployment = str(ensure_deployment(workspace, head, env.targets, reporter))
    _record(result, builder.build(job), reporter)
    if request.build_only:
        return result
    result.deployment = str(ensure_deployment(workspace, head, env.targets, reporter))
    if remote:
        if request.validate:
            reporter.warn(f"not validated: {builder.id} built the image elsewhere; to run and probe it here, "
                          f"`docker pull {result.image_uri or result.image}` and `a2c containerize "
                          f"--application-id {app_id}` with the local engine")
        return result
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

    if validation.baseline == "run once":
        reporter.step(f"Pre-validation succeeded: {validation.note}")
        return
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
    for name in ("image_uri", "build_id"):
        setattr(result, name, getattr(outcome, name, "") or getattr(result, name))
    result.build_context = getattr(outcome, "context", "") or result.build_context
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
            if edited:
                kept.append(name)  # reported: the build uses the user's version
            if reuse or edited:
                continue
        to_write[name] = text
    workspace.write_files(directory, to_write, executable=tuple(n for n in to_write if n.endswith(".sh")))
    record.update({n: _digest(encode_text(n, t)) for n, t in to_write.items()})  # the bytes written
    atomic_write_json(record_path, record)
    return sorted(rendered), kept


# -- every analyzed application: containerize --all ------------------------------------------------

@dataclass(frozen=True)
class ContainerizeAllRequest:
    each: ContainerizeRequest  # the options every application is containerized with (its app_id unset)
    concurrency: int = 4  # builds at once on a remote builder; the local engine builds one at a time


@dataclass
class AppOutcome:
    app_id: str
    status: str  # "built", "artifacts" (written, not built: --artifacts-only, Windows) or "failed"
    seconds: float = 0.0
    image: str = ""
    image_uri: str = ""
    error: str = ""
    hint: str = ""
    exit_status: int = 0
    result: ContainerizeResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {"applicationId": self.app_id, "status": self.status, "seconds": round(self.seconds, 1),
                "image": self.image, "imageUri": self.image_uri, "error": self.error, "hint": self.hint,
                "exitStatus": self.exit_status, "result": self.result.to_json() if self.result else None}


@dataclass
class ContainerizeAllResult:
    builder: str
    concurrency: int
    applications: list[AppOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[AppOutcome]:
        return [a for a in self.applications if a.status == "failed"]

    @property
    def exit_status(self) -> int:
        """0 when none failed; else the failures' own status when they share one, else BUILD_FAILED."""
        statuses = {a.exit_status for a in self.failed}
        if not statuses:
            return int(ExitStatus.OK)
        return statuses.pop() if len(statuses) == 1 else int(ExitStatus.BUILD_FAILED)

    def to_json(self) -> dict[str, Any]:
        return {"builder": self.builder, "concurrency": self.concurrency,
                "built": sum(a.status == "built" for a in self.applications), "failed": len(self.failed),
                "exitStatus": self.exit_status, "applications": [a.to_json() for a in self.applications]}


class PrefixedReporter(Reporter):
    """One application's lines among others' (--all): each starts with its id."""

    def __init__(self, inner: Reporter, app_id: str) -> None:
        self.inner, self.prefix = inner, f"[{app_id}] "

    def step(self, message: str) -> None:
        self.inner.step(self.prefix + message)

    def detail(self, message: str) -> None:
        self.inner.detail(self.prefix + message)

    def warn(self, message: str) -> None:
        self.inner.warn(self.prefix + message)


def analyzed_applications(workspace: Workspace) -> list[str]:
    """The workspace's applications that have an analysis.json, by id."""
    from a2c.ids import application_id_problem

    try:
        folders = sorted(p for p in workspace.root.iterdir() if p.is_dir())
    except OSError:
        return []
    return [p.name for p in folders if application_id_problem(p.name) is None and (p / ANALYSIS).is_file()]


def named_builder(env: Environment, builder_id: str) -> Any:
    """The installed builder of that id, constructed once (shared by every application of --all)."""
    for cls in env.builders.classes:
        if cls.id == builder_id:
            return cls(env)
    raise NotSupported(f"no builder named {builder_id!r} is installed (installed: {', '.join(env.builders.ids())})",
                       "Choose one of the installed builders with --builder, or install the builder's plugin.")


def run_all(env: Environment, request: ContainerizeAllRequest,
            on_done: Callable[[AppOutcome], None] | None = None) -> ContainerizeAllResult:
    """Containerize every analyzed application; one failing does not stop the others.

    A remote builder (CodeBuild) is checked once (bucket, role, project) before any application
    starts, and then builds ``concurrency`` applications at once; the local engine builds them one
    after the other (one engine, one build at a time, and each image is run to validate it).
    """
    if request.each.app_id or request.each.input_archive or request.each.export_context:
        raise UsageError("--all containerizes every analyzed application: it takes no --application-id, "
                         "--input-archive or --export-context", "Drop those options, or containerize one application.")
    apps = analyzed_applications(env.workspace)
    if not apps:
        raise AppNotFound(f"no analyzed application in {env.workspace.root}",
                       "Run `a2c inventory` and `a2c analyze --application-id ID` first.")
    shared = None
    if request.each.builder:
        shared = named_builder(env, request.each.builder)
        configure_builder(shared, request.each)
    remote = bool(getattr(shared, "remote", False))
    concurrency = max(1, request.concurrency) if remote else 1
    env.analyzers, env.targets  # noqa: B018 - loaded here, before threads share the Environment
    if shared is not None and hasattr(shared, "preflight") and not request.each.artifacts_only:
        shared.preflight(env.reporter)
    result = ContainerizeAllResult(builder=getattr(shared, "id", "") or "default", concurrency=concurrency)
    env.reporter.step(f"Containerizing {len(apps)} applications ({result.builder} builder"
                      + (f", {concurrency} at a time)" if concurrency > 1 else ", one at a time)"))
    lock = threading.Lock()

    def done(outcome: AppOutcome) -> AppOutcome:
        with lock:
            if on_done is not None:
                on_done(outcome)
        return outcome

    def one(app_id: str) -> AppOutcome:
        return done(_containerize_one(env, app_id, request.each, shared))

    if concurrency == 1:
        result.applications = [one(app_id) for app_id in apps]
        return result
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(apps)), thread_name_prefix="a2c-containerize")
    futures = [pool.submit(one, app_id) for app_id in apps]
    try:
        result.applications = [future.result() for future in futures]
    except BaseException:  # an interrupt: stop the builds on AWS, start no more
        cancel = getattr(shared, "cancel", None)
        if cancel is not None:
            cancel.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
    return result


def _containerize_one(env: Environment, app_id: str, each: ContainerizeRequest, shared: Any) -> AppOutcome:
    import logging

    started = time.monotonic()
    app_env = replace(env, reporter=PrefixedReporter(env.reporter, app_id))
    try:
        built = run(app_env, replace(each, app_id=app_id), shared)
    except WindowsHostRequired as exc:
        return AppOutcome(app_id, "artifacts", time.monotonic() - started, error=exc.message, hint=exc.hint,
                          exit_status=int(exc.exit_status))
    except A2CError as exc:
        app_env.reporter.warn(f"failed: {exc.message}")
        return AppOutcome(app_id, "failed", time.monotonic() - started, error=exc.message, hint=exc.hint,
                          exit_status=int(exc.exit_status))
    except Exception as exc:  # noqa: BLE001 - one application's crash must not stop the others
        logging.getLogger("a2c").exception("containerize of %s crashed", app_id)
        app_env.reporter.warn(f"failed: unexpected error {crash_summary(exc)}")
        return AppOutcome(app_id, "failed", time.monotonic() - started, error=f"unexpected error: {crash_summary(exc)}",
                          hint="The details are in the workspace log (log/a2c.log).",
                          exit_status=int(ExitStatus.UNEXPECTED))
    status = "artifacts" if each.artifacts_only else "built"
    return AppOutcome(app_id, status, time.monotonic() - started, image=built.image, image_uri=built.image_uri,
                      result=built)
