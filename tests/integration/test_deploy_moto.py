"""``generate app-deployment --deploy`` against moto server: the real EcsDeployment template of a
workspace (a Tomcat snapshot taken through inventory, analyze and containerize, artifacts only)
deployed to moto's CloudFormation through a change set, with a2c's own AWS client provider
reaching moto through botocore's ``AWS_ENDPOINT_URL``. What it created is checked through
moto's ECS, ELBv2, CloudWatch Logs, S3 and CloudFormation APIs.

What moto (5.2) cannot check, so these tests do not claim it:
- ``AWS::ApplicationAutoScaling::ScalableTarget`` and ``::ScalingPolicy``: moto's CloudFormation
  accepts them and completes the stack without making anything (their stack resources have no
  logical or physical id). The template is deployed whole, nothing removed; the scaling is not checked.
- Stack outputs of a stack made or changed by a change set: moto never evaluates them
  (``Outputs`` stays absent), so the tests check that a2c returns what describe_stacks says,
  not the URL itself (tests/unit/test_stack_deploy.py checks outputs are printed and returned).
- Resource-level stack events: moto writes only the stack's own events (REVIEW/CREATE/UPDATE
  _IN_PROGRESS, _COMPLETE), so the streaming is seen on those.
- Rollbacks: moto never rolls back. A resource it rejects fails ExecuteChangeSet itself and leaves
  the stack in REVIEW_IN_PROGRESS. The ROLLBACK_COMPLETE test runs its own in-process moto server
  and puts the stack into the state AWS leaves (status and FAILED events) through moto's backend.
- ``AWS::ECS::Service``: moto keeps its cluster, name, desired count and task definition, and
  ignores LaunchType, NetworkConfiguration and LoadBalancers (it reports launchType EC2), so
  the service's wiring to the target group is checked on the template, not on moto.
- Updates propagate only to the resource whose properties changed: after a TaskDefinition
  change moto registers the new revision but leaves the Service on the old one, and a changed
  parameter default is not part of moto's change set diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from a2c.env import Environment
from a2c.steps import analyze, app_deployment, containerize, inventory
from a2c.targets.base import DeployOptions
from a2c.targets.stack import MAX_TEMPLATE_BODY, DeployFailed, DeployRefused, MissingSecrets, deploy_stack
from a2c.workspace import Workspace
from tests.conftest import FIXTURES, free_port
from tests.integration.aws_services import TEST_REGION, moto, moto_server  # noqa: F401
from tests.integration.test_aws_push import load_template
from tests.integration.test_steps_in_process import Recorder

pytestmark = [pytest.mark.aws]

TOMCAT_HOST = f"snapshot:{FIXTURES / 'snapshots' / 'tomcat-host'}"


# -- fixtures ----------------------------------------------------------------------------------

def point_at(monkeypatch, tmp_path: Path, url: str, bucket: str = "") -> None:
    """The process environment a user pointing a2c at an AWS endpoint would have: test keys,
    a region, botocore's AWS_ENDPOINT_URL, empty AWS files and an a2c config (maybe with a bucket)."""
    for key in list(os.environ):
        if key.startswith("AWS_") or key == "KUBECONFIG":
            monkeypatch.delenv(key)
    (tmp_path / "aws-config").write_text("")
    config = tmp_path / "a2c-config.json"
    config.write_text(json.dumps({"workspace": str(tmp_path / "ws"), "awsRegion": TEST_REGION, "s3Bucket": bucket}))
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": TEST_REGION,
                       "AWS_ENDPOINT_URL": url, "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"),
                       "AWS_EC2_METADATA_DISABLED": "true", "A2C_CONFIG": str(config)}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def env(tmp_path, monkeypatch, moto):
    """A workspace holding a containerized Tomcat (artifacts only, no Docker) and an Environment
    whose AWS clients come from a2c's own provider, pointed at moto."""
    point_at(monkeypatch, tmp_path, moto.url)
    return make_env(tmp_path)


