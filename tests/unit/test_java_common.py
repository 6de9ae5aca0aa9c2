"""What every Java analyzer shares: the container's entry command and the image environment."""

from __future__ import annotations

import pytest

from a2c.analyzers.java.common import entry_command, image_environment, java_analysis_info, secrets_found, workdir_for
from a2c.analyzers.java.jvm import parse_java_cmdline
from a2c.hosts.local import LocalHost
from a2c.model import InventoryEntry, ProcessInfo

HEAP = "-XX:MaxRAMPercentage=75.0"
DB_SECRET = {"name": "db.password", "foundIn": "command line", "envVar": "A2C_SECRET_DB_PASSWORD"}
SPRING_SECRET = {"name": "spring.datasource.password", "foundIn": "command line",
                 "envVar": "A2C_SECRET_SPRING_DATASOURCE_PASSWORD"}


@pytest.mark.parametrize(
    ("cmdline", "secrets", "expected"),
    [
        # the host's java becomes ${JAVA}; no heap flag -> a container-aware one is added first
        (["/usr/lib/jvm/java-17/bin/java", "-jar", "app.jar"], [], ("${JAVA}", HEAP, "-jar", "app.jar")),
        # an explicit heap setting is respected
        (["java", "-Xmx512m", "-jar", "app.jar"], [], ("${JAVA}", "-Xmx512m", "-jar", "app.jar")),
        (["java", "-XX:MaxRAMPercentage=50", "-jar", "a.jar"], [], ("${JAVA}", "-XX:MaxRAMPercentage=50", "-jar", "a.jar")),
        # -Xmx after the main class is a program argument, not a heap flag
        (["java", "-cp", "x", "Main", "-Xmx1g"], [], ("${JAVA}", HEAP, "-cp", "x", "Main", "-Xmx1g")),
        # masked secrets become run-time references, in -D and --key= form
        (["java", "-Xmx1g", "-Ddb.password=****", "-jar", "a.jar", "--spring.datasource.password=****"],
         [DB_SECRET, SPRING_SECRET],
         ("${JAVA}", "-Xmx1g", "-Ddb.password=${A2C_SECRET_DB_PASSWORD}", "-jar", "a.jar",
          "--spring.datasource.password=${A2C_SECRET_SPRING_DATASOURCE_PASSWORD}")),
        # a mask without a matching secret entry, or a secret from the environment, stays as is
        (["java", "-Xmx1g", "-Dother.password=****", "Main"],
         [{"name": "DB_PASSWORD", "foundIn": "environment", "envVar": "DB_PASSWORD"}],
         ("${JAVA}", "-Xmx1g", "-Dother.password=****", "Main")),
        # loopback bind addresses are dropped, others kept
        (["java", "-Xmx1g", "-jar", "a.jar", "--server.address=127.0.0.1"], [], ("${JAVA}", "-Xmx1g", "-jar", "a.jar")),
        (["java", "-Xmx1g", "-Dserver.address=localhost", "-jar", "a.jar"], [], ("${JAVA}", "-Xmx1g", "-jar", "a.jar")),
        (["java", "-Xmx1g", "-jar", "a.jar", "--server.address=::1", "--server.address=[::1]"], [],
         ("${JAVA}", "-Xmx1g", "-jar", "a.jar")),
        (["java", "-Xmx1g", "-jar", "a.jar", "--server.address=10.0.0.5"], [],
         ("${JAVA}", "-Xmx1g", "-jar", "a.jar", "--server.address=10.0.0.5")),
        (["java", "-Xmx1g", "-jar", "a.jar", "--server.address=0.0.0.0"], [],
         ("${JAVA}", "-Xmx1g", "-jar", "a.jar", "--server.address=0.0.0.0")),
        (["java"], [], ("${JAVA}", HEAP)),
    ],
)
def test_entry_command(cmdline, secrets, expected):
    assert entry_command(cmdline, secrets) == expected


def test_entry_command_keeps_its_input():
    cmdline = ["java", "-Ddb.password=****", "Main"]
    entry_command(cmdline, [DB_SECRET])
    assert cmdline == ["java", "-Ddb.password=****", "Main"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JAVA_OPTS": "-Dx=1", "LANG": "C.UTF-8", "SPRING_PROFILES_ACTIVE": "prod", "app.mode": "x"},
         {"JAVA_OPTS": "-Dx=1", "LANG": "C.UTF-8", "SPRING_PROFILES_ACTIVE": "prod", "app.mode": "x"}),
        # session noise
        ({"PATH": "/bin", "HOME": "/root", "PWD": "/", "SSH_AUTH_SOCK": "/tmp/x", "XDG_RUNTIME_DIR": "/run",
          "A2C_WORKSPACE": "/ws", "JAVA_HOME": "/usr/lib/jvm/x", "_": "/usr/bin/java"}, {}),
        # secrets, by name or by a masked value
        ({"DB_PASSWORD": "s3cret", "API_TOKEN": "t", "SOMETHING": "****"}, {}),
        # names a shell or Docker cannot take
        ({"BAD-NAME": "1", "1ST": "x", "with space": "y", "": "z"}, {}),
    ],
)
def test_image_environment(env, expected):
    assert image_environment(env) == expected


def test_image_environment_is_sorted():
    assert list(image_environment({"B": "1", "A": "2", "C": "3"})) == ["A", "B", "C"]


def test_secrets_found():
    proc = ProcessInfo(1, ("java", "-Ddb.password=x", "--api.key=y", "-Dempty.password=", "-Dplain=1", "Main"),
                       environ={"DB_PASSWORD": "z", "EMPTY_TOKEN": "", "LANG": "C"})
    assert secrets_found(proc) == [
        {"name": "DB_PASSWORD", "foundIn": "environment", "envVar": "DB_PASSWORD"},
        {"name": "db.password", "foundIn": "command line", "envVar": "A2C_SECRET_DB_PASSWORD"},
        {"name": "api.key", "foundIn": "command line", "envVar": "A2C_SECRET_API_KEY"},
    ]


def test_jvm_options_leave_out_the_class_path():
    proc = ProcessInfo(1, ("java", "-Xmx512m", "-classpath", "/opt/a.jar:/opt/b.jar", "--class-path", "c.jar",
                           "-Dx=1", "org.apache.catalina.startup.Bootstrap", "start"))
    entry = InventoryEntry("java-generic-00000000", "java-generic", "java-generic", 1, "java", "main:x@/")
    info = java_analysis_info(entry, proc, LocalHost(), parse_java_cmdline(proc.cmdline))
    assert info["jvmOptions"] == ["-Xmx512m"]


@pytest.mark.parametrize(
    ("cwd", "copied", "expected"),
    [
        ("/opt/tomcat", ("/opt/tomcat",), "/opt/tomcat"),
        ("/opt/tomcat/bin", ("/opt/tomcat",), "/opt/tomcat/bin"),
        ("/opt/tomcat2", ("/opt/tomcat",), "/opt/tomcat"),  # a prefix is not a parent
        ("/", ("/srv/app",), "/srv/app"),
        ("", (), "/"),
    ],
)
def test_workdir_for(cwd, copied, expected):
    assert workdir_for({"cwd": cwd}, copied) == expected
