"""``a2c containerize``: build the image and prove it runs."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import click

from a2c.cli.context import AppContext
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


@contextlib.contextmanager
def locked(workspace: Any, app_id: str, create: bool = True) -> Iterator[None]:
    """Hold the application's lock; without ``create`` an application folder that is missing is
    left missing (the command will say the application is unknown)."""
    from a2c.locks import app_lock

    app_dir = workspace.app_dir(app_id)
    if not create and not app_dir.is_dir():
        yield
        return
    with app_lock(app_dir, app_id):
        yield


@click.command("containerize", epilog=epilog(['a2c containerize --application-id java-tomcat-1dd8e7ba', 'a2c containerize --input-archive java-tomcat-1dd8e7ba-extraction.tar', 'a2c containerize --application-id java-tomcat-1dd8e7ba --artifacts-only', 'DOCKER_HOST=tcp://127.0.0.1:2375 a2c containerize --application-id ID --build-only'], [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.DOCKER_UNAVAILABLE, ExitStatus.BUILD_FAILED, ExitStatus.VALIDATION_FAILED, ExitStatus.WINDOWS_HOST_REQUIRED], env={'DOCKER_HOST': "the Docker engine (docker's own variable)", 'A2C_LOCK_WAIT': 'seconds to wait for another a2c on the same app (600)', 'A2C_TEMPLATES': "a folder of your own templates, in front of a2c's"}),
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
@click.option("--validate-timeout", type=click.IntRange(5, 3600), default=180, show_default=True,
              help="Seconds to wait for the containerized application to answer.")
@click.pass_obj
def command(app: AppContext, app_id: str | None, input_archive: Path | None, snapshot: str | None, base_image: str | None,
            build_only: bool, no_validate: bool, artifacts_only: bool, validate_timeout: int) -> None:
    if bool(app_id) == bool(input_archive):
        raise click.UsageError("give exactly one of --application-id and --input-archive")
    workspace = app.workspace
    if input_archive:
        from a2c.extract import read_archive_app_id

        app_id = read_archive_app_id(input_archive)
    assert app_id is not None
    # One a2c at a time per application: a second run waits for the first, then fails clearly.
    with locked(workspace, app_id, create=bool(input_archive)):
        result = _run(app, app_id, input_archive, snapshot, base_image, build_only, no_validate, artifacts_only,
                      validate_timeout)
    for note in result.notes:
        app.output.warn(note)
    steps = [] if build_only or artifacts_only else [
        f"docker run --rm -p {_port(workspace, app_id)}:{_port(workspace, app_id)} {result.image}",
        f"Review {workspace.app_dir(app_id) / 'deployment.json'}",
        f"a2c generate app-deployment --application-id {app_id}",
    ]
    app.output.result(result.to_json(), lambda: app.output.next_steps(*steps))


def _run(app: AppContext, app_id: str, input_archive: Path | None, snapshot: str | None, base_image: str | None,
         build_only: bool, no_validate: bool, artifacts_only: bool, validate_timeout: int) -> Any:
    from a2c.containerize import ContainerizeRequest, containerize

    workspace = app.workspace
    if input_archive:
        from a2c.extract import unpack_archive

        app_id, host = unpack_archive(input_archive, workspace)
        app.output.step(f"Unpacked {input_archive} for {app_id}")
    else:
        host = app.local_host(snapshot)
    if base_image:
        analysis = workspace.read_analysis(app_id)
        analysis["containerParameters"]["containerBaseImage"] = base_image
        workspace.write_analysis(app_id, analysis)
    request = ContainerizeRequest(app_id=app_id, build_only=build_only, artifacts_only=artifacts_only,
                                  validate=not (no_validate or build_only),
                                  validate_timeout=float(validate_timeout))
    return containerize(workspace, request, host, app.registry(), app.output)


def _port(workspace, app_id: str) -> int:
    return int(workspace.read_analysis(app_id)["containerParameters"].get("applicationPort") or 8080)
