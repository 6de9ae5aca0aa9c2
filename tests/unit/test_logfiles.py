"""Logs leave the image file by file: a folder is left out only when it holds nothing but logs
(issue 9, cause 2: ``dotnet App.dll > out.log`` in the publish folder emptied the image)."""

from __future__ import annotations

import json
import shutil

from a2c.analyzers.common.logfiles import is_log_name, log_excludes
from a2c.analyzers.registry import load_registry
from a2c.hosts.snapshot import SnapshotHost
from a2c.planning import make_plan
from a2c.steps.analyze import analyze_application
from a2c.steps.inventory import discover
from a2c.workspace import Workspace
from tests.conftest import FIXTURES


def _host_with_log_in_app_folder(tmp_path) -> SnapshotHost:
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "snapshots" / "dotnet-host", root, symlinks=True)
    (root / "files" / "srv" / "hello" / "out.log").write_text("started\n")
    (root / "files" / "srv" / "hello" / "out.log.1").write_text("older\n")
    meta = json.loads((root / "host.json").read_text())
    meta["processes"][0]["openFiles"].append("/srv/hello/out.log")  # stdout redirected into the folder
    (root / "host.json").write_text(json.dumps(meta))
    return SnapshotHost(str(root))


def test_names():
    assert all(is_log_name(n) for n in ("out.log", "app.log.1", "catalina.out", "gc.log.0.current", "a.LOG"))
    assert not any(is_log_name(n) for n in ("App.dll", "logback.xml", "appsettings.json", "log4net.config"))


def test_a_folder_of_logs_goes_whole_a_mixed_one_file_by_file(tmp_path):
    host = _host_with_log_in_app_folder(tmp_path)
    assert log_excludes(host, ["/srv/hello/logs"]) == ["/srv/hello/logs"]
    assert log_excludes(host, ["/srv/hello"]) == ["/srv/hello/out.log", "/srv/hello/out.log.1"]


def test_an_app_logging_into_its_publish_folder_keeps_its_files(tmp_path):
    host = _host_with_log_in_app_folder(tmp_path)
    registry = load_registry()
    entries = discover(host, registry, "dotnet").entries
    (app_id,) = [k for k, e in entries.items() if e.process_id == 3100]
    workspace = Workspace(tmp_path / "ws").ensure()
    workspace.write_inventory(entries)
    document = analyze_application(workspace, app_id, host, registry).document
    excluded = document["containerParameters"]["appExcludedFiles"]
    assert "/srv/hello" not in excluded and "/srv/hello/out.log" in excluded, excluded
    assert "/srv/hello/logs" in excluded  # that folder holds logs only
    plan = make_plan(document, host, registry)
    (app_layer,) = [layer for layer in plan.layers if layer.name == "application"]
    assert app_layer.paths == ("/srv/hello",) and "/srv/hello" not in app_layer.excludes
