"""pipeline.json: where the pipeline takes its source from, which kind of pipeline runs, and
which environments it rolls the image out to (App2Container's fields, and a2c's).

Written by ``generate app-deployment`` (and ``generate pipeline``) when missing, from
deployment.json and the targets it switches on; an existing one, maybe edited, is kept.

About the default source, AWS CodeCommit: AWS closed CodeCommit to new customers in July 2024
(existing repositories kept working), and announced in late 2025 that CodeCommit is open to new
customers again and stays a supported service. App2Container's default source is CodeCommit, so
a2c keeps it the default; accounts that would rather keep their code elsewhere switch on
``sourceInfo.CodeConnections`` (GitHub, GitLab, Bitbucket through an AWS CodeConnections
connection) or ``sourceInfo.S3`` (a zip the user uploads) instead.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.progress import Reporter
from a2c.workspace import PIPELINE, Workspace

TEMPLATE_VERSION = "1.0"
SOURCES = ("CodeCommit", "ExistingGitRepo", "CodeConnections", "S3")
PIPELINE_KINDS = ("CodePipeline", "GitHubActions", "Jenkins")
# deployment.json's target ids -> their key under releaseInfo.
RELEASE_KEYS = {"ecs": "ECS", "eks": "EKS", "ecs-express": "EcsExpress", "apprunner": "AppRunner"}
ENVIRONMENTS = ("beta", "prod")


def _name(app_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", app_id)


def kube_name(app_id: str) -> str:
    """The name the EKS target gives its Deployment and container (a2c/targets/eks.py: kube_name;
    tests/unit/test_pipeline_json.py checks the two agree: pipelines do not import targets)."""
    name = re.sub(r"[^a-z0-9]+", "-", app_id).strip("-")
    name = name if name[:1].isalpha() else f"app-{name}"
    if len(name) > 50:
        name = name[:41].rstrip("-") + "-" + hashlib.sha256(app_id.encode()).hexdigest()[:8]
    return name


def eks_cluster_name(deployment: Mapping[str, Any]) -> str:
    """eksParameters.cluster.name, else the cluster EksDeployment/cluster/ would create
    (a2c/targets/ekscluster.py)."""
    cluster = (deployment.get("eksParameters") or {}).get("cluster") or {}
    return str(cluster.get("name") or f"a2c-{_name(str(deployment['applicationId']))[:128 - 8]}-eks"[:100])


def image_repository(image: str, field: str = "$.imageInfo.image", source: str = PIPELINE) -> tuple[str, str, str]:
    """``(registry, repository, tag)`` of imageInfo.image (registry "" for this account's ECR)."""
    safe.image_reference(image, field, source)
    match = safe.IMAGE_REFERENCE.fullmatch(image)
    assert match is not None
    name = match.group("name")
    tag = image[len(name) + 1:].split("@")[0] if image[len(name):].startswith(":") else ""
    registry = ""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    return registry, name, tag


def _ecr_image(deployment: Mapping[str, Any]) -> str:
    match = safe.IMAGE_REFERENCE.fullmatch(str(deployment["imageName"]))
    name = match.group("name") if match else _name(str(deployment["applicationId"])).lower()
    return f"{name}:{deployment.get('ecrParameters', {}).get('ecrRepoTag') or 'latest'}"


def release_defaults(deployment: Mapping[str, Any], targets: Iterable[Any]) -> dict[str, Any]:
    """releaseInfo from deployment.json: prod switched on for each target it switches on, beta off.
    ``targets`` are a2c.targets' Target objects (their ``id``, ``chosen`` and ``stack_name``)."""
    app_id = str(deployment["applicationId"])
    by_id = {t.id: t for t in targets}

    def chosen(target_id: str) -> bool:
        target = by_id.get(target_id)
        return bool(target is not None and target.chosen(deployment))

    def stack(target_id: str, suffix: str) -> str:
        target = by_id.get(target_id)
        return str(target.stack_name(deployment)) if target is not None else f"a2c-{_name(app_id)}-{suffix}"

    ecs_stack = stack("ecs", "ECS")
    eks_name = kube_name(app_id)
    express = deployment.get("ecsExpressParameters") or {}
    runner = deployment.get("appRunnerParameters") or {}
    return {
        "ECS": {"beta": {"enabled": False, "stackName": "", "clusterName": "", "serviceName": ""},
                "prod": {"enabled": chosen("ecs"), "stackName": ecs_stack, "clusterName": f"{ecs_stack}-Cluster",
                         "serviceName": ""}},
        "EKS": {"beta": {"enabled": False, "stackName": "", "clusterName": "", "namespace": "default",
                         "deploymentName": eks_name, "containerName": eks_name},
                "prod": {"enabled": chosen("eks"), "stackName": stack("eks", "EKS"),
                         "clusterName": eks_cluster_name(deployment), "namespace": "default",
                         "deploymentName": eks_name, "containerName": eks_name}},
        "EcsExpress": {"beta": {"enabled": False, "stackName": "", "serviceName": ""},
                       "prod": {"enabled": chosen("ecs-express"), "stackName": stack("ecs-express", "EcsExpress"),
                                "serviceName": str(express.get("serviceName") or _name(app_id)[:255])}},
        "AppRunner": {"prod": {"enabled": chosen("apprunner"), "stackName": stack("apprunner", "AppRunner"),
                               "serviceName": str(runner.get("serviceName") or _name(app_id)[:40])}},
    }


def build_pipeline(deployment: Mapping[str, Any], targets: Iterable[Any], kinds: Iterable[Any] = ()) -> dict[str, Any]:
    """A new pipeline.json: CodeCommit into CodePipeline (App2Container's defaults), releasing to
    the prod environment of each target deployment.json switches on. ``kinds``: installed
    pipeline kinds beyond the three known here add their own (switched off) objects."""
    app_id = str(deployment["applicationId"])
    info: dict[str, Any] = {
        "CodePipeline": {"enabled": True},
        "GitHubActions": {"enabled": False, "repository": "owner/repo", "branch": "main"},
        "Jenkins": {"enabled": False, "jenkinsServerUrl": "", "nodeLabels": [], "awsCredentialId": ""},
    }
    for kind in kinds:
        info.setdefault(kind.section, {**kind.defaults(), kind.flag: False})
    return {
        "a2CTemplateVersion": TEMPLATE_VERSION,
        "applicationId": app_id,
        "imageInfo": {"image": _ecr_image(deployment)},
        "sourceInfo": {
            "CodeCommit": {"enabled": True, "repositoryName": f"a2c-{_name(app_id)}"[:100], "branch": "main",
                           "createRepository": True},
            "ExistingGitRepo": {"enabled": False, "repositoryUri": "", "branch": "main", "sshKeyArn": ""},
            "CodeConnections": {"enabled": False, "connectionArn": "", "provider": "GitHub",
                                "repositoryId": "owner/repo", "branch": "main"},
            "S3": {"enabled": False, "bucket": "", "objectKey": f"{app_id}/source.zip"},
        },
        "releaseInfo": release_defaults(deployment, targets),
        "pipelineInfo": info,
        "resourceTags": [],
    }


def ensure_pipeline(workspace: Workspace, deployment: Mapping[str, Any], targets: Iterable[Any], reporter: Reporter,
                    kinds: Iterable[Any] = ()) -> Path:
    """pipeline.json as App2Container writes it (at generate app-deployment, or generate pipeline
    when missing); an existing one, maybe edited, is kept."""
    app_id = str(deployment["applicationId"])
    path = workspace.app_dir(app_id) / PIPELINE
    if not path.exists():
        workspace.write_pipeline(app_id, build_pipeline(deployment, targets, kinds))
        reporter.step(f"Wrote {path}")
    return path


# -- what a schema cannot say ------------------------------------------------------------------
def _exactly_one(section: Mapping[str, Any], where: str, source: str, what: str) -> str:
    on = [key for key, value in section.items() if isinstance(value, dict) and value.get("enabled")]
    fields = ", ".join(f"$.{where}.{key}.enabled" for key in section)
    if len(on) != 1:
        said = "none is" if not on else f"{len(on)} are ({', '.join(f'$.{where}.{k}.enabled' for k in on)})"
        raise InvalidFile(f"{source}: exactly one {what} must be enabled, and {said}",
                          f"Edit {source}: set one of {fields} to true and the others to false.")
    return on[0]


def enabled_source(pipeline: Mapping[str, Any], source: str = PIPELINE) -> str:
    """The one sourceInfo key switched on, or InvalidFile naming the fields."""
    return _exactly_one(pipeline.get("sourceInfo") or {}, "sourceInfo", source, "source")


def enabled_kind(pipeline: Mapping[str, Any], source: str = PIPELINE) -> str:
    """The one pipelineInfo key switched on, or InvalidFile naming the fields."""
    return _exactly_one(pipeline.get("pipelineInfo") or {}, "pipelineInfo", source, "pipeline")


def releases(pipeline: Mapping[str, Any], source: str = PIPELINE) -> list[tuple[str, str, dict[str, Any]]]:
    """``(kind, environment, settings)`` of each enabled release environment, beta ones first;
    at least one, or InvalidFile."""
    info = pipeline.get("releaseInfo") or {}
    found = [(kind, environment, dict(envs[environment])) for environment in ENVIRONMENTS
             for kind, envs in info.items() if environment in envs and envs[environment].get("enabled")]
    if not found:
        fields = ", ".join(f"$.releaseInfo.{k}.{e}.enabled" for k, envs in info.items() for e in envs) or \
            "$.releaseInfo.ECS.prod.enabled"
        raise InvalidFile(f"{source}: no release environment is enabled",
                          f"Edit {source}: set at least one of {fields} to true.")
    return found


def check_pipeline(pipeline: Mapping[str, Any], source: str = PIPELINE) -> tuple[str, str]:
    """``(source key, pipeline key)`` once pipeline.json says exactly one of each and at least one
    release environment (App Runner's beta is refused by the schema: it has none)."""
    if "beta" in (pipeline.get("releaseInfo") or {}).get("AppRunner", {}):
        raise InvalidFile(f"{source}: $.releaseInfo.AppRunner.beta: App Runner has no beta environment",
                          f"Remove $.releaseInfo.AppRunner.beta from {source}.")
    source_key, kind = enabled_source(pipeline, source), enabled_kind(pipeline, source)
    releases(pipeline, source)
    image_repository(str(pipeline["imageInfo"]["image"]), "$.imageInfo.image", source)
    return source_key, kind


def release_tags(pipeline: Mapping[str, Any]) -> list[dict[str, str]]:
    """resourceTags and the application id tag, as the targets tag their resources."""
    tags = [t for t in pipeline.get("resourceTags") or [] if t.get("key") not in ("", "example-key")]
    return tags + [{"key": "a2c-application-id", "value": str(pipeline["applicationId"])}]
