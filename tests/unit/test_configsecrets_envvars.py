"""One run-time variable (and so one SSM parameter) per distinct secret."""

from __future__ import annotations

import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from a2c.analyzers.common.configsecrets import assign_env_vars
from a2c.analyzers.java.springboot import SpringBootAnalyzer
from a2c.targets.deployment import build_deployment
from a2c.hosts.local import LocalHost
from a2c.ids import application_id
from a2c.model import InventoryEntry, ProcessInfo, Socket


def _secret(name, found_in, env_var, line=0):
    return {"name": name, "foundIn": found_in, "envVar": env_var, **({"line": line} if line else {})}


def test_command_line_and_file_get_two_variables():
    secrets = [_secret("db.password", "command line", "A2C_SECRET_DB_PASSWORD"),
               _secret("db.password", "/app/application.properties", "A2C_SECRET_DB_PASSWORD", 3)]
    assert [s["envVar"] for s in assign_env_vars(secrets)] == ["A2C_SECRET_DB_PASSWORD", "A2C_SECRET_DB_PASSWORD_2"]


def test_the_same_spot_twice_keeps_one_variable():
    secret = _secret("db.password", "/app/a.properties", "A2C_SECRET_DB_PASSWORD", 3)
    assert [s["envVar"] for s in assign_env_vars([secret, dict(secret)])] == ["A2C_SECRET_DB_PASSWORD"] * 2


def test_one_name_on_two_lines_of_one_file_gets_two_variables():
    secrets = [_secret("spring.datasource.password", "/app/application.yml", "A2C_SECRET_SPRING_DATASOURCE_PASSWORD", 4),
               _secret("spring.datasource.password", "/app/application.yml", "A2C_SECRET_SPRING_DATASOURCE_PASSWORD", 12)]
    assert len({s["envVar"] for s in assign_env_vars(secrets)}) == 2


def test_environment_variables_are_never_renamed():
    secrets = [_secret("a2c.secret.x", "/app/a.properties", "A2C_SECRET_X", 1),
               _secret("A2C_SECRET_X", "environment", "A2C_SECRET_X"),
               _secret("DB_PASSWORD", "/opt/wlp/usr/servers/s/server.env", "DB_PASSWORD", 2)]
    out = assign_env_vars(secrets)
    assert [s["envVar"] for s in out] == ["A2C_SECRET_X_2", "A2C_SECRET_X", "DB_PASSWORD"]


def test_a_suffix_never_takes_a_name_already_in_use():
    secrets = [_secret("x", "command line", "A2C_SECRET_X"), _secret("x", "/a.properties", "A2C_SECRET_X", 1),
               _secret("x_2", "/b.properties", "A2C_SECRET_X_2", 1)]
    out = [s["envVar"] for s in assign_env_vars(secrets)]
    assert len(set(out)) == 3 and out[0] == "A2C_SECRET_X"


def test_input_is_not_changed():
    secrets = [_secret("x", "command line", "A2C_SECRET_X"), _secret("x", "/a.properties", "A2C_SECRET_X", 1)]
    assign_env_vars(secrets)
    assert secrets[1]["envVar"] == "A2C_SECRET_X"


_SECRETS = st.lists(st.builds(
    _secret, st.sampled_from(["db.password", "x", "token"]),
    st.sampled_from(["command line", "environment", "/a.properties", "/b.yml"]),
    st.sampled_from(["A2C_SECRET_DB_PASSWORD", "A2C_SECRET_X", "A2C_SECRET_X_2", "A2C_SECRET_TOKEN", "TOKEN"]),
    st.integers(0, 3)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_SECRETS)
def test_distinct_secrets_get_distinct_variables_and_it_is_idempotent(secrets):
    out = assign_env_vars(secrets)
    again = assign_env_vars(out)
    assert again == out
    owners: dict[str, set] = {}
    for secret in out:
        owners.setdefault(secret["envVar"], set()).add((secret["foundIn"], secret["name"], secret.get("line", 0)))
    pinned = {s["envVar"] for s in secrets if s["foundIn"] == "environment" or not s["envVar"].startswith("A2C_")}
    assert all(len(who) == 1 for var, who in owners.items() if var not in pinned)
    for before, after in zip(secrets, out):
        if before["foundIn"] == "environment" or not before["envVar"].startswith("A2C_"):
            assert after["envVar"] == before["envVar"]


MANIFEST = ("Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n"
            "Start-Class: com.example.Shop\r\nSpring-Boot-Version: 2.7.18\r\n\r\n")


def test_spring_boot_command_line_and_properties_file_do_not_share_a_variable(tmp_path):
    jar = tmp_path / "shop.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", MANIFEST)
    (tmp_path / "application.properties").write_text("db.password=CANARY-file-7f3a\nserver.port=8080\n")
    cmdline = ("java", "-Ddb.password=CANARY-cmd-7f3a", "-jar", str(jar))
    proc = ProcessInfo(pid=4321, cmdline=cmdline, exe="", cwd=str(tmp_path), environ={}, listening=(Socket(8080),))
    host, analyzer = LocalHost(), SpringBootAnalyzer()
    detection = analyzer.detect(proc, host)
    assert detection is not None
    entry = InventoryEntry(application_id(detection.application_type, detection.identity),
                           detection.application_type, analyzer.id, proc.pid, " ".join(cmdline), detection.identity,
                           ports=(8080,))
    result = analyzer.analyze(entry, proc, host)
    secrets = result.analysis_info["secrets"]
    by_source = {s["foundIn"]: s["envVar"] for s in secrets if s["name"] == "db.password"}
    props = str(tmp_path / "application.properties")
    assert by_source == {"command line": "A2C_SECRET_DB_PASSWORD", props: "A2C_SECRET_DB_PASSWORD_2"}
    analysis = {"analysisInfo": result.analysis_info, "containerParameters": result.container_parameters}
    plan = analyzer.plan(analysis, host)
    assert plan.generated[props].decode() == "db.password=${A2C_SECRET_DB_PASSWORD_2}\nserver.port=8080\n"
    assert plan.render_at_start[props] == ("A2C_SECRET_DB_PASSWORD_2",)
    assert "-Ddb.password=${A2C_SECRET_DB_PASSWORD}" in plan.entrypoint
    parameters = [s["valueFrom"] for s in build_deployment(analysis)["secrets"]]
    assert len(parameters) == len(set(parameters)) == 2
    # the findings name the variable the user must supply for each
    messages = " ".join(f.message for f in result.findings if f.code == "SEC-W001")
    assert "A2C_SECRET_DB_PASSWORD_2" in messages
