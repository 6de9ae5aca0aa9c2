"""IBM WebSphere Application Server, traditional and Liberty (process mode).

Traditional WAS runs ``WSPreLauncher … com.ibm.ws.runtime.WsServer <config root> <cell> <node>
<server>``: the ports come from the node's serverindex.xml, the applications from its
deployedApplications (installed under installedApps/<cell>/), the data sources from the
resources.xml files of the cell, node and server. Liberty runs ``-jar <wlp>/bin/tools/ws-server.jar
<server>``: everything comes from the server's server.xml (plus its includes and configDropins).

Neither can be rebuilt from the host in application mode (IBM licenses the server and publishes
its own images), so the install, the profile or server folder and the applications are copied
as they are. Left out: logs, temp, wstemp, tranlog (in-flight transactions are this host's
state), the admin workspace and OSGi caches of a profile; logs and workarea of a Liberty server;
other profiles or servers beside the one that runs.

Credentials to outside systems (J2C authentication data, LDAP bind passwords, data source
passwords) are replaced: in a profile by ``${A2C_SECRET_…}`` placeholders that the entry script
fills at start; in Liberty's server.xml by ``${env.A2C_SECRET_…}``, which Liberty resolves
itself. Key material of the cell (LTPA keys, keystores) stays, and a finding says so.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from a2c.analyzers.common.numbers import ascii_int
from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common.properties import parse_properties
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import env_var_for, is_secret_name
from a2c.analyzers.java import common
from a2c.analyzers.common import configfiles, configsecrets
from a2c.analyzers.common.dependencies import dependency, jdbc_dependency, merge
from a2c.analyzers.java.jvm import JavaCommand, is_java, parse_java_cmdline
from a2c.analyzers.java.generic import DUMP_NAMES, server_process_plan, siblings_within, template_file
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, Detection, Finding, InventoryEntry, ProcessInfo

TRADITIONAL_MAINS = ("com.ibm.wsspi.bootstrap.WSPreLauncher", "com.ibm.ws.bootstrap.WSLauncher")
WS_SERVER = "com.ibm.ws.runtime.WsServer"
LIBERTY_JAR = "ws-server.jar"
LIBERTY_MAIN = "com.ibm.ws.kernel.boot.cmdline.EnvCheck"
XMI = "{http://www.omg.org/XMI}"

# Profile folders rebuilt at start or holding this host's state (see the module docstring).
PROFILE_TRANSIENT = ("logs", "temp", "wstemp", "tranlog", "workspace")
LIBERTY_TRANSIENT = ("logs", "workarea")
# Variables Liberty's launcher reads itself (the rest of server.env is read by the shell script only).
LIBERTY_ENV = ("WLP_USER_DIR", "WLP_OUTPUT_DIR", "LOG_DIR", "LOG_FILE", "X_LOG_DIR", "X_LOG_FILE")
DEFAULT_HTTP_PORT = 9080
DEFAULT_HTTPS_PORT = 9443
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
_VENDOR_PORTS = {"db2": 50000, "oracle": 1521, "sqlserver": 1433, "postgresql": 5432, "mysql": 3306, "informix": 9088}


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


@dataclass(frozen=True)
class LibertyServer:
    wlp: str
    user_dir: str
    server_dir: str
    output_dir: str
    name: str

    @property
    def identity(self) -> str:
        return f"websphere:{self.server_dir}:{self.name}"

    @property
    def server_xml(self) -> str:
        return join(self.server_dir, "server.xml")


class WebSphereAnalyzer(JavaAnalyzer):
    id = "java-websphere"
    runtime = "java"
    application_type = "java-websphere"
    priority = 30
    description = "IBM WebSphere Application Server, traditional (WsServer) and Liberty (ws-server.jar), in process mode"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        if command is None:
            return None
        traditional = traditional_server(command, proc, host)
        if traditional is not None:
            index, _ = read_xml(host, traditional.serverindex, "WAS-E001")
            entry = server_entry(index, traditional.server) if index is not None else None
            apps = [a["name"] for a in deployed_applications(host, traditional, entry)]
            return Detection(self.id, self.application_type, identity=traditional.identity,
                             base_dir=traditional.profile, web_apps=tuple(apps))
        liberty = liberty_server(command, proc, host)
        if liberty is not None:
            config = read_liberty_config(host, liberty)
            return Detection(self.id, self.application_type, identity=liberty.identity, base_dir=liberty.server_dir,
                             web_apps=tuple(a["name"] for a in config.applications))
        return None

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        traditional = traditional_server(command, proc, host)
        if traditional is not None:
            return analyze_traditional(entry, proc, host, command, traditional)
        liberty = liberty_server(command, proc, host)
        assert liberty is not None
        return analyze_liberty(entry, proc, host, command, liberty)

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info = analysis["analysisInfo"]
        was = info.get("websphere", {})
        secrets = info.get("secrets", [])
        generated: dict[str, bytes] = {}
        render: dict[str, tuple[str, ...]] = {}
        if was.get("flavor") == "traditional":
            for path in was.get("securityFiles", []):
                wanted = _wanted(secrets, path)
                finder = security_secrets if path.endswith("/security.xml") else resource_secrets
                if wanted:
                    template_file(host, path, generated, render,
                                  lambda data, p, f=finder, w=wanted: template_attributes(data, p, f, w, "${%s}"))
            index = was.get("serverIndex", "")
            if index:
                patched = container_serverindex(host, index, was.get("serverName", ""), generated.get(index))
                if patched is not None:
                    generated[index] = patched
        else:
            for path in was.get("configFiles", []):
                wanted = _wanted(secrets, path)
                if wanted:
                    template_file(host, path, generated, render,
                                  lambda data, p, w=wanted: template_attributes(data, p, liberty_secrets, w,
                                                                                "${env.%s}"))
            endpoint_file = was.get("httpEndpointFile", "")
            if endpoint_file:
                patched = container_http_endpoint(host, endpoint_file, generated.get(endpoint_file))
                if patched is not None:
                    generated[endpoint_file] = patched
            server_env = join(was.get("serverDir", "/"), "server.env")
            if was.get("serverDir") and host.is_file(server_env):
                cleaned = container_server_env(host, server_env)
                if cleaned is not None:
                    generated[server_env] = cleaned
        return server_process_plan(analysis, host, generated, render)


# -- traditional ---------------------------------------------------------------------------

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


def read_xml(host: Host, path: str, code: str) -> tuple[Any, list[Finding]]:
    try:
        return parse_xml(host.read_bytes(path), path), []
    except UnsafeXML as exc:
        return None, [Finding(code, "error", exc.message, path)]
    except HostError as exc:
        return None, [Finding(code, "error", f"not read: {exc.message}", path)]


def elements(root: Any, name: str) -> list[Any]:
    return [e for e in root.iter() if isinstance(e.tag, str) and local_name(e) == name]


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


@dataclass(frozen=True)
class AttributeSecret:
    """A secret held in an XML attribute: ``name`` is its name in analysisInfo.secrets."""

    name: str
    element: Any
    attribute: str
    external: bool  # a credential to another system (templated out), not the cell's own key material

    @property
    def where(self) -> str:
        return f"{local_name(self.element)}/@{self.attribute}"


def _has_value(value: str) -> bool:
    value = value.strip()
    return bool(value) and value not in ("{xor}", "{aes}") and "${" not in value


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


def template_attributes(data: bytes, path: str, finder: Callable[[Any], list[AttributeSecret]],
                        wanted: Mapping[Any, str], placeholder: str) -> bytes:
    """The file with each listed secret attribute replaced by ``placeholder % env var``."""
    root = parse_xml(data, path)
    for secret in finder(root):
        env_var = wanted.get((secret.name, secret.element.sourceline or 0)) or wanted.get(secret.name)
        if env_var:
            secret.element.set(secret.attribute, placeholder % env_var)
    return serialize_xml(root)


def _wanted(secrets: list[dict[str, Any]], path: str) -> dict[Any, str]:
    """The variables of one file's secrets by (name, line), and by name for a line that moved."""
    mine = [s for s in secrets if s.get("foundIn") == path]
    wanted: dict[Any, str] = {s["name"]: s["envVar"] for s in reversed(mine)}
    wanted.update({(s["name"], int(s.get("line", 0) or 0)): s["envVar"] for s in mine})
    return wanted


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


