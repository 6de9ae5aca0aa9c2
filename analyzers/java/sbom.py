"""The application's Java dependencies as a CycloneDX 1.5 SBOM, read from jar central directories.

``scan_jars`` walks library folders through the Host (never unpacking anything) and names
each jar by the best evidence it carries: ``META-INF/maven/<g>/<a>/pom.properties``, then the
manifest (``Implementation-*``, ``Bundle-*``), then the file name. WARs, EARs and Spring Boot
fat jars given as roots (or met in a ``deployments/`` folder) are opened too, and the jars in
their ``WEB-INF/lib``/``BOOT-INF/lib`` read in place: a STORED nested jar is a byte range of the
outer file, so it is read as a zip of its own through a window on the outer stream; a
DEFLATED one must be inflated, into memory, within a per-jar and a per-scan budget.

Customer archives are untrusted: a zip bomb, a truncated or encrypted jar, an entry named
``../x.jar`` or a link loop becomes a finding (``SBOM-W…``) with its path, never a crash or a
hang. ``render_cyclonedx`` is pure: the same components give the same document, byte for byte.

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
import json
import posixpath
import re
import struct
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from typing import IO, Any, BinaryIO, Iterator, Sequence
from urllib.parse import quote

from a2c import __version__
from a2c.analyzers.common.archives import ZIP_ERRORS, BadArchive, check_central_directory, unsafe_member_names
from a2c.analyzers.common.properties import parse_manifest, parse_properties
from a2c.errors import A2CError, HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import Finding
from a2c.model.sbom import (EVIDENCE_BUNDLE, EVIDENCE_FILE_NAME, EVIDENCE_IMPLEMENTATION,  # noqa: F401
                            EVIDENCE_POM, Component, ComponentScan, SbomScan, build_purl)

# Folders inside an application archive that hold its libraries.
NESTED_LIB_DIRS = ("WEB-INF/lib/", "BOOT-INF/lib/")
EAR_LIB_DIR = "lib/"
_APP_ARCHIVES = (".war", ".ear")
_ARCHIVES = (".jar",) + _APP_ARCHIVES

_POM_PREFIX = "META-INF/maven/"
_MANIFEST = "META-INF/MANIFEST.MF"
_SIG_LOCAL = b"PK\x03\x04"
_ZIP_ERRORS = ZIP_ERRORS  # every way zipfile fails on a corrupt archive (see archives.ZIP_ERRORS)


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


def _open_archive(stream: IO[bytes] | io.RawIOBase, label: str) -> zipfile.ZipFile:
    """The archive, after the central directory limits are checked from its end records."""
    try:
        check_central_directory(stream, label)
        return zipfile.ZipFile(stream)
    except BadArchive as exc:
        raise _Problem("SBOM-W001", exc.message) from exc
    except _ZIP_ERRORS as exc:
        raise _Problem("SBOM-W001", f"{label}: not a readable jar/zip archive ({exc})") from exc


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limit: int, *, head: bool = False) -> bytes:
    """A member's bytes; past ``limit`` it is refused, or with ``head`` cut (only its start is wanted)."""
    if info.flag_bits & 0x1:
        raise _Problem("SBOM-W002", f"{label}!/{info.filename}: encrypted; not read")
    if info.file_size > limit and not head:
        raise _Problem("SBOM-W002", f"{label}!/{info.filename}: {info.file_size} bytes, over the {limit} limit")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except _ZIP_ERRORS as exc:
        raise _Problem("SBOM-W002", f"{label}!/{info.filename}: cannot be read ({exc})") from exc
    if len(data) > limit:
        if head:
            return data[:limit]
        raise _Problem("SBOM-W002", f"{label}!/{info.filename}: inflates past the {limit} limit (zip bomb?)")
    return data


