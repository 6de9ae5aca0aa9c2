""".NET Core and .NET 5+ applications on Linux (application mode).

Detected: ``dotnet [exec] App.dll``, framework-dependent apphosts, self-contained folders and
single-file bundles (see ``corelaunch``); the identity is ``dotnet:<main dll or executable>``.
Analyzed through the Host only: what the app targets (runtimeconfig.json, deps.json), the
runtime it really loaded (its open files, else its memory maps, else what the host's roll-forward
would pick), where it listens (``--urls`` > ASPNETCORE_URLS/DOTNET_URLS > Kestrel endpoints in
appsettings.{Environment}.json over appsettings.json > http://localhost:5000, checked against
its listening sockets), its connection strings (outbound dependencies; passwords become
secrets), its NuGet packages (``analysisInfo.nuget``, for the SBOM) and its logs.

The image: the app folder (the publish folder, minus logs) on the matching Microsoft image
(aspnet, runtime or runtime-deps), started the way it ran on the host; an app bound to
loopback there is told to listen on all interfaces; JSON settings holding secrets go in with
``${A2C_SECRET_…}`` placeholders that the entry script fills at start.

Findings:
  DOTNET-E001  a runtimeconfig.json, deps.json or appsettings file that cannot be read or parsed
  DOTNET-W001  the target runtime is unknown (no runtimeconfig.json): the base image is a guess
  DOTNET-W002  the configured port differs from the sockets the process listens on
  DOTNET-W003  the app serves HTTPS only: the HTTP health check and validation cannot reach it
  DOTNET-W004  a Windows desktop app: it cannot run in a Linux container
  DOTNET-W005  a host option naming host-only folders (``--additionalprobingpath``) is dropped
  DOTNET-W006  the runtime is out of support
  DOTNET-W007  a single-file bundle whose manifest could not be read
  DOTNET-I001  web.config is for IIS only; copied but unused on Linux
  DOTNET-I002  the process runs on another major.minor than the app asks for (roll-forward)
  SEC-W001     a secret found in the configuration, environment or command line
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from a2c.analyzers.common.processfacts import process_head, process_tail
from a2c.analyzers.base import Analyzer
from a2c.analyzers.common import credstores
from a2c.analyzers.common.logfiles import log_excludes
from a2c.analyzers.common.secrets import MASK, env_var_for, has_secret, is_secret_name, mask_value, secret_spans
from a2c.analyzers.dotnet import coreconfig, coresecrets
from a2c.analyzers.dotnet.coreconfig import Configuration, JsonConfigError, Listen, Url
from a2c.analyzers.dotnet.corelaunch import (
    NETCORE_FRAMEWORK,
    Bundle,
    DepsFile,
    RuntimeConfig,
    app_kind,
    dotnet_root_candidates,
    frameworks_in,
    installed_versions,
    is_dotnet_host,
    is_sdk_dll,
    major_minor,
    mapped_files,
    nuget_components,
    nuget_entries,
    parse_deps,
    parse_host_cmdline,
    parse_runtimeconfig,
    read_bundle,
    read_bundle_marker,
    read_json_file,
    roll_forward,
    tfm_version,
    wants_process,
)
from a2c.analyzers.common import configfiles
from a2c.analyzers.common.dependencies import from_connections, merge
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo
from a2c.model.sbom import ComponentScan

IMAGE_REPOSITORY = "mcr.microsoft.com/dotnet"
DEFAULT_VERSION = "8.0"
# Support ended (Microsoft's .NET lifecycle): older runtimes get no fixes, and neither do their images.
END_OF_SUPPORT = {"1.0": "2019-06-27", "1.1": "2019-06-27", "2.0": "2018-10-01", "2.1": "2021-08-21",
                  "2.2": "2019-12-23", "3.0": "2020-03-03", "3.1": "2022-12-13", "5.0": "2022-05-10",
                  "6.0": "2024-11-12", "7.0": "2024-05-14"}
# Variables that point at the host's own runtime install: the image has its own.
_HOST_ONLY_VARS = {"DOTNET_ROOT", "DOTNET_ROOT_X64", "DOTNET_ROOT_X86", "DOTNET_ROOT(x86)"}
_APP_PREFIXES = ("ASPNETCORE_", "DOTNET_", "COMPlus_")
_LOG_DIR_NAMES = {"log", "logs"}


@dataclass(frozen=True)
class Launch:
    """How the process runs the app."""

    mode: str  # "dotnet-host", "apphost", "self-contained" or "single-file"
    app_path: str  # the main dll (dotnet-host) or the executable
    app_dir: str
    app_name: str
    host_path: str = ""  # the dotnet muxer (dotnet-host)
    host_options: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    runtimeconfig: str = ""
    deps: str = ""
    bundle: Bundle | None = None
    bundle_error: str = ""

    @property
    def identity(self) -> str:
        return f"dotnet:{self.app_path}"


def find_launch(proc: ProcessInfo, host: Host) -> Launch | None:
    cwd = proc.cwd or "/"
    if is_dotnet_host(proc.name, proc.exe, proc.cmdline):
        command = parse_host_cmdline(proc.cmdline)
        if command is None:
            return None
        dll = host.realpath(join(cwd, command.dll))
        if not host.is_file(dll) or is_sdk_dll(dll):
            return None
        app_dir = posixpath.dirname(dll)
        stem = posixpath.basename(dll).rsplit(".", 1)[0]
        options = _absolute_options(command.host_options, cwd)
        runtimeconfig = _option(options, "--runtimeconfig") or join(app_dir, f"{stem}.runtimeconfig.json")
        deps = _option(options, "--depsfile") or join(app_dir, f"{stem}.deps.json")
        return Launch("dotnet-host", dll, app_dir, stem, proc.exe or proc.cmdline[0], options, command.args,
                      runtimeconfig, deps)
    exe = proc.exe
    if not exe or not host.is_file(exe):
        return None
    exe = host.realpath(exe)
    app_dir, name = posixpath.split(exe)
    runtimeconfig = join(app_dir, f"{name}.runtimeconfig.json")
    deps = join(app_dir, f"{name}.deps.json")
    args = tuple(proc.cmdline[1:])
    if host.is_file(runtimeconfig) or host.is_file(deps):
        if host.is_file(join(app_dir, "libcoreclr.so")) or _has_included_frameworks(host, runtimeconfig):
            return Launch("self-contained", exe, app_dir, name, args=args, runtimeconfig=runtimeconfig, deps=deps)
        if host.is_file(join(app_dir, f"{name}.dll")):
            return Launch("apphost", exe, app_dir, name, args=args, runtimeconfig=runtimeconfig, deps=deps)
    marker = read_bundle_marker(host, exe)
    if marker is None or marker[1] <= 0:
        return None  # not an apphost, or one without its app beside it (it could not run)
    try:
        bundle: Bundle | None = read_bundle(host, exe, marker[1])
        error = ""
    except (ValueError, HostError) as exc:
        bundle, error = None, getattr(exc, "message", str(exc))
    return Launch("single-file", exe, app_dir, name, args=args, bundle=bundle, bundle_error=error,
                  runtimeconfig=runtimeconfig if host.is_file(runtimeconfig) else "",
                  deps=deps if host.is_file(deps) else "")


def _has_included_frameworks(host: Host, path: str) -> bool:
    try:
        return bool(host.is_file(path) and parse_runtimeconfig(decode_text(host.read_bytes(path, 1024 * 1024))).included)
    except (HostError, JsonConfigError):
        return False


def _absolute_options(options: Sequence[str], cwd: str) -> tuple[str, ...]:
    out = list(options)
    for index, option in enumerate(out[:-1]):
        if option in ("--runtimeconfig", "--depsfile", "--additional-deps", "--additionalprobingpath"):
            out[index + 1] = join(cwd, out[index + 1])
    return tuple(out)


def _option(options: Sequence[str], name: str) -> str:
    for index, option in enumerate(options[:-1]):
        if option == name:
            return options[index + 1]
    return ""


class DotnetCoreAnalyzer(Analyzer):
    id = "dotnet-core"
    runtime = "dotnet"
    application_type = "dotnet-core"
    priority = 50
    description = ".NET Core / .NET 5+ on Linux: dotnet App.dll, apphosts, self-contained and single-file apps"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return wants_process(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        launch = find_launch(proc, host)
        if launch is None:
            return None
        return Detection(self.id, self.application_type, identity=launch.identity, base_dir=launch.app_dir,
                         web_apps=(launch.app_name,))

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        launch = find_launch(proc, host)
        assert launch is not None
        return analyze_launch(entry, proc, host, launch)

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        return build_plan(analysis, host)

    def components(self, analysis: Mapping[str, Any], host: Host) -> ComponentScan | None:
        """The NuGet packages of the app's deps.json (``analysisInfo.nuget``, read at analysis time);
        None for an analysis without that list."""
        info = analysis["analysisInfo"]
        packages = info.get("nuget")
        if packages is None:
            return None
        dotnet = info.get("dotnet") or {}
        return ComponentScan(nuget_components(packages, str(dotnet.get("depsFile", ""))))


# -- analysis ---------------------------------------------------------------------------------------

def _target(launch: Launch, host: Host, findings: list[Finding]) -> tuple[RuntimeConfig, DepsFile, str, str]:
    """runtimeconfig.json and deps.json (from the folder, or from inside a bundle) and where each was read."""
    config, deps = RuntimeConfig(), DepsFile()
    config_from = deps_from = ""
    bundle = launch.bundle
    texts: list[tuple[str, str | None, str]] = []
    if bundle is not None and bundle.runtimeconfig is not None:
        texts.append(("runtimeconfig", decode_text(bundle.runtimeconfig), f"{launch.app_path}!/runtimeconfig.json"))
    elif launch.runtimeconfig:
        texts.append(("runtimeconfig", read_json_file(host, launch.runtimeconfig, findings), launch.runtimeconfig))
    if bundle is not None and bundle.deps is not None:
        texts.append(("deps", decode_text(bundle.deps), f"{launch.app_path}!/deps.json"))
    elif launch.deps:
        texts.append(("deps", read_json_file(host, launch.deps, findings), launch.deps))
    for kind, text, where in texts:
        if text is None:
            continue
        try:
            if kind == "runtimeconfig":
                config, config_from = parse_runtimeconfig(text), where
            else:
                deps, deps_from = parse_deps(text), where
        except JsonConfigError as exc:
            findings.append(Finding("DOTNET-E001", "error", f"{where} is not valid JSON ({exc})", where))
    return config, deps, config_from, deps_from


def _runtime(launch: Launch, proc: ProcessInfo, host: Host, config: RuntimeConfig) -> dict[str, Any]:
    """The Microsoft.NETCore.App the process runs on, and how we know."""
    self_contained = launch.mode == "self-contained" or bool(config.included)
    if self_contained:
        version = next((v for n, v in config.included if n == NETCORE_FRAMEWORK), "")
        return {"version": version, "source": "self-contained (runtimeconfig.json includedFrameworks)",
                "dotnetRoot": "" if launch.mode == "single-file" else launch.app_dir, "frameworks": []}
    loaded = frameworks_in(proc.open_files)
    source = "open files"
    if not loaded:
        loaded, source = frameworks_in(mapped_files(host, proc.pid)), "memory maps"
    if loaded:
        core = [f for f in loaded if f.name == NETCORE_FRAMEWORK] or loaded
        root = core[-1].path.rsplit("/shared/", 1)[0]
        return {"version": core[-1].version if core[-1].name == NETCORE_FRAMEWORK else "", "source": source,
                "dotnetRoot": root,
                "frameworks": [{"name": f.name, "version": f.version, "path": f.path} for f in loaded]}
    roots = [posixpath.dirname(host.realpath(launch.host_path))] if launch.host_path.startswith("/") else []
    roots += dotnet_root_candidates(proc.environ)
    requested = dict(config.frameworks)
    for root in roots:
        installed = installed_versions(host, root, NETCORE_FRAMEWORK)
        if not installed:
            continue
        frameworks = []
        for name, version in config.frameworks:
            picked = roll_forward(version, installed_versions(host, root, name), config.roll_forward)
            if picked:
                frameworks.append({"name": name, "version": picked, "path": join(root, "shared", name, picked)})
        core_version = next((f["version"] for f in frameworks if f["name"] == NETCORE_FRAMEWORK), "")
        if not core_version and NETCORE_FRAMEWORK not in requested:
            core_version = roll_forward(_implied_core(config), installed, config.roll_forward)
        return {"version": core_version, "source": f"installed in {root} (the host's roll-forward)",
                "dotnetRoot": root, "frameworks": frameworks}
    return {"version": "", "source": "", "dotnetRoot": "", "frameworks": []}


def _implied_core(config: RuntimeConfig) -> str:
    """ASP.NET Core x.y implies Microsoft.NETCore.App x.y."""
    for _, version in config.frameworks:
        if major_minor(version):
            return f"{major_minor(version)}.0"
    return ""


@dataclass
class _Settings:
    root: str
    environment: str
    environment_source: str
    files: list[str]
    texts: dict[str, str]
    config: Configuration
    listen: Listen


def _settings(launch: Launch, proc: ProcessInfo, host: Host, findings: list[Finding]) -> _Settings:
    cwd = proc.cwd or launch.app_dir
    args = launch.args
    environment, environment_source = coreconfig.environment_name(args, proc.environ)
    root = join(cwd, coreconfig.content_root(args, proc.environ, cwd))
    if not any(host.is_file(p) for p in coreconfig.settings_files(root, environment)) and root != launch.app_dir:
        if any(host.is_file(p) for p in coreconfig.settings_files(launch.app_dir, environment)):
            root = launch.app_dir  # a worker/service whose content root is its own folder
    files, texts, flat = [], {}, []
    for path in coreconfig.settings_files(root, environment):
        text = read_json_file(host, path, findings)
        if text is None:
            continue
        files.append(path)
        texts[path] = text
        try:
            flat.append((path, coreconfig.flatten(coreconfig.load_json(text))))
        except JsonConfigError as exc:
            findings.append(Finding("DOTNET-E001", "error", f"{path} is not valid JSON ({exc}); the app would not "
                                    "start with it either", path))
    config = coreconfig.layered_config(flat, proc.environ, args)
    listen = coreconfig.resolve_urls(args, proc.environ, config)
    return _Settings(root, environment, environment_source, files, texts, config, listen)


def _choose_port(listen: Listen, proc: ProcessInfo, findings: list[Finding]) -> tuple[Url | None, int, bool]:
    """(the URL served, its port, whether the app listens on loopback only)."""
    listening = {s.port for s in proc.listening}
    http = [u for u in listen.urls if u.scheme == "http"]
    candidates = http or list(listen.urls)
    url = next((u for u in candidates if not listening or u.port in listening), candidates[0] if candidates else None)
    if url is not None and url.scheme == "https":
        findings.append(Finding("DOTNET-W003", "warning", f"the app serves HTTPS only ({url.text}); the HTTP health "
                                "check cannot reach it: add an HTTP URL or set healthCheckPath and validate by hand"))
    port = url.port if url is not None else 0
    if listening and port not in listening:
        actual = sorted(listening)[0]
        findings.append(Finding("DOTNET-W002", "warning",
                                f"the configuration says port {port} ({listen.source}) but the process listens on "
                                f"{sorted(listening)}; using {actual}"))
        port = actual
    sockets = [s for s in proc.listening if s.port == port]
    if sockets:
        loopback = all(s.address in ("127.0.0.1", "::1") or s.address.startswith("127.") for s in sockets)
    else:
        loopback = bool(url is not None and url.loopback and url.port == port)
    return url, port, loopback


def _arg_secrets(args: Sequence[str]) -> list[tuple[int, str, tuple[int, int]]]:
    """(argument index, secret name, span in that argument) for the app's own arguments."""
    found = []
    index = 0
    while index < len(args):
        arg = args[index]
        body_at = 2 if arg.startswith("--") else 1 if arg.startswith("/") else 0
        key, sep, value = arg[body_at:].partition("=")
        value_index, offset = index, body_at + len(key) + 1
        if not sep:
            if body_at == 0 or index + 1 >= len(args) or args[index + 1].startswith("--"):
                found += _bare_secrets(index, arg)  # a bare URL with a password, a JWT
                index += 1
                continue
            value_index, offset, value = index + 1, 0, args[index + 1]
        elif body_at == 0 and arg.startswith("-"):
            found += _bare_secrets(index, arg)
            index += 1
            continue
        found += [(value_index, name, (offset + start, offset + end))
                  for name, (start, end) in _value_secrets(key, value)]
        index = value_index + 1
    return found


