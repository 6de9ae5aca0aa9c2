"""Take one corpus application through the workflow as a user does, and say whether it
migrated with no edit: started, found by ``a2c inventory`` (by its pid), ``a2c analyze``,
``a2c containerize`` with validation against the running original on every port.

The only things passed to a2c are the ones a user types: the application id and, because this
machine cannot pull from a public registry, ``--base-image`` with a local image of the same
runtime. Nothing in analysis.json or Artifacts/ is touched. Used by
``benchmarks/migration.py`` (the figure) and ``tests/e2e/test_corpus.py`` (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.corpus.base import CorpusApp, NotAvailable, Running

JRE_IMAGE = os.environ.get("A2C_TEST_JRE_IMAGE", "a2c-test/jre17:latest")
DOTNET_IMAGE = os.environ.get("A2C_TEST_DOTNET_IMAGE", "a2c-test/dotnet-runtime:3.1")
STEP_TIMEOUT = 600


@dataclass
class Outcome:
    name: str
    migrated: bool = False
    stage: str = ""  # where it stopped: start, inventory, analyze, containerize; "" when migrated
    reason: str = ""
    unavailable: bool = False  # the machine lacks what the app needs (not a2c's failure)
    app_id: str = ""
    seconds: float = 0.0
    validation: dict[str, Any] = field(default_factory=dict)
    workspace: str = ""
    folders: dict[str, str] = field(default_factory=dict)  # target id -> its rendered folder

    def line(self) -> str:
        if self.migrated:
            ports = ", ".join(f"{p['port']} {p['probe']} {p['container']}" for p in self.validation.get("ports", []))
            return f"  ok   {self.name} ({self.app_id}, {self.seconds:.0f}s): {ports}"
        return f"  FAIL {self.name} at {self.stage}: {self.reason}"


def _a2c(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "a2c", "--json", *args], capture_output=True, text=True, env=env,
                          timeout=STEP_TIMEOUT)


def _error(proc: subprocess.CompletedProcess) -> str:
    """The error a2c printed (its --json error object), the head of it: what failed and why."""
    for text in (proc.stdout, proc.stderr):
        start = text.find("{")
        try:
            data = json.loads(text[start:]) if start >= 0 else None
        except ValueError:
            continue
        if isinstance(data, dict) and "error" in data:
            return str(data["error"])[:1500]
    return (proc.stderr.strip() or proc.stdout.strip())[-1500:]


def _json(proc: subprocess.CompletedProcess) -> Any:
    return json.loads(proc.stdout)


def base_image_for(app_type: str) -> str:
    return DOTNET_IMAGE if app_type.startswith("dotnet") else JRE_IMAGE


def migrate(app: CorpusApp, root: Path, keep: bool = False) -> Outcome:
    """``root``: a fresh folder for the app's files and a2c's workspace."""
    outcome = Outcome(app.name, workspace=str(root / "workspace"))
    started = time.monotonic()
    running: Running | None = None
    env = {**os.environ, "A2C_WORKSPACE": str(root / "workspace"), "A2C_CONFIG": str(root / "config.json")}
    env.pop("A2C_JSON_MODE", None)
    image = ""
    try:
        try:
            (root / "app").mkdir(parents=True, exist_ok=True)
            running = app.start(root / "app")
        except NotAvailable as exc:
            outcome.stage, outcome.reason, outcome.unavailable = "start", str(exc), True
            return outcome
        except Exception as exc:  # the corpus app itself did not start: not a2c's doing, but a failure
            outcome.stage, outcome.reason = "start", f"{type(exc).__name__}: {exc}"[:1500]
            return outcome
        init = _a2c(env, "init", "--defaults", "--workspace-dir", str(root / "workspace"), "--region", "us-east-1")
        if init.returncode:
            outcome.stage, outcome.reason = "init", _error(init)
            return outcome
        listed = _a2c(env, "inventory")
        if listed.returncode:
            outcome.stage, outcome.reason = "inventory", _error(listed)
            return outcome
        found = [(k, v) for k, v in _json(listed).items() if int(v.get("processId", 0)) == running.pid]
        if not found:
            outcome.stage, outcome.reason = "inventory", f"no application with process id {running.pid} was listed"
            return outcome
        outcome.app_id, entry = found[0]
        analyzed = _a2c(env, "analyze", "--application-id", outcome.app_id)
        if analyzed.returncode:
            outcome.stage, outcome.reason = "analyze", _error(analyzed)
            return outcome
        built = _a2c(env, "containerize", "--application-id", outcome.app_id, "--base-image",
                     base_image_for(entry.get("applicationType", "")))
        if built.returncode:
            outcome.stage, outcome.reason = "containerize", _error(built)
            return outcome
        result = _json(built)
        image = result.get("image", "")
        outcome.validation = result.get("validation") or {}
        if outcome.validation.get("against") != "original":
            outcome.stage = "containerize"
            outcome.reason = f"validated against {outcome.validation.get('against')!r}, not the running original " \
                             f"({outcome.validation.get('note', '')})"
            return outcome
        generated = _generate(env, Path(outcome.workspace), outcome.app_id)
        if generated.returncode:
            outcome.stage, outcome.reason = "generate app-deployment", _error(generated)
            return outcome
        outcome.folders = {t["target"]: t["folder"] for t in _json(generated).get("targets", [])}
        outcome.migrated = True
        return outcome
    finally:
        outcome.seconds = time.monotonic() - started
        if running is not None:
            running.stop()
        if image and not keep:
            subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)


def _generate(env: dict[str, str], workspace: Path, app_id: str) -> subprocess.CompletedProcess:
    """``generate app-deployment`` with every target the application can run on switched on, as
    a user choosing them in deployment.json would: ECS and EKS always, ECS Express Mode and App
    Runner when a port speaks HTTP (they front HTTP only)."""
    path = workspace / app_id / "deployment.json"
    deployment = json.loads(path.read_text())
    http = any(p.get("protocol") == "http" for p in deployment.get("exposedPorts", []))
    for section, flag, wanted in (("ecsParameters", "createEcsArtifacts", True), ("eksParameters", "createEksArtifacts", True),
                                  ("ecsExpressParameters", "createEcsExpressArtifacts", http),
                                  ("appRunnerParameters", "createAppRunnerArtifacts", http)):
        deployment.setdefault(section, {})[flag] = wanted
    path.write_text(json.dumps(deployment, indent=2))
    return _a2c(env, "generate", "app-deployment", "--application-id", app_id)


def migrate_all(apps: list[CorpusApp], keep: bool = False) -> list[Outcome]:
    outcomes = []
    for app in apps:
        root = Path(tempfile.mkdtemp(prefix=f"a2c-corpus-{app.name}-"))
        outcome = migrate(app, root, keep)
        outcomes.append(outcome)
        if outcome.migrated and not keep:
            shutil.rmtree(root, ignore_errors=True)
    return outcomes
