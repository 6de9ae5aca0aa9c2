"""``generate pipeline --deploy`` against moto server: the CodePipeline stack of a containerized
Tomcat (artifacts only) deployed through a change set by a2c's own deploy, then checked through
moto's S3 and IAM APIs.

What moto (5.x) cannot check, so these tests do not claim it: moto's CloudFormation skips the
resource types it does not model, AWS::CodePipeline::Pipeline, AWS::CodeBuild::Project,
AWS::EKS::AccessEntry and AWS::CodeCommit::Repository among them (the stack completes without
them). Its AWS::S3::Bucket keeps the encryption but not
PublicAccessBlockConfiguration, LifecycleConfiguration or VersioningConfiguration (GetPublicAccessBlock answers
NoSuchPublicAccessBlockConfiguration), so those two are checked on the template. That the pipeline runs, that the buildspec builds, and that the deploy actions roll out
are checked on the template (tests/unit/test_pipeline_codepipeline.py), not here.
"""

from __future__ import annotations

import ast
import json

import pytest

from a2c.steps import pipeline as pipeline_step
from tests.integration.aws_services import moto, moto_server  # noqa: F401
from tests.integration.test_deploy_moto import env  # noqa: F401 - fixture

pytestmark = [pytest.mark.aws]


def test_pipeline_stack_deploys_bucket_and_roles_to_moto_codepipeline_and_codebuild_unchecked(env, moto):  # noqa: F811
    app_dir = env.workspace.app_dir(env.app_id)
    path = app_dir / "pipeline.json"
    pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id))  # writes pipeline.json, no AWS
    document = json.loads(path.read_text())
    document["releaseInfo"]["ECS"]["prod"]["serviceName"] = "a2c-app-ECS-Service-1"  # moto has no ECS stack output
    path.write_text(json.dumps(document))

    result = pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id, deploy=True,
                                                                       push_source=False))

    assert result.stack_status == "CREATE_COMPLETE", result
    resources = moto.client("cloudformation").describe_stack_resources(StackName=result.stack_name)["StackResources"]
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources if "LogicalResourceId" in r}
    bucket = physical["ArtifactBucket"]
    s3 = moto.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    iam = moto.client("iam")
    for logical in ("BuildRole", "PipelineRole"):
        role_name = physical[logical]
        trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"]["Service"] in ("codebuild.amazonaws.com",
                                                                 "codepipeline.amazonaws.com")
        policy = iam.get_role_policy(RoleName=role_name, PolicyName="pipeline")["PolicyDocument"]
        if isinstance(policy, str):  # moto returns the Python repr of the template's mapping
            policy = ast.literal_eval(policy)
        for statement in policy["Statement"]:
            assert statement["Action"] != "*" and "*" not in statement["Action"]
    assert (app_dir / "Artifacts" / "Pipeline" / "repository" / "buildspec.yml").is_file()

    again = pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id, deploy=True,
                                                                       push_source=False))
    assert again.stack_status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
