"""Remote targets: the hosts ``a2c remote`` reaches, as ``a2c remote configure`` recorded them.

They live in ``<workspace>/remote/targets.json`` (validated on every read, written atomically
through a2c.workspace). No credential is ever stored there: a target names a key *file*, an
agent, or a Secrets Manager secret that is read when a command runs. App2Container's
``remote_hosts.json`` is written beside it, for tools that read that file.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from a2c.errors import AWSError, InvalidFile, UsageError, quoted
from a2c.workspace import Workspace, atomic_write_json, read_json, validate

TARGETS_FILE = "targets.json"
REMOTE_HOSTS_FILE = "remote_hosts.json"  # App2Container's file, written for compatibility only
SCHEMA = "remote-targets"

# A target's name is a folder name under <workspace>/remote/: no separators, no dot names.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,253})")
_USER = re.compile(r"[^\s\x00-\x1f\x7f@:/\\-][^\s\x00-\x1f\x7f@:/\\]{0,254}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a target (it becomes a folder), or None."""
    if not _NAME.fullmatch(name) or name in (".", ".."):
        return ("must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit "
                "(it names the folder remote/NAME)")
    return None


def host_problem(host: str) -> str | None:
    """Why ``host`` is no host name or IP address, or None (never an option: no leading '-')."""
    if not host or len(host) > 255:
        return "must be a host name or an IP address"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return None
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(host) or ".." in host:
        return "must be a host name (letters, digits, '.', '-', '_') or an IP address"
    return None


def user_problem(user: str) -> str | None:
    if not _USER.fullmatch(user):
        return "must be a user name (no spaces, '@', ':', '/', no leading '-')"
    return None


def check(value: str, problem: Callable[[str], str | None], what: str, where: str = "") -> str:
    """``value`` if it is valid, else a UsageError naming it (and where it came from)."""
    reason = problem(value)
    if reason is not None:
        prefix = f"{where}: " if where else ""
        raise UsageError(f"{prefix}{what} {quoted(value)} {reason}", "Fix it and run the command again.")
    return value


@dataclass(frozen=True)
class JumpHop:
    """One hop of a jump chain that is not a configured target: ``[user@]host[:port]``."""

    host: str
    port: int = 22
    user: str | None = None


def parse_hop(spec: str, where: str = "") -> JumpHop:
    """``[user@]host[:port]`` (IPv6 as ``[addr]:port``), as ssh's -J takes it."""
    text = spec.strip()
    if text.startswith("ssh://"):
        text = text[len("ssh://"):]
    user = None
    if "@" in text:
        user, _, text = text.rpartition("@")
        check(user, user_problem, "jump user", where)
    port = 22
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"{where + ': ' if where else ''}jump host {quoted(spec)} is not [user@]host[:port]")
            port = _port(rest[1:], where)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, where)
    else:
        host = text
    check(host, host_problem, "jump host", where)
    return JumpHop(host, port, user)


def _port(text: str, where: str = "") -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UsageError(f"{where + ': ' if where else ''}port {quoted(text)} is not a number from 1 to 65535",
                         "Fix it and run the command again.")
    return int(text)


def parse_port(value: Any, where: str = "") -> int:
    return _port(str(value).strip(), where)


