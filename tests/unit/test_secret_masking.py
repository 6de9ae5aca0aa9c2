"""Secrets by name, shape and position: masked where they stand, kept out of the image, listed for run time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from a2c.analyzers.common.secrets import (MASK, cmdline_secrets, has_secret, is_secret_name, mask_cmdline,
                                          mask_mapping, mask_value, masked_argument_name, secret_spans)
from a2c.analyzers.java.common import entry_command, image_environment, secrets_found
from a2c.model import ProcessInfo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PLANTED = json.loads((FIXTURES / "hostile" / "masking" / "planted-java-process.json").read_text())
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXh5eg"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # URLs with userinfo, any scheme
        ("jdbc:postgresql://u:pw1@db:5432/x", "jdbc:postgresql://u:****@db:5432/x"),
        ("amqp://guest:pw2@mq.internal:5672/vh", "amqp://guest:****@mq.internal:5672/vh"),
        ("mongodb+srv://admin:pw3@cluster0.example.net/db?w=1", "mongodb+srv://admin:****@cluster0.example.net/db?w=1"),
        ("redis://:pw4@cache:6379/0", "redis://:****@cache:6379/0"),
        ("see https://u:p@ss@h.example/x now", "see https://u:****@h.example/x now"),  # the last '@' ends it
        # Oracle thin and OCI user/password@
        ("jdbc:oracle:thin:scott/tiger@//db:1521/ORCL", "jdbc:oracle:thin:scott/****@//db:1521/ORCL"),
        ("jdbc:oracle:oci:scott/tiger@TNSALIAS", "jdbc:oracle:oci:scott/****@TNSALIAS"),
        # query parameters
        ("https://h/x?user=a&password=pw5&z=1", "https://h/x?user=a&password=****&z=1"),
        ("jdbc:mysql://h:3306/db?user=a&passwd=pw6", "jdbc:mysql://h:3306/db?user=a&passwd=****"),
        ("jdbc:sqlserver://h;user=sa;pwd=pw7", "jdbc:sqlserver://h;user=sa;pwd=****"),
        ("https://h/api?api_key=pw8", "https://h/api?api_key=****"),
        # ADO.NET and ODBC connection strings (values may hold blanks; quotes and braces kept)
        ("Server=db;User Id=sa;Password=my pass;Encrypt=true", "Server=db;User Id=sa;Password=****;Encrypt=true"),
        ("Driver={ODBC 18};Server=x;Uid=u;PWD={a;b}", "Driver={ODBC 18};Server=x;Uid=u;PWD={****}"),
        ('Server=x;Password="a;""b";Database=d', 'Server=x;Password="****";Database=d'),
        ("cache:6379,password=pw9,ssl=true", "cache:6379,password=****,ssl=true"),
        # PEM private keys, JWTs, AWS access key ids
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", MASK),
        ("x -----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg", f"x {MASK}"),  # no END line: to the end
        (f"Bearer {JWT}", f"Bearer {MASK}"),
        ("id AKIAIOSFODNN7EXAMPLE in eu", f"id {MASK} in eu"),
        ("ASIAY34FZKBOKMUTVV7A", MASK),
        # options embedded in a value (JAVA_OPTS, CATALINA_OPTS, JAVA_TOOL_OPTIONS)
        ("-Xmx256m -Ddb.password=pw10 -Dfile.encoding=UTF-8", f"-Xmx256m -Ddb.password={MASK} -Dfile.encoding=UTF-8"),
        ('-Dapp.secret="a b" -Dx=1', f'-Dapp.secret="{MASK}" -Dx=1'),
        ("--spring.datasource.password=pw11", f"--spring.datasource.password={MASK}"),
        ("--db.password pw12 --verbose", f"--db.password {MASK} --verbose"),
        ("-Ddb.password=$ecret", f"-Ddb.password={MASK}"),  # no placeholder: arguments are expanded already
        # JSON inside a value
        ('{"db": {"password": "pw13", "url": "jdbc:postgresql://h/x"}}', f'{{"db": {{"password": "{MASK}", "url": "jdbc:postgresql://h/x"}}}}'),
        ('{"apiKeys": ["k1", "k2"], "n": 1}', f'{{"apiKeys": ["{MASK}", "{MASK}"], "n": 1}}'),
        ('{"password": 123456}', f'{{"password": {MASK}}}'),
        ('{"url": "amqp://u:pw14@mq/v"}', f'{{"url": "amqp://u:{MASK}@mq/v"}}'),
        # a random-looking value next to a key-ish name
        ("stripe_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc", f"stripe_key={MASK}"),
    ],
)
def test_mask_value_masks_the_secret_part_only(value, expected):
    assert mask_value(value) == expected
    assert has_secret(value)


@pytest.mark.parametrize(
    "value",
    [
        "http://host:8080/path",
        "http://host:8080/users/a@b.example",  # an '@' in the path is not userinfo
        "jdbc:postgresql://db.internal:5432/orders",
        "jdbc:oracle:thin:@//db:1521/ORCL",
        "-Xmx512m",
        "-Dpassword.file=/etc/pw -Dtoken.expiry=3600",
        "/opt/compass/bin",
        "hello world",
        "com.example.shop.Application",
        "Server=db;Database=x;Integrated Security=true",
        "jdbc:postgresql://h/x?password=${DB_PASSWORD}",  # a placeholder is no secret
        "password=****",
        "eyJ-not-a-token",
        "AKIA-short",
        "",
    ],
)
def test_ordinary_values_are_not_masked(value):
    assert secret_spans(value) == []
    assert mask_value(value) == value


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("PWD", False), ("OLDPWD", False), ("passport", False), ("COMPASS_HOME", False), ("password.file", False),
        ("keys.dir", False), ("api.keys.location", False),
        ("DB_PW", True), ("ApiKeys:Primary", True), ("app.apiTokens", True), ("db.passwords", True),
        ("keystore.storepass", True), ("AWS_SECRET_ACCESS_KEY", True),
    ],
)
def test_secret_names_in_any_style(name, secret):
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DB_PASSWORD", "x", MASK),
        ("PWD", "/opt/app", "/opt/app"),
        ("COMPASS_HOME", "/opt/compass", "/opt/compass"),
        ("PASSPORT_SERVICE", "http://passport:8080/path", "http://passport:8080/path"),
        ("STRIPE_KEY", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", MASK),
        ("CACHE_KEY", "user-profile", "user-profile"),  # key-ish name, ordinary value
        ("SPRING_APPLICATION_JSON", '{"spring": {"datasource": {"password": "pw"}}}',
         f'{{"spring": {{"datasource": {{"password": "{MASK}"}}}}}}'),
        ("SPRING_APPLICATION_JSON", '{"spring": ', MASK),  # not JSON: all of it
        ("SPRING_APPLICATION_JSON", "[" * 5000 + "]" * 5000, MASK),  # too deep to read: all of it
        ("ConnectionStrings__Orders", "Server=sql;User Id=u;Password=pw", f"Server=sql;User Id=u;Password={MASK}"),
        ("JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStorePassword=pw",
         f"-Djavax.net.ssl.trustStorePassword={MASK}"),
        ("BACKEND", "https://svc:pw@backend.internal/api", f"https://svc:{MASK}@backend.internal/api"),
    ],
)
def test_mask_mapping_by_name_shape_and_embedded_options(name, value, expected):
    assert mask_mapping({name: value}) == {name: expected}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["java", "-jar", "a.jar", "--db.password", "pw"], ["java", "-jar", "a.jar", "--db.password", MASK]),
        (["java", "-jar", "a.jar", "--password", "pw", "--api-key", "k"],
         ["java", "-jar", "a.jar", "--password", MASK, "--api-key", MASK]),
        (["app", "-password", "pw"], ["app", "-password", MASK]),
        # -Dname takes no following argument; a flag's value never starts with '-'
        (["java", "-Ddb.password", "Main"], ["java", "-Ddb.password", "Main"]),
        (["app", "--password", "--verbose"], ["app", "--password", "--verbose"]),
        (["app", "--password-file", "/etc/pw"], ["app", "--password-file", "/etc/pw"]),
        (["java", "-Xmx512m", "-cp", "a.jar", "Main"], ["java", "-Xmx512m", "-cp", "a.jar", "Main"]),
        (["java", "-Durl=jdbc:postgresql://u:pw@db:5432/x"], ["java", f"-Durl=jdbc:postgresql://u:{MASK}@db:5432/x"]),
        (["app", "--ConnectionStrings:Db=Server=s;Password=pw"], ["app", f"--ConnectionStrings:Db=Server=s;Password={MASK}"]),
        (["app", "/Password=pw"], ["app", f"/Password={MASK}"]),
        (["app", "amqp://u:pw@mq/v"], ["app", f"amqp://u:{MASK}@mq/v"]),
        (["java", '-Dspring.application.json={"a":{"token":"t"}}'], ["java", f'-Dspring.application.json={{"a":{{"token":"{MASK}"}}}}']),
    ],
)
def test_mask_cmdline_by_position_and_shape(args, expected):
    assert mask_cmdline(args) == expected


def test_masked_arguments_are_named_as_cmdline_secrets_names_them():
    args = ["java", "-Durl=jdbc:postgresql://u:pw@db/x", "-Dk.password=p", "-jar", "a.jar", "--db.password", "v",
            "amqp://u:pw@mq/v"]
    names = {s.index: s.name for s in cmdline_secrets(args)}
    assert names == {1: "url.secret", 2: "k.password", 6: "db.password", 7: "argument7"}
    masked = mask_cmdline(args)
    assert {i: masked_argument_name(masked, i) for i in names} == names
    assert masked_argument_name(masked, 3) == ""


def test_entry_command_puts_references_where_the_masks_stand():
    cmdline = ["/usr/bin/java", "-Durl=jdbc:postgresql://u:pw@db:5432/x", "-Dk.password=p", "-jar", "/a.jar",
               "--db.password", "v", "--api-key", "k"]
    proc = ProcessInfo(1, tuple(cmdline))
    args = entry_command(mask_cmdline(cmdline), secrets_found(proc))
    assert args[2:] == ("-Durl=jdbc:postgresql://u:${A2C_SECRET_URL_SECRET}@db:5432/x",
                        "-Dk.password=${A2C_SECRET_K_PASSWORD}", "-jar", "/a.jar",
                        "--db.password", "${A2C_SECRET_DB_PASSWORD}", "--api-key", "${A2C_SECRET_API_KEY}")


def test_each_command_line_secret_gets_its_own_variable():
    cmdline = ["/usr/bin/java", "-Ddb.password=a", "-Durl=amqp://u:b@mq/v?password=c", "-jar", "/a.jar",
               "--db.password", "d"]
    found = secrets_found(ProcessInfo(1, tuple(cmdline)))
    assert [s["envVar"] for s in found] == ["A2C_SECRET_DB_PASSWORD", "A2C_SECRET_URL_SECRET", "A2C_SECRET_URL_SECRET2",
                                           "A2C_SECRET_DB_PASSWORD2"]
    args = entry_command(mask_cmdline(cmdline), found)
    assert args[2:4] == ("-Ddb.password=${A2C_SECRET_DB_PASSWORD}",
                         "-Durl=amqp://u:${A2C_SECRET_URL_SECRET}@mq/v?password=${A2C_SECRET_URL_SECRET2}")
    assert args[-1] == "${A2C_SECRET_DB_PASSWORD2}"
    # a part the (edited) analysis no longer lists stays masked, and nothing else is lost
    assert entry_command(mask_cmdline(cmdline), found[:1])[3] == "-Durl=amqp://u:****@mq/v?password=****"


def test_planted_process_leaks_nowhere():
    cmdline = ["/usr/bin/java", *PLANTED["jvmOptions"], "-jar", "/opt/app/app.jar", *PLANTED["programArgs"]]
    environ = PLANTED["environ"]
    proc = ProcessInfo(1, tuple(cmdline), environ=environ)
    found = secrets_found(proc)
    outputs = json.dumps([mask_cmdline(cmdline), mask_mapping(environ), image_environment(environ), found,
                          entry_command(mask_cmdline(cmdline), found)])
    for canary in PLANTED["canaries"]:
        assert canary not in outputs, canary
    for kept in PLANTED["kept"]:
        assert kept in json.dumps(mask_cmdline(cmdline)), kept
    assert image_environment(environ) == PLANTED["plain"]
    secret_vars = {s["envVar"] for s in found if s["foundIn"] == "environment"}
    assert secret_vars == set(environ) - set(PLANTED["plain"])
    assert all(s["envVar"].startswith("A2C_SECRET_") for s in found if s["foundIn"] == "command line")


# -- outbound dependencies ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("jdbc:oracle:thin:scott/tiger@//ora:1521/ORCL", "jdbc:oracle:thin:scott/****@//ora:1521/ORCL"),
        ("jdbc:mysql://h:3306/db?user=a&passwd=pw", "jdbc:mysql://h:3306/db?user=a&passwd=****"),
        ("jdbc:postgresql://u:pw@h:5432/x", "jdbc:postgresql://u:****@h:5432/x"),
        ("jdbc:h2:tcp://h:9092/~/db;USER=sa;PASSWORD=pw", "jdbc:h2:tcp://h:9092/~/db;USER=sa;PASSWORD=****"),
    ],
)
def test_jdbc_dependencies_are_masked(url, masked):
    from a2c.analyzers.common.dependencies import from_properties, from_text

    (dep,) = from_properties({"spring.datasource.url": url}, "application.properties")
    assert dep["url"] == masked and "tiger" not in json.dumps(dep) and "pw" not in json.dumps(dep).replace("passwd", "")
    assert [d["url"] for d in from_text(f"url={url}\n", "x.xml")] == [masked]


def test_embedded_database_name_is_masked():
    from a2c.analyzers.common.dependencies import from_properties

    (dep,) = from_properties({"url": "jdbc:h2:file:/data/db;PASSWORD=pw"}, "f")
    assert "pw" not in dep["database"] and "pw" not in dep["url"].replace("PASSWORD", "")


@pytest.mark.parametrize("port", ["²", "١٢", "9" * 5000, "-1", " "])
def test_odd_digits_in_ports_are_the_default(port):
    from a2c.analyzers.common.dependencies import from_properties

    deps = from_properties({"spring.redis.host": "cache", "spring.redis.port": port,
                            "spring.rabbitmq.host": "mq", "spring.rabbitmq.port": port,
                            "spring.data.mongodb.host": "mongo", "spring.data.mongodb.port": port,
                            "spring.kafka.bootstrap-servers": f"k1:{port}"}, "f")
    assert {d["port"] for d in deps} <= {6379, 5672, 27017, 9092}


def test_jdbc_port_with_too_many_digits_is_the_default():
    from a2c.analyzers.common.dependencies import parse_jdbc_url

    assert parse_jdbc_url("jdbc:postgresql://h:" + "9" * 5000 + "/x")["port"] == 5432


def test_dotnet_connection_dependency_is_masked():
    from a2c.analyzers.dotnet.connstrings import connection_dependency

    dep = connection_dependency("Db", "Server=sql,²;Database=d;User Id=u;Password=pw;Port=³", "", "web.config")
    assert "pw" not in dep["connectionString"].replace("Password", "") and dep["host"] == "sql"


# -- .NET environment and command line --------------------------------------------------------------

def test_dotnet_environment_secrets_by_shape():
    from a2c.analyzers.dotnet.core import _container_environment, _environment_secrets

    environ = {"ConnectionStrings__Orders": "Server=s;Password=pw1", "ASPNETCORE_SERVICE_URL": "https://u:pw2@svc/x",
               "DOTNET_AUTH": f"Bearer {JWT}", "ASPNETCORE_ENVIRONMENT": "Production"}
    masked, found = _environment_secrets(environ)
    assert not any(x in json.dumps(masked) for x in ("pw1", "pw2", JWT))
    assert {s["envVar"] for s in found} == {"ConnectionStrings__Orders", "ASPNETCORE_SERVICE_URL", "DOTNET_AUTH"}
    assert _container_environment(environ, set()) == {"ASPNETCORE_ENVIRONMENT": "Production"}


def test_dotnet_arguments_by_shape_and_position():
    from a2c.analyzers.dotnet.core import _arg_secrets, _replace_in_args

    args = ["--ConnectionStrings:Db", "Server=s;Password=pw1", "--verbose", "--ApiKey", "pw2", "amqp://u:pw3@mq/v",
            "--Upstream=https://u:pw4@h/x"]
    found = _arg_secrets(args)
    masked = _replace_in_args(args, found, lambda name, text: MASK)
    assert not any(x in json.dumps(masked) for x in ("pw1", "pw2", "pw3", "pw4"))
    assert masked[2] == "--verbose" and "mq/v" in masked[5]


# -- inventory and host.json --------------------------------------------------------------------------

def test_host_json_masks_by_shape_and_position():
    from a2c.archive import masked_process

    cmdline = ["/usr/bin/java", *PLANTED["jvmOptions"], "-jar", "/opt/app/app.jar", *PLANTED["programArgs"]]
    data = json.dumps(masked_process(ProcessInfo(1, tuple(cmdline), environ=PLANTED["environ"])))
    for canary in PLANTED["canaries"]:
        assert canary not in data.replace("\\n", "\n"), canary


def test_enumerated_command_lines_are_masked():
    from a2c.steps.inventory import discover
    from a2c.model import Detection

    class Services:
        id = runtime = application_type = "dotnet-service"
        lists_configured = True

        def wants(self, *_):
            return False

        def enumerate(self, host):
            return [(Detection("dotnet-service", "dotnet-service", "svc:orders"),
                     {"cmdline": r'"C:\svc\orders.exe" --password pw1 "Server=s;Password=pw2"'})]

    class Registry:
        def ordered(self):
            return [Services()]

    class Host:
        def scan_processes(self, wanted):
            return [], []

    (entry,) = discover(Host(), Registry()).entries.values()
    assert "pw1" not in entry.cmdline and "pw2" not in entry.cmdline and "orders.exe" in entry.cmdline


# -- through the real analyzers on a snapshot ------------------------------------------------------------

def test_canaries_reach_no_output_of_a_tomcat_snapshot(tmp_path):
    from a2c.steps.analyze import build_document
    from a2c.analyzers.registry import load_registry
    from a2c.steps.inventory import discover
    from a2c.archive import masked_process
    from a2c.generate.container import render_container_artifacts
    from a2c.hosts.snapshot import SnapshotHost

    copy = tmp_path / "snap"
    shutil.copytree(FIXTURES / "snapshots" / "tomcat-host", copy)
    meta = json.loads((copy / "host.json").read_text())
    process = meta["processes"][0]
    at = process["cmdline"].index("-classpath")
    process["cmdline"][at:at] = PLANTED["jvmOptions"]
    process["cmdline"] += ["--db.password", "CANARY-T1"]
    process["environ"].update(PLANTED["environ"])
    process["environ"]["JAVA_OPTS"] = "-Djava.awt.headless=true -Ddb.password=CANARY-T2"
    (copy / "host.json").write_text(json.dumps(meta))
    canaries = ["CANARY-T1", "CANARY-T2", *PLANTED["canaries"]]

    host = SnapshotHost(str(copy))
    registry = load_registry()
    (entry,) = discover(host, registry).entries.values()
    analyzer = registry.get(entry.analyzer_id)
    analysis = build_document(analyzer.analyze(entry, host.process(entry.process_id), host))
    plan = analyzer.plan(analysis, host)
    files = render_container_artifacts(plan, host_name="h", health_path="/", secrets=analysis["analysisInfo"]["secrets"])
    outputs = {"inventory": json.dumps(entry.to_json()), "analysis": json.dumps(analysis),
               "plan env": json.dumps(dict(plan.env)), "entrypoint": json.dumps(plan.entrypoint),
               "host.json": json.dumps(masked_process(host.process(entry.process_id))), **files}
    for where, text in outputs.items():
        for canary in canaries:
            assert canary not in text.replace("\\n", "\n"), f"{canary} in {where}"
    assert "JAVA_OPTS" not in files["Dockerfile"] and "JAVA_OPTS" not in analysis["containerParameters"]["environment"]
    secrets = {(s["name"], s["foundIn"]) for s in analysis["analysisInfo"]["secrets"]}
    assert {("JAVA_OPTS", "environment"), ("db.password", "command line"), ("db.password2", "command line")} <= secrets
    entrypoint = files["a2c/entrypoint.sh"]
    # the host's -Ddb.password=s3cret came first: the positional one is a distinct secret with its own variable
    assert '"-Ddb.password=${A2C_SECRET_DB_PASSWORD}"' in entrypoint
    assert '--db.password "${A2C_SECRET_DB_PASSWORD2}"' in entrypoint
    assert "jdbc:postgresql://app:${A2C_SECRET_SPRING_DATASOURCE_URL_SECRET}@db.internal:5432/orders" in entrypoint


# -- properties -------------------------------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

_PASSWORDS = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="@/?#;&\"'{}%$*"),
                     min_size=4, max_size=20)


@settings(max_examples=200, deadline=None)
@given(password=_PASSWORDS, scheme=st.sampled_from(["jdbc:postgresql", "amqp", "mongodb+srv", "redis", "https"]))
def test_any_url_password_is_masked(password, scheme):
    assert mask_value(f"{scheme}://user:{password}@db.internal:5432/x") == f"{scheme}://user:{MASK}@db.internal:5432/x"


@settings(max_examples=200, deadline=None)
@given(password=_PASSWORDS, key=st.sampled_from(["Password", "PWD", "passwd", "password", "api_key", "x.secret"]))
def test_any_pair_password_is_masked(password, key):
    for text in ("Server=s;{}={};Database=d", "https://h/x?a=1&{}={}", "-Xmx1g -D{}={} -Dz=1"):
        assert mask_value(text.format(key, password)) == text.format(key, MASK)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.text(max_size=30))
def test_masking_never_raises_and_is_idempotent(value, name):
    once = mask_value(value, name)
    assert mask_value(once, name) == once
    assert mask_cmdline([value, name]) == mask_cmdline(mask_cmdline([value, name]))


@pytest.mark.parametrize("name, value", [
    ("APP_TITLE", "Basic Information System"),
    ("login.help", "Enter your token carefully please"),
    ("app.note", "Bearer authentication required"),
    ("i18n.token.label", "Your token"),
    ("app.password.hint", "At least 12 characters"),
])
def test_prose_about_credentials_is_not_a_credential(name, value):
    assert not has_secret(value, name) and mask_value(value, name) == value


@pytest.mark.parametrize("name, value, masked", [
    ("", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic ****"),
    ("", "Bearer sk9Xa0Qz81LmPp2R7tYv", "Bearer ****"),
    ("upstream.auth", "Basic anything-at-all", "Basic ****"),
])
def test_http_credentials_are_masked(name, value, masked):
    assert mask_value(value, name) == masked
