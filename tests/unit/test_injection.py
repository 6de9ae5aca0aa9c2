"""Hostile values through every template: each is refused with its field, or written so that it
stays data. The shell scripts run for real under sh in a sandbox whose commands only record
their arguments; a `touch CANARY` that ran would leave the canary file behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from a2c.errors import ExitStatus, InvalidFile
from a2c.generate.container import render_container_artifacts
from a2c.targets.ecs import render_ecs
from a2c.generate.quoting import (UnsafeValue, comment, docker_value, powershell_literal, powershell_word, to_json,
                                  xml_text)
from a2c.generate.render import render
from a2c.generate.safe import http_path, image_reference
from a2c.model import BuildPlan, CopyLayer

from tests.conftest import FIXTURES, missing

VALUES = json.loads((FIXTURES / "hostile" / "injection" / "values.json").read_text(encoding="utf-8"))
SH = shutil.which("sh")
# Real tools the entry script needs besides the recorders (a2c_render uses awk, cat, rm).
REAL_TOOLS = ("awk", "cat", "rm")


# -- the sandbox ------------------------------------------------------------------------------
class Sandbox:
    """A tmp folder as cwd, PATH holding only recorders (curl, wget, java, bash, touch…) and a few real tools."""

    def __init__(self, root: Path) -> None:
        if SH is None:
            missing("a POSIX shell (sh)", "install dash")
        self.root = root
        self.bin = root / "bin"
        self.cwd = root / "cwd"
        self.bin.mkdir(parents=True)
        self.cwd.mkdir()
        self.argv_log = root / "calls"
        self.argv_log.mkdir()
        for name in ("curl", "wget", "java", "bash", "id", "whoami"):
            self._stub(name, 'printf "%s\\0" "$0" "$@" > "$A2C_ARGV_LOG/call.$$"')
        # touch really creates its file: that is how an injected command shows.
        self._stub("touch", 'for f in "$@"; do : > "$f"; done')
        for tool in REAL_TOOLS:
            real = shutil.which(tool)
            if real is None:
                missing(tool, "install it")
            (self.bin / tool).symlink_to(real)

    def _stub(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!{SH}\n{body}\n")
        path.chmod(0o755)

    def run(self, script: str, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        path = self.root / "script.sh"
        path.write_text(script)
        syntax = subprocess.run([SH, "-n", str(path)], capture_output=True, text=True, timeout=10)
        assert syntax.returncode == 0, syntax.stderr
        env = {"PATH": str(self.bin), "A2C_ARGV_LOG": str(self.argv_log), **(extra_env or {})}
        return subprocess.run(["env", "-i", *[f"{k}={v}" for k, v in env.items()], SH, str(path), *args],
                              cwd=self.cwd, capture_output=True, text=True, timeout=20)

    def calls(self) -> list[list[str]]:
        """The argv of each recorded call (one file per call: an argument may hold any byte but NUL)."""
        files = sorted(self.argv_log.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        return [[a.decode() for a in f.read_bytes().split(b"\0")[:-1]] for f in files]

    def canaries(self) -> list[Path]:
        return [p for p in self.root.rglob("CANARY*")] + ([Path("/CANARY")] if Path("/CANARY").exists() else [])


@pytest.fixture
def sandbox(tmp_path):
    return Sandbox(tmp_path / "sandbox")


def _plan(**changes) -> BuildPlan:
    base = dict(app_id="java-generic-0badf00d", base_image="eclipse-temurin:17-jre",
                layers=(CopyLayer("application", ("/opt/app",)),), entrypoint=("${JAVA}", "-jar", "/opt/app/app.jar"),
                workdir="/opt/app", env={"LANG": "C.UTF-8"}, ports=(8080,), health_port=8080)
    base.update(changes)
    return BuildPlan(**base)


def _render(plan: BuildPlan | None = None, **kwargs) -> dict[str, str]:
    args = dict(host_name="legacy-01", health_path="/", secrets=[])
    args.update(kwargs)
    return render_container_artifacts(plan or _plan(), **args)


def _refused(field: str, call, *args, **kwargs) -> InvalidFile:
    with pytest.raises(InvalidFile) as info:
        call(*args, **kwargs)
    assert field in info.value.message, info.value.message
    assert info.value.exit_status == ExitStatus.INVALID_FILE and info.value.hint
    return info.value


# -- Dockerfile ------------------------------------------------------------------------------
def instructions(dockerfile: str) -> list[str]:
    """The instruction keywords of a Dockerfile, as Docker's parser splits them (comments and
    blank lines dropped, a line ending in the escape character continued)."""
    escape = "`" if dockerfile.startswith("# escape=`") else "\\"
    found, continued = [], False
    for line in dockerfile.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not continued:
            found.append(stripped.split()[0].upper())
        continued = stripped.endswith(escape)
    return found


EXPECTED_LINUX = ["FROM", "LABEL", "ENV", "COPY", "COPY", "USER", "WORKDIR", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT"]


def _hadolint(dockerfile: str, tmp_path: Path) -> None:
    if not shutil.which("hadolint"):
        return  # the golden test requires hadolint; here it is an extra check
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    lint = subprocess.run(["hadolint", "--no-fail", "--format", "json", str(path)], capture_output=True, text=True)
    errors = [r for r in json.loads(lint.stdout or "[]") if r["level"] == "error"]
    assert not errors, errors


def test_clean_plan_gives_the_expected_instructions(tmp_path):
    dockerfile = _render()["Dockerfile"]
    assert instructions(dockerfile) == EXPECTED_LINUX
    _hadolint(dockerfile, tmp_path)


@pytest.mark.parametrize(("change", "field"), [
    ({"workdir": VALUES["working_folder_run"]}, "$.analysisInfo.cwd"),
    ({"workdir": "relative/dir"}, "$.analysisInfo.cwd"),
    ({"base_image": VALUES["base_image_newline"]}, "$.containerParameters.containerBaseImage"),
    ({"base_image": "Eclipse Temurin"}, "$.containerParameters.containerBaseImage"),
    ({"env": {"X": VALUES["env_value_newline"]}}, "$.containerParameters.environment.X"),
    ({"env": {"X\nRUN touch CANARY": "1"}}, "$.containerParameters.environment."),
    ({"ports": (0,)}, "$.containerParameters.applicationPort"),
    ({"ports": (70000,)}, "$.containerParameters.applicationPort"),
    ({"render_at_start": {VALUES["config_file_with_newline"]: ("A2C_SECRET_X",)}}, "$.analysisInfo.secrets[*].foundIn"),
    ({"render_at_start": {"/opt/app/a.properties": (VALUES["env_var_name"],)}}, "$.analysisInfo.secrets[*].envVar"),
    ({"labels": {"evil\nRUN touch CANARY": "x"}}, "a label of the build plan"),
    ({"layers": (CopyLayer("../../etc", ("/etc",)),)}, "a layer of the build plan"),
    ({"app_id": "java-generic\nRUN touch CANARY"}, "$.analysisInfo.appId"),
])
def test_unrepresentable_plan_values_are_refused_by_field(change, field):
    _refused(field, _render, _plan(**change), source="ws/app/analysis.json")


def test_secret_env_var_name_is_refused_by_field():
    secrets = [{"name": "db.password", "foundIn": "environment", "envVar": "DB_PASSWORD"},
               {"name": "x", "foundIn": "environment", "envVar": VALUES["env_var_name"]}]
    _refused("$.analysisInfo.secrets[1].envVar", _render, secrets=secrets)


def test_relative_health_check_path_is_refused():
    _refused("$.containerParameters.healthCheckPath", _render, health_path=VALUES["health_check_path_relative"])


def test_hostile_but_representable_values_stay_data_in_the_dockerfile(tmp_path):
    plan = _plan(workdir=VALUES["working_folder_odd"], env={"A": VALUES["env_value"], "B.c": "1"},
                 labels={"org.example.note": VALUES["env_value"]})
    dockerfile = _render(plan, host_name=VALUES["host_name"])["Dockerfile"]
    assert instructions(dockerfile) == EXPECTED_LINUX
    assert "CANARY" not in "".join(l for l in dockerfile.split("\n") if l.startswith("RUN"))
    # ENV and LABEL values: only $, " and \ are escaped (Docker unescapes exactly those in "…").
    assert 'A="a \\"quoted\\" \\$HOME \\\\ value `touch CANARY`"' in dockerfile
    workdir = next(l for l in dockerfile.split("\n") if l.startswith("WORKDIR"))
    assert workdir == 'WORKDIR "/opt/my app/\\$(touch CANARY)/\\"q\\"/\\$HOME"'
    # A newline in the host name stays inside its comment and its label.
    assert all(line.startswith("#") or "legacy-01" not in line or "=" in line for line in dockerfile.split("\n"))
    assert "(source host: legacy-01?touch CANARY?RUN touch CANARY)." in dockerfile.split("\n")[0]
    _hadolint(dockerfile, tmp_path)


def test_docker_value_round_trips_docker_unescaping():
    """Docker's rule inside double quotes: a backslash escapes $, " and itself; others stay."""
    def docker_unquote(text: str) -> str:
        assert text[0] == text[-1] == '"'
        out, i, body = [], 0, text[1:-1]
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in '$"\\':
                out.append(body[i + 1])
                i += 2
                continue
            assert body[i] not in '"$', body  # an unescaped quote would end the value, a $ expand
            out.append(body[i])
            i += 1
        return "".join(out)

    for value in (VALUES["env_value"], VALUES["argument"], "\\", "\\\\$", 'end\\"', "tab\there", "é ☃ 中"):
        assert docker_unquote(docker_value(value)) == value
    for bad in ("a\nb", "a\rb", "a\u2028b", "a\x00b", "a\x1bb"):
        with pytest.raises(UnsafeValue):
            docker_value(bad)


