"""Remote targets from an Ansible inventory file, INI or YAML, as Ansible reads them.

Groups, ``:children`` and ``:vars`` sections (YAML: ``hosts``, ``children``, ``vars``), host
vars, and host ranges (``web[01:03]``, ``db-[a:c]``, ``node[0:10:2]``). Vars apply as Ansible
applies them: ``all`` first, then groups from the shallowest to the deepest (by name among
equals), then the host's own. The SSH settings a2c takes: ``ansible_host``, ``ansible_port``,
``ansible_user``, ``ansible_ssh_private_key_file``, a ProxyJump (``-J`` or ``-o ProxyJump=`` or
``ProxyCommand=ssh -W %h:%p …`` in ``ansible_ssh_common_args``/``ansible_ssh_extra_args``),
and a2c's own ``a2c_secret_id``, ``a2c_timeout``, ``a2c_certificate_file``, ``a2c_known_hosts``.

A file a2c cannot read as an inventory is an InvalidFile naming the line; nothing is written.
Passwords in an inventory are never taken (a note says to use a secret instead).
"""

from __future__ import annotations

import re
import shlex
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from a2c.errors import A2CError, InvalidFile, UsageError
from a2c.fleet.sshconfig import jump_from_proxy_command
from a2c.fleet.targets import (RemoteTarget, absolute_path, check, host_problem, invalid_line, name_problem,
                               parse_hop, parse_port, user_problem)

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_HOSTS = 20_000  # after range expansion: web[0:99999999] is refused, not expanded
MAX_GROUP_DEPTH = 64

# ansible_connection values that mean "over SSH"; others (local, winrm, docker, …) are left out.
SSH_CONNECTIONS = (None, "", "ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh")
SECRET_VARS = ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_password",
               "ansible_become_pass", "ansible_sudo_pass")
_SENSITIVE = re.compile(r"pass|secret|token|credential|private_key|vault", re.IGNORECASE)
_CONSUMED = {"ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port", "ansible_user",
             "ansible_ssh_user", "ansible_ssh_private_key_file", "ansible_private_key_file",
             "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_connection", "a2c_secret_id",
             "a2c_timeout", "a2c_certificate_file", "a2c_known_hosts"}


@dataclass
class Group:
    name: str
    line: int
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class HostDecl:
    name: str
    line: int
    vars: dict[str, Any] = field(default_factory=dict)
    port: int | None = None  # from "host:port" in INI


@dataclass
class Parsed:
    source: str
    groups: dict[str, Group] = field(default_factory=dict)
    hosts: dict[str, HostDecl] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def group(self, name: str, line: int) -> Group:
        check_group_name(name, self.source, line)
        if name not in self.groups:
            self.groups[name] = Group(name, line)
        return self.groups[name]

    def add_host(self, name: str, line: int, variables: dict[str, Any], port: int | None, group: str) -> None:
        problem = name_problem(name)
        if problem is not None:
            raise invalid_line(self.source, line, f"host {name!r} {problem}")
        declared = self.hosts.get(name)
        if declared is None:
            if len(self.hosts) >= MAX_HOSTS:
                raise invalid_line(self.source, line, f"more than {MAX_HOSTS} hosts",
                                   "Split the inventory, or narrow its ranges.")
            declared = self.hosts[name] = HostDecl(name, line)
        declared.vars.update(variables)
        if port is not None:  # "host:port" is a host var, as Ansible reads it (above any group's ansible_port)
            declared.port = port
            declared.vars.setdefault("ansible_port", str(port))
        members = self.group(group, line).hosts
        if name not in members:
            members.append(name)


def check_group_name(name: str, source: str, line: int) -> None:
    if name_problem(name) is not None:
        raise invalid_line(source, line, f"group name {name!r} must be letters, digits, '.', '_' or '-'")


# -- reading the file --------------------------------------------------------------------------------

def read_text(path: str) -> str:
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", "Give the path of a readable file.") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InvalidFile(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", "Is this an inventory file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise invalid_line(path, line, "not UTF-8 text", f"Save {path} as UTF-8.") from exc


def looks_like_yaml(path: str, text: str) -> bool:
    """Ansible's choice of plugin, simplified: .yml/.yaml/.json files, or a first line ``name:``."""
    if path.lower().endswith((".yml", ".yaml", ".json")):
        return True
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        return stripped in ("---", "{") or bool(re.fullmatch(r"[A-Za-z0-9_.-]+:\s*(#.*)?", stripped))
    return False


def load_inventory(path: str) -> tuple[list[RemoteTarget], list[str]]:
    """The targets an Ansible inventory file describes, and notes on what was left out."""
    text = read_text(path)
    parsed = parse_yaml(text, path) if looks_like_yaml(path, text) else parse_ini(text, path)
    return build_targets(parsed)


