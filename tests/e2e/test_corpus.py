"""Every corpus application (tests/corpus/catalog.py: Debian's Java servers and in-house-style
services) goes from inventory to an image validated against the running original, with no
edit, and then to every deployment target it can run on: each CloudFormation template passes
cfn-lint, each Kubernetes manifest kubernetes-validate --strict. The same runner gives
benchmarks/migration.py its figure."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.corpus.catalog import APPS
from tests.corpus.migrate import migrate


@pytest.mark.parametrize("app", APPS, ids=[a.name for a in APPS])
def test_migrates_with_no_edit(app, tmp_path, docker_client, jre_image):
    outcome = migrate(app, tmp_path)
    if outcome.unavailable:
        missing(f"{app.name}: {outcome.reason}", "run scripts/setup.sh and scripts/setup-dotnet.sh")
    assert outcome.migrated, outcome.line()
    rows = outcome.validation["ports"]
    assert rows and all(r["match"] for r in rows)
    assert {"ecs", "eks"} <= set(outcome.folders), outcome.folders
    templates = [str(p) for target, folder in outcome.folders.items() if target != "eks"
                 for p in Path(folder).glob("*.yml")]
    lint = subprocess.run([shutil.which("cfn-lint") or "cfn-lint", *templates], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    manifests = sorted(str(p) for p in Path(outcome.folders["eks"]).glob("*.yml"))
    validate = shutil.which("kubernetes-validate") or str(Path(sys.executable).with_name("kubernetes-validate"))
    checked = subprocess.run([validate, "--strict", *manifests], capture_output=True, text=True, timeout=300)
    # Only the SecretProviderClass (a CRD: no bundled schema) is left to a warning.
    assert checked.returncode == 0 and all("SecretProviderClass" in line for line in checked.stdout.splitlines()
                                           if line.startswith("WARN")), checked.stdout + checked.stderr
