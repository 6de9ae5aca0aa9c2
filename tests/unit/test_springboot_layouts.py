"""Spring Boot layouts (jar, exploded, PropertiesLauncher), profiles, secrets and dependencies."""

from __future__ import annotations

import zipfile

import pytest

from a2c.analyzers.java.springboot import SpringBootAnalyzer, config_sources, find_layout
from a2c.analyzers.java.jvm import parse_java_cmdline
from a2c.hosts.local import LocalHost
from a2c.ids import application_id
from a2c.model import InventoryEntry, ProcessInfo, Socket

MANIFEST = ("Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n"
            "Start-Class: com.example.Shop\r\nSpring-Boot-Version: 2.7.18\r\n\r\n")


def _jar(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.fixture
def app(tmp_path):
    jar = _jar(tmp_path / "shop.jar", {
        "META-INF/MANIFEST.MF": MANIFEST,
        "BOOT-INF/classes/application.properties": "server.port=8080\nspring.profiles.active=dev\n",
        "BOOT-INF/classes/application-prod.properties": "server.port=7070\nspring.datasource.url=jdbc:mysql://mysql.prod:3307/shop\n",
    })
    (tmp_path / "config").mkdir()
    (tmp_path / "application.properties").write_text(
        "spring.redis.host=cache.internal\nspring.datasource.password=s3cr3t-canary\n")
    (tmp_path / "config" / "application-prod.yml").write_text(
        "spring:\n  rabbitmq:\n    host: mq.internal\n    password: mq-canary\nserver:\n  port: 9090\n")
    return tmp_path, jar


def _analyze(tmp_path, cmdline, env=None, port=9090):
    proc = ProcessInfo(pid=4321, cmdline=tuple(cmdline), exe="", cwd=str(tmp_path), environ=env or {},
                       listening=(Socket(port),))
    host = LocalHost()
    analyzer = SpringBootAnalyzer()
    detection = analyzer.detect(proc, host)
    assert detection is not None
    entry = InventoryEntry(application_id(detection.application_type, detection.identity), detection.application_type,
                           analyzer.id, proc.pid, " ".join(cmdline), detection.identity, ports=(port,))
    return analyzer, host, analyzer.analyze(entry, proc, host)


def test_profile_from_environment_selects_profile_files(app):
    tmp_path, jar = app
    _, _, result = _analyze(tmp_path, ["java", "-jar", str(jar)], env={"SPRING_PROFILES_ACTIVE": "prod"})
    boot = result.analysis_info["springBoot"]
    assert boot["activeProfiles"] == ["prod"]
    # ./config/application-prod.yml beats the jar's application-prod.properties.
    assert boot["serverPort"] == 9090 and boot["serverPortSource"].endswith("config/application-prod.yml")
    deps = {(d["kind"], d["host"], d["port"]) for d in result.analysis_info["outboundDependencies"]}
    assert {("redis", "cache.internal", 6379), ("amqp", "mq.internal", 5672), ("jdbc", "mysql.prod", 3307)} <= deps
    secrets = {s["name"]: s for s in result.analysis_info["secrets"]}
    assert secrets["spring.datasource.password"]["envVar"] == "A2C_SECRET_SPRING_DATASOURCE_PASSWORD"
    assert secrets["spring.rabbitmq.password"]["foundIn"].endswith("application-prod.yml")


def test_profile_from_jar_default_when_nothing_else(app):
    tmp_path, jar = app
    _, _, result = _analyze(tmp_path, ["java", "-jar", str(jar)], port=8080)
    assert result.analysis_info["springBoot"]["activeProfiles"] == ["dev"]
    assert result.analysis_info["springBoot"]["serverPort"] == 8080


def test_secret_files_are_templated_and_rendered_at_start(app):
    tmp_path, jar = app
    analyzer, host, result = _analyze(tmp_path, ["java", "-jar", str(jar)], env={"SPRING_PROFILES_ACTIVE": "prod"})
    analysis = {"analysisInfo": result.analysis_info, "containerParameters": result.container_parameters}
    plan = analyzer.plan(analysis, host)
    props = str(tmp_path / "application.properties")
    yml = str(tmp_path / "config" / "application-prod.yml")
    assert plan.generated[props].decode() == ("spring.redis.host=cache.internal\n"
                                              "spring.datasource.password=${A2C_SECRET_SPRING_DATASOURCE_PASSWORD}\n")
    assert "password: \"${A2C_SECRET_SPRING_RABBITMQ_PASSWORD}\"" in plan.generated[yml].decode()
    assert "mq-canary" not in plan.generated[yml].decode()
    assert plan.render_at_start[props] == ("A2C_SECRET_SPRING_DATASOURCE_PASSWORD",)


def test_exploded_layout_with_launcher(tmp_path):
    root = tmp_path / "app"
    (root / "META-INF").mkdir(parents=True)
    (root / "META-INF" / "MANIFEST.MF").write_text(MANIFEST)
    (root / "BOOT-INF" / "classes").mkdir(parents=True)
    (root / "BOOT-INF" / "classes" / "application.properties").write_text("server.port=8181\n")
    command = parse_java_cmdline(["java", "-cp", str(root), "org.springframework.boot.loader.JarLauncher"])
    layout = find_layout(command, ProcessInfo(1, (), cwd=str(tmp_path)), LocalHost())
    assert layout is not None and layout.kind == "exploded" and layout.root == str(root)
    sources, _ = config_sources(LocalHost(), layout, str(tmp_path))
    assert sources[0][1]["server.port"] == "8181"


def test_exploded_classes_on_the_classpath(tmp_path):
    classes = tmp_path / "app" / "BOOT-INF" / "classes"
    classes.mkdir(parents=True)
    command = parse_java_cmdline(["java", "-cp", f"{classes}:{tmp_path}/app/BOOT-INF/lib/*", "com.example.Shop"])
    layout = find_layout(command, ProcessInfo(1, (), cwd="/"), LocalHost())
    assert layout is not None and layout.root == str(tmp_path / "app")
    assert layout.manifest["Start-Class"] == "com.example.Shop"


def test_properties_launcher_loader_path(tmp_path):
    jar = _jar(tmp_path / "svc.jar", {"META-INF/MANIFEST.MF": MANIFEST.replace("JarLauncher", "PropertiesLauncher")})
    (tmp_path / "lib").mkdir()
    command = parse_java_cmdline(["java", "-Dloader.path=lib/,config", "-cp", str(jar),
                                  "org.springframework.boot.loader.PropertiesLauncher"])
    layout = find_layout(command, ProcessInfo(1, (), cwd=str(tmp_path)), LocalHost())
    assert layout is not None and layout.kind == "jar" and layout.root == str(jar)
    assert layout.loader_path == (str(tmp_path / "lib"), str(tmp_path / "config"))


def test_plain_jar_is_not_spring_boot(tmp_path):
    jar = _jar(tmp_path / "plain.jar", {"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nMain-Class: a.B\r\n\r\n"})
    command = parse_java_cmdline(["java", "-jar", str(jar)])
    assert find_layout(command, ProcessInfo(1, (), cwd="/"), LocalHost()) is None


BOOT3 = MANIFEST.replace("Spring-Boot-Version: 2.7.18", "Spring-Boot-Version: 3.2.4")
ACTUATOR = {"BOOT-INF/lib/spring-boot-actuator-3.2.4.jar": "", "BOOT-INF/lib/spring-boot-actuator-autoconfigure-3.2.4.jar": ""}


@pytest.mark.parametrize("manifest, libs, props, expected", [
    # An API under a context path with Actuator: its health endpoint, not "/" (which answers 404).
    (BOOT3, ACTUATOR, "server.servlet.context-path=/ledger/\n", "/ledger/actuator/health"),
    (BOOT3, ACTUATOR, "server.servlet.context-path=/ledger\nmanagement.endpoints.web.base-path=/manage\n",
     "/ledger/manage/health"),
    (BOOT3, ACTUATOR, "management.endpoints.web.base-path=/\n", "/health"),
    (BOOT3, ACTUATOR, "", "/actuator/health"),
    # Actuator on a separate management port is not the port probed: the context root then.
    (BOOT3, ACTUATOR, "server.servlet.context-path=/ledger\nmanagement.server.port=9091\n", "/ledger/"),
    (BOOT3, {}, "server.servlet.context-path=/ledger\n", "/ledger/"),
    (BOOT3, {}, "", "/"),
    # Spring Boot 1: server.context-path, and Actuator at other paths.
    (MANIFEST.replace("2.7.18", "1.5.22"), ACTUATOR, "server.context-path=/old\n", "/old/"),
])
def test_health_check_path_follows_context_path_and_actuator(tmp_path, manifest, libs, props, expected):
    jar = _jar(tmp_path / "api.jar", {"META-INF/MANIFEST.MF": manifest,
                                      "BOOT-INF/classes/application.properties": f"server.port=9090\n{props}", **libs})
    _, _, result = _analyze(tmp_path, ["java", "-jar", str(jar)])
    assert result.container_parameters["healthCheckPath"] == expected
    assert result.analysis_info["springBoot"]["healthCheck"]["path"] == expected


def test_health_check_path_of_an_exploded_app_with_actuator(tmp_path):
    root = tmp_path / "app"
    (root / "BOOT-INF" / "lib").mkdir(parents=True)
    (root / "BOOT-INF" / "classes").mkdir()
    (root / "META-INF").mkdir()
    (root / "META-INF" / "MANIFEST.MF").write_text(BOOT3)
    (root / "BOOT-INF" / "lib" / "spring-boot-actuator-3.2.4.jar").write_bytes(b"")
    (root / "BOOT-INF" / "classes" / "application.properties").write_text("server.port=9090\nserver.servlet.context-path=/api\n")
    _, _, result = _analyze(tmp_path, ["java", "-cp", str(root), "org.springframework.boot.loader.JarLauncher"])
    assert result.container_parameters["healthCheckPath"] == "/api/actuator/health"


def test_a_context_path_that_is_no_plain_url_path_falls_back_to_the_root(tmp_path):
    jar = _jar(tmp_path / "api.jar", {"META-INF/MANIFEST.MF": BOOT3, **ACTUATOR,
                                      "BOOT-INF/classes/application.properties":
                                          "server.port=9090\nserver.servlet.context-path=/a b\"$(id)\n"})
    _, _, result = _analyze(tmp_path, ["java", "-jar", str(jar)])
    assert result.container_parameters["healthCheckPath"] == "/"


@pytest.mark.parametrize("props, expected", [
    # Actuator on its own management port: probed there first (containerize keeps what answers).
    ("server.servlet.context-path=/ledger\nmanagement.server.port=9091\n",
     [("/actuator/health", 9091), ("/ledger/", 0)]),
    ("management.server.port=9091\nmanagement.server.base-path=/mgmt\nmanagement.endpoints.web.base-path=/ops\n",
     [("/mgmt/ops/health", 9091), ("/", 0)]),
    # Sharing the server's port: the health endpoint, then the context root.
    ("server.servlet.context-path=/ledger\n", [("/ledger/actuator/health", 0), ("/ledger/", 0)]),
    ("management.server.port=9090\n", [("/actuator/health", 0), ("/", 0)]),
])
def test_health_candidates_name_the_management_port(tmp_path, props, expected):
    jar = _jar(tmp_path / "api.jar", {"META-INF/MANIFEST.MF": BOOT3, **ACTUATOR,
                                      "BOOT-INF/classes/application.properties": f"server.port=9090\n{props}"})
    _, _, result = _analyze(tmp_path, ["java", "-jar", str(jar)])
    assert [(c["path"], c.get("port", 0)) for c in result.analysis_info["healthCandidates"]] == expected
