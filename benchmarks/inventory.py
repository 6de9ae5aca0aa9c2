#!/usr/bin/env python3
"""``a2c inventory`` on a busy host: how does the whole command compare with ``ps`` and ``ss``
listing the same processes and listening sockets?

Starts ``--processes`` extra idle processes (``sleep N``, each N its own, children of this
script, killed by their pids at the end, also on an error), then times, warm and in turn,
``--repeat`` runs of each (medians):

  * a2c: ``a2c --json --workspace <tmp> inventory`` as a subprocess: a fresh interpreter, the
    imports, the process scan, the analyzers, inventory.json written. The console script
    beside this Python is used (not a pyenv shim), with a bytecode cache in a temp folder as
    an installed a2c has one (``PYTHONDONTWRITEBYTECODE`` would otherwise recompile a2c on
    every run of an editable checkout);
  * baseline: ``ps -eo pid,user,args`` then ``ss -ltnp``, as subprocesses one after the other,
    output discarded.

Also printed, for scale: the interpreter alone (``python -c pass``, same environment); the floor
(``FLOOR``: what any Python command with click and entry-point plugins must do here, and no
more: start, import click, look up the analyzers' entry points without loading them, scan /proc
with a name filter, print the pids as JSON), which is the best ratio a2c could reach; the part
of a2c's time no code of a2c can change (the ``site`` start-up of this installation included),
and the process scan alone (``LocalHost.scan_processes`` with the analyzers' filter, in this
process), so that what is left is a2c's imports and start-up; and the CPU times, steadier than
the wall clock when the machine is busy.

    python3 benchmarks/inventory.py [--processes 1000] [--repeat 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

GOAL = 1.5

# The floor: the interpreter, click, the entry-point lookup, the /proc scan and a JSON dump, nothing
# of a2c's analyzers or steps. If this alone is above GOAL, no change inside a2c can meet it.
FLOOR = """
import json, click
from importlib import metadata
metadata.entry_points(group="a2c.analyzers")
from a2c.hosts.local import LocalHost
processes, _ = LocalHost().scan_processes(lambda name, exe, cmdline: name in ("java", "dotnet"))
print(json.dumps([p.pid for p in processes]))
"""


def start_idle(count: int) -> list[subprocess.Popen]:
    """``count`` sleeping children; each dies with this script, even when it is killed outright."""
    preexec = _die_with_parent() if sys.platform.startswith("linux") else None
    children: list[subprocess.Popen] = []
    try:
        for index in range(count):  # each its own command line, as a real host's processes mostly are
            children.append(subprocess.Popen(["sleep", str(3600 + index)], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=preexec))
    except BaseException:
        stop(children)
        raise
    return children


def _die_with_parent() -> Callable[[], None]:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)

    return preexec


def stop(children: list[subprocess.Popen]) -> None:
    """Kill exactly our own children, by pid, and reap them."""
    for child in children:
        if child.poll() is None:
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for child in children:
        child.wait()


def a2c_command() -> list[str]:
    script = Path(sys.executable).parent / "a2c"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "a2c"]


class Run:
    """Wall-clock and CPU seconds (user + system, of the child) of one command."""

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu

    def __add__(self, other: Run) -> Run:
        return Run(self.wall + other.wall, self.cpu + other.cpu)


def timed(argv: list[str], env: dict[str, str] | None = None, check_json: bool = False) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if check_json else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr.decode(errors='replace')}")
    if check_json:
        json.loads(done.stdout)  # a2c printed its inventory, not an error
    return Run(elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def time_baseline() -> tuple[Run, Run]:
    return timed(["ps", "-eo", "pid,user,args"]), timed(["ss", "-ltnp"])


def time_scan(repeat: int) -> float:
    """The process scan alone, in this process: ``LocalHost.scan_processes`` with the installed
    analyzers' cheap filter, as ``a2c inventory`` calls it (median seconds)."""
    from a2c.analyzers.registry import load_registry
    from a2c.hosts.local import LocalHost

    analyzers = load_registry().ordered()

    def wanted(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return any(a.wants(name, exe, cmdline) for a in analyzers)

    runs = []
    for _ in range(repeat + 1):  # the first one warms
        started = time.perf_counter()
        LocalHost().scan_processes(wanted)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs[1:])


