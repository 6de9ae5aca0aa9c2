"""Read jars and wars through their central directory, with limits, never unpacking them.

Two readers share the end-record logic and the limits (``MAX_ENTRIES``,
``MAX_CENTRAL_DIRECTORY_BYTES``, members refused past a size):

- ``open_zip`` / ``open_zip_stream`` / ``read_member``: a ``zipfile.ZipFile``, after
  ``check_central_directory`` has refused an over-limit archive from its end records. For an
  analyzer reading a few members of one archive.
- ``read_directory`` / ``ZipDirectory``: the central directory itself, for scanning many jars
  (the SBOM). One read of the archive's tail (the end records, and the directory too when it is
  within the last 64 KiB), at most one more read of the directory, one pass over its headers
  that keeps only the raw names and where each header is, and then only the members asked
  for: no ``ZipInfo`` per entry, no name decoded that nobody asked for. Members are STORED or
  DEFLATED (what a JVM reads), inflated with a bound on the output, CRC-checked when read whole.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Iterable, Iterator

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
# What the walk over the directory needs of each header: signature, version needed to extract,
# the lengths of name, extra field and comment.
_CENTRAL_WALK = struct.Struct("<4s2xB21x3H")
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_LOCAL_SIGNATURE = b"PK\x03\x04"
# The end record, the longest comment after it and the zip64 records before it: the archive's
# tail read once holds all three (and, for most jars, the central directory as well).
_TAIL_BYTES = _EOCD.size + (1 << 16) + _LOCATOR.size + _EOCD64.size
_MAX_EXTRACT_VERSION = 63  # zipfile's limit too (zip 6.3)
_CHUNK = 64 * 1024


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
    try:
        found = _end_records(stream)
    except BadArchive as exc:
        raise BadArchive(f"{label}: {exc.message}") from exc
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
    file_size = stream.seek(0, 2)
    window = min(file_size, _TAIL_BYTES)
    stream.seek(file_size - window)
    found = _parse_end(stream.read(window), file_size - window)
    return None if found is None else found[:3]


def _parse_end(tail: bytes, tail_start: int) -> tuple[int, int, int, int] | None:
    """(declared entries, central directory size, its start, the start offset it declares) from
    the archive's last bytes, found the way zipfile finds them; None without an end record.

    An archive whose end record is cut (fewer bytes than it needs) has none. The zip64 records,
    when the locator is right before the end record, replace its counts.
    """
    at = len(tail) - _EOCD.size
    if not (at >= 0 and tail[at:at + 4] == _EOCD_SIGNATURE and tail[-2:] == b"\0\0"):
        at = tail.rfind(_EOCD_SIGNATURE, max(0, len(tail) - _EOCD.size - (1 << 16)))
        if at < 0 or at + _EOCD.size > len(tail):
            return None
    record = _EOCD.unpack_from(tail, at)
    entries, size, offset = record[4], record[5], record[6]
    location = tail_start + at
    zip64 = _zip64_record(tail, at)
    if zip64 is not None:
        entries, size, offset = zip64
        location -= _LOCATOR.size + _EOCD64.size
    return entries, size, location - size, offset


def _zip64_record(tail: bytes, eocd_at: int) -> tuple[int, int, int] | None:
    """(entries, size, offset) from the zip64 end record just before the locator, the way zipfile reads it."""
    start = eocd_at - _LOCATOR.size - _EOCD64.size
    if start < 0:
        return None
    if tail[start + _EOCD64.size:start + _EOCD64.size + 4] != _LOCATOR_SIGNATURE:
        return None
    _, disk, _, disks = _LOCATOR.unpack_from(tail, start + _EOCD64.size)
    if disk != 0 or disks > 1:
        raise BadArchive("a zip spanning several disks; not read")
    record = _EOCD64.unpack_from(tail, start)
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
    return unsafe_names(archive.namelist())


def unsafe_names(names: Iterable[str]) -> list[str]:
    """Of ``names``, those that would land outside the target if unpacked."""
    bad = []
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            bad.append(name)
    return bad


# -- the central directory, without zipfile -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member, from its central directory header (sizes and offset after any zip64 field)."""

    index: int
    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compress_size: int
    file_size: int
    header_offset: int  # from the start of the archive's own bytes (what was prepended is skipped)


