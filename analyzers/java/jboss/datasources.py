"""Datasources of a server configuration, and its secrets.

Every password in the server configuration (datasource ``<password>``/``password=``,
``credential-reference clear-text``, secret-named ``xa-datasource-property``/``module-option``/
``property``, a ``password=`` inside a JDBC URL) is reported as ``****`` with an entry in
``analysisInfo.secrets``; the image gets a standalone.xml where each one is a ``${env.…}``
expression (see ``container``), resolved by WildFly from the container's environment. Other
server configurations in the configuration folder that hold passwords stay out of the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from a2c.analyzers.common import dependencies
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml
from a2c.analyzers.common.secrets import MASK, env_var_for, is_secret_name
from a2c.analyzers.java.jboss.expressions import resolve_expression
from a2c.analyzers.java.jboss.serverconfig import CONFIG_READ_LIMIT, _child, _children, _text
from a2c.errors import HostError
from a2c.hosts.base import Host, join

# A password inside a JDBC URL: ?password=x / ;password=x, //user:pass@host, oracle thin:user/pass@.
_URL_SECRETS = (
    re.compile(r"(?i)([?&;:]password=)([^&;]*)"),
    re.compile(r"(//[^/@:?;]+:)([^@/?;]*)(?=@)"),
    re.compile(r"(?i)(:thin:[^@/:]+/)([^@]*)(?=@)"),
)


# -- secrets ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SecretSpot:
    """Where a secret sits in the configuration: an element's text (attribute "") or an attribute."""

    name: str
    element: Any
    attribute: str = ""
    in_url: bool = False


def _datasource_of(element: Any) -> Any:
    node = element
    while node is not None:
        if local_name(node) in ("datasource", "xa-datasource"):
            return node
        node = node.getparent()
    return None


def _owner_name(element: Any) -> str:
    datasource = _datasource_of(element)
    if datasource is not None:
        return datasource.get("pool-name") or datasource.get("jndi-name", "datasource")
    node = element.getparent()
    while node is not None:
        if node.get("name"):
            return f"{local_name(node)}.{node.get('name')}"
        node = node.getparent()
    return local_name(element)


def _is_literal(value: str) -> bool:
    """A value that is itself the secret (an expression is a reference to one, not a secret)."""
    value = value.strip()
    return bool(value) and not (value.startswith("${") and value.endswith("}"))


def secret_spots(root: Any) -> list[SecretSpot]:
    """Every literal secret in a server configuration, named ``<pool>.password``, ``<owner>.credential``, …"""
    spots: list[SecretSpot] = []
    for element in root.iter():
        tag = local_name(element)
        if not tag:
            continue
        owner = _owner_name(element)
        recovery = "recovery." if any(local_name(a) == "recover-credential" for a in element.iterancestors()) else ""
        if tag == "password" and _is_literal(element.text or ""):
            spots.append(SecretSpot(f"{owner}.{recovery}password", element))
        if _is_literal(element.get("password", "")):
            spots.append(SecretSpot(f"{owner}.{recovery}password", element, "password"))
        if tag == "credential-reference" and _is_literal(element.get("clear-text", "")):
            suffix = f"{recovery}password" if _datasource_of(element) is not None else "credential"
            spots.append(SecretSpot(f"{owner}.{suffix}", element, "clear-text"))
        if tag == "secret" and _is_literal(element.get("value", "")):
            spots.append(SecretSpot(f"{owner}.secret", element, "value"))
        if tag in ("xa-datasource-property", "module-option", "property", "config-property") \
                and is_secret_name(element.get("name", "")):
            if element.get("value") is not None and _is_literal(element.get("value", "")):
                spots.append(SecretSpot(f"{owner}.{element.get('name')}", element, "value"))
            elif element.get("value") is None and _is_literal(element.text or ""):
                spots.append(SecretSpot(f"{owner}.{element.get('name')}", element))
        if tag == "connection-url" and mask_url(element.text or "") != (element.text or ""):
            spots.append(SecretSpot(f"{owner}.connection-url.password", element, in_url=True))
    return _unique(spots)