@dataclass(frozen=True)
class RemoteTarget:
    """A host ``a2c remote`` reaches over SSH, and how."""

    name: str
    host: str
    port: int = 22
    user: str | None = None
    key_files: tuple[str, ...] = ()
    certificate_file: str | None = None
    agent: bool = True
    jump: str | None = None  # a target's name or [user@]host[:port]; several hops comma-separated
    timeout: float | None = None  # seconds for everything a2c does on this host
    connect_timeout: float | None = None
    secret_id: str | None = None  # Secrets Manager: {"username", "privateKey" | "password"}
    known_hosts: str | None = None
    accept_host_key: bool = False
    jump_only: bool = False  # only a jump host for others: --all and --group leave it out
    groups: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # "configure", or the inventory file and line it came from

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"host": self.host, "port": self.port}
        optional = {"user": self.user, "keyFiles": list(self.key_files), "certificateFile": self.certificate_file,
                    "jump": self.jump, "timeout": self.timeout, "connectTimeout": self.connect_timeout,
                    "secretId": self.secret_id, "knownHosts": self.known_hosts, "groups": list(self.groups),
                    "vars": dict(self.vars), "source": self.source}
        data.update({k: v for k, v in optional.items() if v not in (None, [], {}, "")})
        data["agent"] = self.agent
        if self.accept_host_key:
            data["acceptHostKey"] = True
        if self.jump_only:
            data["jumpOnly"] = True
        return data

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> "RemoteTarget":
        return cls(name=name, host=data["host"], port=int(data.get("port", 22)), user=data.get("user"),
                   key_files=tuple(data.get("keyFiles", ())), certificate_file=data.get("certificateFile"),
                   agent=bool(data.get("agent", True)), jump=data.get("jump"), timeout=data.get("timeout"),
                   connect_timeout=data.get("connectTimeout"), secret_id=data.get("secretId"),
                   known_hosts=data.get("knownHosts"), accept_host_key=bool(data.get("acceptHostKey", False)),
                   jump_only=bool(data.get("jumpOnly", False)), groups=tuple(data.get("groups", ())),
                   vars=dict(data.get("vars", {})), source=data.get("source", ""))

    @property
    def auth_method(self) -> str:
        """How it authenticates, for listings: cert, key, secret or agent."""
        if self.certificate_file:
            return "cert"
        if self.secret_id:
            return "secret"
        if self.key_files:
            return "key"
        return "agent" if self.agent else "none"

    def ssh_options(self, secrets: Mapping[str, "Credentials"] | None = None,
                    targets: Mapping[str, "RemoteTarget"] | None = None, *, retries: int = 0,
                    command_timeout: float | None = None) -> Any:
        """The ``a2c.gateways.ssh.SshOptions`` to reach this target, its jump hosts included.

        ``secrets`` holds the credentials already read for the targets' secret ids; ``targets``
        resolves jump hosts named by target. The runner retries connections itself, so the
        gateway's own retries default to none here."""
        from a2c.gateways.ssh import SshOptions

        def build(target: RemoteTarget, jump: Any) -> Any:
            settings = ssh_settings(target, (secrets or {}).get(target.secret_id or ""))
            if command_timeout is not None:
                settings["command_timeout"] = command_timeout
            return SshOptions(**settings, jump=jump, retries=retries)

        jump = None
        for hop in jump_chain(self, targets or {}):
            if isinstance(hop, RemoteTarget):
                jump = build(hop, jump)
            else:
                jump = SshOptions(host=hop.host, port=hop.port, user=hop.user, jump=jump, retries=retries,
                                  known_hosts=self.known_hosts, accept_unknown_host=self.accept_host_key,
                                  use_agent=self.agent, key_files=self.key_files, name=f"{self.name} (jump {hop.host})")
        return build(self, jump)


@dataclass(frozen=True)
class Credentials:
    """What a Secrets Manager secret holds for SSH; kept in memory only, never written."""

    username: str | None = None
    private_key: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never shows the values (tracebacks, logs)
        return (f"Credentials(username={self.username!r}, private_key={'<set>' if self.private_key else None}, "
                f"password={'<set>' if self.password else None})")


def ssh_settings(target: RemoteTarget, credentials: Credentials | None = None) -> dict[str, Any]:
    """SshOptions' fields for one target (without its jump), credentials from a secret first."""
    settings: dict[str, Any] = {
        "host": target.host, "port": target.port, "user": target.user, "key_files": target.key_files,
        "certificate_file": target.certificate_file, "use_agent": target.agent, "known_hosts": target.known_hosts,
        "accept_unknown_host": target.accept_host_key, "name": target.name,
    }
    if target.connect_timeout is not None:
        settings["connect_timeout"] = float(target.connect_timeout)
    elif target.timeout is not None:
        settings["connect_timeout"] = min(15.0, float(target.timeout))
    if credentials is not None:
        if credentials.username:
            settings["user"] = credentials.username
        if credentials.private_key:
            settings["private_key"] = credentials.private_key
        if credentials.password:
            settings["password"] = credentials.password
    return settings


MAX_JUMPS = 8


