"""The only module that reads and writes a2c's JSON files.

Every read is validated against the JSON Schema shipped in ``a2c/schemas`` and a bad field
is reported by file name and JSON path; every write is atomic (temp file + rename), so a
command interrupted half way leaves the previous file, never half a file.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import functools
import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Mapping

from a2c.errors import MAX_ECHO, AppNotFound, InvalidFile, WorkspaceError, excerpt, quoted
from a2c.model import InventoryEntry

INVENTORY = "inventory.json"
ANALYSIS = "analysis.json"
DEPLOYMENT = "deployment.json"
PIPELINE = "pipeline.json"


@functools.lru_cache(maxsize=None)
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("a2c.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


# Workspace documents are a few levels deep; deeper ones are refused before anything recurses over them.
MAX_JSON_DEPTH = 32
# What an error message may echo of a field or value (a 50 MB field must not become a 50 MB message).


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{excerpt(str(part), 80)}"
    return path


def json_depth(document: Any) -> int:
    """How deeply lists and objects nest (0 for a scalar), without recursion."""
    deepest = 0
    pending = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:  # past the limit the answer is already known
            pending.extend((child, depth + 1) for child in children)
    return deepest


# Where plugins add sections to a document: deployment targets at the top of deployment.json,
# analyzers inside analysisInfo.
SECTION_PARENT = {"deployment": (), "analysis": ("analysisInfo",)}


def schema_with(schema_name: str, sections: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """A schema with properties added (or replaced) by plugins: each deployment target brings its
    section of deployment.json, an analyzer its section of analysisInfo."""
    schema = _schema(schema_name)
    if not sections:
        return schema

    def extended(node: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        if not path:
            return {**node, "properties": {**node["properties"], **sections}}
        child = node["properties"][path[0]]
        return {**node, "properties": {**node["properties"], path[0]: extended(child, path[1:])}}

    return extended(schema, SECTION_PARENT[schema_name])


def validate(document: Any, schema_name: str, source: str,
             sections: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Raise InvalidFile naming the file and the JSON path of the first bad field."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    if json_depth(document) > MAX_JSON_DEPTH:
        raise _too_deep(source)
    validator = Draft202012Validator(schema_with(schema_name, sections))
    error = best_match(validator.iter_errors(document))
    if error is None:
        return
    where = json_path(error.absolute_path)
    message = excerpt(error.message)
    if error.validator == "additionalProperties":
        message = f"unknown field: {message}"
    raise InvalidFile(f"{source}: {where}: {message}", f"Edit {source} and fix {where}, then run the command again.")


def _too_deep(source: str) -> InvalidFile:
    return InvalidFile(f"{source}: lists or objects nested more than {MAX_JSON_DEPTH} levels deep",
                       f"Fix the nesting in {source}, or delete it and run the step that writes it again.")


# -- writing ------------------------------------------------------------------------------------
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
WORKSPACE_ERRNOS = _NO_SPACE + _NOT_WRITABLE


def write_error(exc: OSError, path: str | os.PathLike[str]) -> WorkspaceError:
    """The WorkspaceError (exit 3, with what to do) for a failed write to ``path``."""
    where = Path(path).parent
    reason = exc.strerror or str(exc)
    if exc.errno in _NO_SPACE:
        hint = f"Free space on the file system holding {where} (or raise the quota), or pass --workspace DIR elsewhere."
    elif exc.errno in _NOT_WRITABLE:
        hint = f"Make {where} writable for this user, or pass --workspace with a writable folder."
    else:
        hint = "Check the workspace folder, or pass --workspace with another one."
    return WorkspaceError(f"cannot write {path}: {reason}", hint)


@contextlib.contextmanager
def _writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Every failure to write a workspace file becomes a WorkspaceError, in this one place."""
    try:
        yield
    except OSError as exc:
        raise write_error(exc, path) from exc


