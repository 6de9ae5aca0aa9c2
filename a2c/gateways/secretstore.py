"""SSM Parameter Store and Secrets Manager: where ``a2c analyze --store-secrets`` puts the secret
values it read on the application host, so that they never touch the workspace.

Each value goes under the name deployment.json's ``valueFrom`` uses (``a2c.ids``), as a
SecureString parameter or a secret, tagged ``a2c:application=<id>``. An existing one is left
as it is unless ``overwrite``. The values leave this module only in the request to AWS: the
results carry names and places, and an AWS message that quotes a value is withheld.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from a2c.errors import A2CError, AWSError, HostError
from a2c.gateways.aws import translate
from a2c.ids import secret_parameter_name

STORES = ("ssm", "secretsmanager")
TAG_KEY = "a2c:application"
SSM_STANDARD_MAX = 4096  # bytes of a standard-tier parameter's value

# Outcomes: stored or left in place are done; the others are not stored.
CREATED, OVERWRITTEN, EXISTS, UNREADABLE, FAILED = "created", "overwritten", "exists", "unreadable", "failed"
DONE = (CREATED, OVERWRITTEN, EXISTS)


class SecretInput(Protocol):
    """A secret read again on the host (``a2c.analyzers.common.secretvalues.SecretValue``)."""

    @property
    def env_var(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def found_in(self) -> str: ...
    @property
    def value(self) -> str | None: ...
    @property
    def problem(self) -> str: ...


@dataclass(frozen=True)
class StoredSecret:
    """Where one run-time variable's value went (never the value)."""

    env_var: str
    name: str
    found_in: str
    outcome: str
    store: str
    location: str  # the parameter's name, or the secret's ARN (its name until one is known)
    message: str = ""

    @property
    def stored(self) -> bool:
        return self.outcome in DONE

    def to_json(self) -> dict[str, Any]:
        return {"envVar": self.env_var, "name": self.name, "foundIn": self.found_in, "outcome": self.outcome,
                "store": self.store, "location": self.location, "message": self.message}


def store_secrets(clients: Any, app_id: str, secrets: Sequence[SecretInput], store: str = "ssm",
                  overwrite: bool = False, kms_key_id: str | None = None) -> list[StoredSecret]:
    """Store each readable value; one that was not read again is reported, not stored. An AWS
    error fails that secret alone (its message, unless it quotes the value), not the others."""
    put = {"ssm": _put_parameter, "secretsmanager": _put_secret}[store]
    tags = [{"Key": TAG_KEY, "Value": app_id}]
    client = clients.client(store)
    results = []
    unreachable = ""  # once AWS cannot be reached (no credentials, no network), the rest are not tried
    for secret in secrets:
        name = secret_parameter_name(app_id, secret.env_var)
        if secret.value is None:
            outcome, location, message = UNREADABLE, name, secret.problem
        elif unreachable:
            outcome, location, message = FAILED, name, unreachable
        else:
            try:
                outcome, location, message = put(client, name, secret.value, tags, overwrite, kms_key_id)
            except _Unreachable as exc:
                unreachable = str(exc)
                outcome, location, message = FAILED, name, unreachable
        results.append(StoredSecret(secret.env_var, secret.name, secret.found_in, outcome, store, location, message))
    return results


def not_stored_error(results: Sequence[StoredSecret]) -> A2CError | None:
    """The error the command ends with when some values were not stored: AWSError when AWS
    refused one, else HostError (the host no longer holds it); None when all are in place."""
    missing = [r for r in results if not r.stored]
    if not missing:
        return None
    names = ", ".join(r.env_var for r in missing)
    message = f"{len(missing)} of {len(results)} secrets were not stored: {names}"
    if any(r.outcome == FAILED for r in missing):
        return AWSError(message, "Fix what each message says (IAM permissions, a KMS key) and run the same "
                                 "`a2c analyze --store-secrets` again; secrets already stored are left as they are.")
    return HostError(message, "Start the application (or restore its configuration files), run `a2c analyze` "
                              "again, or store the missing values yourself under the names shown.")


# -- SSM Parameter Store ------------------------------------------------------------------------

