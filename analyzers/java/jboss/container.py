"""The container's copies: the entry point without a loopback bind address, and standalone.xml with
its public interface open and every secret an ``${env.…}`` expression."""

from __future__ import annotations

import re
from typing import Any

from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.analyzers.common.secrets import env_var_for
from a2c.analyzers.java import common
from a2c.analyzers.java.jboss.datasources import mask_url, secret_spots
from a2c.analyzers.java.jboss.serverconfig import CONFIG_READ_LIMIT, _children, _elements
from a2c.errors import HostError
from a2c.hosts.base import Host


def container_entrypoint(cmdline: list[str], secrets: list[dict[str, str]]) -> tuple[str, ...]:
    """common.entry_command, minus a loopback-only public bind address (``-b 127.0.0.1``,
    ``-b=localhost``, ``-Djboss.bind.address=::1``): in a container it would be unreachable."""
    args = list(common.entry_command(cmdline, secrets))
    kept: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-b" and index + 1 < len(args) and args[index + 1] in common.LOOPBACK:
            index += 2
            continue
        key, sep, value = arg.partition("=")
        if sep and key in ("-b", "-Djboss.bind.address") and value in common.LOOPBACK:
            index += 1
            continue
        kept.append(arg)
        index += 1
    return tuple(kept)


def public_interfaces(root: Any) -> set[str]:
    """Interfaces that serve applications: used by a socket binding other than management-*."""
    names: set[str] = set()
    for group in _elements(root, "socket-binding-group"):
        default = group.get("default-interface", "")
        for binding in _children(group, "socket-binding"):
            if not binding.get("name", "").startswith("management"):
                names.add(binding.get("interface", default))
    names.discard("management")
    names.discard("")
    return names


def _open_interface(element: Any) -> bool:
    """Turn one interface's loopback criterion into all addresses; True when it changed."""
    for criterion in element:
        kind = local_name(criterion)
        if kind == "inet-address":
            value = criterion.get("value", "")
            expression = re.fullmatch(r"\$\{([^:}]+):([^}]*)\}", value)
            if expression and expression.group(2) in common.LOOPBACK:
                criterion.set("value", "${%s:0.0.0.0}" % expression.group(1))
                return True
            if value in common.LOOPBACK:
                criterion.set("value", "0.0.0.0")
                return True
        elif kind in ("loopback", "loopback-address"):
            namespace = criterion.tag.partition("}")[0] + "}" if criterion.tag.startswith("{") else ""
            criterion.tag = namespace + "any-address"
            criterion.attrib.clear()
            return True
    return False


def container_server_config(host: Host, path: str, secrets: list[dict[str, str]]) -> bytes | None:
    """standalone.xml for the image: the public interface open to all addresses (management stays on
    loopback) and every secret an ``${env.…}`` expression; None when nothing needs changing or the
    file cannot be read safely."""
    try:
        root = parse_xml(host.read_bytes(path, limit=CONFIG_READ_LIMIT), path)
    except (UnsafeXML, HostError):
        return None
    changed = False
    public = public_interfaces(root)
    for element in _elements(root, "interface"):
        parent = element.getparent()
        if parent is not None and local_name(parent) == "interfaces" and element.get("name") in public:
            changed = _open_interface(element) or changed
    mine = [s for s in secrets if s.get("foundIn") == path]
    by_spot = {(s["name"], int(s.get("line", 0) or 0)): s["envVar"] for s in mine}
    by_name = {s["name"]: s["envVar"] for s in reversed(mine)}  # the first one of a name
    for spot in secret_spots(root):
        env_var = by_spot.get((spot.name, spot.element.sourceline or 0)) or by_name.get(spot.name)
        reference = "${env.%s}" % (env_var or env_var_for(spot.name))
        if spot.in_url:
            spot.element.text = mask_url(spot.element.text or "", reference)
        elif spot.attribute:
            spot.element.set(spot.attribute, reference)
        else:
            spot.element.text = reference
        changed = True
    return serialize_xml(root) if changed else None
