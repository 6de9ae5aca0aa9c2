""".NET (Core) configuration as the app itself sees it: appsettings*.json, environment, command line.

``parse_json`` reads JSON the way .NET's configuration reads it (``//`` and ``/* */`` comments,
trailing commas) and keeps, for every string value, its key path and its span in the text,
so that a secret can later be replaced where it stands and the rest of the file stays byte
for byte what the application had. Customer files are untrusted: nesting is bounded, and any
malformed input is a ``JsonConfigError`` (a finding for the caller), never a crash.

``layered_config`` merges the sources in ASP.NET Core's order (appsettings.json, then
appsettings.{Environment}.json, then environment variables, then the command line); keys are
case-insensitive and ``__`` in a variable name stands for ``:``. ``resolve_urls`` answers where
Kestrel listens, with the precedence the project agreed on (see its docstring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from a2c.analyzers.common.numbers import is_ascii_int

MAX_DEPTH = 64
DEFAULT_URL = "http://localhost:5000"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
ANY_HOSTS = {"+", "*", "0.0.0.0", "::", "[::]", ""}


class JsonConfigError(ValueError):
    """Malformed JSON; the message names the line."""


@dataclass(frozen=True)
class JsonString:
    """A string value in a JSON text: its key path, decoded value and where its token stands."""

    path: tuple[str, ...]
    value: str
    start: int  # offset of the opening quote
    end: int  # offset just after the closing quote
    line: int

    @property
    def key(self) -> str:
        return ":".join(self.path)


_LITERAL = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.strings: list[JsonString] = []
        self._line_pos, self._line = 0, 1  # strings come in text order: count lines incrementally

    def line_at(self, pos: int) -> int:
        if pos < self._line_pos:
            return self.text.count("\n", 0, pos) + 1
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def fail(self, message: str) -> JsonConfigError:
        return JsonConfigError(f"line {self.text.count(chr(10), 0, self.pos) + 1}: {message}")

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            char = text[self.pos]
            if char in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.pos = end + 2
            else:
                return

    def value(self, path: tuple[str, ...], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of the file")
        char = self.text[self.pos]
        if char == "{":
            return self.object(path, depth)
        if char == "[":
            return self.array(path, depth)
        if char == '"':
            start = self.pos
            value = self.string()
            self.strings.append(JsonString(path, value, start, self.pos, self.line_at(start)))
            return value
        match = _LITERAL.match(self.text, self.pos)
        if not match:
            raise self.fail(f"unexpected {char!r}")
        self.pos = match.end()
        token = match.group(0)
        return {"true": True, "false": False, "null": None}.get(token, _Number(token))

    def object(self, path: tuple[str, ...], depth: int) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return result
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a property name in double quotes")
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail(f"expected ':' after {key!r}")
            self.pos += 1
            result[key] = self.value(path + (key,), depth + 1)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("}", self.pos):
                raise self.fail("expected ',' or '}'")

    def array(self, path: tuple[str, ...], depth: int) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return result
            result.append(self.value(path + (str(len(result)),), depth + 1))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("]", self.pos):
                raise self.fail("expected ',' or ']'")

    _ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

    def string(self) -> str:
        text = self.text
        self.pos += 1
        out: list[str] = []
        while True:
            end = self.pos
            while end < len(text) and text[end] not in '"\\':
                end += 1
            out.append(text[self.pos:end])
            if end >= len(text):
                self.pos = end
                raise self.fail("unterminated string")
            self.pos = end + 1
            if text[end] == '"':
                value = "".join(out)
                if any("\ud800" <= c <= "\udfff" for c in value):  # \\u escapes of a surrogate pair
                    value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
                return value
            escape = text[self.pos:self.pos + 1]
            if escape in self._ESCAPES:
                out.append(self._ESCAPES[escape])
                self.pos += 1
            elif escape == "u" and _HEX4.fullmatch(text, self.pos + 1, self.pos + 5):
                out.append(chr(int(text[self.pos + 1:self.pos + 5], 16)))
                self.pos += 5
            else:
                raise self.fail("bad escape in a string")


class _Number(str):
    """A JSON number, kept as its text (.NET's configuration stores the raw text too)."""


def parse_json(text: str) -> tuple[Any, list[JsonString]]:
    """The document and its string values (with key paths and spans); comments and trailing commas allowed."""
    parser = _Parser(text)
    document = parser.value((), 0)
    parser.skip()
    if parser.pos != len(text):
        raise parser.fail("unexpected text after the JSON value")
    return document, parser.strings


def load_json(text: str) -> Any:
    """Plain JSON data (runtimeconfig.json, deps.json), comments tolerated."""
    return parse_json(text)[0]


def flatten(document: Any) -> dict[str, str]:
    """``{"Kestrel:Endpoints:Http:Url": "http://…"}``: .NET's flat view of a JSON file."""
    flat: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}:{key}" if prefix else key)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{prefix}:{index}" if prefix else str(index))
        elif prefix and node is None:
            flat[prefix] = ""
        elif prefix and isinstance(node, bool):
            flat[prefix] = "True" if node else "False"  # what JsonElement.ToString() gives .NET
        elif prefix:
            flat[prefix] = str(node)

    walk(document, "")
    return flat


