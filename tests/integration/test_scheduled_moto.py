"""A scheduled job's stack and the lifecycle alerts deployed to moto server through a2c's own
change-set deploy (a2c.targets.stack.deploy_stack, clients from a2c's provider reaching moto by
AWS_ENDPOINT_URL), then read back through moto's ECS, IAM, SQS, SNS, EventBridge and Scheduler APIs.

What moto (5.2) models, and so what is checked here: the cluster, task definition, roles, log
group, dead-letter queue, the SNS topic (its KMS key setting and email subscription) and the
EventBridge rules with their patterns (the stack's own cluster ARN resolved into them) and
targets. An ECS Task State Change event put on the default bus reaches a queue through the
deployed rule and its input transformer, and an event of another cluster or a clean stop does not.

What moto cannot check, so these tests do not claim it:
- ``AWS::Scheduler::Schedule``: moto's CloudFormation completes the stack without making it. The
  schedule's properties from the rendered template (with the stack's physical ids put in) are
  sent to the Scheduler API instead: botocore validates them against the real API model and
  moto stores them. That EventBridge Scheduler accepts the cron expression and starts the task
  at its time is not checked (moto validates no expression and runs nothing).
- ``AWS::SNS::TopicPolicy`` and the KMS key policy: moto's CloudFormation skips the first; no
  policy is enforced by moto, and moto does not deliver EventBridge events to SNS, so the rule's
  SNS target is swapped for a queue of the test's own to see what the rule sends.
- The ``containers[].exitCode`` branch of the task rule: moto's pattern matcher does not look
  into lists of objects, so the rule is exercised with its ``stopCode: TaskFailedToStart``
  branch here; the exit-code branch is checked on the template (tests/unit/test_target_ecs_scheduled.py).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from a2c.progress import Reporter
from a2c.targets.base import DeployOptions
from a2c.targets.ecs import render_ecs
from a2c.targets.ecs_scheduled import render_scheduled
from a2c.targets.stack import deploy_stack
from tests.conftest import FIXTURES
from tests.integration.aws_services import TEST_REGION, moto, moto_server  # noqa: F401

pytestmark = [pytest.mark.aws]

EMAIL = "ops@example.com"


def point_at(monkeypatch, tmp_path: Path, url: str) -> None:
    """The environment of a user pointing a2c at an endpoint: test keys, a region, botocore's
    AWS_ENDPOINT_URL and empty AWS files (a2c's provider finds moto by them alone)."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    (tmp_path / "aws-config").write_text("")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": TEST_REGION,
                       "AWS_ENDPOINT_URL": url, "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"),
                       "AWS_EC2_METADATA_DISABLED": "true", "A2C_CONFIG": str(tmp_path / "no-a2c-config.json")}.items():
        monkeypatch.setenv(key, value)


def load_template(path: Path) -> dict:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.loads(path.read_text(encoding="utf-8"))


def fixture_deployment() -> dict:
    return json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())


def scheduled_job() -> dict:
    document = fixture_deployment()
    document["workload"] = {"kind": "scheduled", "schedule": {
        "cron": "0 4 1,15 * 5", "onCalendar": "", "timezone": "Europe/Paris", "retries": 2,
        "deadLetterQueue": True, "concurrencyPolicy": "Forbid"}}
    document["ecsParameters"]["alerts"] = {"enabled": True, "email": EMAIL}
    return document


def deploy(tmp_path: Path, monkeypatch, server, deployment: dict, files: dict[str, str]) -> dict:
    """The stack of ``files`` deployed by a2c; its resources by logical id (physical ids)."""
    from a2c.gateways.aws import AwsClients
    from a2c.gateways.cloudformation import CloudFormationGateway

    point_at(monkeypatch, tmp_path, server.url)
    for secret in deployment["secrets"]:
        server.client("ssm").put_parameter(Name=secret["valueFrom"], Value="x", Type="SecureString")
    folder = tmp_path / "EcsDeployment"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    stack_name = deployment["ecsParameters"]["stackName"]
    result = deploy_stack(CloudFormationGateway(AwsClients(None, None)), stack_name, folder / "ecs-master.yml",
                          Reporter(), DeployOptions(timeout=180, poll_seconds=0.2))
    assert result.status == "CREATE_COMPLETE", result
    listed = server.client("cloudformation").list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in listed}


