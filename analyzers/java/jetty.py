"""Eclipse Jetty (application mode): the server from jetty.home, the apps and their config from jetty.base.

Jetty starts from ``start.jar``, which reads the modules and properties of ``${jetty.base}/start.ini``
and ``${jetty.base}/start.d/*.ini`` (in that order, a later value winning), then the command line's
own ``key=value`` arguments, which win over every ini file. A JVM ``-Dkey=value`` only counts when
no ini file or argument sets the key.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import unquote

from a2c.analyzers.common.numbers import is_ascii_int
from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common.archives import read_text_member
from a2c.analyzers.common.properties import parse_manifest
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml
from a2c.analyzers.common.secrets import mask_mapping
from a2c.analyzers.java import common
from a2c.analyzers.common import configfiles, configsecrets
from a2c.analyzers.java.jvm import JavaCommand, is_java, parse_java_cmdline
from a2c.analyzers.java.tomcat import SHARED_JAR_ROOTS
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo

START_MAIN = "org.eclipse.jetty.start.Main"
# Newest name first: Jetty reads the deprecated name only when the new one is not set anywhere.
HTTP_PORT_KEYS = ("jetty.http.port", "jetty.port")
HTTP_HOST_KEYS = ("jetty.http.host", "jetty.host")
DEFAULT_HTTP_PORT = 8080
# Redirects stdout/stderr to ${jetty.base}/logs; in a container the logs belong on its output.
CONSOLE_CAPTURE = "console-capture"
# Folders of jetty.home that Jetty reads; a package may link them elsewhere (Debian: etc -> /etc/jetty9).
HOME_ENTRIES = ("etc", "lib", "modules", "resources", "start.d", "start.ini")
# What Jetty writes under jetty.base at run time; never copied into the image.
TRANSIENT = ("logs", "work", "tmp")
MAX_INI_BYTES = 1024 * 1024


@dataclass(frozen=True)
class JettyLaunch:
    """What the command line says about Jetty, before any file is read."""

    cwd: str
    start_jar: str  # absolute, as written (links not resolved)
    home: str = ""  # explicit jetty.home (argument, else -D), "" when implied
    base: str = ""  # explicit jetty.base (argument, else -D), "" when implied (the cwd)
    args: tuple[str, ...] = ()  # start.jar's own arguments
    system_properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StartConfig:
    """Modules and properties from the ini files and the command line, with where each came from."""

    modules: tuple[str, ...] = ()
    ini_files: tuple[str, ...] = ()
    values: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # key -> (value, source)

    def get(self, *keys: str) -> tuple[str, str]:
        for key in keys:
            if key in self.values:
                return self.values[key]
        return "", ""


class JettyAnalyzer(JavaAnalyzer):
    id = "java-jetty"
    runtime = "java"
    application_type = "java-jetty"
    priority = 12
    description = "Eclipse Jetty (start.jar or org.eclipse.jetty.start.Main, jetty.home/jetty.base)"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        launch = parse_jetty_launch(proc.cmdline, proc.cwd)
        if launch is None or not runs_jetty_main(host, launch.start_jar):
            return None
        home, base = jetty_dirs(launch, host)
        config = read_start_config(host, home, base, launch)
        return Detection(
            analyzer_id=self.id,
            application_type=self.application_type,
            identity=f"jetty:{base}",
            base_dir=base,
            web_apps=tuple(c["name"] for c in list_contexts(host, webapps_dir(base, config))[0]),
        )

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        launch = parse_jetty_launch(proc.cmdline, proc.cwd)
        assert command is not None and launch is not None
        home, base = jetty_dirs(launch, host)
        config = read_start_config(host, home, base, launch)
        webapps = webapps_dir(base, config)
        contexts, findings = list_contexts(host, webapps)
        info = common.java_analysis_info(entry, proc, host, command)
        port, port_source = http_port(config, findings)
        port = cross_check_port(port, port_source, config, proc, findings)
        http_host, host_source = config.get(*HTTP_HOST_KEYS)
        temp_dir = command.system_properties.get("java.io.tmpdir", "/tmp")
        etc = join(base, "etc") if host.is_dir(join(base, "etc")) else join(home, "etc")
        info["AdvancedAppInfo"].update(
            {
                "Directories": {
                    "base": base,
                    "etc": etc,
                    "home": home,
                    "lib": join(base, "lib", "ext"),
                    "logs": join(base, "logs"),
                    "startD": join(base, "start.d"),
                    "tempDir": temp_dir,
                    "webapps": webapps,
                    "work": join(base, "work"),
                },
                "distro": "java-jetty",
                "version": jetty_version(host, home),
            }
        )
        names = [c["name"] for c in contexts]
        info["jetty"] = {
            "home": home,
            "base": base,
            "startJar": launch.start_jar,
            "modules": list(config.modules),
            "iniFiles": list(config.ini_files),
            "properties": mask_mapping({k: v for k, (v, s) in sorted(config.values.items()) if s != "system property"}),
            "propertySources": {k: s for k, (_, s) in sorted(config.values.items()) if s != "system property"},
            "httpPort": port,
            "httpPortSource": port_source,
            "httpHost": http_host,
            "httpHostSource": host_source,
            "webApps": names,
            "contexts": contexts,
            "contextFiles": [c["path"] for c in contexts if c["kind"] == "xml"],
            "homeLinks": home_links(host, home, base),
            "launcherFiles": launcher_files(host, launch, command, home, base),
            "stateFile": config.get("jetty.state")[0],
        }
        params = common.java_container_parameters(
            entry,
            info,
            common.application_environment(proc, host),
            applicationPort=port,
            logLocations=[join(base, "logs")],
            healthCheckPath=health_check_path(contexts),
        )
        info["healthCandidates"] = [{"path": c["contextPath"].rstrip("/") + "/", "why": "a web application's context"}
                                    for c in contexts if c.get("contextPath", "").startswith("/")]
        findings += common.add_config_findings(info, host, config_files(host, base, contexts))
        info["secrets"] = configsecrets.assign_env_vars(list(info["secrets"]) + ini_secrets(host, config.ini_files))
        findings += common.runtime_findings(info)
        if config.modules and not any(m.startswith("http") for m in config.modules):
            findings.append(Finding("JETTY-W003", "warning", f"the http module is not enabled (modules: "
                                    f"{', '.join(config.modules)}); the container is probed on port {port}",
                                    config.ini_files[0] if config.ini_files else ""))
        if http_host in common.LOOPBACK:
            findings.append(Finding("JETTY-I001", "info", f"jetty.http.host={http_host} ({host_source}) is loopback-only; "
                                    "the container listens on all its interfaces instead"))
        return AnalyzerResult(info, params, tuple(findings))

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info, params = analysis["analysisInfo"], analysis["containerParameters"]
        jetty = info.get("jetty", {})
        dirs = info["AdvancedAppInfo"]["Directories"]
        home, base = dirs["home"], dirs["base"]
        excluded = tuple(params.get("appExcludedFiles", ()))
        transient = tuple(join(base, name) for name in TRANSIENT)
        server_paths = [home] + [t for t in jetty.get("homeLinks", {}).values() if not is_within(t, home)]
        server_paths += [p for p in jetty.get("launcherFiles", []) if not any(is_within(p, s) for s in server_paths)]
        # home/logs may link to the host's log folder; home/webapps is not read when the base is elsewhere.
        server_excludes = excluded + (join(home, "logs"),)
        if base != home:
            server_excludes += (join(home, "webapps"),) + ((base,) if is_within(base, home) else ())
        else:
            server_excludes += transient
        layers = [CopyLayer("server", tuple(server_paths), excludes=server_excludes, link_roots=SHARED_JAR_ROOTS)]
        if base != home:
            app_paths = [base] + [d for d in (dirs.get("webapps", ""),) if d and not is_within(d, base)]
            layers.append(CopyLayer("application", tuple(app_paths), excludes=excluded + transient,
                                    link_roots=SHARED_JAR_ROOTS))
        extra = tuple(params.get("appSpecificFiles", ()))
        if extra:
            layers.append(CopyLayer("additional", extra, excludes=excluded))
        generated: dict[str, bytes] = {}
        render = configfiles.secret_templates(info, host, generated)
        render.update(ini_secret_templates(info, host, generated))
        for path in jetty.get("iniFiles", []):
            real = host.realpath(path)
            patched = container_ini(host, real, generated.get(real))
            if patched is not None:
                generated[real] = patched
        copied = tuple(p for layer in layers for p in layer.paths)
        port = int(params.get("applicationPort") or 0)
        return BuildPlan(
            app_id=info["appId"],
            base_image=params["containerBaseImage"],
            layers=tuple(layers),
            entrypoint=container_command(common.entry_command(info["cmdline"], info.get("secrets", []))),
            workdir=common.workdir_for(info, copied),
            env=common.image_environment(params.get("environment", {})),
            ports=(port,) if port else (),
            health_port=port,
            generated=generated,
            writable_dirs=writable_dirs(host, dirs, jetty),
            render_at_start=render,
        )


# -- the command line ----------------------------------------------------------------------

def parse_jetty_launch(cmdline: tuple[str, ...] | list[str], cwd: str) -> JettyLaunch | None:
    """Jetty's launch facts from ``java … -jar …/start.jar …`` or ``java -cp … org.eclipse.jetty.start.Main …``."""
    command = parse_java_cmdline(cmdline)
    if command is None:
        return None
    start_jar = _start_jar(command)
    if start_jar is None:
        return None
    cwd = cwd or "/"
    props = command.system_properties
    arg_props = dict(_split_property(a) for a in command.args if _is_property(a))
    return JettyLaunch(
        cwd=cwd,
        start_jar=join(cwd, start_jar) if start_jar else "",
        home=arg_props.get("jetty.home") or props.get("jetty.home", ""),
        base=arg_props.get("jetty.base") or props.get("jetty.base", ""),
        args=command.args,
        system_properties=dict(props),
    )


