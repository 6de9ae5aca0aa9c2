"""Jetty: command lines, start.ini/start.d, port precedence, web apps, the container's copy of the
config, and the jetty-host snapshot end to end against golden files."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.java.jetty import (
    JettyAnalyzer,
    JettyLaunch,
    container_command,
    container_ini,
    cross_check_port,
    health_check_path,
    home_links,
    http_port,
    jetty_dirs,
    jetty_version,
    launcher_files,
    list_contexts,
    parse_jetty_launch,
    parse_start_ini,
    read_start_config,
    webapps_dir,
)
from a2c.analyzers.java.jvm import parse_java_cmdline
from a2c.applications import classify_process
from a2c.generate.container import render_container_artifacts
from a2c.hosts.local import LocalHost
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.model import Finding, ProcessInfo, Socket
from a2c.workspace import validate

from tests.conftest import FIXTURES

SNAPSHOT = FIXTURES / "snapshots" / "jetty-host"
JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"


# -- command lines -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cmdline", "cwd", "expected"),
    [
        # plain start.jar: home and base implied (the jar's folder, the cwd)
        ([JAVA, "-jar", "/opt/jetty/start.jar"], "/srv/base", ("/opt/jetty/start.jar", "", "")),
        # Debian's jetty.sh: both as system properties, then start.jar's own arguments
        ([JAVA, "-Djava.awt.headless=true", "-Djetty.home=/usr/share/jetty9", "-Djetty.base=/var/lib/jetty9",
          "-Djava.io.tmpdir=/tmp", "-jar", "/usr/share/jetty9/start.jar", "jetty.state=/var/lib/jetty9/jetty.state",
          "jetty-started.xml"], "/var/lib/jetty9",
         ("/usr/share/jetty9/start.jar", "/usr/share/jetty9", "/var/lib/jetty9")),
        # as start.jar arguments, relative jar
        ([JAVA, "-jar", "start.jar", "jetty.home=/opt/jetty", "jetty.base=/srv/b"], "/opt/jetty",
         ("/opt/jetty/start.jar", "/opt/jetty", "/srv/b")),
        # an argument wins over the system property
        ([JAVA, "-Djetty.base=/srv/old", "-jar", "/opt/jetty/start.jar", "jetty.base=/srv/new"], "/",
         ("/opt/jetty/start.jar", "", "/srv/new")),
        # the main class on a class path
        ([JAVA, "-cp", "/opt/jetty/start.jar", "org.eclipse.jetty.start.Main", "jetty.base=/srv/b"], "/tmp",
         ("/opt/jetty/start.jar", "", "/srv/b")),
        ([JAVA, "-Djetty.home=/opt/jetty", "-classpath", "/libs/a.jar:/libs/b.jar", "org.eclipse.jetty.start.Main"],
         "/srv/b", ("", "/opt/jetty", "")),
        # the packaged jar itself
        ([JAVA, "-jar", "/usr/share/java/jetty9-start.jar", "jetty.home=/usr/share/jetty9"], "/srv/b",
         ("/usr/share/java/jetty9-start.jar", "/usr/share/jetty9", "")),
        # relative base argument: against the cwd
        ([JAVA, "-jar", "/opt/jetty/start.jar", "jetty.base=mybase"], "/srv",
         ("/opt/jetty/start.jar", "", "mybase")),
    ],
)
def test_parse_jetty_launch(cmdline, cwd, expected):
    launch = parse_jetty_launch(cmdline, cwd)
    assert launch is not None
    assert (launch.start_jar, launch.home, launch.base) == expected


@pytest.mark.parametrize(
    "cmdline",
    [
        [JAVA, "-jar", "/opt/app/app.jar"],
        [JAVA, "-jar", "/opt/app/restart.jar"],
        [JAVA, "-jar", "/opt/app/my-start.jar"],
        [JAVA, "-cp", "/opt/jetty/start.jar", "com.example.Main"],
        [JAVA, "-classpath", "/opt/tomcat/bin/bootstrap.jar", "org.apache.catalina.startup.Bootstrap", "start"],
        [JAVA, "-version"],
        [JAVA, "-jar"],
        [],
    ],
)
def test_not_jetty(cmdline):
    assert parse_jetty_launch(cmdline, "/") is None


def test_start_jar_of_another_main_class_is_not_jetty(tmp_path):
    jar = tmp_path / "start.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nMain-Class: com.example.Launcher\r\n\r\n")
    proc = ProcessInfo(1, ("java", "-jar", str(jar)), exe="/usr/bin/java", cwd=str(tmp_path))
    assert JettyAnalyzer().detect(proc, LocalHost()) is None
    jar.write_text("not a zip: nothing says it is not Jetty")
    detection = JettyAnalyzer().detect(proc, LocalHost())
    assert detection is not None and detection.identity == f"jetty:{tmp_path}"


def test_dirs_resolve_relative_paths_and_defaults():
    host = SnapshotHost(str(SNAPSHOT))
    launch = JettyLaunch(cwd="/srv", start_jar="/opt/jetty/start.jar", base="jetty-base/")
    assert jetty_dirs(launch, host) == ("/opt/jetty", "/srv/jetty-base")
    launch = JettyLaunch(cwd="/srv/jetty-base", start_jar="/opt/jetty/start.jar")
    assert jetty_dirs(launch, host) == ("/opt/jetty", "/srv/jetty-base")
    launch = JettyLaunch(cwd="/srv/jetty-base", start_jar="", home="../../opt/jetty")
    assert jetty_dirs(launch, host) == ("/opt/jetty", "/srv/jetty-base")
    launch = JettyLaunch(cwd="/srv/jetty-base", start_jar="")  # Main on a class path: home is the cwd
    assert jetty_dirs(launch, host) == ("/srv/jetty-base", "/srv/jetty-base")


@pytest.fixture
def debian_layout(tmp_path):
    """Debian's jetty9 in miniature: home's start.jar, jars and etc/ are links out of home."""
    root = tmp_path / "root"
    java = root / "usr/share/java"
    home = root / "usr/share/jetty9"
    etc = root / "etc/jetty9"
    for folder in (java, home / "lib", home / "modules", etc / "start.d"):
        folder.mkdir(parents=True)
    with zipfile.ZipFile(java / "jetty9-start.jar", "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", f"Main-Class: org.eclipse.jetty.start.Main\r\n"
                                                 f"Class-Path: {java}/jetty9-util.jar\r\n\r\n")
    (java / "jetty9-util.jar").write_bytes(b"PK")
    with zipfile.ZipFile(java / "jetty9-server.jar", "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Implementation-Version: 9.4.57.v20241219\r\n\r\n")
    (home / "modules" / "http.mod").write_text("[xml]\netc/jetty-http.xml\n")
    (etc / "jetty-http.xml").write_text("<Configure/>\n")
    (etc / "start.ini").write_text("--module=deploy,http\njetty.http.port=8080\n")
    os.symlink("../java/jetty9-start.jar", home / "start.jar")
    os.symlink("../../java/jetty9-server.jar", home / "lib" / "jetty-server-9.4.57.v20241219.jar")
    os.symlink(str(etc), home / "etc")
    os.symlink(str(etc / "start.ini"), home / "start.ini")
    os.symlink(str(root / "var/log/jetty9"), home / "logs")  # dangling, like a fresh install's
    base = tmp_path / "base"
    (base / "webapps" / "ROOT").mkdir(parents=True)
    (base / "webapps" / "ROOT" / "index.html").write_text("hi\n")
    return root, home, etc, base


def test_debian_layout(debian_layout):
    root, home, etc, base = debian_layout
    host = LocalHost()
    # Jetty itself resolves start.jar's link (and so needs jetty.home on Debian); we fall back
    # to the folder the command names when the real one has no modules/.
    launch = JettyLaunch(cwd=str(base), start_jar=str(home / "start.jar"))
    assert jetty_dirs(launch, host) == (str(home), str(base))
    assert home_links(host, str(home), str(base)) == {"etc": str(etc)}
    assert jetty_version(host, str(home)) == "9.4.57.v20241219"
    # The base has no ini files: home's are reported (Debian's /etc/jetty9/start.ini).
    config = read_start_config(host, str(home), str(base), launch)
    assert config.modules == ("deploy", "http")
    assert config.ini_files == (str(home / "start.ini"),)


def test_debian_layout_plan_copies_link_targets(debian_layout):
    root, home, etc, base = debian_layout
    (etc / "start.ini").write_text("--module=deploy,http\njetty.http.host=127.0.0.1\n")
    host = LocalHost()
    proc = ProcessInfo(4321, ("/usr/bin/java", f"-Djetty.home={home}", "-jar", str(home / "start.jar")),
                       exe="/usr/bin/java", cwd=str(base))
    analyzer = JettyAnalyzer()
    entry = classify_process(proc, host, [analyzer], [])
    assert entry is not None
    analysis = build_document(analyzer.analyze(entry, proc, host))
    validate(analysis, "analysis", "analysis.json")
    plan = analyzer.plan(analysis, host)
    server, application = plan.layers
    # start.jar's manifest Class-Path: the JVM loads it before Jetty reads any module
    assert server.paths == (str(home), str(etc), str(root / "usr/share/java/jetty9-util.jar"))
    assert "/usr/share/java" in server.link_roots
    assert str(home / "logs") in server.excludes and str(home / "webapps") in server.excludes
    assert application.paths == (str(base),)
    # home's ini is a link: the container's version replaces the file it points to
    assert list(plan.generated) == [str(etc / "start.ini")]
    assert b"# a2c: loopback-only" in plan.generated[str(etc / "start.ini")]


def test_launcher_files(tmp_path):
    home = tmp_path / "home"
    (home / "lib").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    for name in ("shared/util.jar", "shared/my lib.jar", "home/lib/inside.jar", "launcher.jar"):
        (tmp_path / name).write_bytes(b"PK")
    jar = tmp_path / "shared" / "start.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Main-Class: org.eclipse.jetty.start.Main\r\nClass-Path: util.jar "
                         f"my%20lib.jar file:{home}/lib/inside.jar missing.jar\r\n\r\n")
    cmdline = ["java", "-jar", str(jar), f"jetty.home={home}"]
    launch = parse_jetty_launch(cmdline, str(tmp_path))
    command = parse_java_cmdline(cmdline)
    assert launch is not None and command is not None
    assert launcher_files(LocalHost(), launch, command, str(home), str(tmp_path / "base")) == [
        str(jar), str(tmp_path / "shared" / "util.jar"), str(tmp_path / "shared" / "my lib.jar")]
    cmdline = ["java", "-cp", "launcher.jar:lib/*", "org.eclipse.jetty.start.Main", f"jetty.home={home}"]
    launch = parse_jetty_launch(cmdline, str(tmp_path))
    command = parse_java_cmdline(cmdline)
    assert launch is not None and command is not None
    assert launcher_files(LocalHost(), launch, command, str(home), str(tmp_path / "base")) == [
        str(tmp_path / "launcher.jar")]


# -- start.ini / start.d -------------------------------------------------------------------

def test_parse_start_ini():
    text = (
        "# comment\r\n"
        "--module=http\r\n"
        "  --module=deploy, jsp ,  \r\n"
        "--exec\r\n"
        "-Xmx1g\r\n"
        "etc/extra.xml\r\n"
        "jetty.http.port=8181\r\n"
        "jetty.http.host = 127.0.0.1\r\n"
        "jetty.deploy.scanInterval?=5\r\n"
        "jetty.webapp.addServerClasses+=,-org.example.\r\n"
        "# jetty.http.host=0.0.0.0\r\n"
    )
    lines = parse_start_ini(text)
    assert lines.modules == ("http", "deploy", "jsp")
    # Jetty does not trim around "=": "jetty.http.host " is another key, so that line sets nothing we know.
    assert lines.properties == (
        ("jetty.http.port", "=", "8181"),
        ("jetty.deploy.scanInterval", "?=", "5"),
        ("jetty.webapp.addServerClasses", "+=", ",-org.example."),
    )


def _base(tmp_path: Path, files: dict[str, str]) -> Path:
    base = tmp_path / "base"
    base.mkdir(exist_ok=True)
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    return base


@pytest.mark.parametrize(
    ("system", "files", "args", "expected"),
    [
        ({}, {}, [], (8080, "default")),
        ({}, {"start.d/http.ini": "--module=http\njetty.http.port=8181\n"}, [], (8181, "start.d/http.ini")),
        # start.ini first, then start.d/*.ini by name: the later file wins
        ({}, {"start.ini": "jetty.http.port=1111\n", "start.d/zz.ini": "jetty.http.port=2222\n"}, [],
         (2222, "start.d/zz.ini")),
        ({}, {"start.d/a.ini": "jetty.http.port=1111\n", "start.d/b.ini": "jetty.http.port=2222\n"}, [],
         (2222, "start.d/b.ini")),
        # the command line wins over every ini file; the last argument wins
        ({}, {"start.ini": "jetty.http.port=1111\n"}, ["jetty.http.port=9090"], (9090, "command line")),
        ({}, {}, ["jetty.http.port=1", "jetty.http.port=2"], (2, "command line")),
        # -D counts only when nothing else sets the key (Jetty: ini beats the JVM property)
        ({"jetty.http.port": "7070"}, {}, [], (7070, "system property")),
        ({"jetty.http.port": "7070"}, {"start.ini": "jetty.http.port=1111\n"}, [], (1111, "start.ini")),
        # Jetty 9.0-9.2's name, used only when the new name is set nowhere
        ({}, {"start.ini": "jetty.port=8282\n"}, [], (8282, "start.ini")),
        ({"jetty.http.port": "7070"}, {"start.ini": "jetty.port=8282\n"}, [], (7070, "system property")),
        ({}, {"start.ini": "jetty.http.port=8282\n"}, ["jetty.port=9999"], (8282, "start.ini")),
        # ?= sets only when not yet set
        ({}, {"start.ini": "jetty.http.port=8181\n", "start.d/x.ini": "jetty.http.port?=9999\n"}, [],
         (8181, "start.ini")),
        ({}, {"start.d/x.ini": "jetty.http.port?=9999\n"}, [], (9999, "start.d/x.ini")),
    ],
)
def test_port_precedence(tmp_path, system, files, args, expected):
    base = _base(tmp_path, files)
    launch = JettyLaunch(cwd=str(base), start_jar="/opt/jetty/start.jar", args=tuple(args), system_properties=system)
    config = read_start_config(LocalHost(), "/nonexistent-home", str(base), launch)
    findings: list[Finding] = []
    port, source = http_port(config, findings)
    expected_port, expected_source = expected
    assert port == expected_port
    assert source == (str(base / expected_source) if "ini" in expected_source else expected_source)
    assert findings == []


def test_port_that_is_not_a_number(tmp_path):
    base = _base(tmp_path, {"start.ini": "jetty.http.port=${my.port}\n"})
    config = read_start_config(LocalHost(), "/nonexistent-home", str(base), JettyLaunch(cwd=str(base), start_jar=""))
    findings: list[Finding] = []
    assert http_port(config, findings) == (8080, str(base / "start.ini"))
    assert [f.code for f in findings] == ["JETTY-W002"]


def test_modules_from_base_then_arguments_and_home_only_as_fallback(tmp_path):
    home = tmp_path / "home"
    (home / "start.d").mkdir(parents=True)
    (home / "start.d" / "home.ini").write_text("--module=server,jmx\n")
    base = _base(tmp_path, {"start.ini": "--module=http\n", "start.d/deploy.ini": "--module=deploy,http\n"})
    launch = JettyLaunch(cwd=str(base), start_jar="", args=("--module=gzip", "--modules=http,stats"))
    config = read_start_config(LocalHost(), str(home), str(base), launch)
    assert config.modules == ("http", "deploy", "gzip", "stats")
    assert config.ini_files == (str(base / "start.ini"), str(base / "start.d" / "deploy.ini"))
    empty = tmp_path / "empty-base"
    empty.mkdir()
    config = read_start_config(LocalHost(), str(home), str(empty), JettyLaunch(cwd=str(empty), start_jar=""))
    assert config.modules == ("server", "jmx")


def test_webapps_dir_properties(tmp_path):
    base = _base(tmp_path, {"start.d/deploy.ini": "jetty.deploy.monitoredDir=apps\n"})
    launch = JettyLaunch(cwd=str(base), start_jar="")
    config = read_start_config(LocalHost(), "/nonexistent-home", str(base), launch)
    assert webapps_dir(str(base), config) == str(base / "apps")
    launch = JettyLaunch(cwd=str(base), start_jar="", args=("jetty.deploy.monitoredPath=/data/webapps",))
    config = read_start_config(LocalHost(), "/nonexistent-home", str(base), launch)
    assert webapps_dir(str(base), config) == "/data/webapps"


@pytest.mark.parametrize(
    ("port", "listening", "ssl", "expected", "warned"),
    [
        (8080, [8080, 8443], "", 8080, False),
        (8080, [], "", 8080, False),
        (8080, [8443, 9000], "8443", 9000, True),
        (8080, [8443], "8443", 8443, True),
    ],
)
def test_cross_check_with_listening_sockets(tmp_path, port, listening, ssl, expected, warned):
    args = (f"jetty.ssl.port={ssl}",) if ssl else ()
    config = read_start_config(LocalHost(), "/nonexistent-home", str(tmp_path),
                               JettyLaunch(cwd=str(tmp_path), start_jar="", args=args))
    proc = ProcessInfo(1, ("java",), listening=tuple(Socket(p, "127.0.0.1") for p in listening))
    findings: list[Finding] = []
    assert cross_check_port(port, "default", config, proc, findings) == expected
    assert [f.code for f in findings] == (["JETTY-W001"] if warned else [])


# -- web applications ----------------------------------------------------------------------

def test_list_contexts(tmp_path):
    webapps = tmp_path / "webapps"
    for folder in ("foo", "ROOT", ".hidden", "static.d", "CVS", "bar"):
        (webapps / folder).mkdir(parents=True)
    for name in ("foo.war", "bar.war", "ROOT.war", "README.TXT", ".x.war"):
        (webapps / name).write_bytes(b"PK")
    (webapps / "bar.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" '
        '"https://www.eclipse.org/jetty/configure_9_3.dtd">\n'
        '<Configure class="org.eclipse.jetty.webapp.WebAppContext">'
        '<Set name="contextPath">/bar-app</Set></Configure>\n')
    (webapps / "computed.xml").write_text(
        '<Configure><Set name="contextPath"><Property name="ctx" default="/x"/></Set></Configure>')
    contexts, findings = list_contexts(LocalHost(), str(webapps))
    assert findings == []
    assert [(c["name"], c["contextPath"], c["kind"]) for c in contexts] == [
        ("ROOT", "/", "war"),
        ("bar", "/bar-app", "xml"),
        ("computed", "/computed", "xml"),
        ("foo", "/foo", "war"),
    ]
    assert list_contexts(LocalHost(), str(tmp_path / "missing")) == ([], [])


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml", "malformed.xml"])
def test_hostile_context_file_is_a_finding(tmp_path, name):
    shutil.copy(FIXTURES / "hostile" / "xml" / name, tmp_path / "evil.xml")
    contexts, findings = list_contexts(LocalHost(), str(tmp_path))
    assert [(c["name"], c["contextPath"]) for c in contexts] == [("evil", "/evil")]
    assert [f.code for f in findings] == ["JETTY-E001"]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([], "/"),
        (["/", "/a"], "/"),
        (["/hello-jetty"], "/hello-jetty/"),
        (["/a/b/", "/c"], "/a/b/"),
    ],
)
def test_health_check_path(paths, expected):
    assert health_check_path([{"contextPath": p} for p in paths]) == expected


# -- the server version --------------------------------------------------------------------

def test_version_from_manifest_and_corrupt_jars(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    assert jetty_version(LocalHost(), str(tmp_path)) == ""
    shutil.copy(FIXTURES / "hostile" / "archives" / "truncated.jar", lib / "jetty-server.jar")
    assert jetty_version(LocalHost(), str(tmp_path)) == ""
    with zipfile.ZipFile(lib / "jetty-server.jar", "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nImplementation-Version: 10.0.20\r\n\r\n")
    assert jetty_version(LocalHost(), str(tmp_path)) == "10.0.20"
    (lib / "jetty-server-12.0.8.jar").write_bytes(b"")
    assert jetty_version(LocalHost(), str(tmp_path)) == "12.0.8"


# -- the container -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("jetty.http.host=127.0.0.1", "jetty.http.port=8080"), ("jetty.http.port=8080",)),
        (("-Djetty.http.host=localhost", "-jar", "start.jar"), ("-jar", "start.jar")),
        (("jetty.host=::1",), ()),
        (("jetty.http.host=10.0.0.5",), ("jetty.http.host=10.0.0.5",)),
        (("jetty.ssl.host=127.0.0.1",), ("jetty.ssl.host=127.0.0.1",)),  # TLS stays as configured
        (("--module=console-capture",), ()),
        (("--module=http,console-capture,deploy",), ("--module=http,deploy",)),
    ],
)
def test_container_command(args, expected):
    assert container_command(("${JAVA}",) + args) == ("${JAVA}",) + expected


def test_container_ini(tmp_path):
    ini = tmp_path / "http.ini"
    ini.write_bytes(b"--module=http\r\n# jetty.http.host=127.0.0.1\r\njetty.http.host = 127.0.0.1\r\n"
                    b"jetty.http.port=8080\r\n--module=console-capture,gzip\r\n")
    patched = container_ini(LocalHost(), str(ini))
    assert patched == (b"--module=http\r\n# jetty.http.host=127.0.0.1\r\n"
                       b"# a2c: loopback-only on the host; the container listens on all interfaces: "
                       b"jetty.http.host = 127.0.0.1\r\n"
                       b"jetty.http.port=8080\r\n"
                       b"# a2c: logs go to the container's output, not to files: --module=console-capture,gzip\r\n"
                       b"--module=gzip\r\n")
    ini.write_text("--module=http\njetty.http.host=0.0.0.0\n")
    assert container_ini(LocalHost(), str(ini)) is None
    assert container_ini(LocalHost(), str(tmp_path / "missing.ini")) is None
    # an already generated version (secrets templated) is the starting point
    assert container_ini(LocalHost(), str(ini), b"jetty.host=localhost\n").startswith(b"# a2c: loopback-only")


# -- the jetty-host snapshot, end to end ---------------------------------------------------

@pytest.fixture(scope="module")
def snapshot_analysis():
    host = SnapshotHost(str(SNAPSHOT))
    analyzer = JettyAnalyzer()
    notes: list[str] = []
    entries = [e for p in host.scan_processes()[0] if (e := classify_process(p, host, [analyzer], notes))]
    assert len(entries) == 1 and notes == []
    entry = entries[0]
    analysis = build_document(analyzer.analyze(entry, host.process(entry.process_id), host))
    analysis["createdTime"] = "2024-01-01 00:00:00"
    return host, analyzer, entry, analysis


def test_snapshot_inventory(snapshot_analysis):
    _, _, entry, _ = snapshot_analysis
    assert entry.app_id == application_id("java-jetty", "jetty:/srv/jetty-base") == "java-jetty-6f8bfdfb"
    assert entry.identity == "jetty:/srv/jetty-base"
    assert entry.web_apps == ("root", "admin", "shop")
    assert entry.ports == (8181, 8443)


def test_snapshot_analysis(snapshot_analysis, golden):
    _, _, _, analysis = snapshot_analysis
    validate(analysis, "analysis", "analysis.json")
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    jetty = info["jetty"]
    assert params["applicationPort"] == 8181 and jetty["httpPortSource"] == "command line"
    assert jetty["modules"] == ["console-capture", "deploy", "http", "ssl"]
    assert jetty["httpHost"] == "127.0.0.1"
    assert info["AdvancedAppInfo"]["version"] == "9.4.53.v20231009"
    assert info["AdvancedAppInfo"]["Directories"]["lib"] == "/srv/jetty-base/lib/ext"
    assert params["healthCheckPath"] == "/"
    assert params["logLocations"] == ["/srv/jetty-base/logs"]
    text = json.dumps(analysis, indent=2) + "\n"
    assert "OBF:" not in text and "s3cret" not in text
    golden("jetty/analysis.json", text)


def test_snapshot_artifacts(snapshot_analysis, golden):
    host, analyzer, _, analysis = snapshot_analysis
    plan = analyzer.plan(analysis, host)
    assert [(layer.name, layer.paths) for layer in plan.layers] == [
        ("server", ("/opt/jetty",)), ("application", ("/srv/jetty-base",))]
    assert set(plan.layers[1].excludes) >= {"/srv/jetty-base/logs", "/srv/jetty-base/work", "/srv/jetty-base/tmp"}
    assert plan.writable_dirs == ("/srv/jetty-base/logs", "/var/cache/jetty", "/srv/jetty-base")
    assert "jetty.http.host=127.0.0.1" not in plan.entrypoint
    assert plan.render_at_start == {"/srv/jetty-base/start.d/ssl.ini": ("A2C_SECRET_JETTY_SSLCONTEXT_KEYSTOREPASSWORD",)}
    for path, data in sorted(plan.generated.items()):
        golden(f"jetty/generated{path}", data.decode())
    files = render_container_artifacts(plan, host_name="jetty-host", health_path=analysis["containerParameters"]
                                       ["healthCheckPath"], secrets=analysis["analysisInfo"]["secrets"])
    for name in ("Dockerfile", "a2c/entrypoint.sh"):
        golden(f"jetty/Artifacts/{name}", files[name])
    everything = "".join(files.values()) + "".join(d.decode() for d in plan.generated.values())
    assert "OBF:" not in everything and "s3cret" not in everything
    # the host's files are untouched (a snapshot host never writes)
    assert b"jetty.http.host=127.0.0.1" in host.read_bytes("/srv/jetty-base/start.d/http.ini")
