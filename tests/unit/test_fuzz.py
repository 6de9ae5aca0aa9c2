"""Fuzz: nothing reaches main() as an unexpected exception from input alone (issue 7).

Every reader of host or workspace input (properties, YAML, manifests, XML, jars, the SBOM
scan, workspace JSON) and the CLI on generated host snapshots get hostile input from
hypothesis; each may answer, or refuse with its own error (InvalidFile and kin, a finding),
never anything else. The runs are derandomized (the same examples on every machine, no
example database to commit) and sized to take about a minute in all; A2C_FUZZ_SCALE=10
runs ten times as many examples. A failure prints the falsifying example.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from a2c.analyzers.common.archives import MAX_MEMBER_BYTES, BadArchive, open_zip, read_member, read_text_member
from a2c.analyzers.common.properties import (MAX_FLAT_KEYS, parse_manifest, parse_properties, parse_yaml_flat,
                                              utf16_pairs)
from a2c.analyzers.common.safexml import UnsafeXML, parse_xml
from a2c.analyzers.common import jarscan
from a2c.analyzers.java.logconfig import log_files
from a2c.analyzers.java.tomcat import http_port, parse_connectors
from a2c.errors import ExitStatus, HostError, InvalidFile
from a2c.generate.sbom import render_sbom
from a2c.hosts.local import LocalHost
from a2c.model import InventoryEntry, ProcessInfo
from a2c.workspace import Workspace, encode_json, read_json, validate
from tests.conftest import FIXTURES, load_script
from tests.unit.test_crashes import run_cli

SCALE = float(os.environ.get("A2C_FUZZ_SCALE", "1"))

# On a failure hypothesis's pytest plugin imports libcst (to suggest an @example patch), whose
# import warns through mypy_extensions; under filterwarnings=error that warning would replace
# the report of the falsifying example with an INTERNALERROR. Import it once here, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with contextlib.suppress(ImportError):
        import hypothesis.extra._patching  # noqa: F401
        import libcst.metadata  # noqa: F401
TOMCAT_HOST = FIXTURES / "snapshots" / "tomcat-host"
TOMCAT_FILES = TOMCAT_HOST / "files" / "opt" / "tomcat"
VALID_ANALYSIS = FIXTURES / "hostile" / "json" / "analysis-valid.json"
make_crashes = load_script(FIXTURES / "hostile" / "crashes" / "make_crashes.py", "make_crashes")


def fuzz(examples: int) -> Any:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


# -- hostile text --------------------------------------------------------------------------------
# What broke a2c before, and its kin: lone surrogates (psutil, \uD800 escapes), digits int() refuses,
# escapes, separators, YAML and JSON structure, shell and XML syntax, very long runs.
PIECES = ["\udce9", "\ud800", "\udfff", "²", "٣", "١٧", "\x00", "\x1b[2J", "\n", "\r", "\r\n", "\t", " ", "\\",
          "\\u", "\\uD800", "\\u00e9", "\\\n", "${", "}", "${x:-y}", "=", ":", "#", "!", "[", "]", "{", "}", ",",
          "- ", "  ", "&a ", "*a", "<<: *a", "!!python/object/apply:os.system ['id']", "!!binary", "? ", "---\n",
          "'", '"', "|", ">", "$(id)", "`id`", "<", "&amp;", "&x;", "é", "\u2028", "\ufeff", "9" * 5000, "-1",
          "65536", "0x1F", "1e999", "NaN", "password=", "jdbc:oracle:thin:u/p@h:1521/s", "%", "*", "/", ".."]
hostile_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=30).map("".join)
deep = st.integers(min_value=0, max_value=5000).flatmap(
    lambda n: st.sampled_from(["[" * n + "]" * n, "{a: " * n + "1" + "}" * n, "".join(" " * i + "- x\n" for i in range(n // 10))]))


def _mutate(data: bytes, edits: list[tuple[float, int, int]], cut: float | None) -> bytes:
    """Overwrite, insert or delete a byte at each relative position, then maybe truncate."""
    raw = bytearray(data)
    for where, kind, value in edits:
        at = int(where * len(raw)) if raw else 0
        if kind == 0 and at < len(raw):
            raw[at] = value
        elif kind == 1:
            raw[at:at] = bytes([value])
        elif at < len(raw):
            del raw[at]
    if cut is not None:
        raw = raw[: int(cut * len(raw))]
    return bytes(raw)


edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 2), st.integers(0, 255)), max_size=8)
cuts = st.none() | st.floats(0, 1)


def _as_utf16_reads(value: Any) -> Any:
    """What a JSON reader makes of ``value``: a high surrogate written just before a low one is a
    pair in JSON (``\\ud800\\udce9`` is one character); every lone surrogate stays itself."""
    if isinstance(value, str):
        return utf16_pairs(value)
    if isinstance(value, dict):
        return {utf16_pairs(k): _as_utf16_reads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_utf16_reads(v) for v in value]
    return value


def _json_round_trip(value: Any) -> None:
    assert json.loads(encode_json(value).decode("utf-8")) == _as_utf16_reads(value)


# -- readers ------------------------------------------------------------------------------------------
@fuzz(400)
@given(hostile_text)
def test_properties_reader(text):
    values = parse_properties(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    _json_round_trip(values)


@fuzz(300)
@given(st.one_of(hostile_text, deep, st.lists(st.sampled_from(PIECES[20:50] + ["a", "b", "1"]), max_size=40).map("".join)))
def test_yaml_reader(text):
    values = parse_yaml_flat(text)
    assert isinstance(values, dict) and len(values) <= MAX_FLAT_KEYS
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    _json_round_trip(values)


@fuzz(200)
@given(hostile_text)
def test_manifest_reader(text):
    values = parse_manifest(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())


SERVER_XML = (TOMCAT_FILES / "conf" / "server.xml").read_bytes()
ENTRY = InventoryEntry("java-tomcat-00000000", "java-tomcat", "java-tomcat", 1, "java", "tomcat:/t")


@fuzz(300)
@given(st.one_of(st.tuples(edits, cuts).map(lambda e: _mutate(SERVER_XML, *e)),
                 hostile_text.map(lambda t: SERVER_XML.replace(b'port="8080"', f'port="{t}"'.encode("utf-8", "surrogatepass"))),
                 hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_xml_readers(data):
    try:
        root = parse_xml(data, "server.xml")
    except UnsafeXML:
        return
    connectors = parse_connectors(root, {"http.port": "²"})
    port = http_port(connectors, ProcessInfo(pid=1, cmdline=("java", "-Dhttp.port=٣")), ENTRY)
    assert isinstance(port, int) and 0 <= port <= 65535
    log_files("/opt/app/log4j2.xml", data, {"catalina.base": "/opt/tomcat"})


@fuzz(150)
@given(hostile_text)
def test_log_config_reader(text):
    files = log_files("/opt/app/log4j.properties", text.encode("utf-8", "surrogatepass"), {"user.home": "/home/x"})
    assert all(f.startswith("/") for f in files)


JARS = [(TOMCAT_FILES / "webapps" / "app.war").read_bytes(), (TOMCAT_FILES / "lib" / "catalina.jar").read_bytes(),
        make_crashes.small_jar()]


@contextlib.contextmanager
def _jar_file(data: bytes, name: str = "lib.jar") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


@fuzz(300)
@given(st.sampled_from(range(len(JARS))), edits, cuts, st.sampled_from(["lib.jar", "app.war"]))
def test_jar_readers(which, changes, cut, name):
    data = _mutate(JARS[which], changes, cut)
    host = LocalHost()
    with _jar_file(data, name) as path:
        try:
            with open_zip(host, str(path)) as archive:
                for member in archive.namelist()[:50]:
                    read_member(archive, member, limit=MAX_MEMBER_BYTES)
        except (BadArchive, HostError):
            pass
        read_text_member(host, str(path), "META-INF/MANIFEST.MF")
        scan = jarscan.scan_jars(host, [str(path.parent)], hashes=True)
    assert all(f.code.startswith(("SBOM-W", "SBOM-I")) for f in scan.findings), scan.findings
    json.loads(render_sbom("app", "1", scan.components))


# -- workspace JSON --------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=15)


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Paths to the nodes of a document, down to eight levels (where its fields are)."""
    yield prefix
    if len(prefix) >= 8:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