def _host_bytes(error: UnicodeError) -> tuple[bytes, int]:
    """Encoding error handler: a lone surrogate U+DC80..U+DCFF goes back to the byte it stands for
    (Python's surrogateescape); any other lone surrogate, which no byte sequence stands for, becomes U+FFFD."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start:error.end]
    out = b"".join(bytes([ord(c) - 0xDC00]) if 0xDC80 <= ord(c) <= 0xDCFF else "\ufffd".encode() for c in chunk)
    return out, error.end


codecs.register_error("a2c-host-bytes", _host_bytes)


def encode_json(document: Any) -> bytes:
    """UTF-8 JSON that never fails on a lone surrogate (psutil gives 'caf\\udce9' for a non-UTF-8
    environment; a properties file may hold \\uD800): the surrogate becomes the JSON escape
    ``\\udce9``, which reads back as the same string. Everything else stays plain UTF-8."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def encode_text(relative: str, text: str) -> bytes:
    """A generated text artifact as bytes.

    JSON artifacts get JSON escapes (see encode_json). Scripts, Dockerfiles and config files get
    back the host's original bytes: a value psutil decoded with surrogateescape (a non-UTF-8
    argument, path or environment value) is what the process really had, so the shell script
    or configuration must say exactly those bytes, not a readable imitation of them.
    """
    if relative.endswith(".json"):
        return text.encode("utf-8", "backslashreplace")
    return text.encode("utf-8", "a2c-host-bytes")


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    with _writing(path):
        _atomic_write(path, data, mode)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path, document: Any) -> None:
    atomic_write_bytes(path, encode_json(document))


def read_json(path: Path, schema_name: str, sections: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise InvalidFile(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                          f"Save {path} as UTF-8, or delete it and run the step that writes it again.") from exc
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}", "Check the workspace permissions.") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidFile(f"{path}: not valid JSON (line {getattr(exc, 'lineno', '?')}: {excerpt(str(exc))})",
                          f"Fix the JSON syntax in {path}, or delete it and run the step that writes it again.") from exc
    except RecursionError:  # thousands of nested brackets: the parser's own stack runs out
        raise _too_deep(str(path)) from None
    validate(document, schema_name, str(path), sections)
    return document


