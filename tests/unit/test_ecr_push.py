"""The logic of ``generate app-deployment --push`` that needs neither AWS nor a registry:
ecrParameters and their defaults, the default tag, the lifecycle policy text, the refusal of
``latest`` on an immutable repository, retries of transient push failures and the digest check.

The engine and the AWS gateway are replaced by small fakes here only to make failures happen on
demand (a registry that loses one blob upload, a registry serving another digest); the happy
path against a real engine, registry and moto is in tests/integration/test_aws_push.py. Nothing
here says what ECR itself does with the settings (moto does not either: it never scans, expires
or refuses a second push of a tag).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from a2c.errors import BuildFailed, InvalidFile
from a2c.gateways import aws, docker_engine
from a2c.gateways.aws import EcrRepository, EcrRepositorySettings, lifecycle_policy
from a2c.gateways.docker_engine import PushProgress, is_transient, push_image
from a2c.images import push
from a2c.images.push import DigestMismatch, push_to_ecr, repository_name, repository_settings
from a2c.model import AnalysisHead
from a2c.targets.deployment import build_deployment, default_repo_tag
from a2c.targets.registry import Targets
from a2c.workspace import validate

IMAGE_ID = "sha256:" + "0123456789ab" + "c" * 52
PUSHED = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64


def head(tag: str = "latest", document: dict[str, Any] | None = None) -> AnalysisHead:
    return AnalysisHead(
        app_id="java-tomcat-1dd8e7ba", application_type="java-tomcat", analyzer="java-tomcat", host_name="h",
        process_id=1, image_repository="java-tomcat-1dd8e7ba", image_tag=tag, application_port=8080,
        health_check_path="/", base_image="eclipse-temurin:17-jre", secrets=(), recommended_memory_mib=0,
        document=document if document is not None else {"createdTime": "2026-12-01 19:45:00", "analysisInfo": {}})


# -- ecrParameters -------------------------------------------------------------------------------

def test_old_ecr_parameters_get_the_defaults():
    """A deployment.json App2Container (or an older a2c) wrote has only ecrRepoTag."""
    assert repository_settings("java-tomcat-1dd8e7ba:latest", {"ecrRepoTag": "latest"}) == EcrRepositorySettings(
        name="java-tomcat-1dd8e7ba", tag_mutability="IMMUTABLE", keep_images=20, kms_key_arn="")
    assert repository_settings("app:1", None).name == "app"


def test_ecr_parameters_are_read():
    settings = repository_settings("app:1", {"ecrRepoTag": "1", "ecrRepositoryName": "team/app",
                                             "imageTagMutability": "MUTABLE", "keepImages": 7,
                                             "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abc"})
    assert (settings.name, settings.tag_mutability, settings.keep_images, settings.kms_key_arn) == (
        "team/app", "MUTABLE", 7, "arn:aws:kms:eu-west-1:123456789012:key/abc")


@pytest.mark.parametrize("image, name", [
    ("app:1", "app"), ("app", "app"), ("localhost:5000/team/app:1", "localhost:5000/team/app"),
    ("app:1@sha256:" + "a" * 64, "app"),
])
def test_repository_name(image, name):
    assert repository_name(image) == name


def _deployment(ecr: dict[str, Any]) -> dict[str, Any]:
    return {"a2CTemplateVersion": "1.0", "applicationId": "app", "imageName": "app:latest",
            "exposedPorts": [{"localPort": 8080}], "ecrParameters": ecr}


def test_schema_takes_old_files_and_the_new_keys():
    validate(_deployment({"ecrRepoTag": "latest"}), "deployment", "deployment.json")
    validate(_deployment({"ecrRepoTag": "v1", "imageTagMutability": "MUTABLE", "keepImages": 1000,
                          "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab",
                          "ecrRepositoryName": "team/app"}), "deployment", "deployment.json")


@pytest.mark.parametrize("ecr, field", [
    ({"imageTagMutability": "immutable"}, "imageTagMutability"),
    ({"keepImages": 0}, "keepImages"),
    ({"keepImages": 1001}, "keepImages"),
    ({"keepImages": "20"}, "keepImages"),
    ({"kmsKeyArn": "alias/mine"}, "kmsKeyArn"),
    ({"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abc\nEvil: x"}, "kmsKeyArn"),
    ({"ecrRepositoryName": "Team/App"}, "ecrRepositoryName"),
])
def test_schema_refuses_bad_values(ecr, field):
    with pytest.raises(InvalidFile, match=re.escape(f"$.ecrParameters.{field}")):
        validate(_deployment({"ecrRepoTag": "v1", **ecr}), "deployment", "deployment.json")


# -- the default tag -----------------------------------------------------------------------------

def test_default_tag_names_the_analysis_not_latest():
    tag = default_repo_tag(head())
    assert re.fullmatch(r"analysis-[0-9a-f]{12}", tag), tag
    assert build_deployment(head(), Targets([]))["ecrParameters"] == {
        "ecrRepoTag": tag, "imageTagMutability": "IMMUTABLE", "keepImages": 20}


def test_default_tag_ignores_the_analysis_time_but_not_its_content():
    """Written again for the same analysis it is the same tag; an edited analysis gets another."""
    later = head(document={"createdTime": "2027-01-01 00:00:00", "analysisInfo": {}})
    edited = head(document={"createdTime": "2026-12-01 19:45:00", "analysisInfo": {"ports": [{"localPort": 8443}]}})
    assert default_repo_tag(later) == default_repo_tag(head())
    assert default_repo_tag(edited) != default_repo_tag(head())


def test_a_tag_the_user_chose_in_the_analysis_is_kept():
    assert default_repo_tag(head(tag="2.3.1")) == "2.3.1"


# -- the repository ------------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [1, 20, 1000])
def test_lifecycle_policy_keeps_the_last_images(keep):
    text = lifecycle_policy(keep)
    assert len(text) >= 100, "ECR refuses lifecycle policies shorter than 100 characters"
    (rule,) = json.loads(text)["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep}
    assert rule["action"] == {"type": "expire"}


def test_encryption_configuration():
    assert aws.encryption_configuration("") == {"encryptionType": "AES256"}
    assert aws.encryption_configuration("arn:k") == {"encryptionType": "KMS", "kmsKey": "arn:k"}


# -- fakes ---------------------------------------------------------------------------------------

class Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    detail = warn = step


class FakeImage:
    id = IMAGE_ID
    attrs: dict[str, Any] = {"RepoDigests": []}

    def tag(self, repository: str, tag: str) -> bool:
        return True


class FakeApi:
    """A registry behind the engine that fails the first ``failures`` pushes with ``error``."""

    def __init__(self, failures: int = 0, error: str = "blob upload unknown", served: str = PUSHED) -> None:
        self.failures, self.error, self.served, self.pushes = failures, error, served, 0

    def push(self, repository: str, tag: str, **_: Any):
        self.pushes += 1
        yield {"status": f"The push refers to repository [{repository}]"}
        yield {"status": "Preparing", "id": "aaaaaaaaaaaa", "progressDetail": {}}
        if self.pushes <= self.failures:
            yield {"errorDetail": {"message": self.error}, "error": self.error}
            return
        yield {"status": "Pushed", "id": "aaaaaaaaaaaa", "progressDetail": {}}
        yield {"status": f"{tag}: digest: {PUSHED} size: 527"}
        yield {"progressDetail": {}, "aux": {"Tag": tag, "Digest": PUSHED, "Size": 527}}

    def inspect_distribution(self, reference: str, auth_config: Any = None) -> dict[str, Any]:
        return {"Descriptor": {"digest": self.served}}


class FakeClient:
    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.images = self

    def get(self, name: str) -> FakeImage:
        return FakeImage()


class FakeClients:
    region = "us-east-1"

    def account_id(self) -> str:
        return "123456789012"


def engine(api: FakeApi) -> docker_engine.DockerEngine:
    return docker_engine.DockerEngine(FakeClient(api))


@pytest.fixture
def fake_ecr(monkeypatch):
    """The AWS gateway's ECR calls answered from a dict: ``repository`` (None: none yet) and ``created``."""
    state: dict[str, Any] = {"repository": None, "created": [], "digest": ""}
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
    monkeypatch.setattr(aws, "find_ecr_repository", lambda clients, settings: state["repository"])

    def create(clients, settings):
        state["created"].append(settings)
        return EcrRepository(uri, True, settings.tag_mutability)

    monkeypatch.setattr(aws, "create_ecr_repository", create)
    monkeypatch.setattr(aws, "ecr_login", lambda clients: ("AWS", "token", "registry"))
    monkeypatch.setattr(aws, "ecr_image_digest", lambda clients, name, tag: state["digest"])
    state["uri"] = uri
    return state


