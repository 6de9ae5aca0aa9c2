"""The only module that reads and writes a2c's JSON files.

Every read is validated against the JSON Schema shipped in ``a2c/schemas`` and a bad field
is reported by file name and JSON path; every write is atomic (temp file + rename), so a
command interrupted half way leaves the previous file, never half a file.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from a2c.errors import AppNotFound, InvalidFile, WorkspaceError
from a2c.model import InventoryEntry

INVENTORY = "inventory.json"
ANALYSIS = "analysis.json"
DEPLOYMENT = "deployment.json"


@functools.lru_cache(maxsize=None)
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("a2c.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(document: Any, schema_name: str, source: str) -> None:
    """Raise InvalidFile naming the file and the JSON path of the first bad field."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(_schema(schema_name))
    error = best_match(validator.iter_errors(document))
    if error is None:
        return
    where = json_path(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        message = f"unknown field: {message}"
    raise InvalidFile(f"{source}: {where}: {message}", f"Edit {source} and fix {where}, then run the command again.")


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
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
    atomic_write_bytes(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def read_json(path: Path, schema_name: str) -> Any:
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
        raise InvalidFile(f"{path}: not valid JSON (line {getattr(exc, 'lineno', '?')}: {exc})",
                          f"Fix the JSON syntax in {path}, or delete it and run the step that writes it again.") from exc
    validate(document, schema_name, str(path))
    return document


class Workspace:
    """A folder holding inventory.json, one folder per application, and log/."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def ensure(self) -> "Workspace":
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "log").mkdir(exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create the workspace {self.root}: {exc.strerror}",
                                 "Choose another folder with --workspace or `a2c init`.") from exc
        return self

    # -- paths -----------------------------------------------------------------------------
    @property
    def inventory_path(self) -> Path:
        return self.root / INVENTORY

    @property
    def log_path(self) -> Path:
        return self.root / "log" / "a2c.log"

    def app_dir(self, app_id: str) -> Path:
        if not app_id or "/" in app_id or app_id.startswith("."):
            raise AppNotFound(f"{app_id!r} is not an application id", "Run `a2c inventory` to list the ids.")
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
    def _read_app_doc(self, app_id: str, filename: str, schema: str, missing_hint: str) -> dict[str, Any]:
        path = self.app_dir(app_id) / filename
        try:
            return read_json(path, schema)
        except FileNotFoundError:
            raise AppNotFound(f"no {filename} for {app_id} in {self.root}", missing_hint) from None

    def read_analysis(self, app_id: str) -> dict[str, Any]:
        return self._read_app_doc(app_id, ANALYSIS, "analysis", f"Run `a2c analyze --application-id {app_id}` first.")

    def write_analysis(self, app_id: str, document: Mapping[str, Any]) -> Path:
        path = self.app_dir(app_id) / ANALYSIS
        validate(document, "analysis", str(path))
        atomic_write_json(path, document)
        return path

    def has(self, app_id: str, filename: str) -> bool:
        return (self.app_dir(app_id) / filename).is_file()

    def read_deployment(self, app_id: str) -> dict[str, Any]:
        return self._read_app_doc(app_id, DEPLOYMENT, "deployment",
                                  f"Run `a2c containerize --application-id {app_id}` first.")

    def write_deployment(self, app_id: str, document: Mapping[str, Any]) -> Path:
        path = self.app_dir(app_id) / DEPLOYMENT
        validate(document, "deployment", str(path))
        atomic_write_json(path, document)
        return path

    def copy_stream(self, base: Path, relative: str, source: Any) -> Path:
        """Stream one file into a folder of the workspace (no whole-file copy in memory), atomically."""
        target = (base / relative).resolve()
        if not str(target).startswith(str(base.resolve()) + os.sep):
            raise WorkspaceError(f"refusing to write {relative} outside {base}")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle, 1024 * 1024)
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
            data = content.encode("utf-8") if isinstance(content, str) else content
            atomic_write_bytes(target, data, 0o755 if relative in executable else 0o644)
            written.append(target)
        return written
