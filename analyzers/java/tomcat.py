"""Apache Tomcat (application mode): the server from CATALINA_HOME, the apps from CATALINA_BASE."""

from __future__ import annotations

import posixpath
import re
from typing import Any, Mapping

from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common.archives import read_text_member
from a2c.analyzers.common.properties import parse_properties
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common import configfiles
from a2c.analyzers.java import common
from a2c.analyzers.java.jvm import is_java, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo

BOOTSTRAP = "org.apache.catalina.startup.Bootstrap"
# Debian and RPM packages link Tomcat's jars to the system's shared Java library folders.
SHARED_JAR_ROOTS = ("/usr/share/java", "/usr/share/maven-repo", "/usr/lib/java")


class TomcatAnalyzer(JavaAnalyzer):
    id = "java-tomcat"
    runtime = "java"
    application_type = "java-tomcat"
    priority = 10
    description = "Apache Tomcat (Bootstrap main class, catalina.home/catalina.base)"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        if command is None or command.main_class != BOOTSTRAP:
            return None
        home, base = catalina_dirs(command.system_properties, proc, host)
        return Detection(
            analyzer_id=self.id,
            application_type=self.application_type,
            identity=f"tomcat:{base}",
            base_dir=base,
            web_apps=tuple(list_web_apps(host, base, read_server_xml(host, base)[0])),
        )

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        home, base = catalina_dirs(command.system_properties, proc, host)
        server_xml, findings = read_server_xml(host, base)
        info = common.java_analysis_info(entry, proc, host, command)
        connectors = parse_connectors(server_xml, command.system_properties) if server_xml is not None else []
        web_apps = list_web_apps(host, base, server_xml)
        conf = join(base, "conf")
        info["AdvancedAppInfo"].update(
            {
                "Directories": {
                    "base": base,
                    "bin": join(home, "bin"),
                    "conf": conf,
                    "home": home,
                    "lib": join(base, "lib") if host.is_dir(join(base, "lib")) else join(home, "lib"),
                    "logConfig": join(conf, "logging.properties"),
                    "logs": join(base, "logs"),
                    "tempDir": command.system_properties.get("java.io.tmpdir", join(base, "temp")),
                    "webapps": app_base(server_xml, base),
                    "work": join(base, "work"),
                },
                "distro": "java-tomcat",
                "version": tomcat_version(host, home),
            }
        )
        tomee = tomee_flavor(host.glob_names(join(home, "lib"), (".jar",)) + host.glob_names(join(base, "lib"), (".jar",)))
        if tomee is not None:
            info["AdvancedAppInfo"].update({"distro": "java-tomee", "flavor": tomee[0], "tomeeVersion": tomee[1]})
        webapps_dir = app_base(server_xml, base)
        config_paths = configfiles.config_files_in(host, [conf]) + [
            p for app in web_apps
            for p in [join(webapps_dir, app, "META-INF", "context.xml")] + configfiles.config_files_in(
                host, [join(webapps_dir, app, "WEB-INF", "classes")], depth=0)
            if host.is_file(p)
        ]
        descriptors = context_files(host, base)  # read once: listed, and their docBase folders copied
        info["tomcat"] = {
            "connectors": connectors,
            "webApps": web_apps,
            "contextFiles": descriptors,
            "docBases": doc_bases(host, descriptors, webapps_dir),
            "resources": jndi_resources(host, config_paths),
        }
        findings += common.add_config_findings(info, host, config_paths)
        port = http_port(connectors, proc, entry)
        params = common.java_container_parameters(
            entry,
            info,
            common.application_environment(proc, host),
            applicationPort=port,
            logLocations=[join(base, "logs")],
            healthCheckPath=health_check_path(host, webapps_dir, web_apps),
        )
        info["healthCandidates"] = [{"path": "/" if n == "ROOT" else f"/{n}/", "why": "a web application's context root"}
                                    for n in ordered_webapps(web_apps)]
        common.add_log_locations(info, params, host, config_paths, {**command.system_properties,
                                                                   "catalina.base": base, "catalina.home": home})
        findings += common.runtime_findings(info)
        if not connectors:
            findings.append(Finding("TOMCAT-W001", "warning", "no HTTP connector found in server.xml", join(conf, "server.xml")))
        return AnalyzerResult(info, params, tuple(findings))

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info, params = analysis["analysisInfo"], analysis["containerParameters"]
        dirs = info["AdvancedAppInfo"]["Directories"]
        home, base = dirs["home"], dirs["base"]
        excluded = tuple(params.get("appExcludedFiles", ()))
        # Debian and RPM packages link conf/, lib/, logs/, work/ … out to /etc, /usr/share/java, /var:
        # those real folders are copied (or created writable) so that the links resolve in the image.
        transient = tuple(dict.fromkeys(p for d in (dirs["logs"], dirs["work"], dirs["tempDir"])
                                        for p in (d, host.realpath(d))))
        server_paths = [home] + outside([host.realpath(join(home, "lib")), host.realpath(join(home, "bin"))], (home,))
        layers = [CopyLayer("server", tuple(server_paths), excludes=excluded + transient, link_roots=SHARED_JAR_ROOTS)]
        if base != home:
            real = [host.realpath(dirs[k]) for k in ("conf", "webapps", "lib")]
            app_paths = [base] + outside([dirs["conf"], dirs["webapps"]] + real, (base, home))
            layers.append(CopyLayer("application", tuple(app_paths), excludes=excluded + transient,
                                    link_roots=SHARED_JAR_ROOTS))
        elif outside([host.realpath(dirs[k]) for k in ("conf", "webapps")], (home,)):
            layers.append(CopyLayer("application", tuple(outside([host.realpath(dirs[k]) for k in ("conf", "webapps")],
                                                                 (home,))), excludes=excluded + transient))
        # Contexts deployed from elsewhere by a descriptor (Debian's docs and examples in /usr/share).
        deployed = tuple(outside(list(info.get("tomcat", {}).get("docBases", ())), (base, home)))
        if deployed:
            layers.append(CopyLayer("webapps", deployed, excludes=excluded, link_roots=SHARED_JAR_ROOTS))
        extra = tuple(params.get("appSpecificFiles", ()))
        if extra:
            layers.append(CopyLayer("additional", extra, excludes=excluded))
        generated: dict[str, bytes] = {}
        render = configfiles.secret_templates(info, host, generated)
        server_xml_path = host.realpath(join(dirs["conf"], "server.xml"))
        patched = container_server_xml(host, server_xml_path, generated.get(server_xml_path))
        if patched is not None:
            generated[server_xml_path] = patched
        logging_path = host.realpath(join(dirs["conf"], "logging.properties"))
        if host.is_file(logging_path):
            generated[logging_path] = console_logging(host.read_text(logging_path)).encode()
        copied = tuple(p for layer in layers for p in layer.paths)
        return BuildPlan(
            app_id=info["appId"],
            base_image=params["containerBaseImage"],
            layers=tuple(layers),
            entrypoint=common.entry_command(info["cmdline"], info.get("secrets", [])),
            workdir=common.workdir_for(info, copied),
            env=common.image_environment(params.get("environment", {})),
            ports=(int(params["applicationPort"]),) if params.get("applicationPort") else (),
            health_port=int(params.get("applicationPort") or 0),
            generated=generated,
            writable_dirs=transient,
            render_at_start=render,
            symlinks=common.log_links(params),
        )