def _bare_secrets(index: int, arg: str) -> list[tuple[int, str, tuple[int, int]]]:
    return [(index, f"argument{index}" if number == 1 else f"argument{index}:Secret{number}", span)
            for number, span in enumerate(secret_spans(arg), start=1)]


def _value_secrets(key: str, value: str) -> list[tuple[str, tuple[int, int]]]:
    """(name, span) of the secrets in one argument value: connection-string passwords first, then
    any other shape (a URL's password, a JWT, an AWS key id) under ``<key>:Secret``, ``<key>:Secret2``…"""
    found = [(name, span if span else (0, len(value))) for name, span in coresecrets.secrets_in_value(key, value)]
    if found:
        return found
    spans = secret_spans(value, key)
    if spans == [(0, len(value))]:
        return [(key, spans[0])]
    return [(f"{key}:Secret" if number == 1 else f"{key}:Secret{number}", span)
            for number, span in enumerate(spans, start=1)]


def _replace_in_args(args: Sequence[str], secrets: list[tuple[int, str, tuple[int, int]]],
                     text_for: Any) -> list[str]:
    out = list(args)
    for index, name, (start, end) in sorted(secrets, key=lambda s: (s[0], -s[2][0])):
        replacement = text_for(name, out[index][start:end])
        if replacement is not None:
            out[index] = out[index][:start] + replacement + out[index][end:]
    return out