# -- Liberty -------------------------------------------------------------------------------

def liberty_server(command: JavaCommand, proc: ProcessInfo, host: Host) -> LibertyServer | None:
    cwd = proc.cwd or "/"
    if command.jar and posixpath.basename(command.jar) == LIBERTY_JAR:
        jar = join(cwd, command.jar)
    elif command.main_class == LIBERTY_MAIN:
        candidates = [p for p in command.classpath if posixpath.basename(p) == LIBERTY_JAR]
        agents = [o.split(":", 1)[1].split("=", 1)[0] for o in command.options if o.startswith("-javaagent:")]
        candidates += [join(posixpath.dirname(a), LIBERTY_JAR) for a in agents if a.endswith("ws-javaagent.jar")]
        if not candidates:
            return None
        jar = join(cwd, candidates[0])
    else:
        return None
    wlp = host.realpath(posixpath.dirname(posixpath.dirname(posixpath.dirname(host.realpath(jar)))))
    name = next((a for a in command.args if not a.startswith("-")), "defaultServer")
    user_dir = host.realpath(join(cwd, proc.environ.get("WLP_USER_DIR", "") or join(wlp, "usr")))
    server_dir = join(user_dir, "servers", name)
    output = proc.environ.get("WLP_OUTPUT_DIR", "")
    output_dir = join(host.realpath(join(cwd, output)), name) if output else server_dir
    return LibertyServer(wlp, user_dir, server_dir, output_dir, name)


