"""The secret store gateway's own decisions, over a recording stand-in for the boto3 client (the
AWS behaviour itself is checked against moto in tests/integration/test_store_secrets.py): an AWS
message that quotes the value is withheld, AWS unreachable stops the calls, a value too long for
a standard parameter is not sent, an existing value is replaced only when asked."""

from __future__ import annotations

import botocore.exceptions as bce
import pytest

from a2c.errors import AWSError, HostError
from a2c.gateways.secretstore import not_stored_error, store_secrets
from a2c.analyzers.common.secretvalues import SecretValue

VALUE = "s3cr3t-'quoted'"


class FakeClient:
    """Records each call's operation and arguments; ``fail`` maps an operation to the error it raises."""

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.fail = fail or {}

    def __getattr__(self, operation: str):
        def call(**kwargs):
            self.calls.append((operation, kwargs))
            if operation in self.fail:
                raise self.fail[operation]
            return {"ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{kwargs.get('Name', '')}-abc"}

        call.__name__ = operation
        return call


class Clients:
    def __init__(self, client: FakeClient) -> None:
        self._client = client

    def client(self, service: str) -> FakeClient:
        return self._client


def _client_error(code: str, message: str, operation: str = "PutParameter") -> bce.ClientError:
    return bce.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _values(*pairs: tuple[str, str | None]) -> list[SecretValue]:
    return [SecretValue(var, var, "environment", value, "" if value else "the process is gone") for var, value in pairs]


def test_an_aws_message_quoting_the_value_is_withheld():
    client = FakeClient({"put_parameter": _client_error("ValidationException", f"Value '{VALUE}' is not allowed")})
    (result,) = store_secrets(Clients(client), "app-1", _values(("DB_PASSWORD", VALUE)))
    assert result.outcome == "failed" and "ValidationException" in result.message
    assert VALUE not in result.message and "quoted" not in str(result.to_json())


def test_aws_unreachable_stops_the_calls():
    client = FakeClient({"put_parameter": bce.NoCredentialsError()})
    results = store_secrets(Clients(client), "app-1", _values(("A", "one"), ("B", "two")))
    assert [r.outcome for r in results] == ["failed", "failed"]
    assert len(client.calls) == 1 and "credentials" in results[1].message
    assert isinstance(not_stored_error(results), AWSError)


def test_a_value_longer_than_a_standard_parameter_is_not_sent():
    client = FakeClient()
    (result,) = store_secrets(Clients(client), "app-1", _values(("PEM", "k" * 5000)))
    assert result.outcome == "failed" and "secretsmanager" in result.message and client.calls == []


def test_an_existing_parameter_is_left_unless_overwrite():
    exists = _client_error("ParameterAlreadyExists", "exists")
    client = FakeClient({"put_parameter": exists})
    (result,) = store_secrets(Clients(client), "app-1", _values(("A", "one")))
    assert result.outcome == "exists" and [c[0] for c in client.calls] == ["put_parameter"]
    assert not_stored_error([result]) is None


def test_overwrite_sends_the_value_then_the_tag():
    class Once(FakeClient):
        def __getattr__(self, operation):
            call = super().__getattr__(operation)
            if operation == "put_parameter" and not self.calls:
                def first(**kwargs):
                    self.calls.append((operation, kwargs))
                    raise _client_error("ParameterAlreadyExists", "exists")
                return first
            return call

    client = Once()
    (result,) = store_secrets(Clients(client), "app-1", _values(("A", "one")), overwrite=True, kms_key_id="alias/k")
    assert result.outcome == "overwritten"
    assert [c[0] for c in client.calls] == ["put_parameter", "put_parameter", "add_tags_to_resource"]
    second = client.calls[1][1]
    assert second["Overwrite"] is True and "Tags" not in second and second["KeyId"] == "alias/k"
    assert client.calls[2][1]["Tags"] == [{"Key": "a2c:application", "Value": "app-1"}]


def test_secrets_manager_reports_the_arn():
    client = FakeClient()
    (result,) = store_secrets(Clients(client), "app-1", _values(("A", "one")), store="secretsmanager")
    assert result.outcome == "created" and result.location.startswith("arn:aws:secretsmanager:")
    assert client.calls[0][1]["Name"] == "/a2c/app-1/A"


@pytest.mark.parametrize("outcomes,expected", [(("created", "exists"), None), (("created", "unreadable"), HostError),
                                               (("unreadable", "failed"), AWSError)])
def test_the_exit_status_says_some_were_not_stored(outcomes, expected):
    from a2c.gateways.secretstore import StoredSecret

    results = [StoredSecret(f"V{i}", "n", "environment", o, "ssm", f"/a2c/a/V{i}") for i, o in enumerate(outcomes)]
    error = not_stored_error(results)
    assert (error is None) if expected is None else isinstance(error, expected)


def test_an_unread_value_is_reported_and_never_sent():
    client = FakeClient()
    results = store_secrets(Clients(client), "app-1", _values(("GONE", None), ("HERE", "v")))
    assert [r.outcome for r in results] == ["unreadable", "created"] and len(client.calls) == 1
    assert results[0].message == "the process is gone" and results[0].location == "/a2c/app-1/GONE"
