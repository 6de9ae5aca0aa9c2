"""Quoting for the generated shell scripts and JSON/YAML values, checked against a real /bin/sh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import missing
from a2c.generate.render import docker_json, shell_word, to_json

SH = shutil.which("sh")

ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/home/a2c-test",
    "A2C_SECRET_X": "secret-x",
    "A2C_SECRET_DB_PASSWORD": "pw with spaces",
    "JAVA": "/opt/java/openjdk/bin/java",
    "EVIL": "$(touch /tmp/a2c-evil) `id` $HOME",
}

# (argument as the analysis has it, what the program must receive in the container)
CASES = [
    ("plain", "plain"),
    ("with space", "with space"),
    ("two  spaces\tand tab", "two  spaces\tand tab"),
    ("new\nline", "new\nline"),
    ("it's", "it's"),
    ('double "quotes"', 'double "quotes"'),
    ("$HOME", "$HOME"),
    ("`id`", "`id`"),
    ("$(id)", "$(id)"),
    ("back\\slash", "back\\slash"),
    ("*", "*"),
    ("~", "~"),
    ("~/x", "~/x"),
    ("#not-a-comment", "#not-a-comment"),
    ("a;b&&c|d>e<f", "a;b&&c|d>e<f"),
    ("{a,b}", "{a,b}"),
    ("", ""),
    ("caf\u00e9 \u2603", "caf\u00e9 \u2603"),
    ("-Dpattern=%d{HH:mm:ss} [%t] %-5level", "-Dpattern=%d{HH:mm:ss} [%t] %-5level"),
    # run-time references stay live, the text around them stays literal
    ("${A2C_SECRET_X}", "secret-x"),
    ("-Ddb.password=${A2C_SECRET_DB_PASSWORD}", "-Ddb.password=pw with spaces"),
    ("${JAVA}", "/opt/java/openjdk/bin/java"),
    # only a2c's own references are live: a ${HOME} in a host's argv stays literal
    ("${HOME}", "${HOME}"),
    ("$x${A2C_SECRET_X}`id`\"'\\", "$xsecret-x`id`\"'\\"),
    ("${A2C_SECRET_X}${A2C_SECRET_X}", "secret-xsecret-x"),
    ("\\${A2C_SECRET_X}", "\\secret-x"),
    ("$${A2C_SECRET_X}", "$secret-x"),
    ("${lower_case}", "${lower_case}"),  # not an env reference shape: literal
    ("${A2C_SECRET_X", "${A2C_SECRET_X"),
    # neither is any other reference
    ("${EVIL}", "${EVIL}"),
]


def _need_sh() -> None:
    if SH is None:
        missing("a POSIX shell (sh)", "install dash or bash")


def _run_sh(words: list[str]) -> list[str]:
    script = 'printf "%s\\0" ' + " ".join(words)
    proc = subprocess.run([SH, "-c", script], env=ENV, capture_output=True, check=True, timeout=10)
    return proc.stdout.decode("utf-8").split("\0")[:-1]


def test_shell_word_round_trips_through_sh():
    _need_sh()
    rendered = [shell_word(arg) for arg, _ in CASES]
    assert _run_sh(rendered) == [expected for _, expected in CASES]


@pytest.mark.parametrize(("arg", "expected"), CASES)
def test_shell_word_is_one_word(arg, expected):
    _need_sh()
    assert _run_sh([shell_word(arg)]) == [expected]


def test_plain_words_use_single_quotes_or_none():
    assert shell_word("plain") == "plain"
    assert shell_word("with space") == "'with space'"
    assert shell_word("${A2C_SECRET_X}").startswith('"')


@pytest.mark.parametrize(
    "value",
    ["plain", "yes", "no", "on", "null", "~", "1.0", "010", "0x1F", "- item", "key: value", "# comment", "a\nb",
     "'quoted'", '"double"', "\u00e9\u2603", "", "*alias", "&anchor", "!!python/object:os.system", "@at", "`tick`",
     "{flow}", "[list]", "%percent", "2024-01-01"],
)
def test_to_json_is_a_safe_yaml_scalar(value):
    rendered = to_json(value)
    assert yaml.safe_load(f"key: {rendered}\n") == {"key": value}
    assert json.loads(rendered) == value


@pytest.mark.parametrize("value", [["java", "-jar", "a b.jar"], "quoted \"value\"", {"a": 1}, 8080, True])
def test_docker_json(value):
    assert json.loads(docker_json(value)) == value
    assert "\n" not in docker_json(value)
