"""Connection strings and secrets of a .NET (Core) app: outbound dependencies, masking, templating.

Connection strings come in three shapes: ADO.NET ``key=value;`` pairs (SQL Server, Npgsql,
MySQL, Oracle, SQLite), StackExchange.Redis ``host:port,option=value`` lists, and URLs
(``mongodb://user:pass@host``). Each yields an outbound dependency (kind, host, port, database)
and the spans of its passwords, so a password is masked or replaced where it stands and the
rest of the string is what the application had.

A JSON settings file that holds a secret goes into the image with the secret replaced by
``${A2C_SECRET_…}`` (only the password inside a connection string, or the whole value of a
secret-named key such as ``Jwt:SigningKey``); the entry script fills it in from the
environment when the container starts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from a2c.analyzers.common.numbers import ascii_int
from a2c.analyzers.common.secrets import MASK, env_var_for, is_secret_name
from a2c.analyzers.dotnet.connstrings import split_connection_string
from a2c.analyzers.dotnet.coreconfig import JsonConfigError, parse_json
from a2c.analyzers.common.configsecrets import is_secret_section, secret_under_section
from a2c.analyzers.common.dependencies import dependency

HOST_KEYS = ("server", "data source", "datasource", "host", "address", "addr", "network address")
DATABASE_KEYS = ("initial catalog", "database")
USER_KEYS = ("user id", "userid", "uid", "user", "username", "user name")
PASSWORD_KEYS = ("password", "pwd")
SQLSERVER_HINTS = ("initial catalog", "integrated security", "trusted_connection", "multipleactiveresultsets",
                   "trustservercertificate", "encrypt", "application name", "connect timeout", "persist security info")
DEFAULT_PORTS = {"sqlserver": 1433, "postgresql": 5432, "mysql": 3306, "oracle": 1521, "redis": 6379,
                 "mongodb": 27017, "amqp": 5672, "amqps": 5671}
LOCAL_SERVERS = {".", "(local)", "localhost"}
_URL_SCHEMES = {"mongodb": "mongodb", "mongodb+srv": "mongodb", "redis": "redis", "rediss": "redis",
                "amqp": "amqp", "amqps": "amqp", "postgres": "postgresql", "postgresql": "postgresql",
                "mysql": "mysql", "http": "http", "https": "https"}
_PLACEHOLDER = re.compile(r"^\$\{[^}]*\}$")


@dataclass(frozen=True)
class ConnPart:
    key: str  # lower case, inner spaces collapsed: "user id"
    value: str  # unquoted
    start: int  # span of the raw value (quotes included) in the connection string
    end: int


def split_ado(text: str) -> list[ConnPart]:
    """ADO.NET pairs with normalised keys, from the one connection-string tokenizer (connstrings)."""
    return [ConnPart(part.name, part.value, part.start, part.end) for part in split_connection_string(text)]


def _is_ado(text: str) -> bool:
    parts = split_ado(text)
    known = set(HOST_KEYS + DATABASE_KEYS + USER_KEYS + PASSWORD_KEYS + SQLSERVER_HINTS + ("port",))
    return any(p.key in known for p in parts)


def _redis_parts(text: str) -> tuple[list[str], list[ConnPart]] | None:
    """StackExchange.Redis: ``host:port,host2,password=…,ssl=true``; None when it is not that shape."""
    if ";" in text or "://" in text:
        return None
    endpoints: list[str] = []
    options: list[ConnPart] = []
    pos = 0
    for item in text.split(","):
        start = pos
        pos += len(item) + 1
        stripped = item.strip()
        if not stripped:
            continue
        key, sep, value = stripped.partition("=")
        if sep:
            value_start = start + item.index("=") + 1
            options.append(ConnPart(key.strip().lower(), value, value_start, value_start + len(value)))
        elif re.fullmatch(r"[A-Za-z0-9_.\-\[\]:]+", stripped):
            endpoints.append(stripped)
        else:
            return None
    return (endpoints, options) if endpoints else None


def _url_password_span(text: str) -> tuple[int, int] | None:
    match = re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/@:]*:([^/@]+)@", text)
    if not match or _PLACEHOLDER.match(match.group(1)):  # ${A2C_SECRET_…}: templated already
        return None
    return (match.start(1), match.end(1))


def password_spans(text: str) -> list[tuple[int, int]]:
    """Where the passwords of a connection string (any of the three shapes) stand in it."""
    if not text or _PLACEHOLDER.match(text):
        return []
    span = _url_password_span(text)
    if span:
        return [span]
    redis = _redis_parts(text)
    if redis is not None:
        return [(p.start, p.end) for p in redis[1] if p.key == "password" and p.value]
    if "=" not in text or not _is_ado(text):
        return []
    spans = []
    for part in split_ado(text):
        if part.key in PASSWORD_KEYS and part.value and not _PLACEHOLDER.match(part.value):
            quoted = text[part.start] in "\"'" and part.end - part.start >= 2
            spans.append((part.start + 1, part.end - 1) if quoted else (part.start, part.end))
    return spans


def replace_spans(text: str, spans: Iterable[tuple[int, int]], replacements: Iterable[str]) -> str:
    pairs = sorted(zip(spans, replacements), key=lambda pair: pair[0][0], reverse=True)
    for (start, end), new in pairs:
        text = text[:start] + new + text[end:]
    return text


def mask_connection_string(text: str) -> str:
    spans = password_spans(text)
    return replace_spans(text, spans, [MASK] * len(spans))


# -- outbound dependencies ------------------------------------------------------------------------

def _vendor(keys: dict[str, str]) -> str:
    host = next((keys[k] for k in HOST_KEYS if k in keys), "")
    port = keys.get("port", "")
    if port == "5432":
        return "postgresql"
    if port == "3306":
        return "mysql"
    if "host" in keys and not any(k in keys for k in SQLSERVER_HINTS):
        return "postgresql"  # Npgsql's spelling
    if any(k in keys for k in SQLSERVER_HINTS) or host.lower().startswith(("tcp:", "np:", "lpc:")) or "," in host \
            or "\\" in host:
        return "sqlserver"
    data_source = keys.get("data source") or keys.get("datasource") or ""
    if data_source:
        lowered = data_source.lower()
        if lowered == ":memory:" or lowered.endswith((".db", ".sqlite", ".sqlite3", ".db3")) or (
                "/" in lowered and not re.match(r"^[^/]+:\d+/", lowered)):
            return "sqlite"
        if "(description" in lowered or re.match(r"^[^/\\,]+:\d+/", lowered):
            return "oracle"
        return "sqlserver"
    if "server" in keys and ("port" in keys or "uid" in keys or "sslmode" in keys):
        return "mysql"
    return "sqlserver" if "server" in keys else ""


def _server_address(vendor: str, value: str, port_key: str) -> tuple[str, int, str]:
    """(host, port, instance) of a server value in the vendor's notation."""
    value = value.strip()
    default = DEFAULT_PORTS.get(vendor, 0)
    explicit = ascii_int(port_key)
    if vendor == "sqlserver":
        for prefix in ("tcp:", "np:", "lpc:", "admin:"):
            if value.lower().startswith(prefix):
                value = value[len(prefix):]
        host, _, port = value.partition(",")
        host, _, instance = host.partition("\\")
        host = "localhost" if host.strip().lower() in LOCAL_SERVERS else host.strip()
        port = port.strip()
        return host, ascii_int(port, explicit or default), instance
    if vendor == "oracle":
        match = re.search(r"\(HOST\s*=\s*([^)]+)\).*?\(PORT\s*=\s*([0-9]{1,9})\)", value, re.IGNORECASE)
        if match:
            return match.group(1).strip(), int(match.group(2)), ""
        match = re.match(r"^(?://)?([^:/]+)(?::([0-9]{1,9}))?", value)
        if match:
            return match.group(1), int(match.group(2) or explicit or default), ""
    first = value.split(",")[0].strip()  # Npgsql/MySQL take several hosts: the first one is enough
    host, sep, port = first.rpartition(":") if first.count(":") == 1 else (first, "", "")
    if not sep:
        host, port = first, ""
    return host, ascii_int(port, explicit or default), ""


