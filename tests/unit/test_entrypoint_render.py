"""The entry script's secret filling, run for real with /bin/sh and the machine's awk: values with
quotes, backslashes and markup must keep JSON, XML and properties files well formed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from lxml import etree

from a2c.generate.container import render_container_artifacts
from a2c.model import BuildPlan

from tests.conftest import missing

NASTY = 'p"a\\ss<&>\'w$(id)`x`'


@pytest.fixture
def render_function(tmp_path):
    if not shutil.which("awk"):
        missing("awk", "install mawk")
    plan = BuildPlan(app_id="a", base_image="b", layers=(), entrypoint=("true",), workdir="/",
                     render_at_start={"/x.json": ("A2C_SECRET_X",)})
    script = render_container_artifacts(plan, host_name="h", health_path="/", secrets=[])["a2c/entrypoint.sh"]
    function = re.search(r"a2c_render\(\) \{.*?\n\}\n", script, re.S)
    assert function is not None
    return function.group(0)


def _render(function: str, path, text: str) -> str:
    path.write_text(text)
    subprocess.run(["sh", "-c", function + f'a2c_render "{path}" A2C_SECRET_X'], check=True,
                   env={**os.environ, "A2C_SECRET_X": NASTY}, timeout=10)
    return path.read_text()


def test_json_stays_json(render_function, tmp_path):
    out = _render(render_function, tmp_path / "appsettings.json",
                  '{"ConnectionStrings": {"Db": "Server=db;Password=${A2C_SECRET_X};"}}\n')
    assert json.loads(out)["ConnectionStrings"]["Db"] == f"Server=db;Password={NASTY};"


def test_xml_stays_xml(render_function, tmp_path):
    out = _render(render_function, tmp_path / "context.xml", '<Context><Resource password="${A2C_SECRET_X}"/></Context>\n')
    assert etree.fromstring(out.encode()).find("Resource").get("password") == NASTY


def test_properties_keep_backslashes(render_function, tmp_path):
    from a2c.analyzers.common.properties import parse_properties

    out = _render(render_function, tmp_path / "application.properties", "db.password=${A2C_SECRET_X}\nother=1\n")
    assert parse_properties(out) == {"db.password": NASTY, "other": "1"}


def test_unset_secret_renders_empty(render_function, tmp_path):
    path = tmp_path / "app.yml"
    path.write_text("password: \"${A2C_SECRET_X}\"\n")
    subprocess.run(["sh", "-c", render_function + f'a2c_render "{path}" A2C_SECRET_X'], check=True,
                   env={k: v for k, v in os.environ.items() if k != "A2C_SECRET_X"}, timeout=10)
    assert path.read_text() == 'password: ""\n'


def test_yaml_double_quoted_stays_yaml(render_function, tmp_path):
    import yaml

    out = _render(render_function, tmp_path / "application.yml", 'spring:\n  password: "${A2C_SECRET_X}"\n')
    assert yaml.safe_load(out)["spring"]["password"] == NASTY


PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\nBKcwggSjAgEAAoIBAQC7\tx\n-----END PRIVATE KEY-----\n"


def _render_value(function: str, path, text: str, value: str) -> str:
    path.write_text(text)
    subprocess.run(["sh", "-c", function + f'a2c_render "{path}" A2C_SECRET_X'], check=True,
                   env={**os.environ, "A2C_SECRET_X": value}, timeout=10)
    return path.read_text()


def test_a_multi_line_secret_stays_one_value_in_every_format(render_function, tmp_path):
    """A PEM key (templated out of a YAML block scalar or a JSON string) comes back whole."""
    import yaml

    from a2c.analyzers.common.properties import parse_properties

    out = _render_value(render_function, tmp_path / "a.json", '{"key": "${A2C_SECRET_X}", "n": 1}\n', PEM)
    assert json.loads(out) == {"key": PEM, "n": 1}
    out = _render_value(render_function, tmp_path / "a.yml", 'tls:\n  key: "${A2C_SECRET_X}"\nn: 1\n', PEM)
    assert yaml.safe_load(out) == {"tls": {"key": PEM}, "n": 1}
    out = _render_value(render_function, tmp_path / "a.properties", "tls.key=${A2C_SECRET_X}\nn=1\n", PEM)
    assert parse_properties(out) == {"tls.key": PEM, "n": "1"}
    out = _render_value(render_function, tmp_path / "a.xml", '<c><k v="${A2C_SECRET_X}"/></c>\n', PEM)
    assert etree.fromstring(out.encode()).find("k").get("v") == PEM
