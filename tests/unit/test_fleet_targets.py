"""Remote targets: names that are safe folder names, the validated targets.json store (and
App2Container's remote_hosts.json beside it), jump chains, selection, and Secrets Manager
credentials that never reach the disk."""

from __future__ import annotations

import json

import pytest

from a2c.errors import AWSError, InvalidFile, UsageError
from a2c.fleet.targets import (Credentials, JumpHop, RemoteTarget, host_problem, jump_chain, name_problem, parse_hop,
                               parse_secret, read_targets, select_targets, ssh_settings, targets_path, write_targets)
from a2c.workspace import Workspace


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path / "ws").ensure()


@pytest.mark.parametrize("name, ok", [
    ("web1", True), ("web01.example.com", True), ("i-0123456789abcdef0", True), ("a_b-c.d", True),
    ("..", False), (".", False), ("../etc", False), ("a/b", False), ("-rf", False), ("", False), ("x" * 101, False),
    ("web 1", False), ("web\n1", False),
])
def test_target_names_are_folder_names(name, ok):
    assert (name_problem(name) is None) is ok


@pytest.mark.parametrize("host, ok", [
    ("10.0.0.1", True), ("::1", True), ("fe80::1%eth0", True), ("db1.internal.example.com", True), ("localhost", True),
    ("-oProxyCommand=id", False), ("a b", False), ("host;id", False), ("$(id)", False), ("", False), ("a..b", False),
])
def test_hosts(host, ok):
    assert (host_problem(host) is None) is ok


@pytest.mark.parametrize("spec, hop", [
    ("bastion", JumpHop("bastion")),
    ("ops@bastion:2222", JumpHop("bastion", 2222, "ops")),
    ("[fe80::1]:2200", JumpHop("fe80::1", 2200)),
    ("ssh://ops@10.0.0.1", JumpHop("10.0.0.1", 22, "ops")),
])
def test_jump_hops(spec, hop):
    assert parse_hop(spec) == hop


@pytest.mark.parametrize("spec", ["-oProxyCommand=x", "ops@host:99999", "@host", "a b"])
def test_bad_jump_hops(spec):
    with pytest.raises(UsageError):
        parse_hop(spec)


def test_store_round_trip_and_remote_hosts_json(workspace):
    targets = {
        "web1": RemoteTarget("web1", "10.0.0.11", 2222, "deploy", ("/keys/web",), None, True, "bastion", 300.0,
                             groups=("web",), vars={"http_port": "80"}, source="inv:3"),
        "bastion": RemoteTarget("bastion", "bastion.example.com", user="jump", certificate_file="/keys/c-cert.pub",
                                secret_id="a2c/bastion", accept_host_key=True, jump_only=True),
    }
    path = write_targets(workspace, targets)
    assert path == targets_path(workspace) == workspace.root / "remote" / "targets.json"
    assert read_targets(workspace) == targets
    remote_hosts = json.loads((workspace.root / "remote" / "remote_hosts.json").read_text())
    assert remote_hosts == {"web1": {"Fqdn": "", "Ip": "10.0.0.11", "SecretArn": "", "AuthMethod": "key"}}
    assert not list((workspace.root / "remote").glob(".*tmp"))  # atomic: no temp files left behind


def test_hand_edited_targets_json_is_validated(workspace):
    write_targets(workspace, {"web1": RemoteTarget("web1", "10.0.0.11")})
    path = targets_path(workspace)
    document = json.loads(path.read_text())
    document["targets"]["web1"]["port"] = 70000
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidFile, match=r"targets\.json: \$\.targets\.web1\.port"):
        read_targets(workspace)
    document["targets"]["web1"]["port"] = 22
    document["targets"]["../../x"] = {"host": "10.0.0.1"}
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidFile):
        read_targets(workspace)
    document["targets"].pop("../../x")
    document["targets"]["web1"]["password"] = "s3cret"  # no field for credentials exists
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidFile, match="unknown field"):
        read_targets(workspace)


