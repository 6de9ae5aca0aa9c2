"""The one module that talks to AWS (boto3); clients come from one provider, errors become AWSError."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
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
    """Call a boto3 method, turning its exceptions into AWSError with a next step; an answer that
    is no AWS response (a proxy's or a stand-in's error page, which botocore cannot parse) too."""
    import botocore.exceptions as bce
    from botocore.parsers import ResponseParserError

    try:
        return method(**kwargs)
    except (bce.BotoCoreError, bce.ClientError) as exc:
        raise translate(exc) from exc
    except ResponseParserError as exc:
        raise AWSError(f"AWS {getattr(method, '__name__', 'call')} got an answer that is not an AWS response "
                       f"({str(exc).splitlines()[0] if str(exc) else 'unparsable'})",
                       "Check the endpoint (AWS_ENDPOINT_URL, a proxy) and the workspace log (log/a2c.log).") from exc


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


# ecrParameters defaults (deployment.json): build_deployment writes them into new files and the
# push reads them for files written before these keys existed.
DEFAULT_TAG_MUTABILITY = "IMMUTABLE"
DEFAULT_KEEP_IMAGES = 20
A2C_TAGS = {"a2c-generated": "true"}


@dataclass(frozen=True)
class EcrRepositorySettings:
    """What a repository a2c creates looks like; an existing one is left as it is."""

    name: str
    tag_mutability: str = DEFAULT_TAG_MUTABILITY
    keep_images: int = DEFAULT_KEEP_IMAGES
    kms_key_arn: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: dict(A2C_TAGS))
    scan_on_push: bool = True


@dataclass(frozen=True)
class EcrRepository:
    """A repository as ECR describes it; ``differences`` says how it departs from the settings asked."""

    uri: str
    created: bool
    tag_mutability: str
    differences: tuple[str, ...] = ()

    @property
    def immutable(self) -> bool:
        return self.tag_mutability.startswith("IMMUTABLE")  # IMMUTABLE_WITH_EXCLUSION too


def lifecycle_policy(keep: int) -> str:
    """ECR lifecycle policy text: expire all but the ``keep`` most recently pushed images, tagged or not,
    so a repository that receives one image per build does not grow without bound."""
    rule = {"rulePriority": 1, "description": f"a2c: keep the last {keep} images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
            "action": {"type": "expire"}}
    return json.dumps({"rules": [rule]}, sort_keys=True)


def encryption_configuration(kms_key_arn: str) -> dict[str, str]:
    """KMS with the key given, else ECR's default AES256 (asked for explicitly, so the intent is recorded)."""
    return {"encryptionType": "KMS", "kmsKey": kms_key_arn} if kms_key_arn else {"encryptionType": "AES256"}


def ensure_ecr_repository(clients: AwsClients, name: str | EcrRepositorySettings) -> EcrRepository:
    """The repository, created with the settings given when missing. An existing one is used as
    it is: changing a repository others may push to is not a2c's call; ``differences`` lists what
    is not as asked."""
    settings = name if isinstance(name, EcrRepositorySettings) else EcrRepositorySettings(name)
    return find_ecr_repository(clients, settings) or create_ecr_repository(clients, settings)


def find_ecr_repository(clients: AwsClients, settings: EcrRepositorySettings) -> EcrRepository | None:
    """The existing repository, compared with ``settings``; None when there is none."""
    ecr = clients.client("ecr")
    found = _describe_repository(ecr, settings.name)
    if found is None:
        return None
    return EcrRepository(str(found["repositoryUri"]), False, str(found.get("imageTagMutability", "MUTABLE")),
                         tuple(_differences(ecr, found, settings)))


def create_ecr_repository(clients: AwsClients, settings: EcrRepositorySettings) -> EcrRepository:
    """A new repository: scan on push, the tag mutability, encryption and tags asked, then the
    lifecycle policy (ECR takes it only once the repository exists)."""
    ecr = clients.client("ecr")
    created = call(ecr.create_repository, repositoryName=settings.name,
                   imageTagMutability=settings.tag_mutability,
                   imageScanningConfiguration={"scanOnPush": settings.scan_on_push},
                   encryptionConfiguration=encryption_configuration(settings.kms_key_arn),
                   tags=[{"Key": k, "Value": v} for k, v in settings.tags.items()])["repository"]
    call(ecr.put_lifecycle_policy, repositoryName=settings.name,
         lifecyclePolicyText=lifecycle_policy(settings.keep_images))
    return EcrRepository(str(created["repositoryUri"]), True,
                         str(created.get("imageTagMutability", settings.tag_mutability)))


def _describe_repository(ecr: Any, name: str) -> dict[str, Any] | None:
    import botocore.exceptions as bce

    try:
        return dict(ecr.describe_repositories(repositoryNames=[name])["repositories"][0])
    except bce.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
            raise translate(exc) from exc
    except bce.BotoCoreError as exc:
        raise translate(exc) from exc
    return None


def _differences(ecr: Any, found: Mapping[str, Any], settings: EcrRepositorySettings) -> list[str]:
    """How an existing repository departs from the settings a2c would create it with."""
    differences = []
    mutability = found.get("imageTagMutability", "MUTABLE")
    if mutability != settings.tag_mutability:
        differences.append(f"tag mutability {mutability} (asked {settings.tag_mutability})")
    if bool(found.get("imageScanningConfiguration", {}).get("scanOnPush")) != settings.scan_on_push:
        differences.append(f"scan on push {'off' if settings.scan_on_push else 'on'}")
    have = _encryption_text(found.get("encryptionConfiguration") or {"encryptionType": "AES256"})
    wanted = _encryption_text(encryption_configuration(settings.kms_key_arn))
    if have != wanted:
        differences.append(f"encryption {have} (asked {wanted})")
    policy = _lifecycle_policy_text(ecr, settings.name)
    if policy is None:
        differences.append("no lifecycle policy")
    elif json.loads(policy) != json.loads(lifecycle_policy(settings.keep_images)):
        differences.append(f"another lifecycle policy (asked: keep the last {settings.keep_images} images)")
    return differences


def _encryption_text(configuration: Mapping[str, Any]) -> str:
    return " ".join(str(v) for v in (configuration.get("encryptionType"), configuration.get("kmsKey")) if v)


def _lifecycle_policy_text(ecr: Any, name: str) -> str | None:
    import botocore.exceptions as bce

    try:
        return str(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    except bce.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "LifecyclePolicyNotFoundException":
            return None
        raise translate(exc) from exc
    except bce.BotoCoreError as exc:
        raise translate(exc) from exc


def ecr_image_digest(clients: AwsClients, repository: str, tag: str) -> str:
    """The manifest digest ECR holds for ``repository:tag``; "" when the tag is not there."""
    import botocore.exceptions as bce

    ecr = clients.client("ecr")
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    except bce.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return ""
        raise translate(exc) from exc
    except bce.BotoCoreError as exc:
        raise translate(exc) from exc
    return str(details[0].get("imageDigest", "")) if details else ""


def ecr_login(clients: AwsClients) -> tuple[str, str, str]:
    """(username, password, registry host) from ECR's authorization token."""
    data = call(clients.client("ecr").get_authorization_token)["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    registry = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    return user, password, registry
