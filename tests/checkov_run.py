"""checkov over one CloudFormation template, offline: the checks that failed, and those the
template skips (each of which its README must explain)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing


def checkov(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """([(check id, resource)] failed, [check id] skipped)."""
    command = shutil.which("checkov")
    if not command:
        missing("checkov", "run scripts/setup.sh (it installs checkov in a venv of its own)")
    run = subprocess.run([command, "-f", str(path), "--framework", "cloudformation", "-o", "json", "--skip-download"],
                         capture_output=True, text=True, timeout=600)
    report = json.loads(run.stdout) if run.stdout.strip() else {}
    results = report.get("results", {}) if isinstance(report, dict) else {}
    assert isinstance(report, dict) and not report.get("summary", {}).get("parsing_errors"), run.stdout + run.stderr
    failed = [(c["check_id"], c["resource"]) for c in results.get("failed_checks", [])]
    skipped = [c["check_id"] for c in results.get("skipped_checks", [])]
    assert len(skipped) == report.get("summary", {}).get("skipped", 0)  # not --quiet: it leaves them out
    return failed, skipped
