"""generate app-deployment: deployment.json -> EcsDeployment/ (and the image pushed to ECR on request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a2c.deployment import build_deployment
from a2c.errors import InvalidFile
from a2c.generate.ecs import render_ecs
from a2c.progress import Reporter
from a2c.workspace import DEPLOYMENT, Workspace


# Their images run on Windows container hosts (ECS on EC2), not on Linux Fargate.
WINDOWS_TYPES = ("dotnet-iis", "dotnet-service")


@dataclass(frozen=True)
class DeploymentRequest:
    app_id: str
    image_uri: str | None = None
    push: bool = False
    aws_profile: str | None = None
    aws_region: str | None = None
    registry: str | None = None  # push there instead of the account's ECR registry


def check_targets(deployment: dict[str, Any], source: str) -> None:
    flags = {
        "ecsParameters.createEcsArtifacts": deployment["ecsParameters"].get("createEcsArtifacts", False),
        "eksParameters.createEksArtifacts": deployment.get("eksParameters", {}).get("createEksArtifacts", False),
        "appRunnerParameters.createAppRunnerArtifacts":
            deployment.get("appRunnerParameters", {}).get("createAppRunnerArtifacts", False),
    }
    chosen = [k for k, v in flags.items() if v]
    if len(chosen) != 1:
        raise InvalidFile(f"{source}: exactly one of {', '.join(flags)} must be true (now: {', '.join(chosen) or 'none'})",
                          f"Edit {source} and set one target to true.")
    if chosen[0] != "ecsParameters.createEcsArtifacts":
        raise InvalidFile(f"{source}: $.{chosen[0]}: only Amazon ECS artifacts are generated in this version",
                          f"Set ecsParameters.createEcsArtifacts to true in {source}.")


def push_to_ecr(workspace: Workspace, request: DeploymentRequest, deployment: dict[str, Any], reporter: Reporter) -> str:
    from a2c.config import load_config
    from a2c.gateways.aws import AwsClients, ecr_login, ensure_ecr_repository
    from a2c.gateways.docker_engine import DockerEngine, push_image

    config = load_config()
    clients = AwsClients(request.aws_profile, request.aws_region,
                         saved_profile=config.awsProfile if config and config.awsProfile != "default" else None,
                         saved_region=(config.awsRegion if config else None) or None)
    account = clients.account_id()
    reporter.step(f"AWS prerequisite check succeeded (account {account}, region {clients.region})")
    engine = DockerEngine.connect()
    local = deployment["imageName"]
    repo_name = local.rsplit(":", 1)[0]
    uri = ensure_ecr_repository(clients, repo_name)
    reporter.step(f"ECR repository {uri}")
    user, password, _registry = ecr_login(clients)
    # A registry in front of (or instead of) the account's ECR: a mirror, a pull-through proxy,
    # a local registry. It is given the same ECR credentials.
    if request.registry:
        uri = f"{request.registry.rstrip('/')}/{repo_name}"
    pushed = push_image(engine, local, uri, deployment["ecrParameters"]["ecrRepoTag"], user, password, reporter.detail)
    reporter.step(f"Pushed {local} to {pushed}")
    return pushed


def generate_app_deployment(workspace: Workspace, request: DeploymentRequest, reporter: Reporter) -> dict[str, Any]:
    app_id = request.app_id
    analysis = workspace.read_analysis(app_id)
    if analysis["analysisInfo"]["applicationType"] in WINDOWS_TYPES:
        from a2c.errors import NotSupported

        raise NotSupported(
            f"{app_id} is a Windows application: a2c does not generate ECS-on-EC2 Windows artifacts yet",
            "Build its image on a Windows container host from Artifacts/, then deploy it to ECS with Windows "
            "container instances; the analysis carries the Windows build and ports it needs.")
    path = workspace.app_dir(app_id) / DEPLOYMENT
    if not path.exists():
        workspace.write_deployment(app_id, build_deployment(analysis))
        reporter.step(f"Wrote {path}")
    deployment = workspace.read_deployment(app_id)
    check_targets(deployment, str(path))
    image_uri = request.image_uri or ""
    if request.push:
        image_uri = push_to_ecr(workspace, request, deployment, reporter)
    files = render_ecs(deployment, image_uri, str(path))
    out_dir = workspace.app_dir(app_id) / "EcsDeployment"
    written = workspace.write_files(out_dir, files)
    reporter.step(f"Generated CloudFormation template at {out_dir / 'ecs-master.yml'}")
    return {
        "applicationId": app_id,
        "deployment": str(path),
        "template": str(out_dir / "ecs-master.yml"),
        "files": [str(p) for p in written],
        "imageUri": image_uri,
        "stackName": deployment["ecsParameters"].get("stackName") or f"a2c-{app_id}-ECS",
    }
