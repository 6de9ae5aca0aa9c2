"""pipeline.json: the defaults written from a deployment.json, its schema, and the refusals of
what a schema cannot say (exactly one source and one pipeline enabled, at least one release)."""

from __future__ import annotations

import copy
import json

import pytest

from a2c.errors import InvalidFile
from a2c.pipelines.pipelinejson import (build_pipeline, check_pipeline, eks_cluster_name, ensure_pipeline,
                                        image_repository, kube_name)
from a2c.progress import Reporter
from a2c.targets.deployment import build_deployment
from a2c.targets.registry import load_targets
from a2c.workspace import Workspace, validate
from tests.unit.test_target_ecs_express import HEAD

APP = HEAD.app_id


@pytest.fixture(scope="module")
def targets():
    return load_targets()


@pytest.fixture
def deployment(targets):
    return build_deployment(HEAD, targets)


def test_defaults_from_a_deployment(deployment, targets):
    document = build_pipeline(deployment, targets)
    validate(document, "pipeline", "pipeline.json")
    assert document["a2CTemplateVersion"] == "1.0" and document["applicationId"] == APP
    assert document["imageInfo"]["image"] == f"{APP}:{deployment['ecrParameters']['ecrRepoTag']}"
    sources = document["sourceInfo"]
    assert [k for k, v in sources.items() if v["enabled"]] == ["CodeCommit"]
    assert sources["CodeCommit"] == {"enabled": True, "repositoryName": f"a2c-{APP}", "branch": "main",
                                     "createRepository": True}
    assert sources["S3"]["objectKey"] == f"{APP}/source.zip"
    assert [k for k, v in document["pipelineInfo"].items() if v["enabled"]] == ["CodePipeline"]
    ecs = document["releaseInfo"]["ECS"]
    stack = deployment["ecsParameters"]["stackName"]
    assert ecs["prod"] == {"enabled": True, "stackName": stack, "clusterName": f"{stack}-Cluster", "serviceName": ""}
    assert ecs["beta"]["enabled"] is False
    assert "beta" not in document["releaseInfo"]["AppRunner"]
    assert document["releaseInfo"]["AppRunner"]["prod"]["enabled"] is False  # App Runner is off in deployment.json
    assert document["releaseInfo"]["EKS"]["prod"]["enabled"] is False
    assert check_pipeline(document) == ("CodeCommit", "CodePipeline")


def test_each_switched_on_target_gets_a_prod_release(deployment, targets):
    for section in ("eksParameters", "appRunnerParameters", "ecsExpressParameters"):
        flag = next(k for k in deployment[section] if k.startswith("create"))
        deployment[section][flag] = True
    releases = build_pipeline(deployment, targets)["releaseInfo"]
    assert all(releases[k]["prod"]["enabled"] for k in ("ECS", "EKS", "EcsExpress", "AppRunner"))
    assert releases["AppRunner"]["prod"]["serviceName"] == deployment["appRunnerParameters"]["serviceName"]
    assert releases["EcsExpress"]["prod"]["serviceName"] == deployment["ecsExpressParameters"]["serviceName"]
    assert releases["EKS"]["prod"]["deploymentName"] == kube_name(APP)


def test_names_agree_with_the_targets(deployment):
    """pipelines do not import targets: the names copied from them are checked here."""
    from a2c.targets.ekscluster import cluster_settings
    from a2c.targets.eks import kube_name as eks_kube_name

    for app_id in (APP, "dotnet_app.v2-00aa", "9-starts-with-digit", "x" * 120):
        assert kube_name(app_id) == eks_kube_name(app_id)
        other = {**deployment, "applicationId": app_id}
        assert eks_cluster_name(other) == cluster_settings(other, "deployment.json")["name"]


def _with(document, change):
    edited = copy.deepcopy(document)
    change(edited)
    return edited


@pytest.mark.parametrize("change, fields", [
    (lambda d: d["sourceInfo"]["S3"].update(enabled=True), ["$.sourceInfo.CodeCommit.enabled", "$.sourceInfo.S3.enabled"]),
    (lambda d: d["sourceInfo"]["CodeCommit"].update(enabled=False), ["$.sourceInfo.CodeConnections.enabled"]),
    (lambda d: d["pipelineInfo"]["Jenkins"].update(enabled=True), ["$.pipelineInfo.Jenkins.enabled"]),
    (lambda d: d["pipelineInfo"]["CodePipeline"].update(enabled=False), ["$.pipelineInfo.GitHubActions.enabled"]),
    (lambda d: d["releaseInfo"]["ECS"]["prod"].update(enabled=False), ["$.releaseInfo.AppRunner.prod.enabled"]),
])
def test_exactly_one_source_and_pipeline_and_a_release(deployment, targets, change, fields):
    document = _with(build_pipeline(deployment, targets), change)
    validate(document, "pipeline", "pipeline.json")  # the schema takes it: the check is ours
    with pytest.raises(InvalidFile) as info:
        check_pipeline(document, "ws/app/pipeline.json")
    assert "ws/app/pipeline.json" in info.value.message and info.value.hint
    for name in fields:
        assert name in info.value.message + info.value.hint


def test_schema_refuses_an_app_runner_beta_and_unknown_fields(deployment, targets):
    document = build_pipeline(deployment, targets)
    for change in (lambda d: d["releaseInfo"]["AppRunner"].update(beta={"enabled": True}),
                   lambda d: d["sourceInfo"]["CodeCommit"].update(repo="x"),
                   lambda d: d["sourceInfo"]["CodeCommit"].update(branch="main\nx"),
                   lambda d: d.update(extra=1)):
        with pytest.raises(InvalidFile):
            validate(_with(document, change), "pipeline", "pipeline.json")


def test_image_repository():
    assert image_repository("shop:v1") == ("", "shop", "v1")
    assert image_repository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop:abc") == (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "team/shop", "abc")
    with pytest.raises(InvalidFile):
        image_repository("Bad Image")


def test_ensure_pipeline_writes_once_and_keeps_an_edited_file(tmp_path, deployment, targets):
    workspace = Workspace(tmp_path / "ws").ensure()
    path = ensure_pipeline(workspace, deployment, targets, Reporter())
    document = json.loads(path.read_text())
    document["sourceInfo"]["CodeCommit"]["branch"] = "release"
    path.write_text(json.dumps(document))
    ensure_pipeline(workspace, deployment, targets, Reporter())
    assert workspace.read_pipeline(APP)["sourceInfo"]["CodeCommit"]["branch"] == "release"
