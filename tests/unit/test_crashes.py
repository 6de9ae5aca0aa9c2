"""Issue 7, "Crashes": each input that used to end in exit 1 and a traceback now works, or
gives a clear error with a hint and its own exit status. Fixtures: fixtures/hostile/crashes/."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from a2c.analyzers.common import archives
from a2c.analyzers.common.archives import BadArchive, open_zip, read_member
from a2c.analyzers.common.properties import parse_properties, parse_yaml_flat
from a2c.analyzers.common.safexml import parse_xml
from a2c.analyzers.common import jarscan
from a2c.analyzers.java.jvm import parse_major
from a2c.analyzers.java.tomcat import TomcatAnalyzer, http_port, parse_connectors
from a2c.cli.context import setup_file_logging
from a2c.cli.output import Output, printable
from a2c.errors import ExitStatus, HostError, InvalidFile, WorkspaceError
from a2c.hosts.local import LocalHost
from a2c.model import InventoryEntry, ProcessInfo
from a2c.workspace import Workspace, atomic_write_json, read_json, validate
from tests.conftest import FIXTURES, load_script, missing

CRASHES = FIXTURES / "hostile" / "crashes"
TOMCAT_HOST = FIXTURES / "snapshots" / "tomcat-host"
make_crashes = load_script(CRASHES / "make_crashes.py", "make_crashes")


# -- running the CLI in this process ---------------------------------------------------------------
@contextlib.contextmanager
def _own_log_handlers() -> Iterator[None]:
    """Each run gets its own workspace log handler; close it afterwards (no leaked file)."""
    logger = logging.getLogger("a2c")
    before = list(logger.handlers)
    try:
        yield
    finally:
        for handler in [h for h in logger.handlers if h not in before]:
            logger.removeHandler(handler)
            handler.close()


def run_cli(*args: str, config: Path) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``a2c ARGS`` through main(), as the console script runs it."""
    from a2c.cli import main

    runner = CliRunner()
    with _own_log_handlers(), runner.isolation(env={"A2C_CONFIG": str(config), "A2C_WORKSPACE": None}) as streams:
        try:
            main(list(args))
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.flush()  # the runner's text wrappers buffer what Output.result writes
        sys.stderr.flush()
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _snapshot(tmp_path: Path) -> Path:
    target = tmp_path / "host"
    shutil.copytree(TOMCAT_HOST, target)
    return target


def _edit_host(snapshot: Path, change) -> None:
    meta = json.loads((snapshot / "host.json").read_text())
    change(meta["processes"][0])
    (snapshot / "host.json").write_text(json.dumps(meta))  # ensure_ascii: lone surrogates as \udcXX escapes


# -- 1. lone surrogates -------------------------------------------------------------------------------
def test_json_write_keeps_a_lone_surrogate_as_a_json_escape(tmp_path):
    document = {"cwd": "/opt/caf\udce9", "escape": "\ud800", "text": "café ☕", "backslash": "\\udce9"}
    target = tmp_path / "x.json"
    atomic_write_json(target, document)
    raw = target.read_bytes()
    assert b"\\udce9" in raw and b"\\ud800" in raw  # JSON escapes, valid UTF-8 around them
    assert "café ☕".encode() in raw  # other text stays plain UTF-8
    assert json.loads(raw.decode("utf-8")) == document  # and reads back identically


def test_text_artifacts_get_the_hosts_bytes_back(tmp_path):
    workspace = Workspace(tmp_path / "ws").ensure()
    base = workspace.root / "app" / "Artifacts"
    workspace.write_files(base, {
        "entrypoint.sh": "cd '/opt/caf\udce9'\n",  # psutil's decoding of the byte 0xE9
        "Dockerfile": "ENV X=\"\ud800\"\n",  # a surrogate no byte stands for
        "sbom.cdx.json": json.dumps({"name": "caf\udce9"}, ensure_ascii=False),
    }, executable=("entrypoint.sh",))
    assert (base / "entrypoint.sh").read_bytes() == b"cd '/opt/caf\xe9'\n"
    assert (base / "Dockerfile").read_bytes() == 'ENV X="\ufffd"\n'.encode()
    assert json.loads((base / "sbom.cdx.json").read_bytes()) == {"name": "caf\udce9"}


