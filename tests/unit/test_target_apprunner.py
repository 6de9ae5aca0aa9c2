"""The App Runner target: App2Container's appRunnerParameters rendered from a deployment.json that
build_deployment writes over an analysis, compared with golden files, linted by cfn-lint and
checkov, its notice, its refusals (TCP-only, Windows, sizes, images outside ECR) and hostile
values. The helpers and the analysis are the ECS Express tests' (one Tomcat for both)."""

from __future__ import annotations

import json
import shlex

import pytest
from jsonschema import Draft202012Validator

from a2c.model import AnalysisHead
from a2c.targets.apprunner import NOTICE, SKIPPED_CHECKS, AppRunnerTarget

from tests.unit.test_target_ecs_express import HEAD, VALUES, cfn_lint, checkov, deployment_for, load_cfn, refused

TARGET = AppRunnerTarget()
NOTICE_TEXT = ("App Runner is closed to new AWS customers since 30 April 2026; ECS Express Mode "
               "(createEcsExpressArtifacts) is its successor.")
PRIVATE_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/java-tomcat-1dd8e7ba:latest"


def render(deployment, image_uri: str = "") -> dict[str, str]:
    return TARGET.render(deployment, image_uri, "ws/app/deployment.json")


def test_notice_and_next_steps():
    assert TARGET.notice() == NOTICE == NOTICE_TEXT
    notice, command = TARGET.next_steps(deployment_for(TARGET), "/ws/my app")
    assert notice == NOTICE_TEXT
    words = shlex.split(command)
    assert words[:3] == ["aws", "cloudformation", "deploy"]
    assert words[words.index("--template-file") + 1] == "/ws/my app/apprunner.yml"
    assert words[words.index("--stack-name") + 1] == "a2c-java-tomcat-1dd8e7ba-AppRunner"


def test_defaults_are_app2containers_fields_and_validate():
    defaults = TARGET.defaults(HEAD)
    assert defaults == {
        "createAppRunnerArtifacts": False, "stackName": "a2c-java-tomcat-1dd8e7ba-AppRunner",
        "serviceName": "java-tomcat-1dd8e7ba", "autoDeploymentsEnabled": True, "cpu": 1024, "memory": 4096,
        "healthCheckPath": "/hello/", "resourceTags": [{"key": "example-key", "value": "example-value"}]}
    validator = Draft202012Validator(TARGET.schema())
    validator.validate(defaults)
    validator.validate(deployment_for(TARGET)[TARGET.section])
    assert not validator.is_valid({**defaults, "serviceName": "abc"})  # App Runner names are 4-40
    assert not validator.is_valid({**defaults, "vpcId": "vpc-1"})


def test_a_long_id_gets_names_app_runner_and_cloudformation_take():
    head = AnalysisHead(**{**HEAD.__dict__, "app_id": "java-springboot." + "a_" * 60, "recommended_memory_mib": 0})
    defaults = TARGET.defaults(head)
    assert defaults["serviceName"] == ("java-springboot-" + "a_" * 60)[:40]
    assert len(defaults["stackName"]) <= 128 and defaults["stackName"].endswith("-AppRunner")
    assert (defaults["cpu"], defaults["memory"]) == (1024, 2048)
    Draft202012Validator(TARGET.schema()).validate(defaults)


def test_golden_files(golden):
    deployment = deployment_for(TARGET)
    files = render(deployment)
    assert set(files) == {"apprunner.yml", "README.md", "SECRETS.md"}  # the deployment reads secrets
    for name, text in files.items():
        golden(f"apprunner/AppRunnerDeployment/{name}", text)
    # The section only: the shared fields are deployment.py's, with goldens of their own.
    golden(f"apprunner/{TARGET.section}.json", json.dumps(deployment[TARGET.section], indent=2) + "\n")


