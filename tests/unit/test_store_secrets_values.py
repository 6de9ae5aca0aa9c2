"""Reading secret values again for ``a2c analyze --store-secrets``: each reader gives the value the
application reads (escapes undone), and the entry script filling that value into the templated
copy gives the application the same settings as the original file. Hostile cases: a file changed
or gone since the analysis, a secret whose line moved, two secrets now ambiguous, a process gone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml
from lxml import etree

from a2c.analyzers.common.configsecrets import scan_file, secret_values, template_file
from a2c.analyzers.common.properties import parse_properties
from a2c.analyzers.common.secretvalues import SecretValue, cmdline_secret_values, file_secret_values, read_secret_values
from a2c.analyzers.java.common import secrets_found
from a2c.generate.container import render_container_artifacts
from a2c.hosts.local import LocalHost
from a2c.model import BuildPlan, ProcessInfo
from tests.conftest import missing

NASTY = 'p"a\\ss<&>\'w$(id)`x` é'

# (file name, content, {variable: the value the application reads})
CASES = [
    ("app.properties", "db.user=sa\ndb.password=fi\\\\le\\:pw\\u00e9 \\\n  tail\nurl=jdbc:postgresql://u:pw1@db/x\n",
     {"A2C_SECRET_DB_PASSWORD": "fi\\le:pwé tail", "A2C_SECRET_URL_PASSWORD": "pw1"}),
    ("application.yml", 'spring:\n  datasource:\n    password: "q\\"uo\\\\te"\n    url: jdbc:mysql://u:pw2@h/db\n'
     "api:\n  token: &t 's''ingle'\n",
     {"A2C_SECRET_SPRING_DATASOURCE_PASSWORD": 'q"uo\\te', "A2C_SECRET_SPRING_DATASOURCE_URL_PASSWORD": "pw2",
      "A2C_SECRET_API_TOKEN": "s'ingle"}),
    ("context.xml", '<Context>\n  <Resource name="jdbc/shop" password="x&amp;m&lt;l&quot;&#233;"/>\n'
     "  <Parameter><param-name>db.password</param-name><param-value>t&gt;xt</param-value></Parameter>\n</Context>\n",
     {"A2C_SECRET_JDBC_SHOP_PASSWORD": 'x&m<l"é', "A2C_SECRET_DB_PASSWORD": "t>xt"}),
    ("appsettings.json", '{"ConnectionStrings": {"Default": "Server=db;User Id=sa;Password=j\\"s\\\\on;"},\n'
     ' "Jwt": {"SigningKey": "k\\u00e9y\\n2"}}\n',
     {"A2C_SECRET_CONNECTIONSTRINGS_DEFAULT_PASSWORD": 'j"s\\on', "A2C_SECRET_JWT_SIGNINGKEY": "kéy\n2"}),
    ("app.env", "export API_TOKEN='t0k en'\nDB_PASSWORD=plain$1\n",
     {"A2C_SECRET_API_TOKEN": "t0k en", "A2C_SECRET_DB_PASSWORD": "plain$1"}),
]


def _by_var(path: str, data: bytes) -> dict[str, str]:
    return {var: value for _, _, var, value in secret_values(path, data, scan_file(path, data).secrets)}


@pytest.mark.parametrize("name,content,expected", CASES, ids=[c[0] for c in CASES])
def test_each_format_gives_the_value_the_application_reads(name, content, expected):
    assert _by_var(f"/conf/{name}", content.encode()) == expected


def test_refused_xml_is_read_by_its_line_scan_with_entities_undone():
    data = b'<!DOCTYPE x [<!ENTITY e "x">]>\n<Context><Resource name="jdbc/a" password="a&amp;b&#x3c;"/></Context>\n'
    assert _by_var("/conf/server.xml", data) == {"A2C_SECRET_JDBC_A_PASSWORD": "a&b<"}


def test_a_private_key_block_is_read_whole():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\nOgIB\n-----END RSA PRIVATE KEY-----"
    assert _by_var("/conf/key.txt", (pem + "\n").encode()) == {"A2C_SECRET_RSA_PRIVATE_KEY": pem}


@pytest.fixture
def render_function():
    """The entry script's own a2c_render (run with /bin/sh and awk), which fills the values."""
    if not shutil.which("awk"):
        missing("awk", "install mawk")
    plan = BuildPlan(app_id="a", base_image="b", layers=(), entrypoint=("true",), workdir="/",
                     render_at_start={"/x.json": ("A2C_SECRET_X",)})
    script = render_container_artifacts(plan, host_name="h", health_path="/", secrets=[])["a2c/entrypoint.sh"]
    function = re.search(r"a2c_render\(\) \{.*?\n\}\n", script, re.S)
    assert function is not None
    return function.group(0)


