"""``a2c analyze --store-secrets`` against moto server: the Tomcat snapshot host (a copy, its
secrets made hostile: quotes, backslashes, markup, escapes) is inventoried and analyzed through
the real CLI; boto3 then reads back what landed in SSM Parameter Store and Secrets Manager,
and every file under the workspace and everything printed is searched for the values.

What moto cannot check:
- encryption: moto stores a SecureString's value as given and "decrypts" without KMS, so neither
  the AWS managed key nor ``--kms-key-id`` (nor the key's policy) is really exercised;
- IAM: moto grants every call, so the permissions a2c needs (ssm:PutParameter,
  ssm:AddTagsToResource, secretsmanager:CreateSecret/PutSecretValue/TagResource, kms:Encrypt)
  are not verified;
- SSM's rule that Tags and Overwrite cannot go in one request is not enforced by moto, so the
  split into put_parameter then add_tags_to_resource is checked only by the unit tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from a2c.targets.deployment import build_deployment
from tests.conftest import FIXTURES
from tests.integration.aws_services import TEST_REGION, moto, moto_server  # noqa: F401

pytestmark = [pytest.mark.aws]

APP_ID = "java-tomcat-1dd8e7ba"
ENV_VALUE = "env pw $(id) `x` \u00e4"
CMD_VALUE = "cmd'line\"pw\\x"
FILE_VALUE = "fi\\le:pw\u00e9"  # written escaped in the properties file: fi\\le\:pw\u00e9
XML_VALUE = 'x&ml<pw"'  # written as x&amp;ml&lt;pw&quot;
EXPECTED = {"DB_PASSWORD": ENV_VALUE, "A2C_SECRET_DB_PASSWORD": CMD_VALUE, "A2C_SECRET_DB_PASSWORD_2": FILE_VALUE,
            "A2C_SECRET_JDBC_SHOP_PASSWORD": XML_VALUE}


def _write_properties(host: Path, escaped_value: str) -> None:
    (host / "files/opt/tomcat/conf/db.properties").write_text(f"db.user=app\ndb.password={escaped_value}\n")


@pytest.fixture
def host(tmp_path) -> Path:
    """The Tomcat snapshot with a secret in the environment, the command line, a properties file and a context file."""
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "snapshots" / "tomcat-host", root)
    document = json.loads((root / "host.json").read_text())
    proc = document["processes"][0]
    proc["cmdline"] = [f"-Ddb.password={CMD_VALUE}" if a.startswith("-Ddb.password=") else a for a in proc["cmdline"]]
    proc["environ"]["DB_PASSWORD"] = ENV_VALUE
    (root / "host.json").write_text(json.dumps(document, indent=2))
    _write_properties(root, "fi\\\\le\\:pw\\u00e9")
    (root / "files/opt/tomcat/conf/Catalina/localhost/shop.xml").write_text(
        '<Context><Resource name="jdbc/shop" auth="Container" type="javax.sql.DataSource" username="shop" '
        'password="x&amp;ml&lt;pw&quot;"/></Context>\n')
    return root


@pytest.fixture
def aws_env(moto, tmp_path) -> dict:
    """moto through botocore's standard endpoint variable; no profile, no instance metadata."""
    empty = tmp_path / "aws"
    empty.mkdir()
    (empty / "config").write_text("")
    (empty / "credentials").write_text("")
    return {"AWS_ENDPOINT_URL": moto.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(empty / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(empty / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": None, "AWS_REGION": None, "AWS_DEFAULT_REGION": None}


def _analyze(run_a2c, host: Path, env: dict, *options: str):
    listed = run_a2c("inventory", "--snapshot", str(host), env=env)
    assert listed.exit_code == 0, listed
    return run_a2c("--json", "analyze", "--application-id", APP_ID, "--snapshot", str(host), "--region", TEST_REGION,
                   *options, env=env)


def _ssm_values(moto) -> dict[str, tuple[str, str]]:
    ssm = moto.client("ssm")
    try:
        found = ssm.get_parameters_by_path(Path=f"/a2c/{APP_ID}/", WithDecryption=True)["Parameters"]
    finally:
        ssm.close()
    return {p["Name"].rsplit("/", 1)[1]: (p["Type"], p["Value"]) for p in found}


def _assert_nowhere(workspace: Path, result, values) -> None:
    """No file under the workspace, nor stdout or stderr, holds a value (as is, or JSON-escaped)."""
    forms = {form for v in values for form in (v, json.dumps(v)[1:-1], json.dumps(v, ensure_ascii=False)[1:-1])}
    for path in workspace.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaked = [f for f in forms if f.encode() in data]
            assert not leaked, f"{path} holds a secret value"
    for stream in (result.stdout, result.stderr):
        assert not [f for f in forms if f in stream], result


def test_values_land_in_ssm_as_securestrings_under_deployment_json_names(host, aws_env, moto, run_a2c, workspace):
    result = _analyze(run_a2c, host, aws_env, "--store-secrets")

    assert result.exit_code == 0, result
    stored = result.json()["storedSecrets"]
    assert {s["envVar"]: s["outcome"] for s in stored} == {var: "created" for var in EXPECTED}
    assert _ssm_values(moto) == {var: ("SecureString", value) for var, value in EXPECTED.items()}
    analysis = json.loads((workspace / APP_ID / "analysis.json").read_text())
    assert sorted(s["valueFrom"] for s in build_deployment(analysis)["secrets"]) == sorted(s["location"] for s in stored)
    ssm = moto.client("ssm")
    try:
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"/a2c/{APP_ID}/DB_PASSWORD")["TagList"]
    finally:
        ssm.close()
    assert {"Key": "a2c:application", "Value": APP_ID} in tags
    _assert_nowhere(workspace, result, EXPECTED.values())


def test_an_existing_value_is_left_unless_overwrite(host, aws_env, moto, run_a2c, workspace):
    assert _analyze(run_a2c, host, aws_env, "--store-secrets", "ssm").exit_code == 0
    _write_properties(host, "rotated")

    again = _analyze(run_a2c, host, aws_env, "--store-secrets", "ssm")
    assert again.exit_code == 0, again
    assert {s["outcome"] for s in again.json()["storedSecrets"]} == {"exists"}
    assert _ssm_values(moto)["A2C_SECRET_DB_PASSWORD_2"][1] == FILE_VALUE

    replaced = _analyze(run_a2c, host, aws_env, "--store-secrets", "ssm", "--overwrite")
    assert replaced.exit_code == 0, replaced
    assert {s["outcome"] for s in replaced.json()["storedSecrets"]} == {"overwritten"}
    assert _ssm_values(moto)["A2C_SECRET_DB_PASSWORD_2"] == ("SecureString", "rotated")
    _assert_nowhere(workspace, replaced, [*EXPECTED.values(), "rotated"])


def test_secrets_manager_holds_the_values_and_reports_arns(host, aws_env, moto, run_a2c, workspace):
    result = _analyze(run_a2c, host, aws_env, "--store-secrets", "secretsmanager")

    assert result.exit_code == 0, result
    stored = {s["envVar"]: s for s in result.json()["storedSecrets"]}
    sm = moto.client("secretsmanager")
    try:
        for var, value in EXPECTED.items():
            assert stored[var]["location"].startswith("arn:aws:secretsmanager:"), stored[var]
            secret = sm.get_secret_value(SecretId=f"/a2c/{APP_ID}/{var}")
            assert secret["SecretString"] == value and secret["ARN"] == stored[var]["location"]
            tags = sm.describe_secret(SecretId=f"/a2c/{APP_ID}/{var}")["Tags"]
            assert {"Key": "a2c:application", "Value": APP_ID} in tags
    finally:
        sm.close()
    _assert_nowhere(workspace, result, EXPECTED.values())


def test_a_value_not_stored_sets_the_exit_status_and_names_it(host, aws_env, moto, run_a2c, workspace):
    document = json.loads((host / "host.json").read_text())
    document["processes"][0]["environ"]["API_TOKEN"] = "T" * 5000  # more than a standard parameter holds
    (host / "host.json").write_text(json.dumps(document))

    result = _analyze(run_a2c, host, aws_env, "--store-secrets")

    assert result.exit_code == 10, result
    output = result.json()
    assert output["exitStatus"] == 10 and "API_TOKEN" in output["error"]
    outcomes = {s["envVar"]: s["outcome"] for s in output["storedSecrets"]}
    assert outcomes == {**{var: "created" for var in EXPECTED}, "API_TOKEN": "failed"}
    assert "API_TOKEN" not in _ssm_values(moto)
    _assert_nowhere(workspace, result, [*EXPECTED.values(), "T" * 5000])


def test_a_process_gone_before_the_values_are_read_is_reported(host, tmp_path, monkeypatch, moto):
    """In process: the application's process disappears between the analysis and the second look."""
    from a2c.env import Environment
    from a2c.errors import AppNotFound, HostError
    from a2c.gateways.secretstore import not_stored_error
    from a2c.steps import analyze, inventory
    from a2c.workspace import Workspace

    for key, value in {"AWS_ENDPOINT_URL": moto.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    inventory.run(env, inventory.InventoryRequest(host=f"snapshot:{host}"))
    real, calls = analyze.locate_process, []

    def gone_the_second_time(*args):
        calls.append(args)
        if len(calls) > 1:
            raise AppNotFound("gone", "start it")
        return real(*args)

    monkeypatch.setattr(analyze, "locate_process", gone_the_second_time)
    result = analyze.run(env, analyze.AnalyzeRequest(app_id=APP_ID, host=f"snapshot:{host}", store_secrets="ssm",
                                                     aws_region=TEST_REGION))

    outcomes = {s.env_var: s.outcome for s in result.stored_secrets}
    assert outcomes == {"DB_PASSWORD": "unreadable", "A2C_SECRET_DB_PASSWORD": "unreadable",
                        "A2C_SECRET_DB_PASSWORD_2": "created", "A2C_SECRET_JDBC_SHOP_PASSWORD": "created"}
    assert isinstance(not_stored_error(result.stored_secrets), HostError)
    assert set(_ssm_values(moto)) == {"A2C_SECRET_DB_PASSWORD_2", "A2C_SECRET_JDBC_SHOP_PASSWORD"}
