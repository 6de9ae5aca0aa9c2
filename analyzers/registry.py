"""The analyzer registry: built-ins and third parties alike come from the ``a2c.analyzers``
entry points (setup.cfg registers a2c's own there), ordered by priority, ids unique."""

from __future__ import annotations

from typing import Any, Callable

from a2c.analyzers.base import Analyzer
from a2c.errors import A2CError
from a2c.plugins import load_classes


class Registry:
    def __init__(self, analyzers: list[Analyzer]) -> None:
        self._by_id: dict[str, Analyzer] = {}
        for analyzer in analyzers:
            if not analyzer.id:
                raise A2CError(f"analyzer {type(analyzer).__name__} has no id")
            if analyzer.id in self._by_id:
                raise A2CError(
                    f"two analyzers share the id {analyzer.id!r} ({type(self._by_id[analyzer.id]).__name__}, {type(analyzer).__name__})",
                    "Uninstall or rename one of the analyzer plugins.",
                )
            self._by_id[analyzer.id] = analyzer

    def ordered(self) -> list[Analyzer]:
        return sorted(self._by_id.values(), key=lambda a: (a.priority, a.id))

    def get(self, analyzer_id: str) -> Analyzer | None:
        return self._by_id.get(analyzer_id)

    def sections(self) -> dict[str, Any]:
        """Schema fragments of the analyzers' own analysisInfo sections, by name."""
        return {a.info_section: a.info_schema() for a in self.ordered() if a.info_section}

    def process_mode(self, runtime: str) -> Analyzer | None:
        """The runtime's process-mode analyzer: it takes over when a framework analyzer crashes."""
        for analyzer in self.ordered():
            if analyzer.runtime == runtime and analyzer.process_mode:
                return analyzer
        return None

    def for_type(self, application_type: str) -> Analyzer | None:
        for analyzer in self.ordered():
            if analyzer.application_type == application_type:
                return analyzer
        return None


def load_registry(warn: Callable[[str], None] | None = None) -> Registry:
    """The installed analyzers; ``warn`` hears of each plugin that failed to load."""
    classes, _notes = load_classes("analyzers", warn)
    return Registry([cls() for cls in classes])
