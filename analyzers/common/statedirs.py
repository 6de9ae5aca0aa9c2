"""Folders a process keeps its state in, and the evidence for each.

A server whose configuration names a data directory (``dataDir=``, ``-baseDir``, ``dataDirectory=``,
``-Dactivemq.data=``) exits in a container that lacks it ("Unable to access datadir"). Such a
folder must exist in the image, writable by the run-time user; its contents on the host are the
server's data, not the application, so they are not baked into the image by default, and a
deployment mounts the folder from a volume (EFS).

The rule here, one for every product rather than a list of them:

- a configuration key, system property, option or environment variable whose name's words say
  data, storage, database or state (``data``, ``storage``, ``db``, ``database``, ``state``,
  ``persistence``, ``journal``, ``spool``), or a work or base directory or a system home
  (``workDir``, ``baseDir``, ``derby.system.home``); not when its words also say temporary,
  cache, configuration, code or credentials, nor a log unless a data log (ZooKeeper's
  ``dataLogDir`` is its transaction log; a ``log.dir`` is a log folder, which logLocations handle);
- whose value is a path: absolute, or relative to the working directory (``./data``; a bare
  name only when the key says it names a folder or a file: ``dataDir=data``), after ``${…}``
  from the system properties and the environment, and without a ``file:`` prefix;
- an embedded database's JDBC URL, whatever its key (``jdbc:h2:file:/srv/db/app``);
- the folder is the path when that is a folder, its parent when it is a file or a file prefix
  (HSQLDB's ``file:/srv/db/mydb`` names mydb.script, mydb.properties, …); a path that does not
  exist on the host is no evidence (the process runs, so its data folder exists);
- and the folders of the regular files the process holds open for writing, logs and swap or pid
  files aside.

Which candidates an image honours (not the operating system, the Java runtime, log folders, nor
a folder that holds the application's code) is the caller's decision: see
``analyzers/java/processmode.py`` (persistent_storage).
"""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from a2c.analyzers.common.logfiles import is_log_name
from a2c.errors import HostError
from a2c.hosts.base import Host, decode_text, is_within, join

STATE_WORDS = frozenset({"data", "storage", "db", "database", "databases", "datastore", "state", "persistence",
                         "persistent", "journal", "spool"})
# Words that say the value is a location (a bare relative name counts then: dataDir=data).
DIR_WORDS = frozenset({"dir", "dirs", "directory", "directories", "path", "paths", "folder", "location", "home",
                       "root", "base"})
# Words that say the value names a file (or a prefix of files): the folder is its parent.
FILE_WORDS = frozenset({"file", "files", "prefix"})
# A state word beside one of these names something else: a temporary, cache, configuration or code
# location, a credential, an endpoint.
NOT_STATE_WORDS = frozenset({"tmp", "temp", "tmpdir", "cache", "conf", "config", "configuration", "lib", "libs",
                             "plugin", "plugins", "bin", "password", "passwd", "secret", "user", "url", "uri", "host",
                             "port", "driver", "key", "keystore", "truststore", "class", "classpath"})
LOG_WORDS = frozenset({"log", "logs", "logging", "logger"})
# Pairs that name a state folder without a state word: a work folder, a server's base folder for
# its files (H2's -baseDir), a system home (Derby's derby.system.home; not a product's install home).
STATE_PAIRS = frozenset({("work", "dir"), ("work", "directory"), ("work", "path"), ("base", "dir"),
                         ("base", "directory"), ("system", "home")})
_VOCABULARY = STATE_WORDS | DIR_WORDS | FILE_WORDS | NOT_STATE_WORDS | LOG_WORDS | {"work", "system"}
# Embedded databases whose JDBC URL names files on this host.
_JDBC = re.compile(r"jdbc:(?:h2|hsqldb|derby|sqlite):(?:(?:file|directory):)?(?P<path>[^;?\s]*)", re.IGNORECASE)
_BARE = re.compile(r"[\w.\-]+(?:/[\w.\-]+)*/?")
_VARIABLE = re.compile(r"\$\{(?:sys:|env:)?([^}:]+)(?::-?([^}]*))?\}")
MAX_VALUE = 4096
MAX_TOKEN = 64
MAX_CONFIG_READ = 1024 * 1024
MAX_SHOWN = 200
MAX_WRITTEN_SHOWN = 3