def _pom_coordinates(archive: zipfile.ZipFile, label: str, limits: SbomLimits,
                     findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    """(group, artifact, version, member) of each ``META-INF/maven/<g>/<a>/pom.properties``."""
    found: list[tuple[str, str, str, str]] = []
    for info in archive.filelist:
        name = info.filename
        if not (name.startswith(_POM_PREFIX) and name.endswith("/pom.properties")):
            continue
        parts = name.split("/")
        if len(parts) != 5:
            continue
        try:
            props = parse_properties(decode_text(_read_member(archive, info, label, limits.pom_bytes)))
        except _Problem as problem:
            findings.append(Finding(problem.code, "warning", problem.message, label))
            continue
        group = props.get("groupId", "").strip() or parts[2]
        artifact = props.get("artifactId", "").strip() or parts[3]
        version = props.get("version", "").strip()
        if artifact and (group, artifact, version) not in {f[:3] for f in found}:
            found.append((group, artifact, version, name))
    return found


def _manifest_coordinates(archive: zipfile.ZipFile, label: str, limits: SbomLimits,
                          findings: list[Finding]) -> tuple[str, str, str] | None:
    """(name, version, evidence) from the manifest's main section, or None."""
    try:
        info = archive.getinfo(_MANIFEST)
    except KeyError:
        return None
    try:
        manifest = parse_manifest(decode_text(_read_member(archive, info, label, limits.manifest_head_bytes, head=True)))
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


def identify_jar(archive: zipfile.ZipFile, path: str, limits: SbomLimits | None = None,
                 findings: list[Finding] | None = None) -> list[Component]:
    """The component(s) one open jar stands for; problems reading members go to ``findings``."""
    limits = limits or SbomLimits()
    findings = findings if findings is not None else []
    file_name = posixpath.basename(path)
    _note_unsafe_names(archive, path, findings)
    poms = _pom_coordinates(archive, path, limits, findings)
    if len(poms) == 1:
        group, artifact, version, member = poms[0]
        return [Component(artifact, version, group, path, EVIDENCE_POM, member)]
    if poms:
        own = _own_pom(poms, file_name)
        return [
            Component(artifact, version, group, path, EVIDENCE_POM, member, shaded=pom is not own)
            for pom in sorted(poms, key=lambda p: (p is not own, p[3]))
            for group, artifact, version, member in (pom,)
        ]
    from_manifest = _manifest_coordinates(archive, path, limits, findings)
    if from_manifest is not None:
        name, version, evidence = from_manifest
        return [Component(name, version, "", path, evidence, _MANIFEST)]
    return [_component_from_file_name(path)]


def _note_unsafe_names(archive: zipfile.ZipFile, path: str, findings: list[Finding]) -> None:
    names = "\n".join(archive.namelist())  # one cheap test first: most jars have no such name
    if ".." in names or "/" in names[:1] or "\n/" in names or "\\" in names or ":" in names:
        unsafe = unsafe_member_names(archive)
        if unsafe:
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
class _Window(io.RawIOBase):
    """A read-only, seekable view of ``length`` bytes of ``stream`` from ``start`` (a STORED member)."""

    def __init__(self, stream: IO[bytes], start: int, length: int) -> None:
        super().__init__()
        self._stream, self._start, self._length, self._pos = stream, start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._length - self._pos)
        size = remaining if size is None or size < 0 else min(size, remaining)
        if size == 0:
            return b""
        self._stream.seek(self._start + self._pos)  # the outer zip shares the stream: always seek first
        data = self._stream.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _stored_window(stream: IO[bytes], info: zipfile.ZipInfo, outer_size: int, label: str) -> _Window:
    """The bytes of a STORED member, located through its local header."""
    stream.seek(info.header_offset)
    header = stream.read(30)
    if len(header) != 30 or header[:4] != _SIG_LOCAL:
        raise _Problem("SBOM-W001", f"{label}: bad local file header in the outer archive")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.compress_size > outer_size:
        raise _Problem("SBOM-W001", f"{label}: runs past the end of the outer archive (truncated?)")
    return _Window(stream, start, info.compress_size)


@dataclass
class _Budget:
    inflated: int = 0


def _nested_lib_dirs(archive: zipfile.ZipFile, path: str) -> tuple[str, ...]:
    dirs = NESTED_LIB_DIRS + ((EAR_LIB_DIR,) if path.lower().endswith(".ear") else ())
    return tuple(d for d in dirs if any(name.startswith(d) for name in archive.namelist()))


