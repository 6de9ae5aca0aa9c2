#!/usr/bin/env python3
"""Fleet inventory: does ``a2c remote inventory --all`` over 50 hosts take at most twice as long
as the slowest of those hosts alone, with a bounded number of connections open at once?

Starts ``--hosts`` light container hosts (``tests/integration/fleet_hosts.py``: the
``a2c-test/sshd-jre`` image, each with its own sshd and a small JVM, ``--peers`` of them holding
a connection to the first host's port so the fleet summary has dependencies to find), writes an
Ansible INI inventory of them and records them with ``a2c remote configure --inventory-file``,
then times, warm and as subprocesses (a fresh interpreter each, as a user runs them):

  * each host alone: ``a2c --json remote inventory --target NAME``, once per host (``--sample``
    of them), one after the other; the baseline is the slowest;
  * the fleet: ``a2c --json remote inventory --all``, ``--repeat`` times (median).

While the fleet runs, this machine's TCP table (/proc/net/tcp, tcp6) is sampled every 20 ms for
established connections to the hosts' published sshd ports: the most seen at once must stay within
the bound (``--concurrency`` when given, else the runner's default). Each run's results are
checked: every host's ``remote/NAME/inventory.json`` must list its own JVM (``-Dfleet.host=NAME``).

Until ``a2c/cli/remote.py`` exists, the same is measured in this process through a2c's SSH host
(``Environment.open_ssh`` + ``a2c.steps.inventory.discover``, ``--concurrency`` threads) and
said so. Every container is removed by id at the end, also on an error or SIGTERM.
Exits 1 when a goal is missed or a result is wrong.

    python3 benchmarks/fleet.py [--hosts 50] [--peers 4] [--concurrency N] [--sample N] [--repeat 3]
                                [--runner cli|direct] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.fleet_hosts import SSHD_IMAGE, Fleet, FleetHost, host_lines  # noqa: E402 - after the path above

GOAL = 2.0
DIRECT_CONCURRENCY = 8  # the in-process stand-in's threads when --concurrency is not given
# a2c's own main(), with the remote group registered as a2c/cli/__init__.py registers a command.
REGISTER_REMOTE = ("import sys; from a2c.cli import COMMAND_MODULES, main; "
                   "COMMAND_MODULES.setdefault('remote', ('remote', 'group')); sys.argv[0] = 'a2c'; main()")


class ConnectionCounter:
    """The most established TCP connections to ``ports`` on 127.0.0.1 seen at once, sampled from
    this machine's /proc/net/tcp and tcp6 in a background thread. Only client ends count: a socket
    whose own port is one of ``ports`` is docker's proxy accepting, not a2c connecting."""

    def __init__(self, ports: set[int], interval: float = 0.02) -> None:
        self.ports = ports
        self.interval = interval
        self.most = 0
        self.peak: list[str] = []  # the connections (local port -> remote port) when the most were open
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def connections(self) -> list[str]:
        found = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table, "rb") as f:
                    lines = f.read().decode("ascii", "replace").splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) < 4 or fields[3] != "01":  # 01: ESTABLISHED
                    continue
                local, remote = fields[1].rsplit(":", 1), fields[2].rsplit(":", 1)
                if remote[0] not in ("0100007F", "0000000000000000FFFF00000100007F"):
                    continue
                local_port, remote_port = int(local[1], 16), int(remote[1], 16)
                if remote_port in self.ports and local_port not in self.ports:
                    found.append(f"{local_port}->{remote_port}")
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.connections()
            if len(now) > self.most:
                self.most, self.peak = len(now), now
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> ConnectionCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Timed:
    seconds: float
    results: dict[str, list[dict[str, Any]]]  # host name -> its inventory entries
    cpu: float = 0.0  # a2c's user + system seconds
    host_cpu: float | None = None  # the hosts' containers' CPU seconds meanwhile
    connections: int = 0
    peak: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_results(hosts: list[FleetHost], results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each host's inventory lists exactly one JVM, and it is that host's own."""
    problems = []
    for host in hosts:
        entries = results.get(host.name)
        if entries is None:
            problems.append(f"{host.name}: no inventory")
            continue
        own = [e for e in entries if f"-Dfleet.host={host.name} " in f"{e.get('cmdline', '')} "]
        if len(entries) != 1 or len(own) != 1:
            problems.append(f"{host.name}: expected its one JVM, found {[e.get('cmdline') for e in entries]}")
    return problems


class CliRunner:
    """``a2c remote …`` as subprocesses against one workspace of this run."""

    label = "a2c --json remote inventory (subprocesses)"

    def __init__(self, workdir: Path, concurrency: int | None) -> None:
        self.workspace = workdir / "ws"
        self.concurrency = concurrency
        script = Path(sys.executable).parent / "a2c"
        self.a2c = [str(script)] if script.is_file() else [sys.executable, "-m", "a2c"]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("A2C_") and k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update(A2C_CONFIG=str(workdir / "config.json"), PYTHONPYCACHEPREFIX=str(workdir / "pycache"))
        registered = subprocess.run([*self.a2c, "remote", "--help"], capture_output=True, env=self.env,
                                    stdin=subprocess.DEVNULL).returncode == 0
        if not registered:  # the same main(), with the command added the way a2c/cli/__init__.py will
            self.a2c = [sys.executable, "-c", REGISTER_REMOTE]
            self.label += "; `remote` not yet in a2c.cli.COMMAND_MODULES: added there in each subprocess"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        argv = [*self.a2c, "--json", "--workspace", str(self.workspace), *args]
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=900, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}\n{done.stdout[-3000:]}")
        return done

    def configure(self, fleet: Fleet, hosts: list[FleetHost]) -> None:
        inventory = fleet.workdir / "inventory.ini"
        inventory.write_text(host_lines(hosts))
        self._run("remote", "configure", "--inventory-file", str(inventory), "--known-hosts", str(fleet.known_hosts))

    def inventory(self, hosts: list[FleetHost], selector: list[str]) -> Timed:
        for host in hosts:  # so that a result can only come from this run
            (self.workspace / "remote" / host.name / "inventory.json").unlink(missing_ok=True)
        extra = ["--concurrency", str(self.concurrency)] if self.concurrency and "--all" in selector else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        self._run("remote", "inventory", *selector, *extra)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        results = {}
        for host in hosts:
            path = self.workspace / "remote" / host.name / "inventory.json"
            if path.exists():
                results[host.name] = list(json.loads(path.read_text()).values())
        return Timed(seconds, results, cpu)


class DirectRunner:
    """The stand-in until the CLI exists: a2c's SSH host and the inventory step, in this process,
    ``concurrency`` hosts at a time (a thread pool, one connection per host)."""

    label = "in process: env.open_ssh + inventory.discover"

    def __init__(self, workdir: Path, concurrency: int | None) -> None:
        from a2c.env import Environment
        from a2c.workspace import Workspace

        self.env = Environment(workspace=Workspace(workdir / "ws").ensure())
        self.concurrency = concurrency or DIRECT_CONCURRENCY
        self.known_hosts = ""

    def configure(self, fleet: Fleet, hosts: list[FleetHost]) -> None:
        self.known_hosts = str(fleet.known_hosts)
        self.env.analyzers  # noqa: B018 - loaded once, before any timing

    def _one(self, host: FleetHost) -> list[dict[str, Any]]:
        from a2c.gateways.ssh import SshOptions
        from a2c.steps.inventory import discover

        remote = self.env.open_ssh(SshOptions(host=host.address, port=host.port, user=host.user,
                                              key_files=(host.key_file,), known_hosts=self.known_hosts,
                                              use_agent=False, name=host.name))
        try:
            return [e.to_json() for e in discover(remote, self.env.analyzers).entries.values()]
        finally:
            close = getattr(remote, "close", None)
            if close is not None:
                close()

    def inventory(self, hosts: list[FleetHost], selector: list[str]) -> Timed:
        chosen = hosts if "--all" in selector else [h for h in hosts if h.name == selector[-1]]
        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(self.concurrency) as pool:
            found = list(pool.map(self._one, chosen))
        return Timed(time.perf_counter() - started, {h.name: r for h, r in zip(chosen, found)},
                     time.process_time() - cpu)


def pick_runner(choice: str | None) -> Callable[[Path, int | None], Any] | None:
    cli = importlib.util.find_spec("a2c.cli.remote") is not None
    direct = importlib.util.find_spec("a2c.gateways.ssh") is not None and importlib.util.find_spec("a2c.hosts.command")
    if choice in (None, "cli") and cli:
        return CliRunner
    if choice in (None, "direct") and direct:
        return DirectRunner
    return None


def connection_bound(concurrency: int | None, runner: Any) -> int:
    if concurrency:
        return concurrency
    if isinstance(runner, DirectRunner):
        return runner.concurrency
    try:
        from a2c.fleet.runner import DEFAULT_CONCURRENCY
    except ImportError:
        return DIRECT_CONCURRENCY
    return int(DEFAULT_CONCURRENCY)


class HostCpu:
    """CPU seconds the hosts' containers used (their cgroups: cgroup v1 cpuacct, or v2 cpu.stat).
    On this machine the hosts share its CPUs with a2c: their work is part of any fleet figure."""

    def __init__(self, fleet: Fleet, hosts: list[FleetHost]) -> None:
        self.files: list[tuple[Path, float]] = []  # the usage file and its unit in seconds
        for host in hosts:
            pid = fleet.client.api.inspect_container(host.container_id)["State"]["Pid"]
            try:
                lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                _, controllers, path = line.split(":", 2)
                if "cpuacct" in controllers.split(","):
                    self.files.append((Path("/sys/fs/cgroup/cpuacct") / path.lstrip("/") / "cpuacct.usage", 1e-9))
                    break
                if controllers == "" and Path("/sys/fs/cgroup", path.lstrip("/"), "cpu.stat").exists():
                    self.files.append((Path("/sys/fs/cgroup") / path.lstrip("/") / "cpu.stat", 1e-6))
                    break

    def seconds(self) -> float | None:
        if not self.files:
            return None
        total = 0.0
        for path, unit in self.files:
            try:
                text = path.read_text()
            except OSError:
                return None
            if path.name == "cpu.stat":
                text = next((ln.split()[1] for ln in text.splitlines() if ln.startswith("usage_usec")), "0")
            total += int(text.strip()) * unit
        return total


def host_memory(fleet: Fleet, host: FleetHost) -> float:
    """MiB one light host uses (its container's memory, page cache excluded)."""
    stats = fleet.client.api.stats(host.container_id, stream=False)
    memory = stats.get("memory_stats", {})
    cache = memory.get("stats", {}).get("inactive_file", 0)
    return (memory.get("usage", 0) - cache) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50, help="light hosts to start (default 50)")
    parser.add_argument("--peers", type=int, default=4, help="hosts whose JVM connects to host1's port (default 4)")
    parser.add_argument("--concurrency", type=int, help="hosts at a time (default: a2c's own default)")
    parser.add_argument("--sample", type=int, default=0, help="hosts timed alone (default 0: every host)")
    parser.add_argument("--repeat", type=int, default=3, help="timed fleet runs, median reported (default 3)")
    parser.add_argument("--runner", choices=("cli", "direct"),
                        help="cli: `a2c remote inventory` (the default when it exists); direct: in process")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()
    for tool in ("docker", "ssh-keygen", "javac", "jar"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (run scripts/setup.sh)")
    if subprocess.run(["docker", "image", "inspect", SSHD_IMAGE], capture_output=True).returncode != 0:
        sys.exit(f"no {SSHD_IMAGE} image: run bash scripts/sshd_image.sh")
    make_runner = pick_runner(args.runner)
    if make_runner is None:
        sys.exit("no runner: a2c.cli.remote (cli) or a2c.gateways.ssh + a2c.hosts.command (direct) is missing")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the containers are removed below
    with tempfile.TemporaryDirectory(prefix="a2c-fleet-bench.") as tmp, Fleet(Path(tmp) / "fleet") as fleet:
        fleet.app_jar()
        started = time.perf_counter()
        peers = {i: 0 for i in range(1, min(args.peers, args.hosts - 1) + 1)}
        hosts = fleet.start(args.hosts, light=True, peers=peers)
        start_s = time.perf_counter() - started
        memory_mib = host_memory(fleet, hosts[-1])
        runner = make_runner(Path(tmp), args.concurrency)
        runner.configure(fleet, hosts)
        bound = connection_bound(args.concurrency, runner)
        host_cpu = HostCpu(fleet, hosts)
        ports = {h.port for h in hosts}
        runner.inventory(hosts, ["--target", hosts[0].name])  # warm: page cache, bytecode, the workspace
        alone: dict[str, float] = {}
        alone_cpu: dict[str, float] = {}
        alone_host_cpu: dict[str, float] = {}
        problems: list[str] = []
        for host in hosts[: args.sample] if args.sample else hosts:
            before = host_cpu.seconds()
            run = runner.inventory(hosts, ["--target", host.name])
            after = host_cpu.seconds()
            alone[host.name] = run.seconds
            if after is not None and before is not None:
                alone_host_cpu[host.name] = after - before
            alone_cpu[host.name] = run.cpu
            problems += check_results([host], run.results)
        fleet_runs = []
        for _ in range(args.repeat):
            before = host_cpu.seconds()
            with ConnectionCounter(ports) as counter:
                run = runner.inventory(hosts, ["--all"])
            after = host_cpu.seconds()
            run.connections, run.peak = counter.most, counter.peak
            run.host_cpu = after - before if after is not None and before is not None else None
            problems += check_results(hosts, run.results)
            fleet_runs.append(run)
    slowest_name = max(alone, key=lambda name: alone[name])
    slowest = alone[slowest_name]
    fleet_s = statistics.median(r.seconds for r in fleet_runs)
    most = max(r.connections for r in fleet_runs)
    ratio = fleet_s / slowest
    fleet_cpu = statistics.median(r.cpu for r in fleet_runs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    fleet_host_cpus = [r.host_cpu for r in fleet_runs if r.host_cpu is not None]
    fleet_host_cpu = statistics.median(fleet_host_cpus) if fleet_host_cpus else None
    alone_host = statistics.median(alone_host_cpu.values()) if alone_host_cpu else None
    # The least wall time this machine could do the fleet in: all the CPU work, a2c's and the hosts',
    # spread over its CPUs. Hosts that are machines of their own would not add theirs here.
    floor_s = (fleet_cpu + fleet_host_cpu) / (os.cpu_count() or 1) if fleet_host_cpu is not None else None
    missed = ratio > GOAL or most > bound or bool(problems)
    if args.json:
        print(json.dumps({"hosts": args.hosts, "peers": len(peers), "runner": runner.label,
                          "startSeconds": round(start_s, 2), "hostMemoryMiB": round(memory_mib, 1),
                          "aloneSeconds": {k: round(v, 3) for k, v in alone.items()},
                          "slowestAloneSeconds": round(slowest, 3), "slowestHost": slowest_name,
                          "fleetSeconds": [round(r.seconds, 3) for r in fleet_runs],
                          "fleetMedianSeconds": round(fleet_s, 3), "ratio": round(ratio, 2), "goal": GOAL,
                          "aloneCpuMedianSeconds": round(statistics.median(alone_cpu.values()), 3),
                          "fleetCpuMedianSeconds": round(fleet_cpu, 3), "cpus": os.cpu_count(),
                          "hostCpuAloneMedianSeconds": None if alone_host is None else round(alone_host, 3),
                          "hostCpuFleetMedianSeconds": None if fleet_host_cpu is None else round(fleet_host_cpu, 3),
                          "cpuFloorSeconds": None if floor_s is None else round(floor_s, 3),
                          "cpuFloorRatio": None if floor_s is None else round(floor_s / slowest, 2),
                          "loadAverage": round(load, 2), "mostOpenConnections": most, "connectionBound": bound,
                          "peakConnections": max(fleet_runs, key=lambda r: r.connections).peak,
                          "problems": problems, "goalMet": not missed}, indent=2))
        return 1 if missed else 0
    print(f"fleet: {args.hosts} light hosts (sshd + a JVM each, {len(peers)} holding a connection to host1) "
          f"started in {start_s:.1f} s; about {memory_mib:.0f} MiB per host")
    print(f"runner: {runner.label}")
    print(f"each host alone (--target NAME, {len(alone)} hosts in turn): slowest {slowest:.2f} s ({slowest_name}), "
          f"median {statistics.median(alone.values()):.2f} s, fastest {min(alone.values()):.2f} s")
    print(f"the fleet (--all): {fleet_s:.2f} s (median of {len(fleet_runs)}: "
          f"{', '.join(f'{r.seconds:.2f}' for r in fleet_runs)})   ratio: {ratio:.2f}x the slowest host alone "
          f"(goal <= {GOAL:g}x)")
    print(f"CPU time of a2c (user + system): one host alone {statistics.median(alone_cpu.values()):.2f} s (median), "
          f"the fleet {fleet_cpu:.2f} s; this machine: {os.cpu_count()} CPUs, load average {load:.1f}")
    if fleet_host_cpu is not None and alone_host is not None:
        print(f"CPU time of the hosts' containers (their sshd, shells, tools, JVMs; on this machine's CPUs too): "
              f"one host alone {alone_host:.2f} s, the whole fleet {fleet_host_cpu:.2f} s")
    if floor_s is not None:
        print(f"floor on this machine (a2c's and the hosts' CPU time over its {os.cpu_count()} CPUs): {floor_s:.2f} s, "
              f"{floor_s / slowest:.2f}x the slowest host alone: the best ratio reachable here while the hosts share its CPUs")
    print(f"open connections to the hosts: at most {most} at once (bound {bound}; /proc/net/tcp sampled every 20 ms)")
    print(f"results: {'every host listed its own JVM' if not problems else f'{len(problems)} problem(s)'}")
    for problem in problems[:20]:
        print(f"  {problem}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
