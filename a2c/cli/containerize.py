"""``a2c containerize``: build the image and prove it runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from a2c.cli.context import AppContext, host_address
from a2c.cli.helptext import complete_application_ids, epilog
from a2c.errors import ExitStatus
from a2c.errors import quoted
from a2c.ids import application_id_problem


def application_id_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check an --application-id before it is joined to a workspace path."""
    if value is None:
        return None
    problem = application_id_problem(value)
    if problem is not None:
        raise click.BadParameter(f"{quoted(value)} {problem} (run `a2c inventory` to list the ids)")
    return value


EXAMPLES = [
    "a2c containerize --application-id java-tomcat-1dd8e7ba",
    "a2c containerize --input-archive java-tomcat-1dd8e7ba-extraction.tar",
    "a2c containerize --application-id java-tomcat-1dd8e7ba --artifacts-only",
    "a2c containerize --application-id java-tomcat-1dd8e7ba --artifacts-only --export-context ./context",
    "DOCKER_HOST=tcp://127.0.0.1:2375 a2c containerize --application-id ID --build-only",
    "a2c containerize --application-id ID --builder codebuild --s3-bucket my-a2c-bucket --region eu-west-1",
    "a2c containerize --all --builder codebuild --concurrency 10 --json",
    "a2c containerize --all --no-validate",
]
# The options only the codebuild builder reads (refused with another builder).
CODEBUILD_OPTIONS = ("s3_bucket", "s3_prefix", "codebuild_project", "codebuild_role", "codebuild_compute_type",
                     "codebuild_timeout", "aws_profile", "aws_region")


@click.command("containerize", epilog=epilog(EXAMPLES, [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.DOCKER_UNAVAILABLE, ExitStatus.BUILD_FAILED, ExitStatus.VALIDATION_FAILED, ExitStatus.AWS, ExitStatus.WINDOWS_HOST_REQUIRED, ExitStatus.NOT_SUPPORTED], env={'DOCKER_HOST': "the Docker engine (docker's own variable)", 'A2C_LOCK_WAIT': 'seconds to wait for another a2c on the same app (600)', 'A2C_TEMPLATES': "a folder of your own templates, in front of a2c's", 'AWS_PROFILE': 'with --builder codebuild: the AWS profile, after --profile', 'AWS_REGION': 'with --builder codebuild: the AWS region, after --region', 'AWS_ENDPOINT_URL': "botocore's endpoint override (and AWS_ENDPOINT_URL_<SERVICE>)"}),
               help="Write ID/Artifacts (Dockerfile, entry and health scripts), build the image by "
               "streaming the application's files to the Docker engine, then run it and probe applicationPort over "
               "HTTP. Writes ID/deployment.json for `a2c generate app-deployment`. With --builder codebuild the "
               "image is built and pushed to Amazon ECR by AWS CodeBuild instead: the build context is uploaded to "
               "the S3 bucket `a2c init` saved, one CodeBuild project (created when missing) builds it, and the "
               "pushed image's digest is recorded in ID/image.json. With --all, every analyzed application of the "
               "workspace is containerized (on CodeBuild, --concurrency at a time), a summary table ends the run, "
               "and the exit status is not 0 when any application failed.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, metavar="ID", callback=application_id_option,
              help="An analyzed application on this host.")