def _put_parameter(ssm: Any, name: str, value: str, tags: list[dict[str, str]], overwrite: bool,
                   kms_key_id: str | None) -> tuple[str, str, str]:
    if len(value.encode("utf-8", "surrogatepass")) > SSM_STANDARD_MAX:
        return FAILED, name, (f"the value is longer than {SSM_STANDARD_MAX} bytes, more than a standard "
                              "parameter holds; store it with --store-secrets secretsmanager")
    request: dict[str, Any] = {"Name": name, "Value": value, "Type": "SecureString",
               "Description": "Stored by a2c analyze --store-secrets", **({"KeyId": kms_key_id} if kms_key_id else {})}
    code, message = _attempt(value, ssm.put_parameter, Tags=tags, Overwrite=False, **request)
    if code == "":
        return CREATED, name, ""
    if code != "ParameterAlreadyExists":
        return FAILED, name, message
    if not overwrite:
        return EXISTS, name, "it exists; pass --overwrite to replace its value"
    # SSM refuses Tags together with Overwrite: the value first, then the tag.
    code, message = _attempt(value, ssm.put_parameter, Overwrite=True, **request)
    if code == "":
        code, message = _attempt(value, ssm.add_tags_to_resource, ResourceType="Parameter", ResourceId=name, Tags=tags)
    return (OVERWRITTEN, name, "") if code == "" else (FAILED, name, message)


# -- Secrets Manager ----------------------------------------------------------------------------

def _put_secret(sm: Any, name: str, value: str, tags: list[dict[str, str]], overwrite: bool,
                kms_key_id: str | None) -> tuple[str, str, str]:
    key = {"KmsKeyId": kms_key_id} if kms_key_id else {}
    found: dict[str, Any] = {}
    code, message = _attempt(value, sm.create_secret, _keep=found, Name=name, SecretString=value, Tags=tags,
                             Description="Stored by a2c analyze --store-secrets", **key)
    if code == "":
        return CREATED, str(found.get("ARN", name)), ""
    if code != "ResourceExistsException":
        return FAILED, name, message
    if not overwrite:
        _attempt(value, sm.describe_secret, _keep=found, SecretId=name)
        return EXISTS, str(found.get("ARN", name)), "it exists; pass --overwrite to replace its value"
    steps: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        *([(sm.update_secret, {"SecretId": name, **key})] if kms_key_id else []),  # new versions use the key
        (sm.put_secret_value, {"SecretId": name, "SecretString": value}),
        (sm.tag_resource, {"SecretId": name, "Tags": tags}),
    ]
    for method, kwargs in steps:
        code, message = _attempt(value, method, _keep=found, **kwargs)
        if code != "":
            return FAILED, name, message
    return OVERWRITTEN, str(found.get("ARN", name)), ""


# -- calls --------------------------------------------------------------------------------------

class _Unreachable(Exception):
    """AWS did not answer at all (credentials, endpoint): no later call would do better."""


def _attempt(value: str, method: Any, _keep: dict[str, Any] | None = None, **kwargs: Any) -> tuple[str, str]:
    """("", "") when the call succeeds (its ARN kept in ``_keep``), else (error code, message);
    _Unreachable when AWS did not answer.

    The message is withheld when it quotes the value; botocore's exception is not kept (nor
    chained), so no traceback or log line can carry the request."""
    import botocore.exceptions as bce

    try:
        answer = method(**kwargs)
    except bce.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "")) or "Error"
        return code, _safe(translate(exc), value, exc.operation_name, code)
    except bce.BotoCoreError as exc:
        message = _safe(translate(exc), value, getattr(method, "__name__", "call"), type(exc).__name__)
    else:
        if _keep is not None and isinstance(answer, dict) and answer.get("ARN"):
            _keep["ARN"] = answer["ARN"]
        return "", ""
    raise _Unreachable(message)


def _safe(error: AWSError, value: str, operation: str, code: str) -> str:
    text = f"{error.message} ({error.hint})" if error.hint else error.message
    if any(form in text for form in (value, json.dumps(value)[1:-1], repr(value)[1:-1])):
        return f"AWS {operation} failed: {code} (its message is withheld: it quotes the value)"
    return text
