"""The ECS target's variants: HTTP behind an ALB, HTTPS with a certificate, a TCP service behind
an NLB with a target group per port, state on EFS, a private service in a reused VPC. Each one
passes cfn-lint with no error or warning, and checkov with every skip written in its README."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest

from tests.conftest import FIXTURES, missing

from a2c.errors import InvalidFile
from a2c.targets.ecs import render_ecs

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def deployment():
    return json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text())


def _variant(base, **changes):
    deployment = copy.deepcopy(base)
    for path, value in changes.items():
        target = deployment
        *parents, last = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return deployment


VARIANTS = {
    "http": {},
    "https": {"ecsParameters.https": {"certificateArn": CERT}, "ecsParameters.enableExecuteCommand": True},
    "tcp": {"exposedPorts": [{"localPort": 9092, "protocol": "tcp"}, {"localPort": 8082, "protocol": "http"}]},
    "efs": {"persistentStorage": [{"path": "/var/lib/app/data", "storage": "efs"},
                                  {"path": "/srv/cache", "storage": "none"}]},
    "private": {"ecsParameters.publicApp": False, "ecsParameters.cpuArchitecture": "ARM64",
                "ecsParameters.reuseResources": {"vpcId": "vpc-0123456789abcdef0", "vpcCidr": "172.31.0.0/16",
                                                 "subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                                                 "privateSubnetIds": ["subnet-0123456789abcdef2",
                                                                      "subnet-0123456789abcdef3"]}},
    "no-nat": {"ecsParameters.natGateways": 0},
    "logs": {"ecsParameters.natGateways": 2, "ecsParameters.logging": {"driver": "firelens", "retentionDays": 90,
                                                                          "kmsKeyArn": KEY},
             "ecsParameters.accessLogs": {"bucket": "my-alb-logs", "prefix": "ledger/"},
             "ecsParameters.secretsKmsKeyArn": KEY,
             "secrets": [{"name": "A2C_SECRET_DB", "valueFrom": "/a2c/app/A2C_SECRET_DB", "foundIn": "x"}]},
    "ec2": {"ecsParameters.launchType": "EC2", "ecsParameters.ec2": {"instanceType": "c7g.large", "minSize": 1,
                                                                     "maxSize": 3},
            "ecsParameters.cpuArchitecture": "ARM64"},
    "windows": {"platform": "windows", "ecsParameters.launchType": "EC2"},
    "blue-green": {"ecsParameters.deployment": {"strategy": "blueGreen", "bakeTimeMinutes": 15},
                   "ecsParameters.https": {"certificateArn": CERT}},
    "scaling": {"ecsParameters.autoScaling": {
        "minCapacity": 1, "maxCapacity": 6, "targetTracking": [],
        "stepScaling": [{"metric": "cpu", "threshold": 80, "change": 2},
                        {"metric": "memory", "threshold": 20, "when": "below", "change": -1}],
        "scheduled": [{"name": "nights", "schedule": "cron(0 20 * * ? *)", "timezone": "Europe/Paris",
                       "minCapacity": 0, "maxCapacity": 1}]}},
}


def _render(tmp_path, deployment):
    files = render_ecs(deployment, "")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_is_cfn_lint_clean(tmp_path, deployment, name):
    if not shutil.which("cfn-lint"):
        missing("cfn-lint", "pip install cfn-lint")
    _render(tmp_path, _variant(deployment, **VARIANTS[name]))
    run = subprocess.run(["cfn-lint", str(tmp_path / "ecs-master.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


@pytest.mark.parametrize("name", VARIANTS)
def test_checkov_is_clean_or_each_skip_is_explained(tmp_path, deployment, name):
    from tests.checkov_run import checkov

    files = _render(tmp_path, _variant(deployment, **VARIANTS[name]))
    failed, skipped = checkov(tmp_path / "ecs-master.yml")
    assert failed == [], failed
    assert skipped  # the load balancer's on purpose at least, each in the README with why
    for check in skipped:
        assert f"`{check}`" in files["README.md"], check


def test_a_tcp_service_gets_a_network_load_balancer_with_a_target_group_per_port(tmp_path, deployment):
    template = _render(tmp_path, _variant(deployment, **VARIANTS["tcp"]))["ecs-master.yml"]
    assert "Type: network" in template and "Type: application" not in template
    assert "TargetGroup1:" in template and "TargetGroup2:" in template
    assert "HealthCheckProtocol: TCP" in template and "HealthCheckProtocol: HTTP" in template
    assert template.count("Protocol: TCP\n      DefaultActions") == 2


def test_state_goes_to_efs_with_an_access_point_per_path(tmp_path, deployment):
    template = _render(tmp_path, _variant(deployment, **VARIANTS["efs"]))["ecs-master.yml"]
    assert "AWS::EFS::FileSystem" in template and template.count("AWS::EFS::AccessPoint") == 1
    assert 'ContainerPath: "/var/lib/app/data"' in template and "/srv/cache" not in template
    assert "TransitEncryption: ENABLED" in template


@pytest.mark.parametrize("changes, words", [
    ({**VARIANTS["tcp"], "ecsParameters.https": {"certificateArn": CERT}}, "Network Load Balancer"),
    ({**VARIANTS["tcp"], "ecsParameters.autoScaling": {"minCapacity": 1, "maxCapacity": 2,
                                                       "targetTracking": [{"metric": "requests", "target": 100}]}},
     "Application Load Balancer"),
    ({"persistentStorage": [{"path": "/data\n  Evil: !Ref X", "storage": "efs"}]}, "persistentStorage[0].path"),
    ({"ecsParameters.launchType": "EC2", "ecsParameters.natGateways": 0}, "NAT gateway"),
    ({"ecsParameters.logging": {"retentionDays": 50}}, "the nearest is 60"),
    ({"platform": "windows", "ecsParameters.cpuArchitecture": "ARM64"}, "X86_64"),
    ({"ecsParameters.launchType": "EC2", "ecsParameters.ec2": {"minSize": 3, "maxSize": 2}}, "minSize"),
    ({"ecsParameters.accessLogs": {"bucket": "Bad_Bucket"}}, "accessLogs.bucket"),
    ({"ecsParameters.natGateways": 3}, "natGateways"),
    ({**VARIANTS["tcp"], "ecsParameters.deployment": {"strategy": "blueGreen"}}, "rolling"),
    ({"ecsParameters.deployment": {"strategy": "blueGreen", "bakeTimeMinutes": 2000}}, "bakeTimeMinutes"),
    ({"ecsParameters.autoScaling": {"stepScaling": [{"metric": "cpu", "threshold": 80, "change": -1}]}}, "above"),
    ({"ecsParameters.autoScaling": {"scheduled": [{"schedule": "0 20 * * *"}]}}, "schedule"),
    ({"ecsParameters.autoScaling": {"minCapacity": 3, "maxCapacity": 1}}, "minCapacity"),
    ({"ecsParameters.reuseResources": {"vpcId": "vpc-0123456789abcdef0",
                                       "subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
      "ecsParameters.publicApp": False}, "vpcCidr"),
])
def test_combinations_aws_refuses_are_refused_with_the_way_out(deployment, changes, words):
    with pytest.raises(InvalidFile) as refusal:
        render_ecs(_variant(deployment, **changes), "")
    assert words in refusal.value.message + refusal.value.hint


def test_tasks_run_in_private_subnets_behind_nat_by_default(tmp_path, deployment):
    template = _render(tmp_path, deployment)["ecs-master.yml"]
    assert "AWS::EC2::NatGateway" in template and template.count("AWS::EC2::NatGateway") == 1
    assert "Subnets: [!Ref PrivateSubnet1, !Ref PrivateSubnet2]" in template
    assert 'AssignPublicIp: "DISABLED"' in template
    assert "Subnets: [!Ref PublicSubnet1, !Ref PublicSubnet2]" in template  # the load balancer
    trial = _render(tmp_path, _variant(deployment, **VARIANTS["no-nat"]))["ecs-master.yml"]
    assert "NatGateway" not in trial and 'AssignPublicIp: "ENABLED"' in trial
    two = _render(tmp_path, _variant(deployment, **VARIANTS["logs"]))["ecs-master.yml"]
    assert "NatGatewayId: !Ref NatGateway2" in two


def test_the_container_health_check_asks_the_image_script_only_for_http_applications(tmp_path, deployment):
    http = _render(tmp_path, deployment)["ecs-master.yml"]
    assert 'Command: ["CMD", "/a2c/healthcheck.sh"]' in http
    tcp = _render(tmp_path, _variant(deployment, exposedPorts=[{"localPort": 9001, "protocol": "tcp"}]))
    assert "/a2c/healthcheck.sh" not in tcp["ecs-master.yml"]  # the NLB's TCP check covers it


def test_logs_names_and_keys(tmp_path, deployment):
    files = _render(tmp_path, _variant(deployment, **VARIANTS["logs"]))
    template = files["ecs-master.yml"]
    stack = deployment["ecsParameters"]["stackName"]
    assert f'LogGroupName: "/a2c/{stack}"' in template and "RetentionInDays: 90" in template
    assert f'KmsKeyId: "{KEY}"' in template and "LogDriver: awsfirelens" in template
    assert "FirelensConfiguration:" in template
    assert f'Action: kms:Decrypt\n                Resource: "{KEY}"' in template
    assert '"my-alb-logs"' in template and "access_logs.s3.enabled" in template
    assert "CKV_AWS_158" not in files["README.md"] and "CKV_AWS_91" not in files["README.md"]
    assert "task-definition.json" not in files


def test_ec2_and_windows_get_an_auto_scaling_group_with_a_capacity_provider(tmp_path, deployment):
    files = _render(tmp_path, _variant(deployment, **VARIANTS["ec2"]))
    template = files["ecs-master.yml"]
    assert "AWS::AutoScaling::AutoScalingGroup" in template and "AWS::ECS::CapacityProvider" in template
    assert "LaunchType: FARGATE" not in template and "CapacityProviderStrategy:" in template
    assert "arm64/recommended/image_id" in template and '"c7g.large"' in template
    assert '- "EC2"' in template and "InstanceRole:" in template and "HttpTokens: required" in template
    windows = _render(tmp_path, _variant(deployment, **VARIANTS["windows"]))["ecs-master.yml"]
    assert "Windows_Server-2022-English-Full-ECS_Optimized" in windows
    assert 'OperatingSystemFamily: "WINDOWS_SERVER_2022_FULL"' in windows and "Initialize-ECSAgent" in windows


def test_step_policies_get_their_alarms_and_scheduled_actions_their_bounds(tmp_path, deployment):
    files = _render(tmp_path, _variant(deployment, **VARIANTS["scaling"]))
    template = files["ecs-master.yml"]
    assert template.count("PolicyType: StepScaling") == 2 and template.count("AWS::CloudWatch::Alarm") == 2
    assert "AlarmActions:\n        - !Ref StepPolicy1" in template and "ScalingAdjustment: -1" in template
    assert 'Schedule: "cron(0 20 * * ? *)"' in template and 'Timezone: "Europe/Paris"' in template
    assert "TargetTrackingScaling" not in template
    assert "scheduled actions (nights cron(0 20 * * ? *))" in files["README.md"]


def test_blue_green_gives_ecs_two_target_groups_a_listener_rule_and_a_role_to_move_traffic(tmp_path, deployment):
    from cfnlint.decode import cfn_yaml

    files = _render(tmp_path, _variant(deployment, **VARIANTS["blue-green"]))
    resources = cfn_yaml.loads(files["ecs-master.yml"])["Resources"]
    service = resources["Service"]["Properties"]
    assert service["DeploymentConfiguration"]["Strategy"] == "BLUE_GREEN"
    assert service["DeploymentConfiguration"]["BakeTimeInMinutes"] == 15
    (balancer,) = service["LoadBalancers"]
    advanced = balancer["AdvancedConfiguration"]
    assert balancer["TargetGroupArn"] == {"Ref": "TargetGroup"}
    assert advanced["AlternateTargetGroupArn"] == {"Ref": "TargetGroupGreen"}
    assert advanced["ProductionListenerRule"] == {"Ref": "ProductionListenerRule"}
    rule = resources["ProductionListenerRule"]["Properties"]
    assert rule["ListenerArn"] == {"Ref": "Listener"}  # the HTTPS listener here
    weights = {g["TargetGroupArn"]["Ref"]: g["Weight"] for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
    assert weights == {"TargetGroup": 100, "TargetGroupGreen": 0}
    role = resources["LoadBalancerInfrastructureRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "blue/green" in files["README.md"] and "15 minutes" in files["README.md"]
    rolling = _render(tmp_path, deployment)
    assert "BLUE_GREEN" not in rolling["ecs-master.yml"] and "rolling deployment" in rolling["README.md"]
