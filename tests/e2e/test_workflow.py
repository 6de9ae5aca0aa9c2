"""The whole workflow on the real sample servers: inventory -> analyze -> containerize (built,
run and answering HTTP 200 while the original still runs on the same port) -> ECS template
that passes cfn-lint. Drives the installed CLI in a subprocess, as a user would."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import http_get

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.slow]


def _inventory(run_a2c) -> dict:
    result = run_a2c("--json", "inventory")
    assert result.exit_code == 0, result
    return result.json()


def _find(inventory: dict, app_type: str, pid: int) -> str:
    for app_id, entry in inventory.items():
        if entry["applicationType"] == app_type and entry["processId"] == pid:
            return app_id
    raise AssertionError(f"no {app_type} with pid {pid} in {json.dumps(inventory, indent=1)[:3000]}")



def _containerize_and_check(run_a2c, workspace, app_id: str, jre_image: str, docker_client, expect_text: str) -> dict:
    result = run_a2c("--json", "containerize", "--application-id", app_id, "--base-image", jre_image)
    assert result.exit_code == 0, result
    data = result.json()
    assert data["validation"]["status"] == 200
    image = docker_client.images.get(data["image"])
    config = image.attrs["Config"]
    assert config["User"] == "10001:0"
    assert config["Labels"]["com.a2c.application-id"] == app_id
    assert config["Healthcheck"]["Test"] == ["CMD", "/a2c/healthcheck.sh"]
    # Proof beyond a2c's own probe: run it ourselves beside the original and ask for the page.
    params = json.loads((workspace / app_id / "analysis.json").read_text())["containerParameters"]
    port = params["applicationPort"]
    container = docker_client.containers.run(data["image"], detach=True, ports={f"{port}/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        host_port = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"]
        url = f"http://127.0.0.1:{host_port}{params['healthCheckPath']}"
        from a2c.images.validate import probe

        import time

        deadline = time.monotonic() + 90
        while probe(url) != 200 and time.monotonic() < deadline:
            time.sleep(1)
        status, body = http_get(url)
        assert status == 200 and expect_text in body
    finally:
        container.remove(force=True)
    return data


def _generate_and_lint(run_a2c, workspace, app_id: str) -> None:
    result = run_a2c("--json", "generate", "app-deployment", "--application-id", app_id)
    assert result.exit_code == 0, result
    template = workspace / app_id / "EcsDeployment" / "ecs-master.yml"
    deployment = json.loads((workspace / app_id / "deployment.json").read_text())
    assert deployment["ecsParameters"]["createEcsArtifacts"] is True
    lint = subprocess.run(["cfn-lint", str(template)], capture_output=True, text=True)
    assert lint.returncode & 2 == 0, lint.stdout + lint.stderr
    text = template.read_text()
    for resource in ("AWS::ECS::Cluster", "AWS::ECS::TaskDefinition", "AWS::ECS::Service",
                     "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::ElasticLoadBalancingV2::Listener",
                     "AWS::EC2::SecurityGroup", "AWS::IAM::Role", "AWS::Logs::LogGroup"):
        assert resource in text


def test_tomcat_end_to_end(samples, run_a2c, workspace, jre_image, docker_client):
    tomcat = samples["tomcat"]
    inventory = _inventory(run_a2c)
    app_id = _find(inventory, "java-tomcat", tomcat["pid"])
    entry = inventory[app_id]
    assert tomcat["port"] in entry["ports"]
    assert {"hello", "sample"} <= set(entry["webApps"])

    result = run_a2c("analyze", "--application-id", app_id)
    assert result.exit_code == 0, result
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    assert params["applicationPort"] == tomcat["port"]
    assert params["containerBaseImage"] == "eclipse-temurin:17-jre"
    assert info["AdvancedAppInfo"]["Directories"]["home"] == tomcat["catalina_home"]
    assert info["AdvancedAppInfo"]["Directories"]["base"] == tomcat["catalina_base"]
    assert info["AdvancedAppInfo"]["javaMajorVersion"] == 17
    assert info["AdvancedAppInfo"]["version"].startswith("10.")
    assert [c["port"] for c in info["tomcat"]["connectors"]] == [tomcat["port"]]
    assert info["osData"]["ID"] == "debian"

    _containerize_and_check(run_a2c, workspace, app_id, jre_image, docker_client, "Hello from hello-war")
    # The original is untouched and still answers on its own port.
    assert http_get(tomcat["url"])[0] == 200
    dockerfile = (workspace / app_id / "Artifacts" / "Dockerfile").read_text()
    assert "COPY layers/server/ /" in dockerfile and "COPY layers/application/ /" in dockerfile
    assert dockerfile.index("layers/server") < dockerfile.index("layers/application")
    _generate_and_lint(run_a2c, workspace, app_id)


def test_springboot_end_to_end(samples, run_a2c, workspace, jre_image, docker_client):
    boot = samples["springboot"]
    app_id = _find(_inventory(run_a2c), "java-springboot", boot["pid"])
    result = run_a2c("--json", "analyze", "--application-id", app_id)
    assert result.exit_code == 0, result
    analysis = json.loads((workspace / app_id / "analysis.json").read_text())
    spring = analysis["analysisInfo"]["springBoot"]
    assert spring["startClass"] == "com.example.hello.HelloApplication"
    assert spring["springBootVersion"] == "2.7.18"
    # application.properties in the working directory says 9999; the command line wins.
    assert spring["serverPort"] == boot["port"] and spring["serverPortSource"] == "command line"
    assert analysis["containerParameters"]["applicationPort"] == boot["port"]

    _containerize_and_check(run_a2c, workspace, app_id, jre_image, docker_client, "Hello from hello-boot")
    _generate_and_lint(run_a2c, workspace, app_id)


def test_ids_are_stable_across_runs(samples, run_a2c):
    first, second = _inventory(run_a2c), _inventory(run_a2c)
    assert sorted(first) == sorted(second)
    for app_id in first:
        assert app_id.rsplit("-", 1)[1].isalnum() and len(app_id.rsplit("-", 1)[1]) == 8