class Workspace:
    """A folder holding inventory.json, one folder per application, and log/."""

    def __init__(self, root: str | os.PathLike[str],
                 plugin_sections: Callable[[str], Mapping[str, Mapping[str, Any]]] | None = None) -> None:
        self.root = Path(root).expanduser().absolute()
        # schema name -> the sections installed plugins add to it (set by the Environment).
        self.plugin_sections = plugin_sections

    def _sections(self, schema: str, given: Mapping[str, Mapping[str, Any]] | None) -> Mapping[str, Mapping[str, Any]] | None:
        if given is not None or self.plugin_sections is None:
            return given
        return self.plugin_sections(schema)

    def ensure(self) -> "Workspace":
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "log").mkdir(exist_ok=True)
        except OSError as exc:
            hint = write_error(exc, self.root / "log").hint
            raise WorkspaceError(f"cannot create the workspace {self.root}: {exc.strerror}",
                                 f"{hint} (`a2c init` sets the default.)") from exc
        return self

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is the workspace folder or inside it."""
        candidate = os.path.abspath(os.fspath(path))
        return candidate == str(self.root) or candidate.startswith(str(self.root) + os.sep)

    def keep_previous(self, path: Path) -> None:
        """Copy a document to ``<name>.previous`` before it is rewritten (the user's last edit survives)."""
        if not path.is_file():
            return
        atomic_write_bytes(path.with_name(path.name + ".previous"), path.read_bytes())

    # -- paths -----------------------------------------------------------------------------
    @property
    def inventory_path(self) -> Path:
        return self.root / INVENTORY

    @property
    def log_path(self) -> Path:
        return self.root / "log" / "a2c.log"

    def app_dir(self, app_id: str) -> Path:
        from a2c.ids import application_id_problem

        problem = application_id_problem(app_id)  # one grammar for every way an id comes in
        if problem is not None:
            raise AppNotFound(f"{quoted(app_id)} is not an application id: it {problem}",
                              "Run `a2c inventory` to list the ids.")
        return self.root / app_id

    def artifacts_dir(self, app_id: str) -> Path:
        return self.app_dir(app_id) / "Artifacts"

    # -- inventory -------------------------------------------------------------------------
    def read_inventory(self) -> dict[str, InventoryEntry]:
        try:
            data = read_json(self.inventory_path, "inventory")
        except FileNotFoundError:
            raise WorkspaceError(f"no inventory in {self.root}", "Run `a2c inventory` first.") from None
        return {app_id: InventoryEntry.from_json(app_id, entry) for app_id, entry in data.items()}

    def write_inventory(self, entries: Mapping[str, InventoryEntry]) -> Path:
        atomic_write_json(self.inventory_path, {k: v.to_json() for k, v in sorted(entries.items())})
        return self.inventory_path

    def inventory_entry(self, app_id: str) -> InventoryEntry:
        entries = self.read_inventory()
        if app_id not in entries:
            known = ", ".join(sorted(entries)) or "none"
            raise AppNotFound(f"unknown application id {app_id!r} (known: {known})",
                              "Run `a2c inventory` to list the applications on this host.")
        return entries[app_id]

    # -- per-application documents -----------------------------------------------------------
    def _read_app_doc(self, app_id: str, filename: str, schema: str, missing_hint: str,
                      sections: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        path = self.app_dir(app_id) / filename
        try:
            return read_json(path, schema, self._sections(schema, sections))
        except FileNotFoundError:
            raise AppNotFound(f"no {filename} for {app_id} in {self.root}", missing_hint) from None

    def read_analysis(self, app_id: str) -> dict[str, Any]:
        return self._read_app_doc(app_id, ANALYSIS, "analysis", f"Run `a2c analyze --application-id {app_id}` first.")

    def write_analysis(self, app_id: str, document: Mapping[str, Any]) -> Path:
        path = self.app_dir(app_id) / ANALYSIS
        validate(document, "analysis", str(path), self._sections("analysis", None))
        atomic_write_json(path, document)
        return path

    def has(self, app_id: str, filename: str) -> bool:
        return (self.app_dir(app_id) / filename).is_file()

    def read_deployment(self, app_id: str, sections: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """deployment.json, validated with the sections of the registered targets."""
        return self._read_app_doc(app_id, DEPLOYMENT, "deployment",
                                  f"Run `a2c containerize --application-id {app_id}` first.", sections)

    def write_deployment(self, app_id: str, document: Mapping[str, Any],
                         sections: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
        path = self.app_dir(app_id) / DEPLOYMENT
        validate(document, "deployment", str(path), self._sections("deployment", sections))
        atomic_write_json(path, document)
        return path

    def read_pipeline(self, app_id: str) -> dict[str, Any]:
        """pipeline.json, validated (what a schema cannot say is checked by a2c.pipelines.pipelinejson)."""
        return self._read_app_doc(app_id, PIPELINE, "pipeline",
                                  f"Run `a2c generate app-deployment --application-id {app_id}` first.")

    def write_pipeline(self, app_id: str, document: Mapping[str, Any]) -> Path:
        path = self.app_dir(app_id) / PIPELINE
        validate(document, "pipeline", str(path))
        atomic_write_json(path, document)
        return path

    def copy_stream(self, base: Path, relative: str, source: Any) -> Path:
        """Stream one file into a folder of the workspace (no whole-file copy in memory), atomically."""
        target = (base / relative).resolve()
        if not str(target).startswith(str(base.resolve()) + os.sep):
            raise WorkspaceError(f"refusing to write {relative} outside {base}")
        with _writing(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                _copy_chunks(source, handle, target)
            with _writing(target):
                os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def write_files(self, base: Path, files: Mapping[str, str | bytes], executable: tuple[str, ...] = ()) -> list[Path]:
        """The one place generated artifacts land on disk, each file atomically."""
        written = []
        for relative, content in sorted(files.items()):
            target = (base / relative).resolve()
            if not str(target).startswith(str(base.resolve()) + os.sep):
                raise WorkspaceError(f"refusing to write {relative} outside {base}")
            data = encode_text(relative, content) if isinstance(content, str) else content
            atomic_write_bytes(target, data, 0o755 if relative in executable else 0o644)
            written.append(target)
        return written


def _copy_chunks(source: BinaryIO, handle: BinaryIO, target: Path) -> None:
    """Copy in 1 MiB chunks; only the writes are workspace failures (a read error is the source's)."""
    while True:
        chunk = source.read(1024 * 1024)
        if not chunk:
            return
        with _writing(target):
            handle.write(chunk)
