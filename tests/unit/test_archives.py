"""Safe jar/war reading against fixtures/hostile/archives/ and zip bombs made in tmp_path: the
zipfile-based readers (open_zip, read_member) and the central directory reader (read_directory)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.conftest import load_make_hostile, load_script
from a2c.analyzers.common import archives
from a2c.analyzers.common.archives import (BadArchive, ZipDirectory, open_zip, read_directory, read_member,
                                           read_text_member, unsafe_member_names)
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


# -- the central directory reader (read_directory), used by the jar scanner -------------------------
make_crashes = load_script(FIXTURES / "hostile" / "crashes" / "make_crashes.py", "make_crashes")
EVERY_FIXTURE_ARCHIVE = sorted(p for pattern in ("*.jar", "*.war", "*.ear") for p in FIXTURES.rglob(pattern)
                               if p.is_file())


class CountingStream(io.BytesIO):
    """A stream that records each read (where, how much)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, size: int | None = -1) -> bytes:
        where = self.tell()
        data = super().read(size)
        self.reads.append((where, len(data)))
        return data


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, method)
        archive.comment = comment
    return buffer.getvalue()


def directory_of(data: bytes, label: str = "t.jar") -> ZipDirectory:
    return read_directory(io.BytesIO(data), label)


@pytest.mark.parametrize("path", EVERY_FIXTURE_ARCHIVE, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_directory_agrees_with_zipfile(path):
    """Names, sizes, offsets and member bytes as zipfile sees them, for every archive in fixtures/."""
    data = path.read_bytes()
    try:
        reference = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, NotImplementedError, ValueError):
        with pytest.raises(BadArchive):
            directory_of(data)
        return
    directory = directory_of(data)
    assert directory.names() == reference.namelist()
    for index, info in enumerate(reference.infolist()):
        entry = directory.entry(index)
        assert (entry.name, entry.crc, entry.file_size, entry.compress_size, entry.header_offset, entry.method) == (
            info.filename, info.CRC, info.file_size, info.compress_size, info.header_offset, info.compress_type)
        if index < 30 and info.file_size < 1024 * 1024 and not info.flag_bits & 1:
            try:
                expected = reference.read(info)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, zlib.error, EOFError):
                with pytest.raises(BadArchive):
                    directory.read(entry, 1024 * 1024)
            else:
                assert directory.read(entry, 1024 * 1024) == expected
    assert directory.unsafe_names() == unsafe_member_names(reference)


