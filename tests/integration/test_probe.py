"""a2c.probe and a2c.parity against real loopback servers: HTTP ones, a server that greets, a
silent one, one that accepts and closes, a redirect loop, and a port nothing listens on."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from a2c import parity
from a2c.probe import CLOSED, HTTP, TCP, Baseline, PortProbe, compare, http_path, probe_port, table


class Handler(BaseHTTPRequestHandler):
    routes = {"/ok": (200, ""), "/app": (302, "/app/"), "/app/": (200, ""), "/loop": (302, "/loop2"),
              "/loop2": (302, "/loop"), "/far": (302, "http://example.invalid/"), "/missing": (404, "")}

    def do_GET(self):  # noqa: N802 - http.server's name
        status, location = self.routes.get(self.path, (404, ""))
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _tcp_server(behaviour):
    """A listener whose accepted connections get ``behaviour(conn)``; returns (port, close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=behaviour, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()

    def close():
        stop.set()
        listener.close()

    return listener.getsockname()[1], close


def _greets(conn):
    conn.sendall(b"SSH-2.0-Fake_1.0\r\n")
    time.sleep(2)
    conn.close()


def _silent(conn):
    time.sleep(3)
    conn.close()


def _closes(conn):
    conn.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_port_is_classified_and_its_paths_probed(http_server):
    probe = probe_port("127.0.0.1", http_server, ["/app", "/missing", "/"])
    assert probe.protocol == HTTP
    assert [(p.path, p.status) for p in probe.paths] == [("/app", 200), ("/missing", 404), ("/", 404)]
    assert probe.first_ok() == "/app"


def test_redirect_loop_is_an_error_naming_the_chain(http_server):
    result = http_path("127.0.0.1", http_server, "/loop")
    assert not result.ok
    assert "redirect loop" in result.error and "/loop2" in result.error


def test_redirect_elsewhere_is_the_answer(http_server):
    result = http_path("127.0.0.1", http_server, "/far")
    assert result.status == 302 and result.ok


def test_greeting_server_is_tcp_with_its_greeting():
    port, close = _tcp_server(_greets)
    try:
        probe = probe_port("127.0.0.1", port, ["/"])
    finally:
        close()
    assert probe.protocol == TCP and probe.greeting == "SSH-2.0-Fake_1.0"


def test_silent_server_is_tcp_held_open():
    port, close = _tcp_server(_silent)
    try:
        started = time.monotonic()
        probe = probe_port("127.0.0.1", port, ["/"])
        elapsed = time.monotonic() - started
    finally:
        close()
    assert probe.protocol == TCP and probe.held and probe.greeting == ""
    assert elapsed < 10  # bounded: the greeting wait and one HTTP timeout at most


def test_accept_then_close_differs_from_a_silent_listener():
    """Docker's port proxy accepts and closes when nothing listens behind it: that must not pass."""
    silent_port, close_silent = _tcp_server(_silent)
    closing_port, close_closing = _tcp_server(_closes)
    try:
        original = probe_port("127.0.0.1", silent_port, [])
        proxy = probe_port("127.0.0.1", closing_port, [], known=TCP)
    finally:
        close_silent()
        close_closing()
    rows = compare(original, proxy)
    assert rows[0].match is False
    assert "accepts, then closes" in table(rows)


def test_nothing_listening_is_closed():
    assert probe_port("127.0.0.1", _free_port(), ["/"]).protocol == CLOSED


def test_http_rows_compare_status_classes():
    original = PortProbe(8080, HTTP, paths=(parity_path("/app/", 200), parity_path("/", 404)))
    same = PortProbe(8080, HTTP, paths=(parity_path("/app/", 200), parity_path("/", 404)))
    worse = PortProbe(8080, HTTP, paths=(parity_path("/app/", 503), parity_path("/", 404)))
    assert all(r.match for r in compare(original, same))
    assert [r.match for r in compare(original, worse)] == [False, True]


def parity_path(path, status):
    from a2c.probe import PathResult

    return PathResult(path, status)


def _document(port, health="/", ports=None, candidates=()):
    return {"analysisInfo": {"ports": [{"localPort": p, "protocol": "tcp"} for p in (ports or [port])],
                             "healthCandidates": list(candidates)},
            "containerParameters": {"applicationPort": port, "healthCheckPath": health}}


class Local:
    is_local = True
    name = "local"

    def probe_address(self, address):
        return "127.0.0.1"


def test_record_picks_the_first_candidate_answering_on_the_original(http_server):
    document = _document(http_server, "/missing", candidates=[{"path": "/app"}])
    findings = parity.record(document, parity.probe_original(Local(), document))
    assert document["containerParameters"]["healthCheckPath"] == "/app"
    assert findings[0].code == "PROBE-I001"
    assert document["analysisInfo"]["probes"]["ports"][0]["protocol"] == "http"
    assert document["analysisInfo"]["ports"][0]["applicationProtocol"] == "http"


def test_record_moves_the_application_port_off_a_tcp_port_to_the_http_one(http_server):
    """A server with a TCP port and a web console: the console's port answers the health check."""
    port, close = _tcp_server(_silent)
    try:
        document = _document(port, ports=[port, http_server], candidates=[{"path": "/ok", "port": http_server}])
        parity.record(document, parity.probe_original(Local(), document))
    finally:
        close()
    params = document["containerParameters"]
    assert params["applicationPort"] == http_server and params["healthCheckPath"] == "/ok"


def test_record_warns_when_no_path_answers(http_server):
    document = _document(http_server, "/missing")
    findings = parity.record(document, parity.probe_original(Local(), document))
    assert findings[0].code == "PROBE-W001" and "/missing 404" in findings[0].message


def test_a_host_that_cannot_be_reached_falls_back_to_what_analyze_recorded(http_server):
    class Snapshot(Local):
        is_local = False
        name = "snapshot"

        def probe_address(self, address):
            return None

    document = _document(http_server)
    parity.record(document, parity.probe_original(Local(), document))
    found = parity.baseline(Snapshot(), document)
    assert found.source == "analysis" and found.probes[0].protocol == HTTP
    assert "not reachable" in found.reason
    del document["analysisInfo"]["probes"]
    assert parity.baseline(Snapshot(), document).source == "health check"


def test_a_stopped_original_says_so():
    document = _document(_free_port())
    found = parity.probe_original(Local(), document)
    assert isinstance(found, Baseline) and not found.probes and "not running" in found.reason
