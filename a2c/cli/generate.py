"""``a2c generate …``: deployment artifacts for AWS."""

from __future__ import annotations

import re
import sys

import click

from a2c.cli.context import AppContext
from a2c.cli.helptext import complete_application_ids, epilog
from a2c.errors import ExitStatus


_REGISTRY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:[._/-][a-z0-9]+)*)?")


def _registry(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not _REGISTRY.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a registry host (HOST[:PORT][/PATH], e.g. 127.0.0.1:5000)")
    return value or None


@click.group("generate", help="Generate deployment artifacts for AWS.")
def group() -> None:
    pass


@group.command("app-deployment", epilog=epilog(['a2c generate app-deployment --application-id java-tomcat-1dd8e7ba', 'a2c generate app-deployment --application-id ID --push --profile migration --region eu-west-1', 'a2c generate app-deployment --application-id ID --push --registry 127.0.0.1:5000', 'a2c generate app-deployment --application-id ID --push --deploy --profile migration', 'a2c generate app-deployment --application-id ID --deploy --yes --deploy-timeout 30', 'a2c generate app-deployment --application-id ID --deploy --kubeconfig ~/.kube/config'], [ExitStatus.NOT_FOUND, ExitStatus.INVALID_FILE, ExitStatus.DOCKER_UNAVAILABLE, ExitStatus.BUILD_FAILED, ExitStatus.AWS, ExitStatus.NOT_SUPPORTED], env={'AWS_PROFILE': 'the AWS profile, after --profile', 'AWS_REGION': 'the AWS region, after --region (also AWS_DEFAULT_REGION)', 'AWS_ENDPOINT_URL': "botocore's endpoint override (and AWS_ENDPOINT_URL_<SERVICE>)", 'A2C_REGISTRY': 'push to this registry (like --registry)', 'DOCKER_HOST': "the Docker engine (docker's own variable)", 'KUBECONFIG': 'with --deploy to EKS: the cluster (after --kubeconfig)'}),
               help="Write ID/deployment.json (if missing) and, from it, ID/EcsDeployment/: a "
               "CloudFormation template for a Fargate service behind an Application Load Balancer, and the task "
               "definition. With --push, push the image to Amazon ECR first (needs AWS credentials). With --deploy, "
               "deploy each folder: its CloudFormation stack through a change set (the changes printed, the stack's "
               "events followed, its outputs printed), or for EKS its manifests with kubectl. The secrets "
               "deployment.json names must exist in SSM or Secrets Manager first.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, required=True, metavar="ID", help="A containerized application.")
@click.option("--image-uri", metavar="URI", help="Image the template runs (default: the ECR image when pushed, else the local name).")
@click.option("--push", is_flag=True, help="Create the ECR repository if needed and push the image to it.")
@click.option("--profile", "aws_profile", metavar="NAME",
              help="AWS profile (default: AWS_PROFILE, then the one `a2c init` saved).")
@click.option("--region", "aws_region", metavar="REGION",
              help="AWS region (default: AWS_REGION or AWS_DEFAULT_REGION, then the one `a2c init` saved).")
@click.option("--registry", metavar="HOST[:PORT][/PATH]", envvar="A2C_REGISTRY", callback=_registry,
              help="With --push: push to this registry (a mirror or pull-through proxy of ECR, or a local registry) "
                   "instead of the account's ECR registry, with the same ECR credentials. Also A2C_REGISTRY.")
@click.option("--deploy", is_flag=True, help="Deploy what was generated: create or update the stack (ECS, ECS Express, "
              "App Runner) or apply the manifests (EKS, with --kubeconfig).")
@click.option("--yes", is_flag=True, help="With --deploy: delete and recreate a stack whose creation failed "
              "(ROLLBACK_COMPLETE) without asking.")
@click.option("--kubeconfig", metavar="PATH", help="With --deploy to EKS: the cluster to apply to (default: KUBECONFIG).")
@click.option("--deploy-timeout", "deploy_timeout", type=click.IntRange(1, 24 * 60), default=60, show_default=True,
              metavar="MINUTES", help="With --deploy: how long to follow each stack before giving up.")
@click.pass_obj
def app_deployment(app: AppContext, app_id: str, image_uri: str | None, push: bool, aws_profile: str | None,
                   aws_region: str | None, registry: str | None, deploy: bool, yes: bool, kubeconfig: str | None,
                   deploy_timeout: int) -> None:
    from a2c.steps import app_deployment as step

    def confirm(question: str) -> bool:
        return click.confirm(question, default=False, err=True)

    request = step.AppDeploymentRequest(app_id=app_id, image_uri=image_uri, push=push, aws_profile=aws_profile,
                                        aws_region=aws_region, registry=registry, deploy=deploy, yes=yes,
                                        confirm=confirm if app.output.interactive and sys.stdin.isatty() else None,
                                        kubeconfig=kubeconfig, deploy_timeout=deploy_timeout * 60.0)
    result = step.run(app.env, request)

    def human() -> None:
        out = app.output
        for output in result.outputs:
            for path in output.files:
                out.echo(f"  {path}")
        deployed = [o for o in result.outputs if o.stack_status not in ("", "NOT_DEPLOYED")]
        steps = [f"Review {result.deployment}", *[s for o in result.outputs if o not in deployed for s in o.next_steps]]
        if deployed:
            steps.append(f"After editing {result.deployment}, run this command with --deploy again to update "
                         "what it deployed")
        out.next_steps(*steps)

    app.output.result(result.to_json(), human)


@group.command("pipeline", epilog=epilog(['a2c generate pipeline --application-id java-tomcat-1dd8e7ba', 'a2c generate pipeline --application-id ID --deploy --profile migration --region eu-west-1', 'a2c generate pipeline --application-id ID --deploy --yes', 'a2c generate pipeline --application-id ID --snapshot ./host-snapshot', 'a2c generate pipeline --application-id ID --no-context --deploy --no-push'], [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.AWS, ExitStatus.NOT_SUPPORTED], env={'AWS_PROFILE': 'the AWS profile, after --profile', 'AWS_REGION': 'the AWS region, after --region (also AWS_DEFAULT_REGION)', 'AWS_ENDPOINT_URL': "botocore's endpoint override (and AWS_ENDPOINT_URL_<SERVICE>)"}),
               help="Write ID/pipeline.json (if missing) and, from it, the enabled pipeline under "
               "ID/Artifacts/Pipeline/: for CodePipeline a CloudFormation template (source: CodeCommit, a "
               "CodeConnections repository or S3; a CodeBuild image build tagged with the commit id; a deploy "
               "per enabled release environment, a manual approval before prod), its buildspec, and "
               "Artifacts/Pipeline/repository/, the folder to push to the source, with the application's build context "
               "exported into it. With --deploy, create or update the pipeline's stack through a change set (needs AWS "
               "credentials), then push that folder to a CodeCommit repository (as the branch's next commit) or "
               "zip it to the S3 source.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, required=True, metavar="ID",
              help="An application with a deployment.json (a2c containerize, or generate app-deployment).")
@click.option("--deploy", is_flag=True, help="Deploy the pipeline: create or update its CloudFormation stack.")
@click.option("--yes", is_flag=True, help="With --deploy: delete and recreate a stack whose creation failed "
              "(ROLLBACK_COMPLETE) without asking.")
@click.option("--profile", "aws_profile", metavar="NAME",
              help="AWS profile (default: AWS_PROFILE, then the one `a2c init` saved).")
@click.option("--region", "aws_region", metavar="REGION",
              help="AWS region (default: AWS_REGION or AWS_DEFAULT_REGION, then the one `a2c init` saved).")
@click.option("--deploy-timeout", "deploy_timeout", type=click.IntRange(1, 24 * 60), default=60, show_default=True,
              metavar="MINUTES", help="With --deploy: how long to follow the stack before giving up.")
@click.option("--context/--no-context", "with_context", default=True, show_default=True,
              help="Export the application's build context into the repository folder first (read from the "
              "host it was analyzed on, or --snapshot).")
@click.option("--snapshot", metavar="DIR", help="Read the application's files from a host snapshot folder.")
@click.option("--push/--no-push", "push_source", default=True, show_default=True,
              help="With --deploy and a CodeCommit or S3 source: push the repository folder there.")
@click.pass_obj
def pipeline(app: AppContext, app_id: str, deploy: bool, yes: bool, aws_profile: str | None, aws_region: str | None,
             deploy_timeout: int, with_context: bool, snapshot: str | None, push_source: bool) -> None:
    from a2c.steps import pipeline as step

    def confirm(question: str) -> bool:
        return click.confirm(question, default=False, err=True)

    if with_context:
        from a2c.cli.context import host_address
        from a2c.steps import containerize

        # The Dockerfile and files the pipeline builds, copied (never hard-linked: the folder is
        # pushed and may be edited), with the artifacts as containerize refreshes them (hand edits kept).
        containerize.run(app.env, containerize.ContainerizeRequest(
            app_id=app_id, host=host_address(snapshot), artifacts_only=True, validate=False,
            export_context=step.repository_folder(app.env.workspace, app_id), export_mode="copy", export_force=True))
    request = step.PipelineRequest(app_id=app_id, deploy=deploy, yes=yes, aws_profile=aws_profile,
                                   aws_region=aws_region, deploy_timeout=deploy_timeout * 60.0,
                                   confirm=confirm if app.output.interactive and sys.stdin.isatty() else None,
                                   push_source=push_source)
    result = step.run(app.env, request)

    def human() -> None:
        out = app.output
        for path in result.files:
            out.echo(f"  {path}")
        out.echo(f"  {result.repository}/")
        if result.published:
            out.echo(f"  source: {result.published['location']} at {result.published['revision'] or '-'}")
            steps = [f"Review {result.pipeline}", "Follow the pipeline's first run in the CodePipeline console"]
        else:
            steps = [f"Review {result.pipeline}", f"Follow {result.repository}/README.md to push the repository"]
        if result.stack_status:
            steps.append(f"After editing {result.pipeline}, run this command with --deploy again to update the pipeline")
        else:
            steps += result.next_steps
        out.next_steps(*steps)

    app.output.result(result.to_json(), human)
