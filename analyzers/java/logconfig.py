"""Where a Java application writes its logs, from its logging configuration.

Reads log4j 2 (XML, properties), log4j 1.x (properties, XML), Logback and java.util.logging
configurations. In the image, each fixed log file becomes a link to the container's stdout,
where the platform (CloudWatch Logs, FireLens) collects it.
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterable, Mapping

from a2c.analyzers.common.properties import parse_properties
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text

LOG_CONFIG_NAMES = ("log4j2.xml", "log4j2-spring.xml", "log4j2.properties", "log4j.properties", "log4j.xml",
                    "logback.xml", "logback-spring.xml", "logging.properties")
_VARIABLE = re.compile(r"\$\{(?:sys:|env:)?([^}:]+)(?::-?([^}]*))?\}")


def resolve(value: str, props: Mapping[str, str]) -> str:
    """${sys:catalina.base}, ${catalina.base}, ${LOG_DIR:-/var/log/app} from system properties and defaults;
    '' when something stays unresolved."""
    resolved = _VARIABLE.sub(lambda m: props.get(m.group(1), m.group(2) or "\0"), value.strip())
    return "" if "\0" in resolved or "$" in resolved else resolved


def log_files(path: str, data: bytes, props: Mapping[str, str]) -> list[str]:
    """Absolute log file paths a logging configuration names ([] when none or unreadable)."""
    name = posixpath.basename(path).lower()
    found: list[str] = []
    if name.endswith(".xml"):
        try:
            root = parse_xml(data, path)
        except UnsafeXML:
            return []
        for element in root.iter():
            tag = local_name(element)
            if tag in ("File", "RollingFile", "RandomAccessFile", "RollingRandomAccessFile") and element.get("fileName"):
                found.append(element.get("fileName", ""))
            elif tag == "file" and element.text:  # logback
                found.append(element.text)
            elif tag == "param" and (element.get("name") or "").lower() == "file" and element.get("value"):
                found.append(element.get("value", ""))  # log4j 1.x XML
    else:
        values = parse_properties(decode_text(data))
        for key, value in values.items():
            lowered = key.lower()
            if lowered.endswith(".filename") or (lowered.startswith("log4j.appender.") and lowered.endswith(".file")):
                found.append(value)
            elif lowered == "java.util.logging.filehandler.pattern":
                found.append(value.replace("%h", props.get("user.home", "")).replace("%t", props.get("java.io.tmpdir", "/tmp"))
                             .replace("%g", "0").replace("%u", "0"))
            elif lowered.endswith(".directory") and "filehandler" in lowered:  # Tomcat's JULI
                prefix = values.get(key[: -len("directory")] + "prefix", "")
                found.append(posixpath.join(value, prefix + "*") if prefix else value)
    resolved = [resolve(v, props) for v in found]
    return list(dict.fromkeys(r for r in resolved if r.startswith("/")))


def log_locations(host: Host, config_paths: Iterable[str], props: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(log locations, the logging configuration files they came from)."""
    locations: list[str] = []
    configs: list[str] = []
    for path in config_paths:
        if posixpath.basename(path).lower() not in LOG_CONFIG_NAMES:
            continue
        try:
            data = host.read_bytes(path, limit=1024 * 1024)
        except HostError:
            continue
        files = log_files(path, data, props)
        if files:
            configs.append(path)
            locations += files
    return list(dict.fromkeys(locations)), configs


def stdout_links(locations: Iterable[str]) -> dict[str, str]:
    """Fixed log files (no wildcard, no rotation pattern) to link to the container's stdout."""
    return {path: "/dev/stdout" for path in locations
            if "*" not in path and "%" not in path and posixpath.splitext(path)[1] in (".log", ".txt", ".out")}
