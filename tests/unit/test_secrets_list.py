"""SECRETS.md: each secret a stack reads, with the command that creates it, in every target's folder."""

from __future__ import annotations

import json
import shlex

import pytest

from a2c.targets.apprunner import render_apprunner
from a2c.targets.ecs import render_ecs
from a2c.targets.ecs_express import render_ecs_express
from a2c.targets.secretslist import create_command, secret_kind, secrets_readme
from tests.conftest import FIXTURES

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"


@pytest.fixture
def deployment():
    document = json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())
    document["secrets"] = [
        {"name": "A2C_SECRET_DB_PASSWORD", "valueFrom": "/a2c/app/A2C_SECRET_DB_PASSWORD", "foundIn": "/etc/app/db.properties"},
        {"name": "A2C_SECRET_API", "valueFrom": ARN, "foundIn": "environment `x`"},
    ]
    document["ecsExpressParameters"] = {"createEcsExpressArtifacts": True}
    document["appRunnerParameters"] = {"createAppRunnerArtifacts": True}
    return document


def test_names_and_kinds_come_from_value_from():
    assert secret_kind("/a2c/app/X") == ("ssm", "/a2c/app/X")
    assert secret_kind("arn:aws:ssm:us-east-1:123456789012:parameter/a2c/app/X") == ("ssm", "/a2c/app/X")
    assert secret_kind(ARN) == ("secretsmanager", "prod/db")
    assert shlex.split(create_command("/a2c/app/X")) == ["aws", "ssm", "put-parameter", "--type", "SecureString",
                                                          "--name", "/a2c/app/X", "--value", "VALUE"]


def test_every_target_folder_lists_its_secrets_with_commands(deployment):
    for files in (render_ecs(deployment, ""), render_ecs_express(deployment, ""), render_apprunner(deployment, "")):
        text = files["SECRETS.md"]
        assert "aws ssm put-parameter --type SecureString --name /a2c/app/A2C_SECRET_DB_PASSWORD" in text
        assert "aws secretsmanager create-secret --name prod/db" in text
        assert "found in `environment 'x'`" in text  # a backtick from the host cannot close the code span


def test_no_secrets_no_file(deployment):
    deployment["secrets"] = []
    assert secrets_readme(deployment) == {}
    assert "SECRETS.md" not in render_ecs(deployment, "")
