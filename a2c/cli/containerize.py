"""``a2c containerize``: build the image and prove it runs."""

from __future__ import annotations

from pathlib import Path

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


@click.command("containerize", epilog=epilog(['a2c containerize --application-id java-tomcat-1dd8e7ba', 'a2c containerize --input-archive java-tomcat-1dd8e7ba-extraction.tar', 'a2c containerize --application-id java-tomcat-1dd8e7ba --artifacts-only', 'a2c containerize --application-id java-tomcat-1dd8e7ba --artifacts-only --export-context ./context', 'DOCKER_HOST=tcp://127.0.0.1:2375 a2c containerize --application-id ID --build-only'], [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.DOCKER_UNAVAILABLE, ExitStatus.BUILD_FAILED, ExitStatus.VALIDATION_FAILED, ExitStatus.WINDOWS_HOST_REQUIRED], env={'DOCKER_HOST': "the Docker engine (docker's own variable)", 'A2C_LOCK_WAIT': 'seconds to wait for another a2c on the same app (600)', 'A2C_TEMPLATES': "a folder of your own templates, in front of a2c's"}),
               help="Write ID/Artifacts (Dockerfile, entry and health scripts), build the image by "
               "streaming the application's files to the Docker engine, then run it and probe applicationPort over "
               "HTTP. Writes ID/deployment.json for `a2c generate app-deployment`.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, metavar="ID", callback=application_id_option,
              help="An analyzed application on this host.")
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
@click.pass_obj
def command(app: AppContext, app_id: str | None, input_archive: Path | None, snapshot: str | None, base_image: str | None,
            build_only: bool, no_validate: bool, artifacts_only: bool, export_context: Path | None,
            export_mode: str | None, force: bool, validate_timeout: int) -> None:
    if bool(app_id) == bool(input_archive):
        raise click.UsageError("give exactly one of --application-id and --input-archive")
    if export_context is None and (export_mode or force):
        raise click.UsageError("--export-mode and --force go with --export-context DIR")
    from a2c.steps import containerize

    request = containerize.ContainerizeRequest(
        app_id=app_id, input_archive=input_archive, host=host_address(snapshot), base_image=base_image,
        build_only=build_only, artifacts_only=artifacts_only, validate=not (no_validate or build_only),
        validate_timeout=float(validate_timeout), export_context=export_context, export_mode=export_mode or "link",
        export_force=force)
    result = containerize.run(app.env, request)
    for note in result.notes:
        app.output.warn(note)
    port = result.application_port or 8080
    deployment = app.workspace.app_dir(result.app_id) / "deployment.json"
    steps = [] if build_only or artifacts_only else [
        f"docker run --rm -p {port}:{port} {result.image}",
        f"Review {deployment}",
        f"a2c generate app-deployment --application-id {result.app_id}",
    ]
    if result.exported_context is not None:
        where = result.exported_context["path"]
        steps.insert(0, f"docker build - < {where}" if result.exported_context["mode"] == "tar" else f"docker build {where}")
    app.output.result(result.to_json(), lambda: app.output.next_steps(*steps))
