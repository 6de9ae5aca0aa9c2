"""The extraction archive: one application's files, analysis and process facts, written by
``a2c extract`` so that ``containerize --input-archive`` can build it on a worker machine.

Archive layout: ``a2c-extraction.json`` (what it is), ``analysis.json``, ``host.json`` (a host
snapshot: name, os-release, the app's process) and ``files/<absolute path>``.

The archive comes from another machine, so unpacking trusts nothing in it: the three metadata
files must be regular files, ``files/`` a real folder, every link is stored so that the
operating system resolves it inside ``files/`` (absolute targets become relative ones), the
unpacked size is bounded by the archive's own size, and concurrent runs on one application
take its lock and stage in folders of their own.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from a2c.errors import HostError, InvalidFile, excerpt
from a2c.hosts.base import is_within
from a2c.hosts.snapshot import SnapshotHost, process_to_json
from a2c.hosts.snapshot_schema import MAX_DOCUMENT_BYTES, read_document, validate_document
from a2c.ids import check_application_id
from a2c.locks import app_lock, remove_stale
from a2c.model import ProcessInfo
from a2c.workspace import ANALYSIS, Workspace

MANIFEST = "a2c-extraction.json"
HOST_JSON = "host.json"
METADATA = (MANIFEST, ANALYSIS, HOST_JSON)
FILES = "files"
MAX_ARCHIVE_MEMBERS = 2_000_000
MAX_UNPACKED_BYTES = 64 * 1024**3
# The files may take this many times the archive's size on disk, above a floor for small archives.
# a2c writes plain tars (ratio about 1) and jars are compressed already; a gzip of text files
# rarely passes 10. A bomb passes 1000.
MAX_EXPANSION = 100
EXPANSION_FLOOR = 64 * 1024 * 1024
MAX_MANIFEST_BYTES = 1024 * 1024
STAGING_PREFIX = ".extracted."
CHUNK = 1024 * 1024
_REWRITE_HINT = "Write the archive again with `a2c extract` on the application host."


def write_archive(chunks: Iterable[bytes], target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def masked_process(process: ProcessInfo) -> dict[str, Any]:
    """The process facts for host.json, with secrets in its environment and command line masked."""
    from a2c.analyzers.common.secrets import mask_cmdline, mask_mapping

    data = process_to_json(process)
    data["environ"] = mask_mapping(dict(process.environ))
    data["cmdline"] = mask_cmdline(list(process.cmdline))
    return data


def _members(tar: tarfile.TarFile, archive: Path) -> Iterator[tarfile.TarInfo]:
    """The members one at a time, never all in memory (tarfile keeps every member it has read
    in ``tar.members``), refusing an archive with more than MAX_ARCHIVE_MEMBERS."""
    count = 0
    while True:
        member = tar.next()
        tar.members.clear()  # type: ignore[attr-defined]
        if member is None:
            return
        count += 1
        if count > MAX_ARCHIVE_MEMBERS:
            raise InvalidFile(f"{archive}: more than {MAX_ARCHIVE_MEMBERS} entries; refusing to unpack", _REWRITE_HINT)
        yield member


def _member_name(member: tarfile.TarInfo, archive: Path) -> str:
    name = posixpath.normpath(member.name)
    if name.startswith("/") or name == ".." or name.startswith("../"):
        raise InvalidFile(f"{archive}: entry {excerpt(repr(member.name))} points outside the archive; refusing to unpack",
                          _REWRITE_HINT)
    return name


def read_archive_app_id(archive: Path) -> str:
    """The application id the archive's manifest names, checked before it becomes a folder name."""
    source = f"{archive}!{MANIFEST}"
    try:
        with tarfile.open(archive, "r:*") as tar:
            data = _read_manifest(tar, archive)
    except (OSError, tarfile.TarError, EOFError, ValueError, RecursionError) as exc:
        raise InvalidFile(f"{archive}: not an a2c extraction archive ({excerpt(str(exc))})",
                          "Create one with `a2c extract --application-id ID` on the application host.") from exc
    if not isinstance(data, dict):
        raise InvalidFile(f"{source}: not a JSON object", _REWRITE_HINT)
    return check_application_id(data.get("applicationId"), f"{source}: $.applicationId")


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> Any:
    for member in _members(tar, archive):
        if posixpath.normpath(member.name) != MANIFEST:
            continue
        if not member.isreg() or member.issparse() or member.size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{MANIFEST} is not a regular file of at most {MAX_MANIFEST_BYTES} bytes")
        stream = tar.extractfile(member)
        data = stream.read(MAX_MANIFEST_BYTES) if stream else b""
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    raise ValueError(f"no {MANIFEST} in it")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def unpack_archive(archive: Path, workspace: Workspace) -> tuple[str, SnapshotHost]:
    """Unpack into ``<workspace>/<app-id>/extracted`` safely and return a host over it.

    Nothing may land outside the target, and nothing in it may point outside: names are
    checked, links are created last (so no member is ever written through one) and stored so
    that they resolve inside ``files/``, device files and hard links are skipped, and the
    unpacked size is bounded. The analysis.json in the workspace wins over the archive's, so
    edits made on the worker machine are kept. The application's lock is held throughout; a
    staging folder a killed run left behind is removed.
    """
    app_id = read_archive_app_id(archive)
    app_dir = workspace.app_dir(app_id)
    with app_lock(app_dir, app_id):
        remove_stale(app_dir, STAGING_PREFIX)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=".partial", dir=app_dir))
        try:
            links = _unpack_members(archive, staging)
            document = _check_metadata(archive, staging, app_id)
            _create_links(archive, staging / FILES, links)
            SnapshotHost(str(staging))  # the same checks the worker's reads will make
            final = _install(staging, app_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if not workspace.has(app_id, ANALYSIS):
            workspace.write_analysis(app_id, document)
    return app_id, SnapshotHost(str(final))


class _Budget:
    """The bytes the archive may unpack to, counted on the sizes its members declare, so that
    nothing is written once the archive is known to be too large."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.archive_size = os.stat(archive).st_size
        self.allowed = min(MAX_UNPACKED_BYTES, max(EXPANSION_FLOOR, MAX_EXPANSION * self.archive_size))
        self.total = 0

    def take(self, size: int) -> None:
        self.total += size
        if self.total > self.allowed:
            raise InvalidFile(
                f"{self.archive}: its files unpack to more than {self.allowed} bytes "
                f"(the limit is {MAX_EXPANSION} times the archive's {self.archive_size} bytes, at least "
                f"{EXPANSION_FLOOR} and at most {MAX_UNPACKED_BYTES}); refusing to unpack",
                "An a2c extraction archive is about as large as the files it holds; write it again with "
                "`a2c extract` (a plain .tar) on the application host.")


def _preflight(archive: Path) -> None:
    """Count the entries and add up the sizes they declare before anything is written: an archive
    of millions of entries, or one that unpacks to far more than its size, is refused having
    read only its headers (a plain tar's data is skipped by seeking)."""
    budget = _Budget(archive)
    with tarfile.open(archive, "r:*") as tar:
        for member in _members(tar, archive):
            if member.isreg() and posixpath.normpath(member.name).startswith(FILES + "/"):
                budget.take(member.size)


def _unpack_members(archive: Path, staging: Path) -> list[tuple[str, str]]:
    """Write the metadata files, folders and regular files; return the links (path, target) for later."""
    budget = _Budget(archive)
    links: list[tuple[str, str]] = []
    try:
        _preflight(archive)
        with tarfile.open(archive, "r:*") as tar:
            for member in _members(tar, archive):
                name = _member_name(member, archive)
                if name in METADATA:
                    _write_metadata(tar, member, staging / name, archive)
                elif name == FILES:
                    if not member.isdir():
                        raise InvalidFile(f"{archive}: its {FILES} entry is not a folder (a link or a file); "
                                          "refusing to unpack", _REWRITE_HINT)
                    (staging / FILES).mkdir(exist_ok=True)
                elif name.startswith(FILES + "/"):
                    _unpack_file_member(tar, member, name, staging, budget, links)
                # Anything else is not part of the layout and is left out.
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidFile(f"{archive}: cannot unpack ({excerpt(str(exc))})",
                          "Copy the archive again; it may be truncated.") from exc
    return links


def _write_metadata(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, archive: Path) -> None:
    if not member.isreg() or member.issparse():
        raise InvalidFile(f"{archive}: its {dest.name} is not a regular file (a link or a device); refusing to unpack",
                          _REWRITE_HINT)
    if member.size > MAX_DOCUMENT_BYTES:
        raise InvalidFile(f"{archive}: its {dest.name} is larger than {MAX_DOCUMENT_BYTES} bytes; refusing to unpack",
                          _REWRITE_HINT)
    _write_regular(tar, member, dest, 0o644)


def _unpack_file_member(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, staging: Path, budget: _Budget,
                        links: list[tuple[str, str]]) -> None:
    # No link exists under staging until every member is written (links come last), and the
    # name is normalised without "..": so ``dest`` is inside staging without asking the file
    # system, which keeps an archive of millions of entries cheap to refuse.
    dest = staging / name
    if member.isdir():
        os.makedirs(dest, exist_ok=True)
        # Folder modes matter in the image built from here (a sticky, world-writable /tmp);
        # set-id bits are never restored.
        os.chmod(dest, (member.mode & 0o1777) | 0o700)
    elif member.isreg():
        budget.take(member.size)
        _write_regular(tar, member, dest, member.mode & 0o755)
    elif member.issym():
        links.append((name[len(FILES):], member.linkname))


def _write_regular(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, mode: int) -> None:
    os.makedirs(dest.parent, exist_ok=True)
    source = tar.extractfile(member)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        if source is not None and member.issparse():
            _copy_sparse(source, out, member)
        elif source is not None:
            shutil.copyfileobj(source, out, CHUNK)
    os.chmod(dest, mode)


def _copy_sparse(source: IO[bytes], out: IO[bytes], member: tarfile.TarInfo) -> None:
    """Write only the data blocks of a sparse member: its holes stay holes on disk."""
    sparse: list[tuple[int, int]] = list(getattr(member, "sparse", None) or ())
    for offset, size in sparse:
        if size <= 0:
            continue
        source.seek(offset)
        out.seek(offset)
        remaining = size
        while remaining > 0:
            chunk = source.read(min(CHUNK, remaining))
            if not chunk:
                break
            out.write(chunk)
            remaining -= len(chunk)
    out.truncate(member.size)


def _check_metadata(archive: Path, staging: Path, app_id: str) -> dict[str, Any]:
    """The archive's analysis, once its manifest, analysis.json and host.json all check out."""
    manifest_source = f"{archive}!{MANIFEST}"
    manifest = _document(staging, MANIFEST, archive)
    if not isinstance(manifest, dict) or manifest.get("applicationId") != app_id:
        raise InvalidFile(f"{manifest_source}: names another application than its first copy in the archive",
                          _REWRITE_HINT)
    source = f"{archive}!{ANALYSIS}"
    document = _document(staging, ANALYSIS, archive)
    validate_document(document, "analysis", source)
    analysis_id = check_application_id(document["analysisInfo"]["appId"], f"{source}: $.analysisInfo.appId")
    if analysis_id != app_id:
        raise InvalidFile(f"{source}: $.analysisInfo.appId is {analysis_id}, but the archive is for {app_id}",
                          _REWRITE_HINT)
    if (staging / HOST_JSON).exists():
        validate_document(_document(staging, HOST_JSON, archive), "host", f"{archive}!{HOST_JSON}")
    return document


def _document(staging: Path, name: str, archive: Path) -> Any:
    try:
        return read_document(str(staging / name), f"{archive}!{name}")
    except FileNotFoundError:
        raise InvalidFile(f"{archive}: holds no {name}", _REWRITE_HINT) from None


def _create_links(archive: Path, files: Path, links: list[tuple[str, str]]) -> None:
    """Create the links, each stored so that the operating system resolves it where the snapshot
    does, inside ``files/``: a relative target that stays inside is kept as it is; an absolute one,
    or one that climbs out, becomes the relative path to what it means on the application host.
    Then check every link once more, since a later link can move what an earlier one points at."""
    if not links:
        return
    files.mkdir(exist_ok=True)
    root = os.path.realpath(files)
    resolver = SnapshotHost(str(files.parent))
    created: list[tuple[str, str]] = []
    for virtual, target in links:
        if not target or "\0" in target:
            continue
        real_parent = os.path.realpath(files.as_posix() + posixpath.dirname(virtual))
        if not is_within(real_parent, root):
            raise InvalidFile(f"{archive}: the link files{excerpt(virtual)} lies behind a link leading out of files/; "
                              "refusing to unpack", _REWRITE_HINT)
        dest = os.path.join(real_parent, posixpath.basename(virtual))
        if os.path.lexists(dest):
            continue
        stored = _stored_target(resolver, root, real_parent, target)
        if stored is None:
            continue
        os.makedirs(real_parent, exist_ok=True)
        os.symlink(stored, dest)
        created.append((virtual, dest))
    for virtual, dest in created:
        if not is_within(os.path.realpath(dest), root):
            raise InvalidFile(f"{archive}: the link files{excerpt(virtual)} resolves outside files/; refusing to unpack",
                              _REWRITE_HINT)


def _stored_target(resolver: SnapshotHost, root: str, real_parent: str, target: str) -> str | None:
    """The target to store for a link in ``real_parent`` (None: a link loop, left out)."""
    if not target.startswith("/") and is_within(os.path.realpath(os.path.join(real_parent, target)), root):
        return target
    parent_virtual = "/" + os.path.relpath(real_parent, root) if real_parent != root else "/"
    try:
        meant = resolver.realpath(target if target.startswith("/") else posixpath.join(parent_virtual, target))
    except HostError:
        return None
    return os.path.relpath(root + meant if meant != "/" else root, real_parent)


def _install(staging: Path, app_dir: Path) -> Path:
    """Move the staged tree to ``extracted``; the previous one leaves under a staging name first,
    so a run killed here leaves nothing the next run does not clean up."""
    final = app_dir / "extracted"
    old = None
    if final.is_symlink() or final.is_file():
        final.unlink()
    elif final.exists():
        old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=".old", dir=app_dir))
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


__all__ = ["unpack_archive", "read_archive_app_id"]
