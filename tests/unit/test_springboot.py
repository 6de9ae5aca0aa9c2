"""Spring Boot: where a property's effective value comes from, and which files feed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_make_hostile
from a2c.analyzers.java.springboot import config_sources, effective_property, is_spring_boot, read_manifest
from a2c.hosts.local import LocalHost

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

CONFIG_DIR = ("/app/config/application.properties", {"server.port": "7001", "server.address": "127.0.0.1"})
CWD_YAML = ("/app/application.yml", {"server.port": "7002", "spring.application.name": "from-yaml"})
IN_JAR = ("jar:/app/app.jar!/BOOT-INF/classes/application.properties", {"server.port": "7003", "x": "jar"})
SOURCES = [CONFIG_DIR, CWD_YAML, IN_JAR]


@pytest.mark.parametrize(
    ("key", "args", "props", "environ", "sources", "expected"),
    [
        # command line beats everything
        ("server.port", ("--server.port=1",), {"server.port": "2"}, {"SERVER_PORT": "3"}, SOURCES, ("1", "command line")),
        # then a -D system property
        ("server.port", ("--other=1",), {"server.port": "2"}, {"SERVER_PORT": "3"}, SOURCES, ("2", "system property")),
        # then the environment, relaxed binding: server.port -> SERVER_PORT
        ("server.port", (), {}, {"SERVER_PORT": "3"}, SOURCES, ("3", "environment SERVER_PORT")),
        ("spring.application.name", (), {}, {"SPRING_APPLICATION_NAME": "env"}, SOURCES,
         ("env", "environment SPRING_APPLICATION_NAME")),
        ("server.max-http-header-size", (), {}, {"SERVER_MAXHTTPHEADERSIZE": "8KB"}, [],
         ("8KB", "environment SERVER_MAXHTTPHEADERSIZE")),
        # then config files, in the order given (./config/ before ./ before the jar)
        ("server.port", (), {}, {}, SOURCES, ("7001", CONFIG_DIR[0])),
        ("server.port", (), {}, {}, [CWD_YAML, IN_JAR], ("7002", CWD_YAML[0])),
        ("server.port", (), {}, {}, [IN_JAR], ("7003", IN_JAR[0])),
        ("spring.application.name", (), {}, {}, SOURCES, ("from-yaml", CWD_YAML[0])),
        # then the default: 8080 for server.port, nothing for anything else
        ("server.port", (), {}, {}, [], ("8080", "default")),
        ("server.address", (), {}, {}, [], ("", "")),
        # not a Spring command-line property: "--server.port 5" (two args) or a bare flag
        ("server.port", ("--server.port", "5"), {}, {}, [], ("8080", "default")),
        ("server.port", ("--server.portx=5",), {}, {}, [], ("8080", "default")),
        # an empty value is still a value
        ("server.address", ("--server.address=",), {}, {}, [CONFIG_DIR], ("", "command line")),
        # the lower-case variable name is not the relaxed form
        ("server.port", (), {}, {"server_port": "9"}, [], ("8080", "default")),
    ],
)
def test_effective_property(key, args, props, environ, sources, expected):
    assert effective_property(key, args, props, environ, sources) == expected


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ({"Spring-Boot-Version": "3.2.0"}, True),
        ({"Main-Class": "org.springframework.boot.loader.JarLauncher"}, True),
        ({"Main-Class": "org.springframework.boot.loader.launch.JarLauncher"}, True),
        ({"Main-Class": "com.example.Main"}, False),
        ({}, False),
    ],
)
def test_is_spring_boot(manifest, expected):
    assert is_spring_boot(manifest) is expected


def _make_hostile():
    return load_make_hostile()


def test_config_sources_order_and_hostile_jars(tmp_path):
    make_hostile = _make_hostile()
    jar = make_hostile.write_zip(tmp_path / "app.jar", {
        "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nSpring-Boot-Version: 3.2.0\r\n\r\n",
        "BOOT-INF/classes/application.properties": "server.port=7003\n",
        "BOOT-INF/classes/application.yml": "server:\n  port: 7004\n",
    })
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "application.properties").write_text("server.port=7001\n")
    (tmp_path / "application.yml").write_text("server:\n  port: 7002\n")
    host = LocalHost()
    findings: list = []
    sources, files = config_sources(host, str(jar), str(tmp_path), findings=findings)
    assert files == [str(tmp_path / "config" / "application.properties"), str(tmp_path / "application.yml")]
    assert [values["server.port"] for _, values in sources] == ["7001", "7002", "7003", "7004"]
    assert sources[2][0] == f"jar:{jar}!/BOOT-INF/classes/application.properties"
    assert findings == []
    assert read_manifest(host, str(jar))["Spring-Boot-Version"] == "3.2.0"

    # a broken jar becomes a finding, not an exception
    broken = FIXTURES / "hostile" / "archives" / "truncated.jar"
    sources, files = config_sources(host, str(broken), "", findings=findings)
    assert sources == [] and files == []
    assert [f.code for f in findings] == ["SPRING-E002"]
    assert read_manifest(host, str(broken)) == {}
