"""IIS sites (ASP.NET, WCF, classic ASP.NET 3.5), analyzed from the files they leave.

IIS sites are not processes: w3wp.exe starts on demand for an application pool. So sites are
*enumerated* from ``applicationHost.config`` (``enumerate``), and analyzed from it and from each
application's web.config, through the Host (a snapshot of the Windows server here). The
analysis follows App2Container's Windows layout (``hostInfo``, ``appPoolName``,
``discoveredWebApps``, ``siteUsesWindowsAuth`` …) with a2c's own details under ``iis``.
Their plan (windows_plan.py) has ``platform="windows"``: a2c's Windows builder writes the Dockerfile,
entry script and build context from it, to build on a Windows container host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from a2c import __version__
from a2c.analyzers.common.numbers import ascii_int
from a2c.analyzers.base import Analyzer
from a2c.analyzers.common.safexml import MAX_XML_BYTES, UnsafeXML, local_name, parse_xml
from a2c.analyzers.dotnet import netconfig, windows_plan, winhost
from a2c.analyzers.dotnet.winpaths import container_path, host_path_for, is_unc, normalize_windows_path, windows_join
from a2c.analyzers.common.dependencies import merge
from a2c.errors import A2CError, AppNotFound, HostError
from a2c.hosts.base import Host
from a2c.model import AnalyzerResult, Detection, Finding, InventoryEntry, ProcessInfo

if TYPE_CHECKING:  # annotations only; lxml is imported when XML is parsed
    from lxml import etree

APPHOST_CONFIG = "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"
DEFAULT_LOG_DIRECTORY = "%SystemDrive%\\inetpub\\logs\\LogFiles"
IDENTITY_PREFIX = "iis:"
# Sections IIS locks at the server level (overrideModeDefault="Deny"): a web.config that sets
# them worked on the host only because they were unlocked there, so the container unlocks them too.
LOCKED_SECTIONS = {
    "windowsAuthentication": "system.webServer/security/authentication/windowsAuthentication",
    "anonymousAuthentication": "system.webServer/security/authentication/anonymousAuthentication",
    "basicAuthentication": "system.webServer/security/authentication/basicAuthentication",
    "ipSecurity": "system.webServer/security/ipSecurity",
}
# IIS's own defaults for the authentication sections (applicationHost.config may repeat them).
IIS_AUTH_DEFAULTS = {"anonymousAuthentication": True, "windowsAuthentication": False, "basicAuthentication": False}
_BINDING_HTTP = re.compile(r"^(\[[^\]]*\]|[^:]*):([0-9]{1,9}):(.*)$")


@dataclass(frozen=True)
class Binding:
    protocol: str
    information: str

    def parse(self) -> tuple[str, int, str]:
        """(ip address, port, host name); port 0 for protocols without one (net.pipe, msmq)."""
        protocol = self.protocol.lower()
        if protocol in ("http", "https", "ftp"):
            match = _BINDING_HTTP.match(self.information)
            if match:
                return match.group(1), int(match.group(2)), match.group(3)
        elif protocol == "net.tcp":
            port, _, host = self.information.partition(":")
            return "*", ascii_int(port), host
        return "", 0, self.information

    def to_json(self) -> dict[str, Any]:
        ip, port, host = self.parse()
        return {"protocol": self.protocol, "bindingInformation": self.information, "ipAddress": ip, "port": port,
                "hostName": host}


@dataclass(frozen=True)
class AppPool:
    name: str
    managed_runtime_version: str = "v4.0"
    managed_pipeline_mode: str = "Integrated"
    identity_type: str = "ApplicationPoolIdentity"
    user_name: str = ""
    enable_32bit: bool = False

    def to_json(self) -> dict[str, Any]:
        # processModel@password is never read: the pool's account password stays on the host.
        return {"name": self.name, "managedRuntimeVersion": self.managed_runtime_version,
                "managedPipelineMode": self.managed_pipeline_mode, "identityType": self.identity_type,
                "userName": self.user_name, "enable32BitAppOnWin64": self.enable_32bit}


@dataclass(frozen=True)
class VirtualDirectory:
    path: str
    physical_path: str  # normalised Windows path, or the raw value when not on a local drive (UNC)


@dataclass(frozen=True)
class Application:
    path: str
    pool: str
    enabled_protocols: str
    virtual_directories: tuple[VirtualDirectory, ...]

    @property
    def physical_path(self) -> str:
        root = next((v for v in self.virtual_directories if v.path == "/"), None)
        return root.physical_path if root else ""

    @property
    def name(self) -> str:
        """App2Container's web app name: the application path without its leading slash."""
        return self.path.strip("/")