@dataclass
class Candidate:
    """A folder that looks like state, with why (``evidence``) and the files that said so."""

    path: str
    evidence: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # configuration files the evidence is from
    named: bool = False  # a key or an option names it (not only files open for writing in it)

    def add(self, evidence: str, source: str = "", named: bool = False) -> None:
        self.named = self.named or named
        if evidence not in self.evidence:
            self.evidence.append(evidence)
        if source and source not in self.sources:
            self.sources.append(source)


# -- the rule: names ------------------------------------------------------------------------------

def words(name: str) -> list[str]:
    """A key's words: ``dataLogDir`` -> data log dir, ``server.database.0`` -> server database 0,
    ``kahaDB.directory`` -> kaha db directory, ``datadir`` -> data dir (a run-together name is split
    only when it is made wholly of words this module knows)."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name))
    found: list[str] = []
    for token in re.split(r"[^a-z0-9]+", spaced.lower()):
        if token:
            found += _segment(token) or (token,)
    return found


@functools.lru_cache(maxsize=4096)
def _segment(token: str) -> tuple[str, ...] | None:
    """``token`` as known words (longest first), or None: ``datalogdir`` -> data log dir. Cached,
    and only for tokens of a key's length, so that a hostile run of words costs little."""
    if token in _VOCABULARY:
        return (token,)
    if len(token) > MAX_TOKEN:
        return None
    for cut in range(len(token) - 1, 0, -1):
        head, tail = token[:cut], token[cut:]
        if head in _VOCABULARY:
            rest = _segment(tail)
            if rest:
                return (head,) + rest
    return None


def names_state(name: str) -> bool:
    """Whether a key's name says its value is where the process keeps its data."""
    found = words(name)
    present = set(found)
    if present & NOT_STATE_WORDS or (present & LOG_WORDS and "data" not in present):
        return False
    return bool(present & STATE_WORDS) or any(pair in STATE_PAIRS for pair in zip(found, found[1:]))


# -- the rule: values -----------------------------------------------------------------------------

def resolve(value: str, props: Mapping[str, str]) -> str:
    """``${activemq.base}/data``, ``${env:DATA}``, ``${x:-default}`` from ``props``; "" when one stays unresolved."""
    resolved = _VARIABLE.sub(lambda m: props.get(m.group(1), m.group(2) if m.group(2) else "\0"), value)
    return "" if "\0" in resolved or "${" in resolved else resolved


def state_path(key: str, raw: str, cwd: str, props: Mapping[str, str]) -> tuple[str, bool] | None:
    """(absolute path, whether it names a file) that ``key=raw`` says holds state, else None."""
    if not raw or len(raw) > MAX_VALUE or any(ord(c) < 32 for c in raw):
        return None
    jdbc = _JDBC.match(raw.strip())
    if jdbc:
        return _embedded_database(jdbc.group("path"), cwd, props)
    if not names_state(key):
        return None
    key_words = set(words(key))
    value = resolve(raw.strip().strip("\"'"), props)
    names_file = bool(key_words & FILE_WORDS)
    if value.startswith("file:"):
        value, names_file = value[5:], True
        value = value[2:] if value.startswith("///") else value
    return _as_path(value, cwd, bare=names_file or bool(key_words & DIR_WORDS), names_file=names_file)


