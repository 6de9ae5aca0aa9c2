"""JBoss EAP / WildFly in standalone mode (application mode): the server from jboss.home.dir,
the application from jboss.server.base.dir.

What is claimed: ``java … -jar <home>/jboss-modules.jar [-mp|-modulepath|--module-path <modules>]
org.jboss.as.standalone [server arguments]`` (also jboss-modules on the class path with
``org.jboss.modules.Main``; JVM options such as ``-Djboss.modules.system.pkgs=…`` before ``-jar``
change nothing). Server arguments after the module name are read the way WildFly reads them:
``-Dname=value``, ``-P``/``--properties`` files, ``-b``/``-b=``/``-b<interface>``, ``-c``/
``--server-config``/``--read-only-server-config`` (and ``-Djboss.server.default.config``).

Domain mode is not claimed: the process controller and host controller
(``org.jboss.as.process-controller``, ``org.jboss.as.host-controller``) and the servers they start
(``org.jboss.as.server``) are managed from domain.xml, which this analyzer does not model; detect
returns None and java-generic lists them.

Deployments, as the running server sees them: an archive in the scanner's folder
(``*.war|*.ear|*.jar``) counts only when its marker says it is deployed or about to be
(``.deployed``, ``.dodeploy``, ``.isdeploying``, ``.pending``); ``.failed``, ``.undeployed``,
``.skipdeploy`` or no marker at all leave it out. An exploded directory counts unless a
``.failed``/``.undeployed``/``.skipdeploy`` marker says otherwise. Deployments persisted in
standalone.xml (``jboss-cli deploy``) count too: managed ones live in the content repository
(``data/content/<sha1>``), which is copied into the image although the rest of data/ is not.

Secrets: every password in the server configuration (datasource ``<password>``/``password=``,
``credential-reference clear-text``, secret-named ``xa-datasource-property``/``module-option``/
``property``, a ``password=`` inside a JDBC URL) is reported as ``****`` with an entry in
``analysisInfo.secrets``; the image gets a standalone.xml where each one is a ``${env.…}``
expression, resolved by WildFly from the container's environment. Other server
configurations in the configuration folder that hold passwords, and standalone_xml_history/
(WildFly's copies of the configuration), stay out of the image.

Writable at run time: data, log, tmp, configuration/standalone_xml_history (WildFly copies the
configuration there at boot), the content repository, and the scanner's deployments folder (the
scanner refuses a folder it cannot write and rewrites its markers on every boot).

The version is the product's own (bin/product.conf's slot, then the product module's manifest,
then version.txt); jboss-modules' version is reported apart as ``jbossModulesVersion``, never as the
server's (WildFly 26 ships jboss-modules 2.0).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common.archives import read_text_member
from a2c.analyzers.common.properties import parse_manifest, parse_properties
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import MASK, env_var_for, is_secret_name, mask_cmdline, mask_mapping
from a2c.analyzers.java import common
from a2c.analyzers.common import configsecrets, dependencies
from a2c.analyzers.java.jvm import JavaCommand, is_java, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo

MODULES_JAR = "jboss-modules.jar"
MODULES_MAIN = "org.jboss.modules.Main"
STANDALONE = "org.jboss.as.standalone"
DEFAULT_CONFIG = "standalone.xml"
DEPLOYABLE = (".war", ".ear", ".jar")
DEPLOYED_MARKERS = (".deployed", ".dodeploy", ".isdeploying", ".pending")
NOT_DEPLOYED_MARKERS = (".failed", ".undeployed", ".skipdeploy")
WILDCARD = {"0.0.0.0", "::", "[::]"}
CONFIG_READ_LIMIT = 8 * 1024 * 1024

# jboss-modules' own options that take a value (its module name is the first other argument).
_MODULES_OPTIONS_WITH_VALUE = {
    "-mp", "-modulepath", "--module-path", "-jaxpmodule", "-logmodule", "-dep", "-dependencies",
    "-cp", "-classpath", "-config", "-secmgrmodule", "-add-provider", "-addindex",
}
_MODULE_PATH_OPTIONS = ("-mp", "-modulepath", "--module-path")
_CONFIG_OPTIONS = ("-c", "--server-config", "--read-only-server-config")
_PROPERTIES_OPTIONS = ("-P", "--properties")

# Default ports of the JDBC drivers whose URLs we read; h2's is its TCP server's.
# A password inside a JDBC URL: ?password=x / ;password=x, //user:pass@host, oracle thin:user/pass@.
_URL_SECRETS = (
    re.compile(r"(?i)([?&;:]password=)([^&;]*)"),
    re.compile(r"(//[^/@:?;]+:)([^@/?;]*)(?=@)"),
    re.compile(r"(?i)(:thin:[^@/:]+/)([^@]*)(?=@)"),
)


# -- command line ------------------------------------------------------------------------------

@dataclass(frozen=True)
class JBossCommand:
    """A java command line that starts a server through jboss-modules."""

    java: JavaCommand
    modules_jar: str
    module: str
    module_path: tuple[str, ...] = ()
    server_args: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)  # the server arguments' -D, -b, -u
    property_files: tuple[str, ...] = ()
    server_config: str = ""  # the -c / --server-config value as given ("" = the default)

    @property
    def standalone(self) -> bool:
        return self.module == STANDALONE


def parse_jboss_cmdline(cmdline: tuple[str, ...] | list[str]) -> JBossCommand | None:
    """The jboss-modules launch in a java command line, or None when the process is something else."""
    java = parse_java_cmdline(cmdline)
    if java is None:
        return None
    if java.jar and posixpath.basename(java.jar) == MODULES_JAR:
        modules_jar, rest = java.jar, list(java.args)
    elif java.main_class == MODULES_MAIN:
        jars = [p for p in java.classpath if posixpath.basename(p) == MODULES_JAR]
        if not jars:
            return None
        modules_jar, rest = jars[0], list(java.args)
    else:
        return None
    module_path: list[str] = []
    index = 0
    module = ""
    while index < len(rest):
        arg = rest[index]
        key, sep, value = arg.partition("=")
        if key in _MODULES_OPTIONS_WITH_VALUE and not sep:
            value = rest[index + 1] if index + 1 < len(rest) else ""
            index += 1
        if key in _MODULE_PATH_OPTIONS:
            module_path += [p for p in value.split(":") if p]
        elif not arg.startswith("-"):
            module = arg
            break
        index += 1
    if not module:
        return None
    props, files, config = parse_server_args(rest[index + 1:])
    default_config = props.get("jboss.server.default.config") or java.system_properties.get("jboss.server.default.config", "")
    return JBossCommand(java, modules_jar, module, tuple(module_path), tuple(rest[index + 1:]), props, tuple(files),
                        config or default_config)


def parse_server_args(args: list[str] | tuple[str, ...]) -> tuple[dict[str, str], list[str], str]:
    """System properties, property files and the configuration name from WildFly's own arguments."""
    props: dict[str, str] = {}
    files: list[str] = []
    config = ""
    index = 0

    def value_of(arg: str) -> str:
        nonlocal index
        key, sep, value = arg.partition("=")
        if sep:
            return value
        index += 1
        return args[index] if index < len(args) else ""

    while index < len(args):
        arg = args[index]
        key = arg.partition("=")[0]
        if arg.startswith("-D") and len(arg) > 2:
            name, sep, value = arg[2:].partition("=")
            props[name] = value if sep else "true"
        elif key in _CONFIG_OPTIONS:
            config = value_of(arg)
        elif key in _PROPERTIES_OPTIONS:
            files.append(value_of(arg))
        elif key == "-b":
            props["jboss.bind.address"] = value_of(arg)
        elif arg.startswith("-b") and len(key) > 2 and not arg.startswith("--"):
            props[f"jboss.bind.address.{key[2:]}"] = value_of(arg)
        elif key == "-u":
            props["jboss.default.multicast.address"] = value_of(arg)
        index += 1
    return props, files, config


