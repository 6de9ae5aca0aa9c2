"""Remote targets from an OpenSSH client config file, read the way ``ssh`` reads it.

Every name a ``Host`` line lists without wildcards or ``!`` becomes a target. Its settings are
found as ssh finds them: the file top to bottom (``Include`` files in place, relative paths
against the folder of the file given, globs sorted), and for each keyword the first value
that applies wins (``IdentityFile`` and ``CertificateFile`` accumulate). ``Match all`` and
``Match host``/``originalhost`` apply; other ``Match`` criteria (``exec``, ``user``, …) cannot
be decided here, so their blocks are left out with a note.

Keywords a2c takes: HostName, Port, User, IdentityFile, CertificateFile, IdentitiesOnly,
IdentityAgent, ProxyJump, ProxyCommand (``ssh -W %h:%p HOST`` only), UserKnownHostsFile and
ConnectTimeout. A jump host that is not itself a listed name becomes a jump-only target.
"""

from __future__ import annotations

import getpass
import glob
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2c.errors import InvalidFile, UsageError
from a2c.fleet.targets import (RemoteTarget, absolute_path, check, host_problem, invalid_line, name_problem,
                               parse_hop, parse_port, user_problem)

MAX_INCLUDE_DEPTH = 16  # as ssh
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_LINES = 200_000
_MULTI = ("identityfile", "certificatefile")
_KEYWORD = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)")


@dataclass(frozen=True)
class Condition:
    kind: str  # "host", "originalhost", "all", "never"
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    conditions: tuple[Condition, ...]
    keyword: str  # lower case
    args: tuple[str, ...]
    source: str
    line: int


@dataclass
class Config:
    entries: list[Entry]
    aliases: list[tuple[str, str, int]]  # (alias, file, line) in order of appearance
    notes: list[str]


def pattern_matches(pattern: str, name: str) -> bool:
    """ssh's wildcard match: ``*`` and ``?`` only, case-insensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(regex, name.lower()) is not None


def patterns_match(patterns: tuple[str, ...], name: str) -> bool:
    """A pattern list: some positive pattern matches and no negated one does."""
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if pattern_matches(pattern[1:], name):
                return False
        elif pattern_matches(pattern, name):
            matched = True
    return matched


def _read(path: Path, shown: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror or exc}", "Give the path of a readable file.") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InvalidFile(f"{shown} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", "Is this an ssh config file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid_line(shown, data[:exc.start].count(b"\n") + 1, "not UTF-8 text") from None


def parse_config(path: str) -> Config:
    """The entries of an ssh config and the files it includes, in the order ssh reads them."""
    top = Path(absolute_path(path))
    config = Config([], [], [])
    state = {"lines": 0}

    def read_file(file: Path, shown: str, outer: tuple[Condition, ...], depth: int, chain: tuple[str, ...]) -> None:
        text = _read(file, shown)
        current = outer
        for number, raw in enumerate(text.splitlines(), 1):
            state["lines"] += 1
            if state["lines"] > MAX_LINES:
                raise invalid_line(shown, number, f"more than {MAX_LINES} lines with the included files")
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _KEYWORD.fullmatch(line)
            if match is None:
                raise invalid_line(shown, number, f"expected `Keyword value`, got {line[:80]!r}")
            keyword, rest = match.group(1).lower(), match.group(2)
            try:
                args = tuple(shlex.split(rest, comments=True))
            except ValueError as exc:
                raise invalid_line(shown, number, f"cannot split the value ({exc})", "Close the quote.") from None
            if not args:
                raise invalid_line(shown, number, f"{match.group(1)} has no value")
            if keyword == "host":
                current = outer + (Condition("host", args),)
                for alias in args:
                    if not alias.startswith("!") and not any(c in alias for c in "*?"):
                        config.aliases.append((alias, shown, number))
            elif keyword == "match":
                current = outer + (match_condition(args, shown, number, config.notes),)
            elif keyword == "include":
                if depth >= MAX_INCLUDE_DEPTH:
                    raise invalid_line(shown, number, f"Include nested more than {MAX_INCLUDE_DEPTH} levels deep")
                for pattern in args:
                    expanded = os.path.expanduser(pattern)
                    if not os.path.isabs(expanded):
                        expanded = str(top.parent / expanded)
                    for name in sorted(glob.glob(expanded)):
                        included = Path(name).resolve()
                        if str(included) in chain:
                            raise invalid_line(shown, number, f"Include loop: {name} includes itself")
                        if included.is_file():
                            read_file(included, name, current, depth + 1, chain + (str(included),))
            else:
                config.entries.append(Entry(current, keyword, args, shown, number))

    read_file(top, path, (), 0, (str(top.resolve()),))
    return config


def match_condition(args: tuple[str, ...], source: str, line: int, notes: list[str]) -> Condition:
    words = [a.lower() for a in args]
    if words == ["all"]:
        return Condition("all")
    if len(args) == 2 and words[0] in ("host", "originalhost"):
        return Condition(words[0], tuple(args[1].split(",")))
    notes.append(f"{source}:{line}: `Match {' '.join(args)}` cannot be decided by a2c; its settings are not used")
    return Condition("never")


def _applies(condition: Condition, alias: str) -> bool:
    if condition.kind == "all":
        return True
    if condition.kind in ("host", "originalhost"):
        return patterns_match(condition.patterns, alias)
    return False  # "never": a Match a2c cannot decide


def settings_for(config: Config, alias: str) -> tuple[dict[str, tuple[str, ...]], dict[str, Entry]]:
    """Each keyword's value for ``alias`` (first wins; identity and certificate files accumulate),
    and the entry each came from (for errors naming the line)."""
    values: dict[str, tuple[str, ...]] = {}
    origin: dict[str, Entry] = {}
    for entry in config.entries:
        if not all(_applies(c, alias) for c in entry.conditions):
            continue
        if entry.keyword in _MULTI:
            values[entry.keyword] = values.get(entry.keyword, ()) + entry.args
            origin.setdefault(entry.keyword, entry)
        elif entry.keyword not in values:
            values[entry.keyword] = entry.args
            origin[entry.keyword] = entry
    return values, origin


def expand_tokens(value: str, entry: Entry, tokens: dict[str, str]) -> str:
    """ssh's %-tokens that a2c can know (%h %n %p %r %u %d %%); another is an error on its line."""
    def replace(match: re.Match[str]) -> str:
        letter = match.group(1)
        if letter == "%":
            return "%"
        if letter not in tokens:
            raise invalid_line(entry.source, entry.line, f"the token %{letter} is not supported by a2c here")
        return tokens[letter]

    return re.sub(r"%(.)", replace, value)


