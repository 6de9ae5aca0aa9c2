"""Deploying a rendered template as a CloudFormation stack, the way a careful operator would.

Through a change set, so the user sees what will change before anything does, and an unchanged
template is a success, not an error. The stack's events are printed as they happen, bounded by a
timeout. A failure names the resources that failed and why, and leaves the stack in a state the
next run can go on from: a stack whose creation rolled back is deleted and created again only
when the user says so. Before anything is created, the secrets deployment.json references must
exist, since a task that cannot read one never starts and the stack waits for it.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from a2c.errors import AWSError
from a2c.progress import Reporter
from a2c.targets.base import DeployOptions, DeployResult

MAX_TEMPLATE_BODY = 51_200  # bytes CloudFormation takes inline; larger ones come from S3
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
# A stack in one of these can take a new change set of type UPDATE.
UPDATABLE = SUCCESS | {"UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CANCELLED = ("Resource creation cancelled", "Resource update cancelled")
# IAM resources whose name the template may set, which needs CAPABILITY_NAMED_IAM.
IAM_NAMES = re.compile(r"^\s+(RoleName|UserName|GroupName|ManagedPolicyName|InstanceProfileName)\s*:", re.M)


class DeployFailed(AWSError):
    """The stack operation ended in a failed or rolled-back state."""


class DeployRefused(AWSError):
    """The stack is in a state a2c does not change without the user (or cannot change at all)."""


class DeployTimedOut(AWSError):
    """The stack did not settle within the deploy timeout."""


class MissingSecrets(AWSError):
    """Secrets deployment.json references do not exist in SSM or Secrets Manager."""


class Gateway(Protocol):
    """What this module needs of ``a2c.gateways.cloudformation.CloudFormationGateway``."""

    @property
    def region(self) -> str: ...

    def stack(self, name_or_id: str) -> dict[str, Any] | None: ...
    def events(self, stack_id: str, seen: Any = (), max_pages: int = 0) -> list[dict[str, Any]]: ...
    def delete_stack(self, stack_id: str) -> None: ...
    def create_change_set(self, stack_name: str, change_set_name: str, change_set_type: str, *,
                          template_body: str | None = None, template_url: str | None = None,
                          capabilities: Any = (), tags: Any = ()) -> dict[str, str]: ...
    def change_set(self, change_set_id: str) -> dict[str, Any]: ...
    def execute_change_set(self, change_set_id: str) -> None: ...
    def delete_change_set(self, change_set_id: str) -> None: ...
    def upload_template(self, bucket: str, key: str, body: bytes) -> str: ...
    def missing_parameters(self, names: list[str]) -> list[str]: ...
    def secret_exists(self, secret_id: str) -> bool: ...


def capabilities(body: str) -> list[str]:
    """What the template must acknowledge: IAM resources (named ones need CAPABILITY_NAMED_IAM),
    and macros (a Transform) CAPABILITY_AUTO_EXPAND."""
    found = []
    if "AWS::IAM::" in body:
        found.append("CAPABILITY_NAMED_IAM" if IAM_NAMES.search(body) else "CAPABILITY_IAM")
    if re.search(r'^(Transform\s*:|\s*"Transform"\s*:)', body, re.M):
        found.append("CAPABILITY_AUTO_EXPAND")
    return found


# -- secrets ------------------------------------------------------------------------------------
def _secrets_manager_id(value_from: str) -> str | None:
    """The secret's ARN without ECS's ``:json-key:version-stage:version-id`` suffix, or None when
    ``value_from`` is an SSM parameter (a name, or an SSM ARN)."""
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        return ":".join(parts[:7])
    return None


def check_secrets(gateway: Gateway, deployment: Mapping[str, Any], source: str = "deployment.json") -> None:
    """Every secret of deployment.json's ``secrets`` exists, or MissingSecrets names the ones that
    do not, each with the command that creates it."""
    secrets = list(deployment.get("secrets") or [])
    parameters = [s for s in secrets if _secrets_manager_id(s["valueFrom"]) is None]
    absent = set(gateway.missing_parameters([s["valueFrom"] for s in parameters])) if parameters else set()
    missing = [s for s in parameters if s["valueFrom"] in absent]
    missing += [s for s in secrets if (sid := _secrets_manager_id(s["valueFrom"])) and not gateway.secret_exists(sid)]
    if not missing:
        return
    from a2c.targets.secretslist import create_command

    names = ", ".join(f"{s['name']} ({s['valueFrom']}, found in {s.get('foundIn') or 'the analysis'})" for s in missing)
    commands = [create_command(secret["valueFrom"], gateway.region) for secret in missing]
    raise MissingSecrets(
        f"{len(missing)} of the secrets {source} references do not exist in {gateway.region}: {names}; "
        "nothing was deployed",
        "Create each with its real value (VALUE), then run the command again:\n  " + "\n  ".join(commands)
        + f"\nor drop the ones the application does not need from $.secrets in {source}.")


def require_secrets(aws: Any, deployment: Mapping[str, Any], source: str = "deployment.json") -> None:
    """``check_secrets`` in the region of ``aws`` (the client provider of ``Environment.aws``)."""
    from a2c.gateways.cloudformation import CloudFormationGateway

    check_secrets(CloudFormationGateway(aws), deployment, source)


# -- stack deploy ----------------------------------------------------------------------------------
class _Clock:
    """The deploy's deadline and its pauses (injected by the unit tests)."""

    def __init__(self, options: DeployOptions, now: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.options, self.now, self._sleep = options, now, sleep
        self.deadline = now() + options.timeout

    def check(self, stack_name: str, status: str) -> None:
        if self.now() >= self.deadline:
            minutes = self.options.timeout / 60
            raise DeployTimedOut(
                f"stack {stack_name} did not finish within {minutes:g} minutes (last status {status or 'unknown'})",
                "CloudFormation goes on without a2c: follow it with `aws cloudformation describe-stack-events "
                f"--stack-name {stack_name}`, then run the command again (it continues from the stack's state); "
                "--deploy-timeout MINUTES waits longer.")

    def pause(self) -> None:
        self._sleep(self.options.poll_seconds)


def _is_stack_event(event: Mapping[str, Any], stack_name: str) -> bool:
    return event.get("ResourceType") == "AWS::CloudFormation::Stack" and event.get("LogicalResourceId") == stack_name


def _event_line(event: Mapping[str, Any]) -> str:
    stamp = event.get("Timestamp")
    when = stamp.astimezone(timezone.utc).strftime("%H:%M:%S") if isinstance(stamp, datetime) else str(stamp or "")
    reason = event.get("ResourceStatusReason") or ""
    return " ".join(part for part in (when, event.get("LogicalResourceId", ""), event.get("ResourceStatus", ""),
                                      reason) if part)


def _failures(events: list[dict[str, Any]], stack_name: str) -> list[dict[str, Any]]:
    """The FAILED events of resources, oldest first, the cancelled ones (consequences) last."""
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")
              and not _is_stack_event(e, stack_name)]
    failed.sort(key=lambda e: e.get("Timestamp") or datetime.min.replace(tzinfo=timezone.utc))
    return sorted(failed, key=lambda e: any(c in (e.get("ResourceStatusReason") or "") for c in CANCELLED))