# -- entrypoint.sh ---------------------------------------------------------------------------
def test_entrypoint_runs_hostile_values_as_data(sandbox):
    workdir = sandbox.root / "app $(touch CANARY-cd) 'q' \"d\""
    workdir.mkdir()
    config = workdir / "$(touch CANARY-render) 'x'.json"
    config.write_text('{"password": "${A2C_SECRET_DB_PASSWORD}"}\n')
    args = ("${JAVA}", VALUES["argument"], "-Ddb.password=${A2C_SECRET_DB_PASSWORD}", "${HOME}", "$(touch CANARY-arg)",
            "a\nb", "")
    plan = _plan(workdir=str(workdir), entrypoint=args, render_at_start={str(config): ("A2C_SECRET_DB_PASSWORD",)})
    secrets = [{"name": "db.password\ntouch CANARY-comment", "foundIn": "/opt/app/$(touch CANARY-found)\nx",
                "envVar": "A2C_SECRET_DB_PASSWORD"}]
    script = _render(plan, host_name=VALUES["host_name"], secrets=secrets)["a2c/entrypoint.sh"]
    for line in script.split("\n"):
        assert "touch CANARY" not in line or line.startswith("#") or "'" in line or '"' in line, line
    proc = sandbox.run(script, {"A2C_SECRET_DB_PASSWORD": 'pw "x" $(touch CANARY-pw)'}, args=("extra arg",))
    assert proc.returncode == 0, proc.stderr
    assert sandbox.canaries() == []
    [call] = sandbox.calls()
    assert call[1:] == [VALUES["argument"], '-Ddb.password=pw "x" $(touch CANARY-pw)', "${HOME}", "$(touch CANARY-arg)",
                        "a\nb", "", "extra arg"]
    assert json.loads(config.read_text()) == {"password": 'pw "x" $(touch CANARY-pw)'}


