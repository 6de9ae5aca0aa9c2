"""Process mode collects what the process uses, not the disk."""

from __future__ import annotations

import zipfile

import pytest

from a2c.analyzers.java.jvm import parse_java_cmdline
from a2c.analyzers.java.processmode import base_provides_java, collect, process_mode_info
from a2c.hosts.base import is_within
from a2c.hosts.local import LocalHost
from a2c.model import ProcessInfo


def _jar(path, manifest):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", manifest)


def test_collects_jar_manifest_class_path_cwd_and_app_paths(tmp_path):
    app = tmp_path / "opt-app"
    (app / "lib").mkdir(parents=True)
    (app / "logs").mkdir()
    (app / "logs" / "app.log").write_text("old log")
    _jar(app / "app.jar", "Manifest-Version: 1.0\r\nMain-Class: a.B\r\nClass-Path: lib/dep.jar ../shared/common.jar\r\n\r\n")
    _jar(app / "lib" / "dep.jar", "Manifest-Version: 1.0\r\n\r\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    _jar(shared / "common.jar", "Manifest-Version: 1.0\r\n\r\n")
    conf = tmp_path / "etc-app" / "app.properties"
    conf.parent.mkdir()
    conf.write_text("a=b\n")
    command = parse_java_cmdline(["java", f"-Dapp.config={conf}", "-jar", "app.jar"])
    proc = ProcessInfo(1, (), cwd=str(app), environ={"PYENV_ROOT": "/root/.pyenv"})
    files = collect(proc, LocalHost(), command, "/usr/lib/jvm/java-17", app_env={"APP_HOME": str(app)})
    assert str(app) in files.paths and str(shared / "common.jar") in files.paths
    assert str(conf) in files.paths
    assert not any(p.startswith("/root") for p in files.paths)  # the session's environment is not the app's
    info, _ = process_mode_info(proc, LocalHost(), command, "/usr/lib/jvm/java-17", "eclipse-temurin:17-jre",
                                {"APP_HOME": str(app)})
    assert str(app / "logs") in info["excludes"] and str(app / "logs") in info["writableDirs"]
    assert info["copyJavaRuntime"] is False


def test_system_and_home_folders_are_never_taken_whole(tmp_path):
    command = parse_java_cmdline(["java", "-cp", "/usr/share/java/foo.jar:/opt", "Main"])
    proc = ProcessInfo(1, (), cwd="/root")
    files = collect(proc, LocalHost(), command, "/usr/lib/jvm/java-17")
    assert "/opt" not in files.paths and "/root" not in files.paths
    assert any("/opt" in s for s in files.skipped)


def test_base_image_with_java():
    assert base_provides_java("eclipse-temurin:17-jre") and base_provides_java("amazoncorretto:11")
    assert base_provides_java("registry.local/team/openjdk-runtime:8")
    assert not base_provides_java("debian:bookworm-slim") and not base_provides_java("ubuntu:22.04")


# -- credential stores and the config scan ------------------------------------------------------

from a2c.analyzers.java import processmode  # noqa: E402
from a2c.analyzers.java.processmode import scan_folders, secret_lines  # noqa: E402
from a2c.hosts.snapshot import SnapshotHost  # noqa: E402


def _snapshot(tmp_path, plant: dict[str, bytes]) -> SnapshotHost:
    files = tmp_path / "snap" / "files"
    for path, data in plant.items():
        (files / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (files / path.lstrip("/")).write_bytes(data)
    (tmp_path / "snap" / "host.json").write_text('{"hostname": "h", "processes": []}')
    return SnapshotHost(str(tmp_path / "snap"))


def test_never_covers_the_system_credential_stores():
    for store in ("/etc/ssh", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d", "/etc/ssl/private"):
        assert store in processmode.NEVER
    assert {".ssh", ".aws", ".docker", ".kube", ".gnupg", ".pgpass"} <= set(processmode.EXCLUDED_NAMES)


def test_open_files_options_arguments_and_environment_are_checked_before_they_are_added(tmp_path):
    host = _snapshot(tmp_path, {
        "/opt/app/app.jar": b"jar", "/opt/app/.git-credentials": b"x", "/etc/ssh/sshd_config": b"x",
        "/etc/gshadow": b"x", "/home/app/.ssh/id_rsa": b"x", "/home/app/.pgpass": b"x", "/root/.aws/credentials": b"x",
        "/srv/keys/tls.p12": b"x", "/etc/app/server.jks": b"x", "/etc/app/truststore": b"x", "/srv/ks/store": b"x",
        "/etc/app/app.properties": b"a=b\n", "/srv/data/report.txt": b"x",
    })
    (tmp_path / "snap/files/opt/app/id-link").symlink_to("/home/app/.ssh/id_rsa")
    command = parse_java_cmdline(["java", "-Dkeys.dir=/etc/ssh", "-Djavax.net.ssl.keyStore=/etc/app/server.jks",
                                  "-Djavax.net.ssl.trustStore=/etc/app/truststore", "-Dapp.config=/etc/app/app.properties",
                                  "-Dserver.ssl.key-store=/srv/ks/store", "-jar", "/opt/app/app.jar",
                                  "--creds=/root/.aws/credentials", "/srv/data/report.txt"])
    proc = ProcessInfo(1, (), cwd="/", open_files=("/etc/gshadow", "/home/app/.ssh/id_rsa", "/home/app/.pgpass",
                                                     "/opt/app/id-link", "/srv/keys/tls.p12"))
    files = collect(proc, host, command, "/usr/lib/jvm/java-17", app_env={"GIT_CREDS": "/opt/app/.git-credentials"})
    refused = set(files.refused)
    assert {"/etc/ssh", "/etc/gshadow", "/home/app/.ssh/id_rsa", "/home/app/.pgpass", "/root/.aws/credentials",
            "/opt/app/.git-credentials", "/etc/app/server.jks"} <= refused
    assert "/opt/app/id-link" in refused  # an open link to a store is refused by its name or its target
    for path in refused:
        assert not any(is_within(path, p) for p in files.paths), path
    # what is not a store still comes: a config file, data named on the command line, a truststore
    assert {"/etc/app/app.properties", "/srv/data/report.txt", "/etc/app/truststore"} <= set(files.paths)
    # the judgment call: an application keystore outside /etc and the homes is copied, and reported
    assert "/srv/keys/tls.p12" in files.paths and "/srv/ks/store" in files.paths and "/srv/ks/store" in files.keys
    codes = [(f.code, f.path) for f in files.findings]
    assert ("PROC-W010", "/etc/ssh") in codes and ("PROC-W010", "/etc/app/server.jks") in codes
    messages = {f.path: f.message for f in files.findings}
    assert "-Djavax.net.ssl.keyStore" in messages["/etc/app/server.jks"]
    assert "environment GIT_CREDS" in messages["/opt/app/.git-credentials"]


def test_a_folder_taken_whole_has_its_stores_excluded_and_its_config_scanned(tmp_path):
    host = _snapshot(tmp_path, {
        "/srv/app/app.jar": b"jar", "/srv/app/.ssh/authorized_keys": b"x", "/srv/app/.docker/config.json": b"x",
        "/srv/app/conf/app.properties": b"db.password=s3cr3t\n", "/srv/app/.env": b"API_TOKEN=t0k3n\n",
        "/srv/app/conf/tls.pem": b"-----BEGIN PRIVATE KEY-----\n", "/srv/app/settings.json": b'{"apiKey": "k3y"}\n',
        "/srv/app/plain.json": b'{"name": "x"}\n', "/srv/app/logs/app.properties": b"x=1\n",
        "/srv/app/static/index.html": b"<h1/>",
    })
    command = parse_java_cmdline(["java", "-jar", "app.jar"])
    info, findings = process_mode_info(ProcessInfo(1, (), cwd="/srv/app"), host, command, "/usr/lib/jvm/java-17",
                                       "eclipse-temurin:17-jre")
    assert info["paths"] == ["/srv/app"]
    assert {"/srv/app/.ssh", "/srv/app/.docker"} <= set(info["excludes"])
    assert {"/srv/app/conf/app.properties", "/srv/app/.env", "/srv/app/plain.json"} <= set(info["configFiles"])
    assert "/srv/app/logs/app.properties" not in info["configFiles"]  # a run-time folder, not copied
    # JSON: until the scanner templates it, a file with a secret is left out; one without is copied
    if "/srv/app/settings.json" not in info["configFiles"]:
        assert "/srv/app/settings.json" in info["excludes"]
        assert any(f.code == "PROC-W012" and f.path == "/srv/app/settings.json" for f in findings)
    assert "/srv/app/plain.json" not in info["excludes"]
    assert any(f.code == "PROC-W011" and "/srv/app/.ssh" in f.message for f in findings)
    assert any(f.code == "PROC-W013" and f.path == "/srv/app/conf/tls.pem" for f in findings)


def test_the_scan_is_bounded(tmp_path, monkeypatch):
    plant = {f"/srv/app/d{i}/c{i}.properties": b"a=b\n" for i in range(30)}
    plant["/srv/app/" + "/".join(f"n{i}" for i in range(10)) + "/deep.properties"] = b"a=b\n"
    host = _snapshot(tmp_path, plant)
    monkeypatch.setattr(processmode, "MAX_CONFIG_FILES", 5)
    scan = scan_folders(host, ["/srv/app"], [])
    assert len(scan.config) == 5 and scan.truncated
    assert not any(p.endswith("deep.properties") for p in scan.config)  # below MAX_SCAN_DEPTH
    monkeypatch.setattr(processmode, "MAX_SCAN_ENTRIES", 10)
    scan = scan_folders(host, ["/srv/app", "/srv/other"], [])
    assert "/srv/other" in scan.truncated
    findings = processmode.scan_findings(scan, {})
    assert any(f.code == "PROC-W014" for f in findings)


@pytest.mark.parametrize(("text", "lines"), [
    ('{\n  "db": {\n    "password": "pw1",\n    "host": "h"\n  }\n}\n', [3]),
    ('{"apiKey": "k", "name": "n"}', [1]),  # one-line JSON
    ('{"name": "n", "nested": {"client_secret": "s"}}', [1]),
    ("password = ${DB_PASSWORD}\npassword: \ntoken: null\n", []),
    ("export API_TOKEN=abc\n", [1]),
    ("url = amqp://user:pw@broker:5672/\n", [1]),
    ("-----BEGIN RSA PRIVATE KEY-----\n", [1]),
    ("name = shop\nport = 8080\n", []),
])
def test_secret_lines(text, lines):
    assert secret_lines(text) == lines


def test_only_binary_files_are_left_out_as_unscannable(tmp_path):
    """A text file of any name is line-scanned and templated, so it is copied; a binary one holding
    a secret-looking line cannot be templated, so it stays out."""
    host = _snapshot(tmp_path, {"/opt/app/app.env.prod": b"DB_PASSWORD=hunter2\n",
                                "/opt/app/blob.dat": b"\x00\x01\x02\x03" * 64 + b"\npassword=hunter2\n"})
    assert processmode.unscannable_secrets(host, ["/opt/app/app.env.prod", "/opt/app/blob.dat"]) == {
        "/opt/app/blob.dat": [2]}