def outside(paths: list[str], roots: tuple[str, ...]) -> list[str]:
    """The paths that none of the roots contains, once each."""
    return list(dict.fromkeys(p for p in paths if not any(p == r or p.startswith(r.rstrip("/") + "/") for r in roots)))


def catalina_dirs(props: Mapping[str, str], proc: ProcessInfo, host: Host) -> tuple[str, str]:
    home = props.get("catalina.home") or proc.environ.get("CATALINA_HOME", "") or proc.cwd
    base = props.get("catalina.base") or proc.environ.get("CATALINA_BASE", "") or home
    home = join(proc.cwd or "/", home)
    base = join(proc.cwd or "/", base)
    return host.realpath(home), host.realpath(base)


def read_server_xml(host: Host, base: str) -> tuple[Any, list[Finding]]:
    path = join(base, "conf", "server.xml")
    try:
        return parse_xml(host.read_bytes(path), path), []
    except UnsafeXML as exc:
        return None, [Finding("TOMCAT-E001", "error", exc.message, path)]
    except HostError as exc:
        return None, [Finding("TOMCAT-E002", "error", exc.message, path)]


def resolve_placeholders(value: str, props: Mapping[str, str]) -> str:
    """Tomcat fills ``${name}`` (and ``${name:default}``) in server.xml from system properties."""
    def replace(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":")
        return props.get(name, default if default else match.group(0))

    return re.sub(r"\$\{([^}]+)\}", replace, value)


