"""Secrets in configuration files: every format the scanner reads, over the hostile corpus.

Each file under fixtures/hostile/configsecrets/ plants values spelled ``CANARY-<case>-7f3a``;
after templating none may be left, each must have become a ``${A2C_SECRET_…}`` placeholder,
and the file must still parse in its format.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from a2c.analyzers.common.properties import parse_properties
from a2c.analyzers.common.safexml import parse_xml
from a2c.analyzers.dotnet import coreconfig, coresecrets
from a2c.analyzers.java import common
from a2c.analyzers.common import configfiles, configsecrets
from a2c.analyzers.common.configsecrets import FileSecret, scan_file, template_file
from a2c.hosts.local import LocalHost

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hostile" / "configsecrets"
PLACEHOLDER = re.compile(r"\$\{A2C_SECRET_[A-Z0-9_]+\}")
TEXT_CASES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "binary.dat")


def _template(path: Path) -> tuple[str, configsecrets.ScanResult]:
    data = path.read_bytes()
    scan = scan_file(str(path), data)
    out, applied = template_file(str(path), data, scan.secrets)
    assert [(s.key, s.line) for s in applied] == [(s.key, s.line) for s in scan.secrets]
    return out.decode("utf-8"), scan


def _parses(path: Path, text: str) -> None:
    kind = configsecrets.kind_of(str(path))
    if kind == "yaml":
        yaml.safe_load(text)
    elif kind == "json":
        coreconfig.parse_json(text)
    elif kind == "xml" and "<!DOCTYPE" not in text:
        parse_xml(text.encode(), str(path))
    elif kind == "properties":
        parse_properties(text)


@pytest.mark.parametrize("path", TEXT_CASES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_no_canary_survives_templating(path):
    original = path.read_text(encoding="utf-8")
    assert "CANARY-" in original
    templated, scan = _template(path)
    assert scan.secrets, "nothing found"
    assert "CANARY-" not in templated, templated
    assert PLACEHOLDER.search(templated)
    _parses(path, templated)
    # templating again finds nothing new: placeholders are not secrets
    again = scan_file(str(path), templated.encode())
    assert not again.secrets


@pytest.mark.parametrize("path", TEXT_CASES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_names_and_variables_are_fit_for_json_and_shell(path):
    _, scan = _template(path)
    json.dumps([s.to_json() for s in scan.secrets], ensure_ascii=False).encode("utf-8")
    assert all(re.fullmatch(r"A2C_SECRET_[A-Z0-9_]+", s.env_var) for s in scan.secrets)


def _props(name: str) -> dict[str, str]:
    return parse_properties(_template(CORPUS / name)[0])


def test_unicode_escaped_key():
    props = _props("unicode-escape-key.properties")
    assert props["db.password"] == "${A2C_SECRET_DB_PASSWORD}" and props["server.port"] == "8080"


def test_continuation_lines_become_one_placeholder():
    templated, scan = _template(CORPUS / "continuation.properties")
    assert {s.key for s in scan.secrets} == {"spring.datasource.password", "app.api-token"}
    props = parse_properties(templated)
    assert props["spring.datasource.password"] == "${A2C_SECRET_SPRING_DATASOURCE_PASSWORD}"
    assert props["app.api-token"] == "${A2C_SECRET_APP_API_TOKEN}"
    assert props["server.port"] == "8080"  # the commented backslash did not swallow it
    assert "valcont" not in templated and "7f3a" not in templated


def test_only_the_password_of_a_url_is_replaced():
    props = _props("url-secrets.properties")
    assert props["spring.datasource.url"] == ("jdbc:mysql://db.internal:3306/shop?user=shop&password="
                                              "${A2C_SECRET_SPRING_DATASOURCE_URL_PASSWORD}&useSSL=true")
    assert props["report.url"].endswith("&password=${A2C_SECRET_REPORT_URL_PASSWORD}")
    assert props["spring.rabbitmq.addresses"] == \
        "amqp://shop:${A2C_SECRET_SPRING_RABBITMQ_ADDRESSES_PASSWORD}@mq.internal:5672/vhost"
    assert props["legacy.url"] == "jdbc:oracle:thin:scott/${A2C_SECRET_LEGACY_URL_PASSWORD}@ora.internal:1521/ORCL"
    assert props["plain.url"] == "https://example.org/path@x"


def _yaml(name: str) -> dict:
    return yaml.safe_load(_template(CORPUS / name)[0])


def test_yaml_flow_map():
    doc = _yaml("flow-map.yml")
    assert doc["db"] == {"user": "shop", "password": "${A2C_SECRET_DB_PASSWORD}", "host": "db.internal"}
    assert doc["list"] == ["a", {"token": "${A2C_SECRET_LIST_1_TOKEN}"}]


def test_yaml_block_scalars():
    assert _yaml("block-scalar.yml")["app"] == {"password": "${A2C_SECRET_APP_PASSWORD}",
                                               "secret": "${A2C_SECRET_APP_SECRET}", "name": "shop"}


def test_yaml_anchors_template_the_anchored_value():
    doc = _yaml("anchors.yml")
    assert doc["db"]["password"] == doc["defaults"] == "${A2C_SECRET_DB_PASSWORD}"
    assert doc["cache"] == {"password": "${A2C_SECRET_CACHE_PASSWORD}", "other": "${A2C_SECRET_CACHE_PASSWORD}"}


def test_yaml_value_on_the_next_line():
    doc = _yaml("next-line.yml")
    assert doc["spring"]["datasource"] == {"password": "${A2C_SECRET_SPRING_DATASOURCE_PASSWORD}", "username": "shop"}


def test_yaml_quoted_values():
    assert _yaml("quoted.yml")["mail"] == {"password": "${A2C_SECRET_MAIL_PASSWORD}",
                                           "smtp-secret": "${A2C_SECRET_MAIL_SMTP_SECRET}",
                                           "url": "amqp://u:${A2C_SECRET_MAIL_URL_PASSWORD}@mq:5672"}


def test_tomcat_environment_and_friends():
    templated, _ = _template(CORPUS / "tomcat-environment.xml")
    root = parse_xml(templated.encode(), "t")
    environment = root.find("Environment")
    assert environment.get("value") == "${A2C_SECRET_DBPASSWORD}" and environment.get("type") == "java.lang.String"
    assert root.find("Parameter").get("value") == "${A2C_SECRET_API_TOKEN}"
    assert root.find("Resource").get("url") == \
        "jdbc:postgresql://db.internal/shop?user=shop&password=${A2C_SECRET_JDBC_SHOP_URL_PASSWORD}"
    assert root.find("bean/property").get("value") == "${A2C_SECRET_PASSWORD}"
    assert root.find("bean/property/value").text == "${A2C_SECRET_SECRET}"
    assert root.find("map/entry").text.startswith("${A2C_SECRET_PASSWORD")
    assert root.find("context-param/param-value").text == "${A2C_SECRET_DB_PASSWORD}"
    assert root.findall("Environment")[1].get("value") == "500"  # not a secret


def test_xml_the_reader_refuses_is_line_scanned_and_reported():
    path = CORPUS / "doctype-context.xml"
    templated, scan = _template(path)
    assert scan.method == "lines"
    assert [f.code for f in scan.findings] == ["CONF-W002"] and "line by line" in scan.findings[0].message
    assert "CANARY-" not in templated and "&host;" in templated  # everything else byte for byte
    assert templated.replace("${A2C_SECRET_JDBC_SHOP_PASSWORD}", "X") != templated


def test_appsettings_secret_sections():
    text = (CORPUS / "appsettings-apikeys.json").read_text()
    names = {s.name for s in coresecrets.json_secrets("appsettings.json", text)}
    assert names == {"ApiKeys:Stripe", "ApiKeys:Maps", "Secrets:Webhook", "Credentials:0", "Credentials:1:User"}
    templated, _ = _template(CORPUS / "appsettings-apikeys.json")
    flat = coreconfig.flatten(coreconfig.load_json(templated))
    assert flat["ApiKeys:Stripe"] == "${A2C_SECRET_APIKEYS_STRIPE}" and flat["Secrets:Path"] == "/etc/app"
    assert flat["Logging:LogLevel:Default"] == "Information" and flat["AllowedHosts"] == "*"


def test_generic_json_config():
    flat = coreconfig.flatten(coreconfig.load_json(_template(CORPUS / "settings.json")[0]))
    assert flat["database:url"] == "postgres://app:${A2C_SECRET_DATABASE_URL_PASSWORD}@db.internal/app"
    assert flat["database:password"] == "${A2C_SECRET_DATABASE_PASSWORD}"
    assert flat["tokens:github"] == "${A2C_SECRET_TOKENS_GITHUB}" and flat["server:port"] == "8080"


def test_line_scan_of_conf_and_dotenv():
    conf, _ = _template(CORPUS / "app.conf")
    assert 'password = "${A2C_SECRET_DATABASE_PASSWORD}"' in conf
    assert "stripe = ${A2C_SECRET_SECRETS_STRIPE}" in conf and "timeout = 30" in conf
    assert "url = amqp://guest:${A2C_SECRET_MQ_URL_PASSWORD}@mq.internal:5672/" in conf
    assert "auth_token ${A2C_SECRET_MQ_AUTH_TOKEN};" in conf and "host = db.internal" in conf
    dotenv, _ = _template(CORPUS / ".env")
    assert "export DB_PASSWORD='${A2C_SECRET_DB_PASSWORD}'" in dotenv and "APP_NAME=shop" in dotenv


def test_pem_private_key_block_is_one_placeholder():
    text, _ = _template(CORPUS / "pem-key.txt")
    assert "${A2C_SECRET_RSA_PRIVATE_KEY}\ntrailer line" in text
    assert "MIIBpublicpart" in text and "MIIEowIBAAKCAQEA" not in text  # the certificate stays


def test_binary_file_is_reported_not_scanned():
    data = (CORPUS / "binary.dat").read_bytes()
    scan = scan_file(str(CORPUS / "binary.dat"), data)
    assert not scan.secrets and [f.code for f in scan.findings] == ["CONF-W003"]
    assert template_file(str(CORPUS / "binary.dat"), data)[0] == data


@pytest.mark.parametrize(("path", "kind"), [
    ("/a/application.properties", "properties"), ("/a/b.yml", "yaml"), ("/a/b.YAML", "yaml"),
    ("/a/context.xml", "xml"), ("/a/web.config", "xml"), ("/a/appsettings.json", "json"),
    ("/a/.env", "lines"), ("/a/.env.production", "lines"), ("/a/app.conf", "lines"), ("/a/x.cfg", "lines"),
    ("/a/x.ini", "lines"), ("/a/pyproject.toml", "lines"), ("/a/notes.txt", "lines"), ("/a/conf/database", "lines"),
    ("/a/etc/secrets", "lines"), ("/a/bin/run", ""), ("/a/lib/app.jar", ""),
])
def test_kind_of(path, kind):
    assert configsecrets.kind_of(path) == kind


def test_unknown_text_file_is_line_scanned():
    scan = scan_file("/app/run.sh", b"#!/bin/sh\nexport DB_PASSWORD=CANARY-sh-7f3a\nexec java -jar app.jar\n")
    assert [s.key for s in scan.secrets] == ["DB_PASSWORD"]
    out, _ = template_file("/app/run.sh", b"#!/bin/sh\nexport DB_PASSWORD=CANARY-sh-7f3a\n", scan.secrets)
    assert b"CANARY" not in out


# -- bounded work ---------------------------------------------------------------------------------

def test_deep_flow_yaml_is_line_scanned_quickly():
    text = "password: CANARY-deepflow-7f3a\nx: " + "[" * 20000 + "]" * 20000 + "\n"
    started = time.monotonic()
    scan = scan_file("/app/deep.yml", text.encode())
    out, _ = template_file("/app/deep.yml", text.encode(), scan.secrets)
    assert time.monotonic() - started < 5
    assert [f.code for f in scan.findings] == ["CONF-W002"] and b"CANARY" not in out


def test_deep_block_yaml_does_not_recurse():
    text = "".join(" " * i + f"k{i}:\n" for i in range(1500)) + " " * 1500 + "password: CANARY-deepblock-7f3a\n"
    scan = scan_file("/app/deep.yml", text.encode())
    out, _ = template_file("/app/deep.yml", text.encode(), scan.secrets)
    assert scan.secrets and b"CANARY" not in out


def test_alias_bomb_is_not_expanded():
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")) + "password: *i\n"
    started = time.monotonic()
    scan = scan_file("/app/bomb.yml", text.encode())
    assert time.monotonic() - started < 2 and not scan.findings


def test_lone_surrogate_escape_in_a_key():
    data = b"db.pass\\uD800word=CANARY-surrogate-7f3a\nother.password=x\n"
    scan = scan_file("/app/a.properties", data)
    json.dumps([s.to_json() for s in scan.secrets]).encode("utf-8")
    assert "CANARY" not in template_file("/app/a.properties", data, scan.secrets)[0].decode()


# -- analysis secrets reach the right spots -----------------------------------------------------

def test_template_takes_variables_by_name_and_line():
    data = b"db.password=first\ndb.password=second\n"
    secrets = [FileSecret("/a.properties", "db.password", "A2C_SECRET_DB_PASSWORD", 1),
               FileSecret("/a.properties", "db.password", "A2C_SECRET_DB_PASSWORD_2", 2)]
    out, applied = template_file("/a.properties", data, secrets)
    assert out == b"db.password=${A2C_SECRET_DB_PASSWORD}\ndb.password=${A2C_SECRET_DB_PASSWORD_2}\n"
    assert [s.env_var for s in applied] == ["A2C_SECRET_DB_PASSWORD", "A2C_SECRET_DB_PASSWORD_2"]


def test_listed_secrets_are_templated_even_when_not_secret_named():
    data = b"username=weblogic\npassword=welcome1\n"
    secrets = [FileSecret("/boot.properties", "username", "A2C_SECRET_BOOT_USERNAME", 1)]
    out, _ = template_file("/boot.properties", data, secrets)
    assert out == b"username=${A2C_SECRET_BOOT_USERNAME}\npassword=${A2C_SECRET_PASSWORD}\n"


def test_json_template_takes_variables_by_name_and_line():
    data = b'{"A": {"Password": "one"},\n "B": {"Password": "two"}}'
    out, _ = coresecrets.template_json("/s.json", data, {("A:Password", 1): "V1", "B:Password": "V2"})
    assert out == b'{"A": {"Password": "${V1}"},\n "B": {"Password": "${V2}"}}'


def test_scan_config_files_and_secret_templates_on_a_host(tmp_path):
    for name in ("doctype-context.xml", "binary.dat", ".env", "settings.json"):
        (tmp_path / name).write_bytes((CORPUS / name).read_bytes())
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "database").write_bytes((CORPUS / "conf" / "database").read_bytes())
    host = LocalHost()
    paths = configfiles.config_files_in(host, [str(tmp_path)])
    assert {Path(p).name for p in paths} == {"doctype-context.xml", ".env", "settings.json", "database"}  # not .dat
    secrets, _, findings = configfiles.scan_config_files(host, paths + [str(tmp_path / "binary.dat")])
    codes = {(f.code, Path(f.path).name) for f in findings}
    assert ("CONF-W002", "doctype-context.xml") in codes and ("CONF-W003", "binary.dat") in codes
    generated: dict[str, bytes] = {}
    render = configfiles.secret_templates({"secrets": secrets}, host, generated)
    assert {Path(p).name for p in generated} == {"doctype-context.xml", ".env", "settings.json", "database"}
    assert all(b"CANARY" not in data for data in generated.values())
    for path, names in render.items():
        assert all(("${%s}" % n).encode() in generated[path] for n in names)


def test_a_file_templated_earlier_is_still_rendered_at_start(tmp_path):
    """An extraction archive holds the templated file: planning from it must still fill the placeholders."""
    path = tmp_path / "application.properties"
    path.write_text("db.password=${A2C_SECRET_DB_PASSWORD_2}\nserver.port=8080\n")
    secrets = [{"name": "db.password", "foundIn": str(path), "envVar": "A2C_SECRET_DB_PASSWORD_2", "line": 1}]
    generated: dict[str, bytes] = {}
    render = configfiles.secret_templates({"secrets": secrets}, LocalHost(), generated)
    assert render == {str(path): ("A2C_SECRET_DB_PASSWORD_2",)} and not generated
