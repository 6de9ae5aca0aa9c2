"""Loopback listeners in copied configuration files, opened to all interfaces in the image.

On the host a connector bound to 127.0.0.1 is private (Debian's ActiveMQ default
``tcp://127.0.0.1:61616``, ZooKeeper's ``clientPortAddress=127.0.0.1``); in a container it is
unreachable from the published port. Framework analyzers open the bindings they know (Tomcat
``address=``, Boot ``server.address``) and keep doing so; this module does it for any other
application, in the image's copy only, and only for the ports the process is seen listening on
at a loopback address: a loopback URL of any other port is where the application connects to.

The file is edited as bytes, never parsed (so no XML entity is ever expanded): everything but
the rewritten host stays byte for byte, and commented-out lines (``#``, ``!``, ``;``, ``//``,
XML comments) stay as they are. ``127.x.y.z``, ``localhost``, ``ip6-localhost`` and ``::1``
become ``0.0.0.0``; ``[::1]`` becomes ``[::]``.

Forms: ``scheme://HOST:PORT`` and ``HOST:PORT`` inside a value; and an address key holding a
bare loopback address beside a port key of one of the ports, in the same properties file (or
ini section), YAML mapping, JSON object or XML element, the two keys naming the same thing
once their address and port words are left out (``server.address``/``server.port``,
``clientPortAddress``/``clientPort``, ``host=``/``port=``).

Listener or client: a value changes only when its name (properties key, YAML or JSON key path,
XML element plus attribute) holds a listener word (bind, listen, listener, address, host,
interface, transport, acceptor) and no client word (url, servers, connect, jdbc, datasource,
remote, advertised, endpoint, …). Why: a process listening on 9092 may reach itself through
``bootstrap.servers=localhost:9092``; 0.0.0.0 is no address to connect to, so rewriting a client
setting breaks a working application, whereas a missed listener is only what happens without
this module. A name without either word stays as it is; ``jdbc:`` URLs never change; AJP stays
on loopback (the Ghostcat risk Tomcat's default guards against).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Collection, Iterable, Iterator, Mapping

from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text
from a2c.model import Finding, Socket

_HOST = rb"127(?:\.\d{1,3}){3}|localhost|ip6-localhost|\[::1\]"
_HOST_PORT = re.compile(rb"(?<![\w.\-])(" + _HOST + rb"):(\d{1,5})(?!\d)", re.I)
_BARE = re.compile(rb"(?:" + _HOST + rb"|::1)\Z", re.I)
_MAYBE = re.compile(rb"127\.|localhost|::1", re.I)  # cheap test: most files hold no loopback at all
_JDBC = re.compile(rb"jdbc:", re.I)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)

MAX_DEPTH = 100  # nesting deeper than this is no configuration: the rest of the file stays as it is
_ADDRESS_WORDS = {"bind", "listen", "address", "addresses", "addr", "host", "interface", "iface"}
_LISTENER_WORDS = _ADDRESS_WORDS | {"listener", "listeners", "listening", "transport", "acceptor", "acceptors"}
_CLIENT_WORDS = {"url", "urls", "servers", "connect", "connection", "jdbc", "datasource", "remote", "advertised",
                 "advertise", "external", "public", "endpoint", "upstream", "proxy", "target", "peer", "peers",
                 "seeds", "bootstrap", "ajp", "name"}


@dataclass(frozen=True, order=True)
class Change:
    """One rewritten line: its number (from 1), the line before and after, the port it binds."""

    line: int
    before: str
    after: str
    port: int


@dataclass(frozen=True)
class _Value:
    """A value of the file and what names it; values of one scope are siblings."""

    scope: int
    name: tuple[str, ...]  # key path: properties key, YAML/JSON path, XML element + attribute
    key: str  # its own key ("" for a list item or element text: no key pair)
    start: int
    end: int  # the value's bytes, trailing comment left out


# -- the pure core ---------------------------------------------------------------------------

def open_loopback(data: bytes, path: str, ports: Collection[int]) -> tuple[bytes, list[Change]]:
    """The file with every loopback binding of ``ports`` opened to all interfaces, and the changes."""
    ports = frozenset(ports)
    if not ports or not _MAYBE.search(data):
        return data, []
    values = list(_VALUES[_kind(path, data)](data))
    edits = [e for v in values for e in _host_port_edits(data, v, ports)]
    edits += _pair_edits(data, values, ports)
    return _apply(data, edits)


def _kind(path: str, data: bytes) -> str:
    """By name, else by content (a .conf or .cfg file may hold XML or JSON)."""
    name = path.lower()
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name.endswith(".properties"):
        return "lines"
    if name.endswith(".json"):
        return "json"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return {b"<": "xml", b"{": "json"}.get(head, "lines")


@functools.lru_cache(maxsize=4096)  # a file repeats its names; a hostile one would repeat them a million times
def _words(name: str) -> tuple[str, ...]:
    """``admin.serverAddress`` -> admin, server, address."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return tuple(w.lower() for w in re.split(r"[^A-Za-z0-9]+", name) if w)


