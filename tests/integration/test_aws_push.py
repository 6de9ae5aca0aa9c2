"""``a2c generate app-deployment --push`` against stand-ins for AWS: moto server answers the ECR
API (create/describe repository, authorization token) and a real distribution registry with
htpasswd basic auth stands in for ECR's registry, reached through the documented
``--registry`` option (``A2C_REGISTRY``); moto is reached through botocore's standard
``AWS_ENDPOINT_URL``. The Docker engine really pushes; skopeo and the registry's HTTP API check what landed.

What these stand-ins cannot check:
- ECR's real auth semantics: the token is a fixed ``AWS:<account>-auth-token`` from moto, it
  never expires (moto's expiresAt is in 2015), is not tied to IAM permissions or a region, and
  the registry accepts it only because the fixture wrote it into htpasswd;
- image scanning: moto stores ``scanOnPush`` but never scans, and the local registry never
  reports findings; lifecycle policies, tag immutability and repository policies are not enforced
  on the push;
- the proxyEndpoint host: moto names ``https://<account>.dkr.ecr.<region>.amazonaws.com``, which
  the test replaces by the local registry, so pushing to the host ECR names (TLS, DNS, the
  account/region in the host) is never exercised;
- CloudFormation: the generated template is only linted with cfn-lint here, not deployed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import missing
from tests.integration.aws_services import ecr_credentials, ecr_registry, foreign_registry, moto, moto_server  # noqa: F401

pytestmark = [pytest.mark.aws, pytest.mark.docker]

APP_ID = "java-springboot-0123abcd"
TAG = "latest"
LOCAL_IMAGE = f"{APP_ID}:{TAG}"
SOURCE_IMAGE = os.environ.get("A2C_TEST_BUSYBOX_IMAGE", "a2c-test/busybox:latest")
SECRET_ENV = "A2C_SECRET_DB_PASSWORD"
REGION = "us-east-1"


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def app_image(docker_client):
    """The local image a2c containerize would have built: busybox tagged as the app's image.

    Afterwards removes the tags this test made (the local name and every ``<registry>/APP_ID:*``
    tag the push added), never the source image.
    """
    from docker.errors import ImageNotFound, NotFound

    try:
        source = docker_client.images.get(SOURCE_IMAGE)
    except ImageNotFound:
        missing(f"the local image {SOURCE_IMAGE}", "run scripts/setup.sh")
    source.tag(APP_ID, TAG)
    yield source
    source.reload()
    for ref in source.tags:
        if ref == LOCAL_IMAGE or re.fullmatch(rf"127\.0\.0\.1:\d+/(?:team/)?{re.escape(APP_ID)}:[A-Za-z0-9_.-]+", ref):
            try:
                docker_client.images.remove(ref, noprune=True)
            except (ImageNotFound, NotFound):
                pass


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """An environment with no AWS settings at all: no AWS_* variables, empty config and
    credentials files, no instance metadata. Tests add what they need."""
    for key in list(os.environ):
        if key.startswith("AWS_") or key in ("A2C_REGISTRY",):
            monkeypatch.delenv(key)
    empty = tmp_path / "aws"
    empty.mkdir()
    (empty / "config").write_text("")
    (empty / "credentials").write_text("")
    return {
        "AWS_CONFIG_FILE": str(empty / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def write_analysis(ws: Path) -> Path:
    """A minimal valid analysis.json, as `a2c analyze` would write for a Spring Boot jar."""
    document = {
        "a2CTemplateVersion": "1.0",
        "createdTime": "2024-01-01T00:00:00Z",
        "containerParameters": {
            "imageRepository": APP_ID,
            "imageTag": TAG,
            "containerBaseImage": os.environ.get("A2C_TEST_JRE_IMAGE", "a2c-test/jre17:latest"),
            "applicationMode": True,
            "applicationPort": 8080,
            "healthCheckPath": "/",
        },
        "analysisInfo": {
            "appId": APP_ID,
            "applicationType": "java-springboot",
            "cmdline": ["java", "-jar", "/app/app.jar"],
            "springBoot": {"jar": "/app/app.jar"},
            "secrets": [{"name": "db.password", "foundIn": "command line", "envVar": SECRET_ENV}],
        },
        "findings": [],
    }
    path = ws / APP_ID / "analysis.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation's short tags into their long form (!Ref x -> {"Ref": x})."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resolve_arn(value) -> str:
    """An ARN expression (plain string or Fn::Sub with pseudo parameters) with sample pseudo values."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        value = value["Fn::Sub"]
        for name, sample in (("AWS::Partition", "aws"), ("AWS::Region", REGION), ("AWS::AccountId", "123456789012"),
                             ("AWS::URLSuffix", "amazonaws.com")):
            value = value.replace("${" + name + "}", sample)
    assert isinstance(value, str), f"not an ARN expression: {value!r}"
    return value


