"""Files that change during analysis as evidence of state (analyzers/common/changedfiles.py),
and the plan honouring persistentStorage whatever analyzer made it (planning.with_state_folders)."""

from __future__ import annotations

import os

from a2c.analyzers.common import changedfiles
from a2c.hosts.local import LocalHost
from a2c.model import BuildPlan, CopyLayer
from a2c.planning import with_state_folders


def _tree(root):
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "app.jar").write_bytes(b"PK")
    (root / "data").mkdir()
    (root / "data" / "store.db").write_bytes(b"1")
    (root / "logs").mkdir()
    (root / "logs" / "server.log").write_text("x")
    (root / "app.properties").write_text("a=1")


def _bump(path, content=b"22"):
    path.write_bytes(content)
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 5))  # whatever the file system's mtime resolution


def test_new_and_changed_files_are_found_and_unchanged_ones_are_not(tmp_path):
    _tree(tmp_path)
    host = LocalHost()
    watch = changedfiles.watch(host, [str(tmp_path)])
    _bump(tmp_path / "data" / "store.db")
    (tmp_path / "data" / "new.idx").write_bytes(b"i")
    assert changedfiles.changed(host, watch) == [str(tmp_path / "data" / "new.idx"), str(tmp_path / "data" / "store.db")]


def test_the_folder_of_changed_data_becomes_persistent_storage_logs_and_code_do_not(tmp_path):
    _tree(tmp_path)
    host = LocalHost()
    watch = changedfiles.watch(host, [str(tmp_path)])
    for path in (tmp_path / "data" / "store.db", tmp_path / "logs" / "server.log", tmp_path / "lib" / "app.jar",
                 tmp_path / "app.properties"):
        _bump(path)
    entries, findings = changedfiles.storage(changedfiles.changed(host, watch), watch, {}, {}, host)
    assert [e["path"] for e in entries] == [str(tmp_path / "data")]
    assert entries[0]["bakeContents"] is False and "changed while a2c analyzed" in entries[0]["evidence"][0]
    codes = sorted(f.code for f in findings)
    # The root (app.properties) and lib/ (app.jar) hold the application: copied as they are, said so.
    assert codes == ["STATE-I002", "STATE-W002", "STATE-W002"]
    assert {f.path for f in findings if f.code == "STATE-W002"} == {str(tmp_path), str(tmp_path / "lib")}


def test_a_change_inside_a_known_state_folder_adds_evidence_and_excluded_places_are_ignored(tmp_path):
    _tree(tmp_path)
    (tmp_path / "data" / "inner").mkdir()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "c.bin").write_bytes(b"c")
    host = LocalHost()
    watch = changedfiles.watch(host, [str(tmp_path)])
    (tmp_path / "data" / "inner" / "page").write_bytes(b"p")
    _bump(tmp_path / "cache" / "c.bin")
    info = {"persistentStorage": [{"path": str(tmp_path / "data"), "evidence": ["dataDir= in app.properties"],
                                   "bakeContents": True}]}
    params = {"appExcludedFiles": [str(tmp_path / "cache")]}
    entries, findings = changedfiles.storage(changedfiles.changed(host, watch), watch, info, params, host)
    assert entries == [{"path": str(tmp_path / "data"), "bakeContents": True, "evidence": [
        "dataDir= in app.properties",
        f"files changed while a2c analyzed the running application: {tmp_path / 'data' / 'inner' / 'page'}"]}]
    assert findings == []


def test_system_folders_are_not_watched_and_big_trees_are_bounded(tmp_path, monkeypatch):
    assert changedfiles.watch(LocalHost(), ["/usr/lib", "/", "/home/app", "relative"]).roots == ()
    for index in range(30):
        (tmp_path / f"f{index}").write_bytes(b"x")
    monkeypatch.setattr(changedfiles, "MAX_ENTRIES", 10)
    watch = changedfiles.watch(LocalHost(), [str(tmp_path)])
    assert watch.truncated and len(watch.files) == 10
    _, findings = changedfiles.storage([], watch, {}, {}, LocalHost())
    assert [f.code for f in findings] == ["STATE-I003"]


def _analysis(storage):
    return {"analysisInfo": {"persistentStorage": storage}, "containerParameters": {}}


def test_every_plan_leaves_state_out_and_makes_it_writable():
    plan = BuildPlan("a", "base", (CopyLayer("application", ("/srv/tomcat",), excludes=("/srv/tomcat/logs",)),), ())
    result = with_state_folders(plan, _analysis([{"path": "/srv/tomcat/data", "bakeContents": False},
                                                 {"path": "/etc", "bakeContents": False}]))
    assert result.layers[0].excludes == ("/srv/tomcat/logs", "/srv/tomcat/data")
    assert result.writable_dirs == ("/srv/tomcat/data",)  # /etc: an edit never makes the OS writable


def test_baked_state_is_copied_even_where_no_layer_holds_it():
    plan = BuildPlan("a", "base", (CopyLayer("application", ("/srv/app",)),), ())
    result = with_state_folders(plan, _analysis([{"path": "/srv/app/data", "bakeContents": True},
                                                 {"path": "/var/lib/app", "bakeContents": True}]))
    assert [(layer.name, layer.paths, layer.excludes) for layer in result.layers] == [
        ("state", ("/var/lib/app",), ()), ("application", ("/srv/app",), ())]
    assert result.writable_dirs == ("/srv/app/data", "/var/lib/app")
    assert with_state_folders(plan, _analysis([])) is plan