def load_ssh_config(path: str) -> tuple[list[RemoteTarget], list[str]]:
    """The targets an ssh config names, plus the jump-only targets their ProxyJumps need."""
    config = parse_config(path)
    notes = list(config.notes)
    listed: list[str] = []
    for alias, source, line in config.aliases:
        if alias in listed:
            continue
        problem = name_problem(alias)
        if problem is not None:
            notes.append(f"{source}:{line}: Host {alias!r} left out: it {problem}")
            continue
        listed.append(alias)
    jump_targets: dict[str, RemoteTarget] = {}
    targets: dict[str, RemoteTarget] = {}
    for alias in listed:
        target = _target(config, alias, path, listed, jump_targets, notes)
        if target is not None:
            targets[alias] = target
    for name, target in jump_targets.items():
        targets.setdefault(name, target)
    return list(targets.values()), notes


def _target(config: Config, alias: str, source: str, listed: list[str], jump_targets: dict[str, RemoteTarget],
            notes: list[str], *, jump_only: bool = False, user: str | None = None, port: int | None = None,
            name: str | None = None) -> RemoteTarget | None:
    values, origin = settings_for(config, alias)
    first_line = next((f"{s}:{n}" for a, s, n in config.aliases if a == alias), source)

    def one(keyword: str) -> str | None:
        return values[keyword][0] if keyword in values else None

    def where(keyword: str) -> str:
        entry = origin.get(keyword)
        return f"{entry.source}:{entry.line}" if entry else first_line

    chosen_port = port
    if chosen_port is None and one("port") is not None:
        chosen_port = _checked(lambda: parse_port(one("port"), ""), origin["port"])
    chosen_user = user or one("user")
    if chosen_user is not None and "%" not in chosen_user:
        _checked(lambda: check(chosen_user, user_problem, "user"), origin.get("user"))
    tokens = {"n": alias, "h": alias, "p": str(chosen_port or 22), "u": getpass.getuser(), "d": str(Path.home()),
              "r": chosen_user or getpass.getuser()}
    hostname = alias
    if one("hostname") is not None:
        hostname = expand_tokens(one("hostname") or "", origin["hostname"], tokens)
    entry_or_none = origin.get("hostname")
    _checked(lambda: check(hostname, host_problem, "host"), entry_or_none, first_line)
    tokens["h"] = hostname

    def files(keyword: str) -> tuple[str, ...]:
        entry = origin.get(keyword)
        return tuple(absolute_path(expand_tokens(v, entry, tokens)) for v in values.get(keyword, ()) if entry)

    key_files = files("identityfile")
    certificates = files("certificatefile")
    agent = True
    if (one("identityagent") or "").lower() == "none":
        agent = False
    if (one("identitiesonly") or "").lower() == "yes" and key_files:
        agent = False
    known_hosts = None
    if one("userknownhostsfile") is not None:
        known_hosts = absolute_path(expand_tokens(one("userknownhostsfile") or "", origin["userknownhostsfile"], tokens))
    connect_timeout = None
    if one("connecttimeout") is not None:
        text = one("connecttimeout") or ""
        if not text.isdigit() or int(text) < 1:
            raise invalid_line(origin["connecttimeout"].source, origin["connecttimeout"].line,
                               f"ConnectTimeout {text!r} is not a number of seconds")
        connect_timeout = float(text)
    jump = None
    proxy_jump, proxy_command = one("proxyjump"), one("proxycommand")
    # ProxyJump and ProxyCommand exclude each other: the one ssh reads first wins.
    first_proxy = min((k for k in ("proxyjump", "proxycommand") if k in origin),
                      key=lambda k: config.entries.index(origin[k]), default=None)
    if first_proxy == "proxyjump" and proxy_jump and proxy_jump.lower() != "none":
        jump = _jump_names(config, proxy_jump, origin["proxyjump"], listed, jump_targets, notes, source)
    elif first_proxy == "proxycommand" and proxy_command and proxy_command.lower() != "none":
        command = " ".join(values["proxycommand"])
        hop = _checked(lambda: jump_from_proxy_command(command, where("proxycommand")), origin["proxycommand"])
        if not hop:
            notes.append(f"{where('proxycommand')}: Host {alias} left out: its ProxyCommand is not "
                         "`ssh -W %h:%p HOST` (a2c follows ProxyJump and such ProxyCommands only)")
            return None
        jump = _jump_names(config, hop, origin["proxycommand"], listed, jump_targets, notes, source)
    return RemoteTarget(name=name or alias, host=hostname, port=chosen_port or 22,
                        user=chosen_user if chosen_user and "%" not in chosen_user else None,
                        key_files=key_files, certificate_file=certificates[0] if certificates else None, agent=agent,
                        jump=jump, connect_timeout=connect_timeout, known_hosts=known_hosts, jump_only=jump_only,
                        source=first_line)


