"""What WebSphere traditional and Liberty share: reading their XML, secrets held in attributes and
templating them out of a copied file, and a few defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import Finding

DEFAULT_HTTP_PORT = 9080
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
_VENDOR_PORTS = {"db2": 50000, "oracle": 1521, "sqlserver": 1433, "postgresql": 5432, "mysql": 3306, "informix": 9088}


def read_xml(host: Host, path: str, code: str) -> tuple[Any, list[Finding]]:
    try:
        return parse_xml(host.read_bytes(path), path), []
    except UnsafeXML as exc:
        return None, [Finding(code, "error", exc.message, path)]
    except HostError as exc:
        return None, [Finding(code, "error", f"not read: {exc.message}", path)]


def elements(root: Any, name: str) -> list[Any]:
    return [e for e in root.iter() if isinstance(e.tag, str) and local_name(e) == name]


@dataclass(frozen=True)
class AttributeSecret:
    """A secret held in an XML attribute: ``name`` is its name in analysisInfo.secrets."""

    name: str
    element: Any
    attribute: str
    external: bool  # a credential to another system (templated out), not the cell's own key material

    @property
    def where(self) -> str:
        return f"{local_name(self.element)}/@{self.attribute}"


def _has_value(value: str) -> bool:
    value = value.strip()
    return bool(value) and value not in ("{xor}", "{aes}") and "${" not in value


def template_attributes(data: bytes, path: str, finder: Callable[[Any], list[AttributeSecret]],
                        wanted: Mapping[Any, str], placeholder: str) -> bytes:
    """The file with each listed secret attribute replaced by ``placeholder % env var``."""
    root = parse_xml(data, path)
    for secret in finder(root):
        env_var = wanted.get((secret.name, secret.element.sourceline or 0)) or wanted.get(secret.name)
        if env_var:
            secret.element.set(secret.attribute, placeholder % env_var)
    return serialize_xml(root)


def _wanted(secrets: list[dict[str, Any]], path: str) -> dict[Any, str]:
    """The variables of one file's secrets by (name, line), and by name for a line that moved."""
    mine = [s for s in secrets if s.get("foundIn") == path]
    wanted: dict[Any, str] = {s["name"]: s["envVar"] for s in reversed(mine)}
    wanted.update({(s["name"], int(s.get("line", 0) or 0)): s["envVar"] for s in mine})
    return wanted
