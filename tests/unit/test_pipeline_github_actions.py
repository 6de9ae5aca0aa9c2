"""The GitHub Actions pipeline kind: the workflow passes GitHub's workflow schema, the role template
passes cfn-lint, every IAM statement is narrow, the role trusts exactly the repository's branch
and prod environment, and hostile values are refused before anything is written."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from a2c.errors import ExitStatus, InvalidFile
from a2c.generate.quoting import github_expression, groovy_literal
from a2c.pipelines.github_actions import GitHubActionsPipeline
from a2c.generate.quoting import UnsafeValue

from tests.conftest import FIXTURES, missing

APP = "java-tomcat-1dd8e7ba"
IMAGE = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{APP}:latest"
DEPLOYMENT = json.loads((FIXTURES / "expected" / "legacy-tomcat" / "deployment.json").read_text(encoding="utf-8"))


def pipeline_json(shape: str = "ecs", image: str = IMAGE, **pipeline_info: Any) -> dict[str, Any]:
    """A pipeline.json: "ecs" (beta only), "ecs-beta-prod", "eks" (beta and prod), "apprunner" (prod)."""
    off = {"enabled": False}
    release: dict[str, Any] = {
        "ECS": {"beta": dict(off), "prod": dict(off)}, "EKS": {"beta": dict(off), "prod": dict(off)},
        "EcsExpress": {"beta": dict(off), "prod": dict(off)}, "AppRunner": {"prod": dict(off)}}
    ecs = {"enabled": True, "stackName": f"a2c-{APP}-ECS", "clusterName": f"a2c-{APP}-ECS-Cluster",
           "serviceName": f"a2c-{APP}-ECS-Service-AbC123"}
    if shape in ("ecs", "ecs-beta-prod"):
        release["ECS"]["beta"] = ecs
    if shape == "ecs-beta-prod":
        release["ECS"]["prod"] = {**ecs, "stackName": f"a2c-{APP}-ECS-prod", "clusterName": "prod-cluster",
                                  "serviceName": "prod-service"}
    if shape == "eks":
        release["EKS"]["beta"] = {"enabled": True, "clusterName": "beta-cluster"}
        release["EKS"]["prod"] = {"enabled": True, "clusterName": "prod-cluster", "namespace": "shop"}
    if shape == "apprunner":
        release["AppRunner"]["prod"] = {"enabled": True, "stackName": f"a2c-{APP}-AppRunner", "serviceName": APP}
    github = {"enabled": True, "repository": "example-org/legacy-tomcat", "branch": "main"}
    github.update(pipeline_info.pop("GitHubActions", {}))
    jenkins = {"enabled": False, "jenkinsServerUrl": "https://jenkins.example.com", "nodeLabels": ["linux", "docker"],
               "awsCredentialId": "a2c-aws"}
    jenkins.update(pipeline_info.pop("Jenkins", {}))
    return {
        "a2CTemplateVersion": "1.0", "applicationId": APP, "imageInfo": {"image": image},
        "sourceInfo": {"CodeCommit": {"enabled": False, "repositoryName": APP, "branch": "main"},
                       "ExistingGitRepo": {"enabled": True, "repositoryUri": "git@github.com:example-org/legacy-tomcat.git",
                                           "branch": "main", "sshKeyArn": ""},
                       "CodeConnections": {"enabled": False}, "S3": {"enabled": False}},
        "releaseInfo": release,
        "pipelineInfo": {"GitHubActions": github, "Jenkins": jenkins, **pipeline_info},
        "resourceTags": [{"key": "team", "value": "shop"}],
    }


SHAPES = ["ecs", "ecs-beta-prod", "eks", "apprunner"]


def render(pipeline: dict[str, Any], deployment: dict[str, Any] | None = None) -> dict[str, str]:
    return GitHubActionsPipeline().render(pipeline, deployment or DEPLOYMENT, "ws/app/pipeline.json")


def workflow(files: dict[str, str]) -> dict[str, Any]:
    return yaml.safe_load(files[f".github/workflows/a2c-{APP}.yml"])


def role_template(files: dict[str, str]) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.loads(files["github-oidc-role.yml"])


def test_class_attributes():
    kind = GitHubActionsPipeline()
    assert (kind.id, kind.section, kind.flag, kind.output_folder) == ("github-actions", "GitHubActions", "enabled",
                                                                     "GitHubActions")
    assert kind.description


@pytest.mark.parametrize("shape", SHAPES)
def test_files_and_jobs(shape):
    files = render(pipeline_json(shape))
    assert set(files) == {f".github/workflows/a2c-{APP}.yml", "github-oidc-role.yml", "README.md"}
    flow = workflow(files)
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads the key on as true
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    jobs = flow["jobs"]
    build = jobs["build"]
    assert build["permissions"] == {"id-token": "write", "contents": "read"}
    uses = [step.get("uses", "") for step in build["steps"]]
    assert uses[:3] == ["actions/checkout@v4", "aws-actions/configure-aws-credentials@v4", "aws-actions/amazon-ecr-login@v2"]
    assert build["steps"][1]["with"]["role-to-assume"] == "${{ vars.A2C_AWS_ROLE_ARN }}"
    assert "aws-access-key-id" not in json.dumps(flow)
    runs = " ".join(step.get("run", "") for step in build["steps"])
    assert 'docker build --tag "$REGISTRY/$ECR_REPOSITORY:$IMAGE_TAG" .' in runs and "docker push" in runs
    assert flow["env"]["IMAGE_TAG"] == "${{ github.sha }}" and flow["env"]["AWS_REGION"] == "eu-west-1"
    has_beta, has_prod = shape != "apprunner", shape in ("ecs-beta-prod", "eks", "apprunner")
    assert ("deploy-beta" in jobs) == has_beta and ("deploy-prod" in jobs) == has_prod
    if has_prod:
        assert jobs["deploy-prod"]["environment"] == "prod"
        assert jobs["deploy-prod"]["needs"] == (["build", "deploy-beta"] if has_beta else "build")
    if has_beta:
        assert "environment" not in jobs["deploy-beta"]  # its OIDC subject is the branch
    for job in jobs.values():
        for step in job["steps"]:
            if "uses" in step:
                assert step["uses"].split("@")[1] in ("v1", "v2", "v4"), step["uses"]  # major versions


def test_deploy_steps_per_kind():
    ecs = workflow(render(pipeline_json("ecs")))["jobs"]["deploy-beta"]["steps"]
    uses = [s.get("uses") for s in ecs if "uses" in s]
    assert uses[-2:] == ["aws-actions/amazon-ecs-render-task-definition@v1", "aws-actions/amazon-ecs-deploy-task-definition@v2"]
    deploy = ecs[-1]["with"]
    assert deploy["cluster"] == f"a2c-{APP}-ECS-Cluster" and deploy["wait-for-service-stability"] is True
    assert ecs[-2]["with"]["container-name"] == APP
    eks = workflow(render(pipeline_json("eks")))["jobs"]["deploy-prod"]["steps"][-1]
    assert "aws eks update-kubeconfig" in eks["run"] and "kubectl --namespace \"$NAMESPACE\" set image" in eks["run"]
    assert eks["env"]["NAMESPACE"] == "shop" and eks["env"]["DEPLOYMENT"] == APP
    runner = workflow(render(pipeline_json("apprunner")))["jobs"]["deploy-prod"]["steps"][-1]
    assert "update-stack" in runner["run"] and runner["env"]["STACK"] == f"a2c-{APP}-AppRunner"


@pytest.mark.parametrize("shape", SHAPES)
def test_workflow_passes_githubs_schema(shape, tmp_path):
    tool = shutil.which("check-jsonschema")
    if tool is None:
        missing("check-jsonschema", "pip install check-jsonschema")
    files = render(pipeline_json(shape))
    path = tmp_path / "workflow.yml"
    path.write_text(files[f".github/workflows/a2c-{APP}.yml"])
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("shape", SHAPES)
def test_role_template_passes_cfn_lint(shape, tmp_path):
    tool = shutil.which("cfn-lint")
    if tool is None:
        missing("cfn-lint", "pip install cfn-lint")
    path = tmp_path / "github-oidc-role.yml"
    path.write_text(render(pipeline_json(shape))["github-oidc-role.yml"])
    result = subprocess.run([tool, "--format", "parseable", "--", str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def policy_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def assert_narrow(statements: list[dict[str, Any]]) -> None:
    """No statement allows every action on every resource, and no action is a service wildcard."""
    for statement in statements:
        actions, resources = as_list(statement.get("Action", [])), as_list(statement.get("Resource", []))
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        assert not ("*" in actions and "*" in resources), statement
        assert all(isinstance(a, str) and a != "*" and not a.endswith(":*") for a in actions), statement
        if "*" in resources:  # only actions AWS authorizes on "*" alone
            assert set(actions) <= {"ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition",
                                    "ecs:RegisterTaskDefinition"}, statement
        if "iam:PassRole" in actions:
            assert "iam:PassedToService" in statement["Condition"]["StringEquals"], statement


@pytest.mark.parametrize("shape", SHAPES)
def test_every_iam_statement_is_narrow(shape):
    template = role_template(render(pipeline_json(shape)))
    role = template["Resources"]["DeployRole"]["Properties"]
    walked = 0
    for policy in role["Policies"]:
        statements = policy_statements(policy["PolicyDocument"])
        assert_narrow(statements)
        walked += len(statements)
    assert walked >= 3
    ecr = next(s for s in policy_statements(role["Policies"][0]["PolicyDocument"]) if "ecr:PutImage" in s["Action"])
    assert ecr["Resource"] == {"Fn::Sub": f"arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{APP}"}


@pytest.mark.parametrize(("shape", "subjects"), [
    ("ecs", ["repo:example-org/legacy-tomcat:ref:refs/heads/main"]),
    ("ecs-beta-prod", ["repo:example-org/legacy-tomcat:ref:refs/heads/main",
                       "repo:example-org/legacy-tomcat:environment:prod"]),
    ("apprunner", ["repo:example-org/legacy-tomcat:ref:refs/heads/main",
                   "repo:example-org/legacy-tomcat:environment:prod"]),
])
def test_trust_policy_subjects_are_exactly_the_repo_branch_and_environment(shape, subjects):
    template = role_template(render(pipeline_json(shape)))
    [statement] = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(statement["Condition"]) == {"StringEquals"}  # no StringLike wildcards
    condition = statement["Condition"]["StringEquals"]
    assert condition == {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                         "token.actions.githubusercontent.com:sub": subjects}
    provider = template["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateOidcProvider"
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert "ExistingOidcProviderArn" in template["Parameters"]


def test_readme_says_how_to_deploy_and_protect_prod():
    readme = render(pipeline_json("ecs-beta-prod"))["README.md"]
    assert "aws cloudformation deploy --template-file github-oidc-role.yml --stack-name" in readme
    assert "gh variable set A2C_AWS_ROLE_ARN" in readme and "required reviewers" in readme


def test_region_comes_from_a_variable_without_an_ecr_uri():
    flow = workflow(render(pipeline_json("ecs", image=f"{APP}:latest")))
    assert flow["env"]["AWS_REGION"] == "${{ vars.AWS_REGION }}" and flow["env"]["ECR_REPOSITORY"] == APP


def _refused(field: str, pipeline: dict[str, Any]) -> None:
    with pytest.raises(InvalidFile) as info:
        render(pipeline)
    assert field in info.value.message, info.value.message
    assert info.value.exit_status == ExitStatus.INVALID_FILE and info.value.hint


@pytest.mark.parametrize(("change", "field"), [
    ({"GitHubActions": {"repository": "example-org/legacy\nname: evil"}}, "$.pipelineInfo.GitHubActions.repository"),
    ({"GitHubActions": {"repository": "example-org/${{ secrets.X }}"}}, "$.pipelineInfo.GitHubActions.repository"),
    ({"GitHubActions": {"repository": "no-owner"}}, "$.pipelineInfo.GitHubActions.repository"),
    ({"GitHubActions": {"branch": "main branch"}}, "$.pipelineInfo.GitHubActions.branch"),
    ({"GitHubActions": {"branch": "${{ github.token }}"}}, "$.pipelineInfo.GitHubActions.branch"),
    ({"GitHubActions": {"branch": "*"}}, "$.pipelineInfo.GitHubActions.branch"),
    ({"GitHubActions": {"branch": "a/../b"}}, "$.pipelineInfo.GitHubActions.branch"),
])
def test_hostile_pipeline_info_is_refused(change, field):
    _refused(field, pipeline_json("ecs-beta-prod", **change))


@pytest.mark.parametrize(("edit", "field"), [
    (lambda p: p["imageInfo"].update(image="repo:tag\n  evil: 1"), "$.imageInfo.image"),
    (lambda p: p["imageInfo"].update(image="ghcr.io/x/y:1"), "$.imageInfo.image"),
    (lambda p: p["releaseInfo"]["ECS"]["beta"].update(stackName="a2c-${AWS::AccountId}"), "$.releaseInfo.ECS.beta.stackName"),
    (lambda p: p["releaseInfo"]["ECS"]["beta"].update(serviceName="svc\nx"), "$.releaseInfo.ECS.beta.serviceName"),
    (lambda p: p["releaseInfo"]["ECS"]["beta"].update(clusterName="a b"), "$.releaseInfo.ECS.beta.clusterName"),
    (lambda p: p.update(applicationId="App ${{ x }}"), "$.applicationId"),
    (lambda p: p["resourceTags"].append({"key": "k", "value": "v\nw"}), "$.resourceTags[1].value"),
    (lambda p: p["releaseInfo"]["ECS"]["beta"].update(enabled=False), "$.releaseInfo"),
])
def test_hostile_release_values_are_refused(edit, field):
    pipeline = copy.deepcopy(pipeline_json("ecs"))
    edit(pipeline)
    _refused(field, pipeline)


def test_eks_cluster_name_is_checked():
    pipeline = pipeline_json("eks")
    pipeline["releaseInfo"]["EKS"]["prod"]["namespace"] = "Shop; rm"
    _refused("$.releaseInfo.EKS.prod.namespace", pipeline)


def test_expression_filter_takes_only_context_references():
    assert github_expression("github.sha") == "${{ github.sha }}"
    for bad in ("github.sha }}${{ secrets.X", "a b", "x\ny", ""):
        with pytest.raises(UnsafeValue):
            github_expression(bad)


def test_groovy_literal_never_closes_its_quote():
    assert groovy_literal("it's a \\ test") == "'it\\'s a \\\\ test'"
    assert groovy_literal("a\nb\u2028c") == "'a\\u000ab\\u2028c'"
    assert groovy_literal("${x} $y") == "'${x} $y'"  # single-quoted Groovy strings do not interpolate


def test_templates_live_in_the_source_tree():
    root = Path(__file__).resolve().parents[2] / "templates" / "pipeline" / "github-actions"
    assert {p.name for p in root.glob("*.j2")} == {"workflow.yml.j2", "github-oidc-role.yml.j2", "README.md.j2"}


@pytest.mark.parametrize("shape", SHAPES)
def test_role_template_passes_checkov(shape, tmp_path):
    from tests.checkov_run import checkov

    path = tmp_path / "github-oidc-role.yml"
    path.write_text(render(pipeline_json(shape))["github-oidc-role.yml"])
    failed, skipped = checkov(path)
    assert failed == [] and skipped == []
