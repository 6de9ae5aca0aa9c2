"""The one module that talks to AWS (boto3); clients come from one provider, errors become AWSError."""

from __future__ import annotations

import base64
import os
from typing import Any, Mapping

from a2c import __version__
from a2c.errors import AWSError


def resolve_profile_region(profile: str | None, region: str | None, environ: Mapping[str, str],
                           saved_profile: str | None = None, saved_region: str | None = None) -> tuple[str | None, str | None]:
    """The AWS profile and region by the standard precedence: the command's flags, then
    ``AWS_PROFILE`` / ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, then what ``a2c init`` saved.
    None leaves the choice to botocore (its default profile, the profile's own region)."""
    chosen_profile = profile or environ.get("AWS_PROFILE") or saved_profile or None
    chosen_region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or saved_region or None
    return chosen_profile, chosen_region


class AwsClients:
    """boto3 clients built once from profile and region. Endpoints are botocore's own standard
    settings (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``, ``endpoint_url`` in the
    profile), which is how tests point a2c at moto server too."""

    def __init__(self, profile: str | None = None, region: str | None = None, *, saved_profile: str | None = None,
                 saved_region: str | None = None) -> None:
        import boto3
        import botocore.exceptions

        profile, region = resolve_profile_region(profile, region, os.environ, saved_profile, saved_region)
        try:
            self.session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound as exc:
            name = exc.kwargs.get("profile", profile)
            raise AWSError(f"AWS profile {name!r} not found",
                           f"Create it with `aws configure --profile {name}` or run `a2c init --profile NAME`.") from exc
        if not self.session.region_name:
            raise AWSError("no AWS region configured",
                           "Pass --region, set AWS_REGION, or save one with `a2c init --region REGION`.")

    @property
    def region(self) -> str:
        return str(self.session.region_name)

    def client(self, service: str) -> Any:
        from botocore.config import Config

        return self.session.client(service, config=Config(user_agent_extra=f"a2c/{__version__}", retries={"max_attempts": 5}))

    def account_id(self) -> str:
        return str(call(self.client("sts").get_caller_identity)["Account"])


def call(method: Any, **kwargs: Any) -> Any:
    """Call a boto3 method, turning its exceptions into AWSError with a next step."""
    import botocore.exceptions as bce

    try:
        return method(**kwargs)
    except (bce.BotoCoreError, bce.ClientError) as exc:
        raise translate(exc) from exc


def translate(exc: Exception) -> AWSError:
    import botocore.exceptions as bce

    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return AWSError("no AWS credentials found",
                        "Configure credentials (`aws configure`, AWS_PROFILE, or an instance role) and run the command "
                        "again; `a2c init --profile NAME` saves the profile a2c uses.")
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        hint = "Check the request in the workspace log (log/a2c.log)."
        if "AccessDenied" in code or "Unauthorized" in code:
            hint = "Check the IAM permissions of the profile a2c uses."
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"):
            hint = "Refresh the AWS credentials of the profile a2c uses."
        return AWSError(f"AWS {exc.operation_name} failed: {code}: {error.get('Message', '')}", hint)
    if isinstance(exc, bce.EndpointConnectionError):
        return AWSError(f"cannot reach AWS ({exc})", "Check the network, the region and any endpoint override.")
    return AWSError(f"AWS call failed: {exc}", "Check the AWS configuration of the profile a2c uses.")


def ensure_ecr_repository(clients: AwsClients, name: str) -> str:
    """The repository's URI, creating it (scan on push, immutable tags off) when missing."""
    import botocore.exceptions as bce

    ecr = clients.client("ecr")
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"]
        return str(found[0]["repositoryUri"])
    except bce.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
            raise translate(exc) from exc
    except bce.BotoCoreError as exc:
        raise translate(exc) from exc
    created = call(ecr.create_repository, repositoryName=name,
                   imageScanningConfiguration={"scanOnPush": True}, tags=[{"Key": "a2c-generated", "Value": "true"}])
    return str(created["repository"]["repositoryUri"])


def ecr_login(clients: AwsClients) -> tuple[str, str, str]:
    """(username, password, registry host) from ECR's authorization token."""
    data = call(clients.client("ecr").get_authorization_token)["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    registry = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    return user, password, registry
