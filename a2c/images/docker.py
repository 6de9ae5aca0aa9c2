"""The Docker engine builder: the plan's files streamed as the build context, never copied.

The engine comes from the Environment (``DOCKER_HOST`` and the rest of docker's own
settings); it is connected only when an image is built, so ``--artifacts-only`` needs none.
"""

from __future__ import annotations

from typing import Any, ClassVar

from a2c.errors import BuildFailed
from a2c.generate.container import render_container_artifacts
from a2c.generate.safe import http_path
from a2c.hosts.base import Host
from a2c.images.base import Builder, BuildJob, BuildOutcome, Validation
from a2c.model import AnalysisHead, BuildPlan


class DockerBuilder(Builder):
    id: ClassVar[str] = "docker"
    platform: ClassVar[str] = "linux"
    priority: ClassVar[int] = 10
    description: ClassVar[str] = "Linux images built by a Docker engine from a streamed build context"

    def _engine(self) -> Any:
        if self.env is not None:
            return self.env.docker()
        from a2c.gateways.docker_engine import DockerEngine

        return DockerEngine.connect()

    def prepare(self, plan: BuildPlan, host: Host | None = None) -> BuildPlan:
        from a2c.images.basefiles import without_base_files

        engine = self._engine()
        plan = plan.replace(base_image=engine.pinned_reference(plan.base_image))
        if host is None:
            return plan
        plan, notes = without_base_files(plan, host, engine.file_digests)
        for note in notes:
            if self.env is not None:
                self.env.reporter.detail(note)
        return plan

    def render(self, plan: BuildPlan, analysis: AnalysisHead, host: Host, source: str) -> dict[str, str]:
        present = tuple(layer.name for layer in plan.layers if any(host.lstat(p) is not None for p in layer.paths))
        return render_container_artifacts(plan, host_name=analysis.host_name or host.name,
                                          health_path=analysis.health_check_path, secrets=[dict(s) for s in analysis.secrets],
                                          nonempty_layers=present, source=source)

    def stage(self, job: BuildJob) -> BuildOutcome:
        outcome = BuildOutcome()
        for layer in job.plan.layers:
            for path in layer.paths:
                if job.host.lstat(path) is None:
                    outcome.notes.append(f"{path} (layer {layer.name}) does not exist on {job.host.name}; skipped")
        return outcome

    def context_writer(self, job: BuildJob) -> Any:
        """The build context's walk (a2c.images.layers.ContextWriter), for the stream and for
        ``--export-context`` alike, with the build's progress lines."""
        from a2c.images.layers import ContextWriter

        reporter = job.reporter
        return ContextWriter(job.host, job.plan, support_layout(job.artifacts()),
                             progress=lambda s: reporter.detail(f"context: {s.files} files, {s.bytes // (1024 * 1024)} MiB"))

    def build(self, job: BuildJob) -> BuildOutcome:
        reporter, plan = job.reporter, job.plan
        writer = self.context_writer(job)
        reporter.step(f"Building {job.image} from {plan.base_image} (context streamed from {job.host.name})")
        try:
            built = self._engine().build(writer, job.image, reporter.detail)
        except BuildFailed as exc:
            if "pull access denied" in exc.message or "not found" in exc.message.lower():
                exc.hint = (f"The base image {plan.base_image} is not available to this Docker engine: pull it, or set "
                            f"containerParameters.containerBaseImage in analysis.json to a local JRE image.")
            raise
        outcome = context_outcome(writer.stats)
        outcome.image_id, outcome.size = built.image_id, built.size
        reporter.step(f"Built {job.image} ({built.size // (1024 * 1024)} MiB, {writer.stats.files} files from the host)")
        return outcome

    def validate(self, job: BuildJob, timeout: float) -> Validation | None:
        from a2c.images.validate import validate_image
        from a2c.parity import health_spec

        head = job.analysis
        kind = (head.document["analysisInfo"].get("workload") or {}).get("kind", "service")
        if kind == "scheduled":
            from a2c.images.validate import validate_run_once

            # A job serves no port: it is proven by running once, to exit status 0.
            return validate_run_once(self._engine(), job.image, head.app_id, timeout, job.reporter)
        if kind in ("worker", "fileDrop"):
            from a2c.images.validate import validate_stays_up

            # A worker serves no port and runs until stopped: proven by starting and staying up.
            return validate_stays_up(self._engine(), job.image, head.app_id, timeout, job.reporter)
        port, path = health_spec(head.document)
        path = http_path(path, "$.containerParameters.healthCheckPath", job.source)
        return validate_image(self._engine(), job.image, head.app_id, (port, path), job.baseline, timeout, job.reporter)


def context_outcome(stats: Any) -> BuildOutcome:
    """What a walk of the context left out or kept, as notes and warnings (a2c.images.layers.ContextStats)."""
    outcome = BuildOutcome(context_files=stats.files, context_bytes=stats.bytes)
    outcome.notes += [f"link kept as a link (its target is not copied): {link}" for link in stats.links_kept]
    outcome.notes += [f"could not read {path}; not in the image" for path in stats.unreadable]
    for entry in stats.refused:  # loud: an app that needs one (a TLS keystore) must get it at run time
        outcome.notes.append(f"credential store left out of the image: {entry}")
        outcome.warnings.append(f"left out of the image (a credential store; supply it at run time, e.g. from "
                                f"Secrets Manager or a mounted volume): {entry}")
    return outcome


# The Dockerfile line that copies the support folder (a2c's scripts) onto /.
SUPPORT_COPY = b"COPY support/ /"


def support_layout(artifacts: dict[str, bytes]) -> dict[str, bytes]:
    """Artifacts/a2c/* under ``support/a2c/`` in the context when the Dockerfile copies
    ``support/`` onto ``/``. ``COPY a2c/ /a2c/`` would let Docker create /a2c with the build's
    clock, so that layer differed between any two builds; copied as part of a folder, /a2c takes
    the context's fixed time. A Dockerfile still written the old way keeps the old layout."""
    dockerfile = artifacts.get("Dockerfile", b"")
    if not any(line.strip() == SUPPORT_COPY for line in dockerfile.splitlines()):
        return artifacts
    return {(f"support/{name}" if name.startswith("a2c/") else name): data for name, data in artifacts.items()}