def jump_chain(target: RemoteTarget, targets: Mapping[str, RemoteTarget]) -> list[RemoteTarget | JumpHop]:
    """The hops before ``target``, first one first: named targets (with their own jumps before them)
    or plain ``[user@]host[:port]``. A loop or a chain longer than MAX_JUMPS is a UsageError."""
    chain: list[RemoteTarget | JumpHop] = []

    def walk(current: RemoteTarget, seen: tuple[str, ...]) -> None:
        if not current.jump or current.jump.lower() == "none":
            return
        hops = [h.strip() for h in current.jump.split(",") if h.strip()]
        for position, hop in enumerate(hops):
            named = targets.get(hop)
            if named is not None:
                if named.name in seen:
                    raise UsageError(f"target {seen[0]}: jump hosts loop ({' -> '.join(seen + (named.name,))})",
                                     "Change --jump of one of them.")
                if position == 0:  # the first hop reaches its own jump hosts first
                    walk(named, seen + (named.name,))
                chain.append(named)
            else:
                chain.append(parse_hop(hop, f"target {current.name}: jump"))
            if len(chain) > MAX_JUMPS:
                raise UsageError(f"target {seen[0]}: more than {MAX_JUMPS} jump hosts", "Shorten the jump chain.")

    walk(target, (target.name,))
    return chain


# -- the store -------------------------------------------------------------------------------------

def remote_root(workspace: Workspace) -> Path:
    return workspace.root / "remote"


def target_dir(workspace: Workspace, name: str) -> Path:
    check(name, name_problem, "target name")
    return remote_root(workspace) / name


def targets_path(workspace: Workspace) -> Path:
    return remote_root(workspace) / TARGETS_FILE


def read_targets(workspace: Workspace) -> dict[str, RemoteTarget]:
    """The configured targets ({} before the first ``a2c remote configure``)."""
    try:
        document = read_json(targets_path(workspace), SCHEMA)
    except FileNotFoundError:
        return {}
    return {name: RemoteTarget.from_json(name, data) for name, data in document["targets"].items()}


def document_of(targets: Mapping[str, RemoteTarget]) -> dict[str, Any]:
    return {"version": 1, "targets": {name: targets[name].to_json() for name in sorted(targets)}}


def remote_hosts_document(targets: Mapping[str, RemoteTarget]) -> dict[str, Any]:
    """App2Container's Linux remote_hosts.json: keyed by IP or FQDN (here: the target's name, which
    is the host unless a name was given), capitalized keys."""
    hosts: dict[str, Any] = {}
    for name in sorted(targets):
        target = targets[name]
        if target.jump_only:
            continue
        try:
            ipaddress.ip_address(target.host.split("%", 1)[0])
            ip, fqdn = target.host, ""
        except ValueError:
            ip, fqdn = "", target.host
        hosts[name] = {"Fqdn": fqdn, "Ip": ip, "SecretArn": target.secret_id or "",
                       "AuthMethod": "cert" if target.certificate_file else "key"}
    return hosts


def write_targets(workspace: Workspace, targets: Mapping[str, RemoteTarget]) -> Path:
    """Validate (schema, jump references and loops) and write targets.json, then remote_hosts.json."""
    path = targets_path(workspace)
    document = document_of(targets)
    validate(document, SCHEMA, str(path))
    for target in targets.values():
        jump_chain(target, targets)
    atomic_write_json(path, document)
    atomic_write_json(remote_root(workspace) / REMOTE_HOSTS_FILE, remote_hosts_document(targets))
    return path


def merge_targets(existing: Mapping[str, RemoteTarget], new: Iterable[RemoteTarget]) -> dict[str, RemoteTarget]:
    """``existing`` with ``new`` added; a target of the same name is replaced."""
    merged = dict(existing)
    for target in new:
        merged[target.name] = target
    return merged


def with_defaults(target: RemoteTarget, *, known_hosts: str | None = None, accept_host_key: bool = False,
                  secret_id: str | None = None, timeout: float | None = None, user: str | None = None) -> RemoteTarget:
    """Options given beside --inventory-file/--ssh-config fill what a target does not set itself."""
    return replace(target, known_hosts=target.known_hosts or known_hosts,
                   accept_host_key=target.accept_host_key or accept_host_key,
                   secret_id=target.secret_id or secret_id,
                   timeout=target.timeout if target.timeout is not None else timeout,
                   user=target.user or user)


