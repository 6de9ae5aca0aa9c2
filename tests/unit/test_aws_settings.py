"""AWS settings follow the AWS conventions: flags, then the standard environment, then `a2c init`."""

from __future__ import annotations

import pytest

from a2c.gateways.aws import AwsClients, resolve_profile_region


@pytest.mark.parametrize("flags, environ, saved, expected", [
    ((None, None), {}, (None, None), (None, None)),
    ((None, None), {}, ("saved", "eu-west-1"), ("saved", "eu-west-1")),
    ((None, None), {"AWS_PROFILE": "env", "AWS_REGION": "us-east-2"}, ("saved", "eu-west-1"), ("env", "us-east-2")),
    ((None, None), {"AWS_DEFAULT_REGION": "ap-south-1"}, ("saved", "eu-west-1"), ("saved", "ap-south-1")),
    ((None, None), {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "ap-south-1"}, (None, None), (None, "us-east-2")),
    (("flag", "sa-east-1"), {"AWS_PROFILE": "env", "AWS_REGION": "us-east-2"}, ("saved", "eu-west-1"),
     ("flag", "sa-east-1")),
])
def test_precedence(flags, environ, saved, expected):
    assert resolve_profile_region(*flags, environ, *saved) == expected


def test_clients_take_the_environment_over_the_saved_profile(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile saved]\nregion = eu-west-1\n[profile env]\nregion = us-east-2\n")
    for key in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    assert AwsClients(saved_profile="saved").region == "eu-west-1"
    monkeypatch.setenv("AWS_PROFILE", "env")
    assert AwsClients(saved_profile="saved").region == "us-east-2"
    assert AwsClients("saved", saved_profile="env").region == "eu-west-1"


def test_endpoints_come_from_botocores_standard_variables(tmp_path, monkeypatch):
    """No endpoint of our own: AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are botocore's (moto in tests)."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:8")
    clients = AwsClients(region="eu-west-1")
    assert clients.client("sts").meta.endpoint_url == "http://127.0.0.1:9"
    assert clients.client("ecr").meta.endpoint_url == "http://127.0.0.1:8"
