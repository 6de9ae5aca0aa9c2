"""The ECS Express Mode target: rendered from a deployment.json that build_deployment writes over
an analysis, compared with reviewed golden files, linted by cfn-lint (no error, no warning) and
checkov, its refusals (TCP-only, Windows, sizes) and hostile values in deployment.json.

The target is constructed directly: the lead registers its entry point."""

from __future__ import annotations

import copy
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from a2c.errors import ExitStatus, InvalidFile
from a2c.model import AnalysisHead
from a2c.targets.base import Target
from a2c.targets.deployment import build_deployment
from a2c.targets.ecs_express import SKIPPED_CHECKS, EcsExpressTarget
from a2c.targets.registry import Targets

from tests.conftest import FIXTURES, missing

VALUES = json.loads((FIXTURES / "hostile" / "injection" / "values.json").read_text(encoding="utf-8"))

# A legacy Tomcat as analyze describes it: HTTP on 8080, AJP (TCP) on 8009, a -Xmx3g heap (4 GiB
# task) and one secret found in its context.xml.
HEAD = AnalysisHead(
    app_id="java-tomcat-1dd8e7ba", application_type="java-tomcat", analyzer="java-tomcat", host_name="legacy-app-01",
    process_id=4242, image_repository="java-tomcat-1dd8e7ba", image_tag="latest", application_port=8080,
    health_check_path="/hello/", base_image="eclipse-temurin:17-jre",
    secrets=({"envVar": "A2C_SECRET_DB_PASSWORD", "foundIn": "/opt/tomcat/conf/Catalina/localhost/hello.xml"},),
    recommended_memory_mib=4096, document={}, ports=((8080, "http"), (8009, "tcp")),
)


def deployment_for(target: Target, head: AnalysisHead = HEAD, **section: Any) -> dict[str, Any]:
    """deployment.json as containerize writes it, with the target switched on, one environment
    variable and one tag (as a user edits them), and ``section`` over the target's section."""
    document = build_deployment(head, Targets([target]))
    document[target.section][target.flag] = True
    document["environment"] = [{"name": "CATALINA_OPTS_EXTRA", "value": "-Dfile.encoding=UTF-8"}]
    document[target.section]["resourceTags"] = [{"key": "example-key", "value": "example-value"},
                                                {"key": "team", "value": "payments"}]
    document[target.section].update(section)
    return document


def load_cfn(text: str) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.loads(text)


