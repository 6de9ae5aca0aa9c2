"""Oracle WebLogic Server (process mode): the domain from config.xml, the server from its Oracle home.

WebLogic cannot be rebuilt from the host in application mode: Oracle licenses the server
and publishes its own images, so a2c copies what the running server uses — the Oracle home,
the domain and the applications' source paths — and starts it with its own command line.
What a2c leaves out of the domain: each server's ``logs``, ``tmp`` (exploded applications,
compiled JSPs) and ``cache`` (rebuilt at start), and ``data/store`` — the default persistent
store (JMS messages, JTA transaction log) is this host's state: copied into every replica it
would replay or duplicate messages and in-doubt transactions. ``data/ldap`` (the embedded
LDAP holding users, groups and policies) stays: without it the admin server rebuilds the
realm from the domain's initial files and loses what was added since.

Credentials to outside systems (data source passwords, the boot identity) never enter the
image: the copied files hold ``${A2C_SECRET_…}`` placeholders that the entry script fills
from the environment at start. The domain's own key material (security/SerializedSystemIni.dat
and the ``*-encrypted`` credentials in config.xml) stays: WebLogic cannot start without it.

The helpers at the end (``server_process_plan`` and friends) are shared with the websphere package.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterable, Mapping

from a2c.analyzers.common.numbers import ascii_int, is_ascii_int
from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common.archives import BadArchive, open_zip, read_member
from a2c.analyzers.common.properties import parse_manifest
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import env_var_for, is_secret_name
from a2c.analyzers.java import common
from a2c.analyzers.common import configsecrets
from a2c.analyzers.common.dependencies import jdbc_dependency, merge
from a2c.analyzers.java.generic import DUMP_NAMES, server_process_plan, siblings_within, template_file
from a2c.analyzers.java.jvm import JavaCommand, default_base_image, is_java, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, Detection, Finding, InventoryEntry, ProcessInfo

MAIN_CLASS = "weblogic.Server"
DEFAULT_LISTEN_PORT = 7001
DEFAULT_SSL_PORT = 7002
DEFAULT_SERVER_NAME = "myserver"  # what weblogic.Server calls itself without -Dweblogic.Name
# Under <domain>/servers/<name>/: rebuilt at start, or host-only state (see the module docstring).
TRANSIENT_SERVER_DIRS = ("logs", "tmp", "cache", "data/store")
# WebLogic 12.2.1.3 and later answer 200 here once the server is RUNNING (what the Kubernetes operator probes).
READY_PATH = "/weblogic/ready"
READY_SINCE = (12, 2, 1, 3)
# Elements of a JDBC descriptor that hold a data source's credential.
_DESCRIPTOR_SECRET_ELEMENTS = ("password-encrypted",)


class WebLogicAnalyzer(JavaAnalyzer):
    id = "java-weblogic"
    runtime = "java"
    application_type = "java-weblogic"
    priority = 30
    description = "Oracle WebLogic Server (weblogic.Server), containerized in process mode"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        if command is None or not is_weblogic_server(command):
            return None
        domain = domain_dir(command, proc, host)
        config, _ = read_config(host, domain)
        parsed = parse_domain(config) if config is not None else empty_domain()
        server = server_name(command, parsed)
        apps = [d["name"] for d in parsed["deployments"] if targets_server(d["targets"], server, parsed)]
        return Detection(self.id, self.application_type, identity=f"weblogic:{domain}:{server}", base_dir=domain,
                         web_apps=tuple(apps))

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        props = command.system_properties
        domain = domain_dir(command, proc, host)
        config, findings = read_config(host, domain)
        parsed = parse_domain(config) if config is not None else empty_domain()
        server = server_name(command, parsed)
        this = next((s for s in parsed["servers"] if s["name"] == server), None)
        if config is not None and this is None:
            findings.append(Finding("WLS-W006", "warning", f"server {server} is not defined in config.xml; "
                                    f"using WebLogic's default ports", join(domain, "config", "config.xml")))
        this = dict(this or server_defaults(server))
        if is_ascii_int(props.get("weblogic.ListenPort", "")):
            this["listenPort"] = int(props["weblogic.ListenPort"])
        if "weblogic.ListenAddress" in props:
            this["listenAddress"] = props["weblogic.ListenAddress"]
        wl_home = weblogic_home(command, proc, host)
        oracle_home = oracle_home_of(host, wl_home)
        if not wl_home:
            findings.append(Finding("WLS-W007", "warning", "WebLogic home not found (no -Dweblogic.home, -Dwls.home or "
                                    "weblogic.jar on the class path); add it to appSpecificFiles"))
        version = server_version(host, wl_home) or parsed["domainVersion"]
        deployments = [dict(d, sourcePath=join(domain, d["sourcePath"]) if d["sourcePath"] else "",
                            onThisServer=targets_server(d["targets"], server, parsed)) for d in parsed["deployments"]]
        libraries = [dict(d, sourcePath=join(domain, d["sourcePath"]) if d["sourcePath"] else "",
                          onThisServer=targets_server(d["targets"], server, parsed)) for d in parsed["libraries"]]
        data_sources, secrets, ds_findings = read_data_sources(host, domain, parsed, server)
        findings += ds_findings
        boot_path = join(domain, "servers", server, "security", "boot.properties")
        boot_secrets = boot_identity_secrets(host, boot_path, server)
        secrets += boot_secrets

        info = common.java_analysis_info(entry, proc, host, command)
        info["AdvancedAppInfo"].update(
            {
                "Directories": {
                    "base": domain,
                    "domain": domain,
                    "cwd": proc.cwd,
                    "wlHome": wl_home,
                    "oracleHome": oracle_home,
                    "logs": join(domain, "servers", server, "logs"),
                },
                "distro": "java-weblogic",
                "flavor": "admin" if is_admin(server, parsed, props) else "managed",
                "version": version,
            }
        )
        info["weblogic"] = {
            "domainName": parsed["name"] or posixpath.basename(domain),
            "domainHome": domain,
            "domainVersion": parsed["domainVersion"],
            "version": version,
            "wlHome": wl_home,
            "oracleHome": oracle_home,
            "serverName": server,
            "adminServerName": parsed["adminServerName"],
            "isAdminServer": is_admin(server, parsed, props),
            "adminServerUrl": props.get("weblogic.management.server", ""),
            "productionMode": parsed["productionMode"] or props.get("weblogic.ProductionModeEnabled") == "true",
            "listenPort": this["listenPort"] if this["listenPortEnabled"] else 0,
            "listenAddress": this["listenAddress"],
            "sslListenPort": this["sslListenPort"] if this["sslEnabled"] else 0,
            "cluster": this["cluster"],
            "machine": this["machine"],
            "servers": parsed["servers"],
            "clusters": parsed["clusters"],
            "deployments": deployments,
            "libraries": libraries,
            "dataSources": data_sources,
            "bootProperties": boot_path if boot_secrets else "",
        }
        info["secrets"] = configsecrets.assign_env_vars(list(info.get("secrets", [])) + secrets)
        info["outboundDependencies"] = merge([
            [jdbc_dependency(ds["url"], ds["descriptor"], name=ds["name"]) for ds in data_sources
             if ds["url"] and ds["onThisServer"]],
            info.get("outboundDependencies", []),
        ])
        paths, missing = process_paths(oracle_home, domain, [d for d in deployments + libraries if d["onThisServer"]], host)
        for path in missing:
            findings.append(Finding("WLS-W005", "warning", f"application source {path} is not on this host; "
                                    f"add where it really is to appSpecificFiles", path))
        server_names = sorted({s["name"] for s in parsed["servers"]} | set(host.glob_names(join(domain, "servers")))
                              | {server})
        info["processMode"] = {
            "paths": paths,
            "sources": path_sources(paths, oracle_home, domain),
            "serverPaths": [oracle_home] if oracle_home else [],
            "excludes": excluded_paths(host, domain, server_names, oracle_home),
            "excludeNames": list(DUMP_NAMES),
            "writableDirs": writable_dirs(domain, server),
            "javaHome": info["AdvancedAppInfo"].get("javaHome", ""),
        }
        port = application_port(this, proc, entry)
        params = common.java_container_parameters(
            entry,
            info,
            common.application_environment(proc, host),
            applicationMode=False,
            applicationPort=port,
            # A JDK, as Oracle's own images (Server JRE): JSP compilation and some tools need javac.
            containerBaseImage=jdk_base_image(info["AdvancedAppInfo"].get("javaMajorVersion", 0)),
            logLocations=[join(domain, "servers", server, "logs")],
            healthCheckPath=health_path(version, deployments),
        )
        findings += common.runtime_findings(info)
        findings += weblogic_findings(info["weblogic"], config, domain, host, templated=bool(secrets))
        return AnalyzerResult(info, params, tuple(findings))

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info = analysis["analysisInfo"]
        wls = info.get("weblogic", {})
        generated: dict[str, bytes] = {}
        render: dict[str, tuple[str, ...]] = {}
        secrets = info.get("secrets", [])
        for ds in wls.get("dataSources", []):
            path = ds.get("descriptor", "")
            wanted = _wanted(secrets, path)
            if wanted:
                template_file(host, path, generated, render,
                              lambda data, p, n=ds.get("name", ""), w=wanted: template_descriptor(data, p, n, w))
        boot = wls.get("bootProperties", "")
        if boot:
            file_secrets = [configsecrets.FileSecret(boot, s["name"], s["envVar"], int(s.get("line", 0)))
                            for s in secrets if s.get("foundIn") == boot]
            template_file(host, boot, generated, render, lambda data, p: configsecrets.template(p, data, file_secrets))
        domain = wls.get("domainHome", "")
        if domain and wls.get("serverName"):
            config_path = join(domain, "config", "config.xml")
            patched = container_config_xml(host, config_path, wls["serverName"])
            if patched is not None:
                generated[config_path] = patched
        return server_process_plan(analysis, host, generated, render)


# -- detection -----------------------------------------------------------------------------

def is_weblogic_server(command: JavaCommand) -> bool:
    """weblogic.Server as the main class, or handed to a wrapper (Tanuki, a launcher) with WebLogic's
    own system properties. Node Manager, WLST and weblogic.Deployer are other main classes: not servers."""
    if command.main_class == MAIN_CLASS:
        return True
    hinted = any(k in command.system_properties for k in ("weblogic.Name", "weblogic.home", "wls.home",
                                                           "weblogic.management.server"))
    return hinted and MAIN_CLASS in command.args


def domain_dir(command: JavaCommand, proc: ProcessInfo, host: Host) -> str:
    """startWebLogic.sh and Node Manager start the server in the domain directory; an explicit
    -Dweblogic.RootDirectory / -Ddomain.home (or DOMAIN_HOME) wins when it holds config/config.xml."""
    cwd = proc.cwd or "/"
    props = command.system_properties
    candidates = [props.get("weblogic.RootDirectory", ""), props.get("domain.home", ""),
                  proc.environ.get("DOMAIN_HOME", ""), cwd]
    resolved = [host.realpath(join(cwd, c)) for c in candidates if c]
    for candidate in resolved:
        if host.is_file(join(candidate, "config", "config.xml")):
            return candidate
    return resolved[0]


def server_name(command: JavaCommand, parsed: Mapping[str, Any]) -> str:
    return (command.system_properties.get("weblogic.Name") or parsed.get("adminServerName")
            or DEFAULT_SERVER_NAME)


def is_admin(server: str, parsed: Mapping[str, Any], props: Mapping[str, str]) -> bool:
    if props.get("weblogic.management.server"):
        return False
    return not parsed["adminServerName"] or parsed["adminServerName"] == server


def weblogic_home(command: JavaCommand, proc: ProcessInfo, host: Host) -> str:
    """WL_HOME (…/wlserver): -Dweblogic.home and -Dwls.home name its server/ folder; else the
    folder of weblogic.jar on the class path (-cp, or CLASSPATH with -Dlaunch.use.env.classpath)."""
    props = command.system_properties
    cwd = proc.cwd or "/"
    for key in ("weblogic.home", "wls.home"):
        value = props.get(key, "")
        if value:
            path = host.realpath(join(cwd, value))
            return posixpath.dirname(path) if posixpath.basename(path) == "server" else path
    classpath = list(command.classpath) + proc.environ.get("CLASSPATH", "").split(":")
    for entry in classpath:
        if posixpath.basename(entry) in ("weblogic.jar", "weblogic-launcher.jar") and "/server/lib/" in entry:
            lib = host.realpath(join(cwd, entry))
            return posixpath.dirname(posixpath.dirname(posixpath.dirname(lib)))
    wl_home = proc.environ.get("WL_HOME", "")
    return host.realpath(join(cwd, wl_home)) if wl_home else ""


def oracle_home_of(host: Host, wl_home: str) -> str:
    """The folder to copy for the server. From 12c, weblogic.jar's manifest reaches into
    ORACLE_HOME/oracle_common (and 10.3/11g into MW_HOME/modules), so the parent of WL_HOME goes
    whole when it looks like one; otherwise WL_HOME alone."""
    if not wl_home:
        return ""
    parent = posixpath.dirname(wl_home)
    if parent != "/" and any(host.is_dir(join(parent, n)) for n in ("oracle_common", "modules")):
        return parent
    return wl_home


def server_version(host: Host, wl_home: str) -> str:
    if not wl_home:
        return ""
    try:
        with open_zip(host, join(wl_home, "server", "lib", "weblogic.jar")) as archive:
            data = read_member(archive, "META-INF/MANIFEST.MF")
    except (HostError, BadArchive):
        return ""
    return parse_manifest(decode_text(data)).get("Implementation-Version", "") if data else ""


# -- config.xml ----------------------------------------------------------------------------

def read_config(host: Host, domain: str) -> tuple[Any, list[Finding]]:
    path = join(domain, "config", "config.xml")
    try:
        return parse_xml(host.read_bytes(path), path), []
    except UnsafeXML as exc:
        return None, [Finding("WLS-E001", "error", exc.message, path)]
    except HostError as exc:
        return None, [Finding("WLS-E001", "error", f"config.xml not read: {exc.message}", path)]


def children(element: Any, name: str) -> list[Any]:
    return [c for c in element if isinstance(c.tag, str) and local_name(c) == name]


def child_text(element: Any, name: str, default: str = "") -> str:
    found = children(element, name)
    if not found or found[0].get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true":
        return default
    return (found[0].text or "").strip() or default


def _port(text: str, default: int) -> int:
    return ascii_int(text, default)


def server_defaults(name: str) -> dict[str, Any]:
    return {"name": name, "listenPort": DEFAULT_LISTEN_PORT, "listenPortEnabled": True, "listenAddress": "",
            "sslEnabled": False, "sslListenPort": DEFAULT_SSL_PORT, "machine": "", "cluster": ""}


def empty_domain() -> dict[str, Any]:
    return {"name": "", "domainVersion": "", "adminServerName": "", "productionMode": False, "servers": [],
            "clusters": [], "deployments": [], "libraries": [], "jdbcResources": []}


def parse_domain(root: Any) -> dict[str, Any]:
    """What a2c needs from config.xml; WebLogic leaves defaults out of the file (listen port 7001…)."""
    parsed = empty_domain()
    parsed.update(name=child_text(root, "name"), domainVersion=child_text(root, "domain-version"),
                  adminServerName=child_text(root, "admin-server-name"),
                  productionMode=child_text(root, "production-mode-enabled") == "true")
    for element in children(root, "server"):
        server = server_defaults(child_text(element, "name"))
        server.update(
            listenPort=_port(child_text(element, "listen-port"), DEFAULT_LISTEN_PORT),
            listenPortEnabled=child_text(element, "listen-port-enabled", "true") == "true",
            listenAddress=child_text(element, "listen-address"),
            machine=child_text(element, "machine"),
            cluster=child_text(element, "cluster"),
        )
        for ssl in children(element, "ssl"):
            server.update(sslEnabled=child_text(ssl, "enabled") == "true",
                          sslListenPort=_port(child_text(ssl, "listen-port"), DEFAULT_SSL_PORT))
        parsed["servers"].append(server)
    parsed["clusters"] = [child_text(c, "name") for c in children(root, "cluster")]
    for kind, key in (("app-deployment", "deployments"), ("library", "libraries")):
        for element in children(root, kind):
            parsed[key].append({
                "name": child_text(element, "name"),
                "sourcePath": child_text(element, "source-path"),
                "targets": split_targets(child_text(element, "target")),
                "moduleType": child_text(element, "module-type"),
            })
    for element in children(root, "jdbc-system-resource"):
        parsed["jdbcResources"].append({
            "name": child_text(element, "name"),
            "targets": split_targets(child_text(element, "target")),
            "descriptorFile": child_text(element, "descriptor-file-name"),
        })
    return parsed


def split_targets(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def targets_server(targets: list[str], server: str, parsed: Mapping[str, Any]) -> bool:
    cluster = next((s["cluster"] for s in parsed["servers"] if s["name"] == server), "")
    return server in targets or bool(cluster and cluster in targets)


def application_port(server: Mapping[str, Any], proc: ProcessInfo, entry: InventoryEntry) -> int:
    if server["listenPortEnabled"]:
        return int(server["listenPort"])
    if server["sslEnabled"]:
        return int(server["sslListenPort"])
    return entry.ports[0] if entry.ports else DEFAULT_LISTEN_PORT


def jdk_base_image(major: int) -> str:
    image = default_base_image(major or 8)  # WebLogic 12.2.1.x runs on Java 8
    return image[: -len("-jre")] + "-jdk" if image.endswith("-jre") else image


def health_path(version: str, deployments: list[dict[str, Any]]) -> str:
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:4])
    if numbers and numbers >= READY_SINCE:
        return READY_PATH
    web = [d["name"] for d in deployments if d["onThisServer"] and d["moduleType"] in ("war", "")]
    return f"/{web[0]}/" if web else "/"


def container_config_xml(host: Host, path: str, server: str) -> bytes | None:
    """config.xml with this server's listen address cleared (listen on every interface), or None.

    On the host the server binds its machine's name or address; in a container that address
    does not exist and the server would not start. Everything else is kept as it is.
    """
    try:
        root = parse_xml(host.read_bytes(path), path)
    except (UnsafeXML, HostError):
        return None
    changed = False
    for element in children(root, "server"):
        if child_text(element, "name") != server:
            continue
        for address in children(element, "listen-address"):
            if (address.text or "").strip():
                address.text = ""
                changed = True
    return serialize_xml(root) if changed else None


# -- data sources and the boot identity ----------------------------------------------------

def read_data_sources(host: Host, domain: str, parsed: Mapping[str, Any],
                      server: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Finding]]:
    """Each jdbc-system-resource's descriptor: URL, driver, user and where its password is (never the value)."""
    sources: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for resource in parsed["jdbcResources"]:
        path = join(domain, "config", resource["descriptorFile"] or f"jdbc/{resource['name']}-jdbc.xml")
        source = {"name": resource["name"], "descriptor": path, "targets": resource["targets"],
                  "onThisServer": targets_server(resource["targets"], server, parsed),
                  "url": "", "driver": "", "user": "", "jndiNames": []}
        try:
            root = parse_xml(host.read_bytes(path), path)
        except UnsafeXML as exc:
            findings.append(Finding("WLS-E002", "error", exc.message, path))
            sources.append(source)
            continue
        except HostError as exc:
            findings.append(Finding("WLS-E002", "error", f"JDBC descriptor not read: {exc.message}", path))
            sources.append(source)
            continue
        for params in children(root, "jdbc-driver-params"):
            source["url"] = child_text(params, "url")
            source["driver"] = child_text(params, "driver-name")
            for props in children(params, "properties"):
                for prop in children(props, "property"):
                    if child_text(prop, "name") == "user":
                        source["user"] = child_text(prop, "value") or child_text(prop, "sys-prop-value")
        for params in children(root, "jdbc-data-source-params"):
            source["jndiNames"] = [(e.text or "").strip() for e in children(params, "jndi-name")]
        for name, line, _ in descriptor_secrets(root, resource["name"]):
            secrets.append({"name": name, "foundIn": path, "envVar": env_var_for(name), "line": line})
        sources.append(source)
    return sources, secrets, findings


