"""Outbound dependencies of a Java application: databases, caches, brokers and other services.

Found in JDBC URLs and service properties in the application's configuration, in JNDI
resources, and in the process's established connections. Each dependency says where it was
found, so an operator can check it and plan the network path from the container.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from a2c.analyzers.common.secrets import mask_value
from a2c.model import ProcessInfo

# Well-known ports, for connections seen on the wire without any configuration to name them.
WELL_KNOWN_PORTS = {
    5432: "postgresql", 3306: "mysql", 1521: "oracle", 1433: "sqlserver", 50000: "db2", 6379: "redis",
    5672: "amqp", 5671: "amqp", 9092: "kafka", 27017: "mongodb", 11211: "memcached", 389: "ldap", 636: "ldaps",
    61616: "activemq", 9200: "elasticsearch", 8500: "consul", 2181: "zookeeper", 25: "smtp", 587: "smtp",
}

JDBC_IN_TEXT = re.compile(r"jdbc:[a-zA-Z0-9]+:[^\s\"'<>;,]+(?:;[^\s\"'<>]*)?")

_JDBC_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "oracle": 1521, "sqlserver": 1433,
               "jtds": 1433, "h2": 9092, "db2": 50000, "hsqldb": 9001, "derby": 1527}
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "oracle": 1521, "sqlserver": 1433,
                  "db2": 50000, "redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671, "mongodb": 27017,
                  "http": 80, "https": 443, "ldap": 389, "ldaps": 636}


def dependency(kind: str, found_in: str, *, url: str = "", host: str = "", port: int = 0, name: str = "",
               **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": kind, "host": host, "port": port, "foundIn": found_in}
    if url:
        entry["url"] = url
    if name:
        entry["name"] = name
    entry.update(extra)
    return entry


def parse_jdbc_url(url: str) -> dict[str, Any]:
    parsed = _parse_jdbc_target(url)
    parsed["database"] = _jdbc_database(url, parsed)
    return parsed


def _jdbc_database(url: str, parsed: Mapping[str, Any]) -> str:
    rest = url[5:] if url.lower().startswith("jdbc:") else url
    if parsed["kind"] == "embedded":
        return rest.split(":", 1)[-1]
    named = re.search(r"(?i)(?:databaseName|database)\s*=\s*([^;&]+)", rest)
    if named:
        return named.group(1).strip()
    if parsed["vendor"] == "oracle":
        match = re.search(r"@(?://)?[^:/]+(?::[0-9]+)?[:/]([\w.$-]+)", rest) or re.search(r"(?i)SERVICE_NAME\s*=\s*([^)\s]+)", rest)
        return match.group(1) if match else ""
    match = re.search(r"//[^/]+/([^?;]*)", rest)
    return match.group(1) if match else ""


def _parse_jdbc_target(url: str) -> dict[str, Any]:
    """kind ("jdbc", or "embedded" for in-process databases), vendor, host and port of a JDBC URL.

    Covers h2/hsqldb/derby (TCP servers are real dependencies, mem/file ones are embedded),
    Oracle thin (SID, //service, DESCRIPTION, TNS aliases with no host to name), SQL Server
    (instances, serverName=), MySQL ``address=(host=…)``, ``jdbc:postgresql:db`` (localhost)."""
    lowered = url.lower()
    if not lowered.startswith("jdbc:"):
        return {"kind": "jdbc", "vendor": "", "host": "", "port": 0}
    rest = url[5:]
    sub = rest.split(":", 1)[0].lower()
    default_port = _JDBC_PORTS.get(sub, 0)
    if sub in ("h2", "hsqldb", "derby"):
        match = re.match(r"(?i)[a-z0-9]+:(?:hsql|hsqls|http|https|tcp|ssl)?:?//(\[[^\]]+\]|[^:/;]+)(?::([0-9]+))?", rest)
        if not match:
            return {"kind": "embedded", "vendor": sub, "host": "", "port": 0}
        return {"kind": "jdbc", "vendor": sub, "host": match.group(1), "port": _port(match.group(2) or "", default_port)}
    if sub == "oracle":
        described = re.search(r"(?i)\(\s*HOST\s*=\s*([^)\s]+)\s*\)", rest)
        if described:
            port = re.search(r"(?i)\(\s*PORT\s*=\s*([0-9]+)\s*\)", rest)
            return {"kind": "jdbc", "vendor": sub, "host": described.group(1), "port": _port(port.group(1), default_port) if port else default_port}
        target = rest.split("@", 1)[1].lstrip("/") if "@" in rest else ""
        if ":" not in target and "/" not in target:
            return {"kind": "jdbc", "vendor": sub, "host": "", "port": 0}  # a TNS alias: the address is in tnsnames.ora
        match = re.match(r"(\[[^\]]+\]|[^:/?]+)(?::([0-9]+))?", target)
        return {"kind": "jdbc", "vendor": sub, "host": match.group(1) if match else "",
                "port": _port(match.group(2), default_port) if match and match.group(2) else default_port}
    if sub == "sqlserver":
        match = re.match(r"(?i)sqlserver://([^;:\\/]*)(?:\\[^;:]*)?(?::([0-9]+))?", rest)
        server = match.group(1) if match else ""
        if not server:
            named = re.search(r"(?i);\s*serverName\s*=\s*([^;]+)", rest)
            server = named.group(1).strip() if named else ""
        return {"kind": "jdbc", "vendor": sub, "host": server, "port": _port(match.group(2), default_port) if match and match.group(2) else default_port}
    address = re.search(r"(?i)\(\s*host\s*=\s*([^)]+)\)", rest)
    if address:
        port = re.search(r"(?i)\(\s*port\s*=\s*([0-9]+)\)", rest)
        return {"kind": "jdbc", "vendor": sub, "host": address.group(1).strip(), "port": _port(port.group(1), default_port) if port else default_port}
    match = re.search(r"//(?:[^@/]*@)?(\[[^\]]+\]|[^:/,;?]+)(?::([0-9]+))?", rest)
    if match:
        return {"kind": "jdbc", "vendor": sub, "host": match.group(1), "port": _port(match.group(2) or "", default_port)}
    if sub == "postgresql":
        return {"kind": "jdbc", "vendor": sub, "host": "localhost", "port": default_port}  # jdbc:postgresql:database
    return {"kind": "jdbc", "vendor": sub, "host": "", "port": 0}


def jdbc_dependency(url: str, found_in: str, name: str = "") -> dict[str, Any]:
    parsed = parse_jdbc_url(url)
    return dependency(parsed["kind"], found_in, url=mask_url(url), host=mask_value(parsed["host"]), port=parsed["port"],
                      name=name, vendor=parsed["vendor"], database=mask_value(parsed["database"]))


def mask_url(url: str) -> str:
    """A URL without credentials: ``user:password@``, Oracle's ``user/password@``, ``password=``,
    ``passwd=`` and ``pwd=`` parameters (every shape secrets knows) masked, the rest kept."""
    return mask_value(url)


def _port(text: str, default: int) -> int:
    """A port written in ASCII digits ("²" passes str.isdigit() but int() refuses it)."""
    text = str(text).strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else default


def _url_dependency(kind: str, value: str, found_in: str, name: str) -> dict[str, Any] | None:
    try:
        parts = urlsplit(value)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return dependency(kind, found_in, url=mask_url(value), host=parts.hostname, port=port, name=name)


def _host_ports(value: str, default_port: int) -> list[tuple[str, int]]:
    pairs = []
    for item in re.split(r"[,\s]+", value.strip()):
        if not item:
            continue
        item = item.split("://", 1)[-1].split("/", 1)[0]
        item = item.rpartition("@")[2]  # user:password@ is who connects, not where
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        pairs.append((host, _port(port, default_port)))
    return pairs


def from_properties(values: Mapping[str, str], found_in: str) -> list[dict[str, Any]]:
    """Spring-style service properties and any JDBC/Mongo/Redis/AMQP URL value."""
    deps: list[dict[str, Any]] = []
    seen: set[tuple[str, str, int]] = set()

    def add(dep: dict[str, Any] | None) -> None:
        if dep is not None and (dep["kind"], dep["host"], dep["port"]) not in seen:
            seen.add((dep["kind"], dep["host"], dep["port"]))
            deps.append(dep)

    lowered = {k.lower().replace("-", "").replace("_", ""): v for k, v in values.items()}
    for key, value in values.items():
        value = str(value).strip()
        if value.lower().startswith("jdbc:"):
            add(jdbc_dependency(value, found_in, name=key))
        elif value.startswith(("mongodb://", "mongodb+srv://")):
            add(_url_dependency("mongodb", value, found_in, key))
        elif value.startswith(("redis://", "rediss://")):
            add(_url_dependency("redis", value, found_in, key))
        elif value.startswith(("amqp://", "amqps://")):
            add(_url_dependency("amqp", value, found_in, key))
    for prefix in ("spring.redis.", "spring.data.redis."):
        host = lowered.get(prefix.replace("-", "") + "host")
        if host:
            port = lowered.get(prefix + "port", "6379")
            add(dependency("redis", found_in, host=host, port=_port(port, 6379), name=prefix + "host"))
    host = lowered.get("spring.rabbitmq.host")
    if host:
        port = lowered.get("spring.rabbitmq.port", "5672")
        add(dependency("amqp", found_in, host=host, port=_port(port, 5672), name="spring.rabbitmq.host"))
    addresses = lowered.get("spring.rabbitmq.addresses")
    if addresses:
        for address, number in _host_ports(addresses, 5672):
            add(dependency("amqp", found_in, host=address, port=number, name="spring.rabbitmq.addresses"))
    for key in ("spring.kafka.bootstrapservers", "kafka.bootstrap.servers", "bootstrap.servers"):
        servers = lowered.get(key.replace("-", "").replace("_", ""))
        if servers:
            for address, number in _host_ports(servers, 9092):
                add(dependency("kafka", found_in, host=address, port=number, name=key))
    host = lowered.get("spring.data.mongodb.host")
    if host:
        port = lowered.get("spring.data.mongodb.port", "27017")
        add(dependency("mongodb", found_in, host=host, port=_port(port, 27017),
                       name="spring.data.mongodb.host"))
    return deps


def from_text(text: str, found_in: str) -> list[dict[str, Any]]:
    """JDBC URLs anywhere in a config file's text."""
    return [jdbc_dependency(match.group(0).rstrip(".)"), found_in) for match in JDBC_IN_TEXT.finditer(text)]


def from_connections(proc: ProcessInfo) -> list[dict[str, Any]]:
    """Established outbound connections (not to the process's own listening ports)."""
    own = {s.port for s in proc.listening}
    deps = []
    seen: set[tuple[str, int]] = set()
    for conn in proc.connections:
        if conn.local_port in own or (conn.remote_address, conn.remote_port) in seen:
            continue
        seen.add((conn.remote_address, conn.remote_port))
        address = conn.remote_address.removeprefix("::ffff:")
        deps.append(dependency(WELL_KNOWN_PORTS.get(conn.remote_port, "tcp"), "established connection",
                               host=address, port=conn.remote_port))
    return deps


def merge(groups: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One entry per (kind, host, port, found in); configuration before connections."""
    merged: list[dict[str, Any]] = []
    seen: set[tuple[str, str, int, str]] = set()
    for group in groups:
        for dep in group:
            key = (dep["kind"], dep["host"], dep["port"], dep["foundIn"])
            if key not in seen:
                seen.add(key)
                merged.append(dep)
    configured = {(d["host"], d["port"]) for d in merged if d["foundIn"] != "established connection"}
    return [d for d in merged if d["foundIn"] != "established connection" or (d["host"], d["port"]) not in configured]
