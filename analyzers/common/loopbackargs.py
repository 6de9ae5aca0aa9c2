"""Loopback listen addresses on a command line, opened up for the container.

A server started as ``NetworkServerControl start -h 127.0.0.1``, ``-Dh2.bindAddress=127.0.0.1``
or ``--bind=localhost:9000`` listens on the host's loopback only; inside a container that is
unreachable from the published port. When the process is seen listening on a loopback address,
such a value becomes ``0.0.0.0`` in the image's command line (the host's stays as it is).

What counts as a listen address: the value of an option whose name says host, address, bind,
listen or interface (``-h`` too, the short form servers use), as ``--opt=V``, ``-opt V`` or
``-Dkey=V``; and a ``host:port`` value whose port is one the process listens on. Names that
say a client end (url, server(s), connect, remote, target, peer, jdbc) are left alone.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

LOOPBACK = re.compile(r"^(?:127(?:\.\d{1,3}){3}|localhost|::1|\[::1\]|ip6-localhost)$", re.IGNORECASE)
ADDRESS_WORDS = {"host", "hostname", "address", "addr", "bind", "listen", "interface", "iface", "ip"}
CLIENT_WORDS = {"url", "uri", "server", "servers", "connect", "connection", "remote", "target", "peer", "jdbc",
                "proxy", "upstream", "client", "broker", "brokers", "bootstrap"}
OPEN = "0.0.0.0"


def is_loopback(address: str) -> bool:
    return bool(LOOPBACK.match(address.strip()))


def _words(name: str) -> set[str]:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.lstrip("-"))
    return {w for w in re.split(r"[^a-z0-9]+", name.lower()) if w}


BIND_WORDS = {"bind", "listen", "interface", "iface"}
NEVER_OPENED = ("jmxremote", "jdwp", "debug")  # management and debug endpoints stay private


def _names_listener(name: str, tied: bool = True) -> bool:
    """A listen address option: one whose name says bind/listen/interface, or host/address (and
    ``-h``/``-b``) when the same command line names a loopback port the process listens on
    (``-h 127.0.0.1 -p 1527``); ``spring.redis.host=localhost`` alone is a client's setting."""
    if any(word in name.lower() for word in NEVER_OPENED):
        return False
    words = _words(name)
    if words & CLIENT_WORDS:
        return False
    if words & BIND_WORDS:
        return True
    return tied and (name in ("-h", "-b") or bool(words & ADDRESS_WORDS))


def _names_client(name: str) -> bool:
    return bool(_words(name) & CLIENT_WORDS)


def _opened(value: str, ports: frozenset[int], named: bool, client: bool = False) -> str | None:
    """The value with its loopback host replaced, or None when it is no listen address."""
    if client or not named and value.count(":") == 1 and any(w in value for w in NEVER_OPENED):
        return None
    if named and is_loopback(value):
        return "[::]" if value.startswith("[") else OPEN
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and int(port) in ports and is_loopback(host):
        return ("[::]" if host.startswith("[") else OPEN) + ":" + port
    return None


def open_loopback_args(cmdline: Sequence[str], ports: Iterable[int]) -> tuple[list[str], list[str]]:
    """(the command line for the image, "before -> after" for each argument changed); ``ports``
    are the ports the process listens on at a loopback address (none: nothing changes)."""
    loopback_ports = frozenset(ports)
    args = list(cmdline)
    if not loopback_ports:
        return args, []
    changes = []
    # The address options count only when the command line also names a port of the process.
    numbers = (re.fullmatch(r"(?:.*[=:])?([0-9]{1,5})", a) for a in args)
    tied = any(int(m.group(1)) in loopback_ports for m in numbers if m)
    for index, arg in enumerate(args):
        new = None
        if arg.startswith("-D") and "=" in arg:
            key, _, value = arg[2:].partition("=")
            opened = _opened(value, loopback_ports, _names_listener(key, tied), _names_client(key))
            new = f"-D{key}={opened}" if opened else None
        elif arg.startswith("-") and "=" in arg:
            key, _, value = arg.partition("=")
            opened = _opened(value, loopback_ports, _names_listener(key, tied), _names_client(key))
            new = f"{key}={opened}" if opened else None
        elif index and args[index - 1].startswith("-") and "=" not in args[index - 1]:
            new = _opened(arg, loopback_ports, _names_listener(args[index - 1], tied), _names_client(args[index - 1]))
        if new is not None and new != arg:
            changes.append(f"{arg} -> {new}")
            args[index] = new
    return args, changes


# Servers that refuse clients from other hosts unless a switch allows them, whatever address they
# bind (H2 prints "only local connections"). In a container every client is another host, Docker's
# port proxy included: main class -> (the switch that starts a listener, the one that opens it).
REMOTE_SWITCHES = {
    "org.h2.tools.Server": (("-tcp", "-tcpAllowOthers"), ("-web", "-webAllowOthers"), ("-pg", "-pgAllowOthers")),
}


def allow_remote_clients(cmdline: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the command line with the servers' allow-others switches added, the switches added)."""
    args = list(cmdline)
    for main_class, switches in REMOTE_SWITCHES.items():
        if main_class not in args:
            continue
        after = args.index(main_class) + 1
        added = [allow for start, allow in switches if start in args[after:] and allow not in args[after:]]
        return args[:after] + added + args[after:], added
    return args, []


def loopback_ports(sockets: Iterable[tuple[int, str]]) -> list[int]:
    """The ports of (port, bound address) pairs bound to a loopback address."""
    return sorted({port for port, address in sockets if address and is_loopback(address.removeprefix("::ffff:"))})
