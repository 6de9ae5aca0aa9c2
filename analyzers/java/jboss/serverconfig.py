"""Readers of a server configuration (standalone.xml): interfaces, socket bindings, listeners, the HTTP port.

Also the small element helpers the other readers of the package share.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml
from a2c.analyzers.java.jboss.expressions import _int, resolve_expression
from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import Finding

CONFIG_READ_LIMIT = 8 * 1024 * 1024


def read_server_config(host: Host, path: str) -> tuple[Any, list[Finding]]:
    try:
        return parse_xml(host.read_bytes(path, limit=CONFIG_READ_LIMIT), path), []
    except UnsafeXML as exc:
        return None, [Finding("JBOSS-E001", "error", exc.message, path)]
    except HostError as exc:
        return None, [Finding("JBOSS-E002", "error", exc.message, path)]


def _children(element: Any, name: str) -> Iterator[Any]:
    return (c for c in element if local_name(c) == name)


def _child(element: Any, name: str) -> Any:
    return next(_children(element, name), None)


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def _elements(root: Any, name: str) -> Iterator[Any]:
    return (e for e in root.iter() if local_name(e) == name)


def parse_interfaces(root: Any, props: Mapping[str, str], environ: Mapping[str, str]) -> list[dict[str, str]]:
    """Named interfaces and the address each resolves to (``nic:eth0`` style for NIC criteria)."""
    interfaces = []
    for element in _elements(root, "interface"):
        parent = element.getparent()
        if parent is None or local_name(parent) != "interfaces":
            continue
        criteria = next((c for c in element if isinstance(c.tag, str)), None)
        kind = local_name(criteria) if criteria is not None else ""
        raw = criteria.get("value", criteria.get("name", "")) if criteria is not None else ""
        if kind == "any-address":
            address = "0.0.0.0"
        elif kind == "loopback":
            address = "127.0.0.1"
        elif kind in ("inet-address", "loopback-address"):
            address = resolve_expression(raw, props, environ)
        else:
            address = f"{kind}:{raw}" if raw else kind
        interfaces.append({"name": element.get("name", ""), "criteria": kind, "value": raw, "address": address})
    return interfaces


def parse_socket_bindings(root: Any | None, props: Mapping[str, str], environ: Mapping[str, str],
                          interfaces: list[dict[str, str]]) -> dict[str, Any]:
    """The socket binding group: default interface, port offset and each binding's effective port."""
    group = next(_elements(root, "socket-binding-group"), None) if root is not None else None
    if group is None:
        return {"name": "", "defaultInterface": "", "portOffset": 0, "portOffsetExpression": "", "bindings": [],
                "outbound": []}
    addresses = {i["name"]: i["address"] for i in interfaces}
    offset_raw = group.get("port-offset", "0")
    offset = _int(resolve_expression(offset_raw, props, environ)) or 0
    default_interface = group.get("default-interface", "")
    bindings = []
    for element in _children(group, "socket-binding"):
        port_raw = element.get("port", "")
        port = _int(resolve_expression(port_raw, props, environ)) if port_raw else None
        fixed = resolve_expression(element.get("fixed-port", "false"), props, environ) == "true"
        interface = element.get("interface", default_interface)
        bindings.append({
            "name": element.get("name", ""),
            "port": port if port is not None else port_raw,
            "effectivePort": (port if fixed or port == 0 else port + offset) if port is not None else 0,
            "fixedPort": fixed,
            "interface": interface,
            "address": addresses.get(interface, ""),
        })
    outbound = []
    for element in _children(group, "outbound-socket-binding"):
        destination = _child(element, "remote-destination")
        if destination is not None:
            outbound.append({
                "name": element.get("name", ""),
                "host": resolve_expression(destination.get("host", ""), props, environ),
                "port": _int(resolve_expression(destination.get("port", ""), props, environ)) or 0,
            })
    return {"name": group.get("name", ""), "defaultInterface": default_interface, "portOffset": offset,
            "portOffsetExpression": offset_raw, "bindings": bindings, "outbound": outbound}


def parse_listeners(root: Any) -> list[dict[str, str]]:
    """Undertow's listeners and the socket binding each one uses."""
    return [
        {"type": local_name(e), "name": e.get("name", ""), "socketBinding": e.get("socket-binding", "")}
        for e in root.iter() if local_name(e) in ("http-listener", "https-listener", "ajp-listener")
    ]


def http_port(sockets: Mapping[str, Any], listeners: list[dict[str, str]], props: Mapping[str, str]) -> int:
    """The effective port of the first plain HTTP listener's binding (``http`` when none is declared);
    without one, WildFly's default: ``jboss.http.port`` (8080) plus ``jboss.socket.binding.port-offset``."""
    by_name = {b["name"]: b for b in sockets.get("bindings", [])}
    names = [l["socketBinding"] for l in listeners if l["type"] == "http-listener"] or ["http"]
    for name in names:
        binding = by_name.get(name)
        if binding and binding["effectivePort"]:
            return int(binding["effectivePort"])
    port = _int(props.get("jboss.http.port", "8080")) or 8080
    return port + (_int(props.get("jboss.socket.binding.port-offset", "0")) or 0)
