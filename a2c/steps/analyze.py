"""a2c analyze: turn one inventory entry into ``<app-id>/analysis.json`` (plus its SBOM and,
for connection strings, App2Container's report.txt beside it)."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2c.analyzers.common import changedfiles
from a2c.analyzers.common.secrets import assign_env_vars
from a2c.analyzers.common.secretvalues import read_secret_values
from a2c.analyzers.common.workload import workload_facts
from a2c.analyzers.registry import Registry
from a2c.applications import locate_process
from a2c.env import Environment
from a2c.errors import A2CError, AppNotFound, HostError, crash_summary
from a2c.gateways.secretstore import StoredSecret, store_secrets
from a2c.hosts.base import Host
from a2c import parity
from a2c.model import AnalyzerResult, Finding, ProcessInfo
from a2c.scheduled import apply_to_analysis
from a2c.workspace import ANALYSIS, Workspace

log = logging.getLogger(__name__)

TEMPLATE_VERSION = "1.0"
SBOM_FILE = "sbom.cdx.json"
REPORT_FILE = "report.txt"


@dataclass(frozen=True)
class AnalyzeRequest:
    app_id: str
    host: str = "local"
    store_secrets: str | None = None  # "ssm" or "secretsmanager": put the secrets' values there
    overwrite: bool = False  # replace values already stored under the same names
    kms_key_id: str | None = None
    aws_profile: str | None = None
    aws_region: str | None = None


@dataclass(frozen=True)
class AnalyzeResult:
    app_id: str
    path: Path
    document: dict[str, Any]
    findings: tuple[Finding, ...]
    stored_secrets: tuple[StoredSecret, ...] = ()  # with --store-secrets: where each value went


def run(env: Environment, request: AnalyzeRequest) -> AnalyzeResult:
    host = env.open_host(request.host)
    result = analyze_application(env.workspace, request.app_id, host, env.analyzers)
    if request.store_secrets is None:
        return result
    # The values are read again on the host as it is now (analysis.json holds only masks), and
    # go to the store alone: a process that is gone leaves its own secrets unread.
    try:
        proc: ProcessInfo | None = locate_process(env.workspace.inventory_entry(request.app_id), host, env.analyzers)[1]
    except (AppNotFound, HostError):
        proc = None
    values = read_secret_values(result.document["analysisInfo"].get("secrets", []), host, proc)
    stored = store_secrets(env.aws(request.aws_profile, request.aws_region), request.app_id, values,
                           request.store_secrets, request.overwrite, request.kms_key_id)
    return dataclasses.replace(result, stored_secrets=tuple(stored))


def analyze_application(workspace: Workspace, app_id: str, host: Host, registry: Registry) -> AnalyzeResult:
    entry = workspace.inventory_entry(app_id)
    entry, proc = locate_process(entry, host, registry)
    analyzer = registry.get(entry.analyzer_id) or registry.for_type(entry.application_type)
    if analyzer is None:
        raise AppNotFound(f"no analyzer for application type {entry.application_type}",
                          "Install the analyzer plugin that listed this application.")
    # Files that change while the analyzer reads and the probes ask are state (changedfiles).
    watched = changedfiles.watch(host, [entry.base_dir, proc.cwd])
    try:
        result = analyzer.analyze(entry, proc, host)
    except A2CError:
        raise
    except Exception as exc:  # a crashing analyzer becomes a finding; process mode takes over
        log.exception("analyzer %s crashed on %s", analyzer.id, app_id)
        fallback = registry.process_mode(analyzer.runtime)
        if fallback is None or fallback is analyzer:
            raise A2CError(f"analyzer {analyzer.id} failed on {app_id}: {crash_summary(exc)}",
                           "Run again with --debug and report the traceback.") from exc
        result = fallback.analyze(dataclasses.replace(entry, analyzer_id=fallback.id), proc, host)
        result = dataclasses.replace(result, findings=result.findings + (
            Finding("A2C-E001", "error",
                    f"analyzer {analyzer.id} failed ({crash_summary(exc)}); analyzed in process mode instead"),))
        analyzer = fallback  # the analyzer that produced the result also plans its image (and its SBOM)
    document = build_document(result)
    document["analysisInfo"]["platform"] = analyzer.platform  # what later steps refuse or choose by
    add_ports(document, proc)
    if entry.kind == "scheduled":  # a job listens on no port: nothing to probe (a2c/scheduled.py)
        probe_findings = apply_to_analysis(document, entry, proc)
    else:
        probe_findings = parity.mark_incidental(document, host, guessed_port=analyzer.process_mode)
        probe_findings += parity.record(document, parity.probe_original(host, document))
    document["findings"] += [f.to_json() for f in probe_findings]
    # What kind of workload: a queue worker, a file-drop processor (scheduled jobs come marked).
    workload = workload_facts(host, proc, document["analysisInfo"])
    if workload:
        document["analysisInfo"]["workload"] = workload
    document["findings"] += [f.to_json() for f in record_changes(document, host, watched)]
    app_dir = workspace.app_dir(app_id)
    sbom_findings = write_sbom(workspace, app_dir, document, analyzer, host)
    document["findings"] += [f.to_json() for f in sbom_findings]
    info = document["analysisInfo"]
    report = info.get("connectionStringReport")
    if report:  # App2Container's report.txt: connection strings with file and line
        workspace.write_files(app_dir, {REPORT_FILE: report})
        info["reportPath"] = str(app_dir / REPORT_FILE)
    path = app_dir / ANALYSIS
    workspace.keep_previous(path)
    workspace.write_analysis(app_id, document)
    return AnalyzeResult(app_id, path, document, result.findings + tuple(probe_findings) + tuple(sbom_findings))


def record_changes(document: dict[str, Any], host: Host, watched: changedfiles.Watch) -> list[Finding]:
    """analysisInfo.persistentStorage gains the folders whose files changed during analysis."""
    info = document["analysisInfo"]
    files = changedfiles.changed(host, watched)
    if not files and not watched.truncated:
        return []
    entries, findings = changedfiles.storage(files, watched, info, document["containerParameters"], host)
    if entries:
        info["persistentStorage"] = entries
    return findings


def add_ports(document: dict[str, Any], proc: ProcessInfo) -> None:
    """analysisInfo.ports as App2Container lists them (localPort, protocol tcp/tcp6), plus the
    bound address, from the process's listening sockets: one entry per port (a JVM's "::" and
    "0.0.0.0" sockets of one port are one listener)."""
    info = document["analysisInfo"]
    listed = info.get("ports") or [{"localPort": s.port, "protocol": s.protocol, "address": s.address}
                                   for s in proc.listening]
    seen: dict[int, dict[str, Any]] = {}
    for entry in listed:
        seen.setdefault(int(entry.get("localPort") or 0), entry)
    if listed:
        info["ports"] = [e for p, e in seen.items() if p]


def write_sbom(workspace: Workspace, app_dir: Path, document: dict[str, Any], analyzer: Any, host: Host) -> list[Finding]:
    """``<app-id>/sbom.cdx.json``: the libraries the image will hold, as the analyzer names them
    (jars read by central directory, .NET packages from deps.json). Records a summary in
    analysisInfo.sbom; a failure is a finding, never a failed analysis."""
    info = document["analysisInfo"]
    try:
        scan = analyzer.components(document, host)
    except Exception as exc:  # the analysis stands without an SBOM
        log.exception("SBOM for %s failed", info["appId"])
        return [Finding("SBOM-E001", "error", f"could not list the application's libraries: {crash_summary(exc)}")]
    if scan is None:  # this analyzer names no libraries
        return []
    from a2c.generate.sbom import SPEC_VERSION, render_sbom

    text = render_sbom(info["appId"], info.get("AdvancedAppInfo", {}).get("version", ""), scan.components)
    workspace.write_files(app_dir, {SBOM_FILE: text})
    info["sbom"] = {"file": str(app_dir / SBOM_FILE), "componentCount": len(scan.components),
                    "format": f"CycloneDX {SPEC_VERSION}"}
    return list(scan.findings)


def created_time() -> str:
    """analysis.json's createdTime, in App2Container's format (UTC)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def build_document(result: AnalyzerResult) -> dict[str, Any]:
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