def _address_word(word: str) -> bool:
    return word in _ADDRESS_WORDS or word.startswith(("bind", "listen")) or word.endswith("address")


@functools.lru_cache(maxsize=4096)
def _listener(name: tuple[str, ...]) -> bool:
    """A name that configures where this process listens (see the module docstring)."""
    words = [w for part in name for w in _words(part)]
    return (not any(w in _CLIENT_WORDS for w in words)
            and any(w in _LISTENER_WORDS or _address_word(w) for w in words))


def _open(host: bytes) -> bytes:
    return b"[::]" if host.startswith(b"[") else b"0.0.0.0"


def _host_port_edits(data: bytes, value: _Value, ports: frozenset[int]) -> Iterator[tuple[int, int, bytes, int]]:
    jdbc = _JDBC.search(data, value.start, value.end)  # what follows is a JDBC URL: where it connects to
    for m in _HOST_PORT.finditer(data, value.start, jdbc.start() if jdbc else value.end):
        port = int(m.group(2))
        if port in ports and _listener(value.name):
            yield m.start(1), m.end(1), _open(m.group(1)), port


def _unquote(data: bytes, start: int, end: int) -> tuple[int, int]:
    while start < end and data[start] in b" \t\r\n":
        start += 1
    while end > start and data[end - 1] in b" \t\r\n":
        end -= 1
    if end - start >= 2 and data[start] in b"\"'" and data[end - 1] == data[start]:
        return start + 1, end - 1
    return start, end


def _port(data: bytes, value: _Value) -> int | None:
    start, end = _unquote(data, value.start, value.end)
    text = data[start:end]
    return int(text) if text.isdigit() and len(text) <= 5 else None


def _stem(words: tuple[str, ...]) -> tuple[str, ...]:
    """What an address or port key names: ``clientPortAddress`` and ``clientPort`` both name client."""
    return tuple(w for w in words if w != "port" and not _address_word(w))


def _pair_edits(data: bytes, values: list[_Value], ports: frozenset[int]) -> list[tuple[int, int, bytes, int]]:
    """Bare loopback address keys beside a port key of one of the ports, naming the same thing."""
    scopes: dict[int, list[_Value]] = defaultdict(list)
    for value in values:
        if value.key:
            scopes[value.scope].append(value)
    edits: list[tuple[int, int, bytes, int]] = []
    for siblings in scopes.values():
        port_of: dict[tuple[str, ...], int] = {}
        for value in siblings:
            words = _words(value.key)
            port = _port(data, value) if "port" in words else None
            if port is not None and port in ports:
                port_of.setdefault(_stem(words), port)
        for value in siblings:
            words = _words(value.key)
            if any(_address_word(w) for w in words) and _stem(words) in port_of and _listener(value.name):
                start, end = _unquote(data, value.start, value.end)
                if _BARE.match(data, start, end):
                    edits.append((start, end, _open(data[start:end]), port_of[_stem(words)]))
    return edits


def _apply(data: bytes, edits: list[tuple[int, int, bytes, int]]) -> tuple[bytes, list[Change]]:
    """Splice the edits in, line by line (an edit never crosses a line: hosts are one word)."""
    lines = data.splitlines(keepends=True)
    starts = list(itertools.accumulate((len(line) for line in lines[:-1]), initial=0))
    by_line: dict[int, dict[int, tuple[int, int, bytes, int]]] = defaultdict(dict)
    for edit in edits:
        by_line[bisect.bisect_right(starts, edit[0]) - 1][edit[0]] = edit
    changes = []
    for index, line_edits in by_line.items():
        old, base, pos, pieces = lines[index], starts[index], 0, []
        for start, end, new, _ in sorted(line_edits.values()):
            pieces += [old[pos:start - base], new]
            pos = end - base
        lines[index] = b"".join(pieces) + old[pos:]
        for port in dict.fromkeys(e[3] for e in sorted(line_edits.values())):
            changes.append(Change(index + 1, _shown(old), _shown(lines[index]), port))
    return b"".join(lines), sorted(changes)


