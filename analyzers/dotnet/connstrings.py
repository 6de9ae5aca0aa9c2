""".NET connection strings: parsed, masked, templated, and turned into outbound dependencies.

The grammar is ADO.NET's (``DbConnectionStringBuilder``): ``key=value`` pairs separated by
``;``, keys case-insensitive, ``==`` for a literal ``=`` in a key, values optionally quoted with
``"`` or ``'`` (the quote doubled inside), ODBC values in ``{…}``. Entity Framework strings
nest a whole provider connection string in one quoted value; it is parsed in turn.
Every part keeps its span in the original text, so a password is replaced where it stands and
the rest of the string stays byte for byte what the application had.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from a2c.analyzers.common.secrets import MASK, is_secret_name, mask_value
from a2c.analyzers.common.dependencies import dependency

SERVER_KEYS = ("server", "data source", "datasource", "address", "addr", "network address", "host", "hostname")
DATABASE_KEYS = ("initial catalog", "database", "db")
USER_KEYS = ("user id", "userid", "uid", "user", "username", "user name")
PASSWORD_KEYS = ("password", "pwd", "passwd")
INTEGRATED_KEYS = ("integrated security", "trusted_connection", "trusted connection")
NESTED_KEY = "provider connection string"
LOCAL_HOSTS = {".", "(local)", "local", "localhost", "127.0.0.1", "::1", "(localdb)"}
DEFAULT_PORTS = {"sqlserver": 1433, "mysql": 3306, "postgresql": 5432, "oracle": 1521}

_PROVIDERS = {
    "system.data.sqlclient": "sqlserver", "microsoft.data.sqlclient": "sqlserver",
    "mysql.data.mysqlclient": "mysql", "mysqlconnector": "mysql", "devart.data.mysql": "mysql",
    "npgsql": "postgresql",
    "oracle.manageddataaccess.client": "oracle", "oracle.dataaccess.client": "oracle", "system.data.oracleclient": "oracle",
    "system.data.sqlite": "embedded", "microsoft.data.sqlite": "embedded", "system.data.sqlserverce.4.0": "embedded",
}
_OLEDB_PROVIDERS = (("sqloledb", "sqlserver"), ("sqlncli", "sqlserver"), ("msoledbsql", "sqlserver"),
                    ("oraoledb", "oracle"), ("msdaora", "oracle"), ("microsoft.jet", "embedded"),
                    ("microsoft.ace", "embedded"), ("mysql", "mysql"), ("pgoledb", "postgresql"))
_ODBC_DRIVERS = (("sql server", "sqlserver"), ("sql native client", "sqlserver"), ("mysql", "mysql"),
                 ("postgres", "postgresql"), ("oracle", "oracle"), ("access", "embedded"), ("excel", "embedded"))
# What makes a value look like a connection string (appSettings values, report lines).
_LOOKS_LIKE = re.compile(r"(?:^|;)\s*(?:server|data source|host|address|initial catalog|database|provider|dsn|driver)\s*=",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    """One ``key=value`` pair: the key as written, the unquoted value, the raw value's span."""

    key: str
    value: str
    start: int
    end: int

    @property
    def name(self) -> str:
        return " ".join(self.key.lower().split())


def split_connection_string(text: str) -> list[Part]:
    """The pairs of a connection string in order; malformed pieces are skipped, never raised."""
    parts: list[Part] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] == ";"):
            i += 1
        if i >= n:
            break
        key_chars: list[str] = []
        while i < n:
            if text[i] == "=":
                if i + 1 < n and text[i + 1] == "=":
                    key_chars.append("=")
                    i += 2
                    continue
                break
            if text[i] == ";":
                break
            key_chars.append(text[i])
            i += 1
        if i >= n or text[i] != "=":
            continue  # a key without a value: skipped like the builder's lenient mode
        i += 1
        while i < n and text[i].isspace() and text[i] not in ";":
            i += 1
        start = i
        if i < n and text[i] in "\"'":
            quote = text[i]
            i += 1
            value_chars: list[str] = []
            while i < n:
                if text[i] == quote:
                    if i + 1 < n and text[i + 1] == quote:
                        value_chars.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                value_chars.append(text[i])
                i += 1
            value, end = "".join(value_chars), i
            while i < n and text[i] != ";":
                i += 1
        elif i < n and text[i] == "{":
            i += 1
            value_chars = []
            while i < n:
                if text[i] == "}":
                    if i + 1 < n and text[i + 1] == "}":
                        value_chars.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value_chars.append(text[i])
                i += 1
            value, end = "".join(value_chars), i
            while i < n and text[i] != ";":
                i += 1
        else:
            while i < n and text[i] != ";":
                i += 1
            end = i
            while end > start and text[end - 1].isspace():
                end -= 1
            value = text[start:end]
        key = "".join(key_chars).strip()
        if key:
            parts.append(Part(key, value, start, end))
    return parts


