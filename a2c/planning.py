"""From an analysis.json (maybe edited) to a build plan: which analyzer plans it, and the plan
with the a2c workspace left out. containerize and extract share it."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from a2c.analyzers.base import Analyzer
from a2c.analyzers.registry import Registry
from a2c.errors import AppNotFound, InvalidFile
from a2c.hosts.base import Host
from a2c.model import BuildPlan

log = logging.getLogger(__name__)


def find_analyzer(analysis: dict[str, Any], registry: Registry, source: str = "analysis.json") -> Analyzer:
    """The analyzer that plans the image: the one analysis.json names, else the one of its type.

    A named analyzer must exist and plan this type of application, or its plan would read
    fields this analysis does not have.
    """
    info = analysis["analysisInfo"]
    app_type = info["applicationType"]
    named = info.get("analyzer", "")
    by_type = registry.for_type(app_type)
    analyzer: Analyzer | None
    if not named:
        analyzer = by_type
    else:
        analyzer = registry.get(named)
        if analyzer is None:
            known = ", ".join(a.id for a in registry.ordered())
            raise InvalidFile(f"{source}: $.analysisInfo.analyzer: no analyzer {named!r} is installed (installed: {known})",
                              f"Set $.analysisInfo.analyzer to {by_type.id!r} (the analyzer of {app_type}) or remove it, "
                              "or install the plugin that analyzed this application." if by_type else
                              "Install the analyzer plugin that analyzed this application.")
        if not plans(analyzer, app_type):
            raise InvalidFile(f"{source}: $.analysisInfo.analyzer: analyzer {named!r} plans {analyzer.application_type} "
                              f"applications, but $.analysisInfo.applicationType is {app_type}",
                              f"Set $.analysisInfo.analyzer back to {by_type.id!r}, or run `a2c analyze` again."
                              if by_type else "Run `a2c analyze` again to rewrite analysis.json.")
    if analyzer is None:
        raise AppNotFound(f"no analyzer can build application type {app_type}",
                          "Install the analyzer plugin that analyzed this application.")
    return analyzer


def plans(analyzer: Analyzer, app_type: str) -> bool:
    """Whether an analyzer can plan an analysis of this type: its own, or any of its runtime when
    it is the runtime's process-mode analyzer (which took over from a crashed one)."""
    if analyzer.application_type == app_type:
        return True
    return analyzer.process_mode and app_type.startswith(f"{analyzer.runtime}-")


def make_plan(analysis: dict[str, Any], host: Host, registry: Registry, source: str = "analysis.json") -> BuildPlan:
    """The analyzer's build plan. A lookup that fails in the analysis itself (a field removed by an
    edit that the schema cannot require) is reported as that file's error, not as a crash."""
    analyzer = find_analyzer(analysis, registry, source)
    try:
        plan = with_open_files(analyzer.plan(analysis, host), analysis, host)
        return with_health_port(with_state_folders(plan, analysis), analysis)
    except (KeyError, IndexError) as exc:
        log.debug("plan of %s failed", analyzer.id, exc_info=True)
        missing = f"the field {exc}" if isinstance(exc, KeyError) else "an item of a list"
        raise InvalidFile(f"{source}: analyzer {analyzer.id} cannot plan the image: the analysis lacks {missing}",
                          f"Restore the field in {source} (or run `a2c analyze` again to rewrite it); "
                          "run with --debug for the traceback.") from exc


# The runtime's and the operating system's files, which the base image brings: never copied for
# being open. Shared libraries are the OS's wherever they are under a lib folder.
SYSTEM_PREFIXES = ("/proc/", "/sys/", "/dev/", "/run/", "/var/run/", "/var/cache/", "/var/log/", "/var/lib/dpkg/",
                   "/tmp/hsperfdata_",
                   "/usr/lib/jvm/", "/usr/lib/locale/", "/usr/share/locale/", "/usr/share/zoneinfo/", "/usr/share/fonts/",
                   "/etc/")
LIB_FOLDERS = ("/lib/", "/lib64/", "/lib32/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")


def with_open_files(plan: BuildPlan, analysis: dict[str, Any], host: Host) -> BuildPlan:
    """The plan plus every file the process had open or mapped that no layer holds (a JSP compiler a
    server loads from /usr/share/java through a jar's manifest, a jar a plugin opened), in a
    layer of their own below the application's. Left out: the runtime's and the OS's files,
    logs (by name or under logLocations), appExcludedFiles, persistentStorage (state is not
    baked in) and what the layers' excludes name. The links beside each file that lead to it
    come too: an open file is the link's target (eclipse-jdt-core-3.32.0.jar), while manifests'
    Class-Path entries name the link (eclipse-jdt-core.jar)."""
    from a2c.analyzers.common.logfiles import is_log_name
    from a2c.hosts.base import is_within
    from a2c.model import CopyLayer
    from a2c.model.plan import OPENED_LAYER

    if plan.platform != "linux":
        return plan
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    java_home = info.get("AdvancedAppInfo", {}).get("javaHome") or ""
    skip = [java_home] if java_home else []
    skip += list(params.get("logLocations") or ()) + list(params.get("appExcludedFiles") or ())
    skip += [str(s.get("path", "")) for s in info.get("persistentStorage") or () if s.get("path")]
    skip += [e for layer in plan.layers for e in layer.excludes]
    held = [p for layer in plan.layers for p in layer.paths]
    extra = []
    named = [p for p in command_line_paths(info.get("cmdline") or ()) if host.lstat(p) is not None]
    for path in list(info.get("fileDescriptors") or ()) + list(info.get("mappedFiles") or ()) + named:
        if not isinstance(path, str) or not path.startswith("/") or path.startswith(SYSTEM_PREFIXES):
            continue
        name = path.rsplit("/", 1)[-1]
        if path.startswith(LIB_FOLDERS) and (".so" in name or name.endswith(".a")):
            continue
        if is_log_name(name) or any(is_within(path, p) for p in held + skip if p):
            continue
        extra.append(path)
    if not extra:
        return plan
    extra += links_to(host, extra)
    layers = list(plan.layers)
    layers.insert(max(len(layers) - 1, 0), CopyLayer(OPENED_LAYER, tuple(dict.fromkeys(extra))))
    return plan.replace(layers=tuple(layers))


