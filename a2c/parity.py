"""Parity with the original, between analysis.json and the probes (a2c/probe.py does the network).

- Which ports and paths to probe: every port the process listens on (``analysisInfo.ports``);
  on HTTP ports the health check path, the analyzer's candidates (``analysisInfo.healthCandidates``:
  web contexts, Spring's context path and Actuator, ASP.NET health endpoints) and ``/``.
- The original's answers (at analyze time, again before containerize builds when it still runs).
- The health check chosen from them: the first candidate answering below 400 on the original.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping, MutableMapping

from a2c.hosts.base import Host
from a2c.model import Finding
from a2c.probe import CLOSED, HTTP, Baseline, PortProbe, is_loopback, probe_all

Document = MutableMapping[str, Any]


def listening(document: Mapping[str, Any]) -> dict[int, str]:
    """{port: bound address} of the original, from analysisInfo.ports (the application port when none)."""
    info, params = document["analysisInfo"], document["containerParameters"]
    found: dict[int, str] = {}
    for entry in info.get("ports") or ():
        try:
            port = int(entry.get("localPort") or 0)
        except (TypeError, ValueError, AttributeError):
            continue
        if 0 < port < 65536 and port not in found and not entry.get("incidental"):
            found[port] = str(entry.get("address", ""))
    app_port = int(params.get("applicationPort") or 0)
    if app_port and app_port not in found:
        found[app_port] = ""
    return found


EPHEMERAL = (32768, 60999)  # Linux's default ip_local_port_range
CONFIG_SUFFIXES = (".properties", ".cfg", ".conf", ".xml", ".yml", ".yaml", ".json", ".ini", ".config", ".toml", ".env")
MAX_FILES = 300
MAX_BYTES = 1024 * 1024


def _paths_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("/") and value.lower().endswith(CONFIG_SUFFIXES) else []
    if isinstance(value, Mapping):
        return [p for v in value.values() for p in _paths_in(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _paths_in(v)]
    return []


def ephemeral_range(host: Host) -> tuple[int, int]:
    """The host's ip_local_port_range, else Linux's default."""
    from a2c.errors import HostError

    try:
        low, high = (int(v) for v in host.read_text("/proc/sys/net/ipv4/ip_local_port_range", limit=64).split()[:2])
    except (HostError, OSError, ValueError):
        return EPHEMERAL
    return (low, high) if 0 < low <= high < 65536 else EPHEMERAL


def mark_incidental(document: Document, host: Host, guessed_port: bool = False) -> list[Finding]:
    """Mark the ports nothing configures: in the ephemeral range and named neither on the command
    line, nor in the environment, nor in any configuration file the analysis lists (the JVM's
    local JMX connector, RMI). They get another number at every start, so they are neither
    probed for parity nor exposed. The application and health check ports are never marked,
    unless the analyzer only guessed the application port (process mode takes the first port
    listed): then a marked one gives way to the first port that is not."""
    import re

    from a2c.errors import HostError

    info, params = document["analysisInfo"], document["containerParameters"]
    keep = {int(params.get("healthCheckPort") or 0)} | (set() if guessed_port else {int(params.get("applicationPort") or 0)})
    low, high = ephemeral_range(host)
    candidates = [e for e in info.get("ports") or () if isinstance(e.get("localPort"), int)
                  and low <= e["localPort"] <= high and e["localPort"] not in keep]
    if not candidates:
        return []
    texts = [" ".join(info.get("cmdline") or ()), " ".join(str(v) for v in (info.get("env") or {}).values())]
    for path in list(dict.fromkeys(_paths_in(info)))[:MAX_FILES]:
        try:
            texts.append(host.read_text(path, limit=MAX_BYTES))
        except (HostError, OSError, ValueError):
            continue
    marked = []
    for entry in candidates:
        port = int(entry["localPort"])
        if not any(re.search(rf"(?<![0-9]){port}(?![0-9])", text) for text in texts):
            entry["incidental"] = "an ephemeral port that no command line option or configuration file names"
            marked.append(port)
    if not marked:
        return []
    if int(params.get("applicationPort") or 0) in marked:
        params["applicationPort"] = next((int(e["localPort"]) for e in info.get("ports") or ()
                                          if not e.get("incidental")), 0)
    return [Finding("PROBE-I004", "info", f"port {', '.join(map(str, marked))} is named by no option or configuration "
                    "file and lies in the ephemeral range (the JVM's local JMX or RMI connector, say): it gets another "
                    "number at each start, so it is neither probed nor exposed")]


def health_spec(document: Mapping[str, Any]) -> tuple[int, str]:
    """(port, path) of the health check: healthCheckPort (else applicationPort) and healthCheckPath."""
    params = document["containerParameters"]
    port = int(params.get("healthCheckPort") or 0) or int(params.get("applicationPort") or 0)
    return port, params.get("healthCheckPath") or "/"


def candidates(document: Mapping[str, Any]) -> dict[int, list[str]]:
    """{port: paths to try, in order}; each port gets ``/`` last."""
    info, params = document["analysisInfo"], document["containerParameters"]
    app_port = int(params.get("applicationPort") or 0)
    found: dict[int, list[str]] = {port: [] for port in listening(document)}
    port, path = health_spec(document)
    if port:
        found.setdefault(port, []).append(path)
    for entry in info.get("healthCandidates") or ():
        target = int(entry.get("port") or 0) or app_port
        if target:
            found.setdefault(target, []).append(str(entry["path"]))
    return {p: list(dict.fromkeys(paths + ["/"])) for p, paths in found.items()}


def probe_original(host: Host, document: Mapping[str, Any]) -> Baseline:
    """The original's answers now, or a Baseline with no probes and the reason it could not be asked."""
    ports = listening(document)
    if not ports:
        return Baseline(source="health check", reason="the analysis lists no port the application listens on")
    addresses: dict[int, str] = {}
    for port, bound in ports.items():
        address = host.probe_address(bound)
        if address is None:
            return Baseline(source="health check", reason=f"{host.name} is not reachable from here to probe "
                                                          f"(an archive or a snapshot, not the running host)")
        addresses[port] = address
    probes = probe_all(addresses, candidates(document))
    if all(p.protocol == CLOSED for p in probes):
        return Baseline(source="health check", reason=f"the original is not running: nothing accepts on port "
                                                      f"{', '.join(map(str, ports))}")
    return Baseline(probes, "original", optional=optional_ports(document))


