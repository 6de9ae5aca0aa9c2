"""deployment.json: the editable deployment settings App2Container users know, built from an
analysis. The shared fields are written here; each registered target writes its own section."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from a2c.errors import InvalidFile
from a2c.gateways.aws import DEFAULT_KEEP_IMAGES, DEFAULT_TAG_MUTABILITY
from a2c.generate.safe import env_var_name
from a2c.ids import secret_parameter_name
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
        s["envVar"]: {"name": s["envVar"], "valueFrom": secret_parameter_name(app_id, s["envVar"]), "foundIn": s["foundIn"]}
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
        "ecrParameters": ecr_parameters(analysis),
        "platform": analysis.platform,
        # State folders from the analysis: each mounted from EFS by default, or "none" (the
        # container's own disk, lost when the task stops).
        "persistentStorage": [{"path": path, "storage": "efs"} for path in analysis.persistent_storage],
    }
    workload = (analysis.document.get("analysisInfo") or {}).get("workload")
    if workload:  # a service without one keeps App2Container's layout (no workload field)
        document["workload"] = build_workload(workload)
    for target in targets:
        document[target.section] = target.defaults(analysis)
    for section, flag in targets.reserved().items():
        document[section] = {flag: False}
    return document


# Where a broker other than SQS goes on AWS: what to provision, and what the README says to change.
BROKER_SERVICES = {"jms": "Amazon MQ", "rabbitmq": "Amazon MQ", "kafka": "Amazon MSK"}
# The defaults deployment.json starts with: a scheduled job runs once per trigger with no retry
# (a batch that half ran may not be safe to run again), a worker scales from 0 to 10 tasks.
SCHEDULE_DEFAULTS = {"timezone": "UTC", "retries": 0, "deadLetterQueue": False, "concurrencyPolicy": "Forbid"}
QUEUE_DEFAULTS = {"targetBacklogPerTask": 10, "minTasks": 0, "maxTasks": 10}


def build_workload(workload: Mapping[str, Any]) -> dict[str, Any]:
    """deployment.json's ``workload`` from analysis.json's ``analysisInfo.workload``: what kind of
    application it is and, by kind, its schedule, its SQS queue (others become brokers to
    provision) or its inbox, each with the settings a user tunes."""
    kind = workload.get("kind") or "service"
    result: dict[str, Any] = {"kind": kind}
    schedule = workload.get("schedule") or {}
    if kind == "scheduled" or schedule:
        result["schedule"] = {"cron": schedule.get("cron", ""), "onCalendar": schedule.get("onCalendar", ""),
                              **SCHEDULE_DEFAULTS, **({"timezone": schedule["timezone"]} if schedule.get("timezone")
                                                      else {})}
    queues = list(workload.get("queues") or ())
    sqs = [q for q in queues if q.get("type") == "sqs"]
    if sqs:
        first = sqs[0]
        result["queue"] = {"type": "sqs", "name": first.get("name", ""), "url": first.get("url", ""), **QUEUE_DEFAULTS}
    others = [q for q in queues if q.get("type") != "sqs" or (sqs and q is not sqs[0])]
    if others:
        result["otherBrokers"] = [
            {"type": q.get("type", ""), "endpoint": q.get("endpoint") or q.get("url") or q.get("name", ""),
             "provision": BROKER_SERVICES.get(q.get("type", ""), "Amazon SQS"),
             "setting": f"the endpoint in {q['foundIn']}" if q.get("foundIn") else "the application's broker endpoint"}
            for q in others]
    inbox = workload.get("inbox") or {}
    if kind == "fileDrop" or inbox:
        result["inbox"] = {"path": inbox.get("path", ""), "bucket": ""}
    return result


def ecr_parameters(analysis: AnalysisHead) -> dict[str, Any]:
    """The ECR settings of a new deployment.json: the repository a2c creates on push keeps its
    tags immutable and the last DEFAULT_KEEP_IMAGES images (kmsKeyArn is added by hand)."""
    return {"ecrRepoTag": default_repo_tag(analysis), "imageTagMutability": DEFAULT_TAG_MUTABILITY,
            "keepImages": DEFAULT_KEEP_IMAGES}


def default_repo_tag(analysis: AnalysisHead) -> str:
    """The tag the image gets in ECR: the analysis's own ``imageTag`` when the user chose one,
    else ``analysis-<first 12 hex digits of the analysis's SHA-256>``, never ``latest``.

    An immutable repository (the default) takes a tag once, so the tag must name one image.
    The image id (``sha-<id>``) would name it best, but deployment.json is written before the
    image exists (--artifacts-only, Windows builds) and is kept afterwards, so the id is not
    known here. The analysis is what the image is built from: the same analysis gives the same
    tag whenever deployment.json is written again, an edited one (base image, ports, files)
    another. The analysis time would do that too, but it changes on each ``a2c analyze`` of an
    unchanged application and makes every file derived from it differ between runs; so
    createdTime is left out of the digest. A rebuild from the same analysis that a repository
    already holds under this tag is refused before the push, with ``sha-<image id>`` as the hint.
    """
    if analysis.image_tag and analysis.image_tag != "latest":
        return analysis.image_tag
    content = {k: v for k, v in analysis.document.items() if k != "createdTime"}
    text = json.dumps({"applicationId": analysis.app_id, "image": analysis.image, "analysis": content},
                      sort_keys=True, separators=(",", ":"), default=str)
    return "analysis-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


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