def make_env(tmp_path: Path) -> Environment:
    environment = Environment(workspace=Workspace(tmp_path / "ws").ensure(), reporter=Recorder())
    listed = inventory.run(environment, inventory.InventoryRequest(host=TOMCAT_HOST))
    (app_id,) = [k for k, e in listed.entries.items() if e.application_type == "java-tomcat"]
    analyze.run(environment, analyze.AnalyzeRequest(app_id=app_id, host=TOMCAT_HOST))
    containerize.run(environment, containerize.ContainerizeRequest(app_id=app_id, host=TOMCAT_HOST, artifacts_only=True))
    environment.app_id = app_id  # type: ignore[attr-defined]
    return environment


def deployment_of(env: Environment) -> dict:
    return json.loads((env.workspace.app_dir(env.app_id) / "deployment.json").read_text())


def edit_deployment(env: Environment, change) -> None:
    path = env.workspace.app_dir(env.app_id) / "deployment.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2) + "\n")


def put_secrets(server, env: Environment, skip: tuple[str, ...] = ()) -> list[str]:
    """SSM parameters for deployment.json's secrets (but those named in ``skip``)."""
    ssm = server.client("ssm")
    names = [s["valueFrom"] for s in deployment_of(env)["secrets"] if s["name"] not in skip]
    for name in names:
        ssm.put_parameter(Name=name, Value="not-a-real-password", Type="SecureString")
    return names


def deploy(env: Environment, **options) -> app_deployment.AppDeploymentResult:
    return app_deployment.run(env, app_deployment.AppDeploymentRequest(app_id=env.app_id, deploy=True, **options))


def stack_of(server, name: str) -> dict:
    return server.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def said(env: Environment, text: str) -> list[str]:
    return [line for _, line in env.reporter.lines if text in line]


# -- tests -------------------------------------------------------------------------------------

def test_the_ecs_template_deploys_then_an_unchanged_one_succeeds_then_an_edit_updates(env, moto):
    secrets = deployment_of(env)["secrets"]
    assert secrets, "the Tomcat snapshot has secrets: the check before deploying is exercised"
    put_secrets(moto, env)

    result = deploy(env)

    (target,) = result.to_json()["targets"]
    stack_name = f"a2c-{env.app_id}-ECS"
    assert target["stackName"] == stack_name and target["stackStatus"] == "CREATE_COMPLETE", target
    stack = stack_of(moto, stack_name)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert target["outputs"] == {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    # The change set was printed before it ran, then the stack's events, each once.
    (changes,) = said(env, f"Changes to stack {stack_name} (create")
    for logical_id in ("Cluster", "Service", "LoadBalancer", "Listener", "LogGroup", "TaskDefinition"):
        assert f" {logical_id}  " in changes, changes
    assert len(said(env, f"{stack_name} CREATE_COMPLETE")) == 1, env.reporter.lines

    # What the stack made, asked of moto's own APIs, against what the rendered template asks for.
    resources = load_template(env.workspace.app_dir(env.app_id) / "EcsDeployment" / "ecs-master.yml")["Resources"]
    ecs = moto.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=[resources["Cluster"]["Properties"]["ClusterName"]])["clusters"]
    assert cluster["status"] == "ACTIVE"
    (service_arn,) = ecs.list_services(cluster=cluster["clusterArn"])["serviceArns"]
    (service,) = ecs.describe_services(cluster=cluster["clusterArn"], services=[service_arn])["services"]
    assert service["status"] == "ACTIVE" and service["desiredCount"] == 1
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["family"] == resources["TaskDefinition"]["Properties"]["Family"]
    container = task["containerDefinitions"][0]
    assert {s["name"] for s in container["secrets"]} == {s["name"] for s in secrets}
    elb = moto.client("elbv2")
    (balancer,) = elb.describe_load_balancers()["LoadBalancers"]
    assert balancer["Scheme"] == "internet-facing" and balancer["Type"] == "application"
    (listener,) = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    assert listener["Port"] == resources["Listener"]["Properties"]["Port"]
    assert listener["DefaultActions"][0]["Type"] == "forward"
    (group,) = elb.describe_target_groups(TargetGroupArns=[listener["DefaultActions"][0]["TargetGroupArn"]])["TargetGroups"]
    assert group["Port"] == 8080 and group["TargetType"] == "ip"
    log_properties = resources["LogGroup"]["Properties"]
    (log_group,) = moto.client("logs").describe_log_groups(logGroupNamePrefix=log_properties["LogGroupName"])["logGroups"]
    assert log_group["logGroupName"] == log_properties["LogGroupName"]
    assert log_group["retentionInDays"] == log_properties["RetentionInDays"] > 0

    # The same template again: no changes is a success, and nothing is executed.
    env.reporter.lines.clear()
    again = deploy(env)
    assert again.outputs[0].stack_status == "CREATE_COMPLETE"
    assert said(env, f"Stack {stack_name} is up to date") and not said(env, "Changes to stack")
    assert stack_of(moto, stack_name)["StackStatus"] == "CREATE_COMPLETE"

    # An edit of deployment.json becomes an UPDATE change set that is applied.
    edit_deployment(env, lambda d: d["ecsParameters"].update(cpu=1024, memory=2048))
    env.reporter.lines.clear()
    updated = deploy(env)
    assert updated.outputs[0].stack_status == "UPDATE_COMPLETE"
    (changes,) = said(env, f"Changes to stack {stack_name} (update")
    assert "Modify  TaskDefinition  AWS::ECS::TaskDefinition" in changes, changes
    assert stack_of(moto, stack_name)["StackStatus"] == "UPDATE_COMPLETE"
    latest = ecs.list_task_definitions(familyPrefix=task["family"], sort="DESC")["taskDefinitionArns"][0]
    revision = ecs.describe_task_definition(taskDefinition=latest)["taskDefinition"]
    assert revision["revision"] > task["revision"] and revision["memory"] == "2048"  # moto drops Cpu


