"""Windows paths seen through the Host seam.

A snapshot of a Windows host keeps ``C:\\inetpub\\wwwroot`` at ``files/C/inetpub/wwwroot``, so
the Host path is ``/C/inetpub/wwwroot``: the drive letter (upper case) is the first folder.
Windows paths are case-insensitive and the files on the host keep the case they were created
with, so ``resolve`` finds the existing name whatever case a configuration file used.
"""

from __future__ import annotations

import ntpath
import re
from typing import Mapping

from a2c.errors import HostError
from a2c.hosts.base import Host

# What %VAR% means on a default Windows Server install, when the host did not tell us.
DEFAULT_ENVIRONMENT = {
    "SYSTEMDRIVE": "C:",
    "SYSTEMROOT": "C:\\Windows",
    "WINDIR": "C:\\Windows",
    "PROGRAMFILES": "C:\\Program Files",
    "PROGRAMFILES(X86)": "C:\\Program Files (x86)",
    "PROGRAMW6432": "C:\\Program Files",
    "COMMONPROGRAMFILES": "C:\\Program Files\\Common Files",
    "PROGRAMDATA": "C:\\ProgramData",
    "ALLUSERSPROFILE": "C:\\ProgramData",
    "PUBLIC": "C:\\Users\\Public",
}

_ENV_REF = re.compile(r"%([^%\\/:*?\"<>|]+)%")
_DRIVE = re.compile(r"^([A-Za-z]):(?:[\\/](.*))?$")


def expand_environment(value: str, environment: Mapping[str, str] | None = None) -> str:
    """``%SystemDrive%\\inetpub`` -> ``C:\\inetpub`` (names case-insensitive; unknown ones kept)."""
    known = dict(DEFAULT_ENVIRONMENT)
    known.update({k.upper(): v for k, v in (environment or {}).items()})

    def replace(match: re.Match[str]) -> str:
        return known.get(match.group(1).upper(), match.group(0))

    return _ENV_REF.sub(replace, value)


def normalize_windows_path(value: str, environment: Mapping[str, str] | None = None) -> str:
    """A Windows path with variables expanded, backslashes, an upper-case drive, no trailing slash.

    Returns "" for what is not a local drive path: relative paths, UNC shares (``\\\\server\\share``).
    """
    path = expand_environment(value.strip().strip('"'), environment)
    if path.startswith(("\\\\?\\", "//?/")):
        path = path[4:]
    match = _DRIVE.match(path)
    if not match:
        return ""
    rest = (match.group(2) or "").replace("/", "\\")
    parts = [p for p in rest.split("\\") if p and p != "."]
    clean: list[str] = []
    for part in parts:
        if part == "..":
            if clean:
                clean.pop()
        else:
            clean.append(part)
    return match.group(1).upper() + ":\\" + "\\".join(clean)


def is_unc(value: str) -> bool:
    return value.strip().startswith(("\\\\", "//")) and not value.strip().startswith(("\\\\?\\", "//?/"))


def to_host_path(value: str, environment: Mapping[str, str] | None = None) -> str:
    """``C:\\inetpub\\wwwroot`` -> ``/C/inetpub/wwwroot`` ("" when the path is not on a local drive)."""
    path = normalize_windows_path(value, environment)
    if not path:
        return ""
    drive, rest = path[0], path[3:]
    return "/" + drive + ("/" + rest.replace("\\", "/") if rest else "")


def to_windows_path(host_path: str) -> str:
    """``/C/inetpub/wwwroot`` -> ``C:\\inetpub\\wwwroot`` (the inverse of ``to_host_path``)."""
    parts = [p for p in host_path.split("/") if p]
    if not parts or len(parts[0]) != 1 or not parts[0].isalpha():
        raise ValueError(f"{host_path} is not a Windows drive path in Host form (/C/…)")
    return parts[0].upper() + ":\\" + "\\".join(parts[1:])


def windows_join(base: str, *parts: str) -> str:
    """Join Windows path parts (a part that is itself absolute restarts, as on Windows)."""
    return normalize_windows_path(ntpath.join(base, *[p.replace("/", "\\") for p in parts])) or ntpath.join(base, *parts)


def is_within_windows(path: str, root: str) -> bool:
    """True when ``path`` is ``root`` or inside it, compared case-insensitively."""
    p, r = path.rstrip("\\").lower(), root.rstrip("\\").lower()
    return p == r or p.startswith(r + "\\")


