"""Third-party plugins load exactly as the built-ins do: a dist-info with entry points on the
path (fixtures/plugins/site) adds an analyzer and a deployment target, and the CLI uses both."""

from __future__ import annotations

import json
import os

from tests.conftest import FIXTURES

SITE = FIXTURES / "plugins" / "site"
TOY_HOST = FIXTURES / "plugins" / "toy-host"


def _with(*folders):
    paths = [str(f) for f in folders] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def test_a_third_party_analyzer_and_target_through_the_whole_workflow(run_a2c, workspace):
    env = _with(SITE)
    result = run_a2c("--json", "inventory", "--snapshot", str(TOY_HOST), env=env)
    assert result.exit_code == 0, result
    apps = result.json()
    (app_id,) = [k for k, v in apps.items() if v["analyzer"] == "toy-server"]
    assert apps[app_id]["applicationType"] == "toy-server" and apps[app_id]["ports"] == [7070]

    result = run_a2c("--json", "analyze", "--application-id", app_id, "--snapshot", str(TOY_HOST), env=env)
    assert result.exit_code == 0, result
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    assert analysis["analysisInfo"]["toy"] == {"config": "greeting = hello\n"}

    result = run_a2c("--json", "containerize", "--application-id", app_id, "--snapshot", str(TOY_HOST),
                     "--artifacts-only", env=env)
    assert result.exit_code == 0, result
    dockerfile = (workspace / app_id / "Artifacts" / "Dockerfile").read_text()
    assert "FROM a2c-test/busybox:latest" in dockerfile and "layers/application/" in dockerfile
    deployment = json.loads((workspace / app_id / "deployment.json").read_text())
    assert deployment["toyParameters"] == {"createToyArtifacts": True, "replicas": 2}
    assert deployment["ecsParameters"]["createEcsArtifacts"] is True

    result = run_a2c("--json", "generate", "app-deployment", "--application-id", app_id, env=env)
    assert result.exit_code == 0, result
    out = result.json()
    assert [t["target"] for t in out["targets"]] == ["ecs", "toy"]
    toy = json.loads((workspace / app_id / "ToyDeployment" / "toy.json").read_text())
    assert toy == {"image": f"{app_id}:latest", "port": 7070, "replicas": 2}
    assert (workspace / app_id / "EcsDeployment" / "ecs-master.yml").is_file()

    # The target's own schema fragment validates its section of deployment.json.
    deployment["toyParameters"]["replicas"] = 0
    (workspace / app_id / "deployment.json").write_text(json.dumps(deployment))
    result = run_a2c("generate", "app-deployment", "--application-id", app_id, env=env)
    assert result.exit_code == 6, result
    assert "$.toyParameters.replicas" in result.stderr

    # Without the plugin, its sections are unknown to a2c, which says so rather than guess.
    result = run_a2c("--json", "generate", "app-deployment", "--application-id", app_id)
    assert result.exit_code == 6, result
    assert "unknown field" in result.json()["error"] and "'toy' was unexpected" in result.json()["error"]


def test_a_plugin_reusing_a_builtin_id_is_refused(run_a2c, tmp_path):
    result = run_a2c("--json", "inventory", "--snapshot", str(TOY_HOST), env=_with(FIXTURES / "plugins" / "duplicate"))
    assert result.exit_code == 13, result
    error = result.json()
    assert "share the id 'java-tomcat'" in error["error"] and "pip list" in error["hint"]
