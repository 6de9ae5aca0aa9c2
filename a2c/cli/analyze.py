"""``a2c analyze``: study one application and write its editable analysis.json."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from a2c.cli.context import AppContext, host_address
from a2c.cli.helptext import complete_application_ids, epilog
from a2c.errors import ExitStatus, UsageError

log = logging.getLogger(__name__)

_OUTCOMES = {"created": "stored", "overwritten": "replaced", "exists": "left as it is",
             "unreadable": "NOT STORED", "failed": "NOT STORED"}


@click.command("analyze", epilog=epilog(['a2c analyze --application-id java-tomcat-1dd8e7ba', 'a2c --json analyze --application-id dotnet-core-58845c83 --snapshot ./host-snapshot', 'a2c analyze --application-id java-tomcat-1dd8e7ba --store-secrets --region eu-west-1', 'a2c analyze --application-id ID --store-secrets secretsmanager --kms-key-id alias/a2c --overwrite'], [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.AWS], env={'AWS_PROFILE': 'the AWS profile for --store-secrets, after --profile', 'AWS_REGION': 'the AWS region for --store-secrets, after --region (also AWS_DEFAULT_REGION)', 'AWS_ENDPOINT_URL': "botocore's endpoint override (and AWS_ENDPOINT_URL_<SERVICE>)"}),
               help="Analyze one application from the inventory: runtime and version, ports, "
               "configuration, files, secrets. Writes ID/analysis.json, whose containerParameters you may edit. "
               "With --store-secrets, the secrets' values are read again on this host and stored in AWS "
               "(never in the workspace) under the names deployment.json uses.")
@click.option("--application-id", "app_id", shell_complete=complete_application_ids, required=True, metavar="ID", help="An id from `a2c inventory`.")
@click.option("--snapshot", metavar="DIR", help="Read a host snapshot folder instead of this machine.")
@click.option("--store-secrets", "store", type=click.Choice(["ssm", "secretsmanager"]), is_flag=False, flag_value="ssm",
              default=None, help="Store each secret's value in SSM Parameter Store as a SecureString /a2c/ID/VAR "
              "(the default), or in Secrets Manager under that name. Exits 5 (or 10) when some were not stored.")
@click.option("--overwrite", is_flag=True, help="With --store-secrets: replace values already stored (else they are left and reported).")
@click.option("--kms-key-id", metavar="KEY", help="With --store-secrets: the KMS key to encrypt with (id, ARN or alias; default: the account's AWS managed key).")
@click.option("--profile", "aws_profile", metavar="NAME", help="With --store-secrets: the AWS profile (default: AWS_PROFILE, then the one `a2c init` saved).")
@click.option("--region", "aws_region", metavar="REGION", help="With --store-secrets: the AWS region (default: AWS_REGION or AWS_DEFAULT_REGION, then the one `a2c init` saved).")
@click.pass_obj
def command(app: AppContext, app_id: str, snapshot: str | None, store: str | None, overwrite: bool,
            kms_key_id: str | None, aws_profile: str | None, aws_region: str | None) -> None:
    from a2c.gateways.secretstore import not_stored_error
    from a2c.steps import analyze

    if store is None and (overwrite or kms_key_id):
        raise UsageError("--overwrite and --kms-key-id go with --store-secrets",
                         f"Run `a2c analyze --application-id {app_id} --store-secrets` with them.")
    result = analyze.run(app.env, analyze.AnalyzeRequest(
        app_id=app_id, host=host_address(snapshot), store_secrets=store, overwrite=overwrite,
        kms_key_id=kms_key_id or None, aws_profile=aws_profile, aws_region=aws_region))
    params = result.document["containerParameters"]
    stored = [s.to_json() for s in result.stored_secrets]
    failure = not_stored_error(result.stored_secrets)

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
        if store is not None:
            human_secrets(app, stored, store)
        steps = [f"Review and edit containerParameters in {result.path}", f"a2c containerize --application-id {app_id}"]
        if store == "secretsmanager" and any(s["store"] == "secretsmanager" for s in stored):
            steps.insert(1, "After containerize, set each secret's valueFrom in deployment.json to the ARN shown above "
                            "(deployment.json names SSM parameters)")
        out.next_steps(*steps)

    document: dict[str, Any] = {"applicationId": app_id, "analysis": str(result.path), "findings": [f.to_json() for f in result.findings]}
    if store is not None:
        document["storedSecrets"] = stored
    if failure is not None and app.output.json_mode:  # one JSON document: the result carries the error
        document.update({"error": failure.message, "hint": failure.hint, "exitStatus": int(failure.exit_status)})
    app.output.result(document, human)
    if failure is not None:
        if not app.output.json_mode:
            raise failure
        # The JSON result above already carries the error: main() would print a second document.
        # (click.exceptions.Exit would not do: click returns its status instead of exiting.)
        log.error("%s (hint: %s)", failure.message, failure.hint)
        sys.exit(int(failure.exit_status))


def human_secrets(app: AppContext, stored: list[dict[str, Any]], store: str) -> None:
    """Where each secret's value went (never the value), one line each."""
    out = app.output
    if not stored:
        out.echo("  no secrets to store")
        return
    out.echo(f"  secrets ({'SSM Parameter Store' if store == 'ssm' else 'Secrets Manager'}):")
    for secret in stored:
        line = f"    {secret['envVar']}: {_OUTCOMES.get(secret['outcome'], secret['outcome'])} {secret['location']}"
        out.echo(line + (f" ({secret['message']})" if secret["message"] else ""))
