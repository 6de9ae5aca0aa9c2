"""a2c remote inventory|analyze|extract: run a local step on many remote hosts at once.

For each host it builds an Environment whose workspace is ``<workspace>/remote/<target>/`` and
whose host is that machine (over SSH, or Systems Manager for managed instances), then calls the
step the CLI hands in (``a2c.steps.inventory.run``, ``analyze.run``, ``extract.run``; steps do
not import each other). Results land in the same files as a local run, under that folder.
The fleet runner bounds concurrency and connections, abandons a host past its deadline,
retries connection failures and keeps going when a host fails.

After an inventory, each host's listening sockets and established connections (of the
processes the analyzers looked at) go to ``remote/<target>/host-facts.json``, and the fleet
summary built from them to ``remote/fleet-summary.json``.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import posixpath
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from a2c.env import Environment
from a2c.errors import A2CError, HostError, UsageError
from a2c.fleet import runner
from a2c.fleet.summary import HostReport, build_summary, dotnet_runtime, java_release_version, normal_address
from a2c.fleet.targets import Credentials, RemoteTarget, read_secret, remote_root, target_dir
from a2c.hosts.base import Host
from a2c.progress import Reporter
from a2c.workspace import Workspace, atomic_write_json

log = logging.getLogger(__name__)

HOST_FACTS = "host-facts.json"
FLEET_SUMMARY = "fleet-summary.json"
# Seconds a host may take for the whole step when neither --timeout nor its target says.
DEFAULT_TIMEOUTS = {"inventory": 600.0, "analyze": 1800.0, "extract": 4 * 3600.0}
MAX_RELEASE_BYTES = 64 * 1024

Step = Callable[[Environment, Any], Any]


@dataclass(frozen=True)
class Node:
    """One host of a run: the folder it writes to and how to open it."""

    name: str  # the folder under remote/
    address: str  # for messages and the summary: host[:port], or the instance id
    timeout: float
    open: Callable[[], Host]
    addresses: tuple[str, ...] = ()  # what other hosts reach it by (the summary's dependencies)


@dataclass(frozen=True)
class RemoteRequest:
    step: Step  # the local step to run on each host
    step_request: Any  # its request (its host field is ignored: the host is the node's)
    kind: str = "inventory"  # "inventory", "analyze" or "extract": default timeouts, facts, summary
    concurrency: int = runner.DEFAULT_CONCURRENCY
    connections: int | None = None  # open connections at most (default: concurrency)
    timeout: float | None = None  # seconds per host, over the targets' own
    retries: int = runner.DEFAULT_RETRIES
    backoff: float = runner.DEFAULT_BACKOFF
    summary: bool = False  # write and return the fleet summary (inventory of a group or all)


@dataclass(frozen=True)
class SshSelection:
    targets: tuple[RemoteTarget, ...]
    known: Mapping[str, RemoteTarget] = field(default_factory=dict)  # every configured target (jump hosts)
    aws_profile: str | None = None  # for the targets' Secrets Manager secrets
    aws_region: str | None = None


@dataclass(frozen=True)
class SsmSelection:
    instance_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()
    aws_profile: str | None = None
    aws_region: str | None = None
    bucket: str | None = None
    max_concurrency: str = "10%"
    max_errors: str = "10%"


@dataclass(frozen=True)
class RemoteResult:
    outcomes: list[runner.Outcome[Node]]
    directories: dict[str, Path]
    summary: dict[str, Any] | None = None
    summary_path: Path | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)  # SSM instances that cannot be read, and why

    @property
    def failed(self) -> list[runner.Outcome[Node]]:
        return [o for o in self.outcomes if not o.ok]


class _HostReporter(Reporter):
    """A step's messages on one host, passed to the runner (which prints from one thread)."""

    def __init__(self, progress: runner.Progress) -> None:
        self.progress = progress

    def step(self, message: str) -> None:
        self.progress(message, "step")

    def detail(self, message: str) -> None:
        self.progress(message, "detail")

    def warn(self, message: str) -> None:
        self.progress(message, "warn")


# -- SSH targets --------------------------------------------------------------------------------

