"""Spring Boot (application mode): executable jars, exploded layouts and PropertiesLauncher.

What is copied: the jar (or the exploded folder), its external ``application*`` files and
any ``loader.path`` folders, onto a JRE base. Configuration is read in Spring Boot's order
of precedence, profiles included, so the reported port and settings are the effective ones.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common.archives import BadArchive, open_zip, read_member
from a2c.analyzers.common.properties import parse_manifest, parse_properties, parse_yaml_flat
from a2c.analyzers.java import common
from a2c.analyzers.common import configfiles, configsecrets, dependencies
from a2c.analyzers.java.jvm import JavaCommand, is_java, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo

_EXTENSIONS = (".properties", ".yml", ".yaml")
LAUNCHERS = {
    "org.springframework.boot.loader.JarLauncher", "org.springframework.boot.loader.WarLauncher",
    "org.springframework.boot.loader.PropertiesLauncher", "org.springframework.boot.loader.launch.JarLauncher",
    "org.springframework.boot.loader.launch.WarLauncher", "org.springframework.boot.loader.launch.PropertiesLauncher",
}


@dataclass(frozen=True)
class BootLayout:
    """Where the application is: an executable jar, or an exploded folder."""

    kind: str  # "jar" or "exploded"
    root: str  # the jar file, or the folder holding BOOT-INF/ (or the classes folder)
    manifest: Mapping[str, str] = field(default_factory=dict)
    loader_path: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        return f"{self.kind}:{self.root}"


def find_layout(command: JavaCommand, proc: ProcessInfo, host: Host) -> BootLayout | None:
    cwd = proc.cwd or "/"
    loader_path = tuple(join(cwd, p.strip()) for p in command.system_properties.get("loader.path", "").split(",") if p.strip())
    if command.jar:
        jar = host.realpath(join(cwd, command.jar))
        manifest = read_manifest(host, jar)
        return BootLayout("jar", jar, manifest, loader_path) if is_spring_boot(manifest) else None
    if command.main_class in LAUNCHERS:
        for entry in command.classpath:
            path = host.realpath(join(cwd, entry))
            if path.endswith((".jar", ".war")) and host.is_file(path):
                return BootLayout("jar", path, read_manifest(host, path), loader_path)
            if host.is_dir(path):
                manifest = _folder_manifest(host, path)
                return BootLayout("exploded", path, manifest, loader_path)
    for entry in command.classpath:  # java -cp app/BOOT-INF/classes:app/BOOT-INF/lib/* com.example.App
        path = join(cwd, entry.rstrip("*"))
        if path.rstrip("/").endswith("BOOT-INF/classes") and host.is_dir(path):
            root = posixpath.dirname(posixpath.dirname(path.rstrip("/")))
            manifest = _folder_manifest(host, root)
            manifest = {**manifest, "Start-Class": manifest.get("Start-Class") or command.main_class}
            return BootLayout("exploded", host.realpath(root), manifest, loader_path)
    return None


def _folder_manifest(host: Host, folder: str) -> dict[str, str]:
    path = join(folder, "META-INF", "MANIFEST.MF")
    try:
        return parse_manifest(host.read_text(path, limit=1024 * 1024)) if host.is_file(path) else {}
    except HostError:
        return {}


class SpringBootAnalyzer(JavaAnalyzer):
    id = "java-springboot"
    runtime = "java"
    application_type = "java-springboot"
    priority = 20
    description = "Spring Boot: executable jar, exploded layout or PropertiesLauncher"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        layout = find_layout(command, proc, host) if command else None
        if layout is None:
            return None
        return Detection(self.id, self.application_type, identity=layout.identity,
                         base_dir=posixpath.dirname(layout.root) if layout.kind == "jar" else layout.root,
                         web_apps=(posixpath.basename(layout.root),))

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        layout = find_layout(command, proc, host)
        assert layout is not None
        findings: list[Finding] = []
        cwd = proc.cwd or "/"

        def resolve(key: str, sources: list[tuple[str, dict[str, str]]]) -> tuple[str, str]:
            return effective_property(key, command.args, command.system_properties, proc.environ, sources)

        base_sources, _ = config_sources(host, layout, cwd, (), findings)
        profiles = [p.strip() for p in resolve("spring.profiles.active", base_sources)[0].split(",") if p.strip()]
        sources, config_files = config_sources(host, layout, cwd, tuple(profiles), findings)
        port, port_source = resolve("server.port", sources)
        address, address_source = resolve("server.address", sources)
        info = common.java_analysis_info(entry, proc, host, command)
        listening = [s.port for s in proc.listening]
        try:
            port_number = int(port) if port else 8080
        except ValueError:
            port_number = 8080
            findings.append(Finding("SPRING-W002", "warning", f"server.port {port!r} is not a number", port_source))
        if listening and port_number not in listening:
            findings.append(Finding("SPRING-W001", "warning",
                                    f"server.port resolves to {port_number} ({port_source}) but the process listens on "
                                    f"{listening}; using {listening[0]}"))
            port_number = listening[0]
        manifest = layout.manifest
        info["AdvancedAppInfo"].update(
            {
                "Directories": {"base": posixpath.dirname(layout.root) if layout.kind == "jar" else layout.root,
                                "jar" if layout.kind == "jar" else "exploded": layout.root, "cwd": cwd},
                "distro": "java-springboot",
                "version": manifest.get("Spring-Boot-Version", ""),
            }
        )
        health_path, health_reason = checked_health_path(*health_check_path(
            layout, host, manifest.get("Spring-Boot-Version", ""), port_number, lambda key: resolve(key, sources)[0]))
        log_file, _ = resolve("logging.file.name", sources)
        log_path, _ = resolve("logging.file.path", sources)
        info["springBoot"] = {
            "layout": layout.kind,
            "jar": layout.root if layout.kind == "jar" else "",
            "exploded": layout.root if layout.kind == "exploded" else "",
            "loaderPath": list(layout.loader_path),
            "startClass": manifest.get("Start-Class", ""),
            "mainClass": manifest.get("Main-Class", "") or command.main_class,
            "springBootVersion": manifest.get("Spring-Boot-Version", ""),
            "activeProfiles": profiles,
            "serverPort": port_number,
            "serverPortSource": port_source,
            "applicationName": resolve("spring.application.name", sources)[0],
            "configFiles": config_files,
            "serverAddress": address,
            "serverAddressSource": address_source,
            "healthCheck": {"path": health_path, "reason": health_reason},
        }
        info["healthCandidates"] = health_candidates(layout, host, port_number, lambda key: resolve(key, sources)[0],
                                                     (health_path, health_reason))
        info["logging"] = {"files": [p for p in (join(cwd, log_file) if log_file else "",
                                                 join(join(cwd, log_path), "spring.log") if log_path else "") if p]}
        external = [f for f in config_files if not f.startswith("jar:")]
        findings += common.add_config_findings(info, host, external)
        info["secrets"] = configsecrets.assign_env_vars(info["secrets"])  # one variable per secret
        for source, values in sources:
            if source.startswith("jar:"):
                info["outboundDependencies"] = dependencies.merge(
                    [info["outboundDependencies"], dependencies.from_properties(values, source)])
                for key, value in values.items():
                    if common.is_secret_name(key) and value and not value.startswith("${"):
                        findings.append(Finding("SEC-W002", "warning",
                                                f"secret {key} is built into the application ({source}); it will be in "
                                                "the image too: move it to an environment variable and rebuild the jar",
                                                source))
        params = common.java_container_parameters(entry, info, common.application_environment(proc, host),
                                                  applicationPort=port_number, healthCheckPath=health_path,
                                                  logLocations=info["logging"]["files"])
        logging_config = resolve("logging.config", sources)[0].removeprefix("file:")
        log_configs = external + ([join(cwd, logging_config)] if logging_config.startswith("/") or logging_config
                                  and not logging_config.startswith("classpath:") else [])
        common.add_log_locations(info, params, host, log_configs, command.system_properties)
        findings += common.runtime_findings(info)
        return AnalyzerResult(info, params, tuple(findings))

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info, params = analysis["analysisInfo"], analysis["containerParameters"]
        boot = info["springBoot"]
        root = boot.get("jar") or boot.get("exploded")
        excluded = tuple(params.get("appExcludedFiles", ()))
        external = tuple(f for f in boot.get("configFiles", []) if not f.startswith("jar:"))
        layers = [CopyLayer("application", (root,) + tuple(boot.get("loaderPath", ())), excludes=excluded)]
        if external:
            layers.append(CopyLayer("configuration", external, excludes=excluded))
        extra = tuple(params.get("appSpecificFiles", ()))
        if extra:
            layers.append(CopyLayer("additional", extra, excludes=excluded))
        port = int(params.get("applicationPort") or 0)
        env = common.image_environment(params.get("environment", {}))
        if boot.get("serverAddress") in common.LOOPBACK:
            # Bound to loopback on the host (private there); in a container that would be unreachable.
            env["SERVER_ADDRESS"] = "0.0.0.0"
        generated: dict[str, bytes] = {}
        render = configfiles.secret_templates(info, host, generated)
        cwd = info.get("cwd") or posixpath.dirname(root)
        return BuildPlan(
            app_id=info["appId"],
            base_image=params["containerBaseImage"],
            layers=tuple(layers),
            entrypoint=common.entry_command(info["cmdline"], info.get("secrets", [])),
            workdir=cwd,
            env=env,
            ports=(port,) if port else (),
            health_port=port,
            writable_dirs=(cwd,),
            generated=generated,
            render_at_start=render,
            symlinks=common.log_links(params),
        )


ACTUATOR_JAR = "spring-boot-actuator-"
# What a URL path may hold as it is (RFC 3986 pchar and "/"); a configured path with anything else
# is not guessed at: the health check falls back to "/".
_URL_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def context_path(value: str) -> str:
    """``server.servlet.context-path`` as a path prefix: "" for the root, else "/ctx" (no trailing /)."""
    value = value.strip().strip("/")
    return f"/{value}" if value else ""


def has_actuator(layout: BootLayout, host: Host) -> bool:
    """Whether Spring Boot Actuator is on the application's classpath (its jar in BOOT-INF/lib or
    WEB-INF/lib), read from the jar's central directory or the exploded folder."""
    if layout.kind == "exploded":
        return any(n.startswith(ACTUATOR_JAR) for sub in ("BOOT-INF/lib", "WEB-INF/lib")
                   for n in host.glob_names(join(layout.root, sub), (".jar",)))
    from a2c.analyzers.common.archives import BadArchive, read_directory

    try:
        with host.open(layout.root) as stream:
            directory = read_directory(stream, layout.root)
    except (HostError, BadArchive):
        return False
    return any(directory.starting_with(f"{lib}/{ACTUATOR_JAR}".encode()) for lib in ("BOOT-INF/lib", "WEB-INF/lib"))


