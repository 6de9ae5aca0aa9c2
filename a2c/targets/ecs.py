"""ECS on Fargate: a self-contained CloudFormation template and the task definition, from
deployment.json's ecsParameters (written into EcsDeployment/)."""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import Quoted, render, to_json, trusted
from a2c.model import AnalysisHead
from a2c.targets.base import Target
from a2c.targets.shared import (ENV_NAME, INSTANCE_TYPE, LOG_RETENTION_DAYS, check_tag, ecr_path, secret_arn,
                                stack_name_for)

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


ACM_ARN = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+"
KMS_KEY_ARN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+"
S3_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
S3_PREFIX = r"[A-Za-z0-9!_.*'()/-]{0,200}"
# CloudWatch Logs' retention settings (days).
FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
# The ECS-optimized AMIs, by SSM public parameter: what the EC2 capacity launches.
ECS_AMI_PARAMETERS = {
    ("LINUX", "X86_64"): "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    ("LINUX", "ARM64"): "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    ("WINDOWS", "X86_64"): "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-ECS_Optimized/image_id",
}
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


def skipped_checks(certificate: str, public: bool, nlb: bool = False, *, logs_key: bool = False,
                   access_logs: bool = False, capacity: bool = False) -> dict[str, tuple[str, str]]:
    """checkov's checks this stack does not satisfy on purpose: id -> (resource, why). The
    template's Metadata skips these and the README lists them, from this one table."""
    skipped: dict[str, tuple[str, str]] = {}
    if not logs_key:
        skipped["CKV_AWS_158"] = ("LogGroup", "CloudWatch Logs encrypts the log group with an AWS-owned key; a "
                                  "customer-managed key (ecsParameters.logging.kmsKeyArn) adds a key policy to maintain "
                                  "and $1/month, so it is left to the user.")
    if not access_logs:
        skipped["CKV_AWS_91"] = ("LoadBalancer", "Access logs need an S3 bucket whose policy admits the region's load "
                                 "balancer account; name yours in ecsParameters.accessLogs.bucket to turn them on.")
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
    steps = [_step_policy(step, index, source) for index, step in enumerate(scaling.get("stepScaling") or ())]
    scheduled = [_scheduled_action(action, index, low, high, source)
                 for index, action in enumerate(scaling.get("scheduled") or ())]
    return {"min": low, "max": high, "policies": policies, "steps": steps, "scheduled": scheduled}


# Step scaling: deployment.json's metric -> the ECS service metric its CloudWatch alarm watches.
STEP_METRICS = {"cpu": "CPUUtilization", "memory": "MemoryUtilization"}
SCHEDULE = r"(?:cron|rate|at)\([0-9A-Za-z*?/,#:\- ]{1,200}\)"
TIMEZONE = r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*"
ACTION_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"


