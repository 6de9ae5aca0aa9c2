#!/usr/bin/env python3
"""Listing an application's jars for its SBOM: how does ``jarscan.scan_jars`` compare with ``unzip -l``
over the same jars?

A Tomcat-like tree (``lib/`` plus four web apps' ``WEB-INF/lib``) of 1,000 jars, about 1 GiB:
each holds ~1 MiB of incompressible bytes in many class-sized entries (every other jar STORED,
the rest DEFLATED), a pom.properties and a manifest. It is made once into ``--dir`` (default: a
fixed folder under the temp dir) and reused while its parameters match.

Baselines, both run on the same jars with a warm page cache:
  * ``unzip -l`` once per folder, through ``xargs`` and unzip's own wildcard (``unzip -l 'lib/*.jar'``).
    ``unzip -l a.jar b.jar`` would read b.jar as a member name inside a.jar, so one process per
    folder is as close to "one unzip over all the jars" as unzip gets. This is the headline
    baseline; the goal (issue 8) is at most 1.5x its time, for the scan and for the whole analyze.
  * ``unzip -l`` once per jar, as a shell loop would (``while read j; do unzip -l "$j"; done``):
    1,000 process starts, so it flatters a2c; printed for comparison.

Contenders: the listing (``jarscan.scan_jars`` over the five folders through LocalHost) and the
whole ``a2c analyze`` of a Tomcat whose base is that tree (through a SnapshotHost), which adds
the Tomcat analysis and the CycloneDX document (its rendering is also timed on its own).

    python3 benchmarks/analyze_jars.py [--dir DIR] [--jars 1000] [--size-kib 1024] [--entries 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from a2c.analyzers.common import jarscan
from a2c.hosts.local import LocalHost
from a2c.model.sbom import ComponentScan

GOAL = 1.5  # at most this many times ``unzip -l`` once per folder
WEB_APPS = 4
SERVER_JARS = 40
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def lib_dirs(tree: Path) -> list[Path]:
    return [tree / "lib"] + [tree / "webapps" / f"app{n}" / "WEB-INF" / "lib" for n in range(1, WEB_APPS + 1)]


def make_jar(path: Path, index: int, size: int, entries: int, method: int, rng: random.Random) -> None:
    group, artifact, version = f"org.example.bench{index % 17}", f"bench-lib-{index:04d}", f"{1 + index % 5}.{index % 10}.0"
    chunk = max(1, size // entries)
    with zipfile.ZipFile(path, "w", method, compresslevel=1) as archive:
        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = method
            archive.writestr(info, data)

        add("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\r\nImplementation-Title: {artifact}\r\n"
                                    f"Implementation-Version: {version}\r\n\r\n".encode())
        for n in range(entries):
            add(f"org/example/bench{index}/pkg{n // 50}/Class{n:04d}.class", rng.randbytes(chunk))
        add(f"META-INF/maven/{group}/{artifact}/pom.properties",
            f"groupId={group}\nartifactId={artifact}\nversion={version}\n".encode())


def make_tree(tree: Path, jars: int, size: int, entries: int) -> list[Path]:
    """The jars, made once; a marker file records the parameters so a changed run remakes them."""
    params = {"jars": jars, "size": size, "entries": entries, "layout": 1}
    marker = tree / ".bench-params.json"
    folders = lib_dirs(tree)
    if marker.exists() and json.loads(marker.read_text()) == params:
        return sorted(p for folder in folders for p in folder.glob("*.jar"))
    if tree.exists():
        shutil.rmtree(tree)
    rng = random.Random(20240101)
    paths = []
    started = time.perf_counter()
    for index in range(jars):
        folder = folders[0] if index < SERVER_JARS else folders[1 + (index - SERVER_JARS) % WEB_APPS]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench-lib-{index:04d}-{1 + index % 5}.{index % 10}.0.jar"
        make_jar(path, index, size, entries, zipfile.ZIP_STORED if index % 2 == 0 else zipfile.ZIP_DEFLATED, rng)
        paths.append(path)
    marker.write_text(json.dumps(params))
    print(f"made {jars} jars in {time.perf_counter() - started:.0f}s under {tree}", file=sys.stderr)
    return sorted(paths)


SERVER_XML = """<?xml version="1.0"?>
<Server port="-1"><Service name="Catalina">
  <Connector port="8080" protocol="HTTP/1.1"/>
  <Engine name="Catalina" defaultHost="localhost"><Host name="localhost" appBase="webapps"/></Engine>