def test_missing_secrets_are_named_and_nothing_is_deployed(env, moto):
    secrets = deployment_of(env)["secrets"]
    present = put_secrets(moto, env, skip=(secrets[0]["name"],))

    with pytest.raises(MissingSecrets) as caught:
        deploy(env)

    missing = secrets[0]
    assert missing["name"] in caught.value.message and missing["valueFrom"] in caught.value.message
    assert not any(name in caught.value.message for name in present)
    assert (f"aws ssm put-parameter --region {TEST_REGION} --type SecureString --name {missing['valueFrom']} "
            "--value 'VALUE'") in caught.value.hint
    assert caught.value.exit_status == 10
    assert moto.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_a_large_template_goes_through_the_s3_bucket_of_a2c_init(env, moto, tmp_path, monkeypatch):
    put_secrets(moto, env)
    # A long environment makes the rendered template larger than CloudFormation takes inline.
    edit_deployment(env, lambda d: d.update(environment=[{"name": f"SETTING_{i}", "value": "x" * 200}
                                                         for i in range(300)]))
    stack_name = f"a2c-{env.app_id}-ECS"

    with pytest.raises(DeployRefused) as caught:
        deploy(env)  # the config names no bucket yet
    assert "a2c init --s3-bucket" in caught.value.hint
    template = env.workspace.app_dir(env.app_id) / "EcsDeployment" / "ecs-master.yml"
    assert template.stat().st_size > MAX_TEMPLATE_BODY
    assert moto.client("cloudformation").list_stacks()["StackSummaries"] == []

    s3 = moto.client("s3")
    s3.create_bucket(Bucket="a2c-artifacts-test")
    point_at(monkeypatch, tmp_path, moto.url, bucket="a2c-artifacts-test")
    result = deploy(env)

    assert result.outputs[0].stack_status == "CREATE_COMPLETE"
    (uploaded,) = s3.list_objects_v2(Bucket="a2c-artifacts-test", Prefix=f"a2c/{stack_name}/")["Contents"]
    body = s3.get_object(Bucket="a2c-artifacts-test", Key=uploaded["Key"])["Body"].read()
    assert body == template.read_bytes()
    task = moto.client("ecs").list_task_definitions()["taskDefinitionArns"]
    container = moto.client("ecs").describe_task_definition(taskDefinition=task[0])["taskDefinition"]["containerDefinitions"][0]
    assert len(container["environment"]) >= 300