def _environment_secrets(environ: Mapping[str, str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The environment with secrets masked, and where they were (supplied again by name at run time).

    A secret is a secret name or a value holding one anywhere: ``ConnectionStrings__X=…Password=…``,
    a URL's ``user:password@``, a JWT, embedded ``-Dx.password=…`` options."""
    masked = dict(environ)
    secrets = []
    for name, value in sorted(environ.items()):
        if not value:
            continue
        if _is_secret_variable(name, value):
            masked[name] = mask_value(coresecrets.mask_connection_string(value), name)
            secrets.append({"name": name, "foundIn": "environment", "envVar": name})
    return masked, secrets


def _is_secret_variable(name: str, value: str) -> bool:
    return bool(value) and (is_secret_name(name) or bool(coresecrets.password_spans(value)) or has_secret(value, name)
                            or MASK in value)


def _container_environment(environ: Mapping[str, str], secret_vars: set[str]) -> dict[str, str]:
    return {k: v for k, v in sorted(environ.items())
            if k.startswith(_APP_PREFIXES) and k not in _HOST_ONLY_VARS and k not in secret_vars
            and not _is_secret_variable(k, v)}


def _dependencies(settings: _Settings, proc: ProcessInfo, args: Sequence[str]) -> list[dict[str, Any]]:
    groups: list[list[dict[str, Any]]] = []
    for path in settings.files:
        try:
            flat = coreconfig.flatten(coreconfig.load_json(settings.texts[path]))
        except JsonConfigError:
            continue
        for key, value in flat.items():
            if key.lower().startswith("connectionstrings:") and value:
                groups.append(coresecrets.connection_dependencies(key, value, path))
    for key, value, source in coreconfig.environment_pairs(proc.environ):
        if key.lower().startswith("connectionstrings:") and value:
            groups.append(coresecrets.connection_dependencies(key, value, source))
    for key, value in coreconfig.command_line_pairs(args):
        if key.lower().startswith("connectionstrings:") and value:
            groups.append(coresecrets.connection_dependencies(key, value, "command line"))
    groups.append(from_connections(proc))
    return merge(groups)


def _log_dirs(settings: _Settings, proc: ProcessInfo, launch: Launch) -> list[str]:
    cwd = proc.cwd or launch.app_dir
    dirs: list[str] = []
    for path in proc.open_files:
        folder = posixpath.dirname(path)
        if path.endswith(".log") or posixpath.basename(folder).lower() in _LOG_DIR_NAMES:
            if is_within(path, launch.app_dir) or is_within(path, settings.root) or path.endswith(".log"):
                dirs.append(folder)
    for item in settings.config.values.values():
        lowered = item.key.lower()
        if (lowered.startswith("serilog:writeto:") and lowered.endswith(":args:path")) or lowered == "logging:file:path":
            if item.value:
                dirs.append(posixpath.dirname(join(cwd, item.value.replace("\\", "/"))))
    return sorted(dict.fromkeys(d for d in dirs if d and d != "/"))


def base_image(kind: str, self_contained: bool, version: str) -> str:
    flavor = "runtime-deps" if self_contained else "aspnet" if kind == "aspnetcore" else "runtime"
    return f"{IMAGE_REPOSITORY}/{flavor}:{major_minor(version) or DEFAULT_VERSION}"


def analyze_launch(entry: InventoryEntry, proc: ProcessInfo, host: Host, launch: Launch) -> AnalyzerResult:
    findings: list[Finding] = []
    cwd = proc.cwd or launch.app_dir
    if launch.mode == "single-file" and launch.bundle is None:
        findings.append(Finding("DOTNET-W007", "warning", f"{launch.app_path} is a single-file bundle whose manifest "
                                f"could not be read ({launch.bundle_error}); its target is unknown", launch.app_path))
    config, deps, config_from, deps_from = _target(launch, host, findings)
    kind = app_kind(config, deps)
    self_contained = launch.mode == "self-contained" or bool(config.included)
    runtime = _runtime(launch, proc, host, config)
    requested = {n: v for n, v in config.frameworks}
    version = (runtime["version"] or requested.get(NETCORE_FRAMEWORK) or _implied_core(config)
               or next((v for n, v in config.included if n == NETCORE_FRAMEWORK), "") or tfm_version(config.tfm)
               or tfm_version(deps.runtime_target))
    if not config_from:
        findings.append(Finding("DOTNET-W001", "warning", f"no runtimeconfig.json for {launch.app_path}: the target "
                                f"runtime is unknown and the base image assumes .NET {major_minor(version) or DEFAULT_VERSION}",
                                launch.app_path))
    if kind == "windowsdesktop":
        findings.append(Finding("DOTNET-W004", "warning", "a Windows desktop app (Microsoft.WindowsDesktop.App): it "
                                "cannot run in a Linux container", config_from))
    want = requested.get(NETCORE_FRAMEWORK, "")
    if want and runtime["version"] and major_minor(runtime["version"]) != major_minor(want):
        findings.append(Finding("DOTNET-I002", "info", f"the app asks for {NETCORE_FRAMEWORK} {want}; the process runs "
                                f"on {runtime['version']} ({runtime['source']}): the image's runtime must roll forward "
                                "the same way"))
    ended = END_OF_SUPPORT.get(major_minor(version))
    if ended:
        findings.append(Finding("DOTNET-W006", "warning", f".NET {major_minor(version)} is out of support since {ended}: "
                                "no security fixes for the runtime or its images; plan an upgrade"))
    if any(o == "--additionalprobingpath" for o in launch.host_options):
        findings.append(Finding("DOTNET-W005", "warning", "--additionalprobingpath names folders of the host (a NuGet "
                                "cache); it is dropped from the container's command: publish the app with its "
                                "dependencies"))

    settings = _settings(launch, proc, host, findings)
    if kind != "aspnetcore" and not proc.listening and settings.listen.source == "default":
        port, loopback = 0, False  # a console app or worker that serves nothing: no port, no health check
    else:
        _, port, loopback = _choose_port(settings.listen, proc, findings)

    # Secrets: settings files, environment, command line. None of them reaches the image or analysis.json.
    secrets: list[dict[str, Any]] = []
    for path in settings.files:
        try:
            secrets += [s.to_json() for s in coresecrets.json_secrets(path, settings.texts[path])]
        except JsonConfigError:
            pass
    # Any other configuration in the publish folder (.env, secrets.json, App.config, *.xml) is
    # scanned like the settings: it is copied into the image, so its secrets become placeholders.
    others = [p for p in configfiles.config_files_in(host, [launch.app_dir], depth=1) if p not in settings.files]
    other_secrets, _, other_findings = configfiles.scan_config_files(host, others)
    secrets += other_secrets
    findings += other_findings
    masked_env, env_secrets = _environment_secrets(proc.environ)
    secrets += env_secrets
    arg_secrets = _arg_secrets(launch.args)
    secrets += [{"name": name, "foundIn": "command line", "envVar": env_var_for(name)} for _, name, _ in arg_secrets]
    masked_args = _replace_in_args(launch.args, arg_secrets, lambda name, text: MASK)
    head = list(proc.cmdline[: len(proc.cmdline) - len(launch.args)]) if launch.args else list(proc.cmdline)
    cmdline = head + masked_args
    for secret in secrets:
        where = {"environment": "in the environment", "command line": "on the command line"}.get(
            secret["foundIn"], f"in {secret['foundIn']}")
        findings.append(Finding("SEC-W001", "warning", f"secret {secret['name']} found {where}; it is kept out of the "
                                f"image and must be supplied at run time as ${secret['envVar']}"))
    web_config = join(launch.app_dir, "web.config")
    if host.is_file(web_config):
        findings.append(Finding("DOTNET-I001", "info", "web.config configures IIS's ASP.NET Core Module; it is copied "
                                "but has no effect on Linux", web_config))

    log_dirs = _log_dirs(settings, proc, launch)
    os_data = host.os_release()
    endpoints = [{"name": name, "url": item.value, "source": item.source}
                 for name, item in coreconfig.kestrel_endpoints(settings.config)]
    dotnet = {
        "launch": launch.mode,
        "appName": launch.app_name,
        "appDir": launch.app_dir,
        "mainAssembly": launch.app_path if launch.mode == "dotnet-host" else (
            join(launch.app_dir, f"{launch.app_name}.dll") if launch.mode in ("apphost", "self-contained") else ""),
        "executable": "" if launch.mode == "dotnet-host" else launch.app_path,
        "host": launch.host_path,
        "hostOptions": list(launch.host_options),
        "appArgs": masked_args,
        "kind": kind,
        "selfContained": self_contained,
        "targetFramework": config.tfm or _short_tfm(deps.runtime_target),
        "runtimeTarget": deps.runtime_target,
        "runtimeIdentifier": deps.rid,
        "requestedFrameworks": [{"name": n, "version": v} for n, v in config.frameworks],
        "includedFrameworks": [{"name": n, "version": v} for n, v in config.included],
        "rollForward": config.roll_forward,
        "runtime": runtime,
        "runtimeconfig": config_from,
        "depsFile": deps_from,
        "environmentName": settings.environment,
        "environmentSource": settings.environment_source,
        "contentRoot": settings.root,
        "configFiles": settings.files,
        "urls": [u.text for u in settings.listen.urls],
        "urlsSource": settings.listen.source,
        "endpoints": endpoints,
        "httpPort": port,
        "loopbackOnly": loopback,
        "logDirs": log_dirs,
        "webConfig": web_config if host.is_file(web_config) else "",
    }
    if launch.bundle is not None:
        dotnet["bundle"] = {"headerOffset": launch.bundle.header_offset,
                            "version": f"{launch.bundle.major}.{launch.bundle.minor}",
                            "dotnetVersion": launch.bundle.dotnet_version, "bundleId": launch.bundle.bundle_id,
                            "files": len(launch.bundle.files)}
    info: dict[str, Any] = {
        **process_head(entry, proc, host, cmdline, launch.app_name, os_data),
        "AdvancedAppInfo": {
            "Directories": {k: v for k, v in (("app", launch.app_dir), ("contentRoot", settings.root),
                                              ("dotnetRoot", runtime["dotnetRoot"]), ("cwd", cwd)) if v},
            "distro": "dotnet-core",
            "flavor": kind,
            "version": version,
        },
        **process_tail(entry, proc, host, masked_env, cwd),
        "secrets": secrets,
        "outboundDependencies": _dependencies(settings, proc, launch.args),
        "logging": {"dirs": log_dirs},
        "dotnet": dotnet,
        "nuget": nuget_entries(deps, launch.app_dir, host),
    }
    candidates = health_candidates(info["nuget"])
    if candidates:
        info["healthCandidates"] = candidates
    secret_vars = {s["envVar"] for s in secrets if s["foundIn"] == "environment"}
    params = {
        "_comment1": "*** EDITABLE: The below section can be edited according to the application requirements. ***",
        "imageRepository": entry.app_id,
        "imageTag": "latest",
        "containerBaseImage": base_image(kind, self_contained, version),
        # A log folder is left out only when it holds nothing but logs (an app may log into its own folder).
        "appExcludedFiles": ["/root/.aws"] + log_excludes(host, [d for d in log_dirs if is_within(d, launch.app_dir)]),
        "appSpecificFiles": [],
        "applicationPort": port,
        "applicationMode": True,
        "logLocations": log_dirs,
        "enableDynamicLogging": False,
        "dependencies": [],
        "healthCheckPath": "/",
        "environment": _container_environment(proc.environ, secret_vars),
    }
    return AnalyzerResult(info, params, tuple(findings))


# Packages that map health endpoints, and the paths their documentation and templates use.
HEALTH_PACKAGES = ("microsoft.extensions.diagnostics.healthchecks", "microsoft.aspnetcore.diagnostics.healthchecks",
                   "aspnetcore.healthchecks.")
HEALTH_PATHS = ("/health", "/healthz", "/hc", "/health/ready", "/health/live")


def health_candidates(nuget: list[dict[str, str]]) -> list[dict[str, str]]:
    """ASP.NET Core health endpoints worth probing when the app ships a health checks package
    (the route is in code, not config: the paths its docs use, tried on the original in order)."""
    if not any(p["name"].lower().startswith(HEALTH_PACKAGES) for p in nuget):
        return []
    return [{"path": path, "why": "ASP.NET Core health checks are among the app's packages"} for path in HEALTH_PATHS]


def _short_tfm(runtime_target: str) -> str:
    version = tfm_version(runtime_target)
    if not version:
        return ""
    return f"netcoreapp{version}" if float(version) < 5 else f"net{version}"


# -- the build plan -----------------------------------------------------------------------------------

def _entrypoint(dotnet: Mapping[str, Any], secrets: list[dict[str, Any]], open_urls: bool) -> tuple[str, ...]:
    args = list(dotnet.get("appArgs", []))
    by_name = {s["name"]: s["envVar"] for s in secrets if s.get("foundIn") == "command line"}
    found = _arg_secrets(args)
    args = _replace_in_args(args, found, lambda name, text: f"${{{by_name[name]}}}"
                            if text == MASK and name in by_name else None)
    if open_urls:
        args = _open_url_args(args)
    if dotnet.get("launch") == "dotnet-host":
        options: list[str] = []
        host_options = list(dotnet.get("hostOptions", []))
        index = 0
        while index < len(host_options):
            option = host_options[index]
            if option == "--additionalprobingpath":
                index += 2
                continue
            options.append(option)
            index += 1
        return ("dotnet", *options, dotnet["mainAssembly"], *args)
    return (dotnet["executable"], *args)


def _open_url_args(args: list[str]) -> list[str]:
    """``--urls http://127.0.0.1:5000`` -> ``--urls http://+:5000`` (every form .NET's command line takes)."""
    out = list(args)
    for index, arg in enumerate(out):
        body_at = 2 if arg.startswith("--") else 1 if arg.startswith("/") else 0
        key, sep, value = arg[body_at:].partition("=")
        if key.lower() != "urls" or (body_at == 0 and not sep):
            continue
        if sep:
            out[index] = arg[: body_at + len(key) + 1] + _open_urls(value)
        elif index + 1 < len(out):
            out[index + 1] = _open_urls(out[index + 1])
    return out


def _open_urls(value: str) -> str:
    urls = coreconfig.split_urls(value)
    return ";".join(coreconfig.open_up(u) if u.loopback else u.text for u in urls) if urls else value


def _image_environment(params: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, str]:
    dotnet = info["dotnet"]
    secret_vars = {s["envVar"] for s in info.get("secrets", [])}
    env = {k: str(v) for k, v in sorted(params.get("environment", {}).items())
           if k not in secret_vars and not _is_secret_variable(k, str(v)) and k not in _HOST_ONLY_VARS}
    if dotnet.get("loopbackOnly") and dotnet.get("urlsSource") != "command line":
        # Bound to loopback on the host (private there); in a container that would be unreachable.
        port = int(params.get("applicationPort") or dotnet.get("httpPort") or 0)
        urls = [u for u in (coreconfig.parse_url(t) for t in dotnet.get("urls", [])) if u is not None]
        opened = [coreconfig.open_up(u) if u.loopback or u.port == port else u.text for u in urls]
        if port and not any(u.endswith(f":{port}") for u in opened):
            opened.insert(0, f"http://+:{port}")
        env["ASPNETCORE_URLS"] = ";".join(dict.fromkeys(opened)) or f"http://+:{port}"
    if dotnet.get("loopbackOnly"):
        port = int(params.get("applicationPort") or dotnet.get("httpPort") or 0)
        for endpoint in dotnet.get("endpoints", []):
            url = coreconfig.parse_url(endpoint.get("url", ""))
            if url is not None and url.loopback and url.port == port:
                # Kestrel endpoints in appsettings win over --urls and ASPNETCORE_URLS in a real ASP.NET Core app.
                env[f"Kestrel__Endpoints__{endpoint['name']}__Url"] = coreconfig.open_up(url)
    invariant = info.get("env", {}).get("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT")
    if invariant and "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT" not in env:
        env["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = invariant
    return env


def settings_templates(info: Mapping[str, Any], host: Host) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    """JSON settings files with their secrets replaced by ``${A2C_SECRET_…}`` (generated), and the
    variables the entry script fills into each (render_at_start). The files are read again now:
    whatever looks secret in them today is templated, not only what the analysis saw."""
    dotnet = info["dotnet"]
    paths = list(dotnet.get("configFiles", []))
    paths += [s["foundIn"] for s in info.get("secrets", []) if s.get("foundIn", "").endswith(".json")]
    generated: dict[str, bytes] = {}
    render: dict[str, tuple[str, ...]] = {}
    for path in dict.fromkeys(paths):
        mine = [s for s in info.get("secrets", []) if s.get("foundIn") == path]
        # By (name, line) first: two secrets of one name in one file keep their own variables.
        chosen: dict[Any, str] = {s["name"]: s["envVar"] for s in mine}
        chosen.update({(s["name"], int(s.get("line", 0) or 0)): s["envVar"] for s in mine})
        try:
            real = host.realpath(path)
            data = host.read_bytes(real, limit=4 * 1024 * 1024)
            templated, found = coresecrets.template_json(path, data, chosen)
        except (HostError, JsonConfigError):
            continue
        if found:
            generated[real] = templated
            render[real] = tuple(dict.fromkeys(s.env_var for s in found))
    return generated, render


def build_plan(analysis: Mapping[str, Any], host: Host) -> BuildPlan:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    dotnet = info["dotnet"]
    app_dir = dotnet["appDir"]
    extra = tuple(params.get("appSpecificFiles", ()))
    outside = tuple(f for f in dotnet.get("configFiles", []) if not is_within(f, app_dir))
    # Credential stores stay out of every copied folder (the build context refuses them too).
    stores = tuple(s for root in (app_dir, *outside, *extra) for s in credstores.system_stores_within(root))
    excluded = tuple(params.get("appExcludedFiles", ())) + stores
    names = credstores.exclude_names()
    layers = [CopyLayer("application", (app_dir,), excludes=excluded, exclude_names=names)]
    if outside:
        layers.append(CopyLayer("configuration", outside, excludes=excluded, exclude_names=names))
    if extra:
        layers.append(CopyLayer("additional", extra, excludes=excluded, exclude_names=names))
    copied = tuple(p for layer in layers for p in layer.paths)
    root = dotnet.get("contentRoot") or app_dir
    cwd = info.get("cwd") or app_dir
    workdir = next((d for d in (cwd, root) if any(is_within(d, p) for p in copied) and host.is_dir(d)), app_dir)
    port = int(params.get("applicationPort") or 0)
    open_urls = bool(dotnet.get("loopbackOnly")) and dotnet.get("urlsSource") == "command line"
    generated, render = settings_templates(info, host)
    # Secrets of the other configuration files (JSON ones are the settings' templater's).
    others = {"secrets": [s for s in info.get("secrets", [])
                          if str(s.get("foundIn", "")).startswith("/") and not s["foundIn"].endswith(".json")]}
    render.update(configfiles.secret_templates(others, host, generated))
    writable = tuple(dict.fromkeys(d for d in dotnet.get("logDirs", []) if d != "/"))
    return BuildPlan(
        app_id=info["appId"],
        base_image=params["containerBaseImage"],
        layers=tuple(layers),
        entrypoint=_entrypoint(dotnet, info.get("secrets", []), open_urls),
        workdir=workdir,
        env=_image_environment(params, info),
        ports=(port,) if port else (),
        health_port=port,
        generated=generated,
        writable_dirs=writable,
        render_at_start=render,
    )
