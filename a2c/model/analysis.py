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
        )
