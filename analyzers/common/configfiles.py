"""Configuration files every runtime reads the same way: which files a folder holds, the
secrets and outbound dependencies in them, and their copies with the secrets templated out."""

from __future__ import annotations

import posixpath
from typing import Any, Iterable, Mapping

from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text
from a2c.model import Finding


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
    from a2c.analyzers.common import configsecrets, dependencies

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
    from a2c.analyzers.common.configsecrets import kind_of

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
    from a2c.analyzers.common import configsecrets

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
