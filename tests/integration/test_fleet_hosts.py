"""The fleet tests' hosts are real and distinct, and the bad ones fail as designed: checked with
the plain OpenSSH client (BatchMode, the fleet's own known_hosts), then through a2c's SSH host.

Three container hosts (``tests/integration/fleet_hosts.py``) each run sshd and a JVM of their
own; the second host's application keeps a connection open to the first's port. The bad hosts
are a closed port, a wrong client key, a changed host key, a slow login, a login that prints
megabytes, and two sockets of this process (silent; a banner that never ends).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import time

import pytest

from tests.conftest import missing
from tests.integration.fleet_hosts import SSHD_IMAGE, Fleet, FleetHost, served_key, ssh_argv

SLOW_DELAY = 2.0
CHATTY_MEGABYTES = 8

# The java processes of a host: "pid<TAB>cmdline" per line, from /proc alone.
JAVA_PROCESSES = r"""for d in /proc/[0-9]*; do
  [ "$(cat "$d/comm" 2>/dev/null)" = java ] || continue
  printf '%s\t%s\n' "${d#/proc/}" "$(tr '\0' ' ' < "$d/cmdline")"
done"""


@dataclasses.dataclass
class Hosts:
    fleet: Fleet
    good: list[FleetHost]
    bad: dict[str, FleetHost]
    start_seconds: float

    def ssh(self, host: FleetHost, command: str, **kwargs) -> subprocess.CompletedProcess:
        return self.fleet.ssh(host, command, **kwargs)

    @property
    def known_hosts(self):
        return self.fleet.known_hosts


@pytest.fixture(scope="module")
def fleet(docker_client, tmp_path_factory):
    for tool in ("ssh", "ssh-keygen", "ssh-keyscan", "javac", "jar"):
        if shutil.which(tool) is None:
            missing(tool, "apt-get install openssh-client openjdk-17-jdk-headless")
    try:
        docker_client.images.get(SSHD_IMAGE)
    except Exception:  # noqa: BLE001
        missing(f"the sshd host image {SSHD_IMAGE}", "run bash scripts/sshd_image.sh")
    started = time.monotonic()
    with Fleet(tmp_path_factory.mktemp("fleet"), docker_client) as fleet:
        good = fleet.start(3, peers={1: 0})  # host2's application connects to host1's port
        bad = {
            "down": fleet.down_host(),
            "wrongkey": fleet.wrong_key_host(),
            "changedkey": fleet.changed_key_host(),
            "slow": fleet.slow_host(delay=SLOW_DELAY),
            "chatty": fleet.chatty_host(megabytes=CHATTY_MEGABYTES),
            "silent": fleet.silent_host(),
            "endless": fleet.endless_banner_host(),
        }
        yield Hosts(fleet, good, bad, time.monotonic() - started)
    left = docker_client.containers.list(all=True, filters={"id": [h.container_id for h in fleet.hosts if h.container_id]})
    assert not left, f"containers left behind: {[c.short_id for c in left]}"


def run(fleet: Hosts, host: FleetHost, command: str, timeout: float = 30) -> str:
    done = fleet.ssh(host, command, timeout=timeout)
    assert done.returncode == 0, f"{host.name}: exit {done.returncode}: {done.stderr.decode(errors='replace')}"
    return done.stdout.decode()


def java_processes(fleet: Hosts, host: FleetHost) -> dict[int, str]:
    lines = run(fleet, host, JAVA_PROCESSES).splitlines()
    return {int(pid): cmdline for pid, cmdline in (line.split("\t", 1) for line in lines)}


def test_hosts_start_within_budget(fleet):
    assert fleet.start_seconds < 60, f"the fleet's hosts took {fleet.start_seconds:.1f} s to start"


def test_each_host_is_its_own_machine_with_its_own_java_process(fleet):
    seen_namespaces = set()
    for host in fleet.good:
        name, pid_ns, net_ns = run(fleet, host, "hostname; readlink /proc/1/ns/pid /proc/1/ns/net").split()
        assert name == host.name
        seen_namespaces.add((pid_ns, net_ns))
        (cmdline,) = java_processes(fleet, host).values()  # exactly one JVM, and it is this host's
        assert f"-Dfleet.host={host.name} " in cmdline and "fleet-app.jar 8080" in cmdline
    assert len(seen_namespaces) == len(fleet.good)
    # Each host's pid 1 is its own sshd, not this machine's init.
    assert {run(fleet, h, "cat /proc/1/comm").strip() for h in fleet.good} == {"sshd"}


def test_ports_and_host_keys_differ(fleet):
    hosts = fleet.good + [fleet.bad[n] for n in ("wrongkey", "changedkey", "slow", "chatty")]
    assert len({h.port for h in hosts}) == len(hosts)
    assert len({h.known_hosts_line.split()[-1] for h in hosts}) == len(hosts)
    assert len({h.internal_address for h in hosts}) == len(hosts)
    for host in fleet.good:  # the key the port serves is the one recorded for it
        assert served_key(host.address, host.port) == host.known_hosts_line.split(" ", 1)[1]


def test_applications_answer_and_hosts_reach_each_other(fleet):
    first, second, _ = fleet.good
    ask = "exec 3<>/dev/tcp/{0}/{1}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
    assert "fleet app on host1" in run(fleet, first, "bash -c " + repr(ask.format("127.0.0.1", 8080)))
    # From another host, on the first one's bridge address: the hosts share a network, not a /proc.
    assert "fleet app on host1" in run(fleet, second, "bash -c " + repr(ask.format(first.internal_address, 8080)))


def test_one_hosts_application_holds_a_connection_to_anothers_port(fleet):
    first, second, third = fleet.good
    assert second.peer == f"{first.internal_address}:8080" and first.peer is None and third.peer is None
    (java_pid,) = java_processes(fleet, second)
    # The connection's socket inode, from /proc/net/tcp, must be one of the JVM's open files.
    script = (f"cat /proc/net/tcp; echo ---; for fd in /proc/{java_pid}/fd/*; do readlink \"$fd\"; done")
    remote = f"{_hex_ip(first.internal_address)}:1F90"
    deadline = time.monotonic() + 20
    while True:
        table, _, fds = run(fleet, second, script).partition("---")
        inodes = {fields[9] for fields in (line.split() for line in table.splitlines()[1:])
                  if fields[2] == remote and fields[3] == "01"}  # 01: ESTABLISHED
        if inodes & set(re.findall(r"socket:\[(\d+)\]", fds)):
            break
        assert time.monotonic() < deadline, f"host2's JVM holds no connection to {remote}:\n{table}"
        time.sleep(0.5)
    table = run(fleet, third, "cat /proc/net/tcp")
    assert f" {remote} 01 " not in table, "host3 has no peer: it must hold no such connection"


def _hex_ip(address: str | None) -> str:
    assert address
    return "".join(f"{int(part):02X}" for part in reversed(address.split(".")))


@pytest.mark.parametrize("name, expected", [
    ("down", "Connection refused"),
    ("wrongkey", "Permission denied (publickey)"),
    ("changedkey", "REMOTE HOST IDENTIFICATION HAS CHANGED"),
    ("silent", "timed out during banner exchange"),
    ("endless", "No SSH version received"),
])
def test_bad_hosts_refuse_the_client_as_designed(fleet, name, expected):
    host = fleet.bad[name]
    started = time.monotonic()
    done = subprocess.run(ssh_argv(host, fleet.known_hosts, "echo reached", connect_timeout=3),
                          capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 255 and b"reached" not in done.stdout
    assert expected in done.stderr.decode(errors="replace")
    assert time.monotonic() - started < 15


def test_the_wrong_key_host_is_real_and_takes_its_own_key(fleet):
    host = fleet.bad["wrongkey"]
    own = dataclasses.replace(host, key_file=str(fleet.fleet.other_client_key("wrongkey")))
    assert run(fleet, own, "hostname").strip() == "wrongkey"


def test_the_changed_key_host_is_real_and_serves_a_new_key(fleet, tmp_path):
    host = fleet.bad["changedkey"]
    now = served_key(host.address, host.port)
    assert now is not None and now != host.known_hosts_line.split(" ", 1)[1]
    fresh = tmp_path / "known_hosts"
    fresh.write_text(f"[{host.address}]:{host.port} {now}\n")
    done = fleet.ssh(host, "hostname", known_hosts=fresh)
    assert done.returncode == 0 and done.stdout.decode().strip() == "changedkey"


def test_the_slow_host_answers_only_after_its_delay(fleet):
    host = fleet.bad["slow"]
    started = time.monotonic()
    assert run(fleet, host, "echo late").strip() == "late"
    assert time.monotonic() - started >= SLOW_DELAY
    with pytest.raises(subprocess.TimeoutExpired):
        fleet.ssh(host, "echo late", timeout=SLOW_DELAY / 2)


def test_the_chatty_host_prints_megabytes_before_each_command(fleet):
    host = fleet.bad["chatty"]
    out = fleet.ssh(host, "echo END-OF-COMMAND").stdout
    assert len(out) >= CHATTY_MEGABYTES * 1024 * 1024
    assert out.endswith(b"END-OF-COMMAND\n") and out[:16] == b"x" * 16


# -- through a2c (helper SSH's gateway and CommandHost) --------------------------------------

def _a2c_ssh():
    from a2c.gateways import ssh

    return ssh


def _options(ssh, fleet: Hosts, host: FleetHost, **overrides):
    fields = dict(host=host.address, port=host.port, user=host.user, key_files=(host.key_file,),
                  known_hosts=str(fleet.known_hosts), use_agent=False, name=host.name, connect_timeout=5.0,
                  command_timeout=30.0, retries=0)
    fields.update(overrides)
    return ssh.SshOptions(**fields)


def test_a2c_inventory_of_each_host_finds_its_own_java_application(fleet, tmp_path):
    ssh = _a2c_ssh()
    from a2c.env import Environment
    from a2c.steps.inventory import discover
    from a2c.workspace import Workspace

    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    for host in fleet.good:
        (java_pid,) = java_processes(fleet, host)
        remote = env.open_ssh(_options(ssh, fleet, host))
        try:
            result = discover(remote, env.analyzers)
        finally:
            close = getattr(remote, "close", None)
            if close is not None:
                close()
        (entry,) = result.entries.values()
        assert entry.process_id == java_pid, f"{host.name}: {result.entries} {result.notes}"
        assert entry.application_type == "java-generic" and f"-Dfleet.host={host.name}" in entry.cmdline
        assert 8080 in entry.ports


def test_a2c_refuses_each_bad_host_with_its_own_host_error_in_bounded_time(fleet):
    ssh = _a2c_ssh()
    from a2c.errors import HostError

    messages = {}
    for name in ("down", "wrongkey", "changedkey", "silent", "endless"):
        started = time.monotonic()
        with pytest.raises(HostError) as caught:
            ssh.open_shell(_options(ssh, fleet, fleet.bad[name], connect_timeout=3.0)).close()
        assert time.monotonic() - started < 20, f"{name} took {time.monotonic() - started:.1f} s"
        messages[name] = str(caught.value)
    assert len(set(messages.values())) == len(messages), messages


def test_remote_inventory_of_the_fleet_finds_the_dependency_between_two_hosts(fleet, run_a2c, workspace, tmp_path):
    """`a2c remote configure --inventory-file` + `remote inventory --all` over the three container
    hosts, each reached by a forwarded loopback port: host2's JVM holds a connection to host1's
    port on the bridge network, and the fleet summary names it, because each host reports its
    own interface addresses (the inventory file knows only 127.0.0.1)."""
    from tests.integration.fleet_hosts import host_lines

    inventory = tmp_path / "hosts.ini"
    inventory.write_text(host_lines(fleet.good))
    configured = run_a2c("remote", "configure", "--inventory-file", str(inventory), "--known-hosts",
                         str(fleet.known_hosts))
    assert configured.exit_code == 0, configured
    result = run_a2c("--json", "remote", "inventory", "--all", timeout=300)
    assert result.exit_code == 0, result
    summary = result.json()["summary"]
    assert summary["hosts"] == {"total": 3, "succeeded": 3, "failed": 0}
    edges = {(d["from"]["target"], d["to"]["target"], d["to"]["port"]) for d in summary["dependencies"]}
    assert (fleet.good[1].name, fleet.good[0].name, 8080) in edges, summary
    assert summary["externalConnections"]["count"] == 0, summary["externalConnections"]
    for host in fleet.good:
        assert (workspace / "remote" / host.name / "inventory.json").is_file()
