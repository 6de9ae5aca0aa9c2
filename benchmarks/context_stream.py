#!/usr/bin/env python3
"""The build context is streamed from the host, file by file. How does that compare with GNU tar
packing the same tree, and does memory stay flat as the tree grows?

    python3 benchmarks/context_stream.py [--files 3000] [--size-kib 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from a2c.images.layers import ContextWriter
from a2c.hosts.local import LocalHost
from a2c.model import BuildPlan, CopyLayer


def make_tree(root: Path, files: int, size: int) -> None:
    payload = os.urandom(size)
    for index in range(files):
        folder = root / f"lib{index // 200:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"dep-{index:05d}.jar").write_bytes(payload)


def time_a2c(root: Path) -> tuple[float, int]:
    plan = BuildPlan(app_id="bench", base_image="scratch", layers=(CopyLayer("application", (str(root),)),),
                     entrypoint=("true",))
    started = time.perf_counter()
    total = 0
    for chunk in ContextWriter(LocalHost(), plan, {"Dockerfile": b"FROM scratch\n"}):
        total += len(chunk)
    return time.perf_counter() - started, total


def time_tar(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(f"tar -cf - -C / {str(root).lstrip('/')} | cat > /dev/null", shell=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--size-kib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "app"
        make_tree(root, args.files, args.size_kib * 1024)
        time_tar(root)  # warm the page cache for both
        ours = min(time_a2c(root)[0] for _ in range(args.repeat))
        theirs = min(time_tar(root) for _ in range(args.repeat))
        streamed = time_a2c(root)[1]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tree: {args.files} files x {args.size_kib} KiB = {args.files * args.size_kib / 1024:.0f} MiB; "
          f"stream {streamed / 2**20:.0f} MiB")
    print(f"a2c context stream: {ours:.3f}s   GNU tar: {theirs:.3f}s   ratio: {ours / theirs:.2f}x (goal <= 1.5x)")
    print(f"peak RSS of this process: {peak_mib:.0f} MiB (the stream holds one 1 MiB chunk at a time)")


if __name__ == "__main__":
    main()