@dataclass(frozen=True)
class Site:
    name: str
    id: int
    applications: tuple[Application, ...]
    bindings: tuple[Binding, ...]
    log_directory: str
    log_format: str = "W3C"

    @property
    def root(self) -> Application | None:
        return next((a for a in self.applications if a.path == "/"), None)

    @property
    def web_apps(self) -> tuple[Application, ...]:
        return tuple(a for a in self.applications if a.path != "/")

    def bindings_text(self) -> str:
        """App2Container's inventory form: ``http/*:80:,net.tcp/808:*``."""
        return ",".join(f"{b.protocol}/{b.information}" for b in self.bindings)


@dataclass
class IISConfig:
    sites: list[Site] = field(default_factory=list)
    pools: dict[str, AppPool] = field(default_factory=dict)
    # applicationHost.config <location path="…"> authentication settings: path -> {section: enabled}
    location_auth: dict[str, dict[str, bool]] = field(default_factory=dict)

    def site(self, name: str) -> Site | None:
        return next((s for s in self.sites if s.name.lower() == name.lower()), None)


# -- applicationHost.config ----------------------------------------------------------------------
def read_apphost(host: Host) -> tuple[IISConfig | None, list[Finding]]:
    """The IIS configuration of the host; (None, []) when IIS is not installed, (None, [error]) when the
    file is hostile or unreadable."""
    path = host_path_for(host, APPHOST_CONFIG)
    if not path or not host.is_file(path):
        return None, []
    try:
        root = parse_xml(host.read_bytes(path, limit=MAX_XML_BYTES), APPHOST_CONFIG)
    except UnsafeXML as exc:
        return None, [Finding("IIS-E001", "error", f"{exc.message}; IIS sites cannot be read", APPHOST_CONFIG)]
    except HostError as exc:
        return None, [Finding("IIS-E001", "error", f"{exc.message}; IIS sites cannot be read", APPHOST_CONFIG)]
    return parse_apphost(root), []


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    return next((c for c in element if local_name(c) == name), None)


