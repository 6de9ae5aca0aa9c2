"""The fixture folders stay documented and reproducible."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOSTILE = FIXTURES / "hostile"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _generated_area(path: Path) -> Path | None:
    """The area folder (``workflow/``, ``processmode/``) whose own ``make_*.py`` writes this file."""
    area = HOSTILE / path.relative_to(HOSTILE).parts[0]
    return area if area.is_dir() and any(area.glob("make_*.py")) else None


@pytest.mark.parametrize("path", _files(HOSTILE), ids=lambda p: str(p.relative_to(HOSTILE)))
def test_every_hostile_file_is_described(path):
    """Each file has its row in README.md; a generated area is described once, by its folder
    and its generator (the generator's own test proves the files are what it writes)."""
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    area = _generated_area(path)
    if area is not None:
        generators = [g.name for g in area.glob("make_*.py")]
        assert f"## {area.name}/" in readme and all(f"`{g}`" in readme for g in generators), area.name
        return
    assert f"`{path.name}`" in readme or path.name in ("README.md", "make_hostile.py")


@pytest.mark.parametrize("path", _files(HOSTILE), ids=lambda p: str(p.relative_to(HOSTILE)))
def test_hostile_files_are_small(path):
    assert path.stat().st_size < 64 * 1024


def test_make_hostile_regenerates_the_same_files(tmp_path):
    written = _load(HOSTILE / "make_hostile.py").main(tmp_path)
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == sorted(str(p.relative_to(tmp_path)) for p in _files(tmp_path))
    for name in names:
        committed = HOSTILE / name
        assert committed.is_file(), f"{name} is generated but not committed"
        if not name.endswith(".jar"):  # zlib output may differ between builds; text must not
            assert (tmp_path / name).read_bytes() == committed.read_bytes(), name


def test_make_snapshot_regenerates_equivalent_zips(tmp_path, monkeypatch):
    module = _load(FIXTURES / "snapshots" / "make_snapshot.py")
    monkeypatch.setattr(module, "TOMCAT", tmp_path)
    module.main()
    for relative in ("webapps/app.war", "lib/catalina.jar"):
        committed = FIXTURES / "snapshots" / "tomcat-host" / "files" / "opt" / "tomcat" / relative
        with zipfile.ZipFile(tmp_path / relative) as fresh, zipfile.ZipFile(committed) as old:
            assert fresh.namelist() == old.namelist()
            assert all(fresh.read(n) == old.read(n) for n in fresh.namelist())


def test_snapshot_has_no_links():
    assert not [p for p in (FIXTURES / "snapshots" / "tomcat-host").rglob("*") if p.is_symlink()]