def _embedded_database(value: str, cwd: str, props: Mapping[str, str]) -> tuple[str, bool] | None:
    """An embedded database's files: ``jdbc:h2:file:./data/app`` -> (cwd/data/app, a file prefix).
    A server URL (``jdbc:h2:tcp://``, ``jdbc:derby://host``) or an in-memory one names no file here."""
    value = resolve(value, props)
    if value.startswith("//") or ":" in value:
        return None
    return _as_path(value, cwd, bare=False, names_file=True)


def _as_path(value: str, cwd: str, bare: bool, names_file: bool) -> tuple[str, bool] | None:
    """A value as an absolute path: absolute, ``./``-relative, or (``bare``) a plain relative name."""
    if not value or value.startswith(("~", "//")):
        return None
    if value.startswith("/"):
        return posixpath.normpath(value), names_file
    relative = value in (".", "..") or value.startswith(("./", "../"))
    if relative or (bare and _BARE.fullmatch(value) and not value.isdigit()
                    and value.lower() not in ("true", "false", "none", "null")):
        return join(cwd or "/", value), names_file
    return None


def folder_of(host: Host, path: str, names_file: bool) -> str | None:
    """The folder ``path`` stands for on the host: itself when a folder, its parent when a file or
    a prefix of files there (``/srv/db/mydb`` when ``/srv/db/mydb.script`` exists, or anything
    under a key that names a file); None when nothing of it exists."""
    try:
        st = host.stat(path)
        if st is not None:
            return path if st.kind == "dir" else posixpath.dirname(path) if st.kind == "file" else None
        parent, name = posixpath.split(path)
        if path == "/" or not host.is_dir(parent):
            return None
        if names_file or any(n.startswith(name + ".") for n in host.glob_names(parent)):
            return parent
    except (HostError, ValueError):
        return None
    return None


def shown(value: str) -> str:
    """A value as evidence: what precedes any ``;`` or ``?`` options (an H2 URL's ``;PASSWORD=``), cut short."""
    value = re.split(r"[;?]", value.strip(), maxsplit=1)[0]
    return value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…"


# -- evidence -------------------------------------------------------------------------------------

def argument_pairs(args: Iterable[str]) -> Iterator[tuple[str, str, str]]:
    """(name, value, how it was written) of a program's arguments: ``--opt=value``, ``-opt value``
    (HSQLDB's ``--database.0 file:…``, H2's ``-baseDir /srv/h2``) and ``key=value``."""
    args = list(args)
    for index, arg in enumerate(args):
        name, sep, value = arg.partition("=")
        if arg.startswith("-") and not sep and index + 1 < len(args) and not args[index + 1].startswith("-"):
            yield arg.lstrip("-"), args[index + 1], f"argument {arg} {shown(args[index + 1])}"
        elif sep and name:
            yield name.lstrip("-"), value, f"argument {name}={shown(value)}"


def config_pairs(host: Host, path: str) -> Iterator[tuple[str, str]]:
    """(key, value) of one configuration file, by its format: XML (attributes as ``element.attribute``,
    ``<property name= value=>``, text elements), YAML or JSON (dotted keys), else Java
    properties (``.cfg``, ``.properties``, ``.conf``, ``.ini``: ``key=value``, ``key: value``)."""
    from a2c.analyzers.common.properties import parse_properties, parse_yaml_flat

    try:
        data = host.read_bytes(path, limit=MAX_CONFIG_READ)
    except HostError:
        return
    if b"\0" in data[:8192]:
        return
    name = posixpath.basename(path).lower()
    if name.endswith((".xml", ".xsl")):
        yield from _xml_pairs(data, path)
    elif name.endswith((".yml", ".yaml", ".json")):
        yield from parse_yaml_flat(decode_text(data)).items()
    else:
        yield from parse_properties(decode_text(data)).items()


