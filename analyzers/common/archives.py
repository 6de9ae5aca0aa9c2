"""Read jars and wars through their central directory, with limits, never unpacking them."""

from __future__ import annotations

import struct
import zipfile
import zlib
from contextlib import contextmanager
from typing import IO, Iterator

from a2c.errors import HostError, InvalidFile
from a2c.hosts.base import Host, decode_text

MAX_MEMBER_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 200_000
# A central directory entry is at least 46 bytes; real jars average well under 200 per entry.
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024

# Everything zipfile raises on a corrupt archive: NotImplementedError for an odd zip version or
# compression method, RuntimeError for an encrypted member, zlib.error for broken deflate data,
# OverflowError and struct.error for lying sizes and extra fields.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
              RuntimeError, OverflowError, zlib.error, struct.error)

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_EOCD_SIGNATURE = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator
_LOCATOR_SIGNATURE = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record
_EOCD64_SIGNATURE = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one central directory file header
_CENTRAL_SIGNATURE = b"PK\x01\x02"


class BadArchive(InvalidFile):
    """A jar/war that is truncated, not a zip, or unsafe to read."""


@contextmanager
def open_zip(host: Host, path: str) -> Iterator[zipfile.ZipFile]:
    stream = host.open(path)
    try:
        archive = open_zip_stream(stream, path)
        with archive:
            yield archive
    finally:
        stream.close()


def open_zip_stream(stream: IO[bytes], label: str) -> zipfile.ZipFile:
    """A ZipFile over a seekable stream, after the end records show it is within the limits."""
    try:
        check_central_directory(stream, label)
        archive = zipfile.ZipFile(stream)
    except BadArchive:
        raise
    except ZIP_ERRORS as exc:
        raise BadArchive(f"{label}: not a readable jar/zip archive ({exc})", "Check the file on the host.") from exc
    archive.filename = label  # name the jar in messages, not the stream's file descriptor
    if len(archive.infolist()) > MAX_ENTRIES:  # unreachable after the check above; kept as the last word
        archive.close()
        raise _too_many(label)
    return archive


def _too_many(label: str) -> BadArchive:
    return BadArchive(f"{label}: more than {MAX_ENTRIES} entries; not read",
                      "a2c reads jars through their central directory and stops at this many entries.")


def check_central_directory(stream: IO[bytes], label: str) -> None:
    """Refuse an archive whose central directory is over the limits before zipfile parses it.

    zipfile reads the whole central directory into ZipInfo objects first: 3 million entries
    cost seconds and a gigabyte. The end record (or the zip64 one) declares the count and size,
    so those are checked from the file's last bytes; and since zipfile walks the directory by
    its size, not its count, a directory big enough to hold more entries than the limit has
    its headers counted (cheaply, without building anything) in case the count lies.
    Archives without a readable end record pass: zipfile then reports them in its own words.
    """
    found = _end_records(stream)
    if found is None:
        return
    entries, size, start = found
    if entries > MAX_ENTRIES:
        raise _too_many(label)
    if size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise BadArchive(f"{label}: central directory of {size} bytes, over the {MAX_CENTRAL_DIRECTORY_BYTES} limit")
    if size > MAX_ENTRIES * _CENTRAL.size and start >= 0:
        stream.seek(start)
        if _count_headers(stream.read(size), MAX_ENTRIES + 1) > MAX_ENTRIES:
            raise _too_many(label)


def _end_records(stream: IO[bytes]) -> tuple[int, int, int] | None:
    """(declared entries, central directory size, its start) as zipfile will see them, or None."""
    stream.seek(0, 2)
    file_size = stream.tell()
    window = min(file_size, _EOCD.size + (1 << 16))  # the record plus the longest comment, as zipfile looks
    stream.seek(file_size - window)
    tail = stream.read(window)
    at = len(tail) - _EOCD.size
    if not (at >= 0 and tail[at:at + 4] == _EOCD_SIGNATURE and tail[-2:] == b"\0\0"):
        at = tail.rfind(_EOCD_SIGNATURE)
        if at < 0 or at + _EOCD.size > len(tail):
            return None
    record = _EOCD.unpack_from(tail, at)
    entries, size, offset = record[4], record[5], record[6]
    location = file_size - window + at
    zip64 = _zip64_record(stream, location)
    if zip64 is not None:
        entries, size, offset = zip64
        location -= _LOCATOR.size + _EOCD64.size
    return entries, size, location - size


def _zip64_record(stream: IO[bytes], eocd_location: int) -> tuple[int, int, int] | None:
    """(entries, size, offset) from the zip64 end record just before the locator, the way zipfile reads it."""
    start = eocd_location - _LOCATOR.size - _EOCD64.size
    if start < 0:
        return None
    stream.seek(start)
    data = stream.read(_EOCD64.size + _LOCATOR.size)
    if len(data) != _EOCD64.size + _LOCATOR.size or data[_EOCD64.size:_EOCD64.size + 4] != _LOCATOR_SIGNATURE:
        return None
    record = _EOCD64.unpack_from(data)
    if record[0] != _EOCD64_SIGNATURE:
        return None
    return record[7], record[8], record[9]


def _count_headers(directory: bytes, stop: int) -> int:
    """Central directory headers in ``directory``, counting no further than ``stop``."""
    count = position = 0
    while count < stop and position + _CENTRAL.size <= len(directory):
        header = _CENTRAL.unpack_from(directory, position)
        if header[0] != _CENTRAL_SIGNATURE:
            break
        position += _CENTRAL.size + header[12] + header[13] + header[14]
        count += 1
    return count


def read_member(archive: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes | None:
    """One member's bytes, or None when absent; refuses members that inflate past ``limit``."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise BadArchive(f"{archive.filename or 'archive'}!{name}: {info.file_size} bytes, over the {limit} limit")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except ZIP_ERRORS as exc:
        raise BadArchive(f"{archive.filename or 'archive'}!{name}: cannot be read ({exc})") from exc
    if len(data) > limit:
        raise BadArchive(f"{archive.filename or 'archive'}!{name}: inflates past the {limit} limit (zip bomb?)")
    return data


def read_text_member(host: Host, path: str, name: str) -> str | None:
    """A text member of a jar on the host, or None when the jar or member is missing."""
    try:
        with open_zip(host, path) as archive:
            data = read_member(archive, name)
    except (HostError, BadArchive):
        return None
    return None if data is None else decode_text(data)


def unsafe_member_names(archive: zipfile.ZipFile) -> list[str]:
    """Entries that would land outside the target if unpacked (``../`` or absolute names)."""
    bad = []
    for name in archive.namelist():
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            bad.append(name)
    return bad
