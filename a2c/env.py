"""The Environment every step runs in: built once by the CLI, built by tests around real services.

It holds what a step may not build for itself: the workspace, the reporter, how to open a
host, the AWS client provider, the Docker engine and the registries of analyzers, targets,
pipelines and builders. Everything is made on first use, so a command pays only for what it
touches (``a2c inventory`` never imports boto3 or docker).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from a2c.hosts import open_host
from a2c.hosts.base import Host
from a2c.progress import Reporter
from a2c.workspace import Workspace


def _saved_aws() -> tuple[str | None, str | None]:
    """The profile and region ``a2c init`` saved (the last choice in the precedence)."""
    from a2c.config import load_config

    config = load_config()
    if config is None:
        return None, None
    return (config.awsProfile if config.awsProfile != "default" else None), (config.awsRegion or None)


@dataclass
class Environment:
    workspace: Workspace
    reporter: Reporter = field(default_factory=Reporter)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    host_opener: Callable[[str], Host] = open_host
    # (profile, region) -> AWS clients; the default reads the flags, the AWS_* variables and the saved config.
    aws_provider: Callable[[str | None, str | None], Any] | None = None
    docker_provider: Callable[[], Any] | None = None
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.workspace.plugin_sections is None:
            self.workspace.plugin_sections = self.schema_sections

    def schema_sections(self, schema: str) -> dict[str, Any]:
        """What installed plugins add to a workspace document's schema: each target's section of
        deployment.json, each third-party analyzer's section of analysisInfo."""
        if schema == "deployment":
            return self.targets.sections()
        if schema == "analysis":
            return self.analyzers.sections()
        return {}

    # -- hosts -------------------------------------------------------------------------------
    def open_host(self, uri: str = "local") -> Host:
        if uri.startswith("ssh://") and self.host_opener is open_host:
            from a2c.gateways.ssh import options_from_uri

            return self.open_ssh(options_from_uri(uri))
        return self.host_opener(uri)

    def open_ssh(self, options: Any) -> Host:
        """A host reached over SSH (``a2c.gateways.ssh.SshOptions``), read through its shell and
        SFTP: nothing is installed there."""
        from a2c.gateways.ssh import open_shell
        from a2c.hosts.command import CommandHost

        return CommandHost(open_shell(options))

    def open_ssm(self, instance_id: str, *, profile: str | None = None, region: str | None = None,
                 bucket: str | None = None, prefetched_scan: bytes | None = None) -> Host:
        """A managed instance reached through Systems Manager Run Command."""
        from a2c.gateways.ssm import SsmShell
        from a2c.hosts.command import CommandHost

        return CommandHost(SsmShell(self.aws(profile, region), instance_id, bucket=bucket),
                           prefetched_scan=prefetched_scan)

    # -- outside systems -----------------------------------------------------------------------
    def aws(self, profile: str | None = None, region: str | None = None) -> Any:
        """AWS clients by the standard precedence (flags, AWS_PROFILE/AWS_REGION, ``a2c init``)."""
        key = ("aws", profile, region)
        if key not in self._cache:
            if self.aws_provider is not None:
                self._cache[key] = self.aws_provider(profile, region)
            else:
                from a2c.gateways.aws import AwsClients

                saved_profile, saved_region = _saved_aws()
                self._cache[key] = AwsClients(profile, region, saved_profile=saved_profile, saved_region=saved_region)
        return self._cache[key]

    def docker(self) -> Any:
        """The Docker engine (``DOCKER_HOST`` and docker's other settings), connected once."""
        if "docker" not in self._cache:
            if self.docker_provider is not None:
                self._cache["docker"] = self.docker_provider()
            else:
                from a2c.gateways.docker_engine import DockerEngine

                self._cache["docker"] = DockerEngine.connect()
        return self._cache["docker"]

    # -- registries ------------------------------------------------------------------------------
    @property
    def analyzers(self) -> Any:
        if "analyzers" not in self._cache:
            from a2c.analyzers.registry import load_registry

            self._cache["analyzers"] = load_registry(self.reporter.warn)
        return self._cache["analyzers"]

    @property
    def builders(self) -> Any:
        if "builders" not in self._cache:
            from a2c.images.registry import load_builders

            self._cache["builders"] = load_builders(self, self.reporter.warn)
        return self._cache["builders"]

    @property
    def targets(self) -> Any:
        if "targets" not in self._cache:
            from a2c.targets.registry import load_targets

            self._cache["targets"] = load_targets(self.reporter.warn)
        return self._cache["targets"]

    @property
    def pipelines(self) -> Any:
        if "pipelines" not in self._cache:
            from a2c.pipelines.registry import load_pipelines

            self._cache["pipelines"] = load_pipelines(self.reporter.warn)
        return self._cache["pipelines"]