def test_one_read_for_the_tail_and_directory_and_one_per_member():
    members = {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n", "META-INF/maven/g/a/pom.properties": b"version=1\n"}
    members.update({f"pkg/C{n}.class": bytes(2000) for n in range(200)})
    stream = CountingStream(zip_bytes(members))
    directory = read_directory(stream, "t.jar")
    assert len(stream.reads) == 1  # the tail holds the end record and the whole directory
    index = directory.starting_with(b"META-INF/maven/")
    assert index == [1]
    stream.reads.clear()
    assert directory.read(directory.entry(1), 1024) == b"version=1\n"
    assert len(stream.reads) == 1  # its local header and its data together


def test_a_directory_larger_than_the_tail_costs_one_more_read():
    stream = CountingStream(zip_bytes({f"pkg/{'x' * 200}/C{n}.class": b"" for n in range(600)}, zipfile.ZIP_STORED))
    directory = read_directory(stream, "big.jar")
    assert len(directory) == 600 and len(stream.reads) == 2


def test_no_zipfile_object_is_made(monkeypatch):
    data = zip_bytes({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n"})

    def refuse(*args, **kwargs):
        raise AssertionError("zipfile.ZipFile was called")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    directory = directory_of(data)
    assert directory.read(directory.find(b"META-INF/MANIFEST.MF"), 100).startswith(b"Manifest-Version")


def test_prepended_bytes_and_a_comment():
    """A launch script before the zip (a "fully executable" Spring Boot jar) and a comment after it."""
    data = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n" * 20 + zip_bytes({"a.txt": b"hello"}, comment=b"c" * 5000)
    directory = directory_of(data)
    assert directory.read(directory.find(b"a.txt"), 100) == b"hello"


def test_zip64_end_records():
    data = bytearray(zip_bytes({"a.txt": b"hello", "b.txt": b"world"}, zipfile.ZIP_STORED))
    eocd = data.rfind(b"PK\x05\x06")
    _, _, _, count, _, size, offset, _ = struct.unpack_from("<4s4H2LH", data, eocd)
    zip64 = make_crashes.zip64_end_records(count, size, offset, prefix=bytes(data[:eocd]))
    directory = directory_of(zip64)
    assert directory.names() == ["a.txt", "b.txt"]
    assert directory.read(directory.find(b"b.txt"), 100) == b"world"


def test_zip64_extra_field_gives_the_sizes():
    data = bytearray(zip_bytes({"a.txt": b"hello"}, zipfile.ZIP_STORED))
    central = data.rfind(b"PK\x01\x02")
    name_length = struct.unpack_from("<H", data, central + 28)[0]
    extra = struct.pack("<HHQQ", 1, 16, 5, 5)
    struct.pack_into("<LLH", data, central + 20, 0xFFFFFFFF, 0xFFFFFFFF, name_length)
    struct.pack_into("<H", data, central + 30, len(extra))
    at = central + 46 + name_length
    data[at:at] = extra
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<L", data, eocd + 12, struct.unpack_from("<L", data, eocd + 12)[0] + len(extra))
    directory = directory_of(bytes(data))
    entry = directory.entry(0)
    assert (entry.file_size, entry.compress_size) == (5, 5)
    assert directory.read(entry, 100) == b"hello"


@pytest.mark.parametrize("name", ["truncated.jar", "not-a-zip.jar", "empty.jar"])
def test_directory_of_an_unreadable_archive(name):
    with pytest.raises(BadArchive) as caught:
        read_directory(io.BytesIO((HOSTILE / name).read_bytes()), f"/lib/{name}")
    assert f"/lib/{name}" in caught.value.message


@pytest.mark.parametrize("name, words", [("unsupported-method.jar", "method 99"), ("bad-local-header.jar", "past the end"),
                                         ("lying-size.jar", "CRC"), ("encrypted-member.jar", "encrypted")])
def test_directory_refuses_unreadable_members(name, words):
    directory = directory_of((HOSTILE / name).read_bytes(), name)
    with pytest.raises(BadArchive, match=words) as caught:
        directory.read(directory.find(b"META-INF/MANIFEST.MF"), 64 * 1024)
    assert caught.value.message.startswith(f"{name}!/META-INF/MANIFEST.MF: ")


def test_directory_member_bombs(tmp_path):
    bomb = make_hostile.zip_bomb(tmp_path / "bomb.jar", 64 * 1024 * 1024).read_bytes()
    directory = directory_of(bomb)
    entry = directory.find(b"META-INF/MANIFEST.MF")
    with pytest.raises(BadArchive, match="over the 1024 limit"):
        directory.read(entry, 1024)
    assert directory.read(entry, 1024, head=True) == bytes(1024)  # only the head is inflated


def test_directory_member_named_differently_in_its_local_header():
    data = bytearray(zip_bytes({"a.txt": b"hello"}, zipfile.ZIP_STORED))
    data[30:35] = b"b.txt"
    directory = directory_of(bytes(data))
    with pytest.raises(BadArchive, match="names another file"):
        directory.read(directory.find(b"a.txt"), 100)


def test_directory_limits(monkeypatch):
    assert len(directory_of(make_crashes.small_jar())) == 2
    with pytest.raises(BadArchive, match="more than 200000 entries"):
        directory_of(make_crashes.three_million_entries())
    with pytest.raises(BadArchive, match="more than 200000 entries"):
        directory_of(make_crashes.lying_count(archives.MAX_ENTRIES + 1))  # declares 10, holds more
    with pytest.raises(BadArchive, match="central directory of"):
        directory_of(make_crashes.zip64_end_records(10, archives.MAX_CENTRAL_DIRECTORY_BYTES + 1))
    with pytest.raises(BadArchive, match="version 9.9"):
        directory_of(make_crashes.zip_version_99())
    monkeypatch.setattr(archives, "MAX_ENTRIES", 10)
    with pytest.raises(BadArchive, match="more than 10 entries"):
        directory_of(zip_bytes({f"f{i}": b"" for i in range(11)}))
    assert len(directory_of(zip_bytes({f"f{i}": b"" for i in range(10)}))) == 10


def test_directory_bad_offsets():
    data = bytearray(zip_bytes({"a.txt": b"hello"}, zipfile.ZIP_STORED))
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<L", data, eocd + 12, len(data) * 2)  # a directory bigger than the file
    with pytest.raises(BadArchive, match="bad offset"):
        directory_of(bytes(data))
    data = bytearray(zip_bytes({"a.txt": b"hello"}, zipfile.ZIP_STORED))
    central = data.rfind(b"PK\x01\x02")
    data[central:central + 4] = b"XXXX"
    with pytest.raises(BadArchive, match="bad magic"):
        directory_of(bytes(data))


def test_a_stored_jar_inside_another_is_read_in_place():
    inner = zip_bytes({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nImplementation-Title: x\r\n\r\n"})
    outer = zip_bytes({"index.html": b"<p/>", "WEB-INF/lib/x.jar": inner}, zipfile.ZIP_STORED)
    stream = io.BytesIO(outer)
    war = read_directory(stream, "app.war")
    start, length = war.data_span(war.find(b"WEB-INF/lib/x.jar"))
    assert outer[start:start + length] == inner
    jar = read_directory(stream, "app.war!/WEB-INF/lib/x.jar", base=start, length=length)
    assert b"Implementation-Title: x" in jar.read(jar.find(b"META-INF/MANIFEST.MF"), 1000)


def test_starting_with_and_unsafe_names():
    directory = directory_of(zip_bytes({"a/b": b"", "META-INF/maven/x": b"", "xMETA-INF/maven/": b"",
                                        "META-INF/maven/": b"", "../up": b""}))
    assert directory.starting_with(b"META-INF/maven/") == [1, 3]
    assert directory.unsafe_names() == ["../up"]
    assert directory_of(zip_bytes({"ok/..name": b"", "x:y": b""})).unsafe_names() == ["x:y"]
