"""The container artifacts (Dockerfile, entry and health scripts) rendered from a build plan."""

from __future__ import annotations

from typing import Any

from a2c import __version__
from a2c.generate.render import render
from a2c.model import BuildPlan

APP_USER = "10001:0"


def render_container_artifacts(plan: BuildPlan, *, host_name: str, health_path: str, secrets: list[dict[str, Any]],
                               nonempty_layers: tuple[str, ...] | None = None) -> dict[str, str]:
    """``{name: text}`` for Artifacts/: Dockerfile, .dockerignore, a2c/entrypoint.sh, a2c/healthcheck.sh."""
    layers = [l.name for l in plan.layers if nonempty_layers is None or l.name in nonempty_layers]
    context = {
        "plan": plan,
        "layers": layers,
        "version": __version__,
        "host_name": host_name,
        "health_path": health_path or "/",
        "secrets": secrets,
        "app_user": APP_USER,
        "labels": {
            "org.opencontainers.image.title": plan.app_id,
            "org.opencontainers.image.description": f"{plan.app_id} containerized by a2c from {host_name}",
            "org.opencontainers.image.base.name": plan.base_image,
            "com.a2c.application-id": plan.app_id,
            "com.a2c.source-host": host_name,
            "com.a2c.version": __version__,
            **plan.labels,
        },
    }
    return {
        "Dockerfile": render("dockerfile/Dockerfile.j2", **context),
        ".dockerignore": render("dockerfile/dockerignore.j2", **context),
        "a2c/entrypoint.sh": render("dockerfile/entrypoint.sh.j2", **context),
        "a2c/healthcheck.sh": render("dockerfile/healthcheck.sh.j2", **context),
    }
