"""The build plan of a Windows application (an IIS site or a Windows service), from its analysis.json.

A Windows image is built from a Dockerfile on a Windows container host, so the plan describes
that build (``platform="windows"``):

- ``layers``: one CopyLayer per folder of the build context. ``name`` is the context folder
  (``site``, ``app-…``, ``vdir-…``, ``service``, ``included-N``), ``paths`` the one Host path
  copied into it, ``excludes`` the Host paths below it that stay out (appExcludedFiles, and
  configuration files that could not be templated safely);
- ``generated``: the configuration files that held secrets, with ``${A2C_SECRET_…}``
  placeholders instead, keyed by their path in the build context (they replace the host's copy);
- ``settings``: the plain JSON data the Dockerfile and entry script are rendered from
  (a2c.generate.windows), every path already converted to its path in the container, and the
  findings made while planning (``findings``), which the builder reports.

The plan is built from the analysis (which a user may have edited) plus host reads: which
folders exist, and the configuration files whose secrets are templated out. Analyzers return
plans; rendering is a2c.generate.windows, copying the context is a2c.images.windows.

Windows containers have a single drive: folders on C: keep their paths in the image, folders on
another drive X: move to ``C:\\drive-x\\…`` (and IIS is configured with those paths).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Mapping

from a2c import __version__
from a2c.analyzers.common.safexml import UnsafeXML
from a2c.analyzers.common.secrets import MASK
from a2c.analyzers.dotnet import netconfig
from a2c.analyzers.dotnet.winpaths import (
    container_path,
    host_path_for,
    is_unc,
    is_within_windows,
    normalize_windows_path,
    relative_windows,
    to_host_path,
    to_windows_path,
)
from a2c.errors import A2CError, HostError
from a2c.hosts.base import Host, is_within
from a2c.model import BuildPlan, CopyLayer, Finding

# The entry script a2c/entrypoint.ps1 of the build context lands at C:\a2c\entrypoint.ps1.
ENTRYPOINT = ("powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", "C:/a2c/entrypoint.ps1")
WORKDIR = "C:\\"
USER = "ContainerAdministrator"  # the Server Core images' default: IIS and the service manager need it
DEFAULT_LOG_ROOT = "C:\\inetpub\\logs\\LogFiles"
# Identities an application pool keeps in the container; a specific (domain) user becomes the pool identity.
CONTAINER_POOL_IDENTITIES = {"ApplicationPoolIdentity", "NetworkService", "LocalService", "LocalSystem"}
IIS, SERVICE = "iis", "service"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"


# -- the build context --------------------------------------------------------------------------
def _sources(analysis: Mapping[str, Any], kind: str) -> list[tuple[str, str]]:
    """(context folder name, Windows source folder) in copy order, before de-duplication."""
    info = analysis["analysisInfo"]
    if kind == SERVICE:
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


def context_layout(analysis: Mapping[str, Any], kind: str) -> list[dict[str, str]]:
    """Which host folder goes into which build-context folder, and where it lands in the image:
    ``context`` (folder of the build context), ``source`` (Windows path on the host),
    ``hostPath`` (its Host path as written) and ``target`` (its path in the container).

    A folder inside one already copied (an application below the site root) is not copied
    twice; network shares are not copied at all (the analysis has a finding for them).
    """
    layout: list[dict[str, str]] = []
    used: set[str] = set()
    for name, source in _sources(analysis, kind):
        if is_unc(source) or not normalize_windows_path(source):
            continue
        source = normalize_windows_path(source)
        if any(is_within_windows(source, entry["source"]) for entry in layout):
            continue
        base, number = name, 2
        while name in used:
            name, number = f"{base}-{number}", number + 1
        used.add(name)
        layout.append({"context": name, "source": source, "hostPath": to_host_path(source),
                       "target": container_path(source)})
    for index, path in enumerate(analysis["containerParameters"].get("appSpecificFiles", []), 1):
        source = _as_windows(path)
        if source:
            layout.append({"context": f"included-{index}", "source": source, "hostPath": to_host_path(source),
                           "target": container_path(source)})
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


def build_context(analysis: Mapping[str, Any], host: Host, layout: list[dict[str, str]]
                  ) -> tuple[tuple[CopyLayer, ...], dict[str, bytes], list[Finding]]:
    """The layers, the templated configuration files and the findings of the build context,
    read from the host (which folders exist; the files whose secrets are templated out)."""
    findings: list[Finding] = []
    copies: list[tuple[str, str]] = []
    excluded: list[str] = []
    generated: dict[str, bytes] = {}
    for entry in layout:
        host_path = host_path_for(host, entry["source"])
        if not host_path or not host.exists(host_path):
            findings.append(Finding("WIN-W001", "warning", f"{entry['source']} does not exist on {host.name}; "
                                    f"the build context folder {entry['context']}/ stays empty", entry["source"]))
        copies.append((entry["context"], host_path))
    for path in analysis["containerParameters"].get("appExcludedFiles", []):
        windows = _as_windows(path)
        if windows:
            excluded.append(host_path_for(host, windows))
    by_file: dict[str, list[dict[str, Any]]] = {}
    for secret in analysis["analysisInfo"].get("secrets", []):
        if normalize_windows_path(secret.get("foundIn", "")):
            by_file.setdefault(normalize_windows_path(secret["foundIn"]), []).append(secret)
    for windows, secrets in by_file.items():
        target = context_path(layout, windows)
        if not target:
            findings.append(Finding("WIN-W002", "warning", f"{windows} holds secrets but is outside the folders "
                                    "copied into the image; add it to appSpecificFiles or supply it at run time",
                                    windows))
            continue
        try:
            data = host.read_bytes(host_path_for(host, windows), limit=netconfig.MAX_CONFIG_BYTES)
            generated[target] = netconfig.template_config(data, windows, secrets)
        except (UnsafeXML, HostError) as exc:
            findings.append(Finding("WIN-E001", "error", f"{exc.message}: the file is left out of the image "
                                    "(its secrets must not be copied)", windows))
            excluded.append(host_path_for(host, windows))
    layers = tuple(
        CopyLayer(name=name, paths=(root,),
                  excludes=tuple(dict.fromkeys(p for p in excluded if p and root and is_within(p, root, fold_case=True))))
        for name, root in copies)
    return layers, generated, findings


def _secret_files(analysis: Mapping[str, Any], layout: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Files with placeholders the entry script fills at start: container path and secrets."""
    files: dict[str, list[dict[str, str]]] = {}
    for secret in analysis["analysisInfo"].get("secrets", []):
        windows = normalize_windows_path(secret.get("foundIn", ""))
        if windows and context_path(layout, windows):
            files.setdefault(container_path(windows), []).append(
                {"name": secret["envVar"], "format": secret.get("format", "text")})
    return [{"path": path, "secrets": secrets} for path, secrets in files.items()]