def with_state_folders(plan: BuildPlan, analysis: dict[str, Any]) -> BuildPlan:
    """Whatever analyzer planned the image, analysisInfo.persistentStorage holds: each folder is
    created writable by the run-time user, and left out of every layer that would copy it unless
    its bakeContents is true (then its contents come, in a layer of their own if none holds it)."""
    from a2c.analyzers.common.systemdirs import planned_storage
    from a2c.hosts.base import is_within
    from a2c.model import CopyLayer

    storage = planned_storage(analysis["analysisInfo"].get("persistentStorage"))
    if plan.platform != "linux" or not storage:
        return plan
    layers = []
    for layer in plan.layers:
        inside = tuple(p for p, bake in storage if not bake and any(is_within(p, q) for q in layer.paths))
        if inside:
            layer = dataclasses.replace(layer, excludes=tuple(dict.fromkeys(layer.excludes + inside)))
        layers.append(layer)
    held = [q for layer in layers for q in layer.paths]
    baked = tuple(p for p, bake in storage if bake and not any(is_within(p, q) for q in held))
    if baked:
        layers.insert(max(len(layers) - 1, 0), CopyLayer("state", baked))
    writable = tuple(dict.fromkeys(plan.writable_dirs + tuple(p for p, _ in storage)))
    return plan.replace(layers=tuple(layers), writable_dirs=writable)


def command_line_paths(cmdline: Any) -> list[str]:
    """Absolute paths a command line names (``-Dkey=/p``, ``--opt=/p``, ``/p``, a ``file:`` URL and
    each part of a ``:`` list); not the scratch folders (``java.io.tmpdir`` and other temp keys)."""
    import posixpath

    from a2c.analyzers.common.systemdirs import is_home

    found: list[str] = []
    for arg in list(cmdline)[1:] if isinstance(cmdline, (list, tuple)) else []:
        if not isinstance(arg, str):
            continue
        key, sep, rest = arg.partition("=")
        if sep and arg.startswith("-") and any(w in key.lower() for w in ("tmp", "temp", "log", "user.home")):
            continue  # scratch, log and home folders: created writable, sent to stdout, never copied
        value = rest if sep and arg.startswith("-") else arg
        for part in value.split(":") if not value.startswith("file:") else [value[5:]]:
            path = posixpath.normpath(part) if part.startswith("/") and "\0" not in part else ""
            if path and path not in ("/", "/tmp", "/var/tmp") and not is_home(path):
                found.append(path)
    return list(dict.fromkeys(found))


def with_health_port(plan: BuildPlan, analysis: dict[str, Any]) -> BuildPlan:
    """The image's HEALTHCHECK asks healthCheckPort when analyze chose one (Spring Boot's
    Actuator on its management port), and the image exposes it."""
    try:
        port = int(analysis["containerParameters"].get("healthCheckPort") or 0)
    except (TypeError, ValueError):
        return plan
    if not 0 < port < 65536 or plan.platform != "linux":
        return plan
    return plan.replace(health_port=port, ports=tuple(dict.fromkeys(plan.ports + (port,))))


def links_to(host: Host, files: list[str], limit: int = 5000) -> list[str]:
    """Symlinks in the files' own folders that resolve to one of them (Debian's unversioned jar names)."""
    from a2c.errors import HostError

    wanted = set(files)
    found: list[str] = []
    for folder in dict.fromkeys(f.rsplit("/", 1)[0] or "/" for f in files):
        try:
            names = host.list_dir(folder)[:limit]
        except HostError:
            continue
        for name in names:
            path = f"{folder.rstrip('/')}/{name}"
            try:
                st = host.lstat(path)
                if st is not None and st.kind == "link" and path not in wanted and host.realpath(path) in wanted:
                    found.append(path)
            except HostError:
                continue
    return found


def without_workspace(plan: BuildPlan, workspace_root: str, host: Host) -> BuildPlan:
    """The plan with the a2c workspace left out of every layer: an application whose folder holds
    the workspace (a2c run from the app's own folder) must not get analyses, artifacts and
    extraction archives copied into its image."""
    if not host.is_local:
        return plan
    layers = tuple(dataclasses.replace(layer, excludes=layer.excludes + (workspace_root,)) for layer in plan.layers)
    return plan.replace(layers=layers)