@dataclass
class LibertyConfig:
    files: list[str]
    features: list[str]
    http_endpoint: dict[str, Any]
    endpoint_file: str
    applications: list[dict[str, Any]]
    data_sources: list[dict[str, Any]]
    dependencies: list[dict[str, Any]]
    findings: list[Finding]


def liberty_variables(host: Host, server: LibertyServer, documents: list[tuple[str, Any]],
                      environ: Mapping[str, str]) -> dict[str, str]:
    """Liberty's configuration variables: built-ins, <variable> defaults and values, bootstrap.properties."""
    values = {
        "wlp.install.dir": server.wlp, "wlp.user.dir": server.user_dir, "server.config.dir": server.server_dir,
        "server.output.dir": server.output_dir, "wlp.server.name": server.name,
        "shared.app.dir": join(server.user_dir, "shared", "apps"),
        "shared.config.dir": join(server.user_dir, "shared", "config"),
        "shared.resource.dir": join(server.user_dir, "shared", "resources"),
    }
    for _, root in documents:
        for variable in elements(root, "variable"):
            if variable.get("defaultValue") is not None:
                values.setdefault(variable.get("name", ""), variable.get("defaultValue", ""))
    for _, root in documents:
        for variable in elements(root, "variable"):
            if variable.get("value") is not None:
                values[variable.get("name", "")] = variable.get("value", "")
    bootstrap = join(server.server_dir, "bootstrap.properties")
    if host.is_file(bootstrap):
        try:
            values.update(parse_properties(host.read_text(bootstrap, limit=configfiles.MAX_CONFIG_FILE)))
        except HostError:
            pass
    values.update({f"env.{k}": v for k, v in environ.items()})
    return values


def resolve(value: str, variables: Mapping[str, str]) -> str:
    for _ in range(5):  # variables may name variables
        new = re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), m.group(0)), value)
        if new == value:
            break
        value = new
    return value


def liberty_documents(host: Host, server: LibertyServer) -> tuple[list[tuple[str, Any]], list[Finding]]:
    """server.xml, its <include>s and configDropins, in the order Liberty merges them."""
    findings: list[Finding] = []
    documents: list[tuple[str, Any]] = []

    def load(path: str, code: str) -> None:
        if any(path == p for p, _ in documents) or len(documents) > 50:
            return
        root, problems = read_xml(host, path, code)
        findings.extend(problems)
        if root is None:
            return
        documents.append((path, root))
        for include in elements(root, "include"):
            location = include.get("location", "")
            if location and "${" not in location and "://" not in location:
                target = join(posixpath.dirname(path), location)
                if host.is_file(target) or include.get("optional") != "true":
                    load(target, "WAS-E004")

    dropins = join(server.server_dir, "configDropins")
    for name in host.glob_names(join(dropins, "defaults"), (".xml",)):
        load(join(dropins, "defaults", name), "WAS-E004")
    load(server.server_xml, "WAS-E003")
    for name in host.glob_names(join(dropins, "overrides"), (".xml",)):
        load(join(dropins, "overrides", name), "WAS-E004")
    return documents, findings


