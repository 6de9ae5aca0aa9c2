"""The builders a2c can use, loaded from the ``a2c.builders`` entry points (built-ins included)."""

from __future__ import annotations

from typing import Any, Callable

from a2c.errors import NotSupported
from a2c.images.base import Builder
from a2c.plugins import load_classes


class Builders:
    def __init__(self, classes: list[type[Builder]], env: Any = None) -> None:
        self.classes = sorted(classes, key=lambda c: (c.priority, c.id))
        self.env = env

    def ids(self) -> list[str]:
        return [c.id for c in self.classes]

    def for_platform(self, platform: str, builder_id: str | None = None) -> Builder:
        """The builder for a plan's platform: the one named, else the first by priority."""
        for cls in self.classes:
            if cls.platform == platform and builder_id in (None, cls.id):
                return cls(self.env)
        named = f" named {builder_id!r}" if builder_id else ""
        raise NotSupported(f"no builder{named} builds {platform} images (installed: {', '.join(self.ids()) or 'none'})",
                           "Install the builder plugin for this platform, or build from Artifacts/ by hand.")


def load_builders(env: Any = None, warn: Callable[[str], None] | None = None) -> Builders:
    """The installed builders, constructed with ``env``; ``warn`` hears of each plugin that failed to load."""
    classes, _notes = load_classes("builders", warn)
    return Builders(classes, env)