def test_surrogate_in_a_properties_file_reaches_json_intact(tmp_path):
    values = parse_properties((CRASHES / "lone-surrogate.properties").read_text())
    assert values["db.url"].endswith("caf\ud800") and values["app.name"] == "caf\udce9"
    atomic_write_json(tmp_path / "v.json", values)
    assert json.loads((tmp_path / "v.json").read_text()) == values


def test_edited_analysis_with_a_lone_surrogate_reads_and_writes(tmp_path):
    workspace = Workspace(tmp_path / "ws").ensure()
    document = read_json(CRASHES / "analysis-lone-surrogate.json", "analysis")
    assert document["analysisInfo"]["cmdline"][-1] == "/opt/app/caf\udce9.jar"
    path = workspace.write_analysis("java-generic-0badf00d", document)
    assert read_json(path, "analysis") == document


def test_terminal_output_never_fails_on_a_surrogate():
    strict = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    out = Output(stdout=strict, stderr=strict)
    out.echo("base /opt/caf\udce9")
    out.table(["ID", "BASE"], [["x", "/opt/caf\udce9\x1b[2J"]])
    out.step("wrote /opt/caf\udce9")
    out.warn("\ud800")
    strict.flush()
    text = strict.buffer.getvalue().decode()  # type: ignore[attr-defined]
    assert "caf\\udce9" in text and "\\x1b[2J" in text and "\x1b[2J" not in text
    assert printable("tab\tand\nnewline") == "tab\tand\nnewline"


def test_log_file_takes_a_surrogate(tmp_path, capsys):
    workspace = Workspace(tmp_path / "ws").ensure()
    with _own_log_handlers():
        setup_file_logging(workspace)
        logging.getLogger("a2c.test").error("process cwd %s", "/opt/caf\udce9")
    assert "caf\\udce9" in workspace.log_path.read_text()
    assert "Logging error" not in capsys.readouterr().err


def test_inventory_and_analyze_with_non_utf8_process_values(tmp_path):
    snapshot = _snapshot(tmp_path)

    def change(proc):
        proc["environ"]["LANG_NAME"] = "caf\udce9"
        proc["cmdline"].insert(1, "-Dapp.title=caf\udce9")
        proc["openFiles"].append("/opt/tomcat/logs/caf\udce9.log")

    _edit_host(snapshot, change)
    config = tmp_path / "config.json"
    ws = str(tmp_path / "ws")
    status, out, err = run_cli("--workspace", ws, "inventory", "--snapshot", str(snapshot), config=config)
    assert status == 0, err
    status, out, err = run_cli("--workspace", ws, "analyze", "--application-id", "java-tomcat-1dd8e7ba",
                               "--snapshot", str(snapshot), config=config)
    assert status == 0, err
    analysis = json.loads((tmp_path / "ws" / "java-tomcat-1dd8e7ba" / "analysis.json").read_bytes())
    assert "-Dapp.title=caf\udce9" in analysis["analysisInfo"]["cmdline"]


@pytest.mark.parametrize("path", ["/tmp/a\0b", "/tmp/caf\ud800", "/etc/pass\0wd"])
def test_local_host_takes_paths_no_file_can_have(path):
    host = LocalHost()  # such paths come from config files (a \\uD800 escape, a NUL): os raises ValueError
    assert host.lstat(path) is None and not host.exists(path) and not host.is_file(path)
    assert host.realpath(path).startswith("/tmp/" if path.startswith("/tmp") else "/etc/")
    with pytest.raises(HostError):
        host.list_dir(path)
    with pytest.raises(HostError):
        host.open(path)


# -- 2. deep nesting ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["deep.json", "analysis-deep.json"])
def test_deep_json_is_an_invalid_file(name):
    with pytest.raises(InvalidFile, match="nested more than"):
        read_json(CRASHES / name, "analysis")


def test_deep_documents_are_refused_before_validation():
    with pytest.raises(InvalidFile, match="nested more than"):
        validate(json.loads(make_crashes.deep_analysis(900)), "analysis", "analysis.json")


def test_deep_yaml_gives_an_empty_result():
    assert parse_yaml_flat((CRASHES / "deep-flow.yml").read_text()) == {}
    block = "a:\n" + "".join(" " * i + "- \n" for i in range(1, 2000))
    assert parse_yaml_flat(block) == {}


