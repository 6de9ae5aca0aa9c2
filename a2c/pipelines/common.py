"""What the workflow-style pipelines (GitHub Actions, Jenkins) share: pipeline.json checked into
a Plan (the application, its image, the release environments per stage), the IAM statements a
build-and-deploy identity needs, each naming its resources, and that policy as JSON.

It does not import ``a2c.targets``: setup.cfg's layers contract keeps targets and pipelines
independent, so the few names both need (the ECS stack's cluster name, the EKS object name)
are restated here, each saying where its original is.
"""


from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from a2c.errors import InvalidFile
from a2c.generate import safe

# -- checks of pipeline.json ------------------------------------------------
APP_ID = r"[a-z0-9][a-z0-9._-]{0,127}"  # a2c.ids (check_application_id)
STACK_NAME = r"[A-Za-z][A-Za-z0-9-]{0,127}"  # a2c.targets.shared.STACK_NAME
ECS_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,254}"  # ECS cluster and service names
EKS_CLUSTER = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
K8S_NAME = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"  # DNS-1123 label (namespace, deployment, container)
APPRUNNER_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{3,39}"
ECR_REPOSITORY = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
GITHUB_REPOSITORY = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}"
# A branch name as git allows it, narrowed to characters no YAML, shell, Groovy or IAM
# condition reads specially (no spaces, '$', '{', '*', quotes); '..' and a leading '-' are refused too.
BRANCH = r"(?!-)(?!.*\.\.)(?!.*//)(?!.*\.lock$)(?!.*/$)[A-Za-z0-9._/-]{1,200}"
REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]"
_ECR_REGISTRY = re.compile(r"(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
KINDS = ("ECS", "EcsExpress", "AppRunner", "EKS")
STAGES = ("beta", "prod")


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def kube_name(app_id: str) -> str:
    """The EKS target's object name for an application (a copy of a2c.targets.eks.kube_name:
    the Deployment and its container are named so)."""
    name = re.sub(r"[^a-z0-9]+", "-", app_id).strip("-")
    name = name if name[:1].isalpha() else f"app-{name}"
    if len(name) > 50:
        name = name[:41].rstrip("-") + "-" + hashlib.sha256(app_id.encode()).hexdigest()[:8]
    return name


def role_prefix(stack: str) -> str:
    """The names CloudFormation gives a stack's unnamed roles start ``<stack>-<LogicalId>-``; a long
    stack name is cut so that the role name fits 64 characters, so only its first 20 are sure."""
    return f"{stack}-" if len(stack) <= 32 else stack[:20]


@dataclass(frozen=True)
class Release:
    """One deploy of the image: an environment (beta, prod) of one kind (ECS, EKS, …)."""

    stage: str
    kind: str
    stack: str = ""
    cluster: str = ""
    service: str = ""
    namespace: str = ""
    deployment: str = ""
    container: str = ""

    @property
    def key(self) -> str:  # a job, step or stage id: letters, digits and '-'
        return f"{self.stage}-{self.kind.lower()}"

    @property
    def title(self) -> str:
        names = {"ECS": "Amazon ECS", "EcsExpress": "ECS Express Mode", "AppRunner": "AWS App Runner", "EKS": "Amazon EKS"}
        return f"{self.stage} ({names[self.kind]})"


@dataclass(frozen=True)
class Plan:
    """What both kinds render from pipeline.json and deployment.json, every value checked."""

    app_id: str
    repository: str  # the ECR repository
    region: str  # "" when the image does not name an ECR registry
    account: str
    releases: tuple[Release, ...]
    tags: tuple[tuple[str, str], ...] = field(default=())

    @property
    def partition(self) -> str:
        return partition_of(self.region) if self.region else "aws"

    def stage(self, stage: str) -> list[Release]:
        return [r for r in self.releases if r.stage == stage]


def _text(value: Any, pattern: str, what: str, path: str, source: str) -> str:
    return safe.matches(value, pattern, what, path, source)


def _enabled(section: Any) -> bool:
    return isinstance(section, Mapping) and section.get("enabled") is True


def check_plan(pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> Plan:
    """Refuse, by field, every value the pipeline files print; return them checked."""
    app_id = _text(pipeline.get("applicationId") or deployment.get("applicationId"), APP_ID, "application id",
                   "$.applicationId", source)
    image = (pipeline.get("imageInfo") or {}).get("image") or ""
    if not image:  # pipeline.json without imageInfo: deployment.json's ECR repository
        image = deployment.get("imageName", "")
    match = safe.IMAGE_REFERENCE.fullmatch(image) if isinstance(image, str) else None
    if not match:
        raise safe.refusal(source, "$.imageInfo.image", image, "is not an image reference (<ecr repository>:<tag>)")
    name = match.group("name")
    registry = _ECR_REGISTRY.match(name)
    region = account = ""
    if registry and name[registry.end():registry.end() + 1] == "/":
        region, account = registry.group("region"), registry.group("account")
        _text(region, REGION, "AWS region", "$.imageInfo.image", source)
        name = name[registry.end() + 1:]
    elif "/" in name and ("." in name.split("/")[0] or ":" in name.split("/")[0]):
        raise safe.refusal(source, "$.imageInfo.image", image, "names a registry other than Amazon ECR")
    repository = _text(name, ECR_REPOSITORY, "ECR repository name", "$.imageInfo.image", source)
    releases = []
    info = pipeline.get("releaseInfo") or {}
    for stage in STAGES:
        for kind in KINDS:
            env = (info.get(kind) or {}).get(stage)
            if not isinstance(env, Mapping) or not _enabled(env):
                continue
            releases.append(_release(stage, kind, env, app_id, deployment, f"$.releaseInfo.{kind}.{stage}", source))
    if not releases:
        raise InvalidFile(f"{source}: $.releaseInfo: no environment is enabled, so the pipeline would deploy nowhere",
                          f"Set $.releaseInfo.ECS.beta.enabled (or another environment) to true in {source}.")
    tags: list[tuple[str, str]] = []
    for index, tag in enumerate(pipeline.get("resourceTags") or ()):
        key, value = (tag or {}).get("key"), (tag or {}).get("value")
        if key in ("", "example-key", None):
            continue
        _text(key, r"[A-Za-z0-9 _.:/=+@-]{1,128}", "AWS tag key", f"$.resourceTags[{index}].key", source)
        _text(value, r"[A-Za-z0-9 _.:/=+@-]{0,256}", "AWS tag value", f"$.resourceTags[{index}].value", source)
        if key.lower().startswith("aws:"):
            raise safe.refusal(source, f"$.resourceTags[{index}].key", key, "starts with aws:, which AWS keeps")
        tags.append((str(key), str(value)))
    tags.append(("a2c-application-id", app_id))
    return Plan(app_id, repository, region, account, tuple(releases), tuple(tags))


def _release(stage: str, kind: str, env: Mapping[str, Any], app_id: str, deployment: Mapping[str, Any], path: str,
             source: str) -> Release:
    if kind == "ECS":
        stack = env.get("stackName") or (deployment.get("ecsParameters") or {}).get("stackName") or f"a2c-{app_id}-ECS"
        _text(stack, STACK_NAME, "CloudFormation stack name", f"{path}.stackName", source)
        # The ECS target names its cluster <stack>-Cluster (templates/ecs/ecs-master.yml.j2).
        cluster = _text(env.get("clusterName") or f"{stack}-Cluster", ECS_NAME, "ECS cluster name",
                        f"{path}.clusterName", source)
        service = env.get("serviceName") or ""
        if service:
            _text(service, ECS_NAME, "ECS service name", f"{path}.serviceName", source)
        return Release(stage, kind, stack=stack, cluster=cluster, service=service, container=app_id)
    if kind in ("EcsExpress", "AppRunner"):
        params = deployment.get("ecsExpressParameters" if kind == "EcsExpress" else "appRunnerParameters") or {}
        stack = env.get("stackName") or params.get("stackName") or f"a2c-{app_id}-{kind}"
        _text(stack, STACK_NAME, "CloudFormation stack name", f"{path}.stackName", source)
        service = env.get("serviceName") or params.get("serviceName") or app_id
        _text(service, APPRUNNER_NAME if kind == "AppRunner" else ECS_NAME, "service name", f"{path}.serviceName",
              source)
        return Release(stage, kind, stack=stack, service=service)
    cluster = _text(env.get("clusterName"), EKS_CLUSTER, "EKS cluster name", f"{path}.clusterName", source)
    namespace = _text(env.get("namespace") or "default", K8S_NAME, "Kubernetes namespace", f"{path}.namespace", source)
    name = kube_name(app_id)
    deployment_name = _text(env.get("deploymentName") or name, K8S_NAME, "Kubernetes deployment name",
                            f"{path}.deploymentName", source)
    return Release(stage, kind, cluster=cluster, namespace=namespace, deployment=deployment_name, container=name)


# -- IAM: what the pipeline's identity may do (shared with jenkins.py) ---------------------------------
Arn = Callable[[str, str], Any]  # (service, resource) -> an ARN, literal or a CloudFormation !Sub


def statements(plan: Plan, arn: Arn) -> list[dict[str, Any]]:
    """Least-privilege statements: push to the one ECR repository, and per release exactly what its
    deploy step calls. Actions AWS authorizes only on "*" say so in their Sid."""
    found: list[dict[str, Any]] = [
        {"Sid": "EcrLoginHasNoResourceLevelPermission", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        {"Sid": "PushTheApplicationImage", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
                    "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload",
                    "ecr:PutImage", "ecr:UploadLayerPart"],
         "Resource": arn("ecr", f"repository/{plan.repository}")},
    ]
    ecs = [r for r in plan.releases if r.kind == "ECS"]
    if ecs:
        services = _unique([arn("ecs", f"service/{r.cluster}/{r.service or (r.stack + '-Service-*')}") for r in ecs])
        found += [
            {"Sid": "EcsTaskDefinitionsHaveNoResourceLevelPermission", "Effect": "Allow",
             "Action": ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], "Resource": "*"},
            {"Sid": "RollOutTheEcsServices", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
             "Resource": services},
            {"Sid": "PassTheEcsTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": _unique([arn("iam", f"role/{role_prefix(r.stack)}*") for r in ecs]),
             "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        ]
        without_name = [r for r in ecs if not r.service]
        if without_name:
            found.append({"Sid": "ReadTheEcsServiceNameFromItsStack", "Effect": "Allow",
                          "Action": "cloudformation:DescribeStacks",
                          "Resource": _unique([arn("cloudformation", f"stack/{r.stack}/*") for r in without_name])})
    stacks = [r for r in plan.releases if r.kind in ("EcsExpress", "AppRunner")]
    if stacks:
        found.append({"Sid": "UpdateTheImageParameterOfTheServiceStacks", "Effect": "Allow",
                      "Action": ["cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks",
                                 "cloudformation:UpdateStack"],
                      "Resource": _unique([arn("cloudformation", f"stack/{r.stack}/*") for r in stacks])})
    runner = [r for r in stacks if r.kind == "AppRunner"]
    if runner:
        found += [
            {"Sid": "CloudFormationUpdatesTheAppRunnerService", "Effect": "Allow",
             "Action": ["apprunner:DescribeService", "apprunner:UpdateService"],
             "Resource": _unique([arn("apprunner", f"service/{r.service}/*") for r in runner])},
            {"Sid": "PassTheAppRunnerRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": _unique([arn("iam", f"role/{role_prefix(r.stack)}*") for r in runner]),
             "Condition": {"StringEquals": {"iam:PassedToService": ["build.apprunner.amazonaws.com",
                                                                    "tasks.apprunner.amazonaws.com"]}}},
        ]
    express = [r for r in stacks if r.kind == "EcsExpress"]
    if express:
        found += [
            {"Sid": "CloudFormationUpdatesTheExpressService", "Effect": "Allow",
             "Action": ["ecs:DescribeExpressGatewayService", "ecs:UpdateExpressGatewayService"],
             "Resource": _unique([arn("ecs", f"service/*/{r.service}") for r in express])},
            {"Sid": "PassTheExpressServiceRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": _unique([arn("iam", f"role/{role_prefix(r.stack)}*") for r in express]),
             "Condition": {"StringEquals": {"iam:PassedToService": ["ecs-tasks.amazonaws.com", "ecs.amazonaws.com"]}}},
        ]
    eks = [r for r in plan.releases if r.kind == "EKS"]
    if eks:
        found.append({"Sid": "WriteTheKubeconfigOfTheEksClusters", "Effect": "Allow", "Action": "eks:DescribeCluster",
                      "Resource": _unique([arn("eks", f"cluster/{r.cluster}") for r in eks])})
    return found


def _unique(items: list[Any]) -> Any:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out[0] if len(out) == 1 else out


def literal_arn(plan: Plan) -> Arn:
    """ARNs for a policy document outside CloudFormation: the region and account of the ECR image
    when it names them, else '*' there (the resource names still narrow it)."""
    def arn(service: str, resource: str) -> str:
        region = "" if service == "iam" else (plan.region or "*")
        return f"arn:{plan.partition}:{service}:{region}:{plan.account or '*'}:{resource}"
    return arn


def sub_arn(service: str, resource: str) -> dict[str, str]:
    """An ARN in the stack's own partition, region and account (every name in it was checked and
    holds no '$', so Fn::Sub reads nothing else in it)."""
    region = "" if service == "iam" else "${AWS::Region}"
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}"}


def policy_json(plan: Plan) -> str:
    """The IAM policy document, as JSON, with literal ARNs (for Jenkins agents)."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements(plan, literal_arn(plan))}, indent=2) + "\n"