def count_processes() -> int:
    return sum(1 for name in os.listdir("/proc") if name.isdigit()) if os.path.isdir("/proc") else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=1000, help="extra idle processes to start (default 1000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each, medians reported (default 15)")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()
    for tool in ("ps", "ss", "sleep"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (ps: apt-get install procps; ss: apt-get install iproute2)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the children are killed below
    a2c = a2c_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("A2C_")}
        env.update(PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"), A2C_CONFIG=str(Path(tmp) / "config.json"))
        inventory = [*a2c, "--json", "--workspace", str(Path(tmp) / "ws"), "inventory"]
        python = [sys.executable, "-c", "pass"]
        floor = [sys.executable, "-c", FLOOR]
        children = start_idle(args.processes)
        try:
            total = count_processes()
            for _ in range(2):  # warm: page cache, bytecode cache, the workspace made once
                timed(inventory, env, check_json=True)
                time_baseline()
                timed(python, env)
                timed(floor, env, check_json=True)
            ours: list[Run] = []
            ps: list[Run] = []
            ss: list[Run] = []
            interpreter: list[Run] = []
            floors: list[Run] = []
            for _ in range(args.repeat):  # in turn, so that a slow moment of the machine hits both
                ours.append(timed(inventory, env, check_json=True))
                p, s = time_baseline()
                ps.append(p)
                ss.append(s)
                interpreter.append(timed(python, env))
                floors.append(timed(floor, env, check_json=True))
            scan_s = time_scan(args.repeat)
        finally:
            stop(children)
    baseline = [p + s for p, s in zip(ps, ss)]

    def median(runs: list[Run], cpu: bool = False) -> float:
        return statistics.median(r.cpu if cpu else r.wall for r in runs)

    a2c_s, baseline_s, python_s = median(ours), median(baseline), median(interpreter)
    floor_s = median(floors)
    ratio, cpu_ratio = a2c_s / baseline_s, median(ours, cpu=True) / median(baseline, cpu=True)
    if args.json:
        print(json.dumps({"processes": total, "extraProcesses": args.processes, "repeat": args.repeat,
                          "a2cSeconds": round(a2c_s, 4), "baselineSeconds": round(baseline_s, 4),
                          "psSeconds": round(median(ps), 4), "ssSeconds": round(median(ss), 4),
                          "pythonStartSeconds": round(python_s, 4), "scanSeconds": round(scan_s, 4),
                          "floorSeconds": round(floor_s, 4), "floorRatio": round(floor_s / baseline_s, 2),
                          "ratio": round(ratio, 2), "goal": GOAL,
                          "a2cCpuSeconds": round(median(ours, cpu=True), 4),
                          "baselineCpuSeconds": round(median(baseline, cpu=True), 4), "cpuRatio": round(cpu_ratio, 2),
                          "command": " ".join(a2c)}, indent=2))
        return
    print(f"host: {total} processes ({args.processes} idle ones started for this run); median of {args.repeat}, warm")
    print(f"a2c --json inventory: {a2c_s:.3f}s   ({' '.join(a2c)})")
    print(f"ps -eo pid,user,args + ss -ltnp: {baseline_s:.3f}s   (ps {median(ps):.3f}s, ss {median(ss):.3f}s)   "
          f"ratio: {ratio:.2f}x (goal <= {GOAL}x)")
    print(f"CPU time (user + system): a2c {median(ours, cpu=True):.3f}s, baseline {median(baseline, cpu=True):.3f}s, "
          f"ratio {cpu_ratio:.2f}x (steadier than the wall clock on a busy machine)")
    print(f"for scale: python -c pass: {python_s:.3f}s ({python_s / baseline_s:.2f}x the baseline); "
          f"a2c beyond the interpreter's start: {a2c_s - python_s:.3f}s, of which the process scan "
          f"(LocalHost.scan_processes with the analyzers' filter, timed in this process): {scan_s:.3f}s")
    print(f"floor (python + click + entry-point lookup + /proc scan + JSON, no analyzer or step): {floor_s:.3f}s "
          f"({floor_s / baseline_s:.2f}x the baseline: the best ratio any code of a2c could reach here)")


if __name__ == "__main__":
    main()
