"""Pushing a built image to Amazon ECR, or to a registry in front of it (``--registry``)."""

from __future__ import annotations

from typing import Any, Callable

from a2c.progress import Reporter


def push_to_ecr(clients: Any, engine: Callable[[], Any], local_image: str, tag: str, reporter: Reporter,
                registry: str | None = None) -> str:
    """Create the ECR repository if needed, log in, push; returns the pushed reference.

    A registry in front of (or instead of) the account's ECR, a mirror, a pull-through proxy or a
    local one, is given the same ECR credentials. ``engine`` is called once the AWS side is known
    to work, so missing credentials are reported before a missing Docker engine.
    """
    from a2c.gateways.aws import ecr_login, ensure_ecr_repository
    from a2c.gateways.docker_engine import push_image

    account = clients.account_id()
    reporter.step(f"AWS prerequisite check succeeded (account {account}, region {clients.region})")
    repo_name = local_image.rsplit(":", 1)[0]
    uri = ensure_ecr_repository(clients, repo_name)
    reporter.step(f"ECR repository {uri}")
    user, password, _registry = ecr_login(clients)
    if registry:
        uri = f"{registry.rstrip('/')}/{repo_name}"
    pushed = push_image(engine(), local_image, uri, tag, user, password, reporter.detail)
    reporter.step(f"Pushed {local_image} to {pushed}")
    return str(pushed)
