"""The build context as a tar stream, read file by file from the Host: no copy of the app tree.

Host files land under ``layers/<layer>/<absolute path>``; a2c's generated files under
``a2c/`` and ``generated/``. Symlinks are kept as links; a link whose target lies in one of
the layer's ``link_roots`` (a shared jar folder) brings its chain of targets along at their
own paths; any other link that leaves the copied roots is kept as is and reported.

Defence in depth: whatever the plan says (an analyzer's, or an analysis.json a user edited),
no path that ``credstores`` marks as a credential store (SSH keys, password hashes, cloud
credentials, …) is streamed, neither as a layer file, nor as a link's copied target, nor as a
generated or substituted file; each is skipped and recorded in ``stats.refused``. The same
writer builds the extraction archive, so the archive gets none either.

The walk yields ``Entry`` values (``ContextWriter.entries``); iterating the writer turns them
into the tar stream, and ``a2c.images.export`` writes the same entries into a folder, so a
build context exported for CI holds exactly what a2c streams. Every entry carries metadata a
file system can hold: a host file keeps its own mtime, and what a2c makes (artifacts,
generated files, folders the host lacks) gets one fixed time, ``made_at``, rather than the
moment of streaming, so two builds of the same files give the same layers.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator, Mapping

from a2c.analyzers.common.credstores import credential_store_reason
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within
from a2c.model import BuildPlan, CopyLayer, FileStat

CHUNK = 1024 * 1024
BLOCK = 512
# 1980-01-01: zip's earliest date, so a made file survives being zipped; SOURCE_DATE_EPOCH
# (the reproducible-builds convention) overrides it.
MADE_AT = 315532800


def made_at() -> int:
    """The mtime of everything a2c makes: fixed, so the layers are reproducible and an exported
    folder can carry the very time the stream writes."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else MADE_AT


@dataclass(frozen=True)
class Entry:
    """One member of the build context. ``source`` names the host file a regular file's bytes come
    from; ``data`` holds the bytes of one a2c made. ``size`` is fixed at lstat time: the stream
    cuts a file that grows while read and pads one that shrinks."""

    name: str
    kind: str  # "file", "dir" or "link"
    mode: int = 0o644
    mtime: float = 0
    size: int = 0
    data: bytes | None = None
    source: str = ""
    linkname: str = ""


@dataclass
class ContextStats:
    files: int = 0
    bytes: int = 0
    links_kept: list[str] = field(default_factory=list)
    links_copied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "path: why", credential stores never streamed


_TAR_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE}


def header(entry: Entry) -> bytes:
    """The entry's tar header: owned by root (COPY makes every file root's anyway), whole seconds."""
    info = tarfile.TarInfo(entry.name + "/" if entry.kind == "dir" else entry.name)
    info.type = _TAR_TYPES[entry.kind]
    info.size = entry.size if entry.kind == "file" else 0
    info.mode = entry.mode
    info.mtime = int(entry.mtime)
    info.linkname = entry.linkname
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info.tobuf(format=tarfile.PAX_FORMAT)


def readable(mode: int, is_dir: bool) -> int:
    """``chmod a+rX``: the image runs the app as an unprivileged user, not the host's owner, so
    everything copied must be readable (and folders traversable) by anyone; write bits and
    sticky/setgid bits stay as they were."""
    if is_dir or mode & 0o111:
        return mode | 0o555
    return mode | 0o444


def padding(size: int) -> bytes:
    return b"\0" * ((BLOCK - size % BLOCK) % BLOCK)


def _name_excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _excluded(path: str, excludes: tuple[str, ...]) -> bool:
    return any(is_within(path, e.rstrip("/") or "/") for e in excludes)


