"""`pip install .` must carry the templates, schemas and analyzers (they live outside a2c/ in the tree)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_wheel_contains_templates_schemas_and_analyzers(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT),
                    "-w", str(tmp_path)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("a2c-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("a2c/templates/dockerfile/Dockerfile.j2", "a2c/templates/ecs/ecs-master.yml.j2",
                     "a2c/schemas/analysis.schema.json", "a2c/analyzers/java/tomcat.py", "a2c/analyzers/registry.py"):
        assert required in names, required
    # Nothing generic lands at the top of site-packages.
    assert not any(n.startswith(("templates/", "analyzers/", "tests/", "fixtures/")) for n in names)
    # Every module of the tree is in the wheel (setup.cfg lists packages one by one).
    tree = {f"a2c/{p.relative_to(ROOT / 'a2c').as_posix()}" for p in (ROOT / "a2c").rglob("*.py")}
    tree |= {f"a2c/analyzers/{p.relative_to(ROOT / 'analyzers').as_posix()}" for p in (ROOT / "analyzers").rglob("*.py")}
    assert tree - names == set()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "a2c = a2c.cli:main" in text
    # The built-ins register in the plugin groups, as third parties do.
    for line in ("[a2c.analyzers]", "java-tomcat = a2c.analyzers.java.tomcat:TomcatAnalyzer", "[a2c.targets]",
                 "ecs = a2c.targets.ecs:EcsTarget", "[a2c.builders]", "docker = a2c.images.docker:DockerBuilder"):
        assert line in text, line
