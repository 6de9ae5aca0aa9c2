"""The design's seams, checked by reading imports: nothing below the CLI imports it, only the
local host touches psutil, analyzers reach files only through a Host, and `a2c --help` stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


CORE = [p for p in _modules("a2c") if "cli" not in p.parts and p.name != "__main__.py"] + _modules("analyzers")


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_the_cli(path):
    assert not any(name == "a2c.cli" or name.startswith("a2c.cli.") or name == "click" for name in _imports(path))


@pytest.mark.parametrize("path", _modules("a2c") + _modules("analyzers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_local_host_imports_psutil(path):
    if path == ROOT / "a2c" / "hosts" / "local.py":
        return
    assert "psutil" not in _imports(path)


@pytest.mark.parametrize("path", _modules("analyzers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_analyzers_read_only_through_a_host(path):
    tree = ast.parse(path.read_text())
    assert not {"os", "os.path", "pathlib", "shutil", "subprocess"} & _imports(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{path.name}:{node.lineno} calls open(); use host.open()"


@pytest.mark.parametrize("path", _modules("a2c/model") + [ROOT / "a2c" / "errors.py"], ids=lambda p: p.name)
def test_models_and_errors_depend_on_nothing_of_ours(path):
    ours = {n for n in _imports(path) if n.startswith("a2c") and not n.startswith("a2c.model")}
    assert ours <= {"a2c"}, ours


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from a2c.cli import cli; "
            "heavy = [m for m in ('docker', 'boto3', 'botocore', 'lxml', 'jinja2', 'psutil', 'jsonschema') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
