"""Probing a port the way a client would: is it HTTP, which paths answer, what does a TCP
server say first. The same probes run against the original and against the image, so that
validation is parity with the original rather than "something answered".

Every probe is bounded (connect, read and redirect limits), sends only GET requests or
nothing at all, and never keeps a connection: the original keeps running untouched.

The TCP behaviour compared (``TcpBehaviour``) is what a connect alone cannot fake: Docker's
port proxy accepts every connection and closes it when nothing listens behind it, so a
listener is proved by the connection staying open (``held``) or by its greeting.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

CONNECT_TIMEOUT = 2.0
GREETING_WAIT = 0.6  # how long a server that speaks first gets to say something
HTTP_TIMEOUT = 5.0
MAX_REDIRECTS = 5
MAX_READ = 64 * 1024
GREETING_KEPT = 48

HTTP = "http"
TCP = "tcp"
CLOSED = "closed"  # nothing accepted the connection


@dataclass(frozen=True)
class PathResult:
    """One HTTP path: the final status (0: no answer) after same-origin redirects, and why not
    when it is no answer (a timeout, a redirect loop)."""

    path: str
    status: int
    error: str = ""
    redirects: int = 0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400 and not self.error

    def shown(self) -> str:
        return self.error if self.error else (str(self.status) if self.status else "no answer")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "status": self.status}
        if self.error:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class PortProbe:
    """What one port did: its protocol, the HTTP paths tried or the TCP behaviour seen."""

    port: int
    protocol: str  # HTTP, TCP or CLOSED
    paths: tuple[PathResult, ...] = ()
    greeting: str = ""  # TCP: the printable start of what the server sent unprompted
    held: bool = False  # TCP: the connection stayed open while the server was given time to speak
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"port": self.port, "protocol": self.protocol}
        if self.protocol == HTTP:
            data["paths"] = [p.to_json() for p in self.paths]
        elif self.protocol == TCP:
            data["greeting"] = self.greeting
            data["held"] = self.held
        if self.note:
            data["note"] = self.note
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PortProbe":
        return cls(
            port=int(data["port"]), protocol=str(data.get("protocol", TCP)),
            paths=tuple(PathResult(str(p["path"]), int(p.get("status", 0)), str(p.get("error", "")))
                        for p in data.get("paths", ())),
            greeting=str(data.get("greeting", "")), held=bool(data.get("held", False)), note=str(data.get("note", "")))

    def first_ok(self) -> str | None:
        return next((p.path for p in self.paths if p.ok), None)


# -- the network edge ------------------------------------------------------------------------

def _connect(address: str, port: int, timeout: float) -> socket.socket | None:
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except OSError:
        return None


def _printable(data: bytes) -> str:
    """The greeting's stable start: printable ASCII up to the first line break or binary byte."""
    out = []
    for byte in data[:GREETING_KEPT]:
        if byte in (10, 13) or not 32 <= byte < 127:
            break
        out.append(chr(byte))
    text = "".join(out)
    return text if text else (f"binary {data[:4].hex()}" if data else "")


def tcp_behaviour(address: str, port: int, wait: float = GREETING_WAIT) -> tuple[bool, bool, str]:
    """(accepted, held, greeting): connect, say nothing, and see what the server does in ``wait``."""
    sock = _connect(address, port, CONNECT_TIMEOUT)
    if sock is None:
        return False, False, ""
    with sock:
        sock.settimeout(wait)
        try:
            data = sock.recv(GREETING_KEPT)
        except socket.timeout:
            return True, True, ""
        except OSError:
            return True, False, ""
        return True, bool(data), _printable(data)


def _authority(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _http_get(address: str, port: int, path: str, timeout: float) -> tuple[int, str]:
    """(status, Location) of one GET; status 0 when no HTTP answer came within ``timeout`` in all
    (a server that drips its body byte by byte is cut off, not waited for)."""
    import http.client

    deadline = time.monotonic() + timeout
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "a2c-probe", "Accept": "*/*", "Connection": "close"})
        response = connection.getresponse()
        read = 0
        while read < MAX_READ and time.monotonic() < deadline:
            chunk = response.read1(8192)
            if not chunk:
                break
            read += len(chunk)
        return response.status, response.getheader("Location") or ""
    except (OSError, http.client.HTTPException, ValueError):
        return 0, ""
    finally:
        connection.close()


LOCAL_NAMES = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def http_path(address: str, port: int, path: str, timeout: float = HTTP_TIMEOUT, origin_port: int = 0) -> PathResult:
    """GET ``path``, following redirects that stay on this server, at most MAX_REDIRECTS.

    A redirect stays on this server when it names no host or this one (by address or as
    localhost) and no port, this port, or ``origin_port`` (the port the application knows
    itself by: an image probed through Docker's published port still builds its redirects
    with its own). Anything else is the answer."""
    seen = [path]
    current = path
    status = 0
    for hop in range(MAX_REDIRECTS + 1):
        status, location = _http_get(address, port, current, timeout)
        if not (300 <= status < 400 and location):
            return PathResult(path, status, "" if status else "no answer", hop)
        try:
            target = urlsplit(urljoin(f"http://{_authority(address)}:{port}{current}", location))
            target_port = target.port or (443 if target.scheme == "https" else 80)
        except ValueError:
            return PathResult(path, status, "", hop)  # a Location no client could follow: still an answer
        same_host = (target.hostname or address) in (address, *LOCAL_NAMES)
        if target.scheme not in ("http", "") or not same_host or target_port not in (port, origin_port or port):
            return PathResult(path, status, "", hop)  # it sends the client elsewhere: an answer
        current = (target.path or "/") + (f"?{target.query}" if target.query else "")
        if current in seen:
            return PathResult(path, status, f"redirect loop ({' -> '.join(seen + [current])})", hop + 1)
        seen.append(current)
    return PathResult(path, status, f"more than {MAX_REDIRECTS} redirects ({' -> '.join(seen[:4])} …)", MAX_REDIRECTS)


