"""WebSphere traditional: a server of a profile, read from the profile's configuration.

Traditional WAS runs ``WSPreLauncher … com.ibm.ws.runtime.WsServer <config root> <cell> <node>
<server>``: the ports come from the node's serverindex.xml, the applications from its
deployedApplications (installed under installedApps/<cell>/), the data sources from the
resources.xml files of the cell, node and server. Left out of the image: logs, temp, wstemp,
tranlog (in-flight transactions are this host's state), the admin workspace and OSGi caches of
the profile.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable

from a2c.analyzers.common import configsecrets
from a2c.analyzers.common.dependencies import dependency, jdbc_dependency, merge
from a2c.analyzers.common.numbers import ascii_int
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import env_var_for, is_secret_name
from a2c.analyzers.java import common
from a2c.analyzers.java.generic import DUMP_NAMES, siblings_within
from a2c.analyzers.java.jvm import JavaCommand
from a2c.analyzers.java.websphere.shared import (
    _VENDOR_PORTS,
    DEFAULT_HTTP_PORT,
    LOOPBACK_HOSTS,
    AttributeSecret,
    _has_value,
    elements,
    read_xml,
)
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within, join
from a2c.model import AnalyzerResult, Finding, InventoryEntry, ProcessInfo

TRADITIONAL_MAINS = ("com.ibm.wsspi.bootstrap.WSPreLauncher", "com.ibm.ws.bootstrap.WSLauncher")
WS_SERVER = "com.ibm.ws.runtime.WsServer"
XMI = "{http://www.omg.org/XMI}"

# Profile folders rebuilt at start or holding this host's state (see the module docstring).
PROFILE_TRANSIENT = ("logs", "temp", "wstemp", "tranlog", "workspace")


@dataclass(frozen=True)
class TraditionalServer:
    install_root: str
    profile: str
    config_root: str
    cell: str
    node: str
    server: str

    @property
    def identity(self) -> str:
        return f"websphere:{self.profile}:{self.server}"

    @property
    def serverindex(self) -> str:
        return join(self.config_root, "cells", self.cell, "nodes", self.node, "serverindex.xml")


def traditional_server(command: JavaCommand, proc: ProcessInfo, host: Host) -> TraditionalServer | None:
    """A WAS server JVM (application server, node agent or deployment manager); not wsadmin or other tools."""
    if command.main_class not in TRADITIONAL_MAINS or WS_SERVER not in command.args:
        return None
    after = command.args[command.args.index(WS_SERVER) + 1:]
    positional = [a for a in after if not a.startswith("-")]
    if len(positional) < 4:
        return None
    cwd = proc.cwd or "/"
    props = command.system_properties
    config_root = host.realpath(join(cwd, positional[0]))
    profile = props.get("user.install.root") or props.get("server.root") or posixpath.dirname(config_root)
    install = (props.get("was.install.root") or props.get("osgi.install.area") or proc.environ.get("WAS_HOME", "")
               or posixpath.dirname(posixpath.dirname(profile)))
    return TraditionalServer(host.realpath(join(cwd, install)), host.realpath(join(cwd, profile)), config_root,
                             positional[1], positional[2], positional[3])


def server_entry(index: Any, server: str) -> Any:
    return next((e for e in elements(index, "serverEntries") if e.get("serverName") == server), None)


def endpoints(entry: Any) -> list[dict[str, Any]]:
    found = []
    for special in elements(entry, "specialEndpoints"):
        for point in elements(special, "endPoint"):
            port = point.get("port", "")
            found.append({"name": special.get("endPointName", ""), "host": point.get("host", ""),
                          "port": ascii_int(port)})
    return found


def deployed_applications(host: Host, server: TraditionalServer, entry: Any) -> list[dict[str, Any]]:
    """serverindex's deployedApplications (``HRPortal.ear/deployments/HRPortal``), or else every
    EAR installed for the cell; each with where its binaries are and its web modules' context roots."""
    names = [(e.text or "").strip() for e in elements(entry, "deployedApplications")] if entry is not None else []
    if not names:
        apps_dir = join(server.profile, "installedApps", server.cell)
        names = [f"{n}/deployments/{n[:-4]}" for n in host.glob_names(apps_dir, (".ear",))]
    apps = []
    for name in names:
        ear, _, app = name.partition("/deployments/")
        if not ear or not app:
            continue
        deployment = join(server.config_root, "cells", server.cell, "applications", ear, "deployments", app,
                          "deployment.xml")
        binaries = binaries_url(host, deployment) or f"$(APP_INSTALL_ROOT)/{server.cell}/{ear}"
        location = expand_was_variables(binaries, server)
        apps.append({"name": app, "ear": ear, "binaries": location, "deployment": deployment,
                     "contextRoots": context_roots(host, location)})
    return apps