def ssh_nodes(env: Environment, selection: SshSelection, timeout: float | None, kind: str,
              retries: int = runner.DEFAULT_RETRIES) -> tuple[list[Node], dict[str, A2CError]]:
    """A Node per target, and the secret errors of targets that cannot run (read here, in this
    thread: boto3 sessions are not thread-safe; never written anywhere).

    Connection failures are retried by the SSH gateway itself, at connect time, with backoff
    (``retries``); the runner does not retry them again."""
    known = {**selection.known, **{t.name: t for t in selection.targets}}
    secret_ids = set()
    for target in selection.targets:
        secret_ids |= {t.secret_id for t in [target, *_jump_targets(target, known)] if t.secret_id}
    credentials: dict[str, Credentials] = {}
    failures: dict[str, A2CError] = {}
    for secret_id in sorted(secret_ids):
        try:
            credentials[secret_id] = read_secret(env.aws(selection.aws_profile, selection.aws_region), secret_id)
        except A2CError as exc:
            failures[secret_id] = exc
    nodes, errors = [], {}
    for target in selection.targets:
        needed = [t.secret_id for t in [target, *_jump_targets(target, known)] if t.secret_id in failures]
        if needed:
            errors[target.name] = failures[needed[0]]
        seconds = timeout or target.timeout or DEFAULT_TIMEOUTS[kind]
        options = None
        if target.name not in errors:
            try:
                options = target.ssh_options(credentials, known, retries=retries)
            except A2CError as exc:
                errors[target.name] = exc
        nodes.append(Node(target.name, f"{target.host}:{target.port}", float(seconds),
                          _ssh_opener(env, options), (target.host,)))
    return nodes, errors


def _jump_targets(target: RemoteTarget, known: Mapping[str, RemoteTarget]) -> list[RemoteTarget]:
    from a2c.fleet.targets import jump_chain

    try:
        return [hop for hop in jump_chain(target, known) if isinstance(hop, RemoteTarget)]
    except A2CError:
        return []


def _ssh_opener(env: Environment, options: Any) -> Callable[[], Host]:
    def open_host() -> Host:
        return env.open_ssh(options)

    return open_host


def run(env: Environment, request: RemoteRequest, selection: SshSelection) -> RemoteResult:
    """Run the step on every selected SSH target."""
    nodes, errors = ssh_nodes(env, selection, request.timeout, request.kind, request.retries)
    return run_nodes(env, dataclasses.replace(request, retries=0), nodes, errors)


# -- SSM instances --------------------------------------------------------------------------------

def run_ssm(env: Environment, request: RemoteRequest, selection: SsmSelection) -> RemoteResult:
    """Run the step on managed instances through Systems Manager. For an inventory, the process
    scan runs on every instance at once first (one SendCommand, SSM's own MaxConcurrency and
    MaxErrors); the rest of each host's work goes through its own commands."""
    from a2c.gateways import ssm
    from a2c.hosts.command import SCAN_SCRIPT

    clients = env.aws(selection.aws_profile, selection.aws_region)
    chosen = ssm.select_instances(clients, instance_ids=selection.instance_ids, tags=selection.tags,
                                  resource_groups=selection.resource_groups)
    if not chosen:
        raise UsageError("no managed instance matches the selection",
                         "Check the ids, tags or resource group, and the region (--region).")
    usable = [i for i in chosen if i.get("usable")]
    skipped = [{"instanceId": i["instanceId"], "reason": i.get("reason", "")} for i in chosen if not i.get("usable")]
    for item in skipped:
        env.reporter.warn(f"{item['instanceId']}: not read: {item['reason']}")
    prefetched: dict[str, bytes | HostError] = {}
    if request.kind == "inventory" and usable:
        env.reporter.step(f"Scanning processes on {len(usable)} instance(s) through Run Command")
        prefetched = ssm.ssm_fleet_scan(clients, [i["instanceId"] for i in usable], SCAN_SCRIPT,
                                        max_concurrency=selection.max_concurrency, max_errors=selection.max_errors,
                                        bucket=selection.bucket)
    nodes, errors = [], {}
    for instance in usable:
        instance_id = instance["instanceId"]
        scan = prefetched.get(instance_id)
        if isinstance(scan, A2CError):
            errors[instance_id] = scan

        def opener(instance_id: str = instance_id, scan: Any = scan) -> Host:
            return env.open_ssm(instance_id, profile=selection.aws_profile, region=selection.aws_region,
                                bucket=selection.bucket, prefetched_scan=scan if isinstance(scan, bytes) else None)

        address = instance.get("ipAddress") or ""
        nodes.append(Node(instance_id, instance_id, float(request.timeout or DEFAULT_TIMEOUTS[request.kind]), opener,
                          (address,) if address else ()))
    unavailable = [HostReport(i["instanceId"], i["instanceId"], False, error=i["reason"], kind="unavailable",
                              hint="Start the instance or its SSM agent, or check its instance profile.")
                   for i in chosen if not i.get("usable")]
    result = run_nodes(env, request, nodes, errors, unavailable)
    return dataclasses.replace(result, skipped=skipped)


