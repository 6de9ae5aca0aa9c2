"""Process mode without copying the disk: what a Java process really uses, and nothing else.

App2Container's process mode archives every non-system file on the server (10–16 GB images).
Here the image gets what the process names or holds: its -jar target and class path (with the
jars that manifests' Class-Path pull in), its working directory when that is an application
folder, the files it has open, configuration paths on its command line and in its environment,
and its Java runtime only when the base image has none. Inside those folders, logs, caches,
swap files and files the OS package manager owns are left out.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import Any, Iterable

from a2c.analyzers.common.archives import BadArchive, open_zip, read_member
from a2c.analyzers.common.properties import parse_manifest
from a2c.analyzers.java.jvm import JavaCommand
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import Finding, ProcessInfo

# Folders that are the operating system's or everybody's, never an application's own.
SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
    "/usr/local/bin", "/usr/local/lib", "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log", "/var/tmp",
    "/var/cache", "/var/run", "/var/spool", "/usr/share/java", "/usr/lib/jvm",
})
# Never copied, wherever they are: the kernel's views, sockets, runtime state, logs.
NEVER = ("/proc", "/sys", "/dev", "/run", "/var/run", "/var/log", "/var/cache", "/var/tmp", "/tmp/hsperfdata_",
         "/etc/ssl", "/usr/share/zoneinfo", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/shadow",
         "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ld.so.cache")
EXCLUDED_NAMES = ("*.log", "*.log.[0-9]*", "*.out", "*.swp", "*.swo", "*~", "*.pid", "swapfile", ".cache",
                  "__pycache__", ".git", ".svn", ".ssh", ".aws", ".gnupg", "core", "core.[0-9]*", "hs_err_pid*")
# Run-time folders directly inside an application folder: created empty and writable instead.
TRANSIENT_DIRS = ("logs", "log", "tmp", "temp", "cache", "work")
JAVA_BASE_HINTS = ("jre", "jdk", "java", "temurin", "corretto", "openjdk", "zulu", "liberica", "semeru", "graalvm",
                   "tomcat", "jetty", "wildfly", "jboss", "websphere", "weblogic", "maven", "gradle")
MAX_MANIFEST_DEPTH = 4


@dataclass
class ProcessFiles:
    paths: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # path -> why it is included
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, path: str, why: str) -> None:
        path = posixpath.normpath(path)
        if path in self.sources or any(is_within(path, p) for p in self.paths):
            return
        if path in SYSTEM_DIRS or path.startswith(NEVER) or any(path == n or is_within(path, n) for n in NEVER):
            self.skipped.append(f"{path} ({why}): a system location")
            return
        # A folder that holds folders already added replaces them.
        self.paths = [p for p in self.paths if not is_within(p, path)]
        self.paths.append(path)
        self.sources[path] = why


def base_provides_java(base_image: str) -> bool:
    name = base_image.lower().rsplit("/", 1)[-1]
    return any(hint in name for hint in JAVA_BASE_HINTS)


def manifest_class_path(host: Host, jar: str) -> list[str]:
    try:
        with open_zip(host, jar) as archive:
            data = read_member(archive, "META-INF/MANIFEST.MF")
    except (HostError, BadArchive):
        return []
    if not data:
        return []
    entries = parse_manifest(decode_text(data)).get("Class-Path", "").split()
    folder = posixpath.dirname(jar)
    return [join(folder, e.removeprefix("file:")) for e in entries if not e.startswith(("http:", "https:"))]


def collect(proc: ProcessInfo, host: Host, command: JavaCommand, java_home: str,
            app_env: dict[str, str] | None = None) -> ProcessFiles:
    files = ProcessFiles()
    cwd = proc.cwd or "/"

    def existing(path: str) -> str | None:
        try:
            return host.realpath(path) if host.exists(path) else None
        except HostError:
            return None

    # The -jar target and the class path, following manifests' Class-Path.
    pending: list[tuple[str, str, int]] = []
    if command.jar:
        pending.append((join(cwd, command.jar), "-jar", 0))
    for entry in command.classpath:
        pending.append((join(cwd, entry[:-1] if entry.endswith("*") else entry), "class path", 0))
    seen: set[str] = set()
    while pending:
        path, why, depth = pending.pop(0)
        real = existing(path)
        if real is None:
            files.findings.append(Finding("PROC-W001", "warning", f"{why} names {path}, which does not exist", path))
            continue
        if real in seen:
            continue
        seen.add(real)
        if is_within(real, java_home):
            continue
        files.add(real, why)
        if real.endswith(".jar") and depth < MAX_MANIFEST_DEPTH and host.is_file(real):
            pending += [(p, f"Class-Path of {posixpath.basename(real)}", depth + 1) for p in manifest_class_path(host, real)]

    # The working directory, when it is an application's folder.
    if cwd not in SYSTEM_DIRS and not _is_home(cwd) and not is_within(cwd, java_home):
        files.add(cwd, "working directory")
    elif cwd != "/":
        files.skipped.append(f"{cwd} (working directory): a system or home folder; only the files named are copied")

    # Files the process holds open.
    for path in proc.open_files:
        if not is_within(path, java_home) and not fnmatch_any(posixpath.basename(path), EXCLUDED_NAMES):
            if host.is_file(path):
                files.add(path, "open file")

    # Paths in -D options, arguments and the environment.
    for value, why in _path_values(command, app_env or {}):
        real = existing(join(cwd, value))
        if real and not is_within(real, java_home) and not _in_home(real):
            files.add(real, why)
    return files


def _path_values(command: JavaCommand, app_env: dict[str, str]) -> Iterable[tuple[str, str]]:
    """Absolute paths in -D options, arguments, and the application's own environment variables
    (not the login session's: a PYENV_ROOT or PIP_FIND_LINKS inherited from a shell is not the app's)."""
    for key, value in command.system_properties.items():
        for part in value.split(":") if ":" in value and not value.startswith("file:") else [value.removeprefix("file:")]:
            if part.startswith("/"):
                yield part, f"-D{key}"
    for arg in command.args:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        for part in value.split(","):
            part = part.removeprefix("file:").removeprefix("optional:")
            if part.startswith("/"):
                yield part, "argument"
    for key, value in app_env.items():
        if value.startswith("/") and ":" not in value and key not in ("PWD", "OLDPWD", "HOME", "SHELL", "JAVA_HOME",
                                                                      "PATH", "MAIL", "TMPDIR", "_"):
            yield value, f"environment {key}"


def _in_home(path: str) -> bool:
    return path == "/root" or path.startswith("/root/") or (path.startswith("/home/") and path.count("/") >= 2)


def _is_home(path: str) -> bool:
    parts = path.strip("/").split("/")
    return (parts[0] == "home" and len(parts) <= 2) or path == "/root"


def fnmatch_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


class DpkgIndex:
    """Which files Debian's package manager installed (from /var/lib/dpkg/info/*.list), read lazily."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._owned: set[str] | None = None

    @property
    def owned(self) -> set[str]:
        if self._owned is None:
            owned: set[str] = set()
            folder = "/var/lib/dpkg/info"
            for name in self.host.glob_names(folder, (".list",)):
                try:
                    owned.update(line for line in self.host.read_text(join(folder, name)).splitlines() if line)
                except HostError:
                    continue
            self._owned = owned
        return self._owned

    def owns(self, path: str) -> bool:
        return path in self.owned


