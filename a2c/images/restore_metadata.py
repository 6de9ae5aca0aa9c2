"""Give an exported build context back the metadata a Git checkout or a zip loses.

a2c copies this file, as it is, to ``.a2c/restore-metadata.py`` of every exported context, beside
``.a2c/context-metadata.json`` (each folder, file and link of the context with its mode and
time). Git keeps neither empty folders, nor modes other than 644/755, nor times; Docker's COPY
puts all three in the image. A CI job that builds from a checkout runs it first (the pipelines
a2c writes do), so that the image gets the folders the application writes to, with their
group-write bit, and the very layers a2c's own build makes. Standalone: Python 3 standard
library only, nothing of a2c imported.

    python3 .a2c/restore-metadata.py          # from the context's top folder, or any folder
"""

import json
import os
import sys

MANIFEST = "context-metadata.json"


def restore(root: str) -> int:
    """Apply the manifest under ``root``; returns how many entries were set."""
    with open(os.path.join(root, ".a2c", MANIFEST), encoding="utf-8") as handle:
        manifest = json.load(handle)
    folders = []
    count = 0
    for kind, name, mode, mtime in manifest["entries"]:
        path = _inside(root, name)
        if path is None:
            continue
        if kind == "dir":
            if not os.path.lexists(path):
                os.makedirs(path, exist_ok=True)  # an empty folder Git did not keep
            if os.path.isdir(path) and not os.path.islink(path):
                folders.append((path, mode, mtime))
            continue
        if not os.path.lexists(path):
            continue
        if kind == "link":
            if os.path.islink(path):
                os.utime(path, (mtime, mtime), follow_symlinks=False)
                count += 1
            continue
        if os.path.isfile(path) and not os.path.islink(path):
            os.chmod(path, mode)
            os.utime(path, (mtime, mtime))
            count += 1
    # Folders last and deepest first: what is written into a folder changes its time.
    for path, mode, mtime in sorted(folders, key=lambda item: item[0].count(os.sep), reverse=True):
        os.chmod(path, mode)
        os.utime(path, (mtime, mtime))
        count += 1
    return count


def _inside(root: str, name: str):
    """The path of ``name`` below ``root``, or None when it would leave it (through '..', an
    absolute name, or a link among its parents)."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return None
    current = root
    for part in parts[:-1]:
        current = os.path.join(current, part)
        if os.path.islink(current):
            return None
    return os.path.join(current, parts[-1])


def main(argv) -> int:
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    count = restore(root)
    print(f"restored the metadata of {count} entries under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
