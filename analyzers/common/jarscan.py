"""The jars an image will hold, named from their central directories: facts for the SBOM.

``scan_jars`` walks library folders through the Host (never unpacking anything) and names
each jar by the best evidence it carries: ``META-INF/maven/<g>/<a>/pom.properties``, then the
manifest (``Implementation-*``, ``Bundle-*``), then the file name. WARs, EARs and Spring Boot
fat jars given as roots (or met in a ``deployments/`` folder) are opened too, and the jars in
their ``WEB-INF/lib``/``BOOT-INF/lib`` read in place: a STORED nested jar is a byte range of the
outer file, read as a zip of its own at that offset; a DEFLATED one must be inflated, into
memory, within a per-jar and a per-scan budget.

Each jar costs one open, one read of its tail (end records and, for most jars, the whole
central directory: ``archives.read_directory``), one pass over the directory's headers and one
read per member used (the pom.properties, or the manifest's head); nothing is decoded or
parsed for the other entries. The SBOM document itself is rendered elsewhere
(``a2c.generate.sbom``): this module returns ``Component`` facts only.

Customer archives are untrusted: a zip bomb, a truncated or encrypted jar, an entry named
``../x.jar`` or a link loop becomes a finding (``SBOM-W…``) with its path, never a crash or a
hang.

Findings (each with the jar's path; nested jars as ``outer.war!/WEB-INF/lib/x.jar``):
  SBOM-W001  not a readable zip (truncated, empty, not a zip, a nested jar past the outer's end)
  SBOM-W002  a member that cannot be read: encrypted, unknown method, bad CRC, past its size limit
  SBOM-W003  entry names that would escape if unpacked (``../``, absolute, ``C:``); never unpacked
  SBOM-W004  a DEFLATED nested jar over the per-jar or per-scan inflation budget; not inflated
  SBOM-W005  a path the host cannot read, or a jar link that is dangling or loops
  SBOM-I001  a linked folder that leads out of the root; not followed
  SBOM-I002  folders deeper than ``max_depth``; not read
  SBOM-I003  a root that does not exist
A jar that cannot be read is still listed, named from its file name (the application ships it).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, replace
from typing import IO, BinaryIO, Iterator, Sequence

from a2c.analyzers.common.archives import ZIP_ERRORS, BadArchive, ZipDirectory, ZipEntry, read_directory
from a2c.analyzers.common.properties import parse_manifest, parse_properties
from a2c.errors import A2CError, HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import Finding
from a2c.model.sbom import (EVIDENCE_BUNDLE, EVIDENCE_FILE_NAME, EVIDENCE_IMPLEMENTATION, EVIDENCE_POM, Component,
                            ComponentScan)

# Folders inside an application archive that hold its libraries.
NESTED_LIB_DIRS = ("WEB-INF/lib/", "BOOT-INF/lib/")
EAR_LIB_DIR = "lib/"
_APP_ARCHIVES = (".war", ".ear")
_ARCHIVES = (".jar",) + _APP_ARCHIVES

_POM_PREFIX = b"META-INF/maven/"
_POM_SUFFIX = b"/pom.properties"
_MANIFEST = "META-INF/MANIFEST.MF"
_MANIFEST_RAW = _MANIFEST.encode()


@dataclass(frozen=True)
class SbomLimits:
    """How much a scan may read. Members past a limit become findings, never partial reads."""

    pom_bytes: int = 64 * 1024  # a pom.properties is a few hundred bytes
    manifest_head_bytes: int = 64 * 1024  # only the main section is read; signed jars list every entry after it
    nested_jar_bytes: int = 64 * 1024 * 1024  # one DEFLATED nested jar, inflated in memory
    total_inflated_bytes: int = 1024 * 1024 * 1024  # all DEFLATED nested jars of one scan


# -- names --------------------------------------------------------------------------------------
_VERSION_TOKEN = re.compile(r"\d+(?:[._][0-9A-Za-z]+)*")
# Eclipse/OSGi bundles: a dotted symbolic name, "_", then major.minor.micro[.qualifier].
_OSGI_FILE_NAME = re.compile(r"(?P<name>[A-Za-z][\w.]*?)_(?P<version>\d+\.\d+\.\d+(?:[.\-_][\w.\-]*)?)")


def parse_jar_file_name(file_name: str) -> tuple[str, str]:
    """(name, version) from a jar's file name; the version keeps its qualifiers.

    ``commons-lang3-3.12.0.jar`` → (commons-lang3, 3.12.0); ``guava-31.1-jre.jar`` → (guava,
    31.1-jre); ``spring-core-5.3.20.RELEASE.jar``; ``app-1.0-SNAPSHOT.jar``; ``javax.inject-1.jar``;
    Eclipse's ``org.eclipse.osgi_3.17.0.v2021.jar``. No version found → (stem, "").
    """
    stem = posixpath.basename(file_name)
    if stem.lower().endswith(_ARCHIVES):
        stem = stem[:-4]
    match = _OSGI_FILE_NAME.fullmatch(stem)
    if match:
        return match.group("name"), match.group("version")
    parts = stem.split("-")
    for index in range(1, len(parts)):
        if parts[index - 1] and _VERSION_TOKEN.fullmatch(parts[index]):
            return "-".join(parts[:index]), "-".join(parts[index:])
    return stem, ""


def _stem(file_name: str) -> str:
    base = posixpath.basename(file_name)
    return base[:-4] if base.lower().endswith(_ARCHIVES) else base


# -- reading one jar ----------------------------------------------------------------------------
class _Problem(Exception):
    """A jar or member that cannot be read; becomes a finding."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _open_archive(stream: IO[bytes], label: str, *, base: int = 0, length: int | None = None) -> ZipDirectory:
    """The archive's central directory, within the limits (``archives.read_directory``)."""
    try:
        return read_directory(stream, label, base=base, length=length)
    except BadArchive as exc:
        raise _Problem("SBOM-W001", exc.message) from exc


