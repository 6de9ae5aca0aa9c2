"""Analysis: what an analyzer returns, and the head of analysis.json every step reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from a2c.model.findings import Finding


@dataclass(frozen=True)
class AnalyzerResult:
    """What an analyzer found: App2Container's two sections plus findings."""

    analysis_info: Mapping[str, Any]
    container_parameters: Mapping[str, Any]
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class AnalysisHead:
    """The fields of analysis.json that the steps after analyze read, whatever the analyzer.

    The rest of the document is the analyzer's own (``document``): only its ``plan`` reads it.
    Built from a document the workspace already validated against analysis.schema.json.
    """

    app_id: str
    application_type: str
    analyzer: str
    host_name: str
    process_id: int
    image_repository: str
    image_tag: str
    application_port: int
    health_check_path: str
    base_image: str
    secrets: tuple[Mapping[str, Any], ...]
    recommended_memory_mib: int
    document: Mapping[str, Any]
    health_check_port: int = 0  # 0: the application port
    ports: tuple[tuple[int, str], ...] = ()  # (port, "http" or "tcp"), the application port first
    platform: str = "linux"  # the image's: "linux" or "windows"
    persistent_storage: tuple[str, ...] = ()  # folders the application keeps state in (analysisInfo.persistentStorage)

    @property
    def health_port(self) -> int:
        return self.health_check_port or self.application_port

    @property
    def image(self) -> str:
        return f"{self.image_repository}:{self.image_tag}"

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> "AnalysisHead":
        info, params = document["analysisInfo"], document["containerParameters"]
        return cls(
            app_id=info["appId"],
            application_type=info["applicationType"],
            analyzer=info.get("analyzer", ""),
            host_name=info.get("hostName", ""),
            process_id=int(info.get("processId", 0) or 0),
            image_repository=params["imageRepository"],
            image_tag=params["imageTag"],
            application_port=int(params.get("applicationPort") or 0),
            health_check_path=params.get("healthCheckPath") or "/",
            base_image=params.get("containerBaseImage", ""),
            secrets=tuple(info.get("secrets", ())),
            recommended_memory_mib=int(info.get("jvm", {}).get("recommendedTaskMemoryMiB") or 0),
            document=document,
            health_check_port=int(params.get("healthCheckPort") or 0),
            ports=exposed_ports(info, int(params.get("applicationPort") or 0)),
            platform=str(info.get("platform") or "linux"),
            persistent_storage=tuple(str(s["path"]) for s in info.get("persistentStorage") or () if s.get("path")),
        )


def exposed_ports(info: Mapping[str, Any], application_port: int) -> tuple[tuple[int, str], ...]:
    """Every port the original listens on with the protocol the probes found (``http`` when not
    probed: the analyzers' ports are web ports), the application port first."""
    found: dict[int, str] = {}
    if application_port:
        found[application_port] = "http"
    for entry in info.get("ports") or ():
        port = int(entry.get("localPort") or 0)
        if port and not entry.get("incidental"):
            found[port] = str(entry.get("applicationProtocol") or found.get(port) or "http")
    return tuple(found.items())
