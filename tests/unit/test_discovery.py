"""Discovery and analysis on the tomcat-host snapshot: no real processes, no real files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.common.safexml import local_name, parse_xml
from a2c.analyzers.registry import load_registry
from a2c.steps.inventory import discover
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.workspace import validate

SNAPSHOT = Path(__file__).resolve().parents[2] / "fixtures" / "snapshots" / "tomcat-host"
EXPECTED_ID = application_id("java-tomcat", "tomcat:/opt/tomcat")


def _snapshot_copy(tmp_path: Path, change) -> SnapshotHost:
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy)
    meta = json.loads((copy / "host.json").read_text())
    change(meta)
    (copy / "host.json").write_text(json.dumps(meta))
    return SnapshotHost(str(copy))


def test_discovers_the_tomcat_app():
    result = discover(SnapshotHost(str(SNAPSHOT)), load_registry())
    assert list(result.entries) == [EXPECTED_ID]
    assert re.fullmatch(r"java-tomcat-[0-9a-f]{8}", EXPECTED_ID)
    entry = result.entries[EXPECTED_ID]
    assert entry.application_type == "java-tomcat" and entry.analyzer_id == "java-tomcat"
    assert entry.process_id == 4242
    assert entry.identity == "tomcat:/opt/tomcat" and entry.base_dir == "/opt/tomcat"
    assert entry.web_apps == ("ROOT", "app", "docs")
    assert entry.ports == (8005, 8009, 8080, 8443)
    assert entry.user == "tomcat"
    assert "-Ddb.password=****" in entry.cmdline and "s3cret" not in entry.cmdline
    assert result.notes == []


def test_id_is_stable():
    first = discover(SnapshotHost(str(SNAPSHOT)), load_registry())
    second = discover(SnapshotHost(str(SNAPSHOT)), load_registry())
    assert list(first.entries) == list(second.entries) == [EXPECTED_ID]


def test_id_does_not_depend_on_the_pid(tmp_path):
    def restart(meta):
        meta["processes"][0]["pid"] = 31337
        meta["processes"][0]["createTime"] = 1800000000.0

    result = discover(_snapshot_copy(tmp_path, restart), load_registry())
    assert list(result.entries) == [EXPECTED_ID]
    assert result.entries[EXPECTED_ID].process_id == 31337


def test_two_processes_of_one_app_are_listed_once(tmp_path):
    def duplicate(meta):
        worker = dict(meta["processes"][0], pid=5000, createTime=1700000100.0)
        meta["processes"].append(worker)

    result = discover(_snapshot_copy(tmp_path, duplicate), load_registry())
    assert list(result.entries) == [EXPECTED_ID]
    assert result.entries[EXPECTED_ID].process_id == 4242  # the oldest
    assert any("5000" in note for note in result.notes)


def test_runtime_filter():
    assert discover(SnapshotHost(str(SNAPSHOT)), load_registry(), runtime="dotnet").entries == {}


@pytest.fixture(scope="module")
def analysis():
    host = SnapshotHost(str(SNAPSHOT))
    registry = load_registry()
    entry = discover(host, registry).entries[EXPECTED_ID]
    analyzer = registry.get(entry.analyzer_id)
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    return host, analyzer, result


def test_analysis_document_is_valid(analysis):
    _, _, result = analysis
    document = build_document(result)
    validate(document, "analysis", "analysis.json")
    params, info = document["containerParameters"], document["analysisInfo"]
    assert params["applicationPort"] == 8080
    assert params["containerBaseImage"] == "eclipse-temurin:17-jre"
    assert info["AdvancedAppInfo"]["version"] == "10.1.16.0"
    assert info["AdvancedAppInfo"]["javaMajorVersion"] == 17
    assert info["tomcat"]["webApps"] == ["ROOT", "app", "docs"]
    assert "s3cret" not in json.dumps(document)
    assert {s["envVar"] for s in info["secrets"]} == {"DB_PASSWORD", "A2C_SECRET_DB_PASSWORD"}
    assert "DB_PASSWORD" not in params["environment"] and params["environment"]["LANG"] == "C.UTF-8"


def test_build_plan(analysis):
    host, analyzer, result = analysis
    plan = analyzer.plan(build_document(result), host)
    assert plan.entrypoint[0] == "${JAVA}"
    assert "-Ddb.password=${A2C_SECRET_DB_PASSWORD}" in plan.entrypoint
    assert "-XX:MaxRAMPercentage=75.0" not in plan.entrypoint  # the app has -Xmx512m
    assert plan.ports == (8080,) and plan.workdir == "/opt/tomcat"
    patched = parse_xml(plan.generated["/opt/tomcat/conf/server.xml"], "generated server.xml")
    http = next(c for c in patched.iter() if local_name(c) == "Connector" and c.get("port") == "8080")
    assert "address" not in http.attrib
