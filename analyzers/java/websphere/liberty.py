"""WebSphere Liberty and Open Liberty: a server of a user directory, read from its server.xml.

Liberty runs ``-jar <wlp>/bin/tools/ws-server.jar <server>``: everything comes from the server's
server.xml (plus its includes and configDropins). Left out of the image: the server's logs and
workarea.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Mapping

from a2c.analyzers.common import configfiles, configsecrets
from a2c.analyzers.common.dependencies import dependency, jdbc_dependency, merge
from a2c.analyzers.common.numbers import ascii_int
from a2c.analyzers.common.properties import parse_properties
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

LIBERTY_JAR = "ws-server.jar"
LIBERTY_MAIN = "com.ibm.ws.kernel.boot.cmdline.EnvCheck"
# Server folders holding this host's state (see the module docstring).
LIBERTY_TRANSIENT = ("logs", "workarea")
# Variables Liberty's launcher reads itself (the rest of server.env is read by the shell script only).
LIBERTY_ENV = ("WLP_USER_DIR", "WLP_OUTPUT_DIR", "LOG_DIR", "LOG_FILE", "X_LOG_DIR", "X_LOG_FILE")
DEFAULT_HTTPS_PORT = 9443


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
