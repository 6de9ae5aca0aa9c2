"""Windows container artifacts for IIS sites and Windows services, from an analysis.json.

``render_windows_artifacts`` is pure (analysis in, ``{name: text}`` out), rendered from
``templates/windows/`` through a2c's one Jinja environment: a Dockerfile, the entry script
``a2c/entrypoint.ps1`` and a ``.dockerignore``. ``context_layout`` (pure too) says which host
folder goes into which folder of the build context; ``build_windows_context`` reads the host
to add the configuration files whose secrets are replaced by placeholders.

Windows containers have a single drive: folders on C: keep their paths in the image, folders on
another drive X: move to ``C:\\drive-x\\…`` (and IIS is configured with those paths).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from a2c import __version__
from a2c.analyzers.common.safexml import UnsafeXML
from a2c.analyzers.common.secrets import MASK
from a2c.analyzers.dotnet import netconfig
from a2c.analyzers.dotnet.winpaths import (
    host_path_for,
    is_unc,
    is_within_windows,
    normalize_windows_path,
    relative_windows,
    to_host_path,
    to_windows_path,
)
from a2c.errors import A2CError, HostError
from a2c.generate.quoting import docker_value, powershell_literal
from a2c.generate.render import render
from a2c.hosts.base import Host
from a2c.model import BuildPlan, Finding

WINDOWS_BUILD_MESSAGE = "Windows container images cannot be built on this machine (a Linux Docker engine)"
WINDOWS_BUILD_HINT = ("Copy the application's Artifacts/ folder to a Windows container host whose Windows Server version "
                      "matches containerBaseImage and run `docker build -t <imageRepository>:<imageTag> .` in it.")
# Identities an application pool keeps in the container; a specific (domain) user becomes the pool identity.
DEFAULT_LOG_ROOT = "C:\\inetpub\\logs\\LogFiles"
CONTAINER_POOL_IDENTITIES = {"ApplicationPoolIdentity", "NetworkService", "LocalService", "LocalSystem"}


def container_path(windows_path: str) -> str:
    """Where a host folder lives in the container: the same path on C:, ``C:\\drive-x\\…`` otherwise."""
    path = normalize_windows_path(windows_path)
    if not path or path[0] == "C":
        return path
    rest = path[3:]
    return f"C:\\drive-{path[0].lower()}" + (f"\\{rest}" if rest else "")


def forward(windows_path: str, folder: bool = True) -> str:
    """A Dockerfile COPY destination: forward slashes, a trailing slash for folders."""
    text = windows_path.replace("\\", "/")
    return text.rstrip("/") + "/" if folder else text


def ps(value: Any) -> str:
    """A PowerShell single-quoted string literal (no expansion; every kind of quote doubled)."""
    return str(powershell_literal(value))


def dq(value: Any) -> str:
    """A double-quoted Dockerfile value under ``# escape=``` (LABEL, ENV): `` ` `` escapes."""
    return str(docker_value(value, "`"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"


# -- the build context --------------------------------------------------------------------------
def _sources(analysis: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(context folder name, Windows source folder) in copy order, before de-duplication."""
    info = analysis["analysisInfo"]
    if info.get("appType") == "service":
        return [("service", info["serviceDir"])]
    sources = []
    for app in info.get("iis", {}).get("applications", []):
        app_path = app["path"].strip("/")
        for vdir in app["virtualDirectories"]:
            vdir_path = vdir["path"].strip("/")
            if not app_path and not vdir_path:
                name = "site"
            elif not vdir_path:
                name = f"app-{_slug(app_path)}"
            else:
                name = f"vdir-{_slug('/'.join(p for p in (app_path, vdir_path) if p))}"
            sources.append((name, vdir["physicalPath"]))
    return sources


def context_layout(analysis: Mapping[str, Any]) -> list[dict[str, str]]:
    """Which host folder goes into which build-context folder, and where it lands in the image.

    A folder inside one already copied (an application below the site root) is not copied
    twice; network shares are not copied at all (the analysis has a finding for them).
    """
    layout: list[dict[str, str]] = []
    used: set[str] = set()
    for name, source in _sources(analysis):
        if is_unc(source) or not normalize_windows_path(source):
            continue
        source = normalize_windows_path(source)
        if any(is_within_windows(source, entry["source"]) for entry in layout):
            continue
        base, number = name, 2
        while name in used:
            name, number = f"{base}-{number}", number + 1
        used.add(name)
        target = container_path(source)
        layout.append({"context": name, "source": source, "hostPath": to_host_path(source), "target": target,
                       "copyTarget": forward(target)})
    for index, path in enumerate(analysis["containerParameters"].get("appSpecificFiles", []), 1):
        source = _as_windows(path)
        if source:
            target = container_path(source)
            layout.append({"context": f"included-{index}", "source": source, "hostPath": to_host_path(source),
                           "target": target, "copyTarget": forward(target)})
    return layout


def _as_windows(path: str) -> str:
    """A path from containerParameters, in Host form (/C/…) or Windows form (C:\\…)."""
    if path.startswith("/"):
        try:
            return to_windows_path(path)
        except ValueError:
            return ""
    return normalize_windows_path(path)


def context_path(layout: list[dict[str, str]], windows_path: str) -> str:
    """The build-context path of a host file ("" when no copied folder holds it)."""
    for entry in layout:
        if is_within_windows(windows_path, entry["source"]):
            rel = relative_windows(windows_path, entry["source"])
            return f"{entry['context']}/{rel}" if rel else entry["context"]
    return ""


@dataclass
class WindowsContext:
    """What goes into Artifacts/ beside the rendered files: host folders to copy (context folder,
    Host path), Host paths left out, and the configuration files with their secrets templated."""

    copies: list[tuple[str, str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    generated: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def context_files(context: WindowsContext, host: Host) -> Iterator[tuple[str, str]]:
    """(path in the build context, Host path) of every regular file to copy into Artifacts/.

    Walks each copied folder through the Host; leaves out excluded paths, links (a link could
    point anywhere on the host) and files a2c generated instead (their templated copies are in
    ``context.generated``).
    """
    excluded = {p.lower() for p in context.excluded if p}
    generated = {p.lower() for p in context.generated}
    for name, root in context.copies:
        if not root:
            continue
        pending = [(root, name)]
        while pending:
            folder, target = pending.pop()
            try:
                entries = host.list_dir(folder)
            except HostError:
                continue
            for entry in entries:
                path, relative = f"{folder.rstrip('/')}/{entry}", f"{target}/{entry}"
                if path.lower() in excluded:
                    continue
                st = host.lstat(path)
                if st is None or st.kind == "link":
                    continue
                if st.kind == "dir":
                    pending.append((path, relative))
                elif st.kind == "file" and relative.lower() not in generated:
                    yield relative, path


def build_windows_context(analysis: Mapping[str, Any], host: Host) -> WindowsContext:
    """The build context of an analysis, read from the host (not pure: it reads config files)."""
    layout = context_layout(analysis)
    context = WindowsContext()
    for entry in layout:
        host_path = host_path_for(host, entry["source"])
        if not host_path or not host.exists(host_path):
            context.findings.append(Finding("WIN-W001", "warning", f"{entry['source']} does not exist on {host.name}; "
                                            f"the build context folder {entry['context']}/ stays empty", entry["source"]))
        context.copies.append((entry["context"], host_path))
    for path in analysis["containerParameters"].get("appExcludedFiles", []):
        windows = _as_windows(path)
        if windows:
            context.excluded.append(host_path_for(host, windows))
    by_file: dict[str, list[dict[str, Any]]] = {}
    for secret in analysis["analysisInfo"].get("secrets", []):
        if normalize_windows_path(secret.get("foundIn", "")):
            by_file.setdefault(normalize_windows_path(secret["foundIn"]), []).append(secret)
    for windows, secrets in by_file.items():
        target = context_path(layout, windows)
        if not target:
            context.findings.append(Finding("WIN-W002", "warning", f"{windows} holds secrets but is outside the folders "
                                            "copied into the image; add it to appSpecificFiles or supply it at run time",
                                            windows))
            continue
        try:
            data = host.read_bytes(host_path_for(host, windows), limit=netconfig.MAX_CONFIG_BYTES)
            context.generated[target] = netconfig.template_config(data, windows, secrets)
        except (UnsafeXML, HostError) as exc:
            context.findings.append(Finding("WIN-E001", "error", f"{exc.message}: the file is left out of the image "
                                            "(its secrets must not be copied)", windows))
            context.excluded.append(host_path_for(host, windows))
    return context


# -- rendering ---------------------------------------------------------------------------------
def _secret_files(analysis: Mapping[str, Any], layout: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Files with placeholders the entry script fills at start: container path and secrets."""
    files: dict[str, list[dict[str, str]]] = {}
    for secret in analysis["analysisInfo"].get("secrets", []):
        windows = normalize_windows_path(secret.get("foundIn", ""))
        if windows and context_path(layout, windows):
            files.setdefault(container_path(windows), []).append(
                {"name": secret["envVar"], "format": secret.get("format", "text")})
    return [{"path": path, "secrets": secrets} for path, secrets in files.items()]


def _labels(analysis: Mapping[str, Any], subject: str) -> dict[str, str]:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    return {
        "org.opencontainers.image.title": info["appId"],
        "org.opencontainers.image.description": f"{subject} containerized by a2c from {info.get('hostName', '')}",
        "org.opencontainers.image.base.name": params["containerBaseImage"],
        "com.a2c.application-id": info["appId"],
        "com.a2c.source-host": info.get("hostName", ""),
        "com.a2c.version": __version__,
    }


def _common(analysis: Mapping[str, Any], subject: str, layout: list[dict[str, str]]) -> dict[str, Any]:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    base = params["containerBaseImage"]
    return {
        "version": __version__,
        "app_id": info["appId"],
        "host_name": info.get("hostName", ""),
        "host_os": info.get("hostInfo", {}).get("os", ""),
        "base_image": base,
        "ltsc": base.rsplit("-", 1)[-1] if "-ltsc" in base else "",
        "image": f"{params['imageRepository']}:{params['imageTag']}",
        "labels": _labels(analysis, subject),
        "environment": dict(params.get("environment", {})),
        "layout": layout,
        "secret_files": _secret_files(analysis, layout),
        "ps": ps,
        "dq": dq,
    }


def _excluded_context_paths(analysis: Mapping[str, Any], layout: list[dict[str, str]]) -> list[str]:
    paths = []
    for path in analysis["containerParameters"].get("appExcludedFiles", []):
        windows = _as_windows(path)
        target = context_path(layout, windows) if windows else ""
        if target:
            paths.append(target)
    return paths


def render_windows_artifacts(analysis: Mapping[str, Any]) -> dict[str, str]:
    """``{name: text}`` for Artifacts/: Dockerfile, .dockerignore and a2c/entrypoint.ps1."""
    info = analysis["analysisInfo"]
    layout = context_layout(analysis)
    if info.get("appType") == "service":
        context = _service_context(analysis, layout)
        dockerfile, entrypoint = "windows/service.Dockerfile.j2", "windows/entrypoint-service.ps1.j2"
    else:
        if not info.get("iis", {}).get("siteName"):
            raise A2CError(f"the analysis of {info.get('appId', 'this site')} holds no IIS configuration (see its "
                           "findings: applicationHost.config could not be read)",
                           "Fix applicationHost.config on the host, then run `a2c analyze` again.")
        context = _iis_context(analysis, layout)
        dockerfile, entrypoint = "windows/iis.Dockerfile.j2", "windows/entrypoint-iis.ps1.j2"
    context["excluded"] = _excluded_context_paths(analysis, layout)
    return {
        "Dockerfile": render(dockerfile, **context),
        ".dockerignore": render("windows/dockerignore.j2", **context),
        "a2c/entrypoint.ps1": render(entrypoint, **context),
    }


def _iis_context(analysis: Mapping[str, Any], layout: list[dict[str, str]]) -> dict[str, Any]:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    iis = info["iis"]
    site_name = iis["siteName"]
    context = _common(analysis, f"IIS site {site_name}", layout)
    pools = []
    for pool in iis["appPools"]:
        identity = pool["identityType"] if pool["identityType"] in CONTAINER_POOL_IDENTITIES else "ApplicationPoolIdentity"
        pools.append({**pool, "containerIdentity": identity, "hostIdentity": pool["identityType"]})
    bindings = []
    for binding in iis["bindings"]:
        protocol = binding["protocol"].lower()
        if protocol == "https":
            continue  # TLS ends at the load balancer; the certificate stays on the host (finding IIS-W001)
        information = binding["bindingInformation"]
        if protocol in ("http", "ftp") and binding["ipAddress"] not in ("", "*"):
            information = f"*:{binding['port']}:{binding['hostName']}"
        bindings.append({"protocol": binding["protocol"], "information": information})
    root = next((a for a in iis["applications"] if a["path"] == "/"), None)
    applications = []
    directories = []
    for app in iis["applications"]:
        name = app["path"].strip("/")
        if name:
            applications.append({"name": name, "site_path": f"IIS:\\Sites\\{site_name}\\{name.replace('/', chr(92))}",
                                 "pool": app["applicationPool"],
                                 "physical": container_path(app["physicalPath"]) or app["physicalPath"],
                                 "protocols": app["enabledProtocols"]})
        for vdir in app["virtualDirectories"]:
            if vdir["path"] == "/" or vdir.get("unc"):
                continue
            directories.append({"application": name, "name": vdir["path"].strip("/"),
                                "physical": container_path(vdir["physicalPath"])})
    auth_settings = []
    for location in iis["authentication"]["locations"]:
        for section, enabled in location.items():
            if section == "location":
                continue
            auth_settings.append({"location": location["location"], "section": section, "enabled": enabled})
    http_ports = [b["port"] for b in iis["bindings"] if b["protocol"].lower() == "http" and b["port"]]
    health_binding = next((b for b in iis["bindings"] if b["protocol"].lower() == "http"
                           and b["port"] == params.get("applicationPort")), None)
    health_port = params.get("applicationPort") or (http_ports[0] if http_ports else 0)
    exposed = list(dict.fromkeys(
        [b["port"] for b in iis["bindings"] if b["protocol"].lower() in ("http", "net.tcp") and b["port"]]))
    context.update({
        "site": {"name": site_name, "id": iis["siteId"], "physical": container_path(info["sitePhysicalPath"]),
                 "pool": root["applicationPool"] if root else "DefaultAppPool",
                 "protocols": root["enabledProtocols"] if root else "http",
                 "iis_path": f"IIS:\\Sites\\{site_name}"},
        "features": info.get("features", []),
        "pools": pools,
        "bindings": bindings,
        "applications": applications,
        "directories": directories,
        "auth_settings": auth_settings,
        "unlock_sections": iis.get("unlockSections", []),
        "exposed_ports": exposed,
        "site_bindings_total": len(iis["bindings"]),
        "health": {"port": health_port, "command": health_command(health_port, params.get("healthCheckPath", "/") or "/",
                                                                  health_binding["hostName"] if health_binding else "")},
        "log_directory": (params.get("logLocations") or [""])[0],
        "log_root": container_path(iis.get("logDirectoryRoot", "")),
        "iis_log_root": iis.get("logDirectoryRoot", ""),
        "custom_log_root": normalize_windows_path(iis.get("logDirectoryRoot", "")).lower() not in ("", DEFAULT_LOG_ROOT.lower()),
    })
    return context


def health_command(port: int, path: str, host_header: str) -> str:
    """PowerShell that exits 0 while IIS answers below 500 (a 401 of Windows authentication is an answer)."""
    headers = f" -Headers @{{ Host = {ps(host_header)} }}" if host_header else ""
    return (f"try {{ $status = (Invoke-WebRequest -Uri {ps(f'http://localhost:{port}{path}')}{headers} -UseBasicParsing "
            "-TimeoutSec 8).StatusCode } catch { $status = [int]$_.Exception.Response.StatusCode }; "
            "if ($status -gt 0 -and $status -lt 500) { exit 0 } else { exit 1 }")


def _service_context(analysis: Mapping[str, Any], layout: list[dict[str, str]]) -> dict[str, Any]:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    service = info["windowsService"]
    context = _common(analysis, f"Windows service {info['serviceName']}", layout)
    arguments = list(service["arguments"])
    argument_secrets = [s for s in info.get("secrets", []) if s.get("element") == "argument"]
    for secret in argument_secrets:
        index = int(secret["argument"])
        if 0 <= index < len(arguments):
            # The mask stands where the secret was: at the end of `/name:****`, or inside a connection string.
            arguments[index] = arguments[index].replace(MASK, "${" + secret["envVar"] + "}", 1)
    binary = container_path(info["serviceBinary"]) or info["serviceBinary"]
    has_secrets = bool(info.get("secrets"))
    host_start = service["startType"]
    context.update({
        "service": {
            "name": info["serviceName"],
            "display_name": service["displayName"] or info["serviceName"],
            "binary": binary,
            "arguments": " ".join(f'"{a}"' if " " in a else a for a in arguments),
            "quote_arguments": any(" " in a for a in arguments),
            "start_type": "Manual" if has_secrets or host_start == "Disabled" else host_start,
            "host_start_type": host_start,
            "account": service["containerAccount"],
            "host_account": service["startName"],
        },
        "argument_secrets": [{"name": s["envVar"]} for s in argument_secrets],
        "exposed_ports": [p["localPort"] for p in info.get("ports", [])],
        "log_directories": [container_path(d) for d in params.get("logLocations", [])],
    })
    return context


def build_instructions(analysis: Mapping[str, Any]) -> str:
    """What to tell the user once Artifacts/ is written: where and how to build the image."""
    params = analysis["containerParameters"]
    base = params["containerBaseImage"]
    where = f"a Windows Server {base.rsplit('-', 1)[-1]} container host" if "-ltsc" in base else "a Windows container host"
    return (f"Copy Artifacts/ to {where} and run there: "
            f"docker build -t {params['imageRepository']}:{params['imageTag']} .")


__all__ = ["render_windows_artifacts", "context_layout", "build_windows_context", "context_files", "build_instructions",
           "container_path", "WindowsContext", "WINDOWS_BUILD_MESSAGE", "WINDOWS_BUILD_HINT",
           "WindowsApplication"]


class WindowsApplication:
    """What the IIS and service analyzers share: Windows images come from rendered artifacts and a
    build context, never from the Linux build plan (containerize checks for ``windows_artifacts``)."""

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        raise A2CError(WINDOWS_BUILD_MESSAGE, WINDOWS_BUILD_HINT)

    def windows_artifacts(self, analysis: Mapping[str, Any]) -> dict[str, str]:
        return render_windows_artifacts(analysis)

    def windows_context(self, analysis: Mapping[str, Any], host: Host) -> WindowsContext:
        return build_windows_context(analysis, host)