def cfn_lint_command() -> list[str]:
    beside = Path(sys.executable).with_name("cfn-lint")
    found = str(beside) if beside.exists() else shutil.which("cfn-lint")
    if not found:
        missing("cfn-lint", "pip install -e '.[test]'")
    return [found]


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Error:")]


# -- tests -------------------------------------------------------------------------------------

def test_push_creates_repository_pushes_image_and_templates_it(workspace, run_a2c, app_image, aws_env, moto,
                                                               ecr_registry):
    write_analysis(workspace)
    env = {**aws_env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL": moto.url}

    result = run_a2c("--json", "generate", "app-deployment", "--application-id", APP_ID, "--push",
                     "--region", REGION, "--registry", ecr_registry.address, env=env)

    assert result.exit_code == 0, result
    output = result.json()
    app_dir = workspace / APP_ID
    deployment = json.loads((app_dir / "deployment.json").read_text())  # written by the product
    tag = deployment["ecrParameters"]["ecrRepoTag"]
    assert tag != "latest" and tag.startswith("analysis-"), deployment["ecrParameters"]
    digest = ecr_registry.manifest_digest(APP_ID, tag)
    pushed = f"{ecr_registry.address}/{APP_ID}@{digest}"
    assert output["imageUri"] == pushed, (output, digest)

    # The ECR repository exists in (moto's) ECR, created as a2c's defaults say. moto only stores
    # these settings: it never scans, expires images, or refuses a tag pushed twice.
    ecr = moto.client("ecr")
    try:
        repositories = ecr.describe_repositories(repositoryNames=[APP_ID])["repositories"]
        policy = json.loads(ecr.get_lifecycle_policy(repositoryName=APP_ID)["lifecyclePolicyText"])
    finally:
        ecr.close()
    assert [r["repositoryName"] for r in repositories] == [APP_ID]
    assert repositories[0]["imageScanningConfiguration"]["scanOnPush"] is True
    assert repositories[0]["imageTagMutability"] == "IMMUTABLE"
    assert repositories[0]["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert [r["selection"] for r in policy["rules"]] == [
        {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}], policy

    # The image really is in the registry, under the password moto's token carries.
    status, tags = ecr_registry.tags(APP_ID)
    assert status == 200 and tag in tags["tags"], (status, tags)
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        missing("skopeo", "apt-get install -y skopeo")
    inspect = subprocess.run([skopeo, "inspect", "--raw", "--tls-verify=false", "--creds",
                              f"{ecr_registry.user}:{ecr_registry.password}", f"docker://{pushed}"],
                             capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    manifest = json.loads(inspect.stdout)
    assert manifest["config"]["digest"] == app_image.id, "the registry holds another image than the local one"
    assert f"sha256:{hashlib.sha256(inspect.stdout.encode()).hexdigest()}" == digest, "the URI names other bytes"
    status, _ = ecr_registry.get(f"/v2/{APP_ID}/tags/list", auth=(ecr_registry.user, "wrong"))
    assert status == 401, "the registry must refuse other passwords, else this test proves nothing about auth"

    # The template runs the pushed image and reads the secret from SSM Parameter Store.
    template_path = app_dir / "EcsDeployment" / "ecs-master.yml"
    assert Path(output["template"]) == template_path and template_path.is_file()
    template = load_template(template_path)
    assert template["Parameters"]["ImageUri"]["Default"] == pushed
    task_definitions = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert len(task_definitions) == 1
    container = task_definitions[0]["Properties"]["ContainerDefinitions"][0]
    secrets = {s["Name"]: s["ValueFrom"] for s in container.get("Secrets", [])}
    assert SECRET_ENV in secrets, container
    arn = resolve_arn(secrets[SECRET_ENV])
    match = re.fullmatch(r"arn:aws:ssm:[a-z0-9-]+:\d{12}:parameter(/.+)", arn)
    assert match, f"{SECRET_ENV} does not point at an SSM parameter ARN: {arn}"
    value_from = next(s["valueFrom"] for s in deployment["secrets"] if s["name"] == SECRET_ENV)
    assert match.group(1) == value_from, (arn, value_from)
    task_definition = app_dir / "EcsDeployment" / "task-definition.json"  # not every version writes one
    if task_definition.exists():
        assert json.loads(task_definition.read_text())["containerDefinitions"][0]["image"] == pushed

    lint = subprocess.run([*cfn_lint_command(), str(template_path)], capture_output=True, text=True, timeout=300)
    assert lint.returncode & 2 == 0, f"cfn-lint found errors (exit {lint.returncode}):\n{lint.stdout}{lint.stderr}"


def test_push_with_wrong_registry_credentials_fails_clearly(workspace, run_a2c, app_image, aws_env, moto,
                                                            foreign_registry):
    write_analysis(workspace)
    env = {**aws_env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL": moto.url, "A2C_REGISTRY": foreign_registry.address}

    result = run_a2c("generate", "app-deployment", "--application-id", APP_ID, "--push", "--region", REGION, env=env)

    assert result.exit_code not in (0, 1), result
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result
    assert f"{foreign_registry.address}/{APP_ID}" in errors[0], result
    assert re.search(r"unauthori[sz]ed|authentication|denied|credentials", errors[0], re.I), result
    assert "Traceback" not in result.stderr and "Hint:" in result.stderr, result
    status, _ = foreign_registry.tags(APP_ID)
    assert status == 404, "nothing may land in a registry that refused the credentials"
    assert not (workspace / APP_ID / "EcsDeployment").exists(), "no template for an image that was not pushed"

    again = run_a2c("--json", "generate", "app-deployment", "--application-id", APP_ID, "--push", "--region", REGION,
                    env=env)
    report = again.json()
    assert again.exit_code == result.exit_code == report["exitStatus"], again
    assert "\n" not in report["error"] and report["hint"], report


@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
def test_push_without_aws_credentials_exits_10(workspace, run_a2c, docker_client, aws_env, moto, json_mode):
    write_analysis(workspace)
    # The endpoint stays moto's, so nothing could reach AWS even if credentials turned up somewhere.
    env = {**aws_env, "AWS_ENDPOINT_URL": moto.url}
    assert not any(k.startswith("AWS_") and k not in aws_env and k != "AWS_ENDPOINT_URL" for k in {**os.environ, **env})

    args = ["generate", "app-deployment", "--application-id", APP_ID, "--push", "--region", REGION]
    result = run_a2c(*(["--json"] if json_mode else []), *args, env=env, timeout=120)

    assert result.exit_code == 10, result
    if json_mode:
        report = result.json()
        assert report["exitStatus"] == 10
        assert "no AWS credentials" in report["error"] and "\n" not in report["error"], report
        assert "aws configure" in report["hint"] or "profile" in report["hint"], report
    else:
        errors = error_lines(result.stderr)
        assert len(errors) == 1 and "no AWS credentials" in errors[0], result
        hints = [line for line in result.stderr.splitlines() if line.startswith("Hint:")]
        assert len(hints) == 1 and ("aws configure" in hints[0] or "profile" in hints[0]), result
        assert "Traceback" not in result.stderr, result
    assert not (workspace / APP_ID / "EcsDeployment").exists()


# -- ECR settings, refusals and the digest check -------------------------------------------------

class RecordingReporter:
    """The steps, details and warnings a push reports, kept for the assertions."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.details: list[str] = []
        self.warnings: list[str] = []

    def step(self, message: str) -> None:
        self.steps.append(message)

    def detail(self, message: str) -> None:
        self.details.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@pytest.fixture
def in_process_aws(monkeypatch, aws_env, moto):
    """AwsClients in this process, pointed at moto server by botocore's standard AWS_ENDPOINT_URL."""
    from a2c.gateways.aws import AwsClients

    for key, value in {**aws_env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_ENDPOINT_URL": moto.url}.items():
        monkeypatch.setenv(key, value)
    return AwsClients(region=REGION)


@pytest.fixture
def engine(docker_client):
    from a2c.gateways.docker_engine import DockerEngine

    return DockerEngine(docker_client)


def test_repository_is_created_with_the_ecr_parameters(in_process_aws, engine, app_image, moto, ecr_registry):
    """deployment.json's ecrParameters shape a new repository: KMS key, mutability, images kept.

    Read back through moto, which stores them but checks none: it accepts a KMS key ARN that
    no KMS holds, never expires an image by the lifecycle rule, never scans, and would take the
    same tag twice even in an IMMUTABLE repository. The push itself lands in the local registry.
    """
    from a2c.images.push import push_to_ecr

    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    parameters = {"ecrRepoTag": "release-1", "imageTagMutability": "MUTABLE", "keepImages": 5, "kmsKeyArn": key,
                  "ecrRepositoryName": f"team/{APP_ID}"}
    reporter = RecordingReporter()

    uri = push_to_ecr(in_process_aws, lambda: engine, LOCAL_IMAGE, "release-1", reporter, ecr_registry.address,
                      ecr_parameters=parameters)

    ecr = moto.client("ecr")
    try:
        repository = ecr.describe_repositories(repositoryNames=[f"team/{APP_ID}"])["repositories"][0]
        policy = json.loads(ecr.get_lifecycle_policy(repositoryName=f"team/{APP_ID}")["lifecyclePolicyText"])
        tags = ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
    finally:
        ecr.close()
    assert repository["imageTagMutability"] == "MUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}
    assert policy["rules"][0]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}
    assert policy["rules"][0]["action"] == {"type": "expire"}
    assert {"Key": "a2c-generated", "Value": "true"} in tags, tags
    assert uri == f"{ecr_registry.address}/team/{APP_ID}@{ecr_registry.manifest_digest(f'team/{APP_ID}', 'release-1')}"
    assert any("Created ECR repository" in s and "keeps the last 5 images" in s for s in reporter.steps), reporter.steps
    assert any(re.fullmatch(r"[0-9a-f]{12}: (Pushed|Layer already exists|Mounted from \S+)", d)
               for d in reporter.details), reporter.details
    assert sum("pushing" in d for d in reporter.details) <= 4, "byte progress must be summarised"


def test_existing_repository_is_used_as_it_is(in_process_aws, engine, app_image, moto, ecr_registry):
    """A repository that exists keeps its settings, even when they differ from a2c's; the
    differences are reported. It is MUTABLE, so ``latest`` is allowed there.

    moto cannot show what ECR would do with the settings (no scanning, no expiry), only that
    a2c changed none of them: no put_lifecycle_policy, no put_image_tag_mutability.
    """
    from a2c.images.push import push_to_ecr

    ecr = moto.client("ecr")
    try:
        ecr.create_repository(repositoryName=APP_ID, imageTagMutability="MUTABLE",
                              imageScanningConfiguration={"scanOnPush": False})
        reporter = RecordingReporter()
        uri = push_to_ecr(in_process_aws, lambda: engine, LOCAL_IMAGE, TAG, reporter, ecr_registry.address,
                          ecr_parameters={"ecrRepoTag": TAG})
        repository = ecr.describe_repositories(repositoryNames=[APP_ID])["repositories"][0]
        with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
            ecr.get_lifecycle_policy(repositoryName=APP_ID)
    finally:
        ecr.close()
    assert repository["imageTagMutability"] == "MUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": False}
    assert uri == f"{ecr_registry.address}/{APP_ID}@{ecr_registry.manifest_digest(APP_ID, TAG)}"
    assert len(reporter.warnings) == 1, reporter.warnings
    warning = reporter.warnings[0]
    for difference in ("tag mutability MUTABLE (asked IMMUTABLE)", "scan on push off", "no lifecycle policy"):
        assert difference in warning, warning
    assert not any("Created" in s for s in reporter.steps), reporter.steps


def test_latest_is_refused_for_an_immutable_repository(workspace, run_a2c, app_image, aws_env, moto, ecr_registry):
    """deployment.json's ecrRepoTag ``latest`` with the default IMMUTABLE repository is refused
    before anything happens: no repository is created, nothing is pushed, and the hint names
    this image's own tag.

    ECR would take the first push and refuse the second; moto does not enforce immutability at
    all, so the refusal is a2c's own check, proved here, not ECR's.
    """
    write_analysis(workspace)
    env = {**aws_env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL": moto.url}
    args = ["--json", "generate", "app-deployment", "--application-id", APP_ID, "--region", REGION]
    assert run_a2c(*args, env=env).exit_code == 0  # writes deployment.json, pushes nothing
    path = workspace / APP_ID / "deployment.json"
    deployment = json.loads(path.read_text())
    deployment["ecrParameters"] = {"ecrRepoTag": "latest"}  # as App2Container wrote it
    path.write_text(json.dumps(deployment, indent=2))
    _, before = ecr_registry.tags(APP_ID)

    result = run_a2c(*args, "--push", "--registry", ecr_registry.address, env=env)

    assert result.exit_code == 6, result
    report = result.json()
    assert "latest" in report["error"] and "IMMUTABLE" in report["error"], report
    assert f"sha-{app_image.id.split(':')[1][:12]}" in report["hint"] and "MUTABLE" in report["hint"], report
    ecr = moto.client("ecr")
    try:
        assert ecr.describe_repositories()["repositories"] == [], "refused before the repository was created"
    finally:
        ecr.close()
    assert ecr_registry.tags(APP_ID)[1] == before, "nothing may be pushed"


def _other_image(docker_client):
    """An image that differs from the app's (one label more), built from the same source image."""
    import io

    dockerfile = f"FROM {SOURCE_IMAGE}\nLABEL com.a2c.test=other\n".encode()
    image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag="a2c-test/push-other:1", rm=True)
    return image


def test_digest_mismatch_is_detected(engine, docker_client, app_image, ecr_credentials, ecr_registry):
    """Two pushes race for one tag in a registry that allows it (the local one is mutable, like a
    MUTABLE ECR repository): the first push's digest is no longer what the registry serves for the
    tag, and the check says so. The digest is read back through the engine's distribution endpoint,
    as for any ``--registry``; moto's describe_images is not used (moto computes no manifest digest
    of its own for images pushed elsewhere)."""
    from a2c.gateways.docker_engine import push_image, registry_digest
    from a2c.images.push import DigestMismatch, check_digest

    user, password = ecr_credentials
    repository = f"{ecr_registry.address}/{APP_ID}"
    other = _other_image(docker_client)
    try:
        first = push_image(engine, LOCAL_IMAGE, repository, "race", user, password, lambda line: None)
        assert registry_digest(engine, f"{repository}:race", user, password) == first.digest  # positive control
        second = push_image(engine, "a2c-test/push-other:1", repository, "race", user, password, lambda line: None)
        served = registry_digest(engine, f"{repository}:race", user, password)
    finally:
        for ref in (f"{repository}:race", "a2c-test/push-other:1"):
            docker_client.images.remove(ref, noprune=True)
    assert second.digest != first.digest and served == second.digest == ecr_registry.manifest_digest(APP_ID, "race")
    with pytest.raises(DigestMismatch) as raised:
        check_digest(f"{repository}:race", first.digest, served)
    assert first.digest in raised.value.message and served in raised.value.message and raised.value.hint
    assert other.id != app_image.id


def test_ecr_image_digest_reads_describe_images(in_process_aws, moto):
    """The ECR side of the digest check asks describe_images for the tag; a missing tag is "".

    moto's digest is not the SHA-256 of the manifest put (it hashes something else), so this only
    proves the plumbing: the value compared is the one ECR's API names for that tag.
    """
    from a2c.gateways.aws import ecr_image_digest

    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                                      "digest": "sha256:" + "a" * 64}, "layers": []})
    ecr = moto.client("ecr")
    try:
        ecr.create_repository(repositoryName=APP_ID)
        ecr.put_image(repositoryName=APP_ID, imageManifest=manifest, imageTag="t1")
        named = ecr.describe_images(repositoryName=APP_ID, imageIds=[{"imageTag": "t1"}])["imageDetails"][0]
    finally:
        ecr.close()
    assert ecr_image_digest(in_process_aws, APP_ID, "t1") == named["imageDigest"]
    assert ecr_image_digest(in_process_aws, APP_ID, "absent") == ""
    assert ecr_image_digest(in_process_aws, "no-such-repository", "t1") == ""
