"""Workspace JSON: schema validation with file and JSON path, atomic writes, broken files."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from a2c.errors import AppNotFound, InvalidFile, WorkspaceError
from a2c.workspace import Workspace, atomic_write_bytes, atomic_write_json, json_path, read_json, validate

HOSTILE_JSON = Path(__file__).resolve().parents[2] / "fixtures" / "hostile" / "json"


@pytest.fixture
def document():
    return json.loads((HOSTILE_JSON / "analysis-valid.json").read_text(encoding="utf-8"))


def test_valid_document(document):
    validate(document, "analysis", "analysis.json")


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (lambda d: d["containerParameters"].__setitem__("applicationPort", "80"),
         "$.containerParameters.applicationPort", "'80' is not of type 'integer'"),
        (lambda d: d["containerParameters"].__setitem__("applicationPort", 70000),
         "$.containerParameters.applicationPort", "65535"),
        (lambda d: d["containerParameters"].__setitem__("applicationMode", "yes"),
         "$.containerParameters.applicationMode", "boolean"),
        (lambda d: d["containerParameters"].__setitem__("appExcludedFiles", ["/ok", "relative/path"]),
         "$.containerParameters.appExcludedFiles[1]", "relative/path"),
        (lambda d: d["containerParameters"].__setitem__("imageRepository", "Upper Case"),
         "$.containerParameters.imageRepository", "Upper Case"),
        (lambda d: d["containerParameters"]["environment"].__setitem__("LANG", 1),
         "$.containerParameters.environment.LANG", "string"),
        (lambda d: d["analysisInfo"]["cmdline"].__setitem__(0, 5), "$.analysisInfo.cmdline[0]", "string"),
        (lambda d: d["analysisInfo"].__setitem__("cmdline", []), "$.analysisInfo.cmdline", "non-empty"),
        (lambda d: d.pop("analysisInfo"), "$", "'analysisInfo' is a required property"),
    ],
)
def test_bad_field_names_file_and_path(document, change, where, words):
    change(document)
    with pytest.raises(InvalidFile) as caught:
        validate(document, "analysis", "/ws/app-1/analysis.json")
    message = caught.value.message
    assert message.startswith(f"/ws/app-1/analysis.json: {where}: ")
    assert words in message
    assert where in caught.value.hint


def test_unknown_field_is_named(document):
    document["containerParameters"]["aplicationPort"] = 80
    with pytest.raises(InvalidFile) as caught:
        validate(document, "analysis", "/ws/app-1/analysis.json")
    message = caught.value.message
    assert message.startswith("/ws/app-1/analysis.json: $.containerParameters: ")
    assert "unknown field" in message and "aplicationPort" in message


@pytest.mark.parametrize(
    ("parts", "expected"),
    [((), "$"), (("a",), "$.a"), (("a", 0, "b"), "$.a[0].b"), ((0,), "$[0]")],
)
def test_json_path(parts, expected):
    assert json_path(parts) == expected


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("analysis-port-as-string.json", "$.containerParameters.applicationPort"),
        ("analysis-unknown-field.json", "$.containerParameters"),
        ("analysis-truncated.json", "not valid JSON"),
        ("analysis-trailing-comma.json", "not valid JSON"),
        ("analysis-not-an-object.json", "$"),
    ],
)
def test_read_json_hostile_files(name, where):
    path = HOSTILE_JSON / name
    with pytest.raises(InvalidFile) as caught:
        read_json(path, "analysis")
    assert caught.value.message.startswith(f"{path}: ")
    assert where in caught.value.message
    assert caught.value.hint


def test_read_json_valid_file():
    assert read_json(HOSTILE_JSON / "analysis-valid.json", "analysis")["containerParameters"]["applicationPort"] == 8080


def test_read_json_with_a_byte_order_mark_never_crashes():
    path = HOSTILE_JSON / "analysis-utf8-bom.json"
    try:
        document = read_json(path, "analysis")
    except InvalidFile as exc:
        assert str(path) in exc.message
    else:
        assert document["a2CTemplateVersion"] == "1.0"


def test_read_json_non_utf8_file_is_an_invalid_file():
    path = HOSTILE_JSON / "analysis-latin1.json"
    with pytest.raises(InvalidFile) as caught:
        read_json(path, "analysis")
    assert str(path) in caught.value.message


def test_read_json_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "missing.json", "analysis")


def test_atomic_write_json_replaces_and_leaves_no_temp_file(tmp_path, document):
    target = tmp_path / "app" / "analysis.json"
    atomic_write_json(target, {"old": True})
    atomic_write_json(target, document)
    assert json.loads(target.read_text(encoding="utf-8")) == document
    assert target.read_text(encoding="utf-8").endswith("}\n")
    assert sorted(p.name for p in target.parent.iterdir()) == ["analysis.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "analysis.json"
    atomic_write_json(target, {"old": True})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"not serializable": object()})
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(target, {"new": True})
    assert json.loads(target.read_text()) == {"old": True}
    assert os.listdir(tmp_path) == ["analysis.json"]


def test_atomic_write_json_keeps_unicode(tmp_path):
    target = tmp_path / "x.json"
    atomic_write_json(target, {"name": "caf\u00e9"})
    assert "caf\u00e9" in target.read_text(encoding="utf-8")


def test_write_analysis_validates_before_writing(tmp_path, document):
    workspace = Workspace(tmp_path / "ws").ensure()
    bad = copy.deepcopy(document)
    bad["containerParameters"]["applicationPort"] = "80"
    with pytest.raises(InvalidFile):
        workspace.write_analysis("app-1", bad)
    assert not (tmp_path / "ws" / "app-1" / "analysis.json").exists()
    path = workspace.write_analysis("app-1", document)
    assert workspace.read_analysis("app-1") == document
    assert path == tmp_path / "ws" / "app-1" / "analysis.json"


@pytest.mark.parametrize("app_id", ["", "../etc", "a/b", ".hidden"])
def test_app_dir_refuses_paths(tmp_path, app_id):
    with pytest.raises(AppNotFound):
        Workspace(tmp_path).app_dir(app_id)


def test_write_files_refuses_escaping_names(tmp_path):
    workspace = Workspace(tmp_path / "ws").ensure()
    base = tmp_path / "ws" / "app-1" / "Artifacts"
    written = workspace.write_files(base, {"Dockerfile": "FROM x\n", "start.sh": b"#!/bin/sh\n"}, executable=("start.sh",))
    assert [p.name for p in written] == ["Dockerfile", "start.sh"]
    assert (base / "start.sh").stat().st_mode & 0o111
    with pytest.raises(WorkspaceError):
        workspace.write_files(base, {"../../evil": "x"})
    assert not (tmp_path / "ws" / "evil").exists()


def test_missing_inventory(tmp_path):
    with pytest.raises(WorkspaceError, match="no inventory"):
        Workspace(tmp_path).read_inventory()
