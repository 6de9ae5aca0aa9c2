"""The import contracts of setup.cfg (DESIGN.md "Seams"), checked by import-linter.

lint-imports walks the folder of the ``a2c`` package it imports. A checkout's editable install
maps ``a2c.analyzers`` onto ``analyzers/`` without a folder for it under ``a2c/``, so the test
runs lint-imports over a copy laid out as ``pip install .`` lays it out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _installed_layout(target: Path) -> Path:
    """``a2c/`` with ``analyzers/`` at ``a2c/analyzers`` (Python files only)."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.json", "*.j2")
    shutil.copytree(ROOT / "a2c", target / "a2c", ignore=skip)
    shutil.copytree(ROOT / "analyzers", target / "a2c" / "analyzers", ignore=skip)
    return target


def lint_imports(view: Path) -> subprocess.CompletedProcess:
    """``lint-imports setup.cfg`` over the view (the package found first on its PYTHONPATH)."""
    env = {**os.environ, "PYTHONPATH": str(view)}
    script = Path(sys.executable).with_name("lint-imports")  # the one installed beside this Python
    return subprocess.run([str(script), str(ROOT / "setup.cfg"), "--no-cache"], cwd=view, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold(tmp_path):
    result = lint_imports(_installed_layout(tmp_path / "view"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout, result.stdout


def test_a_broken_contract_is_reported(tmp_path):
    """The check can fail: an analyzer that renders a template breaks the analyzers contract."""
    view = _installed_layout(tmp_path / "view")
    (view / "a2c" / "analyzers" / "java" / "renders.py").write_text("from a2c.generate import render\n")
    result = lint_imports(view)
    assert result.returncode != 0
    assert "a2c.analyzers.java.renders -> a2c.generate" in result.stdout, result.stdout