def test_yaml_that_contains_itself_is_bounded():
    assert parse_yaml_flat("a: &loop [*loop, 1]\nb: 2\n") == {"a[1]": "1", "b": "2"}
    shared = "base: &shared {user: app}\nother: *shared\n"  # an alias used twice is no loop
    assert parse_yaml_flat(shared) == {"base.user": "app", "other.user": "app"}


# -- 3. Unicode digits -----------------------------------------------------------------------------
def test_unicode_digits_in_connector_ports_are_not_ports():
    connectors = parse_connectors(parse_xml((CRASHES / "server-unicode-port.xml").read_bytes(), "server.xml"))
    ports = [c["port"] for c in connectors]
    assert ports == ["²", "${http.port}", "٣٣", "99999999999999999999", 8080]
    proc = ProcessInfo(pid=1, cmdline=("java", "-Dhttp.port=²", "org.apache.catalina.startup.Bootstrap"))
    entry = InventoryEntry("java-tomcat-00000000", "java-tomcat", "java-tomcat", 1, "java", "tomcat:/t")
    assert http_port(connectors, proc, entry) == 8080


def test_tomcat_analyzer_on_a_unicode_digit_port(tmp_path):
    from a2c.hosts.snapshot import SnapshotHost

    snapshot = _snapshot(tmp_path)
    shutil.copy(CRASHES / "server-unicode-port.xml", snapshot / "files" / "opt" / "tomcat" / "conf" / "server.xml")
    host = SnapshotHost(str(snapshot))
    proc = host.process(4242)
    analyzer = TomcatAnalyzer()
    detection = analyzer.detect(proc, host)
    assert detection is not None
    entry = InventoryEntry("java-tomcat-1dd8e7ba", "java-tomcat", "java-tomcat", 4242, "java", detection.identity)
    result = analyzer.analyze(entry, proc, host)
    assert result.container_parameters["applicationPort"] == 8080


def test_java_version_digits():
    assert parse_major("9" * 5000) == 999_999_999  # no ValueError past int()'s 4300 digits
    assert parse_major("²") == 0 and parse_major("١٧") == 0 and parse_major("1.8.0_392") == 8


# -- 4. corrupt jars and the 3-million-entry jar -------------------------------------------------------
@pytest.mark.parametrize("name, words", [
    ("zip-version-99.jar", "zip file version"),
    ("bad-deflate.jar", "decompressing"),
    ("zip64-3-million-entries.jar", "more than 200000 entries"),
    ("lying-entry-count.jar", "cannot be read"),
])
def test_corrupt_jars_are_bad_archives(name, words):
    with pytest.raises(BadArchive, match=words):
        with open_zip(LocalHost(), str(CRASHES / name)) as archive:
            for member in archive.namelist():
                read_member(archive, member)


@pytest.mark.parametrize("name", ["zip-version-99.jar", "bad-deflate.jar", "zip64-3-million-entries.jar"])
def test_sbom_lists_corrupt_jars_as_findings(tmp_path, name):
    shutil.copy(CRASHES / name, tmp_path / "lib.jar")
    scan = jarscan.scan_jars(LocalHost(), [str(tmp_path)])
    assert [c.name for c in scan.components] == ["lib"]
    assert scan.findings and all(f.code.startswith("SBOM-W") for f in scan.findings)


def _forbid_zipfile(monkeypatch) -> None:
    """From here on, fail the test if zipfile is asked to parse a central directory."""
    def refuse(*args, **kwargs):
        raise AssertionError("zipfile.ZipFile was called")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)


def test_entry_count_is_refused_from_the_end_record_alone(monkeypatch):
    records = make_crashes.three_million_entries()
    behind_a_jar = make_crashes.zip64_end_records(3_000_000, 56, prefix=make_crashes.small_jar())
    _forbid_zipfile(monkeypatch)
    with pytest.raises(BadArchive, match="more than 200000 entries"):
        archives.open_zip_stream(io.BytesIO(records), "big.jar")
    with pytest.raises(BadArchive, match="more than 200000 entries"):
        archives.check_central_directory(io.BytesIO(behind_a_jar), "big.jar")