# -- a stack whose creation failed -------------------------------------------------------------

REJECTED = {  # a service in a cluster that does not exist: moto rejects it at ExecuteChangeSet
    "Resources": {"Service": {"Type": "AWS::ECS::Service",
                              "Properties": {"Cluster": "no-such-cluster", "TaskDefinition": "none:1", "DesiredCount": 1}}},
}


@pytest.fixture
def own_moto(tmp_path, monkeypatch):
    """A moto server in this process (its port), so that the test can reach its CloudFormation
    backend; reset and stopped afterwards."""
    import urllib.request

    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    point_at(monkeypatch, tmp_path, f"http://127.0.0.1:{port}")
    try:
        yield port
    finally:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST", data=b"")
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10).close()
        server.stop()


def roll_back(stack_name: str) -> None:
    """Put the stack into the state AWS leaves a failed creation in: ROLLBACK_COMPLETE, with the
    resource's CREATE_FAILED event and the stack's own events (moto never rolls back)."""
    from moto.cloudformation.models import Event, cloudformation_backends

    backend = cloudformation_backends["123456789012"][TEST_REGION]
    (stack,) = [s for s in backend.stacks.values() if s.name == stack_name]

    def event(logical_id: str, kind: str, status: str, reason: str | None = None) -> None:
        stack.events.append(Event(stack.stack_id, stack_name, logical_id, stack.stack_id if kind.endswith("Stack")
                                  else "", kind, status, reason, None))

    event("Service", "AWS::ECS::Service", "CREATE_FAILED", "Cluster not found.")
    event(stack_name, "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to "
          "create: [Service]. Rollback requested by user.")
    event(stack_name, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")
    stack.status = "ROLLBACK_COMPLETE"


# moto warns of each resource type its CloudFormation skips; in this process pytest makes warnings errors.
@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_a_stack_in_rollback_complete_is_recreated_only_with_yes(tmp_path, monkeypatch, own_moto):
    env = make_env(tmp_path)
    stack_name = f"a2c-{env.app_id}-ECS"
    server_client = _client_factory(own_moto)
    for secret in deployment_of(env)["secrets"]:
        server_client("ssm").put_parameter(Name=secret["valueFrom"], Value="x", Type="SecureString")
    # A first deploy that fails: a2c names the stack and what moto rejected.
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(REJECTED))
    from a2c.gateways.cloudformation import CloudFormationGateway

    with pytest.raises(DeployFailed) as failed:
        deploy_stack(CloudFormationGateway(env.aws()), stack_name, broken, env.reporter, DeployOptions(timeout=60))
    assert stack_name in failed.value.message and "Cluster not found" in failed.value.message
    roll_back(stack_name)

    with pytest.raises(DeployRefused) as refused:
        deploy(env)
    assert "ROLLBACK_COMPLETE" in refused.value.message and "Service (AWS::ECS::Service): Cluster not found." \
        in refused.value.message
    assert "--yes" in refused.value.hint and refused.value.exit_status == 10
    assert stack_of_client(server_client, stack_name)["StackStatus"] == "ROLLBACK_COMPLETE"

    # A "no" at the prompt refuses too; --yes deletes the failed stack and creates it anew.
    asked: list[str] = []
    with pytest.raises(DeployRefused):
        deploy(env, confirm=lambda question: asked.append(question) or False)
    assert asked and stack_name in asked[0]
    result = deploy(env, yes=True)

    assert result.outputs[0].stack_status == "CREATE_COMPLETE"
    stack = stack_of_client(server_client, stack_name)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert said(env, f"Deleting stack {stack_name}")
    assert server_client("ecs").list_services(cluster=server_client("ecs").list_clusters()["clusterArns"][0])["serviceArns"]