def connection_dependencies(name: str, text: str, found_in: str) -> list[dict[str, Any]]:
    """The services one connection string points at (empty when it names none)."""
    masked = mask_connection_string(text)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", text):
        try:
            parts = urlsplit(text)
            scheme = parts.scheme.lower()
            port = parts.port or DEFAULT_PORTS.get(_URL_SCHEMES.get(scheme, ""), 0)
        except ValueError:
            return []
        if not parts.hostname:
            return []
        kind = _URL_SCHEMES.get(scheme, scheme)
        return [dependency(kind, found_in, host=parts.hostname, port=port, name=name, vendor=kind,
                           database=parts.path.strip("/"), connectionString=masked)]
    redis = _redis_parts(text)
    if redis is not None:
        deps = []
        for endpoint in redis[0]:
            host, _, number = endpoint.rpartition(":") if ":" in endpoint else (endpoint, "", "")
            deps.append(dependency("redis", found_in, host=host, port=ascii_int(number, 6379),
                                   name=name, vendor="redis", database="", connectionString=masked))
        return deps
    keys = {p.key: p.value for p in split_ado(text)}
    vendor = _vendor(keys)
    if not vendor:
        return []
    database = next((keys[k] for k in DATABASE_KEYS if k in keys), "")
    server = next((keys[k] for k in HOST_KEYS if k in keys), "")
    if vendor == "sqlite":
        return [dependency("embedded", found_in, name=name, vendor="sqlite", database=server, connectionString=masked)]
    if vendor == "sqlserver" and server.lower().startswith("(localdb)"):
        return [dependency("embedded", found_in, name=name, vendor="sqlserver-localdb", database=database,
                           connectionString=masked)]
    host, port, instance = _server_address(vendor, server, keys.get("port", ""))
    if not host:
        return []
    extra: dict[str, Any] = {"instance": instance} if instance else {}
    return [dependency(vendor, found_in, host=host, port=port, name=name, vendor=vendor, database=database,
                       connectionString=masked, **extra)]


