"""Java command lines and runtimes: parsing ``java …`` argv and reading the JDK's own release file."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from a2c.hosts.base import Host, parse_os_release

# Options whose value is the next argument (when not written as --opt=value).
_WITH_VALUE = {
    "-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path",
    "--add-modules", "--add-opens", "--add-exports", "--add-reads", "--patch-module",
    "--limit-modules", "--enable-native-access", "-splash",
}


@dataclass(frozen=True)
class JavaCommand:
    java: str
    options: tuple[str, ...]  # every JVM option, in order
    system_properties: dict[str, str] = field(default_factory=dict)
    classpath: tuple[str, ...] = ()
    jar: str = ""
    main_class: str = ""
    module: str = ""
    args: tuple[str, ...] = ()


def is_java(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
    names = {name, posixpath.basename(exe)}
    if cmdline:
        names.add(posixpath.basename(cmdline[0]))
    return bool(names & {"java", "javaw"})


def parse_java_cmdline(cmdline: tuple[str, ...] | list[str]) -> JavaCommand | None:
    if not cmdline:
        return None
    java, rest = cmdline[0], list(cmdline[1:])
    options: list[str] = []
    props: dict[str, str] = {}
    classpath: tuple[str, ...] = ()
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg == "-jar" and index + 1 < len(rest):
            return JavaCommand(java, tuple(options), props, classpath, jar=rest[index + 1], args=tuple(rest[index + 2 :]))
        if arg in ("-m", "--module") and index + 1 < len(rest):
            return JavaCommand(java, tuple(options), props, classpath, module=rest[index + 1], args=tuple(rest[index + 2 :]))
        if arg.startswith("--module="):
            return JavaCommand(java, tuple(options), props, classpath, module=arg.split("=", 1)[1], args=tuple(rest[index + 1 :]))
        if not arg.startswith("-"):
            return JavaCommand(java, tuple(options), props, classpath, main_class=arg, args=tuple(rest[index + 1 :]))
        if arg in _WITH_VALUE and index + 1 < len(rest):
            value = rest[index + 1]
            options += [arg, value]
            if arg in ("-cp", "-classpath", "--class-path"):
                classpath = tuple(p for p in value.split(":") if p)
            index += 2
            continue
        if arg.startswith("--class-path="):
            classpath = tuple(p for p in arg.split("=", 1)[1].split(":") if p)
        if arg.startswith("-D"):
            key, _, value = arg[2:].partition("=")
            props[key] = value
        options.append(arg)
        index += 1
    return JavaCommand(java, tuple(options), props, classpath)


@dataclass(frozen=True)
class JavaRuntime:
    home: str
    version: str  # e.g. "17.0.15" or "1.8.0_392"
    major: int
    vendor: str = ""


def parse_major(version: str) -> int:
    # ASCII digits, a few at most: "\\d+" also takes other scripts' digits, and int() refuses 4301 of them.
    match = re.match(r"([0-9]{1,9})(?:\.([0-9]{1,9}))?", version)
    if not match:
        return 0
    first = int(match.group(1))
    if first == 1 and match.group(2):
        return int(match.group(2))  # 1.8.0_392 -> 8
    return first


def read_java_runtime(host: Host, exe: str) -> JavaRuntime | None:
    """The runtime's own ``release`` file next to bin/java (also for a Java 8 jre/ sub-folder)."""
    if not exe:
        return None
    real = host.realpath(exe)
    home = posixpath.dirname(posixpath.dirname(real))
    for candidate in (home, posixpath.dirname(home)):
        release_path = posixpath.join(candidate, "release")
        if host.is_file(release_path):
            values = parse_os_release(host.read_text(release_path, limit=256 * 1024))
            version = values.get("JAVA_VERSION", "")
            if version:
                return JavaRuntime(home=home, version=version, major=parse_major(version), vendor=values.get("IMPLEMENTOR", ""))
    return None


def default_base_image(major: int) -> str:
    """The public JRE image a user would pull for this Java major version."""
    return f"eclipse-temurin:{major or 17}-jre"


def uses_heap_flags(options: tuple[str, ...]) -> bool:
    return any(o.startswith(("-Xmx", "-XX:MaxRAMPercentage", "-XX:MaxRAM=", "-XX:MaxRAMFraction")) for o in options)


def heap_mib(options: tuple[str, ...] | list[str], flag: str = "-Xmx") -> float:
    """The heap size an option sets, in MiB (0 when absent or unreadable): -Xmx3g -> 3072."""
    for option in reversed(list(options)):
        if option.startswith(flag):
            value = option[len(flag):].lower()
            units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
            try:
                return float(value[:-1]) * units[value[-1]] if value[-1:] in units else float(value) / (1024 * 1024)
            except (ValueError, IndexError):
                return 0
    return 0


FARGATE_MEMORY_STEPS = (1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 16384, 20480, 30720)


def recommended_task_memory(options: tuple[str, ...] | list[str]) -> int:
    """Task memory (MiB) for a JVM: the application's own -Xmx at most 75% of it (room for
    metaspace, threads and buffers), else 2 GiB with the heap at 75% of whatever it gets."""
    heap = heap_mib(options)
    if not heap:
        return 2048
    for size in FARGATE_MEMORY_STEPS:
        if size * 0.75 >= heap:
            return size
    return FARGATE_MEMORY_STEPS[-1]
