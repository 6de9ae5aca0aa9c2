"""How a .NET (Core) app was started, what it targets and which runtime it really loaded.

Four launch modes, told apart through the Host only:

- ``dotnet-host``: the muxer runs a dll: ``dotnet [exec] [host options] App.dll [args]``.
- ``apphost``: a framework-dependent executable ``App`` beside ``App.dll`` and
  ``App.runtimeconfig.json`` (the shared runtime comes from DOTNET_ROOT or /usr/share/dotnet).
- ``self-contained``: the same beside the runtime itself (``libcoreclr.so``, or a
  runtimeconfig.json with ``includedFrameworks`` instead of ``framework(s)``).
- ``single-file``: one executable with the app bundled inside. Every apphost carries a 40-byte
  marker (an int64 bundle-header offset, then a fixed 32-byte signature); the offset is
  non-zero only in a bundle. The marker lives in the host's initialised data, so for an ELF
  file only its writable PROGBITS sections (``.data``) are read, bounded in size; without a
  section table (or for another format) the first ``HEAD_SCAN_LIMIT`` bytes are scanned in
  chunks. The bundle manifest at that offset (versions 1, 2 and 6: .NET Core 3.x, .NET 5,
  .NET 6+) lists the embedded files, and runtimeconfig.json and deps.json are read from it.

``wants_process`` is the cheap pre-filter: the ``dotnet`` muxer, or an executable outside the
operating system's folders that is not a well-known interpreter or daemon.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Mapping, Sequence

from a2c.analyzers.dotnet.coreconfig import JsonConfigError, load_json
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, join
from a2c.model import Finding
from a2c.model.sbom import EVIDENCE_DEPS_JSON, PURL_NUGET, Component

MAX_JSON = 4 * 1024 * 1024
HEAD_SCAN_LIMIT = 32 * 1024 * 1024  # a .NET 6+ self-contained single-file host is 10-15 MB
SECTION_SCAN_LIMIT = 8 * 1024 * 1024
MANIFEST_LIMIT = 4 * 1024 * 1024
MAX_BUNDLE_FILES = 100_000
CHUNK = 1024 * 1024

# bundle_marker.cpp in dotnet/runtime: the placeholder's 32-byte signature.
BUNDLE_SIGNATURE = bytes((
    0x8B, 0x12, 0x02, 0xB9, 0x6A, 0x61, 0x20, 0x38, 0x72, 0x7B, 0x93, 0x02, 0x14, 0xD7, 0xA0, 0x32,
    0x13, 0xF5, 0xB9, 0xE6, 0xEF, 0xAE, 0x33, 0x18, 0xEE, 0x3B, 0x2D, 0xCE, 0x24, 0xB3, 0x6A, 0xAE,
))
BUNDLE_FILE_TYPES = {0: "unknown", 1: "assembly", 2: "native", 3: "deps.json", 4: "runtimeconfig.json", 5: "symbols"}

HOST_NAMES = {"dotnet", "dotnet.exe"}
# Host (muxer) options that take a value, before the app's dll.
HOST_OPTIONS = {"--additionalprobingpath", "--additional-deps", "--depsfile", "--runtimeconfig", "--fx-version",
                "--roll-forward", "--roll-forward-on-no-candidate-fx"}
SYSTEM_PREFIXES = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/lib/", "/usr/libexec/", "/lib/", "/lib64/",
                   "/usr/local/sbin/", "/snap/", "/proc/", "/usr/lib64/")
# Executables that are never a .NET app (interpreters, shells, daemons) or are .NET tools, not apps (pwsh).
NOT_APPS = re.compile(r"^(python[\d.]*m?|java|javaw|node|nodejs|ruby[\d.]*|perl[\d.]*|php[\d.\-a-z]*|bash|sh|dash|zsh|"
                      r"ksh|fish|pwsh|containerd.*|dockerd|docker-proxy|runc|sshd|systemd.*|tini|dumb-init|"
                      r"catatonit|sleep|tail|cat|busybox)$")
_SDK_DLL = re.compile(r"/sdk/\d+\.\d+\.\d+[^/]*/|/\.nuget/packages/|/\.dotnet/tools/")
_SHARED_FRAMEWORK = re.compile(r"^(?P<root>.*)/shared/(?P<name>Microsoft\.[A-Za-z.]+)/(?P<version>\d+\.\d+\.\d+[^/]*)/")
ASPNETCORE_FRAMEWORKS = {"Microsoft.AspNetCore.App", "Microsoft.AspNetCore.All"}
NETCORE_FRAMEWORK = "Microsoft.NETCore.App"
DESKTOP_FRAMEWORK = "Microsoft.WindowsDesktop.App"


def is_dotnet_host(name: str, exe: str, cmdline: Sequence[str]) -> bool:
    return (name in HOST_NAMES or posixpath.basename(exe) in HOST_NAMES
            or bool(cmdline) and posixpath.basename(cmdline[0]) in HOST_NAMES)


def is_sdk_dll(path: str) -> bool:
    """The SDK's own tools (MSBuild, the compiler server, dotnet-watch), NuGet-cache and global tools."""
    return bool(_SDK_DLL.search(path))