def server_properties(command: JBossCommand, proc: ProcessInfo, host: Host) -> dict[str, str]:
    """The system properties WildFly runs with: the JVM's, -P files, then the server arguments'."""
    props = dict(command.java.system_properties)
    for name in command.property_files:
        path = join(proc.cwd or "/", name[5:] if name.startswith("file:") else name)
        try:
            props.update(parse_properties(host.read_text(path, limit=1024 * 1024)))
        except HostError:
            continue
    props.update(command.properties)
    return props


# -- ${expressions} -----------------------------------------------------------------------------

def resolve_expression(value: str, props: Mapping[str, str], environ: Mapping[str, str] | None = None,
                       depth: int = 0) -> str:
    """WildFly's ``${a,b:default}`` expressions (nested, ``env.NAME`` from the environment).

    What cannot be resolved stays as written; vault and encrypted expressions
    (``${VAULT::…}``, ``${ENC::…}``) are never touched.
    """
    if "${" not in value or depth > 8:
        return value
    out: list[str] = []
    index = 0
    while index < len(value):
        start = value.find("${", index)
        if start < 0:
            out.append(value[index:])
            break
        out.append(value[index:start])
        end = _closing_brace(value, start)
        if end < 0:
            out.append(value[start:])
            break
        out.append(_resolve_one(value[start + 2:end], props, environ or {}, depth))
        index = end + 1
    return "".join(out)


def _closing_brace(value: str, start: int) -> int:
    level = 0
    index = start
    while index < len(value):
        if value.startswith("${", index):
            level += 1
            index += 2
            continue
        if value[index] == "}":
            level -= 1
            if level == 0:
                return index
        index += 1
    return -1


def _resolve_one(inner: str, props: Mapping[str, str], environ: Mapping[str, str], depth: int) -> str:
    if inner.startswith(("VAULT::", "ENC::")):
        return "${" + inner + "}"
    names, default = _split_default(inner)
    for name in names.split(","):
        name = name.strip()
        found = environ.get(name[4:]) if name.startswith("env.") else props.get(name)
        if found is not None:
            return resolve_expression(found, props, environ, depth + 1)
    if default is not None:
        return resolve_expression(default, props, environ, depth + 1)
    return "${" + inner + "}"


def _split_default(inner: str) -> tuple[str, str | None]:
    level = 0
    for index, char in enumerate(inner):
        if inner.startswith("${", index):
            level += 1
        elif char == "}":
            level -= 1
        elif char == ":" and level == 0:
            return inner[:index], inner[index + 1:]
    return inner, None


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d+", value) else None


# -- folders ------------------------------------------------------------------------------------