def _describe_failure(failure: Mapping[str, Any]) -> str:
    return (f"{failure.get('LogicalResourceId')} ({failure.get('ResourceType')}): "
            f"{failure.get('ResourceStatusReason') or failure.get('ResourceStatus')}")


def _outputs(stack: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in (stack or {}).get("Outputs") or []}


class _Follower:
    """Prints a stack's new events once each, until the stack settles."""

    def __init__(self, gateway: Gateway, stack_name: str, stack_id: str, reporter: Reporter, clock: _Clock) -> None:
        self.gateway, self.stack_name, self.stack_id, self.reporter, self.clock = \
            gateway, stack_name, stack_id, reporter, clock
        self.seen = {e["EventId"] for e in gateway.events(stack_id, max_pages=1) if "EventId" in e}
        self.events: list[dict[str, Any]] = []  # the ones printed, oldest first

    def poll(self) -> bool:
        """Print what is new; whether the stack itself reported (an operation began or ended)."""
        new = self.gateway.events(self.stack_id, self.seen)
        stack_reported = False
        for event in reversed(new):
            self.seen.add(event.get("EventId", ""))
            self.events.append(event)
            stack_reported |= _is_stack_event(event, self.stack_name)
            line = _event_line(event)
            if str(event.get("ResourceStatus", "")).endswith("_FAILED"):
                self.reporter.warn(line)
            else:
                self.reporter.step(line)
        return stack_reported

    def wait(self, started: bool, before: str = "") -> dict[str, Any] | None:
        """The stack once no operation runs on it (None once deleted). ``started`` false: wait
        first for the operation just asked for to show (a new stack event or another status)."""
        status = before
        while True:
            started |= self.poll()
            stack = self.gateway.stack(self.stack_id)
            status = str(stack["StackStatus"]) if stack else "DELETE_COMPLETE"
            started |= bool(before) and status != before
            if started and not status.endswith("_IN_PROGRESS"):
                return stack if status != "DELETE_COMPLETE" else None
            self.clock.check(self.stack_name, status)
            self.clock.pause()


