"""Inventory: an analyzer's claim on a process, and the inventory.json entry it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Detection:
    """An analyzer's claim on a process: which application it is and what identifies it."""

    analyzer_id: str
    application_type: str
    identity: str  # what is stable across restarts: base directory or main artifact
    base_dir: str = ""
    web_apps: tuple[str, ...] = ()


@dataclass(frozen=True)
class InventoryEntry:
    app_id: str
    application_type: str
    analyzer_id: str
    process_id: int
    cmdline: str
    identity: str
    base_dir: str = ""
    web_apps: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    user: str = ""
    # Fields of applications found without a process (IIS sites, Windows services): siteName, bindings, …
    extra: Mapping[str, Any] = field(default_factory=dict)
    # "service" (it runs now, or is configured to), or "scheduled": a cron or systemd timer job, with
    # its schedule (analysisInfo.workload.schedule: cron or onCalendar, timezone, user, file, line, unit).
    kind: str = "service"
    schedule: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """App2Container's fields first (processId, cmdline, applicationType, webApp), ours beside."""
        return {
            **self.extra,
            "processId": self.process_id,
            "cmdline": self.cmdline,
            "applicationType": self.application_type,
            "webApp": self.web_apps[0] if self.web_apps else "",
            "webApps": list(self.web_apps),
            "ports": list(self.ports),
            "baseDirectory": self.base_dir,
            "identity": self.identity,
            "analyzer": self.analyzer_id,
            "user": self.user,
            **({"kind": self.kind, "schedule": dict(self.schedule)} if self.kind != "service" else {}),
        }

    _FIELDS = ("processId", "cmdline", "applicationType", "webApp", "webApps", "ports", "baseDirectory", "identity",
               "analyzer", "user", "kind", "schedule")

    @classmethod
    def from_json(cls, app_id: str, data: Mapping[str, Any]) -> "InventoryEntry":
        return cls(
            app_id=app_id,
            application_type=data["applicationType"],
            analyzer_id=data.get("analyzer", ""),
            process_id=int(data.get("processId", 0)),
            cmdline=data.get("cmdline", ""),
            identity=data.get("identity", ""),
            base_dir=data.get("baseDirectory", ""),
            web_apps=tuple(data.get("webApps", ())),
            ports=tuple(data.get("ports", ())),
            user=data.get("user", ""),
            kind=data.get("kind") or "service",
            schedule=dict(data.get("schedule") or {}),
            extra={k: v for k, v in data.items() if k not in cls._FIELDS},
        )
