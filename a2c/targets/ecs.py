"""ECS on Fargate: a self-contained CloudFormation template and the task definition, from
deployment.json's ecsParameters (written into EcsDeployment/)."""

from __future__ import annotations

import json
from typing import Any, Callable, ClassVar, Mapping

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import Quoted, render, to_json, trusted
from a2c.model import AnalysisHead
from a2c.targets.base import Target

# Fargate's allowed memory (MiB) per CPU unit setting.
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def fargate_cpu_for(memory: int) -> int:
    """A Fargate CPU setting (units) that offers this memory size: one vCPU where it can (a JVM
    starting on half a vCPU is slow), else the nearest that fits."""
    for cpu, low, high in ((1024, 2048, 8192), (512, 1024, 4096), (2048, 4096, 16384), (4096, 8192, 30720)):
        if low <= memory <= high:
            return cpu
    return 256 if memory < 1024 else 4096


def check_fargate_size(cpu: int, memory: int, source: str) -> None:
    allowed = FARGATE_MEMORY.get(cpu, ())
    if memory not in allowed:
        raise InvalidFile(
            f"{source}: $.ecsParameters: Fargate does not offer {memory} MiB with {cpu} CPU units",
            f"Pick a memory size for cpu {cpu}: {', '.join(str(m) for m in allowed[:8])}{' …' if len(allowed) > 8 else ''}.",
        )


# An SSM parameter name (letters, digits, _ . - and /), or the ARN of an SSM parameter or a
# Secrets Manager secret (with an optional :json-key:version-stage:version-id suffix).
SSM_NAME = r"/?[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*"
SECRET_ARN = r"arn:aws[a-z-]*:(?:ssm|secretsmanager):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9/_+=.@:-]+"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
TAG_PUNCTUATION = "_.:/=+-@"


def secret_arn(value_from: str, field: str = "$.secrets[*].valueFrom", source: str = "deployment.json") -> str:
    """A CloudFormation expression (quoted YAML) for an SSM parameter name or a full ARN."""
    if value_from.startswith("arn:"):
        return to_json(safe.matches(value_from, SECRET_ARN, "SSM parameter or Secrets Manager ARN", field, source))
    name = safe.matches(value_from, SSM_NAME, "SSM parameter name (letters, digits, _ . - and /)", field, source)
    return "!Sub " + to_json("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/" + name.lstrip("/"))


ACM_ARN = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+"
# Target tracking metrics: deployment.json's name -> Application Auto Scaling's predefined metric.
SCALING_METRICS = {"cpu": "ECSServiceAverageCPUUtilization", "memory": "ECSServiceAverageMemoryUtilization",
                   "requests": "ALBRequestCountPerTarget"}


