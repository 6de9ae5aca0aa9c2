"""Every step called in process with an Environment wired to real local services: a snapshot
host, the Docker engine (a real build, run and probe), and plugins injected as objects rather
than installed. The CLI itself keeps its own subprocess tests (tests/e2e)."""

from __future__ import annotations

import json

import pytest

from a2c.analyzers.registry import Registry, load_registry
from a2c.env import Environment
from a2c.errors import AppNotFound
from a2c.progress import Reporter
from a2c.steps import analyze, app_deployment, containerize, extract, inventory
from a2c.targets.registry import Targets, load_targets
from a2c.workspace import Workspace
from tests.conftest import FIXTURES, load_script
from tests.integration.aws_services import ecr_credentials, ecr_registry, moto, moto_server  # noqa: F401

TOMCAT_HOST = f"snapshot:{FIXTURES / 'snapshots' / 'tomcat-host'}"
TOY_HOST = f"snapshot:{FIXTURES / 'plugins' / 'toy-host'}"


class Recorder(Reporter):
    """A reporter that keeps what a step said, for assertions."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def step(self, message: str) -> None:
        self.lines.append(("step", message))

    def detail(self, message: str) -> None:
        self.lines.append(("detail", message))

    def warn(self, message: str) -> None:
        self.lines.append(("warn", message))


@pytest.fixture
def env(tmp_path):
    return Environment(workspace=Workspace(tmp_path / "ws").ensure(), reporter=Recorder())


@pytest.fixture
def toy_plugin():
    """The test plugin's module, loaded from its file: not on sys.path, so its entry points are
    not installed and the test injects its classes itself."""
    return load_script(FIXTURES / "plugins" / "site" / "a2c_toy_plugin" / "__init__.py", "a2c_toy_plugin_injected")


def _only(result: inventory.InventoryResult, app_type: str) -> str:
    (app_id,) = [k for k, e in result.entries.items() if e.application_type == app_type]
    return app_id


def test_inventory_analyze_containerize_extract_and_deploy_a_snapshot(env):
    listed = inventory.run(env, inventory.InventoryRequest(host=TOMCAT_HOST))
    app_id = _only(listed, "java-tomcat")
    assert listed.path == env.workspace.inventory_path and listed.path.is_file()

    analyzed = analyze.run(env, analyze.AnalyzeRequest(app_id=app_id, host=TOMCAT_HOST))
    assert analyzed.document["analysisInfo"]["appId"] == app_id
    # The SBOM sits beside analysis.json: analysis writes nothing into the next step's Artifacts/.
    assert (env.workspace.app_dir(app_id) / "sbom.cdx.json").is_file()
    assert not env.workspace.artifacts_dir(app_id).exists()

    built = containerize.run(env, containerize.ContainerizeRequest(app_id=app_id, host=TOMCAT_HOST, artifacts_only=True))
    assert "Dockerfile" in built.artifacts and built.image_id == ""
    assert json.loads((env.workspace.app_dir(app_id) / "deployment.json").read_text())["ecsParameters"]["createEcsArtifacts"]

    archived = extract.run(env, extract.ExtractRequest(app_id=app_id, host=TOMCAT_HOST))
    assert archived.files > 0 and archived.archive.endswith(f"{app_id}-extraction.tar")

    deployed = app_deployment.run(env, app_deployment.AppDeploymentRequest(app_id=app_id))
    assert [o.target for o in deployed.outputs] == ["ecs"]
    assert (env.workspace.app_dir(app_id) / "EcsDeployment" / "ecs-master.yml").is_file()
    assert ("step", f"Wrote {env.workspace.app_dir(app_id) / 'deployment.json'}") in env.reporter.lines


def test_an_unknown_application_is_reported_not_created(env):
    with pytest.raises(AppNotFound):
        containerize.run(env, containerize.ContainerizeRequest(app_id="java-tomcat-00000000", host=TOMCAT_HOST))
    assert not env.workspace.app_dir("java-tomcat-00000000").exists()


@pytest.mark.docker
def test_a_plugin_analyzer_built_run_and_probed_by_the_docker_engine(env, toy_plugin, docker_client):
    """Injected plugins (an analyzer and a target as objects), a real build from the streamed
    context, a real run and HTTP probe of the image, then the plugin's target rendered."""
    try:
        docker_client.images.get("a2c-test/busybox:latest")
    except Exception:  # noqa: BLE001
        from tests.conftest import missing

        missing("the local image a2c-test/busybox:latest", "run scripts/setup.sh")
    env._cache["analyzers"] = Registry(load_registry().ordered() + [toy_plugin.ToyAnalyzer()])
    env._cache["targets"] = Targets(list(load_targets()) + [toy_plugin.ToyTarget()])
    app_id = _only(inventory.run(env, inventory.InventoryRequest(host=TOY_HOST)), "toy-server")
    analyze.run(env, analyze.AnalyzeRequest(app_id=app_id, host=TOY_HOST))
    result = containerize.run(env, containerize.ContainerizeRequest(app_id=app_id, host=TOY_HOST, validate_timeout=60))
    try:
        assert result.image_id and result.context_files == 3  # toyd, toy.conf, www/index.html
        assert result.validation is not None and result.validation.status == 200
        deployed = app_deployment.run(env, app_deployment.AppDeploymentRequest(app_id=app_id))
        assert [o.target for o in deployed.outputs] == ["ecs", "toy"]
    finally:
        docker_client.images.remove(result.image, force=True)


