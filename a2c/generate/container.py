"""The container artifacts (Dockerfile, entry and health scripts) rendered from a build plan.

Every value that reaches them is checked here first, by what it should be, so that a value
that cannot be written safely is refused with the analysis.json field it came from; the
templates then quote each value for its file (see ``a2c.generate.quoting``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from a2c import __version__
from a2c.generate import safe
from a2c.generate.render import render
from a2c.model import BuildPlan

WORKDIR_FIELD = "$.analysisInfo.cwd (the image's working folder)"


def check_plan(plan: BuildPlan, source: str) -> None:
    """Refuse, by field, any plan value that has no safe form in a Dockerfile or a shell script."""
    safe.image_reference(plan.base_image, "$.containerParameters.containerBaseImage", source)
    safe.absolute_path(plan.workdir, WORKDIR_FIELD, source)
    if safe.has_control(plan.app_id):
        raise safe.refusal(source, "$.analysisInfo.appId", plan.app_id, "holds a control character")
    for port in plan.ports:
        safe.port(port, "$.containerParameters.applicationPort", source)
    if plan.health_port:
        safe.port(plan.health_port, "$.containerParameters.applicationPort", source)
    for key, value in plan.env.items():
        field = f"$.containerParameters.environment.{key}"
        safe.matches(key, safe.ENV_KEY, "environment variable name", field, source)
        if safe.has_control(value):
            raise safe.refusal(source, field, value, "holds a line break or control character, which a Dockerfile "
                               "ENV cannot carry", f"Edit {source}: put {field} on one line, or remove it and set "
                               "it when the container runs.")
    for key in plan.labels:
        safe.matches(key, safe.LABEL_KEY, "label key", "a label of the build plan", source)
    for layer in plan.layers:
        safe.matches(layer.name, safe.CONTEXT_NAME, "layer name", "a layer of the build plan", source)
    for index, arg in enumerate(plan.entrypoint):
        if "\0" in arg:
            raise safe.refusal(source, f"$.analysisInfo.cmdline[{index}]", arg, "holds a NUL character")
    for path, names in plan.render_at_start.items():
        safe.absolute_path(path, "$.analysisInfo.secrets[*].foundIn (a file filled in at start)", source)
        for name in names:
            safe.env_var_name(name, "$.analysisInfo.secrets[*].envVar", source)


def check_secrets(secrets: Sequence[Mapping[str, Any]], source: str) -> None:
    for index, secret in enumerate(secrets):
        safe.env_var_name(secret.get("envVar"), f"$.analysisInfo.secrets[{index}].envVar", source)


def health_url(port: int, health_path: str, source: str) -> str:
    """The URL the health script probes; every character of the path is a URL character."""
    path = safe.http_path(health_path or "/", "$.containerParameters.healthCheckPath", source)
    return f"http://127.0.0.1:{port}{path}" if port else ""


def render_container_artifacts(plan: BuildPlan, *, host_name: str, health_path: str, secrets: list[dict[str, Any]],
                               nonempty_layers: tuple[str, ...] | None = None,
                               source: str = "analysis.json") -> dict[str, str]:
    """``{name: text}`` for Artifacts/: Dockerfile, .dockerignore, a2c/entrypoint.sh, a2c/healthcheck.sh."""
    check_plan(plan, source)
    check_secrets(secrets, source)
    host = safe.one_line(host_name)
    layers = [l.name for l in plan.layers if nonempty_layers is None or l.name in nonempty_layers]
    context = {
        "plan": plan,
        "layers": layers,
        "version": __version__,
        "host_name": host,
        "health_url": health_url(plan.health_port, health_path, source),
        "secrets": secrets,
        "app_user": plan.user,  # the plan's (10001:0 unless an analyzer says otherwise)
        "labels": {
            "org.opencontainers.image.title": plan.app_id,
            "org.opencontainers.image.description": f"{plan.app_id} containerized by a2c from {host}",
            "org.opencontainers.image.base.name": plan.base_image,
            "com.a2c.application-id": plan.app_id,
            "com.a2c.source-host": host,
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
