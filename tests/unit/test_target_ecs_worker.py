"""The queue worker's artifacts: ECS (a2c/targets/ecs_worker.py) and EKS with KEDA
(a2c/targets/eks_worker.py).

ECS: every variant passes cfn-lint with no error or warning and checkov with each skip in its
README; the backlog-per-task policy is metric math over the queue and the service; the task
role touches that one queue. EKS: the Deployment and ServiceAccount pass
``kubernetes-validate --strict``. KEDA's CRDs are not in kubernetes-validate and no copy of
KEDA's published schema is available offline here, so the ScaledObject and TriggerAuthentication
are checked structurally against the fields KEDA 2.16's CRD defines (keda.sh/v1alpha1), written
below as a JSON Schema with no unknown field allowed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import FIXTURES, missing
from tests.unit.test_target_ecs import _variant  # dotted-path edits of a deployment.json

from a2c.errors import InvalidFile
from a2c.targets.ecs_worker import render_worker
from a2c.targets.eks_worker import render_keda_worker

AWS_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BROKER = {"type": "jms", "endpoint": "failover:(tcp://mq1:61616,tcp://mq2:61616)", "provision": "Amazon MQ",
          "setting": "the endpoint in /opt/app/application.properties"}


@pytest.fixture
def deployment():
    document = json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())
    document["workload"] = {"kind": "worker", "queue": {"type": "sqs", "name": "orders", "url": AWS_URL,
                                                        "targetBacklogPerTask": 10, "minTasks": 0, "maxTasks": 10}}
    return document


VARIANTS = {
    "existing-queue": {},
    "created-queue": {"workload.queue": {"type": "sqs", "name": "jobs.fifo", "url": "http://127.0.0.1:5000/123456789012/"
                                         "jobs.fifo", "targetBacklogPerTask": 5, "minTasks": 1, "maxTasks": 4}},
    "brokers-only": {"workload": {"kind": "worker", "otherBrokers": [BROKER, {**BROKER, "type": "kafka",
                                                                              "endpoint": "k1:9092",
                                                                              "provision": "Amazon MSK"}]}},
    "public-tasks": {"ecsParameters.natGateways": 0, "workload.otherBrokers": [BROKER]},
    "reused-vpc": {"ecsParameters.reuseResources": {"vpcId": "vpc-0123456789abcdef0",
                                                    "subnetIds": ["subnet-0123456789abcdef0"],
                                                    "privateSubnetIds": ["subnet-0123456789abcdef2"]}},
    "alerts-and-keys": {"ecsParameters.alerts": {"enabled": True, "email": "ops@example.com"},
                        "ecsParameters.logging": {"retentionDays": 90, "kmsKeyArn": KEY},
                        "ecsParameters.secretsKmsKeyArn": KEY,
                        "secrets": [{"name": "A2C_SECRET_DB", "valueFrom": "/a2c/app/A2C_SECRET_DB", "foundIn": "x"}]},
}


def _render(tmp_path, document):
    files = render_worker(document, "")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


def _resources(files):
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.loads(files["ecs-master.yml"])["Resources"]


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_is_cfn_lint_clean(tmp_path, deployment, name):
    if not shutil.which("cfn-lint"):
        missing("cfn-lint", "pip install cfn-lint")
    _render(tmp_path, _variant(deployment, **VARIANTS[name]))
    run = subprocess.run(["cfn-lint", str(tmp_path / "ecs-master.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


@pytest.mark.parametrize("name", ["existing-queue", "public-tasks", "alerts-and-keys"])
def test_checkov_is_clean_or_each_skip_is_explained(tmp_path, deployment, name):
    from tests.checkov_run import checkov

    files = _render(tmp_path, _variant(deployment, **VARIANTS[name]))
    failed, skipped = checkov(tmp_path / "ecs-master.yml")
    assert failed == [], failed
    for check in skipped:
        assert f"`{check}`" in files["README.md"], check
    assert skipped == (["CKV_AWS_158"] if name != "alerts-and-keys" else [])  # the log group's key, when none given


def test_no_load_balancer_and_no_way_in(tmp_path, deployment):
    resources = _resources(_render(tmp_path, deployment))
    kinds = {r["Type"] for r in resources.values()}
    assert not any(k.startswith("AWS::ElasticLoadBalancingV2::") for k in kinds)
    service = resources["Service"]["Properties"]
    assert "LoadBalancers" not in service and service["DesiredCount"] == 0
    group = resources["TaskSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group and [r["FromPort"] for r in group["SecurityGroupEgress"]] == [443]
    container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert "PortMappings" not in container and "HealthCheck" not in container


def test_scaling_is_target_tracking_on_backlog_per_task_by_metric_math(tmp_path, deployment):
    resources = _resources(_render(tmp_path, deployment))
    target = resources["ScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 10)
    config = resources["BacklogPerTaskPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 10.0
    metrics = {m["Id"]: m for m in config["CustomizedMetricSpecification"]["Metrics"]}
    visible = metrics["visible"]["MetricStat"]["Metric"]
    assert (visible["Namespace"], visible["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert visible["Dimensions"] == [{"Name": "QueueName", "Value": "orders"}]
    running = metrics["running"]["MetricStat"]["Metric"]
    assert (running["Namespace"], running["MetricName"]) == ("ECS/ContainerInsights", "RunningTaskCount")
    assert {d["Name"] for d in running["Dimensions"]} == {"ClusterName", "ServiceName"}
    assert [m["Id"] for m in metrics.values() if m["ReturnData"]] == ["backlog"]
    assert metrics["backlog"]["Expression"].startswith("visible / ")
    cluster = resources["Cluster"]["Properties"]["ClusterSettings"]
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster  # RunningTaskCount comes from it


def test_the_task_role_reads_and_deletes_on_that_queue_only(tmp_path, deployment):
    resources = _resources(_render(tmp_path, deployment))
    (policy,) = resources["TaskRole"]["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert statement["Resource"] == "arn:aws:sqs:eu-west-1:123456789012:orders"
    assert "Queue" not in resources  # an AWS queue URL: the queue exists


def test_a_queue_that_is_not_on_aws_is_created_by_the_stack(tmp_path, deployment):
    files = _render(tmp_path, _variant(deployment, **VARIANTS["created-queue"]))
    resources = _resources(files)
    queue = resources["Queue"]["Properties"]
    assert queue["QueueName"] == "jobs.fifo" and queue["FifoQueue"] is True and queue["SqsManagedSseEnabled"] is True
    statement = resources["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert "the stack creates `jobs.fifo`" in files["README.md"] and "QueueUrl" in files["README.md"]


def test_other_brokers_are_dependencies_to_provision_with_the_setting_to_change(tmp_path, deployment):
    files = _render(tmp_path, _variant(deployment, **VARIANTS["brokers-only"]))
    readme = files["README.md"]
    assert "Amazon MQ" in readme and "ssl://<broker-id>-1.mq.<region>.amazonaws.com:61617" in readme
    assert "Amazon MSK" in readme and "get-bootstrap-brokers" in readme
    assert "the endpoint in /opt/app/application.properties" in readme
    resources = _resources(files)
    assert "ScalableTarget" not in resources and resources["Service"]["Properties"]["DesiredCount"] == {"Ref": "DesiredCount"}
    ports = sorted(r["FromPort"] for r in resources["TaskSecurityGroup"]["Properties"]["SecurityGroupEgress"])
    assert ports == [443, 9098, 61617]


def test_alerts_watch_the_worker_service(tmp_path, deployment):
    resources = _resources(_render(tmp_path, _variant(deployment, **VARIANTS["alerts-and-keys"])))
    assert {"TaskStoppedRule", "DeploymentFailedRule", "AlertTopic"} <= set(resources)


@pytest.mark.parametrize("changes, words", [
    ({"workload.queue.name": "bad name\n  Evil: x"}, "workload.queue.name"),
    ({"workload.queue.minTasks": 5, "workload.queue.maxTasks": 2}, "minTasks"),
    ({"workload.queue.maxTasks": 0}, "maxTasks"),
    ({"workload.queue.targetBacklogPerTask": 0}, "targetBacklogPerTask"),
    ({"workload.queue.type": "kafka"}, "otherBrokers"),
    ({"workload.otherBrokers": [{"type": "mqseries"}]}, "otherBrokers[0].type"),
    ({"platform": "windows"}, "Linux"),
    ({"ecsParameters.memory": 100}, "Fargate"),
    ({"ecsParameters.alerts": {"enabled": True, "email": "not an address"}}, "alerts.email"),
    ({"ecsParameters.reuseResources": {"vpcId": "vpc-0123456789abcdef0", "subnetIds": []}}, "subnetIds"),
])
def test_bad_values_are_refused_by_field(deployment, changes, words):
    with pytest.raises(InvalidFile) as refusal:
        render_worker(_variant(deployment, **changes), "")
    assert words in refusal.value.message + refusal.value.hint


# -- EKS with KEDA -------------------------------------------------------------------------------------

_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
_META = {"type": "object", "required": ["name"], "additionalProperties": False,
         "properties": {"name": _NAME, "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}}
# The fields of KEDA 2.16's CRDs (keda.sh/v1alpha1) that a2c writes, with their types and required sets.
KEDA_SCHEMA = {
    "TriggerAuthentication": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "keda.sh/v1alpha1"}, "kind": {"const": "TriggerAuthentication"}, "metadata": _META,
            "spec": {"type": "object", "additionalProperties": False, "properties": {"podIdentity": {
                "type": "object", "required": ["provider"], "additionalProperties": False,
                "properties": {"provider": {"enum": ["azure-workload", "gcp", "aws", "aws-eks", "none"]},
                               "identityOwner": {"enum": ["keda", "workload"]}, "roleArn": {"type": "string"}}}}}}},
    "ScaledObject": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "keda.sh/v1alpha1"}, "kind": {"const": "ScaledObject"}, "metadata": _META,
            "spec": {"type": "object", "required": ["scaleTargetRef", "triggers"], "additionalProperties": False,
                     "properties": {
                         "scaleTargetRef": {"type": "object", "required": ["name"], "additionalProperties": False,
                                            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                                           "name": {"type": "string"}}},
                         "minReplicaCount": {"type": "integer", "minimum": 0},
                         "maxReplicaCount": {"type": "integer", "minimum": 1},
                         "pollingInterval": {"type": "integer"}, "cooldownPeriod": {"type": "integer"},
                         "triggers": {"type": "array", "minItems": 1, "items": {
                             "type": "object", "required": ["type", "metadata"], "additionalProperties": False,
                             "properties": {
                                 "type": {"const": "aws-sqs-queue"},
                                 "authenticationRef": {"type": "object", "required": ["name"],
                                                       "additionalProperties": False,
                                                       "properties": {"name": {"type": "string"},
                                                                      "kind": {"type": "string"}}},
                                 # the aws-sqs-queue scaler's parameters: every value a string
                                 "metadata": {"type": "object", "required": ["queueURL", "awsRegion"],
                                              "additionalProperties": False,
                                              "properties": {"queueURL": {"type": "string"},
                                                             "queueLength": {"type": "string", "pattern": "^[0-9]+$"},
                                                             "awsRegion": {"type": "string"}}}}}}}}}},
}


def _eks(tmp_path, document):
    files = render_keda_worker(document, "")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


def test_the_worker_deployment_is_strict_valid_and_keda_scales_it_on_sqs(tmp_path, deployment):
    import jsonschema

    if not shutil.which("kubernetes-validate"):
        missing("kubernetes-validate", "pip install kubernetes-validate")
    document = _variant(deployment, **{"eksParameters.roleArn": "arn:aws:iam::123456789012:role/orders-worker"})
    document["secrets"] = [{"name": "A2C_SECRET_DB", "valueFrom": "/a2c/app/A2C_SECRET_DB", "foundIn": "x"}]
    files = _eks(tmp_path, document)
    assert {"deployment.yml", "serviceaccount.yml", "keda.yml", "secretproviderclass.yml", "README.md"} <= set(files)
    run = subprocess.run(["kubernetes-validate", "--strict", str(tmp_path / "deployment.yml"),
                          str(tmp_path / "serviceaccount.yml")], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.count("passed") == 2, run.stdout + run.stderr
    pods = yaml.safe_load(files["deployment.yml"])["spec"]["template"]["spec"]
    assert "ports" not in pods["containers"][0] and "livenessProbe" not in pods["containers"][0]
    assert pods["serviceAccountName"] == yaml.safe_load(files["serviceaccount.yml"])["metadata"]["name"]
    objects = list(yaml.safe_load_all(files["keda.yml"]))
    for item in objects:
        jsonschema.validate(item, KEDA_SCHEMA[item["kind"]])
    auth, scaled = objects
    assert auth["spec"]["podIdentity"] == {"provider": "aws", "identityOwner": "workload"}
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["metadata"] == {"queueURL": AWS_URL, "queueLength": "10", "awsRegion": "eu-west-1"}
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == yaml.safe_load(files["deployment.yml"])["metadata"]["name"]
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (0, 10)


def test_the_structural_keda_schema_refuses_what_keda_would():
    import jsonschema

    good = {"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication", "metadata": {"name": "a"},
            "spec": {"podIdentity": {"provider": "aws"}}}
    jsonschema.validate(good, KEDA_SCHEMA["TriggerAuthentication"])
    for bad in ({**good, "spec": {"podIdentity": {"provider": "aws-irsa"}}}, {**good, "extra": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, KEDA_SCHEMA["TriggerAuthentication"])


def test_a_worker_without_sqs_gets_no_scaled_object_and_the_brokers_in_its_readme(tmp_path, deployment):
    files = _eks(tmp_path, _variant(deployment, **VARIANTS["brokers-only"]))
    assert "keda.yml" not in files and "Amazon MSK" in files["README.md"]
    assert yaml.safe_load(files["deployment.yml"])["spec"]["replicas"] == 2  # eksParameters.replicas
