"""The pipeline kinds a2c can render, loaded from the ``a2c.pipelines`` entry points."""

from __future__ import annotations

from typing import Callable, Iterator

from a2c.pipelines.base import Pipeline
from a2c.plugins import load_classes


class Pipelines:
    def __init__(self, pipelines: list[Pipeline]) -> None:
        self._pipelines = list(pipelines)

    def __iter__(self) -> Iterator[Pipeline]:
        return iter(self._pipelines)

    def get(self, pipeline_id: str) -> Pipeline | None:
        return next((p for p in self._pipelines if p.id == pipeline_id), None)

    def by_section(self, section: str) -> Pipeline | None:
        """The kind that owns ``pipelineInfo.<section>`` of pipeline.json."""
        return next((p for p in self._pipelines if p.section == section), None)

    def sections(self) -> list[str]:
        return [p.section for p in self._pipelines]


def load_pipelines(warn: Callable[[str], None] | None = None) -> Pipelines:
    """The installed pipeline kinds; ``warn`` hears of each plugin that failed to load."""
    classes, _notes = load_classes("pipelines", warn)
    return Pipelines([cls() for cls in classes])