def values_of(text: str) -> dict[str, str]:
    """Lower-cased, space-normalised keys to values (the last one wins, as in ADO.NET)."""
    return {part.name: part.value for part in split_connection_string(text)}


def _requote(new_value: str, raw: str) -> str:
    quote = raw[:1] if raw[:1] in ("'", '"') else ""
    if raw[:1] == "{":
        return "{" + new_value.replace("}", "}}") + "}"
    if not quote and (";" in new_value or new_value != new_value.strip() or new_value[:1] in ("'", '"')):
        quote = '"'
    return quote + new_value.replace(quote, quote * 2) + quote if quote else new_value


def rewrite(text: str, change: Callable[[Part, bool], str | None], _nested: bool = False) -> str:
    """The connection string with some values replaced.

    ``change(part, nested)`` returns the new *raw* value (quoted as it must appear) or None to
    keep the part; ``nested`` is True inside an Entity Framework provider connection string,
    which is rewritten recursively and quoted back into its outer value.
    """
    pieces: list[str] = []
    last = 0
    for part in split_connection_string(text):
        raw = text[part.start:part.end]
        if part.name == NESTED_KEY and not _nested:
            inner = rewrite(part.value, change, True)
            new = _requote(inner, raw) if inner != part.value else None
        else:
            new = change(part, _nested)
        if new is None:
            continue
        pieces.append(text[last:part.start])
        pieces.append(new)
        last = part.end
    pieces.append(text[last:])
    return "".join(pieces)


def is_password_part(part: Part) -> bool:
    return (part.name in PASSWORD_KEYS or is_secret_name(part.key)) and bool(part.value.strip()) \
        and not re.fullmatch(r"\$\{[^}]*\}", part.value.strip())


def password_parts(text: str) -> list[Part]:
    """The non-empty password values, nested ones included."""
    found: list[Part] = []

    def visit(part: Part, nested: bool) -> None:
        if is_password_part(part):
            found.append(part)

    rewrite(text, visit)
    return found


def mask_connection_string(text: str) -> str:
    """The connection string with every password value (quotes included) replaced by ``****``."""
    return rewrite(text, lambda part, nested: MASK if is_password_part(part) else None)


def template_connection_string(text: str, env_var: str) -> tuple[str, str]:
    """The connection string with its password value (quotes included) replaced by a bare
    ``${env_var}``, and the format the entry script quotes the real value in at container start:
    ``connectionString`` (ADO.NET quoting), ``nestedConnectionString`` (also inside an Entity
    Framework string's double quotes) or ``odbc`` (braces)."""
    formats: list[str] = []

    def replace(part: Part, nested: bool) -> str | None:
        if not is_password_part(part):
            return None
        formats.append("nestedConnectionString" if nested else "connectionString")
        return "${" + env_var + "}"

    templated = rewrite(text, replace)
    if formats and re.search(r"(?:^|;)\s*driver\s*=", text, re.IGNORECASE):
        formats = ["odbc"]
    return templated, (formats[0] if formats else "connectionString")


def looks_like_connection_string(value: str) -> bool:
    return "=" in value and ";" in value and bool(_LOOKS_LIKE.search(value))


def flatten(text: str) -> dict[str, str]:
    """Keys to values, with an Entity Framework string's provider connection string merged in."""
    values = values_of(text)
    nested = values.pop(NESTED_KEY, "")
    if nested:
        inner = values_of(nested)
        inner.setdefault("provider", values.get("provider", ""))
        return inner
    return values


