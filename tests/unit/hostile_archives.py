"""Hostile extraction archives and snapshots for ``a2c.archive`` and ``SnapshotHost``.

The small cases are committed under ``fixtures/hostile/archives-extract/``
(``python3 tests/unit/hostile_archives.py`` rewrites them, byte for byte); the big ones (a
gzip of zeros, millions of entries) are built by tests in ``tmp_path`` with these functions.
Standard library only; every archive is a plain tar with fixed times, so output is stable.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "fixtures" / "hostile" / "archives-extract"
APP_ID = "java-tomcat-1dd8e7ba"
FIXED_TIME = 1704067200  # 2024-01-01
BLOCK = 512

# A valid analysis of the tomcat-host snapshot's Tomcat, cut to what the schema and the Tomcat
# analyzer's plan need. Tests point its folders elsewhere to aim at the worker's files.
DIRECTORIES = {
    "base": "/opt/tomcat", "bin": "/opt/tomcat/bin", "conf": "/opt/tomcat/conf", "home": "/opt/tomcat",
    "lib": "/opt/tomcat/lib", "logConfig": "/opt/tomcat/conf/logging.properties", "logs": "/opt/tomcat/logs",
    "tempDir": "/opt/tomcat/temp", "webapps": "/opt/tomcat/webapps", "work": "/opt/tomcat/work",
}


def analysis(app_id: str = APP_ID, directories: dict[str, str] | None = None) -> dict[str, Any]:
    """The analysis.json of the tomcat-host snapshot (as ``a2c analyze`` writes it), for ``app_id``."""
    path = ROOT / "fixtures" / "hostile" / "archives-extract" / "analysis-base.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["analysisInfo"]["appId"] = app_id
    if directories is not None:
        document["analysisInfo"]["AdvancedAppInfo"]["Directories"] = directories
    return document


def host_json() -> dict[str, Any]:
    return {"hostname": "tomcat-host", "osRelease": {"ID": "debian", "VERSION_ID": "12"},
            "processes": [{"pid": 4242, "cmdline": ["/usr/bin/java"], "exe": "/usr/bin/java", "cwd": "/opt/tomcat",
                           "username": "tomcat", "uid": 997, "gid": 997, "listening": [{"port": 8080}]}]}


# -- entries ---------------------------------------------------------------------------------
def _info(name: str, kind: bytes, size: int = 0, mode: int = 0o644, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode, info.linkname = kind, size, mode, linkname
    info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_TIME, 0, 0, "root", "root"
    return info


def file_entry(name: str, data: bytes | str, mode: int = 0o644) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return _info(name, tarfile.REGTYPE, len(raw), mode).tobuf(tarfile.PAX_FORMAT) + raw + _pad(len(raw))


def json_entry(name: str, document: Any) -> bytes:
    return file_entry(name, json.dumps(document, indent=1))


def dir_entry(name: str, mode: int = 0o755) -> bytes:
    return _info(name.rstrip("/") + "/", tarfile.DIRTYPE, mode=mode).tobuf(tarfile.PAX_FORMAT)


def symlink_entry(name: str, target: str) -> bytes:
    return _info(name, tarfile.SYMTYPE, linkname=target, mode=0o777).tobuf(tarfile.PAX_FORMAT)


def hardlink_entry(name: str, target: str) -> bytes:
    return _info(name, tarfile.LNKTYPE, linkname=target).tobuf(tarfile.PAX_FORMAT)


def sparse_entry(name: str, chunks: list[tuple[int, bytes]], real_size: int) -> bytes:
    """An old-GNU sparse member (type 'S'): only ``chunks`` are stored, the rest are holes. Up to
    four chunks fit in the header, which is all these fixtures need."""
    assert len(chunks) <= 4
    stored = b"".join(data for _, data in chunks)
    header = bytearray(_info(name, tarfile.GNUTYPE_SPARSE, len(stored)).tobuf(tarfile.GNU_FORMAT))
    for index, (offset, data) in enumerate(chunks):
        position = 386 + 24 * index
        header[position:position + 12] = b"%011o\0" % offset
        header[position + 12:position + 24] = b"%011o\0" % len(data)
    header[482] = 0
    header[483:495] = b"%011o\0" % real_size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:BLOCK])
    return bytes(header) + stored + _pad(len(stored))


def _pad(size: int) -> bytes:
    return b"\0" * ((BLOCK - size % BLOCK) % BLOCK)


def tar_bytes(entries: Iterable[bytes]) -> bytes:
    return b"".join(entries) + b"\0" * (BLOCK * 2)


def metadata(app_id: str = APP_ID, document: dict[str, Any] | None = None,
             host: Any = None, manifest: Any = None) -> list[bytes]:
    """The three metadata files of an archive, valid unless told otherwise."""
    return [
        json_entry("a2c-extraction.json", manifest if manifest is not None else
                   {"applicationId": app_id, "a2cVersion": "0", "format": 1}),
        json_entry("analysis.json", document if document is not None else analysis(app_id)),
        json_entry("host.json", host if host is not None else host_json()),
    ]


def tomcat_files(home: str = "/opt/tomcat") -> list[bytes]:
    return [
        dir_entry("files"),
        dir_entry(f"files{home}/conf"),
        file_entry(f"files{home}/conf/server.xml",
                   '<Server port="-1"><Service name="Catalina"><Connector port="8080"/>'
                   '<Engine name="Catalina" defaultHost="localhost"><Host name="localhost" appBase="webapps"/>'
                   "</Engine></Service></Server>\n"),
        file_entry(f"files{home}/webapps/ROOT/index.html", "hello from the archive\n"),
    ]


def write(path: Path, entries: Iterable[bytes], compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = tar_bytes(entries)
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


# -- the cases -------------------------------------------------------------------------------
def valid(path: Path, app_id: str = APP_ID) -> Path:
    """A small, good archive: the control case."""
    return write(path, metadata(app_id) + tomcat_files())


def files_link_to_root(path: Path, worker_dir: str = "/etc") -> Path:
    """``files`` is a link to ``/`` and the analysis aims at ``worker_dir``: unpacked naively, the
    build would read the worker's own files."""
    dirs = {key: worker_dir for key in DIRECTORIES}
    return write(path, metadata(document=analysis(directories=dirs)) + [symlink_entry("files", "/")])


