""".NET Framework configuration files (web.config, *.exe.config): what an application needs.

Read through the Host and the hardened XML parser: connection strings (passwords masked and
listed as secrets), appSettings (secret-named values masked), the target framework, the
authentication the application asks for, WCF bindings, encrypted sections. External files a
section points to (``configSource``, appSettings ``file``) are read in turn. A file that is
missing, hostile or broken is a finding, never an exception.
"""

from __future__ import annotations

import ntpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlsplit

from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import MASK, env_var_for, is_secret_name
from a2c.analyzers.dotnet import connstrings
from a2c.analyzers.dotnet.winpaths import host_path_for, windows_join
from a2c.analyzers.common.dependencies import dependency
from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import Finding

if TYPE_CHECKING:  # annotations only; lxml is imported when XML is parsed
    from lxml import etree

MAX_CONFIG_BYTES = 4 * 1024 * 1024
_PLACEHOLDER = re.compile(r"^\$\{[^}]*\}$")


@dataclass
class ConfigFacts:
    """What one configuration file (and the files its sections point to) says."""

    path: str  # Windows path of the main file
    exists: bool = False
    files: list[str] = field(default_factory=list)  # the main file and every external section file read
    connection_strings: list[dict[str, Any]] = field(default_factory=list)
    app_settings: dict[str, str] = field(default_factory=dict)  # secret values masked
    secrets: list[dict[str, Any]] = field(default_factory=list)
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    target_framework: str = ""
    supported_runtimes: list[str] = field(default_factory=list)
    authentication_mode: str = ""
    windows_authentication: bool = False
    anonymous_authentication: bool | None = None
    basic_authentication: bool = False
    wcf_bindings: list[str] = field(default_factory=list)
    web_sockets: bool = False
    ip_security: bool = False
    url_rewrite: bool = False
    encrypted_sections: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def uses_windows_auth(self) -> bool:
        return self.windows_authentication or self.authentication_mode.lower() == "windows"

    def report_lines(self) -> list[tuple[str, int, str]]:
        """(file, line, masked connection string) for App2Container's report.txt."""
        return [(c["foundIn"], c["line"], c["connectionString"]) for c in self.connection_strings]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "files": list(self.files),
            "targetFramework": self.target_framework,
            "supportedRuntimes": list(self.supported_runtimes),
            "authenticationMode": self.authentication_mode,
            "windowsAuthentication": self.windows_authentication,
            "connectionStrings": list(self.connection_strings),
            "appSettings": dict(self.app_settings),
            "wcfBindings": list(self.wcf_bindings),
            "encryptedSections": list(self.encrypted_sections),
        }


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if local_name(c) == name]


def _find(root: etree._Element, *path: str) -> list[etree._Element]:
    """Elements at a path of local names below ``root`` (every match, at any location section)."""
    current = [root]
    for name in path:
        current = [c for element in current for c in _children(element, name)]
    return current


def parse_file(host: Host, windows_path: str, findings: list[Finding]) -> etree._Element | None:
    """A configuration file's root element, or None with a finding (missing files give none)."""
    host_path = host_path_for(host, windows_path)
    if not host_path or not host.is_file(host_path):
        return None
    try:
        return parse_xml(host.read_bytes(host_path, limit=MAX_CONFIG_BYTES), windows_path)
    except UnsafeXML as exc:
        findings.append(Finding("DOTNET-E001", "error", f"{exc.message}; its settings are not analyzed", windows_path))
    except HostError as exc:
        findings.append(Finding("DOTNET-W001", "warning", f"configuration file not read: {exc.message}", windows_path))
    return None


def secret_env_var(name: str, env_prefix: str) -> str:
    return env_var_for(f"{env_prefix}.{name}" if env_prefix else name)


