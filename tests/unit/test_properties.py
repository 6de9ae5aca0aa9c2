"""Java .properties, flattened YAML and JAR manifests: pure text in, dict out, never an exception."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import load_make_hostile
from a2c.analyzers.common.properties import parse_manifest, parse_properties, parse_yaml_flat
from a2c.hosts.local import LocalHost

HOSTILE = Path(__file__).resolve().parents[2] / "fixtures" / "hostile"


def _make_hostile():
    return load_make_hostile()


# -- parse_properties ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # separators: =, :, blanks, blanks around a separator
        ("a=b", {"a": "b"}),
        ("a:b", {"a": "b"}),
        ("a b", {"a": "b"}),
        ("a\tb", {"a": "b"}),
        ("a   =   b", {"a": "b"}),
        ("a\t:\tb", {"a": "b"}),
        ("a =:b", {"a": ":b"}),  # one separator only; the second is part of the value
        ("a:=b", {"a": "=b"}),
        ("a==b", {"a": "=b"}),
        ("a=x=y", {"a": "x=y"}),
        ("url=jdbc:postgresql://db:5432/app", {"url": "jdbc:postgresql://db:5432/app"}),
        # leading blanks go, trailing blanks of the value stay (as in Java)
        ("   a=b  ", {"a": "b  "}),
        ("a= b ", {"a": "b "}),
        # a key without value
        ("key", {"key": ""}),
        ("key=", {"key": ""}),
        # comments: # and !, also indented; not in the middle of a value
        ("# comment\n! comment\n   # indented\na=1", {"a": "1"}),
        ("a=b # not a comment", {"a": "b # not a comment"}),
        # continuation lines: the next line's leading blanks are dropped
        ("a=b\\\n   c", {"a": "bc"}),
        ("a=\\\n  \\\n  c", {"a": "c"}),
        ("a=b\\\n# not a comment once continued", {"a": "b# not a comment once continued"}),
        ("a=b\\\n!x", {"a": "b!x"}),
        ("a=b\\\n\nc=d", {"a": "b", "c": "d"}),  # an empty line ends the continuation
        ("a=b\\", {"a": "b"}),  # continuation at end of file
        ("a=b\\\r\n  c", {"a": "bc"}),
        ("a=b\r\nc=d\rn=m", {"a": "b", "c": "d", "n": "m"}),
        # an even number of trailing backslashes is an escaped backslash, not a continuation
        ("a=b\\\\\nc=d", {"a": "b\\", "c": "d"}),
        ("a=b\\\\\\\n  c", {"a": "b\\c"}),
        # escapes in keys and values
        ("a\\ b=c", {"a b": "c"}),
        ("a\\=b=c", {"a=b": "c"}),
        ("a\\:b=c", {"a:b": "c"}),
        ("\\#a=b", {"#a": "b"}),
        ("a=tab\\there\\nnl\\rcr\\fff", {"a": "tab\there\nnl\rcr\fff"}),
        ("a=\\q\\.", {"a": "q."}),  # an unknown escape is the character itself
        ("a=\\u0041\\u00e9\\u20AC", {"a": "A\u00e9\u20ac"}),
        ("\\u0041key=v", {"Akey": "v"}),
        # malformed \u escapes never raise
        ("a=\\uZZZZ", {"a": "uZZZZ"}),
        # later keys win
        ("a=1\na=2", {"a": "2"}),
        ("", {}),
        ("\n\n   \n", {}),
    ],
)
def test_parse_properties(text, expected):
    assert parse_properties(text) == expected


def test_escaped_backslash_before_u_is_not_a_unicode_escape():
    assert parse_properties("a=\\\\u0041") == {"a": "\\u0041"}


def test_unicode_escaped_backslash_is_literal():
    assert parse_properties("a=\\u005cn") == {"a": "\\n"}


@pytest.mark.parametrize("char", ["\x0c", "\x85", "\u2028"])
def test_only_cr_and_lf_end_a_line(char):
    assert parse_properties(f"a=x{char}y") == {"a": f"x{char}y"}


def test_properties_from_hostile_files():
    host = LocalHost()
    latin1 = parse_properties(host.read_text(str(HOSTILE / "config" / "latin1.properties")))
    assert latin1 == {"greeting": "caf\u00e9", "nul": "a\x00b", "server.port": "8080"}

    bad = parse_properties(host.read_text(str(HOSTILE / "config" / "bad-unicode-escape.properties")))
    assert bad["good"] == "A" and bad["server.port"] == "8080"
    assert set(bad) == {"short", "notHex", "good", "server.port"}

    eof = parse_properties(host.read_text(str(HOSTILE / "config" / "continuation-at-eof.properties")))
    assert eof == {"server.port": "8080", "spring.application.name": "dangling"}


# -- parse_yaml_flat ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server:\n  port: 8081\n", {"server.port": "8081"}),
        ("spring:\n  datasource:\n    url: jdbc:h2:mem:x\n", {"spring.datasource.url": "jdbc:h2:mem:x"}),
        ("server.port: 9000\n", {"server.port": "9000"}),  # dotted keys stay as they are
        ("hosts:\n  - a\n  - b\n", {"hosts[0]": "a", "hosts[1]": "b"}),
        ("list:\n  - name: x\n    port: 1\n", {"list[0].name": "x", "list[0].port": "1"}),
        ("flag: true\nlevel: off\n", {"flag": "true", "level": "false"}),  # YAML 1.1 booleans, Java spelling
        ("ratio: 1.5\noctal: 010\n", {"ratio": "1.5", "octal": "8"}),
        ("empty:\nnothing: null\nx: 1\n", {"x": "1"}),  # nulls are absent, not "None"
        ("1: one\n", {"1": "one"}),
        ("a: 1\n---\na: 2\nb: 3\n", {"a": "2", "b": "3"}),  # multi-document: later wins
        ("a: 1\n---\n- x\n---\nplain scalar\n", {"a": "1"}),  # non-mapping documents ignored
        # not YAML, or not a mapping: {}
        ("a: [unclosed\n", {}),
        ("a:\n\tb: 1\n", {}),
        ("- 1\n- 2\n", {}),
        ("just text", {}),
        ("", {}),
        ("!!python/object/apply:os.system ['true']\n", {}),
    ],
)
def test_parse_yaml_flat(text, expected):
    assert parse_yaml_flat(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("python-object.yml", {}),
        ("invalid.yml", {}),
        ("not-a-mapping.yml", {}),
        ("multi-document.yml", {"server.port": "9090", "server.address": "127.0.0.1", "spring.application.name": "demo"}),
    ],
)
def test_parse_yaml_flat_hostile_files(name, expected):
    assert parse_yaml_flat((HOSTILE / "config" / name).read_text(encoding="utf-8")) == expected


def test_yaml_alias_bomb_is_bounded():
    text = (HOSTILE / "config" / "yaml-alias-bomb.yml").read_text(encoding="utf-8")
    assert text == _make_hostile().yaml_alias_bomb(5)
    started = time.monotonic()
    result = parse_yaml_flat(text)
    assert time.monotonic() - started < 2
    # A reader that does not expand aliases cannot make more keys than the text has bytes.
    assert len(result) <= len(text)


# -- parse_manifest -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Manifest-Version: 1.0\nMain-Class: a.B\n", {"Manifest-Version": "1.0", "Main-Class": "a.B"}),
        ("Manifest-Version: 1.0\r\nMain-Class: a.B\r\n\r\n", {"Manifest-Version": "1.0", "Main-Class": "a.B"}),
        # continuation: one leading space is dropped, the rest joined without a separator
        ("Class-Path: lib/a.jar\n  lib/b.jar\n", {"Class-Path": "lib/a.jar lib/b.jar"}),
        ("Start-Class: com.example.Dem\n o\n", {"Start-Class": "com.example.Demo"}),
        # the main section ends at the first blank line; per-entry sections are not read
        ("A: 1\n\nName: x\nA: 2\nB: 3\n", {"A": "1"}),
        # blank lines before any attribute are skipped
        ("\n\nA: 1\n", {"A": "1"}),
        ("B: x: y\n", {"B": "x: y"}),
        ("A:1\n", {"A": "1"}),
        ("no colon here\nA: 1\n", {"A": "1"}),
        (" orphan continuation\nA: 1\n", {"A": "1"}),
        ("", {}),
    ],
)
def test_parse_manifest(text, expected):
    assert parse_manifest(text) == expected


def test_parse_manifest_hostile_file():
    text = LocalHost().read_text(str(HOSTILE / "config" / "MANIFEST.MF"))
    manifest = parse_manifest(text)
    assert manifest["Main-Class"] == "org.springframework.boot.loader.JarLauncher"
    assert manifest["Start-Class"] == "com.example.Demo"
    assert "Name" not in manifest