def test_entrypoint_warns_about_unset_secret_without_running_anything(sandbox):
    secrets = [{"name": "x", "foundIn": "environment", "envVar": "X_PASSWORD"}]
    plan = _plan(workdir=str(sandbox.cwd), entrypoint=("java",))
    proc = sandbox.run(_render(plan, secrets=secrets)["a2c/entrypoint.sh"])
    assert proc.returncode == 0 and "X_PASSWORD is not set" in proc.stderr
    assert sandbox.canaries() == []


# -- healthcheck.sh --------------------------------------------------------------------------
@pytest.mark.parametrize("tool", ["curl", "wget"])
def test_health_check_path_is_one_url_and_runs_nothing(sandbox, tool):
    script = _render(health_path=VALUES["health_check_path"])["a2c/healthcheck.sh"]
    if tool == "wget":
        (sandbox.bin / "curl").unlink()
    proc = sandbox.run(script)
    assert proc.returncode == 0, proc.stderr
    assert sandbox.canaries() == []
    [call] = sandbox.calls()
    assert os.path.basename(call[0]) == tool
    url = "http://127.0.0.1:8080/$(touch%20CANARY)/%60touch%20CANARY%60/a%20b%22c'd%25zz%41?q=1"
    assert call[-1] == url


def test_webapp_folder_named_like_a_command(sandbox):
    """Tomcat's analyzer makes /<webapp>/ the health path: a folder named $(touch CANARY)."""
    script = _render(health_path=f"/{VALUES['webapp_folder']}/")["a2c/healthcheck.sh"]
    proc = sandbox.run(script)
    assert proc.returncode == 0 and sandbox.canaries() == []
    assert sandbox.calls()[0][-1] == "http://127.0.0.1:8080/$(touch%20CANARY)/"


