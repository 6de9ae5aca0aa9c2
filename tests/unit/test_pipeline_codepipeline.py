"""The CodePipeline kind: pipeline.yml is cfn-lint clean for each source and release kind, no IAM
statement grants every action on every resource, the buildspec is a CodeBuild 0.2 buildspec, and
the stages are the ones pipeline.json asks for."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import pytest
import yaml

from a2c.errors import InvalidFile
from a2c.pipelines.codepipeline import CodePipelinePipeline
from a2c.pipelines.pipelinejson import build_pipeline
from a2c.pipelines.registry import load_pipelines
from a2c.targets.deployment import build_deployment
from a2c.targets.registry import load_targets
from tests.unit.test_target_ecs_express import HEAD, cfn_lint, load_cfn

KIND = CodePipelinePipeline()
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return build_deployment(HEAD, load_targets())


def pipeline_for(deployment: dict[str, Any], source: str = "CodeCommit", releases: tuple[str, ...] = ("ECS",),
                 beta: bool = False) -> dict[str, Any]:
    document = copy.deepcopy(build_pipeline(deployment, load_targets()))
    for key, settings in document["sourceInfo"].items():
        settings["enabled"] = key == source
    document["sourceInfo"]["CodeConnections"].update(connectionArn=CONNECTION, repositoryId="example/shop")
    document["sourceInfo"]["S3"].update(bucket="example-sources")
    for key, environments in document["releaseInfo"].items():
        for name, settings in environments.items():
            settings["enabled"] = key in releases and (name == "prod" or beta)
            if key == "ECS" and name == "beta":
                settings.update(stackName="a2c-shop-beta-ECS", clusterName="a2c-shop-beta-ECS-Cluster")
            if key == "EKS" and name == "beta":
                settings.update(clusterName="beta-cluster")
            if key == "EcsExpress" and name == "beta":
                settings.update(stackName="a2c-shop-beta-EcsExpress", serviceName="shop-beta")
    document["releaseInfo"]["ECS"]["prod"]["serviceName"] = "a2c-shop-ECS-Service-AbC123"
    document["resourceTags"] = [{"key": "team", "value": "payments"}]
    return document


def render(deployment: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    return KIND.render(pipeline_for(deployment, **kwargs), deployment, "pipeline.json")


def test_registered():
    assert isinstance(load_pipelines().get("codepipeline"), CodePipelinePipeline)
    assert KIND.section == "CodePipeline" and KIND.flag == "enabled" and KIND.output_folder == "CodePipeline"


@pytest.mark.parametrize("source", ["CodeCommit", "CodeConnections", "S3"])
@pytest.mark.parametrize("release", ["ECS", "EKS", "AppRunner", "EcsExpress"])
def test_cfn_lint_is_clean(deployment, source, release, tmp_path):
    files = render(deployment, source=source, releases=(release,), beta=release != "AppRunner")
    cfn_lint(files["pipeline.yml"], tmp_path, "pipeline.yml")


def test_every_release_at_once_is_clean(deployment, tmp_path):
    files = render(deployment, releases=("ECS", "EKS", "AppRunner", "EcsExpress"), beta=True)
    cfn_lint(files["pipeline.yml"], tmp_path, "pipeline.yml")


def _policies(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []):
            yield name, policy["PolicyDocument"]
        if "PolicyDocument" in properties:
            yield name, properties["PolicyDocument"]
        if "AssumeRolePolicyDocument" in properties:
            yield name, properties["AssumeRolePolicyDocument"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("source", ["CodeCommit", "CodeConnections", "S3"])
def test_no_iam_statement_allows_every_action_on_every_resource(deployment, source):
    template = load_cfn(render(deployment, source=source, releases=("ECS", "EKS", "AppRunner", "EcsExpress"),
                               beta=True)["pipeline.yml"])
    walked = 0
    for name, document in _policies(template):
        for statement in _listed(document["Statement"]):
            walked += 1
            if statement["Effect"] != "Allow":
                continue
            actions = [a for a in _listed(statement.get("Action", [])) if isinstance(a, str)]
            resources = _listed(statement.get("Resource", []))
            assert not any(a == "*" or a.endswith(":*") for a in actions), (name, statement)
            if "*" in resources:  # only where AWS authorizes the action on "*" alone
                assert set(actions) <= {"ecr:GetAuthorizationToken", "ecs:RegisterTaskDefinition",
                                        "ecs:DescribeTaskDefinition", "ecs:DescribeTasks", "ecs:ListTasks",
                                        "ecs:TagResource"}, (name, statement)
    assert walked >= 8


def test_buildspec_shape(deployment):
    files = render(deployment)
    spec = yaml.safe_load(files["buildspec.yml"])
    assert str(spec["version"]) == "0.2"
    assert set(spec["phases"]) == {"pre_build", "build", "post_build"}
    commands = "\n".join(c for phase in spec["phases"].values() for c in phase["commands"])
    assert "aws ecr get-login-password" in commands and "docker login" in commands
    assert "CODEBUILD_RESOLVED_SOURCE_VERSION" in commands
    assert 'docker build --tag "$REPOSITORY_URI:$IMAGE_TAG" .' in commands
    assert 'docker push "$REPOSITORY_URI:$IMAGE_TAG"' in commands
    assert spec["artifacts"]["files"] == ["imagedefinitions.json"]
    deploy = yaml.safe_load(files["deployspec.yml"])
    assert str(deploy["version"]) == "0.2"
    script = "\n".join(deploy["phases"]["build"]["commands"])
    for command in ("kubectl set image", "aws ecs update-express-gateway-service", "aws apprunner update-service"):
        assert command in script


def test_stages_and_actions(deployment):
    template = load_cfn(render(deployment, source="CodeConnections", releases=("ECS", "EKS"), beta=True)["pipeline.yml"])
    resources = template["Resources"]
    stages = resources["Pipeline"]["Properties"]["Stages"]
    assert [s["Name"] for s in stages] == ["Source", "Build", "DeployBeta", "Approve", "DeployProd"]
    source = stages[0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION
    assert stages[3]["Actions"][0]["ActionTypeId"] == {"Category": "Approval", "Owner": "AWS", "Provider": "Manual",
                                                       "Version": "1"}
    prod = {a["Name"]: a for a in stages[4]["Actions"]}
    ecs = prod["ECSProd"]
    assert ecs["ActionTypeId"]["Provider"] == "ECS"
    assert ecs["Configuration"]["FileName"] == "imagedefinitions.json"
    assert ecs["Configuration"]["ServiceName"] == "a2c-shop-ECS-Service-AbC123"
    assert prod["EKSProd"]["ActionTypeId"]["Provider"] == "CodeBuild"
    assert resources["BuildProject"]["Properties"]["Environment"]["PrivilegedMode"] is True
    entries = [r for r in resources.values() if r["Type"] == "AWS::EKS::AccessEntry"]
    assert {e["Properties"]["ClusterName"] for e in entries} == {"beta-cluster", HEAD_EKS_CLUSTER(deployment)}
    bucket = resources["ArtifactBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {k: True for k in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["LifecycleConfiguration"]["Rules"][0]["Status"] == "Enabled"


def HEAD_EKS_CLUSTER(deployment: dict[str, Any]) -> str:  # noqa: N802
    from a2c.pipelines.pipelinejson import eks_cluster_name

    return eks_cluster_name(deployment)


def test_an_unnamed_ecs_service_becomes_a_parameter(deployment):
    document = pipeline_for(deployment)
    document["releaseInfo"]["ECS"]["prod"]["serviceName"] = ""
    files = KIND.render(document, deployment, "pipeline.json")
    template = load_cfn(files["pipeline.yml"])
    assert "ECSProdServiceName" in template["Parameters"]
    assert "--parameter-overrides ECSProdServiceName=SERVICE" in files["README.md"]


def test_refusals_name_the_field(deployment):
    for change, field in ((lambda d: d["sourceInfo"]["CodeConnections"].update(connectionArn=""),
                           "$.sourceInfo.CodeConnections.connectionArn"),
                          (lambda d: d["sourceInfo"]["CodeConnections"].update(repositoryId="no-slash"),
                           "$.sourceInfo.CodeConnections.repositoryId")):
        document = pipeline_for(deployment, source="CodeConnections")
        change(document)
        with pytest.raises(InvalidFile) as info:
            KIND.render(document, deployment, "pipeline.json")
        assert field in info.value.message
    document = pipeline_for(deployment)
    for settings in document["sourceInfo"].values():
        settings["enabled"] = False
    document["sourceInfo"]["ExistingGitRepo"]["enabled"] = True
    with pytest.raises(InvalidFile, match="ExistingGitRepo"):
        KIND.render(document, deployment, "pipeline.json")


def test_hostile_values_stay_data(deployment, tmp_path):
    """A tag value with YAML and !Sub syntax stays one string in the template."""
    document = pipeline_for(deployment)
    hostile = "x\"\n  Evil: !Ref AWS::NoValue ${AWS::AccountId}"
    document["resourceTags"] = [{"key": "note", "value": hostile}]
    template = load_cfn(KIND.render(document, deployment, "pipeline.json")["pipeline.yml"])
    tags = template["Resources"]["ArtifactBucket"]["Properties"]["Tags"]
    assert {"Key": "note", "Value": hostile} in tags


def test_readme_has_cost_and_command(deployment):
    readme = render(deployment)["README.md"]
    assert "## Rough monthly cost" in readme and "a month" in readme
    assert "aws cloudformation deploy --template-file pipeline.yml" in readme


@pytest.mark.parametrize("source", ["CodeCommit", "CodeConnections", "S3"])
def test_checkov_is_clean_or_each_skip_is_explained(deployment, source, tmp_path):
    from tests.checkov_run import checkov

    files = render(deployment, source=source, releases=("ECS", "EKS", "AppRunner", "EcsExpress"), beta=True)
    (tmp_path / "pipeline.yml").write_text(files["pipeline.yml"])
    failed, skipped = checkov(tmp_path / "pipeline.yml")
    assert failed == []
    assert skipped  # the two on purpose, each in the README with why
    for check in skipped:
        assert f"`{check}`" in files["README.md"], check
