"""Just enough of the PE format to tell a .NET assembly from a native executable.

A .NET assembly is a PE file whose optional header has a non-empty data directory 14 (the
CLR runtime header). Only the headers are read, through the Host, with a bounded read: a
customer binary can be large or lie about its offsets.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from a2c.errors import HostError
from a2c.hosts.base import Host

HEADER_READ_LIMIT = 64 * 1024  # e_lfanew beyond this is not a PE file any tool produced
CLR_DIRECTORY = 14
PE32, PE32_PLUS = 0x10B, 0x20B
MACHINES = {0x14C: "x86", 0x8664: "x64", 0xAA64: "arm64", 0x1C4: "arm", 0x200: "ia64"}


@dataclass(frozen=True)
class PEInfo:
    machine: str
    pe32_plus: bool
    is_dll: bool
    clr_header: bool  # data directory 14 is non-empty: a .NET (managed) assembly

    def to_json(self) -> dict[str, object]:
        return {"machine": self.machine, "pe32Plus": self.pe32_plus, "dll": self.is_dll, "managed": self.clr_header}


def parse_pe_headers(data: bytes) -> PEInfo | None:
    """The PE facts from the first bytes of a file, or None when it is not a PE image."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    (e_lfanew,) = struct.unpack_from("<I", data, 0x3C)
    coff = e_lfanew + 4
    if e_lfanew < 0x40 or coff + 20 > len(data) or data[e_lfanew:coff] != b"PE\0\0":
        return None
    machine, _sections, _time, _symbols, _count, optional_size, characteristics = struct.unpack_from("<HHIIIHH", data, coff)
    optional = coff + 20
    if optional_size < 2 or optional + optional_size > len(data):
        return None
    (magic,) = struct.unpack_from("<H", data, optional)
    if magic == PE32:
        count_offset, directories = 92, 96
    elif magic == PE32_PLUS:
        count_offset, directories = 108, 112
    else:
        return None
    clr = False
    if count_offset + 4 <= optional_size:
        (count,) = struct.unpack_from("<I", data, optional + count_offset)
        entry = directories + CLR_DIRECTORY * 8
        if count > CLR_DIRECTORY and entry + 8 <= optional_size:
            rva, size = struct.unpack_from("<II", data, optional + entry)
            clr = rva != 0 and size != 0
    return PEInfo(
        machine=MACHINES.get(machine, hex(machine)),
        pe32_plus=magic == PE32_PLUS,
        is_dll=bool(characteristics & 0x2000),
        clr_header=clr,
    )


def read_pe_info(host: Host, path: str) -> PEInfo | None:
    """PE facts of a file on the host (None when unreadable or not a PE image)."""
    try:
        with host.open(path) as stream:
            data = stream.read(HEADER_READ_LIMIT)
    except (HostError, OSError):
        return None
    return parse_pe_headers(data)


def is_dotnet_assembly(host: Host, path: str) -> bool:
    info = read_pe_info(host, path)
    return info is not None and info.clr_header
