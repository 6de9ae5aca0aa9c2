"""``a2c generate …``: deployment artifacts for AWS."""

from __future__ import annotations

import click

from a2c.cli.context import AppContext


@click.group("generate", help="Generate deployment artifacts for AWS.")
def group() -> None:
    pass


@group.command("app-deployment", help="Write ID/deployment.json (if missing) and, from it, ID/EcsDeployment/: a "
               "CloudFormation template for a Fargate service behind an Application Load Balancer, and the task "
               "definition. With --push, push the image to Amazon ECR first (needs AWS credentials).")
@click.option("--application-id", "app_id", required=True, metavar="ID", help="A containerized application.")
@click.option("--image-uri", metavar="URI", help="Image the template runs (default: the ECR image when pushed, else the local name).")
@click.option("--push", is_flag=True, help="Create the ECR repository if needed and push the image to it.")
@click.option("--profile", "aws_profile", metavar="NAME", help="AWS profile (default: the one `a2c init` saved).")
@click.option("--region", "aws_region", metavar="REGION", help="AWS region (default: the one `a2c init` saved).")
@click.pass_obj
def app_deployment(app: AppContext, app_id: str, image_uri: str | None, push: bool, aws_profile: str | None,
                   aws_region: str | None) -> None:
    from a2c.deploy import DeploymentRequest, generate_app_deployment

    request = DeploymentRequest(app_id=app_id, image_uri=image_uri, push=push, aws_profile=aws_profile,
                                aws_region=aws_region)
    result = generate_app_deployment(app.workspace, request, app.output)
    stack = result["stackName"]

    def human() -> None:
        out = app.output
        for path in result["files"]:
            out.echo(f"  {path}")
        out.next_steps(
            f"Review {result['deployment']}",
            f"aws cloudformation deploy --template-file {result['template']} --capabilities CAPABILITY_NAMED_IAM "
            f"--stack-name {stack}",
        )

    app.output.result(result, human)