def is_start_jar_name(path: str) -> bool:
    """``start.jar``, or a packaged name such as Debian's ``jetty9-start.jar``."""
    return bool(re.fullmatch(r"start\.jar|jetty\d*-start(-\d[\w.\-]*)?\.jar", posixpath.basename(path)))


def _start_jar(command: JavaCommand) -> str | None:
    if command.jar:
        return command.jar if is_start_jar_name(command.jar) else None
    if command.main_class == START_MAIN:
        jars = [p for p in command.classpath if is_start_jar_name(p)]
        return jars[0] if jars else ""
    return None


def runs_jetty_main(host: Host, start_jar: str) -> bool:
    """False only when the jar is readable and names another main class (another framework's start.jar)."""
    if not start_jar:
        return True
    text = read_text_member(host, start_jar, "META-INF/MANIFEST.MF")
    main = parse_manifest(text).get("Main-Class", "") if text else ""
    return not main or main == START_MAIN


def jetty_dirs(launch: JettyLaunch, host: Host) -> tuple[str, str]:
    """(jetty.home, jetty.base) with links resolved.

    jetty.base defaults to the working directory; jetty.home to the folder start.jar really lives
    in (Jetty resolves the jar's links, so Debian needs jetty.home set), else the working directory.
    """
    base = host.realpath(join(launch.cwd, launch.base or "."))
    if launch.home:
        return host.realpath(join(launch.cwd, launch.home)), base
    if not launch.start_jar:
        return host.realpath(launch.cwd), base
    real = posixpath.dirname(host.realpath(launch.start_jar))
    written = host.realpath(posixpath.dirname(launch.start_jar))
    if not host.is_dir(join(real, "modules")) and host.is_dir(join(written, "modules")):
        return written, base
    return real, base