def server_dirs(command: JBossCommand, props: Mapping[str, str], proc: ProcessInfo, host: Host) -> dict[str, str]:
    """home, base, conf, data, log, tmp, deployments' default, modules and the content repository."""
    cwd = proc.cwd or "/"

    def path(name: str, default: str) -> str:
        value = props.get(name) or default
        return host.realpath(join(cwd, value))

    jar_home = posixpath.dirname(join(cwd, command.modules_jar))
    home = path("jboss.home.dir", proc.environ.get("JBOSS_HOME", "") or jar_home)
    base = path("jboss.server.base.dir", join(home, "standalone"))
    data = path("jboss.server.data.dir", join(base, "data"))
    modules = [host.realpath(join(cwd, p)) for p in command.module_path] or [join(home, "modules")]
    return {
        "home": home,
        "base": base,
        "conf": path("jboss.server.config.dir", join(base, "configuration")),
        "data": data,
        "log": path("jboss.server.log.dir", join(base, "log")),
        "tmp": path("jboss.server.temp.dir", join(base, "tmp")),
        "content": path("jboss.server.deploy.dir", join(data, "content")),
        "modules": modules[0],
    }


def path_properties(dirs: Mapping[str, str], props: Mapping[str, str]) -> dict[str, str]:
    """The system properties with WildFly's path names filled in, as its expressions see them."""
    resolved = dict(props)
    resolved.update({
        "jboss.home.dir": dirs["home"], "jboss.server.base.dir": dirs["base"],
        "jboss.server.config.dir": dirs["conf"], "jboss.server.data.dir": dirs["data"],
        "jboss.server.log.dir": dirs["log"], "jboss.server.temp.dir": dirs["tmp"],
        "jboss.server.deploy.dir": dirs["content"],
    })
    return resolved


def with_config_paths(root: Any | None, props: Mapping[str, str]) -> dict[str, str]:
    """The named paths a configuration declares (``<paths><path name=… path=… relative-to=…/>``)."""
    resolved = dict(props)
    if root is not None:
        for element in _elements(root, "path"):
            parent = element.getparent()
            if parent is not None and local_name(parent) == "paths" and element.get("name") and element.get("path"):
                resolved[element.get("name")] = relative_path(element.get("path", ""), element.get("relative-to", ""),
                                                              resolved)
    return resolved


def config_path(command: JBossCommand, conf_dir: str) -> str:
    return join(conf_dir, command.server_config or DEFAULT_CONFIG)


# -- standalone.xml -----------------------------------------------------------------------------

def read_server_config(host: Host, path: str) -> tuple[Any, list[Finding]]:
    try:
        return parse_xml(host.read_bytes(path, limit=CONFIG_READ_LIMIT), path), []
    except UnsafeXML as exc:
        return None, [Finding("JBOSS-E001", "error", exc.message, path)]
    except HostError as exc:
        return None, [Finding("JBOSS-E002", "error", exc.message, path)]


def _children(element: Any, name: str) -> Iterator[Any]:
    return (c for c in element if local_name(c) == name)


def _child(element: Any, name: str) -> Any:
    return next(_children(element, name), None)


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def _elements(root: Any, name: str) -> Iterator[Any]:
    return (e for e in root.iter() if local_name(e) == name)


def parse_interfaces(root: Any, props: Mapping[str, str], environ: Mapping[str, str]) -> list[dict[str, str]]:
    """Named interfaces and the address each resolves to (``nic:eth0`` style for NIC criteria)."""
    interfaces = []
    for element in _elements(root, "interface"):
        parent = element.getparent()
        if parent is None or local_name(parent) != "interfaces":
            continue
        criteria = next((c for c in element if isinstance(c.tag, str)), None)
        kind = local_name(criteria) if criteria is not None else ""
        raw = criteria.get("value", criteria.get("name", "")) if criteria is not None else ""
        if kind == "any-address":
            address = "0.0.0.0"
        elif kind == "loopback":
            address = "127.0.0.1"
        elif kind in ("inet-address", "loopback-address"):
            address = resolve_expression(raw, props, environ)
        else:
            address = f"{kind}:{raw}" if raw else kind
        interfaces.append({"name": element.get("name", ""), "criteria": kind, "value": raw, "address": address})
    return interfaces


def parse_socket_bindings(root: Any | None, props: Mapping[str, str], environ: Mapping[str, str],
                          interfaces: list[dict[str, str]]) -> dict[str, Any]:
    """The socket binding group: default interface, port offset and each binding's effective port."""
    group = next(_elements(root, "socket-binding-group"), None) if root is not None else None
    if group is None:
        return {"name": "", "defaultInterface": "", "portOffset": 0, "portOffsetExpression": "", "bindings": [],
                "outbound": []}
    addresses = {i["name"]: i["address"] for i in interfaces}
    offset_raw = group.get("port-offset", "0")
    offset = _int(resolve_expression(offset_raw, props, environ)) or 0
    default_interface = group.get("default-interface", "")
    bindings = []
    for element in _children(group, "socket-binding"):
        port_raw = element.get("port", "")
        port = _int(resolve_expression(port_raw, props, environ)) if port_raw else None
        fixed = resolve_expression(element.get("fixed-port", "false"), props, environ) == "true"
        interface = element.get("interface", default_interface)
        bindings.append({
            "name": element.get("name", ""),
            "port": port if port is not None else port_raw,
            "effectivePort": (port if fixed or port == 0 else port + offset) if port is not None else 0,
            "fixedPort": fixed,
            "interface": interface,
            "address": addresses.get(interface, ""),
        })
    outbound = []
    for element in _children(group, "outbound-socket-binding"):
        destination = _child(element, "remote-destination")
        if destination is not None:
            outbound.append({
                "name": element.get("name", ""),
                "host": resolve_expression(destination.get("host", ""), props, environ),
                "port": _int(resolve_expression(destination.get("port", ""), props, environ)) or 0,
            })
    return {"name": group.get("name", ""), "defaultInterface": default_interface, "portOffset": offset,
            "portOffsetExpression": offset_raw, "bindings": bindings, "outbound": outbound}


