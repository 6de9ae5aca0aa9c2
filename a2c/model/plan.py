"""The build plan: what an image is, independent of any engine (Docker, a daemonless builder,
or a Windows container host that builds from written artifacts)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping


# The layer of the files the process had open or mapped that no analyzer's layer holds (planning);
# a builder may drop from it what the base image already holds byte for byte.
OPENED_LAYER = "opened"


@dataclass(frozen=True)
class CopyLayer:
    """Host paths copied into the image at the same absolute paths, as one image layer.

    ``link_roots`` names directories outside ``paths`` whose files may be copied in place of
    a symlink that points to them (Debian's Tomcat links its jars to /usr/share/java);
    any other link leaving the copied roots stays a link and is reported.
    """

    name: str
    paths: tuple[str, ...]
    excludes: tuple[str, ...] = ()
    link_roots: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()  # shell patterns matched against each file or folder name


@dataclass(frozen=True)
class BuildPlan:
    """Everything needed to build an image, independent of any engine.

    ``platform`` picks the builder: "linux" plans are built here by an engine; "windows" plans
    are written out as artifacts for a Windows container host. ``settings`` holds what a
    platform's renderer needs beyond these fields (an IIS site, a service account), as JSON data.
    """

    app_id: str
    base_image: str
    layers: tuple[CopyLayer, ...]
    entrypoint: tuple[str, ...]
    workdir: str = "/"
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()
    health_port: int = 0
    user: str = "10001:0"
    labels: Mapping[str, str] = field(default_factory=dict)
    # Files a2c writes (path -> content); they replace host files. Linux plans key them by their
    # path in the image; Windows plans by their path in the build context (Artifacts/).
    generated: Mapping[str, bytes] = field(default_factory=dict)
    # Directories the application writes to at run time (created empty, owned by the user).
    writable_dirs: tuple[str, ...] = ()
    # Generated files holding ${A2C_SECRET_…} placeholders, filled from the environment at start.
    render_at_start: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Links a2c puts in the image (path -> target), e.g. fixed log files -> /dev/stdout.
    symlinks: Mapping[str, str] = field(default_factory=dict)
    platform: str = "linux"
    settings: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> "BuildPlan":
        return dataclasses.replace(self, **changes)
