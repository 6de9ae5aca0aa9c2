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
