"""Which application a process is: the analyzers' claims on it, and finding an inventoried
application again later (its pid changes, its id does not). Inventory and analyze share it."""

from __future__ import annotations

import logging
import shlex

from a2c.analyzers.registry import Registry
from a2c.errors import AppNotFound, HostError, crash_summary
from a2c.hosts.base import Host
from a2c.ids import application_id
from a2c.model import InventoryEntry, ProcessInfo

log = logging.getLogger(__name__)


def classify_process(proc: ProcessInfo, host: Host, analyzers: list, notes: list[str]) -> InventoryEntry | None:
    """The inventory entry of the first analyzer (by priority) that claims the process."""
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
        from a2c.analyzers.common.secrets import mask_cmdline

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


def locate_process(entry: InventoryEntry, host: Host, registry: Registry) -> tuple[InventoryEntry, ProcessInfo]:
    """The running process of an application: its recorded pid if that is still it, else a search.

    Applications restart; the id is stable, the pid is not. Applications found without a
    process (IIS sites, Windows services) are analyzed from their configuration alone.
    """
    analyzers = [a for a in registry.ordered() if not a.lists_configured]  # those that claim processes
    if entry.kind == "scheduled":
        return locate_job(entry, host, analyzers)
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


def locate_job(entry: InventoryEntry, host: Host, analyzers: list) -> tuple[InventoryEntry, ProcessInfo]:
    """A scheduled job, read again from its crontab or timer: the process it would start (pid 0,
    its command line, folder, environment and user), classified as inventory did."""
    from a2c.scheduled import find_job, job_entry

    where = entry.schedule.get("unit") or entry.schedule.get("file") or "its crontab"
    job = find_job(host, entry.identity, lambda n, e, c: any(a.wants(n, e, c) for a in analyzers))
    notes: list[str] = []
    claimed = classify_process(job.process, host, analyzers, notes) if job is not None else None
    current = job_entry(job, claimed) if job is not None and claimed is not None else None
    if current is None or current.app_id != entry.app_id:
        raise AppNotFound(f"the scheduled job {entry.app_id} is no longer scheduled on {host.name} as inventory "
                          f"found it ({where})", "Run `a2c inventory` again to list the applications.")
    assert job is not None
    return current, job.process
