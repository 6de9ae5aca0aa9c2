"""The build context tar stream, read from a LocalHost over a tmp tree."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from a2c.images import layers as context_module
from a2c.images.layers import ContextWriter
from a2c.errors import HostError
from a2c.hosts.local import LocalHost
from a2c.model import BuildPlan, CopyLayer


def _plan(*layers: CopyLayer, **changes) -> BuildPlan:
    return BuildPlan(app_id="java-generic-00000000", base_image="eclipse-temurin:17-jre", layers=layers,
                     entrypoint=("${JAVA}", "-jar", "app.jar"), **changes)


def _tar(writer: ContextWriter) -> tuple[bytes, tarfile.TarFile]:
    data = b"".join(writer)
    assert len(data) % 512 == 0
    assert data.endswith(b"\0" * 1024)
    return data, tarfile.open(fileobj=io.BytesIO(data), mode="r:")


def _name(layer: str, path: Path | str) -> str:
    return f"layers/{layer}{path}"


@pytest.fixture
def tree(tmp_path):
    """tmp/sticky (mode 1777)/app/... plus a shared jar folder and a file outside every root."""
    sticky = tmp_path / "sticky"
    app = sticky / "app"
    (app / "lib").mkdir(parents=True)
    (app / "logs").mkdir()
    (app / "conf").mkdir()
    os.chmod(sticky, 0o1777)
    (app / "app.jar").write_bytes(b"PK-not-really-a-jar")
    (app / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(app / "run.sh", 0o750)
    (app / "secret.properties").write_text("a=b\n")
    os.chmod(app / "secret.properties", 0o600)
    (app / "logs" / "catalina.out").write_text("log line\n")
    (app / "conf" / "server.xml").write_text("<Server/>\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "outside.txt").write_text("outside\n")
    (shared / "commons-1.2.jar").write_bytes(b"shared jar bytes")
    (shared / "commons.jar").symlink_to("commons-1.2.jar")  # Debian's unversioned name
    (app / "lib" / "commons.jar").symlink_to(shared / "commons.jar")  # into link_roots: its chain comes along
    (app / "lib" / "shared-dir").symlink_to(shared)  # a folder in link_roots: stays a link
    (app / "outside").symlink_to(tmp_path / "outside.txt")  # outside the roots: kept and reported
    (app / "relative").symlink_to("app.jar")  # inside the root: kept silently
    (app / "dangling").symlink_to("/no/such/target")
    return tmp_path


def test_layers_excludes_and_links(tree):
    app = tree / "sticky" / "app"
    layer = CopyLayer("application", (str(app),), excludes=(str(app / "logs"),), link_roots=(str(tree / "shared"),))
    writer = ContextWriter(LocalHost(), _plan(layer), {"Dockerfile": b"FROM scratch\n", "a2c/start.sh": b"#!/bin/sh\n"})
    _, tar = _tar(writer)
    members = {m.name: m for m in tar.getmembers()}

    assert tar.extractfile("Dockerfile").read() == b"FROM scratch\n"
    assert members["a2c/start.sh"].mode == 0o755 and members["Dockerfile"].mode == 0o644

    assert members[_name("application", app)].isdir()
    assert tar.extractfile(_name("application", app / "app.jar")).read() == b"PK-not-really-a-jar"
    # host modes, made readable by anyone (the image runs the app as an unprivileged user): a+rX
    assert members[_name("application", app / "run.sh")].mode == 0o755  # 0o750 on the host
    assert members[_name("application", app / "secret.properties")].mode == 0o644  # 0o600 on the host
    assert tar.extractfile(_name("application", app / "conf" / "server.xml")).read() == b"<Server/>\n"

    # excluded: neither the folder nor what is inside
    assert not any(n.startswith(_name("application", app / "logs")) for n in members)

    # a link into link_roots stays a link, and every hop of its chain comes at its own path, so
    # that a canonicalised class path and a manifest's Class-Path resolve as on the host
    link = members[_name("application", app / "lib" / "commons.jar")]
    assert link.issym() and link.linkname == str(tree / "shared" / "commons.jar")
    hop = members[_name("application", tree / "shared" / "commons.jar")]
    assert hop.issym() and hop.linkname == "commons-1.2.jar"
    copied = members[_name("application", tree / "shared" / "commons-1.2.jar")]
    assert copied.isfile() and tar.extractfile(copied).read() == b"shared jar bytes"
    assert writer.stats.links_copied == [str(app / "lib" / "commons.jar")]

    # links that leave the roots stay links, and are reported
    outside = members[_name("application", app / "outside")]
    assert outside.issym() and outside.linkname == str(tree / "outside.txt")
    assert f"{app / 'outside'} -> {tree / 'outside.txt'}" in writer.stats.links_kept
    assert members[_name("application", app / "lib" / "shared-dir")].issym()
    assert members[_name("application", app / "dangling")].issym()
    # a link inside the root is a plain link, not reported
    relative = members[_name("application", app / "relative")]
    assert relative.issym() and relative.linkname == "app.jar"
    assert not any("relative" in kept for kept in writer.stats.links_kept)

    assert writer.stats.files == 5  # app.jar, run.sh, secret.properties, server.xml, commons.jar (copied); no log
    assert writer.stats.missing == [] and writer.stats.unreadable == []
    assert not any(m.name.startswith("/") or ".." in m.name.split("/") for m in members.values())


def test_parent_directories_keep_the_host_mode(tree):
    app = tree / "sticky" / "app"
    _, tar = _tar(ContextWriter(LocalHost(), _plan(CopyLayer("application", (str(app),))), {}))
    members = {m.name: m for m in tar.getmembers()}
    sticky = members[_name("application", tree / "sticky")]
    assert sticky.isdir() and sticky.mode == 0o1777
    parent = members[_name("application", tree)]
    assert parent.mode == stat.S_IMODE(os.stat(tree).st_mode) | 0o555  # pytest's 0o700, made traversable
    # each folder appears once, parents before children
    names = [m.name for m in tar.getmembers()]
    assert len(names) == len(set(names))
    assert names.index(_name("application", tree / "sticky")) < names.index(_name("application", app))


def test_generated_files_and_writable_dirs(tree):
    app = tree / "sticky" / "app"
    server_xml = str(app / "conf" / "server.xml")
    plan = _plan(CopyLayer("application", (str(app),)), generated={server_xml: b"<Server patched='1'/>"},
                 writable_dirs=(str(app / "logs"),))
    _, tar = _tar(ContextWriter(LocalHost(), plan, {}))
    members = {m.name: m for m in tar.getmembers()}
    assert tar.extractfile("generated" + server_xml).read() == b"<Server patched='1'/>"
    assert _name("application", server_xml) not in members  # the generated copy replaces the host's
    assert members["writable" + str(app / "logs")].isdir()
    assert members["writable" + str(tree / "sticky")].mode == 0o1777

    _, tar = _tar(ContextWriter(LocalHost(), plan, {}, with_generated=False))
    names = tar.getnames()
    assert _name("application", server_xml) in names
    assert not any(n.startswith(("generated/", "writable/")) for n in names)


def test_missing_roots_are_reported(tree):
    missing = str(tree / "no-such-dir")
    writer = ContextWriter(LocalHost(), _plan(CopyLayer("application", (missing,))), {})
    _tar(writer)
    assert writer.stats.missing == [missing]


class _FlakyHost(LocalHost):
    """A LocalHost whose files change between lstat and read, or cannot be opened."""

    def __init__(self, shrink: str = "", grow: str = "", refuse: str = "") -> None:
        super().__init__()
        self.shrink, self.grow, self.refuse = shrink, grow, refuse

    def open(self, path):
        if path == self.refuse:
            raise HostError(f"cannot read {path}: Permission denied")
        stream = super().open(path)
        if path == self.shrink:
            os.truncate(path, 3)
        if path == self.grow:
            with open(path, "ab") as handle:
                handle.write(b"-appended-after-stat")
        return stream


def test_file_that_shrinks_while_read_gives_a_well_formed_tar(tree):
    app = tree / "sticky" / "app"
    jar = str(app / "app.jar")
    writer = ContextWriter(_FlakyHost(shrink=jar), _plan(CopyLayer("application", (str(app),))), {})
    _, tar = _tar(writer)
    member = tar.getmember(_name("application", jar))
    assert member.size == len(b"PK-not-really-a-jar")
    assert tar.extractfile(member).read() == b"PK-" + b"\0" * (member.size - 3)
    # the entries after it are intact
    assert tar.extractfile(_name("application", app / "run.sh")).read() == b"#!/bin/sh\n"


def test_file_that_grows_while_read_is_cut_at_its_size(tree):
    app = tree / "sticky" / "app"
    jar = str(app / "app.jar")
    _, tar = _tar(ContextWriter(_FlakyHost(grow=jar), _plan(CopyLayer("application", (str(app),))), {}))
    assert tar.extractfile(_name("application", jar)).read() == b"PK-not-really-a-jar"
    assert tar.extractfile(_name("application", app / "run.sh")).read() == b"#!/bin/sh\n"


def test_unreadable_file_is_reported_and_skipped(tree):
    app = tree / "sticky" / "app"
    jar = str(app / "app.jar")
    writer = ContextWriter(_FlakyHost(refuse=jar), _plan(CopyLayer("application", (str(app),))), {})
    _, tar = _tar(writer)
    assert _name("application", jar) not in tar.getnames()
    assert writer.stats.unreadable == [jar]


def test_stream_is_chunked(tree, monkeypatch):
    monkeypatch.setattr(context_module, "CHUNK", 1000)
    big = tree / "big"
    big.mkdir()
    (big / "data.bin").write_bytes(os.urandom(10_000))
    writer = ContextWriter(LocalHost(), _plan(CopyLayer("data", (str(big),))), {})
    chunks = list(writer)
    assert max(len(c) for c in chunks) <= 2048  # a header block, or at most one CHUNK of data
    tar = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))
    assert tar.extractfile(_name("data", big / "data.bin")).read() == (big / "data.bin").read_bytes()


def test_odd_file_names(tree):
    odd = tree / "odd"
    odd.mkdir()
    (odd / "new\nline.txt").write_bytes(b"1")
    (odd / ("x" * 200 + ".txt")).write_bytes(b"2")
    (odd / "caf\u00e9 \u2603.txt").write_bytes(b"3")
    with open(os.path.join(os.fsencode(odd), b"latin1-\xe9.txt"), "wb") as handle:
        handle.write(b"4")
    writer = ContextWriter(LocalHost(), _plan(CopyLayer("odd", (str(odd),))), {})
    _, tar = _tar(writer)
    contents = sorted(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert contents == [b"1", b"2", b"3", b"4"]
    assert writer.stats.files == 4


def test_custom_names_and_several_layers(tree):
    app = tree / "sticky" / "app"
    plan = _plan(CopyLayer("server", (str(app / "conf"),)), CopyLayer("application", (str(app / "app.jar"),)))
    writer = ContextWriter(LocalHost(), plan, {}, name_for=lambda layer, path: f"ctx/{layer.name}{path}")
    _, tar = _tar(writer)
    names = tar.getnames()
    assert f"ctx/server{app / 'conf' / 'server.xml'}" in names
    assert f"ctx/application{app / 'app.jar'}" in names
    assert not any(n.startswith("layers/") for n in names)


# -- credential stores: never streamed, whatever the plan says ---------------------------------

CANARY = b"A2C-CANARY-CTX"


@pytest.fixture
def loot(tmp_path):
    """A snapshot host (so /etc and /home are its own) holding credential stores beside an app."""
    from a2c.hosts.snapshot import SnapshotHost

    files = tmp_path / "snap" / "files"
    plant = {
        "etc/ssh/ssh_host_rsa_key": CANARY + b"-1", "etc/ssh/moduli": CANARY + b"-2", "etc/gshadow": CANARY + b"-3",
        "etc/shadow": CANARY + b"-4", "etc/ssl/private/server.key": CANARY + b"-5",
        "home/app/.ssh/id_rsa": CANARY + b"-6", "home/app/.pgpass": CANARY + b"-7",
        "home/app/.docker/config.json": CANARY + b"-8", "home/app/app-notes.txt": b"notes\n",
        "etc/app/app.conf": b"port=8080\n", "opt/app/app.jar": b"jar", "opt/app/.aws/credentials": CANARY + b"-9",
    }
    for path, data in plant.items():
        (files / path).parent.mkdir(parents=True, exist_ok=True)
        (files / path).write_bytes(data)
    (files / "opt/app/keys").symlink_to("/etc/ssh")  # a folder reached through a link
    (files / "opt/app/tls.key").symlink_to("/etc/ssl/private/server.key")  # a link to a store
    (files / "opt/jre").mkdir()
    (files / "opt/jre/key.pem").symlink_to("/etc/ssl/private/server.key")  # the same, into link_roots
    (tmp_path / "snap" / "host.json").write_text('{"hostname": "loot", "processes": []}')
    return SnapshotHost(str(tmp_path / "snap"))


def _paths(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return {"/" + m.name.split("/", 2)[2] if m.name.count("/") >= 2 else m.name for m in tar.getmembers()}


def test_credential_stores_named_in_a_plan_are_refused(loot):
    plan = _plan(CopyLayer("application", ("/etc/ssh", "/etc/gshadow", "/home/app/.ssh/id_rsa", "/home/app",
                                           "/opt/app", "/etc/app", "/opt/app/keys/moduli")),
                 CopyLayer("runtime", ("/opt/jre",), link_roots=("/etc",)), CopyLayer("system", ("/etc",)))
    writer = ContextWriter(loot, plan, {})
    data, tar = _tar(writer)
    assert CANARY not in data
    names = tar.getnames()
    # the app's own files, and the non-secret files beside the stores, still come
    for kept in ("/opt/app/app.jar", "/home/app/app-notes.txt", "/etc/app/app.conf"):
        assert _name("application", kept) in names, kept
    assert _name("system", "/etc/app/app.conf") in names
    # the links stay links (their targets are not copied)
    assert tar.getmember(_name("application", "/opt/app/keys")).issym()
    assert tar.getmember(_name("application", "/opt/app/tls.key")).issym()
    assert tar.getmember(_name("runtime", "/opt/jre/key.pem")).issym()  # not copied in place of the link
    assert writer.stats.links_copied == []
    refused = [entry.split(": ", 1)[0] for entry in writer.stats.refused]
    for store in ("/etc/ssh", "/etc/gshadow", "/home/app/.ssh/id_rsa", "/home/app/.ssh", "/home/app/.pgpass",
                  "/home/app/.docker", "/opt/app/.aws", "/etc/shadow", "/etc/ssl/private",
                  "/opt/app/keys/moduli -> /etc/ssh/moduli", "/etc/ssl/private/server.key"):
        assert store in refused, store
    assert len(refused) == len(set(refused))
    assert all(": " in entry and entry.split(": ", 1)[1] for entry in writer.stats.refused)  # each says why


def test_generated_and_substituted_credential_stores_are_refused(loot):
    plan = _plan(CopyLayer("application", ("/home/app",)), generated={"/home/app/.pgpass": CANARY + b"-gen",
                                                                      "/etc/app/app.conf": b"port=9090\n"})
    data, tar = _tar(ContextWriter(loot, plan, {}))
    assert CANARY not in data and "generated/etc/app/app.conf" in tar.getnames()
    writer = ContextWriter(loot, plan, {}, name_for=lambda layer, path: "files" + path, with_generated=False,
                           substitutes={"/home/app/.pgpass": CANARY + b"-sub"})
    data, tar = _tar(writer)
    assert CANARY not in data and "files/home/app/app-notes.txt" in tar.getnames()
    assert any(entry.startswith("/home/app/.pgpass: ") for entry in writer.stats.refused)


def test_link_hops_between_a_link_and_its_copied_target_come_along(tmp_path):
    """lib/optional/x.jar -> /usr/share/java/x.jar -> x-3.x.jar, with only x-3.x.jar named (as
    process mode names real paths): the middle link must exist in the image too."""
    shared = tmp_path / "java"
    shared.mkdir()
    (shared / "x-3.x.jar").write_bytes(b"jar")
    (shared / "x.jar").symlink_to("x-3.x.jar")
    home = tmp_path / "home" / "lib"
    home.mkdir(parents=True)
    (home / "x.jar").symlink_to("../../java/x.jar")
    layer = CopyLayer("application", (str(tmp_path / "home"), str(shared / "x-3.x.jar")))
    writer = ContextWriter(LocalHost(), _plan(layer), {"Dockerfile": b"FROM scratch\n"})
    _, tar = _tar(writer)
    middle = tar.getmember(_name("application", shared / "x.jar"))
    assert middle.issym() and middle.linkname == "x-3.x.jar"
    assert tar.getmember(_name("application", shared / "x-3.x.jar")).isfile()
