"""The values of the secrets an analysis lists, read again from the host (``a2c analyze
--store-secrets``): analysis.json holds only masks, and the values must go straight to a secret
store, never to the workspace.

Each value is read by the reader that found it, as it is now: a configuration file through
``configsecrets.secret_values`` (the spans ``template_file`` replaces, with the variable it would
give each), the command line through ``cmdline_secrets`` (named as the analysis names them), the
environment by its variable. A secret that is no longer there, or that now stands for two
different values, is not read: it comes back with the reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from a2c.analyzers.common.configfiles import MAX_CONFIG_FILE
from a2c.analyzers.common.secrets import cmdline_secrets, numbered_names
from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import ProcessInfo

ENVIRONMENT = "environment"
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class SecretValue:
    """One run-time variable and its value now, or why it has none (``problem``)."""

    env_var: str
    name: str
    found_in: str
    value: str | None = field(default=None, repr=False)  # kept out of reprs: tracebacks, test output
    problem: str = ""


def cmdline_secret_values(args: Sequence[str]) -> dict[str, str]:
    """{name: value} of a command line's secrets, named as the analysis names them (``db.password``,
    ``db.password2`` for a second one; the program itself, argument 0, is never one)."""
    found = [s for s in cmdline_secrets(list(args)) if s.index > 0]
    names = numbered_names((s.index, s.name, len(s.spans)) for s in found)
    return {name: args[s.index][start:end]
            for s in found for name, (start, end) in zip(names.get(s.index, []), s.spans)}


def file_secret_values(path: str, data: bytes, listed: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """{variable: its distinct values} in one configuration file as it is now: the variables the
    templated copy will hold placeholders for, given the analysis' secrets of that file."""
    from a2c.analyzers.common.configsecrets import FileSecret, secret_values

    secrets = [FileSecret(path, s["name"], s["envVar"], int(s.get("line", 0) or 0)) for s in listed]
    values: dict[str, list[str]] = {}
    for _, _, env_var, value in secret_values(path, data, secrets):
        if value and value not in values.setdefault(env_var, []):
            values[env_var].append(value)
    return values


def read_secret_values(secrets: Sequence[Mapping[str, Any]], host: Host, proc: ProcessInfo | None) -> list[SecretValue]:
    """One SecretValue per run-time variable (the first place it was found, as deployment.json
    lists it); ``proc`` is the application's process found again, None when it is gone."""
    by_file: dict[str, list[Mapping[str, Any]]] = {}
    for secret in secrets:
        by_file.setdefault(str(secret.get("foundIn", "")), []).append(secret)
    files: dict[str, dict[str, list[str]] | str] = {}
    arguments = cmdline_secret_values(list(proc.cmdline)) if proc is not None else {}
    first: dict[str, Mapping[str, Any]] = {}
    for secret in secrets:
        first.setdefault(str(secret["envVar"]), secret)
    out = []
    for env_var, secret in first.items():
        found_in = str(secret.get("foundIn", ""))
        if found_in.startswith("/") and found_in not in files:
            files[found_in] = _read_file(host, found_in, by_file[found_in])
        value, problem = _value_of(secret, proc, arguments, files.get(found_in))
        out.append(SecretValue(env_var, str(secret.get("name", "")), found_in, value, problem))
    return out


def _read_file(host: Host, path: str, listed: list[Mapping[str, Any]]) -> dict[str, list[str]] | str:
    """The file's values by variable, or why it cannot be read (its link followed, as templating does)."""
    try:
        data = host.read_bytes(host.realpath(path), limit=MAX_CONFIG_FILE)
    except HostError as exc:
        return f"{path} cannot be read now: {exc.message}"
    return file_secret_values(path, data, listed)


def _value_of(secret: Mapping[str, Any], proc: ProcessInfo | None, arguments: Mapping[str, str],
              file: dict[str, list[str]] | str | None) -> tuple[str | None, str]:
    """(value, "") or (None, why not) for one secret."""
    found_in, name, env_var = str(secret.get("foundIn", "")), str(secret.get("name", "")), str(secret["envVar"])
    if found_in in (ENVIRONMENT, COMMAND_LINE) and proc is None:
        return None, f"the application's process is gone: its {found_in} cannot be read again"
    if found_in == ENVIRONMENT:
        value = proc.environ.get(name) if proc is not None else None
        return (value, "") if value else (None, f"the process's environment no longer holds {name}")
    if found_in == COMMAND_LINE:
        value = arguments.get(name)
        return (value, "") if value else (None, f"the process's command line no longer holds {name}")
    if isinstance(file, str):
        return None, file
    if file is None:
        return None, f"a secret found in the {found_in} cannot be read again by a2c; store it yourself"
    values = file.get(env_var, [])
    if len(values) == 1:
        return values[0], ""
    if not values:
        return None, (f"a2c's configuration readers do not find {name} in {found_in} now: the file changed since "
                      "the analysis, or the analyzer reads it in its own way; store the value yourself")
    return None, f"{found_in} now holds {len(values)} different values for {name}"