# -- the refusal of latest -----------------------------------------------------------------------

def test_latest_is_refused_before_an_immutable_repository_is_created(fake_ecr):
    api = FakeApi()
    with pytest.raises(InvalidFile) as raised:
        push_to_ecr(FakeClients(), lambda: engine(api), "app:latest", "latest", Reporter(),
                    ecr_parameters={"ecrRepoTag": "latest"})
    assert "IMMUTABLE" in raised.value.message and "'latest'" in raised.value.message
    assert "sha-0123456789ab" in raised.value.hint and "imageTagMutability to MUTABLE" in raised.value.hint
    assert fake_ecr["created"] == [] and api.pushes == 0


def test_latest_is_refused_for_an_existing_immutable_repository(fake_ecr):
    fake_ecr["repository"] = EcrRepository(fake_ecr["uri"], False, "IMMUTABLE")
    with pytest.raises(InvalidFile) as raised:
        push_to_ecr(FakeClients(), lambda: engine(FakeApi()), "app:latest", "latest", Reporter(),
                    ecr_parameters={"ecrRepoTag": "latest", "imageTagMutability": "MUTABLE"})
    assert "sha-0123456789ab" in raised.value.hint and "MUTABLE" not in raised.value.hint.replace("IMMUTABLE", "")


def test_latest_is_pushed_to_a_mutable_repository(fake_ecr):
    fake_ecr["repository"] = EcrRepository(fake_ecr["uri"], False, "MUTABLE")
    fake_ecr["digest"] = PUSHED
    uri = push_to_ecr(FakeClients(), lambda: engine(FakeApi()), "app:latest", "latest", Reporter())
    assert uri == f"{fake_ecr['uri']}@{PUSHED}"