def _prepare(gateway: Gateway, stack_name: str, reporter: Reporter, options: DeployOptions,
             clock: _Clock) -> dict[str, Any] | None:
    """The stack once it can take a change set (None: it must be created): waits out an
    operation in progress, deletes a failed creation when allowed, refuses what needs a person."""
    for _ in range(3):  # an operation in progress, then maybe a delete
        stack = gateway.stack(stack_name)
        status = str(stack["StackStatus"]) if stack else ""
        if stack is None or status in UPDATABLE or status in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE"):
            return stack
        stack_id = str(stack["StackId"])
        if status.endswith("_IN_PROGRESS"):
            reporter.step(f"Stack {stack_name} is in {status}: waiting for that operation to end")
            _Follower(gateway, stack_name, stack_id, reporter, clock).wait(started=True)
            continue
        if status == "ROLLBACK_COMPLETE":
            failed = _failures(gateway.events(stack_id, max_pages=2), stack_name)
            why = f" (first failing resource: {_describe_failure(failed[0])})" if failed else ""
            question = (f"Stack {stack_name} is in ROLLBACK_COMPLETE: its creation failed{why}. "
                        "Delete it and create it again?")
            if not (options.yes or (options.confirm is not None and options.confirm(question))):
                raise DeployRefused(
                    f"stack {stack_name} is in ROLLBACK_COMPLETE: its creation failed{why}, and CloudFormation "
                    "cannot update it; it must be deleted and created again",
                    "Run the command again with --yes to delete and recreate it, or delete it yourself "
                    f"(`aws cloudformation delete-stack --stack-name {stack_name}`).")
            reporter.step(f"Deleting stack {stack_name} (ROLLBACK_COMPLETE) to create it again")
            follower = _Follower(gateway, stack_name, stack_id, reporter, clock)
            gateway.delete_stack(stack_id)
            left = follower.wait(started=False, before=status)
            if left is not None:
                raise DeployFailed(f"stack {stack_name} could not be deleted ({left['StackStatus']})",
                                   f"Delete it in the CloudFormation console (`aws cloudformation describe-stack-events "
                                   f"--stack-name {stack_name}` says why), then run the command again.")
            continue
        if status == "UPDATE_ROLLBACK_FAILED":
            hint = (f"Finish the rollback (`aws cloudformation continue-update-rollback --stack-name {stack_name}`), "
                    "then run the command again.")
        else:
            hint = (f"Delete the stack (`aws cloudformation delete-stack --stack-name {stack_name}`, retaining the "
                    "resources that block it), then run the command again.")
        raise DeployRefused(f"stack {stack_name} is in {status}, which a new deploy cannot continue from", hint)
    raise DeployRefused(f"stack {stack_name} is still changing", "Run the command again once it has settled.")


def _change_lines(changes: list[dict[str, Any]]) -> list[str]:
    lines = []
    for change in changes:
        resource = change.get("ResourceChange") or {}
        replacement = resource.get("Replacement")
        suffix = f"  (replacement: {replacement})" if resource.get("Action") == "Modify" and replacement else ""
        lines.append(f"  {resource.get('Action', '?'):<7} {resource.get('LogicalResourceId', '?')}  "
                     f"{resource.get('ResourceType', '')}{suffix}")
    return lines


