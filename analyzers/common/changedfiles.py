"""Files under an application's folders that change while a2c analyzes it: a sign of state.

A server that opens, writes and closes its data (a counter, a store flushed every second, a
lock file's heartbeat) holds nothing open for writing when a2c looks, and may name its folder in
no configuration key. What it changed while ``a2c analyze`` ran (the analyzer's reading and the
probes of every port, a few seconds) gives the folder away. The folder of each changed file
becomes a persistent-storage candidate, judged by the same rules as the others: never the
system's, a log folder, or a folder holding the application's code.

Bounded for any tree: at most ``MAX_ENTRIES`` entries and ``MAX_DEPTH`` levels are watched,
links are not followed, and a folder that cannot be read is left out.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from a2c.analyzers.common.logfiles import is_log_name
from a2c.analyzers.common.systemdirs import NEVER, OS_DIRS, SYSTEM_DIRS, is_home
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within, join
from a2c.model import FileStat, Finding

MAX_ENTRIES = 20_000
MAX_DEPTH = 12
MAX_SHOWN = 3
# Files whose change says nothing of the application's data: editors', the JVM's and crash output.
NOISE_NAMES = ("*.swp", "*.swo", "*~", "*.pid", "*.hprof", "*.jfr", "hs_err_pid*", "core", "core.[0-9]*")
# A folder holding one of these holds code: a volume mounted there would hide it.
CODE_NAMES = ("*.jar", "*.war", "*.ear", "*.class", "*.so", "*.dll", "*.exe")


@dataclass
class Watch:
    """The state of the watched trees when analysis began: (mtime, size) by regular file."""

    roots: tuple[str, ...]
    files: dict[str, tuple[float, int]] = field(default_factory=dict)
    truncated: bool = False


def watch(host: Host, roots: Iterable[str]) -> Watch:
    """Start watching the application's folders (the system's own folders are never watched)."""
    kept = tuple(dict.fromkeys(posixpath.normpath(r) for r in roots
                               if isinstance(r, str) and r.startswith("/") and _watchable(r)))
    result = Watch(kept)
    for path, st in _files(host, kept, result):
        result.files[path] = (st.mtime, st.size)
    return result


def changed(host: Host, started: Watch) -> list[str]:
    """The regular files under the watched roots that are new, or whose mtime or size differ."""
    now = Watch(started.roots)
    found = []
    for path, st in _files(host, started.roots, now):
        if started.files.get(path) != (st.mtime, st.size):
            found.append(path)
    return sorted(found)


def _watchable(root: str) -> bool:
    return not (root in SYSTEM_DIRS or is_home(root) or any(is_within(root, d) for d in OS_DIRS + NEVER))


def _files(host: Host, roots: tuple[str, ...], into: Watch) -> Iterator[tuple[str, FileStat]]:
    entries = 0
    stack = [(root, 0) for root in reversed(roots)]
    seen: set[str] = set()
    while stack:
        folder, depth = stack.pop()
        if folder in seen:
            continue
        seen.add(folder)
        try:
            names = sorted(host.list_dir(folder))
        except HostError:
            continue
        for name in names:
            entries += 1
            if entries > MAX_ENTRIES:
                into.truncated = True
                return
            path = join(folder, name)
            try:
                st = host.lstat(path)
            except HostError:
                continue
            if st is None:
                continue
            if st.kind == "dir" and depth < MAX_DEPTH:
                stack.append((path, depth + 1))
            elif st.kind == "file":
                yield path, st


def storage(files: Iterable[str], watched: Watch, info: Mapping[str, Any], params: Mapping[str, Any],
            host: Host) -> tuple[list[dict[str, Any]], list[Finding]]:
    """analysisInfo.persistentStorage with the folders of the changed files added (evidence
    "changed while a2c analyzed"), and a finding for each folder that cannot be a volume.

    Left out: logs and editors' or the JVM's output, files under logLocations, appExcludedFiles
    or the Java runtime. A changed file directly in a watched root, or in a folder holding code,
    stays in the image as it is (STATE-W002): a volume there would hide the application."""
    existing = [dict(e) for e in info.get("persistentStorage") or () if isinstance(e, dict) and e.get("path")]
    skip = [str(p) for p in list(params.get("logLocations") or ()) + list(params.get("appExcludedFiles") or ()) if p]
    java_home = (info.get("AdvancedAppInfo") or {}).get("javaHome") or ""
    skip += [java_home] if java_home else []
    by_folder: dict[str, list[str]] = {}
    for path in files:
        name = posixpath.basename(path)
        if is_log_name(name) or any(fnmatch.fnmatchcase(name, p) for p in NOISE_NAMES):
            continue
        if any(is_within(path, s) for s in skip):
            continue
        by_folder.setdefault(posixpath.dirname(path), []).append(path)
    findings: list[Finding] = []
    added: list[str] = []
    for folder, changed_files in sorted(by_folder.items()):
        evidence = f"files changed while a2c analyzed the running application: {_listed(changed_files)}"
        holder = next((e for e in existing if is_within(folder, str(e["path"]))), None)
        if holder is not None:
            holder["evidence"] = list(holder.get("evidence") or []) + [evidence]
            continue
        if folder in watched.roots or not _watchable(folder) or _holds_code(host, folder):
            findings.append(Finding(
                "STATE-W002", "warning",
                f"{_listed(changed_files)} changed while a2c analyzed the application, in {folder}, which holds "
                f"the application itself: it is copied into the image as it is (a volume there would hide the "
                f"application). If it is data to keep, move it to a folder of its own and list that folder in "
                f"analysisInfo.persistentStorage", folder))
            continue
        inner = [e for e in existing if is_within(str(e["path"]), folder)]
        entry = {"path": folder, "evidence": [evidence] + [x for e in inner for x in e.get("evidence") or []],
                 "bakeContents": any(e.get("bakeContents") is True for e in inner)}
        existing = [e for e in existing if e not in inner] + [entry]
        added.append(folder)
    if added:
        findings.insert(0, Finding(
            "STATE-I002", "info",
            f"{_listed(added)}: files there changed while a2c analyzed the running application, so the image "
            f"creates {'these folders' if len(added) > 1 else 'this folder'} empty and writable, without the "
            f"contents on this host, and analysisInfo.persistentStorage lists them for the deployment to mount "
            f"from a volume (EFS). To copy the current contents into the image instead, set bakeContents to true "
            f"in analysis.json and containerize again", added[0]))
    if watched.truncated:
        findings.append(Finding(
            "STATE-I003", "info",
            f"only the first {MAX_ENTRIES} files under {_listed(watched.roots)} were watched for changes during "
            f"analysis; state folders deeper in the tree are found only by their configuration", watched.roots[0]))
    return existing, findings


def _holds_code(host: Host, folder: str) -> bool:
    try:
        names = host.list_dir(folder)
    except HostError:
        return False
    return any(fnmatch.fnmatchcase(n.lower(), p) for n in names for p in CODE_NAMES)


def _listed(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:MAX_SHOWN])
    return shown + (f" and {len(items) - MAX_SHOWN} more" if len(items) > MAX_SHOWN else "")
