"""Files the process had open that the base image already holds, byte for byte: not copied.

The ``opened`` layer (planning.with_open_files) brings every file the process held open or
mapped outside the analyzer's own layers: a jar from /usr/share/java, a native library. When
the base image has the same file at the same path (the same Debian package on a Debian base),
copying it again only grows the image; a file of another size or content is copied, as the
application needs the host's. Only the opened layer is pruned: the analyzer's layers are the
application, whatever the base holds. Bounded: the first ``MAX_CHECKED`` files, ``MAX_BYTES``
read from the image in all.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Callable

from a2c.errors import HostError
from a2c.hosts.base import Host
from a2c.model import BuildPlan
from a2c.model.plan import OPENED_LAYER

MAX_CHECKED = 500
MAX_BYTES = 512 * 1024 * 1024

# (image, {path: size}, max bytes) -> {path: sha256} of the regular files the image holds
DigestsOf = Callable[[str, dict[str, int], int], dict[str, str]]


def without_base_files(plan: BuildPlan, host: Host, digests_of: DigestsOf) -> tuple[BuildPlan, list[str]]:
    """The plan without the opened files the base image holds identically, and a note for each."""
    layer = next((layer for layer in plan.layers if layer.name == OPENED_LAYER), None)
    if layer is None or plan.platform != "linux":
        return plan, []
    sizes: dict[str, int] = {}
    for path in layer.paths[:MAX_CHECKED]:
        try:
            st = host.lstat(path)
        except HostError:
            continue
        if st is not None and st.kind == "file":
            sizes[path] = st.size
    if not sizes:
        return plan, []
    theirs = digests_of(plan.base_image, sizes, MAX_BYTES)
    same = {path for path, digest in theirs.items() if _digest(host, path) == digest}
    if not same:
        return plan, []
    kept = tuple(p for p in layer.paths if p not in same)
    layers = tuple(dataclasses.replace(each, paths=kept) if each is layer else each
                   for each in plan.layers if each is not layer or kept)
    notes = [f"{path}: the base image {plan.base_image} holds the identical file; not copied" for path in sorted(same)]
    return plan.replace(layers=layers), notes


def _digest(host: Host, path: str) -> str:
    digest = hashlib.sha256()
    try:
        with host.open(path) as stream:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
    except (HostError, OSError):
        return ""
    return digest.hexdigest()
