"""A scheduled job on ECS: a Fargate task definition started by EventBridge Scheduler on the
host's schedule (a crontab line or a systemd timer, translated by a2c.targets.cron), in a new
cluster or the one named in ``ecsParameters.reuseResources.clusterArn``. No service and no load
balancer: a batch job listens on nothing. Written into EcsDeployment/ as ``ecs-master.yml``,
the file name every ECS folder has, so that deploy and pipeline find it.

The task definition, roles, log group and network are the service template's (the same checks of
ecs.py); what differs is the scheduler: its role may start this task family in this cluster only
and pass the task's two roles only, its retries come from ``workload.schedule.retries`` and an
optional dead-letter queue (SQS, encrypted) takes what could not be started.
"""

from __future__ import annotations

from typing import Any, Mapping

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import Quoted, render, to_json, trusted
from a2c.targets.cron import ScheduleRefused, Translation, translate
from a2c.targets.ecs import (KMS_KEY_ARN, alerts_readme, check_alerts, check_deployment, check_fargate_size,
                             check_logging, default_stack_name, efs_volumes, skips_block)
from a2c.targets.shared import FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS, ecr_path, money, readme, secret_arn

CLUSTER_ARN = r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}"
NAT_HOUR = 0.045  # USD per NAT gateway hour, us-east-1
SCHEDULER_FREE = 14_000_000  # EventBridge Scheduler invocations free each month
ASSUMED_RUN_MINUTES = 15  # the cost estimate's length of one run


def check_schedule(deployment: Mapping[str, Any], source: str) -> tuple[Translation, dict[str, Any]]:
    """workload.schedule as the template writes it: the translated expressions and the retry
    settings; a schedule the targets cannot keep is refused by its field."""
    schedule = (deployment.get("workload") or {}).get("schedule") or {}
    field = "$.workload.schedule." + ("cron" if schedule.get("cron") else "onCalendar")
    try:
        translation = translate(schedule)
    except ScheduleRefused as refused:
        raise InvalidFile(f"{source}: {field}: {refused.message}", refused.hint) from None
    retries = schedule.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 185:
        raise safe.refusal(source, "$.workload.schedule.retries", retries, "is not a number of retries (0-185)")
    return translation, {"retries": retries, "dead_letter_queue": bool(schedule.get("deadLetterQueue", False)),
                         "concurrency": schedule.get("concurrencyPolicy", "Forbid")}


