"""a2c generate app-deployment: deployment.json -> one folder per chosen target (EcsDeployment/,
…), and the image pushed to ECR on request. Deploying the stacks is a later step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from a2c.env import Environment
from a2c.errors import NotSupported
from a2c.model import AnalysisHead, json_fields
from a2c.planning import find_analyzer
from a2c.targets.deployment import chosen_targets, ensure_deployment


@dataclass(frozen=True)
class AppDeploymentRequest:
    app_id: str
    image_uri: str | None = None
    push: bool = False
    aws_profile: str | None = None
    aws_region: str | None = None
    registry: str | None = None  # push there instead of the account's ECR registry


@dataclass
class TargetOutput:
    target: str
    folder: str
    template: str
    files: list[str]
    stack_name: str
    next_steps: list[str] = field(default_factory=list)


@dataclass
class AppDeploymentResult:
    app_id: str
    deployment: str
    image_uri: str
    outputs: list[TargetOutput]

    def to_json(self) -> dict[str, Any]:
        """App2Container-like fields for the first target (template, files, stackName), all in ``targets``."""
        first = self.outputs[0]
        return {"applicationId": self.app_id, "deployment": self.deployment, "template": first.template,
                "files": [f for o in self.outputs for f in o.files], "imageUri": self.image_uri,
                "stackName": first.stack_name, "targets": [json_fields(o) for o in self.outputs]}


def run(env: Environment, request: AppDeploymentRequest) -> AppDeploymentResult:
    workspace, reporter, app_id = env.workspace, env.reporter, request.app_id
    document = workspace.read_analysis(app_id)
    head = AnalysisHead.from_json(document)
    # Windows images run on Windows container hosts (ECS on EC2), not on Linux Fargate.
    if find_analyzer(document, env.analyzers).platform == "windows":
        raise NotSupported(
            f"{app_id} is a Windows application: a2c does not generate ECS-on-EC2 Windows artifacts yet",
            "Build its image on a Windows container host from Artifacts/, then deploy it to ECS with Windows "
            "container instances; the analysis carries the Windows build and ports it needs.")
    targets = env.targets
    path = ensure_deployment(workspace, head, targets, reporter)
    deployment = workspace.read_deployment(app_id)  # with the targets' sections (the Environment adds them)
    chosen = chosen_targets(deployment, targets, str(path))
    image_uri = request.image_uri or ""
    if request.push:
        from a2c.images.push import push_to_ecr

        image_uri = push_to_ecr(env.aws(request.aws_profile, request.aws_region), env.docker, deployment["imageName"],
                                deployment["ecrParameters"]["ecrRepoTag"], reporter, request.registry)
    outputs = []
    for target in chosen:
        if target.notice():
            reporter.warn(target.notice())
        files = target.render(deployment, image_uri, str(path))
        out_dir = workspace.app_dir(app_id) / target.output_folder
        written = workspace.write_files(out_dir, files)
        main = out_dir / target.main_file
        reporter.step(f"Generated {target.description} at {main}")
        outputs.append(TargetOutput(target.id, str(out_dir), str(main), [str(p) for p in written],
                                    target.stack_name(deployment), target.next_steps(deployment, str(out_dir))))
    return AppDeploymentResult(app_id, str(path), image_uri, outputs)

