"""ECS for a queue worker (deployment.json ``workload.kind: worker``): a Fargate service with no
load balancer that scales on its SQS queue's backlog per task, through a target tracking
policy on metric math (ApproximateNumberOfMessagesVisible / RunningTaskCount). Its task role
may receive, delete and read the attributes of that one queue. Other brokers (JMS, RabbitMQ,
Kafka) are reported in the README as dependencies to provision: Amazon MQ or Amazon MSK, and
the application setting that names the endpoint.

The file-drop processor (ecs_filedrop.py) shares the checks, network and roles written here.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import Quoted, render, to_json, trusted
from a2c.targets.ecs import (KMS_KEY_ARN, check_deployment, check_fargate_size, check_logging, default_stack_name,
                             skips_block)
from a2c.targets.shared import ecr_path, money, secret_arn

QUEUE_NAME = r"[A-Za-z0-9_-]{1,75}(?:\.fifo)?"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
AWS_SQS_URL = re.compile(r"https://(?:sqs(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9])|(?P<legacy>[a-z]{2}(?:-[a-z]+)+-[0-9])"
                         r"\.queue)\.amazonaws\.com(?P<cn>\.cn)?/(?P<account>[0-9]{12})/(?P<name>" + QUEUE_NAME + ")/?")
# What a broker other than SQS becomes on AWS, and the port its clients open.
BROKER_PORTS = {"jms": 61617, "rabbitmq": 5671, "kafka": 9098}
VISIBILITY_TIMEOUT = 300  # seconds a received message stays hidden while a task works on it


def check_common(deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, Any]:
    """The checks and template values every task runner here shares (a worker's service, a
    file-drop processor's tasks): image, sizes, logs, secrets, tags, network, alerts."""
    check_deployment(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    if deployment.get("platform", "linux") != "linux":
        raise InvalidFile(f"{source}: $.platform: a worker or file-drop processor here runs on Fargate, which runs "
                          "Linux containers only", "Run the Windows image as an ECS service on EC2 (workload.kind "
                          '"service"), or move the application to Linux.')
    app_id = deployment["applicationId"]
    ecs = {"ecsFamily": app_id, "cpu": 1024, "memory": 2048, "desiredCount": 1, **deployment["ecsParameters"]}
    check_fargate_size(ecs["cpu"], ecs["memory"], source)
    logging = check_logging(ecs.get("logging") or {}, source)
    secrets_key = ecs.get("secretsKmsKeyArn", "")
    if secrets_key:
        safe.matches(secrets_key, KMS_KEY_ARN, "KMS key ARN", "$.ecsParameters.secretsKmsKeyArn", source)
    reuse = ecs.get("reuseResources") or {}
    reuse_vpc = reuse.get("vpcId", "")
    subnets = list(reuse.get("privateSubnetIds") or reuse.get("subnetIds") or []) if reuse_vpc else []
    if reuse_vpc:
        safe.matches(reuse_vpc, r"vpc-[0-9a-f]{8,17}", "VPC id", "$.ecsParameters.reuseResources.vpcId", source)
        if not subnets:
            raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.subnetIds: name the subnets of {reuse_vpc} "
                              "the tasks run in", "At least one subnet with a way out to the AWS APIs.")
        for index, subnet in enumerate(subnets):
            safe.matches(subnet, r"subnet-[0-9a-f]{8,17}", "subnet id",
                         f"$.ecsParameters.reuseResources.subnetIds[{index}]", source)
    nat_gateways = 0 if reuse_vpc else ecs.get("natGateways", 1)
    if nat_gateways not in (0, 1, 2) or isinstance(nat_gateways, bool):
        raise InvalidFile(f"{source}: $.ecsParameters.natGateways: {nat_gateways!r}",
                          "0 (tasks in public subnets), 1 (one NAT gateway) or 2 (one per Availability Zone).")
    private_tasks = bool(reuse.get("privateSubnetIds")) if reuse_vpc else nat_gateways > 0
    stack_name = ecs.get("stackName") or default_stack_name(app_id)
    resource_tags = [t for t in ecs.get("resourceTags", []) if t.get("key") not in ("", "example-key")]
    resource_tags.append({"key": "a2c-application-id", "value": app_id})

    def tags(indent: int, name: str = "", key: str = "Tags") -> Quoted:
        pad = " " * indent
        lines = [f"{pad}{key}:"]
        for tag in ([{"key": "Name", "value": name}] if name else []) + resource_tags:
            lines += [f"{pad}  - Key: {to_json(tag['key'])}", f"{pad}    Value: {to_json(tag['value'])}"]
        return trusted("\n".join(lines))

    return {
        "version": __version__, "app_id": app_id, "stack_name": stack_name, "image_uri": image_uri,
        "ecr_path": ecr_path(deployment), "ecs": ecs, "architecture": ecs.get("cpuArchitecture", "X86_64"),
        "environment": deployment.get("environment", []),
        "secrets": [{"name": s["name"], "arn": trusted(secret_arn(s["valueFrom"]))} for s in deployment.get("secrets", [])],
        "secrets_key": secrets_key, "logging": logging, "tags": tags, "resource_tags": resource_tags,
        "reuse_vpc": reuse_vpc, "task_subnets": subnets, "nat_gateways": nat_gateways, "private_tasks": private_tasks,
        "vpc_ref": trusted("!Ref VpcId" if reuse_vpc else "!Ref Vpc"),
        "task_subnets_ref": trusted("!Ref SubnetIds" if reuse_vpc else "[!Ref PrivateSubnet1, !Ref PrivateSubnet2]"
                                    if private_tasks else "[!Ref PublicSubnet1, !Ref PublicSubnet2]"),
        "alerts": check_alerts(ecs.get("alerts") or {}, source),
        "efs_paths": [e.get("path", "") for e in deployment.get("persistentStorage") or () if e.get("storage") == "efs"],
    }


def check_alerts(alerts: Mapping[str, Any], source: str, service: bool = True) -> dict[str, Any]:
    """ecsParameters.alerts as templates/ecs/alerts.yml.j2 reads it ({} when off)."""
    if not alerts.get("enabled"):
        return {}
    email = alerts.get("email", "")
    if email:
        safe.matches(email, EMAIL, "email address", "$.ecsParameters.alerts.email", source)
    return {"email": email, "kms": "", "service": service, "cluster": "", "family": ""}


def skipped_checks(common: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """checkov's checks these stacks leave on purpose: id -> (resource, why)."""
    skipped: dict[str, tuple[str, str]] = {}
    if not common["logging"]["kms"]:
        skipped["CKV_AWS_158"] = ("LogGroup", "CloudWatch Logs encrypts the log group with an AWS-owned key; a "
                                  "customer-managed key (ecsParameters.logging.kmsKeyArn) adds a key policy to maintain "
                                  "and $1/month, so it is left to the user.")
    return skipped


def check_queue(workload: Mapping[str, Any], source: str) -> dict[str, Any] | None:
    """workload.queue as the template writes it: the queue's name, its ARN and URL (an existing
    AWS queue by its URL; any other URL, a local stand-in's, or none, makes the stack create a
    queue of that name), the backlog per task to keep and the bounds of the task count."""
    spec = workload.get("queue")
    if not spec:
        return None
    field = "$.workload.queue"
    if spec.get("type", "sqs") != "sqs":
        raise safe.refusal(source, f"{field}.type", spec.get("type"), 'is not "sqs" (other brokers go in otherBrokers)')
    url = str(spec.get("url") or "")
    aws = AWS_SQS_URL.fullmatch(url)
    name = safe.matches(spec.get("name") or (aws.group("name") if aws else ""), QUEUE_NAME,
                        "SQS queue name (letters, digits, - and _, .fifo at the end of a FIFO queue)", f"{field}.name",
                        source)
    low, high = spec.get("minTasks", 0), spec.get("maxTasks", 10)
    if isinstance(low, bool) or isinstance(high, bool) or not (isinstance(low, int) and isinstance(high, int)) \
            or not 0 <= low <= high or high < 1:
        raise InvalidFile(f"{source}: {field}: minTasks {low!r} and maxTasks {high!r} are not a range of task counts",
                          "Set 0 <= minTasks <= maxTasks, maxTasks at least 1 (e.g. 0 and 10).")
    target = spec.get("targetBacklogPerTask", 10)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target <= 100000:
        raise safe.refusal(source, f"{field}.targetBacklogPerTask", target,
                           "is not a number of messages per task (above 0)")
    if aws:
        region = aws.group("region") or aws.group("legacy")
        partition = "aws-cn" if aws.group("cn") else "aws"
        arn = f"arn:{partition}:sqs:{region}:{aws.group('account')}:{aws.group('name')}"
        return {"name": name, "existing": True, "arn": to_json(arn), "name_ref": to_json(name),
                "url_ref": to_json(url.rstrip("/")), "url": url.rstrip("/"), "fifo": name.endswith(".fifo"),
                "min": low, "max": high, "target": float(target), "visibility": VISIBILITY_TIMEOUT}
    return {"name": name, "existing": False, "arn": trusted("!GetAtt Queue.Arn"), "name_ref": trusted("!GetAtt Queue.QueueName"),
            "url_ref": trusted("!Ref Queue"), "url": url, "fifo": name.endswith(".fifo"), "min": low, "max": high,
            "target": float(target), "visibility": VISIBILITY_TIMEOUT}


def other_brokers(workload: Mapping[str, Any], source: str) -> list[dict[str, str]]:
    """workload.otherBrokers, each line fit for the README (one line, no control characters)."""
    found = []
    for index, broker in enumerate(workload.get("otherBrokers") or ()):
        kind = broker.get("type", "")
        if kind not in ("jms", "rabbitmq", "kafka", "sqs"):
            raise safe.refusal(source, f"$.workload.otherBrokers[{index}].type", kind, "is not jms, rabbitmq or kafka")
        found.append({"type": kind, "endpoint": safe.one_line(broker.get("endpoint", "")),
                      "provision": safe.one_line(broker.get("provision", "")),
                      "setting": safe.one_line(broker.get("setting", ""))})
    return found


def render_worker(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsDeployment/ of a queue worker."""
    from a2c.targets.secretslist import secrets_readme

    common = check_common(deployment, image_uri, source)
    workload = deployment.get("workload") or {}
    queue = check_queue(workload, source)
    brokers = other_brokers(workload, source)
    desired = common["ecs"].get("desiredCount", 1)
    if isinstance(desired, bool) or not isinstance(desired, int) or desired < 0:
        raise safe.refusal(source, "$.ecsParameters.desiredCount", desired, "is not a task count")
    skipped = skipped_checks(common)
    broker_ports = sorted({BROKER_PORTS[b["type"]] for b in brokers if b["type"] in BROKER_PORTS})
    template = render("ecs/ecs-worker.yml.j2", **common, queue=queue, desired=desired, broker_ports=broker_ports,
                      skips=skips_block(skipped))
    return {**secrets_readme(deployment), "ecs-master.yml": template,
            "README.md": worker_readme(common, queue, brokers, skipped)}


PROVISION = {
    "jms": ("Amazon MQ for ActiveMQ", "ssl://<broker-id>-1.mq.<region>.amazonaws.com:61617 (failover:(…-1…,…-2…) "
            "for an active/standby pair)"),
    "rabbitmq": ("Amazon MQ for RabbitMQ", "amqps://<broker-id>.mq.<region>.amazonaws.com:5671"),
    "kafka": ("Amazon MSK", "the bootstrap brokers of `aws kafka get-bootstrap-brokers` (port 9098 with IAM "
              "authentication, 9094 with TLS)"),
}


def broker_lines(brokers: list[dict[str, str]]) -> list[str]:
    lines = []
    for broker in brokers:
        service, endpoint = PROVISION.get(broker["type"], ("Amazon SQS", "the queue URL"))
        lines.append(f"- **{broker['type']}** `{broker['endpoint'] or '(endpoint not named)'}`: provision "
                     f"{broker['provision'] or service}, then change {broker['setting'] or 'the broker setting'} to "
                     f"{endpoint}. Open its port from the task security group (the template allows it out to any "
                     "address: narrow it to the broker).")
    return lines


def worker_readme(common: Mapping[str, Any], queue: Mapping[str, Any] | None, brokers: list[dict[str, str]],
                  skipped: Mapping[str, tuple[str, str]]) -> str:
    from a2c.targets.shared import FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS, readme

    ecs, app_id = common["ecs"], common["app_id"]
    creates = [network_line(common),
               f"An ECS cluster (Container Insights on), a task definition ({ecs['cpu']} CPU units, {ecs['memory']} MiB) "
               "and a service with no load balancer: a worker listens on no port, its security group lets nothing in",
               "The task execution role (reads exactly the secrets the task names) and the task role"
               + (f" (sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on {queue['name']} only)"
                  if queue else ""),
               f"A CloudWatch Logs group ({common['logging']['retention']} days)"]
    notes: list[str] = []
    if queue:
        creates.insert(1, (f"Nothing for the queue: {queue['name']} exists ({queue['url']})" if queue["existing"] else
                           f"The SQS queue {queue['name']} (SSE on, messages kept 14 days, hidden "
                           f"{queue['visibility']} s while a task works on one)"))
        creates.append(f"Application Auto Scaling between {queue['min']} and {queue['max']} tasks: target tracking "
                       f"on {queue['target']:g} messages per running task (metric math: the queue's "
                       "ApproximateNumberOfMessagesVisible over the service's RunningTaskCount from Container "
                       "Insights, counting at least one task so that a service at zero scales out)")
        if not queue["existing"]:
            notes += ["## The queue", "",
                      f"The analysis found the queue at `{queue['url'] or queue['name']}`, which is not an AWS queue "
                      f"URL, so the stack creates `{queue['name']}`. Point the application's queue setting at the "
                      "stack's QueueUrl output (an environment variable in the task definition overrides a Spring "
                      "property of the same name: `APP_QUEUE_URL` for `app.queue.url`).", ""]
    if brokers:
        notes += ["## Brokers to provision", "",
                  "The application also reads from brokers that the stack does not create:", "", *broker_lines(brokers),
                  ""]
    if common["efs_paths"]:
        notes += ["## State", "", "persistentStorage names " + ", ".join(f"`{p}`" for p in common["efs_paths"])
                  + ": this worker template mounts no EFS volume; the folders are the task's own disk, lost when "
                  "it stops. Use workload.kind \"service\" for the ECS template that mounts them.", ""]
    vcpu_hour = ecs["cpu"] / 1024 * FARGATE_VCPU_HOUR + ecs["memory"] / 1024 * FARGATE_GB_HOUR
    low = queue["min"] if queue else ecs.get("desiredCount", 1)
    high = queue["max"] if queue else ecs.get("desiredCount", 1)
    nat = 0.045 * HOURS * common["nat_gateways"] if common["private_tasks"] and not common["reuse_vpc"] else 0
    cost = [f"From {money(vcpu_hour * HOURS * low + nat)} a month ({low} task(s) always running) to "
            f"{money(vcpu_hour * HOURS * high + nat)} ({high} task(s) all month)"
            + (f", NAT gateways included ({common['nat_gateways']})" if nat else "")
            + f" (us-east-1 on-demand: {FARGATE_VCPU_HOUR} USD per vCPU-hour, {FARGATE_GB_HOUR} USD per GB-hour; SQS "
            "requests, logs and data transfer not counted)."]
    return readme(f"{app_id}: a queue worker on Amazon ECS (Fargate)", creates, cost, "ecs-master.yml",
                  common["stack_name"], skipped, notes=notes)


def network_line(common: Mapping[str, Any]) -> str:
    if common["reuse_vpc"]:
        return f"Nothing for the network: the tasks run in your subnets of {common['reuse_vpc']}"
    if common["private_tasks"]:
        return (f"A VPC across two Availability Zones: private subnets for the tasks, {common['nat_gateways']} NAT "
                "gateway(s) for their way out to the AWS APIs")
    return "A VPC across two Availability Zones with public subnets (tasks with public addresses, nothing let in)"


