"""``a2c analyze``: study one application and write its editable analysis.json."""

from __future__ import annotations

import click

from a2c.cli.context import AppContext, host_address
from a2c.cli.helptext import complete_application_ids, epilog
from a2c.errors import ExitStatus


@click.command("analyze", epilog=epilog(['a2c analyze --application-id java-tomcat-1dd8e7ba', 'a2c --json analyze --application-id dotnet-core-58845c83 --snapshot ./host-snapshot'], [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE]),
               help="Analyze one application from the inventory: runtime and version, ports, "
               "configuration, files, secrets. Writes ID/analysis.json, whose containerParameters you may edit.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, required=True, metavar="ID", help="An id from `a2c inventory`.")
@click.option("--snapshot", metavar="DIR", help="Read a host snapshot folder instead of this machine.")
@click.pass_obj
def command(app: AppContext, app_id: str, snapshot: str | None) -> None:
    from a2c.steps import analyze

    result = analyze.run(app.env, analyze.AnalyzeRequest(app_id=app_id, host=host_address(snapshot)))
    params = result.document["containerParameters"]

    def human() -> None:
        out = app.output
        out.step(f"Analysis written to {result.path}")
        info = result.document["analysisInfo"]
        advanced = info.get("AdvancedAppInfo", {})
        if advanced.get("jdkVersion"):
            runtime = f"Java {advanced['jdkVersion']}"
        elif "dotnet" in info:
            runtime = f".NET {advanced.get('version') or info['dotnet'].get('targetFramework', '?')}"
        elif info.get("dotNetVersion"):
            runtime = f".NET Framework {info['dotNetVersion']}"
        else:
            runtime = "runtime ?"
        out.echo(f"  type {info['applicationType']}, {runtime}, port {params['applicationPort']}, "
                 f"base image {params['containerBaseImage']}")
        for finding in result.findings:
            out.echo(f"  [{finding.severity}] {finding.code} {finding.message}")
        out.next_steps(f"Review and edit containerParameters in {result.path}",
                       f"a2c containerize --application-id {app_id}")

    app.output.result({"applicationId": app_id, "analysis": str(result.path),
                       "findings": [f.to_json() for f in result.findings]}, human)