def _read_member(archive: ZipDirectory, entry: ZipEntry, limit: int, *, head: bool = False) -> bytes:
    """A member's bytes; past ``limit`` it is refused, or with ``head`` cut (only its start is wanted)."""
    try:
        return archive.read(entry, limit, head=head)
    except BadArchive as exc:
        raise _Problem("SBOM-W002", exc.message) from exc


def _pom_coordinates(archive: ZipDirectory, limits: SbomLimits,
                     findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    """(group, artifact, version, member) of each ``META-INF/maven/<g>/<a>/pom.properties``."""
    found: list[tuple[str, str, str, str]] = []
    label = archive.label
    for index in archive.starting_with(_POM_PREFIX):
        if not archive.raw_names[index].endswith(_POM_SUFFIX):
            continue
        entry = archive.entry(index)
        name = entry.name
        parts = name.split("/")
        if len(parts) != 5:
            continue
        try:
            props = parse_properties(decode_text(_read_member(archive, entry, limits.pom_bytes)))
        except _Problem as problem:
            findings.append(Finding(problem.code, "warning", problem.message, label))
            continue
        group = props.get("groupId", "").strip() or parts[2]
        artifact = props.get("artifactId", "").strip() or parts[3]
        version = props.get("version", "").strip()
        if artifact and (group, artifact, version) not in {f[:3] for f in found}:
            found.append((group, artifact, version, name))
    return found


def _manifest_coordinates(archive: ZipDirectory, limits: SbomLimits,
                          findings: list[Finding]) -> tuple[str, str, str] | None:
    """(name, version, evidence) from the manifest's main section, or None."""
    label = archive.label
    entry = archive.find(_MANIFEST_RAW)
    if entry is None:
        return None
    try:
        manifest = parse_manifest(decode_text(_read_member(archive, entry, limits.manifest_head_bytes, head=True)))
    except _Problem as problem:
        findings.append(Finding(problem.code, "warning", problem.message, label))
        return None
    pairs = (
        (manifest.get("Implementation-Title", ""), manifest.get("Implementation-Version", ""), EVIDENCE_IMPLEMENTATION),
        (manifest.get("Bundle-SymbolicName", "").split(";")[0], manifest.get("Bundle-Version", ""), EVIDENCE_BUNDLE),
    )
    for name, version, evidence in pairs:
        if name.strip() and version.strip():
            if " " in name.strip():
                # A product title ("Apache Tomcat") names the product, not this jar: keep the jar's file name.
                name = parse_jar_file_name(posixpath.basename(label.rsplit("!/", 1)[-1]))[0] or name
            return name.strip(), version.strip(), evidence
    return None


def identify_jar(archive: ZipDirectory, limits: SbomLimits | None = None,
                 findings: list[Finding] | None = None) -> list[Component]:
    """The component(s) one open jar stands for (its path is ``archive.label``); problems
    reading members go to ``findings``."""
    limits = limits or SbomLimits()
    findings = findings if findings is not None else []
    path = archive.label
    _note_unsafe_names(archive, findings)
    poms = _pom_coordinates(archive, limits, findings)
    if len(poms) == 1:
        group, artifact, version, member = poms[0]
        return [Component(artifact, version, group, path, EVIDENCE_POM, member)]
    if poms:
        own = _own_pom(poms, posixpath.basename(path))
        return [
            Component(artifact, version, group, path, EVIDENCE_POM, member, shaded=pom is not own)
            for pom in sorted(poms, key=lambda p: (p is not own, p[3]))
            for group, artifact, version, member in (pom,)
        ]
    from_manifest = _manifest_coordinates(archive, limits, findings)
    if from_manifest is not None:
        name, version, evidence = from_manifest
        return [Component(name, version, "", path, evidence, _MANIFEST)]
    return [_component_from_file_name(path)]


def _note_unsafe_names(archive: ZipDirectory, findings: list[Finding]) -> None:
    unsafe = archive.unsafe_names()
    if unsafe:
        path = archive.label
        findings.append(Finding("SBOM-W003", "warning",
                                f"{path}: {len(unsafe)} entries would land outside the target if unpacked "
                                f"(e.g. {unsafe[0]!r}); listed, never unpacked", path))


def _own_pom(poms: list[tuple[str, str, str, str]], file_name: str) -> tuple[str, str, str, str] | None:
    """Of several pom.properties (a shaded jar), the one the file is named after."""
    stem = _stem(file_name)
    name, version = parse_jar_file_name(file_name)
    for test in (
        lambda p: p[1] == name and p[2] == version,
        lambda p: stem == f"{p[1]}-{p[2]}" or stem.startswith(f"{p[1]}-{p[2]}-"),
        lambda p: p[1] == name,
    ):
        matches = [p for p in poms if test(p)]
        if len(matches) == 1:
            return matches[0]
    return None


def _component_from_file_name(path: str) -> Component:
    name, version = parse_jar_file_name(path)
    return Component(name, version, "", path, EVIDENCE_FILE_NAME, posixpath.basename(path))


# -- nested jars --------------------------------------------------------------------------------
@dataclass
class _Budget:
    inflated: int = 0


def _nested_lib_dirs(archive: ZipDirectory, path: str) -> tuple[bytes, ...]:
    dirs = NESTED_LIB_DIRS + ((EAR_LIB_DIR,) if path.lower().endswith(".ear") else ())
    names = archive.raw_names
    return tuple(raw for raw in (d.encode() for d in dirs) if any(name.startswith(raw) for name in names))


def _scan_nested(archive: ZipDirectory, stream: IO[bytes], lib_dirs: Sequence[bytes], limits: SbomLimits,
                 budget: _Budget, hashes: bool, scan: ComponentScan) -> None:
    outer = archive.label
    _note_unsafe_names(archive, scan.findings)
    for index, raw in enumerate(archive.raw_names):
        prefix = next((d for d in lib_dirs if raw.startswith(d)), None)
        if prefix is None or raw[-4:].lower() != b".jar":
            continue
        rest = raw[len(prefix):]
        if b"/" in rest or b"\\" in rest or len(rest) <= len(".jar"):
            continue  # not directly in the folder, or a ../ name (reported with the outer archive)
        entry = archive.entry(index)
        label = f"{outer}!/{entry.name}"
        try:
            components = _read_nested(archive, entry, stream, label, limits, budget, hashes, scan.findings)
        except _Problem as problem:
            scan.findings.append(Finding(problem.code, "warning", f"{problem.message}; named from its file name", label))
            components = [_component_from_file_name(label)]
        scan.components.extend(components)


def _read_nested(archive: ZipDirectory, entry: ZipEntry, stream: IO[bytes], label: str, limits: SbomLimits,
                 budget: _Budget, hashes: bool, findings: list[Finding]) -> list[Component]:
    if entry.flags & 0x1:
        raise _Problem("SBOM-W002", f"{label}: encrypted in the outer archive")
    if entry.method == zipfile.ZIP_STORED:
        try:
            start, length = archive.data_span(entry)
        except BadArchive as exc:  # "<outer>!/<name>: runs past the end of the archive (truncated?)", …
            raise _Problem("SBOM-W001", exc.message) from exc
        digest = _sha256(stream, start, length) if hashes else ""
        inner = _open_archive(stream, label, base=start, length=length)
        components = identify_jar(inner, limits, findings)
    else:
        allowed = min(limits.nested_jar_bytes, limits.total_inflated_bytes - budget.inflated)
        if entry.file_size > allowed:
            raise _Problem("SBOM-W004", f"{label}: {entry.file_size} bytes to inflate, over the remaining budget of "
                                        f"{max(allowed, 0)} bytes")
        try:
            data = archive.read(entry, allowed)
        except BadArchive as exc:
            raise _Problem("SBOM-W002", f"{label}: cannot be inflated ({exc.message})") from exc
        budget.inflated += len(data)
        digest = hashlib.sha256(data).hexdigest() if hashes else ""
        components = identify_jar(_open_archive(io.BytesIO(data), label), limits, findings)
    if digest:
        components = [c if c.shaded else _with_hash(c, digest) for c in components]
    return components


def _with_hash(component: Component, digest: str) -> Component:
    return replace(component, sha256=digest)


def _sha256(stream: IO[bytes], start: int = 0, length: int | None = None) -> str:
    """The SHA-256 of ``length`` bytes of ``stream`` from ``start`` (to its end by default)."""
    stream.seek(start)
    digest = hashlib.sha256()
    left = length
    while left is None or left > 0:
        chunk = stream.read(1024 * 1024 if left is None else min(left, 1024 * 1024))
        if not chunk:
            break
        digest.update(chunk)
        if left is not None:
            left -= len(chunk)
    return digest.hexdigest()


# -- walking the host ---------------------------------------------------------------------------
def _walk(host: Host, root: str, max_depth: int, visited: set[str], findings: list[Finding]) -> Iterator[tuple[str, str, bool]]:
    """(path as seen under the root, real path, is the root itself) of each archive under ``root``."""
    try:
        real_root = host.realpath(root)
        st = host.lstat(real_root)
    except HostError as exc:
        findings.append(Finding("SBOM-W005", "warning", exc.message, root))
        return
    if st is None:
        findings.append(Finding("SBOM-I003", "info", f"{root}: not found; no libraries read there", root))
        return
    if st.kind == "file":
        yield root, real_root, True
        return
    if st.kind != "dir":
        return
    stack = [(root, real_root, 0)]
    deep_noted = False
    while stack:
        shown, real, depth = stack.pop()
        if real in visited:
            continue
        visited.add(real)
        try:
            names = host.list_dir(real)
        except HostError as exc:
            findings.append(Finding("SBOM-W005", "warning", exc.message, shown))
            continue
        subdirs = []
        for name in names:
            path, target = join(shown, name), join(real, name)
            try:
                entry = host.lstat(target)
            except HostError as exc:
                findings.append(Finding("SBOM-W005", "warning", exc.message, path))
                continue
            if entry is not None and entry.kind == "link":
                try:
                    target = host.realpath(target)
                    entry = host.lstat(target)
                except HostError:
                    entry = None  # a link loop: like a dangling link
                if entry is not None and entry.kind == "dir" and not is_within(target, real_root):
                    findings.append(Finding("SBOM-I001", "info",
                                            f"{path}: a link to {target}, outside {root}; not followed", path))
                    continue
            if entry is None or entry.kind == "link":  # dangling, or a loop that resolved to itself
                if name.lower().endswith(_ARCHIVES):
                    findings.append(Finding("SBOM-W005", "warning", f"{path}: a link that does not resolve to a file", path))
                continue
            if entry.kind == "dir":
                if depth < max_depth:
                    subdirs.append((path, target, depth + 1))
                elif not deep_noted:
                    deep_noted = True
                    findings.append(Finding("SBOM-I002", "info",
                                            f"{path}: deeper than {max_depth} folders below {root}; not read", path))
            elif entry.kind == "file" and name.lower().endswith(_ARCHIVES):
                stem, _, extension = name.rpartition(".")
                if extension.lower() in ("war", "ear") and stem in names and host.is_dir(join(real, stem)):
                    continue  # a deployed WAR next to its unpacked folder: the folder is what runs
                yield path, target, False
        stack.extend(reversed(subdirs))


def scan_jars(host: Host, roots: Sequence[str], *, max_depth: int = 6, nested: bool = True, hashes: bool = False,
              limits: SbomLimits | None = None) -> ComponentScan:
    """The libraries under ``roots``: folders of jars (walked), or application archives (opened).

    A folder is walked ``max_depth`` levels deep; a linked folder is followed only while it
    stays inside the root, a linked jar is read wherever it points. A ``.war``/``.ear`` (or a
    jar with ``BOOT-INF/lib``) given as a root, or a ``.war``/``.ear`` met in a folder, lists the
    jars inside it when ``nested``. ``hashes`` adds each jar's SHA-256 (a full read of each).
    """
    limits = limits or SbomLimits()
    scan = ComponentScan()
    visited: set[str] = set()
    seen_files: set[str] = set()
    budget = _Budget()
    for root in roots:
        for path, real, is_root in _walk(host, root, max_depth, visited, scan.findings):
            if real in seen_files:
                continue
            seen_files.add(real)
            _scan_file(host, path, real, is_root, nested, hashes, limits, budget, scan)
    return scan


def _scan_file(host: Host, path: str, real: str, is_root: bool, nested: bool, hashes: bool, limits: SbomLimits,
               budget: _Budget, scan: ComponentScan) -> None:
    is_app_archive = path.lower().endswith(_APP_ARCHIVES)
    try:
        stream: BinaryIO = host.open(real)
    except HostError as exc:
        scan.findings.append(Finding("SBOM-W005", "warning", exc.message, path))
        return
    try:
        with stream:
            archive = _open_archive(stream, path)
            lib_dirs = _nested_lib_dirs(archive, path) if is_root or is_app_archive else ()
            if lib_dirs or is_app_archive:
                if nested:
                    _scan_nested(archive, stream, lib_dirs, limits, budget, hashes, scan)
                return
            components = identify_jar(archive, limits, scan.findings)
            if hashes:
                digest = _sha256(stream)
                components = [c if c.shaded else _with_hash(c, digest) for c in components]
            scan.components.extend(components)
    except _Problem as problem:
        scan.findings.append(Finding(problem.code, "warning", problem.message, path))
        if not is_app_archive:
            scan.components.append(_component_from_file_name(path))
    except (A2CError, *ZIP_ERRORS) as exc:
        scan.findings.append(Finding("SBOM-W001", "warning", f"{path}: cannot be read ({exc})", path))


__all__ = ["EAR_LIB_DIR", "NESTED_LIB_DIRS", "SbomLimits", "identify_jar", "parse_jar_file_name", "scan_jars"]
