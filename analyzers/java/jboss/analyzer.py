"""The JBoss / WildFly analyzer: detect, analyze and plan, from the readers of this package.

Writable at run time: data, log, tmp, configuration/standalone_xml_history (WildFly copies the
configuration there at boot), the content repository, and the scanner's deployments folder (the
scanner refuses a folder it cannot write and rewrites its markers on every boot).
standalone_xml_history/ (WildFly's copies of the configuration) stays out of the image.
"""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

from a2c.analyzers.common import configsecrets, dependencies
from a2c.analyzers.common.secrets import mask_cmdline, mask_mapping
from a2c.analyzers.java import common
from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.java.jboss.command import parse_jboss_cmdline, server_properties
from a2c.analyzers.java.jboss.container import container_entrypoint, container_server_config
from a2c.analyzers.java.jboss.datasources import (
    configs_with_secrets,
    outbound_dependencies,
    parse_datasources,
    secret_spots,
    secrets_entries,
)
from a2c.analyzers.java.jboss.deployments import (
    config_deployments,
    deployment_scanner_dir,
    health_check_path,
    order_deployments,
    scanner_deployments,
)
from a2c.analyzers.java.jboss.expressions import resolve_expression
from a2c.analyzers.java.jboss.folders import (
    DEFAULT_CONFIG,
    config_path,
    path_properties,
    server_dirs,
    with_config_paths,
)
from a2c.analyzers.java.jboss.serverconfig import (
    http_port,
    parse_interfaces,
    parse_listeners,
    parse_socket_bindings,
    read_server_config,
)
from a2c.analyzers.java.jboss.version import modules_version, product_version
from a2c.analyzers.java.jvm import is_java
from a2c.hosts.base import Host, is_within, join
from a2c.model import AnalyzerResult, BuildPlan, CopyLayer, Detection, Finding, InventoryEntry, ProcessInfo

WILDCARD = {"0.0.0.0", "::", "[::]"}


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
