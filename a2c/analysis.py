"""Analyze: turn one inventory entry into ``<app-id>/analysis.json``."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2c.analyzers.registry import Registry
from a2c.discovery import classify_process
from a2c.ids import application_id
from a2c.errors import A2CError, AppNotFound, HostError, crash_summary
from a2c.hosts.base import Host
from a2c.model import AnalyzerResult, Finding, InventoryEntry, ProcessInfo
from a2c.workspace import ANALYSIS, Workspace

log = logging.getLogger(__name__)

TEMPLATE_VERSION = "1.0"


@dataclass(frozen=True)
class AnalyzeResult:
    app_id: str
    path: Path
    document: dict[str, Any]
    findings: tuple[Finding, ...]


def locate_process(entry: InventoryEntry, host: Host, registry: Registry) -> tuple[InventoryEntry, ProcessInfo]:
    """The running process of an application: its recorded pid if that is still it, else a search.

    Applications restart; the id is stable, the pid is not. Applications found without a
    process (IIS sites, Windows services) are analyzed from their configuration alone.
    """
    analyzers = registry.ordered()
    analyzer = registry.get(entry.analyzer_id)
    if analyzer is not None and analyzer.lists_configured:
        for detection, _fields in analyzer.enumerate(host):
            if application_id(detection.application_type, detection.identity) == entry.app_id:
                return entry, ProcessInfo(pid=entry.process_id, cmdline=())
        raise AppNotFound(f"application {entry.app_id} is no longer configured on {host.name}",
                          "Run `a2c inventory` again to list the applications.")
    notes: list[str] = []
    try:
        proc = host.process(entry.process_id)
        current = classify_process(proc, host, analyzers, notes)
        if current is not None and current.app_id == entry.app_id:
            return current, proc
    except HostError:
        pass
    processes, _ = host.scan_processes(lambda n, e, c: any(a.wants(n, e, c) for a in analyzers))
    for proc in sorted(processes, key=lambda p: (p.create_time, p.pid)):
        current = classify_process(proc, host, analyzers, notes)
        if current is not None and current.app_id == entry.app_id:
            return current, proc
    raise AppNotFound(
        f"application {entry.app_id} is not running on {host.name} (it was process {entry.process_id})",
        "Start the application, then run `a2c inventory` and `a2c analyze` again.",
    )


def analyze_application(workspace: Workspace, app_id: str, host: Host, registry: Registry) -> AnalyzeResult:
    entry = workspace.inventory_entry(app_id)
    entry, proc = locate_process(entry, host, registry)
    analyzer = registry.get(entry.analyzer_id) or registry.for_type(entry.application_type)
    if analyzer is None:
        raise AppNotFound(f"no analyzer for application type {entry.application_type}",
                          "Install the analyzer plugin that listed this application.")
    try:
        result = analyzer.analyze(entry, proc, host)
    except A2CError:
        raise
    except Exception as exc:  # a crashing analyzer becomes a finding; the generic one takes over
        log.exception("analyzer %s crashed on %s", analyzer.id, app_id)
        fallback = registry.for_type("java-generic") if analyzer.runtime == "java" else None
        if fallback is None or fallback is analyzer:
            raise A2CError(f"analyzer {analyzer.id} failed on {app_id}: {crash_summary(exc)}",
                           "Run again with --debug and report the traceback.") from exc
        result = fallback.analyze(dataclasses.replace(entry, analyzer_id=fallback.id), proc, host)
        result = dataclasses.replace(result, findings=result.findings + (
            Finding("A2C-E001", "error",
                    f"analyzer {analyzer.id} failed ({crash_summary(exc)}); analyzed in process mode instead"),))
        analyzer = fallback  # the analyzer that produced the result also plans its image (and its SBOM)
    document = build_document(result)
    # Windows applications: their content is copied at containerize; no jars to list here.
    sbom_findings = [] if hasattr(analyzer, "windows_artifacts") else write_sbom(workspace, app_id, document, analyzer, host)
    document["findings"] += [f.to_json() for f in sbom_findings]
    report = document["analysisInfo"].get("connectionStringReport")
    if report:  # App2Container's report.txt: connection strings with file and line
        workspace.write_files(workspace.app_dir(app_id), {"report.txt": report})
        document["analysisInfo"]["reportPath"] = str(workspace.app_dir(app_id) / "report.txt")
    path = workspace.app_dir(app_id) / ANALYSIS
    workspace.keep_previous(path)
    workspace.write_analysis(app_id, document)
    return AnalyzeResult(app_id, path, document, result.findings + tuple(sbom_findings))


SBOM_FILE = "sbom.cdx.json"


def write_sbom(workspace: Workspace, app_id: str, document: dict[str, Any], analyzer: Any, host: Host) -> list[Finding]:
    """Artifacts/sbom.cdx.json: every jar that will be in the image, read by central directory.
    Records a summary in analysisInfo.sbom; a failure is a finding, never a failed analysis."""
    from a2c.analyzers.java import sbom

    info = document["analysisInfo"]
    if "nuget" in info:  # .NET: the packages deps.json lists
        from a2c.analyzers.dotnet.corelaunch import render_nuget_sbom_json

        text = render_nuget_sbom_json(app_id, info.get("AdvancedAppInfo", {}).get("version", ""), info["nuget"],
                                      info.get("dotnet", {}).get("depsFile", ""))
        target = workspace.artifacts_dir(app_id) / SBOM_FILE
        workspace.write_files(target.parent, {SBOM_FILE: text})
        info["sbom"] = {"file": str(target), "componentCount": len(info["nuget"]), "format": "CycloneDX 1.5"}
        return []
    try:
        plan = analyzer.plan(document, host)
        roots = [p for layer in plan.layers for p in layer.paths
                 if p.endswith((".jar", ".war", ".ear")) or host.is_dir(p)]
        scan = sbom.scan_jars(host, roots, max_depth=10)
    except Exception as exc:  # the analysis stands without an SBOM
        log.exception("SBOM for %s failed", app_id)
        return [Finding("SBOM-E001", "error", f"could not list the application's jars: {crash_summary(exc)}")]
    version = info.get("AdvancedAppInfo", {}).get("version", "")
    text = sbom.render_cyclonedx_json(app_id, version, scan.components)
    target = workspace.artifacts_dir(app_id) / SBOM_FILE
    workspace.write_files(target.parent, {SBOM_FILE: text})
    info["sbom"] = {"file": str(target), "componentCount": len(scan.components),
                    "format": "CycloneDX 1.5"}
    return list(scan.findings)


def build_document(result: AnalyzerResult) -> dict[str, Any]:
    from a2c.analyzers.common.secrets import assign_env_vars
    from a2c.analyzers.common.configfiles import created_time

    info = dict(result.analysis_info)
    if info.get("secrets"):  # every analyzer, a third party's too: one run-time variable per distinct secret
        info["secrets"] = assign_env_vars(info["secrets"])
    return {
        "a2CTemplateVersion": TEMPLATE_VERSION,
        "createdTime": created_time(),
        "containerParameters": dict(result.container_parameters),
        "analysisInfo": info,
        "findings": [f.to_json() for f in result.findings],
    }
