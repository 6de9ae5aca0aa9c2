"""The analyzer registry: built-ins by dotted name, third parties via the ``a2c.analyzers`` entry points."""

from __future__ import annotations

import importlib
import logging
from importlib import metadata

from a2c.errors import A2CError
from a2c.analyzers.base import Analyzer

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "a2c.analyzers"

BUILTINS = (
    "a2c.analyzers.java.tomcat:TomcatAnalyzer",
    "a2c.analyzers.java.jetty:JettyAnalyzer",
    "a2c.analyzers.java.jboss:JBossAnalyzer",
    "a2c.analyzers.java.springboot:SpringBootAnalyzer",
    "a2c.analyzers.java.weblogic:WebLogicAnalyzer",
    "a2c.analyzers.java.websphere:WebSphereAnalyzer",
    "a2c.analyzers.dotnet.core:DotnetCoreAnalyzer",
    "a2c.analyzers.java.generic:GenericJavaAnalyzer",
    "a2c.analyzers.dotnet.iis:IISSiteAnalyzer",
    "a2c.analyzers.dotnet.service:WindowsServiceAnalyzer",
)


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

    def for_type(self, application_type: str) -> Analyzer | None:
        for analyzer in self.ordered():
            if analyzer.application_type == application_type:
                return analyzer
        return None


def _load(dotted: str) -> type[Analyzer]:
    module_name, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def load_registry(include_plugins: bool = True) -> Registry:
    classes = [_load(name) for name in BUILTINS]
    if include_plugins:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                classes.append(entry_point.load())
            except Exception as exc:  # a broken plugin must not stop the built-ins
                log.warning("analyzer plugin %s failed to load: %s", entry_point.name, exc)
    return Registry([cls() for cls in classes])
