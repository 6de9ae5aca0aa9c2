"""SnapshotHost: a host read from a folder; links resolve inside it and never reach the real machine."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from a2c.errors import HostError, InvalidFile
from a2c.hosts.snapshot import SnapshotHost, process_from_json, process_to_json

SNAPSHOT = Path(__file__).resolve().parents[2] / "fixtures" / "snapshots" / "tomcat-host"
JDK = "/usr/lib/jvm/java-17-openjdk-amd64"


@pytest.fixture
def root(tmp_path):
    """A copy of the tomcat-host snapshot with links, loops and a FIFO added (never committed)."""
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy, symlinks=True)
    files = copy / "files"
    (files / "usr" / "bin").mkdir(parents=True)
    (files / "etc").mkdir()
    (files / "etc" / "passwd").write_text("snapshot-passwd\n")
    (tmp_path / "outside-secret").write_text("REAL-MACHINE-SECRET\n")

    def link(name: str, target: str) -> None:
        os.symlink(target, files / name.lstrip("/"))

    link("/usr/bin/java", f"{JDK}/bin/java")  # absolute, inside
    link("/usr/bin/jdk", "../lib/jvm/java-17-openjdk-amd64")  # relative, inside
    link("/usr/bin/jdk-chain", "jdk")  # a link to a link
    link("/usr/bin/dot", ".")
    link("/usr/bin/escape-abs", "/../../../../../etc")  # climbs above / : stays at /
    link("/usr/bin/escape-rel", "../../../../../../../../../etc/passwd")
    link("/usr/bin/escape-real", str(tmp_path / "outside-secret"))  # a real path of this machine
    link("/usr/bin/escape-rel-secret", "../../../../outside-secret")  # ../ out of files/ on disk
    link("/usr/bin/loop1", "loop2")
    link("/usr/bin/loop2", "loop1")
    link("/usr/bin/self", "self")
    link("/usr/bin/dangling", "/no/such/file")
    os.mkfifo(files / "usr" / "bin" / "fifo")
    link("/usr/bin/to-fifo", "fifo")
    return copy


@pytest.fixture
def host(root):
    return SnapshotHost(str(root))


def test_metadata():
    host = SnapshotHost(str(SNAPSHOT))
    assert host.name == "tomcat-host"
    assert host.os_release()["ID"] == "debian"
    assert host.user_name(997) == "tomcat"
    assert host.user_name(12345) == ""
    procs, notes = host.scan_processes()
    assert [p.pid for p in procs] == [4242, 77] and notes == []
    java_only, _ = host.scan_processes(lambda name, exe, cmdline: name == "java")
    assert [p.pid for p in java_only] == [4242]
    proc = host.process(4242)
    assert proc.cwd == "/opt/tomcat" and proc.username == "tomcat" and proc.uid == 997
    assert [s.port for s in proc.listening] == [8005, 8009, 8080, 8443]
    with pytest.raises(HostError):
        host.process(1)


def test_process_json_round_trip():
    host = SnapshotHost(str(SNAPSHOT))
    proc = host.process(4242)
    assert process_from_json(json.loads(json.dumps(process_to_json(proc)))) == proc


def test_missing_and_broken_host_json(tmp_path):
    empty = SnapshotHost(str(tmp_path))
    assert empty.scan_processes() == ([], [])
    assert empty.name == tmp_path.name
    (tmp_path / "host.json").write_text('{"processes": [')
    with pytest.raises(InvalidFile, match="host.json"):
        SnapshotHost(str(tmp_path))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/opt/tomcat/conf/server.xml", "/opt/tomcat/conf/server.xml"),
        ("opt/tomcat/conf", "/opt/tomcat/conf"),  # relative paths are taken from /
        ("/opt/tomcat/../tomcat/./conf/", "/opt/tomcat/conf"),
        ("/usr/bin/java", f"{JDK}/bin/java"),
        ("/usr/bin/jdk/release", f"{JDK}/release"),
        ("/usr/bin/jdk-chain/bin/java", f"{JDK}/bin/java"),
        ("/usr/bin/dot/dot/java", f"{JDK}/bin/java"),
        ("/../../..", "/"),
        ("/opt/tomcat/../../../..", "/"),
        ("/usr/bin/escape-abs", "/etc"),
        ("/usr/bin/escape-abs/passwd", "/etc/passwd"),
        ("/usr/bin/escape-rel", "/etc/passwd"),
        ("/usr/bin/escape-rel-secret", "/outside-secret"),
        ("/usr/bin/dangling", "/no/such/file"),
        ("/no/such/dir/x", "/no/such/dir/x"),
        ("/", "/"),
    ],
)
def test_realpath_stays_inside(host, path, expected):
    assert host.realpath(path) == expected


def test_dotdot_after_a_link_applies_to_the_target(host, root):
    assert host.realpath("/usr/bin/jdk/../../..") == "/usr"
    # what the operating system does with the same tree
    local = os.path.realpath(root / "files" / "usr" / "bin" / "jdk" / ".." / ".." / "..")
    assert local == str((root / "files" / "usr").resolve())


def test_link_to_a_real_path_is_read_inside_the_snapshot(host, tmp_path):
    resolved = host.realpath("/usr/bin/escape-real")
    assert resolved == str(tmp_path / "outside-secret")  # a path *in the snapshot*, which has no such file
    assert host.lstat(resolved) is None
    assert not host.exists("/usr/bin/escape-real")
    with pytest.raises(HostError):
        host.read_bytes("/usr/bin/escape-real")


@pytest.mark.parametrize("path", ["/usr/bin/escape-rel", "/usr/bin/escape-abs/passwd"])
def test_escaping_links_read_the_snapshot_files(host, path):
    assert host.read_text(path) == "snapshot-passwd\n"


def test_relative_escape_does_not_reach_the_real_file(host):
    with pytest.raises(HostError):
        host.read_bytes("/usr/bin/escape-rel-secret")
    assert not host.is_file("/usr/bin/escape-rel-secret")


@pytest.mark.parametrize("path", ["/usr/bin/loop1", "/usr/bin/loop2/x", "/usr/bin/self", "/usr/bin/self/deeper"])
def test_link_loops_raise_host_error(host, path):
    with pytest.raises(HostError, match="links"):
        host.realpath(path)
    with pytest.raises(HostError):
        host.open(path)
    with pytest.raises(HostError):
        host.list_dir(path)
    assert host.stat(path) is None
    assert not host.exists(path)


def test_lstat_and_stat(host):
    link = host.lstat("/usr/bin/java")
    assert link is not None and link.kind == "link" and link.link_target == f"{JDK}/bin/java"
    target = host.stat("/usr/bin/java")
    assert target is not None and target.kind == "file" and target.path == f"{JDK}/bin/java"
    # lstat resolves the parents but not the last component
    inner = host.lstat("/usr/bin/jdk/release")
    assert inner is not None and inner.path == f"{JDK}/release" and inner.kind == "file"
    assert host.lstat("/usr/bin/fifo").kind == "other"
    assert host.lstat("/nonexistent") is None
    assert host.lstat("/").kind == "dir"
    assert host.stat("/usr/bin/dangling") is None


@pytest.mark.parametrize("path", ["/opt/tomcat", "/usr/bin/jdk", "/usr/bin/fifo", "/usr/bin/to-fifo", "/"])
def test_open_refuses_non_regular_files(host, path):
    with pytest.raises(HostError, match="not a regular file"):
        host.open(path)


def test_open_missing_file(host):
    with pytest.raises(HostError, match="/opt/tomcat/nope"):
        host.open("/opt/tomcat/nope")


def test_reads_through_links(host):
    assert "JAVA_VERSION=\"17.0.15\"" in host.read_text("/usr/bin/jdk/release")
    assert host.list_dir("/usr/bin/jdk") == ["bin", "release"]
    assert host.glob_names("/opt/tomcat/webapps", (".war",)) == ["app.war"]
    assert host.glob_names("/usr/bin/loop1") == []
    assert host.is_dir("/usr/bin/jdk") and not host.is_file("/usr/bin/jdk")


def test_read_limit(host):
    with pytest.raises(HostError, match="larger than 10 bytes"):
        host.read_bytes("/usr/bin/jdk/release", limit=10)


# -- issue 7: no operation reaches the real machine, whatever the links -----------------------
@pytest.fixture
def worker(tmp_path):
    """Files of "the worker" that a snapshot's links aim at."""
    folder = tmp_path / "worker"
    (folder / "etc").mkdir(parents=True)
    (folder / "etc" / "hostname").write_text("WORKER-CANARY\n")
    return folder