# -- ranges --------------------------------------------------------------------------------------------
_RANGE = re.compile(r"\[([^\[\]]*:[^\[\]]*)\]")


def expand_hosts(pattern: str, source: str = "", line: int = 0, budget: int = MAX_HOSTS) -> list[str]:
    """``web[01:03].example.com`` -> web01…web03 (leading zeros kept, letters, a step), as Ansible does."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]

    def fail(message: str) -> InvalidFile:
        return invalid_line(source, line, f"host range {pattern!r}: {message}")

    head, tail = pattern[:match.start()], pattern[match.end():]
    bounds = match.group(1).split(":")
    if len(bounds) not in (2, 3):
        raise fail("write [start:end] or [start:end:step]")
    beg, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise fail("the range has no end")
    if not step_text.isdigit() or int(step_text) < 1:
        raise fail("the step must be a positive number")
    step = int(step_text)
    parts: list[str]
    if beg in string.ascii_letters and end in string.ascii_letters:
        first, last = string.ascii_letters.index(beg), string.ascii_letters.index(end)
        if first > last:
            raise fail("the start comes after the end")
        parts = list(string.ascii_letters[first:last + 1:step])
    elif beg.isdigit() and end.isdigit():
        if int(beg) > int(end):
            raise fail("the start is larger than the end")
        count = (int(end) - int(beg)) // step + 1
        if count > budget:
            raise fail(f"more than {budget} hosts")
        width = len(beg) if beg.startswith("0") and len(beg) > 1 else 0
        if width and len(end) != width:
            raise fail("a start with leading zeros needs an end of the same width")
        parts = [str(n).zfill(width) for n in range(int(beg), int(end) + 1, step)]
    else:
        raise fail("the bounds must both be numbers or both single letters")
    rest = expand_hosts(tail, source, line, max(1, budget // max(1, len(parts))))
    if len(parts) * len(rest) > budget:
        raise fail(f"more than {budget} hosts")
    return [head + part + suffix for part in parts for suffix in rest]


# -- INI --------------------------------------------------------------------------------------------------
_SECTION = re.compile(r"\[([^\]:\s]+)(?::(\w+))?\]\s*(?:[#;].*)?")


def _split(line: str, source: str, number: int) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise invalid_line(source, number, f"cannot split the line ({exc})",
                           "Close the quote, or quote the value.") from None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _host_and_port(pattern: str) -> tuple[str, int | None]:
    if pattern.count(":") == 1:
        name, _, port = pattern.partition(":")
        if port.isdigit():
            return name, int(port)
    return pattern, None


def parse_ini(text: str, source: str) -> Parsed:
    parsed = Parsed(source)
    parsed.group("ungrouped", 0)
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            match = _SECTION.fullmatch(line)
            if match is None:
                raise invalid_line(source, number, f"not a section header: {line[:80]!r}",
                                   "Write [group], [group:vars] or [group:children].")
            section, kind = match.group(1), match.group(2) or "hosts"
            if match.group(2) is not None and kind not in ("vars", "children"):
                raise invalid_line(source, number, f"section type {kind!r} is unknown (vars or children)")
            parsed.group(section, number)
            continue
        if kind == "vars":
            if "=" not in line:
                raise invalid_line(source, number, f"expected key=value in [{section}:vars], got {line[:80]!r}")
            key, _, value = line.partition("=")
            parsed.groups[section].vars[key.strip()] = _unquote(value.split(" #", 1)[0])
        elif kind == "children":
            tokens = _split(line, source, number)
            if len(tokens) != 1:
                raise invalid_line(source, number, f"expected one group name in [{section}:children]")
            parsed.group(tokens[0], number)
            children = parsed.groups[section].children
            if tokens[0] not in children:
                children.append(tokens[0])
        else:
            tokens = _split(line, source, number)
            if not tokens:
                continue
            pattern, port = _host_and_port(tokens[0])
            variables: dict[str, Any] = {}
            for token in tokens[1:]:
                key, sep, value = token.partition("=")
                if not sep or not key:
                    raise invalid_line(source, number, f"expected key=value after the host, got {token[:80]!r}")
                variables[key] = value
            for name in expand_hosts(pattern, source, number, MAX_HOSTS - len(parsed.hosts)):
                parsed.add_host(name, number, variables, port, section)
    return parsed


# -- YAML -------------------------------------------------------------------------------------------------

def parse_yaml(text: str, source: str) -> Parsed:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise invalid_line(source, line, f"not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    parsed = Parsed(source)
    parsed.group("ungrouped", 0)
    if root is None:
        return parsed
    if not isinstance(root, yaml.MappingNode):
        raise invalid_line(source, _line(root), "an inventory is a mapping of group names")
    for key, value in _pairs(root, source):
        _yaml_group(parsed, key.value, value, _line(key), 0)
    return parsed


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _pairs(node: Any, source: str) -> Iterator[tuple[Any, Any]]:
    import yaml

    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise invalid_line(source, _line(key), "keys must be plain names")
        if key.tag == "tag:yaml.org,2002:merge":
            raise invalid_line(source, _line(key), "merge keys (<<) are not supported in inventories")
        yield key, value


def _is_null(node: Any) -> bool:
    import yaml

    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _mapping(node: Any, source: str, what: str) -> Any:
    import yaml

    if _is_null(node):
        return None
    if not isinstance(node, yaml.MappingNode):
        raise invalid_line(source, _line(node), f"{what} must be a mapping")
    return node


def _scalar_vars(node: Any, source: str, what: str) -> dict[str, Any]:
    """A vars mapping, scalar values only (lists and mappings are no SSH setting; left out)."""
    import yaml

    mapping = _mapping(node, source, what)
    if mapping is None:
        return {}
    values: dict[str, Any] = {}
    for key, value in _pairs(mapping, source):
        if isinstance(value, yaml.ScalarNode):
            values[key.value] = None if _is_null(value) else value.value
    return values


def _yaml_group(parsed: Parsed, name: str, node: Any, line: int, depth: int) -> None:
    source = parsed.source
    if depth > MAX_GROUP_DEPTH:
        raise invalid_line(source, line, f"groups nested more than {MAX_GROUP_DEPTH} levels deep")
    group = parsed.group(name, line)
    mapping = _mapping(node, source, f"group {name}")
    if mapping is None:
        return
    for key, value in _pairs(mapping, source):
        if key.value == "hosts":
            hosts = _mapping(value, source, f"hosts of group {name}")
            for host_key, host_vars in _pairs(hosts, source) if hosts is not None else ():
                pattern, port = _host_and_port(host_key.value)
                variables = _scalar_vars(host_vars, source, f"host {host_key.value}")
                for host in expand_hosts(pattern, source, _line(host_key), MAX_HOSTS - len(parsed.hosts)):
                    parsed.add_host(host, _line(host_key), variables, port, name)
        elif key.value == "vars":
            group.vars.update(_scalar_vars(value, source, f"vars of group {name}"))
        elif key.value == "children":
            children = _mapping(value, source, f"children of group {name}")
            for child_key, child in _pairs(children, source) if children is not None else ():
                if child_key.value not in group.children:
                    group.children.append(child_key.value)
                _yaml_group(parsed, child_key.value, child, _line(child_key), depth + 1)
        else:
            parsed.notes.append(f"{source}:{_line(key)}: key {key.value!r} of group {name} ignored "
                                "(only hosts, vars and children count)")


# -- from groups to targets ----------------------------------------------------------------------------

def group_depths(parsed: Parsed) -> dict[str, int]:
    """Each group's depth below ``all`` (the longest path), refusing loops of children."""
    parents: dict[str, list[str]] = {name: [] for name in parsed.groups}
    for group in parsed.groups.values():
        for child in group.children:
            parents[child].append(group.name)
    depths: dict[str, int] = {"all": 0}

    def depth(name: str, path: tuple[str, ...]) -> int:
        if name in depths:
            return depths[name]
        if name in path:
            loop = " -> ".join(path[path.index(name):] + (name,))
            raise invalid_line(parsed.source, parsed.groups[name].line, f"groups are their own children ({loop})")
        if len(path) > MAX_GROUP_DEPTH:
            raise invalid_line(parsed.source, parsed.groups[name].line, "groups nested too deeply")
        above = [p for p in parents[name] if p != "all"]
        depths[name] = 1 + max((depth(p, path + (name,)) for p in above), default=0)
        return depths[name]

    for name in parsed.groups:
        depth(name, ())
    return depths


