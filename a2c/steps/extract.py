"""a2c extract: write ``<app-id>/<app-id>-extraction.tar`` (a2c.archive's format) so that a
worker machine with Docker can containerize the application with ``--input-archive``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from a2c import __version__
from a2c.archive import ANALYSIS, HOST_JSON, MANIFEST, masked_process, write_archive
from a2c.env import Environment
from a2c.errors import HostError
from a2c.images.layers import ContextWriter
from a2c.locks import existing_app_lock, remove_stale
from a2c.model import AnalysisHead
from a2c.planning import make_plan, without_workspace


@dataclass(frozen=True)
class ExtractRequest:
    app_id: str
    host: str = "local"


@dataclass(frozen=True)
class ExtractResult:
    app_id: str
    archive: str
    files: int
    bytes: int


def run(env: Environment, request: ExtractRequest) -> ExtractResult:
    workspace, reporter, app_id = env.workspace, env.reporter, request.app_id
    app_dir = workspace.app_dir(app_id)
    with existing_app_lock(app_dir, app_id):
        host = env.open_host(request.host)
        analysis = workspace.read_analysis(app_id)
        head = AnalysisHead.from_json(analysis)
        try:
            process = host.process(head.process_id)
        except HostError:
            process = None
        plan = without_workspace(make_plan(analysis, host, env.analyzers), str(workspace.root), host)
        snapshot = {
            "hostname": head.host_name or host.name,
            "osRelease": analysis["analysisInfo"].get("osData", {}),
            "processes": [masked_process(process)] if process else [],
        }
        manifest = {"applicationId": app_id, "a2cVersion": __version__, "format": 1}
        metadata = {
            MANIFEST: json.dumps(manifest, indent=2).encode(),
            ANALYSIS: json.dumps(analysis, indent=2).encode(),
            HOST_JSON: json.dumps(snapshot, indent=2).encode(),
        }
        # Configuration files holding secrets go into the archive as the image gets them: placeholders only.
        templated = {path: plan.generated[path] for path in plan.render_at_start if path in plan.generated}
        writer = ContextWriter(host, plan, metadata, name_for=lambda layer, path: "files" + path, with_generated=False,
                               substitutes=templated,
                               progress=lambda s: reporter.detail(f"archived {s.files} files, {s.bytes // (1024 * 1024)} MiB"))
        target = app_dir / f"{app_id}-extraction.tar"
        # A run killed while writing (kill -9, a reboot) leaves its hidden partial archive behind.
        remove_stale(app_dir, f".{target.name}.")
        write_archive(writer, target)
    for entry in writer.stats.refused:
        reporter.warn(f"credential store left out of the archive: {entry}")
    reporter.step(f"Wrote {target} ({writer.stats.files} files, {writer.stats.bytes // (1024 * 1024)} MiB)")
    return ExtractResult(app_id, str(target), writer.stats.files, writer.stats.bytes)
