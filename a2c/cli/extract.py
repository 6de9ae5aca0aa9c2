"""``a2c extract``: archive one application so another machine can containerize it."""

from __future__ import annotations

import click

from a2c.cli.containerize import application_id_option
from a2c.cli.context import AppContext, host_address
from a2c.cli.helptext import complete_application_ids, epilog
from a2c.errors import ExitStatus
from a2c.model import json_fields


@click.command("extract", epilog=epilog(['a2c extract --application-id java-tomcat-1dd8e7ba', 'scp ~/a2c/java-tomcat-1dd8e7ba/java-tomcat-1dd8e7ba-extraction.tar worker:'], [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE], env={'A2C_LOCK_WAIT': 'seconds to wait for another a2c on the same app (600)'}),
               help="Write ID/ID-extraction.tar: the application's files, its analysis.json and the "
               "facts of its process, so that `a2c containerize --input-archive` can build it on a worker machine "
               "with Docker.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, required=True, metavar="ID", callback=application_id_option,
              help="An analyzed application.")
@click.option("--snapshot", metavar="DIR", help="Read the application's files from a host snapshot folder.")
@click.pass_obj
def command(app: AppContext, app_id: str, snapshot: str | None) -> None:
    from a2c.steps import extract

    result = extract.run(app.env, extract.ExtractRequest(app_id=app_id, host=host_address(snapshot)))
    app.output.result(json_fields(result), lambda: app.output.next_steps(
        "Copy the archive to a machine with Docker and a2c installed",
        f"a2c containerize --input-archive {result.archive}"))