def _nested_lists(depth: int) -> list:
    """[[[…]]] ``depth`` deep, built without recursion."""
    node: list = []
    for _ in range(depth):
        node = [node]
    return node


@st.composite
def analysis_documents(draw) -> Any:
    """analysis-valid.json with a few of its nodes replaced, removed or given a new neighbour."""
    document = json.loads(VALID_ANALYSIS.read_text())
    for _ in range(draw(st.integers(0, 4))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths))
        value = draw(json_values | st.integers(0, 300).map(_nested_lists))  # thousands deep: read_json's test
        if not path:
            document = value
            continue
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.integers(0, 2))
        if action == 0:
            parent[path[-1]] = value
        elif action == 1:
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(hostile_text)] = value
        else:
            parent.insert(path[-1], value)
    return document


@fuzz(200)
@given(analysis_documents())
def test_workspace_validate_and_write(document):
    try:
        validate(document, "analysis", "analysis.json")
    except InvalidFile as exc:
        assert len(exc.message) < 2000 and len(exc.hint) < 2000
        return
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace(folder).ensure()
        path = workspace.write_analysis("java-generic-0badf00d", document)
        assert read_json(path, "analysis") == _as_utf16_reads(document)


@fuzz(200)
@given(st.one_of(analysis_documents().map(lambda d: json.dumps(d).encode()),
                 st.tuples(edits, cuts).map(lambda e: _mutate(VALID_ANALYSIS.read_bytes(), *e)),
                 deep.map(str.encode)))