# -- the run ---------------------------------------------------------------------------------------

def run_nodes(env: Environment, request: RemoteRequest, nodes: Sequence[Node],
              errors: Mapping[str, A2CError] | None = None, unavailable: Sequence[HostReport] = ()) -> RemoteResult:
    """The step on every node through the fleet runner; then, for an inventory, the summary
    (``unavailable``: hosts selected but not run, listed among the failed)."""
    errors = dict(errors or {})
    registry = env.analyzers  # loaded once, here: the hosts' threads share it
    hosts: dict[str, Host] = {}
    facts: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    directories = {node.name: target_dir(env.workspace, node.name) for node in nodes}

    def work(node: Node, progress: runner.Progress) -> Any:
        if node.name in errors:
            raise errors[node.name]
        host = node.open()
        with lock:
            previous = hosts.get(node.name)
            hosts[node.name] = host
        if previous is not None:
            _close(previous)
        try:
            workspace = Workspace(directories[node.name]).ensure()
            recorded: list[Any] = []
            if request.kind == "inventory":
                _record_scans(host, recorded)
            node_env = dataclasses.replace(env, workspace=workspace, reporter=_HostReporter(progress),
                                           host_opener=lambda uri: host, _cache={"analyzers": registry})
            value = request.step(node_env, request.step_request)
            if request.kind == "inventory":
                document = host_facts(node, host, value, recorded)
                atomic_write_json(directories[node.name] / HOST_FACTS, document)
                with lock:
                    facts[node.name] = document
            return value
        finally:
            with lock:
                if hosts.get(node.name) is host:
                    del hosts[node.name]
            _close(host)

    def abandon(node: Node) -> None:
        with lock:
            host = hosts.pop(node.name, None)
        if host is not None:
            _close(host)

    connections = request.connections or request.concurrency
    outcomes = runner.run_hosts(nodes, work, name=lambda n: n.name, timeout=lambda n: n.timeout,
                                reporter=env.reporter, concurrency=request.concurrency,
                                connections=threading.BoundedSemaphore(max(1, connections)),
                                retries=request.retries, backoff=request.backoff, abandon=abandon)
    summary = summary_path = None
    if request.summary:
        summary = build_summary([*(_report(o, facts.get(o.name), directories[o.name]) for o in outcomes), *unavailable])
        summary_path = remote_root(env.workspace) / FLEET_SUMMARY
        atomic_write_json(summary_path, summary)
    return RemoteResult(outcomes, directories, summary, summary_path)