</Service></Server>
"""


def make_snapshot(tree: Path) -> Path:
    """A host snapshot whose Tomcat base is the jar tree, for timing the whole ``a2c analyze``."""
    snapshot = tree.parent / (tree.name + "-host")
    base = snapshot / "files" / "opt" / "tomcat"
    if not base.exists():
        base.parent.mkdir(parents=True)
        shutil.copytree(tree, base, copy_function=os.link)  # hard links: no second GiB on disk
        (base / "conf").mkdir(exist_ok=True)
        (base / "conf" / "server.xml").write_text(SERVER_XML)
        (base / "bin").mkdir(exist_ok=True)
    process = {"pid": 4242, "ppid": 1, "exe": "/usr/bin/java", "cwd": "/opt/tomcat",
               "cmdline": ["/usr/bin/java", "-Dcatalina.base=/opt/tomcat", "-Dcatalina.home=/opt/tomcat",
                           "-classpath", "/opt/tomcat/bin/bootstrap.jar", "org.apache.catalina.startup.Bootstrap",
                           "start"],
               "listening": [{"port": 8080, "protocol": "tcp"}]}
    (snapshot / "host.json").write_text(json.dumps({"hostname": "bench", "processes": [process]}))
    return snapshot


def time_analyze(snapshot: Path) -> float:
    """``a2c analyze`` in process (inventory done beforehand): Tomcat analysis plus the SBOM."""
    from a2c.steps.analyze import analyze_application
    from a2c.analyzers.registry import load_registry
    from a2c.steps.inventory import discover
    from a2c.hosts.snapshot import SnapshotHost
    from a2c.workspace import Workspace

    host = SnapshotHost(str(snapshot))
    registry = load_registry()
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace(folder).ensure()
        entries = discover(host, registry).entries
        workspace.write_inventory(entries)
        started = time.perf_counter()
        analyze_application(workspace, next(iter(entries)), host, registry)
        return time.perf_counter() - started


def time_a2c(tree: Path) -> tuple[float, ComponentScan]:
    host = LocalHost()
    started = time.perf_counter()
    scan = jarscan.scan_jars(host, [str(folder) for folder in lib_dirs(tree)])
    return time.perf_counter() - started, scan


def time_render(scan: ComponentScan) -> float:
    """The SBOM document of the scanned jars (cyclonedx-python-lib's model and JSON outputter)."""
    from a2c.generate.sbom import render_sbom

    started = time.perf_counter()
    render_sbom("java-tomcat-bench", "1.0", scan.components)
    return time.perf_counter() - started


def time_unzip_per_jar(list_file: Path) -> float:
    started = time.perf_counter()
    subprocess.run(['bash', '-c', 'while IFS= read -r j; do unzip -l "$j"; done < "$1" > /dev/null', "bench",
                    str(list_file)], check=True)
    return time.perf_counter() - started


def time_unzip_per_folder(tree: Path) -> float:
    patterns = "".join(f"{folder}/*.jar\0" for folder in lib_dirs(tree))
    started = time.perf_counter()
    subprocess.run(["xargs", "-0", "-n1", "unzip", "-l"], input=patterns.encode(), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)  # stderr: unzip's "N archives were successfully processed."
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "a2c-bench-jars",
                        help="cache folder for the generated tree (reused while the parameters match)")
    parser.add_argument("--jars", type=int, default=1000)
    parser.add_argument("--size-kib", type=int, default=1024, help="incompressible bytes per jar")
    parser.add_argument("--entries", type=int, default=256, help="class-like entries per jar (a real 1 MiB jar has 200-600)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one scan_jars run")
    args = parser.parse_args()
    if shutil.which("unzip") is None:
        sys.exit("unzip is missing: apt-get install unzip")
    jars = make_tree(args.dir, args.jars, args.size_kib * 1024, args.entries)
    total = sum(p.stat().st_size for p in jars)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(f"{p}\n" for p in jars))
        list_file = Path(handle.name)
    try:
        # Warm the page cache for every contender (reading each jar whole once), then best of N
        # each, the contenders taking turns so that a busy moment of the machine hits all of them.
        subprocess.run(["cat", *map(str, jars)], stdout=subprocess.DEVNULL, check=True)
        snapshot = make_snapshot(args.dir)
        time_unzip_per_folder(args.dir)
        _, scan = time_a2c(args.dir)
        time_analyze(snapshot)
        rounds = [(time_unzip_per_folder(args.dir), time_a2c(args.dir)[0], time_analyze(snapshot), time_render(scan))
                  for _ in range(args.repeat)]
        per_folder, ours, analyze, render = (min(times) for times in zip(*rounds))
        per_jar = min(time_unzip_per_jar(list_file) for _ in range(args.repeat))
    finally:
        os.unlink(list_file)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(time_a2c, args.dir)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tree: {len(jars)} jars, {total / 2**20:.0f} MiB, {args.entries} entries each, in {len(lib_dirs(args.dir))} folders; "
          f"{len(scan.components)} components, {len(scan.findings)} findings")
    print(f"unzip -l per folder (xargs + wildcard, {len(lib_dirs(args.dir))} processes): {per_folder:.3f}s   "
          f"best of {args.repeat}: the baseline")
    print(f"listing: a2c jarscan.scan_jars: {ours:.3f}s   {ours / per_folder:.2f}x (goal <= {GOAL}x)")
    print(f"analyze: a2c analyze (Tomcat over a snapshot of the same tree, SBOM included): {analyze:.3f}s   "
          f"{analyze / per_folder:.2f}x (goal <= {GOAL}x)")
    print(f"  of which the SBOM document (a2c.generate.sbom.render_sbom, cyclonedx-python-lib) of "
          f"{len(scan.components)} components: {render:.3f}s")
    print(f"unzip -l per jar (shell loop, {len(jars)} processes): {per_jar:.3f}s   "
          f"listing {ours / per_jar:.2f}x, analyze {analyze / per_jar:.2f}x")
    print(f"peak RSS of this process: {peak_mib:.0f} MiB")

    def verdict(ratio: float) -> str:
        return f"{ratio:.2f}x ({'met' if ratio <= GOAL else 'NOT met'})"

    print(f"headline, against unzip -l once per folder (goal <= {GOAL}x): listing {verdict(ours / per_folder)}, "
          f"analyze {verdict(analyze / per_folder)}")

if __name__ == "__main__":
    main()
