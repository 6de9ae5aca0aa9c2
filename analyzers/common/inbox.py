"""File-drop processors: a process that polls or watches an inbox folder and takes its files.

Three signs, each recorded as evidence: the folder is *named* in the process's command line or
configuration (a key or a folder called inbox, input, incoming, drop, watch, spool, pickup, …);
a file in it is *open for reading* (``ProcessInfo.open_files``, not among ``written_files``);
and its files *change or disappear* while a2c watches it (``changedfiles.watch``, listed again
a few times over at most ``WATCH_SECONDS``): files moved to done/ or away are the process at work.

Only folders on the host are watched, never the system's own, and the watch is bounded like
changedfiles' (entries, depth). ``named_folders`` is pure; ``observe`` reads the host.
"""

from __future__ import annotations

import posixpath
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from a2c.analyzers.common import changedfiles
from a2c.analyzers.common.queues import key_words
from a2c.hosts.base import Host, is_within
from a2c.model import ProcessInfo

INBOX_WORDS = ("inbox", "input", "incoming", "drop", "dropbox", "dropzone", "watch", "watched", "spool", "pickup",
               "hotfolder", "landing", "inbound")
FOLDER_WORDS = ("dir", "directory", "folder", "path", "location", "root")
WATCH_SECONDS = 3.0
POLL_SECONDS = 0.5
MAX_CANDIDATES = 5
MAX_SHOWN = 3
ABSOLUTE = re.compile(r"(?:file:)?(/[A-Za-z0-9._@%+=,~ /-]{1,250})")


@dataclass
class Candidate:
    path: str
    evidence: list[str] = field(default_factory=list)


def _inbox_word(words: Iterable[str]) -> bool:
    return any(w in INBOX_WORDS for w in words)


def named_folders(settings: Mapping[str, Any], found_in: str) -> list[Candidate]:
    """Folders a source's settings name as an inbox: the key says inbox (``inbox.dir``,
    ``app.input-folder``), or a key that names a folder (dir, path, …) holds a path whose last
    part says inbox (``/srv/incoming``)."""
    found: list[Candidate] = []
    for key, raw in list(settings.items())[:10_000]:
        match = ABSOLUTE.fullmatch(str(raw).strip())
        if match is None:
            continue
        path = posixpath.normpath(match.group(1))
        words = key_words(str(key))
        last_part = re.split(r"[^a-z]+", posixpath.basename(path).lower())
        if _inbox_word(words) or (any(w in FOLDER_WORDS for w in words) and _inbox_word(last_part)):
            where = "on the command line" if found_in == "command line" else f"in {found_in}"
            found.append(Candidate(path, [f"named {where} ({key})"]))
    return found


def from_command_line(cmdline: Iterable[str]) -> list[Candidate]:
    """``-Dinbox.dir=/srv/inbox``, ``--input=/srv/in``, and bare arguments naming an inbox folder."""
    values: dict[str, str] = {}
    bare: list[Candidate] = []
    for arg in cmdline:
        option = re.fullmatch(r"(?:-D|--?)([A-Za-z0-9_.:-]+)=(.+)", arg, re.S)
        if option:
            values[option.group(1)] = option.group(2)
        elif ABSOLUTE.fullmatch(arg) and _inbox_word(re.split(r"[^a-z]+", posixpath.basename(arg.rstrip("/")).lower())):
            bare.append(Candidate(posixpath.normpath(arg), ["named on the command line"]))
    return named_folders(values, "command line") + bare


def merge(groups: Iterable[Iterable[Candidate]]) -> list[Candidate]:
    by_path: dict[str, Candidate] = {}
    for candidate in (c for group in groups for c in group):
        held = by_path.setdefault(candidate.path, Candidate(candidate.path))
        held.evidence += [e for e in candidate.evidence if e not in held.evidence]
    return list(by_path.values())[:MAX_CANDIDATES]


def observe(host: Host, candidates: list[Candidate], proc: ProcessInfo, seconds: float = WATCH_SECONDS,
            sleep: Callable[[float], None] | None = None) -> list[Candidate]:
    """The candidates that are folders on the host, each with what the process was seen doing
    there: files open for reading, and files that changed or went away while watched (the watch
    stops at the first sign, or after ``seconds``)."""
    folders = [c for c in candidates if host.is_dir(c.path)]
    for candidate in folders:
        reading = [f for f in proc.open_files if is_within(f, candidate.path) and f not in proc.written_files]
        if reading:
            candidate.evidence.append(f"open for reading: {_listed(reading)}")
    if not folders:
        return []
    started = {c.path: changedfiles.watch(host, [c.path]) for c in folders}
    deadline = time.monotonic() + max(0.0, seconds)
    moved: dict[str, list[str]] = {}
    while True:
        for candidate in folders:
            now = changedfiles.watch(host, [candidate.path])
            before = started[candidate.path].files
            gone = sorted(set(before) - set(now.files))
            changed = sorted(p for p, state in now.files.items() if before.get(p) != state)
            if gone or changed:
                moved[candidate.path] = gone + changed
                if gone:
                    candidate.evidence.append(f"files moved away while a2c watched: {_listed(gone)}")
                if changed:
                    candidate.evidence.append(f"files arrived or changed while a2c watched: {_listed(changed)}")
        if moved or time.monotonic() >= deadline:
            break
        (sleep or time.sleep)(POLL_SECONDS)
    return folders


def is_active(candidate: Candidate) -> bool:
    """Seen at work: a file open for reading, or files that moved or changed under watch."""
    return any(e.startswith(("open for reading", "files moved away", "files arrived")) for e in candidate.evidence)


def _listed(paths: list[str]) -> str:
    shown = ", ".join(paths[:MAX_SHOWN])
    return shown + (f" and {len(paths) - MAX_SHOWN} more" if len(paths) > MAX_SHOWN else "")
