"""The deployment targets a2c can render, loaded from the ``a2c.targets`` entry points
(built-ins included), ids and sections unique."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from a2c.plugins import PluginError, load_classes
from a2c.targets.base import Target

# App2Container's sections of deployment.json whose targets a2c does not register yet: they are
# written as App2Container writes them (switched off) and refused when switched on.
RESERVED: dict[str, str] = {}  # every App2Container section has its target now


class Targets:
    def __init__(self, targets: list[Target]) -> None:
        self._targets: list[Target] = []
        self._sections: dict[str, Mapping[str, Any]] | None = None
        sections: dict[str, str] = {}
        for target in targets:
            if target.section in sections:
                raise PluginError(f"targets {sections[target.section]!r} and {target.id!r} both claim the section "
                                  f"{target.section} of deployment.json", "Uninstall one of the target plugins.")
            sections[target.section] = target.id
            self._targets.append(target)

    def __iter__(self) -> Iterator[Target]:
        return iter(self._targets)

    def get(self, target_id: str) -> Target | None:
        return next((t for t in self._targets if t.id == target_id), None)

    def sections(self) -> dict[str, Mapping[str, Any]]:
        """Schema fragments for deployment.json, by section (read once: every read and write of
        deployment.json validates with them)."""
        if self._sections is None:
            self._sections = {t.section: t.schema() for t in self._targets}
        return self._sections

    def reserved(self) -> dict[str, str]:
        """App2Container's sections no registered target claims: section -> its flag."""
        claimed = {t.section for t in self._targets}
        return {section: flag for section, flag in RESERVED.items() if section not in claimed}


def load_targets(warn: Callable[[str], None] | None = None) -> Targets:
    """The installed targets; ``warn`` hears of each plugin that failed to load."""
    classes, _notes = load_classes("targets", warn)
    return Targets([cls() for cls in classes])
