"""mypy over the package, as part of the suite (so CI runs it)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.conftest import ROOT, missing


def test_mypy_is_clean():
    if shutil.which("mypy") is None:
        missing("mypy", "pip install -e '.[test]'")
    result = subprocess.run([sys.executable, "-m", "mypy", "a2c", "analyzers"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
