"""Read jars and wars through their central directory, with limits, never unpacking them."""

from __future__ import annotations

import zipfile
from contextlib import contextmanager
from typing import Iterator

from a2c.errors import HostError, InvalidFile
from a2c.hosts.base import Host, decode_text

MAX_MEMBER_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 200_000


class BadArchive(InvalidFile):
    """A jar/war that is truncated, not a zip, or unsafe to read."""


@contextmanager
def open_zip(host: Host, path: str) -> Iterator[zipfile.ZipFile]:
    stream = host.open(path)
    try:
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise BadArchive(f"{path}: not a readable jar/zip archive ({exc})", "Check the file on the host.") from exc
        archive.filename = path  # name the jar in messages, not the stream's file descriptor
        if len(archive.infolist()) > MAX_ENTRIES:
            raise BadArchive(f"{path}: more than {MAX_ENTRIES} entries; not read")
        with archive:
            yield archive
    finally:
        stream.close()


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
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted member ("password required").
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