def descriptor_secrets(root: Any, ds_name: str) -> list[tuple[str, int, Any]]:
    """(secret name, line, element whose text is the secret) in a JDBC descriptor: the
    password-encrypted element and any secret-named driver property given by value."""
    found: list[tuple[str, int, Any]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = local_name(element)
        if name in _DESCRIPTOR_SECRET_ELEMENTS and (element.text or "").strip():
            found.append((f"{ds_name}.password", element.sourceline or 0, element))
        elif name == "property":
            prop = child_text(element, "name")
            for key in ("value", "encrypted-value-encrypted"):
                value = children(element, key)
                if is_secret_name(prop) and value and (value[0].text or "").strip():
                    found.append((f"{ds_name}.{prop}", value[0].sourceline or 0, value[0]))
    return found


def template_descriptor(data: bytes, path: str, ds_name: str, wanted: Mapping[Any, str]) -> bytes:
    """The descriptor with each listed secret replaced by its ``${ENV}`` placeholder."""
    root = parse_xml(data, path)
    for name, line, element in descriptor_secrets(root, ds_name):
        env_var = wanted.get((name, line)) or wanted.get(name)
        if env_var:
            element.text = f"${{{env_var}}}"
    return serialize_xml(root)


def _wanted(secrets: list[dict[str, Any]], path: str) -> dict[Any, str]:
    """The variables of one file's secrets by (name, line), and by name for a line that moved."""
    mine = [s for s in secrets if s.get("foundIn") == path]
    wanted: dict[Any, str] = {s["name"]: s["envVar"] for s in reversed(mine)}
    wanted.update({(s["name"], int(s.get("line", 0) or 0)): s["envVar"] for s in mine})
    return wanted


def boot_identity_secrets(host: Host, path: str, server: str) -> list[dict[str, Any]]:
    """servers/<name>/security/boot.properties: the admin identity the server boots with (both
    lines are secrets: WebLogic keeps the user name encrypted too)."""
    if not host.is_file(path):
        return []
    try:
        text = host.read_text(path, limit=64 * 1024)
    except HostError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key in ("username", "password") and value.strip():
            found.append({"name": key, "foundIn": path, "envVar": env_var_for(f"{server}.boot.{key}"), "line": number})
    return found


# -- what the image gets -------------------------------------------------------------------

def process_paths(oracle_home: str, domain: str, apps: list[dict[str, Any]], host: Host) -> tuple[list[str], list[str]]:
    """Oracle home, domain, then the source paths of this server's applications and libraries
    that lie outside both; plus the sources missing on the host."""
    paths = [p for p in (oracle_home, domain) if p]
    missing = []
    for app in apps:
        source = app["sourcePath"]
        if not source or any(is_within(source, p) for p in paths):
            continue
        if host.exists(source):
            paths.append(source)
        else:
            missing.append(source)
    return paths, missing


def path_sources(paths: list[str], oracle_home: str, domain: str) -> dict[str, str]:
    why = {oracle_home: "Oracle home (the WebLogic server)", domain: "domain home"}
    return {p: why.get(p, "source path of an application or library of this server") for p in paths}


def excluded_paths(host: Host, domain: str, server_names: Iterable[str], oracle_home: str) -> list[str]:
    """Exact paths left out (each excludes what lies under it): every server's transient folders,
    other domains beside this one inside the Oracle home, and OPatch's backups."""
    excluded = [join(domain, "servers", name, sub) for name in server_names for sub in TRANSIENT_SERVER_DIRS]
    if oracle_home:
        excluded += siblings_within(host, domain, oracle_home)
        if host.exists(join(oracle_home, ".patch_storage")):
            excluded.append(join(oracle_home, ".patch_storage"))
    return excluded


def writable_dirs(domain: str, server: str) -> list[str]:
    server_dir = join(domain, "servers", server)
    return [domain, join(domain, "config"), server_dir, join(server_dir, "data")] + [
        join(server_dir, sub) for sub in TRANSIENT_SERVER_DIRS]


def weblogic_findings(wls: Mapping[str, Any], config: Any, domain: str, host: Host, templated: bool) -> list[Finding]:
    product = f"WebLogic {wls['version']}" if wls["version"] else "WebLogic"
    findings = [Finding(
        "WLS-I001", "info",
        f"{product} domain {wls['domainName']} (server {wls['serverName']}) is containerized in process mode: the "
        "Oracle home, the domain and the applications are copied as they are and the server starts with its own "
        "command line. WebLogic is licensed software: check that your Oracle licence covers running it in containers "
        "on AWS. Oracle's supported path is its WebLogic Server images "
        "(container-registry.oracle.com/middleware/weblogic) run by the WebLogic Kubernetes Operator, with the domain "
        "described as a WebLogic Deploy Tooling model",
    )]
    store = join(domain, "servers", wls["serverName"], "data", "store")
    if host.glob_names(store):
        findings.append(Finding("WLS-I002", "info", "the default persistent store (JMS messages, transaction log) "
                                "stays on the host: each container starts with an empty store; drain JMS destinations "
                                "and complete transactions before moving traffic", store))
    if templated:
        findings.append(Finding(
            "WLS-W001", "warning",
            "the data source passwords and the boot identity are not in the image: the copied files hold ${A2C_SECRET_…} "
            "placeholders filled from the environment at start. Supply each as it is on the host (the {AES256}… text, "
            "which the domain key in the image decrypts) or in clear text for boot.properties",
        ))
    if config is not None:
        kept = sorted({f"{local_name(e.getparent())}/{local_name(e)}" for e in config.iter()
                       if isinstance(e.tag, str) and local_name(e).endswith("-encrypted") and (e.text or "").strip()})
        if kept:
            findings.append(Finding(
                "WLS-W002", "warning",
                f"config.xml holds the domain's own encrypted credentials ({', '.join(kept)}) and security/"
                "SerializedSystemIni.dat holds the key: they stay in the image, which WebLogic cannot start without; "
                "keep the image in a private repository", join(domain, "config", "config.xml")))
    if wls["cluster"]:
        findings.append(Finding("WLS-W003", "warning", f"server {wls['serverName']} is a member of cluster "
                                f"{wls['cluster']}: a2c containerizes one server; clusters belong to the WebLogic "
                                "Kubernetes Operator"))
    if wls["adminServerUrl"]:
        findings.append(Finding("WLS-W004", "warning", f"managed server of the domain administered at "
                                f"{wls['adminServerUrl']}: the container must reach that admin server"))
    return findings