def test_template_holds_the_service_and_its_roles():
    template = load_cfn(render(deployment_for(TARGET))["apprunner.yml"])
    resources = template["Resources"]
    assert {name: r["Type"] for name, r in resources.items()} == {
        "AccessRole": "AWS::IAM::Role", "InstanceRole": "AWS::IAM::Role", "Service": "AWS::AppRunner::Service"}
    service = resources["Service"]["Properties"]
    source = service["SourceConfiguration"]
    assert source["AutoDeploymentsEnabled"] is True
    assert source["AuthenticationConfiguration"] == {"AccessRoleArn": {"Fn::GetAtt": ["AccessRole", "Arn"]}}
    image = source["ImageRepository"]
    assert image["ImageRepositoryType"] == "ECR"
    assert image["ImageConfiguration"]["Port"] == "8080"
    assert image["ImageConfiguration"]["RuntimeEnvironmentVariables"] == [
        {"Name": "CATALINA_OPTS_EXTRA", "Value": "-Dfile.encoding=UTF-8"}]
    [secret] = image["ImageConfiguration"]["RuntimeEnvironmentSecrets"]
    assert secret["Name"] == "A2C_SECRET_DB_PASSWORD"
    assert service["InstanceConfiguration"] == {"Cpu": "1024", "Memory": "4096",
                                                "InstanceRoleArn": {"Fn::GetAtt": ["InstanceRole", "Arn"]}}
    assert service["HealthCheckConfiguration"]["Protocol"] == "HTTP"
    assert service["HealthCheckConfiguration"]["Path"] == "/hello/"
    # The instance role reads exactly the secrets the service names.
    statement = resources["InstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statement] == [[secret["Value"]]]
    access = resources["AccessRole"]["Properties"]
    principal = access["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "build.apprunner.amazonaws.com"}
    assert "AWSAppRunnerServicePolicyForECRAccess" in json.dumps(access["ManagedPolicyArns"])
    assert {"Key": "team", "Value": "payments"} in service["Tags"]
    assert set(template["Outputs"]) == {"ServiceUrl", "ServiceArn"}


def test_without_secrets_there_is_no_instance_role_and_ecr_public_needs_no_access_role():
    deployment = deployment_for(TARGET)
    deployment["secrets"] = []
    template = load_cfn(render(deployment, "public.ecr.aws/example/hello:1")["apprunner.yml"])
    assert set(template["Resources"]) == {"Service"}
    source = template["Resources"]["Service"]["Properties"]["SourceConfiguration"]
    assert source["ImageRepository"]["ImageRepositoryType"] == "ECR_PUBLIC"
    assert source["AutoDeploymentsEnabled"] is False  # App Runner watches private ECR only


def test_readme_states_cost_assumptions_the_notice_and_the_command():
    readme = render(deployment_for(TARGET))["README.md"]
    assert NOTICE_TEXT in readme
    assert "us-east-1 on-demand" in readme and "730 hours" in readme and "0.064" in readme
    assert "$21.44" in readme and "$68.16" in readme  # 4 × 0.007 × 730 + 1; (0.064 + 4 × 0.007) × 730 + 1
    assert ("aws cloudformation deploy --template-file apprunner.yml --stack-name "
            "a2c-java-tomcat-1dd8e7ba-AppRunner --capabilities CAPABILITY_IAM") in readme


@pytest.mark.parametrize("image", ["", PRIVATE_IMAGE, "public.ecr.aws/example/hello:1"])
def test_cfn_lint_is_clean(image, tmp_path):
    deployment = deployment_for(TARGET)
    if image:
        deployment.update(secrets=[], environment=[])
    cfn_lint(render(deployment, image)["apprunner.yml"], tmp_path, "apprunner.yml")


def test_checkov_is_clean_or_each_skip_is_explained(tmp_path):
    files = render(deployment_for(TARGET))
    skipped = checkov(files["apprunner.yml"], files["README.md"], tmp_path, "apprunner.yml")
    assert set(skipped) <= set(SKIPPED_CHECKS)


# -- refusals ---------------------------------------------------------------------------------
def test_a_tcp_only_service_is_refused_toward_ecs_with_an_nlb():
    head = AnalysisHead(**{**HEAD.__dict__, "ports": ((1521, "tcp"),)})
    error = refused("$.exposedPorts", render, deployment_for(TARGET, head))
    assert "createEcsArtifacts" in error.hint and "Network Load Balancer" in error.hint


def test_a_windows_image_is_refused():
    error = refused("$.platform", render, {**deployment_for(TARGET), "platform": "windows"})
    assert "Linux containers only" in error.message and "createAppRunnerArtifacts" in error.hint


@pytest.mark.parametrize(("cpu", "memory", "field", "hint"), [
    (8192, 16384, ".cpu", "Set $.appRunnerParameters.cpu to 4096"),
    (512, 2048, ".memory", "Pick a memory size for cpu 512: 1024; or the nearest pair, cpu 1024 with memory 2048"),
    (1024, 8192, ".memory", "cpu 4096 with memory 8192"),
    (2048, 5120, ".memory", "cpu 2048"),
])
def test_sizes_outside_app_runners_pairs_are_refused_with_the_nearest(cpu, memory, field, hint):
    error = refused("$.appRunnerParameters" + field, render, deployment_for(TARGET, cpu=cpu, memory=memory))
    assert hint in error.hint, error.hint


def test_an_image_outside_ecr_is_refused():
    error = refused("image URI", render, deployment_for(TARGET), "registry.example.com/team/app:1")
    assert "ECR" in error.hint


# -- hostile values ---------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "field"), [
    ({"stackName": "a2c-'app'"}, "$.appRunnerParameters.stackName"),
    ({"stackName": "a2c-app\nrm -rf ~"}, "$.appRunnerParameters.stackName"),
    ({"serviceName": "svc\"\n      EncryptionConfiguration: !Sub ${AWS::AccountId}"},
     "$.appRunnerParameters.serviceName"),
    ({"autoDeploymentsEnabled": "true"}, "$.appRunnerParameters.autoDeploymentsEnabled"),
    ({"resourceTags": [{"key": "team\nEvil: 1", "value": "x"}]}, "$.appRunnerParameters.resourceTags[0].key"),
])
def test_hostile_section_values_are_refused(change, field):
    refused(field, render, deployment_for(TARGET, **change))


def test_hostile_image_uri_is_refused():
    refused("image URI", render, deployment_for(TARGET), PRIVATE_IMAGE + "\n  Evil: x")


def test_hostile_strings_stay_strings(tmp_path):
    clean = load_cfn(render(deployment_for(TARGET))["apprunner.yml"])
    hostile = deployment_for(TARGET, healthCheckPath=VALUES["health_check_path"] + "\n!Sub ${AWS::AccountId}")
    hostile["environment"] = [{"name": "SUB", "value": "!Sub ${AWS::AccountId}"},
                              {"name": "NOTE", "value": VALUES["tag_value"]}]
    text = render(hostile)["apprunner.yml"]
    template = load_cfn(text)
    assert set(template["Resources"]) == set(clean["Resources"])
    service = template["Resources"]["Service"]["Properties"]
    path = service["HealthCheckConfiguration"]["Path"]
    assert path.startswith("/$(touch%20CANARY)/%60touch%20CANARY%60/a%20b%22c'd%25zz%41?q=1%0A!Sub")
    variables = service["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["RuntimeEnvironmentVariables"]
    assert variables == [{"Name": e["name"], "Value": e["value"]} for e in hostile["environment"]]
    cfn_lint(text, tmp_path, "hostile.yml", "E1029")  # the literal ${AWS::AccountId} is data on purpose