def select_targets(targets: Mapping[str, RemoteTarget], names: Sequence[str] = (), groups: Sequence[str] = (),
                   everything: bool = False) -> list[RemoteTarget]:
    """The targets a command runs on, in name order: named ones, members of groups, or all (jump-only
    hosts only when named)."""
    if not targets:
        raise UsageError("no remote targets are configured",
                         "Run `a2c remote configure --target NAME --host HOST` or "
                         "`a2c remote configure --inventory-file FILE` first.")
    chosen: dict[str, RemoteTarget] = {}
    for name in names:
        if name not in targets:
            known = ", ".join(sorted(targets)[:20]) + (" …" if len(targets) > 20 else "")
            raise UsageError(f"unknown target {quoted(name)} (configured: {known})", "Run `a2c remote list`.")
        chosen[name] = targets[name]
    for group in groups:
        members = {n: t for n, t in targets.items() if group in t.groups and not t.jump_only}
        if not members:
            known_groups = sorted({g for t in targets.values() for g in t.groups})
            raise UsageError(f"no target is in group {quoted(group)} (groups: {', '.join(known_groups[:20]) or 'none'})",
                             "Run `a2c remote list` to see the groups.")
        chosen.update(members)
    if everything:
        chosen.update({n: t for n, t in targets.items() if not t.jump_only})
    return [chosen[n] for n in sorted(chosen)]


# -- secrets ---------------------------------------------------------------------------------------
_USER_KEYS = ("username", "user", "userName")
_KEY_KEYS = ("privateKey", "private_key", "key", "sshKey")
_PASSWORD_KEYS = ("password",)


def parse_secret(text: str, secret_id: str) -> Credentials:
    """A secret's JSON: ``username`` plus ``privateKey`` (PEM/OpenSSH text) or ``password``."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise AWSError(f"secret {quoted(secret_id)} is not a JSON object",
                       'Store it as {"username": "...", "privateKey": "-----BEGIN ..."} (or "password").')

    def first(keys: tuple[str, ...]) -> str | None:
        for key in keys:
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    credentials = Credentials(first(_USER_KEYS), first(_KEY_KEYS), first(_PASSWORD_KEYS))
    if not credentials.private_key and not credentials.password:
        raise AWSError(f"secret {quoted(secret_id)} holds neither privateKey nor password",
                       'Store it as {"username": "...", "privateKey": "-----BEGIN ..."} (or "password").')
    return credentials


def read_secret(clients: Any, secret_id: str) -> Credentials:
    """Read one secret from Secrets Manager (AWSError with what to do when that fails)."""
    from a2c.gateways.aws import call

    try:
        answer = call(clients.client("secretsmanager").get_secret_value, SecretId=secret_id)
    except AWSError as exc:
        raise AWSError(f"secret {quoted(secret_id)}: {exc.message}",
                       exc.hint or "Check the secret's name or ARN, the region and the permission "
                       "secretsmanager:GetSecretValue.") from exc
    text = answer.get("SecretString")
    if not isinstance(text, str):
        raise AWSError(f"secret {quoted(secret_id)} has no SecretString", "Store the credentials as a JSON string.")
    return parse_secret(text, secret_id)


def absolute_path(path: str) -> str:
    """A key or known_hosts path as stored: ~ expanded, made absolute against the current folder."""
    return os.path.abspath(os.path.expanduser(path))


def no_control(value: str, what: str, where: str = "") -> str:
    if _CONTROL.search(value):
        raise UsageError(f"{where + ': ' if where else ''}{what} {quoted(value)} holds control characters")
    return value


def check_file(path: str, what: str, where: str = "") -> str:
    """An existing, readable file (key, certificate), absolute; else a UsageError."""
    full = absolute_path(no_control(path, what, where))
    if not os.path.isfile(full) or not os.access(full, os.R_OK):
        raise UsageError(f"{where + ': ' if where else ''}{what} {quoted(path)} is not a readable file",
                         "Give the path of an existing file.")
    return full


def invalid_line(source: str, line: int, message: str, hint: str = "") -> InvalidFile:
    """An error in a user's inventory or ssh config, naming the file and the line."""
    return InvalidFile(f"{source}:{line}: {message}", hint or f"Fix line {line} of {source} and run the command again.")
