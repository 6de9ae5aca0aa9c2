"""Deployments, as the running server sees them, and the context root of a war.

An archive in the scanner's folder (``*.war|*.ear|*.jar``) counts only when its marker says it
is deployed or about to be (``.deployed``, ``.dodeploy``, ``.isdeploying``, ``.pending``);
``.failed``, ``.undeployed``, ``.skipdeploy`` or no marker at all leave it out. An exploded
directory counts unless a ``.failed``/``.undeployed``/``.skipdeploy`` marker says otherwise.
Deployments persisted in standalone.xml (``jboss-cli deploy``) count too: managed ones live in
the content repository (``data/content/<sha1>``), which is copied into the image although the
rest of data/ is not.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Mapping

from a2c.analyzers.common.archives import read_text_member
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml
from a2c.analyzers.java.jboss.folders import relative_path
from a2c.analyzers.java.jboss.serverconfig import _child, _elements, _text
from a2c.errors import HostError
from a2c.hosts.base import Host, join
from a2c.model import Finding

DEPLOYABLE = (".war", ".ear", ".jar")
DEPLOYED_MARKERS = (".deployed", ".dodeploy", ".isdeploying", ".pending")
NOT_DEPLOYED_MARKERS = (".failed", ".undeployed", ".skipdeploy")


def deployment_scanner_dir(root: Any, dirs: Mapping[str, str], props: Mapping[str, str]) -> str:
    """The first deployment scanner's folder (``<base>/deployments`` unless configured otherwise)."""
    scanner = next(_elements(root, "deployment-scanner"), None) if root is not None else None
    if scanner is None:
        return join(dirs["base"], "deployments")
    return relative_path(scanner.get("path", "deployments"), scanner.get("relative-to", ""), props)



def scanner_deployments(host: Host, folder: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Deployments in the scanner's folder that the server has deployed (see the module docstring)."""
    names = host.glob_names(folder)
    present = set(names)
    found: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for name in names:
        if not name.endswith(DEPLOYABLE) or name.startswith("."):
            continue
        path = join(folder, name)
        markers = {m for m in DEPLOYED_MARKERS + NOT_DEPLOYED_MARKERS if name + m in present}
        exploded = host.is_dir(path)
        if ".failed" in markers:
            findings.append(Finding("JBOSS-W002", "warning", f"deployment {name} failed on the host (.failed marker); "
                                    "it is copied but not counted as a running application", path + ".failed"))
        if markers & set(NOT_DEPLOYED_MARKERS):
            continue
        if exploded or markers & set(DEPLOYED_MARKERS):
            found.append({"name": name, "runtimeName": name, "source": "scanner", "path": path, "exploded": exploded})
    return found, findings


def config_deployments(root: Any, dirs: Mapping[str, str], props: Mapping[str, str],
                       host: Host, config: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Deployments persisted in standalone.xml: managed (content repository) or unmanaged (a path)."""
    found: list[dict[str, Any]] = []
    findings: list[Finding] = []
    if root is None:
        return found, findings
    for element in _elements(root, "deployment"):
        parent = element.getparent()
        if parent is None or local_name(parent) != "deployments" or element.get("enabled", "true") == "false":
            continue
        name = element.get("name", "")
        runtime = element.get("runtime-name", name)
        content = _child(element, "content")
        unmanaged = next((c for c in element if local_name(c) in ("fs-archive", "fs-exploded")), None)
        if content is not None and re.fullmatch(r"[0-9a-fA-F]{40}", content.get("sha1", "")):
            sha1 = content.get("sha1", "").lower()
            path = join(dirs["content"], sha1[:2], sha1[2:], "content")
            source = "managed"
        elif unmanaged is not None:
            path = relative_path(unmanaged.get("path", ""), unmanaged.get("relative-to", ""), props)
            source = "unmanaged"
        else:
            continue
        if not host.exists(path):
            findings.append(Finding("JBOSS-W005", "warning", f"deployment {name} is in {posixpath.basename(config)} "
                                    f"but its content {path} is missing; the container will not deploy it", path))
            continue
        found.append({"name": name, "runtimeName": runtime, "source": source, "path": path,
                      "exploded": host.is_dir(path)})
    return found, findings


def order_deployments(deployments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = {d["runtimeName"]: d for d in reversed(deployments)}  # standalone.xml wins over the scanner
    return sorted(unique.values(), key=lambda d: (d["runtimeName"] != "ROOT.war", d["runtimeName"]))


def context_root(host: Host, deployment: Mapping[str, Any]) -> str:
    """A war's context root: jboss-web.xml's ``<context-root>``, else its runtime name without .war."""
    member = "WEB-INF/jboss-web.xml"
    path = deployment["path"]
    text: str | None
    if deployment.get("exploded"):
        try:
            text = host.read_text(join(path, member), limit=1024 * 1024)
        except HostError:
            text = None
    else:
        text = read_text_member(host, path, member)
    if text:
        try:
            root = parse_xml(text.encode("utf-8"), f"{path}!{member}")
        except UnsafeXML:
            root = None
        configured = _text(next(_elements(root, "context-root"), None)) if root is not None else ""
        if configured:
            return configured.strip("/")
    return deployment["runtimeName"][:-4]


def health_check_path(host: Host, deployments: list[dict[str, Any]]) -> str:
    """``/`` (WildFly's welcome content) unless a single war is deployed and no ROOT.war."""
    wars = [d for d in deployments if d["runtimeName"].endswith(".war")]
    if len(wars) != 1 or wars[0]["runtimeName"] == "ROOT.war":
        return "/"
    root = context_root(host, wars[0])
    return f"/{root}/" if root else "/"