class ContextWriter:
    """Yields the tar stream chunk by chunk (or, from ``entries``, the members); ``stats`` fills
    in as it goes. Walk it once: the names it has yielded are remembered."""

    def __init__(self, host: Host, plan: BuildPlan, artifacts: Mapping[str, bytes],
                 progress: Callable[[ContextStats], None] | None = None,
                 name_for: Callable[[CopyLayer, str], str] | None = None, with_generated: bool = True,
                 substitutes: Mapping[str, bytes] | None = None) -> None:
        self.host = host
        self.plan = plan
        self.artifacts = artifacts
        self.stats = ContextStats()
        self.progress = progress
        self.name_for = name_for or (lambda layer, path: f"layers/{layer.name}{path}")
        self.with_generated = with_generated
        # Host files replaced by other content where they stand (secrets templated out of an archive).
        self.substitutes = dict(substitutes or {})
        self.made_at = made_at()
        self._seen: set[str] = set()

    def _refused(self, path: str, shown: str = "") -> bool:
        """True (and recorded) when ``path`` is a credential store, which no stream may carry."""
        reason = credential_store_reason(path)
        if reason is None:
            return False
        entry = f"{shown or path}: {reason}"
        if entry not in self.stats.refused:
            self.stats.refused.append(entry)
        return True

    def __iter__(self) -> Iterator[bytes]:
        for entry in self.entries():
            if entry.source:
                stream = self.open(entry)
                if stream is None:
                    continue
                with stream:
                    yield header(entry)
                    yield from sized_chunks(stream, entry.size)
                    yield padding(entry.size)
                self.counted(entry)
            else:
                yield header(entry)
                if entry.data is not None:
                    yield entry.data + padding(len(entry.data))
        yield b"\0" * (BLOCK * 2)

    def open(self, entry: Entry) -> BinaryIO | None:
        """The host file behind ``entry``, or None (recorded as unreadable)."""
        try:
            return self.host.open(entry.source)
        except HostError:
            self.stats.unreadable.append(entry.source)
            return None

    def counted(self, entry: Entry) -> None:
        """Count a host file once it is written, whatever the sink, and report progress."""
        self.stats.files += 1
        self.stats.bytes += entry.size
        if self.progress is not None and self.stats.files % 200 == 0:
            self.progress(self.stats)

    def entries(self) -> Iterator[Entry]:
        """Every member of the context, in stream order: folders before what they hold."""
        for name, data in sorted(self.artifacts.items()):
            mode = 0o755 if name.endswith(".sh") else 0o644
            # The folders above an artifact, with a2c's fixed time (not whatever the engine picks).
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                yield from self._dir_entry("/".join(parts[:depth]), 0o755)
            yield from self._bytes_entry(name, data, mode)
        if self.with_generated:
            for path, data in sorted(self.plan.generated.items()):
                if self._refused(path):
                    continue
                yield from self._parents("generated", path)
                # Files with secret placeholders are rewritten by the entry script: group 0 may write.
                mode = 0o664 if path in self.plan.render_at_start else 0o644
                yield from self._bytes_entry("generated" + path, data, mode)
            for path, target in sorted(self.plan.symlinks.items()):
                yield from self._parents("generated", path)
                self._seen.add("generated" + path)
                yield Entry("generated" + path, "link", 0o777, self.made_at, linkname=target)
            for path in self.plan.writable_dirs:
                yield from self._parents("writable", path)
                yield from self._dir_entry("writable" + path, 0o775)
        overridden = tuple(self.plan.generated) + tuple(self.plan.symlinks) if self.with_generated else ()
        for layer in self.plan.layers:
            for root in layer.paths:
                yield from self._walk(layer, root, overridden)

    # -- entries ---------------------------------------------------------------------------
    def _bytes_entry(self, name: str, data: bytes, mode: int, mtime: float | None = None) -> Iterator[Entry]:
        yield Entry(name, "file", mode, self.made_at if mtime is None else mtime, len(data), data=data)

    def _dir_entry(self, name: str, mode: int, mtime: float | None = None) -> Iterator[Entry]:
        if name not in self._seen:
            self._seen.add(name)
            yield Entry(name, "dir", mode, self.made_at if mtime is None else mtime)

    def _parents(self, prefix: str, path: str) -> Iterator[Entry]:
        """Entries for the folders above ``path`` with the host's modes: without them the copy would
        reset existing folders in the image (a sticky, world-writable /tmp) to 0755. Their time is
        a2c's fixed one, not the host's: a folder like /tmp or /opt changes whenever anything else
        on the host writes there, which would change the layer (and the context's hash) each build."""
        parts = [p for p in posixpath.dirname(posixpath.normpath(path)).split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            try:
                st = self.host.stat(current)
            except HostError:
                st = None
            mode = st.mode if st is not None and st.kind == "dir" else 0o755
            yield from self._dir_entry(prefix + current, readable(mode, True))

    def _walk(self, layer: CopyLayer, root: str, overridden: tuple[str, ...]) -> Iterator[Entry]:
        roots = layer.paths
        prefix = self.name_for(layer, "/").rstrip("/")
        yield from self._parents(prefix, root)
        root = posixpath.normpath(root)
        real_root = self._real(root)
        stack = [root]
        while stack:
            path = stack.pop()
            # Where the file really is, when the root goes through a link (/opt/app/keys -> /etc/ssh).
            real = real_root + path[len(root):] if real_root != root else path
            if _excluded(path, layer.excludes) or path in overridden:
                continue
            if layer.exclude_names and path != root and _name_excluded(posixpath.basename(path), layer.exclude_names):
                continue
            if self._refused(path) or (real != path and self._refused(real, f"{path} -> {real}")):
                continue
            try:
                st = self.host.lstat(path)
            except HostError:
                self.stats.unreadable.append(path)
                continue
            if st is None:
                self.stats.missing.append(path)
                continue
            name = self.name_for(layer, path)
            writable = any(is_within(path, w) for w in self.plan.writable_dirs)
            if st.kind == "dir":
                yield from self._dir_entry(name, readable(st.mode, True) | (0o070 if writable else 0), st.mtime)
                try:
                    children = self.host.list_dir(path)
                except HostError:
                    self.stats.unreadable.append(path)
                    continue
                stack.extend(posixpath.join(path, c) for c in reversed(children))
            elif st.kind == "file" and path in self.substitutes:
                data = self.substitutes[path]
                yield from self._bytes_entry(name, data, readable(st.mode, False))
                self._seen.add(name)
            elif st.kind == "file":
                # Files inside a run-time folder (an embedded LDAP store, config the server rewrites)
                # stay writable for the application's group, as the folder is.
                yield from self._file_entry(name, path, st, group_write=writable)
            elif st.kind == "link":
                yield from self._link_entry(layer, roots, name, path, st)

    def _real(self, root: str) -> str:
        """The root with the links in its parent folders resolved (the root itself may be a link,
        which is kept as one)."""
        try:
            parent = self.host.realpath(posixpath.dirname(root))
        except HostError:
            return root
        return posixpath.join(parent, posixpath.basename(root)) if root != "/" else root

    def _link_entry(self, layer: CopyLayer, roots: tuple[str, ...], name: str, path: str, st: FileStat) -> Iterator[Entry]:
        """The link as a link. When it leads into one of the layer's ``link_roots`` (Debian's
        /usr/share/java), every hop of its chain comes too, at its own path, ending with the
        file: the JVM and servers that canonicalise class paths (Tomcat does) then find the jar
        where the host has it, and a manifest's Class-Path resolves beside it as on the host."""
        try:
            target = self.host.realpath(path)
        except HostError:
            target = ""
        inside = target and any(is_within(target, r) for r in roots)
        if not inside and target and any(is_within(target, r) for r in layer.link_roots) and not self._refused(target):
            target_stat = self.host.lstat(target)
            if target_stat is not None and target_stat.kind == "file":
                self.stats.links_copied.append(path)
                self._seen.add(name)
                yield _link(name, st)
                # Every hop, wherever it is (/etc/alternatives/x.jar), to the file in link_roots.
                yield from self._chain(layer, path, st, within=("/",))
                return
        if not inside:
            self.stats.links_kept.append(f"{path} -> {st.link_target}")
        self._seen.add(name)
        yield _link(name, st)
        if inside:  # hops between the link and its copied target (lib/x.jar -> /usr/share/java/x.jar -> x-1.jar)
            yield from self._chain(layer, path, st, within=())

    def _chain(self, layer: CopyLayer, path: str, st: FileStat, within: tuple[str, ...] | None = None) -> Iterator[Entry]:
        """The hops after ``path`` (links, then the file), each once per layer, at most 16, while
        they lie in ``within`` (the layer's link_roots by default). With ``within=()`` only the
        link hops outside the layer's roots come, up to the first hop the walk copies anyway."""
        prefix = self.name_for(layer, "/").rstrip("/")
        roots = layer.link_roots if within is None else within
        current, current_stat = path, st
        for _ in range(16):
            hop = posixpath.normpath(posixpath.join(posixpath.dirname(current), current_stat.link_target or ""))
            try:
                hop = posixpath.join(self.host.realpath(posixpath.dirname(hop)), posixpath.basename(hop))
                hop_stat = self.host.lstat(hop)
            except HostError:
                return
            if hop_stat is None or self._refused(hop) or any(is_within(hop, r) for r in layer.paths):
                return
            if within is None and not any(is_within(hop, r) for r in roots):
                return
            if within is not None and not within and hop_stat.kind != "link":
                return
            name = self.name_for(layer, hop)
            if name in self._seen:
                return
            yield from self._parents(prefix, hop)
            self._seen.add(name)
            if hop_stat.kind == "file":
                yield from self._file_entry(name, hop, hop_stat)
                return
            if hop_stat.kind != "link":
                return
            yield _link(name, hop_stat)
            current, current_stat = hop, hop_stat

    def _file_entry(self, name: str, source: str, st: FileStat, group_write: bool = False) -> Iterator[Entry]:
        # Files inside a run-time folder keep the folder's group write (see _walk).
        mode = readable(st.mode, False) | (0o060 if group_write else 0)
        self._seen.add(name)
        yield Entry(name, "file", mode, st.mtime, st.size, source=source)


def _link(name: str, st: FileStat) -> Entry:
    return Entry(name, "link", 0o777, st.mtime, linkname=st.link_target)


def sized_chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    """Exactly ``size`` bytes of ``stream``: cut when it grew, padded with NULs when it shrank."""
    remaining = size
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        yield chunk
    if remaining:
        yield b"\0" * remaining