def host_groups(parsed: Parsed) -> dict[str, set[str]]:
    """Every group a host belongs to, directly or through children."""
    members: dict[str, set[str]] = {name: set() for name in parsed.hosts}
    memo: dict[str, set[str]] = {}

    def hosts_of(name: str) -> set[str]:  # loops were refused by group_depths
        if name not in memo:
            group = parsed.groups[name]
            found = set(group.hosts)
            for child in group.children:
                found |= hosts_of(child)
            memo[name] = found
        return memo[name]

    for name in parsed.groups:
        for host in hosts_of(name):
            members[host].add(name)
    return members


def build_targets(parsed: Parsed) -> tuple[list[RemoteTarget], list[str]]:
    depths = group_depths(parsed)
    groups_of = host_groups(parsed)
    all_vars = parsed.groups["all"].vars if "all" in parsed.groups else {}
    targets: list[RemoteTarget] = []
    notes = list(parsed.notes)
    for name, declared in parsed.hosts.items():
        ordered = sorted((g for g in groups_of[name] if g != "all"), key=lambda g: (depths[g], g))
        variables: dict[str, Any] = dict(all_vars)
        for group in ordered:
            variables.update(parsed.groups[group].vars)
        variables.update(declared.vars)
        where = f"{parsed.source}:{declared.line}"
        try:
            target = target_from_vars(name, variables, declared.port, tuple(g for g in ordered if g != "ungrouped"),
                                      where, notes)
        except A2CError as exc:  # the message already names the file and line
            raise InvalidFile(exc.message, f"Fix line {declared.line} of {parsed.source} and run the command again.") from None
        if target is not None:
            targets.append(target)
    return targets, notes