def read_config(host: Host, windows_path: str, *, env_prefix: str = "") -> ConfigFacts:
    """Everything a2c reads from one .NET configuration file."""
    facts = ConfigFacts(windows_path)
    root = parse_file(host, windows_path, facts.findings)
    host_path = host_path_for(host, windows_path)
    facts.exists = bool(host_path) and host.is_file(host_path)
    if root is None:
        return facts
    facts.files.append(windows_path)
    folder = ntpath.dirname(windows_path)

    for section in _sections(root, "connectionStrings"):
        target = _external(host, section, "configSource", folder, facts)
        for element, file in target:
            _connection_strings(element, file, facts, env_prefix)
    for section in _sections(root, "appSettings"):
        for element, file in _external(host, section, "configSource", folder, facts):
            for extra, extra_file in _external(host, element, "file", folder, facts, keep_section=False):
                _app_settings(extra, extra_file, facts, env_prefix)
            _app_settings(element, file, facts, env_prefix)

    for compilation in _find_any(root, "system.web", "compilation"):
        facts.target_framework = compilation.get("targetFramework", facts.target_framework)
    for runtime in _find_any(root, "system.web", "httpRuntime"):
        facts.target_framework = facts.target_framework or runtime.get("targetFramework", "")
    for authentication in _find_any(root, "system.web", "authentication"):
        facts.authentication_mode = authentication.get("mode", facts.authentication_mode)
    auth_path = ("system.webServer", "security", "authentication")
    for element in _find_any(root, *auth_path, "windowsAuthentication"):
        facts.windows_authentication = facts.windows_authentication or bool(_bool(element.get("enabled")))
    for element in _find_any(root, *auth_path, "anonymousAuthentication"):
        facts.anonymous_authentication = _bool(element.get("enabled"))
    for element in _find_any(root, *auth_path, "basicAuthentication"):
        facts.basic_authentication = facts.basic_authentication or bool(_bool(element.get("enabled")))
    facts.web_sockets = any(_bool(e.get("enabled")) for e in _find_any(root, "system.webServer", "webSocket"))
    facts.ip_security = bool(_find_any(root, "system.webServer", "security", "ipSecurity"))
    facts.url_rewrite = bool(_find_any(root, "system.webServer", "rewrite"))
    for startup in _find_any(root, "startup", "supportedRuntime"):
        facts.supported_runtimes.append(startup.get("version", ""))
        facts.target_framework = facts.target_framework or startup.get("sku", "").rpartition("Version=")[2]
    facts.wcf_bindings = sorted({element.get("binding", "") for element in _find_any(
        root, "system.serviceModel", "services", "service", "endpoint") if element.get("binding")} | {
        local_name(element) for element in _find_any(root, "system.serviceModel", "bindings") for element in element
        if isinstance(element.tag, str)})
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("configProtectionProvider"):
            facts.encrypted_sections.append(local_name(element))
            facts.findings.append(Finding(
                "DOTNET-W002", "warning",
                f"section <{local_name(element)}> is encrypted with {element.get('configProtectionProvider')}, a key of "
                "the source machine: the container cannot decrypt it; decrypt it on the host (aspnet_regiis -pd) and "
                "analyze again, or supply the section at run time", windows_path))
    return facts


def _find_any(root: etree._Element, *path: str) -> list[etree._Element]:
    """Elements at ``path`` from the root and from every <location> section."""
    return _find(root, *path) + [e for location in _children(root, "location") for e in _find(location, *path)]


def _sections(root: etree._Element, name: str) -> list[etree._Element]:
    return _find_any(root, name) if local_name(root) == "configuration" else ([root] if local_name(root) == name else [])


def _external(host: Host, section: etree._Element, attribute: str, folder: str, facts: ConfigFacts,
              keep_section: bool = True) -> list[tuple[etree._Element, str]]:
    """The section itself, or the element of the file its attribute names (read relative to the config)."""
    source = section.get(attribute, "")
    own = [(section, facts.path)] if keep_section else []
    if not source:
        return own
    path = windows_join(folder, source)
    root = parse_file(host, path, facts.findings)
    if root is None:
        facts.findings.append(Finding("DOTNET-W003", "warning", f"<{local_name(section)} {attribute}=\"{source}\"> names "
                                      "a file that is missing or unreadable", facts.path))
        return own if attribute == "file" else []
    facts.files.append(path)
    if attribute == "file":
        return [(root, path)] + own
    return [(root, path)]


def _connection_strings(section: etree._Element, file: str, facts: ConfigFacts, env_prefix: str) -> None:
    for element in section:
        if local_name(element) != "add" or not element.get("name"):
            continue
        name, text, provider = element.get("name", ""), element.get("connectionString", ""), element.get("providerName", "")
        line = element.sourceline or 0
        dep = connstrings.connection_dependency(name, text, provider, file, line)
        facts.dependencies.append(dep)
        entry = {"name": name, "providerName": provider, "connectionString": connstrings.mask_connection_string(text),
                 "vendor": dep["vendor"], "host": dep["host"], "port": dep["port"], "database": dep["database"],
                 "integratedSecurity": dep["integratedSecurity"], "foundIn": file, "line": line}
        facts.connection_strings.append(entry)
        if connstrings.password_parts(text):
            secret_name = f"{name}.Password"
            env_var = secret_env_var(secret_name, env_prefix)
            _, form = connstrings.template_connection_string(text, env_var)
            facts.secrets.append({"name": secret_name, "foundIn": file, "envVar": env_var, "line": line,
                                  "format": form, "element": "connectionString", "key": name})
        if dep["integratedSecurity"]:
            facts.findings.append(Finding(
                "DOTNET-W004", "warning",
                f"connection string {name} uses Integrated Security (Windows authentication to {dep['host'] or 'the database'}): "
                "the container needs a gMSA (group Managed Service Account) credential spec to authenticate", file))
        parsed = connstrings.parse_connection(text, provider)
        if parsed["local"]:
            facts.findings.append(Finding(
                "DOTNET-W005", "warning",
                f"connection string {name} points at this machine ({parsed['host']}); inside a container that is the "
                "container itself: point it at the database server's name", file))


