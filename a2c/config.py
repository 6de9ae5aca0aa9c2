"""The user's a2c configuration (written by ``a2c init``): workspace, AWS profile/region, bucket."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from a2c.errors import InvalidFile
from a2c.workspace import atomic_write_json, read_json

DEFAULT_WORKSPACE = "~/a2c"


def config_path() -> Path:
    return Path(os.environ.get("A2C_CONFIG") or "~/.a2c/config.json").expanduser()


@dataclass(frozen=True)
class Config:
    workspace: str = DEFAULT_WORKSPACE
    awsProfile: str = "default"
    awsRegion: str = ""
    s3Bucket: str = ""
    metricsReportPermission: bool = False
    dockerContentTrust: bool = False

    def to_json(self) -> dict:
        return {"a2CTemplateVersion": "1.0", **asdict(self)}


def load_config(path: Path | None = None) -> Config | None:
    path = path or config_path()
    try:
        data = read_json(path, "config")
    except FileNotFoundError:
        return None
    data.pop("a2CTemplateVersion", None)
    try:
        return Config(**data)
    except TypeError as exc:
        raise InvalidFile(f"{path}: {exc}", "Run `a2c init` again.") from exc


def save_config(config: Config, path: Path | None = None) -> Path:
    path = path or config_path()
    atomic_write_json(path, config.to_json())
    return path
