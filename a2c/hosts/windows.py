"""The Windows machine a2c runs on: the same facts a snapshot carries, gathered live.

Analyzers speak POSIX-style host paths (``/C/inetpub/wwwroot``); this host maps them to the
machine's own (``C:\\inetpub\\wwwroot``) and back, so the IIS and service analyzers read a live
server exactly as they read an extracted snapshot. Facts that are not files (Windows build,
IIS version, services) come from the registry and the service manager.

Not exercised on a real Windows server in this project's CI (no Windows machine runs here):
the path mapping and the fact gathering are tested with stand-ins for ``winreg`` and psutil's
Windows service API.
"""

from __future__ import annotations

import ntpath
import os
import platform
import re
from typing import Any, BinaryIO, Callable, Iterable

from a2c.hosts.local import LocalHost
from a2c.model import FileStat

_DRIVE_PATH = re.compile(r"^/([A-Za-z])(?:/(.*))?$")


def to_native(path: str) -> str:
    """/C/inetpub/wwwroot -> C:\\inetpub\\wwwroot (paths without a drive are returned as they are)."""
    match = _DRIVE_PATH.match(path)
    if not match:
        return path
    rest = (match.group(2) or "").replace("/", "\\")
    return f"{match.group(1).upper()}:\\{rest}"


def to_host(native: str) -> str:
    """C:\\inetpub\\wwwroot -> /C/inetpub/wwwroot."""
    drive, rest = ntpath.splitdrive(native)
    if len(drive) == 2 and drive[1] == ":":
        rest = rest.replace("\\", "/").strip("/")
        return f"/{drive[0].upper()}" + (f"/{rest}" if rest else "")
    return native.replace("\\", "/")


class WindowsLocalHost(LocalHost):
    """LocalHost on Windows, with drive paths mapped and Windows facts from the system."""

    def lstat(self, path: str) -> FileStat | None:
        st = super().lstat(to_native(path))
        return None if st is None else FileStat(path, st.kind, st.size, st.mode, st.mtime, st.uid, st.gid,
                                                to_host(st.link_target) if st.link_target else "")

    def realpath(self, path: str) -> str:
        return to_host(super().realpath(to_native(path)))

    def list_dir(self, path: str) -> list[str]:
        return super().list_dir(to_native(path))

    def open(self, path: str) -> BinaryIO:
        return super().open(to_native(path))

    def windows_facts(self) -> dict[str, Any]:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        from a2c.hosts.local import windows_services

        return gather_windows_facts(winreg, windows_services, platform.win32_ver, os.environ)


def gather_windows_facts(winreg: Any, services: Callable[[], Iterable[Any]],
                         win32_ver: Callable[[], tuple[str, str, str, str]],
                         environ: dict[str, str] | Any) -> dict[str, Any]:
    """The "windows" section of a snapshot's host.json, read from this machine.

    Takes the registry module, psutil's service iterator and platform.win32_ver as arguments,
    so that the shape can be checked where Windows is not at hand.
    """
    facts: dict[str, Any] = {}
    current = _registry_values(winreg, r"SOFTWARE\Microsoft\Windows NT\CurrentVersion",
                               ("ProductName", "CurrentBuildNumber", "CurrentBuild", "EditionID"))
    release, version, _, _ = win32_ver()
    facts["os"] = str(current.get("ProductName") or f"Windows {release}")
    facts["build"] = str(current.get("CurrentBuildNumber") or current.get("CurrentBuild") or version.rsplit(".", 1)[-1])
    facts["version"] = version
    inetstp = _registry_values(winreg, r"SOFTWARE\Microsoft\InetStp", ("MajorVersion", "MinorVersion"))
    if inetstp.get("MajorVersion") is not None:
        facts["iisVersion"] = f"{inetstp['MajorVersion']}.{inetstp.get('MinorVersion', 0)}"
    facts["systemDrive"] = str(environ.get("SystemDrive", "C:"))
    listed = []
    for service in services():
        try:
            info = service.as_dict()
        except Exception:  # a service removed or locked while we list them
            continue
        listed.append({
            "name": info.get("name", ""),
            "displayName": info.get("display_name", ""),
            "binaryPath": info.get("binpath", ""),
            "startName": info.get("username", ""),
            "startType": info.get("start_type", ""),
            "state": info.get("status", ""),
            "pid": info.get("pid") or 0,
        })
    facts["services"] = listed
    return facts


def _registry_values(winreg: Any, key_path: str, names: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key_path)
    except OSError:
        return values
    try:
        for name in names:
            try:
                values[name] = winreg.QueryValueEx(key, name)[0]
            except OSError:
                continue
    finally:
        winreg.CloseKey(key)
    return values
