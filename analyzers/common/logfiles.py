"""Which log paths an image leaves out: a folder only when it holds nothing but logs.

An application that writes ``out.log`` into its own publish folder (``dotnet App.dll >
out.log``) must not lose that folder: the log file is left out, the application is not.
"""

from __future__ import annotations

import fnmatch
import posixpath
from typing import Iterable

from a2c.errors import HostError
from a2c.hosts.base import Host

# What a log file is called: app.log, app.log.1, app.2024-01-01.log, catalina.out, gc.log.0.current, …
LOG_NAMES = ("*.log", "*.log.*", "*.out", "*.out.*", "*.log.gz", "*.txt.gz")
MAX_LISTED = 2000  # a folder with more entries than this is never taken for a log folder


def is_log_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in LOG_NAMES)


def holds_only_logs(host: Host, folder: str) -> bool:
    """True when every file in the folder (and its sub-folders) is named like a log."""
    pending, seen = [folder], 0
    while pending:
        current = pending.pop()
        try:
            names = host.list_dir(current)
        except HostError:
            return False
        for name in names:
            seen += 1
            if seen > MAX_LISTED:
                return False
            path = posixpath.join(current, name)
            st = host.lstat(path)
            if st is not None and st.kind == "dir":
                pending.append(path)
            elif not is_log_name(name):
                return False
    return True


def log_excludes(host: Host, folders: Iterable[str]) -> list[str]:
    """The paths to leave out for these log folders: each folder that holds only logs; in any
    other folder, the files named like logs, so that the folder's other files stay in the image
    (a file a2c cannot tell for a log is kept: losing it could break the application)."""
    excludes: list[str] = []
    for folder in dict.fromkeys(folders):
        if holds_only_logs(host, folder):
            excludes.append(folder)
            continue
        try:
            names = host.list_dir(folder)
        except HostError:
            names = []
        excludes += [posixpath.join(folder, n) for n in names if is_log_name(n)
                     and (st := host.lstat(posixpath.join(folder, n))) is not None and st.kind == "file"]
    return list(dict.fromkeys(excludes))