def _first(variables: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = variables.get(name)
        if value not in (None, ""):
            return value
    return None


def target_from_vars(name: str, variables: dict[str, Any], port: int | None, groups: tuple[str, ...],
                     where: str, notes: list[str]) -> RemoteTarget | None:
    connection = _first(variables, "ansible_connection")
    if connection not in SSH_CONNECTIONS:
        notes.append(f"{where}: host {name} left out: ansible_connection={connection} is not SSH")
        return None
    if any(variables.get(v) for v in SECRET_VARS):
        notes.append(f"{where}: host {name}: the password in the inventory is not used; "
                     "store the credentials in Secrets Manager and set a2c_secret_id (or --secret-id)")
    host = str(_first(variables, "ansible_host", "ansible_ssh_host") or name)
    check(host, host_problem, "host", where)
    port_value = _first(variables, "ansible_port", "ansible_ssh_port")
    chosen_port = parse_port(port_value, where) if port_value is not None else (port or 22)
    user = _first(variables, "ansible_user", "ansible_ssh_user")
    if user is not None:
        check(str(user), user_problem, "user", where)
    key = _first(variables, "ansible_ssh_private_key_file", "ansible_private_key_file")
    args = " ".join(str(v) for v in (variables.get("ansible_ssh_common_args"), variables.get("ansible_ssh_extra_args")) if v)
    jump = jump_from_ssh_args(args, where) if args else None
    if jump == "":
        notes.append(f"{where}: host {name} left out: its ProxyCommand is not `ssh -W %h:%p HOST` "
                     "(a2c follows ProxyJump and such ProxyCommands only)")
        return None
    timeout = _first(variables, "a2c_timeout")
    try:
        timeout_value = float(timeout) if timeout is not None else None
    except ValueError:
        raise UsageError(f"{where}: a2c_timeout {timeout!r} is not a number of seconds") from None
    certificate = _first(variables, "a2c_certificate_file")
    known_hosts = _first(variables, "a2c_known_hosts")
    kept = {k: v for k, v in sorted(variables.items())
            if k not in _CONSUMED and not _SENSITIVE.search(k) and isinstance(v, (str, int, float, bool, type(None)))}
    return RemoteTarget(name=name, host=host, port=chosen_port, user=str(user) if user is not None else None,
                        key_files=(absolute_path(str(key)),) if key else (),
                        certificate_file=absolute_path(str(certificate)) if certificate else None,
                        jump=jump, timeout=timeout_value, secret_id=_first(variables, "a2c_secret_id"),
                        known_hosts=absolute_path(str(known_hosts)) if known_hosts else None,
                        groups=groups, vars=kept, source=where)


def jump_from_ssh_args(args: str, where: str) -> str | None:
    """The jump host(s) in ssh arguments: ``-J spec``, ``-o ProxyJump=spec``, or a ProxyCommand of
    the form ``ssh … -W %h:%p [user@]host``. None when there is none; "" for a ProxyCommand a2c
    cannot follow."""
    try:
        tokens = shlex.split(args)
    except ValueError as exc:
        raise UsageError(f"{where}: cannot split ssh arguments ({exc})") from None
    options: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in ("-J", "-o") and index + 1 < len(tokens):
            options.append(("ProxyJump=" if token == "-J" else "") + tokens[index + 1])
            index += 2
            continue
        if token.startswith("-J") and len(token) > 2:
            options.append("ProxyJump=" + token[2:])
        elif token.startswith("-o") and len(token) > 2:
            options.append(token[2:])
        index += 1
    for option in options:
        key, _, value = option.partition("=") if "=" in option else option.partition(" ")
        key, value = key.strip().lower(), value.strip()
        if key == "proxyjump" and value.lower() != "none":
            for hop in value.split(","):
                if hop.strip() and "@" not in hop and ":" not in hop and name_problem(hop.strip()) is None:
                    continue  # a name: a target, or a host reached as is
                parse_hop(hop, where)
            return value
        if key == "proxycommand" and value.lower() != "none":
            return jump_from_proxy_command(value, where)
    return None
