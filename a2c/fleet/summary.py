"""The fleet summary after ``a2c remote inventory --all`` (or ``--group``): pure, from what each host told.

- applications by type, version and runtime, and on which hosts;
- the ports they listen on;
- dependencies between hosts: a process of one host with an established connection to an
  address of another host, on a port that host listens on (the listener named when it is an
  inventoried application);
- the hosts that failed, and why.

Its input is one HostReport per host (``host-facts.json`` in ``remote/<target>/`` holds the
facts part); its output a JSON-ready dict the CLI prints as tables or as JSON.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

MAX_EXTERNAL = 200  # connections to addresses outside the fleet listed (the count is always given)

_DOTNET_FRAMEWORK = re.compile(r"/shared/Microsoft\.(?:NETCore|AspNetCore)\.App/([0-9][0-9A-Za-z.+-]{0,40})/")


@dataclass(frozen=True)
class HostReport:
    target: str
    host: str
    ok: bool
    addresses: tuple[str, ...] = ()  # the addresses other hosts reach it by
    applications: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # id -> inventory entry (+ version, runtime)
    processes: tuple[Mapping[str, Any], ...] = ()  # pid, applicationId, listening, connections
    error: str = ""
    hint: str = ""
    kind: str = ""


def normal_address(address: str) -> str:
    """An address as compared: IPv4-mapped IPv6 as IPv4, brackets and zone ids dropped."""
    text = address.strip().strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def _is_wildcard(address: str) -> bool:
    return address in ("", "*", "0.0.0.0", "::")


def dotnet_runtime(mapped_files: Iterable[str]) -> str:
    """The .NET runtime version a process loaded (``…/shared/Microsoft.NETCore.App/8.0.1/…``)."""
    for path in mapped_files:
        match = _DOTNET_FRAMEWORK.search(path)
        if match:
            return f".NET {match.group(1)}"
    return ""


def java_release_version(release_text: str) -> str:
    """JAVA_VERSION from a JDK's ``release`` file."""
    for line in release_text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "JAVA_VERSION":
            version = value.strip().strip("\"'")
            return f"Java {version}" if version else ""
    return ""


def listener(report: HostReport, port: int, address: str) -> Mapping[str, Any] | None:
    """The process of ``report`` listening on ``port`` at ``address`` (or on a wildcard)."""
    for process in report.processes:
        for socket in process.get("listening", ()):
            bound = normal_address(str(socket.get("address", "")))
            if int(socket.get("port", 0)) == port and (_is_wildcard(bound) or bound == address):
                return process
    return None


def build_summary(reports: Sequence[HostReport]) -> dict[str, Any]:
    ok = [r for r in reports if r.ok]
    by_address: dict[str, list[HostReport]] = {}
    for report in ok:
        for address in {normal_address(a) for a in report.addresses}:
            by_address.setdefault(address, []).append(report)

    kinds: dict[tuple[str, str, str], dict[str, Any]] = {}
    ports: list[dict[str, Any]] = []
    for report in ok:
        for app_id, entry in sorted(report.applications.items()):
            key = (str(entry.get("applicationType", "")), str(entry.get("version", "") or ""),
                   str(entry.get("runtime", "") or ""))
            row = kinds.setdefault(key, {"applicationType": key[0], "version": key[1], "runtime": key[2],
                                         "count": 0, "targets": []})
            row["count"] += 1
            if report.target not in row["targets"]:
                row["targets"].append(report.target)
            for port in entry.get("ports", ()):
                ports.append({"target": report.target, "applicationId": app_id, "applicationType": key[0],
                              "port": int(port)})

    own = {r.target: {normal_address(a) for a in r.addresses} for r in ok}
    dependencies: dict[tuple[Any, ...], dict[str, Any]] = {}
    external: list[dict[str, Any]] = []
    external_count = 0
    for report in ok:
        for process in report.processes:
            own_ports = {int(sock.get("port", 0)) for sock in process.get("listening", ())}
            for connection in process.get("connections", ()):
                if int(connection.get("localPort", 0) or 0) in own_ports:
                    continue  # accepted on one of its own listening ports: inbound, seen from the other side
                address = normal_address(str(connection.get("remoteAddress", "")))
                port = int(connection.get("remotePort", 0))
                if not address or not port or address in own[report.target]:
                    continue  # the host talking to itself
                peers = [r for r in by_address.get(address, ()) if r.target != report.target]
                if not peers and _is_loopback(address):
                    continue  # loopback stays on the host (unless another target is reached by it, as in tests)
                source = {"target": report.target, "applicationId": process.get("applicationId") or None,
                          "pid": process.get("pid")}
                matched = False
                for peer in peers:
                    serving = listener(peer, port, address)
                    if serving is None:
                        continue
                    matched = True
                    edge = (report.target, source["applicationId"], peer.target, port)
                    dependencies.setdefault(edge, {
                        "from": source,
                        "to": {"target": peer.target, "address": address, "port": port,
                               "applicationId": serving.get("applicationId") or None, "pid": serving.get("pid")}})
                if not matched:
                    external_count += 1
                    if len(external) < MAX_EXTERNAL:
                        external.append({**source, "address": address, "port": port,
                                         "knownHost": peers[0].target if peers else None})

    failed = [{"target": r.target, "host": r.host, "kind": r.kind, "error": r.error, "hint": r.hint}
              for r in reports if not r.ok]
    return {
        "hosts": {"total": len(reports), "succeeded": len(ok), "failed": len(failed)},
        "applications": sorted(({**k, "targets": sorted(k["targets"])} for k in kinds.values()), key=lambda r: (r["applicationType"], r["version"], r["runtime"])),
        "ports": sorted(ports, key=lambda p: (p["target"], p["port"], p["applicationId"])),
        "dependencies": [dependencies[k] for k in sorted(dependencies, key=lambda k: tuple(str(x) for x in k))],
        "externalConnections": {"count": external_count, "listed": external},
        "failed": sorted(failed, key=lambda f: f["target"]),
    }


def summary_tables(summary: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The summary as (title, headers, rows) tables for a terminal."""
    tables = []
    tables.append(("Applications", ["TYPE", "VERSION", "RUNTIME", "COUNT", "TARGETS"],
                   [[a["applicationType"], a["version"] or "-", a["runtime"] or "-", str(a["count"]),
                     _short(a["targets"])] for a in summary["applications"]]))
    tables.append(("Ports", ["TARGET", "APPLICATION ID", "PORT"],
                   [[p["target"], p["applicationId"], str(p["port"])] for p in summary["ports"]]))
    tables.append(("Dependencies between hosts", ["FROM", "APPLICATION", "TO", "PORT", "LISTENER"],
                   [[d["from"]["target"], d["from"]["applicationId"] or f"pid {d['from']['pid']}", d["to"]["target"],
                     str(d["to"]["port"]), d["to"]["applicationId"] or f"pid {d['to']['pid']}"]
                    for d in summary["dependencies"]]))
    tables.append(("Failed hosts", ["TARGET", "HOST", "KIND", "WHY"],
                   [[f["target"], f["host"], f["kind"], f["error"]] for f in summary["failed"]]))
    return tables


def _short(names: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit})" if len(names) > limit else "")