def parse_connectors(server_xml: Any, props: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    connectors = []
    for element in server_xml.iter():
        if local_name(element) != "Connector":
            continue
        port = resolve_placeholders(element.get("port", ""), props or {})
        connectors.append(
            {
                "port": port_number(port, port),
                "protocol": element.get("protocol", "HTTP/1.1"),
                "address": element.get("address", ""),
                "scheme": element.get("scheme", "http"),
                "secure": element.get("secure", "false") == "true" or element.get("SSLEnabled", "false") == "true",
                "redirectPort": element.get("redirectPort", ""),
            }
        )
    return connectors


def port_number(text: str, default: Any) -> Any:
    """A TCP port written in ASCII digits, else ``default``. ``str.isdigit`` is not the test:
    it accepts "²" and other Unicode digits that int() refuses, and says nothing of the range."""
    text = text.strip()
    if text.isascii() and text.isdecimal() and len(text) <= 5 and int(text) <= 65535:
        return int(text)
    return default


def http_port(connectors: list[dict[str, Any]], proc: ProcessInfo, entry: InventoryEntry) -> int:
    command = parse_java_cmdline(proc.cmdline)
    props = command.system_properties if command else {}
    for connector in connectors:
        port = connector["port"]
        if isinstance(port, str):
            port = port_number(resolve_placeholders(port, props), port)
        if isinstance(port, int) and not connector["secure"] and "AJP" not in connector["protocol"].upper():
            return port
    return entry.ports[0] if entry.ports else 8080


def app_base(server_xml: Any, base: str) -> str:
    if server_xml is not None:
        for element in server_xml.iter():
            if local_name(element) == "Host" and element.get("appBase"):
                return join(base, element.get("appBase"))
    return join(base, "webapps")


def list_web_apps(host: Host, base: str, server_xml: Any) -> list[str]:
    """Context names from the appBase (folders and WARs) and conf/Catalina/<host>/*.xml descriptors."""
    names: set[str] = set()
    webapps = app_base(server_xml, base)
    for name in host.glob_names(webapps):
        path = join(webapps, name)
        if name.endswith(".war") and host.is_file(path):
            names.add(name[:-4])
        elif host.is_dir(path) and not name.startswith("."):
            names.add(name)
    for path in context_files(host, base):
        names.add(posixpath.basename(path)[:-4])
    return sorted(names, key=lambda n: (n != "ROOT", n))


# Tomcat's own web applications: an organisation's applications come first; the managers ask for
# a password, so they never answer a health check.
STOCK_WEBAPPS = ("docs", "examples")
PASSWORD_WEBAPPS = ("manager", "host-manager")
WELCOME_FILES = ("index.html", "index.htm", "index.jsp")  # Tomcat's default welcome-file-list


def serves_context_root(host: Host, webapps_dir: str, name: str) -> bool:
    """Whether a web application can answer at its context root: a welcome file or a web.xml in
    its folder. A WAR or a context descriptor elsewhere is taken to (its content is not read)."""
    folder = join(webapps_dir, name)
    if not host.is_dir(folder):
        return True
    return any(host.is_file(join(folder, f)) for f in WELCOME_FILES) or host.is_file(join(folder, "WEB-INF", "web.xml"))


def ordered_webapps(web_apps: list[str]) -> list[str]:
    """The applications a health check may ask, best first: ROOT, the organisation's, then Tomcat's
    docs and examples (stable: the listed order otherwise); never the password-protected managers."""
    return sorted((n for n in web_apps if n not in PASSWORD_WEBAPPS), key=lambda n: (n != "ROOT", n in STOCK_WEBAPPS))


def health_check_path(host: Host, webapps_dir: str, web_apps: list[str]) -> str:
    """The context root a health check asks: ROOT's when it can answer there, else the first
    application that can (the organisation's before Tomcat's docs and examples); when none shows
    it can, the first of them, as before; "/" when there is none.

    Debian's ``makebase.sh`` leaves an empty ROOT, which answers 404 on the original host too.
    """
    candidates = ordered_webapps(web_apps)
    chosen = next((n for n in candidates if serves_context_root(host, webapps_dir, n)), candidates[0] if candidates else "ROOT")
    return "/" if chosen == "ROOT" else f"/{chosen}/"


def doc_bases(host: Host, descriptors: list[str], webapps_dir: str) -> list[str]:
    """The folders or WARs that context descriptors (conf/Catalina/<host>/*.xml) deploy, when
    they exist: a relative docBase is relative to the appBase."""
    found = []
    for path in descriptors:
        try:
            root = parse_xml(host.read_bytes(path, limit=1024 * 1024), path)
        except (UnsafeXML, HostError):
            continue
        doc_base = (root.get("docBase") or "").strip() if local_name(root) == "Context" else ""
        if doc_base and "${" not in doc_base:
            target = posixpath.normpath(join(webapps_dir, doc_base))
            if host.exists(target):
                found.append(target)
    return list(dict.fromkeys(found))


def context_files(host: Host, base: str) -> list[str]:
    engine_dir = join(base, "conf", "Catalina")
    found = []
    for host_name in host.glob_names(engine_dir):
        folder = join(engine_dir, host_name)
        found += [join(folder, n) for n in host.glob_names(folder, (".xml",))]
    return found


def tomcat_version(host: Host, home: str) -> str:
    text = read_text_member(host, join(home, "lib", "catalina.jar"), "org/apache/catalina/util/ServerInfo.properties")
    return parse_properties(text).get("server.number", "") if text else ""


def container_server_xml(host: Host, path: str, data: bytes | None = None) -> bytes | None:
    """server.xml for the container, or None when nothing needs changing.

    On the host a connector bound to 127.0.0.1 is private; in a container it would be
    unreachable from the published port, so that address goes. The access log goes to the
    container's stdout instead of a file under logs/.
    """
    try:
        root = parse_xml(data if data is not None else host.read_bytes(path), path)
    except (UnsafeXML, HostError):
        return None
    changed = data is not None
    for element in root.iter():
        if local_name(element) == "Valve" and element.get("className", "").endswith(".AccessLogValve"):
            element.attrib.update({"directory": "/dev", "prefix": "stdout", "suffix": "", "rotatable": "false",
                                   "buffered": "false"})
            element.attrib.pop("fileDateFormat", None)
            changed = True
        # AJP stays where it was: exposing it is the Ghostcat risk Tomcat's loopback default guards against.
        if (local_name(element) == "Connector" and element.get("address", "") in ("127.0.0.1", "localhost", "::1")
                and "AJP" not in element.get("protocol", "HTTP/1.1").upper()):
            del element.attrib["address"]
            changed = True
    return serialize_xml(root) if changed else None


def jndi_resources(host: Host, paths: list[str]) -> list[dict[str, str]]:
    """<Resource> definitions (server.xml GlobalNamingResources, context.xml) without their passwords."""
    resources = []
    for path in paths:
        if not path.endswith(".xml"):
            continue
        try:
            root = parse_xml(host.read_bytes(path), path)
        except (UnsafeXML, HostError):
            continue
        for element in root.iter():
            if local_name(element) == "Resource" and element.get("name"):
                resources.append({
                    "name": element.get("name", ""), "type": element.get("type", ""), "auth": element.get("auth", ""),
                    "url": element.get("url", ""), "driverClassName": element.get("driverClassName", ""),
                    "username": element.get("username", ""), "foundIn": path,
                })
    return resources


def console_logging(text: str) -> str:
    """logging.properties with every handler list pointed at the console: in a container the
    logs belong on stdout, where the platform (CloudWatch, FireLens) collects them."""
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key.endswith("handlers") and not key.startswith("#") and "=" in line:
            lines.append(f"{key} = java.util.logging.ConsoleHandler")
        else:
            lines.append(line)
    lines.append("java.util.logging.ConsoleHandler.level = FINE")
    return "\n".join(lines) + "\n"


def tomee_flavor(jar_names: list[str]) -> tuple[str, str] | None:
    """(flavor, version) when the jars in lib/ are Apache TomEE's, else None.

    The flavors add to each other: webprofile < microprofile, and plus (JMS, JAX-WS, connectors)
    < plume (plus with EclipseLink and Mojarra)."""
    names = [n.lower() for n in jar_names]
    core = [n for n in names if n.startswith(("tomee-catalina-", "openejb-core-", "tomee-common-"))]
    if not core:
        return None
    version = ""
    for name in core:
        match = re.search(r"-(\d+(?:\.\d+)+(?:-[A-Za-z0-9.]+)?)\.jar$", name)
        if match and name.startswith("tomee-"):
            version = match.group(1)
    if any("eclipselink" in n for n in names):
        return "plume", version
    if any(n.startswith(("activemq-", "cxf-rt-ws-", "geronimo-connector")) for n in names):
        return "plus", version
    if any("microprofile" in n for n in names):
        return "microprofile", version
    return "webprofile", version