def health_check_path(layout: BootLayout, host: Host, boot_version: str, port: int,
                      setting: Callable[[str], str]) -> tuple[str, str]:
    """The path a health check asks on the application's port, and why that one.

    Under a context path, ``/`` answers 404 (an API-only service may answer 404 on its context
    root too); Actuator's health endpoint answers 200 while the application is up, at
    ``<context-path><management.endpoints.web.base-path>/health`` when management shares the
    server's port. Spring Boot 1 had other paths, and a separate management port is not the
    port that is probed: then the context root is the best guess.
    """
    context = context_path(setting("server.servlet.context-path") or setting("server.context-path"))
    root = f"{context}/"
    if not boot_version or not boot_version.split(".")[0].isdigit() or int(boot_version.split(".")[0]) < 2:
        return root, "the context root (Spring Boot 1 or an unknown version: Actuator's paths differ)"
    if not has_actuator(layout, host):
        return root, "the context root (no Spring Boot Actuator on the classpath)"
    management_port = setting("management.server.port").strip()
    if management_port and management_port != str(port):
        return root, f"the context root (Actuator listens on its own management port {management_port})"
    base = setting("management.endpoints.web.base-path").strip() or "/actuator"
    base = "/" + base.strip("/") if base.strip("/") else ""
    return f"{context}{base}/health", "Spring Boot Actuator's health endpoint"