def relative_windows(path: str, root: str) -> str:
    """``path`` relative to ``root`` with forward slashes ("" when they are the same)."""
    if not is_within_windows(path, root):
        raise ValueError(f"{path} is not inside {root}")
    return path.rstrip("\\")[len(root.rstrip("\\")):].lstrip("\\").replace("\\", "/")


def resolve(host: Host, host_path: str) -> str:
    """The existing Host path that matches ``host_path`` case-insensitively, one folder at a time.

    Components that exist with the same case are taken as they are (one ``lstat``); otherwise
    the parent folder is listed. From the first component that matches nothing, the rest of the
    path is kept as given, so the result names the file that would be there.
    """
    parts = [p for p in host_path.split("/") if p]
    current = ""
    for index, part in enumerate(parts):
        candidate = f"{current}/{part}"
        if host.lstat(candidate) is None:
            try:
                names = host.list_dir(current or "/")
            except HostError:
                names = []
            match = next((n for n in names if n.lower() == part.lower()), None)
            if match is None:
                return "/".join([candidate] + parts[index + 1:])
            candidate = f"{current}/{match}"
        current = candidate
    return current or "/"


def host_path_for(host: Host, windows_path: str, environment: Mapping[str, str] | None = None) -> str:
    """The Host path of a Windows path, with the case the host's files really have ("" when not local)."""
    path = to_host_path(windows_path, environment)
    return resolve(host, path) if path else ""


def container_path(windows_path: str) -> str:
    """Where a host folder lives in a Windows container: the same path on C:, ``C:\\drive-x\\…``
    for a folder on another drive X: (a Windows container has only drive C:)."""
    path = normalize_windows_path(windows_path)
    if not path or path[0] == "C":
        return path
    rest = path[3:]
    return f"C:\\drive-{path[0].lower()}" + (f"\\{rest}" if rest else "")


def split_command_line(command: str) -> list[str]:
    """Split a Windows command line the way ``CommandLineToArgvW`` does.

    Quotes group spaces; ``2n`` backslashes before a quote are ``n`` backslashes, ``2n+1``
    are ``n`` and a literal quote; other backslashes are literal (they are path separators).
    """
    args: list[str] = []
    current: list[str] = []
    in_quotes = False
    has_arg = False
    index = 0
    while index < len(command):
        char = command[index]
        if char == "\\":
            end = index
            while end < len(command) and command[end] == "\\":
                end += 1
            count = end - index
            if end < len(command) and command[end] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    end += 1
                has_arg = True
                index = end
                continue
            current.append("\\" * count)
            has_arg = True
            index = end
            continue
        if char == '"':
            if in_quotes and index + 1 < len(command) and command[index + 1] == '"':
                current.append('"')  # "" inside quotes: a literal quote
                index += 2
                continue
            in_quotes = not in_quotes
            has_arg = True
        elif char in " \t" and not in_quotes:
            if has_arg:
                args.append("".join(current))
                current, has_arg = [], False
        else:
            current.append(char)
            has_arg = True
        index += 1
    if has_arg:
        args.append("".join(current))
    return args


def split_image_path(host: Host, image_path: str, environment: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """A service's ImagePath as (executable, arguments), with variables expanded.

    A quoted executable is unambiguous. An unquoted one with spaces is resolved as the Service
    Control Manager does: the shortest prefix ending at a space that names an existing file
    (``C:\\Program Files\\Acme\\agent.exe -k`` tries ``C:\\Program`` first).
    """
    text = expand_environment(image_path.strip(), environment)
    if text.startswith('"'):
        args = split_command_line(text)
        return (args[0] if args else ""), args[1:]
    words = text.split(" ")
    for count in range(1, len(words) + 1):
        candidate = " ".join(words[:count])
        for name in (candidate, candidate + ".exe"):
            host_path = host_path_for(host, name, environment)
            if host_path and host.is_file(host_path):
                return name, split_command_line(" ".join(words[count:]))
    for count in range(1, len(words) + 1):
        if words[count - 1].lower().endswith(".exe"):
            return " ".join(words[:count]), split_command_line(" ".join(words[count:]))
    args = split_command_line(text)
    return (args[0] if args else ""), args[1:]
