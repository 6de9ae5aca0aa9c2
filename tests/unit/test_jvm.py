"""Java command lines and version strings."""

from __future__ import annotations

import pytest

from a2c.analyzers.java.jvm import (
    JavaCommand,
    default_base_image,
    is_java,
    parse_java_cmdline,
    parse_major,
    read_java_runtime,
    uses_heap_flags,
)
from a2c.hosts.local import LocalHost


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (["java", "-jar", "app.jar"], JavaCommand("java", (), {}, (), jar="app.jar")),
        (["/usr/bin/java", "-Xmx1g", "-jar", "app.jar", "--server.port=9000", "-Dnot.a.prop=1"],
         JavaCommand("/usr/bin/java", ("-Xmx1g",), {}, (), jar="app.jar", args=("--server.port=9000", "-Dnot.a.prop=1"))),
        (["java", "-cp", "a.jar:b.jar", "com.example.Main", "x", "-jar", "y.jar"],
         JavaCommand("java", ("-cp", "a.jar:b.jar"), {}, ("a.jar", "b.jar"), main_class="com.example.Main",
                     args=("x", "-jar", "y.jar"))),
        (["java", "-classpath", "lib/*:classes", "Main"],
         JavaCommand("java", ("-classpath", "lib/*:classes"), {}, ("lib/*", "classes"), main_class="Main")),
        (["java", "--class-path", "a:b", "Main"],
         JavaCommand("java", ("--class-path", "a:b"), {}, ("a", "b"), main_class="Main")),
        (["java", "--class-path=a.jar::b.jar:", "Main"],
         JavaCommand("java", ("--class-path=a.jar::b.jar:",), {}, ("a.jar", "b.jar"), main_class="Main")),
        # options that take the next argument: their value is not the main class
        (["java", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-jar", "x.jar"],
         JavaCommand("java", ("--add-opens", "java.base/java.lang=ALL-UNNAMED"), {}, (), jar="x.jar")),
        (["java", "--add-opens=java.base/java.lang=ALL-UNNAMED", "Main"],
         JavaCommand("java", ("--add-opens=java.base/java.lang=ALL-UNNAMED",), {}, (), main_class="Main")),
        (["java", "-p", "mods", "--add-modules", "ALL-SYSTEM", "-m", "app/com.example.Main", "a"],
         JavaCommand("java", ("-p", "mods", "--add-modules", "ALL-SYSTEM"), {}, (), module="app/com.example.Main",
                     args=("a",))),
        (["java", "--module", "app/com.example.Main"], JavaCommand("java", (), {}, (), module="app/com.example.Main")),
        (["java", "--module=app/com.example.Main", "a", "b"],
         JavaCommand("java", (), {}, (), module="app/com.example.Main", args=("a", "b"))),
        # system properties
        (["java", "-Da=b", "-Dflag", "-Dx=y=z", "-Dcatalina.base=/opt/tomcat", "Main", "-Dafter=main"],
         JavaCommand("java", ("-Da=b", "-Dflag", "-Dx=y=z", "-Dcatalina.base=/opt/tomcat"),
                     {"a": "b", "flag": "", "x": "y=z", "catalina.base": "/opt/tomcat"}, (), main_class="Main",
                     args=("-Dafter=main",))),
        (["java", "-Da=1", "-Da=2", "Main"], JavaCommand("java", ("-Da=1", "-Da=2"), {"a": "2"}, (), main_class="Main")),
        # no main: -version, or a dangling option at the end
        (["java", "-version"], JavaCommand("java", ("-version",), {}, ())),
        (["java"], JavaCommand("java", (), {}, ())),
        (["java", "-jar"], JavaCommand("java", ("-jar",), {}, ())),
        (["java", "-cp"], JavaCommand("java", ("-cp",), {}, ())),
    ],
)
def test_parse_java_cmdline(cmdline, expected):
    assert parse_java_cmdline(cmdline) == expected
    assert parse_java_cmdline(tuple(cmdline)) == expected


def test_parse_empty_cmdline():
    assert parse_java_cmdline([]) is None
    assert parse_java_cmdline(()) is None


@pytest.mark.parametrize(
    ("version", "major"),
    [
        ("1.8.0_392", 8),
        ("1.7.0_80", 7),
        ("1.8", 8),
        ("17.0.15", 17),
        ("11.0.2+9", 11),
        ("21", 21),
        ("9-ea", 9),
        ("25-ea+3", 25),
        ("1", 1),
        ("", 0),
        ("unknown", 0),
    ],
)
def test_parse_major(version, major):
    assert parse_major(version) == major


@pytest.mark.parametrize(
    ("name", "exe", "cmdline", "expected"),
    [
        ("java", "/usr/lib/jvm/java-17/bin/java", ("java", "-jar", "a.jar"), True),
        ("javaw", "", (), True),
        ("bash", "/bin/bash", ("java", "-version"), True),  # argv[0] counts (exe unreadable, wrapper exec)
        ("tomcat10", "/usr/lib/jvm/java-17/bin/java", ("/usr/lib/jvm/java-17/bin/java",), True),
        ("javac", "/usr/bin/javac", ("javac", "A.java"), False),
        ("jsvc", "/usr/bin/jsvc", ("jsvc.exec", "-java-home", "/usr/lib/jvm/x"), False),
        ("python3", "/usr/bin/python3", ("python3", "java"), False),
        ("", "", (), False),
    ],
)
def test_is_java(name, exe, cmdline, expected):
    assert is_java(name, exe, cmdline) is expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("-Xmx1g",), True),
        (("-XX:MaxRAMPercentage=50.0",), True),
        (("-XX:MaxRAM=2g",), True),
        (("-XX:MaxRAMFraction=2",), True),
        (("-Xms1g", "-Xss512k"), False),
        ((), False),
    ],
)
def test_uses_heap_flags(options, expected):
    assert uses_heap_flags(options) is expected


@pytest.mark.parametrize(("major", "image"), [(8, "eclipse-temurin:8-jre"), (21, "eclipse-temurin:21-jre"),
                                             (0, "eclipse-temurin:17-jre")])
def test_default_base_image(major, image):
    assert default_base_image(major) == image


@pytest.mark.parametrize("layout", ["jdk", "java8-jre"])
def test_read_java_runtime(tmp_path, layout):
    home = tmp_path / "jvm" / "jdk"
    bin_dir = home / "jre" / "bin" if layout == "java8-jre" else home / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "java").write_text("")
    version = "1.8.0_392" if layout == "java8-jre" else "17.0.15"
    (home / "release").write_text(f'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="{version}"\n')
    link = tmp_path / "java"
    link.symlink_to(bin_dir / "java")
    runtime = read_java_runtime(LocalHost(), str(link))
    assert runtime is not None
    assert runtime.version == version and runtime.major == (8 if layout == "java8-jre" else 17)
    assert runtime.vendor == "Eclipse Adoptium"
    assert runtime.home == str(bin_dir.parent)


def test_read_java_runtime_without_release(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").write_text("")
    assert read_java_runtime(LocalHost(), str(tmp_path / "bin" / "java")) is None
    assert read_java_runtime(LocalHost(), "") is None