def package_owned_excludes(host: Host, roots: Iterable[str], used: Iterable[str]) -> list[str]:
    """Files the package manager owns inside the copied folders that the process does not use:
    the base image brings its own operating system; only these app folders' own files matter."""
    index = DpkgIndex(host)
    used_set = set(used)
    roots = [r for r in roots if host.is_dir(r)]
    if not roots or not index.owned:
        return []
    return sorted(p for p in index.owned
                  if any(is_within(p, r) and p != r for r in roots) and p not in used_set and host.is_file(p))


def process_mode_info(proc: ProcessInfo, host: Host, command: JavaCommand, java_home: str,
                      base_image: str, app_env: dict[str, str] | None = None) -> tuple[dict[str, Any], list[Finding]]:
    files = collect(proc, host, command, java_home, app_env)
    excludes = package_owned_excludes(host, files.paths, proc.open_files)
    transient = [join(root, name) for root in files.paths for name in TRANSIENT_DIRS if host.is_dir(join(root, name))]
    runtime_needed = bool(java_home) and not base_provides_java(base_image)
    info = {
        "paths": files.paths,
        "sources": files.sources,
        "excludes": excludes + transient,
        "excludeNames": list(EXCLUDED_NAMES),
        "writableDirs": transient,
        "skipped": files.skipped,
        "javaHome": java_home,
        "copyJavaRuntime": runtime_needed,
    }
    return info, files.findings
