"""Inventory: which known applications run on a host, each under a stable id."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass, field

from a2c.analyzers.registry import Registry
from a2c.errors import crash_summary
from a2c.hosts.base import Host
from a2c.ids import application_id
from a2c.model import InventoryEntry, ProcessInfo
from a2c.analyzers.common.secrets import mask_cmdline, mask_value

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InventoryResult:
    entries: dict[str, InventoryEntry]
    notes: list[str] = field(default_factory=list)


# App2Container's --type values for Windows name application types, not runtimes.
TYPE_FILTERS = {"iis": "dotnet-iis", "service": "dotnet-service"}


def selected_analyzers(registry: Registry, runtime: str | None) -> list:
    if runtime in TYPE_FILTERS:
        return [a for a in registry.ordered() if a.application_type == TYPE_FILTERS[runtime]]
    return [a for a in registry.ordered() if runtime in (None, a.runtime)]


def covered_types(registry: Registry, runtime: str | None) -> set[str]:
    """The application types an inventory run with this --type looks for."""
    return {a.application_type for a in selected_analyzers(registry, runtime)}


def discover(host: Host, registry: Registry, runtime: str | None = None) -> InventoryResult:
    analyzers = selected_analyzers(registry, runtime)

    def wanted(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return any(a.wants(name, exe, cmdline) for a in analyzers)

    processes, notes = host.scan_processes(wanted)
    processes.sort(key=lambda p: (p.create_time, p.pid))
    entries: dict[str, InventoryEntry] = {}
    for proc in processes:
        entry = classify_process(proc, host, analyzers, notes)
        if entry is None:
            continue
        if entry.app_id in entries:
            # Several processes of one application (workers, restarts): keep the oldest pid.
            notes.append(f"process {proc.pid} belongs to {entry.app_id} (already listed as process "
                         f"{entries[entry.app_id].process_id})")
            continue
        entries[entry.app_id] = entry
    for analyzer in analyzers:
        enumerate_apps = getattr(analyzer, "enumerate", None)
        if enumerate_apps is None:
            continue
        try:
            found = enumerate_apps(host)
        except Exception as exc:  # one broken analyzer must not hide the others' findings
            log.exception("analyzer %s failed to enumerate applications", analyzer.id)
            notes.append(f"analyzer {analyzer.id} failed to list applications: {crash_summary(exc)}")
            continue
        for detection, fields in found:
            entry = InventoryEntry(
                app_id=application_id(detection.application_type, detection.identity),
                application_type=detection.application_type,
                analyzer_id=detection.analyzer_id,
                process_id=int(fields.get("processId", 0) or 0),
                cmdline=mask_value(str(fields.get("cmdline", ""))),  # a service's command line, as one string
                identity=detection.identity,
                base_dir=detection.base_dir,
                web_apps=detection.web_apps,
                ports=tuple(fields.get("ports", ())),
                extra={k: v for k, v in fields.items() if k not in ("processId", "cmdline", "ports")},
            )
            entries.setdefault(entry.app_id, entry)
    return InventoryResult(entries, notes)


def classify_process(proc: ProcessInfo, host: Host, analyzers: list, notes: list[str]) -> InventoryEntry | None:
    for analyzer in analyzers:
        if not analyzer.wants(proc.name, proc.exe, proc.cmdline):
            continue
        try:
            detection = analyzer.detect(proc, host)
        except Exception as exc:  # one broken analyzer must not hide the others' findings
            log.exception("analyzer %s failed on process %s", analyzer.id, proc.pid)
            notes.append(f"analyzer {analyzer.id} failed on process {proc.pid}: {crash_summary(exc)}")
            continue
        if detection is None:
            continue
        return InventoryEntry(
            app_id=application_id(detection.application_type, detection.identity),
            application_type=detection.application_type,
            analyzer_id=detection.analyzer_id,
            process_id=proc.pid,
            cmdline=shlex.join(mask_cmdline(list(proc.cmdline))),
            identity=detection.identity,
            base_dir=detection.base_dir,
            web_apps=detection.web_apps,
            ports=tuple(sorted({s.port for s in proc.listening})),
            user=proc.username,
        )
    return None