def _shown(line: bytes) -> str:
    return decode_text(line).strip()


# -- the values of each kind of file ---------------------------------------------------------

def _lines(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each line, its line ending left out."""
    pos = 0
    for line in data.splitlines(keepends=True):
        yield pos, pos + len(line.rstrip(b"\r\n"))
        pos += len(line)


_TRAILING_COMMENT = re.compile(rb"[ \t]#")


def _cut(data: bytes, start: int, end: int) -> int:
    """The end of a value before a trailing `` # comment``."""
    m = _TRAILING_COMMENT.search(data, start, end)
    return m.start() if m else end


_KEY_LINE = re.compile(rb"[ \t]*(?:export[ \t]+)?([^\s=:#!;\[][^\s=:]*)[ \t]*(?:[=:][ \t]*|[ \t]+)")
_LINE_COMMENTS = (b"#", b"!", b";", b"//")


def _line_values(data: bytes) -> Iterator[_Value]:
    """properties, .env, .cfg, ini, conf: ``key=value``, ``key: value`` or ``key value`` lines."""
    scope = 0
    for start, end in _lines(data):
        text = data[start:end].lstrip()
        if not text or text.startswith(_LINE_COMMENTS):
            continue
        if text.startswith(b"["):  # an ini or TOML section: its keys are siblings
            scope += 1
            continue
        m = _KEY_LINE.match(data, start, end)
        if m:
            key = decode_text(m.group(1))
            yield _Value(scope, (key,), key, m.end(), _cut(data, m.end(), end))


# The key takes no ':' and is stripped afterwards: a lazy key before ' *:' is quadratic on long lines.
_YAML_LINE = re.compile(rb"( *)(-(?: +|\Z))?"
                        rb"(?:((?:\"[^\"\r\n]*\"|'[^'\r\n]*') *|[^\s#\"'{}\[\],&*!|>%@`:-][^#:]*):(?: +|\Z))?")


def _yaml_values(data: bytes) -> Iterator[_Value]:
    """Block YAML, one line at a time: a mapping's keys are siblings; a list item starts a mapping."""
    frames: list[list] = []  # [column, key, scope], outermost first
    scopes = itertools.count(1)
    for start, end in _lines(data):
        text = data[start:end].lstrip(b" ")
        if not text.strip() or text.startswith((b"#", b"---", b"...")):
            continue
        m = _YAML_LINE.match(data, start, end)
        assert m is not None  # every part of the pattern is optional
        dash, raw_key = m.group(2), m.group(3)
        column = len(m.group(1)) + len(dash or b"")
        while frames and (frames[-1][0] >= column if dash else frames[-1][0] > column):
            frames.pop()
        if dash or not frames or frames[-1][0] < column:
            frames.append([column, None, next(scopes)])
            if len(frames) > MAX_DEPTH:
                return
        key = decode_text(raw_key).strip().strip("\"'") if raw_key else ""
        if key:
            frames[-1][1] = key
        path = tuple(f[1] for f in frames[:-1] if f[1]) + ((key,) if key else ())
        yield _Value(frames[-1][2], path, key, m.end(), _cut(data, m.end(), end))


# An unclosed comment or string ends the file or the line: scanning on from each one would be quadratic.
_JSON_TOKEN = re.compile(rb'//[^\r\n]*|/\*(?:.*?\*/|.*)|"(?:[^"\\\r\n]|\\.)*"?|[{}\[\]:,]|[^\s{}\[\]:,"/]+', re.S)
_COLON = re.compile(rb"\s*:")


def _json_values(data: bytes) -> Iterator[_Value]:
    """JSON (with .NET's comments): an object's keys are siblings; arrays take their key's name."""
    stack: list[tuple[int, str]] = []  # (scope, the key holding the object or array)
    scopes = itertools.count(1)
    key = ""
    for m in _JSON_TOKEN.finditer(data):
        token = m.group()
        if token in (b"{", b"["):
            stack.append((next(scopes), key))
            key = ""
            if len(stack) > MAX_DEPTH:
                return
        elif token in (b"}", b"]"):
            stack = stack[:-1]
            key = ""
        elif token in (b":", b",") or token.startswith((b"//", b"/*")):
            continue
        elif token.startswith(b'"') and _COLON.match(data, m.end()):
            key = decode_text(token[1:-1])
        else:
            path = tuple(k for _, k in stack if k) + ((key,) if key else ())
            start, end = (m.start() + 1, m.end() - 1) if token.startswith(b'"') else m.span()
            yield _Value(stack[-1][0] if stack else 0, path, key, start, end)
            key = ""


# A tag ends at the next '<' (no attribute value may hold one), an unclosed comment or CDATA at
# the file's end: each byte is scanned about once, whatever the file holds.
_XML_TOKEN = re.compile(rb"<!--(?:.*?-->|.*)|<!\[CDATA\[(?:.*?\]\]>|.*)|<[?!][^<>]*>?"
                        rb"|<(/?)([\w:.\-]+)([^<>]*)>", re.S)
_ATTRIBUTE = re.compile(rb"([\w:.\-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _xml_values(data: bytes) -> Iterator[_Value]:
    """Attributes (an element's attributes are siblings) and element text; comments, CDATA and
    AJP connectors give none."""
    stack: list[tuple[int, str, bool]] = []  # (scope, element, AJP)
    scopes = itertools.count(1)
    last = 0
    for m in _XML_TOKEN.finditer(data):
        if stack and m.start() > last and not stack[-1][2]:
            yield _Value(stack[-1][0], (stack[-1][1],), "", last, m.start())
        last = m.end()
        if m.group(2) is None:
            continue
        element = decode_text(m.group(2))
        if m.group(1):
            names = [frame[1] for frame in stack]
            if element in names:
                del stack[len(names) - 1 - names[::-1].index(element):]
            continue
        scope, ajp = next(scopes), b"ajp" in m.group().lower()
        for a in () if ajp else _ATTRIBUTE.finditer(data, m.start(3), m.end(3)):
            attribute = decode_text(a.group(1))
            start, end = a.span(2) if a.group(2) is not None else a.span(3)
            yield _Value(scope, (element, attribute), attribute, start, end)
        if not m.group(3).rstrip().endswith(b"/"):
            stack.append((scope, element, ajp))
            if len(stack) > MAX_DEPTH:
                return


_VALUES = {"lines": _line_values, "yaml": _yaml_values, "json": _json_values, "xml": _xml_values}


# -- the edge: the host's files --------------------------------------------------------------

def _loopback_address(address: str) -> bool:
    address = address.lower()
    return address in ("::1", "[::1]", "localhost") or address.startswith(("127.", "::ffff:127."))


def loopback_rewrites(host: Host, paths: Iterable[str], listening: Iterable[Socket], *,
                      generated: Mapping[str, bytes] | None = None) -> tuple[dict[str, bytes], list[Finding]]:
    """The image's copies of the config files in which a port the process listens on at a
    loopback address was bound to loopback, now bound to all interfaces: {real path: bytes},
    and one NET-W001 finding per file. Only ports seen on loopback count (so none when the
    process listens on no loopback address); a ``generated`` copy (secrets templated out) is
    read before the host's file, so that the two edits add up. A file that cannot be read, is binary, or declares XML
    entities (which could define what the text seems to say) is left alone."""
    from a2c.analyzers.common.configfiles import MAX_CONFIG_FILE
    from a2c.analyzers.common.configsecrets import is_binary, kind_of

    ports = frozenset(s.port for s in listening if _loopback_address(s.address))
    copies: dict[str, bytes] = {}
    findings: list[Finding] = []
    if not ports:
        return copies, findings
    for path in dict.fromkeys(paths):
        try:
            real = host.realpath(path)  # the copy lands where the file really is, as secret templates do
            data = (generated or {}).get(real) or host.read_bytes(real, limit=MAX_CONFIG_FILE)
        except HostError:
            continue
        if is_binary(data, bool(kind_of(real))) or _declares_entities(data):
            continue
        new, changes = open_loopback(data, real, ports)
        if changes:
            copies[real] = new
            findings.append(_finding(real, changes))
    return copies, findings


def _declares_entities(data: bytes) -> bool:
    """As safexml refuses them: a DOCTYPE with an entity declaration after it."""
    doctype = _DOCTYPE.search(data)
    return doctype is not None and data.find(b"<!ENTITY", doctype.end()) >= 0


def _finding(path: str, changes: list[Change]) -> Finding:
    lines = list(dict.fromkeys(c.line for c in changes))
    ports = sorted({c.port for c in changes})
    return Finding(
        "NET-W001", "warning",
        f"{'ports' if len(ports) > 1 else 'port'} {', '.join(map(str, ports))} bound to a loopback address "
        f"({'lines' if len(lines) > 1 else 'line'} {', '.join(map(str, lines))}): in the image's copy of this "
        "file it listens on all interfaces (0.0.0.0), so that the container's published port reaches it; "
        "the file on the host is unchanged", path)