def optional_ports(document: Mapping[str, Any]) -> frozenset[int]:
    """Ports bound to loopback on the original other than the application's and the health
    check's: reachable only from the host itself (Tomcat's shutdown port, a local admin port),
    so an image that keeps them private is not wrong."""
    port, _ = health_spec(document)
    app_port = int(document["containerParameters"].get("applicationPort") or 0)
    return frozenset(p for p, bound in listening(document).items() if bound and is_loopback(bound)
                     and p not in (port, app_port))


def recorded(document: Mapping[str, Any]) -> Baseline:
    """The probes analyze recorded, when the original cannot be asked again."""
    record = document["analysisInfo"].get("probes") or {}
    try:
        probes = [PortProbe.from_json(p) for p in record.get("ports", ())]
    except (KeyError, TypeError, ValueError, AttributeError):
        return Baseline(source="health check", reason="the probes recorded in analysis.json cannot be read")
    probes = [p for p in probes if 0 < p.port < 65536]
    if not probes:
        return Baseline(source="health check", reason="analyze did not probe the original either")
    return Baseline(probes, "analysis", f"as analyze recorded them at {record.get('probedAt', '?')}",
                    optional=optional_ports(document))


def baseline(host: Host, document: Mapping[str, Any]) -> Baseline:
    """What containerize validates against: the original asked now; else what analyze recorded;
    else the health check alone. ``reason`` says why the better ones were not available."""
    live = probe_original(host, document)
    if live.probes:
        return live
    saved = recorded(document)
    if saved.probes:
        saved.reason = f"{live.reason}; the original's answers {saved.reason}"
        return saved
    return Baseline(source="health check", reason=f"{live.reason}; {saved.reason}")


def record(document: Document, found: Baseline) -> list[Finding]:
    """Write the original's answers into analysis.json and choose the health check from them:
    the analyzer's path when it answers below 400, else the first candidate that does, on the
    application port first and then on any other HTTP port. Returns findings saying what was
    chosen, or that nothing answered."""
    info, params = document["analysisInfo"], document["containerParameters"]
    if not found.probes:
        return [Finding("PROBE-I002", "info", f"the original was not probed ({found.reason}); the health check path "
                        f"{params.get('healthCheckPath') or '/'} is the analyzer's choice, not checked")]
    info["probes"] = {"probedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                      "ports": [p.to_json() for p in found.probes]}
    by_port = {p.port: p for p in found.probes}
    for entry in info.get("ports") or ():
        probe = by_port.get(int(entry.get("localPort") or 0))
        if probe is not None and probe.protocol != CLOSED:
            entry["applicationProtocol"] = probe.protocol
    port, path = health_spec(document)
    app_port = int(params.get("applicationPort") or 0)
    order = [by_port[p] for p in dict.fromkeys([port, app_port] + list(by_port)) if p in by_port]
    http = [p for p in order if p.protocol == HTTP]
    tried = "; ".join(f"port {p.port}: " + ", ".join(f"{r.path} {r.shown()}" for r in p.paths) for p in http)
    if not http:
        kinds = ", ".join(f"{p.port} {p.protocol}" for p in order)
        return [Finding("PROBE-I003", "info", f"no port of the original speaks HTTP ({kinds}); the image is validated "
                        "by its TCP behaviour on every port")]
    current = by_port.get(port)
    if current is not None and current.protocol == HTTP and any(r.path == path and r.ok for r in current.paths):
        return [Finding("PROBE-I001", "info", f"health check {path} on port {port} answers "
                        f"{next(r.shown() for r in current.paths if r.path == path)} on the original")]
    for probe in http:
        chosen = probe.first_ok()
        if chosen is None:
            continue
        params["healthCheckPath"] = chosen
        if probe.port != app_port and by_port.get(app_port) is not None and by_port[app_port].protocol != HTTP:
            params["applicationPort"] = probe.port  # the service's HTTP port, not its TCP one
            params.pop("healthCheckPort", None)
        elif probe.port != app_port:
            params["healthCheckPort"] = probe.port
        else:
            params.pop("healthCheckPort", None)
        return [Finding("PROBE-I001", "info", f"health check {chosen} on port {probe.port}: the first path that answers "
                        f"below 400 on the original (tried {tried})")]
    return [Finding("PROBE-W001", "warning", f"no path answered below 400 on the original (tried {tried}); set "
                    "containerParameters.healthCheckPath to one that does before containerize")]