def queue_receiving(server, rule: str, name: str) -> str:
    """Swap the rule's SNS target for a queue (moto delivers no EventBridge event to SNS),
    keeping the target's input transformer; the queue's URL."""
    events, sqs = server.client("events"), server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    events.remove_targets(Rule=rule, Ids=[target["Id"]])
    events.put_targets(Rule=rule, Targets=[{**target, "Id": "test-queue", "Arn": arn}])
    return url


def received(server, url: str) -> list[str]:
    return [m["Body"] for m in server.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                                    WaitTimeSeconds=1).get("Messages", [])]


def task_state_change(cluster_arn: str, family: str, stop_code: str, exit_code: int) -> dict:
    """An ECS Task State Change event as ECS puts it on the default bus (trimmed)."""
    region_account = cluster_arn.split(":")[3:5]
    task = f"arn:aws:ecs:{region_account[0]}:{region_account[1]}:task/{cluster_arn.rsplit('/', 1)[1]}/0123456789abcdef"
    detail = {"clusterArn": cluster_arn, "taskArn": task, "group": f"family:{family}", "lastStatus": "STOPPED",
              "desiredStatus": "STOPPED", "stopCode": stop_code, "stoppedReason": "CannotPullContainerError: pull "
              "access denied" if stop_code == "TaskFailedToStart" else "Essential container in task exited",
              "taskDefinitionArn": f"arn:aws:ecs:{region_account[0]}:{region_account[1]}:task-definition/{family}:1",
              "containers": [{"name": family, "exitCode": exit_code, "lastStatus": "STOPPED"}]}
    return {"Source": "aws.ecs", "DetailType": "ECS Task State Change", "Detail": json.dumps(detail),
            "Resources": [task]}