def test_health_script_without_port_probes_nothing(sandbox):
    proc = sandbox.run(_render(_plan(ports=(), health_port=0))["a2c/healthcheck.sh"])
    assert proc.returncode == 0 and sandbox.calls() == []


def test_http_path_encoding():
    assert http_path("/", "f") == "/"
    assert http_path("/caf\u00e9/\u2603", "f") == "/caf%C3%A9/%E2%98%83"
    assert http_path("/a%2Fb%zz", "f") == "/a%2Fb%25zz"
    assert http_path("/x\ny\x00", "f") == "/x%0Ay%00"


def test_dockerignore_is_static():
    text = _render(host_name=VALUES["host_name"])[".dockerignore"]
    assert "CANARY" not in text and text.startswith("# Generated by a2c")


# -- CloudFormation ------------------------------------------------------------------------------
def _deployment(**changes):
    deployment = {
        "a2CTemplateVersion": "1.0", "applicationId": "java-generic-0badf00d", "imageName": "java-generic-0badf00d:latest",
        "exposedPorts": [{"localPort": 8080, "protocol": "tcp"}], "environment": [],
        "secrets": [{"name": "A2C_SECRET_DB", "valueFrom": "/a2c/java-generic-0badf00d/A2C_SECRET_DB"}],
        "ecrParameters": {"ecrRepoTag": "latest"},
        "ecsParameters": {"createEcsArtifacts": True, "cpu": 1024, "memory": 2048, "healthCheckPath": "/"},
    }
    deployment.update(changes)
    return deployment


def _load_cfn(text: str):
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.loads(text)


def _cfn_lint(text: str, tmp_path: Path) -> None:
    if not shutil.which("cfn-lint"):
        return
    path = tmp_path / "ecs-master.yml"
    path.write_text(text)
    lint = subprocess.run(["cfn-lint", "--format", "parseable", "--", str(path)], capture_output=True, text=True,
                          timeout=300)
    errors = [l for l in lint.stdout.splitlines() if ":E" in l]
    assert not errors, lint.stdout