def test_files_link_is_refused(tmp_path, worker):
    snap = tmp_path / "snap"
    snap.mkdir()
    os.symlink(worker, snap / "files")
    with pytest.raises(InvalidFile, match="not a folder"):
        SnapshotHost(str(snap))
    (snap / "files").unlink()
    (snap / "files").write_text("a file")
    with pytest.raises(InvalidFile, match="not a folder"):
        SnapshotHost(str(snap))


def test_host_json_link_is_refused_without_echo(tmp_path, worker):
    snap = tmp_path / "snap"
    snap.mkdir()
    (worker / "host.json").write_text('{"hostname": "WORKER-CANARY", "processes": "x"}')
    os.symlink(worker / "host.json", snap / "host.json")
    with pytest.raises(InvalidFile, match="host.json") as caught:
        SnapshotHost(str(snap))
    assert "CANARY" not in caught.value.message


@pytest.mark.parametrize(("document", "where"), [
    ([], "$: [] is not of type 'object'"),
    ({"processes": [{"cmdline": ["java"]}]}, "$.processes[0]: 'pid' is a required property"),
    ({"processes": [{"pid": "x"}]}, "$.processes[0].pid: 'x' is not of type 'integer'"),
    ({"processes": [{"pid": 1, "cmdline": "java -jar x"}]}, "$.processes[0].cmdline"),
    ({"processes": [{"pid": 1, "environ": {"A": 1}}]}, "$.processes[0].environ.A"),
    ({"processes": [{"pid": 1, "listening": [{"port": 70000}]}]}, "$.processes[0].listening[0].port"),
    ({"processes": [{"pid": 1, "connections": [{"remotePort": 1}]}]}, "$.processes[0].connections[0]"),
    ({"processes": {"pid": 1}}, "$.processes"),
    ({"osRelease": ["debian"]}, "$.osRelease"),
    ({"hostname": 7}, "$.hostname"),
    ({"processes": [{"pid": True}]}, "$.processes[0].pid"),
])
def test_host_json_is_validated(tmp_path, document, where):
    (tmp_path / "host.json").write_text(json.dumps(document))
    with pytest.raises(InvalidFile) as caught:
        SnapshotHost(str(tmp_path))
    assert "host.json" in caught.value.message and where in caught.value.message


