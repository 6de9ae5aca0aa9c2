"""App2Container's per-process fields of analysisInfo, the same for every runtime.

Split in two because App2Container's layout puts the runtime's own sections (Properties,
AdvancedAppInfo) between them, and users diff analysis.json files across versions.
"""

from __future__ import annotations

from typing import Any, Mapping

from a2c import __version__
from a2c.hosts.base import Host
from a2c.model import InventoryEntry, ProcessInfo


def process_head(entry: InventoryEntry, proc: ProcessInfo, host: Host, cmdline: list[str], web_app: str,
                 os_data: Mapping[str, str]) -> dict[str, Any]:
    """processId … ports: who and what the process is (cmdline already masked by the caller)."""
    return {
        "_comment2": "*** NON-EDITABLE: Analysis Results ***",
        "processId": proc.pid,
        "appId": entry.app_id,
        "userId": str(proc.uid),
        "groupId": str(proc.gid),
        "cmdline": cmdline,
        "webApp": web_app,
        "applicationType": entry.application_type,
        "osData": dict(os_data),
        "osName": os_data.get("ID", ""),
        "ports": [{"localPort": s.port, "protocol": s.protocol, "address": s.address} for s in proc.listening],
    }


def process_tail(entry: InventoryEntry, proc: ProcessInfo, host: Host, masked_env: Mapping[str, str],
                 cwd: str | None = None) -> dict[str, Any]:
    """env … a2cVersion: where and as whom it runs, and who analyzed it."""
    return {
        "env": dict(masked_env),
        "cwd": proc.cwd if cwd is None else cwd,
        "exe": proc.exe,
        "userNames": {str(proc.uid): proc.username} if proc.username else {},
        "fileDescriptors": list(proc.open_files),
        **({"mappedFiles": list(proc.mapped_files)} if proc.mapped_files else {}),
        "dependencies": {},
        "hostName": host.name,
        "analyzer": entry.analyzer_id,
        "a2cVersion": __version__,
    }