# -- layered configuration -------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfigValue:
    key: str  # as written in its source
    value: str
    source: str  # a file path, "environment NAME" or "command line"


@dataclass
class Configuration:
    """The merged view: lower-cased key -> the value that wins, with where it came from."""

    values: dict[str, ConfigValue] = field(default_factory=dict)

    def add(self, key: str, value: str, source: str) -> None:
        self.values[key.lower()] = ConfigValue(key, value, source)

    def get(self, key: str) -> ConfigValue | None:
        return self.values.get(key.lower())

    def section(self, prefix: str) -> list[ConfigValue]:
        """Values under ``prefix:`` (case-insensitive), in the order their keys were first set."""
        lowered = prefix.lower().rstrip(":") + ":"
        return [v for k, v in self.values.items() if k.startswith(lowered)]


def command_line_pairs(args: Sequence[str]) -> list[tuple[str, str]]:
    """(key, value) pairs as .NET's command-line configuration provider reads them: ``--key=value``,
    ``/key=value``, ``key=value``, and ``--key value`` / ``/key value`` (the next argument is the
    value, whatever it looks like). Single-dash switches need switch mappings: ignored here."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg.startswith("--"):
            body, prefixed = arg[2:], True
        elif arg.startswith("/"):
            body, prefixed = arg[1:], True
        elif arg.startswith("-") or "=" not in arg:
            continue
        else:
            body, prefixed = arg, False
        key, sep, value = body.partition("=")
        if not sep:
            if not prefixed or index >= len(args):
                continue
            value = args[index]
            index += 1
        if key:
            pairs.append((key, value))
    return pairs


def command_line_value(args: Sequence[str], key: str) -> str | None:
    found = None
    for name, value in command_line_pairs(args):
        if name.lower() == key.lower():
            found = value
    return found


def environment_name(args: Sequence[str], environ: Mapping[str, str]) -> tuple[str, str]:
    """The hosting environment and where it came from (``--environment`` > ASPNETCORE_ > DOTNET_ > Production)."""
    value = command_line_value(args, "environment")
    if value:
        return value, "command line"
    for name in ("ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"):
        if environ.get(name):
            return environ[name], f"environment {name}"
    return "Production", "default"


def content_root(args: Sequence[str], environ: Mapping[str, str], cwd: str) -> str:
    value = command_line_value(args, "contentRoot")
    if value:
        return value
    for name in ("ASPNETCORE_CONTENTROOT", "DOTNET_CONTENTROOT"):
        if environ.get(name):
            return environ[name]
    return cwd


def environment_pairs(environ: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(config key, value, source) from the environment, lowest precedence first: unprefixed
    variables, then DOTNET_ ones, then ASPNETCORE_ ones (prefix stripped), ``__`` -> ``:``.
    App Service's connection-string prefixes map to ``ConnectionStrings:<name>``."""
    plain: list[tuple[str, str, str]] = []
    dotnet: list[tuple[str, str, str]] = []
    aspnet: list[tuple[str, str, str]] = []
    for name, value in sorted(environ.items()):
        source = f"environment {name}"
        for prefix in ("SQLCONNSTR_", "SQLAZURECONNSTR_", "MYSQLCONNSTR_", "POSTGRESQLCONNSTR_", "CUSTOMCONNSTR_"):
            if name.startswith(prefix) and len(name) > len(prefix):
                plain.append((f"ConnectionStrings:{name[len(prefix):]}", value, source))
                break
        else:
            key = name.replace("__", ":")
            if name.startswith("ASPNETCORE_"):
                aspnet.append((key[len("ASPNETCORE_"):], value, source))
            elif name.startswith("DOTNET_"):
                dotnet.append((key[len("DOTNET_"):], value, source))
            else:
                plain.append((key, value, source))
    return plain + dotnet + aspnet


def settings_files(folder: str, environment: str) -> list[str]:
    """The JSON files ASP.NET Core reads from its content root, lowest precedence first."""
    base = folder.rstrip("/") or "/"
    return [f"{base}/appsettings.json".replace("//", "/"), f"{base}/appsettings.{environment}.json".replace("//", "/")]


