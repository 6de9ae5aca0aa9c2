"""The plugin loader (a2c/plugins.py): built-ins and third parties through the same entry-point
groups; a plugin that fails to import is left out with a note, a duplicate id is refused."""

from __future__ import annotations

import pytest

from a2c.errors import ExitStatus
from a2c.plugins import PluginError, load_classes


def _dist(root, name: str, group: str, entries: dict[str, str], module: str) -> None:
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()))
    (root / f"{name}.py").write_text(module)


def test_the_builtins_come_through_the_entry_points():
    analyzers, notes = load_classes("analyzers")
    assert notes == []
    assert {"java-tomcat", "java-generic", "dotnet-core", "dotnet-iis"} <= {c.id for c in analyzers}
    assert [c.id for c in load_classes("targets")[0]] == ["apprunner", "ecs", "ecs-express", "eks"]
    assert {c.id for c in load_classes("builders")[0]} == {"docker", "windows", "codebuild"}
    pipelines, notes = load_classes("pipelines")
    assert notes == [] and {c.id for c in pipelines} >= {"codepipeline"}


def test_a_plugin_that_fails_to_import_is_left_out_with_a_note(tmp_path, monkeypatch):
    _dist(tmp_path, "broken_plugin", "a2c.targets", {"broken": "broken_plugin:Target"}, "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    classes, notes = load_classes("targets")
    assert [c.id for c in classes] == ["apprunner", "ecs", "ecs-express", "eks"]
    assert len(notes) == 1 and "broken = broken_plugin:Target failed to load: RuntimeError" in notes[0]


def test_a_duplicate_id_is_refused(tmp_path, monkeypatch):
    _dist(tmp_path, "twin_plugin", "a2c.builders", {"twin": "twin_plugin:Twin"},
          "class Twin:\n    id = 'docker'\n    platform = 'linux'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as info:
        load_classes("builders")
    assert "share the id 'docker'" in info.value.message and info.value.exit_status == ExitStatus.PLUGIN


def test_a_class_without_an_id_is_refused(tmp_path, monkeypatch):
    _dist(tmp_path, "anon_plugin", "a2c.pipelines", {"anon": "anon_plugin:Anon"}, "class Anon:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="has no id"):
        load_classes("pipelines")


def test_the_environment_warns_of_a_plugin_left_out(tmp_path, monkeypatch):
    from a2c.env import Environment
    from a2c.progress import Reporter
    from a2c.workspace import Workspace

    class Warnings(Reporter):
        def __init__(self):
            self.lines = []

        def warn(self, message):
            self.lines.append(message)

    _dist(tmp_path / "site", "broken_target", "a2c.targets", {"broken": "broken_target:Target"}, "import nowhere\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    env = Environment(workspace=Workspace(tmp_path / "ws"), reporter=Warnings())
    assert [t.id for t in env.targets] == ["apprunner", "ecs", "ecs-express", "eks"]
    assert len(env.reporter.lines) == 1 and "broken = broken_target:Target failed to load" in env.reporter.lines[0]