def test_a_lying_count_is_caught_by_counting_headers(monkeypatch):
    data = make_crashes.lying_count(archives.MAX_ENTRIES + 1)  # 9 MB of directory declaring 10 entries
    _forbid_zipfile(monkeypatch)
    with pytest.raises(BadArchive, match="more than 200000 entries"):
        archives.check_central_directory(io.BytesIO(data), "lying.jar")


def test_an_oversized_central_directory_is_refused(monkeypatch):
    data = make_crashes.zip64_end_records(10, archives.MAX_CENTRAL_DIRECTORY_BYTES + 1)
    _forbid_zipfile(monkeypatch)
    with pytest.raises(BadArchive, match="central directory of"):
        archives.check_central_directory(io.BytesIO(data), "huge.jar")


def test_limits_leave_normal_jars_alone():
    data = make_crashes.small_jar()
    archives.check_central_directory(io.BytesIO(data), "ok.jar")
    with archives.open_zip_stream(io.BytesIO(data), "ok.jar") as archive:
        assert read_member(archive, "META-INF/MANIFEST.MF").startswith(b"Manifest-Version")


# -- 5. the SBOM after an analyzer crash -------------------------------------------------------------
def test_sbom_uses_the_fallback_analyzer_and_no_message_leaks(tmp_path, monkeypatch):
    from a2c.steps.analyze import analyze_application
    from a2c.analyzers.registry import load_registry
    from a2c.steps.inventory import discover
    from a2c.hosts.snapshot import SnapshotHost

    secret = "s3cret" + "-value"  # built at run time: only the exception message holds it, not a source line

    def crash(self, entry, proc, host):
        int(secret)  # the message quotes the value: invalid literal for int() with base 10: '…'

    def no_plan(self, analysis, host):
        raise AssertionError("the crashed analyzer's plan() was called")

    monkeypatch.setattr(TomcatAnalyzer, "analyze", crash)
    monkeypatch.setattr(TomcatAnalyzer, "plan", no_plan)
    host = SnapshotHost(str(TOMCAT_HOST))
    registry = load_registry()
    workspace = Workspace(tmp_path / "ws").ensure()
    workspace.write_inventory(discover(host, registry, None).entries)
    with _own_log_handlers():
        setup_file_logging(workspace)
        result = analyze_application(workspace, "java-tomcat-1dd8e7ba", host, registry)
    codes = [f.code for f in result.findings]
    assert "A2C-E001" in codes and "SBOM-E001" not in codes
    assert result.document["analysisInfo"]["sbom"]["componentCount"] >= 1
    crash_finding = next(f for f in result.findings if f.code == "A2C-E001")
    assert "ValueError in test_crashes.py" in crash_finding.message
    for path in workspace.root.rglob("*"):
        if path.is_file():
            assert b"s3cret-value" not in path.read_bytes(), path
    assert "ValueError: (message withheld" in workspace.log_path.read_text()


