"""Safe jar/war reading against fixtures/hostile/archives/ and zip bombs made in tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import load_make_hostile
from a2c.analyzers.common import archives
from a2c.analyzers.common.archives import BadArchive, open_zip, read_member, read_text_member, unsafe_member_names
from a2c.errors import HostError, InvalidFile
from a2c.hosts.local import LocalHost

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOSTILE = FIXTURES / "hostile" / "archives"
APP_WAR = FIXTURES / "snapshots" / "tomcat-host" / "files" / "opt" / "tomcat" / "webapps" / "app.war"


def _make_hostile():
    return load_make_hostile()


make_hostile = _make_hostile()


@pytest.fixture
def host():
    return LocalHost()


def test_bad_archive_is_an_invalid_file():
    assert issubclass(BadArchive, InvalidFile)


def test_reads_a_normal_war(host):
    with open_zip(host, str(APP_WAR)) as archive:
        assert unsafe_member_names(archive) == []
        assert read_member(archive, "WEB-INF/web.xml").startswith(b"<?xml")
        assert read_member(archive, "no/such/member") is None
    assert "Created-By: a2c fixtures" in read_text_member(host, str(APP_WAR), "META-INF/MANIFEST.MF")


def test_stream_is_closed_after_use(host, monkeypatch):
    opened = []
    real_open = LocalHost.open

    def spy(self, path):
        stream = real_open(self, path)
        opened.append(stream)
        return stream

    monkeypatch.setattr(LocalHost, "open", spy)
    with open_zip(host, str(APP_WAR)):
        pass
    with pytest.raises(BadArchive):
        with open_zip(host, str(HOSTILE / "not-a-zip.jar")):
            pass
    assert len(opened) == 2 and all(s.closed for s in opened)


@pytest.mark.parametrize("name", ["truncated.jar", "not-a-zip.jar", "empty.jar"])
def test_unreadable_archives_give_bad_archive(host, name):
    path = str(HOSTILE / name)
    with pytest.raises(BadArchive) as caught:
        with open_zip(host, path):
            pytest.fail("opened a broken archive")
    assert path in caught.value.message
    assert caught.value.hint


def test_missing_archive_and_directory_are_host_errors(host, tmp_path):
    with pytest.raises(HostError):
        with open_zip(host, str(tmp_path / "missing.jar")):
            pass
    with pytest.raises(HostError):
        with open_zip(host, str(tmp_path)):
            pass
    assert read_text_member(host, str(tmp_path / "missing.jar"), "META-INF/MANIFEST.MF") is None


@pytest.mark.parametrize("name", ["unsupported-method.jar", "bad-local-header.jar", "lying-size.jar"])
def test_unreadable_members_give_bad_archive(host, name):
    with open_zip(host, str(HOSTILE / name)) as archive:
        with pytest.raises(BadArchive):
            read_member(archive, "META-INF/MANIFEST.MF", limit=64 * 1024)


def test_encrypted_member_gives_bad_archive(host):
    with open_zip(host, str(HOSTILE / "encrypted-member.jar")) as archive:
        with pytest.raises(BadArchive):
            read_member(archive, "META-INF/MANIFEST.MF")


def test_zip_bomb_member_is_refused_by_its_declared_size(host, tmp_path):
    bomb = make_hostile.zip_bomb(tmp_path / "bomb.jar", archives.MAX_MEMBER_BYTES + 1)
    assert bomb.stat().st_size < 64 * 1024  # small on disk, big when inflated
    with open_zip(host, str(bomb)) as archive:
        with pytest.raises(BadArchive) as caught:
            read_member(archive, "META-INF/MANIFEST.MF")
    assert "META-INF/MANIFEST.MF" in caught.value.message


def test_member_at_the_limit_is_read(host, tmp_path):
    jar = make_hostile.zip_bomb(tmp_path / "ok.jar", 1000)
    with open_zip(host, str(jar)) as archive:
        assert read_member(archive, "META-INF/MANIFEST.MF", limit=1000) == b"\0" * 1000
        with pytest.raises(BadArchive):
            read_member(archive, "META-INF/MANIFEST.MF", limit=999)


def test_member_lying_about_its_size_is_not_inflated(host):
    with open_zip(host, str(HOSTILE / "lying-size.jar")) as archive:
        assert archive.getinfo("META-INF/MANIFEST.MF").file_size == 10
        with pytest.raises(BadArchive):
            read_member(archive, "META-INF/MANIFEST.MF")


def test_member_errors_name_the_jar(host, tmp_path):
    bomb = make_hostile.zip_bomb(tmp_path / "bomb.jar", archives.MAX_MEMBER_BYTES + 1)
    with open_zip(host, str(bomb)) as archive:
        with pytest.raises(BadArchive) as caught:
            read_member(archive, "META-INF/MANIFEST.MF")
    assert str(bomb) in caught.value.message


def test_too_many_entries_are_refused(host, tmp_path, monkeypatch):
    jar = make_hostile.write_zip(tmp_path / "many.jar", {f"f{i}": "" for i in range(11)}, zipfile.ZIP_STORED)
    monkeypatch.setattr(archives, "MAX_ENTRIES", 10)
    with pytest.raises(BadArchive, match="more than 10 entries"):
        with open_zip(host, str(jar)):
            pass


def test_unsafe_member_names_are_reported(host):
    with open_zip(host, str(HOSTILE / "traversal.jar")) as archive:
        bad = unsafe_member_names(archive)
        # listing them is harmless: the safe members still read
        assert read_member(archive, "BOOT-INF/classes/application.properties") == b"server.port=8080\n"
    assert sorted(bad) == sorted([
        "../../../../tmp/evil.sh",
        "/etc/cron.d/evil",
        "BOOT-INF/lib/../../../escape.txt",
        "C:/Windows/evil.dll",
        "..\\..\\windows-style.txt",
    ])


@pytest.mark.parametrize(
    ("names", "unsafe"),
    [
        (["a/b.class", "META-INF/", "x..y", "..a", "a/.."], ["a/.."]),
        (["\\abs"], ["\\abs"]),
        (["d:rel"], ["d:rel"]),
        ([".."], [".."]),
        (["./a"], []),
    ],
)
def test_unsafe_member_names_table(tmp_path, host, names, unsafe):
    jar = make_hostile.write_zip(tmp_path / "t.jar", {n: "" for n in names}, zipfile.ZIP_STORED)
    with open_zip(host, str(jar)) as archive:
        assert unsafe_member_names(archive) == unsafe