def _settings(name: str, text: str):
    """What the application reads from a file of this kind."""
    if name.endswith(".properties"):
        return parse_properties(text)
    if name.endswith(".yml"):
        return yaml.safe_load(text)
    if name.endswith(".json"):
        return json.loads(text)
    if name.endswith(".xml"):
        return etree.tostring(etree.fromstring(text.encode()), method="c14n")
    return text


@pytest.mark.parametrize("name,content,expected", CASES, ids=[c[0] for c in CASES])
def test_the_entry_script_fills_the_stored_values_back_to_the_original(render_function, tmp_path, name, content,
                                                                       expected):
    path = tmp_path / name
    data = content.encode()
    templated, applied = template_file(str(path), data, scan_file(str(path), data).secrets)
    assert {s.env_var for s in applied} == set(expected)
    values = _by_var(str(path), data)
    path.write_bytes(templated)
    subprocess.run(["sh", "-c", render_function + f'a2c_render "{path}" ' + " ".join(values)], check=True,
                   env={**os.environ, **values}, timeout=10)
    assert _settings(name, path.read_text(encoding="utf-8")) == _settings(name, content)


# -- the command line and the environment -----------------------------------------------------------

def test_command_line_values_are_named_as_the_analysis_names_them():
    args = ["/usr/bin/java", "-Ddb.password=a\"b\\c", "--api.token", "t'k", "-Dspring.datasource.url=jdbc:postgresql://u:pw@h/x",
            "-Xmx1g", "--db.password", "second", "-jar", "app.jar"]
    values = cmdline_secret_values(args)
    assert values == {"db.password": 'a"b\\c', "api.token": "t'k", "spring.datasource.url.secret": "pw",
                      "db.password2": "second"}
    analysis = [s["name"] for s in secrets_found(ProcessInfo(pid=1, cmdline=tuple(args))) if s["foundIn"] == "command line"]
    assert sorted(analysis) == sorted(values)


def test_the_program_itself_is_never_a_secret():
    assert cmdline_secret_values(["/opt/pass=word/java", "-version"]) == {}


def _secret(name, found_in, env_var, line=0):
    return {"name": name, "foundIn": found_in, "envVar": env_var, **({"line": line} if line else {})}


def test_environment_and_command_line_are_read_from_the_process_now():
    proc = ProcessInfo(pid=7, cmdline=("java", "-Ddb.password=now"), environ={"DB_PASSWORD": "env now", "PATH": "/bin"})
    secrets = [_secret("DB_PASSWORD", "environment", "DB_PASSWORD"),
               _secret("db.password", "command line", "A2C_SECRET_DB_PASSWORD"),
               _secret("API_KEY", "environment", "API_KEY")]
    got = {v.env_var: (v.value, bool(v.problem)) for v in read_secret_values(secrets, LocalHost(), proc)}
    assert got == {"DB_PASSWORD": ("env now", False), "A2C_SECRET_DB_PASSWORD": ("now", False), "API_KEY": (None, True)}


