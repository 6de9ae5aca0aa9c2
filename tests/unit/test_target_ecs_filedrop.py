"""The file-drop processor's ECS artifacts (a2c/targets/ecs_filedrop.py): an S3 bucket for the
inbox, an EventBridge rule on its Object Created events that runs a Fargate task with the
bucket and key as environment overrides, a rule role that may run that task only, a task role
that may read that bucket only. cfn-lint clean, checkov clean with each skip in the README."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import FIXTURES, missing
from tests.unit.test_target_ecs import _variant  # dotted-path edits of a deployment.json

from a2c.errors import InvalidFile
from a2c.targets.ecs_filedrop import render_filedrop


@pytest.fixture
def deployment():
    document = json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())
    document["workload"] = {"kind": "fileDrop", "inbox": {"path": "/srv/inbox", "bucket": ""}}
    return document


VARIANTS = {
    "default": {},
    "named-bucket-prefix-public": {"workload.inbox": {"path": "/data/in", "bucket": "acme-invoices-inbox",
                                                      "prefix": "incoming/"}, "ecsParameters.natGateways": 0},
    "alerts": {"ecsParameters.alerts": {"enabled": True, "email": ""}},
}


def _render(tmp_path, document):
    files = render_filedrop(document, "")
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


@pytest.mark.parametrize("name", ["default", "alerts"])
def test_checkov_is_clean_or_each_skip_is_explained(tmp_path, deployment, name):
    from tests.checkov_run import checkov

    files = _render(tmp_path, _variant(deployment, **VARIANTS[name]))
    failed, skipped = checkov(tmp_path / "ecs-master.yml")
    assert failed == [], failed
    assert "CKV_AWS_18" in skipped  # access logs: explained
    for check in skipped:
        assert f"`{check}`" in files["README.md"], check


def test_the_bucket_is_private_encrypted_and_sends_its_events_to_eventbridge(tmp_path, deployment):
    resources = _resources(_render(tmp_path, deployment))
    bucket = resources["InboxBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    statement = resources["InboxBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "Service" not in resources and "ScalableTarget" not in resources


def test_each_object_created_runs_a_task_with_its_bucket_and_key(tmp_path, deployment):
    document = _variant(deployment, **VARIANTS["named-bucket-prefix-public"])
    resources = _resources(_render(tmp_path, document))
    rule = resources["ObjectCreatedRule"]["Properties"]
    assert rule["EventPattern"]["source"] == ["aws.s3"] and rule["EventPattern"]["detail-type"] == ["Object Created"]
    assert rule["EventPattern"]["detail"]["bucket"]["name"] == [{"Ref": "InboxBucket"}]
    assert rule["EventPattern"]["detail"]["object"]["key"] == [{"prefix": "incoming/"}]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["Cluster", "Arn"]} and target["RoleArn"] == {"Fn::GetAtt": ["RunTaskRole", "Arn"]}
    assert target["EcsParameters"]["LaunchType"] == "FARGATE"
    assert target["EcsParameters"]["NetworkConfiguration"]["AwsVpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"}
    # What EventBridge sends: each variable as a JSON string in place of <bucket> and <key>.
    sent = transformer["InputTemplate"].replace("<bucket>", json.dumps("acme-invoices-inbox")) \
        .replace("<key>", json.dumps('incoming/2024 "q1".csv'))
    (override,) = json.loads(sent)["containerOverrides"]
    assert override["name"] == document["applicationId"]
    assert {e["name"]: e["value"] for e in override["environment"]} == {
        "A2C_INBOX_BUCKET": "acme-invoices-inbox", "A2C_INBOX_KEY": 'incoming/2024 "q1".csv'}
    container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Name"] == override["name"]


def test_the_roles_run_that_task_and_read_that_bucket_only(tmp_path, deployment):
    resources = _resources(_render(tmp_path, deployment))
    run, passing = resources["RunTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert run["Action"] == "ecs:RunTask" and run["Resource"] == {"Ref": "TaskDefinition"}
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": {"Fn::GetAtt": ["Cluster", "Arn"]}}}
    assert passing["Action"] == "iam:PassRole" and len(passing["Resource"]) == 2
    statements = resources["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {s["Action"] for s in statements} == {"s3:GetObject", "s3:ListBucket"}
    assert all("InboxBucket" in json.dumps(s["Resource"]) for s in statements)


def test_the_readme_says_what_the_application_changes_or_how_to_keep_the_folder_on_efs(tmp_path, deployment):
    readme = _render(tmp_path, deployment)["README.md"]
    assert "/srv/inbox" in readme and "A2C_INBOX_BUCKET" in readme and "A2C_INBOX_KEY" in readme
    assert "Keeping the inbox on EFS instead" in readme and '"storage": "efs"' in readme


@pytest.mark.parametrize("changes, words", [
    ({"workload.inbox": {"path": "relative/inbox"}}, "workload.inbox.path"),
    ({"workload.inbox": {"path": "/srv/in\n  Evil: x"}}, "workload.inbox.path"),
    ({"workload.inbox": {"path": "/srv/in", "bucket": "Bad_Bucket"}}, "workload.inbox.bucket"),
    ({"workload.inbox": {"path": "/srv/in", "prefix": "in\ncoming"}}, "workload.inbox.prefix"),
    ({"ecsParameters.natGateways": 5}, "natGateways"),
])
def test_bad_values_are_refused_by_field(deployment, changes, words):
    with pytest.raises(InvalidFile) as refusal:
        render_filedrop(_variant(deployment, **changes), "")
    assert words in refusal.value.message + refusal.value.hint