def _is_property(arg: str) -> bool:
    return not arg.startswith("-") and "=" in arg and bool(re.match(r"[A-Za-z_][\w.\-]*[?+]?=", arg))


def _split_property(arg: str) -> tuple[str, str]:
    key, _, value = arg.partition("=")
    return key, value


# -- start.ini / start.d -------------------------------------------------------------------

@dataclass(frozen=True)
class IniLines:
    modules: tuple[str, ...]
    properties: tuple[tuple[str, str, str], ...]  # (key, operator "=", "?=" or "+=", value), in order


def parse_start_ini(text: str) -> IniLines:
    """``--module=a,b`` lines and ``key=value`` properties of a start.ini; other options are ignored."""
    modules: list[str] = []
    properties: list[tuple[str, str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--module=") or line.startswith("--modules="):
            modules += [m.strip() for m in line.split("=", 1)[1].split(",") if m.strip()]
        elif _is_property(line):
            key, value = _split_property(line)
            operator = "="
            if key.endswith(("?", "+")):
                key, operator = key[:-1], key[-1] + "="
            properties.append((key.strip(), operator, value.strip()))
    return IniLines(tuple(modules), tuple(properties))


def ini_files(host: Host, directory: str) -> list[str]:
    """A Jetty directory's start.ini, then start.d/*.ini by name: the order Jetty reads them."""
    files = [join(directory, "start.ini")] if host.is_file(join(directory, "start.ini")) else []
    start_d = join(directory, "start.d")
    files += [join(start_d, n) for n in sorted(host.glob_names(start_d, (".ini",))) if host.is_file(join(start_d, n))]
    return files


def read_start_config(host: Host, home: str, base: str, launch: JettyLaunch) -> StartConfig:
    """Modules and properties in Jetty's order: -D (lowest), ini files (later wins), arguments (last wins).

    Jetty 9.4 reads jetty.home's ini files only when home is the base; when the base has none we
    still report home's, as older single-directory installs keep their settings there.
    """
    files = ini_files(host, base)
    if not files and base != home:
        files = ini_files(host, home)
    values: dict[str, tuple[str, str]] = {k: (v, "system property") for k, v in launch.system_properties.items()}
    modules: list[str] = []
    readable: list[str] = []
    for path in files:
        try:
            lines = parse_start_ini(host.read_text(path, limit=MAX_INI_BYTES))
        except HostError:
            continue
        readable.append(path)
        modules += [m for m in lines.modules if m not in modules]
        for key, operator, value in lines.properties:
            _apply(values, key, operator, value, path)
    for arg in launch.args:
        if arg.startswith(("--module=", "--modules=")):
            modules += [m for m in arg.split("=", 1)[1].split(",") if m and m not in modules]
        elif _is_property(arg):
            key, value = _split_property(arg)
            operator = "="
            if key.endswith(("?", "+")):
                key, operator = key[:-1], key[-1] + "="
            _apply(values, key, operator, value, "command line")
    return StartConfig(tuple(modules), tuple(readable), values)


def _apply(values: dict[str, tuple[str, str]], key: str, operator: str, value: str, source: str) -> None:
    current = values.get(key)
    if operator == "?=" and current is not None and current[1] != "system property":
        return
    if operator == "+=" and current is not None:
        value = current[0] + value
    values[key] = (value, source)


def http_port(config: StartConfig, findings: list[Finding]) -> tuple[int, str]:
    value, source = config.get(*HTTP_PORT_KEYS)
    if not value:
        return DEFAULT_HTTP_PORT, "default"
    if is_ascii_int(value):
        return int(value.strip()), source
    findings.append(Finding("JETTY-W002", "warning", f"jetty.http.port {value!r} ({source}) is not a number; "
                            f"assuming {DEFAULT_HTTP_PORT}"))
    return DEFAULT_HTTP_PORT, source


def cross_check_port(port: int, source: str, config: StartConfig, proc: ProcessInfo, findings: list[Finding]) -> int:
    """The configured port, unless the process demonstrably listens elsewhere (as for Spring Boot)."""
    listening = sorted({s.port for s in proc.listening})
    if not listening or port in listening:
        return port
    others = {config.get(k)[0] for k in ("jetty.ssl.port", "jetty.secure.port", "STOP.PORT", "stop.port")}
    candidates = [p for p in listening if str(p) not in others] or listening
    findings.append(Finding("JETTY-W001", "warning", f"jetty.http.port resolves to {port} ({source}) but the process "
                            f"listens on {listening}; using {candidates[0]}"))
    return candidates[0]


def ini_secrets(host: Host, paths: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """Secret-named properties of ini files, as analysisInfo.secrets entries (found in the file).

    Jetty's ini lines are ``key=value``: the shared .properties reader and templater apply.
    """
    found: list[dict[str, Any]] = []
    for path in paths:
        try:
            text = host.read_text(path, limit=MAX_INI_BYTES)
        except HostError:
            continue
        found += [s.to_json() for s in configsecrets.properties_secrets(text, host.realpath(path))]
    return found


def ini_secret_templates(info: Mapping[str, Any], host: Host, generated: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
    """Ini files with their secrets replaced by ``${A2C_SECRET_…}`` placeholders in ``generated``;
    returns {path: env vars} for the entry script to fill when the container starts."""
    by_file: dict[str, list[configsecrets.FileSecret]] = {}
    for secret in info.get("secrets", []):
        path = secret.get("foundIn", "")
        if path.startswith("/") and path.endswith(".ini"):
            by_file.setdefault(path, []).append(
                configsecrets.FileSecret(path, secret["name"], secret["envVar"], int(secret.get("line", 0))))
    render: dict[str, tuple[str, ...]] = {}
    for path, secrets in by_file.items():
        try:
            data = generated.get(path) or host.read_bytes(path, limit=MAX_INI_BYTES)
        except HostError:
            continue
        templated, applied = configsecrets.template_file(path, data, secrets)
        if applied:
            generated[path] = templated
        names = configsecrets.render_vars(data, templated, applied, secrets)
        if names:
            render[path] = names
    return render


def config_files(host: Host, base: str, contexts: list[dict[str, str]]) -> list[str]:
    """The base's own configuration (resources/, etc/), context XML files, and exploded apps' classes/."""
    paths = configfiles.config_files_in(host, [join(base, "resources"), join(base, "etc")])
    paths += [c["path"] for c in contexts if c["kind"] == "xml"]
    for context in contexts:
        if context["kind"] == "dir":
            paths += configfiles.config_files_in(host, [join(context["path"], "WEB-INF", "classes")], depth=0)
    return paths


# -- web applications ----------------------------------------------------------------------

def webapps_dir(base: str, config: StartConfig) -> str:
    path = config.get("jetty.deploy.monitoredPath")[0]
    if path:
        return join(base, path)
    return join(base, config.get("jetty.deploy.monitoredDir", "jetty.deploy.monitoredDirName")[0] or "webapps")


def list_contexts(host: Host, webapps: str) -> tuple[list[dict[str, str]], list[Finding]]:
    """What Jetty's WebAppProvider deploys: ``*.xml`` context files, then ``*.war``, then folders,
    one context per name (an XML file hides the WAR and folder of its name, a WAR its extracted
    folder); hidden entries, ``*.d`` folders and other files are skipped. ``root`` maps to ``/``."""
    findings: list[Finding] = []
    chosen: dict[str, dict[str, str]] = {}
    names = [n for n in host.glob_names(webapps) if not n.startswith(".")]
    for kind in ("xml", "war", "dir"):
        for name in names:
            path = join(webapps, name)
            if kind == "dir":
                if not host.is_dir(path) or name.endswith(".d") or name.lower() in ("cvs", "cvsroot"):
                    continue
                stem = name
            elif name.lower().endswith("." + kind) and host.is_file(path):
                stem = name[: -len(kind) - 1]
            else:
                continue
            if stem.lower() in chosen:
                continue
            context_path = _default_context_path(stem)
            if kind == "xml":
                context_path, finding = _xml_context_path(host, path, context_path)
                findings += finding
            chosen[stem.lower()] = {"name": stem, "contextPath": context_path, "path": path, "kind": kind}
    contexts = sorted(chosen.values(), key=lambda c: (c["contextPath"] != "/", c["name"]))
    return contexts, findings


def _default_context_path(stem: str) -> str:
    return "/" if stem.lower() == "root" else "/" + stem


def _xml_context_path(host: Host, path: str, default: str) -> tuple[str, list[Finding]]:
    """The ``<Set name="contextPath">`` of a context XML file (its plain text only)."""
    try:
        root = parse_xml(host.read_bytes(path, limit=1024 * 1024), path)
    except UnsafeXML as exc:
        return default, [Finding("JETTY-E001", "error", exc.message, path)]
    except HostError as exc:
        return default, [Finding("JETTY-E002", "error", exc.message, path)]
    for element in root.iter():
        if local_name(element) == "Set" and element.get("name") == "contextPath":
            text = (element.text or "").strip()
            if text.startswith("/") and len(element) == 0:
                return text, []
    return default, []


def health_check_path(contexts: list[dict[str, str]]) -> str:
    """``/`` when a context serves the root (or there is none), else the first context's path."""
    if not contexts or any(c["contextPath"] == "/" for c in contexts):
        return "/"
    return contexts[0]["contextPath"].rstrip("/") + "/"


# -- the server ----------------------------------------------------------------------------

def jetty_version(host: Host, home: str) -> str:
    """From lib/jetty-server-<version>.jar, else that jar's manifest Implementation-Version."""
    lib = join(home, "lib")
    jars = [n for n in host.glob_names(lib, (".jar",)) if n.startswith("jetty-server")]
    for name in jars:
        match = re.fullmatch(r"jetty-server-(\d[\w.\-]*)\.jar", name)
        if match:
            return match.group(1)
    for name in jars:
        text = read_text_member(host, join(lib, name), "META-INF/MANIFEST.MF")
        version = parse_manifest(text).get("Implementation-Version", "") if text else ""
        if version:
            return version
    return ""


def launcher_files(host: Host, launch: JettyLaunch, command: JavaCommand, home: str, base: str) -> list[str]:
    """Files the JVM loads before Jetty reads its modules, when they live outside home and base:
    start.jar itself, its manifest's Class-Path (Debian's names /usr/share/java/jetty9-util.jar)
    and the -cp entries of a Main-class launch."""
    paths: list[str] = []
    if launch.start_jar:
        paths.append(launch.start_jar)
        text = read_text_member(host, launch.start_jar, "META-INF/MANIFEST.MF")
        for entry in (parse_manifest(text).get("Class-Path", "") if text else "").split():
            entry = unquote(entry[len("file:"):] if entry.startswith("file:") else entry)
            paths.append(join(posixpath.dirname(launch.start_jar), entry))
    paths += [join(launch.cwd, p) for p in command.classpath if not p.endswith("*")]
    return [p for p in dict.fromkeys(paths)
            if not is_within(p, home) and not is_within(p, base) and host.exists(p)]


def home_links(host: Host, home: str, base: str) -> dict[str, str]:
    """Entries of jetty.home that link outside it (Debian: etc -> /etc/jetty9): their targets go
    into the image beside home, or the links would dangle there."""
    links: dict[str, str] = {}
    for name in HOME_ENTRIES:
        path = join(home, name)
        st = host.lstat(path)
        if st is None or st.kind != "link":
            continue
        try:
            target = host.realpath(path)
        except HostError:
            continue
        if is_within(target, home) or is_within(target, base) or not host.exists(target):
            continue
        if any(is_within(target, t) for t in links.values()):
            continue
        links[name] = target
    return links


# -- the container -------------------------------------------------------------------------

def _loopback_host(key: str, value: str) -> bool:
    name = key[2:] if key.startswith("-D") else key
    return name in HTTP_HOST_KEYS and value.strip() in common.LOOPBACK


def container_command(args: tuple[str, ...]) -> tuple[str, ...]:
    """The entry command without loopback-only ``jetty.http.host`` arguments (or ``-D`` options),
    and without the console-capture module (the container's output is the log)."""
    kept = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and _loopback_host(key, value):
            continue
        if key in ("--module", "--modules") and CONSOLE_CAPTURE in value.split(","):
            rest = [m for m in value.split(",") if m and m != CONSOLE_CAPTURE]
            if rest:
                kept.append(f"{key}={','.join(rest)}")
            continue
        kept.append(arg)
    return tuple(kept)


def container_ini(host: Host, path: str, data: bytes | None = None) -> bytes | None:
    """An ini file for the container, or None when nothing needs changing (``data``: an already
    generated version of it).

    A loopback-only ``jetty.http.host`` would be unreachable from the published port, and the
    console-capture module would send the logs to files instead of the container's output, so
    both lines become comments.
    """
    if data is None:
        try:
            data = host.read_bytes(path, limit=MAX_INI_BYTES)
        except HostError:
            return None
    changed = False
    out = []
    for line in decode_text(data).splitlines(keepends=True):
        stripped = line.strip()
        ending = line[len(line.rstrip("\r\n")):]
        key, sep, value = stripped.partition("=")
        if sep and not stripped.startswith("#") and _loopback_host(key.rstrip("?+").strip(), value):
            out.append(f"# a2c: loopback-only on the host; the container listens on all interfaces: {stripped}{ending}")
            changed = True
        elif key in ("--module", "--modules") and CONSOLE_CAPTURE in value.split(","):
            rest = [m for m in value.split(",") if m.strip() and m.strip() != CONSOLE_CAPTURE]
            out.append(f"# a2c: logs go to the container's output, not to files: {stripped}{ending}")
            if rest:
                out.append(f"{key}={','.join(rest)}{ending}")
            changed = True
        else:
            out.append(line)
    if not changed:
        return None
    return "".join(out).encode("utf-8")


def writable_dirs(host: Host, dirs: Mapping[str, str], jetty: Mapping[str, Any]) -> tuple[str, ...]:
    """logs always; work only when it exists (its presence changes where Jetty unpacks WARs); an
    explicit java.io.tmpdir other than the image's /tmp; the folder of Debian's jetty.state file."""
    found = [dirs["logs"]]
    work = dirs.get("work", "")
    if work and host.is_dir(work):
        found.append(work)
    temp = dirs.get("tempDir", "")
    if temp and temp not in ("/tmp", "/var/tmp"):
        found.append(temp)
    state = jetty.get("stateFile", "")
    if state.startswith("/"):
        found.append(posixpath.dirname(state))
    return tuple(dict.fromkeys(found))
