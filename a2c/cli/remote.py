"""``a2c remote …``: inventory, analyze and extract other machines from this one, many at once.

configure and list keep the targets (``<workspace>/remote/targets.json``); inventory, analyze
and extract run the local steps on the targets over SSH (or Systems Manager with ``--ssm``),
each target's results in ``<workspace>/remote/<target>/`` as a local run writes them.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from a2c.cli.containerize import application_id_option
from a2c.cli.context import AppContext
from a2c.cli.helptext import epilog
from a2c.errors import ExitStatus, HostError, UsageError

log = logging.getLogger(__name__)

_AWS_ENV = {"AWS_PROFILE": "the AWS profile for secrets and --ssm, after --profile",
            "AWS_REGION": "the AWS region for secrets and --ssm, after --region",
            "AWS_ENDPOINT_URL": "botocore's endpoint override (and AWS_ENDPOINT_URL_<SERVICE>)",
            "SSH_AUTH_SOCK": "the SSH agent (targets configured with --agent, the default)"}


@click.group("remote", help="Inventory, analyze and extract applications on other servers, many at once, "
             "over SSH (nothing is installed there: a POSIX shell and its standard tools are enough) or, with "
             "--ssm, through AWS Systems Manager. Results land in <workspace>/remote/<target>/, in the same "
             "files a local run writes; `a2c containerize --input-archive` then builds here.")
def group() -> None:
    pass


# -- configure ----------------------------------------------------------------------------------------

@group.command("configure", epilog=epilog([
    "a2c remote configure --target web1 --host 10.0.0.11 --user deploy --key ~/.ssh/id_ed25519",
    "a2c remote configure --target db1 --host db1.internal --jump bastion --timeout 300",
    "a2c remote configure --target app7 --host 10.0.0.7 --secret-id a2c/app7-ssh --profile migration",
    "a2c remote configure --target lab --host 127.0.0.1 --port 2222 --known-hosts ./known_hosts --accept-host-key",
    "a2c remote configure --target web1 --timeout 900          # change one setting of a target",
    "a2c remote configure --inventory-file ./inventory/hosts.ini",
    "a2c remote configure --ssh-config ~/.ssh/config --known-hosts ~/.ssh/known_hosts"],
    [ExitStatus.INVALID_FILE], env=_AWS_ENV),
    help="Record remote targets in <workspace>/remote/targets.json: one with --target/--host, or all the hosts of "
         "an Ansible inventory (INI or YAML: groups, children, vars, host vars, ranges like web[01:03]) or of an "
         "OpenSSH config (Host, HostName, Port, User, IdentityFile, ProxyJump, Include). Credentials are never "
         "stored: a key file, the SSH agent, or a Secrets Manager secret (--secret-id: JSON with username and "
         "privateKey or password) read when a command runs. Host keys are checked against known_hosts; an unknown "
         "key is refused unless --accept-host-key records it. Ansible vars a2c also reads: a2c_secret_id, "
         "a2c_timeout, a2c_certificate_file, a2c_known_hosts.")
@click.option("--target", "name", metavar="NAME", help="The target's name (its folder remote/NAME).")
@click.option("--host", metavar="HOST", help="Host name or IP address to connect to.")
@click.option("--port", type=click.IntRange(1, 65535), help="SSH port (default 22).")
@click.option("--user", metavar="USER", help="Remote user (default: the current user, or the secret's username).")
@click.option("--key", "keys", metavar="FILE", multiple=True, help="Private key file (repeatable).")
@click.option("--certificate", metavar="FILE", help="OpenSSH certificate for the key (default: KEY-cert.pub beside it).")
@click.option("--agent/--no-agent", default=None, help="Use the SSH agent's keys (default: yes).")
@click.option("--jump", metavar="NAME", help="Reach it through this target (or [user@]host[:port]; comma-separated hops).")
@click.option("--timeout", type=click.FloatRange(min=1, max=86400), metavar="SECONDS",
              help="Seconds a2c may spend on this host for one command (default: 600 inventory, 1800 analyze, 4 h extract).")
@click.option("--secret-id", metavar="ID", help="Secrets Manager secret (name or ARN) with the SSH credentials.")
@click.option("--known-hosts", metavar="FILE", help="known_hosts file to check host keys against (default ~/.ssh/known_hosts).")
@click.option("--accept-host-key", is_flag=True, help="Accept an unknown host key and record it in known_hosts. A changed key is always refused.")
@click.option("--group", "groups", metavar="GROUP", multiple=True, help="With --target: a group it belongs to (repeatable).")
@click.option("--inventory-file", metavar="FILE", help="Read the targets from an Ansible inventory (INI or YAML).")
@click.option("--ssh-config", metavar="FILE", help="Read the targets from an OpenSSH client config.")
@click.pass_obj
def configure(app: AppContext, name: str | None, host: str | None, port: int | None, user: str | None,
              keys: tuple[str, ...], certificate: str | None, agent: bool | None, jump: str | None,
              timeout: float | None, secret_id: str | None, known_hosts: str | None, accept_host_key: bool,
              groups: tuple[str, ...], inventory_file: str | None, ssh_config: str | None) -> None:
    from a2c.fleet import targets as store

    sources = [s for s in (name and "--target", inventory_file and "--inventory-file", ssh_config and "--ssh-config") if s]
    if len(sources) != 1:
        raise UsageError("give one of --target NAME, --inventory-file FILE or --ssh-config FILE",
                         "See `a2c remote configure --help`.")
    workspace = app.workspace
    existing = store.read_targets(workspace)
    known_hosts_path = store.absolute_path(store.no_control(known_hosts, "--known-hosts")) if known_hosts else None
    notes: list[str] = []
    if name is not None:
        new = [_one_target(existing, name, host, port, user, keys, certificate, agent, jump, timeout, secret_id,
                           known_hosts_path, accept_host_key, groups)]
    else:
        single = {"--host": host, "--port": port, "--key": keys, "--certificate": certificate, "--agent": agent,
                  "--jump": jump, "--group": groups}
        given = [flag for flag, value in single.items() if value not in (None, ())]
        if given:
            raise UsageError(f"{', '.join(given)} go with --target, not with a file",
                             "Set them in the file (ansible_host, ansible_port, … or Host blocks).")
        if inventory_file:
            from a2c.fleet.ansible import load_inventory

            found, notes = load_inventory(inventory_file)
        else:
            from a2c.fleet.sshconfig import load_ssh_config

            found, notes = load_ssh_config(str(ssh_config))
        if not found:
            raise UsageError(f"{inventory_file or ssh_config} names no host a2c can reach over SSH",
                             "Check the file; notes above say what was left out." if notes else "")
        new = [store.with_defaults(t, known_hosts=known_hosts_path, accept_host_key=accept_host_key,
                                   secret_id=secret_id, timeout=timeout, user=user) for t in found]
    merged = store.merge_targets(existing, new)
    path = store.write_targets(workspace, merged)
    for note in notes:
        app.output.warn(note)

    def human() -> None:
        _targets_table(app, [merged[t.name] for t in new])
        app.output.step(f"{len(new)} target(s) recorded in {path}")
        app.output.next_steps("a2c remote inventory --all", "a2c remote list")

    app.output.result({"path": str(path), "configured": [t.name for t in new],
                       "targets": {t.name: merged[t.name].to_json() for t in new}, "notes": notes}, human)


def _one_target(existing: dict[str, Any], name: str, host: str | None, port: int | None, user: str | None,
                keys: tuple[str, ...], certificate: str | None, agent: bool | None, jump: str | None,
                timeout: float | None, secret_id: str | None, known_hosts: str | None, accept_host_key: bool,
                groups: tuple[str, ...]) -> Any:
    """A new target from the flags, or an existing one with only the given flags changed."""
    import dataclasses

    from a2c.fleet import targets as store

    store.check(name, store.name_problem, "target name")
    base = existing.get(name)
    if base is None:
        if not host:
            raise UsageError(f"target {name} is new: give --host", f"a2c remote configure --target {name} --host HOST")
        base = store.RemoteTarget(name=name, host=host, source="configure")
    changes: dict[str, Any] = {}
    if host:
        changes["host"] = store.check(host, store.host_problem, "--host")
    if port is not None:
        changes["port"] = port
    if user:
        changes["user"] = store.check(user, store.user_problem, "--user")
    if keys:
        changes["key_files"] = tuple(store.check_file(k, "--key") for k in keys)
    if certificate:
        changes["certificate_file"] = store.check_file(certificate, "--certificate")
    if agent is not None:
        changes["agent"] = agent
    if jump:
        if jump == name:
            raise UsageError(f"target {name} cannot be its own jump host")
        changes["jump"] = store.no_control(jump, "--jump")
        for hop in jump.split(","):
            if hop.strip() not in existing:
                store.parse_hop(hop, "--jump")
    if timeout is not None:
        changes["timeout"] = float(timeout)
    if secret_id:
        changes["secret_id"] = store.no_control(secret_id, "--secret-id")
    if known_hosts:
        changes["known_hosts"] = known_hosts
    if accept_host_key:
        changes["accept_host_key"] = True
    if groups:
        changes["groups"] = tuple(store.check(g, store.name_problem, "--group") for g in groups)
    return dataclasses.replace(base, **changes)


def _targets_table(app: AppContext, targets: list[Any]) -> None:
    app.output.table(["TARGET", "HOST", "PORT", "USER", "AUTH", "JUMP", "GROUPS"],
                     [[t.name + (" (jump only)" if t.jump_only else ""), t.host, str(t.port), t.user or "-",
                       t.auth_method, t.jump or "-", ",".join(t.groups) or "-"] for t in targets])


# -- list ------------------------------------------------------------------------------------------------

@group.command("list", epilog=epilog(["a2c remote list", "a2c --json remote list"], [ExitStatus.INVALID_FILE]),
               help="List the configured targets.")
@click.pass_obj
def list_targets(app: AppContext) -> None:
    from a2c.fleet import targets as store

    targets = store.read_targets(app.workspace)

    def human() -> None:
        if not targets:
            app.output.echo("No remote targets configured.")
            app.output.next_steps("a2c remote configure --target NAME --host HOST")
            return
        _targets_table(app, [targets[n] for n in sorted(targets)])

    app.output.result({"targets": {n: targets[n].to_json() for n in sorted(targets)}}, human)


# -- the runs --------------------------------------------------------------------------------------------

def _run_options(command: Any) -> Any:
    """Options every run shares: how many at once, timeouts, retries, AWS, SSM."""
    options = [
        click.option("--concurrency", type=click.IntRange(1, 512), default=8, show_default=True,
                     help="Hosts worked on at once."),
        click.option("--connections", type=click.IntRange(1, 1024), default=None,
                     help="Hosts connected at once, at most, counting hosts still closing after their timeout "
                          "(default: --concurrency; a host behind jump hosts holds one connection per hop)."),
        click.option("--timeout", type=click.FloatRange(min=1, max=86400), default=None, metavar="SECONDS",
                     help="Seconds per host, over the targets' own timeouts."),
        click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="More tries for a host whose connection fails (with backoff)."),
        click.option("--profile", "aws_profile", metavar="NAME", help="AWS profile for secrets and --ssm."),
        click.option("--region", "aws_region", metavar="REGION", help="AWS region for secrets and --ssm."),
        click.option("--ssm", is_flag=True, help="Reach managed instances through AWS Systems Manager Run Command "
                     "instead of SSH (select them with --instance-id, --tag or --resource-group)."),
        click.option("--instance-id", "instance_ids", metavar="ID", multiple=True, help="With --ssm: an instance (repeatable)."),
        click.option("--tag", "tags", metavar="KEY=VALUE", multiple=True, help="With --ssm: instances with this tag (repeatable: all of them)."),
        click.option("--resource-group", "resource_groups", metavar="NAME", multiple=True,
                     help="With --ssm: the instances of a resource group (repeatable)."),
        click.option("--bucket", metavar="BUCKET", help="With --ssm: S3 bucket for large outputs (default: `a2c init`'s)."),
        click.option("--max-errors", default="10%", show_default=True, help="With --ssm: SSM's MaxErrors for the scan."),
        click.option("--max-concurrency", "ssm_concurrency", default="10%", show_default=True,
                     help="With --ssm: SSM's MaxConcurrency for the scan."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _ssm_selection(opts: dict[str, Any]) -> Any:
    from a2c.steps.remote import SsmSelection

    if not (opts["instance_ids"] or opts["tags"] or opts["resource_groups"]):
        raise UsageError("--ssm needs --instance-id, --tag or --resource-group")
    return SsmSelection(instance_ids=tuple(opts["instance_ids"]), tags=tuple(opts["tags"]),
                        resource_groups=tuple(opts["resource_groups"]), aws_profile=opts["aws_profile"],
                        aws_region=opts["aws_region"], bucket=opts["bucket"], max_concurrency=opts["ssm_concurrency"],
                        max_errors=opts["max_errors"])


def _check_ssm_flags(opts: dict[str, Any]) -> None:
    if not opts["ssm"]:
        used = [f for f, k in (("--instance-id", "instance_ids"), ("--tag", "tags"), ("--resource-group", "resource_groups"),
                               ("--bucket", "bucket")) if opts[k]]
        if used:
            raise UsageError(f"{', '.join(used)} go with --ssm")


def _execute(app: AppContext, opts: dict[str, Any], kind: str, step: Any, step_request: Any,
             names: tuple[str, ...], groups: tuple[str, ...], everything: bool, summary: bool) -> Any:
    from a2c.fleet.targets import read_targets, select_targets
    from a2c.steps import remote

    request = remote.RemoteRequest(step=step, step_request=step_request, kind=kind, concurrency=opts["concurrency"],
                                   connections=opts["connections"], timeout=opts["timeout"], retries=opts["retries"],
                                   summary=summary)
    if opts["ssm"]:
        if names or groups or everything:
            raise UsageError("--ssm selects instances with --instance-id, --tag or --resource-group, "
                             "not --target, --group or --all")
        return remote.run_ssm(app.env, request, _ssm_selection(opts))
    _check_ssm_flags(opts)
    configured = read_targets(app.workspace)
    chosen = select_targets(configured, names, groups, everything)
    return remote.run(app.env, request, remote.SshSelection(tuple(chosen), configured, opts["aws_profile"],
                                                            opts["aws_region"]))


def _finish(app: AppContext, result: Any, document: dict[str, Any], human: Any) -> None:
    """Print the result; exit 5 when some host failed (the JSON document then carries the error)."""
    failed = [(o.name, o.hint) for o in result.failed] + [(s["instanceId"], "") for s in result.skipped]
    error = None
    if failed:
        names = ", ".join(name for name, _ in failed[:10]) + (" …" if len(failed) > 10 else "")
        total = len(result.outcomes) + len(result.skipped)
        error = HostError(f"{len(failed)} of {total} host(s) failed: {names}",
                          failed[0][1] if len(failed) == 1 and failed[0][1] else "See the failed hosts above; fix "
                          "them and run the command again for those targets.")
        if app.output.json_mode:
            document.update({"error": error.message, "hint": error.hint, "exitStatus": int(error.exit_status)})
    app.output.result(document, human)
    if error is not None:
        if not app.output.json_mode:
            raise error
        log.error("%s (hint: %s)", error.message, error.hint)
        sys.exit(int(error.exit_status))


def _outcomes_json(result: Any, files: Any) -> list[dict[str, Any]]:
    rows = []
    for outcome in result.outcomes:
        row = {**outcome.to_json(), "host": outcome.item.address, "directory": str(result.directories[outcome.name])}
        if outcome.ok:
            row.update(files(outcome))
        rows.append(row)
    return rows


@group.command("inventory", epilog=epilog([
    "a2c remote inventory --all",
    "a2c remote inventory --group webservers --type java --concurrency 20",
    "a2c remote inventory --target web1 --target web2",
    "a2c --json remote inventory --all > fleet.json",
    "a2c remote inventory --ssm --tag Role=app --region eu-west-1",
    "a2c remote inventory --ssm --instance-id i-0123456789abcdef0 --bucket my-a2c-bucket"],
    [ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.AWS], env=_AWS_ENV),
    help="Find the applications on remote targets; each target's inventory goes to "
         "<workspace>/remote/TARGET/inventory.json. Many hosts at once, each with a deadline; connection failures "
         "are retried; a host that fails or hangs is reported and the others go on. With --all or --group (and "
         "--ssm), ends with a fleet summary: applications by type and version, ports, dependencies between hosts, "
         "and the hosts that failed (also in remote/fleet-summary.json). Exits 5 when a host failed.")
@click.option("--target", "names", metavar="NAME", multiple=True, help="A configured target (repeatable).")
@click.option("--group", "groups", metavar="GROUP", multiple=True, help="Every target of a group (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every configured target (jump-only hosts left out).")
@click.option("--type", "runtime", type=click.Choice(["java", "dotnet"]), default=None,
              help="Only Java or only .NET processes.")
@_run_options
@click.pass_obj
def inventory(app: AppContext, names: tuple[str, ...], groups: tuple[str, ...], everything: bool,
              runtime: str | None, **opts: Any) -> None:
    from a2c.steps import inventory as step

    if not opts["ssm"] and not (names or groups or everything):
        raise UsageError("choose the targets: --target NAME, --group G or --all (or --ssm …)",
                         "`a2c remote list` shows the configured targets.")
    if not opts["ssm"] and everything and (names or groups):
        raise UsageError("--all goes alone, without --target or --group")
    summary = bool(everything or groups or opts["ssm"] or len(names) > 1)
    result = _execute(app, opts, "inventory", step.run, step.InventoryRequest(runtime=runtime),
                      names, groups, everything, summary)

    def files(outcome: Any) -> dict[str, Any]:
        value = outcome.value
        return {"inventory": str(value.path), "applications": {k: v.to_json() for k, v in value.entries.items()}}

    document: dict[str, Any] = {"targets": _outcomes_json(result, files)}
    if result.summary is not None:
        document["summary"] = result.summary
        document["summaryFile"] = str(result.summary_path)
    if result.skipped:
        document["skipped"] = result.skipped

    def human() -> None:
        out = app.output
        rows = []
        for outcome in result.outcomes:
            if outcome.ok:
                entries = outcome.value.entries
                rows.append([outcome.name, outcome.item.address, "ok", str(len(entries)),
                             ", ".join(sorted(entries)[:4]) + (" …" if len(entries) > 4 else "") or "-"])
            else:
                rows.append([outcome.name, outcome.item.address, f"FAILED ({outcome.kind})", "-", outcome.error])
        out.table(["TARGET", "HOST", "RESULT", "APPS", "APPLICATION IDS / WHY"], rows)
        if result.summary is not None:
            from a2c.fleet.summary import summary_tables

            for title, headers, table_rows in summary_tables(result.summary):
                out.echo(f"\n{title}:")
                if table_rows:
                    out.table(headers, table_rows)
                else:
                    out.echo("  none")
            external = result.summary["externalConnections"]["count"]
            if external:
                out.echo(f"\n{external} connection(s) to addresses outside the fleet (in {result.summary_path}).")
        ok = [o for o in result.outcomes if o.ok and o.value.entries]
        if ok:
            first = ok[0]
            out.next_steps(f"a2c remote analyze --application-id {next(iter(first.value.entries))} --target {first.name}")

    _finish(app, result, document, human)


def _single(app: AppContext, opts: dict[str, Any], name: str | None, kind: str, step: Any, step_request: Any) -> Any:
    if opts["ssm"]:
        if name:
            raise UsageError("--ssm takes --instance-id, not --target")
        if len(opts["instance_ids"]) != 1 or opts["tags"] or opts["resource_groups"]:
            raise UsageError(f"remote {kind} --ssm takes exactly one --instance-id")
    elif not name:
        raise UsageError("give --target NAME (or --ssm --instance-id ID)")
    return _execute(app, opts, kind, step, step_request, (name,) if name else (), (), False, False)


@group.command("analyze", epilog=epilog([
    "a2c remote analyze --application-id java-tomcat-1dd8e7ba --target web1",
    "a2c remote analyze --application-id java-generic-0c1d2e3f --ssm --instance-id i-0123456789abcdef0"],
    [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.AWS], env=_AWS_ENV),
    help="Analyze one application of a target's inventory (`a2c remote inventory` first); writes "
         "<workspace>/remote/TARGET/ID/analysis.json, which you may edit before `a2c remote extract`.")
@click.option("--application-id", "app_id", required=True, metavar="ID", callback=application_id_option,
              help="An id from the target's inventory.")
@click.option("--target", "name", metavar="NAME", help="The target the application runs on.")
@_run_options
@click.pass_obj
def analyze(app: AppContext, app_id: str, name: str | None, **opts: Any) -> None:
    from a2c.steps import analyze as step

    result = _single(app, opts, name, "analyze", step.run, step.AnalyzeRequest(app_id=app_id))

    def files(outcome: Any) -> dict[str, Any]:
        return {"applicationId": app_id, "analysis": str(outcome.value.path),
                "findings": [f.to_json() for f in outcome.value.findings]}

    document = {"targets": _outcomes_json(result, files)}

    def human() -> None:
        for outcome in result.outcomes:
            if outcome.ok:
                app.output.step(f"Analysis written to {outcome.value.path}")
                for finding in outcome.value.findings:
                    app.output.echo(f"  [{finding.severity}] {finding.code} {finding.message}")
                app.output.next_steps(f"Review and edit containerParameters in {outcome.value.path}",
                                      f"a2c remote extract --application-id {app_id} --target {outcome.name}")

    _finish(app, result, document, human)


@group.command("extract", epilog=epilog([
    "a2c remote extract --application-id java-tomcat-1dd8e7ba --target web1",
    "a2c containerize --input-archive ~/a2c/remote/web1/java-tomcat-1dd8e7ba/java-tomcat-1dd8e7ba-extraction.tar"],
    [ExitStatus.NOT_FOUND, ExitStatus.HOST, ExitStatus.INVALID_FILE, ExitStatus.AWS], env=_AWS_ENV),
    help="Archive an analyzed application of a target into "
         "<workspace>/remote/TARGET/ID/ID-extraction.tar (its files read over SFTP), for "
         "`a2c containerize --input-archive` on this machine.")
@click.option("--application-id", "app_id", required=True, metavar="ID", callback=application_id_option,
              help="An application analyzed with `a2c remote analyze`.")
@click.option("--target", "name", metavar="NAME", help="The target the application runs on.")
@_run_options
@click.pass_obj
def extract(app: AppContext, app_id: str, name: str | None, **opts: Any) -> None:
    from a2c.steps import extract as step

    result = _single(app, opts, name, "extract", step.run, step.ExtractRequest(app_id=app_id))

    def files(outcome: Any) -> dict[str, Any]:
        value = outcome.value
        return {"applicationId": app_id, "archive": value.archive, "files": value.files, "bytes": value.bytes}

    document = {"targets": _outcomes_json(result, files)}

    def human() -> None:
        for outcome in result.outcomes:
            if outcome.ok:
                app.output.next_steps(f"a2c containerize --input-archive {outcome.value.archive}")

    _finish(app, result, document, human)