def wants_process(name: str, exe: str, cmdline: Sequence[str]) -> bool:
    """The muxer, or an executable that could be an apphost: outside the OS folders, not an interpreter."""
    if is_dotnet_host(name, exe, cmdline):
        return True
    if not exe or exe.endswith(" (deleted)") or exe.startswith(SYSTEM_PREFIXES) or not exe.startswith("/"):
        return False
    return not NOT_APPS.match(posixpath.basename(exe)) and not NOT_APPS.match(name)


# -- command lines ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class HostCommand:
    """``dotnet [exec] [host options] App.dll [args]``, split."""

    dll: str  # as written (may be relative to the cwd)
    host_options: tuple[str, ...] = ()  # "exec" included when it was there
    args: tuple[str, ...] = ()

    def option(self, name: str) -> str:
        options = list(self.host_options)
        for index, option in enumerate(options):
            if option == name and index + 1 < len(options):
                return options[index + 1]
        return ""


def parse_host_cmdline(cmdline: Sequence[str]) -> HostCommand | None:
    """The app a ``dotnet`` process runs; None for SDK commands (run, build, --info, …)."""
    if not cmdline or posixpath.basename(cmdline[0]) not in HOST_NAMES:
        return None
    index = 1
    options: list[str] = []
    if index < len(cmdline) and cmdline[index] == "exec":
        options.append("exec")
        index += 1
    while index < len(cmdline) and cmdline[index].startswith("--"):
        option = cmdline[index]
        if option not in HOST_OPTIONS or index + 1 >= len(cmdline):
            return None  # --info, --version, --list-runtimes: not an app
        options += [option, cmdline[index + 1]]
        index += 2
    if index >= len(cmdline) or not cmdline[index].lower().endswith((".dll", ".exe")):
        return None  # dotnet run / build / watch / test …: the SDK, not an app
    return HostCommand(cmdline[index], tuple(options), tuple(cmdline[index + 1:]))


# -- apphosts and single-file bundles -----------------------------------------------------------------

def _find_marker(data: bytes) -> int:
    """Offset of the signature in data whose 8 preceding bytes are in data too (-1: none)."""
    index = data.find(BUNDLE_SIGNATURE, 8)
    return index


