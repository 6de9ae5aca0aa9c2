"""Plugin loading: built-ins and third parties come through the same entry-point groups.

setup.cfg registers a2c's own analyzers, targets, pipelines and builders in these groups, so
a third party's plugin is found, ordered and refused exactly as a built-in is. Two plugins of
one group with the same id are refused (which one would win is an accident of install order).
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any, Callable

from a2c.errors import A2CError, ExitStatus, crash_summary

log = logging.getLogger(__name__)

GROUPS = {
    "analyzers": "a2c.analyzers",
    "targets": "a2c.targets",
    "pipelines": "a2c.pipelines",
    "builders": "a2c.builders",
}


class PluginError(A2CError):
    """A plugin that cannot be used as installed (a duplicate id, a class without one)."""

    exit_status = ExitStatus.PLUGIN


def load_classes(kind: str, warn: Callable[[str], None] | None = None) -> tuple[list[type[Any]], list[str]]:
    """The classes registered in the ``a2c.<kind>`` group, and a note for each that failed to load
    (also given to ``warn``, the command's reporter).

    A plugin that fails to import is left out with a note (it must not stop the built-ins); one
    whose id repeats another's is an error, as is a class without an ``id``.
    """
    group = GROUPS[kind]
    classes: list[type[Any]] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    for entry_point in sorted(metadata.entry_points(group=group), key=lambda e: (e.name, e.value)):
        where = f"{entry_point.name} = {entry_point.value}"
        try:
            cls = entry_point.load()
        except Exception as exc:  # a broken plugin must not stop the others
            if entry_point.dist is not None and entry_point.dist.name == "a2c":
                raise  # one of a2c's own: a bug to see, not a plugin to skip
            log.warning("%s plugin %s failed to load", kind, where, exc_info=True)
            notes.append(f"{kind} plugin {where} failed to load: {crash_summary(exc)}")
            if warn is not None:
                warn(notes[-1])
            continue
        plugin_id = getattr(cls, "id", "")
        if not isinstance(plugin_id, str) or not plugin_id:
            raise PluginError(f"{kind} plugin {where} has no id", "Give the class an `id` class attribute.")
        if plugin_id in seen:
            if seen[plugin_id] == entry_point.value:  # one distribution found twice on sys.path
                continue
            raise PluginError(f"two {kind} plugins share the id {plugin_id!r} ({seen[plugin_id]}, {entry_point.value})",
                              "Uninstall or rename one of the plugins (`pip list` shows what is installed).")
        seen[plugin_id] = entry_point.value
        classes.append(cls)
    if not classes and kind in ("analyzers", "builders"):
        raise PluginError(f"no {kind} are registered in the entry-point group {group}",
                          "Install a2c with pip (`pip install -e .` in a checkout): its built-ins register there.")
    return classes, notes
