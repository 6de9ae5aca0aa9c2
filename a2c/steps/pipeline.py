"""a2c generate pipeline: pipeline.json (written if missing) -> the enabled pipeline kind's folder
under ``<app>/Artifacts/Pipeline/`` (CodePipeline/, …) and ``Artifacts/Pipeline/repository/``
(what the user pushes to the pipeline's source), and with ``deploy`` the kind deployed (the
pipeline's CloudFormation stack through a change set: changes shown, events followed, outputs
printed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from a2c.env import Environment
from a2c.errors import InvalidFile, NotSupported
from a2c.pipelines.pipelinejson import RELEASE_KEYS, check_pipeline, ensure_pipeline
from a2c.pipelines.repository import render_repository
from a2c.targets.base import DEFAULT_DEPLOY_TIMEOUT, DeployOptions

PIPELINE_DIR = "Pipeline"  # under <app>/Artifacts/
REPOSITORY_DIR = "repository"


@dataclass(frozen=True)
class PipelineRequest:
    app_id: str
    deploy: bool = False
    yes: bool = False  # may delete and recreate a stack whose creation failed
    confirm: Callable[[str], bool] | None = None  # asks the user (a terminal), None where nobody can
    aws_profile: str | None = None
    aws_region: str | None = None
    deploy_timeout: float = DEFAULT_DEPLOY_TIMEOUT
    s3_bucket: str | None = None  # for large templates; default: the one `a2c init` saved
    push_source: bool = True  # with deploy: push the repository layout to a CodeCommit or S3 source


@dataclass
class PipelineResult:
    app_id: str
    pipeline: str  # pipeline.json
    kind: str
    folder: str
    template: str
    files: list[str]
    repository: str
    stack_name: str
    next_steps: list[str] = field(default_factory=list)
    stack_status: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    published: dict[str, Any] | None = None  # where --deploy pushed the repository layout

    def to_json(self) -> dict[str, Any]:
        return {"applicationId": self.app_id, "pipeline": self.pipeline, "kind": self.kind, "folder": self.folder,
                "template": self.template, "files": self.files, "repository": self.repository,
                "stackName": self.stack_name, "stackStatus": self.stack_status, "outputs": self.outputs,
                "published": self.published, "nextSteps": self.next_steps}


def run(env: Environment, request: PipelineRequest) -> PipelineResult:
    workspace, reporter, app_id = env.workspace, env.reporter, request.app_id
    deployment = workspace.read_deployment(app_id)
    path = ensure_pipeline(workspace, deployment, env.targets, reporter, env.pipelines)
    pipeline = workspace.read_pipeline(app_id)
    source_key, section = check_pipeline(pipeline, str(path))
    kind = env.pipelines.by_section(section)
    if kind is None:
        installed = ", ".join(f"pipelineInfo.{s}" for s in env.pipelines.sections()) or "none"
        raise NotSupported(f"{path}: $.pipelineInfo.{section}: no installed pipeline kind renders it "
                           f"(installed: {installed})",
                           f"Set $.pipelineInfo.{section}.enabled to false in {path} and switch on one of: {installed}.")
    if source_key not in kind.sources:
        raise InvalidFile(f"{path}: $.sourceInfo.{source_key}: the {kind.description} pipeline cannot read from it "
                          f"(it reads: {', '.join(kind.sources)})",
                          f"Set $.sourceInfo.{source_key}.enabled to false in {path} and enable one of: "
                          f"{', '.join('$.sourceInfo.' + s for s in kind.sources)}.")
    aws = env.aws(request.aws_profile, request.aws_region) if request.deploy else None
    if aws is not None:
        pipeline = with_service_names(aws, pipeline, str(path), reporter)
    files = kind.render(pipeline, deployment, str(path))
    base = workspace.artifacts_dir(app_id) / PIPELINE_DIR
    out_dir = base / kind.output_folder
    written = workspace.write_files(out_dir, files)
    reporter.step(f"Generated {kind.description} at {out_dir}")
    repository = write_repository(env, pipeline, deployment, kind, files, base / REPOSITORY_DIR)
    main = out_dir / kind.main_file if kind.main_file else out_dir
    result = PipelineResult(app_id, str(path), kind.id, str(out_dir), str(main), [str(p) for p in written],
                            str(repository), kind.stack_name(pipeline), kind.next_steps(pipeline, str(out_dir)))
    if request.deploy:
        deploy(env, request, aws, pipeline, deployment, kind, out_dir, result)
    return result


def with_service_names(aws: Any, pipeline: Mapping[str, Any], source: str, reporter: Any) -> dict[str, Any]:
    """pipeline.json with each enabled ECS release's empty serviceName read from its stack's
    ECSService output (CloudFormation names the service the ECS target creates)."""
    from a2c.gateways.cloudformation import CloudFormationGateway

    document = {**pipeline, "releaseInfo": {k: {e: dict(s) for e, s in v.items()}
                                            for k, v in pipeline["releaseInfo"].items()}}
    gateway = CloudFormationGateway(aws)
    for environment, settings in document["releaseInfo"].get("ECS", {}).items():
        if not settings.get("enabled") or settings.get("serviceName"):
            continue
        stack_name = settings.get("stackName") or ""
        stack = gateway.stack(stack_name) if stack_name else None
        outputs = {o.get("OutputKey"): o.get("OutputValue") for o in (stack or {}).get("Outputs") or []}
        if not outputs.get("ECSService"):
            field_path = f"$.releaseInfo.ECS.{environment}"
            raise InvalidFile(
                f"{source}: {field_path}.serviceName is empty and the stack {stack_name or '(none named)'} "
                f"in {gateway.region} has no ECSService output to read it from",
                f"Deploy the application first (a2c generate app-deployment --application-id "
                f"{pipeline['applicationId']} --deploy), or set {field_path}.serviceName in {source}.")
        settings["serviceName"] = outputs["ECSService"]
        reporter.step(f"ECS {environment}: service {outputs['ECSService']} of stack {stack_name}")
    return document


def write_repository(env: Environment, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], kind: Any,
                     kind_files: Mapping[str, str], folder: Path) -> Path:
    """Artifacts/Pipeline/repository/: README, the kind's repository files, the release targets'
    rendered folders (copied as generate app-deployment left them)."""
    app_dir = env.workspace.app_dir(str(pipeline["applicationId"]))
    by_key = {key: target_id for target_id, key in RELEASE_KEYS.items()}
    target_files: dict[str, dict[str, bytes]] = {}
    missing = []
    for key, environments in pipeline["releaseInfo"].items():
        if not any(settings.get("enabled") for settings in environments.values()):
            continue
        target = env.targets.get(by_key.get(key, ""))
        if target is None:
            continue
        rendered = app_dir / target.output_folder
        if not rendered.is_dir():
            missing.append(target.output_folder)
            continue
        target_files[target.output_folder] = {
            str(p.relative_to(rendered)): p.read_bytes() for p in sorted(rendered.rglob("*"))
            if p.is_file() and not p.is_symlink()}
    if missing:
        env.reporter.warn(f"Not in {folder}: {', '.join(missing)} (run `a2c generate app-deployment "
                          f"--application-id {pipeline['applicationId']}` first)")
    # The build context, exported there first (the CLI does, unless --no-context): its top entries.
    context = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                     if p.name != "README.md") if (folder / "Dockerfile").is_file() else []
    env.workspace.write_files(folder, render_repository(pipeline, kind, kind_files, target_files, missing, context))
    env.reporter.step(f"Wrote the source repository layout at {folder} (see its README.md)")
    return folder


def deploy(env: Environment, request: PipelineRequest, aws: Any, pipeline: Mapping[str, Any],
           deployment: Mapping[str, Any], kind: Any, folder: Path, result: PipelineResult) -> None:
    """The kind's deploy, with a2c/targets/stack.py's change-set deploy for its stack."""
    from a2c.config import load_config
    from a2c.gateways.cloudformation import CloudFormationGateway
    from a2c.targets.stack import deploy_stack

    if request.push_source:
        from a2c.pipelines.publish import PUBLISHED_SOURCES, check_publishable
        from a2c.pipelines.pipelinejson import enabled_source

        if enabled_source(pipeline) in PUBLISHED_SOURCES:  # refused before the stack, not after
            check_publishable(Path(result.repository), str(pipeline["applicationId"]))
    bucket = request.s3_bucket
    if bucket is None:
        config = load_config()
        bucket = config.s3Bucket if config else ""
    options = DeployOptions(yes=request.yes, confirm=request.confirm, timeout=request.deploy_timeout,
                            s3_bucket=bucket)
    gateway = CloudFormationGateway(aws)

    def stack(stack_name: str, template: Path) -> Any:
        return deploy_stack(gateway, stack_name, template, env.reporter, options)

    deployed = kind.deploy(pipeline, deployment, folder, aws, env.reporter, options, stack)
    result.stack_name = deployed.stack_name or result.stack_name
    result.stack_status, result.outputs = deployed.status, dict(deployed.outputs)
    if request.push_source:
        from a2c.pipelines.publish import publish

        published = publish(pipeline, Path(result.repository), aws, profile=request.aws_profile,
                            reporter=env.reporter)
        result.published = published.to_json() if published else None


def repository_folder(workspace: Any, app_id: str) -> Path:
    """``<app>/Artifacts/Pipeline/repository/``, where the CLI exports the build context first."""
    return workspace.artifacts_dir(app_id) / PIPELINE_DIR / REPOSITORY_DIR
