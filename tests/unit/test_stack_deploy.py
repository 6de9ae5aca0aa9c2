"""The stack deploy's decisions on states moto cannot produce (a rollback with FAILED resource
events, outputs after a change set, an operation still running, a timeout), over a scripted
stand-in for the CloudFormation gateway; and the EKS target's deploy with and without kubectl.
tests/integration/test_deploy_moto.py runs the same code against moto server."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from a2c.targets.base import DeployOptions
from a2c.targets.eks import EksTarget
from a2c.targets.stack import (DeployFailed, DeployRefused, DeployTimedOut, MissingSecrets, capabilities,
                               check_secrets, deploy_stack)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def step(self, message: str) -> None:
        self.lines.append(("step", message))

    def detail(self, message: str) -> None:
        self.lines.append(("detail", message))

    def warn(self, message: str) -> None:
        self.lines.append(("warn", message))


class ScriptedStack:
    """A stack whose operations end as the test says, events and all, one step per poll."""

    region = "eu-west-1"

    def __init__(self, name: str, status: str | None = None, script: list[tuple[str, str, str, str]] | None = None,
                 outputs: dict[str, str] | None = None, pending: list[str] | None = None) -> None:
        self.name, self.status, self.outputs = name, status, outputs or {}
        self.script = list(script or [])  # (logical id, type, status, reason) written after the execute
        self.pending = list(pending or [])  # statuses an operation already running goes through
        self.log: list[dict] = []
        self.calls: list[str] = []
        self.change_set_type = ""

    def _event(self, logical: str, kind: str, status: str, reason: str = "") -> None:
        self.log.insert(0, {"EventId": f"e{len(self.log)}", "Timestamp": T0 + timedelta(seconds=len(self.log)),
                               "LogicalResourceId": logical, "ResourceType": kind, "ResourceStatus": status,
                               **({"ResourceStatusReason": reason} if reason else {})})

    def stack(self, name_or_id: str) -> dict | None:
        if self.pending:
            self.status = self.pending.pop(0)
            self._event(self.name, "AWS::CloudFormation::Stack", self.status)
        self.calls.append("stack")
        if self.status is None:
            return None
        return {"StackId": f"arn:stack/{self.name}", "StackName": self.name, "StackStatus": self.status,
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}

    def events_since_execute(self) -> None:
        while self.script:
            logical, kind, status, reason = self.script.pop(0)
            self._event(logical, kind, status, reason)
            if kind == "AWS::CloudFormation::Stack":
                self.status = status
                if not status.endswith("_IN_PROGRESS"):
                    return

    def events(self, stack_id: str, seen=(), max_pages: int = 0) -> list[dict]:
        self.calls.append("events")
        if "execute" in self.calls:
            self.events_since_execute()
        found = []
        for event in self.log:
            if event["EventId"] in seen:
                break
            found.append(event)
        return found

    def delete_stack(self, stack_id: str) -> None:
        self.calls.append("delete")
        self.pending = ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]

    def create_change_set(self, stack_name, change_set_name, change_set_type, **kwargs) -> dict:
        self.calls.append(f"create {change_set_type} {' '.join(kwargs['capabilities'])}")
        self.change_set_type = change_set_type
        if self.status is None or self.status == "DELETE_COMPLETE":
            self.status = "REVIEW_IN_PROGRESS"
        return {"Id": "arn:changeSet/x", "StackId": f"arn:stack/{self.name}"}

    def change_set(self, change_set_id: str) -> dict:
        return {"Status": "CREATE_COMPLETE", "Changes": [
            {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Service", "ResourceType": "AWS::ECS::Service",
                                "Replacement": "False"}}]}

    def execute_change_set(self, change_set_id: str) -> None:
        self.calls.append("execute")

    def delete_change_set(self, change_set_id: str) -> None:
        self.calls.append("delete change set")

    def upload_template(self, bucket, key, body) -> str:
        raise AssertionError("small templates go inline")

    def missing_parameters(self, names):
        return [n for n in names if "missing" in n]

    def secret_exists(self, secret_id):
        return "missing" not in secret_id


STACK = "AWS::CloudFormation::Stack"


@pytest.fixture
def template(tmp_path) -> Path:
    path = tmp_path / "ecs-master.yml"
    path.write_text("Resources:\n  Role:\n    Type: AWS::IAM::Role\n")
    return path


def options(**kw) -> DeployOptions:
    return DeployOptions(poll_seconds=0, **kw)


def test_a_rollback_names_the_first_failing_resource_and_prints_every_failure(template):
    gateway = ScriptedStack("app-ECS", script=[
        ("app-ECS", STACK, "CREATE_IN_PROGRESS", "User Initiated"),
        ("Cluster", "AWS::ECS::Cluster", "CREATE_COMPLETE", ""),
        ("Listener", "AWS::ElasticLoadBalancingV2::Listener", "CREATE_FAILED", "Resource creation cancelled"),
        ("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_FAILED", "Subnets are in one AZ"),
        ("app-ECS", STACK, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create"),
        ("app-ECS", STACK, "ROLLBACK_COMPLETE", ""),
    ])
    reporter = Recorder()

    with pytest.raises(DeployFailed) as caught:
        deploy_stack(gateway, "app-ECS", template, reporter, options())

    message = caught.value.message
    assert "app-ECS" in message and "ROLLBACK_COMPLETE" in message
    assert "first failing resource: LoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer): Subnets are in one AZ" \
        in message
    assert "--yes" in caught.value.hint and caught.value.exit_status == 10
    warnings = [line for kind, line in reporter.lines if kind == "warn"]
    assert any("Listener" in w and "LoadBalancer" in w and "resources that failed" in w for w in warnings)
    # Every event printed exactly once, in order.
    events = [line for _, line in reporter.lines if line[:2].isdigit()]
    assert [e.split()[2] for e in events] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED",
                                               "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert gateway.calls[0] == "stack" and "create CREATE CAPABILITY_IAM" in gateway.calls


def test_outputs_are_printed_and_returned_after_an_update(template):
    gateway = ScriptedStack("app-ECS", status="UPDATE_ROLLBACK_COMPLETE", outputs={"LoadBalancerUrl": "http://lb/"},
                            script=[("app-ECS", STACK, "UPDATE_IN_PROGRESS", ""), ("app-ECS", STACK, "UPDATE_COMPLETE", "")])
    reporter = Recorder()

    result = deploy_stack(gateway, "app-ECS", template, reporter, options())

    assert (result.status, result.outputs, result.changes) == ("UPDATE_COMPLETE", {"LoadBalancerUrl": "http://lb/"}, 1)
    assert gateway.change_set_type == "UPDATE"  # UPDATE_ROLLBACK_COMPLETE takes an update
    text = "\n".join(line for _, line in reporter.lines)
    assert "Modify  Service  AWS::ECS::Service  (replacement: False)" in text
    assert "LoadBalancerUrl: http://lb/" in text
    assert text.index("Modify  Service") < text.index("UPDATE_IN_PROGRESS")  # the changes before the run


def test_an_operation_in_progress_is_waited_for_then_updated(template):
    gateway = ScriptedStack("app-ECS", status="UPDATE_IN_PROGRESS",
                            pending=["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"],
                            script=[("app-ECS", STACK, "UPDATE_IN_PROGRESS", ""), ("app-ECS", STACK, "UPDATE_COMPLETE", "")])
    reporter = Recorder()

    result = deploy_stack(gateway, "app-ECS", template, reporter, options())

    assert result.status == "UPDATE_COMPLETE" and gateway.change_set_type == "UPDATE"
    assert any("waiting for that operation" in line for _, line in reporter.lines)


def test_the_timeout_names_the_stack(template):
    gateway = ScriptedStack("app-ECS", status="CREATE_IN_PROGRESS", pending=["CREATE_IN_PROGRESS"] * 100)
    ticks = iter(range(0, 10_000, 30))

    with pytest.raises(DeployTimedOut) as caught:
        deploy_stack(gateway, "app-ECS", template, Recorder(), options(timeout=120), now=lambda: next(ticks),
                     sleep=lambda seconds: None)

    assert "app-ECS" in caught.value.message and "2 minutes" in caught.value.message
    assert "--deploy-timeout" in caught.value.hint


def test_rollback_complete_without_yes_or_a_terminal_is_refused_and_left_alone(template):
    gateway = ScriptedStack("app-ECS", status="ROLLBACK_COMPLETE")

    with pytest.raises(DeployRefused) as caught:
        deploy_stack(gateway, "app-ECS", template, Recorder(), options())

    assert "--yes" in caught.value.hint and "delete" not in gateway.calls


def test_rollback_complete_with_yes_is_deleted_then_created(template):
    gateway = ScriptedStack("app-ECS", status="ROLLBACK_COMPLETE",
                            script=[("app-ECS", STACK, "CREATE_IN_PROGRESS", ""), ("app-ECS", STACK, "CREATE_COMPLETE", "")])

    result = deploy_stack(gateway, "app-ECS", template, Recorder(), options(yes=True))

    assert result.status == "CREATE_COMPLETE"
    assert gateway.calls.index("delete") < gateway.calls.index("create CREATE CAPABILITY_IAM")


@pytest.mark.parametrize("body, expected", [
    ("Resources:\n  Log:\n    Type: AWS::Logs::LogGroup\n", []),
    ("Resources:\n  Role:\n    Type: AWS::IAM::Role\n", ["CAPABILITY_IAM"]),
    ("Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: x\n", ["CAPABILITY_NAMED_IAM"]),
    ("Transform: AWS::Serverless-2016-10-31\nResources: {}\n", ["CAPABILITY_AUTO_EXPAND"]),
])
def test_capabilities_follow_the_template(body, expected):
    assert capabilities(body) == expected


def test_missing_secrets_name_each_with_the_command_that_creates_it():
    deployment = {"secrets": [
        {"name": "DB_PASSWORD", "valueFrom": "/a2c/app/DB_PASSWORD", "foundIn": "environment"},
        {"name": "API_KEY", "valueFrom": "/a2c/app/missing-API_KEY", "foundIn": "application.properties"},
        {"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf:token::",
         "foundIn": "command line"}]}

    with pytest.raises(MissingSecrets) as caught:
        check_secrets(ScriptedStack("x"), deployment)

    assert "API_KEY" in caught.value.message and "TOKEN" in caught.value.message
    assert "DB_PASSWORD" not in caught.value.message
    assert ("aws ssm put-parameter --region eu-west-1 --type SecureString --name /a2c/app/missing-API_KEY "
            "--value 'VALUE'") in caught.value.hint
    assert "aws secretsmanager create-secret --region eu-west-1 --name missing" in caught.value.hint


# -- EKS ---------------------------------------------------------------------------------------

DEPLOYMENT = {"applicationId": "java-tomcat-1dd8e7ba"}


def test_eks_without_a_kubeconfig_prints_the_commands_and_why(tmp_path):
    reporter = Recorder()

    result = EksTarget().deploy(DEPLOYMENT, tmp_path / "EksDeployment", None, reporter, options())

    assert result.status == "NOT_DEPLOYED"
    (kind, text), = reporter.lines
    assert kind == "warn" and "no kubeconfig was given" in text
    assert f"kubectl apply -f {tmp_path / 'EksDeployment'}" in text and "helm install java-tomcat-1dd8e7ba" in text


def _fake_kubectl(directory: Path, status: int) -> Path:
    """A kubectl on PATH that records its arguments (no cluster can be reached from the tests)."""
    directory.mkdir()
    script = directory / "kubectl"
    script.write_text(f'#!/bin/sh\necho "$@" > "{directory}/args"\necho "deployment.apps/x created"\n'
                      f'[ {status} -eq 0 ] || echo "the server is unreachable" >&2\nexit {status}\n')
    script.chmod(0o755)
    return directory


def test_eks_applies_the_folder_with_kubectl(tmp_path, monkeypatch):
    bin_dir = _fake_kubectl(tmp_path / "bin", 0)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    reporter = Recorder()

    result = EksTarget().deploy(DEPLOYMENT, tmp_path / "EksDeployment", None, reporter,
                                options(kubeconfig=str(tmp_path / "kubeconfig")))

    assert result.status == "APPLIED"
    assert (bin_dir / "args").read_text().split() == ["--kubeconfig", str(tmp_path / "kubeconfig"), "apply", "-f",
                                                      str(tmp_path / "EksDeployment")]
    assert ("step", "deployment.apps/x created") in reporter.lines


def test_eks_reports_a_failed_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{_fake_kubectl(tmp_path / 'bin', 1)}{os.pathsep}{os.environ['PATH']}")

    with pytest.raises(DeployFailed) as caught:
        EksTarget().deploy(DEPLOYMENT, tmp_path / "EksDeployment", None, Recorder(), options(kubeconfig="kc"))

    assert "the server is unreachable" in caught.value.message and "kubectl" in caught.value.hint


def test_eks_without_kubectl_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubectl there
    reporter = Recorder()

    result = EksTarget().deploy(DEPLOYMENT, tmp_path / "EksDeployment", None, reporter, options(kubeconfig="kc"))

    assert result.status == "NOT_DEPLOYED" and "kubectl is not on PATH" in reporter.lines[0][1]


def test_the_command_offers_the_deploy_options():
    from a2c.cli import cli

    text = CliRunner().invoke(cli, ["generate", "app-deployment", "--help"]).output
    for option in ("--deploy", "--yes", "--kubeconfig", "--deploy-timeout", "KUBECONFIG"):
        assert option in text
    assert "--deploy --yes" in text.split("Examples:")[1]
