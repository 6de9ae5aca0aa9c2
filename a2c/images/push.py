"""Pushing a built image to Amazon ECR, or to a registry in front of it (``--registry``).

The image is pushed by tag (deployment.json's ``ecrParameters.ecrRepoTag``) and returned by
digest, ``repository@sha256:…``: the templates run exactly the bytes that were pushed and
checked, whatever later happens to the tag (a mutable tag moved, a lifecycle rule expiring it).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from a2c.errors import BuildFailed, DockerUnavailable, InvalidFile
from a2c.gateways.aws import DEFAULT_KEEP_IMAGES, DEFAULT_TAG_MUTABILITY, EcrRepository, EcrRepositorySettings
from a2c.progress import Reporter

MOVING_TAGS = frozenset({"latest"})  # tags meant to move from image to image: an immutable repository takes them once


class DigestMismatch(BuildFailed):
    """The registry serves another manifest for the tag than the one the push reported."""


def repository_name(local_image: str) -> str:
    """The repository part of ``[registry/]name[:tag][@digest]``."""
    name = local_image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def repository_settings(local_image: str, parameters: Mapping[str, Any] | None) -> EcrRepositorySettings:
    """The repository to push to and how to create it, from deployment.json's ``ecrParameters``;
    a file written before a key existed gets its default (immutable tags, the last 20 images, AES256)."""
    parameters = parameters or {}
    return EcrRepositorySettings(
        name=str(parameters.get("ecrRepositoryName") or repository_name(local_image)),
        tag_mutability=str(parameters.get("imageTagMutability") or DEFAULT_TAG_MUTABILITY),
        keep_images=int(parameters.get("keepImages") or DEFAULT_KEEP_IMAGES),
        kms_key_arn=str(parameters.get("kmsKeyArn") or ""),
    )


def digest_tag(image_id: str) -> str:
    """``sha-<first 12 hex digits of the image id>``: a tag of this image alone, for hints."""
    return "sha-" + image_id.split(":", 1)[-1][:12] if image_id else ""


def refuse_moving_tag(tag: str, repository: str, exists: bool, suggestion: str) -> InvalidFile:
    """The error for a moving tag (``latest``) on an immutable repository, with the nearest valid choice."""
    choice = f"ecrParameters.ecrRepoTag to {suggestion} (this image's own tag)" if suggestion else \
        "ecrParameters.ecrRepoTag to a tag of this image alone (e.g. sha-<first 12 of its image id>)"
    hint = f"Set {choice} in deployment.json and push again"
    if not exists:
        hint += ", or set ecrParameters.imageTagMutability to MUTABLE before the repository is created"
    return InvalidFile(f"deployment.json: ecrParameters.ecrRepoTag is {tag!r}, but the ECR repository {repository} "
                       f"{'is' if exists else 'would be created'} IMMUTABLE: the tag could be pushed only once",
                       hint + ".")


def check_digest(reference: str, pushed: str, served: str) -> None:
    """The registry must serve, for the tag, the manifest the push reported: else the image URI
    in the templates would name something else than what was pushed (a race, a rewriting proxy)."""
    if pushed != served:
        raise DigestMismatch(f"{reference}: the push reported {pushed}, but the registry serves "
                             f"{served or 'no manifest'} for that tag",
                             "Another push to the same tag may have raced this one, or a proxy rewrote the manifest; "
                             "use a tag of this image alone in an immutable repository and push again.")


def push_to_ecr(clients: Any, engine: Callable[[], Any], local_image: str, tag: str, reporter: Reporter,
                registry: str | None = None, *, ecr_parameters: Mapping[str, Any] | None = None) -> str:
    """Create the ECR repository if needed, log in, push, check the digest; returns ``repo@sha256:…``.

    ``ecr_parameters`` is deployment.json's ``ecrParameters`` (repository name, tag mutability,
    images kept, KMS key); without it the defaults apply. A registry in front of (or instead of)
    the account's ECR, a mirror, a pull-through proxy or a local one, is given the same ECR
    credentials and asked for the digest itself. ``engine`` is called once the AWS side is known
    to work, so missing credentials are reported before a missing Docker engine.
    """
    from a2c.gateways.aws import create_ecr_repository, ecr_login, find_ecr_repository

    settings = repository_settings(local_image, ecr_parameters)
    account = clients.account_id()
    reporter.step(f"AWS prerequisite check succeeded (account {account}, region {clients.region})")
    found = find_ecr_repository(clients, settings)
    immutable = found.immutable if found else settings.tag_mutability.startswith("IMMUTABLE")
    if tag in MOVING_TAGS and immutable:
        raise refuse_moving_tag(tag, settings.name, found is not None, _suggested_tag(engine, local_image))
    repository = found or create_ecr_repository(clients, settings)
    _report_repository(repository, settings, reporter)
    user, password, _registry = ecr_login(clients)
    uri = f"{registry.rstrip('/')}/{settings.name}" if registry else repository.uri
    docker = engine()
    if not registry and repository.immutable:
        already = _already_in_ecr(clients, docker, settings.name, uri, tag, local_image)
        if already:
            reporter.step(f"{uri}:{tag} already holds {local_image}; nothing to push")
            return already
    return _push_and_check(clients, docker, local_image, uri, tag, (user, password), reporter, registry, settings.name)


def _push_and_check(clients: Any, docker: Any, local_image: str, uri: str, tag: str, login: tuple[str, str],
                    reporter: Reporter, registry: str | None, name: str) -> str:
    from a2c.gateways.aws import ecr_image_digest
    from a2c.gateways.docker_engine import push_image, registry_digest

    pushed = push_image(docker, local_image, uri, tag, login[0], login[1], reporter.detail)
    served = registry_digest(docker, f"{uri}:{tag}", *login) if registry else ecr_image_digest(clients, name, tag)
    check_digest(f"{uri}:{tag}", pushed.digest, served)
    reporter.step(f"Pushed {local_image} to {pushed.by_digest} (tag {tag}, digest checked with the registry)")
    return pushed.by_digest


def _report_repository(repository: EcrRepository, settings: EcrRepositorySettings, reporter: Reporter) -> None:
    if repository.created:
        encryption = f"KMS key {settings.kms_key_arn}" if settings.kms_key_arn else "AES256"
        reporter.step(f"Created ECR repository {repository.uri} ({repository.tag_mutability} tags, scan on push, "
                      f"keeps the last {settings.keep_images} images, {encryption})")
        return
    reporter.step(f"ECR repository {repository.uri}")
    if repository.differences:
        reporter.warn(f"ECR repository {settings.name} exists and is used as it is: "
                      f"{'; '.join(repository.differences)}")


def _suggested_tag(engine: Callable[[], Any], local_image: str) -> str:
    """``sha-…`` of the local image for the hint; "" when the engine cannot say."""
    from a2c.gateways.docker_engine import image_id

    try:
        return digest_tag(image_id(engine(), local_image))
    except DockerUnavailable:
        return ""


def _already_in_ecr(clients: Any, docker: Any, name: str, uri: str, tag: str, local_image: str) -> str:
    """``uri@digest`` when the immutable repository's tag already holds this very image (pushed
    before from this engine); a tag holding another image is refused, as ECR would refuse the push."""
    from a2c.gateways.aws import ecr_image_digest
    from a2c.gateways.docker_engine import image_id, repo_digests

    served = ecr_image_digest(clients, name, tag)
    if not served:
        return ""
    if f"{uri}@{served}" in repo_digests(docker, local_image):
        return f"{uri}@{served}"
    suggestion = digest_tag(image_id(docker, local_image)) or "a tag of this image alone"
    raise InvalidFile(f"deployment.json: ecrParameters.ecrRepoTag {tag!r} already holds another image "
                      f"({served}) in the immutable ECR repository {name}",
                      f"Set ecrParameters.ecrRepoTag to {suggestion} in deployment.json and push again.")