# -- secrets in JSON settings ---------------------------------------------------------------------

@dataclass(frozen=True)
class JsonSecret:
    path: str  # the file
    name: str  # "ConnectionStrings:Default:Password" or "Jwt:SigningKey"
    env_var: str
    line: int
    key: str  # the configuration key whose value holds it
    span: tuple[int, int] | None = None  # inside the value; None: the whole value

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "foundIn": self.path, "envVar": self.env_var, "line": self.line}


def secrets_in_value(key: str, value: str) -> list[tuple[str, tuple[int, int] | None]]:
    """(secret name, span or None for the whole value) for one configuration value.

    The whole value is a secret when its key is secret-named (``Jwt:SigningKey``) or when it sits
    under a secret-named section (``ApiKeys:Stripe``, ``Secrets:Db``, ``Credentials:0``); else
    only the passwords inside a connection string or URL are.
    """
    if not value or _PLACEHOLDER.match(value.strip()):
        return []
    spans = password_spans(value)
    if spans:
        return [(f"{key}:Password" if index == 0 else f"{key}:Password{index + 1}", span)
                for index, span in enumerate(spans)]
    sections = key.split(":")
    last = sections[-1]
    if is_secret_name(last) and not last.isdigit():
        return [(key, None)]
    if any(is_secret_section(s) for s in sections[:-1]) and secret_under_section(last):
        return [(key, None)]
    return []


def json_secrets(path: str, text: str) -> list[JsonSecret]:
    """Secrets in one JSON settings file (JsonConfigError when it is not JSON)."""
    _, strings = parse_json(text)
    found = []
    for item in strings:
        for name, span in secrets_in_value(item.key, item.value):
            found.append(JsonSecret(path, name, env_var_for(name), item.line, item.key, span))
    return found


def _decode(data: bytes) -> tuple[str, str, bytes]:
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    body = data[len(bom):]
    try:
        return body.decode("utf-8"), "utf-8", bom
    except UnicodeDecodeError:
        return body.decode("latin-1"), "latin-1", bom


def template_json(path: str, data: bytes, env_vars: Mapping[Any, str] | None = None) -> tuple[bytes, list[JsonSecret]]:
    """The file with every secret in it replaced by ``${ENV}``, and the secrets replaced.

    Secrets are found again in ``data`` (not taken from an older analysis), so a file edited
    since the analysis still leaves no secret in the image. ``env_vars`` maps a secret's name, or
    its (name, line), to the variable the analysis chose for it (the pair wins: two secrets of
    one name keep their own variables); new ones get the default name.
    """
    text, encoding, bom = _decode(data)
    _, strings = parse_json(text)
    chosen = env_vars or {}
    secrets: list[JsonSecret] = []
    edits: list[tuple[int, int, str]] = []
    for item in strings:
        found = secrets_in_value(item.key, item.value)
        if not found:
            continue
        value = item.value
        whole = [(name, span) for name, span in found if span is None]
        if whole:
            name = whole[0][0]
            env_var = chosen.get((name, item.line)) or chosen.get(name) or env_var_for(name)
            value = f"${{{env_var}}}"
            secrets.append(JsonSecret(path, name, env_var, item.line, item.key))
        else:
            names = [(name, span, chosen.get((name, item.line)) or chosen.get(name) or env_var_for(name))
                     for name, span in found if span]
            value = replace_spans(value, [s for _, s, _ in names], [f"${{{v}}}" for _, _, v in names])
            secrets += [JsonSecret(path, name, v, item.line, item.key, s) for name, s, v in names]
        edits.append((item.start, item.end, json.dumps(value, ensure_ascii=False)))
    for start, end, token in sorted(edits, reverse=True):
        text = text[:start] + token + text[end:]
    return bom + text.encode(encoding, "replace"), secrets


__all__ = ["JsonConfigError", "JsonSecret", "connection_dependencies", "json_secrets", "mask_connection_string",
           "password_spans", "template_json"]