def metadata_link(path: Path, name: str, target: str = "/etc/hostname") -> Path:
    """One metadata file (analysis.json, host.json, a2c-extraction.json) is a link to ``target``."""
    entries = [e for e, n in zip(metadata(), ("a2c-extraction.json", "analysis.json", "host.json")) if n != name]
    return write(path, entries + [symlink_entry(name, target)] + tomcat_files())


def metadata_hardlink(path: Path, name: str = "analysis.json", target: str = "/etc/hostname") -> Path:
    entries = [e for e, n in zip(metadata(), ("a2c-extraction.json", "analysis.json", "host.json")) if n != name]
    return write(path, entries + [hardlink_entry(name, target)] + tomcat_files())


def escaping_links(path: Path, worker_dir: str) -> Path:
    """Links under ``files/`` that, followed by the operating system, would leave the unpack folder:
    an absolute one to the worker's ``worker_dir``, a relative one climbing out, one to ``/``."""
    return write(path, metadata() + tomcat_files() + [
        symlink_entry("files/opt/tomcat/lib", worker_dir),
        symlink_entry("files/opt/tomcat/logs", "../../../../../../../../../../.." + worker_dir),
        symlink_entry("files/opt/root", "/"),
        symlink_entry("files/opt/tomcat/conf/worker.xml", worker_dir + "/server.xml"),
    ])


def link_order_escape(path: Path, depth: int = 8) -> Path:
    """A link that stays inside when it is created but leaves once a later link changes the folder
    it climbs from (``b`` turns into ``/``, so ``a``'s ``..`` climb from files/ itself)."""
    folder = "files/x/d1/d2/d3"
    up = "/".join([".."] * 4)
    climb = "/".join([".."] * depth)
    return write(path, metadata() + tomcat_files() + [
        dir_entry(folder),
        symlink_entry(f"{folder}/a", f"b/{up}/y"),
        symlink_entry(f"{folder}/b", "/"),
        symlink_entry(f"{folder}/c", f"b/{climb}/etc/hostname"),
    ])


def link_chain(path: Path) -> Path:
    """Links made the way a host has them (absolute, relative, chained, ``link/..``): all must
    resolve as on the host, inside the unpacked files."""
    return write(path, metadata() + tomcat_files() + [
        dir_entry("files/usr/lib/jvm/java-17/bin"),
        file_entry("files/usr/lib/jvm/java-17/bin/java", "#!/bin/sh\n", 0o755),
        file_entry("files/usr/lib/jvm/java-17/release", 'JAVA_VERSION="17"\n'),
        dir_entry("files/usr/bin"),
        symlink_entry("files/usr/bin/java", "/usr/lib/jvm/java-17/bin/java"),
        symlink_entry("files/usr/bin/jdk", "../lib/jvm/java-17"),
        symlink_entry("files/usr/bin/jdk-chain", "jdk"),
        symlink_entry("files/usr/bin/release", "jdk/bin/../release"),
        symlink_entry("files/usr/bin/too-high", "../../../../../../usr/lib/jvm/java-17/release"),
        symlink_entry("files/etc", "/no/such/dir"),
        symlink_entry("files/usr/bin/loop1", "loop2"),
        symlink_entry("files/usr/bin/loop2", "loop1"),
    ])


def sparse_bomb(path: Path, real_size: int = 1100 * 1024 * 1024) -> Path:
    """A few KiB of data declaring a 1.1 GB file: written out in full, it fills the worker's disk."""
    return write(path, metadata() + tomcat_files() + [
        sparse_entry("files/opt/tomcat/webapps/ROOT/big.bin", [(0, b"start"), (real_size - 3, b"end")], real_size),
    ])