class ZipDirectory:
    """The central directory of one archive: every member's raw name, and its header on demand.

    ``raw_names`` are the names' bytes as stored, in directory order (duplicates kept): tests
    against ASCII prefixes and suffixes need no decoding, since neither UTF-8 nor cp437 maps
    other bytes to ASCII. ``entry(i)`` parses one header; ``read(entry, …)`` reads one member.
    The archive is ``length`` bytes of ``stream`` from ``base``: a whole file, or a STORED jar
    inside another, read in place.
    """

    __slots__ = ("label", "raw_names", "_stream", "_base", "size", "_directory", "_offsets", "_concat", "_joined")

    def __init__(self, label: str, stream: IO[bytes], base: int, size: int, directory: bytes,
                 offsets: list[int], raw_names: list[bytes], concat: int) -> None:
        self.label = label
        self.raw_names = raw_names
        self._stream, self._base, self.size = stream, base, size
        self._directory, self._offsets, self._concat = directory, offsets, concat
        self._joined: bytes | None = None

    def __len__(self) -> int:
        return len(self.raw_names)

    def joined_names(self) -> bytes:
        """Every raw name, one per line: one ``in`` test tells whether any name holds a byte string."""
        if self._joined is None:
            self._joined = b"\n".join(self.raw_names)
        return self._joined

    def starting_with(self, prefix: bytes) -> list[int]:
        """The indexes of the members whose raw name starts with ``prefix`` (not empty, no newline),
        found in the joined names rather than name by name."""
        joined = self.joined_names()
        names = self.raw_names
        found: list[int] = []
        at = joined.find(prefix)
        if at < 0:
            return found
        if joined.count(b"\n") != len(names) - 1:  # a name holding a newline: one by one
            return [i for i, name in enumerate(names) if name.startswith(prefix)]
        index, counted = 0, 0
        while at >= 0:
            if at == 0 or joined[at - 1] == 0x0A:
                index += joined.count(b"\n", counted, at)
                counted = at
                found.append(index)
            at = joined.find(prefix, at + 1)
        return found

    def name(self, index: int) -> str:
        """A member's name, decoded the way zipfile decodes it (UTF-8 when flagged, else cp437)."""
        flags = self._directory[self._offsets[index] + 8] | self._directory[self._offsets[index] + 9] << 8
        return self.raw_names[index].decode("utf-8" if flags & 0x800 else "cp437", "replace")

    def names(self) -> list[str]:
        return [self.name(i) for i in range(len(self.raw_names))]

    def unsafe_names(self) -> list[str]:
        """Names that would land outside the target if unpacked; decoded only when one might be."""
        joined = self.joined_names()
        if not (b".." in joined or joined[:1] in (b"/", b"\\") or b"\n/" in joined or b"\\" in joined
                or b":" in joined):
            return []
        return unsafe_names(self.names())

    def find(self, raw_name: bytes) -> ZipEntry | None:
        """The member of that name (the last one, when the name repeats, as zipfile's getinfo)."""
        try:
            index = len(self.raw_names) - 1 - self.raw_names[::-1].index(raw_name)
        except ValueError:
            return None
        return self.entry(index)

    def entry(self, index: int) -> ZipEntry:
        """The full header of member ``index``; a zip64 extra field gives the sizes it replaces."""
        at = self._offsets[index]
        header = _CENTRAL.unpack_from(self._directory, at)
        flags, method, crc, compress_size, file_size = header[5], header[6], header[9], header[10], header[11]
        name_length, extra_length, offset = header[12], header[13], header[18]
        if 0xFFFFFFFF in (compress_size, file_size, offset):
            extra = self._directory[at + _CENTRAL.size + name_length:at + _CENTRAL.size + name_length + extra_length]
            file_size, compress_size, offset = _zip64_extra(extra, file_size, compress_size, offset, self.label,
                                                            self.raw_names[index])
        return ZipEntry(index, self.name(index), self.raw_names[index], flags, method, crc, compress_size, file_size,
                        offset + self._concat)

    def _read_at(self, offset: int, count: int) -> bytes:
        try:
            self._stream.seek(self._base + offset)
            return self._stream.read(count)
        except (OSError, ValueError) as exc:
            raise BadArchive(f"{self.label}: cannot be read ({exc})") from exc

    def _member(self, entry: ZipEntry, first: int) -> tuple[int, bytes]:
        """Where the member's data starts, and up to ``first`` of its bytes, read with its local header."""
        where = f"{self.label}!/{entry.name}"
        offset = entry.header_offset
        if offset < 0 or offset + _LOCAL.size > self.size:
            raise BadArchive(f"{where}: its local header is past the end of the archive (truncated?)")
        guess = _LOCAL.size + len(entry.raw_name) + 32 + first  # a local extra field is rarely longer
        data = self._read_at(offset, min(guess, self.size - offset))
        if len(data) < _LOCAL.size or data[:4] != _LOCAL_SIGNATURE:
            raise BadArchive(f"{where}: bad local file header")
        name_length, extra_length = _LOCAL.unpack_from(data)[9:11]
        start = offset + _LOCAL.size + name_length + extra_length
        if data[_LOCAL.size:_LOCAL.size + name_length] != entry.raw_name:
            raise BadArchive(f"{where}: the local header names another file")
        if start + entry.compress_size > self.size:
            raise BadArchive(f"{where}: runs past the end of the archive (truncated?)")
        head = data[start - offset:start - offset + first]
        if len(head) < min(first, entry.compress_size):
            head = self._read_at(start, min(first, entry.compress_size))
        return start, head

    def data_span(self, entry: ZipEntry) -> tuple[int, int]:
        """(start, length) of a member's stored bytes in the stream: a STORED jar read in place."""
        start, _ = self._member(entry, 0)
        return self._base + start, entry.compress_size

    def read(self, entry: ZipEntry, limit: int, *, head: bool = False) -> bytes:
        """A member's bytes; past ``limit`` it is refused, or with ``head`` cut (only its start is wanted).

        Never more than the member declares is inflated, and never more than ``limit`` + 1 bytes:
        a member that inflates past its declared size fails its CRC, one that claims more than the
        limit is refused before anything is read. Encrypted members and methods other than
        STORED and DEFLATED are refused.
        """
        where = f"{self.label}!/{entry.name}"
        if entry.flags & 0x1:
            raise BadArchive(f"{where}: encrypted; not read")
        if entry.flags & 0x60:
            raise BadArchive(f"{where}: patched or strongly encrypted data; not read")
        if entry.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BadArchive(f"{where}: compression method {entry.method} is not supported")
        if entry.file_size > limit and not head:
            raise BadArchive(f"{where}: {entry.file_size} bytes, over the {limit} limit")
        want = min(entry.file_size, limit + 1)
        if want == 0:  # an empty member: nothing to inflate (zlib would take 0 as "no bound")
            self._member(entry, 0)
            data, complete = b"", True
        elif entry.method == zipfile.ZIP_STORED:
            _, data = self._member(entry, min(want, entry.compress_size))
            complete = len(data) == entry.file_size
            if len(data) < want:
                raise BadArchive(f"{where}: cannot be read (its data ends early)")
        else:
            data, complete = self._inflate(entry, want, where)
        if complete and zlib.crc32(data) != entry.crc:
            raise BadArchive(f"{where}: cannot be read (bad CRC-32; its sizes or data are wrong)")
        if len(data) > limit:
            return data[:limit]
        return data

    def _inflate(self, entry: ZipEntry, want: int, where: str) -> tuple[bytes, bool]:
        """Up to ``want`` inflated bytes, and whether they are the whole member."""
        start, chunk = self._member(entry, min(entry.compress_size, _CHUNK))
        position, left = start + len(chunk), entry.compress_size - len(chunk)
        inflater = zlib.decompressobj(-15)
        parts: list[bytes] = []
        have = 0
        try:
            while True:
                part = inflater.decompress(chunk, want - have)
                parts.append(part)
                have += len(part)
                chunk = inflater.unconsumed_tail
                if have >= want or inflater.eof:
                    break
                if not chunk:
                    if left <= 0:
                        raise BadArchive(f"{where}: cannot be read (its compressed data ends early)")
                    chunk = self._read_at(position, min(left, _CHUNK))
                    if not chunk:
                        raise BadArchive(f"{where}: cannot be read (its compressed data ends early)")
                    position, left = position + len(chunk), left - len(chunk)
        except zlib.error as exc:
            raise BadArchive(f"{where}: cannot be read ({exc})") from exc
        data = b"".join(parts)
        return data, have == entry.file_size or inflater.eof