def _scan_nested(archive: zipfile.ZipFile, stream: IO[bytes], outer_size: int, outer: str, lib_dirs: Sequence[str],
                 limits: SbomLimits, budget: _Budget, hashes: bool, scan: SbomScan) -> None:
    _note_unsafe_names(archive, outer, scan.findings)
    for info in archive.filelist:
        name = info.filename
        prefix = next((d for d in lib_dirs if name.startswith(d)), None)
        if prefix is None or not name.lower().endswith(".jar"):
            continue
        label = f"{outer}!/{name}"
        rest = name[len(prefix):]
        if "/" in rest or "\\" in rest or len(rest) <= len(".jar"):
            continue  # not directly in the folder, or a ../ name (reported with the outer archive)
        try:
            components = _read_nested(archive, info, stream, outer_size, label, limits, budget, hashes, scan.findings)
        except _Problem as problem:
            scan.findings.append(Finding(problem.code, "warning", f"{problem.message}; named from its file name", label))
            components = [_component_from_file_name(label)]
        scan.components.extend(components)


def _read_nested(archive: zipfile.ZipFile, info: zipfile.ZipInfo, stream: IO[bytes], outer_size: int, label: str,
                 limits: SbomLimits, budget: _Budget, hashes: bool, findings: list[Finding]) -> list[Component]:
    if info.flag_bits & 0x1:
        raise _Problem("SBOM-W002", f"{label}: encrypted in the outer archive")
    if info.compress_type == zipfile.ZIP_STORED:
        window = _stored_window(stream, info, outer_size, label)
        digest = _sha256(window) if hashes else ""
        with _open_archive(window, label) as inner:
            components = identify_jar(inner, label, limits, findings)
    else:
        allowed = min(limits.nested_jar_bytes, limits.total_inflated_bytes - budget.inflated)
        if info.file_size > allowed:
            raise _Problem("SBOM-W004", f"{label}: {info.file_size} bytes to inflate, over the remaining budget of "
                                        f"{max(allowed, 0)} bytes")
        try:
            with archive.open(info) as member:
                data = member.read(allowed + 1)
        except _ZIP_ERRORS as exc:
            raise _Problem("SBOM-W002", f"{label}: cannot be inflated ({exc})") from exc
        budget.inflated += len(data)
        if len(data) > allowed:
            raise _Problem("SBOM-W002", f"{label}: inflates past {allowed} bytes although it claims "
                                        f"{info.file_size} (zip bomb?)")
        digest = hashlib.sha256(data).hexdigest() if hashes else ""
        with _open_archive(io.BytesIO(data), label) as inner:
            components = identify_jar(inner, label, limits, findings)
    if digest:
        components = [c if c.shaded else _with_hash(c, digest) for c in components]
    return components


def _with_hash(component: Component, digest: str) -> Component:
    return replace(component, sha256=digest)


def _sha256(stream: IO[bytes] | io.RawIOBase) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
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
              limits: SbomLimits | None = None) -> SbomScan:
    """The libraries under ``roots``: folders of jars (walked), or application archives (opened).

    A folder is walked ``max_depth`` levels deep; a linked folder is followed only while it
    stays inside the root, a linked jar is read wherever it points. A ``.war``/``.ear`` (or a
    jar with ``BOOT-INF/lib``) given as a root, or a ``.war``/``.ear`` met in a folder, lists the
    jars inside it when ``nested``. ``hashes`` adds each jar's SHA-256 (a full read of each).
    """
    limits = limits or SbomLimits()
    scan = SbomScan()
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
               budget: _Budget, scan: SbomScan) -> None:
    is_app_archive = path.lower().endswith(_APP_ARCHIVES)
    try:
        stream: BinaryIO = host.open(real)
    except HostError as exc:
        scan.findings.append(Finding("SBOM-W005", "warning", exc.message, path))
        return
    try:
        with stream, _open_archive(stream, path) as archive:
            lib_dirs = _nested_lib_dirs(archive, path) if is_root or is_app_archive else ()
            if lib_dirs or is_app_archive:
                if nested:
                    size = stream.seek(0, io.SEEK_END)
                    _scan_nested(archive, stream, size, path, lib_dirs, limits, budget, hashes, scan)
                return
            components = identify_jar(archive, path, limits, scan.findings)
            if hashes:
                digest = _sha256(stream)
                components = [c if c.shaded else _with_hash(c, digest) for c in components]
            scan.components.extend(components)
    except _Problem as problem:
        scan.findings.append(Finding(problem.code, "warning", problem.message, path))
        if not is_app_archive:
            scan.components.append(_component_from_file_name(path))
    except (A2CError, *_ZIP_ERRORS) as exc:
        scan.findings.append(Finding("SBOM-W001", "warning", f"{path}: cannot be read ({exc})", path))