def _client_factory(port: int):
    import boto3

    def client(service: str):
        return boto3.client(service, region_name=TEST_REGION, endpoint_url=f"http://127.0.0.1:{port}",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    return client


def stack_of_client(client, name: str) -> dict:
    return client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def test_state_on_efs_and_tasks_behind_nat_deploy(env, moto):
    """persistentStorage on EFS (file system, a mount target per private subnet, an access point
    per path) and the private subnets with their NAT gateway, made by moto's CloudFormation and
    read back through its EC2 and EFS APIs. moto does not check that the access point's POSIX
    user can write, nor that tasks really egress through NAT."""
    put_secrets(moto, env)
    edit_deployment(env, lambda d: d.update(persistentStorage=[{"path": "/var/lib/ledger", "storage": "efs"}]))
    result = deploy(env)
    assert result.outputs[0].stack_status == "CREATE_COMPLETE"
    ec2 = moto.client("ec2")
    assert len(ec2.describe_nat_gateways()["NatGateways"]) == 1
    names = {t["Value"] for s in ec2.describe_subnets()["Subnets"] for t in s.get("Tags", []) if t["Key"] == "Name"}
    assert {f"a2c-{env.app_id}-ECS-private-1", f"a2c-{env.app_id}-ECS-private-2"} <= names
    efs = moto.client("efs")
    (system,) = efs.describe_file_systems()["FileSystems"]
    assert system["Encrypted"] is True
    assert len(efs.describe_mount_targets(FileSystemId=system["FileSystemId"])["MountTargets"]) == 2
    (point,) = efs.describe_access_points(FileSystemId=system["FileSystemId"])["AccessPoints"]
    assert point["PosixUser"]["Uid"] == 10001 and point["RootDirectory"]["Path"] == f"/{env.app_id}/var-lib-ledger"


def test_the_ec2_launch_type_deploys_its_instances(env, moto):
    """The EC2 launch type: the launch template and Auto Scaling group of container instances,
    read back through moto's Auto Scaling API. The capacity provider's managed scaling, and the
    instances joining the cluster, are not modelled by moto."""
    put_secrets(moto, env)
    ssm = moto.client("ssm")
    for name in ("/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",):
        try:
            ssm.get_parameter(Name=name)
        except ssm.exceptions.ParameterNotFound:
            ssm.put_parameter(Name=name, Value="ami-12c6146b", Type="String")
    edit_deployment(env, lambda d: d["ecsParameters"].update(launchType="EC2", ec2={"instanceType": "m6i.large",
                                                                                     "minSize": 1, "maxSize": 3}))
    result = deploy(env)
    assert result.outputs[0].stack_status == "CREATE_COMPLETE"
    (group,) = moto.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert (group["MinSize"], group["MaxSize"]) == (1, 3)
    assert {t["Key"]: t["Value"] for t in group["Tags"]}["a2c-application-id"] == env.app_id


def test_blue_green_deploys_its_second_target_group_and_listener_rule(env, moto):
    """ECS's blue/green: the second target group and the weighted production listener rule, read
    back through moto's ELBv2 API. moto records the service but does not run ECS's blue/green
    (no green revision, no traffic shift, no bake time), nor check the infrastructure role."""
    put_secrets(moto, env)
    edit_deployment(env, lambda d: d["ecsParameters"].update(deployment={"strategy": "blueGreen",
                                                                          "bakeTimeMinutes": 5}))
    result = deploy(env)
    assert result.outputs[0].stack_status == "CREATE_COMPLETE"
    elb = moto.client("elbv2")
    groups = elb.describe_target_groups()["TargetGroups"]
    assert len(groups) == 2
    (listener,) = elb.describe_listeners(LoadBalancerArn=groups[0]["LoadBalancerArns"][0])["Listeners"]
    (rule,) = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
    weights = sorted(g.get("Weight") for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"])
    assert rule["Priority"] == "1" and weights == [0, 100]
