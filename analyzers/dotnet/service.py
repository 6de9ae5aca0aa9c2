""".NET Framework Windows services, analyzed from the service list and the files they leave.

Services are enumerated from the host's service list (host.json ``windows.services`` in a
snapshot), not claimed from processes. A service counts when it is .NET — its executable has
a CLI header, or an ``<exe>.config`` beside it — and is not part of Windows (a binary under
C:\\Windows, svchost.exe) unless ``nofilter`` asks for those too, like App2Container's
``--nofilter``. The analysis follows App2Container's Windows layout (``serviceName``,
``serviceBinary``, ``serviceDir``) with a2c's details under ``windowsService``.
"""

from __future__ import annotations

import ntpath
import re
from typing import Any, Mapping

from a2c import __version__
from a2c.analyzers.base import Analyzer
from a2c.analyzers.common.secrets import MASK, env_var_for, is_secret_name, mask_spans, secret_spans
from a2c.analyzers.dotnet import netconfig, pe, windows_plan, winhost
from a2c.analyzers.dotnet.iis import connection_string_report, ordered_info, unique_env_vars
from a2c.analyzers.dotnet.winpaths import host_path_for, is_within_windows, normalize_windows_path, split_image_path
from a2c.analyzers.common.dependencies import from_connections, merge
from a2c.errors import AppNotFound, HostError
from a2c.hosts.base import Host
from a2c.model import AnalyzerResult, Detection, Finding, InventoryEntry, ProcessInfo

IDENTITY_PREFIX = "service:"
SYSTEM_BINARIES = {"svchost.exe", "lsass.exe", "services.exe", "dllhost.exe", "msiexec.exe"}
BUILTIN_ACCOUNTS = {
    "localsystem": "LocalSystem", ".\\localsystem": "LocalSystem", "nt authority\\system": "LocalSystem",
    "nt authority\\networkservice": "NT AUTHORITY\\NetworkService",
    "nt authority\\network service": "NT AUTHORITY\\NetworkService",
    "nt authority\\localservice": "NT AUTHORITY\\LocalService",
    "nt authority\\local service": "NT AUTHORITY\\LocalService",
}
START_TYPES = {"auto": "Automatic", "automatic": "Automatic", "autodelayed": "Automatic",
               "automaticdelayedstart": "Automatic", "delayed-auto": "Automatic", "demand": "Manual",
               "manual": "Manual", "disabled": "Disabled"}


def is_system_service(binary: str) -> bool:
    """Part of Windows: a binary under the Windows folder, or a service host process."""
    path = normalize_windows_path(binary)
    return (bool(path) and is_within_windows(path, "C:\\Windows")) or ntpath.basename(binary).lower() in SYSTEM_BINARIES


def config_path_for(host: Host, binary: str) -> str:
    """``<exe>.config`` beside the executable, with the case it has on the host ("" when absent)."""
    host_path = host_path_for(host, binary + ".config")
    return binary + ".config" if host_path and host.is_file(host_path) else ""


def is_dotnet_service(host: Host, binary: str) -> bool:
    host_path = host_path_for(host, binary)
    if not host_path:
        return False
    return bool(config_path_for(host, binary)) or pe.is_dotnet_assembly(host, host_path)