def parse_listeners(root: Any) -> list[dict[str, str]]:
    """Undertow's listeners and the socket binding each one uses."""
    return [
        {"type": local_name(e), "name": e.get("name", ""), "socketBinding": e.get("socket-binding", "")}
        for e in root.iter() if local_name(e) in ("http-listener", "https-listener", "ajp-listener")
    ]


def http_port(sockets: Mapping[str, Any], listeners: list[dict[str, str]], props: Mapping[str, str]) -> int:
    """The effective port of the first plain HTTP listener's binding (``http`` when none is declared);
    without one, WildFly's default: ``jboss.http.port`` (8080) plus ``jboss.socket.binding.port-offset``."""
    by_name = {b["name"]: b for b in sockets.get("bindings", [])}
    names = [l["socketBinding"] for l in listeners if l["type"] == "http-listener"] or ["http"]
    for name in names:
        binding = by_name.get(name)
        if binding and binding["effectivePort"]:
            return int(binding["effectivePort"])
    port = _int(props.get("jboss.http.port", "8080")) or 8080
    return port + (_int(props.get("jboss.socket.binding.port-offset", "0")) or 0)


def deployment_scanner_dir(root: Any, dirs: Mapping[str, str], props: Mapping[str, str]) -> str:
    """The first deployment scanner's folder (``<base>/deployments`` unless configured otherwise)."""
    scanner = next(_elements(root, "deployment-scanner"), None) if root is not None else None
    if scanner is None:
        return join(dirs["base"], "deployments")
    return relative_path(scanner.get("path", "deployments"), scanner.get("relative-to", ""), props)


def relative_path(path: str, relative_to: str, props: Mapping[str, str]) -> str:
    """A configuration path: absolute, or relative to a named path (jboss.server.base.dir, …)."""
    path = resolve_expression(path, props)
    if relative_to and not path.startswith("/"):
        return join(props.get(relative_to, props.get("jboss.server.base.dir", "/")), path)
    return join("/", path)


# -- secrets ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SecretSpot:
    """Where a secret sits in the configuration: an element's text (attribute "") or an attribute."""

    name: str
    element: Any
    attribute: str = ""
    in_url: bool = False


def _datasource_of(element: Any) -> Any:
    node = element
    while node is not None:
        if local_name(node) in ("datasource", "xa-datasource"):
            return node
        node = node.getparent()
    return None


def _owner_name(element: Any) -> str:
    datasource = _datasource_of(element)
    if datasource is not None:
        return datasource.get("pool-name") or datasource.get("jndi-name", "datasource")
    node = element.getparent()
    while node is not None:
        if node.get("name"):
            return f"{local_name(node)}.{node.get('name')}"
        node = node.getparent()
    return local_name(element)


def _is_literal(value: str) -> bool:
    """A value that is itself the secret (an expression is a reference to one, not a secret)."""
    value = value.strip()
    return bool(value) and not (value.startswith("${") and value.endswith("}"))


def secret_spots(root: Any) -> list[SecretSpot]:
    """Every literal secret in a server configuration, named ``<pool>.password``, ``<owner>.credential``, …"""
    spots: list[SecretSpot] = []
    for element in root.iter():
        tag = local_name(element)
        if not tag:
            continue
        owner = _owner_name(element)
        recovery = "recovery." if any(local_name(a) == "recover-credential" for a in element.iterancestors()) else ""
        if tag == "password" and _is_literal(element.text or ""):
            spots.append(SecretSpot(f"{owner}.{recovery}password", element))
        if _is_literal(element.get("password", "")):
            spots.append(SecretSpot(f"{owner}.{recovery}password", element, "password"))
        if tag == "credential-reference" and _is_literal(element.get("clear-text", "")):
            suffix = f"{recovery}password" if _datasource_of(element) is not None else "credential"
            spots.append(SecretSpot(f"{owner}.{suffix}", element, "clear-text"))
        if tag == "secret" and _is_literal(element.get("value", "")):
            spots.append(SecretSpot(f"{owner}.secret", element, "value"))
        if tag in ("xa-datasource-property", "module-option", "property", "config-property") \
                and is_secret_name(element.get("name", "")):
            if element.get("value") is not None and _is_literal(element.get("value", "")):
                spots.append(SecretSpot(f"{owner}.{element.get('name')}", element, "value"))
            elif element.get("value") is None and _is_literal(element.text or ""):
                spots.append(SecretSpot(f"{owner}.{element.get('name')}", element))
        if tag == "connection-url" and mask_url(element.text or "") != (element.text or ""):
            spots.append(SecretSpot(f"{owner}.connection-url.password", element, in_url=True))
    return _unique(spots)


def _unique(spots: list[SecretSpot]) -> list[SecretSpot]:
    seen: dict[str, int] = {}
    unique = []
    for spot in spots:
        count = seen.get(spot.name, 0) + 1
        seen[spot.name] = count
        unique.append(spot if count == 1 else SecretSpot(f"{spot.name}.{count}", spot.element, spot.attribute,
                                                          spot.in_url))
    return unique