def vendor_of(values: dict[str, str], provider_name: str = "") -> str:
    provider = provider_name.strip().lower()
    if provider == "system.data.entityclient":
        provider = values.get("provider", "").lower()
    if provider in _PROVIDERS:
        return _PROVIDERS[provider]
    if provider in ("system.data.oledb", "") and values.get("provider"):
        ole = values["provider"].lower()
        for prefix, vendor in _OLEDB_PROVIDERS:
            if ole.startswith(prefix):
                return vendor
        if ole in _PROVIDERS:
            return _PROVIDERS[ole]
    if values.get("driver"):
        driver = values["driver"].lower()
        for word, vendor in _ODBC_DRIVERS:
            if word in driver:
                return vendor
    if "host" in values and "server" not in values and "data source" not in values:
        return "postgresql"
    data_source = values.get("data source", "")
    if data_source.lower().endswith((".db", ".sqlite", ".sdf", ".mdb", ".accdb")):
        return "embedded"
    if data_source.startswith("(DESCRIPTION") or "(description" in data_source.lower():
        return "oracle"
    return "sqlserver" if provider in ("", "system.data.odbc", "system.data.oledb") else "unknown"


def parse_server(value: str, vendor: str) -> tuple[str, int, str]:
    """(host, port, instance) of a server value; port 0 when it is chosen at run time."""
    value = value.strip()
    if vendor == "oracle":
        match = re.search(r"\(HOST\s*=\s*([^)]+)\)(?:.*?\(PORT\s*=\s*([0-9]{1,9})\))?", value, re.IGNORECASE | re.DOTALL)
        if match:
            return match.group(1).strip(), int(match.group(2) or 1521), ""
        match = re.match(r"^(?://)?([^:/\s]+)(?::([0-9]{1,9}))?(?:/(\S+))?$", value)
        if match and (match.group(2) or match.group(3)):
            return match.group(1), int(match.group(2) or 1521), ""
        return "", 0, value  # a TNS alias, resolved through tnsnames.ora on the host
    lowered = value.lower()
    for prefix in ("tcp:", "admin:", "lpc:"):
        if lowered.startswith(prefix):
            value, lowered = value[len(prefix):], lowered[len(prefix):]
    if lowered.startswith("np:"):
        match = re.match(r"np:\\\\([^\\]+)\\", value, re.IGNORECASE)
        return (match.group(1) if match else ""), 0, "named pipe"
    host, _, port = value.partition(",")
    if ":" in host and vendor in ("mysql", "postgresql") and host.count(":") == 1:
        host, _, port = host.partition(":")
    host, _, instance = host.partition("\\")
    host = host.strip()
    port = port.strip()
    if re.fullmatch(r"[0-9]{1,9}", port):
        return host, int(port), instance
    if instance and vendor == "sqlserver":
        return host, 0, instance  # a named instance: the port comes from SQL Browser (UDP 1434)
    return host, DEFAULT_PORTS.get(vendor, 0), instance


def parse_connection(text: str, provider_name: str = "") -> dict[str, Any]:
    """Vendor, host, port, database and security facts of a connection string (no password)."""
    values = flatten(text)
    vendor = vendor_of(values, provider_name)
    server = next((values[k] for k in SERVER_KEYS if values.get(k)), "")
    host, port, instance = ("", 0, "") if vendor == "embedded" else parse_server(server, vendor)
    if re.fullmatch(r"[0-9]{1,9}", values.get("port", "").strip()):
        port = int(values["port"].strip())
    integrated = next((values[k] for k in INTEGRATED_KEYS if k in values), "")
    return {
        "vendor": vendor,
        "host": host,
        "port": port,
        "instance": instance,
        "database": next((values[k] for k in DATABASE_KEYS if values.get(k)), "")
        or (values.get("data source", "") if vendor == "embedded" else ""),
        "user": next((values[k] for k in USER_KEYS if values.get(k)), ""),
        "integratedSecurity": integrated.strip().lower() in ("true", "yes", "sspi"),
        "local": host.lower() in LOCAL_HOSTS or host.lower().startswith("(localdb)"),
    }


def connection_dependency(name: str, text: str, provider_name: str, found_in: str, line: int = 0) -> dict[str, Any]:
    """An outbound dependency (a2c's dependency dict) for a connection string, its password masked."""
    facts = parse_connection(text, provider_name)
    extra: dict[str, Any] = {"vendor": facts["vendor"], "database": mask_value(facts["database"]),
                             "integratedSecurity": facts["integratedSecurity"],
                             "connectionString": mask_value(mask_connection_string(text))}
    if facts["instance"]:
        extra["instance"] = facts["instance"]
    if provider_name:
        extra["providerName"] = provider_name
    if line:
        extra["line"] = line
    return dependency(facts["vendor"], found_in, host=mask_value(facts["host"]), port=facts["port"], name=name, **extra)