def test_cloudformation_keeps_hostile_strings_as_strings(tmp_path):
    clean = _load_cfn(render_ecs(_deployment(), "")["ecs-master.yml"])
    hostile = _deployment(
        environment=[{"name": "NOTE", "value": VALUES["tag_value"]}, {"name": "Q", "value": "\\ \u2028 \u0085 \x7f"}],
        ecsParameters={"createEcsArtifacts": True, "cpu": 1024, "memory": 2048, "healthCheckPath": "/a b\n",
                       "resourceTags": [{"key": "team: x", "value": "a b @c=d"}]})
    text = render_ecs(hostile, "")["ecs-master.yml"]
    template = _load_cfn(text)
    assert set(template["Parameters"]) == set(clean["Parameters"])
    assert set(template["Resources"]) == set(clean["Resources"])
    container = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Environment"] == [{"Name": "NOTE", "Value": VALUES["tag_value"]},
                                        {"Name": "Q", "Value": "\\ \u2028 \u0085 \x7f"}]
    assert template["Resources"]["TargetGroup"]["Properties"]["HealthCheckPath"] == "/a%20b%0A"
    assert {"Key": "team: x", "Value": "a b @c=d"} in template["Resources"]["Cluster"]["Properties"]["Tags"]
    _cfn_lint(text, tmp_path)


@pytest.mark.parametrize(("change", "field"), [
    ({"imageName": VALUES["image_name_newline"]}, "$.imageName"),
    ({"secrets": [{"name": "A2C_SECRET_DB", "valueFrom": VALUES["value_from_backslash"]}]}, "$.secrets[0].valueFrom"),
    ({"secrets": [{"name": "A2C_SECRET_DB", "valueFrom": "arn:aws:ssm:eu-west-1:123:parameter/x\ny"}]},
     "$.secrets[0].valueFrom"),
    ({"secrets": [{"name": VALUES["env_var_name"], "valueFrom": "/a2c/x"}]}, "$.secrets[0].name"),
    ({"environment": [{"name": "A B", "value": "1"}]}, "$.environment[0].name"),
    ({"ecrParameters": {"ecrRepoTag": "latest\n  Evil: x"}}, "$.ecrParameters.ecrRepoTag"),
    ({"exposedPorts": []}, "$.exposedPorts"),
    ({"ecsParameters": {"createEcsArtifacts": True, "resourceTags": [{"key": "team\nEvil: 1", "value": "x"}]}},
     "$.ecsParameters.resourceTags[0].key"),
    ({"ecsParameters": {"createEcsArtifacts": True, "resourceTags": [{"key": "team", "value": VALUES["tag_value"]}]}},
     "$.ecsParameters.resourceTags[0].value"),
    ({"exposedPorts": [{"localPort": 0}]}, "$.exposedPorts[0].localPort"),
])
def test_cloudformation_refuses_unrepresentable_fields(change, field):
    _refused(field, render_ecs, _deployment(**change), "", "ws/app/deployment.json")


def test_image_uri_is_checked():
    _refused("image URI", render_ecs, _deployment(), "123.dkr.ecr.eu-west-1.amazonaws.com/app:1\nEvil: x")


def test_valid_secret_arns_render():
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::"
    template = _load_cfn(render_ecs(_deployment(secrets=[{"name": "DB", "valueFrom": arn}]), "")["ecs-master.yml"])
    secret = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Secrets"][0]
    assert secret == {"Name": "DB", "ValueFrom": arn}


# -- Windows templates ---------------------------------------------------------------------------
def _windows_analysis(name: str) -> dict:
    return json.loads((FIXTURES / "expected" / name / "analysis.json").read_text(encoding="utf-8"))