def _app_settings(section: etree._Element, file: str, facts: ConfigFacts, env_prefix: str) -> None:
    for element in section:
        if local_name(element) != "add" or element.get("key") is None:
            continue
        key, value = element.get("key", ""), element.get("value", "")
        line = element.sourceline or 0
        secret = is_secret_name(key) and bool(value.strip()) and not _PLACEHOLDER.match(value.strip())
        if connstrings.looks_like_connection_string(value):
            dep = connstrings.connection_dependency(key, value, "", file, line)
            facts.dependencies.append(dep)
            facts.connection_strings.append({
                "name": key, "providerName": "", "connectionString": connstrings.mask_connection_string(value),
                "vendor": dep["vendor"], "host": dep["host"], "port": dep["port"], "database": dep["database"],
                "integratedSecurity": dep["integratedSecurity"], "foundIn": file, "line": line, "appSetting": True})
            if connstrings.password_parts(value) and not secret:
                env_var = secret_env_var(f"{key}.Password", env_prefix)
                _, form = connstrings.template_connection_string(value, env_var)
                facts.secrets.append({"name": f"{key}.Password", "foundIn": file, "envVar": env_var, "line": line,
                                      "format": form, "element": "appSettingConnectionString", "key": key})
            facts.app_settings[key] = connstrings.mask_connection_string(value) if not secret else MASK
        else:
            facts.app_settings[key] = MASK if secret else value
            url = _url_dependency(key, value, file)
            if url is not None:
                facts.dependencies.append(url)
        if secret:
            env_var = secret_env_var(key, env_prefix)
            facts.secrets.append({"name": key, "foundIn": file, "envVar": env_var, "line": line, "format": "text",
                                  "element": "appSetting", "key": key})


def _url_dependency(key: str, value: str, file: str) -> dict[str, Any] | None:
    value = value.strip()
    if not value.lower().startswith(("http://", "https://", "net.tcp://")):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port or {"http": 80, "https": 443, "net.tcp": 808}.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    masked = re.sub(r"(//[^/@:]+):[^/@]+@", r"\1:****@", value)
    return dependency(parts.scheme.lower(), file, url=masked, host=parts.hostname, port=port, name=key)


def template_config(data: bytes, path: str, secrets: Iterable[dict[str, Any]]) -> bytes:
    """The file with each listed secret replaced by its ``${A2C_SECRET_…}`` placeholder.

    Secrets are matched by element line and key, so a key defined twice is templated where the
    analysis saw it. Raises UnsafeXML for a file that does not parse (it is then not copied).
    """
    wanted = {(int(s.get("line", 0)), s.get("key", "")): s for s in secrets}
    root = parse_xml(data, path)
    for element in root.iter():
        if not isinstance(element.tag, str) or local_name(element) != "add":
            continue
        parent = element.getparent()
        section = local_name(parent) if parent is not None else ""
        key = element.get("name", "") if section == "connectionStrings" else element.get("key", "")
        secret = wanted.get((element.sourceline or 0, key))
        if secret is None:
            continue
        placeholder = "${" + secret["envVar"] + "}"
        if section == "connectionStrings" or secret.get("element") == "appSettingConnectionString":
            attribute = "connectionString" if section == "connectionStrings" else "value"
            templated, _ = connstrings.template_connection_string(element.get(attribute, ""), secret["envVar"])
            element.set(attribute, templated)
        else:
            element.set("value", placeholder)
    return serialize_config(root)


def serialize_config(root: etree._Element) -> bytes:
    """UTF-8 XML with the comments around the root element kept on their own lines."""
    before: list[etree._Element] = []
    node = root.getprevious()
    while node is not None:
        before.insert(0, node)
        node = node.getprevious()
    after: list[etree._Element] = []
    node = root.getnext()
    while node is not None:
        after.append(node)
        node = node.getnext()
    if not before and not after:
        return serialize_xml(root)
    from lxml import etree

    parts = [etree.tostring(n, encoding="unicode", with_tail=False) for n in before + [root] + after]
    return ("<?xml version='1.0' encoding='UTF-8'?>\n" + "\n".join(parts) + "\n").encode("utf-8")
