"""deployment.json: the editable deployment settings App2Container users know, built from an
analysis. The shared fields are written here; each registered target writes its own section."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from a2c.errors import InvalidFile
from a2c.generate.safe import env_var_name
from a2c.model import AnalysisHead
from a2c.progress import Reporter
from a2c.targets.registry import Targets
from a2c.workspace import ANALYSIS, DEPLOYMENT, Workspace

# 1.1: exposedPorts[].protocol is the application protocol the probes found ("http" or "tcp").
# In 1.0 files (App2Container's, a2c's before it probed) "tcp"/"tcp6" named the socket family.
TEMPLATE_VERSION = "1.1"


def build_deployment(analysis: AnalysisHead | Mapping[str, Any], targets: Targets | None = None,
                     source: str = "analysis.json") -> dict[str, Any]:
    """A new deployment.json from an analysis (its head, or the document), with a section per
    target (the installed ones unless ``targets`` is given)."""
    if not isinstance(analysis, AnalysisHead):
        analysis = AnalysisHead.from_json(analysis)
    if targets is None:
        from a2c.targets.registry import load_targets

        targets = load_targets()
    app_id = analysis.app_id
    for index, secret in enumerate(analysis.secrets):
        # Each becomes a task's environment variable and an SSM parameter name.
        env_var_name(secret["envVar"], f"$.analysisInfo.secrets[{index}].envVar", source)
    secrets = list({
        s["envVar"]: {"name": s["envVar"], "valueFrom": f"/a2c/{app_id}/{s['envVar']}", "foundIn": s["foundIn"]}
        for s in reversed(analysis.secrets)  # one per variable: the first place it was found
    }.values())[::-1]
    document: dict[str, Any] = {
        "a2CTemplateVersion": TEMPLATE_VERSION,
        "applicationId": app_id,
        "imageName": analysis.image,
        "exposedPorts": [{"localPort": port, "protocol": protocol} for port, protocol in analysis.ports]
        or [{"localPort": 8080, "protocol": "http"}],
        "environment": [],
        "secrets": secrets,
        "ecrParameters": {"ecrRepoTag": analysis.image_tag},
        "platform": analysis.platform,
        # State folders from the analysis: each mounted from EFS by default, or "none" (the
        # container's own disk, lost when the task stops).
        "persistentStorage": [{"path": path, "storage": "efs"} for path in analysis.persistent_storage],
    }
    for target in targets:
        document[target.section] = target.defaults(analysis)
    for section, flag in targets.reserved().items():
        document[section] = {flag: False}
    return document


def ensure_deployment(workspace: Workspace, analysis: AnalysisHead, targets: Targets, reporter: Reporter) -> Path:
    """deployment.json as App2Container writes it (at containerize, or at generate when missing);
    an existing one, maybe edited, is kept."""
    path = workspace.app_dir(analysis.app_id) / DEPLOYMENT
    if not path.exists():
        workspace.write_deployment(analysis.app_id, build_deployment(analysis, targets, str(path.parent / ANALYSIS)))
        reporter.step(f"Wrote {path}")
    return path


def chosen_targets(deployment: Mapping[str, Any], targets: Targets, source: str) -> list[Any]:
    """The targets deployment.json switches on; at least one, and none a2c cannot render."""
    reserved = [f"{section}.{flag}" for section, flag in targets.reserved().items()
                if deployment.get(section, {}).get(flag, False)]
    if reserved:
        known = ", ".join(t.flag_path for t in targets)
        raise InvalidFile(f"{source}: $.{reserved[0]}: this version of a2c has no target for it (it renders: {known})",
                          f"Set {reserved[0]} to false in {source}, and switch on one of: {known}.")
    chosen = [t for t in targets if t.chosen(deployment)]
    if not chosen:
        flags = ", ".join(t.flag_path for t in targets)
        raise InvalidFile(f"{source}: no target is switched on (one of {flags} must be true)",
                          f"Edit {source} and set one target to true.")
    return chosen
