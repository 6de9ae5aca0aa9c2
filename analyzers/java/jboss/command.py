"""The java command line that starts WildFly through jboss-modules, and WildFly's own server arguments.

What is claimed: ``java … -jar <home>/jboss-modules.jar [-mp|-modulepath|--module-path <modules>]
org.jboss.as.standalone [server arguments]`` (also jboss-modules on the class path with
``org.jboss.modules.Main``; JVM options such as ``-Djboss.modules.system.pkgs=…`` before ``-jar``
change nothing). Server arguments after the module name are read the way WildFly reads them:
``-Dname=value``, ``-P``/``--properties`` files, ``-b``/``-b=``/``-b<interface>``, ``-c``/
``--server-config``/``--read-only-server-config`` (and ``-Djboss.server.default.config``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from a2c.analyzers.common.properties import parse_properties
from a2c.analyzers.java.jvm import JavaCommand, parse_java_cmdline
from a2c.errors import HostError
from a2c.hosts.base import Host, join
from a2c.model import ProcessInfo

MODULES_JAR = "jboss-modules.jar"
MODULES_MAIN = "org.jboss.modules.Main"
STANDALONE = "org.jboss.as.standalone"

# jboss-modules' own options that take a value (its module name is the first other argument).
_MODULES_OPTIONS_WITH_VALUE = {
    "-mp", "-modulepath", "--module-path", "-jaxpmodule", "-logmodule", "-dep", "-dependencies",
    "-cp", "-classpath", "-config", "-secmgrmodule", "-add-provider", "-addindex",
}
_MODULE_PATH_OPTIONS = ("-mp", "-modulepath", "--module-path")
_CONFIG_OPTIONS = ("-c", "--server-config", "--read-only-server-config")
_PROPERTIES_OPTIONS = ("-P", "--properties")


@dataclass(frozen=True)
class JBossCommand:
    """A java command line that starts a server through jboss-modules."""

    java: JavaCommand
    modules_jar: str
    module: str
    module_path: tuple[str, ...] = ()
    server_args: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)  # the server arguments' -D, -b, -u
    property_files: tuple[str, ...] = ()
    server_config: str = ""  # the -c / --server-config value as given ("" = the default)

    @property
    def standalone(self) -> bool:
        return self.module == STANDALONE


def parse_jboss_cmdline(cmdline: tuple[str, ...] | list[str]) -> JBossCommand | None:
    """The jboss-modules launch in a java command line, or None when the process is something else."""
    java = parse_java_cmdline(cmdline)
    if java is None:
        return None
    if java.jar and posixpath.basename(java.jar) == MODULES_JAR:
        modules_jar, rest = java.jar, list(java.args)
    elif java.main_class == MODULES_MAIN:
        jars = [p for p in java.classpath if posixpath.basename(p) == MODULES_JAR]
        if not jars:
            return None
        modules_jar, rest = jars[0], list(java.args)
    else:
        return None
    module_path: list[str] = []
    index = 0
    module = ""
    while index < len(rest):
        arg = rest[index]
        key, sep, value = arg.partition("=")
        if key in _MODULES_OPTIONS_WITH_VALUE and not sep:
            value = rest[index + 1] if index + 1 < len(rest) else ""
            index += 1
        if key in _MODULE_PATH_OPTIONS:
            module_path += [p for p in value.split(":") if p]
        elif not arg.startswith("-"):
            module = arg
            break
        index += 1
    if not module:
        return None
    props, files, config = parse_server_args(rest[index + 1:])
    default_config = props.get("jboss.server.default.config") or java.system_properties.get("jboss.server.default.config", "")
    return JBossCommand(java, modules_jar, module, tuple(module_path), tuple(rest[index + 1:]), props, tuple(files),
                        config or default_config)


def parse_server_args(args: list[str] | tuple[str, ...]) -> tuple[dict[str, str], list[str], str]:
    """System properties, property files and the configuration name from WildFly's own arguments."""
    props: dict[str, str] = {}
    files: list[str] = []
    config = ""
    index = 0

    def value_of(arg: str) -> str:
        nonlocal index
        key, sep, value = arg.partition("=")
        if sep:
            return value
        index += 1
        return args[index] if index < len(args) else ""

    while index < len(args):
        arg = args[index]
        key = arg.partition("=")[0]
        if arg.startswith("-D") and len(arg) > 2:
            name, sep, value = arg[2:].partition("=")
            props[name] = value if sep else "true"
        elif key in _CONFIG_OPTIONS:
            config = value_of(arg)
        elif key in _PROPERTIES_OPTIONS:
            files.append(value_of(arg))
        elif key == "-b":
            props["jboss.bind.address"] = value_of(arg)
        elif arg.startswith("-b") and len(key) > 2 and not arg.startswith("--"):
            props[f"jboss.bind.address.{key[2:]}"] = value_of(arg)
        elif key == "-u":
            props["jboss.default.multicast.address"] = value_of(arg)
        index += 1
    return props, files, config


def server_properties(command: JBossCommand, proc: ProcessInfo, host: Host) -> dict[str, str]:
    """The system properties WildFly runs with: the JVM's, -P files, then the server arguments'."""
    props = dict(command.java.system_properties)
    for name in command.property_files:
        path = join(proc.cwd or "/", name[5:] if name.startswith("file:") else name)
        try:
            props.update(parse_properties(host.read_text(path, limit=1024 * 1024)))
        except HostError:
            continue
    props.update(command.properties)
    return props
