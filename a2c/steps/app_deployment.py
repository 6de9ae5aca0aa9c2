"""a2c generate app-deployment: deployment.json -> one folder per chosen target (EcsDeployment/,
…), the image pushed to ECR on request, and with ``deploy`` each folder deployed by its target
(after the secrets deployment.json references are found to exist, so a missing one stops the
command before anything is created)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from a2c.env import Environment
from a2c.errors import NotSupported
from a2c.model import AnalysisHead, json_fields
from a2c.pipelines.pipelinejson import ensure_pipeline
from a2c.planning import find_analyzer
from a2c.targets.base import DEFAULT_DEPLOY_TIMEOUT, DeployOptions
from a2c.targets.deployment import chosen_targets, ensure_deployment


@dataclass(frozen=True)
class AppDeploymentRequest:
    app_id: str
    image_uri: str | None = None
    push: bool = False
    aws_profile: str | None = None
    aws_region: str | None = None
    registry: str | None = None  # push there instead of the account's ECR registry
    deploy: bool = False
    yes: bool = False  # may delete and recreate a stack whose creation failed
    confirm: Callable[[str], bool] | None = None  # asks the user (a terminal), None where nobody can
    kubeconfig: str | None = None  # default: KUBECONFIG
    deploy_timeout: float = DEFAULT_DEPLOY_TIMEOUT  # seconds per target
    s3_bucket: str | None = None  # for large templates; default: the one `a2c init` saved


@dataclass
class TargetOutput:
    target: str
    folder: str
    template: str
    files: list[str]
    stack_name: str
    next_steps: list[str] = field(default_factory=list)
    stack_status: str = ""  # after --deploy: the stack's status ("" when not deployed)
    outputs: dict[str, str] = field(default_factory=dict)  # after --deploy: the stack's outputs


@dataclass
class AppDeploymentResult:
    app_id: str
    deployment: str
    image_uri: str
    outputs: list[TargetOutput]

    def to_json(self) -> dict[str, Any]:
        """App2Container-like fields for the first target (template, files, stackName, and after a
        deploy stackStatus and outputs), all in ``targets``."""
        first = self.outputs[0]
        return {"applicationId": self.app_id, "deployment": self.deployment, "template": first.template,
                "files": [f for o in self.outputs for f in o.files], "imageUri": self.image_uri,
                "stackName": first.stack_name, "stackStatus": first.stack_status, "outputs": first.outputs,
                "targets": [json_fields(o) for o in self.outputs]}


def run(env: Environment, request: AppDeploymentRequest) -> AppDeploymentResult:
    workspace, reporter, app_id = env.workspace, env.reporter, request.app_id
    document = workspace.read_analysis(app_id)
    head = AnalysisHead.from_json(document)
    platform = find_analyzer(document, env.analyzers).platform
    targets = env.targets
    path = ensure_deployment(workspace, head, targets, reporter)
    deployment = workspace.read_deployment(app_id)  # with the targets' sections (the Environment adds them)
    deployment.setdefault("platform", platform)
    chosen = chosen_targets(deployment, targets, str(path))
    ensure_pipeline(workspace, deployment, targets, reporter, env.pipelines)  # App2Container writes it here too
    for target in chosen:  # Windows images run on Windows container hosts: ECS on EC2 Windows instances
        if deployment["platform"] not in target.platforms:
            able = ", ".join(t.flag_path for t in targets if deployment["platform"] in t.platforms) or "none"
            raise NotSupported(
                f"{app_id} is a {deployment['platform'].capitalize()} application, and {target.description} runs "
                f"{', '.join(target.platforms)} containers only",
                f"Set {target.flag_path} to false in {path}; targets for it: {able}.")
    check_architecture(env, deployment, str(path))
    if platform == "windows" and request.push:
        reporter.warn("The Windows image is built on a Windows container host (Artifacts/ has its Dockerfile); "
                      "--push pushes the image of that name if this Docker engine has it.")
    image_uri = request.image_uri or ""
    if request.push:
        from a2c.images.push import push_to_ecr

        image_uri = push_to_ecr(env.aws(request.aws_profile, request.aws_region), env.docker, deployment["imageName"],
                                deployment["ecrParameters"]["ecrRepoTag"], reporter, request.registry,
                                ecr_parameters=deployment["ecrParameters"])
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
    if request.deploy:
        deploy(env, request, deployment, [(t, o) for t, o in zip(chosen, outputs)], str(path))
    return AppDeploymentResult(app_id, str(path), image_uri, outputs)


# deployment.json's cpuArchitecture -> the image architecture Docker names it by.
ARCHITECTURES = {"X86_64": "amd64", "ARM64": "arm64"}


def check_architecture(env: Environment, deployment: dict[str, Any], source: str) -> None:
    """Refuse a cpuArchitecture the local image was not built for (an amd64-only image on ARM64
    tasks fails to start with "exec format error"). Without an engine or the image, nothing to check."""
    from a2c.errors import A2CError, InvalidFile

    wanted = {section: str(params["cpuArchitecture"]) for section, params in deployment.items()
              if isinstance(params, dict) and params.get("cpuArchitecture") in ARCHITECTURES}
    if not wanted:
        return
    try:
        built = str(env.docker().image_attrs(deployment["imageName"]).get("Architecture", ""))
    except A2CError:
        return  # no engine here: the image may be built elsewhere
    except Exception:  # noqa: BLE001 - the image is not on this engine (built elsewhere, or pushed already)
        return
    for section, architecture in wanted.items():
        if built and ARCHITECTURES[architecture] != built:
            other = next(name for name, docker_name in ARCHITECTURES.items() if docker_name == built) \
                if built in ARCHITECTURES.values() else ""
            raise InvalidFile(
                f"{source}: $.{section}.cpuArchitecture: {architecture}, but the image {deployment['imageName']} is "
                f"built for {built} only",
                (f'Set it to "{other}", or build' if other else "Build") + " the image for "
                f"{ARCHITECTURES[architecture]} (containerize on an {ARCHITECTURES[architecture]} machine, or docker "
                f"buildx --platform linux/{ARCHITECTURES[architecture]}) and run the command again.")


def deploy(env: Environment, request: AppDeploymentRequest, deployment: dict[str, Any],
           rendered: list[tuple[Any, TargetOutput]], source: str) -> None:
    """Deploy each rendered folder by its target, once every secret it will read exists."""
    from pathlib import Path

    from a2c.config import load_config
    from a2c.targets.stack import require_secrets

    aws = env.aws(request.aws_profile, request.aws_region)
    require_secrets(aws, deployment, source)
    bucket = request.s3_bucket
    if bucket is None:
        config = load_config()
        bucket = config.s3Bucket if config else ""
    options = DeployOptions(yes=request.yes, confirm=request.confirm, timeout=request.deploy_timeout,
                            s3_bucket=bucket, kubeconfig=request.kubeconfig or env.environ.get("KUBECONFIG", ""))
    for target, output in rendered:
        result = target.deploy(deployment, Path(output.folder), aws, env.reporter, options)
        output.stack_name = result.stack_name or output.stack_name
        output.stack_status, output.outputs = result.status, result.outputs