def _zip64_extra(extra: bytes, file_size: int, compress_size: int, offset: int, label: str,
                 name: bytes) -> tuple[int, int, int]:
    """The sizes and offset a zip64 extra field (id 1) holds for those set to 0xFFFFFFFF, as zipfile reads them."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4:position + 4 + length]
        if len(body) != length:
            raise BadArchive(f"{label}!/{name.decode('cp437')}: corrupt extra field")
        if kind == 1:
            values = list(struct.unpack_from(f"<{length // 8}Q", body)) if length >= 8 else []
            try:
                if file_size == 0xFFFFFFFF:
                    file_size = values.pop(0)
                if compress_size == 0xFFFFFFFF:
                    compress_size = values.pop(0)
                if offset == 0xFFFFFFFF:
                    offset = values.pop(0)
            except IndexError:
                raise BadArchive(f"{label}!/{name.decode('cp437')}: corrupt zip64 extra field") from None
            break
        position += 4 + length
    return file_size, compress_size, offset


def read_directory(stream: IO[bytes], label: str, *, base: int = 0, length: int | None = None) -> ZipDirectory:
    """The central directory of the archive in ``length`` bytes of ``stream`` from ``base``
    (the whole stream by default), within the limits; ``BadArchive`` when it cannot be read.

    Reads the tail once (the end records, and the directory when it lies within it), the
    directory itself only when it does not, then walks its headers by their lengths.
    """
    try:
        if length is None:
            length = stream.seek(0, 2) - base
        window = min(length, _TAIL_BYTES)
        tail_start = length - window
        stream.seek(base + tail_start)
        tail = stream.read(window)
        if len(tail) != window:
            raise BadArchive(f"{label}: shorter than it was a moment ago (truncated while read?)")
        try:
            found = _parse_end(tail, tail_start)
        except BadArchive as exc:
            raise BadArchive(f"{label}: {exc.message}") from exc
        if found is None:
            raise BadArchive(f"{label}: not a readable jar/zip archive (no end of central directory record; "
                             "truncated, empty or not a zip)", "Check the file on the host.")
        entries, size, start, declared_offset = found
        if entries > MAX_ENTRIES:
            raise _too_many(label)
        if size > MAX_CENTRAL_DIRECTORY_BYTES:
            raise BadArchive(f"{label}: central directory of {size} bytes, over the {MAX_CENTRAL_DIRECTORY_BYTES} limit")
        if start < 0:
            raise BadArchive(f"{label}: bad offset for the central directory", "Check the file on the host.")
        if start >= tail_start:  # the directory is in the tail already read: no second read
            directory = tail[start - tail_start:start - tail_start + size]
        else:
            stream.seek(base + start)
            directory = stream.read(size)
        if len(directory) != size:
            raise BadArchive(f"{label}: truncated central directory", "Check the file on the host.")
        offsets, names = _walk(directory, label)
    except BadArchive:
        raise
    except (OSError, ValueError, OverflowError, struct.error) as exc:
        raise BadArchive(f"{label}: not a readable jar/zip archive ({exc})", "Check the file on the host.") from exc
    return ZipDirectory(label, stream, base, length, directory, offsets, names, start - declared_offset)


def _walk(directory: bytes, label: str) -> tuple[list[int], list[bytes]]:
    """Where each header starts and its raw name; no more than ``MAX_ENTRIES`` of them."""
    offsets: list[int] = []
    names: list[bytes] = []
    add_offset, add_name = offsets.append, names.append
    unpack = _CENTRAL_WALK.unpack_from
    position, end = 0, len(directory)
    for _ in range(MAX_ENTRIES + 1):
        if position >= end:
            break
        if position + _CENTRAL.size > end:
            raise BadArchive(f"{label}: truncated central directory", "Check the file on the host.")
        signature, version, name_length, extra_length, comment_length = unpack(directory, position)
        if signature != _CENTRAL_SIGNATURE:
            raise BadArchive(f"{label}: bad magic number in the central directory", "Check the file on the host.")
        if version > _MAX_EXTRACT_VERSION:
            raise BadArchive(f"{label}: needs zip version {version / 10:.1f} to extract; not supported",
                             "Check the file on the host.")
        add_offset(position)
        start = position + _CENTRAL.size
        add_name(directory[start:start + name_length])
        position = start + name_length + extra_length + comment_length
    else:
        raise _too_many(label)
    return offsets, names
