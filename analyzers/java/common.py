"""What every Java analyzer reports the same way: process facts, runtime, ports, secrets."""

from __future__ import annotations

import datetime
import posixpath
import re
from typing import Any, Iterable, Mapping

from a2c.analyzers.common.processfacts import process_head, process_tail
from a2c.analyzers.common.secrets import (MASK, cmdline_secrets, env_var_for, has_secret, is_secret_name, mask_cmdline,
                                           mask_mapping, masked_argument_name, numbered_names)
from a2c.analyzers.java.jvm import JavaCommand, default_base_image, parse_java_cmdline, read_java_runtime, uses_heap_flags
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text
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


def created_time() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


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
    from a2c.analyzers.java.dependencies import from_connections

    return from_connections(proc)


def add_config_findings(info: dict[str, Any], host: Host, paths: Iterable[str]) -> list[Finding]:
    """Scan config files into info (secrets, outbound dependencies); returns the findings."""
    from a2c.analyzers.java.dependencies import merge

    from a2c.analyzers.java.configsecrets import assign_env_vars

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


MAX_CONFIG_FILE = 4 * 1024 * 1024
# Files a config folder holds that are scanned for secrets (configsecrets.kind_of decides how;
# files without a suffix count in folders named conf, config, etc, …).
CONFIG_SUFFIXES = (".properties", ".yml", ".yaml", ".xml", ".json", ".env", ".conf", ".cfg", ".ini", ".toml",
                   ".txt", ".cnf")
MAX_CONFIG_FILES_IN = 500  # per config_files_in call: a folder of thousands of files is not all config


def scan_config_files(host: Host, paths: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Finding]]:
    """Secrets and outbound dependencies in the application's own configuration files.

    Returns (secrets as analysisInfo.secrets entries, dependencies, findings); a file that
    cannot be read is a finding, never an error.
    """
    from a2c.analyzers.common.properties import parse_properties, parse_yaml_flat
    from a2c.analyzers.java import configsecrets, dependencies

    secrets: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for path in dict.fromkeys(paths):
        try:
            data = host.read_bytes(path, limit=MAX_CONFIG_FILE)
        except HostError as exc:
            findings.append(Finding("CONF-W001", "warning", f"configuration file not read: {exc.message}", path))
            continue
        text = decode_text(data)
        scan = configsecrets.scan_file(path, data)
        secrets += [s.to_json() for s in scan.secrets]
        findings += scan.findings
        kind = configsecrets.kind_of(path)
        if kind in ("properties", "lines"):
            deps += dependencies.from_properties(parse_properties(text), path)
        elif kind == "yaml":
            deps += dependencies.from_properties(parse_yaml_flat(text), path)
        deps += dependencies.from_text(text, path)
    return secrets, dependencies.merge([deps]), findings


def config_files_in(host: Host, folders: Iterable[str], depth: int = 2) -> list[str]:
    """Configuration-looking files in folders (and their sub-folders down to ``depth``: Tomcat's
    per-host context files sit in conf/<Engine>/<Host>/): what ``configsecrets.kind_of`` reads
    (.properties, YAML, XML, JSON, .env/.conf/.ini/… and files without a suffix in a config
    folder), at most ``MAX_CONFIG_FILES_IN`` of them."""
    from a2c.analyzers.java.configsecrets import kind_of

    found: list[str] = []
    pending = [(folder, 0) for folder in folders]
    while pending and len(found) < MAX_CONFIG_FILES_IN:
        folder, level = pending.pop(0)
        for name in host.glob_names(folder):
            path = posixpath.join(folder, name)
            st = host.lstat(path)
            if st is None or st.kind == "link":
                continue
            if st.kind == "file" and (name.endswith(CONFIG_SUFFIXES) or kind_of(path)) and st.size <= MAX_CONFIG_FILE:
                found.append(path)
                if len(found) >= MAX_CONFIG_FILES_IN:
                    break
            elif st.kind == "dir" and level < depth:
                pending.append((path, level + 1))
    return found


def secret_templates(info: Mapping[str, Any], host: Host, generated: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
    """Replace every file secret with its placeholder in ``generated`` (host bytes when not
    generated yet); returns {path: env vars} for the entry script to fill at start.

    Each file is scanned again as it is now; a secret takes the variable the analysis gave it
    by (file, name, line), so two secrets of one name keep their own variables.
    """
    from a2c.analyzers.java import configsecrets

    by_file: dict[str, list[Any]] = {}
    for secret in info.get("secrets", []):
        path = secret.get("foundIn", "")
        if path.startswith("/"):
            by_file.setdefault(path, []).append(
                configsecrets.FileSecret(path, secret["name"], secret["envVar"], int(secret.get("line", 0) or 0)))
    render: dict[str, tuple[str, ...]] = {}
    for path, secrets in by_file.items():
        try:
            real = host.realpath(path)  # generated files land where the file really is (conf -> /etc/…)
            data = generated.get(real) or host.read_bytes(real, limit=MAX_CONFIG_FILE)
        except HostError:
            continue
        templated, applied = configsecrets.template_file(path, data, secrets)
        if applied:
            generated[real] = templated
        names = configsecrets.render_vars(data, templated, applied, secrets)
        if names:
            render[real] = tuple(dict.fromkeys(list(render.get(real, ())) + list(names)))
    return render


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