def health_candidates(layout: BootLayout, host: Host, port: int, setting: Callable[[str], str],
                      chosen: tuple[str, str]) -> list[dict[str, Any]]:
    """Paths worth probing on the original, in order: the chosen health check, Actuator's health
    endpoint on a separate management port (``management.server.port`` under
    ``management.server.base-path``, Boot 2's ``management.server.servlet.context-path``) and the
    context root. Containerize keeps the first that answers below 400 on the original."""
    path, why = chosen  # health_check_path's answer, already worked out by the analyzer
    found: list[dict[str, Any]] = [{"path": path, "why": why}]
    management = setting("management.server.port").strip()
    if management.isdigit() and int(management) != port and 0 < int(management) < 65536 and has_actuator(layout, host):
        prefix = context_path(setting("management.server.base-path")
                              or setting("management.server.servlet.context-path"))
        base = setting("management.endpoints.web.base-path").strip() or "/actuator"
        base = "/" + base.strip("/") if base.strip("/") else ""
        candidate, _ = checked_health_path(f"{prefix}{base}/health", "")
        if candidate != "/":
            found.insert(0, {"path": candidate, "port": int(management),
                             "why": "Spring Boot Actuator's health endpoint on the management port"})
    context = context_path(setting("server.servlet.context-path") or setting("server.context-path"))
    root, _ = checked_health_path(f"{context}/", "")
    found.append({"path": root, "why": "the context root"})
    return list({(c["path"], c.get("port", 0)): c for c in reversed(found)}.values())[::-1]


