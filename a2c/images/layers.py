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
"""

from __future__ import annotations

import fnmatch
import posixpath
import tarfile
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from a2c.analyzers.common.credstores import credential_store_reason
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within
from a2c.model import BuildPlan, CopyLayer, FileStat

CHUNK = 1024 * 1024
BLOCK = 512


@dataclass
class ContextStats:
    files: int = 0
    bytes: int = 0
    links_kept: list[str] = field(default_factory=list)
    links_copied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "path: why", credential stores never streamed


def _header(name: str, kind: bytes, size: int = 0, mode: int = 0o644, mtime: float = 0, linkname: str = "") -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = int(mtime or time.time())
    info.linkname = linkname
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


def _padding(size: int) -> bytes:
    return b"\0" * ((BLOCK - size % BLOCK) % BLOCK)


def _name_excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _excluded(path: str, excludes: tuple[str, ...]) -> bool:
    return any(is_within(path, e.rstrip("/") or "/") for e in excludes)


class ContextWriter:
    """Yields the tar stream chunk by chunk; ``stats`` fills in as it goes."""

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
        for name, data in sorted(self.artifacts.items()):
            mode = 0o755 if name.endswith(".sh") else 0o644
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
                yield _header("generated" + path, tarfile.SYMTYPE, linkname=target)
            for path in self.plan.writable_dirs:
                yield from self._parents("writable", path)
                yield from self._dir_entry("writable" + path, 0o775)
        overridden = tuple(self.plan.generated) + tuple(self.plan.symlinks) if self.with_generated else ()
        for layer in self.plan.layers:
            for root in layer.paths:
                yield from self._walk(layer, root, overridden)
        yield b"\0" * (BLOCK * 2)

    # -- entries ---------------------------------------------------------------------------
    def _bytes_entry(self, name: str, data: bytes, mode: int) -> Iterator[bytes]:
        yield _header(name, tarfile.REGTYPE, len(data), mode)
        yield data + _padding(len(data))

    def _dir_entry(self, name: str, mode: int, mtime: float = 0) -> Iterator[bytes]:
        if name not in self._seen:
            self._seen.add(name)
            yield _header(name + "/", tarfile.DIRTYPE, mode=mode, mtime=mtime)

    def _parents(self, prefix: str, path: str) -> Iterator[bytes]:
        """Entries for the folders above ``path`` with the host's modes: without them the copy would
        reset existing folders in the image (a sticky, world-writable /tmp) to 0755."""
        parts = [p for p in posixpath.dirname(posixpath.normpath(path)).split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            try:
                st = self.host.stat(current)
            except HostError:
                st = None
            mode = st.mode if st is not None and st.kind == "dir" else 0o755
            yield from self._dir_entry(prefix + current, readable(mode, True), st.mtime if st else 0)

    def _walk(self, layer: CopyLayer, root: str, overridden: tuple[str, ...]) -> Iterator[bytes]:
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

    def _link_entry(self, layer: CopyLayer, roots: tuple[str, ...], name: str, path: str, st: FileStat) -> Iterator[bytes]:
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
                yield _header(name, tarfile.SYMTYPE, linkname=st.link_target, mtime=st.mtime)
                # Every hop, wherever it is (/etc/alternatives/x.jar), to the file in link_roots.
                yield from self._chain(layer, path, st, within=("/",))
                return
        if not inside:
            self.stats.links_kept.append(f"{path} -> {st.link_target}")
        self._seen.add(name)
        yield _header(name, tarfile.SYMTYPE, linkname=st.link_target, mtime=st.mtime)
        if inside:  # hops between the link and its copied target (lib/x.jar -> /usr/share/java/x.jar -> x-1.jar)
            yield from self._chain(layer, path, st, within=())

    def _chain(self, layer: CopyLayer, path: str, st: FileStat, within: tuple[str, ...] | None = None) -> Iterator[bytes]:
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
            yield _header(name, tarfile.SYMTYPE, linkname=hop_stat.link_target, mtime=hop_stat.mtime)
            current, current_stat = hop, hop_stat

    def _file_entry(self, name: str, source: str, st: FileStat, group_write: bool = False) -> Iterator[bytes]:
        try:
            stream = self.host.open(source)
        except HostError:
            self.stats.unreadable.append(source)
            return
        with stream:
            # The size is fixed in the header: a file that grows while we read is cut, one that
            # shrinks is padded, so the tar stays well formed (logs are excluded anyway).
            mode = readable(st.mode, False) | (0o060 if group_write else 0)
            yield _header(name, tarfile.REGTYPE, st.size, mode, st.mtime)
            remaining = st.size
            while remaining > 0:
                chunk = stream.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
            if remaining:
                yield b"\0" * remaining
            yield _padding(st.size)
        self._seen.add(name)
        self.stats.files += 1
        self.stats.bytes += st.size
        if self.progress is not None and self.stats.files % 200 == 0:
            self.progress(self.stats)