def cfn_lint(text: str, tmp_path: Path, name: str, *ignore: str) -> None:
    """cfn-lint over the template: exit code 0 (no error, warning or informational finding)."""
    if not shutil.which("cfn-lint"):
        missing("cfn-lint", "pip install cfn-lint")
    path = tmp_path / name
    path.write_text(text)
    options = ["--ignore-checks", *ignore] if ignore else []
    lint = subprocess.run(["cfn-lint", *options, "--", str(path)], capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def checkov(text: str, readme: str, tmp_path: Path, name: str) -> list[str]:
    """checkov over the template: no failed check, and every skipped one explained in the README.
    Skips when checkov is not installed (it is not among the test extras yet)."""
    command = shutil.which("checkov")
    if command is None:
        missing("checkov", "run scripts/setup.sh (it installs checkov in a venv of its own)")
    path = tmp_path / name
    path.write_text(text)
    run = subprocess.run([command, "-f", str(path), "--framework", "cloudformation", "-o", "json", "--skip-download"],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(run.stdout)
    results = (report[0] if isinstance(report, list) else report)["results"]
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert not failed, failed
    skipped = [c["check_id"] for c in results["skipped_checks"]]
    for check in skipped:
        assert f"`{check}`" in readme, f"{check} is skipped but the README does not say why"
    return skipped


def refused(field: str, call, *args: Any) -> InvalidFile:
    with pytest.raises(InvalidFile) as info:
        call(*args)
    assert field in info.value.message, info.value.message
    assert info.value.exit_status == ExitStatus.INVALID_FILE and info.value.hint
    return info.value


TARGET = EcsExpressTarget()


def render(deployment: dict[str, Any], image_uri: str = "") -> dict[str, str]:
    return TARGET.render(deployment, image_uri, "ws/app/deployment.json")


# -- defaults and schema ---------------------------------------------------------------------
def test_defaults_follow_the_analysis_and_validate():
    defaults = TARGET.defaults(HEAD)
    assert defaults["createEcsExpressArtifacts"] is False and TARGET.default_on is False
    assert (defaults["cpu"], defaults["memory"]) == (1024, 4096)
    assert defaults["healthCheckPath"] == "/hello/"
    assert defaults["stackName"] == "a2c-java-tomcat-1dd8e7ba-EcsExpress"
    validator = Draft202012Validator(TARGET.schema())
    validator.validate(defaults)
    validator.validate(deployment_for(TARGET)[TARGET.section])
    assert not validator.is_valid({**defaults, "unknown": 1})  # additionalProperties: false
    assert not validator.is_valid({**defaults, "stackName": "a\nb"})


def test_defaults_for_a_health_check_on_another_port_and_a_large_heap():
    """Express Mode checks the container port only; it offers at most 8 GiB."""
    head = AnalysisHead(**{**HEAD.__dict__, "health_check_port": 8081, "health_check_path": "/actuator/health",
                           "recommended_memory_mib": 16384})
    defaults = TARGET.defaults(head)
    assert defaults["healthCheckPath"] == "/"
    assert (defaults["cpu"], defaults["memory"]) == (4096, 8192)
    Draft202012Validator(TARGET.schema()).validate(defaults)


# -- the rendered folder ---------------------------------------------------------------------
def test_golden_files(golden):
    deployment = deployment_for(TARGET)
    files = render(deployment)
    assert set(files) == {"ecs-express.yml", "README.md", "SECRETS.md"}  # the deployment reads secrets
    for name, text in files.items():
        golden(f"ecs-express/EcsExpressDeployment/{name}", text)
    # The section only: the shared fields are deployment.py's, with goldens of their own.
    golden(f"ecs-express/{TARGET.section}.json", json.dumps(deployment[TARGET.section], indent=2) + "\n")


def test_template_holds_the_service_its_roles_and_logs():
    template = load_cfn(render(deployment_for(TARGET))["ecs-express.yml"])
    resources = template["Resources"]
    assert {name: r["Type"] for name, r in resources.items()} == {
        "LogGroup": "AWS::Logs::LogGroup", "ExecutionRole": "AWS::IAM::Role", "InfrastructureRole": "AWS::IAM::Role",
        "Service": "AWS::ECS::ExpressGatewayService"}
    service = resources["Service"]["Properties"]
    assert service["PrimaryContainer"]["ContainerPort"] == 8080  # the first http port, not AJP's 8009
    assert (service["Cpu"], service["Memory"], service["HealthCheckPath"]) == ("1024", "4096", "/hello/")
    assert service["ScalingTarget"] == {"MinTaskCount": 1, "MaxTaskCount": 2, "AutoScalingMetric": "AVERAGE_CPU",
                                        "AutoScalingTargetValue": 60}
    assert service["PrimaryContainer"]["Environment"] == [{"Name": "CATALINA_OPTS_EXTRA",
                                                           "Value": "-Dfile.encoding=UTF-8"}]
    secret = service["PrimaryContainer"]["Secrets"][0]
    assert secret["Name"] == "A2C_SECRET_DB_PASSWORD"
    assert "parameter/a2c/java-tomcat-1dd8e7ba/A2C_SECRET_DB_PASSWORD" in json.dumps(secret["ValueFrom"])
    # The execution role reads exactly the secrets the container names, nothing else.
    execution = resources["ExecutionRole"]["Properties"]
    statement = execution["Policies"][0]["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statement] == [[secret["ValueFrom"]]]
    assert execution["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    infrastructure = resources["InfrastructureRole"]["Properties"]
    assert infrastructure["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "AmazonECSInfrastructureRoleforExpressGatewayServices" in json.dumps(infrastructure["ManagedPolicyArns"])
    assert resources["LogGroup"]["Properties"]["RetentionInDays"] == 30
    assert service["PrimaryContainer"]["AwsLogsConfiguration"]["LogGroup"] == {"Ref": "LogGroup"}
    assert {"Key": "team", "Value": "payments"} in service["Tags"]
    assert {"Key": "a2c-application-id", "Value": "java-tomcat-1dd8e7ba"} in service["Tags"]
    assert "example-key" not in json.dumps(template)
    assert set(template["Outputs"]) == {"Endpoint", "ServiceArn", "LogGroupName"}


def test_readme_states_cost_assumptions_and_the_command():
    readme = render(deployment_for(TARGET))["README.md"]
    assert "us-east-1 on-demand" in readme and "730 hours" in readme and "0.04048" in readme
    assert "$58.95 a month with 1 task(s)" in readme  # (0.04048 + 4 × 0.004445) × 730 + 0.0225 × 730
    assert ("aws cloudformation deploy --template-file ecs-express.yml --stack-name "
            "a2c-java-tomcat-1dd8e7ba-EcsExpress --capabilities CAPABILITY_IAM") in readme


@pytest.mark.parametrize("variant", ["full", "minimal"])
def test_cfn_lint_is_clean(variant, tmp_path):
    deployment = deployment_for(TARGET)
    image = ""
    if variant == "minimal":  # no secret, no environment, no tag, an image URI given
        deployment.update(secrets=[], environment=[])
        deployment[TARGET.section]["resourceTags"] = []
        image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/java-tomcat-1dd8e7ba:latest"
    cfn_lint(render(deployment, image)["ecs-express.yml"], tmp_path, "ecs-express.yml")


def test_checkov_is_clean_or_each_skip_is_explained(tmp_path):
    files = render(deployment_for(TARGET))
    skipped = checkov(files["ecs-express.yml"], files["README.md"], tmp_path, "ecs-express.yml")
    assert set(skipped) <= set(SKIPPED_CHECKS)


def test_the_templates_checkov_skips_are_the_readmes():
    template = load_cfn(render(deployment_for(TARGET))["ecs-express.yml"])
    skips = {(s["id"], name, s["comment"]) for name, resource in template["Resources"].items()
             for s in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}
    assert skips == {(check, name, why) for check, (name, why) in SKIPPED_CHECKS.items()}


def test_next_steps_quote_the_folder():
    folder = "/ws/my apps/it's here"
    [command] = TARGET.next_steps(deployment_for(TARGET), folder)
    words = shlex.split(command)
    assert words[words.index("--template-file") + 1] == f"{folder}/ecs-express.yml"
    assert words[words.index("--stack-name") + 1] == "a2c-java-tomcat-1dd8e7ba-EcsExpress"


# -- refusals ---------------------------------------------------------------------------------
def test_a_tcp_only_service_is_refused_toward_ecs_with_an_nlb():
    head = AnalysisHead(**{**HEAD.__dict__, "ports": ((1521, "tcp"),)})
    error = refused("$.exposedPorts", render, deployment_for(TARGET, head))
    assert "TCP-only" in error.message
    assert "createEcsArtifacts" in error.hint and "Network Load Balancer" in error.hint


def test_a_windows_image_is_refused():
    deployment = {**deployment_for(TARGET), "platform": "windows"}
    error = refused("$.platform", render, deployment)
    assert "Linux containers only" in error.message and "createEcsArtifacts" in error.hint
    refused("$.platform", render, {**deployment_for(TARGET), "platform": "linux\nEvil: 1"})


@pytest.mark.parametrize(("cpu", "memory", "field", "hint"), [
    (8192, 16384, ".cpu", "Set $.ecsExpressParameters.cpu to 4096"),
    (1024, 16384, ".memory", "cpu 1024 with memory 8192"),
    (256, 4096, ".memory", "Pick a memory size for cpu 256: 512, 1024, 2048"),
    (1024, 1024, ".memory", "cpu 512 with memory 1024"),
    ("1024", 2048, ".cpu", ""),
])
def test_sizes_outside_the_table_are_refused_with_the_nearest(cpu, memory, field, hint):
    error = refused("$.ecsExpressParameters" + field, render, deployment_for(TARGET, cpu=cpu, memory=memory))
    assert hint in error.hint, error.hint


@pytest.mark.parametrize(("section", "field"), [
    ({"minTaskCount": 0}, "minTaskCount"),
    ({"minTaskCount": 3, "maxTaskCount": 2}, "maxTaskCount"),
    ({"autoScalingMetric": "CPU"}, "autoScalingMetric"),
    ({"autoScalingTargetValue": 150}, "autoScalingTargetValue"),
    ({"logRetentionDays": 31}, "logRetentionDays"),
])
def test_scaling_and_log_fields_are_checked(section, field):
    refused(f"$.ecsExpressParameters.{field}", render, deployment_for(TARGET, **section))


# -- hostile values ---------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "field"), [
    ({"stackName": 'a2c-"app"'}, "$.ecsExpressParameters.stackName"),
    ({"stackName": "a2c-app\n--capabilities CAPABILITY_NAMED_IAM"}, "$.ecsExpressParameters.stackName"),
    ({"stackName": "a2c-app$(touch CANARY)"}, "$.ecsExpressParameters.stackName"),
    ({"serviceName": "svc\"\n      TaskRoleArn: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Admin"},
     "$.ecsExpressParameters.serviceName"),
    ({"resourceTags": [{"key": "team", "value": VALUES["tag_value"]}]}, "$.ecsExpressParameters.resourceTags[0].value"),
    ({"resourceTags": [{"key": "aws:cloudformation:stack-name", "value": "x"}]},
     "$.ecsExpressParameters.resourceTags[0].key"),
])
def test_hostile_section_values_are_refused(change, field):
    refused(field, render, deployment_for(TARGET, **change))


@pytest.mark.parametrize(("change", "field"), [
    ({"imageName": VALUES["image_name_newline"]}, "$.imageName"),
    ({"ecrParameters": {"ecrRepoTag": "latest\n  Evil: x"}}, "$.ecrParameters.ecrRepoTag"),
    ({"secrets": [{"name": "DB", "valueFrom": "/a2c/${AWS::AccountId}/DB"}]}, "$.secrets[0].valueFrom"),
    ({"secrets": [{"name": "DB", "valueFrom": VALUES["value_from_backslash"]}]}, "$.secrets[0].valueFrom"),
    ({"environment": [{"name": "A: !Sub x", "value": "1"}]}, "$.environment[0].name"),
    ({"applicationId": "app\"\n  Evil: 1"}, "$.applicationId"),
])
def test_hostile_shared_values_are_refused(change, field):
    refused(field, render, {**deployment_for(TARGET), **change})


def test_hostile_image_uri_is_refused():
    refused("image URI", render, deployment_for(TARGET), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1\nEvil: x")


def test_hostile_strings_stay_strings(tmp_path):
    """A path with quotes and a newline, and !Sub / ${…} in values, are data, not template."""
    clean = load_cfn(render(deployment_for(TARGET))["ecs-express.yml"])
    hostile = deployment_for(TARGET, healthCheckPath="/a\"b'\n!Sub ${AWS::AccountId}",
                             resourceTags=[{"key": "team: x", "value": "a b @c=d"}])
    hostile["environment"] = [{"name": "SUB", "value": "!Sub ${AWS::AccountId}"},
                              {"name": "NOTE", "value": VALUES["tag_value"]},
                              {"name": "Q", "value": "\\ \u2028 \u0085 \x7f"}]
    text = render(hostile)["ecs-express.yml"]
    template = load_cfn(text)
    assert set(template["Resources"]) == set(clean["Resources"])
    assert set(template["Outputs"]) == set(clean["Outputs"])
    service = template["Resources"]["Service"]["Properties"]
    assert service["HealthCheckPath"] == "/a%22b'%0A!Sub%20$%7BAWS::AccountId%7D"
    assert service["PrimaryContainer"]["Environment"] == [{"Name": e["name"], "Value": e["value"]}
                                                          for e in hostile["environment"]]
    assert {"Key": "team: x", "Value": "a b @c=d"} in service["Tags"]
    # E1029 guesses that a literal "${AWS::AccountId}" meant a !Sub: here it is the data on purpose.
    cfn_lint(text, tmp_path, "hostile.yml", "E1029")


def test_a_deployment_is_not_changed_by_rendering():
    deployment = deployment_for(TARGET)
    before = copy.deepcopy(deployment)
    render(deployment)
    assert deployment == before
