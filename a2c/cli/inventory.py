"""``a2c inventory``: list the applications running on this host."""

from __future__ import annotations

import click

from a2c.cli.context import AppContext
from a2c.cli.helptext import complete_application_ids, epilog
from a2c.errors import ExitStatus


@click.command("inventory", epilog=epilog(['a2c inventory', 'a2c --json inventory --type java', 'a2c inventory --snapshot ./host-snapshot'], [ExitStatus.HOST, ExitStatus.INVALID_FILE]),
               help="Find the applications on this host (Java servers and processes, .NET Core "
               "processes, IIS sites and Windows services from a snapshot) and write inventory.json. Application ids stay the same across runs and restarts.")
@click.option("--type", "runtime", type=click.Choice(["java", "dotnet", "iis", "service"]), default=None,
              help="Only Java processes, .NET processes and Windows applications, IIS sites or Windows services.")
@click.option("--snapshot", metavar="DIR", help="Read a host snapshot folder instead of this machine.")
@click.pass_obj
def command(app: AppContext, runtime: str | None, snapshot: str | None) -> None:
    from a2c.discovery import discover

    workspace = app.workspace
    host = app.local_host(snapshot)
    registry = app.registry()
    result = discover(host, registry, runtime)
    entries = dict(result.entries)
    if runtime is not None and workspace.inventory_path.exists():
        # A narrowed run replaces only its own kind of application; the others stay listed.
        from a2c.errors import A2CError
        from a2c.discovery import covered_types

        try:
            previous = workspace.read_inventory()
        except A2CError:
            previous = {}
        covered = covered_types(registry, runtime)
        entries = {**{k: v for k, v in previous.items() if v.application_type not in covered}, **entries}
    path = workspace.write_inventory(entries)
    for note in result.notes:
        app.output.detail(note)

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
