"""Process mode without copying the disk: what a Java process really uses, and nothing else.

App2Container's process mode archives every non-system file on the server (10–16 GB images).
Here the image gets what the process names or holds: its -jar target and class path (with the
jars that manifests' Class-Path pull in), its working directory when that is an application
folder, the files it has open, configuration paths on its command line and in its environment,
and its Java runtime only when the base image has none. Inside those folders, logs, caches,
swap files and files the OS package manager owns are left out.

Credential stores (``analyzers/common/credstores.py``: SSH keys, password hashes, cloud and
registry credentials, private keys under /etc or a home folder) are never taken, whoever names
them: a path the process names that is one is left out with a PROC-W010 finding, and a folder
taken whole has the stores inside it excluded (PROC-W011). The configuration files inside the
folders taken whole are found here (bounded in depth, count and size) so that the analyzer
scans them for secrets like any other configuration; one of a format the scanner cannot
template that holds a secret-looking line is left out (PROC-W012) rather than copied as is.

The folders the process writes while it runs (its configuration's data directories, the files
it holds open for writing: ``analyzers/common/statedirs.py``) become analysisInfo.persistentStorage:
created empty and writable in the image, their host contents not copied unless bakeContents.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from a2c.analyzers.common import credstores, logfiles, statedirs
from a2c.analyzers.common.systemdirs import NEVER, OS_DIRS, SYSTEM_DIRS, is_home as _is_home
from a2c.analyzers.common.archives import BadArchive, open_zip, read_member
from a2c.analyzers.common.properties import parse_manifest
from a2c.analyzers.common.secrets import is_secret_name
from a2c.analyzers.java.jvm import JavaCommand
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import Finding, ProcessInfo

EXCLUDED_NAMES = ("*.log", "*.log.[0-9]*", "*.out", "*.swp", "*.swo", "*~", "*.pid", "swapfile", ".cache",
                  "__pycache__", ".git", ".svn", "core", "core.[0-9]*", "hs_err_pid*") + credstores.exclude_names()
# Run-time folders directly inside an application folder: created empty and writable instead.
TRANSIENT_DIRS = ("logs", "log", "tmp", "temp", "cache", "work")
JAVA_BASE_HINTS = ("jre", "jdk", "java", "temurin", "corretto", "openjdk", "zulu", "liberica", "semeru", "graalvm",
                   "tomcat", "jetty", "wildfly", "jboss", "websphere", "weblogic", "maven", "gradle")
MAX_MANIFEST_DEPTH = 4
# Names configuration files go by: these are scanned for secrets when a folder is copied whole.
CONFIG_NAMES = ("*.properties", "*.yml", "*.yaml", "*.xml", "*.conf", "*.cnf", "*.cfg", "*.ini", "*.toml",
                "*.json", "*.config", "*.env", ".env", ".env.*", "*.env.*")
# Bounds on the look inside copied folders, so a big folder stays fast.
MAX_SCAN_DEPTH = 6
MAX_SCAN_ENTRIES = 20_000
MAX_CONFIG_FILES = 300
MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_CONFIG_SIZE = 4 * 1024 * 1024
MAX_LISTED = 10


@dataclass
class ProcessFiles:
    paths: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # path -> why it is included
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    refused: dict[str, str] = field(default_factory=dict)  # path -> why it was left out
    keys: list[str] = field(default_factory=list)  # keystores the application names, copied

    def add(self, path: str, why: str, named: str = "") -> None:
        """Take ``path`` (``named`` is how the process named it, when that was a link to it)."""
        path = posixpath.normpath(path)
        reason = _store_reason(path, named)
        if reason:
            self.refuse(path, why, reason)
            return
        if path in self.sources or any(is_within(path, p) for p in self.paths):
            return
        if path in SYSTEM_DIRS or path.startswith(NEVER) or any(path == n or is_within(path, n) for n in NEVER):
            self.skipped.append(f"{path} ({why}): a system location")
            return
        # A folder that holds folders already added replaces them.
        self.paths = [p for p in self.paths if not is_within(p, path)]
        self.paths.append(path)
        self.sources[path] = why

    def refuse(self, path: str, why: str, reason: str) -> None:
        """Leave a credential store out, and say so."""
        if path in self.refused:
            return
        self.refused[path] = reason
        self.skipped.append(f"{path} ({why}): a credential store")
        self.findings.append(Finding(
            "PROC-W010", "warning",
            f"{path} ({why}) is left out of the image: it holds {reason}, and a credential store never goes into an "
            f"image or an archive; if the application needs it, supply it at run time (a secret mounted at the same "
            f"path)", path))


def _store_reason(*paths: str | None) -> str | None:
    """Why the first of ``paths`` that is a credential store is one (a path as named, and where it leads)."""
    return next((r for r in (credstores.credential_store_reason(p) for p in paths if p) if r), None)


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
        named = posixpath.normpath(path)
        if named != real and _is_link_chain(host, named):
            # The link is kept too (a2c copies links as links): the command line names it.
            files.add(named, f"{why} (a link to {real})", named=named)
        if real.endswith(".jar") and depth < MAX_MANIFEST_DEPTH and host.is_file(real):
            pending += [(p, f"Class-Path of {posixpath.basename(real)}", depth + 1) for p in manifest_class_path(host, real)]

    # The working directory, when it is an application's folder.
    if cwd not in SYSTEM_DIRS and not _is_home(cwd) and not is_within(cwd, java_home):
        files.add(cwd, "working directory")
    elif cwd != "/":
        files.skipped.append(f"{cwd} (working directory): a system or home folder; only the files named are copied")

    # Files the process holds open: a credential store among them is refused by name before
    # anything else (an open ~/.ssh/id_rsa is as much a store as one named on the command line).
    for path in proc.open_files:
        if is_within(path, java_home):
            continue
        real = existing(path)
        reason = _store_reason(path, real)
        if reason:
            files.refuse(posixpath.normpath(path), "open file", reason)
        elif real and not fnmatch_any(posixpath.basename(path), EXCLUDED_NAMES) and host.is_file(real):
            files.add(real, "open file", named=path)

    # Paths in -D options, arguments and the environment.
    for value, why, key in _path_values(command, app_env or {}):
        named = join(cwd, value)
        real = existing(named)
        if not real or is_within(real, java_home):
            continue
        reason = _store_reason(named, real)
        if reason:
            files.refuse(real, why, reason)
        elif _names_key_material(key) and credstores.in_home_or_etc(real):
            files.refuse(real, why, f"the private key material the application names by {why}, under /etc or a "
                                    f"home folder")
        elif not _in_home(real):
            files.add(real, why, named=named)
            if _names_key_material(key):
                files.keys.append(real)
    return files


def _is_link_chain(host: Host, path: str) -> bool:
    """Whether ``path`` itself is a symlink (not a path that only goes through linked folders)."""
    try:
        st = host.lstat(path)
    except HostError:
        return False
    return st is not None and st.kind == "link"


def _path_values(command: JavaCommand, app_env: dict[str, str]) -> Iterable[tuple[str, str, str]]:
    """(absolute path, where it was named, the option's name) from -D options, arguments, and the
    application's own environment variables (not the login session's: a PYENV_ROOT or
    PIP_FIND_LINKS inherited from a shell is not the app's)."""
    for key, value in command.system_properties.items():
        for part in value.split(":") if ":" in value and not value.startswith("file:") else [value.removeprefix("file:")]:
            if part.startswith("/"):
                yield part, f"-D{key}", key
    for arg in command.args:
        name, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        for part in (value if sep or not name else arg).split(","):
            part = part.removeprefix("file:").removeprefix("optional:")
            if part.startswith("/"):
                yield part, "argument", name.lstrip("-")
    for key, value in app_env.items():
        if value.startswith("/") and ":" not in value and key not in ("PWD", "OLDPWD", "HOME", "SHELL", "JAVA_HOME",
                                                                      "PATH", "MAIL", "TMPDIR", "_"):
            yield value, f"environment {key}", key


_KEY_WORDS = {"keystore", "keyfile", "pkcs12", "privatekey"}
_KEY_PAIRS = {("key", "store"), ("key", "file"), ("private", "key"), ("tls", "key"), ("ssl", "key"), ("cert", "key")}


def _names_key_material(name: str) -> bool:
    """Whether an option's name says its value is a keystore or private key (javax.net.ssl.keyStore,
    server.ssl.key-store, TLS_KEY_FILE), whatever the file is called."""
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower()) if w]
    return any(w in _KEY_WORDS for w in words) or any(pair in _KEY_PAIRS for pair in zip(words, words[1:]))


