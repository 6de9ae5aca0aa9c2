"""Spring Boot executable jars (application mode): the jar, its external config, a JRE base."""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

from a2c.analyzers.base import Analyzer
from a2c.analyzers.common.archives import BadArchive, open_zip, read_member
from a2c.analyzers.common.properties import parse_manifest, parse_properties, parse_yaml_flat
from a2c.analyzers.java import common
from a2c.analyzers.java.jvm import is_java, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo

_CONFIG_NAMES = ("application.properties", "application.yml", "application.yaml")


class SpringBootAnalyzer(Analyzer):
    id = "java-springboot"
    runtime = "java"
    application_type = "java-springboot"
    priority = 20
    description = "Spring Boot executable jar (Spring-Boot-Version / JarLauncher manifest)"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        if command is None or not command.jar:
            return None
        jar = host.realpath(join(proc.cwd or "/", command.jar))
        manifest = read_manifest(host, jar)
        if not is_spring_boot(manifest):
            return None
        return Detection(self.id, self.application_type, identity=f"jar:{jar}", base_dir=posixpath.dirname(jar),
                         web_apps=(posixpath.basename(jar),))

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        jar = host.realpath(join(proc.cwd or "/", command.jar))
        manifest = read_manifest(host, jar)
        findings: list[Finding] = []
        sources, config_files = config_sources(host, jar, proc.cwd, findings)
        port, port_source = effective_property("server.port", command.args, command.system_properties, proc.environ, sources)
        address, address_source = effective_property("server.address", command.args, command.system_properties,
                                                      proc.environ, sources)
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
        info["AdvancedAppInfo"].update(
            {
                "Directories": {"base": posixpath.dirname(jar), "jar": jar, "cwd": proc.cwd},
                "distro": "java-springboot",
                "version": manifest.get("Spring-Boot-Version", ""),
            }
        )
        info["springBoot"] = {
            "jar": jar,
            "startClass": manifest.get("Start-Class", ""),
            "mainClass": manifest.get("Main-Class", ""),
            "springBootVersion": manifest.get("Spring-Boot-Version", ""),
            "serverPort": port_number,
            "serverPortSource": port_source,
            "applicationName": effective_property("spring.application.name", command.args, command.system_properties,
                                                  proc.environ, sources)[0],
            "configFiles": config_files,
            "serverAddress": address,
            "serverAddressSource": address_source,
        }
        params = common.java_container_parameters(entry, info, common.application_environment(proc, host), applicationPort=port_number, healthCheckPath="/")
        findings += common.runtime_findings(info)
        return AnalyzerResult(info, params, tuple(findings))

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info, params = analysis["analysisInfo"], analysis["containerParameters"]
        boot = info["springBoot"]
        excluded = tuple(params.get("appExcludedFiles", ()))
        external = tuple(f for f in boot.get("configFiles", []) if not f.startswith("jar:"))
        layers = [CopyLayer("application", (boot["jar"],), excludes=excluded)]
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
        return BuildPlan(
            app_id=info["appId"],
            base_image=params["containerBaseImage"],
            layers=tuple(layers),
            entrypoint=common.entry_command(info["cmdline"], info.get("secrets", [])),
            workdir=info.get("cwd") or posixpath.dirname(boot["jar"]),
            env=env,
            ports=(port,) if port else (),
            health_port=port,
            writable_dirs=(info.get("cwd") or posixpath.dirname(boot["jar"]),),
        )


def read_manifest(host: Host, jar: str) -> dict[str, str]:
    try:
        with open_zip(host, jar) as archive:
            data = read_member(archive, "META-INF/MANIFEST.MF")
    except (HostError, BadArchive):
        return {}
    return parse_manifest(decode_text(data)) if data else {}


def is_spring_boot(manifest: Mapping[str, str]) -> bool:
    return "Spring-Boot-Version" in manifest or manifest.get("Main-Class", "").startswith("org.springframework.boot.loader")


def config_sources(host: Host, jar: str, cwd: str, findings: list[Finding]) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """Spring's config files, highest precedence first: ./config/, ./, then inside the jar."""
    sources: list[tuple[str, dict[str, str]]] = []
    files: list[str] = []
    for folder in (join(cwd, "config"), cwd) if cwd else ():
        for name in _CONFIG_NAMES:
            path = join(folder, name)
            if host.is_file(path):
                try:
                    sources.append((path, _parse_config(name, host.read_text(path))))
                    files.append(path)
                except HostError as exc:
                    findings.append(Finding("SPRING-E001", "error", exc.message, path))
    classes = "BOOT-INF/classes/"
    try:
        with open_zip(host, jar) as archive:
            for name in _CONFIG_NAMES:
                data = read_member(archive, classes + name)
                if data is not None:
                    sources.append((f"jar:{jar}!/{classes}{name}", _parse_config(name, decode_text(data))))
    except (HostError, BadArchive) as exc:
        findings.append(Finding("SPRING-E002", "error", exc.message, jar))
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
