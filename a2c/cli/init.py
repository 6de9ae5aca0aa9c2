"""``a2c init``: choose the workspace and the AWS settings, interactively or from flags."""

from __future__ import annotations

import os
import sys

import click

from a2c.cli.context import AppContext
from a2c.cli.helptext import epilog
from a2c.errors import ExitStatus


@click.command("init", epilog=epilog(['a2c init', 'a2c init --workspace-dir /srv/a2c --profile migration --region eu-west-1 --defaults'], [ExitStatus.INVALID_FILE]),
               help="Configure a2c: workspace folder, AWS profile and region, optional S3 bucket. "
               "Asks for each value on a terminal; takes flags (and --defaults) for scripts.")
@click.option("--workspace-dir", metavar="DIR", help="Folder for all a2c files (default ~/a2c).")
@click.option("--profile", "aws_profile", metavar="NAME", help="AWS profile for ECR and CloudFormation (default 'default').")
@click.option("--region", "aws_region", metavar="REGION", help="AWS region (default: the profile's).")
@click.option("--s3-bucket", metavar="BUCKET", help="Optional S3 bucket for artifacts.")
@click.option("--defaults", is_flag=True, help="Do not ask; use the defaults for every value not given.")
@click.pass_obj
def command(app: AppContext, workspace_dir: str | None, aws_profile: str | None, aws_region: str | None,
            s3_bucket: str | None, defaults: bool) -> None:
    from a2c.config import Config, load_config, save_config
    from a2c.workspace import Workspace

    current = load_config() or Config(workspace=app.workspace_option or "~/a2c")
    ask = not defaults and sys.stdin.isatty() and not app.output.json_mode

    def value(given: str | None, prompt: str, default: str) -> str:
        if given is not None:
            return given
        if ask:
            return click.prompt(prompt, default=default, show_default=True).strip()
        return default

    workspace = value(workspace_dir or app.workspace_option, "Workspace directory path for artifacts", current.workspace)
    config = Config(
        workspace=os.path.abspath(os.path.expanduser(workspace)),
        awsProfile=value(aws_profile, "AWS profile", current.awsProfile),
        awsRegion=value(aws_region, "AWS region (empty: the profile's)", current.awsRegion or os.environ.get("AWS_REGION", "")),
        s3Bucket=value(s3_bucket, "S3 bucket for application artifacts (optional)", current.s3Bucket),
    )
    Workspace(config.workspace).ensure()
    path = save_config(config)
    def human() -> None:
        app.output.echo(f"All application artifacts will be created under {config.workspace}. "
                        "Please make sure the folder permissions are secure.")
        app.output.step(f"Configuration saved to {path}")
        app.output.next_steps("a2c inventory")

    app.output.result({"configFile": str(path), **config.to_json()}, human)