def _in_home(path: str) -> bool:
    return path == "/root" or path.startswith("/root/") or (path.startswith("/home/") and path.count("/") >= 2)


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
    inside = [p for p in index.owned if any(is_within(p, r) and p != r for r in roots) and p not in used_set]
    return sorted(p for p in inside if host.is_file(p) and not _leads_to(host, p, used_set))


def _leads_to(host: Host, path: str, used: set[str]) -> bool:
    """Whether ``path`` is a link to a file the process uses (Debian's bin/x.jar -> ../../java/x.jar)."""
    try:
        st = host.lstat(path)
        return st is not None and st.kind == "link" and host.realpath(path) in used
    except HostError:
        return False


@dataclass
class FolderScan:
    """What the look inside the copied folders found."""

    stores: dict[str, str] = field(default_factory=dict)  # credential store inside a copied folder -> why
    config: list[str] = field(default_factory=list)  # configuration files to scan for secrets
    keys_kept: list[str] = field(default_factory=list)  # key material inside an application folder
    truncated: list[str] = field(default_factory=list)  # folders the bounds stopped the look in
    config_bytes: int = 0


def scan_folders(host: Host, roots: Iterable[str], excludes: Iterable[str]) -> FolderScan:
    """Walk the copied paths breadth first, within MAX_SCAN_DEPTH / MAX_SCAN_ENTRIES, for the
    credential stores to exclude, the configuration files to scan and the key material kept.

    Links are not followed (the image keeps them as links). Past the bounds the build context
    writer still refuses every credential store; configuration files past them are reported."""
    scan = FolderScan()
    skip = tuple(excludes)
    budget = MAX_SCAN_ENTRIES
    roots = list(roots)
    for index, root in enumerate(roots):
        st = host.stat(root)
        if st is not None and st.kind == "file":
            _classify(scan, root, st.size)
            continue
        pending = [(root, 0)]
        while pending:
            folder, depth = pending.pop(0)
            try:
                names = host.list_dir(folder)
            except HostError:
                continue
            if len(names) > budget:
                scan.truncated.append(folder)
                names = names[:budget]
            budget -= len(names)
            for name in names:
                path = join(folder, name)
                if any(is_within(path, e) for e in skip):
                    continue
                reason = credstores.credential_store_reason(path)
                if reason:
                    scan.stores[path] = reason
                    continue
                if fnmatch_any(name, EXCLUDED_NAMES):
                    continue
                try:
                    entry = host.lstat(path)
                except HostError:
                    continue
                if entry is None or entry.kind == "link":
                    continue
                if entry.kind == "dir" and depth + 1 < MAX_SCAN_DEPTH:
                    pending.append((path, depth + 1))
                elif entry.kind == "dir" and path not in scan.truncated:
                    scan.truncated.append(path)
                elif entry.kind == "file":
                    _classify(scan, path, entry.size)
            if budget <= 0:
                scan.truncated += [f for f, _ in pending] + roots[index + 1:]
                return scan
    return scan


