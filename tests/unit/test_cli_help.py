"""Every command's --help ends with an example, the environment it honours and its exit statuses;
the shell completes application ids from the workspace's inventory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from a2c.cli import cli

COMMANDS = [["init"], ["inventory"], ["analyze"], ["extract"], ["containerize"], ["generate", "app-deployment"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_has_examples_environment_and_exit_statuses(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Examples:" in text and f"a2c {' '.join(command)}" in text.split("Examples:")[1]
    assert "Environment:" in text and "A2C_WORKSPACE" in text
    statuses = text.split("Exit statuses:")[1]
    for code in ("0 ", "1 ", "2 ", "3 ", "130 "):
        assert f"\n    {code}" in statuses, (code, statuses)


def test_generate_help_names_the_aws_conventions():
    text = CliRunner().invoke(cli, ["generate", "app-deployment", "--help"]).output
    assert all(name in text for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "A2C_REGISTRY"))
    assert "\n    10 " in text.split("Exit statuses:")[1]


def _complete(words: str, env: dict[str, str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", "from a2c.cli import main; main()"], capture_output=True, text=True,
                         env={**os.environ, **env, "_A2C_COMPLETE": "bash_complete", "COMP_WORDS": words,
                              "COMP_CWORD": str(len(words.split()) - 1)}, timeout=60)
    return [line.split(",", 1)[1] for line in out.stdout.splitlines() if "," in line]


def test_application_ids_complete_from_the_inventory(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "inventory.json").write_text(json.dumps({
        "java-tomcat-1dd8e7ba": {"applicationType": "java-tomcat"},
        "java-springboot-ad79d61c": {"applicationType": "java-springboot"},
        "dotnet-core-58845c83": {"applicationType": "dotnet-core"}}))
    env = {"A2C_WORKSPACE": str(workspace), "A2C_CONFIG": str(tmp_path / "none.json")}
    assert _complete("a2c analyze --application-id java-", env) == ["java-springboot-ad79d61c", "java-tomcat-1dd8e7ba"]
    assert _complete(f"a2c --workspace {workspace} containerize --application-id d",
                     {"A2C_CONFIG": str(tmp_path / "none.json")}) == ["dotnet-core-58845c83"]
    (workspace / "inventory.json").write_text("not json")
    assert _complete("a2c extract --application-id j", env) == []
