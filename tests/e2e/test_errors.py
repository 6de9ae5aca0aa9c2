"""Each user mistake or missing prerequisite: one clear line, a hint, a distinct exit status."""

from __future__ import annotations

import json
import shutil

import pytest

from a2c.errors import ExitStatus

from tests.conftest import FIXTURES


def _write_analysis(workspace, app_id: str, **param_changes) -> None:
    document = {
        "a2CTemplateVersion": "1.0",
        "containerParameters": {
            "imageRepository": app_id, "imageTag": "latest", "containerBaseImage": "a2c-test/busybox:latest",
            "applicationMode": False, "applicationPort": 8080, "appSpecificFiles": [], "appExcludedFiles": [],
            "healthCheckPath": "/",
        },
        "analysisInfo": {"appId": app_id, "applicationType": "java-generic", "analyzer": "java-generic",
                         "cmdline": ["java", "-jar", "/opt/app/app.jar"], "processMode": {"paths": ["/opt/app/app.jar"]}},
    }
    document["containerParameters"].update(param_changes)
    (workspace / app_id).mkdir(parents=True, exist_ok=True)
    (workspace / app_id / "analysis.json").write_text(json.dumps(document))


def test_unknown_application_id(run_a2c, workspace):
    workspace.mkdir()
    (workspace / "inventory.json").write_text("{}")
    result = run_a2c("analyze", "--application-id", "java-tomcat-00000000")
    assert result.exit_code == ExitStatus.NOT_FOUND
    assert "unknown application id 'java-tomcat-00000000'" in result.stderr
    assert "Hint: Run `a2c inventory`" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_inventory_yet(run_a2c, workspace):
    result = run_a2c("analyze", "--application-id", "java-tomcat-00000000")
    assert result.exit_code == ExitStatus.WORKSPACE
    assert "a2c inventory" in result.stderr


@pytest.mark.parametrize(
    "change, path, words",
    [
        ({"applicationPort": "8080"}, "$.containerParameters.applicationPort", "is not of type 'integer'"),
        ({"imagTag": "x"}, "$.containerParameters", "unknown field"),
        ({"appSpecificFiles": ["relative/path"]}, "$.containerParameters.appSpecificFiles[0]", "does not match"),
    ],
)
def test_edited_analysis_is_refused_with_its_json_path(run_a2c, workspace, change, path, words):
    _write_analysis(workspace, "java-generic-0badf00d", **change)
    result = run_a2c("containerize", "--application-id", "java-generic-0badf00d")
    assert result.exit_code == ExitStatus.INVALID_FILE, result
    assert str(workspace / "java-generic-0badf00d" / "analysis.json") in result.stderr
    assert path in result.stderr and words in result.stderr


def test_broken_json_is_refused(run_a2c, workspace):
    (workspace / "x-1").mkdir(parents=True)
    (workspace / "x-1" / "analysis.json").write_text('{"a2CTemplateVersion": ')
    result = run_a2c("--json", "containerize", "--application-id", "x-1")
    assert result.exit_code == ExitStatus.INVALID_FILE
    error = result.json()
    assert "not valid JSON" in error["error"] and error["exitStatus"] == ExitStatus.INVALID_FILE


def test_no_docker_engine(run_a2c, workspace, tmp_path):
    _write_analysis(workspace, "java-generic-0badf00d")
    result = run_a2c("containerize", "--application-id", "java-generic-0badf00d",
                     env={"DOCKER_HOST": f"unix://{tmp_path}/no-such-docker.sock"})
    assert result.exit_code == ExitStatus.DOCKER_UNAVAILABLE, result
    assert "cannot reach the Docker engine" in result.stderr
    assert "Hint: Start the Docker engine" in result.stderr


def test_no_aws_credentials(run_a2c, workspace, tmp_path):
    _write_analysis(workspace, "java-generic-0badf00d")
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None,
           "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_REGION": "us-east-1", "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    result = run_a2c("generate", "app-deployment", "--application-id", "java-generic-0badf00d", "--push", env=env)
    assert result.exit_code == ExitStatus.AWS, result
    assert "no AWS credentials found" in result.stderr
    # Without --push no AWS account is needed at all.
    result = run_a2c("generate", "app-deployment", "--application-id", "java-generic-0badf00d", env=env)
    assert result.exit_code == 0, result


def test_corrupt_archive(run_a2c, workspace, tmp_path):
    bad = tmp_path / "app-extraction.tar"
    bad.write_bytes(b"not a tar at all" * 100)
    result = run_a2c("containerize", "--input-archive", str(bad))
    assert result.exit_code == ExitStatus.INVALID_FILE
    assert "not an a2c extraction archive" in result.stderr


def test_usage_error_exit_status(run_a2c, workspace):
    result = run_a2c("containerize")
    assert result.exit_code == ExitStatus.USAGE
    assert "exactly one of --application-id, --input-archive and --all" in result.stderr


def test_hostile_server_xml_is_a_finding_not_a_crash(run_a2c, workspace, tmp_path):
    """A Tomcat whose server.xml declares entities (billion laughs / file://) is analyzed calmly."""
    snapshot = tmp_path / "snap"
    shutil.copytree(FIXTURES / "snapshots" / "hostile-tomcat", snapshot, symlinks=True)
    result = run_a2c("--json", "inventory", "--snapshot", str(snapshot))
    assert result.exit_code == 0, result
    app_id = next(iter(result.json()))
    result = run_a2c("--json", "analyze", "--application-id", app_id, "--snapshot", str(snapshot))
    assert result.exit_code == 0, result
    codes = {f["code"]: f["message"] for f in result.json()["findings"]}
    assert "TOMCAT-E001" in codes and "declares XML entities" in codes["TOMCAT-E001"]
    text = (workspace / app_id / "analysis.json").read_text()
    assert "root:x:0:0" not in text


def test_artifacts_only_needs_no_docker(run_a2c, workspace, tmp_path):
    _write_analysis(workspace, "java-generic-0badf00d")
    result = run_a2c("--json", "containerize", "--application-id", "java-generic-0badf00d", "--artifacts-only",
                     env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert result.exit_code == 0, result
    assert (workspace / "java-generic-0badf00d" / "Artifacts" / "Dockerfile").exists()
    assert (workspace / "java-generic-0badf00d" / "deployment.json").exists()


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_errors_are_json_whatever_turns_json_on(run_a2c, workspace, how):
    workspace.mkdir()
    (workspace / "inventory.json").write_text("{}")
    args = ("--json",) if how == "flag" else ()
    result = run_a2c(*args, "analyze", "--application-id", "java-tomcat-00000000",
                     env={"A2C_JSON_MODE": "1"} if how == "environment" else None)
    assert result.exit_code == ExitStatus.NOT_FOUND
    error = json.loads(result.stdout)
    assert error["exitStatus"] == ExitStatus.NOT_FOUND and "java-tomcat-00000000" in error["error"] and error["hint"]
    assert "Traceback" not in result.stderr
