"""The Jenkins pipeline kind: the Jenkinsfile's structure (pipeline, agent, stages, one deploy stage
per environment, the approval before prod), config.xml as a pipeline job, a narrow agent policy,
and hostile values refused or kept inside their Groovy quotes."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from a2c.analyzers.common.safexml import local_name, parse_xml
from a2c.errors import ExitStatus, InvalidFile
from a2c.pipelines.jenkins import JenkinsPipeline

from tests.unit.test_pipeline_github_actions import APP, DEPLOYMENT, SHAPES, assert_narrow, pipeline_json

SOURCE = "ws/app/pipeline.json"


def jenkins_json(shape: str = "ecs", **jenkins: Any) -> dict[str, Any]:
    pipeline = pipeline_json(shape, Jenkins={"enabled": True, **jenkins})
    pipeline["pipelineInfo"]["GitHubActions"]["enabled"] = False
    return pipeline


def render(pipeline: dict[str, Any]) -> dict[str, str]:
    return JenkinsPipeline().render(pipeline, DEPLOYMENT, SOURCE)


_STRING = re.compile(r"'''.*?'''|'(?:[^'\\\n]|\\.)*'", re.S)


def groovy_code(text: str) -> str:
    """The Jenkinsfile without its comments and single-quoted strings: what Groovy runs as code."""
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("//"))
    return _STRING.sub("S", text)


def stages(text: str) -> list[str]:
    return [groovy_unquote(m) for m in re.findall(r"stage\(('(?:[^'\\]|\\.)*')\)", text)]


def groovy_unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\u([0-9a-f]{4})|\\(.)", lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), body)


def test_class_attributes():
    kind = JenkinsPipeline()
    assert (kind.id, kind.section, kind.flag, kind.output_folder) == ("jenkins", "Jenkins", "enabled", "Jenkins")


@pytest.mark.parametrize("shape", SHAPES)
def test_jenkinsfile_structure(shape):
    files = render(jenkins_json(shape))
    assert set(files) == {"Jenkinsfile", "config.xml", "jenkins-agent-policy.json", "README.md"}
    text = files["Jenkinsfile"]
    code = groovy_code(text)
    assert code.count("{") == code.count("}")  # every block closed, none opened inside a string
    assert re.search(r"^pipeline \{", code, re.M) and "agent none" in code and "stages {" in code
    assert "agent { label S }" in code and "withAWS(credentials: S, region: env.AWS_REGION)" in code
    assert "agent { label 'linux && docker' }" in text and "credentials: 'a2c-aws'" in text
    names = stages(text)
    has_beta, has_prod = shape != "apprunner", shape in ("ecs-beta-prod", "eks", "apprunner")
    expected = ["Build and push", "Checkout", "Build", "Push to ECR"] + (["Deploy to beta"] if has_beta else []) + (
        ["Approve prod", "Deploy to prod"] if has_prod else [])
    assert names == expected
    if has_prod:
        approval = text[text.index("stage('Approve prod')"):text.index("stage('Deploy to prod')")]
        assert "input message:" in approval
    assert "env.IMAGE_TAG = checkout(scm).GIT_COMMIT" in text
    assert 'docker push "$repository_uri:$IMAGE_TAG"' in text
    # sh steps are single-quoted: values are shell variables, never Groovy interpolation.
    assert not re.search(r'(?<![A-Za-z_])sh\s*\(?\s*(?:script:\s*)?"', text) and '"""' not in text


def test_deploy_commands_per_kind():
    ecs = render(jenkins_json("ecs"))["Jenkinsfile"]
    assert "aws ecs register-task-definition" in ecs and "aws ecs wait services-stable" in ecs
    assert f"'A2C_CLUSTER=a2c-{APP}-ECS-Cluster'" in ecs
    eks = render(jenkins_json("eks"))["Jenkinsfile"]
    assert "aws eks update-kubeconfig" in eks and "set image" in eks and "'A2C_NAMESPACE=shop'" in eks
    runner = render(jenkins_json("apprunner"))["Jenkinsfile"]
    assert "update-stack" in runner and f"'A2C_STACK=a2c-{APP}-AppRunner'" in runner


def test_no_labels_means_any_agent():
    text = render(jenkins_json("ecs", nodeLabels=[]))["Jenkinsfile"]
    assert "agent any" in text and "label" not in groovy_code(text)