def _unique(spots: list[SecretSpot]) -> list[SecretSpot]:
    seen: dict[str, int] = {}
    unique = []
    for spot in spots:
        count = seen.get(spot.name, 0) + 1
        seen[spot.name] = count
        unique.append(spot if count == 1 else SecretSpot(f"{spot.name}.{count}", spot.element, spot.attribute,
                                                          spot.in_url))
    return unique


def mask_url(url: str, replacement: str = MASK) -> str:
    """A JDBC URL with any password in it replaced."""
    for pattern in _URL_SECRETS:
        url = pattern.sub(lambda m: m.group(1) + replacement if m.group(2) else m.group(0), url)
    return url


def secrets_entries(spots: list[SecretSpot], path: str) -> list[dict[str, Any]]:
    return [{"name": s.name, "foundIn": path, "envVar": env_var_for(s.name), "line": s.element.sourceline or 0}
            for s in spots]


# -- datasources --------------------------------------------------------------------------------

def parse_datasources(root: Any, props: Mapping[str, str], environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """Datasources and XA datasources, passwords never included (``****`` when one is set)."""
    spots = secret_spots(root)
    found = []
    for element in root.iter():
        tag = local_name(element)
        parent = element.getparent()
        if tag not in ("datasource", "xa-datasource") or parent is None or local_name(parent) != "datasources":
            continue
        pool = element.get("pool-name") or element.get("jndi-name", "")
        security = _child(element, "security")
        user = ""
        has_password = False
        if security is not None:
            user = security.get("user-name") or _text(_child(security, "user-name"))
            credential = _child(security, "credential-reference")
            has_password = bool(security.get("password") or _text(_child(security, "password"))
                                or (credential is not None and credential.get("clear-text")))
        url = datasource_url(element)
        found.append({
            "poolName": pool,
            "jndiName": element.get("jndi-name", ""),
            "xa": tag == "xa-datasource",
            "enabled": resolve_expression(element.get("enabled", "true"), props, environ) != "false",
            "connectionUrl": mask_url(resolve_expression(url, props, environ)),
            "driver": _text(_child(element, "driver")),
            "userName": resolve_expression(user, props, environ),
            "password": MASK if has_password or any(_datasource_of(s.element) is element for s in spots) else "",
        })
    return found


def datasource_url(element: Any) -> str:
    """The connection URL, also of an XA datasource (its URL property or server/port/database)."""
    url = _text(_child(element, "connection-url"))
    if url:
        return url
    xa = {p.get("name", "").lower(): _text(p) for p in _children(element, "xa-datasource-property")}
    if xa.get("url"):
        return xa["url"]
    if xa.get("servername"):
        port = f":{xa['portnumber']}" if xa.get("portnumber") else ""
        driver = _text(_child(element, "driver")) or "jdbc"
        return f"jdbc:{driver}://{xa['servername']}{port}/{xa.get('databasename', '')}"
    return ""


def outbound_dependencies(datasources: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """One dependency per datasource with a URL, in the shape of a2c.analyzers.common.dependencies."""
    deps = []
    for ds in datasources:
        if not ds["connectionUrl"]:
            continue
        target = dependencies.parse_jdbc_url(ds["connectionUrl"])
        deps.append(dependencies.dependency(target["kind"], path, url=ds["connectionUrl"], host=target["host"],
                                            port=target["port"], name=ds["poolName"], vendor=target["vendor"],
                                            jndiName=ds["jndiName"]))
    return deps


# -- other configurations ------------------------------------------------------------------------

def configs_with_secrets(host: Host, conf_dir: str, active: str) -> list[str]:
    """The configuration folder's other server configurations that hold passwords."""
    found = []
    for name in host.glob_names(conf_dir, (".xml",)):
        path = join(conf_dir, name)
        if path == active or not host.is_file(path):
            continue
        try:
            root = parse_xml(host.read_bytes(path, limit=CONFIG_READ_LIMIT), path)
        except (UnsafeXML, HostError):
            continue
        if local_name(root) == "server" and secret_spots(root):
            found.append(path)
    return found