def test_a_bad_target_writes_nothing(workspace):
    write_targets(workspace, {"web1": RemoteTarget("web1", "10.0.0.11")})
    before = targets_path(workspace).read_bytes()
    with pytest.raises(InvalidFile):
        write_targets(workspace, {"web1": RemoteTarget("web1", "10.0.0.11"), "bad": RemoteTarget("bad", "-oX=1")})
    with pytest.raises(UsageError, match="loop"):
        write_targets(workspace, {"a": RemoteTarget("a", "10.0.0.1", jump="b"), "b": RemoteTarget("b", "10.0.0.2", jump="a")})
    assert targets_path(workspace).read_bytes() == before


def test_jump_chains():
    targets = {
        "outer": RemoteTarget("outer", "203.0.113.1"),
        "inner": RemoteTarget("inner", "10.0.0.1", jump="outer"),
        "app": RemoteTarget("app", "10.1.0.1", jump="inner,ops@10.2.0.1:2200"),
    }
    chain = jump_chain(targets["app"], targets)
    assert chain == [targets["outer"], targets["inner"], JumpHop("10.2.0.1", 2200, "ops")]
    assert jump_chain(targets["outer"], targets) == []
    looping = {"a": RemoteTarget("a", "h1", jump="b"), "b": RemoteTarget("b", "h2", jump="c"),
               "c": RemoteTarget("c", "h3", jump="a")}
    with pytest.raises(UsageError, match="a -> b -> c -> a"):
        jump_chain(looping["a"], looping)
    deep = {f"t{i}": RemoteTarget(f"t{i}", "h", jump=f"t{i + 1}" if i < 12 else None) for i in range(13)}
    with pytest.raises(UsageError, match="more than 8"):
        jump_chain(deep["t0"], deep)


def test_selection():
    targets = {"web1": RemoteTarget("web1", "h1", groups=("web",)), "web2": RemoteTarget("web2", "h2", groups=("web",)),
               "db1": RemoteTarget("db1", "h3", groups=("db",)),
               "gw": RemoteTarget("gw", "h4", groups=("web",), jump_only=True)}
    assert [t.name for t in select_targets(targets, everything=True)] == ["db1", "web1", "web2"]
    assert [t.name for t in select_targets(targets, groups=["web"])] == ["web1", "web2"]
    assert [t.name for t in select_targets(targets, names=["gw", "db1"])] == ["db1", "gw"]
    with pytest.raises(UsageError, match="unknown target 'nope'"):
        select_targets(targets, names=["nope"])
    with pytest.raises(UsageError, match="groups: db, web"):
        select_targets(targets, groups=["app"])
    with pytest.raises(UsageError, match="no remote targets"):
        select_targets({}, everything=True)


@pytest.mark.parametrize("text, expected", [
    ('{"username": "ec2-user", "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\\nabc"}',
     Credentials("ec2-user", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc")),
    ('{"username": "svc", "password": "pw"}', Credentials("svc", None, "pw")),
    ('{"user": "svc", "private_key": "KEY"}', Credentials("svc", "KEY")),
])
def test_secrets(text, expected):
    assert parse_secret(text, "a2c/x") == expected


@pytest.mark.parametrize("text", ["not json", "[1]", '{"username": "only"}', '{"privateKey": 5}'])
def test_bad_secrets(text):
    with pytest.raises(AWSError):
        parse_secret(text, "a2c/x")


def test_credentials_never_show_their_values():
    credentials = Credentials("svc", "-----BEGIN KEY-----", "hunter2")
    assert "hunter2" not in repr(credentials) and "BEGIN" not in repr(credentials)


def test_ssh_settings_take_the_secret_first():
    target = RemoteTarget("web1", "10.0.0.11", 2222, "deploy", ("/k",), known_hosts="/kh", accept_host_key=True,
                          agent=False, timeout=5.0)
    settings = ssh_settings(target, Credentials("ec2-user", "KEYTEXT"))
    assert settings == {"host": "10.0.0.11", "port": 2222, "user": "ec2-user", "key_files": ("/k",),
                        "certificate_file": None, "use_agent": False, "known_hosts": "/kh",
                        "accept_unknown_host": True, "name": "web1", "connect_timeout": 5.0, "private_key": "KEYTEXT"}
    assert ssh_settings(target)["user"] == "deploy" and "private_key" not in ssh_settings(target)
