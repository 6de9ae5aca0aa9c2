"""Scheduled jobs on ECS (a2c.targets.ecs_scheduled) and the lifecycle alerts of every ECS
template: each variant passes cfn-lint with no error or warning and checkov with every skip
explained in its README; the schedule, the scheduler's role and the alert rules are read back
from the rendered template by cfn-lint's own YAML loader."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest

from tests.conftest import FIXTURES, missing

from a2c.errors import InvalidFile
from a2c.targets.ecs import render_ecs
from a2c.targets.ecs_scheduled import render_scheduled

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/batch"
SCHEDULE = {"cron": "30 2 * * 1-5", "onCalendar": "", "timezone": "Europe/Paris", "retries": 0,
            "deadLetterQueue": False, "concurrencyPolicy": "Forbid"}


@pytest.fixture
def service():
    return json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())


@pytest.fixture
def job(service):
    document = copy.deepcopy(service)
    document["workload"] = {"kind": "scheduled", "schedule": dict(SCHEDULE)}
    return document


def _variant(base, **changes):
    deployment = copy.deepcopy(base)
    for path, value in changes.items():
        target = deployment
        *parents, last = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return deployment


ALERTS = {"enabled": True, "email": "ops@example.com"}
VARIANTS = {
    "crontab": {},
    "either-days-retries-dlq": {"workload.schedule": {**SCHEDULE, "cron": "0 4 1,15 * 5", "retries": 3,
                                                      "deadLetterQueue": True}},
    "systemd-no-nat": {"workload.schedule": {**SCHEDULE, "cron": "", "onCalendar": "Mon..Fri *-*-* 02:30:00"},
                       "ecsParameters.natGateways": 0},
    "reused-vpc-and-cluster": {"ecsParameters.reuseResources": {
        "vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "privateSubnetIds": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"], "clusterArn": CLUSTER},
        "ecsParameters.alerts": ALERTS},
    "alerts": {"ecsParameters.alerts": ALERTS},
    "alerts-own-key-no-email": {"ecsParameters.alerts": {"enabled": True, "email": "", "kmsKeyArn": KEY}},
    "state-secrets-logs-key": {"persistentStorage": [{"path": "/var/lib/batch/out", "storage": "efs"}],
                               "ecsParameters.logging": {"driver": "awslogs", "retentionDays": 90, "kmsKeyArn": KEY},
                               "ecsParameters.secretsKmsKeyArn": KEY, "ecsParameters.cpuArchitecture": "ARM64"},
}
SERVICE_VARIANTS = {
    "service-alerts": {"ecsParameters.alerts": ALERTS},
    "service-alerts-tcp": {"ecsParameters.alerts": ALERTS,
                           "exposedPorts": [{"localPort": 9092, "protocol": "tcp"}]},
}


def _render(tmp_path, deployment, scheduled=True):
    files = (render_scheduled if scheduled else render_ecs)(deployment, "")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


def _resources(text):
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.loads(text)["Resources"]


def _cfn_lint(path):
    if not shutil.which("cfn-lint"):
        missing("cfn-lint", "pip install cfn-lint")
    return subprocess.run(["cfn-lint", str(path)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", [*VARIANTS, *SERVICE_VARIANTS])
def test_every_variant_is_cfn_lint_clean(tmp_path, job, service, name):
    scheduled = name in VARIANTS
    changes = VARIANTS[name] if scheduled else SERVICE_VARIANTS[name]
    _render(tmp_path, _variant(job if scheduled else service, **changes), scheduled)
    run = _cfn_lint(tmp_path / "ecs-master.yml")
    assert run.returncode == 0, run.stdout


def test_cfn_lint_catches_a_broken_schedule(tmp_path, job):
    """The check can fail: a schedule without its required FlexibleTimeWindow is an error."""
    template = _render(tmp_path, job)["ecs-master.yml"]
    broken = template.replace('      FlexibleTimeWindow:\n        Mode: "OFF"\n', "")
    assert broken != template
    (tmp_path / "ecs-master.yml").write_text(broken)
    assert _cfn_lint(tmp_path / "ecs-master.yml").returncode & 2


@pytest.mark.parametrize("name", [*VARIANTS, *SERVICE_VARIANTS])
def test_checkov_is_clean_or_each_skip_is_explained(tmp_path, job, service, name):
    from tests.checkov_run import checkov

    scheduled = name in VARIANTS
    changes = VARIANTS[name] if scheduled else SERVICE_VARIANTS[name]
    files = _render(tmp_path, _variant(job if scheduled else service, **changes), scheduled)
    failed, skipped = checkov(tmp_path / "ecs-master.yml")
    assert failed == [], failed
    for check in skipped:
        assert f"`{check}`" in files["README.md"], check


def test_the_schedule_starts_the_fargate_task_in_private_subnets(tmp_path, job):
    files = _render(tmp_path, job)
    resources = _resources(files["ecs-master.yml"])
    kinds = {r["Type"] for r in resources.values()}
    assert "AWS::ECS::Service" not in kinds and "AWS::ElasticLoadBalancingV2::LoadBalancer" not in kinds
    (schedule,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert schedule["ScheduleExpression"] == "cron(30 2 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["Cluster", "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0} and "DeadLetterConfig" not in target
    ecs = target["EcsParameters"]
    assert ecs["TaskDefinitionArn"] == {"Ref": "TaskDefinition"} and ecs["LaunchType"] == "FARGATE"
    network = ecs["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["Subnets"] == [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]
    assert network["AssignPublicIp"] == "DISABLED"
    container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert "PortMappings" not in container and "HealthCheck" not in container
    assert [s["Name"] for s in container["Secrets"]] == [s["name"] for s in job["secrets"]]
    group = resources["TaskSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    readme = files["README.md"]
    assert "`cron(30 2 ? * MON-FRI *)` in Europe/Paris" in readme and "aws cloudformation deploy" in readme
    assert "concurrencyPolicy Forbid is not enforced" in readme


def test_the_scheduler_may_start_this_family_only_and_pass_the_two_task_roles_only(tmp_path, job):
    resources = _resources(_render(tmp_path, job)["ecs-master.yml"])
    role = resources["SchedulerRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    statements = {s["Action"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ecs:RunTask", "ecs:TagResource", "iam:PassRole"}
    run = statements["ecs:RunTask"]
    assert run["Resource"]["Fn::Sub"].endswith(f":task-definition/{job['ecsParameters']['ecsFamily']}:*")
    assert run["Condition"]["ArnEquals"]["ecs:cluster"] == {"Fn::GetAtt": ["Cluster", "Arn"]}
    assert statements["iam:PassRole"]["Resource"] == [{"Fn::GetAtt": ["TaskExecutionRole", "Arn"]},
                                                      {"Fn::GetAtt": ["TaskRole", "Arn"]}]


def test_crontabs_either_day_rule_becomes_two_schedules_with_retries_and_a_dead_letter_queue(tmp_path, job):
    files = _render(tmp_path, _variant(job, **VARIANTS["either-days-retries-dlq"]))
    resources = _resources(files["ecs-master.yml"])
    schedules = [resources[f"Schedule{i}"]["Properties"] for i in (1, 2)]
    assert [s["ScheduleExpression"] for s in schedules] == ["cron(0 4 1,15 * ? *)", "cron(0 4 ? * FRI *)"]
    for schedule in schedules:
        assert schedule["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3}
        assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    assert resources["DeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    policy = resources["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}} in policy
    assert "Two EventBridge Scheduler schedules" in files["README.md"] and "either" in files["README.md"]


def test_a_reused_cluster_and_vpc(tmp_path, job):
    resources = _resources(_render(tmp_path, _variant(job, **VARIANTS["reused-vpc-and-cluster"]))["ecs-master.yml"])
    assert "Cluster" not in resources and "Vpc" not in resources
    target = resources["Schedule1"]["Properties"]["Target"]
    assert target["Arn"] == CLUSTER
    network = target["EcsParameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["Subnets"] == {"Ref": "SubnetIds"} and network["AssignPublicIp"] == "DISABLED"
    rule = resources["TaskStoppedRule"]["Properties"]["EventPattern"]["detail"]
    assert rule["clusterArn"] == [CLUSTER]  # alerts: the job's own tasks in a shared cluster
    assert rule["taskDefinitionArn"][0]["prefix"]["Fn::Sub"].endswith(f"task-definition/{job['ecsParameters']['ecsFamily']}:")


def test_lifecycle_alerts_on_the_service_template(tmp_path, service):
    files = _render(tmp_path, _variant(service, **SERVICE_VARIANTS["service-alerts"]), scheduled=False)
    template = files["ecs-master.yml"]
    from cfnlint.decode import cfn_yaml

    document = cfn_yaml.loads(template)
    resources = document["Resources"]
    assert document["Parameters"]["AlertEmail"]["Default"] == "ops@example.com"
    topic = resources["AlertTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    assert resources["AlertKey"]["Properties"]["EnableKeyRotation"] is True
    publisher = resources["AlertKey"]["Properties"]["KeyPolicy"]["Statement"][1]
    assert publisher["Principal"] == {"Service": "events.amazonaws.com"}
    stopped = resources["TaskStoppedRule"]["Properties"]["EventPattern"]
    assert stopped["detail-type"] == ["ECS Task State Change"] and stopped["detail"]["lastStatus"] == ["STOPPED"]
    assert {"containers": {"exitCode": [{"anything-but": 0}]}} in stopped["detail"]["$or"]
    failed = resources["DeploymentFailedRule"]["Properties"]["EventPattern"]
    assert failed["detail"] == {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]} and failed["resources"] == [{"Ref": "Service"}]
    policy = resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "events.amazonaws.com"} and policy["Action"] == "sns:Publish"
    assert policy["Condition"]["ArnEquals"]["aws:SourceArn"] == [{"Fn::GetAtt": ["TaskStoppedRule", "Arn"]},
                                                                 {"Fn::GetAtt": ["DeploymentFailedRule", "Arn"]}]
    assert "Lifecycle alerts" in files["README.md"] and "alias/aws/sns" in files["README.md"]


def test_alerts_off_leave_the_service_template_as_it_was(service):
    plain = render_ecs(service, "")
    assert render_ecs(_variant(service, **{"ecsParameters.alerts": {"enabled": False, "email": "a@b.co"}}), "") == plain
    golden = FIXTURES / "expected" / "legacy-tomcat" / "EcsDeployment" / "ecs-master.yml"
    assert plain["ecs-master.yml"] == golden.read_text()
    assert "Alert" not in plain["ecs-master.yml"]


@pytest.mark.parametrize("changes, words", [
    ({"workload.schedule": {**SCHEDULE, "cron": "@reboot"}}, "$.workload.schedule.cron"),
    ({"workload.schedule": {**SCHEDULE, "cron": "0 0 */2 * sun"}}, "both its day of month"),
    ({"workload.schedule": {**SCHEDULE, "cron": "", "onCalendar": "*-*-* 01:00:30"}}, "$.workload.schedule.onCalendar"),
    ({"workload.schedule": {**SCHEDULE, "retries": 200}}, "retries"),
    ({"workload.schedule": {**SCHEDULE, "timezone": "Europe/Paris\n  X: 1"}}, "IANA"),
    ({"platform": "windows"}, "Fargate"),
    ({"ecsParameters.logging": {"driver": "firelens"}}, "awslogs"),
    ({"ecsParameters.reuseResources": {"vpcId": "vpc-0123456789abcdef0", "subnetIds": [],
                                       "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/x\n"}},
     "clusterArn"),
    ({"ecsParameters.reuseResources": {"vpcId": "vpc-0123456789abcdef0", "subnetIds": []}}, "subnetIds"),
    ({"ecsParameters.alerts": {"enabled": True, "email": "not an address"}}, "alerts.email"),
    ({"ecsParameters.alerts": {"enabled": True, "email": "", "kmsKeyArn": "alias/aws/sns"}}, "alerts.kmsKeyArn"),
])
def test_what_the_target_cannot_write_is_refused_by_its_field(job, changes, words):
    with pytest.raises(InvalidFile) as refusal:
        render_scheduled(_variant(job, **changes), "")
    assert words in refusal.value.message + refusal.value.hint, refusal.value.message


def _head(workload):
    from a2c.model import AnalysisHead

    return AnalysisHead(app_id="java-generic-0badc0de", application_type="java-generic", analyzer="java-generic",
                        host_name="batch-01", process_id=0, image_repository="java-generic-0badc0de",
                        image_tag="latest", application_port=0, health_check_path="/", base_image="", secrets=(),
                        recommended_memory_mib=2048, document={"analysisInfo": {"workload": workload}}, ports=())


def test_build_deployment_copies_the_workload_with_its_defaults_and_the_schema_takes_it():
    from a2c.targets.deployment import build_deployment
    from a2c.targets.registry import load_targets
    from a2c.workspace import validate

    targets = load_targets()
    scheduled = build_deployment(_head({"kind": "scheduled", "schedule": {
        "cron": "30 2 * * 1-5", "onCalendar": "", "timezone": "Europe/Paris", "user": "batch", "source": "crontab",
        "file": "/etc/cron.d/billing", "line": 3, "unit": ""}}), targets)
    assert scheduled["workload"] == {"kind": "scheduled", "schedule": {
        "cron": "30 2 * * 1-5", "onCalendar": "", "timezone": "Europe/Paris", "retries": 0, "deadLetterQueue": False,
        "concurrencyPolicy": "Forbid"}}
    worker = build_deployment(_head({"kind": "worker", "queues": [
        {"type": "jms", "name": "orders", "endpoint": "tcp://broker:61616", "foundIn": "/opt/app/app.properties"},
        {"type": "sqs", "name": "orders", "url": "https://sqs.us-east-1.amazonaws.com/123456789012/orders"}]}), targets)
    assert worker["workload"]["queue"] == {"type": "sqs", "name": "orders",
                                           "url": "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
                                           "targetBacklogPerTask": 10, "minTasks": 0, "maxTasks": 10}
    assert worker["workload"]["otherBrokers"] == [{"type": "jms", "endpoint": "tcp://broker:61616",
                                                   "provision": "Amazon MQ",
                                                   "setting": "the endpoint in /opt/app/app.properties"}]
    inbox = build_deployment(_head({"kind": "fileDrop", "inbox": {"path": "/srv/inbox", "evidence": ["open"]}}), targets)
    assert inbox["workload"] == {"kind": "fileDrop", "inbox": {"path": "/srv/inbox", "bucket": ""}}
    for document in (scheduled, worker, inbox):
        validate(document, "deployment", "deployment.json", targets.sections())
    assert "workload" not in build_deployment(_head(None), targets)  # a service keeps App2Container's layout
    bad = {**scheduled, "workload": {**scheduled["workload"], "schedule": {**scheduled["workload"]["schedule"],
                                                                          "retries": "3"}}}
    with pytest.raises(InvalidFile, match=r"\$\.workload\.schedule\.retries"):
        validate(bad, "deployment", "deployment.json", targets.sections())
