"""Frozen dataclasses for what flows between a2c's steps.

A step takes one of these (or a validated workspace JSON document) and returns the next;
nothing mutates its input. The JSON shapes that users edit live in ``a2c/schemas``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Socket:
    """A listening socket of a process."""

    port: int
    address: str = ""
    protocol: str = "tcp"  # "tcp" or "tcp6", as App2Container writes it


@dataclass(frozen=True)
class Connection:
    """An established outbound connection of a process."""

    remote_address: str
    remote_port: int
    local_port: int = 0


@dataclass(frozen=True)
class ProcessInfo:
    """What a host tells about one running process; fields it could not read are empty."""

    pid: int
    cmdline: tuple[str, ...]
    exe: str = ""
    cwd: str = ""
    environ: Mapping[str, str] = field(default_factory=dict)
    username: str = ""
    uid: int = -1
    gid: int = -1
    ppid: int = 0
    create_time: float = 0.0
    listening: tuple[Socket, ...] = ()
    connections: tuple[Connection, ...] = ()
    open_files: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return (self.exe or (self.cmdline[0] if self.cmdline else "")).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FileStat:
    """The part of ``lstat`` that a2c needs, from any host."""

    path: str
    kind: str  # "file", "dir", "link" or "other"
    size: int = 0
    mode: int = 0o644
    mtime: float = 0.0
    uid: int = 0
    gid: int = 0
    link_target: str = ""


@dataclass(frozen=True)
class Finding:
    """Something a user should know about an application, with where it was seen."""

    code: str  # e.g. "JAVA-W101"
    severity: str  # "error", "warning" or "info"
    message: str
    path: str = ""

    def to_json(self) -> dict[str, str]:
        data = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.path:
            data["path"] = self.path
        return data


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
        }

    _FIELDS = ("processId", "cmdline", "applicationType", "webApp", "webApps", "ports", "baseDirectory", "identity",
               "analyzer", "user")

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
            extra={k: v for k, v in data.items() if k not in cls._FIELDS},
        )


@dataclass(frozen=True)
class AnalyzerResult:
    """What an analyzer found: App2Container's two sections plus findings."""

    analysis_info: Mapping[str, Any]
    container_parameters: Mapping[str, Any]
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class CopyLayer:
    """Host paths copied into the image at the same absolute paths, as one image layer.

    ``link_roots`` names directories outside ``paths`` whose files may be copied in place of
    a symlink that points to them (Debian's Tomcat links its jars to /usr/share/java);
    any other link leaving the copied roots stays a link and is reported.
    """

    name: str
    paths: tuple[str, ...]
    excludes: tuple[str, ...] = ()
    link_roots: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()  # shell patterns matched against each file or folder name


@dataclass(frozen=True)
class BuildPlan:
    """Everything needed to build an image, independent of Docker."""

    app_id: str
    base_image: str
    layers: tuple[CopyLayer, ...]
    entrypoint: tuple[str, ...]
    workdir: str = "/"
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()
    health_port: int = 0
    user: str = "10001:0"
    labels: Mapping[str, str] = field(default_factory=dict)
    # Files a2c writes into the image (path in image -> content); they replace host files.
    generated: Mapping[str, bytes] = field(default_factory=dict)
    # Directories the application writes to at run time (created empty, owned by the user).
    writable_dirs: tuple[str, ...] = ()
    # Generated files holding ${A2C_SECRET_…} placeholders, filled from the environment at start.
    render_at_start: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Links a2c puts in the image (path -> target), e.g. fixed log files -> /dev/stdout.
    symlinks: Mapping[str, str] = field(default_factory=dict)

    def replace(self, **changes: Any) -> "BuildPlan":
        return dataclasses.replace(self, **changes)


def camel_case(name: str) -> str:
    """``context_files`` -> ``contextFiles``; ``app_id`` -> ``applicationId`` (App2Container's word)."""
    if name == "app_id":
        return "applicationId"
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_fields(obj: Any) -> dict[str, Any]:
    """A result dataclass as its ``--json`` object: every key camelCase, as everywhere in a2c's output."""
    return {camel_case(f.name): getattr(obj, f.name) for f in dataclasses.fields(obj)}
