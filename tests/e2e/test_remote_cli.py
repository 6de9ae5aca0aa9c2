"""``a2c remote`` end to end against real hosts: a private sshd (tests/integration/sshd_server.py)
reached as two targets (127.0.0.1 and 127.0.0.2, both its listen addresses), a port where
nothing listens, and an sshd whose every command hangs. Two real Java processes run on the
machine, one holding a connection to the other's 127.0.0.2 socket, so the fleet summary has a
dependency between hosts to find.

Secrets Manager is moto server: it stores and returns the secret (the private key text) as AWS
does; what moto cannot check is IAM (any credentials read any secret) and KMS encryption.

The CLI runs in this process through ``a2c.cli.main`` (the remote group is registered below
until the lead adds it to COMMAND_MODULES), so its exit statuses and JSON are the real ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import a2c.cli
from tests.conftest import FIXTURES, free_port, missing
from tests.integration import aws_services
from tests.integration.sshd_server import sshd_available, start_sshd, stop_process, stop_sshd

a2c.cli.COMMAND_MODULES.setdefault("remote", ("remote", "group"))

pytestmark = [pytest.mark.slow]

moto_server = aws_services.moto_server  # the session's moto server (a fixture)


@pytest.fixture
def moto(moto_server):
    """moto server, emptied for this test."""
    moto_server.reset()
    return moto_server

PEER = """
import java.net.*;
import java.util.*;

/** Listens on ADDRESS:PORT and keeps every accepted socket; with TARGET PORT2, also holds a
 * connection to TARGET:PORT2 (a dependency on another host). */
