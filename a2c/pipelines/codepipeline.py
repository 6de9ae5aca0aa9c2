"""The CodePipeline + CodeBuild kind: ``Artifacts/Pipeline/CodePipeline/pipeline.yml``.

One CloudFormation stack: an encrypted artifact bucket (public access blocked, artifacts expire),
the pipeline (V2) and its stages:

- Source: the enabled source of pipeline.json (a CodeCommit repository, which the stack creates
  unless told it exists; a repository behind an AWS CodeConnections connection; or a zip in S3);
- Build: a CodeBuild project (privileged, for Docker) running ``buildspec.yml`` from the
  repository root: ECR login, ``docker build`` of the exported build context, the commit id
  (CODEBUILD_RESOLVED_SOURCE_VERSION) as the tag, push, ``imagedefinitions.json``;
- DeployBeta, then Approve (manual approval) and DeployProd, an action per enabled release: ECS
  through CodePipeline's ECS deploy action (the service's own strategy: rolling with a circuit
  breaker, or ECS's blue/green), EKS, Express Mode and App Runner through a second CodeBuild project (``deployspec.yml``:
  ``kubectl set image``, ``aws ecs update-express-gateway-service``, ``aws apprunner
  update-service``); the EKS cluster gets an access entry for that project's role.

Every IAM statement names its resources, except the actions AWS authorizes only on ``*``
(ecr:GetAuthorizationToken, ecs:RegisterTaskDefinition, ecs:DescribeTaskDefinition).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Mapping

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import render
from a2c.pipelines.base import Pipeline
from a2c.pipelines.pipelinejson import enabled_source, image_repository, release_tags, releases

STACK_NAME = r"[A-Za-z][A-Za-z0-9-]{0,127}"
ECS_NAME = r"[A-Za-z0-9_-]{1,255}"
EKS_CLUSTER = r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}"
KUBE_NAME = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
APPRUNNER_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{3,39}"
REPOSITORY = r"[A-Za-z0-9._-]{1,100}"
BRANCH = r"[A-Za-z0-9._+][A-Za-z0-9._/+-]{0,254}"
CONNECTION = r"arn:aws[a-z-]*:(?:codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[A-Za-z0-9-]{1,64}"
REPOSITORY_ID = r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)+"
BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
OBJECT_KEY = r"[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,1023}"
ARTIFACT_DAYS = 30
BUILD_IMAGE = "aws/codebuild/standard:7.0"
# The checkov checks the template skips, each with why (in the resource's Metadata and the README).
SKIPPED_CHECKS = {
    "CKV_AWS_18": ("ArtifactBucket", "the bucket holds only the pipeline's own artifacts, which expire after "
                   f"{ARTIFACT_DAYS} days; access logs would need a second bucket per pipeline, and CloudTrail "
                   "data events record who reads it where an account needs that"),
    "CKV_AWS_158": ("BuildLogGroup", "build logs hold the build's output, never secrets (the image gets none), and "
                    "CloudWatch Logs encrypts them at rest; a customer-managed key adds a key policy to maintain"),
}


def skips(resource: str) -> Any:
    """The ``Metadata: checkov: skip:`` block of one resource of pipeline.yml."""
    from a2c.generate.render import to_json, trusted

    mine = [(check, why) for check, (owner, why) in SKIPPED_CHECKS.items() if owner == resource]
    lines = ["    Metadata:", "      checkov:", "        skip:"]
    for check, why in mine:
        lines += [f"          - id: {check}", f"            comment: {to_json(why)}"]
    return trusted("\n".join(lines) if mine else "")


# us-east-1 list prices the README's estimate assumes (USD).
PIPELINE_ACTION_MINUTE = 0.002  # V2 pipelines: per action execution minute
BUILD_MINUTE = 0.005  # general1.small, Linux
S3_GB_MONTH = 0.023

PARTITION = "arn:${AWS::Partition}"
HERE = "${AWS::Region}:${AWS::AccountId}"


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def getatt(resource: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attribute]}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def statement(actions: list[str], resources: list[Any], sid: str = "", **extra: Any) -> dict[str, Any]:
    return {**({"Sid": sid} if sid else {}), "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def role(service: str, statements: list[dict[str, Any]], tags: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "pipeline", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        "Tags": tags,
    }


def cfn_tags(pipeline: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["key"], "Value": t["value"]} for t in release_tags(pipeline)]


def _check(value: Any, pattern: str, what: str, field: str, source: str) -> str:
    return safe.matches(value, pattern, what, field, source)


def check_releases(pipeline: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    """Each enabled release environment with its names checked: ``{kind, env, name, ...}``."""
    checked = []
    for kind, environment, settings in releases(pipeline, source):
        field = f"$.releaseInfo.{kind}.{environment}"
        item: dict[str, Any] = {"kind": kind, "env": environment,
                                "name": f"{kind}{environment.capitalize()}"}
        if kind == "ECS":
            item["cluster"] = _check(settings.get("clusterName"), ECS_NAME, "ECS cluster name",
                                     f"{field}.clusterName", source)
            service = settings.get("serviceName") or ""
            item["service"] = _check(service, ECS_NAME, "ECS service name", f"{field}.serviceName", source) \
                if service else ""
            item["stack"] = _check(settings.get("stackName"), STACK_NAME, "stack name", f"{field}.stackName",
                                   source) if settings.get("stackName") else ""
        elif kind == "EKS":
            cluster = settings.get("clusterName") or ""
            item["cluster"] = _check(cluster, EKS_CLUSTER, "EKS cluster name", f"{field}.clusterName", source) \
                if cluster else ""
            if not cluster:
                raise InvalidFile(f"{source}: {field}.clusterName: the EKS deploy action needs the cluster's name",
                                  f"Set {field}.clusterName in {source} to the cluster the application runs on.")
            for key, default in (("namespace", "default"), ("deploymentName", ""), ("containerName", "")):
                item[key] = _check(settings.get(key) or default, KUBE_NAME, "Kubernetes name", f"{field}.{key}",
                                   source)
            item["stack"] = ""
        elif kind in ("EcsExpress", "AppRunner"):
            item["stack"] = _check(settings.get("stackName"), STACK_NAME, "stack name", f"{field}.stackName", source)
            pattern = APPRUNNER_NAME if kind == "AppRunner" else ECS_NAME
            item["service"] = _check(settings.get("serviceName"), pattern, f"{kind} service name",
                                     f"{field}.serviceName", source)
        else:
            raise InvalidFile(f"{source}: $.releaseInfo.{kind}: a2c's CodePipeline cannot deploy to it",
                              "Enable one of ECS, EKS, EcsExpress, AppRunner.")
        checked.append(item)
    return checked


def check_source(pipeline: Mapping[str, Any], source: str) -> dict[str, Any]:
    key = enabled_source(pipeline, source)
    settings = dict(pipeline["sourceInfo"][key])
    field = f"$.sourceInfo.{key}"
    if key == "CodeCommit":
        return {"kind": key, "repository": _check(settings.get("repositoryName"), REPOSITORY,
                                                  "CodeCommit repository name", f"{field}.repositoryName", source),
                "branch": _check(settings.get("branch") or "main", BRANCH, "branch", f"{field}.branch", source),
                "create": bool(settings.get("createRepository", True))}
    if key == "CodeConnections":
        arn = settings.get("connectionArn") or ""
        if not arn:
            raise InvalidFile(f"{source}: {field}.connectionArn is empty: CodePipeline reads the repository through "
                              "an AWS CodeConnections connection",
                              "Create one (console: Developer Tools > Settings > Connections, or `aws codeconnections "
                              f"create-connection --provider-type GitHub --connection-name NAME`), approve it, and "
                              f"set {field}.connectionArn to its ARN.")
        return {"kind": key, "arn": _check(arn, CONNECTION, "CodeConnections connection ARN", f"{field}.connectionArn",
                                           source),
                "repository": _check(settings.get("repositoryId"), REPOSITORY_ID, "repository id (owner/name)",
                                     f"{field}.repositoryId", source),
                "branch": _check(settings.get("branch") or "main", BRANCH, "branch", f"{field}.branch", source)}
    if key == "S3":
        return {"kind": key, "bucket": _check(settings.get("bucket"), BUCKET, "S3 bucket name", f"{field}.bucket",
                                              source),
                "key": _check(settings.get("objectKey"), OBJECT_KEY, "S3 object key", f"{field}.objectKey", source)}
    raise InvalidFile(f"{source}: $.sourceInfo.{key}: CodePipeline has no source action for a Git repository "
                      "reached over SSH",
                      "Reach the repository through an AWS CodeConnections connection ($.sourceInfo.CodeConnections), "
                      "or use the Jenkins pipeline ($.pipelineInfo.Jenkins) for it.")


# -- the template's parts ----------------------------------------------------------------------
def _source_stage(src: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Source stage and the pipeline role's statements for it."""
    action: dict[str, Any]
    if src["kind"] == "CodeCommit":
        repo_arn = sub(f"{PARTITION}:codecommit:{HERE}:{src['repository']}")
        action = {"Name": "CodeCommit", "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "CodeCommit",
                                                         "Version": "1"},
                  "Configuration": {"RepositoryName": getatt("Repository", "Name") if src["create"] else src["repository"],
                                    "BranchName": src["branch"], "PollForSourceChanges": False,
                                    "OutputArtifactFormat": "CODE_ZIP"}}
        grants = [statement(["codecommit:GetBranch", "codecommit:GetCommit", "codecommit:GetRepository",
                             "codecommit:UploadArchive", "codecommit:GetUploadArchiveStatus",
                             "codecommit:CancelUploadArchive"], [repo_arn], "ReadSource")]
    elif src["kind"] == "CodeConnections":
        action = {"Name": "CodeConnections", "ActionTypeId": {"Category": "Source", "Owner": "AWS",
                                                              "Provider": "CodeStarSourceConnection", "Version": "1"},
                  "Configuration": {"ConnectionArn": src["arn"], "FullRepositoryId": src["repository"],
                                    "BranchName": src["branch"], "OutputArtifactFormat": "CODE_ZIP",
                                    "DetectChanges": True}}
        grants = [statement(["codestar-connections:UseConnection", "codeconnections:UseConnection"], [src["arn"]],
                            "UseConnection")]
    else:
        action = {"Name": "S3", "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
                  "Configuration": {"S3Bucket": src["bucket"], "S3ObjectKey": src["key"], "PollForSourceChanges": True}}
        grants = [statement(["s3:GetObject", "s3:GetObjectVersion"],
                            [sub(f"{PARTITION}:s3:::{src['bucket']}/{src['key']}")], "ReadSourceObject"),
                  statement(["s3:GetBucketVersioning", "s3:GetBucketLocation"], [sub(f"{PARTITION}:s3:::{src['bucket']}")],
                            "ReadSourceBucket")]
    action.update({"RunOrder": 1, "OutputArtifacts": [{"Name": "SourceOutput"}]})
    return {"Name": "Source", "Actions": [action]}, grants