def _close(host: Host) -> None:
    close = getattr(host, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # noqa: BLE001 - a connection that will not close is gone anyway
        log.debug("closing %s failed", getattr(host, "name", "host"), exc_info=True)


def _record_scans(host: Host, recorded: list[Any]) -> None:
    """Keep the processes the inventory's scan returns (their sockets feed the fleet summary),
    without a second scan of the host."""
    scan = host.scan_processes

    def scan_processes(wanted: Any = None) -> Any:
        processes, notes = scan(wanted)
        recorded.extend(processes)
        return processes, notes

    host.scan_processes = scan_processes  # type: ignore[method-assign]


def host_facts(node: Node, host: Host, result: Any, processes: Sequence[Any]) -> dict[str, Any]:
    """What remote/<target>/host-facts.json keeps: the host's addresses, and for each process the
    inventory looked at its application id, runtime, listening sockets and connections."""
    entries = getattr(result, "entries", {}) or {}
    app_of = {entry.process_id: app_id for app_id, entry in entries.items()}
    runtimes: dict[int, str] = {}
    described = []
    addresses = set(resolve(node.addresses))
    own = getattr(host, "interface_addresses", None)  # a host reached by a forwarded port knows its own
    if own is not None:
        try:
            addresses.update(own())
        except HostError as exc:
            log.info("%s: no interface addresses (%s)", node.name, exc.message)
    for process in processes:
        runtime = runtime_of(host, process)
        runtimes[process.pid] = runtime
        for sock in process.listening:
            bound = normal_address(sock.address)
            if bound and bound not in ("0.0.0.0", "::", "*") and not _loopback(bound):
                addresses.add(bound)  # a socket bound to one address names it (loopback: only the host itself)
        described.append({
            "pid": process.pid, "name": process.name, "applicationId": app_of.get(process.pid),
            "runtime": runtime,
            "listening": [{"port": s.port, "address": s.address, "protocol": s.protocol} for s in process.listening],
            "connections": [{"remoteAddress": c.remote_address, "remotePort": c.remote_port, "localPort": c.local_port}
                            for c in process.connections],
        })
    applications = {}
    for app_id, entry in sorted(entries.items()):
        applications[app_id] = {"applicationType": entry.application_type, "ports": list(entry.ports),
                                "processId": entry.process_id, "runtime": runtimes.get(entry.process_id, "")}
    return {"target": node.name, "address": node.address, "addresses": sorted(addresses),
            "collectedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "applications": applications, "processes": described}


def _loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def resolve(names: Sequence[str]) -> list[str]:
    """The IP addresses of host names (the names themselves when they are addresses or do not resolve)."""
    found = []
    for name in names:
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            found.append(normal_address(name))
            continue
        found.extend(normal_address(str(info[4][0])) for info in infos)
    return sorted(set(found))


def runtime_of(host: Host, process: Any) -> str:
    """The runtime a process runs on: .NET from the framework folder it mapped, Java from the
    ``release`` file of its Java home (bounded read; "" when unreadable)."""
    dotnet = dotnet_runtime(process.mapped_files)
    if dotnet:
        return dotnet
    exe = process.exe or ""
    if posixpath.basename(exe) != "java":
        return ""
    home = posixpath.dirname(posixpath.dirname(exe))
    for candidate in (home, posixpath.dirname(home)):  # a Java 8 jre/ sub-folder
        try:
            version = java_release_version(host.read_text(posixpath.join(candidate, "release"), limit=MAX_RELEASE_BYTES))
        except (A2CError, OSError):
            continue
        if version:
            return version
    return ""


def _report(outcome: runner.Outcome[Node], facts: Mapping[str, Any] | None, directory: Path) -> HostReport:
    node = outcome.item
    if not outcome.ok or facts is None:
        return HostReport(node.name, node.address, False, error=outcome.error or "no facts recorded",
                          hint=outcome.hint, kind=outcome.kind or "error")
    applications = {app_id: {**entry, "version": analyzed_version(directory, app_id)}
                    for app_id, entry in facts["applications"].items()}
    return HostReport(node.name, node.address, True, tuple(facts["addresses"]), applications,
                      tuple(facts["processes"]))


def analyzed_version(directory: Path, app_id: str) -> str:
    """The server's version from an earlier ``a2c remote analyze`` (its analysis.json), else ""."""
    workspace = Workspace(directory)
    if not workspace.has(app_id, "analysis.json"):
        return ""
    try:
        info = workspace.read_analysis(app_id).get("analysisInfo", {})
    except A2CError:
        return ""
    advanced = info.get("AdvancedAppInfo", {}) if isinstance(info, dict) else {}
    return str(advanced.get("version") or "") if isinstance(advanced, dict) else ""
