"""Any other Java process (process mode): what its command line names, on a JRE base."""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

from a2c.analyzers.base import Analyzer
from a2c.analyzers.java import common, processmode
from a2c.analyzers.java.jvm import is_java, parse_java_cmdline
from a2c.hosts.base import Host, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo


class GenericJavaAnalyzer(Analyzer):
    id = "java-generic"
    runtime = "java"
    application_type = "java-generic"
    priority = 1000
    description = "Any other Java process, containerized in process mode"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        if command is None:
            return None
        cwd = proc.cwd or "/"
        if command.jar:
            jar = host.realpath(join(cwd, command.jar))
            return Detection(self.id, self.application_type, identity=f"jar:{jar}", base_dir=posixpath.dirname(jar))
        main = command.main_class or command.module or "?"
        return Detection(self.id, self.application_type, identity=f"main:{main}@{cwd}", base_dir=cwd)

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        cwd = proc.cwd or "/"
        info = common.java_analysis_info(entry, proc, host, command)
        info["AdvancedAppInfo"]["Directories"] = {"base": entry.base_dir, "cwd": cwd}
        params = common.java_container_parameters(entry, info, common.application_environment(proc, host),
                                                  applicationMode=False)
        info["processMode"], findings = processmode.process_mode_info(
            proc, host, command, info["AdvancedAppInfo"].get("javaHome", ""), params["containerBaseImage"],
            params["environment"])
        config = [p for p in info["processMode"]["paths"] if p.endswith(common.CONFIG_SUFFIXES)]
        config += common.config_files_in(host, [p for p in info["processMode"]["paths"] if host.is_dir(p)], depth=0)
        findings += common.add_config_findings(info, host, config)
        common.add_log_locations(info, params, host, config, command.system_properties)
        findings += common.runtime_findings(info) + [
            Finding("JAVA-I001", "info", "no framework analyzer recognised this process; it is containerized in process "
                    "mode from what the process uses: " + ", ".join(info["processMode"]["paths"])
                    + " (add others to appSpecificFiles)")
        ]
        return AnalyzerResult(info, params, tuple(findings))

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        return process_mode_plan(analysis, host)


def process_mode_plan(analysis: Mapping[str, Any], host: Host) -> BuildPlan:
    """The build plan for any process-mode application: ``analysisInfo.processMode.paths`` plus
    ``appSpecificFiles`` onto the JRE base, started with the original command line.
    Analyzers that only detect a server (WebLogic, WebSphere, …) reuse it."""
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    mode = info.get("processMode", {})
    paths = tuple(mode.get("paths", ())) + tuple(params.get("appSpecificFiles", ()))
    excludes = tuple(mode.get("excludes", ())) + tuple(params.get("appExcludedFiles", ()))
    port = int(params.get("applicationPort") or 0)
    env = common.image_environment(params.get("environment", {}))
    layers = []
    java_home = mode.get("javaHome", "")
    if java_home and not processmode.base_provides_java(params["containerBaseImage"]):
        # The base has no Java: bring the host's runtime, and say where it is.
        layers.append(CopyLayer("runtime", (java_home,), link_roots=("/usr/lib/jvm", "/etc")))
        env["JAVA_HOME"] = java_home
    layers.append(CopyLayer("application", paths, excludes=excludes, exclude_names=tuple(mode.get("excludeNames", ()))))
    generated: dict[str, bytes] = {}
    render = common.secret_templates(info, host, generated)
    return BuildPlan(
        app_id=info["appId"],
        base_image=params["containerBaseImage"],
        layers=tuple(layers),
        entrypoint=common.entry_command(info["cmdline"], info.get("secrets", [])),
        workdir=info.get("cwd") or "/",
        env=env,
        ports=(port,) if port else (),
        health_port=port,
        generated=generated,
        writable_dirs=tuple(mode.get("writableDirs", ())),
        render_at_start=render,
        symlinks=common.log_links(params),
    )
