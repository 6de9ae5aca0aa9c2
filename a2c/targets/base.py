"""The Target seam: what every deployment target declares and does.

A target owns one section of deployment.json (``section``, switched on by its ``flag``), with
its own schema fragment; it writes that section's defaults from an analysis, renders its
output folder as pure ``{path: text}``, and deploys that folder (``deploy``: by default its
main file as a CloudFormation stack). Adding a target is one module and its templates: no other
code names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from a2c.model import AnalysisHead
from a2c.progress import Reporter

DEFAULT_DEPLOY_TIMEOUT = 60 * 60.0  # seconds; an ECS service behind a new load balancer takes 5-15 minutes


@dataclass(frozen=True)
class DeployOptions:
    """How a target deploys: what the user allowed and where things are."""

    yes: bool = False  # allowed to delete and recreate a stack whose creation failed
    # Asks the user a yes/no question (a terminal's prompt); None where nobody can answer.
    confirm: Callable[[str], bool] | None = None
    timeout: float = DEFAULT_DEPLOY_TIMEOUT  # seconds for the whole deploy of one target
    s3_bucket: str = ""  # where a template too large to send inline is uploaded (`a2c init --s3-bucket`)
    kubeconfig: str = ""  # the cluster a Kubernetes target applies to
    poll_seconds: float = 5.0  # between two looks at a stack's events


@dataclass
class DeployResult:
    """What a deploy left in AWS: the stack (or "" where there is none), its status and outputs."""

    stack_name: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    changes: int = 0  # resources the change set added, modified or removed


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
    platforms: ClassVar[tuple[str, ...]] = ("linux",)  # the images it runs (deployment.json's platform)

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

    def deploy(self, deployment: Mapping[str, Any], folder: Path, aws: Any, reporter: Reporter,
               options: DeployOptions) -> DeployResult:
        """Deploy the rendered ``folder`` with ``aws`` (the client provider of ``Environment.aws``).

        The default creates or updates the stack ``stack_name(deployment)`` from ``main_file``
        through a change set (ECS, ECS Express and App Runner are all CloudFormation); a target
        deployed otherwise (Kubernetes manifests) overrides it."""
        from a2c.gateways.cloudformation import CloudFormationGateway
        from a2c.targets.stack import deploy_stack

        return deploy_stack(CloudFormationGateway(aws), self.stack_name(deployment), folder / self.main_file,
                            reporter, options)

    def notice(self) -> str:
        """A one-line notice printed when the target is chosen (a service closed to new customers); "" for none."""
        return ""

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        """What the user runs next with the rendered files."""
        return []