def _children(element: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if element is None else [c for c in element if local_name(c) == name]


def parse_apphost(root: etree._Element) -> IISConfig:
    config = IISConfig()
    apphost = _child(root, "system.applicationHost")
    pools = _child(apphost, "applicationPools")
    defaults = _child(pools, "applicationPoolDefaults")
    default_model = _child(defaults, "processModel")
    base = AppPool(
        name="",
        managed_runtime_version=(defaults.get("managedRuntimeVersion", "v4.0") if defaults is not None else "v4.0"),
        managed_pipeline_mode=(defaults.get("managedPipelineMode", "Integrated") if defaults is not None else "Integrated"),
        identity_type=(default_model.get("identityType", "ApplicationPoolIdentity") if default_model is not None
                       else "ApplicationPoolIdentity"),
    )
    for add in _children(pools, "add"):
        model = _child(add, "processModel")
        name = add.get("name", "")
        config.pools[name] = AppPool(
            name=name,
            managed_runtime_version=add.get("managedRuntimeVersion", base.managed_runtime_version),
            managed_pipeline_mode=add.get("managedPipelineMode", base.managed_pipeline_mode),
            identity_type=model.get("identityType", base.identity_type) if model is not None else base.identity_type,
            user_name=model.get("userName", "") if model is not None else "",
            enable_32bit=add.get("enable32BitAppOnWin64", "false").lower() == "true",
        )
    sites = _child(apphost, "sites")
    app_defaults = _child(sites, "applicationDefaults")
    default_pool = app_defaults.get("applicationPool", "DefaultAppPool") if app_defaults is not None else "DefaultAppPool"
    default_protocols = app_defaults.get("enabledProtocols", "http") if app_defaults is not None else "http"
    site_defaults_log = _child(_child(sites, "siteDefaults"), "logFile")
    default_log_dir = site_defaults_log.get("directory", DEFAULT_LOG_DIRECTORY) if site_defaults_log is not None \
        else DEFAULT_LOG_DIRECTORY
    default_log_format = site_defaults_log.get("logFormat", "W3C") if site_defaults_log is not None else "W3C"
    for site in _children(sites, "site"):
        own_defaults = _child(site, "applicationDefaults")
        pool = own_defaults.get("applicationPool", default_pool) if own_defaults is not None else default_pool
        protocols = own_defaults.get("enabledProtocols", default_protocols) if own_defaults is not None \
            else default_protocols
        applications = []
        for app in _children(site, "application"):
            vdirs = tuple(
                VirtualDirectory(v.get("path", "/"), _physical(v.get("physicalPath", "")))
                for v in _children(app, "virtualDirectory")
            )
            applications.append(Application(app.get("path", "/"), app.get("applicationPool", pool),
                                             app.get("enabledProtocols", protocols), vdirs))
        log = _child(site, "logFile")
        site_id = site.get("id", "0")
        config.sites.append(Site(
            name=site.get("name", ""),
            id=ascii_int(site_id),
            applications=tuple(sorted(applications, key=lambda a: (a.path != "/", a.path.lower()))),
            bindings=tuple(Binding(b.get("protocol", "http"), b.get("bindingInformation", ""))
                           for b in _children(_child(site, "bindings"), "binding")),
            log_directory=normalize_windows_path(log.get("directory", default_log_dir) if log is not None
                                                 else default_log_dir),
            log_format=log.get("logFormat", default_log_format) if log is not None else default_log_format,
        ))
    for location in [root] + _children(root, "location"):
        path = location.get("path", "") if location is not root else ""
        auth = _child(_child(_child(location, "system.webServer"), "security"), "authentication")
        settings = {local_name(e): e.get("enabled", "").lower() == "true" for e in (auth if auth is not None else [])
                    if isinstance(e.tag, str) and e.get("enabled") is not None}
        if settings:
            config.location_auth.setdefault(path, {}).update(settings)
    return config


def _physical(value: str) -> str:
    return value if is_unc(value) else (normalize_windows_path(value) or value)


# -- the analyzer --------------------------------------------------------------------------------
class IISSiteAnalyzer(windows_plan.WindowsApplication, Analyzer):
    id = "dotnet-iis"
    runtime = "dotnet"
    application_type = "dotnet-iis"
    priority = 60
    lists_configured = True
    platform = "windows"
    windows_kind = windows_plan.IIS
    description = "IIS sites (ASP.NET 4.x/3.5, WCF on IIS) from applicationHost.config and web.config"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return False  # sites are enumerated from the configuration, not claimed from w3wp processes

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        return None

    def enumerate(self, host: Host) -> list[tuple[Detection, dict[str, Any]]]:
        """Every IIS site: its Detection and App2Container's inventory fields for it.

        Raises A2CError (with a hint) when applicationHost.config is hostile or unreadable; the
        discovery hook turns that into an inventory note. A host without IIS has no sites.
        """
        config, findings = read_apphost(host)
        if config is None:
            if findings:
                raise A2CError(findings[0].message, "Fix applicationHost.config on the host (or the snapshot), "
                               "then run the inventory again.")
            return []
        found = []
        for site in config.sites:
            root = site.root
            base = host_path_for(host, root.physical_path) if root is not None else ""
            detection = Detection(
                analyzer_id=self.id,
                application_type=self.application_type,
                identity=IDENTITY_PREFIX + site.name,
                base_dir=base,
                web_apps=tuple(a.name for a in site.web_apps),
            )
            fields = {"siteName": site.name, "bindings": site.bindings_text(),
                      "discoveredWebApps": [a.name for a in site.web_apps],
                      # a2c's inventory field beside App2Container's: the ports of the bindings
                      "ports": sorted({p["localPort"] for p in site_ports(site)[0]})}
            found.append((detection, fields))
        return found

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        site_name = entry.identity[len(IDENTITY_PREFIX):] if entry.identity.startswith(IDENTITY_PREFIX) else entry.identity
        config, findings = read_apphost(host)
        if config is None:
            if not findings:
                raise AppNotFound(f"IIS is not configured on {host.name} ({APPHOST_CONFIG} not found)",
                                  "Analyze a snapshot of the Windows server that runs the site.")
            return self._unreadable(entry, site_name, host, findings)
        site = config.site(site_name)
        if site is None:
            raise AppNotFound(f"IIS site {site_name!r} is not in {APPHOST_CONFIG} on {host.name}",
                              "Run `a2c inventory` again: the site was removed or renamed.")
        return analyze_site(entry, site, config, host)

    def _unreadable(self, entry: InventoryEntry, site_name: str, host: Host, findings: list[Finding]) -> AnalyzerResult:
        """A schema-valid analysis that says why nothing could be read."""
        facts = winhost.windows_facts(host)
        info = base_info(entry, host, site_name, facts)
        info.update({"ports": [], "features": [], "appPoolName": "", "poolIdentityType": "", "dotNetVersion": "",
                     "sitePhysicalPath": "", "discoveredWebApps": [], "siteUsesWindowsAuth": False,
                     "connectionStringReport": "", "connectionStringFiles": [], "iis": {}})
        params = container_parameters(entry, winhost.framework_image(winhost.ASPNET_IMAGE, "4.8",
                                                                      winhost.build_number(facts)), 0, [], [])
        return AnalyzerResult(info, params, tuple(findings))


def base_info(entry: InventoryEntry, host: Host, site_name: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    iis_version = str(facts.get("iisVersion", ""))
    return {
        "_comment2": "*** NON-EDITABLE: Analysis Results ***",
        "processId": 0,
        "appId": entry.app_id,
        "applicationType": entry.application_type,
        "appType": "IIS",
        "appName": site_name,
        "appServerIp": "localhost",
        "hostInfo": winhost.host_info(host),
        "iisVersion": iis_version if not iis_version or iis_version.startswith("IIS") else f"IIS {iis_version}",
        "cmdline": ["w3wp.exe"],
        "hostName": host.name,
        "analyzer": entry.analyzer_id or IISSiteAnalyzer.id,
        "a2cVersion": __version__,
        "secrets": [],
        "outboundDependencies": [],
    }


def container_parameters(entry: InventoryEntry, base_image: str, port: int, log_locations: list[str],
                         excluded: list[str]) -> dict[str, Any]:
    return {
        "_comment1": "*** EDITABLE: The below section can be edited according to the application requirements. ***",
        "imageRepository": entry.app_id.lower().replace(" ", "-"),
        "imageTag": "latest",
        "containerBaseImage": base_image,
        "appExcludedFiles": excluded,
        "appSpecificFiles": [],
        "applicationPort": port,
        "applicationMode": True,
        "logLocations": log_locations,
        "enableDynamicLogging": False,
        "dependencies": [],
        "healthCheckPath": "/",
        "environment": {},
    }


def analyze_site(entry: InventoryEntry, site: Site, config: IISConfig, host: Host) -> AnalyzerResult:
    facts = winhost.windows_facts(host)
    build = winhost.build_number(facts)
    findings: list[Finding] = []
    info = base_info(entry, host, site.name, facts)
    root = site.root
    root_pool = config.pools.get(root.pool) if root else None
    info["cmdline"] = ["w3wp.exe", "-ap", root.pool] if root else ["w3wp.exe"]

    applications: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    dependencies: list[list[dict[str, Any]]] = []
    report_sections: list[tuple[str, list[tuple[str, int, str]], list[str]]] = []
    transforms_excluded: list[str] = []
    configs: list[netconfig.ConfigFacts] = []
    svc_files: list[str] = []
    for app in site.applications:
        app_json, config_facts, transforms, app_findings = analyze_web_application(host, site, app)
        findings += app_findings
        applications.append(app_json)
        if config_facts is not None:
            configs.append(config_facts)
            secrets += config_facts.secrets
            dependencies.append(config_facts.dependencies)
            findings += config_facts.findings
            report_sections.append((
                f"site {site.name}" if app.path == "/" else f"web app {app.name}",
                config_facts.report_lines(),
                config_facts.files + transforms,
            ))
        svc_files += app_json["svcFiles"]
        for transform in transforms:
            host_path = host_path_for(host, transform)
            if host_path:
                transforms_excluded.append(host_path)

    pools_used = [config.pools.get(a.pool, AppPool(a.pool)) for a in site.applications]
    for app in site.applications:
        if app.pool not in config.pools:
            findings.append(Finding("IIS-W010", "warning", f"application {app.path} uses application pool {app.pool!r}, "
                                    "which applicationHost.config does not define", APPHOST_CONFIG))
    auth = site_authentication(site, config, configs)
    uses_windows_auth = auth["windowsAuthentication"] or any(c.uses_windows_auth for c in configs)
    if uses_windows_auth:
        findings.append(Finding(
            "IIS-W002", "warning",
            f"site {site.name} uses Windows authentication: the container must join the domain through a gMSA "
            "(group Managed Service Account) credential spec (ECS on EC2 Windows, or EKS Windows nodes)",
            APPHOST_CONFIG))
    for pool in dict.fromkeys(p.name for p in pools_used):
        pool_facts = config.pools.get(pool)
        if pool_facts is not None and pool_facts.identity_type == "SpecificUser":
            findings.append(Finding(
                "IIS-W003", "warning",
                f"application pool {pool} runs as {pool_facts.user_name or 'a specific user'} on the host (its password is "
                "not copied); in the container it runs as ApplicationPoolIdentity, which reaches the network as the "
                "container's gMSA when one is configured", APPHOST_CONFIG))

    ports, port_findings = site_ports(site)
    findings += port_findings
    http_port = next((p["localPort"] for p in ports if p["protocol"] == "http"), 0)
    if not http_port:
        findings.append(Finding("IIS-E003", "error", f"site {site.name} has no http binding: nothing to probe or route "
                                "to (App2Container: AppHasNoPorts); add an http binding or set applicationPort",
                                APPHOST_CONFIG))

    framework = "3.5" if any(p.managed_runtime_version.lower() == "v2.0" for p in pools_used) else "4.8"
    base_features = winhost.BASE_FEATURES_35 if framework == "3.5" else winhost.BASE_FEATURES_48
    needed = required_features(site, pools_used, configs, auth, uses_windows_auth, bool(svc_files))
    features = sorted(needed - base_features)
    host_features = set(winhost.installed_features(host))
    missing = sorted(f for f in features if host_features and f not in host_features)
    if missing:
        findings.append(Finding("IIS-W011", "warning", f"the site's configuration needs Windows features the host does "
                                f"not list as installed ({', '.join(missing)}); they are installed in the image anyway"))
    if any(c.url_rewrite for c in configs):
        findings.append(Finding("IIS-W008", "warning", "the site uses the IIS URL Rewrite module (<rewrite> in "
                                "web.config), which the base image does not have: add its installer to the Dockerfile"))
    if any(p.managed_runtime_version.lower() == "v2.0" for p in pools_used) and \
            any(p.managed_runtime_version.lower() == "v4.0" for p in pools_used):
        findings.append(Finding("IIS-I003", "info", "the site mixes .NET CLR 2.0 and 4.0 application pools; the "
                                "aspnet:3.5 base image has both"))
    tag, exact = winhost.ltsc_tag(build)
    if not exact:
        findings.append(Finding("IIS-W009", "warning", f"Windows build {build or 'unknown'} has no matching LTSC container "
                                f"image; using {tag}: build and run it on a {tag} container host"))
    if transforms_excluded:
        findings.append(Finding("IIS-I002", "info", "web.config transform files (Web.<configuration>.config) are build-time "
                                "inputs that IIS never reads; they are left out of the image (appExcludedFiles) since "
                                "they often hold production connection strings"))

    secrets = unique_env_vars(secrets)
    for secret in secrets:
        findings.append(Finding("SEC-W001", "warning", f"secret {secret['name']} found in {secret['foundIn']} (line "
                                f"{secret['line']}); it is kept out of the image and must be supplied at run time as "
                                f"${secret['envVar']}", secret["foundIn"]))

    log_dir = windows_join(site.log_directory, f"W3SVC{site.id}") if site.log_directory else ""
    container_log_dir = container_path(log_dir) if log_dir else ""
    root_path = root.physical_path if root else ""
    report = connection_string_report(f"IIS site {site.name}", host.name, report_sections)
    info.update({
        "ports": ports,
        "features": features,
        "appPoolName": root.pool if root else "",
        "poolIdentityType": root_pool.identity_type if root_pool else "",
        "dotNetVersion": root_pool.managed_runtime_version if root_pool else "",
        "sitePhysicalPath": root_path,
        "discoveredWebApps": [
            {"webAppName": a.name, "webAppPool": a.pool, "webAppPhysicalPath": a.physical_path,
             "webAppVirtualDirs": [{"dirName": v.path.strip("/"), "dirPath": v.physical_path}
                                   for v in a.virtual_directories if v.path != "/"]}
            for a in site.web_apps
        ],
        "siteUsesWindowsAuth": uses_windows_auth,
        "connectionStringReport": report,
        "connectionStringFiles": sorted({line[0] for section in report_sections for line in section[1]}),
        "secrets": secrets,
        "outboundDependencies": merge(dependencies),
        "iis": {
            "siteName": site.name,
            "siteId": site.id,
            "configFile": APPHOST_CONFIG,
            "bindings": [b.to_json() for b in site.bindings],
            "appPools": [config.pools.get(name, AppPool(name)).to_json()
                         for name in dict.fromkeys(a.pool for a in site.applications)],
            "applications": applications,
            "authentication": auth,
            "unlockSections": sorted({LOCKED_SECTIONS[s] for c in configs for s in locked_sections_set(c)}),
            "logDirectory": log_dir,
            "logDirectoryRoot": site.log_directory,
            "logFormat": site.log_format,
            "framework": framework,
            "targetFrameworks": sorted({c.target_framework for c in configs if c.target_framework}),
            "transformFiles": [t for a in applications for t in a["transforms"]],
        },
    })
    params = container_parameters(
        entry, winhost.framework_image(winhost.ASPNET_IMAGE, framework, build), http_port,
        [container_log_dir] if container_log_dir else [], transforms_excluded)
    return AnalyzerResult(ordered_info(info), params, tuple(findings))


# App2Container's analysisInfo order for Windows; a2c's own keys follow.
INFO_ORDER = ("_comment2", "processId", "appId", "applicationType", "appType", "appName", "appServerIp", "hostInfo",
              "ports", "features", "appPoolName", "poolIdentityType", "dotNetVersion", "iisVersion", "sitePhysicalPath",
              "discoveredWebApps", "siteUsesWindowsAuth", "serviceName", "serviceBinary", "serviceDir", "cmdline",
              "connectionStringReport", "connectionStringFiles", "secrets", "outboundDependencies", "hostName",
              "analyzer", "a2cVersion")


def ordered_info(info: Mapping[str, Any]) -> dict[str, Any]:
    ordered = {k: info[k] for k in INFO_ORDER if k in info}
    ordered.update({k: v for k, v in info.items() if k not in ordered})
    return ordered


def analyze_web_application(host: Host, site: Site, app: Application
                        ) -> tuple[dict[str, Any], netconfig.ConfigFacts | None, list[str], list[Finding]]:
    """One application of a site: its folders, web.config, transforms and .svc files."""
    findings: list[Finding] = []
    physical = app.physical_path
    vdirs = []
    for vdir in app.virtual_directories:
        entry: dict[str, Any] = {"path": vdir.path, "physicalPath": vdir.physical_path}
        if is_unc(vdir.physical_path):
            findings.append(Finding("IIS-W005", "warning", f"virtual directory {app.path.rstrip('/')}{vdir.path} of site "
                                    f"{site.name} is on a network share ({vdir.physical_path}): it is not copied into the "
                                    "image; mount the share in the container or copy its content", APPHOST_CONFIG))
            entry["unc"] = True
        else:
            host_path = host_path_for(host, vdir.physical_path)
            if not host_path or not host.is_dir(host_path):
                findings.append(Finding("IIS-W006", "warning", f"physical path {vdir.physical_path} of "
                                        f"{site.name}{app.path.rstrip('/')}{vdir.path if vdir.path != '/' else ''} does "
                                        "not exist on the host", APPHOST_CONFIG))
            if vdir.physical_path[:1].upper() not in ("C", ""):
                findings.append(Finding("IIS-I001", "info", f"{vdir.physical_path} is on drive {vdir.physical_path[0]}: "
                                        "Windows containers have one drive, so it is copied to "
                                        f"{container_path(vdir.physical_path)}"))
        vdirs.append(entry)
    app_json: dict[str, Any] = {
        "path": app.path,
        "applicationPool": app.pool,
        "physicalPath": physical,
        "enabledProtocols": app.enabled_protocols,
        "virtualDirectories": vdirs,
        "webConfig": None,
        "targetFramework": "",
        "transforms": [],
        "svcFiles": [],
    }
    if not physical or is_unc(physical):
        return app_json, None, [], findings
    host_dir = host_path_for(host, physical)
    names = host.glob_names(host_dir) if host_dir else []
    web_config = next((n for n in names if n.lower() == "web.config"), "web.config")
    prefix = "" if app.path == "/" else app.name
    config_facts = netconfig.read_config(host, windows_join(physical, web_config), env_prefix=prefix)
    transforms = [windows_join(physical, n) for n in names
                  if re.fullmatch(r"web\.[^.]+\.config", n, re.IGNORECASE) and n.lower() != "web.config"]
    for transform in transforms:
        transform_facts = netconfig.read_config(host, transform, env_prefix=prefix)
        if transform_facts.secrets:
            findings.append(Finding("IIS-W007", "warning", f"{transform} holds {len(transform_facts.secrets)} secret(s) "
                                    "(a transform is applied at publish time); it is excluded from the image, but rotate "
                                    "whatever it holds if the file was shared", transform))
        findings += [f for f in transform_facts.findings if f.severity == "error"]
    app_json["svcFiles"] = [windows_join(physical, n) for n in names if n.lower().endswith(".svc")]
    app_json["transforms"] = transforms
    if config_facts.exists:
        app_json["webConfig"] = config_facts.to_json()
        app_json["targetFramework"] = config_facts.target_framework
    return app_json, config_facts, transforms, findings


def site_ports(site: Site) -> tuple[list[dict[str, Any]], list[Finding]]:
    ports: list[dict[str, Any]] = []
    findings: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for binding in site.bindings:
        ip, port, _host = binding.parse()
        protocol = binding.protocol.lower()
        if protocol == "https":
            findings.append(Finding("IIS-W001", "warning", f"https binding {binding.information} of site {site.name}: the "
                                    "certificate stays on the host; the container serves http and TLS ends at the load "
                                    "balancer (an ACM certificate in deployment.json)", APPHOST_CONFIG))
        if ip not in ("", "*") and protocol in ("http", "https"):
            findings.append(Finding("IIS-W004", "warning", f"binding {binding.information} of site {site.name} listens on "
                                    f"one address ({ip}); in the container it listens on all addresses", APPHOST_CONFIG))
        if protocol in ("net.pipe", "net.msmq", "msmq.formatname"):
            findings.append(Finding("IIS-W012", "warning", f"{protocol} binding of site {site.name}: reachable only inside "
                                    "the container (named pipes and MSMQ do not cross the container boundary)",
                                    APPHOST_CONFIG))
        if port and (port, protocol) not in seen:
            seen.add((port, protocol))
            ports.append({"localPort": port, "protocol": protocol})
    return ports, findings


def site_authentication(site: Site, config: IISConfig, configs: list[netconfig.ConfigFacts]) -> dict[str, Any]:
    """Authentication set for the site in applicationHost.config (server level, then <location> sections)."""
    server = {**IIS_AUTH_DEFAULTS, **config.location_auth.get("", {})}
    locations = []
    windows = server["windowsAuthentication"]
    for path, settings in sorted(config.location_auth.items()):
        if not path:
            continue
        if path.lower() == site.name.lower() or path.lower().startswith(site.name.lower() + "/"):
            changed = {k: v for k, v in sorted(settings.items()) if server.get(k) != v}
            if changed:  # a location that repeats the server-level value changes nothing
                locations.append({"location": path, **changed})
            windows = windows or settings.get("windowsAuthentication", False)
    return {"windowsAuthentication": windows, "locations": locations,
            "webConfigWindowsAuthentication": any(c.windows_authentication for c in configs),
            "webConfigModes": sorted({c.authentication_mode for c in configs if c.authentication_mode})}


def locked_sections_set(config: netconfig.ConfigFacts) -> set[str]:
    sections = set()
    if config.windows_authentication:
        sections.add("windowsAuthentication")
    if config.anonymous_authentication is not None:
        sections.add("anonymousAuthentication")
    if config.basic_authentication:
        sections.add("basicAuthentication")
    if config.ip_security:
        sections.add("ipSecurity")
    return sections


def required_features(site: Site, pools: list[AppPool], configs: list[netconfig.ConfigFacts], auth: Mapping[str, Any],
                      windows_auth: bool, has_svc: bool) -> set[str]:
    """Windows features (Install-WindowsFeature names) the site's configuration shows it uses."""
    features: set[str] = set()
    if windows_auth:
        features.add("Web-Windows-Auth")
    if any(c.basic_authentication for c in configs) or any(
            loc.get("basicAuthentication") for loc in auth.get("locations", [])):
        features.add("Web-Basic-Auth")
    if any(c.ip_security for c in configs):
        features.add("Web-IP-Security")
    if any(c.web_sockets for c in configs):
        features.add("Web-WebSockets")
    protocols = {b.protocol.lower() for b in site.bindings}
    wcf = has_svc or any(c.wcf_bindings for c in configs)
    if "net.tcp" in protocols:
        features |= {"NET-WCF-TCP-Activation45", "WAS", "WAS-Process-Model", "WAS-Config-APIs"}
    if "net.pipe" in protocols:
        features |= {"NET-WCF-Pipe-Activation45", "WAS", "WAS-Process-Model", "WAS-Config-APIs"}
    if protocols & {"net.msmq", "msmq.formatname"}:
        features |= {"NET-WCF-MSMQ-Activation45", "MSMQ", "WAS", "WAS-Process-Model", "WAS-Config-APIs"}
    if wcf and protocols & {"http", "https"}:
        features.add("NET-WCF-HTTP-Activation45")
    if any(p.managed_runtime_version.lower() == "v2.0" for p in pools):
        features |= {"NET-Framework-Features", "Web-Asp-Net", "Web-Net-Ext"}
    return features


def unique_env_vars(secrets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Secrets with distinct environment variables (a second one with the same name gets _2, …)."""
    used: dict[str, int] = {}
    out = []
    for secret in secrets:
        env_var = secret["envVar"]
        if env_var in used:
            used[env_var] += 1
            secret = {**secret, "envVar": f"{env_var}_{used[env_var]}"}
        else:
            used[env_var] = 1
        out.append(secret)
    return out


def connection_string_report(subject: str, host_name: str,
                             sections: list[tuple[str, list[tuple[str, int, str]], list[str]]]) -> str:
    """App2Container's report.txt: connection strings with file:line, then the config files, per app."""
    lines = [f"Connection string report for {subject} on {host_name} (passwords masked)"]
    for title, found, files in sections:
        lines.append("")
        lines.append(f"<--- Connection string file(s) for {title} --->")
        lines += [f"{path}:{line}  ------->  {text}" for path, line, text in found] or ["(none)"]
        lines.append(f"<--- Config file(s) for {title} --->")
        lines += list(dict.fromkeys(files)) or ["(none)"]
    return "\n".join(lines) + "\n"

