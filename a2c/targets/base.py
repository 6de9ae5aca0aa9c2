"""The Target seam: what every deployment target declares and does.

A target owns one section of deployment.json (``section``, switched on by its ``flag``), with
its own schema fragment; it writes that section's defaults from an analysis, renders its
output folder as pure ``{path: text}``, and may later deploy through the AWS gateway.
Adding a target is one module and its templates: no other code names it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, ClassVar, Mapping

from a2c.model import AnalysisHead


class Target:
    id: ClassVar[str] = ""
    section: ClassVar[str] = ""  # its object in deployment.json, e.g. "ecsParameters"
    flag: ClassVar[str] = ""  # the boolean in that section that chooses it, e.g. "createEcsArtifacts"
    output_folder: ClassVar[str] = ""  # under the application's folder, e.g. "EcsDeployment"
    main_file: ClassVar[str] = ""  # the file a user deploys, relative to output_folder
    description: ClassVar[str] = ""
    # A JSON file in this target's package holding the schema of its section.
    schema_resource: ClassVar[tuple[str, str]] = ("", "")
    default_on: ClassVar[bool] = False  # chosen in a new deployment.json

    @property
    def flag_path(self) -> str:
        return f"{self.section}.{self.flag}"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this target's section of deployment.json."""
        package, name = self.schema_resource
        if not package:
            return {"type": "object", "properties": {self.flag: {"type": "boolean"}}}
        return json.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))

    def defaults(self, analysis: AnalysisHead) -> dict[str, Any]:
        """This target's section of a new deployment.json, from the analysis."""
        return {self.flag: self.default_on}

    def chosen(self, deployment: Mapping[str, Any]) -> bool:
        return bool(deployment.get(self.section, {}).get(self.flag, False))

    def stack_name(self, deployment: Mapping[str, Any]) -> str:
        return ""

    def render(self, deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, str]:
        """``{path relative to output_folder: text}``; pure (no AWS, no files)."""
        raise NotImplementedError

    def notice(self) -> str:
        """A one-line notice printed when the target is chosen (a service closed to new customers); "" for none."""
        return ""

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        """What the user runs next with the rendered files."""
        return []