def layered_config(files: Iterable[tuple[str, Mapping[str, str]]], environ: Mapping[str, str],
                   args: Sequence[str]) -> Configuration:
    """Files (lowest precedence first), then the environment, then the command line."""
    config = Configuration()
    for path, values in files:
        for key, value in values.items():
            config.add(key, value, path)
    for key, value, source in environment_pairs(environ):
        config.add(key, value, source)
    for key, value in command_line_pairs(args):
        config.add(key, value, "command line")
    return config


# -- where Kestrel listens ------------------------------------------------------------------------

@dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    text: str

    @property
    def loopback(self) -> bool:
        return self.host.lower() in LOOPBACK_HOSTS

    @property
    def any_address(self) -> bool:
        return self.host in ANY_HOSTS


def parse_url(text: str) -> Url | None:
    """``http://+:5000``, ``https://[::1]:5001/``, ``http://localhost`` (port 80); None if not a URL."""
    match = re.fullmatch(r"\s*([A-Za-z][A-Za-z0-9+.-]*)://(\[[^\]]*\]|[^/:\s]*)(?::(\d{1,5}))?(/.*)?\s*", text)
    if not match:
        return None
    scheme = match.group(1).lower()
    port = int(match.group(3)) if match.group(3) else (443 if scheme == "https" else 80)
    if port > 65535:
        return None
    return Url(scheme, match.group(2), port, text.strip())


def split_urls(value: str) -> list[Url]:
    return [u for u in (parse_url(part) for part in value.split(";") if part.strip()) if u is not None]


@dataclass(frozen=True)
class Listen:
    """Where the app listens: its URLs, where they came from, and the Kestrel endpoint names (if any)."""

    urls: tuple[Url, ...]
    source: str
    endpoints: tuple[str, ...] = ()


def kestrel_endpoints(config: Configuration) -> list[tuple[str, ConfigValue]]:
    """(endpoint name, its Url value) for each ``Kestrel:Endpoints:<name>:Url``."""
    endpoints = []
    for item in config.section("Kestrel:Endpoints"):
        parts = item.key.split(":")
        if len(parts) == 4 and parts[3].lower() == "url" and item.value:
            endpoints.append((parts[2], item))
    return endpoints


def resolve_urls(args: Sequence[str], environ: Mapping[str, str], config: Configuration) -> Listen:
    """The URLs, in the precedence agreed for a2c (highest first):

    1. ``--urls`` on the command line;
    2. ``ASPNETCORE_URLS``, then ``DOTNET_URLS`` (then .NET 8's ``ASPNETCORE_HTTP_PORTS``,
       ``DOTNET_HTTP_PORTS``, ``HTTP_PORTS``: ``http://*:<port>``);
    3. ``Kestrel:Endpoints:<name>:Url`` from the merged configuration (appsettings.{Environment}.json
       over appsettings.json; variables like ``Kestrel__Endpoints__Http__Url`` over both), then a
       ``Urls`` key there;
    4. ``http://localhost:5000``.
    Real Kestrel lets configured endpoints override ``urls`` (with a warning); the caller checks
    the result against the sockets the process really listens on.
    """
    value = command_line_value(args, "urls")
    if value:
        return Listen(tuple(split_urls(value)), "command line")
    for name in ("ASPNETCORE_URLS", "DOTNET_URLS"):
        if environ.get(name):
            return Listen(tuple(split_urls(environ[name])), f"environment {name}")
    for name in ("ASPNETCORE_HTTP_PORTS", "DOTNET_HTTP_PORTS", "HTTP_PORTS"):  # .NET 8+: http://*:<port>
        ports = [p.strip() for p in environ.get(name, "").split(";") if is_ascii_int(p)]
        if ports:
            return Listen(tuple(u for p in ports if (u := parse_url(f"http://*:{p}")) is not None), f"environment {name}")
    endpoints = kestrel_endpoints(config)
    if endpoints:
        urls = [u for _, item in endpoints for u in split_urls(item.value)]
        sources = list(dict.fromkeys(item.source for _, item in endpoints))
        return Listen(tuple(urls), ", ".join(sources), tuple(name for name, _ in endpoints))
    urls_key = config.get("urls")
    if urls_key is not None and urls_key.value:
        return Listen(tuple(split_urls(urls_key.value)), urls_key.source)
    return Listen(tuple(split_urls(DEFAULT_URL)), "default")


def open_up(url: Url) -> str:
    """The same URL on all interfaces (for a container): ``http://127.0.0.1:5000`` -> ``http://+:5000``."""
    return f"{url.scheme}://+:{url.port}"
