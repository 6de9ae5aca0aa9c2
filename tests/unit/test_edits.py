"""Edits of analysis.json and deployment.json that used to pass the schema and crash a later step:
each now stops with the file, the JSON path of the field and a hint (exit 6), or works.

The steps run for real (the CLI in a subprocess) on the tomcat-host snapshot, without Docker
(``containerize --artifacts-only``, ``generate app-deployment`` without a push)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from a2c.errors import ExitStatus, InvalidFile
from a2c.workspace import validate

from tests.conftest import FIXTURES

SNAPSHOT = FIXTURES / "snapshots" / "tomcat-host"
APP = "java-tomcat-1dd8e7ba"


def _a2c(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "A2C_WORKSPACE": str(workspace), "A2C_CONFIG": str(workspace.parent / "config.json")}
    return subprocess.run([sys.executable, "-m", "a2c", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("analyzed") / "ws"
    for args in (("inventory", "--snapshot", str(SNAPSHOT)), ("analyze", "--snapshot", str(SNAPSHOT), "--application-id", APP),
                 ("containerize", "--snapshot", str(SNAPSHOT), "--application-id", APP, "--artifacts-only")):
        proc = _a2c(workspace, *args)
        assert proc.returncode == 0, proc.stderr
    return workspace


@pytest.fixture
def workspace(analyzed, tmp_path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(analyzed, copy, symlinks=True)
    return copy


def _edit(workspace: Path, name: str, change) -> Path:
    path = workspace / APP / name
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))
    return path


def _containerize(workspace: Path) -> subprocess.CompletedProcess:
    return _a2c(workspace, "containerize", "--snapshot", str(SNAPSHOT), "--application-id", APP, "--artifacts-only")


def _deploy(workspace: Path) -> subprocess.CompletedProcess:
    return _a2c(workspace, "generate", "app-deployment", "--application-id", APP)


def _assert_refused(proc: subprocess.CompletedProcess, path: Path, *words: str) -> None:
    assert proc.returncode == ExitStatus.INVALID_FILE, proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr
    assert str(path) in proc.stderr and "Hint:" in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def _info(change):
    return lambda d: change(d["analysisInfo"])


@pytest.mark.parametrize(("change", "words"), [
    (_info(lambda i: i["AdvancedAppInfo"]["Directories"].pop("home")),
     ("$.analysisInfo.AdvancedAppInfo.Directories", "'home' is a required property")),
    (_info(lambda i: i["AdvancedAppInfo"].pop("Directories")), ("$.analysisInfo.AdvancedAppInfo", "'Directories'")),
    (_info(lambda i: i.pop("AdvancedAppInfo")), ("analyzer java-tomcat cannot plan", "'AdvancedAppInfo'")),
    (_info(lambda i: i.__setitem__("analyzer", "no-such-analyzer")),
     ("$.analysisInfo.analyzer", "no analyzer 'no-such-analyzer' is installed", "'java-tomcat'")),
    (_info(lambda i: i.__setitem__("analyzer", "java-springboot")),
     ("$.analysisInfo.analyzer", "plans java-springboot applications", "applicationType is java-tomcat")),
    (_info(lambda i: i.__setitem__("analyzer", "dotnet-core")), ("$.analysisInfo.analyzer",)),
    (lambda d: d["containerParameters"].__setitem__("containerBaseImage", "eclipse-temurin:17-jre\nRUN touch /CANARY"),
     ("$.containerParameters.containerBaseImage", "does not match")),
    (lambda d: d["containerParameters"].__setitem__("imageTag", "latest\n"), ("$.containerParameters.imageTag",)),
    (_info(lambda i: i["secrets"][0].__setitem__("envVar", "X_PASSWORD:-$(touch /CANARY)}")),
     ("$.analysisInfo.secrets[0].envVar", "not an environment variable name")),
])
def test_analysis_edit_is_refused_by_field(workspace, change, words):
    path = _edit(workspace, "analysis.json", change)
    _assert_refused(_containerize(workspace), path, *words)


def test_process_mode_analyzer_may_plan_a_framework_type(workspace):
    """After a framework analyzer crash, analysis.json names java-generic with the framework's type."""
    _edit(workspace, "analysis.json", _info(lambda i: i.__setitem__("analyzer", "java-generic")))
    proc = _containerize(workspace)
    assert proc.returncode == 0, proc.stderr


def test_removed_analyzer_field_falls_back_to_the_type(workspace):
    _edit(workspace, "analysis.json", _info(lambda i: i.pop("analyzer")))
    proc = _containerize(workspace)
    assert proc.returncode == 0, proc.stderr


def test_edited_health_check_path_is_encoded(workspace):
    _edit(workspace, "analysis.json", lambda d: d["containerParameters"].__setitem__("healthCheckPath", "/$(touch CANARY) x"))
    proc = _containerize(workspace)
    assert proc.returncode == 0, proc.stderr
    script = (workspace / APP / "Artifacts" / "a2c" / "healthcheck.sh").read_text()
    assert "url='http://127.0.0.1:8080/$(touch%20CANARY)%20x'" in script


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d.__setitem__("exposedPorts", []), ("$.exposedPorts", "should be non-empty")),
    (lambda d: d.__setitem__("imageName", "app:latest\n  Evil:\n    Type: String"), ("$.imageName",)),
    (lambda d: d["secrets"][0].__setitem__("valueFrom", '/a2c/app/DB\\" Evil'), ("$.secrets[0].valueFrom",)),
    (lambda d: d["ecrParameters"].__setitem__("ecrRepoTag", "1\n"), ("$.ecrParameters.ecrRepoTag",)),
])
def test_deployment_edit_is_refused_by_field(workspace, change, words):
    path = _edit(workspace, "deployment.json", change)
    _assert_refused(_deploy(workspace), path, *words)


def test_unedited_deployment_generates(workspace):
    proc = _deploy(workspace)
    assert proc.returncode == 0, proc.stderr
    assert (workspace / APP / "EcsDeployment" / "ecs-master.yml").is_file()


def test_render_ecs_refuses_empty_ports_without_the_schema():
    """Code that gets a deployment from elsewhere than the file still reports the field."""
    from a2c.targets.ecs import render_ecs

    deployment = json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())
    deployment["exposedPorts"] = []
    with pytest.raises(InvalidFile, match=r"\$\.exposedPorts"):
        render_ecs(deployment, "")


@pytest.mark.parametrize(("value", "ok"), [
    ("eclipse-temurin:17-jre", True), ("registry.example.com:5000/team/jre:17", True),
    ("eclipse-temurin@sha256:" + "0" * 64, True), ("eclipse-temurin:17\n", False), ("a b", False),
    ("Upper/case", False), ("x:" + "t" * 200, False),
])
def test_schema_and_renderer_agree_on_image_references(value, ok):
    from a2c.generate.safe import image_reference

    document = json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())
    document["imageName"] = value
    results = []
    from a2c.targets.registry import load_targets

    sections = load_targets().sections()  # the ECS target's section of deployment.json
    for check in (lambda: validate(document, "deployment", "deployment.json", sections),
                  lambda: image_reference(value, "f")):
        try:
            check()
            results.append(True)
        except InvalidFile:
            results.append(False)
    assert results == [ok, ok]
