"""The product's version, and jboss-modules' apart from it.

The version is the product's own (bin/product.conf's slot, then the product module's manifest,
then version.txt); jboss-modules' version is reported apart as ``jbossModulesVersion``, never as
the server's (WildFly 26 ships jboss-modules 2.0).
"""

from __future__ import annotations

import re

from a2c.analyzers.common.archives import read_text_member
from a2c.analyzers.common.properties import parse_manifest, parse_properties
from a2c.errors import HostError
from a2c.hosts.base import Host, join


def product_version(host: Host, home: str, modules: str) -> tuple[str, str]:
    """(product name, version): the product module's manifest, else version.txt."""
    slot = "main"
    try:
        slot = parse_properties(host.read_text(join(home, "bin", "product.conf"), limit=64 * 1024)).get("slot", "main")
    except HostError:
        pass
    for layer_root in (join(modules, "system", "layers", "base"), modules):
        manifest = join(layer_root, "org", "jboss", "as", "product", slot, "dir", "META-INF", "MANIFEST.MF")
        try:
            values = parse_manifest(host.read_text(manifest, limit=64 * 1024))
        except HostError:
            continue
        if values.get("JBoss-Product-Release-Version"):
            return values.get("JBoss-Product-Release-Name", ""), values["JBoss-Product-Release-Version"]
    try:
        text = host.read_text(join(home, "version.txt"), limit=64 * 1024).strip()
    except HostError:
        return "", ""
    match = re.search(r"^(.*?)\s*-?\s*Version\s+(\S+)", text, re.MULTILINE)
    return (match.group(1).strip(" -"), match.group(2)) if match else ("", "")


def modules_version(host: Host, jar: str) -> str:
    text = read_text_member(host, jar, "META-INF/MANIFEST.MF")
    return parse_manifest(text).get("Implementation-Version", "") if text else ""
