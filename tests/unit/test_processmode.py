"""Process mode collects what the process uses, not the disk."""

from __future__ import annotations

import zipfile

from a2c.analyzers.java.jvm import parse_java_cmdline
from a2c.analyzers.java.processmode import base_provides_java, collect, process_mode_info
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