def _classify(scan: FolderScan, path: str, size: int) -> None:
    from a2c.analyzers.common import configsecrets

    name = posixpath.basename(path)
    if credstores.is_key_material(path):
        scan.keys_kept.append(path)
    elif fnmatch_any(name, CONFIG_NAMES) or configsecrets.kind_of(path):  # what the scanner reads, and more
        full = len(scan.config) >= MAX_CONFIG_FILES or scan.config_bytes + size > MAX_CONFIG_BYTES
        if size > MAX_CONFIG_SIZE or full:
            scan.truncated.append(path)
            return
        scan.config.append(path)
        scan.config_bytes += size


# A conservative look at a file whose format the secret scanner cannot template.
_KEY_VALUE = re.compile(r"""^\s*(?:export\s+)?["']?([A-Za-z_][\w.\-]*)["']?\s*[:=]\s*(.*?)\s*,?\s*$""")
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:[^@\s/]+@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_QUOTED_PAIR = re.compile(r"""["']([A-Za-z_][\w.\-]*)["']\s*:\s*["']([^"']*)["']""")
_NOT_VALUES = {"", "null", "none", "true", "false", "{", "[", "{}", "[]", '""', "''"}


def _holds_secret(key: str, value: str) -> bool:
    value = value.strip().strip("\"'")
    return is_secret_name(key) and value.lower() not in _NOT_VALUES and not re.fullmatch(r"\$\{[^}]*\}", value)