def _windows_render(analysis: dict) -> dict[str, str]:
    """The Windows artifacts as containerize renders them: the analyzer's plan through the builder."""
    from a2c.analyzers.dotnet.iis import IISSiteAnalyzer
    from a2c.analyzers.dotnet.service import WindowsServiceAnalyzer
    from a2c.hosts.snapshot import SnapshotHost
    from a2c.images.windows import WindowsArtifactsBuilder
    from a2c.model import AnalysisHead

    host = SnapshotHost(str(FIXTURES / "snapshots" / "iis-host"))
    analyzer = WindowsServiceAnalyzer() if analysis["analysisInfo"].get("appType") == "service" else IISSiteAnalyzer()
    return WindowsArtifactsBuilder().render(analyzer.plan(analysis, host), AnalysisHead.from_json(analysis), host,
                                            "analysis.json")


def _swap(text: str, hostile: str, benign: str) -> str:
    """Replace the hostile value by the benign one where it is quoted (inside a PowerShell string,
    a Dockerfile value or a JSON string) or in a comment line; a raw occurrence anywhere else
    stays, and so makes the comparison with the benign render fail."""
    def inner(quoted: str) -> str:
        return quoted[1:-1]

    forms = [(inner(f(hostile)), inner(f(benign))) for f in (powershell_literal, to_json)]
    forms.append((inner(docker_value(hostile, "`")), inner(docker_value(benign, "`"))))
    lines = []
    for line in text.split("\n"):
        if line.lstrip().startswith("#"):
            line = line.replace(comment(hostile), benign)
        else:
            for bad, good in sorted(forms, key=lambda f: -len(f[0])):
                line = line.replace(bad, good)
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("name", ["iis/default-web-site", "windows-service/orderprocessor"])
def test_windows_templates_quote_hostile_names(name):
    hostile, benign = VALUES["powershell_name"], "BENIGN"
    analysis = _windows_analysis(name)
    info = analysis["analysisInfo"]
    info["hostName"] = hostile
    analysis["containerParameters"]["environment"] = {"NOTE": hostile}
    if "windowsService" in info:
        info["windowsService"]["displayName"] = hostile
    else:
        info["iis"]["siteName"] = hostile
    bad = _windows_render(analysis)
    good_analysis = json.loads(json.dumps(analysis).replace(json.dumps(hostile)[1:-1], benign))
    good = _windows_render(good_analysis)
    for file in good:
        assert _swap(bad[file], hostile, benign) == good[file], file
    assert instructions(bad["Dockerfile"]) == instructions(good["Dockerfile"])


def test_windows_refuses_line_breaks_in_powershell_strings():
    analysis = _windows_analysis("iis/default-web-site")
    analysis["analysisInfo"]["iis"]["siteName"] = VALUES["powershell_newline"]
    with pytest.raises(InvalidFile) as info:
        _windows_render(analysis)
    assert "windows/iis.Dockerfile.j2" in info.value.message and "control character" in info.value.message
    assert info.value.exit_status == ExitStatus.INVALID_FILE


def test_powershell_quoting():
    assert powershell_literal("it's") == "'it''s'"
    assert powershell_literal("\u2019") == "'\u2019\u2019'"  # PowerShell ends a string at a typographic quote too
    assert powershell_word("Web-Server") == "Web-Server"
    assert powershell_word("Web-Server; rm x") == "'Web-Server; rm x'"


def test_xml_text_escapes_and_refuses():
    from lxml import etree

    value = '<a href="x">&amp; \'q\'</a>'
    assert etree.fromstring(f'<r v="{xml_text(value)}">{xml_text(value)}</r>'.encode()).get("v") == value
    with pytest.raises(UnsafeValue):
        xml_text("a\x00b")