def _template_source(gateway: Gateway, stack_name: str, template: Path, body: str,
                     options: DeployOptions) -> dict[str, str]:
    """``template_body`` for a small template, ``template_url`` (uploaded to S3) for a large one."""
    size = len(body.encode("utf-8"))
    if size <= MAX_TEMPLATE_BODY:
        return {"template_body": body}
    if not options.s3_bucket:
        raise DeployRefused(
            f"{template} is {size} bytes, more than the {MAX_TEMPLATE_BODY} CloudFormation takes inline; it must be "
            "uploaded to S3 first, and no bucket is configured",
            "Save a bucket (in the stack's region) with `a2c init --s3-bucket BUCKET`, then run the command again.")
    key = f"a2c/{stack_name}/{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{template.name}"
    url = gateway.upload_template(options.s3_bucket, key, body.encode("utf-8"))
    return {"template_url": url}


def deploy_stack(gateway: Gateway, stack_name: str, template: Path, reporter: Reporter, options: DeployOptions,
                 now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> DeployResult:
    """Create or update ``stack_name`` from ``template`` through a change set and follow it to its end."""
    clock = _Clock(options, now, sleep)
    body = template.read_text(encoding="utf-8")
    stack = _prepare(gateway, stack_name, reporter, options, clock)
    kind = "UPDATE" if stack is not None and stack["StackStatus"] in UPDATABLE else "CREATE"
    source = _template_source(gateway, stack_name, template, body, options)
    name = f"a2c-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    created = gateway.create_change_set(stack_name, name, kind, capabilities=capabilities(body), **source)
    change_set_id, stack_id = created["Id"], created["StackId"] or (stack or {}).get("StackId", stack_name)
    while True:
        change_set = gateway.change_set(change_set_id)
        status = str(change_set.get("Status", ""))
        if status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
            break
        clock.check(stack_name, f"change set {status}")
        clock.pause()
    reason = str(change_set.get("StatusReason") or "")
    if status != "CREATE_COMPLETE":
        gateway.delete_change_set(change_set_id)
        if kind == "UPDATE" and any(text in reason for text in NO_CHANGES):
            outputs = _outputs(stack)
            reporter.step(f"Stack {stack_name} is up to date ({stack['StackStatus'] if stack else ''}): no changes")
            return DeployResult(stack_name, str(stack["StackStatus"]) if stack else "", outputs, 0)
        raise DeployFailed(f"CloudFormation refused the change set for stack {stack_name}: {reason or status}",
                           f"Fix {template} (`cfn-lint {template}` finds most mistakes), then run the command again.")
    changes = change_set.get("Changes") or []
    reporter.step("\n".join([f"Changes to stack {stack_name} ({kind.lower()}, {len(changes)} resources):",
                             *_change_lines(changes)]))
    follower = _Follower(gateway, stack_name, stack_id, reporter, clock)
    before = str(stack["StackStatus"]) if stack else "REVIEW_IN_PROGRESS"
    try:
        gateway.execute_change_set(change_set_id)
    except AWSError as exc:
        raise DeployFailed(f"stack {stack_name}: executing change set {name} failed: {exc.message}", exc.hint) from exc
    final = follower.wait(started=False, before=before)
    status = str(final["StackStatus"]) if final else "DELETE_COMPLETE"
    if status not in SUCCESS:
        failed = _failures(follower.events, stack_name)
        if failed:
            reporter.warn("\n".join([f"Stack {stack_name} failed ({status}); the resources that failed:",
                                     *[f"  {_describe_failure(e)}" for e in failed]]))
        first = f"; first failing resource: {_describe_failure(failed[0])}" if failed else ""
        hint = ("Fix the cause in deployment.json (or the template), then run the command again: the stack is back "
                "at its previous version." if status == "UPDATE_ROLLBACK_COMPLETE" else
                "Fix the cause in deployment.json (or the template), then run the command again with --yes to "
                "delete the failed stack and create it anew.")
        raise DeployFailed(f"stack {stack_name} ended in {status}{first}", hint)
    outputs = _outputs(final)
    reporter.step("\n".join([f"Stack {stack_name} deployed ({status})",
                             *[f"  {key}: {value}" for key, value in outputs.items()]]))
    return DeployResult(stack_name, status, outputs, len(changes))