def test_a_process_gone_leaves_its_secrets_unread_but_files_are_still_read(tmp_path):
    conf = tmp_path / "db.properties"
    conf.write_text("db.password=from-file\n")
    secrets = [_secret("DB_PASSWORD", "environment", "DB_PASSWORD"),
               _secret("db.password", "command line", "A2C_SECRET_DB_PASSWORD"),
               _secret("db.password", str(conf), "A2C_SECRET_DB_PASSWORD_2", 1)]
    values = read_secret_values(secrets, LocalHost(), None)
    assert [v.value for v in values] == [None, None, "from-file"]
    assert all("process is gone" in v.problem for v in values[:2])


def test_one_value_per_variable_as_deployment_json_lists_them():
    proc = ProcessInfo(pid=7, cmdline=("java",), environ={"DB_PASS": "first"})
    secrets = [_secret("DB_PASS", "environment", "DB_PASS"), _secret("DB_PASS", "/nowhere/server.env", "DB_PASS", 3)]
    assert [(v.env_var, v.found_in, v.value) for v in read_secret_values(secrets, LocalHost(), proc)] == [
        ("DB_PASS", "environment", "first")]


def test_a_secret_from_elsewhere_is_reported_not_guessed():
    values = read_secret_values([_secret("argument3", "service command line", "A2C_SECRET_ARGUMENT3")], LocalHost(), None)
    assert values[0].value is None and "store" in values[0].problem


# -- files changed since the analysis ----------------------------------------------------------------

def _file_values(tmp_path, text, secrets):
    path = tmp_path / "app.properties"
    path.write_text(text)
    listed = [dict(s, foundIn=str(path)) for s in secrets]
    return read_secret_values(listed, LocalHost(), None), path


def test_a_changed_value_is_read_as_it_is_now(tmp_path):
    values, _ = _file_values(tmp_path, "db.password=changed\n", [_secret("db.password", "", "A2C_SECRET_DB_PASSWORD", 1)])
    assert values[0].value == "changed"


def test_a_secret_whose_line_moved_is_found_by_its_name(tmp_path):
    values, _ = _file_values(tmp_path, "# a new comment\n\nother=1\ndb.password=moved\n",
                             [_secret("db.password", "", "A2C_SECRET_DB_PASSWORD", 1)])
    assert values[0].value == "moved"


def test_two_secrets_of_one_name_that_moved_are_ambiguous(tmp_path):
    path = tmp_path / "app.conf"
    path.write_text("# moved down\n[a]\npassword=one\n[a]\npassword=two\n")
    listed = [_secret("a.password", str(path), "A2C_SECRET_A_PASSWORD", 2),
              _secret("a.password", str(path), "A2C_SECRET_A_PASSWORD_2", 4)]
    values = read_secret_values(listed, LocalHost(), None)
    assert [v.value for v in values] == [None, None]
    assert "2 different values" in values[0].problem and "do not find" in values[1].problem


def test_a_secret_removed_from_its_file_is_reported(tmp_path):
    values, path = _file_values(tmp_path, "db.user=sa\n", [_secret("db.password", "", "A2C_SECRET_DB_PASSWORD", 1)])
    assert values[0].value is None and str(path) in values[0].problem


def test_a_file_gone_is_reported_by_its_path(tmp_path):
    gone = str(tmp_path / "gone.properties")
    values = read_secret_values([_secret("db.password", gone, "A2C_SECRET_DB_PASSWORD", 1)], LocalHost(), None)
    assert values[0].value is None and gone in values[0].problem


def test_a_file_that_became_binary_gives_no_value():
    assert file_secret_values("/conf/app.properties", b"\x00\x01\x02db.password=x\x00" * 20,
                              [_secret("db.password", "/conf/app.properties", "A2C_SECRET_DB_PASSWORD", 1)]) == {}


def test_values_stay_out_of_reprs():
    value = SecretValue("DB_PASSWORD", "DB_PASSWORD", "environment", NASTY)
    assert NASTY not in repr(value) and NASTY not in str(value)