def binaries_url(host: Host, deployment: str) -> str:
    try:
        root = parse_xml(host.read_bytes(deployment), deployment)
    except (UnsafeXML, HostError):
        return ""
    return next((e.get("binariesURL", "") for e in elements(root, "deployedObject")), "")


def expand_was_variables(value: str, server: TraditionalServer) -> str:
    """$(APP_INSTALL_ROOT) and ${USER_INSTALL_ROOT}-style variables with WebSphere's defaults."""
    values = {"APP_INSTALL_ROOT": join(server.profile, "installedApps"), "USER_INSTALL_ROOT": server.profile,
              "WAS_INSTALL_ROOT": server.install_root, "CONFIG_ROOT": server.config_root}
    return re.sub(r"[$][({]([A-Z_]+)[)}]", lambda m: values.get(m.group(1), m.group(0)), value)


def context_roots(host: Host, ear: str) -> list[str]:
    """Web modules' context roots from the installed (expanded) EAR's META-INF/application.xml."""
    path = join(ear, "META-INF", "application.xml")
    try:
        root = parse_xml(host.read_bytes(path), path)
    except (UnsafeXML, HostError):
        return []
    roots = []
    for web in elements(root, "web"):
        context = next(((e.text or "").strip() for e in elements(web, "context-root")), "")
        uri = next(((e.text or "").strip() for e in elements(web, "web-uri")), "")
        roots.append(context or "/" + posixpath.splitext(uri)[0])
    return ["/" + r.strip("/") if r.strip("/") else "/" for r in roots]


def was_version(host: Host, install: str) -> tuple[str, str]:
    """(version, edition) from properties/version/WAS.product (a DOCTYPE without entities)."""
    path = join(install, "properties", "version", "WAS.product")
    try:
        root = parse_xml(host.read_bytes(path), path)
    except (UnsafeXML, HostError):
        return "", ""
    version = next(((e.text or "").strip() for e in elements(root, "version")), "")
    edition = next(((e.text or "").strip() for e in elements(root, "id")), "")
    return version, edition


def resource_files(server: TraditionalServer) -> list[str]:
    cell = join(server.config_root, "cells", server.cell)
    node = join(cell, "nodes", server.node)
    return [join(cell, "resources.xml"), join(node, "resources.xml"), join(node, "servers", server.server, "resources.xml")]


def _vendor(text: str) -> str:
    lowered = text.lower()
    for key, vendor in (("db2", "db2"), ("oracle", "oracle"), ("sql server", "sqlserver"), ("microsoft", "sqlserver"),
                        ("derby", "derby"), ("postgres", "postgresql"), ("mysql", "mysql"), ("informix", "informix")):
        if key in lowered:
            return vendor
    return ""


def traditional_data_sources(host: Host, paths: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                         list[Finding]]:
    """DataSource factories of every JDBC provider in resources.xml (cell, node, server scope)."""
    sources: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for path in paths:
        if not host.is_file(path):
            continue
        root, problems = read_xml(host, path, "WAS-E002")
        findings += problems
        if root is None:
            continue
        for provider in elements(root, "JDBCProvider"):
            vendor = _vendor(provider.get("providerType", "") + " " + provider.get("implementationClassName", ""))
            for factory in elements(provider, "factories"):
                if not factory.get(XMI + "type", "").endswith(":DataSource"):
                    continue
                props = {p.get("name", ""): p.get("value", "") for p in elements(factory, "resourceProperties")}
                name = factory.get("name", "")
                source = {"name": name, "jndiName": factory.get("jndiName", ""), "vendor": vendor,
                          "authDataAlias": factory.get("authDataAlias", ""), "foundIn": path,
                          "url": props.get("URL", props.get("url", "")), "serverName": props.get("serverName", ""),
                          "portNumber": props.get("portNumber", ""), "databaseName": props.get("databaseName", "")}
                sources.append(source)
                if source["url"].lower().startswith("jdbc:"):
                    deps.append(jdbc_dependency(source["url"], path, name=name))
                elif source["serverName"]:
                    port = source["portNumber"]
                    deps.append(dependency("jdbc", path, host=source["serverName"],
                                           port=ascii_int(port, _VENDOR_PORTS.get(vendor, 0)),
                                           name=name, vendor=vendor, database=source["databaseName"]))
    return sources, deps, findings