# -- the environment fails closed ------------------------------------------------------------------
def test_a_raw_value_in_a_template_fails_the_render(tmp_path, monkeypatch):
    from a2c.generate import render as render_module

    (tmp_path / "dockerfile").mkdir()
    (tmp_path / "dockerfile" / "raw.j2").write_text("WORKDIR {{ path }}\n")
    monkeypatch.setenv("A2C_TEMPLATES", str(tmp_path))
    render_module.environment.cache_clear()
    try:
        with pytest.raises(UnsafeValue, match="without a quoting filter"):
            render("dockerfile/raw.j2", path="/x\nRUN touch CANARY")
    finally:
        render_module.environment.cache_clear()


def test_every_template_expression_has_a_filter():
    """Audit: each {{ … }} in templates/ ends in a filter, is an integer loop variable, a value the
    target built as trusted YAML, or a call of the ECS template's helpers (tags, skips), which
    quote what they print themselves."""
    root = Path(__file__).resolve().parents[2] / "templates"
    allowed_bare = {"index", "index - 1", "vpc_ref", "vpc_cidr", "subnets_ref", "task_subnets_ref", "secret.arn",
                    "loop.index", "mount_subnets[index]", "index + 1", "access_log_attributes",
                    "index if nat_gateways > 1 else 1", "group", "queue.arn", "queue.name_ref", "queue.url_ref"}  # trusted YAML the worker target built
    helpers = re.compile(r"(tags|skips)\(.*\)")
    for path in root.rglob("*.j2"):
        text = re.sub(r"\{% raw %\}.*?\{% endraw %\}", "", path.read_text(), flags=re.S)  # literal text
        for expression in re.findall(r"\{\{-?\s*(.*?)\s*-?\}\}", text):
            assert "|" in expression or expression in allowed_bare or helpers.fullmatch(expression), (path.name, expression)


def test_image_reference_grammar():
    for good in ("eclipse-temurin:17-jre", "registry.example.com:5000/team/jre:17", "localhost/a__b.c-d",
                 "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019",
                 "eclipse-temurin@sha256:" + "a" * 64, "[::1]:5000/x:y", "registry:5000/x", "Registry.Example.com/x"):
        assert image_reference(good, "f") == good
    for bad in ("", "Upper/case", "a b", "a:b\n", "a\nRUN x", "a:-x", "a:" + "t" * 129, "-a", "a//b", "a:b@sha256:x",
                "registry/Upper:1"):
        with pytest.raises(InvalidFile):
            image_reference(bad, "f")


@pytest.mark.docker
def test_docker_reads_quoted_values_back_exactly(docker_client, jre_image, tmp_path):
    """The engine's own parser: ENV, LABEL and WORKDIR values from the rendered Dockerfile arrive
    byte for byte, and no instruction beyond the rendered ones runs."""
    value = VALUES["env_value"] + " \\$ end\\"
    plan = _plan(base_image=jre_image, workdir=VALUES["working_folder_odd"], env={"A": value},
                 labels={"org.example.note": value}, layers=())
    dockerfile = _render(plan, host_name=VALUES["host_name"])["Dockerfile"]
    kept = [l for l in dockerfile.split("\n") if not l.startswith(("COPY", "USER", "HEALTHCHECK"))]
    (tmp_path / "Dockerfile").write_text("\n".join(kept))
    image, _ = docker_client.images.build(path=str(tmp_path), rm=True, forcerm=True)
    try:
        config = docker_client.api.inspect_image(image.id)["Config"]
        assert f"A={value}" in config["Env"]
        assert config["Labels"]["org.example.note"] == value
        assert config["Labels"]["com.a2c.source-host"] == "legacy-01?touch CANARY?RUN touch CANARY"
        assert config["WorkingDir"] == VALUES["working_folder_odd"]
    finally:
        docker_client.images.remove(image.id, force=True)


def test_dockerignore_lines_cannot_add_rules():
    from a2c.generate.quoting import dockerignore_path

    assert dockerignore_path("site/shop/Web.Release.config") == "site/shop/Web.Release.config"
    for bad in ("site/a\n!**", "!site/keep", "# comment", "a\rb"):
        with pytest.raises(UnsafeValue):
            dockerignore_path(bad)