def _excluded_context_paths(analysis: Mapping[str, Any], layout: list[dict[str, str]]) -> list[str]:
    """appExcludedFiles as build-context paths (the .dockerignore)."""
    paths = []
    for path in analysis["containerParameters"].get("appExcludedFiles", []):
        windows = _as_windows(path)
        target = context_path(layout, windows) if windows else ""
        if target:
            paths.append(target)
    return paths


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


# -- the plan ------------------------------------------------------------------------------------
def windows_plan(analysis: Mapping[str, Any], host: Host, kind: str) -> BuildPlan:
    """The plan of an IIS site (``kind="iis"``) or a Windows service (``kind="service"``)."""
    if kind not in (IIS, SERVICE):
        raise ValueError(f"a Windows plan is for an IIS site or a Windows service, not {kind!r}")
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    if kind == IIS and not info.get("iis", {}).get("siteName"):
        raise A2CError(f"the analysis of {info.get('appId', 'this site')} holds no IIS configuration (see its "
                       "findings: applicationHost.config could not be read)",
                       "Fix applicationHost.config on the host, then run `a2c analyze` again.")
    layout = context_layout(analysis, kind)
    layers, generated, findings = build_context(analysis, host, layout)
    secret_files = _secret_files(analysis, layout)
    settings: dict[str, Any] = {
        "kind": kind,
        "hostName": info.get("hostName", ""),
        "hostOs": info.get("hostInfo", {}).get("os", ""),
        "layout": [{"context": e["context"], "source": e["source"], "target": e["target"]} for e in layout],
        "excluded": _excluded_context_paths(analysis, layout),
        "secretFiles": secret_files,
        "findings": [f.to_json() for f in findings],
    }
    if kind == IIS:
        subject = f"IIS site {info['iis']['siteName']}"
        settings["iis"] = iis_settings(analysis)
        ports = settings["iis"]["exposedPorts"]
        health_port = settings["iis"]["health"]["port"]
        log_dirs = [settings["iis"]["logDirectory"]] if settings["iis"]["logDirectory"] else []
    else:
        subject = f"Windows service {info['serviceName']}"
        settings["service"] = service_settings(analysis)
        ports = [p["localPort"] for p in info.get("ports", [])]
        health_port = 0
        log_dirs = settings["service"]["logDirectories"]
    return BuildPlan(
        app_id=info["appId"],
        base_image=params["containerBaseImage"],
        layers=layers,
        entrypoint=ENTRYPOINT,
        workdir=WORKDIR,
        env=dict(params.get("environment", {})),
        ports=tuple(ports),
        health_port=int(health_port or 0),
        user=USER,
        labels=_labels(analysis, subject),
        generated=generated,
        writable_dirs=tuple(d for d in log_dirs if d),
        render_at_start={f["path"]: tuple(s["name"] for s in f["secrets"]) for f in secret_files},
        platform="windows",
        settings=settings,
    )