def _step_policy(step: Mapping[str, Any], index: int, source: str) -> dict[str, Any]:
    """One step policy: when the metric is above (or below) the threshold for three minutes, add
    (or remove) ``change`` tasks; its CloudWatch alarm is written beside it."""
    field = f"$.ecsParameters.autoScaling.stepScaling[{index}]"
    metric, threshold, change = step.get("metric"), step.get("threshold"), step.get("change")
    direction = step.get("when", "above")
    if metric not in STEP_METRICS:
        raise InvalidFile(f"{source}: {field}.metric: {metric!r}", f"Use one of: {', '.join(STEP_METRICS)}.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 100:
        raise InvalidFile(f"{source}: {field}.threshold: {threshold!r}", "A percentage above 0, at most 100.")
    if isinstance(change, bool) or not isinstance(change, int) or change == 0:
        raise InvalidFile(f"{source}: {field}.change: {change!r}", "A whole number of tasks to add (2) or remove (-1).")
    if direction not in ("above", "below") or (direction == "above") != (change > 0):
        raise InvalidFile(f"{source}: {field}.when: {direction!r} with change {change}",
                          'Add tasks "above" a threshold (a positive change), remove them "below" one (a negative change).')
    return {"metric": STEP_METRICS[metric], "name": f"{metric}-{direction}-{int(threshold)}", "threshold": float(threshold),
            "change": change, "above": direction == "above"}


def _scheduled_action(action: Mapping[str, Any], index: int, low: int, high: int, source: str) -> dict[str, Any]:
    """One scheduled action: new bounds at a cron, rate or at() time (night and weekend capacity)."""
    field = f"$.ecsParameters.autoScaling.scheduled[{index}]"
    name = safe.matches(action.get("name", f"scheduled-{index + 1}"), ACTION_NAME, "action name", f"{field}.name", source)
    schedule = safe.matches(action.get("schedule", ""), SCHEDULE, "schedule (cron(...), rate(...) or at(...))",
                            f"{field}.schedule", source)
    zone = safe.matches(action.get("timezone", "UTC"), TIMEZONE, "IANA time zone", f"{field}.timezone", source)
    least, most = action.get("minCapacity", low), action.get("maxCapacity", high)
    if isinstance(least, bool) or isinstance(most, bool) or not (isinstance(least, int) and isinstance(most, int)) \
            or not 0 <= least <= most:
        raise InvalidFile(f"{source}: {field}: minCapacity {least!r} and maxCapacity {most!r} are not a range of "
                          "task counts", "Set 0 <= minCapacity <= maxCapacity.")
    return {"name": name, "schedule": schedule, "timezone": zone, "min": least, "max": most}


def check_logging(logging: Mapping[str, Any], source: str) -> dict[str, Any]:
    """ecsParameters.logging: awslogs (default) or FireLens, a retention CloudWatch offers, and a
    KMS key for the log group when given."""
    retention = logging.get("retentionDays", 30)
    if retention not in LOG_RETENTION_DAYS or isinstance(retention, bool):
        nearest = min(LOG_RETENTION_DAYS, key=lambda d: abs(d - retention) if isinstance(retention, int) else d)
        raise InvalidFile(f"{source}: $.ecsParameters.logging.retentionDays: CloudWatch Logs does not keep logs for "
                          f"{retention!r} days", f"Use one of {', '.join(map(str, LOG_RETENTION_DAYS))} "
                          f"(the nearest is {nearest}).")
    key = logging.get("kmsKeyArn", "")
    if key:
        safe.matches(key, KMS_KEY_ARN, "KMS key ARN", "$.ecsParameters.logging.kmsKeyArn", source)
    return {"driver": logging.get("driver", "awslogs"), "retention": retention, "kms": key}


def check_deployment_strategy(settings: Mapping[str, Any], nlb: bool, source: str) -> dict[str, Any]:
    """ecsParameters.deployment: rolling (the default) or ECS's own blue/green, which needs the
    Application Load Balancer's listener rule to move traffic between two target groups."""
    strategy = settings.get("strategy", "rolling")
    bake = settings.get("bakeTimeMinutes", 10)
    if strategy == "blueGreen" and nlb:
        raise InvalidFile(f"{source}: $.ecsParameters.deployment.strategy: blue/green here moves traffic with an "
                          "Application Load Balancer listener rule; this service has TCP ports and gets a Network "
                          "Load Balancer", 'Set it to "rolling", or mark the TCP ports "http" in $.exposedPorts if '
                          "they speak HTTP.")
    if isinstance(bake, bool) or not isinstance(bake, int) or not 0 <= bake <= 1440:
        raise InvalidFile(f"{source}: $.ecsParameters.deployment.bakeTimeMinutes: {bake!r}",
                          "Minutes both revisions stay up after traffic moves, 0 to 1440.")
    groups = ["TargetGroup", "TargetGroupGreen"] if strategy == "blueGreen" else ["TargetGroup"]
    return {"blue_green": strategy == "blueGreen", "bake": bake, "target_groups": [trusted(g) for g in groups]}


EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"


def check_alerts(ecs: Mapping[str, Any], source: str, service: bool = True) -> dict[str, Any]:
    """ecsParameters.alerts: lifecycle alerts (templates/ecs/alerts.yml.j2) when enabled, else {}.
    ``service``: the stack has a Service whose failed deployments are reported too; a template
    without one sets ``cluster`` (a reused cluster's ARN) and ``family`` to scope the task rule."""
    alerts = ecs.get("alerts") or {}
    if not alerts.get("enabled", False):
        return {}
    email = alerts.get("email", "")
    if email:
        safe.matches(email, EMAIL, "email address", "$.ecsParameters.alerts.email", source)
    key = alerts.get("kmsKeyArn", "")
    if key:
        safe.matches(key, KMS_KEY_ARN, "KMS key ARN", "$.ecsParameters.alerts.kmsKeyArn", source)
    return {"email": email, "kms": key, "service": service, "cluster": "", "family": ""}


def alerts_readme(alerts: Mapping[str, Any]) -> list[str]:
    """The README's lines for the alerts: what is created, and what it costs."""
    if not alerts:
        return []
    mail = f"mailing {alerts['email']} (the AlertEmail parameter; AWS asks the address to confirm)" if alerts["email"] \
        else "with no subscription yet (set the AlertEmail parameter, or subscribe endpoints to it)"
    return [f"Lifecycle alerts: EventBridge rules on this stack's tasks that stop with a non-zero exit code or fail to "
            f"start{' and on failed service deployments' if alerts['service'] else ''}, to an SNS topic {mail}, "
            + ("encrypted with your KMS key (its policy must let events.amazonaws.com use it)" if alerts["kms"] else
               "encrypted with a KMS key of its own (about $1 a month; EventBridge cannot publish to a topic "
               "encrypted with the AWS managed key alias/aws/sns)")]


def check_access_logs(access: Mapping[str, Any], source: str) -> dict[str, str]:
    """ecsParameters.accessLogs: the load balancer's access logs, to a bucket the user owns."""
    bucket = access.get("bucket", "")
    if not bucket:
        return {}
    safe.matches(bucket, S3_BUCKET, "S3 bucket name", "$.ecsParameters.accessLogs.bucket", source)
    prefix = safe.matches(access.get("prefix", ""), S3_PREFIX, "S3 key prefix", "$.ecsParameters.accessLogs.prefix",
                          source)
    return {"bucket": bucket, "prefix": prefix.strip("/")}


def check_capacity(ecs: Mapping[str, Any], windows: bool, source: str) -> dict[str, Any]:
    """ecsParameters.ec2 for the EC2 launch type (and every Windows image): the instances of the
    cluster's Auto Scaling group."""
    ec2 = ecs.get("ec2") or {}
    instance_type = ec2.get("instanceType") or ("m5.large" if windows else "m6i.large")
    safe.matches(instance_type, INSTANCE_TYPE, "EC2 instance type", "$.ecsParameters.ec2.instanceType", source)
    low, high = ec2.get("minSize", 1), ec2.get("maxSize", 4)
    if isinstance(low, bool) or isinstance(high, bool) or not (isinstance(low, int) and isinstance(high, int)) or \
            not 0 <= low <= high or high < 1:
        raise InvalidFile(f"{source}: $.ecsParameters.ec2: minSize {low!r} and maxSize {high!r} are not a range of "
                          "instances", "Set 0 <= minSize <= maxSize and maxSize >= 1, e.g. 1 and 4.")
    family = "WINDOWS" if windows else "LINUX"
    architecture = ecs.get("cpuArchitecture", "X86_64")
    if (family, architecture) not in ECS_AMI_PARAMETERS:
        raise InvalidFile(f"{source}: $.ecsParameters.cpuArchitecture: Windows containers on ECS run on X86_64 only",
                          'Set $.ecsParameters.cpuArchitecture to "X86_64".')
    return {"instance_type": instance_type, "min": low, "max": high, "ami": ECS_AMI_PARAMETERS[(family, architecture)]}


def _ports(deployment: Mapping[str, Any], source: str) -> int:
    ports = deployment.get("exposedPorts") or []
    if not ports:
        raise InvalidFile(f"{source}: $.exposedPorts: the list is empty; the service needs the port the application "
                          "serves on", f'Edit {source} and set $.exposedPorts to [{{"localPort": 8080, "protocol": '
                          '"tcp"}] with the application\'s port.')
    return safe.port(ports[0].get("localPort"), "$.exposedPorts[0].localPort", source)


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


def render_ecs(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsDeployment/: a service, or for a workload of another kind
    (deployment.json's ``workload.kind``) that kind's architecture."""
    kind = (deployment.get("workload") or {}).get("kind", "service")
    if kind == "scheduled":
        from a2c.targets.ecs_scheduled import render_scheduled

        return render_scheduled(deployment, image_uri, source)
    if kind == "worker":
        from a2c.targets.ecs_worker import render_worker

        return render_worker(deployment, image_uri, source)
    if kind == "fileDrop":
        from a2c.targets.ecs_filedrop import render_filedrop

        return render_filedrop(deployment, image_uri, source)
    check_deployment(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    port = _ports(deployment, source)
    ecs = deployment["ecsParameters"]
    app_id = deployment["applicationId"]
    defaults = {"ecsFamily": app_id, "cpu": 1024, "memory": 2048, "desiredCount": 1, "publicApp": True}
    ecs = {**defaults, **ecs}
    windows = deployment.get("platform") == "windows"
    launch_type = "EC2" if windows else ecs.get("launchType", "FARGATE")
    if launch_type == "FARGATE":
        check_fargate_size(ecs["cpu"], ecs["memory"], source)
    capacity = check_capacity(ecs, windows, source) if launch_type == "EC2" else {}
    logging = check_logging(ecs.get("logging") or {}, source)
    access_logs = check_access_logs(ecs.get("accessLogs") or {}, source)
    secrets_key = ecs.get("secretsKmsKeyArn", "")
    if secrets_key:
        safe.matches(secrets_key, KMS_KEY_ARN, "KMS key ARN", "$.ecsParameters.secretsKmsKeyArn", source)
    scaling = check_scaling(ecs.get("autoScaling") or {}, source)
    certificate = (ecs.get("https") or {}).get("certificateArn", "")
    if certificate:
        safe.matches(certificate, ACM_ARN, "ACM certificate ARN", "$.ecsParameters.https.certificateArn", source)
    reuse = ecs.get("reuseResources") or {}
    reuse_vpc = reuse.get("vpcId", "")
    subnets = reuse.get("subnetIds", [])
    private_subnets = reuse.get("privateSubnetIds", []) if reuse_vpc else []
    if reuse_vpc and len(subnets) < 2:
        raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.subnetIds: name at least two subnets of {reuse_vpc}",
                          "An Application Load Balancer needs subnets in two Availability Zones.")
    if private_subnets and len(private_subnets) < 2:
        raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.privateSubnetIds: name at least two subnets of "
                          f"{reuse_vpc}, or none", "Tasks run in two Availability Zones; an empty list puts them in "
                          "subnetIds with public IP addresses.")
    # A new VPC: tasks in private subnets behind NAT (one gateway, or one per zone); 0 puts them in
    # the public subnets with public addresses (no NAT: cheaper, for trials).
    nat_gateways = 0 if reuse_vpc else ecs.get("natGateways", 1)
    if nat_gateways not in (0, 1, 2) or isinstance(nat_gateways, bool):
        raise InvalidFile(f"{source}: $.ecsParameters.natGateways: {nat_gateways!r}",
                          "0 (tasks in public subnets), 1 (one NAT gateway) or 2 (one per Availability Zone).")
    private_tasks = bool(private_subnets) or (not reuse_vpc and nat_gateways > 0)
    if launch_type == "EC2" and not reuse_vpc and not private_tasks:
        raise InvalidFile(f"{source}: $.ecsParameters.natGateways: tasks on EC2 get no public address, so they need a "
                          "NAT gateway to reach ECR and CloudWatch", "Set $.ecsParameters.natGateways to 1 or 2.")
    storage = efs_volumes(deployment, source)
    alerts = check_alerts(ecs, source)
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
    strategy = check_deployment_strategy(ecs.get("deployment") or {}, nlb, source)
    skipped = skipped_checks(certificate, bool(ecs.get("publicApp", True)), nlb, logs_key=bool(logging["kms"]),
                             access_logs=bool(access_logs), capacity=bool(capacity))
    depends_on = ([f"Listener{i + 1}" for i in range(len(listeners))] if nlb else ["Listener"]) + (
        ["StateMountTarget1", "StateMountTarget2"] if storage else []) + (
        ["ClusterCapacityProviders"] if launch_type == "EC2" else []) + (
        [f"PrivateRoute{i}" for i in (1, 2)] if private_tasks and not reuse_vpc else [])
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
    http_app = not nlb or any(item["port"] == port and item["protocol"] == "http" for item in listeners)
    health_path = safe.http_path(ecs.get("healthCheckPath", "/"), "$.ecsParameters.healthCheckPath", source)
    health_port = safe.port(ecs["healthCheckPort"], "$.ecsParameters.healthCheckPort", source) \
        if ecs.get("healthCheckPort") else 0
    health_port = 0 if health_port == port else health_port  # the traffic port unless another answers

    def tags(indent: int, name: str = "", key: str = "Tags") -> Quoted:
        """The stack's tags on one resource (``key``: the property some resources name otherwise),
        with a Name tag when given."""
        pad = " " * indent
        lines = [f"{pad}{key}:"]
        for tag in ([{"key": "Name", "value": name}] if name else []) + resource_tags:
            lines += [f"{pad}  - Key: {to_json(tag['key'])}", f"{pad}    Value: {to_json(tag['value'])}"]
        return trusted("\n".join(lines))

    access_log_attributes = trusted("\n".join(
        f"        - Key: {key}\n          Value: {to_json(value)}" for key, value in (
            ("access_logs.s3.enabled", "true"), ("access_logs.s3.bucket", access_logs["bucket"]),
            ("access_logs.s3.prefix", access_logs["prefix"]))) if access_logs else "")

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
        task_subnets_ref=trusted("!Ref PrivateSubnetIds" if private_subnets else "!Ref SubnetIds" if reuse_vpc else
                                 "[!Ref PrivateSubnet1, !Ref PrivateSubnet2]" if private_tasks else
                                 "[!Ref PublicSubnet1, !Ref PublicSubnet2]"),
        private_subnets=private_subnets,
        private_tasks=private_tasks,
        nat_gateways=nat_gateways,
        http_app=http_app,
        launch_type=launch_type,
        windows=windows,
        capacity=capacity,
        logging=logging,
        fluent_bit_image=FLUENT_BIT_IMAGE,
        access_logs=access_logs,
        secrets_key=secrets_key,
        tags=tags,
        resource_tags=resource_tags,
        access_log_attributes=access_log_attributes,
        skips=skips_block(skipped),
        storage=storage,
        nlb=nlb,
        listeners=listeners,
        task_ports=task_ports,
        depends_on=depends_on,
        strategy=strategy,
        alerts=alerts,
        mount_subnets=[trusted(f"!Select [{i}, !Ref PrivateSubnetIds]" if private_subnets else
                               f"!Select [{i}, !Ref SubnetIds]" if reuse_vpc else
                               f"!Ref PrivateSubnet{i + 1}" if private_tasks else f"!Ref PublicSubnet{i + 1}")
                       for i in (0, 1)],
    )
    from a2c.targets.secretslist import secrets_readme

    return {
        **secrets_readme(deployment),
        "ecs-master.yml": template,
        "README.md": ecs_readme(ecs, app_id, stack_name, bool(reuse_vpc), certificate, scaling, skipped,
                                launch_type=launch_type, capacity=capacity, nat_gateways=nat_gateways,
                                private_tasks=private_tasks, nlb=nlb, logging=logging, access_logs=access_logs,
                                windows=windows, strategy=strategy, alerts=alerts),
    }


NAT_HOUR = 0.045  # USD per NAT gateway hour, us-east-1
EC2_HOUR = {"m6i.large": 0.096, "m5.large": 0.096}  # USD per hour on demand, Linux; others count 0.10
WINDOWS_LICENCE_HOUR = 0.092  # what Windows adds to a 2-vCPU instance


def ecs_readme(ecs: Mapping[str, Any], app_id: str, stack_name: str, reuse_vpc: bool, certificate: str,
               scaling: Mapping[str, Any], skipped: Mapping[str, tuple[str, str]], *, launch_type: str = "FARGATE",
               capacity: Mapping[str, Any] | None = None, nat_gateways: int = 0, private_tasks: bool = False,
               nlb: bool = False, logging: Mapping[str, Any] | None = None,
               access_logs: Mapping[str, str] | None = None, windows: bool = False,
               strategy: Mapping[str, Any] | None = None, alerts: Mapping[str, Any] | None = None) -> str:
    """What the stack creates, a rough monthly cost (us-east-1 on-demand, 730 hours), the command
    that deploys it, and the checkov checks skipped on purpose."""
    from a2c.targets.shared import ALB_HOUR, FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS, money, readme

    logging = logging or {"driver": "awslogs", "retention": 30, "kms": ""}
    count = int(ecs.get("desiredCount", 1))
    if reuse_vpc:
        network = "Your VPC and subnets" + (" (tasks in the private subnets you named, without public addresses)"
                                            if private_tasks else " (tasks with public addresses)")
    elif private_tasks:
        network = (f"A VPC across two Availability Zones: public subnets for the load balancer, private subnets for "
                   f"the tasks, {nat_gateways} NAT gateway{'s' if nat_gateways > 1 else ''} for their way out")
    else:
        network = "A VPC across two Availability Zones with public subnets (tasks with public addresses, no NAT)"
    balancer = ("A Network Load Balancer with a target group and listener per port" if nlb else
                f"An Application Load Balancer ({'HTTPS with the ACM certificate, port 80 redirecting' if certificate else 'HTTP on port 80'};"
                " invalid headers dropped)")
    if access_logs:
        balancer += f", access logs to s3://{access_logs['bucket']}/{access_logs.get('prefix', '')}"
    if launch_type == "EC2" and capacity:
        compute = (f"An ECS cluster on an Auto Scaling group of ECS-optimized {'Windows' if windows else 'Linux'} "
                   f"instances ({capacity['instance_type']}, {capacity['min']}-{capacity['max']}) with a capacity "
                   f"provider and managed scaling; the instance role is separate from the task roles")
        instance_hour = EC2_HOUR.get(capacity["instance_type"], 0.1) + (WINDOWS_LICENCE_HOUR if windows else 0)
        running = instance_hour * HOURS * max(int(capacity["min"]), 1)
        running_text = f"{max(int(capacity['min']), 1)} {capacity['instance_type']} instance(s)"
    else:
        compute = "An ECS cluster"
        running = (ecs["cpu"] / 1024 * FARGATE_VCPU_HOUR + ecs["memory"] / 1024 * FARGATE_GB_HOUR) * HOURS * count
        running_text = f"{count} Fargate task(s)"
    creates = [network, balancer,
               f"{compute}, a task definition ({ecs['cpu']} CPU units, {ecs['memory']} MiB, "
               f"{ecs.get('cpuArchitecture', 'X86_64')}, a container health check where the application speaks HTTP) "
               + ("and a service deployed blue/green by ECS itself: a new revision starts in a second target "
                  f"group, the listener rule moves production traffic to it, and both stay up for "
                  f"{strategy['bake']} minutes so that a rollback is one step (an infrastructure role lets ECS change "
                  "the listener rule)" if strategy and strategy.get("blue_green") else
                  "and a service with a rolling deployment, a circuit breaker and rollback"),
               "The task execution role (reads exactly the secrets the task names) and the task role",
               f"A CloudWatch Logs group ({logging['retention']} days"
               + (", encrypted with your KMS key" if logging.get("kms") else "")
               + (", fed by a FireLens log router" if logging.get("driver") == "firelens" else "") + ")"]
    if scaling.get("policies") or scaling.get("steps") or scaling.get("scheduled"):
        how = [f"target tracking on {', '.join(p['name'] for p in scaling['policies'])}"] if scaling.get("policies") else []
        how += [f"step policies ({', '.join(p['name'] for p in scaling['steps'])}) with their CloudWatch alarms"] \
            if scaling.get("steps") else []
        how += [f"scheduled actions ({', '.join(a['name'] + ' ' + a['schedule'] for a in scaling['scheduled'])})"] \
            if scaling.get("scheduled") else []
        creates.append(f"Application Auto Scaling between {scaling['min']} and {scaling['max']} tasks: "
                       + "; ".join(how))
    creates += alerts_readme(alerts or {})
    monthly = running + ALB_HOUR * HOURS + NAT_HOUR * HOURS * (nat_gateways if private_tasks and not reuse_vpc else 0)
    cost = [f"About {money(monthly)} a month for {running_text}, the load balancer"
            + (f" and {nat_gateways} NAT gateway(s)" if private_tasks and not reuse_vpc and nat_gateways else "")
            + f" (us-east-1 on-demand: {FARGATE_VCPU_HOUR} USD per vCPU-hour, {FARGATE_GB_HOUR} USD per GB-hour, "
            f"{ALB_HOUR} USD per load balancer hour, {NAT_HOUR} USD per NAT gateway hour, {HOURS} hours; LCUs, data "
            f"transfer and logs not counted)."]
    after = ["The task definition is part of the stack (no separate task-definition.json: its roles and log group "
             "exist only once the stack does); after a deploy, `aws ecs describe-task-definition --task-definition "
             f"{ecs.get('ecsFamily', app_id)}` shows it as registered.", ""]
    title = f"{app_id} on Amazon ECS ({'EC2' if launch_type == 'EC2' else 'Fargate'})"
    return readme(title, creates, cost, "ecs-master.yml", stack_name, skipped, after_deploy=after)


def default_stack_name(app_id: str) -> str:
    return stack_name_for(app_id, "ECS")


class EcsTarget(Target):
    id: ClassVar[str] = "ecs"
    section: ClassVar[str] = "ecsParameters"
    flag: ClassVar[str] = "createEcsArtifacts"
    output_folder: ClassVar[str] = "EcsDeployment"
    main_file: ClassVar[str] = "ecs-master.yml"
    description: ClassVar[str] = "Amazon ECS on Fargate behind an Application Load Balancer (CloudFormation)"
    schema_resource: ClassVar[tuple[str, str]] = ("a2c.schemas", "target-ecs.schema.json")
    default_on: ClassVar[bool] = True
    platforms: ClassVar[tuple[str, ...]] = ("linux", "windows")  # Windows on EC2 container instances

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
            "launchType": "EC2" if analysis.platform == "windows" else "FARGATE",  # Fargate runs no Windows here
            "cpuArchitecture": "X86_64",
            "autoScaling": {"minCapacity": 1, "maxCapacity": 4,
                            "targetTracking": [{"metric": "cpu", "target": 60}]},
            "https": {"certificateArn": ""},
            "enableExecuteCommand": False,
            "natGateways": 1,
            "deployment": {"strategy": "rolling", "bakeTimeMinutes": 10},
            "logging": {"driver": "awslogs", "retentionDays": 30, "kmsKeyArn": ""},
            "accessLogs": {"bucket": "", "prefix": ""},
            "secretsKmsKeyArn": "",
            "ec2": {"instanceType": "m5.large" if analysis.platform == "windows" else "m6i.large",
                    "minSize": 1, "maxSize": 4},
        }

    def stack_name(self, deployment: Mapping[str, Any]) -> str:
        return deployment.get(self.section, {}).get("stackName") or default_stack_name(deployment["applicationId"])

    def render(self, deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, str]:
        return render_ecs(deployment, image_uri, source)

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        from a2c.targets.shared import deploy_command

        return [deploy_command(f"{folder}/{self.main_file}", self.stack_name(deployment))]