def sparse_small(path: Path, real_size: int = 40 * 1024 * 1024) -> Path:
    """A legitimate sparse file well inside the limits: it must unpack with its holes kept."""
    return write(path, metadata() + tomcat_files() + [
        sparse_entry("files/opt/tomcat/data/db.bin", [(4096, b"page-one"), (real_size - 4, b"last")], real_size),
    ])


def with_app_id(path: Path, app_id: str, analysis_id: str | None = None) -> Path:
    """The manifest names ``app_id``; analysis.json names ``analysis_id`` (default the same)."""
    document = analysis(analysis_id if analysis_id is not None else app_id)
    return write(path, metadata(app_id, document=document,
                                manifest={"applicationId": app_id, "a2cVersion": "0", "format": 1}) + tomcat_files())


def with_host_json(path: Path, host: Any) -> Path:
    return write(path, metadata(host=host) + tomcat_files())


def with_analysis(path: Path, document: dict[str, Any]) -> Path:
    return write(path, metadata(document=document) + tomcat_files())


def huge_field(path: Path, size: int = 50 * 1024 * 1024) -> Path:
    """analysis.json with a ``size``-character value where an integer belongs (built in tmp_path)."""
    document = analysis()
    document["analysisInfo"]["processId"] = "9" * 20 + "A" * size
    return with_analysis(path, document)


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b"\0" * count
        self.left -= count
        return count


def zero_bomb(path: Path, size: int = 256 * 1024 * 1024) -> Path:
    """A tar.gz whose one file is ``size`` zero bytes (about 1/1000 of that on disk)."""
    with gzip.open(path, "wb", compresslevel=1) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        for name, document in (("a2c-extraction.json", {"applicationId": APP_ID, "a2cVersion": "0", "format": 1}),
                               ("analysis.json", analysis()), ("host.json", host_json())):
            data = json.dumps(document).encode()
            tar.addfile(_info(name, tarfile.REGTYPE, len(data)), io.BytesIO(data))
        tar.addfile(_info("files/opt/tomcat/webapps/ROOT/zeros.bin", tarfile.REGTYPE, size), io.BufferedReader(_Zeros(size)))
    return path


def many_members(path: Path, count: int) -> Path:
    """A tar.gz of ``count`` empty folders after the metadata: small on disk, costly to list."""
    template = _info("files/d00000000/", tarfile.DIRTYPE, mode=0o755).tobuf(tarfile.USTAR_FORMAT)
    with gzip.open(path, "wb", compresslevel=1) as raw:
        raw.write(b"".join(metadata()))
        for index in range(count):
            header = bytearray(template)
            header[7:15] = b"%08d" % index  # same length as the template's name: the rest stays
            header[148:156] = b" " * 8
            header[148:156] = b"%06o\0 " % sum(header)
            raw.write(header)
        raw.write(b"\0" * (BLOCK * 2))
    return path


# -- committed fixtures ------------------------------------------------------------------------
def main(out: Path = HERE) -> list[Path]:
    """Write the committed small cases into ``out``."""
    cases = {
        "valid.tar": valid,
        "files-link-to-root.tar": files_link_to_root,
        "analysis-link.tar": lambda p: metadata_link(p, "analysis.json"),
        "host-json-link.tar": lambda p: metadata_link(p, "host.json"),
        "manifest-link.tar": lambda p: metadata_link(p, "a2c-extraction.json"),
        "analysis-hardlink.tar": metadata_hardlink,
        "escaping-links.tar": lambda p: escaping_links(p, "/etc"),
        "link-order-escape.tar": link_order_escape,
        "link-chain.tar": link_chain,
        "sparse-bomb.tar": sparse_bomb,
        "sparse-small.tar": sparse_small,
        "app-id-inventory.tar": lambda p: with_app_id(p, "inventory.json"),
        "app-id-log.tar": lambda p: with_app_id(p, "log"),
        "app-id-newline.tar": lambda p: with_app_id(p, "java-tomcat-1\nx"),
        "app-id-nul.tar": lambda p: with_app_id(p, "java-tomcat-1\0x"),
        "app-id-long.tar": lambda p: with_app_id(p, "a" * 300),
        "app-id-mismatch.tar": lambda p: with_app_id(p, APP_ID, "java-tomcat-00000000"),
        "host-json-list.tar": lambda p: with_host_json(p, []),
        "host-json-no-pid.tar": lambda p: with_host_json(p, {"processes": [{"cmdline": ["java"]}]}),
        "host-json-pid-string.tar": lambda p: with_host_json(p, {"processes": [{"pid": "x"}]}),
    }
    written = []
    for name, make in cases.items():
        written.append(make(out / name))
    return written


if __name__ == "__main__":
    for written_path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written_path)