def _elf_data_ranges(stream: IO[bytes], size: int) -> list[tuple[int, int]] | None:
    """(offset, size) of an ELF file's writable PROGBITS sections; None when not ELF or no section table."""
    stream.seek(0)
    ident = stream.read(64)
    is64 = ident[4:5] == b"\x02"
    if len(ident) < (64 if is64 else 52) or ident[:4] != b"\x7fELF":
        return None
    order = "<" if ident[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(order + "Q", ident, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", ident, 0x3A)
        entry = order + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(order + "I", ident, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", ident, 0x2E)
        entry = order + "IIIIIIIIII"
    if not shoff or not shnum or shnum > 4096 or shentsize < struct.calcsize(entry) or shoff + shnum * shentsize > size:
        return None
    stream.seek(shoff)
    table = stream.read(shnum * shentsize)
    if len(table) < shnum * shentsize:
        return None
    ranges = []
    for number in range(shnum):
        fields = struct.unpack_from(entry, table, number * shentsize)
        sh_type, sh_flags, sh_offset, sh_size = fields[1], fields[2], fields[4], fields[5]
        if sh_type == 1 and sh_flags & 0x1 and 0 < sh_size <= SECTION_SCAN_LIMIT and sh_offset + sh_size <= size:
            ranges.append((sh_offset, sh_size))
    return ranges


def read_bundle_marker(host: Host, path: str) -> tuple[int, int] | None:
    """(marker position, bundle header offset) of an apphost, or None when the file has no marker.

    A header offset of 0 is a plain apphost; anything else (within the file) a single-file bundle.
    """
    try:
        stream = host.open(path)
    except HostError:
        return None
    with stream:
        size = stream.seek(0, 2)
        stream.seek(0)
        magic = stream.read(4)
        if magic[:4] != b"\x7fELF" and magic[:2] != b"MZ" and magic[:4] not in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
            return None  # scripts and data files: not a native executable
        ranges = _elf_data_ranges(stream, size) if magic == b"\x7fELF" else None
        if ranges is None:
            limit = min(size, HEAD_SCAN_LIMIT)
            ranges = [(start, min(CHUNK + 40, limit - start)) for start in range(0, limit, CHUNK)]
        for start, length in ranges:
            stream.seek(start)
            data = stream.read(length)
            index = _find_marker(data)
            if index >= 8:
                offset, = struct.unpack_from("<q", data, index - 8)
                return start + index - 8, offset if 0 <= offset < size else 0
    return None


@dataclass(frozen=True)
class BundleFile:
    path: str
    type: str
    offset: int
    size: int
    compressed_size: int = 0


@dataclass(frozen=True)
class Bundle:
    header_offset: int
    major: int
    minor: int
    bundle_id: str
    files: tuple[BundleFile, ...]
    runtimeconfig: bytes | None = None
    deps: bytes | None = None

    @property
    def dotnet_version(self) -> str:
        return {1: ".NET Core 3.x", 2: ".NET 5"}.get(self.major, ".NET 6 or later")

    def has(self, name: str) -> bool:
        return any(posixpath.basename(f.path) == name for f in self.files)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        length, shift = 0, 0
        while True:  # .NET BinaryWriter: a 7-bit encoded length, then UTF-8
            byte = self.data[self.pos]
            self.pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift > 28:
                raise ValueError("bad string length")
        if length > 4096 or self.pos + length > len(self.data):
            raise ValueError("string past the manifest")
        text = self.data[self.pos:self.pos + length].decode("utf-8", "replace")
        self.pos += length
        return text


def read_bundle(host: Host, path: str, header_offset: int) -> Bundle:
    """The manifest of a single-file bundle, with its runtimeconfig.json and deps.json (ValueError
    or HostError when it cannot be read)."""
    with host.open(path) as stream:
        size = stream.seek(0, 2)
        if not 0 < header_offset < size:
            raise ValueError(f"bundle header offset {header_offset} is outside the file")
        stream.seek(header_offset)
        data = stream.read(min(MANIFEST_LIMIT, size - header_offset))
        reader = _Reader(data)
        try:
            major, minor, count = reader.take("IIi")
            if not 0 < major < 100 or not 0 <= count <= MAX_BUNDLE_FILES:
                raise ValueError(f"not a bundle manifest (version {major}, {count} files)")
            bundle_id = reader.string()
            if major >= 2:
                reader.take("qqqqQ")  # deps.json and runtimeconfig.json locations, flags: listed below too
            files = []
            for _ in range(count):
                offset, length = reader.take("qq")
                compressed = reader.take("q") if major >= 6 else 0
                kind = reader.take("B")
                files.append(BundleFile(reader.string(), BUNDLE_FILE_TYPES.get(kind, "unknown"), offset, length,
                                        compressed))
        except (struct.error, IndexError) as exc:
            raise ValueError(f"truncated bundle manifest ({exc})") from exc

        def member(kind: str) -> bytes | None:
            entry = next((f for f in files if f.type == kind), None)
            if entry is None or not 0 < entry.offset < size or entry.size > MAX_JSON:
                return None
            stream.seek(entry.offset)
            if entry.compressed_size:
                raw = stream.read(min(entry.compressed_size, MAX_JSON))
                inflater = zlib.decompressobj(-15)
                try:
                    return inflater.decompress(raw, MAX_JSON)
                except zlib.error:
                    return None
            return stream.read(entry.size)

        return Bundle(header_offset, major, minor, bundle_id, tuple(files), member("runtimeconfig.json"),
                      member("deps.json"))


# -- what an app targets --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuntimeConfig:
    tfm: str = ""
    frameworks: tuple[tuple[str, str], ...] = ()  # (name, version) the app needs from the machine
    included: tuple[tuple[str, str], ...] = ()  # self-contained: the frameworks it carries
    roll_forward: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)


def parse_runtimeconfig(text: str) -> RuntimeConfig:
    """A ``*.runtimeconfig.json`` (JsonConfigError when it is not JSON)."""
    document = load_json(text)
    options = document.get("runtimeOptions") if isinstance(document, dict) else None
    if not isinstance(options, dict):
        return RuntimeConfig()

    def pairs(value: Any) -> tuple[tuple[str, str], ...]:
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        return tuple((str(i.get("name", "")), str(i.get("version", ""))) for i in items if isinstance(i, dict))

    properties = options.get("configProperties")
    return RuntimeConfig(
        tfm=str(options.get("tfm", "")),
        frameworks=pairs(options.get("frameworks")) or pairs(options.get("framework")),
        included=pairs(options.get("includedFrameworks")),
        roll_forward=str(options.get("rollForward", "")),
        properties={str(k): str(v) for k, v in properties.items()} if isinstance(properties, dict) else {},
    )


@dataclass(frozen=True)
class NugetPackage:
    name: str
    version: str
    assets: tuple[str, ...] = ()  # runtime and native assets, as deps.json names them
    sha512: str = ""
    package_path: str = ""


@dataclass(frozen=True)
class DepsFile:
    runtime_target: str = ""  # ".NETCoreApp,Version=v3.1"
    rid: str = ""  # "linux-x64" for RID-specific (and self-contained) apps
    packages: tuple[NugetPackage, ...] = ()
    projects: tuple[tuple[str, str], ...] = ()
    runtime_packs: tuple[tuple[str, str], ...] = ()


def parse_deps(text: str) -> DepsFile:
    """A ``*.deps.json``: the target, and the NuGet packages with their assets."""
    document = load_json(text)
    if not isinstance(document, dict):
        return DepsFile()
    target_info = document.get("runtimeTarget")
    target_name = str(target_info.get("name", "")) if isinstance(target_info, dict) else ""
    framework, _, rid = target_name.partition("/")
    targets = document.get("targets") if isinstance(document.get("targets"), dict) else {}
    assert isinstance(targets, dict)
    target = targets.get(target_name) or targets.get(framework) or {}
    libraries = document.get("libraries") if isinstance(document.get("libraries"), dict) else {}
    assert isinstance(libraries, dict)
    packages: list[NugetPackage] = []
    projects: list[tuple[str, str]] = []
    packs: list[tuple[str, str]] = []
    for key, library in libraries.items():
        if not isinstance(library, dict) or "/" not in key:
            continue
        name, _, version = key.partition("/")
        kind = str(library.get("type", ""))
        if kind == "project":
            projects.append((name, version))
        elif kind == "runtimepack":
            packs.append((name.removeprefix("runtimepack."), version))
        elif kind == "package":
            entry = target.get(key) if isinstance(target, dict) else None
            assets: list[str] = []
            if isinstance(entry, dict):
                for section in ("runtime", "native", "runtimeTargets"):
                    if isinstance(entry.get(section), dict):
                        assets += [str(a) for a in entry[section]]
            packages.append(NugetPackage(name, version, tuple(assets), str(library.get("sha512", "")),
                                         str(library.get("path", ""))))
    return DepsFile(framework, rid, tuple(packages), tuple(projects), tuple(packs))


def app_kind(config: RuntimeConfig, deps: DepsFile) -> str:
    """``aspnetcore``, ``windowsdesktop``, ``worker`` or ``console``."""
    names = {name for name, _ in config.frameworks + config.included}
    names |= {name.replace(".Runtime.", ".").rsplit(".", 1)[0] if ".Runtime." in name else name
              for name, _ in deps.runtime_packs}
    if names & ASPNETCORE_FRAMEWORKS or any(n.startswith("Microsoft.AspNetCore.App") for n in names):
        return "aspnetcore"
    if DESKTOP_FRAMEWORK in names:
        return "windowsdesktop"
    if any(p.name == "Microsoft.Extensions.Hosting" for p in deps.packages):
        return "worker"
    return "console"


def major_minor(version: str) -> str:
    match = re.match(r"([0-9]{1,9})\.([0-9]{1,9})", version)
    return f"{match.group(1)}.{match.group(2)}" if match else ""


def tfm_version(tfm: str) -> str:
    """netcoreapp3.1 -> 3.1, net8.0 -> 8.0, ".NETCoreApp,Version=v3.1" -> 3.1."""
    match = re.search(r"(?:netcoreapp|net|Version=v)([0-9]{1,9}\.[0-9]{1,9})", tfm)
    return match.group(1) if match else ""


# -- which runtime -----------------------------------------------------------------------------------

def _version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    numbers, _, pre = version.partition("-")
    parts = tuple(int(p) for p in re.findall(r"[0-9]{1,9}", numbers)[:3])
    return parts, 0 if pre else 1, pre


def roll_forward(requested: str, available: Iterable[str], policy: str = "") -> str:
    """The version the host would pick (rollForward: Minor by default; LatestPatch always applies)."""
    policy = (policy or "Minor").lower()
    want = _version_key(requested)[0]
    if len(want) < 2:
        return ""
    versions = [v for v in available if len(_version_key(v)[0]) == 3]
    releases = [v for v in versions if "-" not in v] or versions
    same = [v for v in releases if _version_key(v)[0][:2] == want[:2] and _version_key(v)[0] >= want]
    if same:
        return max(same, key=_version_key) if policy != "disable" else (
            requested if requested in versions else "")
    if policy in ("latestpatch", "disable"):
        return ""
    higher = [v for v in releases if _version_key(v)[0] > want and (
        _version_key(v)[0][0] == want[0] or policy in ("major", "latestmajor"))]
    if not higher:
        return ""
    if policy in ("latestminor", "latestmajor"):
        return max(higher, key=_version_key)
    lowest = min(higher, key=lambda v: _version_key(v)[0][:2])
    return max((v for v in higher if _version_key(v)[0][:2] == _version_key(lowest)[0][:2]), key=_version_key)


@dataclass(frozen=True)
class LoadedFramework:
    name: str
    version: str
    path: str


def frameworks_in(paths: Iterable[str]) -> list[LoadedFramework]:
    """Shared frameworks named by file paths (``…/shared/Microsoft.NETCore.App/3.1.23/x.dll``)."""
    found: dict[tuple[str, str], LoadedFramework] = {}
    for path in paths:
        match = _SHARED_FRAMEWORK.match(path)
        if match:
            key = (match.group("name"), match.group("version"))
            found.setdefault(key, LoadedFramework(key[0], key[1], match.group(0).rstrip("/")))
    return sorted(found.values(), key=lambda f: (f.name, _version_key(f.version)))


def mapped_files(host: Host, pid: int) -> list[str]:
    """Files mapped into the process (``/proc/<pid>/maps`` read through the Host; [] where it has none)."""
    path = f"/proc/{pid}/maps"
    try:
        if not host.is_file(path):
            return []
        text = host.read_text(path, limit=16 * 1024 * 1024)
    except HostError:
        return []
    files = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith("/"):
            files.append(fields[5].strip())
    return list(dict.fromkeys(files))


def installed_versions(host: Host, dotnet_root: str, framework: str) -> list[str]:
    folder = join(dotnet_root, "shared", framework)
    return [name for name in host.glob_names(folder) if re.match(r"\d+\.\d+\.\d+", name) and host.is_dir(join(folder, name))]


def dotnet_root_candidates(environ: Mapping[str, str]) -> list[str]:
    """Where an apphost looks for the shared runtime: DOTNET_ROOT(_X64), then the default install folders."""
    roots = [environ[name] for name in ("DOTNET_ROOT_X64", "DOTNET_ROOT") if environ.get(name)]
    return list(dict.fromkeys(roots + ["/usr/share/dotnet", "/usr/lib/dotnet"]))


# -- the SBOM ------------------------------------------------------------------------------------------

def nuget_components(packages: Iterable[Mapping[str, Any]], deps_path: str = "") -> list[Component]:
    """Components for ``analysisInfo.nuget`` entries ({name, version, path}): ``pkg:nuget/<Name>@<Version>``,
    named by ``deps_path`` (the deps.json they were read from)."""
    return [Component(str(p["name"]), str(p.get("version", "")), "", str(p.get("path", "")), EVIDENCE_DEPS_JSON,
                      deps_path, purl_type=PURL_NUGET) for p in packages]


def nuget_entries(deps: DepsFile, app_dir: str, host: Host) -> list[dict[str, str]]:
    """``analysisInfo.nuget``: each package with the file it shipped in the app folder (publish
    flattens ``lib/<tfm>/X.dll`` to ``X.dll``; "" for a package without one) and its path in
    the NuGet cache layout (``dapper/2.0.123``)."""
    entries = []
    for package in sorted(deps.packages, key=lambda p: (p.name.lower(), p.version)):
        path = ""
        for asset in package.assets:
            for candidate in (join(app_dir, posixpath.basename(asset)), join(app_dir, asset)):
                if candidate.endswith((".dll", ".so", ".exe")) and host.is_file(candidate):
                    path = candidate
                    break
            if path:
                break
        entries.append({"name": package.name, "version": package.version, "path": path,
                        "packagePath": package.package_path})
    return entries


def read_json_file(host: Host, path: str, findings: list[Finding], code: str = "DOTNET-E001") -> str | None:
    """A JSON file's text, or None (with a finding when it exists but cannot be read)."""
    try:
        if not host.is_file(path):
            return None
        return decode_text(host.read_bytes(path, limit=MAX_JSON))
    except HostError as exc:
        findings.append(Finding(code, "error", f"cannot read {path}: {exc.message}", path))
        return None


__all__ = ["Bundle", "DepsFile", "HostCommand", "JsonConfigError", "LoadedFramework", "RuntimeConfig",
           "app_kind", "frameworks_in", "is_dotnet_host", "mapped_files", "nuget_components", "parse_deps",
           "parse_host_cmdline", "parse_runtimeconfig", "read_bundle", "read_bundle_marker", "roll_forward",
           "wants_process"]