# -- CycloneDX ----------------------------------------------------------------------------------
_TECHNIQUES = {
    EVIDENCE_POM: ("manifest-analysis", 1.0),
    EVIDENCE_IMPLEMENTATION: ("manifest-analysis", 0.7),
    EVIDENCE_BUNDLE: ("manifest-analysis", 0.7),
    EVIDENCE_FILE_NAME: ("filename", 0.4),
    "deps.json": ("manifest-analysis", 1.0),  # .NET: the SDK's own dependency manifest
}


def render_cyclonedx(app_id: str, app_version: str, components: Sequence[Component], *,
                     tool_version: str = __version__) -> dict[str, Any]:
    """A CycloneDX 1.5 JSON document (as a dict); deterministic, so it can be a golden file."""
    ordered = sorted(components, key=lambda c: (c.purl, c.path, c.shaded))
    purl_count: dict[str, int] = {}
    for component in ordered:
        purl_count[component.purl] = purl_count.get(component.purl, 0) + 1
    refs: list[str] = []
    taken: set[str] = {app_id}
    for component in ordered:
        ref = component.purl if purl_count[component.purl] == 1 else f"{component.purl}#{component.path}"
        candidate, suffix = ref, 2
        while candidate in taken:
            candidate, suffix = f"{ref}#{suffix}", suffix + 1
        taken.add(candidate)
        refs.append(candidate)
    rendered = [_render_component(c, ref) for c, ref in zip(ordered, refs)]
    application: dict[str, Any] = {"type": "application", "bom-ref": app_id, "name": app_id}
    if app_version:
        application["version"] = app_version
    identity = json.dumps([app_id, app_version, rendered], sort_keys=True, separators=(",", ":"))
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'a2c-sbom:' + identity)}",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "a2c", "version": tool_version}]},
            "component": application,
        },
        "components": rendered,
        "dependencies": [{"ref": app_id, "dependsOn": refs}],
    }


def _render_component(component: Component, ref: str) -> dict[str, Any]:
    technique, confidence = _TECHNIQUES.get(component.evidence, ("other", 0.5))
    method: dict[str, Any] = {"technique": technique, "confidence": confidence,
                              "value": component.evidence_detail or component.evidence}
    data: dict[str, Any] = {"type": "library", "bom-ref": ref}
    if component.group:
        data["group"] = component.group
    data["name"] = component.name
    if component.version:
        data["version"] = component.version
    data["purl"] = component.purl
    if component.sha256:
        data["hashes"] = [{"alg": "SHA-256", "content": component.sha256}]
    data["evidence"] = {"identity": {"field": "purl", "confidence": confidence, "methods": [method]}}
    if component.path:
        data["evidence"]["occurrences"] = [{"location": component.path}]
    properties = [{"name": "a2c:evidence", "value": component.evidence}]
    if component.shaded:
        properties.append({"name": "a2c:shaded", "value": "true"})
    data["properties"] = properties
    return data


def render_cyclonedx_json(app_id: str, app_version: str, components: Sequence[Component], **options: Any) -> str:
    """The document as text: two-space indent, a final newline (what goes to Artifacts/sbom.cdx.json)."""
    return json.dumps(render_cyclonedx(app_id, app_version, components, **options), indent=2, ensure_ascii=False) + "\n"