def read_liberty_config(host: Host, server: LibertyServer, environ: Mapping[str, str] | None = None) -> LibertyConfig:
    documents, findings = liberty_documents(host, server)
    variables = liberty_variables(host, server, documents, environ or {})
    features: list[str] = []
    endpoint: dict[str, Any] = {}
    endpoint_file = ""
    apps: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    for path, root in documents:
        for manager in elements(root, "featureManager"):
            features += [(f.text or "").strip() for f in elements(manager, "feature") if (f.text or "").strip()]
        for element in elements(root, "httpEndpoint"):
            if element.get("id", "defaultHttpEndpoint") == "defaultHttpEndpoint" or not endpoint:
                endpoint.update({k: resolve(v, variables) for k, v in element.attrib.items() if "}" not in k})
                endpoint_file = path
        for kind in ("application", "webApplication", "enterpriseApplication"):
            for element in elements(root, kind):
                location = resolve(element.get("location", ""), variables)
                if not location:
                    continue
                base = posixpath.basename(location)
                app_path = location if location.startswith("/") else join(server.server_dir, "apps", location)
                if not location.startswith("/") and not host.exists(app_path) and host.exists(
                        join(variables["shared.app.dir"], location)):
                    app_path = join(variables["shared.app.dir"], location)
                name = element.get("name") or element.get("id") or posixpath.splitext(base)[0]
                context = element.get("contextRoot") or ("/" + posixpath.splitext(base)[0] if kind != "enterpriseApplication"
                                                         or base.endswith(".war") else "")
                apps.append({"name": name, "type": kind, "location": app_path, "contextRoot": resolve(context, variables),
                             "foundIn": path})
        for element in elements(root, "dataSource"):
            source, dep = liberty_data_source(element, variables, path)
            sources.append(source)
            if dep is not None:
                deps.append(dep)
    dropins = join(server.server_dir, "dropins")
    for name in host.glob_names(dropins):
        if name.endswith((".war", ".ear")) and not any(a["location"] == join(dropins, name) for a in apps):
            stem = posixpath.splitext(name)[0]
            apps.append({"name": stem, "type": "dropin", "location": join(dropins, name),
                         "contextRoot": "/" + stem if name.endswith(".war") else "", "foundIn": dropins})
    http = {
        "host": endpoint.get("host", "localhost"),
        "httpPort": _int(endpoint.get("httpPort", ""), DEFAULT_HTTP_PORT),
        "httpsPort": _int(endpoint.get("httpsPort", ""), DEFAULT_HTTPS_PORT),
        "id": endpoint.get("id", "defaultHttpEndpoint"),
    }
    return LibertyConfig([p for p, _ in documents], features, http, endpoint_file, apps, sources, deps, findings)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def liberty_data_source(element: Any, variables: Mapping[str, str], path: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    name = element.get("id") or element.get("jndiName", "")
    props: dict[str, str] = {}
    vendor = ""
    for child in element:
        if isinstance(child.tag, str) and local_name(child).startswith("properties"):
            suffix = local_name(child)[len("properties"):].lstrip(".")
            vendor = {"db2.jcc": "db2", "microsoft.sqlserver": "sqlserver", "derby.embedded": "derby",
                      "derby.client": "derby", "informix.jcc": "informix", "datadirect.sqlserver": "sqlserver",
                      "sybase": "sybase"}.get(suffix, suffix)
            props.update({k: resolve(v, variables) for k, v in child.attrib.items()
                          if "}" not in k and not is_secret_name(k)})
    url = props.get("URL") or props.get("url") or ""
    source = {"name": name, "jndiName": element.get("jndiName", ""), "vendor": vendor, "url": url,
              "serverName": props.get("serverName", ""), "portNumber": props.get("portNumber", ""),
              "databaseName": props.get("databaseName", ""), "user": props.get("user", ""), "foundIn": path}
    if url.lower().startswith("jdbc:"):
        return source, jdbc_dependency(url, path, name=name)
    if source["serverName"]:
        port = source["portNumber"]
        return source, dependency("jdbc", path, host=source["serverName"],
                                  port=ascii_int(port, _VENDOR_PORTS.get(vendor, 0)),
                                  name=name, vendor=vendor, database=source["databaseName"])
    return source, None


def liberty_secrets(root: Any) -> list[AttributeSecret]:
    """Literal secret-named attributes anywhere in a Liberty config file (``${…}`` references are not
    secrets), and <variable> elements whose name is a secret's."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if local_name(element) == "variable" and is_secret_name(element.get("name", "")):
            for attribute in ("value", "defaultValue"):
                if _has_value(element.get(attribute, "")):
                    found.append(AttributeSecret(element.get("name", ""), element, attribute, True))
            continue
        owner = element
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        owner_name = owner.get("id") if owner is not None else local_name(element)
        for attribute, value in element.attrib.items():
            if "}" not in attribute and is_secret_name(attribute) and _has_value(value):
                found.append(AttributeSecret(f"{owner_name}.{attribute}", element, attribute, True))
    return found


def container_http_endpoint(host: Host, path: str, data: bytes | None = None) -> bytes | None:
    """The config file with the HTTP endpoint listening on every interface (``host="*"``), or None.

    Liberty's default ``host`` is localhost: on the host that keeps the server private; in a
    container it would be unreachable from the published port.
    """
    try:
        root = parse_xml(data if data is not None else host.read_bytes(path), path)
    except (UnsafeXML, HostError):
        return None
    changed = data is not None
    found = elements(root, "httpEndpoint")
    for element in found:
        if element.get("host", "localhost") in LOOPBACK_HOSTS:
            element.set("host", "*")
            changed = True
    if not found:  # Liberty's built-in default endpoint: localhost:9080
        endpoint = root.makeelement("httpEndpoint", {"id": "defaultHttpEndpoint", "host": "*"})
        endpoint.tail = "\n"
        root.append(endpoint)
        changed = True
    return serialize_xml(root) if changed else None


def container_server_env(host: Host, path: str) -> bytes | None:
    """server.env without its secret lines (the container gets them from the environment)."""
    try:
        text = host.read_text(path, limit=configfiles.MAX_CONFIG_FILE)
    except HostError:
        return None
    lines, changed = [], False
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if "=" in line and not key.startswith("#") and is_secret_name(key):
            lines.append(f"# {key}: supplied from the environment at run time (a2c)")
            changed = True
        else:
            lines.append(line)
    return ("\n".join(lines) + "\n").encode() if changed else None


def liberty_version(host: Host, wlp: str) -> tuple[str, str]:
    """(version, product name) from lib/versions/*.properties (Open Liberty or WebSphere Liberty)."""
    folder = join(wlp, "lib", "versions")
    best = ("", "")
    for name in host.glob_names(folder, (".properties",)):
        try:
            values = parse_properties(host.read_text(join(folder, name), limit=64 * 1024))
        except HostError:
            continue
        version = values.get("com.ibm.websphere.productVersion", "")
        product = values.get("com.ibm.websphere.productName", "")
        if version and (not best[0] or values.get("com.ibm.websphere.productId") != "io.openliberty"):
            best = (version, product)
    return best


def analyze_liberty(entry: InventoryEntry, proc: ProcessInfo, host: Host, command: JavaCommand,
                    server: LibertyServer) -> AnalyzerResult:
    config = read_liberty_config(host, server, proc.environ)
    findings = list(config.findings)
    version, product = liberty_version(host, server.wlp)
    open_liberty = product == "Open Liberty"
    secrets: list[dict[str, Any]] = []
    for path in config.files:
        try:
            root = parse_xml(host.read_bytes(path), path)
        except (UnsafeXML, HostError):
            continue
        for secret in liberty_secrets(root):
            secrets.append({"name": secret.name, "foundIn": path, "envVar": env_var_for(secret.name),
                            "line": secret.element.sourceline or 0})
    info = common.java_analysis_info(entry, proc, host, command)
    known = {s["envVar"] for s in info.get("secrets", [])}
    server_env = join(server.server_dir, "server.env")
    if host.is_file(server_env):
        try:
            for number, line in enumerate(host.read_text(server_env, limit=configfiles.MAX_CONFIG_FILE).splitlines(), 1):
                key, sep, value = line.partition("=")
                key = key.strip()
                if sep and value.strip() and not key.startswith("#") and is_secret_name(key) and key not in known:
                    secrets.append({"name": key, "foundIn": server_env, "envVar": key, "line": number})
        except HostError:
            pass
    info["AdvancedAppInfo"].update(
        {
            "Directories": {"base": server.server_dir, "wlp": server.wlp, "userDir": server.user_dir,
                            "serverDir": server.server_dir, "outputDir": server.output_dir, "cwd": proc.cwd,
                            "logs": join(server.output_dir, "logs")},
            "distro": "java-websphere",
            "flavor": "open-liberty" if open_liberty else "liberty",
            "version": version,
        }
    )
    http = config.http_endpoint
    info["websphere"] = {
        "flavor": "liberty",
        "product": product,
        "version": version,
        "wlpDir": server.wlp,
        "userDir": server.user_dir,
        "serverDir": server.server_dir,
        "outputDir": server.output_dir,
        "serverName": server.name,
        "features": config.features,
        "httpEndpoint": http,
        "httpEndpointFile": config.endpoint_file or (server.server_xml if config.files else ""),
        "applications": config.applications,
        "dataSources": config.data_sources,
        "configFiles": config.files,
    }
    info["secrets"] = configsecrets.assign_env_vars(list(info.get("secrets", [])) + secrets)
    info["outboundDependencies"] = merge([config.dependencies, info.get("outboundDependencies", [])])
    # The install; the server folder (its own layer, even inside the install); then what lies outside both.
    paths = [server.wlp, server.server_dir]
    shared = join(server.user_dir, "shared")
    for extra in (server.output_dir, shared):
        if host.is_dir(extra) and not any(is_within(extra, p) for p in paths):
            paths.append(extra)
    missing = []
    for app in config.applications:
        location = app["location"]
        if any(is_within(location, p) for p in paths):
            continue
        if host.exists(location):
            paths.append(location)
        else:
            missing.append(location)
    excludes = [join(server.output_dir, d) for d in LIBERTY_TRANSIENT]
    excludes += siblings_within(host, server.server_dir, server.wlp) if server.output_dir == server.server_dir else []
    info["processMode"] = {
        "paths": paths,
        "sources": {p: ("Liberty install (wlp)" if p == server.wlp else "server configuration folder"
                        if p == server.server_dir else "server output folder" if p == server.output_dir
                        else "shared resources" if p == shared else "application") for p in paths},
        "serverPaths": [server.wlp],
        "excludes": list(dict.fromkeys(excludes)),
        "excludeNames": list(DUMP_NAMES),
        "writableDirs": [server.output_dir] + [join(server.output_dir, d) for d in LIBERTY_TRANSIENT] + [
            join(posixpath.dirname(server.output_dir), ".pid")],
        "javaHome": info["AdvancedAppInfo"].get("javaHome", ""),
    }
    port = http["httpPort"] if http["httpPort"] > 0 else http["httpsPort"]
    environment = dict(common.application_environment(proc, host))
    environment.update({k: v for k, v in proc.environ.items() if k in LIBERTY_ENV})
    params = common.java_container_parameters(
        entry, info, environment, applicationMode=False, applicationPort=port,
        logLocations=[join(server.output_dir, "logs")], healthCheckPath=liberty_health_path(config),
    )
    for path in missing:
        findings.append(Finding("WAS-W006", "warning", f"application {path} is not on this host; add where it really "
                                "is to appSpecificFiles", path))
    if not config.files:
        findings.append(Finding("WAS-W007", "warning", "no server.xml read: ports and applications are defaults",
                                server.server_xml))
    findings += common.runtime_findings(info)
    name = "Open Liberty" if open_liberty else "WebSphere Liberty"
    image = "icr.io/appcafe/open-liberty" if open_liberty else "icr.io/appcafe/websphere-liberty"
    findings.append(Finding(
        "WAS-I001", "info",
        f"{' '.join(p for p in (name, version) if p)} server {server.name} is containerized in process mode: the Liberty install, the server "
        "folder and the applications are copied as they are and the server starts with its own command line. "
        + ("" if open_liberty else "WebSphere Liberty is licensed software: check that your IBM licence covers "
           "running it in containers on AWS. ")
        + f"IBM's supported path is its official {name} images ({image}) with this server.xml and the applications "
        "copied in (and features installed by the image's scripts)",
    ))
    if secrets:
        findings.append(Finding(
            "WAS-W001", "warning", "passwords in the server configuration are not in the image: server.xml refers to "
            "${env.A2C_SECRET_…} variables instead, which Liberty reads from the environment; supply each as it is on "
            "the host ({xor}/{aes} encoded values are accepted) or in clear text", server.server_xml))
    if http["host"] in LOOPBACK_HOSTS:
        findings.append(Finding("WAS-I002", "info", f"the HTTP endpoint listens on {http['host']} only; the image's "
                                "configuration listens on every interface (host=\"*\") so the published port reaches it",
                                config.endpoint_file or server.server_xml))
    return AnalyzerResult(info, params, tuple(findings))


def liberty_health_path(config: LibertyConfig) -> str:
    if any(f.lower().startswith("mphealth-") for f in config.features):
        return "/health"
    roots = [a["contextRoot"] for a in config.applications if a["contextRoot"]]
    return ("/" + roots[0].strip("/") + "/").replace("//", "/") if roots else "/"
