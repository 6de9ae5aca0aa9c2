"""The Pipeline seam: what every CI/CD pipeline kind declares and does (like a Target).

A kind owns its section of pipeline.json (``section``, switched on by ``flag``), renders its
folder under Artifacts/Pipeline/ as pure ``{path: text}``, and may deploy through the AWS
gateway. Adding one is one module and its templates.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping


class Pipeline:
    id: ClassVar[str] = ""
    section: ClassVar[str] = ""  # e.g. "pipelineInfo"
    flag: ClassVar[str] = ""
    output_folder: ClassVar[str] = ""  # under Artifacts/Pipeline/, e.g. "CodePipeline"
    description: ClassVar[str] = ""

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {self.flag: {"type": "boolean"}}}

    def render(self, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> dict[str, str]:
        raise NotImplementedError
