"""What kind of workload an analyzed application is, for ``analysisInfo.workload``: a service
(it listens), a queue worker (no listening port, a queue named in its configuration), or a
file-drop processor (an inbox folder named, and seen at work while a2c watched it).

Any analyzer's result goes through the same reading: the configuration files the analysis
lists (every ``configFiles`` list, the files secrets and dependencies were found in, Spring
Boot's ``jar:…!/`` members), the command line, the environment and established connections.
A kind another step decided (``scheduled``, from a crontab or a timer) is kept; its queues are
added.
"""

from __future__ import annotations

import posixpath
from typing import Any, Iterator, Mapping

from a2c.analyzers.common import inbox, queues
from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import ProcessInfo

MAX_FILES = 200
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 6
CONFIG_SUFFIXES = (".properties", ".yml", ".yaml", ".json", ".xml", ".config", ".env", ".conf", ".cfg", ".ini")


def workload_facts(host: Host, process: ProcessInfo, analysis_info: Mapping[str, Any],
                   watch_seconds: float = inbox.WATCH_SECONDS) -> dict[str, Any]:
    """analysisInfo.workload for this application, or {} when it is a plain service that names
    no queue (analysis.json then keeps App2Container's layout)."""
    existing = dict(analysis_info.get("workload") or {})
    found: list[list[dict[str, str]]] = []
    named: list[list[inbox.Candidate]] = [inbox.from_command_line(process.cmdline)]
    for path, data in _config_files(host, analysis_info):
        found.append(queues.from_file(path, data))
        named.append(inbox.named_folders(queues.read_settings(path, data), path))
    found += [queues.from_command_line(process.cmdline), queues.from_environment(process.environ),
              queues.from_connections(process.connections)]
    listed = queues.merge([list(existing.get("queues") or ())] + found)
    listening = [p for p in analysis_info.get("ports") or () if isinstance(p, dict) and not p.get("incidental")
                 and p.get("localPort")] if "ports" in analysis_info else list(process.listening)
    kind = existing.get("kind") or "service"
    result: dict[str, Any] = dict(existing)
    if kind == "service" and not listening:
        candidates = inbox.merge(named)
        folders = inbox.observe(host, candidates, process, watch_seconds) if candidates else []
        active = [c for c in folders if inbox.is_active(c)]
        # A named inbox of a process that serves nothing and reads no queue is taken as one even
        # when it stayed empty while watched (a poller between two files).
        chosen = active[0] if active else folders[0] if folders and not listed else None
        if chosen is not None:
            kind = "fileDrop"
            evidence = chosen.evidence + ([] if active else ["no listening port, no queue, and no file arrived "
                                                              "while a2c watched"])
            result["inbox"] = {"path": chosen.path, "evidence": evidence}
        elif listed:
            kind = "worker"
    if kind == "service" and not listed and not existing:
        return {}
    result["kind"] = kind
    if listed:
        result["queues"] = listed
    else:
        result.pop("queues", None)  # none named: the key stays out, as for a job
    return result


def _config_files(host: Host, info: Mapping[str, Any]) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of the configuration files the analysis names, each read once and bounded;
    a ``jar:JAR!/MEMBER`` is read from the jar, an unreadable file is left out."""
    from a2c.analyzers.common.archives import read_text_member

    for path in list(dict.fromkeys(_named_paths(info)))[:MAX_FILES]:
        try:
            if path.startswith("jar:"):
                jar, sep, member = path[4:].partition("!/")
                if sep:
                    text = read_text_member(host, jar, member)
                    if text is not None:
                        yield member, text.encode("utf-8")
                    continue
                path = jar
            if host.is_file(path):
                yield path, host.read_bytes(path, limit=MAX_FILE_BYTES)
        except HostError:
            continue


def _named_paths(info: Mapping[str, Any]) -> Iterator[str]:
    """Every ``configFiles`` list in the analysis (any analyzer's section), and the files its
    secrets and dependencies were found in, that look like configuration."""
    pending: list[tuple[Any, int]] = [(info, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict) and depth < MAX_DEPTH:
            for key, value in node.items():
                if key == "configFiles" and isinstance(value, list):
                    yield from (p for p in value if _config_path(p))
                elif key != "workload":
                    pending.append((value, depth + 1))
        elif isinstance(node, list) and depth < MAX_DEPTH:
            for item in node[:1000]:
                if isinstance(item, dict) and _config_path(item.get("foundIn")):
                    yield item["foundIn"]
                pending.append((item, depth + 1))


def _config_path(value: Any) -> bool:
    if not isinstance(value, str) or not value.startswith(("/", "jar:")):
        return False
    name = posixpath.basename(value.rpartition("!/")[2] or value).lower()
    return name.endswith(CONFIG_SUFFIXES) or name in ("web.config", "app.config")