def mask_arguments(args: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Service arguments with secret values masked, and where each secret was.

    Recognises ``--name=value``, ``/name:value``, ``-name value`` and ``/name value``."""
    masked = list(args)
    secrets: list[dict[str, Any]] = []
    for index, arg in enumerate(args):
        match = re.match(r"^(--?|/)([A-Za-z][\w.-]*)([=:])(.+)$", arg)
        if match and is_secret_name(match.group(2)):
            masked[index] = f"{match.group(1)}{match.group(2)}{match.group(3)}{MASK}"
            secrets.append(_argument_secret(match.group(2), index))
            continue
        match = re.match(r"^(--?|/)([A-Za-z][\w.-]*)$", arg)
        if match and is_secret_name(match.group(2)) and index + 1 < len(args) \
                and not args[index + 1].startswith(("-", "/")):
            masked[index + 1] = MASK
            secrets.append(_argument_secret(match.group(2), index + 1))
            continue
        # A secret by its shape (a connection string or URL with a password), whatever its flag.
        # Each masked part gets its own secret, in order: the artifacts put one variable per mask.
        if masked[index] == arg and (spans := secret_spans(arg)):
            masked[index] = mask_spans(arg, spans)
            secrets += [_argument_secret(f"argument{index}" + (f".{number}" if number > 1 else ""), index)
                        for number in range(1, len(spans) + 1)]
    return masked, secrets


def _argument_secret(name: str, index: int) -> dict[str, Any]:
    return {"name": name, "foundIn": "service command line", "envVar": env_var_for(name), "line": 0,
            "format": "text", "element": "argument", "argument": index}


class WindowsServiceAnalyzer(windows_plan.WindowsApplication, Analyzer):
    id = "dotnet-service"
    runtime = "dotnet"
    application_type = "dotnet-service"
    priority = 61
    lists_configured = True
    platform = "windows"
    windows_kind = windows_plan.SERVICE
    description = ".NET Framework Windows services (service list, CLI header, <exe>.config)"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return False  # services are enumerated from the service list

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        return None

    def enumerate(self, host: Host, nofilter: bool = False) -> list[tuple[Detection, dict[str, Any]]]:
        """Every .NET Windows service (Windows' own only with ``nofilter``): Detection and inventory fields."""
        found = []
        for service in winhost.services(host):
            binary, _ = split_image_path(host, str(service.get("binaryPath", "")))
            if not binary or (not nofilter and is_system_service(binary)):
                continue
            if not nofilter and not is_dotnet_service(host, binary):
                continue
            name = str(service["name"])
            detection = Detection(
                analyzer_id=self.id,
                application_type=self.application_type,
                identity=IDENTITY_PREFIX + name,
                base_dir=host_path_for(host, ntpath.dirname(normalize_windows_path(binary) or binary)),
            )
            _, args = split_image_path(host, str(service.get("binaryPath", "")))
            running = service_process(service, ProcessInfo(pid=0, cmdline=()), host)
            found.append((detection, {
                "serviceName": name,
                "displayName": str(service.get("displayName", "")),
                # a2c's inventory fields beside App2Container's (the discovery hook reads these three):
                "processId": running.pid if running else 0,
                "cmdline": " ".join([f'"{binary}"' if " " in binary else binary] + mask_arguments(args)[0]),
                "ports": sorted({s.port for s in running.listening}) if running else [],
            }))
        return found

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        name = entry.identity[len(IDENTITY_PREFIX):] if entry.identity.startswith(IDENTITY_PREFIX) else entry.identity
        service = next((s for s in winhost.services(host) if str(s["name"]).lower() == name.lower()), None)
        if service is None:
            raise AppNotFound(f"Windows service {name!r} is not on {host.name}",
                              "Run `a2c inventory` again: the service was removed or renamed.")
        return analyze_service(entry, service, proc, host)


def service_process(service: Mapping[str, Any], proc: ProcessInfo, host: Host) -> ProcessInfo | None:
    """The running process of the service: the one passed in when it was read in full, else the
    process of the service list's current pid (a placeholder's pid may be from an older inventory)."""
    if proc.pid and proc.cmdline:
        return proc
    pid = int(service.get("pid") or 0)
    if not pid:
        return None
    try:
        return host.process(pid)
    except HostError:
        return None


def analyze_service(entry: InventoryEntry, service: Mapping[str, Any], proc: ProcessInfo, host: Host) -> AnalyzerResult:
    facts = winhost.windows_facts(host)
    build = winhost.build_number(facts)
    findings: list[Finding] = []
    name = str(service["name"])
    binary_raw, args = split_image_path(host, str(service.get("binaryPath", "")))
    binary = normalize_windows_path(binary_raw) or binary_raw
    service_dir = ntpath.dirname(binary)
    masked_args, arg_secrets = mask_arguments(args)
    binary_host = host_path_for(host, binary)
    assembly = pe.read_pe_info(host, binary_host) if binary_host else None
    if assembly is None:
        findings.append(Finding("SVC-W001", "warning", f"{binary} is missing or not a PE executable on the host", binary))
    elif not assembly.clr_header:
        findings.append(Finding("SVC-W002", "warning", f"{binary} is a native executable (no CLI header); only its "
                                ".exe.config made it look like .NET", binary))

    config_file = config_path_for(host, binary)
    config = netconfig.read_config(host, config_file) if config_file else None
    secrets = list(arg_secrets)
    dependencies: list[list[dict[str, Any]]] = []
    if config is not None:
        secrets += config.secrets
        dependencies.append(config.dependencies)
        findings += config.findings
    secrets = unique_env_vars(secrets)
    for secret in secrets:
        findings.append(Finding("SEC-W001", "warning", f"secret {secret['name']} found in {secret['foundIn']}; it is kept "
                                f"out of the image and must be supplied at run time as ${secret['envVar']}",
                                secret["foundIn"]))

    running = service_process(service, proc, host)
    ports = [{"localPort": s.port, "protocol": s.protocol} for s in running.listening] if running else []
    ports = list({(p["localPort"], p["protocol"]): p for p in ports}.values())
    if running is None:
        findings.append(Finding("SVC-I001", "info", f"service {name} is not running in the snapshot ({service.get('state', '')}"
                                "): its listening ports are unknown; set applicationPort if it serves one"))
    elif not ports:
        findings.append(Finding("SVC-I002", "info", f"service {name} listens on no TCP port; no port is exposed"))
    if running is not None:
        dependencies.append(from_connections(running))

    account = str(service.get("startName", "") or "LocalSystem")
    builtin = BUILTIN_ACCOUNTS.get(account.lower())
    if builtin is None:
        findings.append(Finding("SVC-W003", "warning", f"service {name} runs as {account} on the host (its password is not "
                                "copied); in the container it runs as LocalSystem, which reaches the network as the "
                                "container's gMSA when a credential spec is configured"))
    runtimes = config.supported_runtimes if config is not None else []
    framework = "3.5" if runtimes and all(r.lower().startswith("v2.") for r in runtimes) else "4.8"
    tag, exact = winhost.ltsc_tag(build)
    if not exact:
        findings.append(Finding("SVC-W004", "warning", f"Windows build {build or 'unknown'} has no matching LTSC container "
                                f"image; using {tag}"))
    report = connection_string_report(f"Windows service {name}", host.name, [
        (f"service {name}", config.report_lines() if config else [], config.files if config else [])])
    log_dirs = [ntpath.join(service_dir, n) for n in host.glob_names(host_path_for(host, service_dir))
                if n.lower() in ("log", "logs") and host.is_dir(host_path_for(host, ntpath.join(service_dir, n)))]
    start_type = START_TYPES.get(str(service.get("startType", "")).replace(" ", "").lower(), "Automatic")
    quoted = f'"{binary}"' if " " in binary else binary
    info: dict[str, Any] = {
        "_comment2": "*** NON-EDITABLE: Analysis Results ***",
        "processId": running.pid if running else 0,
        "appId": entry.app_id,
        "applicationType": entry.application_type,
        "appType": "service",
        "appName": name,
        "appServerIp": "localhost",
        "hostInfo": winhost.host_info(host),
        "ports": ports,
        "features": [],
        "serviceName": name,
        "serviceBinary": binary,
        "serviceDir": service_dir,
        "cmdline": [binary] + masked_args,
        "hostName": host.name,
        "analyzer": entry.analyzer_id or WindowsServiceAnalyzer.id,
        "a2cVersion": __version__,
        "secrets": secrets,
        "outboundDependencies": merge(dependencies),
        "connectionStringReport": report,
        "connectionStringFiles": sorted({c["foundIn"] for c in config.connection_strings}) if config else [],
        "windowsService": {
            "displayName": str(service.get("displayName", "")),
            "binaryPath": " ".join([quoted] + [f'"{a}"' if " " in a else a for a in masked_args]),
            "arguments": masked_args,
            "startName": account,
            "containerAccount": builtin or "LocalSystem",
            "startType": start_type,
            "hostStartType": str(service.get("startType", "")),
            "state": str(service.get("state", "")),
            "assembly": assembly.to_json() if assembly else None,
            "configFile": config_file,
            "config": config.to_json() if config is not None else None,
            "targetFramework": config.target_framework if config is not None else "",
            "framework": framework,
        },
    }
    params: dict[str, Any] = {
        "_comment1": "*** EDITABLE: The below section can be edited according to the application requirements. ***",
        "imageRepository": entry.app_id.lower().replace(" ", "-"),
        "imageTag": "latest",
        "containerBaseImage": winhost.framework_image(winhost.RUNTIME_IMAGE, framework, build),
        "appExcludedFiles": [],
        "appSpecificFiles": [],
        "applicationPort": ports[0]["localPort"] if ports else 0,
        "applicationMode": True,
        "logLocations": log_dirs,
        "enableDynamicLogging": False,
        "dependencies": [],
        "environment": {},
    }
    return AnalyzerResult(ordered_info(info), params, tuple(findings))
