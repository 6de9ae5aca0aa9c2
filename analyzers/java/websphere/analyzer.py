"""The WebSphere analyzer: detect and analyze a traditional or a Liberty server, and plan its image
(the copied configuration files with their secrets templated out and their endpoints opened)."""

from __future__ import annotations

from typing import Any, Mapping

from a2c.analyzers.java.base import JavaAnalyzer
from a2c.analyzers.java.generic import server_process_plan, template_file
from a2c.analyzers.java.jvm import is_java, parse_java_cmdline
from a2c.analyzers.java.websphere.liberty import (
    analyze_liberty,
    container_http_endpoint,
    container_server_env,
    liberty_secrets,
    liberty_server,
    read_liberty_config,
)
from a2c.analyzers.java.websphere.shared import _wanted, read_xml, template_attributes
from a2c.analyzers.java.websphere.traditional import (
    analyze_traditional,
    container_serverindex,
    deployed_applications,
    resource_secrets,
    security_secrets,
    server_entry,
    traditional_server,
)
from a2c.hosts.base import Host, join
from a2c.model import AnalyzerResult, BuildPlan, Detection, InventoryEntry, ProcessInfo


class WebSphereAnalyzer(JavaAnalyzer):
    id = "java-websphere"
    runtime = "java"
    application_type = "java-websphere"
    priority = 30
    description = "IBM WebSphere Application Server, traditional (WsServer) and Liberty (ws-server.jar), in process mode"

    def wants(self, name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return is_java(name, exe, cmdline)

    def detect(self, proc: ProcessInfo, host: Host) -> Detection | None:
        command = parse_java_cmdline(proc.cmdline)
        if command is None:
            return None
        traditional = traditional_server(command, proc, host)
        if traditional is not None:
            index, _ = read_xml(host, traditional.serverindex, "WAS-E001")
            entry = server_entry(index, traditional.server) if index is not None else None
            apps = [a["name"] for a in deployed_applications(host, traditional, entry)]
            return Detection(self.id, self.application_type, identity=traditional.identity,
                             base_dir=traditional.profile, web_apps=tuple(apps))
        liberty = liberty_server(command, proc, host)
        if liberty is not None:
            config = read_liberty_config(host, liberty)
            return Detection(self.id, self.application_type, identity=liberty.identity, base_dir=liberty.server_dir,
                             web_apps=tuple(a["name"] for a in config.applications))
        return None

    def analyze(self, entry: InventoryEntry, proc: ProcessInfo, host: Host) -> AnalyzerResult:
        command = parse_java_cmdline(proc.cmdline)
        assert command is not None
        traditional = traditional_server(command, proc, host)
        if traditional is not None:
            return analyze_traditional(entry, proc, host, command, traditional)
        liberty = liberty_server(command, proc, host)
        assert liberty is not None
        return analyze_liberty(entry, proc, host, command, liberty)

    def plan(self, analysis: Mapping[str, Any], host: Host) -> BuildPlan:
        info = analysis["analysisInfo"]
        was = info.get("websphere", {})
        secrets = info.get("secrets", [])
        generated: dict[str, bytes] = {}
        render: dict[str, tuple[str, ...]] = {}
        if was.get("flavor") == "traditional":
            for path in was.get("securityFiles", []):
                wanted = _wanted(secrets, path)
                finder = security_secrets if path.endswith("/security.xml") else resource_secrets
                if wanted:
                    template_file(host, path, generated, render,
                                  lambda data, p, f=finder, w=wanted: template_attributes(data, p, f, w, "${%s}"))
            index = was.get("serverIndex", "")
            if index:
                patched = container_serverindex(host, index, was.get("serverName", ""), generated.get(index))
                if patched is not None:
                    generated[index] = patched
        else:
            for path in was.get("configFiles", []):
                wanted = _wanted(secrets, path)
                if wanted:
                    template_file(host, path, generated, render,
                                  lambda data, p, w=wanted: template_attributes(data, p, liberty_secrets, w,
                                                                                "${env.%s}"))
            endpoint_file = was.get("httpEndpointFile", "")
            if endpoint_file:
                patched = container_http_endpoint(host, endpoint_file, generated.get(endpoint_file))
                if patched is not None:
                    generated[endpoint_file] = patched
            server_env = join(was.get("serverDir", "/"), "server.env")
            if was.get("serverDir") and host.is_file(server_env):
                cleaned = container_server_env(host, server_env)
                if cleaned is not None:
                    generated[server_env] = cleaned
        return server_process_plan(analysis, host, generated, render)