def checked_health_path(path: str, reason: str) -> tuple[str, str]:
    if _URL_PATH.fullmatch(path):
        return path, reason
    return "/", "the root: the configured context or base path is not a plain URL path"


def read_manifest(host: Host, jar: str) -> dict[str, str]:
    try:
        with open_zip(host, jar) as archive:
            data = read_member(archive, "META-INF/MANIFEST.MF")
    except (HostError, BadArchive):
        return {}
    return parse_manifest(decode_text(data)) if data else {}


def is_spring_boot(manifest: Mapping[str, str]) -> bool:
    return "Spring-Boot-Version" in manifest or manifest.get("Main-Class", "").startswith("org.springframework.boot.loader")


def _names(profiles: tuple[str, ...]) -> list[str]:
    """File stems at one location, highest precedence first: the last active profile wins."""
    return [f"application-{p}" for p in reversed(profiles)] + ["application"]


def config_sources(host: Host, layout: BootLayout | str, cwd: str, profiles: tuple[str, ...] = (),
                   findings: list[Finding] | None = None) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """Spring's config files, highest precedence first: ./config/, ./, then inside the application;
    at each location the profile-specific files before application.*."""
    if isinstance(layout, str):
        layout = BootLayout("jar", layout)
    findings = findings if findings is not None else []
    sources: list[tuple[str, dict[str, str]]] = []
    files: list[str] = []
    for folder in (join(cwd, "config"), cwd) if cwd else ():
        for stem in _names(profiles):
            for extension in _EXTENSIONS:
                path = join(folder, stem + extension)
                if host.is_file(path):
                    try:
                        sources.append((path, _parse_config(path, host.read_text(path))))
                        files.append(path)
                    except HostError as exc:
                        findings.append(Finding("SPRING-E001", "error", exc.message, path))
    if layout.kind == "exploded":
        classes = join(layout.root, "BOOT-INF", "classes")
        for stem in _names(profiles):
            for extension in _EXTENSIONS:
                path = join(classes, stem + extension)
                if host.is_file(path):
                    sources.append((f"jar:{path}", _parse_config(path, host.read_text(path))))
        return sources, files
    classes = "BOOT-INF/classes/"
    try:
        with open_zip(host, layout.root) as archive:
            for stem in _names(profiles):
                for extension in _EXTENSIONS:
                    data = read_member(archive, classes + stem + extension)
                    if data is not None:
                        sources.append((f"jar:{layout.root}!/{classes}{stem}{extension}",
                                        _parse_config(extension, decode_text(data))))
    except (HostError, BadArchive) as exc:
        findings.append(Finding("SPRING-E002", "error", exc.message, layout.root))
    return sources, files


def _parse_config(name: str, text: str) -> dict[str, str]:
    return parse_properties(text) if name.endswith(".properties") else parse_yaml_flat(text)


def effective_property(
    key: str,
    args: tuple[str, ...],
    system_properties: Mapping[str, str],
    environ: Mapping[str, str],
    sources: list[tuple[str, dict[str, str]]],
) -> tuple[str, str]:
    """A property's value and where it came from, in Spring Boot's order of precedence."""
    for arg in reversed(args):
        if arg.startswith(f"--{key}="):
            return arg.split("=", 1)[1], "command line"
    if key in system_properties:
        return system_properties[key], "system property"
    env_name = key.replace(".", "_").replace("-", "").upper()
    if env_name in environ:
        return environ[env_name], f"environment {env_name}"
    for source, values in sources:
        if key in values:
            return values[key], source
    return ("8080", "default") if key == "server.port" else ("", "")