public class Peer {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(Integer.parseInt(args[1]), 50, InetAddress.getByName(args[0]));
        List<Socket> held = new ArrayList<>();
        if (args.length > 3) {
            held.add(new Socket(args[2], Integer.parseInt(args[3])));
        }
        System.out.println("ready");
        System.out.flush();
        while (true) {
            held.add(server.accept());
        }
    }
}
"""


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``a2c ARGS`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = 0
    try:
        a2c.cli.main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    why = sshd_available()
    if why:
        missing("a private sshd", why)
    server = start_sshd(tmp_path_factory.mktemp("sshd"), extra_config="ListenAddress 127.0.0.2")
    yield server
    stop_sshd(server)


@pytest.fixture(scope="module")
def hanging_sshd(tmp_path_factory):
    """An sshd that accepts the key and then never answers a command (ForceCommand sleep)."""
    why = sshd_available()
    if why:
        missing("a private sshd", why)
    server = start_sshd(tmp_path_factory.mktemp("sshd-hang"), extra_config="ForceCommand sleep 600")
    yield server
    stop_sshd(server)


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    """Two Java processes: 'server' on 127.0.0.2:Q, 'client' on 127.0.0.1:P holding a connection to it."""
    if not shutil.which("javac") or not shutil.which("java"):
        missing("a JDK", "install openjdk-17-jdk-headless")
    base = tmp_path_factory.mktemp("peers")
    procs = []
    ports = {"server": free_port(), "client": free_port()}
    try:
        for role, argv in (("server", ["127.0.0.2", str(ports["server"])]),
                           ("client", ["127.0.0.1", str(ports["client"]), "127.0.0.2", str(ports["server"])])):
            folder = base / role
            (folder / "src").mkdir(parents=True)
            (folder / "src" / "Peer.java").write_text(PEER)
            subprocess.run(["javac", "-d", str(folder / "classes"), str(folder / "src" / "Peer.java")], check=True)
            proc = subprocess.Popen(["java", "-Xmx32m", "-cp", str(folder / "classes"), "Peer", *argv], cwd=folder,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            procs.append(proc)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield {"ports": ports, "pids": {"server": procs[0].pid, "client": procs[1].pid}}
    finally:
        for proc in procs:
            stop_process(proc)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    monkeypatch.setenv("A2C_WORKSPACE", str(root))
    monkeypatch.setenv("A2C_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return root


def configure(capsys, *args: str) -> dict:
    code, out, err = run_cli(capsys, "--json", "remote", "configure", *args)
    assert code == 0, (out, err)
    return json.loads(out)


def add_sshd_targets(capsys, sshd, tmp_path) -> Path:
    fresh_known_hosts = tmp_path / "known_hosts_beta"
    configure(capsys, "--target", "alpha", "--host", "127.0.0.1", "--port", str(sshd.port), "--user", "root",
              "--key", str(sshd.client_key), "--known-hosts", str(sshd.known_hosts), "--no-agent", "--group", "lab")
    configure(capsys, "--target", "beta", "--host", "127.0.0.2", "--port", str(sshd.port), "--user", "root",
              "--key", str(sshd.client_key), "--known-hosts", str(fresh_known_hosts), "--accept-host-key",
              "--no-agent", "--group", "lab")
    configure(capsys, "--target", "down", "--host", "127.0.0.1", "--port", str(free_port()), "--user", "root",
              "--key", str(sshd.client_key), "--known-hosts", str(sshd.known_hosts), "--no-agent", "--timeout", "20")
    return fresh_known_hosts


def test_inventory_of_a_fleet_with_a_summary(capsys, ws, tmp_path, sshd, peers):
    fresh_known_hosts = add_sshd_targets(capsys, sshd, tmp_path)
    code, out, _ = run_cli(capsys, "--json", "remote", "list")
    assert code == 0 and sorted(json.loads(out)["targets"]) == ["alpha", "beta", "down"]

    started = time.monotonic()
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--all", "--retries", "1", "--type", "java")
    elapsed = time.monotonic() - started
    assert code == 5, (out, err)  # one host failed
    document = json.loads(out)
    assert document["exitStatus"] == 5 and "1 of 3 host(s) failed: down" in document["error"]
    rows = {row["target"]: row for row in document["targets"]}
    assert rows["alpha"]["ok"] and rows["beta"]["ok"] and not rows["down"]["ok"]
    assert "refused" in rows["down"]["error"].lower() or "connect" in rows["down"]["error"].lower()
    assert rows["down"]["kind"] == "connection"  # unreachable, not a host that refused a2c
    assert elapsed < 60

    # each target's files, as a local run writes them
    for name in ("alpha", "beta"):
        inventory = json.loads((ws / "remote" / name / "inventory.json").read_text())
        by_pid = {entry["processId"]: app_id for app_id, entry in inventory.items()}
        assert peers["pids"]["server"] in by_pid and peers["pids"]["client"] in by_pid
        facts = json.loads((ws / "remote" / name / "host-facts.json").read_text())
        assert facts["target"] == name and facts["processes"]
    inventory = json.loads((ws / "remote" / "alpha" / "inventory.json").read_text())
    ids = {entry["processId"]: app_id for app_id, entry in inventory.items()}
    client_id, server_id = ids[peers["pids"]["client"]], ids[peers["pids"]["server"]]
    assert peers["ports"]["client"] in inventory[client_id]["ports"]
    assert not (ws / "remote" / "down" / "inventory.json").exists()

    # the beta host key was unknown: accepted on request and recorded
    assert sshd.host_key.with_suffix(".pub").read_text().split()[1] in fresh_known_hosts.read_text()

    summary = document["summary"]
    assert summary["hosts"] == {"total": 3, "succeeded": 2, "failed": 1}
    assert summary["failed"][0]["target"] == "down" and summary["failed"][0]["error"]
    java = [a for a in summary["applications"] if a["applicationType"].startswith("java")]
    assert sum(a["count"] for a in java) >= 4 and all(a["runtime"].startswith("Java ") for a in java)
    edges = [(d["from"]["target"], d["from"]["applicationId"], d["to"]["target"], d["to"]["port"],
              d["to"]["applicationId"]) for d in summary["dependencies"]]
    assert ("alpha", client_id, "beta", peers["ports"]["server"], server_id) in edges
    assert json.loads((ws / "remote" / "fleet-summary.json").read_text()) == summary

    # the same run for people: tables, the failed host and why, exit 5 with the error
    code, out, err = run_cli(capsys, "remote", "inventory", "--group", "lab", "--type", "java")
    assert code == 0, (out, err)
    assert "Dependencies between hosts" in out and client_id in out and "beta" in out
    code, out, err = run_cli(capsys, "remote", "inventory", "--target", "down", "--retries", "0")
    assert code == 5 and "down" in out and "FAILED" in out and "Error: 1 of 1 host(s) failed" in err


def test_analyze_and_extract_on_a_target(capsys, ws, tmp_path, sshd, peers):
    add_sshd_targets(capsys, sshd, tmp_path)
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--target", "alpha", "--type", "java")
    assert code == 0, (out, err)
    inventory = json.loads((ws / "remote" / "alpha" / "inventory.json").read_text())
    app_id = next(k for k, v in inventory.items() if v["processId"] == peers["pids"]["server"])
    code, out, err = run_cli(capsys, "--json", "remote", "analyze", "--application-id", app_id, "--target", "alpha")
    assert code == 0, (out, err)
    (row,) = json.loads(out)["targets"]
    analysis = ws / "remote" / "alpha" / app_id / "analysis.json"
    assert row["analysis"] == str(analysis) and analysis.is_file()
    document = json.loads(analysis.read_text())
    assert [p["localPort"] for p in document["analysisInfo"]["ports"]] == [peers["ports"]["server"]]
    assert not (ws / app_id).exists()  # nothing in the local part of the workspace

    code, out, err = run_cli(capsys, "--json", "remote", "extract", "--application-id", app_id, "--target", "alpha",
                             "--timeout", "900")
    assert code == 0, (out, err)
    (row,) = json.loads(out)["targets"]
    archive = ws / "remote" / "alpha" / app_id / f"{app_id}-extraction.tar"
    assert row["archive"] == str(archive) and archive.is_file() and row["files"] > 0
    import tarfile

    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert any(n.endswith("Peer.class") for n in names)

    code, out, err = run_cli(capsys, "remote", "analyze", "--application-id", "java-generic-00000000", "--target", "alpha")
    assert code == 5 and "unknown application id" in out + err


def test_a_host_whose_shell_hangs_is_abandoned(capsys, ws, sshd, hanging_sshd, peers):
    configure(capsys, "--target", "alpha", "--host", "127.0.0.1", "--port", str(sshd.port), "--user", "root",
              "--key", str(sshd.client_key), "--known-hosts", str(sshd.known_hosts), "--no-agent")
    configure(capsys, "--target", "stuck", "--host", "127.0.0.1", "--port", str(hanging_sshd.port), "--user", "root",
              "--key", str(hanging_sshd.client_key), "--known-hosts", str(hanging_sshd.known_hosts), "--no-agent",
              "--timeout", "6")
    started = time.monotonic()
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--all", "--type", "java")
    assert time.monotonic() - started < 40, "the hung host held the run"
    assert code == 5, (out, err)
    rows = {row["target"]: row for row in json.loads(out)["targets"]}
    assert rows["alpha"]["ok"]
    assert rows["stuck"]["kind"] == "timeout" and "abandoned" in rows["stuck"]["error"]


def test_credentials_from_secrets_manager(capsys, ws, tmp_path, monkeypatch, sshd, peers, moto):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    key_text = sshd.client_key.read_text()
    moto.client("secretsmanager").create_secret(Name="a2c/lab-root",
                                                SecretString=json.dumps({"username": "root", "privateKey": key_text}))
    for name, secret in (("gamma", "a2c/lab-root"), ("nosecret", "a2c/missing")):
        configure(capsys, "--target", name, "--host", "127.0.0.1", "--port", str(sshd.port), "--secret-id", secret,
                  "--known-hosts", str(sshd.known_hosts), "--no-agent", "--group", "vault")
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--group", "vault", "--type", "java")
    assert code == 5, (out, err)
    rows = {row["target"]: row for row in json.loads(out)["targets"]}
    assert rows["gamma"]["ok"], rows["gamma"]
    assert rows["nosecret"]["kind"] == "aws" and "a2c/missing" in rows["nosecret"]["error"]
    assert json.loads((ws / "remote" / "gamma" / "inventory.json").read_text())
    marker = key_text.strip().splitlines()[1]
    for path in ws.rglob("*"):  # the key went from the secret to the connection, never to a file
        if path.is_file():
            assert marker not in path.read_text(errors="replace"), path


def test_configure_from_files_and_bad_input(capsys, ws):
    document = configure(capsys, "--inventory-file", str(FIXTURES / "remote" / "ansible" / "hosts.ini"),
                         "--known-hosts", "/tmp/kh-fleet")
    assert "web02.example.com" in document["configured"] and any("winrm" in n for n in document["notes"])
    targets = json.loads((ws / "remote" / "targets.json").read_text())["targets"]
    assert targets["db-primary"]["jump"] == "bastion" and targets["web01.example.com"]["knownHosts"] == "/tmp/kh-fleet"
    remote_hosts = json.loads((ws / "remote" / "remote_hosts.json").read_text())
    assert remote_hosts["web-legacy"] == {"Fqdn": "", "Ip": "10.0.0.40", "SecretArn": "a2c/fleet-default",
                                          "AuthMethod": "key"}
    document = configure(capsys, "--ssh-config", str(FIXTURES / "remote" / "ssh" / "config"))
    assert {"web1", "db1", "bastion"} <= set(document["configured"])
    before = (ws / "remote" / "targets.json").read_bytes()

    for args, status, text in [
        (["--inventory-file", str(FIXTURES / "remote" / "hostile" / "option-injection.ini")], 6, "option-injection.ini:3"),
        (["--ssh-config", str(FIXTURES / "remote" / "hostile" / "ssh-include-loop")], 6, "Include loop"),
        (["--inventory-file", str(FIXTURES / "remote" / "hostile" / "huge-range.ini")], 6, "huge-range.ini:2"),
        (["--target", "x", "--host", "-oProxyCommand=id"], 2, "must be a host name"),
        (["--target", "../x", "--host", "10.0.0.1"], 2, "names the folder"),
        (["--target", "x"], 2, "give --host"),
        (["--target", "x", "--host", "10.0.0.1", "--key", "/nonexistent/key"], 2, "not a readable file"),
        (["--inventory-file", "a", "--ssh-config", "b"], 2, "give one of"),
        (["--inventory-file", str(FIXTURES / "remote" / "ansible" / "hosts.yml"), "--port", "22"], 2, "go with --target"),
    ]:
        code, out, err = run_cli(capsys, "--json", "remote", "configure", *args)
        assert code == status, (args, out, err)
        assert text in json.loads(out)["error"], (args, out)
    assert (ws / "remote" / "targets.json").read_bytes() == before  # nothing written by a refused command

    configure(capsys, "--target", "web-legacy", "--timeout", "900")  # one setting changed, the rest kept
    targets = json.loads((ws / "remote" / "targets.json").read_text())["targets"]
    assert (targets["web-legacy"]["host"], targets["web-legacy"]["port"], targets["web-legacy"]["timeout"]) == (
        "10.0.0.40", 2222, 900.0)

    code, out, err = run_cli(capsys, "--json", "remote", "inventory")
    assert code == 2 and "--target NAME, --group G or --all" in json.loads(out)["error"]
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--group", "nope")
    assert code == 2 and "no target is in group 'nope'" in json.loads(out)["error"]
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--all", "--instance-id", "i-0123456789abcdef0")
    assert code == 2 and "go with --ssm" in json.loads(out)["error"]


def test_help_texts(capsys):
    for command in (["configure"], ["list"], ["inventory"], ["analyze"], ["extract"]):
        code, out, _ = run_cli(capsys, "remote", *command, "--help")
        assert code == 0 and "Examples:" in out and f"a2c remote {command[0]}" in out.split("Examples:")[1]
        assert "Exit statuses:" in out


def test_ssm_selection_runs_the_same_collection(capsys, ws, monkeypatch, peers):
    """``--ssm``: moto server has no DescribeInstanceInformation and runs no command on an
    instance, so AWS is stood in for at the gateway's three entry points: the selection returns
    one usable and one offline instance, the fleet scan returns what the real SCAN_SCRIPT prints
    on this machine (run by LocalShell), and the instance's later commands run in LocalShell too.
    What this checks is everything around them: the flags, the prefetched scan reaching the
    host, remote/<instance-id>/ files, the offline instance reported, the summary."""
    from a2c.gateways import ssm
    from a2c.hosts.command import SCAN_SCRIPT, CommandHost
    from a2c.hosts.shell import LocalShell

    calls = {}

    def select_instances(clients, instance_ids=(), tags=(), resource_groups=()):
        calls["select"] = (tuple(instance_ids), tuple(tags), tuple(resource_groups))
        return [{"instanceId": "i-0123456789abcdef0", "ipAddress": "127.0.0.1", "usable": True, "reason": ""},
                {"instanceId": "i-0fedcba9876543210", "ipAddress": "", "usable": False,
                 "reason": "ConnectionLost: the SSM agent has not answered"}]

    def ssm_fleet_scan(clients, selection, script, **options):
        calls["scan"] = (list(selection), script == SCAN_SCRIPT, options)
        return {instance: LocalShell().run(script, timeout=120) for instance in selection}

    def open_ssm(self, instance_id, *, profile=None, region=None, bucket=None, prefetched_scan=None):
        calls["open"] = (instance_id, bucket, prefetched_scan is not None)
        return CommandHost(LocalShell(name=instance_id), prefetched_scan=prefetched_scan)

    monkeypatch.setattr(ssm, "select_instances", select_instances)
    monkeypatch.setattr(ssm, "ssm_fleet_scan", ssm_fleet_scan)
    monkeypatch.setattr("a2c.env.Environment.open_ssm", open_ssm)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--ssm", "--tag", "Role=app", "--region",
                             "us-east-1", "--bucket", "a2c-out", "--max-errors", "2", "--type", "java")
    assert code == 5, (out, err)  # the offline instance counts as failed
    assert "1 of 2 host(s) failed: i-0fedcba9876543210" in json.loads(out)["error"]
    document = json.loads(out)
    assert calls["select"] == ((), ("Role=app",), ())
    assert calls["scan"][0] == ["i-0123456789abcdef0"] and calls["scan"][1]
    assert calls["scan"][2]["max_errors"] == "2" and calls["scan"][2]["bucket"] == "a2c-out"
    assert calls["open"] == ("i-0123456789abcdef0", "a2c-out", True)
    assert document["skipped"] == [{"instanceId": "i-0fedcba9876543210",
                                    "reason": "ConnectionLost: the SSM agent has not answered"}]
    inventory = json.loads((ws / "remote" / "i-0123456789abcdef0" / "inventory.json").read_text())
    assert peers["pids"]["server"] in {entry["processId"] for entry in inventory.values()}
    assert document["summary"]["hosts"] == {"total": 2, "succeeded": 1, "failed": 1}
    assert document["summary"]["failed"][0]["kind"] == "unavailable"


def test_bad_hosts_never_stop_the_good_ones_and_jumps_work(capsys, ws, tmp_path, sshd, peers):
    """A wrong key, a changed host key and an unknown host key each fail their own host with their
    own reason; a target reached through another target (ProxyJump) works."""
    from tests.integration.sshd_server import make_key

    wrong_key = make_key(tmp_path / "wrong_ed25519")
    other_host_key = make_key(tmp_path / "other_host_ed25519")
    changed = tmp_path / "known_hosts_changed"
    algorithm, blob = other_host_key.with_suffix(".pub").read_text().split()[:2]
    changed.write_text(f"[127.0.0.1]:{sshd.port} {algorithm} {blob}\n")
    common = ["--port", str(sshd.port), "--user", "root", "--no-agent"]
    configure(capsys, "--target", "alpha", "--host", "127.0.0.1", *common, "--key", str(sshd.client_key),
              "--known-hosts", str(sshd.known_hosts))
    configure(capsys, "--target", "wrongkey", "--host", "127.0.0.1", *common, "--key", str(wrong_key),
              "--known-hosts", str(sshd.known_hosts))
    configure(capsys, "--target", "changedkey", "--host", "127.0.0.1", *common, "--key", str(sshd.client_key),
              "--known-hosts", str(changed))
    configure(capsys, "--target", "unknownkey", "--host", "127.0.0.2", *common, "--key", str(sshd.client_key),
              "--known-hosts", str(tmp_path / "empty_known_hosts"))
    jump_known = tmp_path / "known_hosts_jump"
    jump_known.write_text(sshd.known_hosts.read_text())
    configure(capsys, "--target", "viajump", "--host", "127.0.0.2", *common, "--key", str(sshd.client_key),
              "--known-hosts", str(jump_known), "--accept-host-key", "--jump", "alpha")
    code, out, err = run_cli(capsys, "--json", "remote", "inventory", "--all", "--type", "java", "--retries", "0")
    assert code == 5, (out, err)
    rows = {row["target"]: row for row in json.loads(out)["targets"]}
    assert rows["alpha"]["ok"] and rows["viajump"]["ok"], rows
    reasons = {name: rows[name]["error"] for name in ("wrongkey", "changedkey", "unknownkey")}
    assert all(not rows[name]["ok"] for name in reasons)
    assert len(set(reasons.values())) == 3, reasons  # each says what is wrong with it
    assert "changed" in reasons["changedkey"].lower() and "unknown" in reasons["unknownkey"].lower(), reasons
    assert not (tmp_path / "empty_known_hosts").exists() or not (tmp_path / "empty_known_hosts").read_text()
    inventory = json.loads((ws / "remote" / "viajump" / "inventory.json").read_text())
    assert peers["pids"]["client"] in {entry["processId"] for entry in inventory.values()}
    summary = json.loads(out)["summary"]
    assert sorted(f["target"] for f in summary["failed"]) == ["changedkey", "unknownkey", "wrongkey"]