def secret_lines(text: str) -> list[int]:
    """Line numbers that look like they hold a secret: a secret-named key with a value, a URL with
    a password, a private key block. Errs on the side of finding one."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _KEY_VALUE.match(line)
        if (match and _holds_secret(match.group(1), match.group(2))) \
                or any(_holds_secret(k, v) for k, v in _QUOTED_PAIR.findall(line)) \
                or _URL_USERINFO.search(line) or _PRIVATE_KEY.search(line):
            found.append(number)
    return found


def unscannable_secrets(host: Host, paths: Iterable[str]) -> dict[str, list[int]]:
    """{path: secret-looking lines} for the configuration files the secret scanner cannot template:
    binary ones (any text file it line-scans, whatever its name: app.env.prod is templated)."""
    from a2c.analyzers.common import configsecrets

    found: dict[str, list[int]] = {}
    for path in paths:
        if configsecrets.kind_of(path):
            continue
        try:
            data = host.read_bytes(path, limit=MAX_CONFIG_SIZE)
        except HostError:
            continue
        if not configsecrets.is_binary(data):
            continue
        lines = secret_lines(decode_text(data))
        if lines:
            found[path] = lines
    return found


def _listed(paths: Iterable[str]) -> str:
    paths = list(paths)
    more = f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else ""
    return ", ".join(paths[:MAX_LISTED]) + more


def scan_findings(scan: FolderScan, unscannable: dict[str, list[int]]) -> list[Finding]:
    findings = []
    if scan.stores:
        reasons = sorted(set(scan.stores.values()))
        findings.append(Finding(
            "PROC-W011", "warning",
            f"credential stores inside the copied folders are left out of the image: {_listed(scan.stores)} "
            f"({'; '.join(reasons[:MAX_LISTED])}); supply any the application needs at run time"))
    for path in scan.keys_kept:
        findings.append(Finding(
            "PROC-W013", "warning",
            f"{path} looks like private key material deployed with the application; it is copied (the application "
            f"may need it to start), so anyone who can pull the image can read it: add it to appExcludedFiles and "
            f"mount it at run time to keep it out", path))
    for path, lines in unscannable.items():
        findings.append(Finding(
            "PROC-W012", "warning",
            f"{path} holds what looks like a secret (line {', '.join(map(str, lines[:MAX_LISTED]))}) in a format a2c "
            f"cannot template, so it is left out of the image; supply it at run time, or remove it from "
            f"analysisInfo.processMode.excludes to copy it as it is", path))
    if scan.truncated:
        findings.append(Finding(
            "PROC-W014", "warning",
            f"stopped looking inside {_listed(scan.truncated)} at the scan bounds ({MAX_SCAN_ENTRIES} entries, depth "
            f"{MAX_SCAN_DEPTH}, {MAX_CONFIG_FILES} configuration files): credential stores there are still refused "
            f"when the image is built, but configuration files there were not scanned for secrets; list them in "
            f"appExcludedFiles or check them"))
    return findings


def _data_last(host: Host, proc: ProcessInfo, command: JavaCommand, roots: list[str],
               app_env: dict[str, str] | None) -> list[str]:
    """The copied roots with the data folders the command line names (``-Dderby.system.home=``)
    last: all are scanned, but a big database must not use up the scan's bounds before the
    configuration folders are looked at."""
    named = [c.path for c in statedirs.find(host, cwd=proc.cwd or "/", system_properties=command.system_properties,
                                            args=command.args, environment=app_env)]
    return sorted(roots, key=lambda root: any(is_within(root, n) for n in named))


def process_mode_info(proc: ProcessInfo, host: Host, command: JavaCommand, java_home: str,
                      base_image: str, app_env: dict[str, str] | None = None) -> tuple[dict[str, Any], list[Finding]]:
    """analysisInfo.processMode: what is copied, what is left out and why, and ``configFiles`` (the
    configuration files inside the copied paths, for the analyzer's secret scan)."""
    files = collect(proc, host, command, java_home, app_env)
    # What the process uses: the files it holds open and what it names (a -jar link's target too).
    excludes = package_owned_excludes(host, files.paths, tuple(proc.open_files) + tuple(files.sources))
    transient = [join(root, name) for root in files.paths for name in TRANSIENT_DIRS if host.is_dir(join(root, name))]
    scan = scan_folders(host, _data_last(host, proc, command, files.paths, app_env), excludes + transient)
    scan.keys_kept = list(dict.fromkeys(files.keys + scan.keys_kept))
    unscannable = unscannable_secrets(host, scan.config)
    stores = [s for root in files.paths for s in credstores.system_stores_within(root)] + list(scan.stores)
    runtime_needed = bool(java_home) and not base_provides_java(base_image)
    info = {
        "paths": files.paths,
        "sources": files.sources,
        "excludes": list(dict.fromkeys(excludes + transient + stores + list(unscannable))),
        "excludeNames": list(EXCLUDED_NAMES),
        "writableDirs": transient,
        "skipped": files.skipped,
        "credentialStores": {**files.refused, **scan.stores},
        "configFiles": [p for p in scan.config if p not in unscannable],
        "javaHome": java_home,
        "copyJavaRuntime": runtime_needed,
    }
    return info, files.findings + scan_findings(scan, unscannable)


# -- persistent storage: the folders the process writes while it runs --------------------------

# The operating system's own files: never an application's state (/usr/local is the admin's).
# How collect() names the application's code in ``sources``; and code among the open files.
CODE_SOURCES = ("-jar", "class path", "Class-Path of ")
NAMED_SOURCES = ("-D", "argument", "environment ")
CODE_NAMES = ("*.jar", "*.war", "*.ear", "*.so", "*.class")
# What the JVM itself writes (flight recordings, heap dumps): no sign of the application's state.
JVM_OUTPUT_NAMES = ("*.jfr", "*.hprof")


def persistent_storage(proc: ProcessInfo, host: Host, command: JavaCommand, mode: dict[str, Any],
                       app_env: dict[str, str] | None = None,
                       log_locations: Iterable[str] = ()) -> tuple[list[dict[str, Any]], list[Finding]]:
    """analysisInfo.persistentStorage: the folders the process writes while it runs (the rule is
    ``statedirs``'), for the image to create empty and writable and a deployment to mount.

    ``mode`` (analysisInfo.processMode) is made to match: the copied paths and configuration files
    inside those folders go, as their contents are the host's data. A candidate that is the
    system's, the runtime's, a log or a temporary folder is skipped; one that also holds the
    application's code or the configuration that named it cannot be a volume, so it is copied as
    it is and made writable (STATE-W001)."""
    candidates = statedirs.find(
        host, cwd=proc.cwd or "/", system_properties=command.system_properties, args=command.args,
        environment=app_env, config_files=mode.get("configFiles", ()), written_files=proc.written_files,
        skip_names=EXCLUDED_NAMES + JVM_OUTPUT_NAMES)
    judge = _StateJudge(host, mode, _held_paths(host, mode.get("sources", {}), proc), list(log_locations),
                        _temporary_dirs(command))
    accepted: list[statedirs.Candidate] = []
    findings: list[Finding] = []
    # Named folders first: a folder open for writing inside one is part of it, whatever it holds.
    for candidate in sorted(candidates, key=lambda c: not c.named):
        if not candidate.named and any(is_within(candidate.path, a.path) for a in accepted):
            accepted.append(candidate)
            continue
        verdict = judge.verdict(candidate)
        if isinstance(verdict, Finding):
            mode["writableDirs"] = list(dict.fromkeys(list(mode.get("writableDirs", [])) + [candidate.path]))
            findings.append(verdict)
        elif verdict:
            mode.setdefault("skipped", []).append(f"{candidate.path} ({candidate.evidence[0]}): {verdict}; "
                                                  f"not persistent storage")
        else:
            accepted.append(candidate)
    storage = statedirs.merge_nested(accepted)
    _leave_out(mode, [c.path for c in storage])
    entries = [{"path": c.path, "evidence": c.evidence, "bakeContents": False} for c in storage]
    return entries, ([_storage_finding(entries)] if entries else []) + findings


@dataclass
class _StateJudge:
    """Decides each candidate: "" (persistent storage), why it is none, or a STATE-W001 finding
    when it holds what the image needs (then it is copied and made writable)."""

    host: Host
    mode: dict[str, Any]
    held: list[str]
    logs: list[str]
    temporary: list[str]

    def verdict(self, candidate: statedirs.Candidate) -> str | Finding:
        reason = _not_state_reason(self.host, candidate.path, self.mode.get("javaHome", ""), self.logs)
        if not reason and not candidate.named and any(is_within(candidate.path, t) for t in self.temporary):
            reason = "a temporary folder"  # written there, but named by no key: scratch files
        if reason:
            return reason
        # A named folder's own configuration files are its data (Derby's service.properties); a
        # folder only written to that holds configuration the application reads is no volume.
        guarded = self.held + candidate.sources + ([] if candidate.named else list(self.mode.get("configFiles", ())))
        holding = [h for h in guarded if _within(self.host, h, candidate.path)]
        return _holds_code_finding(candidate, holding) if holding else ""


def _temporary_dirs(command: JavaCommand) -> list[str]:
    """Where the process keeps scratch files: /tmp, and its java.io.tmpdir."""
    tmpdir = command.system_properties.get("java.io.tmpdir", "")
    return ["/tmp"] + ([posixpath.normpath(tmpdir)] if tmpdir.startswith("/") else [])


def _held_paths(host: Host, sources: dict[str, str], proc: ProcessInfo) -> list[str]:
    """What a state folder must not swallow: the application's code (the -jar target, the class
    path, jars it has open) and the files named to it on its command line or in its environment
    (a configuration file, not one it writes or a log)."""
    written = set(proc.written_files)
    held = [p for p, why in sources.items() if why.startswith(CODE_SOURCES)]
    held += [p for p, why in sources.items()
             if why.startswith(NAMED_SOURCES) and p not in written and not logfiles.is_log_name(posixpath.basename(p))
             and host.is_file(p)]
    held += [p for p in proc.open_files if p not in written and fnmatch_any(posixpath.basename(p), CODE_NAMES)]
    return list(dict.fromkeys(held))


def _within(host: Host, path: str, folder: str) -> bool:
    """``path`` is inside ``folder``, as named or where the folder's links lead."""
    if is_within(path, folder):
        return True
    try:
        return is_within(path, host.realpath(folder))
    except HostError:
        return False


def _not_state_reason(host: Host, path: str, java_home: str, log_locations: list[str]) -> str:
    """Why a candidate folder is no application's state ("" when it may be one)."""
    try:
        real = host.realpath(path)
    except HostError:
        real = path
    for named in dict.fromkeys((path, real)):
        if named in SYSTEM_DIRS:
            return "a system folder"
        if named.startswith(NEVER) or any(is_within(named, n) for n in NEVER):
            return "a system location"
        if java_home and is_within(named, java_home):
            return "the Java runtime"
        if any(is_within(named, d) for d in OS_DIRS) and not is_within(named, "/usr/local"):
            return "the operating system's files"
        if _is_home(named):
            return "a home folder"
        if credstores.credential_store_reason(named):
            return "a credential store"
    if any(is_within(path, log) for log in log_locations) or _only_logs(host, path):
        return "a log folder (logLocations)"
    return ""


def _only_logs(host: Host, folder: str) -> bool:
    """A folder with log files and nothing else (an empty one is not: a new data folder is empty)."""
    try:
        names = host.list_dir(folder)
    except HostError:
        return False
    return any(logfiles.is_log_name(n) for n in names) and logfiles.holds_only_logs(host, folder)


def _leave_out(mode: dict[str, Any], folders: list[str]) -> None:
    """Drop the copied paths and configuration files inside the persistent-storage folders: the
    plan creates those folders empty (bakeContents puts their contents back)."""
    def inside(path: str) -> bool:
        return any(is_within(path, f) for f in folders)

    for path in [p for p in mode.get("paths", []) if inside(p)]:
        why = mode.get("sources", {}).pop(path, "")
        mode.setdefault("skipped", []).append(f"{path} ({why}): inside persistent storage; created empty instead")
    mode["paths"] = [p for p in mode.get("paths", []) if not inside(p)]
    mode["configFiles"] = [p for p in mode.get("configFiles", []) if not inside(p)]


def _storage_finding(entries: list[dict[str, Any]]) -> Finding:
    listed = _listed(f"{e['path']} ({e['evidence'][0]})" for e in entries)
    return Finding(
        "STATE-I001", "info",
        f"folders the application writes while it runs are created empty and writable in the image, without "
        f"their contents on this host: {listed}; analysisInfo.persistentStorage lists them for the deployment to "
        f"mount from a volume (EFS). To copy a folder's current contents into the image instead, set its "
        f"bakeContents to true in analysis.json and containerize again", entries[0]["path"])


def _holds_code_finding(candidate: statedirs.Candidate, holding: list[str]) -> Finding:
    return Finding(
        "STATE-W001", "warning",
        f"{candidate.path} looks like a folder the application writes while it runs ({candidate.evidence[0]}), but "
        f"it also holds {_listed(holding)}, which the application needs from the image: it is copied as it is and "
        f"made writable, not listed in analysisInfo.persistentStorage (a volume mounted there would hide them); "
        f"to mount its data from a volume, move the data to a folder of its own", candidate.path)