def test_a_tag_holding_another_image_in_an_immutable_repository_is_refused(fake_ecr):
    """ECR would refuse the push (ImageTagAlreadyExistsException); a2c says so first, with a tag that works."""
    fake_ecr["repository"] = EcrRepository(fake_ecr["uri"], False, "IMMUTABLE")
    fake_ecr["digest"] = OTHER
    api = FakeApi()
    with pytest.raises(InvalidFile, match="already holds another image") as raised:
        push_to_ecr(FakeClients(), lambda: engine(api), "app:latest", "v1", Reporter())
    assert "sha-0123456789ab" in raised.value.hint and api.pushes == 0


# -- retries -------------------------------------------------------------------------------------

def test_a_transient_failure_is_tried_again():
    api, sleeps, lines = FakeApi(failures=1), [], []
    pushed = push_image(engine(api), "app:latest", "r/app", "v1", "AWS", "t", lines.append, sleep=sleeps.append)
    assert api.pushes == 2 and sleeps == [2.0]
    assert pushed.digest == PUSHED and pushed.by_digest == f"r/app@{PUSHED}"
    assert any("attempt 1 of 3 failed (blob upload unknown)" in line for line in lines), lines


def test_transient_failures_stop_after_three_attempts():
    api, sleeps = FakeApi(failures=5, error="received unexpected HTTP status: 503 Service Unavailable"), []
    with pytest.raises(BuildFailed, match="failed 3 times"):
        push_image(engine(api), "app:latest", "r/app", "v1", "AWS", "t", lambda line: None, sleep=sleeps.append)
    assert api.pushes == 3 and sleeps == [2.0, 4.0]


