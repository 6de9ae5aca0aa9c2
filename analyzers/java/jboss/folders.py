"""The server's folders (home, base, configuration, data, …) and the named paths its expressions see."""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

from a2c.analyzers.common.safexml import local_name
from a2c.analyzers.java.jboss.command import JBossCommand
from a2c.analyzers.java.jboss.expressions import resolve_expression
from a2c.analyzers.java.jboss.serverconfig import _elements
from a2c.hosts.base import Host, join
from a2c.model import ProcessInfo

DEFAULT_CONFIG = "standalone.xml"


def server_dirs(command: JBossCommand, props: Mapping[str, str], proc: ProcessInfo, host: Host) -> dict[str, str]:
    """home, base, conf, data, log, tmp, deployments' default, modules and the content repository."""
    cwd = proc.cwd or "/"

    def path(name: str, default: str) -> str:
        value = props.get(name) or default
        return host.realpath(join(cwd, value))

    jar_home = posixpath.dirname(join(cwd, command.modules_jar))
    home = path("jboss.home.dir", proc.environ.get("JBOSS_HOME", "") or jar_home)
    base = path("jboss.server.base.dir", join(home, "standalone"))
    data = path("jboss.server.data.dir", join(base, "data"))
    modules = [host.realpath(join(cwd, p)) for p in command.module_path] or [join(home, "modules")]
    return {
        "home": home,
        "base": base,
        "conf": path("jboss.server.config.dir", join(base, "configuration")),
        "data": data,
        "log": path("jboss.server.log.dir", join(base, "log")),
        "tmp": path("jboss.server.temp.dir", join(base, "tmp")),
        "content": path("jboss.server.deploy.dir", join(data, "content")),
        "modules": modules[0],
    }


def path_properties(dirs: Mapping[str, str], props: Mapping[str, str]) -> dict[str, str]:
    """The system properties with WildFly's path names filled in, as its expressions see them."""
    resolved = dict(props)
    resolved.update({
        "jboss.home.dir": dirs["home"], "jboss.server.base.dir": dirs["base"],
        "jboss.server.config.dir": dirs["conf"], "jboss.server.data.dir": dirs["data"],
        "jboss.server.log.dir": dirs["log"], "jboss.server.temp.dir": dirs["tmp"],
        "jboss.server.deploy.dir": dirs["content"],
    })
    return resolved


def with_config_paths(root: Any | None, props: Mapping[str, str]) -> dict[str, str]:
    """The named paths a configuration declares (``<paths><path name=… path=… relative-to=…/>``)."""
    resolved = dict(props)
    if root is not None:
        for element in _elements(root, "path"):
            parent = element.getparent()
            if parent is not None and local_name(parent) == "paths" and element.get("name") and element.get("path"):
                resolved[element.get("name")] = relative_path(element.get("path", ""), element.get("relative-to", ""),
                                                              resolved)
    return resolved


def config_path(command: JBossCommand, conf_dir: str) -> str:
    return join(conf_dir, command.server_config or DEFAULT_CONFIG)

def relative_path(path: str, relative_to: str, props: Mapping[str, str]) -> str:
    """A configuration path: absolute, or relative to a named path (jboss.server.base.dir, …)."""
    path = resolve_expression(path, props)
    if relative_to and not path.startswith("/"):
        return join(props.get(relative_to, props.get("jboss.server.base.dir", "/")), path)
    return join("/", path)
