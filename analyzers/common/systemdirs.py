"""Folders that are the operating system's or everybody's, never one application's own.

Shared by every rule that decides what an image copies, makes writable or mounts: a state
folder, a copied path or an edited analysis.json entry naming one of these is refused.
"""

from __future__ import annotations

import posixpath
from typing import Any

from a2c.analyzers.common import credstores
from a2c.hosts.base import is_within

# Folders that are the operating system's or everybody's, never an application's own.
SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
    "/usr/local/bin", "/usr/local/lib", "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log", "/var/tmp",
    "/var/cache", "/var/run", "/var/spool", "/usr/share/java", "/usr/lib/jvm",
})
# Never copied, wherever they are: the kernel's views, sockets, runtime state, logs, the host's own
# identity files, and every credential store on the system (credstores.SYSTEM_STORES; the stores
# found by name or as key material are checked by ``credstores.credential_store_reason`` too).
NEVER = ("/proc", "/sys", "/dev", "/run", "/var/run", "/var/log", "/var/cache", "/var/tmp", "/tmp/hsperfdata_",
         "/etc/ssl", "/usr/share/zoneinfo", "/etc/localtime", "/etc/passwd", "/etc/group",
         "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ld.so.cache") + tuple(credstores.SYSTEM_STORES)
# The operating system's own trees (an application under /usr/local is an application).
OS_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/etc/alternatives")


def is_home(path: str) -> bool:
    """A home folder as a whole (/home/x, /root): its keys and caches are never the application."""
    parts = path.strip("/").split("/")
    return (parts[0] == "home" and len(parts) <= 2) or path == "/root"


def planned_storage(entries: Any) -> list[tuple[str, bool]]:
    """(path, bakeContents) of analysisInfo.persistentStorage as the user left it: entries that are
    not an absolute path, or name a system location, are ignored (the schema checks the shape;
    this keeps an edited ``/etc`` from becoming a writable folder)."""
    planned: list[tuple[str, bool]] = []
    for entry in entries if isinstance(entries, list) else []:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
            continue
        path = posixpath.normpath(path)
        if path in SYSTEM_DIRS or path.startswith(NEVER) or any(is_within(path, n) for n in NEVER):
            continue
        if any(is_within(path, d) for d in OS_DIRS + ("/etc",)) and not is_within(path, "/usr/local"):
            continue  # the OS's own folders never become writable for the application's group
        planned.append((path, entry.get("bakeContents") is True))
    return list(dict.fromkeys(planned))