def iis_settings(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """What the IIS Dockerfile configures: the site, its pools, bindings, applications, virtual
    directories, authentication, features, health probe and log folders (container paths)."""
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    iis = info["iis"]
    pools = []
    for pool in iis["appPools"]:
        identity = pool["identityType"] if pool["identityType"] in CONTAINER_POOL_IDENTITIES else "ApplicationPoolIdentity"
        pools.append({"name": pool["name"], "managedRuntimeVersion": pool["managedRuntimeVersion"],
                      "managedPipelineMode": pool["managedPipelineMode"], "identityType": identity,
                      "hostIdentityType": pool["identityType"],
                      "enable32BitAppOnWin64": bool(pool.get("enable32BitAppOnWin64", False))})
    bindings = []
    for binding in iis["bindings"]:
        protocol = binding["protocol"].lower()
        if protocol == "https":
            continue  # TLS ends at the load balancer; the certificate stays on the host (finding IIS-W001)
        information = binding["bindingInformation"]
        if protocol in ("http", "ftp") and binding["ipAddress"] not in ("", "*"):
            information = f"*:{binding['port']}:{binding['hostName']}"
        bindings.append({"protocol": binding["protocol"], "bindingInformation": information})
    root = next((a for a in iis["applications"] if a["path"] == "/"), None)
    applications = []
    directories = []
    for app in iis["applications"]:
        name = app["path"].strip("/")
        if name:
            applications.append({"name": name, "applicationPool": app["applicationPool"],
                                 "physicalPath": container_path(app["physicalPath"]) or app["physicalPath"],
                                 "enabledProtocols": app["enabledProtocols"]})
        for vdir in app["virtualDirectories"]:
            if vdir["path"] == "/" or vdir.get("unc"):
                continue
            directories.append({"application": name, "name": vdir["path"].strip("/"),
                                "physicalPath": container_path(vdir["physicalPath"])})
    authentication = []
    for location in iis["authentication"]["locations"]:
        for section, enabled in location.items():
            if section == "location":
                continue
            authentication.append({"location": location["location"], "section": section, "enabled": bool(enabled)})
    http_ports = [b["port"] for b in iis["bindings"] if b["protocol"].lower() == "http" and b["port"]]
    health_binding = next((b for b in iis["bindings"] if b["protocol"].lower() == "http"
                           and b["port"] == params.get("applicationPort")), None)
    health_port = params.get("applicationPort") or (http_ports[0] if http_ports else 0)
    exposed = list(dict.fromkeys(
        [b["port"] for b in iis["bindings"] if b["protocol"].lower() in ("http", "net.tcp") and b["port"]]))
    log_location = (params.get("logLocations") or [""])[0]
    log_root = iis.get("logDirectoryRoot", "")
    return {
        "siteName": iis["siteName"],
        "siteId": iis["siteId"],
        "physicalPath": container_path(info["sitePhysicalPath"]),
        "applicationPool": root["applicationPool"] if root else "DefaultAppPool",
        "enabledProtocols": root["enabledProtocols"] if root else "http",
        "features": list(info.get("features", [])),
        "appPools": pools,
        "bindings": bindings,
        "bindingCount": len(iis["bindings"]),
        "applications": applications,
        "virtualDirectories": directories,
        "authentication": authentication,
        "unlockSections": list(iis.get("unlockSections", [])),
        "exposedPorts": exposed,
        "health": {"port": health_port, "path": params.get("healthCheckPath", "/") or "/",
                   "hostHeader": health_binding["hostName"] if health_binding else ""},
        "logDirectory": (container_path(log_location) or log_location) if log_location else "",
        "logRoot": container_path(log_root),
        "hostLogRoot": log_root,
        "customLogRoot": normalize_windows_path(log_root).lower() not in ("", DEFAULT_LOG_ROOT.lower()),
    }


def service_settings(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """What the service Dockerfile registers: the service (binary at its container path, arguments
    with ``${A2C_SECRET_…}`` where the masks were, start type, account) and its log folders."""
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    service = info["windowsService"]
    arguments = list(service["arguments"])
    argument_secrets = [s for s in info.get("secrets", []) if s.get("element") == "argument"]
    for secret in argument_secrets:
        index = int(secret["argument"])
        if 0 <= index < len(arguments):
            # The mask stands where the secret was: at the end of `/name:****`, or inside a connection string.
            arguments[index] = arguments[index].replace(MASK, "${" + secret["envVar"] + "}", 1)
    host_start = service["startType"]
    return {
        "name": info["serviceName"],
        "displayName": service["displayName"] or info["serviceName"],
        "binary": container_path(info["serviceBinary"]) or info["serviceBinary"],
        "arguments": arguments,
        # With secrets the entry point starts the service once it has filled them in.
        "startType": "Manual" if info.get("secrets") or host_start == "Disabled" else host_start,
        "hostStartType": host_start,
        "account": service["containerAccount"],
        "hostAccount": service["startName"],
        "argumentSecrets": [s["envVar"] for s in argument_secrets],
        "logDirectories": [container_path(d) for d in params.get("logLocations", [])],
    }


class WindowsApplication:
    """What the IIS and service analyzers share: their plan (``platform="windows"``), from which
    a2c.images.windows writes the Dockerfile and build context for a Windows container host."""

    windows_kind: ClassVar[str] = ""

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        return windows_plan(analysis, host, self.windows_kind)


__all__ = ["WindowsApplication", "windows_plan", "context_layout", "context_path", "build_context", "iis_settings",
           "service_settings", "container_path", "ENTRYPOINT"]
