"""A real JVM that writes its state between opening and closing a file, in a folder no option
or configuration names: only the change a2c sees while it analyzes the running process (the
parity probe's request makes the app write) finds the folder, and the image leaves it empty
and writable."""

from __future__ import annotations

import pytest

from a2c.env import Environment
from a2c.planning import make_plan
from a2c.steps import analyze, inventory
from a2c.workspace import Workspace
from tests.integration.state_writer import compile_into, running


@pytest.fixture
def state_writer(tmp_path):
    app = tmp_path / "ledger"
    compile_into(app)
    with running(app) as proc:
        yield proc, app


def test_a_folder_written_during_analysis_is_persistent_storage(state_writer, tmp_path):
    proc, app = state_writer
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    listed = inventory.run(env, inventory.InventoryRequest())
    (app_id,) = [k for k, e in listed.entries.items() if e.process_id == proc.pid]
    document = analyze.run(env, analyze.AnalyzeRequest(app_id)).document
    records = str(app / "records")
    (entry,) = [e for e in document["analysisInfo"]["persistentStorage"] if e["path"] == records]
    assert any("changed while a2c analyzed" in e for e in entry["evidence"]) and entry["bakeContents"] is False
    assert "STATE-I002" in {f["code"] for f in document["findings"]}
    plan = make_plan(document, env.open_host("local"), env.analyzers)
    assert records in plan.writable_dirs
    assert any(records in layer.excludes for layer in plan.layers if any(str(app) == p for p in layer.paths))