def _deploy_action(item: Mapping[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    if item["kind"] == "ECS":
        service: Any = item["service"]
        if not service:  # CloudFormation named the service: the deploy passes it in
            parameter = f"{item['name']}ServiceName"
            parameters[parameter] = {
                "Type": "String", "MinLength": 1,
                "Description": f"The ECS service of stack {item['stack'] or item['cluster']} (its ECSService output)"}
            service = ref(parameter)
        return {"Name": item["name"], "RunOrder": 1, "InputArtifacts": [{"Name": "BuildOutput"}],
                "ActionTypeId": {"Category": "Deploy", "Owner": "AWS", "Provider": "ECS", "Version": "1"},
                "Configuration": {"ClusterName": item["cluster"], "ServiceName": service,
                                  "FileName": "imagedefinitions.json", "DeploymentTimeout": 30}}
    variables = [{"name": "KIND", "value": item["kind"], "type": "PLAINTEXT"}]
    names = {"EKS": (("CLUSTER_NAME", "cluster"), ("NAMESPACE", "namespace"), ("DEPLOYMENT_NAME", "deploymentName"),
                     ("CONTAINER_NAME", "containerName")),
             "EcsExpress": (("STACK_NAME", "stack"), ("SERVICE_NAME", "service")),
             "AppRunner": (("STACK_NAME", "stack"), ("SERVICE_NAME", "service"))}[item["kind"]]
    variables += [{"name": env, "value": item[key], "type": "PLAINTEXT"} for env, key in names]
    if item["kind"] == "EKS":
        variables.append({"name": "STACK_NAME", "value": "-", "type": "PLAINTEXT"})
    return {"Name": item["name"], "RunOrder": 1, "InputArtifacts": [{"Name": "BuildOutput"}],
            "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
            "Configuration": {"ProjectName": ref("DeployProject"),
                              "EnvironmentVariables": json.dumps(variables, separators=(",", ":"))}}


def _deploy_grants(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pipeline role statements, deploy project role statements) for the release actions."""
    pipeline: list[dict[str, Any]] = []
    deploy: list[dict[str, Any]] = []
    ecs = [i for i in items if i["kind"] == "ECS"]
    if ecs:
        services = [sub(f"{PARTITION}:ecs:{HERE}:service/{i['cluster']}/*") for i in ecs]
        pipeline += [
            statement(["ecs:DescribeServices", "ecs:UpdateService"], services, "RollOutEcsService"),
            # AWS authorizes these on "*" only (no resource-level permissions).
            statement(["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DescribeTasks",
                       "ecs:ListTasks", "ecs:TagResource"], ["*"],
                      "RegisterTaskDefinition"),
            statement(["iam:PassRole"], [sub(f"{PARTITION}:iam::${{AWS::AccountId}}:role/{i['stack'] or i['cluster']}-*")
                                         for i in ecs], "PassTaskRoles",
                      Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        ]
    stacks = [sub(f"{PARTITION}:cloudformation:{HERE}:stack/{i['stack']}/*") for i in items
              if i["kind"] in ("EcsExpress", "AppRunner")]
    if stacks:
        deploy.append(statement(["cloudformation:DescribeStacks"], stacks, "ReadServiceArn"))
    express = [i for i in items if i["kind"] == "EcsExpress"]
    if express:
        deploy.append(statement(["ecs:DescribeExpressGatewayService", "ecs:UpdateExpressGatewayService"],
                                [sub(f"{PARTITION}:ecs:{HERE}:service/*/{i['service']}") for i in express],
                                "UpdateExpressService"))
    runner = [i for i in items if i["kind"] == "AppRunner"]
    if runner:
        deploy.append(statement(["apprunner:DescribeService", "apprunner:UpdateService"],
                                [sub(f"{PARTITION}:apprunner:{HERE}:service/{i['service']}/*") for i in runner],
                                "UpdateAppRunnerService"))
    eks = [i for i in items if i["kind"] == "EKS"]
    if eks:
        deploy.append(statement(["eks:DescribeCluster"],
                                [sub(f"{PARTITION}:eks:{HERE}:cluster/{i['cluster']}") for i in eks],
                                "ReadCluster"))
    return pipeline, deploy


def _project(name: str, role_name: str, buildspec: str, privileged: bool, env: list[dict[str, Any]], description: str,
             stream: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": description,
        "ServiceRole": getatt(role_name),
        "Source": {"Type": "CODEPIPELINE", "BuildSpec": buildspec},
        "Artifacts": {"Type": "CODEPIPELINE"},
        "Environment": {"Type": "LINUX_CONTAINER", "ComputeType": "BUILD_GENERAL1_SMALL", "Image": BUILD_IMAGE,
                        "PrivilegedMode": privileged, "EnvironmentVariables": env},
        "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED", "GroupName": ref("BuildLogGroup"), "StreamName": stream}},
        "TimeoutInMinutes": 60,
        "Tags": tags,
    }


def render_codepipeline(pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> dict[str, str]:
    app_id = str(pipeline["applicationId"])
    src = check_source(pipeline, source)
    items = check_releases(pipeline, source)
    _registry, repository, _tag = image_repository(str(pipeline["imageInfo"]["image"]), "$.imageInfo.image", source)
    tags = cfn_tags(pipeline)
    name = re.sub(r"[^A-Za-z0-9-]", "-", app_id)
    pipeline_name = f"a2c-{name}"[:90]
    log_group = f"/a2c/{app_id}/pipeline"
    bucket_arn, objects = getatt("ArtifactBucket"), sub("${ArtifactBucket.Arn}/*")
    artifacts_rw = statement(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketAcl",
                              "s3:GetBucketLocation"], [bucket_arn, objects], "PipelineArtifacts")
    logs = statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                     [sub(f"{PARTITION}:logs:{HERE}:log-group:{log_group}:*")], "WriteBuildLogs")
    repo_arn = sub(f"{PARTITION}:ecr:{HERE}:repository/{repository}")
    container = app_id  # the ECS template's ContainerName
    ecs_items = [i for i in items if i["kind"] == "ECS"]
    other = [i for i in items if i["kind"] != "ECS"]

    source_stage, source_grants = _source_stage(src)
    pipeline_deploy, deploy_grants = _deploy_grants(items)
    build_name, deploy_name = f"{pipeline_name}-build", f"{pipeline_name}-deploy"
    projects = [sub(f"{PARTITION}:codebuild:{HERE}:project/{n}") for n in [build_name] + ([deploy_name] if other else [])]
    roles: dict[str, Any] = {
        "BuildRole": role("codebuild.amazonaws.com", [
            logs, artifacts_rw,
            # AWS authorizes GetAuthorizationToken on "*" only.
            statement(["ecr:GetAuthorizationToken"], ["*"], "EcrLogin"),
            statement(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                       "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
                      [repo_arn], "PushImage"),
        ], tags),
        "PipelineRole": role("codepipeline.amazonaws.com", [
            artifacts_rw, *source_grants,
            statement(["codebuild:StartBuild", "codebuild:BatchGetBuilds"], projects, "RunBuilds"),
            *pipeline_deploy,
        ], tags),
    }
    if other:
        roles["DeployRole"] = role("codebuild.amazonaws.com", [logs, artifacts_rw, *deploy_grants], tags)
    source_rule = None
    if src["kind"] == "CodeCommit":
        roles["SourceEventRole"] = role("events.amazonaws.com", [statement(
            ["codepipeline:StartPipelineExecution"], [sub(f"{PARTITION}:codepipeline:{HERE}:{pipeline_name}")],
            "StartPipeline")], tags)
        source_rule = {
            "Description": f"Start the pipeline of {app_id} on a push to {src['branch']}",
            "EventPattern": {"source": ["aws.codecommit"], "detail-type": ["CodeCommit Repository State Change"],
                             "resources": [sub(f"{PARTITION}:codecommit:{HERE}:{src['repository']}")],
                             "detail": {"event": ["referenceCreated", "referenceUpdated"], "referenceType": ["branch"],
                                        "referenceName": [src["branch"]]}},
            "Targets": [{"Id": "pipeline", "Arn": sub(f"{PARTITION}:codepipeline:{HERE}:{pipeline_name}"),
                         "RoleArn": getatt("SourceEventRole")}]}

    build_env: list[dict[str, Any]] = [{"Name": "REPOSITORY_URI", "Type": "PLAINTEXT",
                  "Value": sub(f"${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{repository}")},
                 {"Name": "CONTAINER_NAME", "Type": "PLAINTEXT", "Value": container}]
    buildspec = render("pipeline/codepipeline/buildspec.yml.j2")
    deployspec = render("pipeline/codepipeline/deployspec.yml.j2")
    build_project = _project(build_name, "BuildRole", "buildspec.yml", True, build_env,
                             f"Builds and pushes the image of {app_id} (a2c)", "build", tags)
    deploy_project = _project(deploy_name, "DeployRole", deployspec, False, [], f"Rolls the image of {app_id} out (a2c)",
                              "deploy", tags) if other else None
    access_entries = {f"{i['name']}AccessEntry": {
        "ClusterName": i["cluster"], "PrincipalArn": getatt("DeployRole"), "Type": "STANDARD",
        "AccessPolicies": [{"PolicyArn": sub(f"{PARTITION}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"),
                            "AccessScope": {"Type": "namespace", "Namespaces": [i["namespace"]]}}],
        "Tags": tags} for i in items if i["kind"] == "EKS" and i["cluster"]}

    parameters: dict[str, Any] = {}
    stages = [source_stage, {"Name": "Build", "Actions": [{
        "Name": "BuildImage", "RunOrder": 1, "InputArtifacts": [{"Name": "SourceOutput"}],
        "OutputArtifacts": [{"Name": "BuildOutput"}],
        "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
        "Configuration": {"ProjectName": ref("BuildProject")}}]}]
    beta = [i for i in items if i["env"] == "beta"]
    prod = [i for i in items if i["env"] == "prod"]
    if beta:
        stages.append({"Name": "DeployBeta", "Actions": [_deploy_action(i, parameters) for i in beta]})
    if prod:
        stages.append({"Name": "Approve", "Actions": [{
            "Name": "ApproveProd", "RunOrder": 1,
            "ActionTypeId": {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
            "Configuration": {"CustomData": f"Roll the new image of {app_id} out to prod?"}}]})
        stages.append({"Name": "DeployProd", "Actions": [_deploy_action(i, parameters) for i in prod]})

    outputs: dict[str, Any] = {
        "PipelineName": {"Value": ref("Pipeline")},
        "ArtifactBucketName": {"Value": ref("ArtifactBucket")},
        "BuildRoleArn": {"Value": getatt("BuildRole")},
    }
    if other:
        outputs["DeployRoleArn"] = {"Value": getatt("DeployRole")}
    if src["kind"] == "CodeCommit" and src["create"]:
        outputs["RepositoryCloneUrlHttp"] = {"Value": getatt("Repository", "CloneUrlHttp")}
    bucket_policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, objects], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}

    template = render(
        "pipeline/codepipeline/pipeline.yml.j2",
        version=__version__, app_id=app_id,
        description=f"a2c: the CodePipeline of {app_id} ({src['kind']} -> CodeBuild -> "
                    + ", ".join(f"{i['kind']} {i['env']}" for i in items) + ")",
        parameters=parameters, artifact_days=ARTIFACT_DAYS, tags=tags, bucket_policy=bucket_policy,
        create_repository=src["kind"] == "CodeCommit" and src["create"], repository_name=src.get("repository", ""),
        log_group=log_group, roles=roles, build_project=build_project, deploy_project=deploy_project,
        access_entries=access_entries, pipeline_name=pipeline_name, stages=stages, source_rule=source_rule,
        outputs=outputs, skips=skips)
    return {
        "pipeline.yml": template,
        "buildspec.yml": buildspec,
        "deployspec.yml": deployspec,
        "README.md": codepipeline_readme(pipeline, src, items, parameters, bool(ecs_items)),
    }


def codepipeline_readme(pipeline: Mapping[str, Any], src: Mapping[str, Any], items: list[dict[str, Any]],
                        parameters: Mapping[str, Any], ecs: bool) -> str:
    import shlex

    app_id = str(pipeline["applicationId"])
    stack = CodePipelinePipeline().stack_name(pipeline)
    where = {"CodeCommit": f"the CodeCommit repository {src.get('repository')} (branch {src.get('branch')})"
             + (", which the stack creates" if src.get("create") else ", which exists already"),
             "CodeConnections": f"{src.get('repository')} (branch {src.get('branch')}) through the connection "
                                f"{src.get('arn')}",
             "S3": f"s3://{src.get('bucket')}/{src.get('key')} (polled; the bucket must have versioning on)"}[src["kind"]]
    releases_text = ", ".join(f"{i['kind']} {i['env']}" for i in items)
    overrides = " ".join(f"{p}=SERVICE" for p in parameters)
    deploy = (f"aws cloudformation deploy --template-file pipeline.yml --stack-name {shlex.quote(stack)} "
              "--capabilities CAPABILITY_IAM" + (f" --parameter-overrides {overrides}" if overrides else ""))
    # Two builds of about 5 minutes a day, each pipeline run about 20 action minutes.
    runs = 2 * 30
    monthly = runs * (20 * PIPELINE_ACTION_MINUTE + 5 * BUILD_MINUTE) + 1 * S3_GB_MONTH
    lines = [
        f"# The CodePipeline of {app_id}", "",
        "## What the stack creates", "",
        f"- A CodePipeline (V2) pipeline: Source from {where}; Build (CodeBuild, privileged for Docker, "
        "`buildspec.yml` from the repository root: ECR login, docker build, the commit id as the tag, push); "
        + ("DeployBeta; " if any(i["env"] == "beta" for i in items) else "")
        + ("a manual approval, then DeployProd" if any(i["env"] == "prod" for i in items) else "")
        + f" ({releases_text})",
        "- The artifact bucket: S3-managed encryption, public access blocked, TLS only, artifacts expire after "
        f"{ARTIFACT_DAYS} days",
        "- A CodeBuild project for the image build and, for EKS, Express Mode and App Runner, one for the "
        "rollout (`deployspec.yml`: kubectl set image, aws ecs update-express-gateway-service, aws apprunner "
        "update-service), their CloudWatch Logs group (30 days)",
        "- IAM roles for the pipeline and each project, each statement naming its resources (but "
        "ecr:GetAuthorizationToken and the ECS task definition calls, which AWS authorizes on `*` only)",
    ]
    if ecs:
        lines.append("- ECS releases through CodePipeline's ECS deploy action, which hands the new task definition "
                     "to the service; the service deploys it its own way (deployment.json "
                     "`ecsParameters.deployment.strategy`): rolling, with the circuit breaker rolling a failing "
                     "revision back, or ECS's blue/green (`blueGreen`: the new revision in a second target group, "
                     "production traffic moved by the listener rule, the old one kept for the bake time)")
    if any(i["kind"] == "EKS" for i in items):
        lines.append("- An EKS access entry for the rollout role (AmazonEKSEditPolicy on the namespace); the "
                     "cluster's authentication mode must include the EKS API")
    if src["kind"] == "CodeCommit":
        lines.append("- An EventBridge rule starting the pipeline on a push to the branch")
    lines += ["", "## Rough monthly cost", "",
              f"About ${monthly:,.2f} a month for {runs} runs (us-east-1: {PIPELINE_ACTION_MINUTE} USD per V2 action "
              f"minute, {BUILD_MINUTE} USD per build minute on general1.small, a GB of artifacts; CodeCommit "
              "users beyond the free five, data transfer and logs not counted). A manual approval waiting counts "
              "as action minutes until it is answered or times out.", "",
              "## Deploy", "", "From this folder:", "", "```sh", deploy, "```", ""]
    if parameters:
        lines += ["CloudFormation named the ECS service, so its name is a parameter here; read it with "
                  "`aws cloudformation describe-stacks --stack-name STACK --query "
                  "\"Stacks[0].Outputs[?OutputKey=='ECSService'].OutputValue\" --output text`, or set "
                  "`serviceName` in pipeline.json and run `a2c generate pipeline` again "
                  "(`a2c generate pipeline --deploy` reads it from the stack itself).", ""]
    filled = src["kind"] in ("CodeCommit", "S3")
    lines += [("`a2c generate pipeline --deploy` then pushes the repository (`../repository/`) to the source "
               "(the branch's next commit, or the zip); by hand, see that folder's README. " if filled else
               "Then push the repository (`../repository/`, see its README) to the source. ")
              + "Each push runs the pipeline. The ECS deploy action registers new task definition revisions outside "
              "the ECS stack: a later update of that stack puts its own image back until the next pipeline run.", "",
              "## checkov checks skipped on purpose", "",
              *[f"- `{check}` ({resource}): {why}" for check, (resource, why) in SKIPPED_CHECKS.items()], ""]
    return "\n".join(lines)


class CodePipelinePipeline(Pipeline):
    id: ClassVar[str] = "codepipeline"
    section: ClassVar[str] = "CodePipeline"
    flag: ClassVar[str] = "enabled"
    output_folder: ClassVar[str] = "CodePipeline"
    main_file: ClassVar[str] = "pipeline.yml"
    description: ClassVar[str] = "AWS CodePipeline with CodeBuild (CloudFormation)"
    sources: ClassVar[tuple[str, ...]] = ("CodeCommit", "CodeConnections", "S3")
    repository_files: ClassVar[dict[str, str]] = {"buildspec.yml": "buildspec.yml"}

    def defaults(self) -> dict[str, Any]:
        return {self.flag: True}

    def render(self, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> dict[str, str]:
        return render_codepipeline(pipeline, deployment, source)

    def next_steps(self, pipeline: Mapping[str, Any], folder: str) -> list[str]:
        import shlex

        return [f"aws cloudformation deploy --template-file {shlex.quote(folder + '/' + self.main_file)} "
                f"--stack-name {shlex.quote(self.stack_name(pipeline))} --capabilities CAPABILITY_IAM"]