def speaks_http(address: str, port: int, timeout: float = 3.0) -> bool:
    status, _ = _http_get(address, port, "/", timeout)
    return status > 0


MAX_PATHS = 8  # candidates asked per port (each bounded by HTTP_TIMEOUT)


def probe_port(address: str, port: int, paths: Sequence[str], *, known: str = "", origin_port: int = 0) -> PortProbe:
    """Classify and probe one port. A server that greets first is TCP; a silent one is asked
    ``GET /`` and is HTTP if it answers like HTTP. ``known`` skips the classification (the
    container is probed as the original was); ``origin_port`` is the port as the application
    knows it (the container's, behind a published one)."""
    if known != HTTP:
        accepted, held, greeting = tcp_behaviour(address, port)
        if not accepted:
            return PortProbe(port if not origin_port else origin_port, CLOSED, note="connection refused or timed out")
        if greeting or known == TCP or not speaks_http(address, port):
            return PortProbe(origin_port or port, TCP, greeting=greeting, held=held)
    results = tuple(http_path(address, port, p, origin_port=origin_port)
                    for p in list(dict.fromkeys(paths or ("/",)))[:MAX_PATHS])
    if known == HTTP and all(r.status == 0 for r in results) and _connect_ok(address, port) is False:
        return PortProbe(origin_port or port, CLOSED, results, note="connection refused or timed out")
    return PortProbe(origin_port or port, HTTP, results)


def _connect_ok(address: str, port: int) -> bool:
    sock = _connect(address, port, CONNECT_TIMEOUT)
    if sock is None:
        return False
    sock.close()
    return True


# -- comparing the image with the original ---------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One line of the parity table."""

    port: int
    probe: str  # an HTTP path, or "tcp"
    original: str
    container: str
    match: bool
    required: bool = True  # False: a port only reachable on the original's loopback (a shutdown port)


def _tcp_shown(probe: PortProbe) -> str:
    if probe.protocol == CLOSED:
        return "closed"
    if probe.protocol == HTTP:
        return "speaks HTTP"
    return f"greets {probe.greeting!r}" if probe.greeting else ("accepts, silent" if probe.held else "accepts, then closes")


def compare(original: PortProbe, container: PortProbe) -> list[Row]:
    """Rows for one port: HTTP status classes equal per path; TCP greeting start and holding equal."""
    if original.protocol == HTTP:
        theirs = {p.path: p for p in container.paths}
        rows = []
        for mine in original.paths:
            other = theirs.get(mine.path)
            shown = other.shown() if other else _tcp_shown(container)
            same = other is not None and container.protocol == HTTP and _same_class(mine, other)
            rows.append(Row(original.port, mine.path, mine.shown(), shown, same))
        return rows
    same = (container.protocol == original.protocol and _token(container.greeting) == _token(original.greeting)
            and container.held == original.held)
    return [Row(original.port, "tcp", _tcp_shown(original), _tcp_shown(container), same)]


def _token(greeting: str) -> str:
    """A greeting's stable part: its first word ("220" of an SMTP banner that names the host,
    "SSH-2.0-OpenSSH_9.2p1"); a binary greeting's leading bytes as they are."""
    return greeting if greeting.startswith("binary ") else (greeting.split() or [""])[0]


def _same_class(a: PathResult, b: PathResult) -> bool:
    if a.error or b.error:
        return bool(a.error) == bool(b.error) and a.status // 100 == b.status // 100
    return a.status // 100 == b.status // 100


def table(rows: Iterable[Row]) -> str:
    rows = list(rows)
    head = ("port", "probe", "original", "container", "")
    cells = [head] + [(str(r.port), r.probe, r.original, r.container,
                       "ok" if r.match else "DIFFERS" if r.required else "differs (loopback only: not required)")
                      for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return "\n".join("  ".join(c[i].ljust(widths[i]) for i in range(len(head))).rstrip() for c in cells)


@dataclass
class Baseline:
    """What the image must match: the original's probes, or, when it could not be probed, the
    analysis's health check alone (``reason`` says why)."""

    probes: list[PortProbe] = field(default_factory=list)
    source: str = "original"  # "original", "analysis" (recorded at analyze time), "health check"
    reason: str = ""
    # Ports the original listens on at loopback only, other than the application's and the health
    # check's (a shutdown port, a local admin port): shown, but a difference does not fail.
    optional: frozenset[int] = frozenset()


def probe_all(address_of: Mapping[int, str], candidates: Mapping[int, Sequence[str]], budget: float = 60.0) -> list[PortProbe]:
    """Probe every port in ``address_of`` ({port: address to reach it}), within ``budget`` seconds
    (a port past it is recorded as not probed, and left out of the comparison)."""
    started = time.monotonic()
    found = []
    for port, address in address_of.items():
        if time.monotonic() - started > budget:
            found.append(PortProbe(port, CLOSED, note=f"not probed: the {budget:.0f}s budget was spent"))
            continue
        found.append(probe_port(address, port, candidates.get(port, ("/",))))
    return found


def is_loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address.strip("[]").removeprefix("::ffff:")).is_loopback
    except ValueError:
        return address == "localhost"
