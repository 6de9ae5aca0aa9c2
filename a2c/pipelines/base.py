"""The Pipeline seam: what every CI/CD pipeline kind declares and does (like a Target).

A kind owns its object under pipeline.json's ``pipelineInfo`` (``section``, e.g. "CodePipeline",
switched on by its ``flag``, "enabled"), renders its folder under ``<app>/Artifacts/Pipeline/``
as pure ``{path: text}`` from pipeline.json and deployment.json, and deploys that folder
(``deploy``: by default its ``main_file`` as a CloudFormation stack, through the change-set
deploy of a2c/targets/stack.py, which the step hands in as ``deploy_stack``: pipelines sit
beside targets in the layers and do not import them). Adding one is one module and its templates.

What ``render`` reads: ``pipeline["pipelineInfo"][section]`` (its own settings),
``pipeline["sourceInfo"]`` (exactly one source enabled), ``pipeline["releaseInfo"]`` (the
environments to roll out to, at least one enabled), ``pipeline["imageInfo"]["image"]`` (the ECR
``repository:tag``) and deployment.json. ``a2c.pipelines.pipelinejson`` has the helpers that read
those (``enabled_source``, ``releases``, ``image_repository``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from a2c.progress import Reporter

# (stack name, template file) -> a2c.targets.base.DeployResult: a2c/targets/stack.py's deploy_stack
# bound to the AWS clients and DeployOptions of the command.
StackDeployer = Callable[[str, Path], Any]


def pipeline_stack_name(app_id: str, suffix: str) -> str:
    """``a2c-<id>-<suffix>`` within CloudFormation's 128 characters ('.' and '_' become '-'), the
    way the targets name their stacks."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", app_id)
    return f"a2c-{name[:128 - len(suffix) - 5]}-{suffix}"


class Pipeline:
    id: ClassVar[str] = ""
    section: ClassVar[str] = ""  # its object under pipeline.json's pipelineInfo, e.g. "CodePipeline"
    flag: ClassVar[str] = "enabled"  # the boolean in that object that chooses it
    output_folder: ClassVar[str] = ""  # under <app>/Artifacts/Pipeline/, e.g. "CodePipeline"
    main_file: ClassVar[str] = ""  # the file a user deploys, relative to output_folder ("" for none)
    description: ClassVar[str] = ""
    # The sourceInfo keys this kind can read from (refused otherwise, naming the field).
    sources: ClassVar[tuple[str, ...]] = ("CodeCommit", "ExistingGitRepo", "CodeConnections", "S3")
    # Rendered files that also go into Artifacts/Pipeline/repository/: {path in the folder: path in the repository}.
    repository_files: ClassVar[dict[str, str]] = {}

    @property
    def flag_path(self) -> str:
        return f"pipelineInfo.{self.section}.{self.flag}"

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {self.flag: {"type": "boolean"}}}

    def defaults(self) -> dict[str, Any]:
        """This kind's object under pipelineInfo in a new pipeline.json."""
        return {self.flag: False}

    def chosen(self, pipeline: Mapping[str, Any]) -> bool:
        return bool(pipeline.get("pipelineInfo", {}).get(self.section, {}).get(self.flag, False))

    def settings(self, pipeline: Mapping[str, Any]) -> dict[str, Any]:
        """``pipeline["pipelineInfo"][section]``."""
        return dict(pipeline.get("pipelineInfo", {}).get(self.section, {}))

    def stack_name(self, pipeline: Mapping[str, Any]) -> str:
        """The CloudFormation stack ``deploy`` creates ("" where a kind deploys otherwise)."""
        return pipeline_stack_name(str(pipeline["applicationId"]), "Pipeline") if self.main_file else ""

    def render(self, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> dict[str, str]:
        """``{path relative to output_folder: text}``; pure (no AWS, no files). ``source`` names
        pipeline.json in messages."""
        raise NotImplementedError

    def deploy(self, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], folder: Path, aws: Any,
               reporter: Reporter, options: Any, deploy_stack: StackDeployer) -> Any:
        """Deploy the rendered ``folder``; ``aws`` is the client provider of ``Environment.aws``,
        ``options`` the command's ``a2c.targets.base.DeployOptions``. The default creates or
        updates ``stack_name(pipeline)`` from ``main_file`` through ``deploy_stack`` (a change set,
        its events followed, its outputs returned); a kind deployed otherwise (a Jenkins job)
        overrides it and returns an ``a2c.targets.base.DeployResult`` too."""
        if not self.main_file:
            from a2c.errors import NotSupported

            raise NotSupported(f"a2c does not deploy the {self.description} pipeline: it has no stack",
                               f"Set it up by hand as {folder}/README.md says.")
        return deploy_stack(self.stack_name(pipeline), folder / self.main_file)

    def next_steps(self, pipeline: Mapping[str, Any], folder: str) -> list[str]:
        """What the user runs next with the rendered files."""
        return []