def test_a_refusal_is_not_tried_again():
    api, sleeps = FakeApi(failures=1, error="unauthorized: authentication required"), []
    with pytest.raises(BuildFailed, match="unauthorized"):
        push_image(engine(api), "app:latest", "r/app", "v1", "AWS", "t", lambda line: None, sleep=sleeps.append)
    assert api.pushes == 1 and sleeps == []


@pytest.mark.parametrize("message, transient", [
    ("read tcp 10.0.0.1:5000: connection reset by peer", True),
    ("blob upload unknown", True),
    ("received unexpected HTTP status: 502 Bad Gateway", True),
    ("net/http: TLS handshake timeout", True),
    ("dial tcp: i/o timeout", True),
    ("toomanyrequests: Rate exceeded", True),
    ("unauthorized: authentication required", False),
    ("denied: requested access to the resource is denied", False),
    ("tag invalid: The image tag 'v1' already exists and cannot be overwritten", False),
    ("name unknown: The repository with name 'app' does not exist", False),
])
def test_transient_failures(message, transient):
    assert is_transient(message) is transient


def test_progress_is_summarised():
    """A layer of 100 MB pushed in 1000 updates gives a line per quarter and one when done."""
    lines: list[str] = []
    progress = PushProgress(lines.append)
    for current in range(0, 100_000_001, 100_000):
        progress.update({"status": "Pushing", "id": "aaaaaaaaaaaa", "progressDetail": {"current": current,
                                                                                       "total": 100_000_000}})
    progress.update({"status": "Pushed", "id": "aaaaaaaaaaaa", "progressDetail": {}})
    assert [line for line in lines if "pushing" in line] == [
        f"pushing 1 layer(s): {mb:.1f} of 100.0 MB ({pct}%)" for mb, pct in ((25, 25), (50, 50), (75, 75), (100, 100))]
    assert lines[-1] == "aaaaaaaaaaaa: Pushed" and len(lines) == 5
    assert progress.summary() == "1 layer(s): 1 pushed, 0 already in the registry"


# -- the digest check ----------------------------------------------------------------------------

def test_a_digest_mismatch_is_an_error(fake_ecr):
    """The registry (``--registry``) serves another digest for the tag than the push reported."""
    with pytest.raises(DigestMismatch) as raised:
        push_to_ecr(FakeClients(), lambda: engine(FakeApi(served=OTHER)), "app:latest", "v1", Reporter(),
                    "127.0.0.1:5000")
    assert PUSHED in raised.value.message and OTHER in raised.value.message and raised.value.hint


def test_a_missing_ecr_image_is_a_mismatch(fake_ecr):
    """ECR's describe_images does not know the tag after the push: the URI could not be trusted."""
    fake_ecr["repository"] = EcrRepository(fake_ecr["uri"], False, "MUTABLE")
    with pytest.raises(DigestMismatch, match="no manifest"):
        push_to_ecr(FakeClients(), lambda: engine(FakeApi()), "app:latest", "v1", Reporter())


def test_the_digest_reference_is_returned_when_they_match(fake_ecr):
    reporter = Reporter()
    uri = push_to_ecr(FakeClients(), lambda: engine(FakeApi()), "app:latest", "v1", reporter, "127.0.0.1:5000/")
    assert uri == f"127.0.0.1:5000/app@{PUSHED}"
    assert any("digest checked" in line for line in reporter.lines), reporter.lines
    assert push.check_digest("r:v1", PUSHED, PUSHED) is None
