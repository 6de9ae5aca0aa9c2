"""Windows container artifacts, rendered from a Windows build plan: pure, plan in, ``{name: text}`` out.

The plan's ``settings`` (written by the IIS and Windows-service analyzers, see
analyzers/dotnet/windows_plan.py) carry the IIS site or the service with every path already a
container path; this module only turns them into text through a2c's one Jinja environment and
the templates in ``templates/windows/``: a Dockerfile, the entry script ``a2c/entrypoint.ps1``
and a ``.dockerignore``. Every value goes through a quoting filter (``a2c.generate.quoting``),
so a hostile name stops the render instead of reaching a script.
"""

from __future__ import annotations

from typing import Any, Mapping

from a2c import __version__
from a2c.errors import A2CError
from a2c.generate.quoting import powershell_literal
from a2c.generate.render import render
from a2c.model import AnalysisHead, BuildPlan

ENTRYPOINT_SCRIPT = "a2c/entrypoint.ps1"
TEMPLATES = {
    "iis": ("windows/iis.Dockerfile.j2", "windows/entrypoint-iis.ps1.j2"),
    "service": ("windows/service.Dockerfile.j2", "windows/entrypoint-service.ps1.j2"),
}


def forward(windows_path: str, folder: bool = True) -> str:
    """A Dockerfile COPY destination: forward slashes, a trailing slash for folders."""
    text = windows_path.replace("\\", "/")
    return text.rstrip("/") + "/" if folder else text


def ps(value: Any) -> str:
    """A PowerShell single-quoted string literal (no expansion; every kind of quote doubled)."""
    return str(powershell_literal(value))


def ltsc(base_image: str) -> str:
    """The Windows Server LTSC release a base image is for (``ltsc2019``), "" when its tag does not say."""
    return base_image.rsplit("-", 1)[-1] if "-ltsc" in base_image else ""


def health_command(port: int, path: str, host_header: str) -> str:
    """PowerShell that exits 0 while IIS answers below 500 (a 401 of Windows authentication is an answer)."""
    headers = f" -Headers @{{ Host = {ps(host_header)} }}" if host_header else ""
    return (f"try {{ $status = (Invoke-WebRequest -Uri {ps(f'http://localhost:{port}{path}')}{headers} -UseBasicParsing "
            "-TimeoutSec 8).StatusCode } catch { $status = [int]$_.Exception.Response.StatusCode }; "
            "if ($status -gt 0 -and $status -lt 500) { exit 0 } else { exit 1 }")


def build_instructions(plan: BuildPlan, analysis: AnalysisHead) -> str:
    """What to tell the user once Artifacts/ is written: where and how to build the image."""
    release = ltsc(plan.base_image)
    where = f"a Windows Server {release} container host" if release else "a Windows container host"
    return f"Copy Artifacts/ to {where} and run there: docker build -t {analysis.image} ."


def _kind(plan: BuildPlan) -> str:
    kind = str(plan.settings.get("kind", ""))
    if plan.platform != "windows" or kind not in TEMPLATES:
        raise A2CError(f"the build plan of {plan.app_id} is not a Windows plan (platform {plan.platform!r}, "
                       f"kind {kind!r})", "Only the IIS and Windows-service analyzers plan Windows images.")
    return kind


def _common(plan: BuildPlan, image: str) -> dict[str, Any]:
    settings = plan.settings
    return {
        "version": __version__,
        "app_id": plan.app_id,
        "host_name": settings.get("hostName", ""),
        "host_os": settings.get("hostOs", ""),
        "base_image": plan.base_image,
        "ltsc": ltsc(plan.base_image),
        "image": image,
        "labels": dict(plan.labels),
        "environment": dict(plan.env),
        "layout": [{**entry, "copyTarget": forward(entry["target"])} for entry in settings.get("layout", [])],
        "secret_files": list(settings.get("secretFiles", [])),
        "excluded": list(settings.get("excluded", [])),
        "exposed_ports": list(plan.ports),
        "entrypoint": list(plan.entrypoint),
    }


def _iis_context(iis: Mapping[str, Any]) -> dict[str, Any]:
    site_name = iis["siteName"]
    health = iis["health"]
    return {
        "site": {"name": site_name, "id": iis["siteId"], "physical": iis["physicalPath"],
                 "pool": iis["applicationPool"], "protocols": iis["enabledProtocols"],
                 "iis_path": f"IIS:\\Sites\\{site_name}"},
        "features": list(iis["features"]),
        "pools": [{**pool, "containerIdentity": pool["identityType"]} for pool in iis["appPools"]],
        "bindings": [{"protocol": b["protocol"], "information": b["bindingInformation"]} for b in iis["bindings"]],
        "applications": [{"name": app["name"], "site_path": f"IIS:\\Sites\\{site_name}\\{app['name'].replace('/', chr(92))}",
                          "pool": app["applicationPool"], "physical": app["physicalPath"],
                          "protocols": app["enabledProtocols"]} for app in iis["applications"]],
        "directories": [{"application": d["application"], "name": d["name"], "physical": d["physicalPath"]}
                        for d in iis["virtualDirectories"]],
        "auth_settings": list(iis["authentication"]),
        "unlock_sections": list(iis["unlockSections"]),
        "site_bindings_total": iis["bindingCount"],
        "health": {"port": health["port"],
                   "command": health_command(health["port"], health["path"], health["hostHeader"])},
        "log_directory": iis["logDirectory"],
        "log_root": iis["logRoot"],
        "iis_log_root": iis["hostLogRoot"],
        "custom_log_root": iis["customLogRoot"],
    }


def _service_context(service: Mapping[str, Any]) -> dict[str, Any]:
    arguments = list(service["arguments"])
    return {
        "service": {
            "name": service["name"],
            "display_name": service["displayName"],
            "binary": service["binary"],
            "arguments": " ".join(f'"{a}"' if " " in a else a for a in arguments),
            "start_type": service["startType"],
            "host_start_type": service["hostStartType"],
            "account": service["account"],
            "host_account": service["hostAccount"],
        },
        "argument_secrets": [{"name": name} for name in service["argumentSecrets"]],
        "log_directories": list(service["logDirectories"]),
    }


def render_windows_artifacts(plan: BuildPlan, analysis: AnalysisHead) -> dict[str, str]:
    """``{name: text}`` for Artifacts/: Dockerfile, .dockerignore and a2c/entrypoint.ps1."""
    kind = _kind(plan)
    context = _common(plan, analysis.image)
    context.update(_iis_context(plan.settings["iis"]) if kind == "iis" else _service_context(plan.settings["service"]))
    dockerfile, entrypoint = TEMPLATES[kind]
    return {
        "Dockerfile": render(dockerfile, **context),
        ".dockerignore": render("windows/dockerignore.j2", **context),
        ENTRYPOINT_SCRIPT: render(entrypoint, **context),
    }


__all__ = ["render_windows_artifacts", "build_instructions", "health_command", "forward", "ltsc"]
