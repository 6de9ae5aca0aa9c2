"""What every Java analyzer reports the same way: process facts, runtime, ports, secrets."""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterable, Mapping

from a2c.analyzers.common.processfacts import process_head, process_tail
from a2c.analyzers.common.secrets import (MASK, cmdline_secrets, env_var_for, has_secret, is_secret_name, mask_cmdline,
                                           mask_mapping, masked_argument_name, numbered_names)
from a2c.analyzers.java.jvm import JavaCommand, default_base_image, parse_java_cmdline, read_java_runtime, uses_heap_flags
from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import Finding, InventoryEntry, ProcessInfo

# Environment that belongs to the login session or the tool that started the process, not to the app.
_ENV_NOISE = {
    "PATH", "HOME", "PWD", "OLDPWD", "SHLVL", "TERM", "USER", "LOGNAME", "SHELL", "MAIL", "HOSTNAME",
    "_", "JAVA_HOME", "JRE_HOME", "LS_COLORS", "DISPLAY", "COLORTERM", "INVOCATION_ID", "JOURNAL_STREAM",
    "SYSTEMD_EXEC_PID", "MANAGERPID", "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "CI", "TMPDIR",
    "COLUMNS", "LINES",
}
_ENV_NOISE_PREFIXES = (
    "SSH_", "XDG_", "SUDO_", "DBUS_", "PYTEST_", "A2C_", "GITHUB_", "RUNNER_", "PYENV", "VIRTUAL_ENV",
    "CONDA", "TMUX", "TERM_", "WINDOWID", "LESS", "HIST", "PS1", "PIP_", "PYTHON", "OPENBLAS_",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


# Variables Java applications and their frameworks read; always carried into the image.
_APP_VARS = {"JAVA_OPTS", "CATALINA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "LANG", "TZ", "UMASK"}
_APP_PREFIXES = ("SPRING_", "SERVER_", "MANAGEMENT_", "LOGGING_", "LC_", "JBOSS_", "JETTY_")


def image_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment fit for an image: no session noise, no secrets.

    A variable whose value holds a secret anywhere (``JAVA_OPTS=-Ddb.password=…``, a URL with
    ``user:password@``, SPRING_APPLICATION_JSON with a password) stays out as a whole: the
    deployment passes it at run time (secrets_found lists it)."""
    return {
        k: v
        for k, v in sorted(env.items())
        if k not in _ENV_NOISE and not k.startswith(_ENV_NOISE_PREFIXES) and not is_secret_name(k) and v != MASK
        and MASK not in str(v) and not has_secret(str(v), k) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", k)
    }


def application_environment(proc: ProcessInfo, host: Host) -> dict[str, str]:
    """The variables set for this application, as opposed to inherited from the login session.

    A variable counts when frameworks read it (JAVA_OPTS, SPRING_*, …) or when the process
    has it but its parent does not (or with another value). Process 1's environment is often
    unreadable, so an orphaned process only keeps the known variables; the rest stays visible
    in analysisInfo.env for the user to add to containerParameters.environment.
    """
    parent_env: Mapping[str, str] | None = None
    if proc.ppid > 1:
        try:
            parent_env = host.process(proc.ppid).environ or None
        except HostError:
            parent_env = None
    chosen = {
        k: v for k, v in proc.environ.items()
        if k in _APP_VARS or k.startswith(_APP_PREFIXES) or (parent_env is not None and parent_env.get(k) != v)
    }
    return image_environment(chosen)


def secrets_found(proc: ProcessInfo) -> list[dict[str, str]]:
    """Where secrets were seen in the process; the app gets them back at run time by env var.

    A variable holding a secret anywhere in its value is passed whole under its own name; a
    command-line secret (``-Dx.password=…``, ``--db.password VALUE``, a URL's password) by an
    ``A2C_SECRET_…`` variable, one per masked part (entry_command puts each reference where
    its mask stands)."""
    found: list[dict[str, Any]] = []
    for key, value in sorted(proc.environ.items()):
        if value and has_secret(value, key):
            found.append({"name": key, "foundIn": "environment", "envVar": key})
    parts = ((s.index, s.name, len(s.spans)) for s in cmdline_secrets(list(proc.cmdline)) if s.index > 0)
    for names in numbered_names(parts).values():
        found += [{"name": name, "foundIn": "command line", "envVar": env_var_for(name)} for name in names]
    return found


def java_analysis_info(entry: InventoryEntry, proc: ProcessInfo, host: Host, command: JavaCommand) -> dict[str, Any]:
    """App2Container's analysisInfo for a Java process, with our additions beside its fields."""
    runtime = read_java_runtime(host, proc.exe or command.java)
    os_data = host.os_release()
    properties: dict[str, Any] = dict(mask_mapping(command.system_properties))
    properties["classpath"] = ":".join(command.classpath)
    properties["jdkVersion"] = runtime.version if runtime else ""
    return {
        **process_head(entry, proc, host, mask_cmdline(list(proc.cmdline)),
                       entry.web_apps[0] if entry.web_apps else "", os_data),
        "Properties": properties,
        "AdvancedAppInfo": {
            "Directories": {},
            "distro": entry.application_type,
            "flavor": "",
            "jdkVersion": runtime.version if runtime else "",
            "javaMajorVersion": runtime.major if runtime else 0,
            "javaHome": runtime.home if runtime else "",
            "version": "",
        },
        **process_tail(entry, proc, host, mask_mapping(dict(proc.environ))),
        "jvmOptions": jvm_options(command),
        "secrets": secrets_found(proc),
        "outboundDependencies": connection_dependencies(proc),
        "jvm": jvm_memory(command),
    }


def jvm_memory(command: JavaCommand) -> dict[str, Any]:
    """How the heap is sized on the host and in the container, and the task memory that fits it."""
    from a2c.analyzers.java.jvm import heap_mib, recommended_task_memory

    options = list(command.options)
    own = uses_heap_flags(command.options)
    return {
        "maxHeapMiB": round(heap_mib(options)),
        "initialHeapMiB": round(heap_mib(options, "-Xms")),
        "containerHeap": "the application's own heap flags" if own else "-XX:MaxRAMPercentage=75.0 of the task memory",
        "recommendedTaskMemoryMiB": recommended_task_memory(options),
    }


def connection_dependencies(proc: ProcessInfo) -> list[dict[str, Any]]:
    from a2c.analyzers.common.dependencies import from_connections

    return from_connections(proc)


def add_config_findings(info: dict[str, Any], host: Host, paths: Iterable[str]) -> list[Finding]:
    """Scan config files into info (secrets, outbound dependencies); returns the findings."""
    from a2c.analyzers.common.configfiles import scan_config_files
    from a2c.analyzers.common.configsecrets import assign_env_vars
    from a2c.analyzers.common.dependencies import merge

    secrets, deps, findings = scan_config_files(host, paths)
    # One variable per distinct secret: a -D option and a file key of the same name get two.
    info["secrets"] = assign_env_vars(list(info.get("secrets", [])) + secrets)
    info["outboundDependencies"] = merge([deps, info.get("outboundDependencies", [])])
    return findings


def jvm_options(command: JavaCommand) -> list[str]:
    """JVM options other than system properties and the class path (those are reported apart)."""
    options: list[str] = []
    skip_next = False
    for option in mask_cmdline(list(command.options)):
        if skip_next:
            skip_next = False
            continue
        if option in ("-cp", "-classpath", "--class-path"):
            skip_next = True
            continue
        if option.startswith(("-D", "--class-path=")):
            continue
        options.append(option)
    return options


def java_container_parameters(entry: InventoryEntry, info: Mapping[str, Any], environment: Mapping[str, str],
                              **overrides: Any) -> dict[str, Any]:
    major = info["AdvancedAppInfo"].get("javaMajorVersion", 0)
    params: dict[str, Any] = {
        "_comment1": "*** EDITABLE: The below section can be edited according to the application requirements. ***",
        "imageRepository": entry.app_id,
        "imageTag": "latest",
        "containerBaseImage": default_base_image(major),
        "appExcludedFiles": ["/root/.aws"],
        "appSpecificFiles": [],
        "applicationPort": entry.ports[0] if entry.ports else 0,
        "applicationMode": True,
        "logLocations": [],
        "enableDynamicLogging": False,
        "dependencies": [],
        "healthCheckPath": "/",
        "environment": dict(environment),
    }
    params.update(overrides)
    return params


def runtime_findings(info: Mapping[str, Any]) -> list[Finding]:
    findings = []
    if not info["AdvancedAppInfo"].get("jdkVersion"):
        findings.append(Finding("JAVA-W001", "warning", "could not read the Java version from the runtime's release file; "
                                "the default base image assumes Java 17", info.get("exe", "")))
    for secret in info.get("secrets", []):
        findings.append(Finding("SEC-W001", "warning",
                                f"secret {secret['name']} found in the {secret['foundIn']}; it is kept out of the image "
                                f"and must be supplied at run time as ${secret['envVar']}"))
    return findings


def entry_command(cmdline: list[str], secrets: list[dict[str, str]]) -> tuple[str, ...]:
    """The original java command, made fit for a container.

    The host's java path becomes the image's ``${JAVA}``; masked secrets become ``${A2C_SECRET_…}``
    references resolved at run time; loopback-only bind addresses are dropped (a container
    must listen on its own interface to be reachable); heap flags become container-aware.
    """
    by_name = {s["name"]: s["envVar"] for s in secrets if s.get("foundIn") == "command line"}
    masked = ((i, masked_argument_name(cmdline, i), cmdline[i].count(MASK)) for i in range(1, len(cmdline)))
    names = numbered_names((i, name, count) for i, name, count in masked if name)
    args: list[str] = ["${JAVA}"]
    for index, arg in enumerate(cmdline[1:], start=1):
        key, sep, value = arg.partition("=")
        name = key[2:] if key.startswith("-D") else key.lstrip("-")
        if sep and name in ("server.address", "address") and value in LOOPBACK:
            continue
        if any(n in by_name for n in names.get(index, ())):
            arg = _secret_references(arg, names[index], by_name)
        args.append(arg)
    command = parse_java_cmdline(cmdline)
    if command is not None and not uses_heap_flags(command.options):
        args.insert(1, "-XX:MaxRAMPercentage=75.0")
    return tuple(args)


def _secret_references(arg: str, names: list[str], by_name: Mapping[str, str]) -> str:
    """Each ``****`` of a masked argument becomes the ``${A2C_SECRET_…}`` of its part's name
    (secrets_found's names); a part the analysis no longer lists stays masked."""
    pieces = arg.split(MASK)
    out = [pieces[0]]
    for number, piece in enumerate(pieces[1:]):
        name = names[number] if number < len(names) else ""
        out.append("${%s}" % by_name[name] if name in by_name else MASK)
        out.append(piece)
    return "".join(out)


def workdir_for(info: Mapping[str, Any], copied: tuple[str, ...]) -> str:
    cwd = info.get("cwd") or "/"
    return cwd if any(cwd == p or cwd.startswith(p.rstrip("/") + "/") for p in copied) else copied[0] if copied else "/"


def parent_dirs(paths: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({posixpath.dirname(p) for p in paths}))


def add_log_locations(info: dict[str, Any], params: dict[str, Any], host: Host, config_paths: Iterable[str],
                      props: Mapping[str, str]) -> None:
    """logLocations from the logging configuration, beside what the analyzer already knew."""
    from a2c.analyzers.java.logconfig import log_locations

    locations, configs = log_locations(host, config_paths, props)
    logging_info = info.setdefault("logging", {})
    logging_info["configFiles"] = configs
    logging_info["files"] = list(dict.fromkeys(list(logging_info.get("files", [])) + locations))
    params["logLocations"] = list(dict.fromkeys(list(params.get("logLocations", [])) + locations))


def log_links(params: Mapping[str, Any]) -> dict[str, str]:
    from a2c.analyzers.java.logconfig import stdout_links

    return stdout_links(params.get("logLocations", []))