@pytest.mark.aws
@pytest.mark.docker
def test_push_in_process_with_an_injected_aws_provider(tmp_path, moto, ecr_registry, docker_client):
    """app_deployment with the Environment's AWS provider pointed at moto server (ECR API) and the
    push sent to a real local registry. What moto cannot check is listed in test_aws_push.py's
    docstring: real ECR auth, scanning, the ECR registry host itself."""
    from a2c.gateways.aws import AwsClients
    from tests.integration.test_aws_push import APP_ID, SOURCE_IMAGE, TAG, write_analysis

    try:
        source = docker_client.images.get(SOURCE_IMAGE)
    except Exception:  # noqa: BLE001
        from tests.conftest import missing

        missing(f"the local image {SOURCE_IMAGE}", "run scripts/setup.sh")
    source.tag(APP_ID, TAG)
    calls = []

    class MotoClients(AwsClients):
        """The gateway's client provider with its session on test keys and moto's endpoint."""

        def __init__(self, region: str) -> None:
            import boto3

            self.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                         region_name=region)

        def client(self, service):
            return self.session.client(service, endpoint_url=moto.url)

    def aws(profile, region):
        calls.append((profile, region))
        return MotoClients(region or "us-east-1")

    ws = Workspace(tmp_path / "ws").ensure()
    write_analysis(ws.root)
    env = Environment(workspace=ws, reporter=Recorder(), aws_provider=aws)
    try:
        result = app_deployment.run(env, app_deployment.AppDeploymentRequest(
            app_id=APP_ID, push=True, aws_region="us-east-1", registry=ecr_registry.address))
        # The tag deployment.json names (not `latest`: the repository is immutable), and a reference
        # by digest: the registry's own for that tag.
        pushed_tag = ws.read_deployment(APP_ID)["ecrParameters"]["ecrRepoTag"]
        assert pushed_tag != "latest"
        assert result.image_uri == f"{ecr_registry.address}/{APP_ID}@{ecr_registry.manifest_digest(APP_ID, pushed_tag)}"
        assert calls == [(None, "us-east-1")]
        status, tags = ecr_registry.tags(APP_ID)
        assert status == 200 and pushed_tag in tags["tags"]
    finally:
        for ref in list(docker_client.images.get(SOURCE_IMAGE).tags):
            if APP_ID in ref:
                docker_client.images.remove(ref, noprune=True)