def security_secrets(root: Any) -> list[AttributeSecret]:
    """Passwords in security.xml: J2C authentication data and LDAP bind passwords are credentials
    to other systems; LTPA, keystore and server-id passwords protect the cell's own files."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        owner = element.get("alias") or element.get("name") or element.get(XMI + "id") or local_name(element)
        for attribute, value in element.attrib.items():
            if "}" in attribute or not is_secret_name(attribute) or not _has_value(value):
                continue
            external = local_name(element) == "authDataEntries" or attribute == "bindPassword"
            found.append(AttributeSecret(f"{owner}.{attribute}", element, attribute, external))
    return found


def resource_secrets(root: Any) -> list[AttributeSecret]:
    """Secret-named custom properties of resources (a data source's ``password`` property)."""
    found = []
    for prop in elements(root, "resourceProperties"):
        if is_secret_name(prop.get("name", "")) and _has_value(prop.get("value", "")):
            owner = prop.getparent().getparent() if prop.getparent() is not None else None
            owner_name = owner.get("name", "") if owner is not None else ""
            name = f"{owner_name}.{prop.get('name')}" if owner_name else prop.get("name", "")
            found.append(AttributeSecret(name, prop, "value", True))
    return found


def container_serverindex(host: Host, path: str, server: str, data: bytes | None = None) -> bytes | None:
    """serverindex.xml with this server's endpoints bound to ``*`` instead of the host's name, or None.

    The container has another name and address: an endpoint bound to the old host's name would
    not start. Loopback endpoints (the IPC connector) stay private.
    """
    try:
        root = parse_xml(data if data is not None else host.read_bytes(path), path)
    except (UnsafeXML, HostError):
        return None
    entry = server_entry(root, server)
    if entry is None:
        return None
    changed = False
    for point in elements(entry, "endPoint"):
        if point.get("host", "*") not in ("*",) + LOOPBACK_HOSTS:
            point.set("host", "*")
            changed = True
    return serialize_xml(root) if changed else None


def analyze_traditional(entry: InventoryEntry, proc: ProcessInfo, host: Host, command: JavaCommand,
                        server: TraditionalServer) -> AnalyzerResult:
    index, findings = read_xml(host, server.serverindex, "WAS-E001")
    this = server_entry(index, server.server) if index is not None else None
    if index is not None and this is None:
        findings.append(Finding("WAS-W005", "warning", f"server {server.server} is not in serverindex.xml",
                                server.serverindex))
    points = endpoints(this) if this is not None else []
    by_name = {p["name"]: p for p in points}
    apps = deployed_applications(host, server, this)
    version, edition = was_version(host, server.install_root)
    server_type = this.get("serverType", "") if this is not None else ""
    data_sources, deps, ds_findings = traditional_data_sources(host, resource_files(server))
    findings += ds_findings
    security = join(server.config_root, "cells", server.cell, "security.xml")
    secrets, kept, secret_findings = file_secrets(host, [security] + [r for r in resource_files(server)
                                                                        if host.is_file(r)])

    info = common.java_analysis_info(entry, proc, host, command)
    osgi = command.system_properties.get("osgi.configuration.area") or join(server.profile, "servers", server.server,
                                                                              "configuration")
    info["AdvancedAppInfo"].update(
        {
            "Directories": {"base": server.profile, "installRoot": server.install_root, "profile": server.profile,
                            "configRoot": server.config_root, "cwd": proc.cwd,
                            "logs": join(server.profile, "logs", server.server)},
            "distro": "java-websphere",
            "flavor": "traditional",
            "version": version,
        }
    )
    info["websphere"] = {
        "flavor": "traditional",
        "version": version,
        "edition": edition,
        "installRoot": server.install_root,
        "profile": server.profile,
        "cell": server.cell,
        "node": server.node,
        "serverName": server.server,
        "serverType": server_type,
        "hostName": index.get("hostName", "") if index is not None else "",
        "serverIndex": server.serverindex,
        "endpoints": points,
        "applications": apps,
        "dataSources": data_sources,
        "securityFiles": sorted({s["foundIn"] for s in secrets}),
    }
    info["secrets"] = configsecrets.assign_env_vars(list(info.get("secrets", [])) + secrets)
    info["outboundDependencies"] = merge([deps, info.get("outboundDependencies", [])])
    paths = [server.install_root, server.profile]
    missing = []
    for app in apps:
        if any(is_within(app["binaries"], p) for p in paths):
            continue
        if host.exists(app["binaries"]):
            paths.append(app["binaries"])
        else:
            missing.append(app["binaries"])
    info["processMode"] = {
        "paths": paths,
        "sources": {p: ("WebSphere install root" if p == server.install_root else "profile" if p == server.profile
                        else "installed application binaries") for p in paths},
        "serverPaths": [server.install_root],
        "excludes": traditional_excludes(host, server, osgi),
        "excludeNames": list(DUMP_NAMES),
        "writableDirs": [server.profile, join(server.profile, "logs"), join(server.profile, "logs", server.server),
                         join(server.profile, "logs", "ffdc")] + [
            join(server.profile, d) for d in PROFILE_TRANSIENT[1:]] + [osgi],
    }
    http = by_name.get("WC_defaulthost") or by_name.get("WC_defaulthost_secure")
    port = http["port"] if http else (entry.ports[0] if entry.ports else DEFAULT_HTTP_PORT)
    roots = [r for app in apps for r in app["contextRoots"]]
    params = common.java_container_parameters(
        entry, info, common.application_environment(proc, host), applicationMode=False, applicationPort=port,
        logLocations=[join(server.profile, "logs", server.server)],
        healthCheckPath=(roots[0].rstrip("/") + "/") if roots else "/",
    )
    findings += secret_findings
    for path in missing:
        findings.append(Finding("WAS-W006", "warning", f"application binaries {path} are not on this host; add "
                                f"where they really are to appSpecificFiles", path))
    findings += common.runtime_findings(info)
    product = " ".join(p for p in ("WebSphere Application Server", version, edition) if p)
    findings.append(Finding(
        "WAS-I001", "info",
        f"{product} server {server.server} (cell {server.cell}, node {server.node}) is containerized in process mode: the install, the profile and the applications are copied as "
        "they are and the server starts with its own command line and IBM SDK. WebSphere is licensed software: check "
        "that your IBM licence covers running it in containers on AWS. IBM's supported path to containers is "
        "WebSphere Liberty and its official images (icr.io/appcafe/websphere-liberty), or IBM's WebSphere traditional "
        "image with the applications installed by script",
    ))
    if secrets:
        findings.append(Finding(
            "WAS-W001", "warning", "credentials to other systems (J2C authentication data, bind and data source "
            "passwords) are not in the image: the copied files hold ${A2C_SECRET_…} placeholders filled from the "
            "environment at start; supply each as it is on the host ({xor}… is accepted) or in clear text", security))
    if kept:
        findings.append(Finding(
            "WAS-W002", "warning", f"the cell's own key material stays in the image ({', '.join(kept)}): the server "
            "cannot start without it; keep the image in a private repository", security))
    if server_type and server_type != "APPLICATION_SERVER":
        findings.append(Finding("WAS-W003", "warning", f"{server.server} is a {server_type}, not an application "
                                "server: containerizing it is rarely what is wanted", server.serverindex))
    bound = sorted({p["host"] for p in points if p["host"] not in ("*", "") + LOOPBACK_HOSTS})
    if bound:
        findings.append(Finding("WAS-W004", "warning", f"endpoints bound to {', '.join(bound)}: the image's "
                                "serverindex.xml binds them to * instead (the container has another name); clients "
                                "that address the server by that name need a DNS entry for the new service",
                                server.serverindex))
    return AnalyzerResult(info, params, tuple(findings))


def file_secrets(host: Host, paths: Iterable[str]) -> tuple[list[dict[str, Any]], list[str], list[Finding]]:
    """Secrets entries for the external credentials in security.xml/resources.xml, plus where the kept ones are."""
    secrets: list[dict[str, Any]] = []
    kept: list[str] = []
    findings: list[Finding] = []
    for path in paths:
        root, problems = read_xml(host, path, "WAS-E002")
        if root is None:
            findings += problems if path.endswith("security.xml") else []
            continue
        finder = security_secrets if path.endswith("/security.xml") else resource_secrets
        for secret in finder(root):
            if secret.external:
                secrets.append({"name": secret.name, "foundIn": path, "envVar": env_var_for(secret.name),
                                "line": secret.element.sourceline or 0})
            else:
                kept.append(secret.where)
    return secrets, sorted(set(kept)), findings


def traditional_excludes(host: Host, server: TraditionalServer, osgi: str) -> list[str]:
    """The profile's transient folders, the OSGi caches of its servers, other profiles inside the
    install root, and the install root's own (installation) logs."""
    excludes = [join(server.profile, d) for d in PROFILE_TRANSIENT]
    for folder in {osgi} | {join(server.profile, "servers", s, "configuration")
                            for s in host.glob_names(join(server.profile, "servers"))}:
        excludes += [join(folder, n) for n in host.glob_names(folder) if n.startswith("org.eclipse.")]
    excludes += siblings_within(host, server.profile, server.install_root)
    excludes.append(join(server.install_root, "logs"))
    return list(dict.fromkeys(excludes))