def _network(ecs: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Where the tasks run: a reused VPC's subnets (its private ones when named), or a new VPC
    with private subnets behind NAT (natGateways 1 or 2), or public ones (natGateways 0)."""
    reuse = ecs.get("reuseResources") or {}
    vpc = reuse.get("vpcId", "")
    if vpc:
        safe.matches(vpc, r"vpc-[0-9a-f]{8,17}", "VPC id", "$.ecsParameters.reuseResources.vpcId", source)
        private = list(reuse.get("privateSubnetIds") or [])
        subnets = private or list(reuse.get("subnetIds") or [])
        key = "privateSubnetIds" if private else "subnetIds"
        if not subnets:
            raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.subnetIds: name the subnets of {vpc} the "
                              "job's tasks run in", "Two subnets in two Availability Zones, with a way out to ECR "
                              "(NAT or VPC endpoints) for private ones.")
        for index, subnet in enumerate(subnets):
            safe.matches(subnet, r"subnet-[0-9a-f]{8,17}", "subnet id",
                         f"$.ecsParameters.reuseResources.{key}[{index}]", source)
        return {"reuse_vpc": vpc, "reuse_subnets": subnets, "private_tasks": bool(private), "nat_gateways": 0,
                "vpc_ref": trusted("!Ref VpcId"), "task_subnets_ref": trusted("!Ref SubnetIds"),
                "mount_subnets": [trusted(f"!Select [{i}, !Ref SubnetIds]") for i in (0, 1)]}
    nat = ecs.get("natGateways", 1)
    if nat not in (0, 1, 2) or isinstance(nat, bool):
        raise InvalidFile(f"{source}: $.ecsParameters.natGateways: {nat!r}",
                          "0 (tasks in public subnets), 1 (one NAT gateway) or 2 (one per Availability Zone).")
    kind = "Private" if nat else "Public"
    return {"reuse_vpc": "", "reuse_subnets": [], "private_tasks": bool(nat), "nat_gateways": nat,
            "vpc_ref": trusted("!Ref Vpc"), "task_subnets_ref": trusted(f"[!Ref {kind}Subnet1, !Ref {kind}Subnet2]"),
            "mount_subnets": [trusted(f"!Ref {kind}Subnet{i}") for i in (1, 2)]}


def skipped_checks(logs_key: bool, dead_letter_queue: bool) -> dict[str, tuple[str, str]]:
    """checkov's checks this stack does not satisfy on purpose: id -> (resource, why). The
    template's Metadata skips these and the README lists them, from this one table."""
    skipped: dict[str, tuple[str, str]] = {}
    if not logs_key:
        skipped["CKV_AWS_158"] = ("LogGroup", "CloudWatch Logs encrypts the log group with an AWS-owned key; a "
                                  "customer-managed key (ecsParameters.logging.kmsKeyArn) adds a key policy to maintain "
                                  "and $1/month, so it is left to the user.")
    if dead_letter_queue:
        skipped["CKV_AWS_27"] = ("DeadLetterQueue", "The queue is encrypted at rest by SQS itself (SSE-SQS, "
                                 "SqsManagedSseEnabled), which this check does not count; a KMS key would need a key "
                                 "policy letting the scheduler's role encrypt with it, for no gain on a queue of "
                                 "schedule events.")
    return skipped


def render_scheduled(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsDeployment/ when ``workload.kind`` is ``scheduled``."""
    check_deployment(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    app_id = deployment["applicationId"]
    ecs = {"ecsFamily": app_id, "cpu": 1024, "memory": 2048, **deployment["ecsParameters"]}
    safe.matches(ecs["ecsFamily"], r"[A-Za-z0-9_-]{1,255}", "task definition family", "$.ecsParameters.ecsFamily", source)
    if deployment.get("platform") == "windows" or ecs.get("launchType", "FARGATE") != "FARGATE":
        raise InvalidFile(f"{source}: $.ecsParameters.launchType: a scheduled job runs here as a Fargate task (Linux); "
                          "this one asks for EC2 container instances", 'Set launchType to "FARGATE" (a Windows job '
                          "needs EC2 capacity, which this template does not create).")
    check_fargate_size(ecs["cpu"], ecs["memory"], source)
    logging = check_logging(ecs.get("logging") or {}, source)
    if logging["driver"] != "awslogs":
        raise InvalidFile(f"{source}: $.ecsParameters.logging.driver: a scheduled job's task writes its output to "
                          "CloudWatch Logs with awslogs", 'Set it to "awslogs" (FireLens runs a second container '
                          "that a batch task would wait for).")
    secrets_key = ecs.get("secretsKmsKeyArn", "")
    if secrets_key:
        safe.matches(secrets_key, KMS_KEY_ARN, "KMS key ARN", "$.ecsParameters.secretsKmsKeyArn", source)
    cluster = (ecs.get("reuseResources") or {}).get("clusterArn", "")
    if cluster:
        safe.matches(cluster, CLUSTER_ARN, "ECS cluster ARN", "$.ecsParameters.reuseResources.clusterArn", source)
    translation, retry = check_schedule(deployment, source)
    network = _network(ecs, source)
    alerts = check_alerts(ecs, source, service=False)
    if alerts:
        alerts.update(cluster=cluster, family=ecs["ecsFamily"])
    stack_name = ecs.get("stackName") or default_stack_name(app_id)
    resource_tags = [t for t in ecs.get("resourceTags", []) if t.get("key") not in ("", "example-key")]
    resource_tags.append({"key": "a2c-application-id", "value": app_id})
    secrets = [{"name": s["name"], "arn": trusted(secret_arn(s["valueFrom"]))} for s in deployment.get("secrets", [])]
    skipped = skipped_checks(bool(logging["kms"]), retry["dead_letter_queue"])
    what = f"{translation.source} `{translation.expression}`"
    schedules = [{"expression": expression, "description": f"{app_id}: {what}"
                  + (f" ({'day of month' if index == 0 else 'day of week'})" if len(translation.eventbridge) > 1 else "")}
                 for index, expression in enumerate(translation.eventbridge)]

    def tags(indent: int, name: str = "", key: str = "Tags") -> Quoted:
        pad = " " * indent
        lines = [f"{pad}{key}:"]
        for tag in ([{"key": "Name", "value": name}] if name else []) + resource_tags:
            lines += [f"{pad}  - Key: {to_json(tag['key'])}", f"{pad}    Value: {to_json(tag['value'])}"]
        return trusted("\n".join(lines))

    template = render(
        "ecs/ecs-scheduled.yml.j2", version=__version__, app_id=app_id, stack_name=stack_name, image_uri=image_uri,
        ecr_path=ecr_path(deployment), ecs=ecs, architecture=ecs.get("cpuArchitecture", "X86_64"),
        environment=deployment.get("environment", []), secrets=secrets, secrets_key=secrets_key, logging=logging,
        storage=efs_volumes(deployment, source), reuse_cluster=cluster, schedules=schedules,
        timezone=translation.timezone, retries=retry["retries"], dead_letter_queue=retry["dead_letter_queue"],
        alerts=alerts, tags=tags, skips=skips_block(skipped), **network)
    from a2c.targets.secretslist import secrets_readme

    return {**secrets_readme(deployment), "ecs-master.yml": template,
            "README.md": scheduled_readme(ecs, app_id, stack_name, translation, retry, network, cluster, alerts,
                                          logging, skipped)}


def scheduled_readme(ecs: Mapping[str, Any], app_id: str, stack_name: str, translation: Translation,
                     retry: Mapping[str, Any], network: Mapping[str, Any], cluster: str, alerts: Mapping[str, Any],
                     logging: Mapping[str, Any], skipped: Mapping[str, tuple[str, str]]) -> str:
    """What the stack creates, a rough monthly cost, the deploy command, and what differs from
    the host's scheduler."""
    if network["reuse_vpc"]:
        where = f"Your VPC {network['reuse_vpc']} and its subnets" + (
            " (private: tasks get no public address)" if network["private_tasks"] else " (tasks get public addresses)")
    elif network["private_tasks"]:
        gateways = network["nat_gateways"]
        where = (f"A VPC across two Availability Zones: private subnets for the tasks and {gateways} NAT gateway"
                 f"{'s' if gateways > 1 else ''} in public subnets for their way out to ECR and CloudWatch")
    else:
        where = "A VPC across two Availability Zones with public subnets (tasks get public addresses; no NAT)"
    expressions = ", ".join(f"`{e}`" for e in translation.eventbridge)
    creates = [where,
               f"The ECS cluster {cluster}" if cluster else "An ECS cluster (Container Insights on)",
               f"A Fargate task definition ({ecs['cpu']} CPU units, {ecs['memory']} MiB, "
               f"{ecs.get('cpuArchitecture', 'X86_64')}) and a security group with no inbound rule; no service",
               f"{'Two EventBridge Scheduler schedules' if len(translation.eventbridge) > 1 else 'An EventBridge Scheduler schedule'} "
               f"({expressions} in {translation.timezone}, no flexible window) that start the task, with "
               f"{retry['retries']} retr{'y' if retry['retries'] == 1 else 'ies'}"
               + (" and an encrypted SQS dead-letter queue" if retry["dead_letter_queue"] else ""),
               "The scheduler's role (ecs:RunTask on this task family in this cluster, iam:PassRole on the task's "
               "two roles only), the task execution role (reads exactly the secrets the task names) and the task role",
               f"A CloudWatch Logs group ({logging['retention']} days"
               + (", encrypted with your KMS key" if logging.get("kms") else "") + ") with each run's output",
               *alerts_readme(alerts)]
    run_hour = ecs["cpu"] / 1024 * FARGATE_VCPU_HOUR + ecs["memory"] / 1024 * FARGATE_GB_HOUR
    nat = NAT_HOUR * HOURS * network["nat_gateways"]
    cost = [f"About {money(run_hour * ASSUMED_RUN_MINUTES / 60)} per {ASSUMED_RUN_MINUTES}-minute run of the task "
            f"(us-east-1: {FARGATE_VCPU_HOUR} USD per vCPU-hour, {FARGATE_GB_HOUR} USD per GB-hour), plus "
            + (f"{money(nat)} a month for the NAT gateway(s) ({NAT_HOUR} USD an hour, {HOURS} hours; natGateways 0 "
               "puts the tasks in public subnets without one)" if nat else "no fixed charge for the network")
            + f". The schedules are free up to {SCHEDULER_FREE:,} starts a month; logs and data transfer are not "
            "counted."]
    notes = ["## How the schedule was translated", "",
             f"The host ran this job from {translation.source}: `{translation.expression}`"
             f" ({translation.timezone}). EventBridge Scheduler takes `cron(minutes hours day-of-month month "
             "day-of-week year)` with `?` in one of the two day fields, and numbers the days of the week 1-7 from "
             "Sunday (crontab: 0-6, and 7 is Sunday).", ""]
    if translation.why_two:
        notes += [translation.why_two, ""]
    notes += [f"Retries: EventBridge Scheduler retries starting the task ({retry['retries']} time(s)) when ECS "
              "refuses RunTask (no capacity, throttling); a run that starts and then fails is not retried"
              + (": the lifecycle alerts report it." if alerts else " (turn on ecsParameters.alerts to hear of it)."),
              "",
              f"Overlapping runs: the host's concurrencyPolicy {retry['concurrency']!s} is not enforced here; "
              "EventBridge Scheduler starts a task at every time it matches, even while the last run is still going. "
              "A job that must not overlap has to check that itself (a lock in its database or on EFS).", ""]
    after = ["Start one run by hand, without waiting for the schedule: `aws ecs run-task` with the TaskDefinitionArn "
             "and ClusterArn outputs, launch type FARGATE and the network of the schedule's target "
             "(`aws scheduler get-schedule --name <Schedule1Name>` shows it).", ""]
    return readme(f"{app_id}: a scheduled job on Amazon ECS (Fargate)", creates, cost, "ecs-master.yml", stack_name,
                  skipped, notes=notes, after_deploy=after)