def _checked(action: Any, entry: Entry | None, fallback: str = "") -> Any:
    """Run a check; its UsageError becomes an InvalidFile naming the config line."""
    try:
        return action()
    except UsageError as exc:
        if entry is not None:
            raise invalid_line(entry.source, entry.line, exc.message) from None
        raise InvalidFile(f"{fallback}: {exc.message}", "Fix the ssh config and run the command again.") from None


def _jump_names(config: Config, value: str, entry: Entry, listed: list[str], jump_targets: dict[str, RemoteTarget],
                notes: list[str], source: str) -> str:
    """ProxyJump's hops as target names: a listed alias as itself, any other hop as a jump-only
    target resolved through the same config."""
    names = []
    for hop_text in [h.strip() for h in value.split(",") if h.strip()]:
        if hop_text in listed:
            names.append(hop_text)
            continue
        hop = _checked(lambda: parse_hop(hop_text), entry)
        name = "jump-" + re.sub(r"[^A-Za-z0-9._-]+", "-", hop_text).strip("-.")[:90]
        if name not in jump_targets:
            jump_targets[name] = RemoteTarget(name=name, host=hop.host, port=hop.port, user=hop.user, jump_only=True,
                                              source=f"{entry.source}:{entry.line}")
            resolved = _target(config, hop.host, source, listed, jump_targets, notes, jump_only=True,
                               user=hop.user, port=hop.port if ":" in hop_text.rpartition("@")[2] else None, name=name)
            if resolved is not None:
                jump_targets[name] = resolved
        names.append(name)
    return ",".join(names)


# ssh options that take a value (so the host is the first word that is not one of them).
_SSH_VALUE_OPTIONS = set("BbcDEeFIiJLlmOoPpQRSWw")


def jump_from_proxy_command(command: str, where: str) -> str:
    """``ssh [-p PORT] [-l USER] … -W %h:%p [USER@]HOST`` -> ``[USER@]HOST[:PORT]``; "" otherwise."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        return ""
    if not tokens or Path(tokens[0]).name != "ssh" or "-W" not in tokens:
        return ""
    user = port = None
    hosts: list[str] = []
    index = 1
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("-") and len(token) >= 2:
            letter = token[1]
            if letter in _SSH_VALUE_OPTIONS:
                value = token[2:] if len(token) > 2 else (tokens[index + 1] if index + 1 < len(tokens) else "")
                if letter == "p":
                    port = value
                elif letter == "l":
                    user = value
                index += 1 if len(token) > 2 else 2
                continue
            index += 1
            continue
        hosts.append(token)
        index += 1
    if len(hosts) != 1:
        return ""
    hop = hosts[0]
    if user and "@" not in hop:
        hop = f"{user}@{hop}"
    if port:
        hop = f"{hop}:{port}"
    parse_hop(hop, where)
    return hop
