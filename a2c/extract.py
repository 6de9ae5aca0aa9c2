"""Extract: a self-contained archive of one application (its files, analysis and process facts)
so that ``containerize --input-archive`` can build it on a worker machine.

Archive layout: ``a2c-extraction.json`` (what it is), ``analysis.json``, ``host.json`` (a host
snapshot: name, os-release, the app's process) and ``files/<absolute path>``.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2c import __version__
from a2c.analyzers.registry import Registry
from a2c.build.context import ContextWriter
from a2c.containerize import make_plan
from a2c.errors import InvalidFile
from a2c.hosts.base import Host, is_within
from a2c.hosts.snapshot import SnapshotHost, process_to_json
from a2c.model import ProcessInfo
from a2c.progress import Reporter
from a2c.workspace import ANALYSIS, Workspace, validate

MANIFEST = "a2c-extraction.json"
MAX_ARCHIVE_MEMBERS = 2_000_000
MAX_UNPACKED_BYTES = 64 * 1024**3


@dataclass(frozen=True)
class ExtractResult:
    app_id: str
    archive: str
    files: int
    bytes: int


def extract_application(workspace: Workspace, app_id: str, host: Host, registry: Registry, reporter: Reporter,
                        process: ProcessInfo | None = None) -> ExtractResult:
    analysis = workspace.read_analysis(app_id)
    plan = make_plan(analysis, host, registry)
    info = analysis["analysisInfo"]
    snapshot = {
        "hostname": info.get("hostName", host.name),
        "osRelease": info.get("osData", {}),
        "processes": [masked_process(process)] if process else [],
    }
    manifest = {"applicationId": app_id, "a2cVersion": __version__, "format": 1}
    head = {
        MANIFEST: json.dumps(manifest, indent=2).encode(),
        ANALYSIS: json.dumps(analysis, indent=2).encode(),
        "host.json": json.dumps(snapshot, indent=2).encode(),
    }
    # Configuration files holding secrets go into the archive as the image gets them: placeholders only.
    templated = {path: plan.generated[path] for path in plan.render_at_start if path in plan.generated}
    writer = ContextWriter(host, plan, head, name_for=lambda layer, path: "files" + path, with_generated=False,
                           substitutes=templated,
                           progress=lambda s: reporter.detail(f"archived {s.files} files, {s.bytes // (1024 * 1024)} MiB"))
    target = workspace.app_dir(app_id) / f"{app_id}-extraction.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in writer:
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    reporter.step(f"Wrote {target} ({writer.stats.files} files, {writer.stats.bytes // (1024 * 1024)} MiB)")
    return ExtractResult(app_id, str(target), writer.stats.files, writer.stats.bytes)


def masked_process(process: ProcessInfo) -> dict[str, Any]:
    """The process facts for host.json, with secrets in its environment and command line masked."""
    from a2c.analyzers.common.secrets import mask_cmdline, mask_mapping

    data = process_to_json(process)
    data["environ"] = mask_mapping(dict(process.environ))
    data["cmdline"] = mask_cmdline(list(process.cmdline))
    return data


def read_archive_app_id(archive: Path) -> str:
    try:
        with tarfile.open(archive, "r:*") as tar:
            member = tar.getmember(MANIFEST)
            stream = tar.extractfile(member)
            data = json.loads(stream.read(1024 * 1024)) if stream else {}
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise InvalidFile(f"{archive}: not an a2c extraction archive ({exc})",
                          "Create one with `a2c extract --application-id ID` on the application host.") from exc
    app_id = data.get("applicationId", "")
    if not isinstance(app_id, str) or not app_id or "/" in app_id:
        raise InvalidFile(f"{archive}: the archive names no valid application id")
    return app_id


def unpack_archive(archive: Path, workspace: Workspace) -> tuple[str, SnapshotHost]:
    """Unpack into ``<workspace>/<app-id>/extracted`` safely and return a host over it.

    Nothing may land outside the target: names are checked, links are created last (so no
    member is ever written through one), device files and hard links are skipped, and the
    unpacked size is bounded. The analysis.json in the workspace wins over the archive's,
    so edits made on the worker machine are kept.
    """
    app_id = read_archive_app_id(archive)
    app_dir = workspace.app_dir(app_id)
    final = app_dir / "extracted"
    staging = app_dir / ".extracted.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    links: list[tuple[Path, str]] = []
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for count, member in enumerate(tar, 1):
                if count > MAX_ARCHIVE_MEMBERS:
                    raise InvalidFile(f"{archive}: more than {MAX_ARCHIVE_MEMBERS} entries; refusing to unpack")
                name = posixpath.normpath(member.name)
                if name.startswith("/") or name == ".." or name.startswith("../"):
                    raise InvalidFile(f"{archive}: entry {member.name!r} points outside the archive; refusing to unpack")
                dest = staging / name
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    # Folder modes matter in the image built from here (a sticky, world-writable /tmp);
                    # set-id bits are never restored.
                    os.chmod(dest, (member.mode & 0o1777) | 0o700)
                elif member.isfile():
                    total += member.size
                    if total > MAX_UNPACKED_BYTES:
                        raise InvalidFile(f"{archive}: unpacks to more than {MAX_UNPACKED_BYTES} bytes; refusing")
                    _check_parent(dest, staging)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    with open(dest, "wb") as out:
                        shutil.copyfileobj(source, out, 1024 * 1024)  # type: ignore[arg-type]
                    os.chmod(dest, member.mode & 0o755)
                elif member.issym():
                    links.append((dest, member.linkname))
        for dest, target in links:
            _check_parent(dest, staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists() and not dest.is_symlink():
                os.symlink(target, dest)  # resolved inside the snapshot by SnapshotHost, never followed here
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InvalidFile(f"{archive}: cannot unpack ({exc})", "Copy the archive again; it may be truncated.") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    analysis_path = staging / ANALYSIS
    document = _read_json(analysis_path)
    validate(document, "analysis", f"{archive}!{ANALYSIS}")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    if not workspace.has(app_id, ANALYSIS):
        workspace.write_analysis(app_id, document)
    return app_id, SnapshotHost(str(final))


def _check_parent(dest: Path, root: Path) -> None:
    real_parent = os.path.realpath(dest.parent)
    if not is_within(real_parent, os.path.realpath(root)):
        raise InvalidFile(f"archive entry {dest} would be written outside the target")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidFile(f"{path}: missing or not JSON in the archive ({exc})") from exc


__all__ = ["extract_application", "unpack_archive", "read_archive_app_id", "ExtractResult"]
