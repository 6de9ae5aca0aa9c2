"""Any other Java process (process mode): what its command line names, on a JRE base."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from typing import Any, Iterable, Mapping

from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.common import configfiles, credstores, listeners, loopbackargs, systemdirs
from a2c.analyzers.common.safexml import UnsafeXML
from a2c.analyzers.java import common, processmode
from a2c.analyzers.java.jvm import is_java, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo, Socket


class GenericJavaAnalyzer(JavaAnalyzer):
    id = "java-generic"
    runtime = "java"
    application_type = "java-generic"
    process_mode = True
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
        common.add_log_locations(info, params, host, list(info["processMode"]["configFiles"]),
                                 command.system_properties)
        # Data folders (named in the configuration, or written): created empty, their files not copied.
        info["persistentStorage"], state_findings = processmode.persistent_storage(
            proc, host, command, info["processMode"], params["environment"], params["logLocations"])
        # Every configuration file inside what is copied (the working folder, -D folders, named
        # files) is scanned like any other config, so its secrets become placeholders in the image.
        config = list(info["processMode"]["configFiles"])
        findings += state_findings + common.add_config_findings(info, host, config)
        findings += listeners.loopback_rewrites(host, config, proc.listening)[1]
        opened = loopbackargs.open_loopback_args(
            info["cmdline"], loopbackargs.loopback_ports((s.port, s.address) for s in proc.listening))[1]
        if opened:
            findings.append(Finding("NET-W002", "warning", "the command line binds a listener to loopback; in the "
                                    "image's command line only, it listens on every interface: " + "; ".join(opened)))
        allowed = loopbackargs.allow_remote_clients(info["cmdline"])[1]
        if allowed:
            findings.append(Finding("NET-W003", "warning", "the server accepts only local clients; in a container every "
                                    "client comes from another host, so the image's command line adds "
                                    f"{' '.join(allowed)}: restrict who reaches the port with security groups, and "
                                    "set a password"))
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
    # Persistent storage is created writable; its contents are copied only when bakeContents says so.
    storage = systemdirs.planned_storage(info.get("persistentStorage", []))
    paths += tuple(p for p, bake in storage if bake and not any(is_within(p, q) for q in paths))
    # Credential stores stay out whatever the analysis says (the build context refuses them too).
    excludes = tuple(mode.get("excludes", ())) + tuple(params.get("appExcludedFiles", ())) + tuple(
        s for p in paths for s in credstores.system_stores_within(p)) + tuple(p for p, bake in storage if not bake)
    exclude_names = tuple(dict.fromkeys(tuple(mode.get("excludeNames", ())) + credstores.exclude_names()))
    port = int(params.get("applicationPort") or 0)
    env = common.image_environment(params.get("environment", {}))
    layers = []
    java_home = mode.get("javaHome", "")
    if java_home and not processmode.base_provides_java(params["containerBaseImage"]):
        # The base has no Java: bring the host's runtime, and say where it is.
        layers.append(CopyLayer("runtime", (java_home,), link_roots=("/usr/lib/jvm", "/etc")))
        env["JAVA_HOME"] = java_home
    layers.append(CopyLayer("application", paths, excludes=excludes, exclude_names=exclude_names))
    generated: dict[str, bytes] = {}
    render = configfiles.secret_templates(info, host, generated)
    # Listeners the configuration binds to loopback listen on every interface in the image's copy.
    generated.update(listeners.loopback_rewrites(host, mode.get("configFiles", ()), recorded_sockets(info),
                                                 generated=generated)[0])
    return BuildPlan(
        app_id=info["appId"],
        base_image=params["containerBaseImage"],
        layers=tuple(layers),
        entrypoint=common.entry_command(container_cmdline(info), info.get("secrets", [])),
        workdir=info.get("cwd") or "/",
        env=env,
        ports=(port,) if port else (),
        health_port=port,
        generated=generated,
        writable_dirs=tuple(dict.fromkeys(tuple(mode.get("writableDirs", ())) + tuple(p for p, _ in storage))),
        render_at_start=render,
        symlinks=common.log_links(params),
    )


def recorded_sockets(info: Mapping[str, Any]) -> list[Socket]:
    """The listening sockets analysis.json recorded (analysisInfo.ports)."""
    return [Socket(int(p.get("localPort") or 0), str(p.get("address", "")), str(p.get("protocol", "tcp")))
            for p in info.get("ports") or () if p.get("localPort")]


def container_cmdline(info: Mapping[str, Any]) -> list[str]:
    """The original command line with loopback listen addresses opened (analyzers/common/loopbackargs.py)."""
    sockets = ((int(p.get("localPort") or 0), str(p.get("address", ""))) for p in info.get("ports") or ())
    opened = loopbackargs.open_loopback_args(info["cmdline"], loopbackargs.loopback_ports(sockets))[0]
    return loopbackargs.allow_remote_clients(opened)[0]


# -- process mode for application servers (WebLogic, WebSphere) ---------------------------------

def siblings_within(host: Host, path: str, root: str) -> list[str]:
    """The other entries of ``path``'s parent folder when that folder lies inside ``root``
    (other domains, profiles or servers installed beside the one that runs)."""
    parent = posixpath.dirname(path)
    if not is_within(parent, root) or parent == root:
        return []
    name = posixpath.basename(path)
    return [join(parent, n) for n in host.glob_names(parent) if n != name]


# JVM dumps a server leaves in its working directory (javacores, heap dumps: often gigabytes).
DUMP_NAMES = ("javacore.*.txt", "heapdump.*.phd", "core.[0-9]*.dmp", "Snap.*.trc", "java_pid*.hprof",
              "hs_err_pid*.log")


def template_file(host: Host, path: str, generated: dict[str, bytes], render: dict[str, tuple[str, ...]],
                  transform: Any) -> None:
    """Put ``transform(host bytes, path)`` into ``generated`` and list its placeholders for the entry script."""
    try:
        data = transform(generated.get(path) or host.read_bytes(path, limit=configfiles.MAX_CONFIG_FILE), path)
    except (HostError, UnsafeXML):
        return
    generated[path] = data
    names = tuple(dict.fromkeys(re.findall(rb"\$\{(A2C_SECRET_[A-Z0-9_]+)\}", data)))
    if names:
        render[path] = tuple(n.decode() for n in names)


def bundled_java_home(info: Mapping[str, Any], copied: Iterable[str]) -> str:
    """The host's JAVA_HOME when the copied paths include it (WebSphere's own IBM SDK), else ""."""
    exe = info.get("exe") or ""
    home = info.get("AdvancedAppInfo", {}).get("javaHome") or (posixpath.dirname(posixpath.dirname(exe)) if exe else "")
    return home if home and any(is_within(home, p) for p in copied) else ""


def server_process_plan(analysis: Mapping[str, Any], host: Host, generated: Mapping[str, bytes],
                        render: Mapping[str, tuple[str, ...]]) -> BuildPlan:
    """``process_mode_plan`` made fit for an application server.

    - The server install (``processMode.serverPaths``, which rarely changes) becomes its own
      layer below the domain/profile and the applications (which change often); a domain
      inside the install goes in the second layer only.
    - ``processMode.excludes`` and ``excludeNames`` apply to the server layer too.
    - When the runtime that ran the server is among the copied files (WebSphere's own IBM
      SDK), the entry script uses it rather than the base image's.
    - Files a2c adapted (placeholders for secrets, listen addresses) replace the host's.
    """
    plan = process_mode_plan(analysis, host)
    mode = analysis["analysisInfo"].get("processMode", {})
    server_roots = set(mode.get("serverPaths", ()))
    excludes = tuple(mode.get("excludes", ()))
    names = tuple(mode.get("excludeNames", ()))
    layers: list[CopyLayer] = []
    for layer in plan.layers:
        extra: dict[str, Any] = {"excludes": tuple(dict.fromkeys(layer.excludes + excludes))}
        if names:
            extra["exclude_names"] = tuple(dict.fromkeys(layer.exclude_names + names))
        server = tuple(p for p in layer.paths if p in server_roots)
        rest = tuple(p for p in layer.paths if p not in server_roots)
        nested = tuple(p for p in rest if any(is_within(p, r) for r in server))
        if server:
            layers.append(dataclasses.replace(layer, name="server", paths=server,
                                              **dict(extra, excludes=extra["excludes"] + nested)))
        if rest:
            layers.append(dataclasses.replace(layer, paths=rest, **extra))
    env = dict(plan.env)
    java_home = bundled_java_home(analysis["analysisInfo"], [p for layer in layers for p in layer.paths])
    if java_home:
        env["JAVA_HOME"] = java_home
    return plan.replace(
        layers=tuple(layers),
        env=env,
        writable_dirs=tuple(dict.fromkeys(tuple(plan.writable_dirs) + tuple(mode.get("writableDirs", ())))),
        generated={**plan.generated, **generated},
        # A file a2c adapted here is rendered at start only if its own placeholders ask for it.
        render_at_start={**{p: v for p, v in plan.render_at_start.items() if p not in generated}, **render},
    )