@click.option("--all", "all_apps", is_flag=True, help="Every analyzed application of the workspace (each with an analysis.json).")
@click.option("--input-archive", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Build from an archive written by `a2c extract` (on another machine).")
@click.option("--snapshot", metavar="DIR", help="Read the application's files from a host snapshot folder.")
@click.option("--base-image", metavar="IMAGE", help="Set containerParameters.containerBaseImage in analysis.json first.")
@click.option("--build-only", is_flag=True, help="Build from the existing Artifacts (your edits kept); do not run it.")
@click.option("--no-validate", is_flag=True, help="Build, but do not run the image to check it.")
@click.option("--artifacts-only", is_flag=True, help="Write Artifacts/ and deployment.json, then stop (no Docker needed).")
@click.option("--export-context", metavar="DIR", type=click.Path(path_type=Path),
              help="Also write the complete build context to DIR (Dockerfile at the top), so that a plain "
              "`docker build DIR` builds the image without a2c. Works with --artifacts-only.")
@click.option("--export-mode", type=click.Choice(["link", "copy", "tar"]), default=None,
              help="link (default): hard-link the host's files where the file system allows, else copy them; "
              "copy: copy every file; tar: DIR is one .tar, the very stream a2c sends to Docker.")
@click.option("--force", is_flag=True, help="Replace DIR when it exists and is not empty.")
@click.option("--validate-timeout", type=click.IntRange(5, 3600), default=180, show_default=True,
              help="Seconds to wait for the containerized application to answer.")
@click.option("--builder", "builder_id", metavar="ID",
              help="The builder: docker (the local engine, default for Linux images) or codebuild (AWS CodeBuild, "
              "pushes to ECR).")
@click.option("--concurrency", type=click.IntRange(1, 100), default=4, show_default=True,
              help="With --all and a remote builder (codebuild): builds at once. The local engine builds one at a time.")
@click.option("--s3-bucket", metavar="BUCKET", help="codebuild: the bucket for the build contexts (default: `a2c init`'s).")
@click.option("--s3-prefix", metavar="PREFIX", help="codebuild: the key prefix of the build contexts (default a2c/codebuild).")
@click.option("--codebuild-project", metavar="NAME", help="codebuild: the project to build with, created when missing "
              "(default a2c-image-builder).")
@click.option("--codebuild-role", metavar="ARN", help="codebuild: a service role you manage for a new project "
              "(default: a2c creates <project>-service-role with least privilege).")
@click.option("--codebuild-compute-type", metavar="TYPE", help="codebuild: the build machine (default BUILD_GENERAL1_SMALL).")
@click.option("--codebuild-timeout", type=click.IntRange(5, 480), metavar="MINUTES",
              help="codebuild: how long one build may run (default 60).")
@click.option("--profile", "aws_profile", metavar="NAME",
              help="codebuild: AWS profile (default: AWS_PROFILE, then the one `a2c init` saved).")
@click.option("--region", "aws_region", metavar="REGION",
              help="codebuild: AWS region (default: AWS_REGION or AWS_DEFAULT_REGION, then the one `a2c init` saved).")
@click.pass_obj
def command(app: AppContext, app_id: str | None, all_apps: bool, input_archive: Path | None, snapshot: str | None,
            base_image: str | None, build_only: bool, no_validate: bool, artifacts_only: bool,
            export_context: Path | None, export_mode: str | None, force: bool, validate_timeout: int,
            builder_id: str | None, concurrency: int, **builder_flags: object) -> None:
    if sum((bool(app_id), bool(input_archive), all_apps)) != 1:
        raise click.UsageError("give exactly one of --application-id, --input-archive and --all")
    if export_context is None and (export_mode or force):
        raise click.UsageError("--export-mode and --force go with --export-context DIR")
    if all_apps and export_context is not None:
        raise click.UsageError("--export-context writes one application's context: give --application-id, not --all")
    given = [name for name in CODEBUILD_OPTIONS if builder_flags.get(name) is not None]
    if given and builder_id != "codebuild":
        flags = ", ".join("--" + name.replace("_", "-").replace("aws-", "") for name in given)
        raise click.UsageError(f"{flags} go with --builder codebuild")
    from a2c.steps import containerize

    request = containerize.ContainerizeRequest(
        app_id=app_id, input_archive=input_archive, host=host_address(snapshot), base_image=base_image,
        build_only=build_only, artifacts_only=artifacts_only, validate=not (no_validate or build_only),
        validate_timeout=float(validate_timeout), export_context=export_context, export_mode=export_mode or "link",
        export_force=force, builder=builder_id, builder_options=builder_options(builder_flags))
    if all_apps:
        run_all(app, containerize, containerize.ContainerizeAllRequest(each=request, concurrency=concurrency))
        return
    result = containerize.run(app.env, request)
    for note in result.notes:
        app.output.warn(note)
    port = result.application_port or 8080
    deployment = app.workspace.app_dir(result.app_id) / "deployment.json"
    if result.image_uri:
        steps = [f"docker pull {result.image_uri}", f"Review {deployment}",
                 f"a2c generate app-deployment --application-id {result.app_id} --image-uri {result.image_uri}"]
    else:
        steps = [] if build_only or artifacts_only else [
            f"docker run --rm -p {port}:{port} {result.image}" if result.application_port else
            f"docker run --rm {result.image}  # runs the job once",
            f"Review {deployment}",
            f"a2c generate app-deployment --application-id {result.app_id}",
        ]
    if result.exported_context is not None:
        where = result.exported_context["path"]
        steps.insert(0, f"docker build - < {where}" if result.exported_context["mode"] == "tar" else f"docker build {where}")
    app.output.result(result.to_json(), lambda: app.output.next_steps(*steps))


def builder_options(flags: dict[str, object]) -> dict[str, object]:
    """The codebuild options under the names the builder reads (a2c.images.codebuild.settings_from)."""
    names = {"s3_bucket": "s3_bucket", "s3_prefix": "s3_prefix", "codebuild_project": "project",
             "codebuild_role": "role", "codebuild_compute_type": "compute_type", "codebuild_timeout": "timeout_minutes",
             "aws_profile": "profile", "aws_region": "region"}
    return {names[k]: v for k, v in flags.items() if k in names and v is not None}


def run_all(app: AppContext, step: Any, request: Any) -> None:
    """--all: a line per application as it ends, the summary table, exit status 0 only when none failed."""
    out = app.output

    def finished(outcome: Any) -> None:
        if outcome.status == "failed":
            out.warn(f"{outcome.app_id} failed after {outcome.seconds:.0f}s: {outcome.error}")
        else:
            out.step(f"{outcome.app_id} {outcome.status} in {outcome.seconds:.0f}s")

    result = step.run_all(app.env, request, on_done=finished)

    def human() -> None:
        rows = [[a.app_id, a.status, f"{a.seconds:.0f}s", a.image_uri or a.image, (a.error.splitlines() or [""])[0][:100]]
                for a in result.applications]
        out.table(["APPLICATION", "STATUS", "TIME", "IMAGE", "ERROR"], rows)
        built = sum(a.status == "built" for a in result.applications)
        out.echo(f"\n{built} built, {len(result.failed)} failed, {len(result.applications)} in all")
        for failed in result.failed:
            if failed.hint:
                out.echo(f"  {failed.app_id}: {failed.hint}")
        if result.failed:
            out.next_steps(*[f"a2c containerize --application-id {a.app_id}"
                             + (f" --builder {request.each.builder}" if request.each.builder else "")
                             + "   # again, alone, once fixed" for a in result.failed])

    out.result(result.to_json(), human)
    if result.exit_status:
        # The summary is out; the status says whether any failed. (click.exceptions.Exit would be
        # returned by main()'s standalone_mode=False call, not raised, and a2c's main ignores it.)
        sys.exit(result.exit_status)