def test_workspace_read_json(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "analysis.json"
        path.write_bytes(data)
        try:
            document = read_json(path, "analysis")
        except InvalidFile as exc:
            assert len(exc.message) < 2000
            return
    assert isinstance(document, dict)


# -- the CLI on generated snapshots -----------------------------------------------------------------
BOOT_JAR = make_crashes.small_jar({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nMain-Class: app.Main\r\n\r\n",
                                   "BOOT-INF/classes/application.yml": b"server:\n  port: 8081\n"})


@st.composite
def snapshots(draw) -> dict[str, Any]:
    """What to change in a copy of tomcat-host, plus a second, plain ``java -jar`` application."""
    return {
        "args": draw(st.lists(hostile_text, max_size=4)),
        "environ": draw(st.dictionaries(hostile_text, hostile_text, max_size=4)),
        "open_files": draw(st.lists(hostile_text.map(lambda t: "/opt/tomcat/" + t), max_size=3)),
        "ports": draw(st.lists(st.integers(0, 65535), max_size=3)),
        "server_xml": draw(st.one_of(st.tuples(edits, cuts).map(lambda e: _mutate(SERVER_XML, *e)),
                                     hostile_text.map(lambda t: SERVER_XML.replace(
                                         b'port="8080"', f'port="{t}"'.encode("utf-8", "surrogatepass"))))),
        "logging": draw(hostile_text),
        "catalina_jar": _mutate(JARS[1], draw(edits), draw(cuts)),
        "boot_jar": _mutate(BOOT_JAR, draw(edits), draw(cuts)),
        "application_yml": draw(st.one_of(hostile_text, deep)),
        "application_properties": draw(hostile_text),
        "boot_args": draw(st.lists(hostile_text, max_size=3)),
    }


def _build_snapshot(root: Path, change: dict[str, Any]) -> Path:
    shutil.copytree(TOMCAT_HOST, root)
    meta = json.loads((root / "host.json").read_text())
    tomcat = meta["processes"][0]
    tomcat["cmdline"][1:1] = change["args"]
    tomcat["environ"].update(change["environ"])
    tomcat["openFiles"] += change["open_files"]
    tomcat["listening"] += [{"port": p, "address": "0.0.0.0", "protocol": "tcp"} for p in change["ports"]]
    meta["processes"].append({
        "pid": 5151, "cmdline": ["/usr/lib/jvm/java-17-openjdk-amd64/bin/java", *change["boot_args"], "-jar",
                                 "/opt/app/app.jar"],
        "exe": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "cwd": "/opt/app", "environ": change["environ"],
        "username": "app", "uid": 1000, "gid": 1000, "ppid": 1, "createTime": 1700000001.0,
        "listening": [{"port": 8081, "address": "0.0.0.0", "protocol": "tcp"}], "connections": [],
        "openFiles": change["open_files"]})
    (root / "host.json").write_text(json.dumps(meta))  # lone surrogates become \udcXX escapes, as a2c extract writes
    conf = root / "files" / "opt" / "tomcat" / "conf"
    (conf / "server.xml").write_bytes(change["server_xml"])
    (conf / "logging.properties").write_bytes(change["logging"].encode("utf-8", "surrogatepass"))
    (root / "files" / "opt" / "tomcat" / "lib" / "catalina.jar").write_bytes(change["catalina_jar"])
    app = root / "files" / "opt" / "app"
    app.mkdir(parents=True)
    (app / "app.jar").write_bytes(change["boot_jar"])
    (app / "application.yml").write_bytes(change["application_yml"].encode("utf-8", "surrogatepass"))
    (app / "application.properties").write_bytes(change["application_properties"].encode("utf-8", "surrogatepass"))
    return root


class _Crashes(logging.Handler):
    """Log records that carry an exception: a crash somebody caught and logged (an analyzer's)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and not isinstance(record.exc_info[1], (InvalidFile, HostError)):
            self.records.append(record)


def _check(status: int, out: str, err: str, crashes: _Crashes, what: str) -> None:
    note(f"{what}: exit {status}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}")
    assert status != ExitStatus.UNEXPECTED, f"{what}: {err[-2000:]}"
    assert "Traceback" not in out + err
    caught = [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in crashes.records if r.exc_info]
    assert not caught, caught


@fuzz(120)
@given(snapshots())
def test_cli_on_generated_snapshots(change):
    logger = logging.getLogger("a2c")
    crashes = _Crashes()
    logger.addHandler(crashes)
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            snapshot = _build_snapshot(root / "host", change)
            config, ws = root / "config.json", str(root / "ws")
            status, out, err = run_cli("--json", "--workspace", ws, "inventory", "--snapshot", str(snapshot),
                                       config=config)
            _check(status, out, err, crashes, "inventory")
            if status != ExitStatus.OK:
                return
            for app_id in json.loads(out):
                status, out, err = run_cli("--json", "--workspace", ws, "analyze", "--application-id", app_id,
                                           "--snapshot", str(snapshot), config=config)
                _check(status, out, err, crashes, f"analyze {app_id}")
                if status == ExitStatus.OK:
                    codes = {f["code"] for f in json.loads(out)["findings"]}
                    assert not codes & {"A2C-E001", "SBOM-E001"}, codes  # an analyzer or the SBOM step crashed
    finally:
        logger.removeHandler(crashes)