# -- 6. a read-only or full workspace --------------------------------------------------------------
@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[bool]:
    """A small tmpfs at ``where`` (True), or False when this machine does not let us mount."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "a2c-test", str(where)],
                             capture_output=True).returncode == 0 if os.geteuid() == 0 else False
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb", buffering=0) as handle:  # unbuffered: close() has nothing left to fail on
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_read_only_workspace_exits_3_with_a_hint(tmp_path):
    config = tmp_path / "config.json"
    with _tmpfs(tmp_path / "ro", "size=256k") as mounted:
        if mounted:
            ws = tmp_path / "ro" / "ws"
            Workspace(ws).ensure()
            subprocess.run(["mount", "-o", "remount,ro", str(tmp_path / "ro")], check=True)
        else:  # no mount here: /sys refuses every new file, even for root
            if not Path("/sys/kernel").is_dir():
                missing("a read-only folder", "needs mount permission or /sys")
            ws = Path("/sys/kernel")
        status, out, err = run_cli("--workspace", str(ws), "inventory", "--snapshot", str(TOMCAT_HOST), config=config)
    assert status == ExitStatus.WORKSPACE, err
    assert "Hint: Make" in err and "writable" in err and "--workspace" in err
    assert "Traceback" not in err + out


def test_full_workspace_exits_3_with_a_hint(tmp_path):
    config = tmp_path / "config.json"
    with _tmpfs(tmp_path / "full", "size=64k") as mounted:
        if not mounted:
            missing("a small tmpfs", "mounting needs root with CAP_SYS_ADMIN")
        ws = tmp_path / "full" / "ws"
        Workspace(ws).ensure()
        _fill(tmp_path / "full")
        status, out, err = run_cli("--workspace", str(ws), "inventory", "--snapshot", str(TOMCAT_HOST), config=config)
    assert status == ExitStatus.WORKSPACE, err
    assert "Hint: Free space on the file system holding" in err
    assert "Traceback" not in err + out


def test_workspace_write_errors_map_in_one_place(tmp_path, monkeypatch):
    workspace = Workspace(tmp_path / "ws").ensure()

    def full(*args, **kwargs):
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr("tempfile.mkstemp", full)
    with pytest.raises(WorkspaceError, match="cannot write .*inventory.json") as caught:
        workspace.write_inventory({})
    assert "Free space" in caught.value.hint


@pytest.mark.parametrize("inside, expected", [(True, ExitStatus.WORKSPACE), (False, ExitStatus.UNEXPECTED)])
def test_main_maps_a_raw_workspace_os_error(tmp_path, monkeypatch, inside, expected):
    ws = tmp_path / "ws"
    target = str(ws / "inventory.json") if inside else "/etc/elsewhere"

    def refused(self, entries):
        raise PermissionError(errno.EACCES, "Permission denied", target)

    monkeypatch.setattr(Workspace, "write_inventory", refused)
    status, out, err = run_cli("--workspace", str(ws), "inventory", "--snapshot", str(TOMCAT_HOST),
                               config=tmp_path / "config.json")
    assert status == expected, err
    if inside:
        assert "Make" in err and "writable" in err


# -- 7. the log holds no secret, messages are cut -------------------------------------------------------
def test_log_withholds_unexpected_messages_and_cuts_long_ones(tmp_path):
    workspace = Workspace(tmp_path / "ws").ensure()
    with _own_log_handlers():
        setup_file_logging(workspace)
        log = logging.getLogger("a2c.test")
        secret = "hunter" + "2"  # as read from a host file: only the messages hold it, not the source lines
        try:
            try:
                raise KeyError(f"password={secret}")
            except KeyError as inner:
                raise ValueError(f"token {secret}") from inner
        except ValueError:
            log.exception("analyzer crashed")
        try:
            raise InvalidFile("analysis.json: bad field", "fix it")
        except InvalidFile:
            log.exception("known")
        log.error("%s", "x" * 100_000)
    text = workspace.log_path.read_text()
    assert "hunter2" not in text
    assert "KeyError: (message withheld" in text and "ValueError: (message withheld" in text
    assert "test_crashes.py" in text  # the frames stay: the log is still worth reading
    assert "a2c.errors.InvalidFile: analysis.json: bad field" in text
    assert len(text) < 20_000


def test_validate_cuts_echoed_values():
    document = json.loads((FIXTURES / "hostile" / "json" / "analysis-valid.json").read_text())
    document["containerParameters"]["applicationPort"] = "9" * 5_000_000
    document["containerParameters"]["k" * 100_000] = 1
    with pytest.raises(InvalidFile) as caught:
        validate(document, "analysis", "analysis.json")
    assert len(caught.value.message) < 1000 and len(caught.value.hint) < 1000


def test_main_run_again_in_one_process_logs_to_the_new_workspace(tmp_path):
    """A long-lived process (a test run, a service calling main) that runs a2c for two workspaces
    logs each run to its own workspace, not to the first one's file."""
    first, second = Workspace(tmp_path / "one").ensure(), Workspace(tmp_path / "two").ensure()
    with _own_log_handlers():
        setup_file_logging(first)
        logging.getLogger("a2c.test").error("to the first")
        setup_file_logging(second)
        logging.getLogger("a2c.test").error("to the second")
        handlers = [h for h in logging.getLogger("a2c").handlers if getattr(h, "_a2c", False)]
    assert len(handlers) == 1
    assert "to the first" in first.log_path.read_text() and "to the second" not in first.log_path.read_text()
    assert "to the second" in second.log_path.read_text()