def mask_url(url: str, replacement: str = MASK) -> str:
    """A JDBC URL with any password in it replaced."""
    for pattern in _URL_SECRETS:
        url = pattern.sub(lambda m: m.group(1) + replacement if m.group(2) else m.group(0), url)
    return url


def secrets_entries(spots: list[SecretSpot], path: str) -> list[dict[str, Any]]:
    return [{"name": s.name, "foundIn": path, "envVar": env_var_for(s.name), "line": s.element.sourceline or 0}
            for s in spots]


# -- datasources --------------------------------------------------------------------------------

def parse_datasources(root: Any, props: Mapping[str, str], environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """Datasources and XA datasources, passwords never included (``****`` when one is set)."""
    spots = secret_spots(root)
    found = []
    for element in root.iter():
        tag = local_name(element)
        parent = element.getparent()
        if tag not in ("datasource", "xa-datasource") or parent is None or local_name(parent) != "datasources":
            continue
        pool = element.get("pool-name") or element.get("jndi-name", "")
        security = _child(element, "security")
        user = ""
        has_password = False
        if security is not None:
            user = security.get("user-name") or _text(_child(security, "user-name"))
            credential = _child(security, "credential-reference")
            has_password = bool(security.get("password") or _text(_child(security, "password"))
                                or (credential is not None and credential.get("clear-text")))
        url = datasource_url(element)
        found.append({
            "poolName": pool,
            "jndiName": element.get("jndi-name", ""),
            "xa": tag == "xa-datasource",
            "enabled": resolve_expression(element.get("enabled", "true"), props, environ) != "false",
            "connectionUrl": mask_url(resolve_expression(url, props, environ)),
            "driver": _text(_child(element, "driver")),
            "userName": resolve_expression(user, props, environ),
            "password": MASK if has_password or any(_datasource_of(s.element) is element for s in spots) else "",
        })
    return found


def datasource_url(element: Any) -> str:
    """The connection URL, also of an XA datasource (its URL property or server/port/database)."""
    url = _text(_child(element, "connection-url"))
    if url:
        return url
    xa = {p.get("name", "").lower(): _text(p) for p in _children(element, "xa-datasource-property")}
    if xa.get("url"):
        return xa["url"]
    if xa.get("servername"):
        port = f":{xa['portnumber']}" if xa.get("portnumber") else ""
        driver = _text(_child(element, "driver")) or "jdbc"
        return f"jdbc:{driver}://{xa['servername']}{port}/{xa.get('databasename', '')}"
    return ""


def outbound_dependencies(datasources: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """One dependency per datasource with a URL, in the shape of a2c.analyzers.common.dependencies."""
    deps = []
    for ds in datasources:
        if not ds["connectionUrl"]:
            continue
        target = dependencies.parse_jdbc_url(ds["connectionUrl"])
        deps.append(dependencies.dependency(target["kind"], path, url=ds["connectionUrl"], host=target["host"],
                                            port=target["port"], name=ds["poolName"], vendor=target["vendor"],
                                            jndiName=ds["jndiName"]))
    return deps


# -- deployments --------------------------------------------------------------------------------

def scanner_deployments(host: Host, folder: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Deployments in the scanner's folder that the server has deployed (see the module docstring)."""
    names = host.glob_names(folder)
    present = set(names)
    found: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for name in names:
        if not name.endswith(DEPLOYABLE) or name.startswith("."):
            continue
        path = join(folder, name)
        markers = {m for m in DEPLOYED_MARKERS + NOT_DEPLOYED_MARKERS if name + m in present}
        exploded = host.is_dir(path)
        if ".failed" in markers:
            findings.append(Finding("JBOSS-W002", "warning", f"deployment {name} failed on the host (.failed marker); "
                                    "it is copied but not counted as a running application", path + ".failed"))
        if markers & set(NOT_DEPLOYED_MARKERS):
            continue
        if exploded or markers & set(DEPLOYED_MARKERS):
            found.append({"name": name, "runtimeName": name, "source": "scanner", "path": path, "exploded": exploded})
    return found, findings


def config_deployments(root: Any, dirs: Mapping[str, str], props: Mapping[str, str],
                       host: Host, config: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Deployments persisted in standalone.xml: managed (content repository) or unmanaged (a path)."""
    found: list[dict[str, Any]] = []
    findings: list[Finding] = []
    if root is None:
        return found, findings
    for element in _elements(root, "deployment"):
        parent = element.getparent()
        if parent is None or local_name(parent) != "deployments" or element.get("enabled", "true") == "false":
            continue
        name = element.get("name", "")
        runtime = element.get("runtime-name", name)
        content = _child(element, "content")
        unmanaged = next((c for c in element if local_name(c) in ("fs-archive", "fs-exploded")), None)
        if content is not None and re.fullmatch(r"[0-9a-fA-F]{40}", content.get("sha1", "")):
            sha1 = content.get("sha1", "").lower()
            path = join(dirs["content"], sha1[:2], sha1[2:], "content")
            source = "managed"
        elif unmanaged is not None:
            path = relative_path(unmanaged.get("path", ""), unmanaged.get("relative-to", ""), props)
            source = "unmanaged"
        else:
            continue
        if not host.exists(path):
            findings.append(Finding("JBOSS-W005", "warning", f"deployment {name} is in {posixpath.basename(config)} "
                                    f"but its content {path} is missing; the container will not deploy it", path))
            continue
        found.append({"name": name, "runtimeName": runtime, "source": source, "path": path,
                      "exploded": host.is_dir(path)})
    return found, findings


def order_deployments(deployments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = {d["runtimeName"]: d for d in reversed(deployments)}  # standalone.xml wins over the scanner
    return sorted(unique.values(), key=lambda d: (d["runtimeName"] != "ROOT.war", d["runtimeName"]))


def context_root(host: Host, deployment: Mapping[str, Any]) -> str:
    """A war's context root: jboss-web.xml's ``<context-root>``, else its runtime name without .war."""
    member = "WEB-INF/jboss-web.xml"
    path = deployment["path"]
    text: str | None
    if deployment.get("exploded"):
        try:
            text = host.read_text(join(path, member), limit=1024 * 1024)
        except HostError:
            text = None
    else:
        text = read_text_member(host, path, member)
    if text:
        try:
            root = parse_xml(text.encode("utf-8"), f"{path}!{member}")
        except UnsafeXML:
            root = None
        configured = _text(next(_elements(root, "context-root"), None)) if root is not None else ""
        if configured:
            return configured.strip("/")
    return deployment["runtimeName"][:-4]


def health_check_path(host: Host, deployments: list[dict[str, Any]]) -> str:
    """``/`` (WildFly's welcome content) unless a single war is deployed and no ROOT.war."""
    wars = [d for d in deployments if d["runtimeName"].endswith(".war")]
    if len(wars) != 1 or wars[0]["runtimeName"] == "ROOT.war":
        return "/"
    root = context_root(host, wars[0])
    return f"/{root}/" if root else "/"


# -- version --------------------------------------------------------------------------------------

def product_version(host: Host, home: str, modules: str) -> tuple[str, str]:
    """(product name, version): the product module's manifest, else version.txt."""
    slot = "main"
    try:
        slot = parse_properties(host.read_text(join(home, "bin", "product.conf"), limit=64 * 1024)).get("slot", "main")
    except HostError:
        pass
    for layer_root in (join(modules, "system", "layers", "base"), modules):
        manifest = join(layer_root, "org", "jboss", "as", "product", slot, "dir", "META-INF", "MANIFEST.MF")
        try:
            values = parse_manifest(host.read_text(manifest, limit=64 * 1024))
        except HostError:
            continue
        if values.get("JBoss-Product-Release-Version"):
            return values.get("JBoss-Product-Release-Name", ""), values["JBoss-Product-Release-Version"]
    try:
        text = host.read_text(join(home, "version.txt"), limit=64 * 1024).strip()
    except HostError:
        return "", ""
    match = re.search(r"^(.*?)\s*-?\s*Version\s+(\S+)", text, re.MULTILINE)
    return (match.group(1).strip(" -"), match.group(2)) if match else ("", "")


def modules_version(host: Host, jar: str) -> str:
    text = read_text_member(host, jar, "META-INF/MANIFEST.MF")
    return parse_manifest(text).get("Implementation-Version", "") if text else ""


# -- other configurations ------------------------------------------------------------------------

def configs_with_secrets(host: Host, conf_dir: str, active: str) -> list[str]:
    """The configuration folder's other server configurations that hold passwords."""
    found = []
    for name in host.glob_names(conf_dir, (".xml",)):
        path = join(conf_dir, name)
        if path == active or not host.is_file(path):
            continue
        try:
            root = parse_xml(host.read_bytes(path, limit=CONFIG_READ_LIMIT), path)
        except (UnsafeXML, HostError):
            continue
        if local_name(root) == "server" and secret_spots(root):
            found.append(path)
    return found


# -- the analyzer ---------------------------------------------------------------------------------

class JBossAnalyzer(JavaAnalyzer):
    id = "java-jboss"
    runtime = "java"
    application_type = "java-jboss"
    priority = 15
    description = "JBoss EAP / WildFly standalone server (jboss-modules, org.jboss.as.standalone)"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_jboss_cmdline(proc.cmdline)
        if command is None or not command.standalone:
            return None
        props = server_properties(command, proc, host)
        dirs = server_dirs(command, props, proc, host)
        root, _ = read_server_config(host, config_path(command, dirs["conf"]))
        resolved = with_config_paths(root, path_properties(dirs, props))
        deployments = self._deployments(host, root, dirs, resolved, config_path(command, dirs["conf"]))[0]
        return Detection(
            analyzer_id=self.id,
            application_type=self.application_type,
            identity=f"jboss:{dirs['base']}",
            base_dir=dirs["base"],
            web_apps=tuple(d["runtimeName"] for d in deployments),
        )

    @staticmethod
    def _deployments(host: Host, root: Any, dirs: Mapping[str, str], props: Mapping[str, str],
                     config: str) -> tuple[list[dict[str, Any]], list[Finding], str]:
        folder = deployment_scanner_dir(root, dirs, props)
        scanned, findings = scanner_deployments(host, folder)
        persisted, more = config_deployments(root, dirs, props, host, config)
        return order_deployments(scanned + persisted), findings + more, folder

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_jboss_cmdline(proc.cmdline)
        assert command is not None
        props = server_properties(command, proc, host)
        dirs = server_dirs(command, props, proc, host)
        environ = dict(proc.environ)
        config = config_path(command, dirs["conf"])
        root, findings = read_server_config(host, config)
        resolved = with_config_paths(root, path_properties(dirs, props))
        deployments, deployment_findings, deployments_dir = self._deployments(host, root, dirs, resolved, config)
        findings += deployment_findings

        interfaces = parse_interfaces(root, resolved, environ) if root is not None else []
        sockets = parse_socket_bindings(root, resolved, environ, interfaces)
        listeners = parse_listeners(root) if root is not None else []
        datasources = parse_datasources(root, resolved, environ) if root is not None else []
        spots = secret_spots(root) if root is not None else []

        info = common.java_analysis_info(entry, proc, host, command.java)
        info["secrets"] = configsecrets.assign_env_vars(info["secrets"] + secrets_entries(spots, config))
        product, version = product_version(host, dirs["home"], dirs["modules"])
        info["AdvancedAppInfo"].update({
            "Directories": {
                "home": dirs["home"], "base": dirs["base"], "conf": dirs["conf"], "deployments": deployments_dir,
                "data": dirs["data"], "log": dirs["log"], "tmp": dirs["tmp"], "modules": dirs["modules"],
                "content": dirs["content"],
            },
            "distro": "java-jboss",
            "flavor": product,
            "version": version,
        })
        info["jboss"] = {
            "mode": "standalone",
            "serverConfig": config,
            "modulesJar": command.modules_jar,
            "jbossModulesVersion": modules_version(host, join(proc.cwd or "/", command.modules_jar)),
            "modulePath": [host.realpath(join(proc.cwd or "/", p)) for p in command.module_path],
            "serverArguments": mask_cmdline(list(command.server_args)),
            "serverProperties": mask_mapping(dict(command.properties)),
            "bindAddress": resolve_expression("${jboss.bind.address:}", resolved, environ),
            "interfaces": interfaces,
            "socketBindingGroup": sockets["name"],
            "defaultInterface": sockets["defaultInterface"],
            "portOffset": sockets["portOffset"],
            "socketBindings": sockets["bindings"],
            "outboundSocketBindings": sockets["outbound"],
            "listeners": listeners,
            "datasources": datasources,
            "deployments": deployments,
            "contentPaths": sorted({d["path"] for d in deployments if d["source"] != "scanner"}),
        }
        info["outboundDependencies"] = dependencies.merge([outbound_dependencies(datasources, config),
                                                           info.get("outboundDependencies", [])])

        other_configs = configs_with_secrets(host, dirs["conf"], config)
        port = http_port(sockets, listeners, resolved)
        params = common.java_container_parameters(
            entry,
            info,
            common.application_environment(proc, host),
            applicationPort=port,
            logLocations=[dirs["log"]],
            healthCheckPath=health_check_path(host, deployments),
        )
        params["appExcludedFiles"] = params["appExcludedFiles"] + other_configs
        findings += common.runtime_findings(info)
        findings += self._findings(root, config, sockets, listeners, resolved, info, other_configs)
        return AnalyzerResult(info, params, tuple(findings))

    @staticmethod
    def _findings(root: Any, config: str, sockets: Mapping[str, Any], listeners: list[dict[str, str]],
                  props: Mapping[str, str], info: Mapping[str, Any], other_configs: list[str]) -> list[Finding]:
        findings = []
        if root is not None and not any(b["name"] == "http" for b in sockets["bindings"]) \
                and not any(l["type"] == "http-listener" for l in listeners):
            findings.append(Finding("JBOSS-W001", "warning", "no HTTP listener or http socket binding found", config))
        bind = props.get("jboss.bind.address", "")
        if bind and bind not in common.LOOPBACK and bind not in WILDCARD:
            findings.append(Finding("JBOSS-W003", "warning", f"the server binds to {bind}, an address of the host; "
                                    "the container has its own addresses: remove -b from the entry point or use 0.0.0.0"))
        if any(l["type"] == "ajp-listener" for l in listeners):
            findings.append(Finding("JBOSS-W004", "warning", "an AJP listener shares the public interface, which is "
                                    "opened to all addresses in the container; publish only the HTTP port", config))
        for dep in info.get("outboundDependencies", []):
            if dep.get("foundIn") != config:
                continue
            if dep["host"] in common.LOOPBACK:
                findings.append(Finding("JBOSS-W006", "warning", f"datasource {dep['name']} connects to "
                                        f"{dep['host']}:{dep['port']}; inside a container that is the container itself",
                                        config))
            elif dep["kind"] == "embedded" and ":mem:" not in dep["url"]:
                findings.append(Finding("JBOSS-I002", "info", f"datasource {dep['name']} uses an embedded "
                                        "database stored in files; its data stays inside the container", config))
        for path in other_configs:
            findings.append(Finding("JBOSS-W007", "warning", f"{posixpath.basename(path)} is not the configuration this "
                                    "server runs and holds passwords; it is listed in appExcludedFiles", path))
        return findings

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info, params = analysis["analysisInfo"], analysis["containerParameters"]
        dirs = info["AdvancedAppInfo"]["Directories"]
        jboss = info.get("jboss", {})
        home, base, conf = dirs["home"], dirs["base"], dirs["conf"]
        excluded = tuple(params.get("appExcludedFiles", ()))
        history = join(conf, "standalone_xml_history")
        transient = (dirs["data"], dirs["log"], dirs["tmp"], history)
        standalone = join(home, "standalone")
        server_excludes = excluded + transient + tuple(join(standalone, d) for d in ("data", "log", "tmp")) + (
            join(standalone, "configuration", "standalone_xml_history"), join(home, "domain"))
        if base != home and is_within(base, home):
            server_excludes += (base,)
        server_paths = [home] + [m for m in jboss.get("modulePath", []) if not is_within(m, home)]
        layers = [CopyLayer("server", tuple(server_paths), excludes=tuple(dict.fromkeys(server_excludes)))]
        if base != home:
            app_paths = [base] + [d for d in (conf, dirs["deployments"]) if not is_within(d, base)]
            layers.append(CopyLayer("application", tuple(app_paths), excludes=excluded + transient))
        content = tuple(jboss.get("contentPaths", ()))
        if content:
            layers.append(CopyLayer("content", content, excludes=excluded))
        extra = tuple(params.get("appSpecificFiles", ()))
        if extra:
            layers.append(CopyLayer("additional", extra, excludes=excluded))

        generated: dict[str, bytes] = {}
        config = jboss.get("serverConfig") or join(conf, DEFAULT_CONFIG)
        patched = container_server_config(host, config, info.get("secrets", []))
        if patched is not None:
            generated[config] = patched
        copied = tuple(p for layer in layers for p in layer.paths)
        repository_dirs = tuple(sorted({posixpath.dirname(posixpath.dirname(p)) for p in content
                                        if is_within(p, dirs["content"])}))
        writable = transient + (dirs["content"],) + repository_dirs + (dirs["deployments"],)
        port = int(params.get("applicationPort") or 0)
        return BuildPlan(
            app_id=info["appId"],
            base_image=params["containerBaseImage"],
            layers=tuple(layers),
            entrypoint=container_entrypoint(info["cmdline"], info.get("secrets", [])),
            workdir=common.workdir_for(info, copied),
            env=common.image_environment(params.get("environment", {})),
            ports=(port,) if port else (),
            health_port=port,
            generated=generated,
            # sorted: a folder before the folders inside it, so each gets its own writable entry
            writable_dirs=tuple(sorted(set(writable))),
        )


# -- the container's copies ------------------------------------------------------------------------

def container_entrypoint(cmdline: list[str], secrets: list[dict[str, str]]) -> tuple[str, ...]:
    """common.entry_command, minus a loopback-only public bind address (``-b 127.0.0.1``,
    ``-b=localhost``, ``-Djboss.bind.address=::1``): in a container it would be unreachable."""
    args = list(common.entry_command(cmdline, secrets))
    kept: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-b" and index + 1 < len(args) and args[index + 1] in common.LOOPBACK:
            index += 2
            continue
        key, sep, value = arg.partition("=")
        if sep and key in ("-b", "-Djboss.bind.address") and value in common.LOOPBACK:
            index += 1
            continue
        kept.append(arg)
        index += 1
    return tuple(kept)


def public_interfaces(root: Any) -> set[str]:
    """Interfaces that serve applications: used by a socket binding other than management-*."""
    names: set[str] = set()
    for group in _elements(root, "socket-binding-group"):
        default = group.get("default-interface", "")
        for binding in _children(group, "socket-binding"):
            if not binding.get("name", "").startswith("management"):
                names.add(binding.get("interface", default))
    names.discard("management")
    names.discard("")
    return names


def _open_interface(element: Any) -> bool:
    """Turn one interface's loopback criterion into all addresses; True when it changed."""
    for criterion in element:
        kind = local_name(criterion)
        if kind == "inet-address":
            value = criterion.get("value", "")
            expression = re.fullmatch(r"\$\{([^:}]+):([^}]*)\}", value)
            if expression and expression.group(2) in common.LOOPBACK:
                criterion.set("value", "${%s:0.0.0.0}" % expression.group(1))
                return True
            if value in common.LOOPBACK:
                criterion.set("value", "0.0.0.0")
                return True
        elif kind in ("loopback", "loopback-address"):
            namespace = criterion.tag.partition("}")[0] + "}" if criterion.tag.startswith("{") else ""
            criterion.tag = namespace + "any-address"
            criterion.attrib.clear()
            return True
    return False


def container_server_config(host: Host, path: str, secrets: list[dict[str, str]]) -> bytes | None:
    """standalone.xml for the image: the public interface open to all addresses (management stays on
    loopback) and every secret an ``${env.…}`` expression; None when nothing needs changing or the
    file cannot be read safely."""
    try:
        root = parse_xml(host.read_bytes(path, limit=CONFIG_READ_LIMIT), path)
    except (UnsafeXML, HostError):
        return None
    changed = False
    public = public_interfaces(root)
    for element in _elements(root, "interface"):
        parent = element.getparent()
        if parent is not None and local_name(parent) == "interfaces" and element.get("name") in public:
            changed = _open_interface(element) or changed
    mine = [s for s in secrets if s.get("foundIn") == path]
    by_spot = {(s["name"], int(s.get("line", 0) or 0)): s["envVar"] for s in mine}
    by_name = {s["name"]: s["envVar"] for s in reversed(mine)}  # the first one of a name
    for spot in secret_spots(root):
        env_var = by_spot.get((spot.name, spot.element.sourceline or 0)) or by_name.get(spot.name)
        reference = "${env.%s}" % (env_var or env_var_for(spot.name))
        if spot.in_url:
            spot.element.text = mask_url(spot.element.text or "", reference)
        elif spot.attribute:
            spot.element.set(spot.attribute, reference)
        else:
            spot.element.text = reference
        changed = True
    return serialize_xml(root) if changed else None
