"""CloudFormation, and what a stack deploy needs beside it (S3 for large templates, SSM and Secrets
Manager to check the secrets a template references), as plain calls over the AWS client provider.

Only here are boto3's shapes and exceptions known: callers get dicts of CloudFormation's own field
names, ``None`` for "no such stack", and AWSError (with a next step) for every other failure.
"""

from __future__ import annotations

from typing import Any, Container, Iterable

from a2c.gateways.aws import call, translate

SSM_BATCH = 10  # GetParameters takes at most ten names


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _message(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))


class CloudFormationGateway:
    """One region's CloudFormation, S3, SSM and Secrets Manager clients from ``aws`` (an
    ``AwsClients``: ``client(service)`` and ``region``), each made on first use."""

    def __init__(self, aws: Any) -> None:
        self._aws = aws
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        return str(self._aws.region)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._aws.client(service)
        return self._clients[service]

    @property
    def _cfn(self) -> Any:
        return self._client("cloudformation")

    # -- stacks -------------------------------------------------------------------------------
    def stack(self, name_or_id: str) -> dict[str, Any] | None:
        """The stack (StackId, StackStatus, Outputs, …), or None when there is none by that name."""
        import botocore.exceptions as bce

        try:
            stacks = self._cfn.describe_stacks(StackName=name_or_id)["Stacks"]
        except bce.ClientError as exc:
            if _code(exc) == "ValidationError" and "does not exist" in _message(exc):
                return None
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc
        return dict(stacks[0]) if stacks else None

    def events(self, stack_id: str, seen: Container[str] = (), max_pages: int = 0) -> list[dict[str, Any]]:
        """The stack's events, newest first, down to the first one in ``seen`` (pages are read
        only as far as needed, at most ``max_pages`` when given: a long-lived stack has thousands)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        pages = 0
        while True:
            pages += 1
            page = call(self._cfn.describe_stack_events, StackName=stack_id, **({"NextToken": token} if token else {}))
            for event in page.get("StackEvents", []):
                if event.get("EventId") in seen:
                    return found
                found.append(dict(event))
            token = page.get("NextToken")
            if not token or pages == max_pages:
                return found

    def delete_stack(self, stack_id: str) -> None:
        call(self._cfn.delete_stack, StackName=stack_id)

    # -- change sets ------------------------------------------------------------------------------
    def create_change_set(self, stack_name: str, change_set_name: str, change_set_type: str, *,
                          template_body: str | None = None, template_url: str | None = None,
                          capabilities: Iterable[str] = (), tags: Iterable[dict[str, str]] = ()) -> dict[str, str]:
        """``{"Id": change set ARN, "StackId": …}``."""
        options: dict[str, Any] = {"TemplateURL": template_url} if template_url else {"TemplateBody": template_body}
        if tags:  # an empty list would remove the stack's tags on an update
            options["Tags"] = list(tags)
        answer = call(self._cfn.create_change_set, StackName=stack_name, ChangeSetName=change_set_name,
                      ChangeSetType=change_set_type, Capabilities=list(capabilities),
                      Description="a2c generate app-deployment --deploy", **options)
        return {"Id": str(answer["Id"]), "StackId": str(answer.get("StackId", ""))}

    def change_set(self, change_set_id: str) -> dict[str, Any]:
        """The change set (Status, StatusReason, ExecutionStatus) with all its Changes."""
        pages: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = call(self._cfn.describe_change_set, ChangeSetName=change_set_id,
                        **({"NextToken": token} if token else {}))
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                break
        first = dict(pages[0])
        first["Changes"] = [c for p in pages for c in p.get("Changes", [])]
        return first

    def execute_change_set(self, change_set_id: str) -> None:
        call(self._cfn.execute_change_set, ChangeSetName=change_set_id)

    def delete_change_set(self, change_set_id: str) -> None:
        call(self._cfn.delete_change_set, ChangeSetName=change_set_id)

    # -- large templates ----------------------------------------------------------------------------
    def upload_template(self, bucket: str, key: str, body: bytes) -> str:
        """Put the template in ``bucket`` and return the URL CloudFormation reads it from."""
        call(self._client("s3").put_object, Bucket=bucket, Key=key, Body=body, ContentType="text/yaml")
        suffix = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        return f"https://{bucket}.s3.{self.region}.{suffix}/{key}"

    # -- secrets --------------------------------------------------------------------------------------
    def missing_parameters(self, names: list[str]) -> list[str]:
        """The SSM parameters (names or ARNs) of ``names`` that do not exist."""
        missing: list[str] = []
        for start in range(0, len(names), SSM_BATCH):
            batch = names[start:start + SSM_BATCH]
            answer = call(self._client("ssm").get_parameters, Names=batch, WithDecryption=False)
            missing += [n for n in batch if n in set(answer.get("InvalidParameters", []))]
        return missing

    def secret_exists(self, secret_id: str) -> bool:
        """Whether Secrets Manager holds ``secret_id`` (a name or ARN); a secret scheduled for
        deletion counts as missing, since a task cannot read it."""
        import botocore.exceptions as bce

        try:
            answer = self._client("secretsmanager").describe_secret(SecretId=secret_id)
        except bce.ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return False
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc
        return "DeletedDate" not in answer