def test_a_scheduled_job_deploys_with_its_dead_letter_queue_and_alerts(tmp_path, monkeypatch, moto):
    deployment = scheduled_job()
    files = render_scheduled(deployment, "")
    physical = deploy(tmp_path, monkeypatch, moto, deployment, files)
    template = load_template(tmp_path / "EcsDeployment" / "ecs-master.yml")
    resources = template["Resources"]
    family = deployment["ecsParameters"]["ecsFamily"]

    ecs = moto.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=[resources["Cluster"]["Properties"]["ClusterName"]])["clusters"]
    assert cluster["status"] == "ACTIVE"
    assert ecs.list_services(cluster=cluster["clusterArn"])["serviceArns"] == []  # a job has no service
    task = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert container["name"] == deployment["applicationId"] and not container.get("portMappings")
    # moto's CloudFormation keeps the memory but drops Cpu, NetworkMode and RequiresCompatibilities.
    assert task["memory"] == str(deployment["ecsParameters"]["memory"])

    iam = moto.client("iam")
    role = iam.get_role(RoleName=physical["SchedulerRole"])["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}

    sqs = moto.client("sqs")
    dead_letters = physical["DeadLetterQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"

    sns = moto.client("sns")
    topic = physical["AlertTopic"]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == physical["AlertKey"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", EMAIL)

    # The schedules: moto's CloudFormation skips them; the template's properties go to the API.
    scheduler = moto.client("scheduler")
    ids = {"Cluster": cluster["clusterArn"], "TaskDefinition": task["taskDefinitionArn"],
           "TaskSecurityGroup": physical["TaskSecurityGroup"], "PrivateSubnet1": physical["PrivateSubnet1"],
           "PrivateSubnet2": physical["PrivateSubnet2"], "SchedulerRole": role["Arn"], "ScheduleState": "ENABLED",
           "DeadLetterQueue": attributes["QueueArn"]}
    expressions = []
    for index in (1, 2):
        properties = resolve(copy.deepcopy(resources[f"Schedule{index}"]["Properties"]), ids)
        network = properties["Target"]["EcsParameters"]["NetworkConfiguration"]
        network["awsvpcConfiguration"] = network.pop("AwsvpcConfiguration")  # CloudFormation's name, the API's
        scheduler.create_schedule(Name=f"{family}-{index}", **properties)
        stored = scheduler.get_schedule(Name=f"{family}-{index}")
        assert stored["Target"]["EcsParameters"]["TaskDefinitionArn"] == task["taskDefinitionArn"]
        assert stored["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2
        assert stored["Target"]["DeadLetterConfig"]["Arn"] == attributes["QueueArn"]
        assert stored["ScheduleExpressionTimezone"] == "Europe/Paris"
        expressions.append(stored["ScheduleExpression"])
    assert expressions == ["cron(0 4 1,15 * ? *)", "cron(0 4 ? * FRI *)"]

    # The alert rule, as deployed, on events of this cluster's tasks only.
    events = moto.client("events")
    rule = physical["TaskStoppedRule"]
    pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
    assert pattern["detail"]["clusterArn"] == [cluster["clusterArn"]]
    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target["Arn"] == topic
    url = queue_receiving(moto, rule, "alerts-seen")
    other = cluster["clusterArn"].rsplit("/", 1)[0] + "/someone-else"
    answer = events.put_events(Entries=[task_state_change(cluster["clusterArn"], family, "TaskFailedToStart", 0),
                                        task_state_change(other, family, "TaskFailedToStart", 0),
                                        task_state_change(cluster["clusterArn"], family, "UserInitiated", 0)])
    assert answer["FailedEntryCount"] == 0
    (message,) = received(moto, url)
    assert message.startswith(f'"{deployment["applicationId"]}: task ') and "CannotPullContainerError" in message
    assert f"family:{family}" in message


def resolve(value, ids: dict):
    """A template value with its Ref / Fn::GetAtt ... .Arn replaced by the deployed ids."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return ids[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return ids[value["Fn::GetAtt"][0]]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


def test_the_service_template_deploys_its_lifecycle_alerts(tmp_path, monkeypatch, moto):
    """ecsParameters.alerts on a service: the deployment rule names the deployed service, and a
    failed deployment's event reaches the (swapped-in) queue through it."""
    deployment = fixture_deployment()
    deployment["ecsParameters"]["alerts"] = {"enabled": True, "email": EMAIL}
    deployment["ecsParameters"]["natGateways"] = 0
    physical = deploy(tmp_path, monkeypatch, moto, deployment, render_ecs(deployment, ""))
    events = moto.client("events")
    rule = physical["DeploymentFailedRule"]
    pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
    service_arn = physical["Service"]
    assert pattern["resources"] == [service_arn] and service_arn.startswith("arn:aws:ecs:")
    assert json.loads(events.describe_rule(Name=physical["TaskStoppedRule"])["EventPattern"])["detail"][
        "clusterArn"] == [moto.client("ecs").describe_clusters(clusters=[physical["Cluster"]])["clusters"][0]["clusterArn"]]
    url = queue_receiving(moto, rule, "deployments-seen")
    failed = {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": "ecs-svc/123",
              "reason": "ECS deployment circuit breaker: tasks failed to start."}
    answer = events.put_events(Entries=[
        {"Source": "aws.ecs", "DetailType": "ECS Deployment State Change", "Resources": [service_arn],
         "Detail": json.dumps(failed)},
        {"Source": "aws.ecs", "DetailType": "ECS Deployment State Change", "Resources": [service_arn],
         "Detail": json.dumps({**failed, "eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_COMPLETED"})}])
    assert answer["FailedEntryCount"] == 0
    (message,) = received(moto, url)
    assert "deployment ecs-svc/123 failed: ECS deployment circuit breaker" in message
    assert TEST_REGION in service_arn