@pytest.mark.parametrize("text", ['{"createTime": NaN}', "[" * 50_000 + "]" * 50_000, '{"hostname": "\\ud800"'])
def test_host_json_odd_json(tmp_path, text):
    (tmp_path / "host.json").write_text(text)
    with pytest.raises(InvalidFile, match="host.json"):
        SnapshotHost(str(tmp_path))


def test_huge_host_json_value_is_cut(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps({"processes": [{"pid": "9" * 5_000_000}]}))
    with pytest.raises(InvalidFile) as caught:
        SnapshotHost(str(tmp_path))
    assert len(caught.value.message) < 1000


def test_every_file_operation_refuses_a_swapped_files_folder(root, worker):
    """files/ replaced by a link to the worker after the snapshot was opened: nothing reads through it."""
    host = SnapshotHost(str(root))
    shutil.move(str(root / "files"), str(root / "files.real"))
    os.symlink(worker, root / "files")
    path = "/etc/hostname"
    with pytest.raises(HostError):
        host.open(path)
    with pytest.raises(HostError):
        host.read_bytes(path)
    with pytest.raises(HostError):
        host.read_text(path)
    with pytest.raises(HostError):
        host.lstat(path)
    with pytest.raises(HostError):
        host.list_dir("/etc")
    with pytest.raises(HostError):
        host.list_dir("/")
    with pytest.raises(HostError):
        host.open("/")
    assert host.stat(path) is None
    assert not host.exists(path) and not host.is_file(path) and not host.is_dir("/etc")
    assert host.glob_names("/etc") == []


def test_zip_reads_go_through_the_checks(root, worker):
    import zipfile

    from a2c.analyzers.common import archives

    with zipfile.ZipFile(worker / "etc" / "app.jar", "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "WORKER-CANARY")
    host = SnapshotHost(str(root))
    shutil.move(str(root / "files"), str(root / "files.real"))
    os.symlink(worker, root / "files")
    with pytest.raises(HostError, match="outside the snapshot"):
        with archives.open_zip(host, "/etc/app.jar"):
            pass


def test_parent_link_inside_the_snapshot_is_followed_inside(host):
    assert host.read_text("/usr/bin/escape-abs/passwd") == "snapshot-passwd\n"
    assert host.list_dir("/usr/bin/escape-abs") == ["passwd"]


@pytest.mark.parametrize("name", ["\ud800", "a\0b", "\udfff!x"])
def test_names_no_file_can_have_are_missing_not_crashes(host, name):
    """host.json may name any string (hypothesis found a lone high surrogate in open_files): such a
    path is no file, and reading it is a HostError, never a UnicodeEncodeError."""
    path = f"/opt/tomcat/{name}"
    assert host.lstat(path) is None and not host.exists(path) and not host.is_dir(path)
    with pytest.raises(HostError, match="no file has such a name"):
        host.open(path)
    with pytest.raises(HostError):
        host.list_dir(path)