def exposed(deployment: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    """exposedPorts as the load balancer listens: each port once, "tcp" unless it speaks HTTP
    (App2Container's "tcp6" is tcp)."""
    legacy = str(deployment.get("a2CTemplateVersion", "1.0")) == "1.0"  # tcp/tcp6 named the socket family
    found: dict[int, str] = {}
    for index, item in enumerate(deployment.get("exposedPorts") or ()):
        port = safe.port(item.get("localPort"), f"$.exposedPorts[{index}].localPort", source)
        protocol = str(item.get("protocol", "")).lower()
        found.setdefault(port, "http" if protocol == "http" or legacy else "tcp")
    return [{"port": p, "protocol": proto} for p, proto in found.items()]


STATE_PATH = r"/[A-Za-z0-9._\-/]{0,250}"


def efs_volumes(deployment: Mapping[str, Any], source: str) -> list[dict[str, str]]:
    """The persistentStorage entries on EFS: the container path, and the access point's root
    directory (one per path, under /<application id>)."""
    volumes = []
    for index, entry in enumerate(deployment.get("persistentStorage") or ()):
        if entry.get("storage") != "efs":
            continue
        path = safe.matches(entry.get("path", ""), STATE_PATH, "absolute path (letters, digits, . _ - /)",
                            f"$.persistentStorage[{index}].path", source)
        root = "/" + deployment["applicationId"] + "/" + path.strip("/").replace("/", "-")
        volumes.append({"path": path, "root": root[:100]})
    return volumes


def skipped_checks(certificate: str, public: bool, nlb: bool = False) -> dict[str, tuple[str, str]]:
    """checkov's checks this stack does not satisfy on purpose: id -> (resource, why). The
    template's Metadata skips these and the README lists them, from this one table."""
    skipped = {
        "CKV_AWS_158": ("LogGroup", "CloudWatch Logs encrypts the log group with an AWS-owned key; a customer-managed "
                        "KMS key adds a key policy to maintain and $1/month, so it is left to the user."),
        "CKV_AWS_91": ("LoadBalancer", "Access logs need an S3 bucket whose policy admits the region's load balancer "
                       "account; turn them on (access_logs.s3.enabled) once you have one."),
    }
    if public:
        skipped["CKV_AWS_260"] = ("LoadBalancerSecurityGroup", "A public service answers its clients on its ports "
                                  + ("(port 80 only redirects to HTTPS)." if certificate else "from anywhere; restrict "
                                     "the CIDR in the template if its clients are known."))
    if not certificate and not nlb:
        why = ("No ACM certificate is set (ecsParameters.https.certificateArn), so the listener serves HTTP; with one "
               "it serves HTTPS with a TLS 1.2+ policy and port 80 only redirects.")
        skipped["CKV_AWS_2"] = ("Listener", why)
        skipped["CKV_AWS_103"] = ("Listener", why)
    return skipped


def skips_block(skipped: Mapping[str, tuple[str, str]]) -> Callable[[str], Quoted]:
    """A template helper: the ``Metadata: checkov: skip:`` block of one resource."""
    def block(resource: str) -> Quoted:
        mine = [(check, why) for check, (owner, why) in skipped.items() if owner == resource]
        if not mine:
            return trusted("")
        lines = ["    Metadata:", "      checkov:", "        skip:"]
        for check, why in mine:
            lines += [f"          - id: {check}", f"            comment: {to_json(why)}"]
        return trusted("\n".join(lines))
    return block


def check_scaling(scaling: Mapping[str, Any], source: str) -> dict[str, Any]:
    """autoScaling as the template writes it: bounds with min <= max, target tracking policies by
    metric (a target of 1-100 % for cpu and memory, requests per target for requests)."""
    low, high = scaling.get("minCapacity", 1), scaling.get("maxCapacity", 1)
    if not (isinstance(low, int) and isinstance(high, int)) or isinstance(low, bool) or not 0 <= low <= high:
        raise InvalidFile(f"{source}: $.ecsParameters.autoScaling: minCapacity {low!r} and maxCapacity {high!r} are "
                          "not a range of task counts", "Set 0 <= minCapacity <= maxCapacity, e.g. 1 and 4.")
    policies = []
    for index, policy in enumerate(scaling.get("targetTracking") or ()):
        metric, target = policy.get("metric"), policy.get("target")
        if metric not in SCALING_METRICS:
            raise InvalidFile(f"{source}: $.ecsParameters.autoScaling.targetTracking[{index}].metric: {metric!r}",
                              f"Use one of: {', '.join(SCALING_METRICS)}.")
        if isinstance(target, bool) or not isinstance(target, (int, float)) or target <= 0 or (
                metric != "requests" and target > 100):
            raise InvalidFile(f"{source}: $.ecsParameters.autoScaling.targetTracking[{index}].target: {target!r}",
                              "A percentage (1-100) for cpu and memory; requests per target for requests.")
        policies.append({"name": metric, "metric": SCALING_METRICS[metric], "target": float(target)})
    return {"min": low, "max": high, "policies": policies}


def _ports(deployment: Mapping[str, Any], source: str) -> int:
    ports = deployment.get("exposedPorts") or []
    if not ports:
        raise InvalidFile(f"{source}: $.exposedPorts: the list is empty; the service needs the port the application "
                          "serves on", f'Edit {source} and set $.exposedPorts to [{{"localPort": 8080, "protocol": '
                          '"tcp"}] with the application\'s port.')
    return safe.port(ports[0].get("localPort"), "$.exposedPorts[0].localPort", source)


def check_tag(text: str, field: str, source: str, shortest: int, longest: int) -> None:
    """AWS tags: letters, digits, spaces and ``_ . : / = + - @``, of bounded length."""
    if not shortest <= len(text) <= longest or not all(c.isalnum() or c == " " or c in TAG_PUNCTUATION for c in text):
        raise safe.refusal(source, field, text, f"is not an AWS tag ({shortest}-{longest} letters, digits, spaces "
                           f"and {TAG_PUNCTUATION})")


def check_deployment(deployment: Mapping[str, Any], source: str) -> None:
    """Refuse, by field, any value that the template or the task definition prints bare."""
    safe.image_reference(deployment["imageName"], "$.imageName", source)
    safe.matches(deployment["ecrParameters"]["ecrRepoTag"], r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "image tag",
                 "$.ecrParameters.ecrRepoTag", source)
    for index, item in enumerate(deployment.get("environment", [])):
        safe.matches(item["name"], ENV_NAME, "environment variable name", f"$.environment[{index}].name", source)
    for index, secret in enumerate(deployment.get("secrets", [])):
        safe.matches(secret["name"], ENV_NAME, "environment variable name", f"$.secrets[{index}].name", source)
        secret_arn(secret["valueFrom"], f"$.secrets[{index}].valueFrom", source)
    for index, tag in enumerate(deployment["ecsParameters"].get("resourceTags", [])):
        check_tag(tag["key"], f"$.ecsParameters.resourceTags[{index}].key", source, 1, 128)
        check_tag(tag["value"], f"$.ecsParameters.resourceTags[{index}].value", source, 0, 256)
    count = deployment["ecsParameters"].get("desiredCount", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise safe.refusal(source, "$.ecsParameters.desiredCount", count, "is not a task count")


def ecr_path(deployment: Mapping[str, Any]) -> str:
    """``repository:tag`` of the image in ECR: imageName's repository with ecrRepoTag."""
    match = safe.IMAGE_REFERENCE.fullmatch(deployment["imageName"])
    assert match is not None  # checked by check_deployment
    return f"{match.group('name')}:{deployment['ecrParameters']['ecrRepoTag']}"


def render_ecs(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsDeployment/."""
    check_deployment(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    port = _ports(deployment, source)
    ecs = deployment["ecsParameters"]
    app_id = deployment["applicationId"]
    defaults = {"ecsFamily": app_id, "cpu": 1024, "memory": 2048, "desiredCount": 1, "publicApp": True}
    ecs = {**defaults, **ecs}
    check_fargate_size(ecs["cpu"], ecs["memory"], source)
    if ecs.get("launchType", "FARGATE") != "FARGATE":
        raise InvalidFile(f"{source}: $.ecsParameters.launchType: {ecs['launchType']!r} is not rendered by this version "
                          "of a2c (the EC2 capacity provider is not written yet)",
                          'Set $.ecsParameters.launchType to "FARGATE".')
    scaling = check_scaling(ecs.get("autoScaling") or {}, source)
    certificate = (ecs.get("https") or {}).get("certificateArn", "")
    if certificate:
        safe.matches(certificate, ACM_ARN, "ACM certificate ARN", "$.ecsParameters.https.certificateArn", source)
    reuse = ecs.get("reuseResources") or {}
    reuse_vpc = reuse.get("vpcId", "")
    subnets = reuse.get("subnetIds", [])
    if reuse_vpc and len(subnets) < 2:
        raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.subnetIds: name at least two subnets of {reuse_vpc}",
                          "An Application Load Balancer needs subnets in two Availability Zones.")
    storage = efs_volumes(deployment, source)
    listeners = exposed(deployment, source)
    nlb = any(item["protocol"] == "tcp" for item in listeners)
    if nlb and certificate:
        raise InvalidFile(f"{source}: $.ecsParameters.https.certificateArn: this service has TCP ports, so it gets a "
                          "Network Load Balancer, which passes TCP through; HTTPS here needs an Application Load "
                          "Balancer", 'Set $.ecsParameters.https.certificateArn to "" (terminate TLS in the application), '
                          'or mark the TCP ports "http" in $.exposedPorts if they speak HTTP.')
    if nlb and any(p["name"] == "requests" for p in scaling["policies"]):
        raise InvalidFile(f"{source}: $.ecsParameters.autoScaling.targetTracking: requests per target needs an "
                          "Application Load Balancer; this TCP service gets a Network Load Balancer",
                          'Scale on "cpu" or "memory".')
    task_ports = list(dict.fromkeys(([item["port"] for item in listeners] if nlb else [port]) + [p for p in [
        safe.port(ecs["healthCheckPort"], "$.ecsParameters.healthCheckPort", source) if ecs.get("healthCheckPort") else 0]
        if p]))
    skipped = skipped_checks(certificate, bool(ecs.get("publicApp", True)), nlb)
    depends_on = ([f"Listener{i + 1}" for i in range(len(listeners))] if nlb else ["Listener"]) + (
        ["StateMountTarget1", "StateMountTarget2"] if storage else [])
    reuse_cidr = reuse.get("vpcCidr", "")
    if reuse_vpc and not ecs.get("publicApp", True):
        if not reuse_cidr:
            raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.vpcCidr: an internal load balancer in {reuse_vpc} "
                              "admits clients from the VPC's CIDR block; name it",
                              f"Set it to the CIDR of {reuse_vpc} (aws ec2 describe-vpcs --vpc-ids {reuse_vpc}).")
        safe.matches(reuse_cidr, r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}/[0-9]{1,2}", "CIDR block",
                     "$.ecsParameters.reuseResources.vpcCidr", source)
    stack_name = ecs.get("stackName") or default_stack_name(app_id)
    resource_tags = [t for t in ecs.get("resourceTags", []) if t.get("key") not in ("", "example-key")]
    resource_tags.append({"key": "a2c-application-id", "value": app_id})
    secrets = [{"name": s["name"], "arn": trusted(secret_arn(s["valueFrom"]))} for s in deployment.get("secrets", [])]
    health_path = safe.http_path(ecs.get("healthCheckPath", "/"), "$.ecsParameters.healthCheckPath", source)
    health_port = safe.port(ecs["healthCheckPort"], "$.ecsParameters.healthCheckPort", source) \
        if ecs.get("healthCheckPort") else 0
    health_port = 0 if health_port == port else health_port  # the traffic port unless another answers

    def tags(indent: int) -> Quoted:
        pad = " " * indent
        lines = [f"{pad}Tags:"]
        for tag in resource_tags:
            lines += [f"{pad}  - Key: {to_json(tag['key'])}", f"{pad}    Value: {to_json(tag['value'])}"]
        return trusted("\n".join(lines))

    template = render(
        "ecs/ecs-master.yml.j2",
        version=__version__,
        app_id=app_id,
        stack_name=stack_name,
        image_uri=image_uri,
        ecr_path=ecr_path(deployment),
        ecs=ecs,
        port=port,
        health_path=health_path,
        health_port=health_port,
        scaling=scaling,
        certificate=certificate,
        architecture=ecs.get("cpuArchitecture", "X86_64"),
        exec_enabled=bool(ecs.get("enableExecuteCommand", False)),
        environment=deployment.get("environment", []),
        secrets=secrets,
        reuse_vpc=reuse_vpc,
        reuse_cidr=reuse_cidr,
        vpc_cidr=trusted("!Ref VpcCidr" if reuse_vpc else "!GetAtt Vpc.CidrBlock"),
        reuse_subnets=subnets,
        vpc_ref=trusted("!Ref VpcId" if reuse_vpc else "!Ref Vpc"),
        subnets_ref=trusted("!Ref SubnetIds" if reuse_vpc else "[!Ref PublicSubnet1, !Ref PublicSubnet2]"),
        tags=tags,
        skips=skips_block(skipped),
        storage=storage,
        nlb=nlb,
        listeners=listeners,
        task_ports=task_ports,
        depends_on=depends_on,
        mount_subnets=[trusted(f"!Select [{i}, !Ref SubnetIds]" if reuse_vpc else f"!Ref PublicSubnet{i + 1}")
                       for i in (0, 1)],
    )
    task_definition = {
        "family": ecs["ecsFamily"],
        "cpu": str(ecs["cpu"]),
        "memory": str(ecs["memory"]),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{
            "name": app_id,
            "image": image_uri or f"<account>.dkr.ecr.<region>.amazonaws.com/{deployment['imageName']}",
            "essential": True,
            "portMappings": [{"containerPort": port, "protocol": "tcp"}],
            "environment": [{"name": e["name"], "value": e["value"]} for e in deployment.get("environment", [])],
            "secrets": [{"name": s["name"], "valueFrom": s["valueFrom"]} for s in deployment.get("secrets", [])],
        }],
    }
    return {
        "ecs-master.yml": template,
        "task-definition.json": json.dumps(task_definition, indent=2) + "\n",
        "README.md": ecs_readme(ecs, app_id, stack_name, bool(reuse_vpc), certificate, scaling, skipped),
    }


def ecs_readme(ecs: Mapping[str, Any], app_id: str, stack_name: str, reuse_vpc: bool, certificate: str,
               scaling: Mapping[str, Any], skipped: Mapping[str, tuple[str, str]]) -> str:
    """What the stack creates, a rough monthly cost (us-east-1 on-demand, 730 hours), the command
    that deploys it, and the checkov checks skipped on purpose."""
    from a2c.targets.ecs_express import ALB_HOUR, FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS, money

    task_hour = ecs["cpu"] / 1024 * FARGATE_VCPU_HOUR + ecs["memory"] / 1024 * FARGATE_GB_HOUR
    count = int(ecs.get("desiredCount", 1))
    creates = [("Your VPC and subnets" if reuse_vpc else "A VPC across two Availability Zones with public subnets"),
               f"An Application Load Balancer ({'HTTPS with the ACM certificate, port 80 redirecting' if certificate else 'HTTP on port 80'};"
               " invalid headers dropped)",
               f"An ECS cluster, a Fargate task definition ({ecs['cpu']} CPU units, {ecs['memory']} MiB, "
               f"{ecs.get('cpuArchitecture', 'X86_64')}) and a service with a deployment circuit breaker and rollback",
               "The task execution role (reads exactly the secrets the task names) and the task role",
               "A CloudWatch Logs group (30 days)"]
    if scaling.get("policies"):
        creates.append(f"Application Auto Scaling between {scaling['min']} and {scaling['max']} tasks on "
                       + ", ".join(p["name"] for p in scaling["policies"]))
    lines = [f"# {app_id} on Amazon ECS (Fargate)", "", "## What the stack creates", "",
             *[f"- {c}" for c in creates], "", "## Rough monthly cost", "",
             f"About {money(task_hour * HOURS * count + ALB_HOUR * HOURS)} a month for {count} task(s) and the load "
             f"balancer (us-east-1 on-demand: {FARGATE_VCPU_HOUR} USD per vCPU-hour, {FARGATE_GB_HOUR} USD per GB-hour, "
             f"{ALB_HOUR} USD per load balancer hour, {HOURS} hours; LCUs, data transfer and logs not counted).", "",
             "## Deploy", "", "From this folder:", "", "```sh",
             f"aws cloudformation deploy --template-file ecs-master.yml --stack-name {stack_name} "
             "--capabilities CAPABILITY_NAMED_IAM", "```", ""]
    if skipped:
        lines += ["## checkov checks skipped on purpose", "",
                  *[f"- `{check}` ({resource}): {why}" for check, (resource, why) in skipped.items()], ""]
    return "\n".join(lines)


def default_stack_name(app_id: str) -> str:
    return f"a2c-{app_id}-ECS"


class EcsTarget(Target):
    id: ClassVar[str] = "ecs"
    section: ClassVar[str] = "ecsParameters"
    flag: ClassVar[str] = "createEcsArtifacts"
    output_folder: ClassVar[str] = "EcsDeployment"
    main_file: ClassVar[str] = "ecs-master.yml"
    description: ClassVar[str] = "Amazon ECS on Fargate behind an Application Load Balancer (CloudFormation)"
    schema_resource: ClassVar[tuple[str, str]] = ("a2c.schemas", "target-ecs.schema.json")
    default_on: ClassVar[bool] = True

    def defaults(self, analysis: AnalysisHead) -> dict[str, Any]:
        memory = analysis.recommended_memory_mib or 2048  # 2 GiB when the analyzer said nothing
        return {
            "createEcsArtifacts": self.default_on,
            "ecsFamily": analysis.app_id,
            "cpu": fargate_cpu_for(memory),
            "memory": memory,
            "desiredCount": 1,
            "publicApp": True,
            "stackName": default_stack_name(analysis.app_id),
            "deployTarget": "fargate",
            "healthCheckPath": analysis.health_check_path,
            **({"healthCheckPort": analysis.health_check_port} if analysis.health_check_port else {}),
            "resourceTags": [{"key": "example-key", "value": "example-value"}],
            "reuseResources": {"vpcId": "", "subnetIds": []},
            "launchType": "FARGATE",
            "cpuArchitecture": "X86_64",
            "autoScaling": {"minCapacity": 1, "maxCapacity": 4,
                            "targetTracking": [{"metric": "cpu", "target": 60}]},
            "https": {"certificateArn": ""},
            "enableExecuteCommand": False,
        }

    def stack_name(self, deployment: Mapping[str, Any]) -> str:
        return deployment.get(self.section, {}).get("stackName") or default_stack_name(deployment["applicationId"])

    def render(self, deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, str]:
        return render_ecs(deployment, image_uri, source)

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        return [f"aws cloudformation deploy --template-file {folder}/{self.main_file} --capabilities CAPABILITY_NAMED_IAM "
                f"--stack-name {self.stack_name(deployment)}"]