@pytest.mark.parametrize("shape", SHAPES)
def test_config_xml_is_a_pipeline_job_reading_the_jenkinsfile(shape):
    root = parse_xml(render(jenkins_json(shape))["config.xml"].encode(), "config.xml")
    assert local_name(root) == "flow-definition"
    definition = root.find("definition")
    assert definition.get("class") == "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"
    assert definition.findtext("scriptPath") == "Jenkinsfile"
    scm = definition.find("scm")
    assert scm.get("class") == "hudson.plugins.git.GitSCM"
    assert scm.findtext("userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/url") == \
        "git@github.com:example-org/legacy-tomcat.git"
    assert scm.findtext("branches/hudson.plugins.git.BranchSpec/name") == "refs/heads/main"


def test_codecommit_source():
    pipeline = jenkins_json("ecs")
    pipeline["sourceInfo"]["ExistingGitRepo"]["enabled"] = False
    pipeline["sourceInfo"]["CodeCommit"]["enabled"] = True
    root = parse_xml(render(pipeline)["config.xml"].encode(), "config.xml")
    assert root.findtext("definition/scm/userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/url") == \
        f"https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/{APP}"


@pytest.mark.parametrize("shape", SHAPES)
def test_agent_policy_is_narrow(shape):
    policy = json.loads(render(jenkins_json(shape))["jenkins-agent-policy.json"])
    assert policy["Version"] == "2012-10-17"
    assert_narrow(policy["Statement"])
    push = next(s for s in policy["Statement"] if "ecr:PutImage" in s["Action"])
    assert push["Resource"] == f"arn:aws:ecr:eu-west-1:123456789012:repository/{APP}"


def test_readme_names_the_create_item_call():
    readme = render(jenkins_json("ecs-beta-prod"))["README.md"]
    assert "createItem?name=a2c-" in readme and "aws iam create-policy" in readme


def _refused(field: str, pipeline: dict[str, Any]) -> None:
    with pytest.raises(InvalidFile) as info:
        render(pipeline)
    assert field in info.value.message, info.value.message
    assert info.value.exit_status == ExitStatus.INVALID_FILE and info.value.hint


@pytest.mark.parametrize(("jenkins", "field"), [
    ({"nodeLabels": ["linux' || true"]}, "$.pipelineInfo.Jenkins.nodeLabels[0]"),
    ({"nodeLabels": ["a\nb"]}, "$.pipelineInfo.Jenkins.nodeLabels[0]"),
    ({"awsCredentialId": "x', region: 'y"}, "$.pipelineInfo.Jenkins.awsCredentialId"),
    ({"awsCredentialId": "${env.SECRET}"}, "$.pipelineInfo.Jenkins.awsCredentialId"),
    ({"jenkinsServerUrl": "http://jenkins.example.com"}, "$.pipelineInfo.Jenkins.jenkinsServerUrl"),
    ({"jenkinsServerUrl": "https://x.example.com/$(touch CANARY)"}, "$.pipelineInfo.Jenkins.jenkinsServerUrl"),
])
def test_hostile_jenkins_values_are_refused(jenkins, field):
    _refused(field, jenkins_json("ecs-beta-prod", **jenkins))


@pytest.mark.parametrize(("edit", "field"), [
    (lambda p: p["sourceInfo"]["ExistingGitRepo"].update(repositoryUri="git@x:y.git</url><evil/>"),
     "$.sourceInfo.ExistingGitRepo.repositoryUri"),
    (lambda p: p["sourceInfo"]["ExistingGitRepo"].update(branch="main'\nsh 'touch CANARY"),
     "$.sourceInfo.ExistingGitRepo.branch"),
    (lambda p: p["releaseInfo"]["ECS"]["beta"].update(serviceName="svc'''; touch CANARY"),
     "$.releaseInfo.ECS.beta.serviceName"),
    (lambda p: p["sourceInfo"]["ExistingGitRepo"].update(enabled=False), "$.sourceInfo"),
])
def test_hostile_source_and_release_values_are_refused(edit, field):
    pipeline = copy.deepcopy(jenkins_json("ecs"))
    edit(pipeline)
    _refused(field, pipeline)


def test_deploy_says_how_to_create_the_job_instead_of_crashing(tmp_path):
    """a2c does not call Jenkins' API: --deploy is refused with the way to do it by hand."""
    from a2c.errors import NotSupported
    from a2c.pipelines.jenkins import JenkinsPipeline

    with pytest.raises(NotSupported) as refused:
        JenkinsPipeline().deploy({}, {}, tmp_path, None, None, None, lambda *a: None)
    assert "README.md" in refused.value.hint and "no stack" in refused.value.message
