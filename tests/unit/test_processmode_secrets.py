"""Process mode on a host full of credentials: none reaches the plan, the image's context or the archive.

The ``leaky-java-host`` snapshot (fixtures/hostile/processmode/) runs a Java app from /opt/shop
that holds ~/.ssh/id_rsa, /etc/gshadow and ~/.pgpass open, names /etc/ssh by -Dkeys.dir, and
keeps .env, app.conf, settings.json and conf/app.properties with secrets in its working folder.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.common.credstores import is_credential_store
from a2c.analyzers.java.generic import GenericJavaAnalyzer
from a2c.analyzers.registry import Registry
from a2c.images.layers import ContextWriter
from a2c.steps.inventory import discover
from a2c.hosts.base import is_within
from a2c.hosts.snapshot import SnapshotHost
from a2c.workspace import validate
from tests.conftest import FIXTURES, load_script

FOLDER = FIXTURES / "hostile" / "processmode"
SNAPSHOT = FOLDER / "leaky-java-host"
MAKER = load_script(FOLDER / "make_fixture.py", "make_processmode_fixture")
CANARY = re.compile(rb"A2C-CANARY-PM-\d+")


@pytest.fixture(scope="module")
def analyzed():
    host = SnapshotHost(str(SNAPSHOT))
    analyzer = GenericJavaAnalyzer()
    entry = next(iter(discover(host, Registry([analyzer])).entries.values()))
    result = analyzer.analyze(entry, host.process(entry.process_id), host)
    document = build_document(result)
    return host, analyzer, document, analyzer.plan(document, host)


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return {m.name: m for m in tar.getmembers()}


def _read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        stream = tar.extractfile(name)
        assert stream is not None
        return stream.read()


def _host_path(name: str) -> str:
    """The host path a context or archive member stands for."""
    for prefix in ("layers/application", "layers/runtime", "generated", "writable", "files"):
        if name == prefix or name.startswith(prefix + "/"):
            return name[len(prefix):] or "/"
    return ""


def _image_context(analyzed) -> tuple[bytes, ContextWriter]:
    host, _, _, plan = analyzed
    writer = ContextWriter(host, plan, {"Dockerfile": b"FROM scratch\n"})
    return b"".join(writer), writer


def _archive(analyzed) -> tuple[bytes, ContextWriter]:
    """The stream ``a2c extract`` writes (a2c/steps/extract.py): files/<path>, templated files substituted."""
    host, _, document, plan = analyzed
    templated = {path: plan.generated[path] for path in plan.render_at_start if path in plan.generated}
    head = {"analysis.json": json.dumps(document).encode()}
    writer = ContextWriter(host, plan, head, name_for=lambda layer, path: "files" + path, with_generated=False,
                           substitutes=templated)
    return b"".join(writer), writer


def test_the_fixture_is_what_make_fixture_writes(tmp_path):
    MAKER.main(tmp_path)
    for path in MAKER.files():
        committed = SNAPSHOT / "files" / path.lstrip("/")
        assert committed.is_file(), path
        if not path.endswith(".jar"):
            assert committed.read_bytes() == (tmp_path / "files" / path.lstrip("/")).read_bytes(), path
    assert json.loads((SNAPSHOT / "host.json").read_text()) == json.loads((tmp_path / "host.json").read_text())


def test_no_credential_store_in_the_plan(analyzed):
    _, _, document, plan = analyzed
    validate(document, "analysis", "analysis.json")
    mode = document["analysisInfo"]["processMode"]
    for layer in plan.layers:
        for path in layer.paths:
            assert not is_credential_store(path), path
    assert "/opt/shop" in mode["paths"]  # the app's folder is still taken whole
    assert not any(is_within("/etc/ssh", p) or is_within(p, "/etc/ssh") for p in mode["paths"])
    assert "/opt/shop/.aws" in mode["excludes"]
    assert {"/etc/ssh", "/etc/gshadow", "/home/app/.ssh/id_rsa", "/home/app/.pgpass", "/etc/shop/backup.key",
            "/opt/shop/.aws"} <= set(mode["credentialStores"])


def test_findings_say_what_was_left_out_and_why(analyzed):
    findings = analyzed[2]["findings"]
    refused = {f["path"] for f in findings if f["code"] == "PROC-W010"}
    assert {"/etc/ssh", "/etc/gshadow", "/home/app/.ssh/id_rsa", "/home/app/.pgpass", "/etc/shop/backup.key"} <= refused
    by_path = {f.get("path"): f["message"] for f in findings if f["code"] == "PROC-W010"}
    assert "-Dkeys.dir" in by_path["/etc/ssh"] and "SSH host keys" in by_path["/etc/ssh"]
    assert "open file" in by_path["/etc/gshadow"] and "password hashes" in by_path["/etc/gshadow"]
    assert any(f["code"] == "PROC-W011" and "/opt/shop/.aws" in f["message"] for f in findings)
    # the judgment call: the application's own keystore in its folder is copied, and said so
    assert any(f["code"] == "PROC-W013" and f.get("path") == "/opt/shop/conf/tls.p12" for f in findings)


def test_config_files_of_the_working_folder_are_scanned(analyzed):
    document, plan = analyzed[2], analyzed[3]
    secrets = {(s["foundIn"], s["name"]) for s in document["analysisInfo"]["secrets"]}
    assert {("/opt/shop/.env", "DB_PASSWORD"), ("/opt/shop/app.conf", "api.secret"),
            ("/opt/shop/conf/app.properties", "spring.datasource.password"),
            ("/etc/shop/shop.yml", "shop.datasource.password")} <= secrets
    for path in ("/opt/shop/.env", "/opt/shop/app.conf", "/opt/shop/conf/app.properties", "/etc/shop/shop.yml"):
        assert b"${A2C_SECRET_" in plan.generated[path] and path in plan.render_at_start
    # settings.json: templated when the scanner reads JSON, else left out with a finding; never copied as is
    json_secret = any(s["foundIn"] == "/opt/shop/settings.json" for s in document["analysisInfo"]["secrets"])
    left_out = any(f["code"] == "PROC-W012" and f.get("path") == "/opt/shop/settings.json" for f in document["findings"])
    assert json_secret or left_out
    assert not CANARY.search(json.dumps(document).encode())


@pytest.mark.parametrize("stream", [_image_context, _archive], ids=["image-context", "extract-archive"])
def test_no_credential_store_and_no_canary_in_the_stream(analyzed, stream):
    data, writer = stream(analyzed)
    assert not CANARY.search(data), CANARY.findall(data)
    members = _members(data)
    for name in members:
        path = _host_path(name)
        assert not path or not is_credential_store(path), name
    # the app's own files are still there, and templated files keep their non-secret lines
    paths = {_host_path(n) for n, m in members.items() if m.isfile()}
    assert {"/opt/shop/shop.jar", "/opt/shop/static/index.html", "/opt/shop/conf/messages.properties",
            "/opt/shop/.env", "/opt/shop/app.conf", "/opt/shop/conf/app.properties", "/etc/shop/shop.yml"} <= paths
    env_name = next(n for n in members if _host_path(n) == "/opt/shop/.env" and members[n].isfile())
    env = _read(data, env_name)
    assert b"APP_MODE=production" in env and b"DB_PASSWORD=${A2C_SECRET_DB_PASSWORD}" in env
    messages = next(n for n in members if _host_path(n) == "/opt/shop/conf/messages.properties")
    assert _read(data, messages) == b"greeting=Hello\n"
    assert writer.stats.refused == []  # the plan named none: nothing left for the last line of defence


def test_a_plan_edited_to_name_the_stores_still_carries_none(analyzed):
    """appSpecificFiles naming /etc/ssh, /home/app and /etc/gshadow: the plan excludes the stores, and
    with every exclusion stripped from the plan the context writer still refuses each one."""
    host, analyzer, document, _ = analyzed
    edited = json.loads(json.dumps(document))
    edited["containerParameters"]["appSpecificFiles"] = ["/etc/ssh", "/home/app", "/etc/gshadow", "/etc/shop"]
    mode = edited["analysisInfo"]["processMode"]
    mode["excludes"] = [e for e in mode["excludes"] if not is_credential_store(e)]  # /opt/shop/.aws no longer
    mode["excludeNames"] = []
    plan = analyzer.plan(edited, host)
    layer = plan.layers[-1]
    assert "/etc/ssh" in layer.excludes and {".ssh", ".pgpass", ".aws"} <= set(layer.exclude_names)
    bare = plan.replace(layers=tuple(dataclasses.replace(
        l, excludes=tuple(e for e in l.excludes if not is_credential_store(e)), exclude_names=()) for l in plan.layers))
    for candidate in (plan, bare):
        writer = ContextWriter(host, candidate, {})
        data = b"".join(writer)
        assert not CANARY.search(data), CANARY.findall(data)
        for name in _members(data):
            assert not is_credential_store(_host_path(name) or "/"), name
        assert "/opt/shop/static/index.html" in {_host_path(n) for n in _members(data)}
    refused = " ".join(writer.stats.refused)
    for store in ("/etc/ssh", "/etc/gshadow", "/etc/shop/backup.key", "/home/app/.ssh", "/home/app/.pgpass",
                  "/opt/shop/.aws"):
        assert f"{store}: " in refused, store
