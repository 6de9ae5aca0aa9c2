"""Files the process had open reach the image whatever the analyzer copied (a JSP compiler that
a server loads through a jar manifest), with the links that name them; the runtime's, the
OS's, logs and state stay out."""

from a2c.hosts.local import LocalHost
from a2c.model import BuildPlan, CopyLayer
from a2c.planning import with_open_files


def _analysis(files, **params):
    return {"analysisInfo": {"fileDescriptors": files, "AdvancedAppInfo": {"javaHome": "/usr/lib/jvm/jdk"},
                             "persistentStorage": [{"path": "/srv/data"}]},
            "containerParameters": {"logLocations": ["/srv/app/logs"], "appExcludedFiles": ["/srv/secret"], **params}}


def test_open_files_outside_the_layers_get_a_layer_with_their_links(tmp_path):
    shared = tmp_path / "java"
    shared.mkdir()
    (shared / "jdt-3.32.jar").write_bytes(b"jar")
    (shared / "jdt.jar").symlink_to("jdt-3.32.jar")
    (shared / "other.jar").write_bytes(b"other")
    app = tmp_path / "app"
    app.mkdir()
    plan = BuildPlan("a", "base", (CopyLayer("server", (str(app),)), CopyLayer("application", (str(app / "x"),))), ())
    files = [str(shared / "jdt-3.32.jar"), str(app / "lib.jar"), "/usr/lib/jvm/jdk/lib/modules",
             "/usr/lib/x86_64-linux-gnu/libz.so.1", "/etc/ld.so.cache", "/srv/app/logs/app.txt", "/srv/data/db.lck",
             "/srv/secret", "/opt/x/console.log", "/proc/1/maps"]
    result = with_open_files(plan, _analysis(files), LocalHost())
    assert [layer.name for layer in result.layers] == ["server", "opened", "application"]
    assert result.layers[1].paths == (str(shared / "jdt-3.32.jar"), str(shared / "jdt.jar"))


def test_nothing_to_add_keeps_the_plan():
    plan = BuildPlan("a", "base", (CopyLayer("application", ("/srv/app",)),), ())
    assert with_open_files(plan, _analysis(["/srv/app/lib/a.jar"]), LocalHost()) is plan


def test_windows_plans_are_left_alone():
    plan = BuildPlan("a", "base", (), (), platform="windows")
    assert with_open_files(plan, _analysis(["/opt/x/a.jar"]), LocalHost()) is plan


def test_maps_give_the_mapped_files_no_descriptor_holds():
    from a2c.hosts.local import parse_maps

    maps = (b"55d0-55d1 r--p 00000000 08:01 123 /usr/lib/jvm/java-17/bin/java\n"
            b"7f00-7f01 r-xp 00000000 08:01 456 /opt/oracle/instantclient/libocijdbc21.so\n"
            b"7f02-7f03 r--p 00000000 08:01 457 /opt/app/lib/app.jar\n"
            b"7f04-7f05 rw-p 00000000 00:00 0 [heap]\n"
            b"7f06-7f07 rw-s 00000000 00:05 9 /dev/zero (deleted)\n"
            b"7f08-7f09 r--p 00000000 08:01 458 /tmp/old.so (deleted)\n")
    assert parse_maps(maps, {"/opt/app/lib/app.jar"}) == ("/opt/oracle/instantclient/libocijdbc21.so",
                                                          "/usr/lib/jvm/java-17/bin/java")


def test_a_mapped_native_library_outside_the_layers_reaches_the_image():
    plan = BuildPlan("a", "base", (CopyLayer("application", ("/srv/app",)),), ())
    analysis = _analysis([])
    analysis["analysisInfo"]["mappedFiles"] = ["/opt/oracle/instantclient/libocijdbc21.so", "/usr/lib/jvm/jdk/lib/libjava.so",
                                               "/usr/lib/x86_64-linux-gnu/libc.so.6"]
    result = with_open_files(plan, analysis, LocalHost())
    assert result.layers[0].paths == ("/opt/oracle/instantclient/libocijdbc21.so",)


def test_paths_the_command_line_names_reach_the_image(tmp_path):
    from a2c.planning import command_line_paths

    policy = tmp_path / "app.policy"
    policy.write_text("grant {};")
    assert command_line_paths(["java", f"-Djava.security.policy={policy}", "-cp", "/a.jar:/b.jar", "-Dx=file:/c/d",
                               "-Djava.io.tmpdir=/tmp/x", "Main", "/etc/app.conf"]) == [
        str(policy), "/a.jar", "/b.jar", "/c/d", "/etc/app.conf"]
    plan = BuildPlan("a", "base", (CopyLayer("application", ("/srv/app",)),), ())
    analysis = _analysis([])
    analysis["analysisInfo"]["cmdline"] = ["java", f"-Djava.security.policy={policy}", "-Dmissing=/no/such", "Main"]
    assert with_open_files(plan, analysis, LocalHost()).layers[0].paths == (str(policy),)


def test_home_folders_on_the_command_line_stay_out():
    """`-Duser.home=/home/app` or a home folder as an argument would bring the user's keys and
    caches, never the application's files."""
    from a2c.planning import command_line_paths

    assert command_line_paths(["java", "-Duser.home=/home/app", "-Dapp.home=/opt/app", "/home/app", "/root",
                               "--config=/home/app/conf/app.yml"]) == ["/opt/app", "/home/app/conf/app.yml"]


def test_proc_files_are_read_to_their_end(tmp_path):
    """/proc gives a page or so per read, whatever is asked: maps and long command lines must not
    stop at the first short read."""
    import os

    from a2c.hosts.local import LocalHost

    mapped = LocalHost().process(os.getpid()).mapped_files
    assert any("libc" in p for p in mapped) and len(mapped) > 10
