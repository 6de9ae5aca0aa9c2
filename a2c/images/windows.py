"""Windows images: a builder that writes the artifacts and the build context, and stops.

A Windows container image builds only on a Windows container host of the base image's Windows
Server release, never on this (Linux) machine. So this builder renders the Dockerfile, the entry
script and the .dockerignore (``render``), copies the plan's layers into Artifacts/ as the build
context (``stage``: one folder per layer, regular files only, the templated configuration files
in place of the host's), and ``build`` stops with the instructions to build on such a host.
"""

from __future__ import annotations

import fnmatch
from typing import ClassVar, Iterator

from a2c.errors import HostError, WindowsHostRequired
from a2c.generate.windows import build_instructions, render_windows_artifacts
from a2c.hosts.base import Host, is_within
from a2c.images.base import Builder, BuildJob, BuildOutcome
from a2c.model import AnalysisHead, BuildPlan

PROGRESS_EVERY = 200  # files


def context_files(plan: BuildPlan, host: Host) -> Iterator[tuple[str, str, int]]:
    """(path in the build context, Host path, size) of every regular file the plan's layers copy.

    Each layer's one root is walked through the Host into the context folder named after the
    layer. Left out: the layer's excludes (a path or anything below it, compared without case, as
    Windows does), names matching its ``exclude_names``, links (a link could point anywhere on the
    host) and files the plan generated instead (its templated copies are in ``plan.generated``).
    """
    generated = {p.lower() for p in plan.generated}
    for layer in plan.layers:
        excluded = [p for p in layer.excludes if p]
        for root in layer.paths:
            if not root or any(is_within(root, p, fold_case=True) for p in excluded):
                continue
            pending = [(root, layer.name)]
            while pending:
                folder, target = pending.pop()
                try:
                    entries = host.list_dir(folder)
                except HostError:
                    continue
                for entry in entries:
                    path, relative = f"{folder.rstrip('/')}/{entry}", f"{target}/{entry}"
                    if any(is_within(path, p, fold_case=True) for p in excluded) or \
                            any(fnmatch.fnmatch(entry, pattern) for pattern in layer.exclude_names):
                        continue
                    st = host.lstat(path)
                    if st is None or st.kind == "link":
                        continue
                    if st.kind == "dir":
                        pending.append((path, relative))
                    elif st.kind == "file" and relative.lower() not in generated:
                        yield relative, path, st.size


class WindowsArtifactsBuilder(Builder):
    id: ClassVar[str] = "windows"
    platform: ClassVar[str] = "windows"
    priority: ClassVar[int] = 100
    builds_here: ClassVar[bool] = False
    description: ClassVar[str] = ("Windows images: writes the Dockerfile and its build context to Artifacts/, "
                                  "to build on a Windows container host")

    def render(self, plan: BuildPlan, analysis: AnalysisHead, host: Host, source: str) -> dict[str, str]:
        return render_windows_artifacts(plan, analysis)

    def stage(self, job: BuildJob) -> BuildOutcome:
        """Copy the plan's layers into Artifacts/ (streamed, file by file), then the generated files."""
        if job.workspace is None:
            raise ValueError("the Windows builder stages into Artifacts/: the job needs the workspace")
        outcome = BuildOutcome()
        for relative, host_path, size in context_files(job.plan, job.host):
            try:
                with job.host.open(host_path) as stream:
                    job.workspace.copy_stream(job.artifacts_dir, relative, stream)
            except HostError:
                outcome.notes.append(f"could not read {host_path}; not in the build context")
                continue
            outcome.context_files += 1
            outcome.context_bytes += size
            if outcome.context_files % PROGRESS_EVERY == 0:
                job.reporter.detail(f"copied {outcome.context_files} files into Artifacts/")
        generated = dict(job.plan.generated)
        if generated:
            job.workspace.write_files(job.artifacts_dir, generated)
        outcome.notes[:0] = [f"{f['code']} {f['message']}" for f in job.plan.settings.get("findings", [])]
        job.reporter.step(f"Wrote the Windows Dockerfile and its build context ({outcome.context_files} files) "
                          f"to {job.artifacts_dir}")
        return outcome

    def build(self, job: BuildJob) -> BuildOutcome:
        raise WindowsHostRequired(
            f"{job.analysis.app_id} needs a Windows container image, which only a Windows container host can build; "
            f"the Dockerfile and its build context are in {job.artifacts_dir}",
            f"{build_instructions(job.plan, job.analysis)} Pass --artifacts-only here to stop after writing them.")


__all__ = ["WindowsArtifactsBuilder", "context_files"]