def _xml_pairs(data: bytes, path: str) -> Iterator[tuple[str, str]]:
    """``<broker dataDirectory=…>`` -> broker.dataDirectory; ``<kahaDB directory=…>`` -> kahaDB.directory;
    ``<property name="dataDir" value=…/>`` -> dataDir; ``<dataDir>…</dataDir>`` -> dataDir."""
    from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml

    try:
        root = parse_xml(data, path)
    except UnsafeXML:
        return
    for element in root.iter():
        tag = local_name(element)
        if not tag:
            continue
        attributes = {str(k).rpartition("}")[2]: str(v) for k, v in element.attrib.items()}
        named = attributes.get("name") or attributes.get("key")
        if named and "value" in attributes:
            yield named, attributes["value"]
        for attribute, value in attributes.items():
            if attribute not in ("name", "key", "value"):
                yield f"{tag}.{attribute}", value
        if len(element) == 0 and element.text and element.text.strip():
            yield tag, element.text.strip()


def find(host: Host, *, cwd: str, system_properties: Mapping[str, str], args: Iterable[str] = (),
         environment: Mapping[str, str] | None = None, config_files: Iterable[str] = (),
         written_files: Iterable[str] = (), skip_names: Iterable[str] = ()) -> list[Candidate]:
    """Every folder the evidence names, each once (by path, sorted), nested ones not merged yet."""
    environment = dict(environment or {})
    props = {**environment, **system_properties}
    found: dict[str, Candidate] = {}

    def named(key: str, value: str, evidence: str, source: str = "") -> None:
        located = state_path(key, value, cwd, props)
        if located is None:
            return
        folder = folder_of(host, *located)
        if folder is not None:
            suffix = " (the folder of the files it names)" if folder != located[0] else ""
            found.setdefault(folder, Candidate(folder)).add(evidence + suffix, source, named=True)

    for key, value in system_properties.items():
        named(key, value, f"-D{key}={shown(value)}")
    for key, value, how in argument_pairs(args):
        named(key, value, how)
    for key, value in environment.items():
        named(key, value, f"environment {key}={shown(value)}")
    for path in dict.fromkeys(config_files):
        for key, value in config_pairs(host, path):
            named(key, value, f"{key}={shown(value)} in {path}", path)
    for folder, files in written_folders(host, written_files, skip_names).items():
        more = f" and {len(files) - MAX_WRITTEN_SHOWN} more" if len(files) > MAX_WRITTEN_SHOWN else ""
        found.setdefault(folder, Candidate(folder)).add(
            f"open for writing: {', '.join(files[:MAX_WRITTEN_SHOWN])}{more}")
    return [found[path] for path in sorted(found)]


def written_folders(host: Host, written_files: Iterable[str], skip_names: Iterable[str] = ()) -> dict[str, list[str]]:
    """{folder: the files in it the process holds open for writing}, logs and ``skip_names``
    (swap, pid files) aside: a log's folder is logLocations' business."""
    skip = tuple(skip_names)
    folders: dict[str, list[str]] = {}
    for path in sorted(set(written_files)):
        if not path.startswith("/") or any(ord(c) < 32 for c in path):
            continue
        name = posixpath.basename(path)
        if is_log_name(name) or any(fnmatch.fnmatchcase(name, pattern) for pattern in skip):
            continue
        folders.setdefault(posixpath.dirname(posixpath.normpath(path)), []).append(path)
    return folders


def merge_nested(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per outermost folder, holding the evidence of the folders inside it
    (``${activemq.data}/kahadb`` inside ``activemq.data``; ZooKeeper's version-2 inside dataDir)."""
    merged: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: c.path):
        outer = next((m for m in merged if is_within(candidate.path, m.path)), None)
        if outer is None:
            merged.append(Candidate(candidate.path, list(candidate.evidence), list(candidate.sources), candidate.named))
            continue
        outer.named = outer.named or candidate.named
        for evidence in candidate.evidence:  # say where inside, unless the evidence names it already
            outer.add(evidence if candidate.path + "/" in evidence else f"{evidence} (inside it: {candidate.path})")
        outer.sources += [s for s in candidate.sources if s not in outer.sources]
    return merged
