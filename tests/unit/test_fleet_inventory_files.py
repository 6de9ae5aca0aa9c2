"""Ansible inventories (INI and YAML) and OpenSSH configs become remote targets as Ansible and ssh
read them; bad or hostile files are refused with the file and line, quickly and in bounded memory."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from a2c.errors import InvalidFile, UsageError
from a2c.fleet.ansible import expand_hosts, jump_from_ssh_args, load_inventory
from a2c.fleet.sshconfig import jump_from_proxy_command, load_ssh_config, patterns_match

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "remote"
HOME = str(Path.home())


def by_name(targets):
    return {t.name: t for t in targets}


@pytest.mark.parametrize("pattern, expected", [
    ("web[01:03].example.com", ["web01.example.com", "web02.example.com", "web03.example.com"]),
    ("db-[a:c]", ["db-a", "db-b", "db-c"]),
    ("node[0:10:5]", ["node0", "node5", "node10"]),
    ("n[:2]", ["n0", "n1", "n2"]),
    ("r[1:2]c[a:b]", ["r1ca", "r1cb", "r2ca", "r2cb"]),
    ("plain.example.com", ["plain.example.com"]),
    ("w[8:10]", ["w8", "w9", "w10"]),
])
def test_host_ranges_expand_as_ansible_does(pattern, expected):
    assert expand_hosts(pattern) == expected


@pytest.mark.parametrize("pattern, message", [
    ("web[3:1]", "start is larger"),
    ("web[01:3]", "same width"),
    ("web[1:]", "no end"),
    ("web[a:3]", "both be numbers"),
    ("web[1:5:0]", "positive"),
    ("web[0:99999999]", "more than"),
    ("a[0:999]b[0:999]", "more than"),
])
def test_bad_ranges_are_refused(pattern, message):
    with pytest.raises(InvalidFile, match=message):
        expand_hosts(pattern, "inv", 7)


@pytest.mark.parametrize("name", ["hosts.ini", "hosts.yml"])
def test_ansible_inventory_groups_children_vars_and_host_vars(name):
    path = str(FIXTURES / "ansible" / name)
    targets, notes = load_inventory(path)
    found = by_name(targets)
    assert {"web01.example.com", "web02.example.com", "web03.example.com", "web-legacy", "db-a.example.com",
            "db-c.example.com", "db-primary", "atl-app", "mail.example.com"} <= set(found)
    assert "win1" not in found and any("win1" in n and "winrm" in n for n in notes)
    web01 = found["web01.example.com"]
    # host var beats every group var; southeast's timeout reaches it through atlanta (children)
    assert (web01.host, web01.port, web01.user, web01.timeout) == ("web01.example.com", 22, "deploy", 120.0)
    assert set(web01.groups) == {"webservers", "atlanta", "southeast"}
    assert found["web02.example.com"].timeout is None and found["web02.example.com"].groups == ("webservers",)
    legacy = found["web-legacy"]
    assert (legacy.host, legacy.port) == ("10.0.0.40", 2222)
    assert legacy.key_files == (os.path.abspath("keys/legacy.pem"),)
    db = found["db-b.example.com"]
    assert (db.user, db.timeout, db.secret_id) == ("southeast-admin", 120.0, "a2c/fleet-default")
    assert found["web02.example.com"].vars == {"http_port": "80"}
    assert found["db-primary"].host == "10.0.1.10" and found["db-primary"].jump in ("bastion", "jump@203.0.113.7")
    for target in targets:  # the inventory's passwords never reach the targets
        assert "hunter2" not in repr(target.to_json())


def test_ini_specifics_proxy_command_and_passwords():
    targets, notes = load_inventory(str(FIXTURES / "ansible" / "hosts.ini"))
    found = by_name(targets)
    assert found["app-pc"].jump == "ops@203.0.113.8:2200"  # ProxyCommand="ssh -W %h:%p -q -p 2200 ops@…"
    assert found["bastion"].user == "jump" and found["db-primary"].jump == "bastion"
    assert "app-ssm" not in found and any("app-ssm" in n and "ProxyCommand" in n for n in notes)
    assert any("atl-app" in n and "password" in n for n in notes)
    assert found["mail.example.com"].groups == ()  # ungrouped
    assert all("hosts.ini:" in t.source for t in targets)
    assert found["web-legacy"].source.endswith("hosts.ini:6")


def test_yaml_jump_flag_form():
    found = by_name(load_inventory(str(FIXTURES / "ansible" / "hosts.yml"))[0])
    assert found["db-primary"].jump == "jump@203.0.113.7"  # ansible_ssh_common_args: -J jump@203.0.113.7


@pytest.mark.parametrize("args, expected", [
    ("-o ProxyJump=bastion", "bastion"),
    ("-oProxyJump=ops@b1:2222,b2", "ops@b1:2222,b2"),
    ("-J admin@10.1.1.1", "admin@10.1.1.1"),
    ("-o 'ProxyJump bastion'", "bastion"),
    ("-o StrictHostKeyChecking=no", None),
    ("-o ProxyCommand='ssh -W %h:%p gw.example.com'", "gw.example.com"),
    ("-o ProxyCommand='nc -X connect -x proxy:8080 %h %p'", ""),
])
def test_jumps_in_ssh_arguments(args, expected):
    assert jump_from_ssh_args(args, "inv:1") == expected


@pytest.mark.parametrize("command, expected", [
    ("ssh -W %h:%p bastion", "bastion"),
    ("ssh -q -W %h:%p -l ops -p 2200 203.0.113.8", "ops@203.0.113.8:2200"),
    ("/usr/bin/ssh -i ~/.ssh/k -W %h:%p ops@gw", "ops@gw"),
    ("ssh bastion nc %h %p", ""),  # no -W: a2c does not run remote commands for a proxy
    ("aws ssm start-session --target %h", ""),
])
def test_proxy_commands(command, expected):
    assert jump_from_proxy_command(command, "cfg:1") == expected


def test_ssh_config_first_match_wins_include_and_proxyjump():
    targets, notes = load_ssh_config(str(FIXTURES / "ssh" / "config"))
    found = by_name(targets)
    web1, web2 = found["web1"], found["web2"]
    assert (web1.host, web1.port, web1.user) == ("10.0.0.11", 22, "deploy")  # "Host web1 web2" came first
    assert (web2.host, web2.port) == ("10.0.0.12", 2202)
    assert web1.key_files == (f"{HOME}/.ssh/web_ed25519", f"{HOME}/.ssh/id_default")  # IdentityFile accumulates
    assert web1.connect_timeout == 7.0 and found["bastion"].connect_timeout is None  # "Host * !bastion"
    bastion = found["bastion"]  # from conf.d/10-bastion.conf, through Include
    assert (bastion.host, bastion.port, bastion.user) == ("203.0.113.7", 2222, "jump")
    assert bastion.source.endswith("10-bastion.conf:1")
    db1 = found["db1"]
    assert db1.jump == "bastion" and db1.agent is False  # IdentitiesOnly yes
    assert db1.host == "db1.internal.example.com" and db1.user == "fallback"  # Host patterns match the alias
    via = found["app-via-gw"]
    jump = found[via.jump]
    assert jump.jump_only and (jump.host, jump.port, jump.user) == ("gw.example.com", 2222, "ops")
    assert f"{HOME}/.ssh/gw_key" in jump.key_files  # the jump host's own Host block applies
    assert found["gw.example.com"].user == "gwuser"  # the Match exec block is not applied
    assert any("Match exec" in n for n in notes)
    assert not any(t.name.startswith("*") for t in targets)


@pytest.mark.parametrize("patterns, name, expected", [
    (("*.example.com",), "a.example.com", True),
    (("*.example.com",), "example.com", False),
    (("web?",), "web1", True),
    (("web?",), "web10", False),
    (("*", "!bastion"), "bastion", False),
    (("*", "!bastion"), "web1", True),
    (("WEB1",), "web1", True),
    (("[ab]",), "a", False),  # no character classes in ssh patterns
])
def test_ssh_patterns(patterns, name, expected):
    assert patterns_match(patterns, name) is expected


@pytest.mark.parametrize("name, line, message", [
    ("huge-range.ini", 2, "more than"),
    ("unclosed-quote.ini", 3, "No closing quotation"),
    ("children-loop.ini", None, "their own children"),
    ("bad-section.ini", 1, "section type"),
    ("option-injection.ini", 3, "must be a host name"),
    ("bad-port.ini", 2, "not a number from 1 to 65535"),
    ("path-name.ini", 2, "names the folder"),
    ("hosts-list.yml", 3, "must be a mapping"),
    ("group-loop.yml", None, "their own children"),
    ("bad.yml", 4, "not valid YAML"),
    ("not-utf8.ini", 2, "not UTF-8"),
])
def test_hostile_inventories_name_the_line(name, line, message):
    path = str(FIXTURES / "hostile" / name)
    with pytest.raises(InvalidFile) as caught:
        load_inventory(path)
    assert message in caught.value.message
    assert caught.value.message.startswith(f"{path}:{line if line else ''}")
    assert caught.value.message.count(path) == 1  # named once, not "file:2: file:2: …"


def test_yaml_alias_bomb_reads_in_bounded_time():
    started = time.monotonic()
    targets, _ = load_inventory(str(FIXTURES / "hostile" / "alias-bomb.yml"))
    assert time.monotonic() - started < 5
    assert [t.name for t in targets] == ["web1"] and "bomb" not in targets[0].vars


@pytest.mark.parametrize("name, line, message", [
    ("ssh-include-loop", 3, "Include loop"),
    ("ssh-bad-port", 3, "not a number"),
    ("ssh-no-value", 2, "Keyword value"),
    ("ssh-bad-hostname", 2, "must be a host name"),
    ("ssh-unknown-token", 2, "%C"),
])
def test_hostile_ssh_configs_name_the_line(name, line, message):
    path = str(FIXTURES / "hostile" / name)
    with pytest.raises(InvalidFile) as caught:
        load_ssh_config(path)
    assert message in caught.value.message and f"{name}:{line}:" in caught.value.message


def test_deep_includes_stop(tmp_path):
    for level in range(20):
        (tmp_path / f"c{level}").write_text(f"Host h{level}\n  HostName 10.0.0.{level}\nInclude c{level + 1}\n")
    (tmp_path / "c20").write_text("Host last\n")
    with pytest.raises(InvalidFile, match="Include nested more than 16"):
        load_ssh_config(str(tmp_path / "c0"))


def test_missing_and_oversized_files(tmp_path):
    with pytest.raises(UsageError, match="cannot read"):
        load_inventory(str(tmp_path / "nope.ini"))
    big = tmp_path / "big.ini"
    with big.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    with pytest.raises(InvalidFile, match="larger than"):
        load_inventory(str(big))


def test_ini_vars_precedence_deeper_group_wins(tmp_path):
    inventory = tmp_path / "inv"
    inventory.write_text("[leaf]\nh1\n[mid:children]\nleaf\n[top:children]\nmid\n"
                         "[top:vars]\nansible_user=top\nansible_port=2201\n[mid:vars]\nansible_user=mid\n"
                         "[all:vars]\nansible_user=all\na2c_timeout=5\n")
    (target,), _ = load_inventory(str(inventory))
    assert (target.user, target.port, target.timeout) == ("mid", 2201, 5.0)
    assert set(target.groups) == {"leaf", "mid", "top"}


def test_host_port_in_the_pattern_is_a_host_var(tmp_path):
    inventory = tmp_path / "inv"
    inventory.write_text("[web]\nweb9:2201\nweb8:2202 ansible_port=2203\n[all:vars]\nansible_port=22\n")
    found = by_name(load_inventory(str(inventory))[0])
    assert (found["web9"].port, found["web8"].port) == (2201, 2203)
