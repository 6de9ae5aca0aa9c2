"""``a2c inventory``: list the applications running on this host."""

from __future__ import annotations

import click

from a2c.cli.context import AppContext, host_address
from a2c.cli.helptext import epilog
from a2c.errors import ExitStatus


@click.command("inventory", epilog=epilog(['a2c inventory', 'a2c --json inventory --type java', 'a2c inventory --snapshot ./host-snapshot'], [ExitStatus.HOST, ExitStatus.INVALID_FILE]),
               help="Find the applications on this host (Java servers and processes, .NET Core "
               "processes, IIS sites and Windows services from a snapshot) and write inventory.json. Application ids stay the same across runs and restarts.")
@click.option("--type", "runtime", type=click.Choice(["java", "dotnet", "iis", "service"]), default=None,
              help="Only Java processes, .NET processes and Windows applications, IIS sites or Windows services.")
@click.option("--snapshot", metavar="DIR", help="Read a host snapshot folder instead of this machine.")
@click.pass_obj
def command(app: AppContext, runtime: str | None, snapshot: str | None) -> None:
    from a2c.steps import inventory

    result = inventory.run(app.env, inventory.InventoryRequest(runtime=runtime, host=host_address(snapshot)))
    path = result.path

    def human() -> None:
        out = app.output
        if not result.entries:
            out.echo("No Java applications found running on this host.")
        else:
            out.table(
                ["APPLICATION ID", "TYPE", "PID", "PORTS", "WEB APPS", "BASE"],
                [[e.app_id, e.application_type, str(e.process_id), ",".join(map(str, e.ports)) or "-",
                  ",".join(e.web_apps) or "-", e.base_dir] for e in result.entries.values()],
            )
        if result.notes:
            out.echo(f"\n{len(result.notes)} process(es) skipped (details with -v).")
        out.step(f"Inventory written to {path}")
        if result.entries:
            out.next_steps(f"a2c analyze --application-id {next(iter(result.entries))}")

    app.output.result({k: v.to_json() for k, v in result.entries.items()}, human)
