"""a2c inventory: which known applications run on a host (or are configured there, like IIS
sites), each under a stable id, into inventory.json."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a2c.analyzers.registry import Registry
from a2c.applications import classify_process
from a2c.env import Environment
from a2c.errors import A2CError, crash_summary
from a2c.hosts.base import Host
from a2c.ids import application_id
from a2c.model import InventoryEntry
from a2c.scheduled import job_entry, scan_jobs

log = logging.getLogger(__name__)

# App2Container's --type values for Windows name application types, not runtimes.
TYPE_FILTERS = {"iis": "dotnet-iis", "service": "dotnet-service"}


@dataclass(frozen=True)
class InventoryRequest:
    runtime: str | None = None  # --type: java, dotnet, iis, service
    host: str = "local"  # a host address (a2c.hosts.open_host)


@dataclass(frozen=True)
class InventoryResult:
    entries: dict[str, InventoryEntry]
    notes: list[str] = field(default_factory=list)
    path: Path | None = None


def selected_analyzers(registry: Registry, runtime: str | None) -> list:
    if runtime in TYPE_FILTERS:
        return [a for a in registry.ordered() if a.application_type == TYPE_FILTERS[runtime]]
    return [a for a in registry.ordered() if runtime in (None, a.runtime)]


def covered_types(registry: Registry, runtime: str | None) -> set[str]:
    """The application types an inventory run with this --type looks for."""
    return {a.application_type for a in selected_analyzers(registry, runtime)}


def discover(host: Host, registry: Registry, runtime: str | None = None) -> InventoryResult:
    analyzers = selected_analyzers(registry, runtime)
    # Analyzers that list configured applications (IIS sites, services) claim no process: not asked.
    asked = [a for a in analyzers if not a.lists_configured]

    def wanted(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return any(a.wants(name, exe, cmdline) for a in asked)

    processes, notes = host.scan_processes(wanted)
    processes.sort(key=lambda p: (p.create_time, p.pid))
    entries: dict[str, InventoryEntry] = {}
    for proc in processes:
        entry = classify_process(proc, host, asked, notes)
        if entry is None:
            continue
        if entry.app_id in entries:
            # Several processes of one application (workers, restarts): keep the oldest pid.
            notes.append(f"process {proc.pid} belongs to {entry.app_id} (already listed as process "
                         f"{entries[entry.app_id].process_id})")
            continue
        entries[entry.app_id] = entry
    if asked:
        add_scheduled_jobs(host, asked, wanted, entries, notes)
    for analyzer in analyzers:
        if not analyzer.lists_configured:
            continue
        try:
            found = analyzer.enumerate(host)
        except Exception as exc:  # one broken analyzer must not hide the others' findings
            log.exception("analyzer %s failed to enumerate applications", analyzer.id)
            notes.append(f"analyzer {analyzer.id} failed to list applications: {crash_summary(exc)}")
            continue
        from a2c.analyzers.common.secrets import mask_value

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


def add_scheduled_jobs(host: Host, asked: list, wanted: Any, entries: dict[str, InventoryEntry],
                       notes: list[str]) -> None:
    """Jobs of cron and systemd timers that run a program an analyzer claims (a2c/scheduled.py),
    each classified from the process it would start, under an id of its file and command. A job
    running right now is listed once: its process is the job's, not another application."""
    try:
        jobs, job_notes = scan_jobs(host, wanted)
    except Exception as exc:  # unreadable schedules must not hide the running applications
        log.exception("reading the scheduled jobs of %s failed", host.name)
        notes.append(f"could not read the scheduled jobs: {crash_summary(exc)}")
        return
    notes += job_notes
    for job in jobs:
        claimed = classify_process(job.process, host, asked, notes)
        if claimed is None:
            continue
        entry = job_entry(job, claimed)
        running = entries.get(claimed.app_id)
        if running is not None and running.kind == "service" and same_arguments(running.cmdline, claimed.cmdline):
            del entries[claimed.app_id]
            notes.append(f"process {running.process_id} is the scheduled job {entry.app_id} running now "
                         f"({entry.schedule.get('file')}); listed once, as the job")
        if entry.app_id in entries:
            continue
        entries[entry.app_id] = entry


def same_arguments(one: str, other: str) -> bool:
    """Whether two (masked) command lines pass the same arguments, whatever path names the program."""
    try:
        return shlex.split(one)[1:] == shlex.split(other)[1:]
    except ValueError:
        return one == other


def run(env: Environment, request: InventoryRequest) -> InventoryResult:
    """Discover, then write inventory.json. A run narrowed by --type replaces only its own kind of
    application; the others stay listed."""
    workspace, registry = env.workspace, env.analyzers
    result = discover(env.open_host(request.host), registry, request.runtime)
    entries = dict(result.entries)
    if request.runtime is not None and workspace.inventory_path.exists():
        try:
            previous = workspace.read_inventory()
        except A2CError:
            previous = {}
        covered = covered_types(registry, request.runtime)
        entries = {**{k: v for k, v in previous.items() if v.application_type not in covered}, **entries}
    path = workspace.write_inventory(entries)
    for note in result.notes:
        env.reporter.detail(note)
    return InventoryResult(result.entries, result.notes, path)
