"""The CodeBuild builder against moto server (the AWS API), and its buildspec run for real.

A real JVM application (StateWriter) is inventoried and analyzed by a2c, then containerized with
``--builder codebuild`` against moto server: the build context lands in S3 under its SHA-256, the
project, the service role and its policy, the log group and the ECR repository are made, the
build is started with this application's overrides and followed, and the digest is recorded.

What moto cannot check, and how these tests make up for it:
- moto models CodeBuild's API but runs no build: StartBuild only records a build, and the first
  BatchGetBuilds answers SUCCEEDED (moto completes every build it is asked about, and ignores
  the overrides StartBuild is given). So the overrides are read off the request botocore sends
  (its event hooks; botocore validates it against CodeBuild's model first), and what the build
  itself would do is done by the test where CodeBuild would do it: the push (an image put into
  moto's ECR when StartBuild returns) and the log (events written to the stream the build
  names). Failed, stopped and in-progress builds are never seen in moto: the follow loop meets
  those in tests/unit/test_codebuild_buildspec.py, from captured BatchGetBuilds answers.
- moto's IAM does not evaluate policies, nor does its CodeBuild assume the role: the policy is
  checked as a document (no ``*`` on ``*``, each resource under the prefix, the repository, the
  log group).
- The buildspec's commands are proven by running its phases with bash here, against the real
  Docker engine and a real registry (docker-registry with moto's ECR credentials), with the
  context the builder uploaded: the very object CodeBuild's DOWNLOAD_SOURCE would fetch. The
  ECR login reaches that registry only through variables the buildspec reads anyway
  (IMAGE_REPOSITORY names the registry host; AWS_ENDPOINT_URL sends ``aws ecr
  get-login-password`` to moto). The pushed image's layers are then compared with a2c's own
  local build of the same application.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from a2c.env import Environment
from a2c.images.codebuild import CodeBuildBuilder, render_buildspec
from a2c.images.docker import DockerBuilder
from a2c.images.registry import Builders
from a2c.steps import analyze, containerize, inventory
from a2c.workspace import Workspace
from tests.conftest import missing
from tests.integration.aws_services import MANIFEST_TYPES, TEST_REGION, ecr_registry, moto, moto_server  # noqa: F401
from tests.integration.aws_services import ecr_credentials  # noqa: F401
from tests.integration.state_writer import compile_into, running

BUCKET = "a2c-test-contexts"
PREFIX = "a2c/codebuild"

pytestmark = [pytest.mark.aws, pytest.mark.docker, pytest.mark.slow]


class Recorder:
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


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    app = tmp_path_factory.mktemp("codebuild") / "ledger"
    compile_into(app)
    with running(app) as proc:
        yield proc, app


@pytest.fixture
def aws(monkeypatch, tmp_path, moto):
    """This process's AWS settings pointed at moto server, and nothing else of the machine's."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    (tmp_path / "aws-config").write_text("")
    settings = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": TEST_REGION,
                "AWS_ENDPOINT_URL": moto.url, "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"), "AWS_EC2_METADATA_DISABLED": "true"}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("A2C_CONFIG", str(tmp_path / "a2c-config.json"))
    moto.client("s3").create_bucket(Bucket=BUCKET)
    return settings


@pytest.fixture
def analyzed(live_app, tmp_path, jre_image, aws):
    """(Environment, app id, recorder) for the running StateWriter, analyzed, its base the local JRE."""
    proc, _app = live_app
    recorder = Recorder()
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure(), reporter=recorder)
    env._cache["builders"] = Builders([DockerBuilder, CodeBuildBuilder], env)  # setup.cfg registers it for the CLI
    listed = inventory.run(env, inventory.InventoryRequest())
    (app_id,) = [k for k, e in listed.entries.items() if e.process_id == proc.pid]
    analyze.run(env, analyze.AnalyzeRequest(app_id))
    document = env.workspace.read_analysis(app_id)
    document["containerParameters"]["containerBaseImage"] = jre_image
    env.workspace.write_analysis(app_id, document)
    return env, app_id, recorder


class CodeBuildStandIn:
    """What a CodeBuild build would do once StartBuild returns, done where the build would do it:
    write its log to the stream it names and push an image to the repository it was given
    (into moto's ECR). Also keeps the StartBuild requests botocore sent, and counts the uploads."""

    def __init__(self, moto) -> None:
        self.moto = moto
        self.requests: list[dict] = []
        self.uploads = 0
        self.digests: dict[str, str] = {}

    def attach(self, env: Environment) -> None:
        events = env.aws().session.events
        events.register("before-parameter-build.codebuild.StartBuild", self._request)
        events.register("after-call.codebuild.StartBuild", self._built)
        for operation in ("PutObject", "CreateMultipartUpload"):
            events.register(f"before-call.s3.{operation}", self._upload)

    def _upload(self, **_kwargs) -> None:
        self.uploads += 1

    def _request(self, params, **_kwargs) -> None:
        self.requests.append(json.loads(json.dumps(params)))

    def _built(self, parsed, **_kwargs) -> None:
        build = parsed["build"]
        variables = {v["name"]: v["value"] for v in self.requests[-1]["environmentVariablesOverride"]}
        logs = self.moto.client("logs")
        stream = "build/" + build["id"].split(":", 1)[1]
        logs.create_log_stream(logGroupName="/a2c/codebuild/a2c-image-builder", logStreamName=stream)
        now = int(time.time() * 1000)  # CloudWatch (and moto) refuse events much older than the stream
        logs.put_log_events(logGroupName="/a2c/codebuild/a2c-image-builder", logStreamName=stream, logEvents=[
            {"timestamp": now, "message": f"Step 1/9 : FROM {variables['IMAGE_REPOSITORY']}"},
            {"timestamp": now + 1, "message": "Pushed (a line of the build's own log)"}])
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                                          "digest": "sha256:" + hashlib.sha256(build["id"].encode()).hexdigest()},
                               "layers": []})
        name = variables["IMAGE_REPOSITORY"].split("/", 1)[1]
        image = self.moto.client("ecr").put_image(repositoryName=name, imageManifest=manifest,
                                                  imageTag=variables["IMAGE_TAG"])["image"]
        self.digests[name] = image["imageId"]["imageDigest"]


def _containerize(env, app_id, **options):
    request = containerize.ContainerizeRequest(app_id=app_id, builder="codebuild", validate=False,
                                               builder_options={"s3_bucket": BUCKET, **options})
    return containerize.run(env, request)


def test_codebuild_builds_from_the_uploaded_context_with_a_least_privilege_project(analyzed, moto):
    env, app_id, recorder = analyzed
    stand_in = CodeBuildStandIn(moto)
    stand_in.attach(env)
    result = _containerize(env, app_id)

    # The upload: one object under the prefix, named by the SHA-256 of its bytes, holding the context.
    s3 = moto.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert len(keys) == 1 and keys[0].startswith(f"{PREFIX}/contexts/") and keys[0].endswith("/context.tar.gz")
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    sha = hashlib.sha256(body).hexdigest()
    assert keys[0] == f"{PREFIX}/contexts/{sha}/context.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(body))) as tar:
        names = tar.getnames()
        assert "Dockerfile" in names[:len(names) // 2 + 1]  # the artifacts come first
        dockerfile = tar.extractfile("Dockerfile").read()
        classes = [n for n in names if n.endswith("/StateWriter.class")]
        app_file = Path(classes[0][len("layers/application"):])
        assert tar.extractfile(classes[0]).read() == app_file.read_bytes()
    assert dockerfile == (env.workspace.artifacts_dir(app_id) / "Dockerfile").read_bytes()

    # The project: the S3 source, privileged Docker, a2c's buildspec, the role a2c made.
    project = moto.client("codebuild").batch_get_projects(names=["a2c-image-builder"])["projects"][0]
    assert project["source"]["type"] == "S3" and project["source"]["location"].startswith(f"{BUCKET}/{PREFIX}/")
    assert project["source"]["buildspec"] == render_buildspec()
    assert project["environment"]["privilegedMode"] is True
    assert project["environment"]["image"].startswith("aws/codebuild/standard:")
    assert project["logsConfig"]["cloudWatchLogs"]["groupName"] == "/a2c/codebuild/a2c-image-builder"
    iam = moto.client("iam")
    role = iam.get_role(RoleName="a2c-image-builder-service-role")["Role"]
    assert project["serviceRole"] == role["Arn"]
    trust = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    assert trust["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    policy = iam.get_role_policy(RoleName="a2c-image-builder-service-role", PolicyName="a2c-image-builder")
    document = policy["PolicyDocument"] if isinstance(policy["PolicyDocument"], dict) else json.loads(policy["PolicyDocument"])
    repository = moto.client("ecr").describe_repositories(repositoryNames=[app_id])["repositories"][0]
    for item in document["Statement"]:
        actions = item["Action"] if isinstance(item["Action"], list) else [item["Action"]]
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), item
        if item["Resource"] == ["*"]:
            assert actions == ["ecr:GetAuthorizationToken"], item  # AWS authorizes it on "*" only
        for resource in item["Resource"]:
            if resource.startswith("arn:aws:s3:::"):
                assert resource in (f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/{PREFIX}/contexts/*"), resource
    push = next(s for s in document["Statement"] if s["Sid"] == "PushImages")
    assert push["Resource"] == [repository["repositoryArn"]]

    # The build: started once, with this application's context folder, repository, tag and checksum.
    (request,) = stand_in.requests
    deployment = env.workspace.read_deployment(app_id)
    variables = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
    assert request["sourceLocationOverride"] == f"{BUCKET}/{PREFIX}/contexts/{sha}/"
    assert variables["IMAGE_REPOSITORY"] == repository["repositoryUri"]
    assert variables["IMAGE_TAG"] == deployment["ecrParameters"]["ecrRepoTag"]
    assert variables["CONTEXT_SHA256"] == sha
    assert len(moto.client("codebuild").list_builds_for_project(projectName="a2c-image-builder")["ids"]) == 1

    # Followed: its log lines were reported; the digest ECR holds is recorded.
    lines = [d for d in recorder.details if "a line of the build's own log" in d]
    assert len(lines) == 1, recorder.details  # once: the follow loop goes on from CloudWatch's token
    digest = stand_in.digests[app_id]
    assert result.image_uri == f"{repository['repositoryUri']}@{digest}"
    record = json.loads((env.workspace.app_dir(app_id) / "image.json").read_text())
    assert record["digest"] == digest and record["contextSha256"] == sha and record["builder"] == "codebuild"

    # Again, unchanged: the context is not uploaded again, and ECR already holds its image.
    uploads = stand_in.uploads
    again = _containerize(env, app_id)
    assert stand_in.uploads == uploads and again.image_uri == result.image_uri
    assert len(moto.client("codebuild").list_builds_for_project(projectName="a2c-image-builder")["ids"]) == 1
    assert any("not uploaded again" in s for s in recorder.steps)


def test_a_succeeded_build_without_an_image_in_ecr_fails_clearly(analyzed, moto):
    """moto says SUCCEEDED for every build; nothing pushed, so ECR has no image: a2c must not record one."""
    env, app_id, _recorder = analyzed
    with pytest.raises(Exception) as caught:
        _containerize(env, app_id)
    assert "ECR holds no image" in caught.value.message and caught.value.exit_status == 8
    assert not (env.workspace.app_dir(app_id) / "image.json").exists()


def test_no_bucket_is_a_usage_error_with_the_next_step(analyzed):
    env, app_id, _recorder = analyzed
    request = containerize.ContainerizeRequest(app_id=app_id, builder="codebuild", validate=False)
    with pytest.raises(Exception) as caught:
        containerize.run(env, request)
    assert caught.value.exit_status == 2 and "a2c init --s3-bucket" in caught.value.hint


def test_a_missing_bucket_says_how_to_make_one(analyzed):
    env, app_id, _recorder = analyzed
    with pytest.raises(Exception) as caught:
        _containerize(env, app_id, s3_bucket="no-such-a2c-bucket")
    assert caught.value.exit_status == 10 and "does not exist" in caught.value.message


# -- the buildspec, run --------------------------------------------------------------------------

def _phases_script(buildspec: str) -> str:
    """The buildspec's phases as one bash script: one shell for all (buildspec 0.2 keeps variables
    across commands and phases); a failing command ends the run, as it ends CodeBuild's phase."""
    spec = yaml.safe_load(buildspec)
    lines = ["set -e"]
    for phase in ("install", "pre_build", "build", "post_build"):
        for command in spec["phases"].get(phase, {}).get("commands", []):
            lines.append(command)
    exported = spec.get("env", {}).get("exported-variables", [])
    lines += [f'printf "%s=%s\\n" {name} "${name}" >> "$A2C_TEST_EXPORTED"' for name in exported]
    return "\n".join(lines) + "\n"


def _config_diff_ids(registry, name: str, tag: str) -> list[str]:
    """rootfs.diff_ids of the image the registry serves: what was pushed, read back from it."""
    status, manifest = registry.get(f"/v2/{name}/manifests/{tag}", accept=MANIFEST_TYPES)
    assert status == 200, manifest
    status, config = registry.get(f"/v2/{name}/blobs/{manifest['config']['digest']}")
    assert status == 200
    return config["rootfs"]["diff_ids"]


def _layer_contents(docker_client, image_id: str, skip: int, where: Path, app_dir: str) -> list[dict]:
    """What each layer above the first ``skip`` holds: name -> (type, mode, size, content digest,
    mtime), the mtime left out for the folders above ``app_dir`` (the host's, moved by others)."""
    with open(where, "wb") as out:
        for chunk in docker_client.images.get(image_id).save(chunk_size=1024 * 1024):
            out.write(chunk)
    above = {str(Path(app_dir).relative_to("/"))} | {str(p.relative_to("/")) for p in Path(app_dir).parents if str(p) != "/"}
    layers = []
    with tarfile.open(where) as image:
        manifest = json.load(image.extractfile("manifest.json"))
        for name in manifest[0]["Layers"][skip:]:
            held = {}
            with tarfile.open(fileobj=image.extractfile(name)) as layer:
                for member in layer.getmembers():
                    key = member.name.rstrip("/")
                    content = hashlib.sha256(layer.extractfile(member).read()).hexdigest() if member.isfile() else member.linkname
                    held[key] = (member.type, member.mode, member.size, content,
                                 None if member.isdir() and key in above else member.mtime)
            layers.append(held)
    where.unlink()
    return layers


def test_the_buildspec_builds_and_pushes_the_uploaded_context(live_app, analyzed, moto, ecr_registry, docker_client, jre_image,
                                                             tmp_path, aws):
    if shutil.which("aws") is None:
        missing("the AWS CLI (aws)", "pip install awscli")
    env, app_id, _recorder = analyzed
    _recorder.details.clear()
    CodeBuildStandIn(moto).attach(env)
    _containerize(env, app_id)
    (key,) = [o["Key"] for o in moto.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    sha = key.split("/")[-2]
    source = tmp_path / "src"  # what DOWNLOAD_SOURCE puts in CODEBUILD_SRC_DIR: the folder's object
    source.mkdir()
    moto.client("s3").download_file(BUCKET, key, str(source / "context.tar.gz"))
    tag = env.workspace.read_deployment(app_id)["ecrParameters"]["ecrRepoTag"]
    repository = f"{ecr_registry.address}/{app_id}"
    exported = tmp_path / "exported.env"
    (tmp_path / "docker-config").mkdir()
    run_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **aws, "AWS_DEFAULT_REGION": TEST_REGION,
               "DOCKER_CONFIG": str(tmp_path / "docker-config"), "CODEBUILD_BUILD_SUCCEEDING": "1",
               "CODEBUILD_SRC_DIR": str(source), "IMAGE_REPOSITORY": repository, "IMAGE_TAG": tag,
               "CONTEXT_SHA256": sha, "A2C_TEST_EXPORTED": str(exported)}
    if os.environ.get("DOCKER_HOST"):
        run_env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    script = _phases_script(render_buildspec())
    built = None
    local = None
    try:
        done = subprocess.run(["bash", "-c", script], cwd=source, env=run_env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        variables = dict(line.split("=", 1) for line in exported.read_text().split())
        assert variables["IMAGE_DIGEST"] == ecr_registry.manifest_digest(app_id, tag)
        built = docker_client.images.get(f"{repository}:{tag}")

        # A corrupted context is refused before anything is built.
        (source / "context.tar.gz").write_bytes(b"not the context")
        refused = subprocess.run(["bash", "-c", script], cwd=source, env=run_env, capture_output=True, text=True,
                                 timeout=120)
        assert refused.returncode != 0 and "FAILED" in refused.stdout + refused.stderr

        # a2c's own build of the application on the local engine, layer by layer against the pushed one.
        # Two differences are expected and checked for what they are: the local build prunes the layer
        # of files the process holds open to those the base image lacks (a2c/images/basefiles.py),
        # while the CodeBuild context keeps it whole (the base is held here by name only, not pinned to
        # a digest CodeBuild would pull); and the folders above the application (this test's tmp
        # folders) carry the host's mtimes, which other processes move between the two walks.
        request = containerize.ContainerizeRequest(app_id=app_id, validate=False)
        local = containerize.run(env, request)
        ours = docker_client.images.get(local.image_id).attrs["RootFS"]["Layers"]
        pushed = _config_diff_ids(ecr_registry, app_id, tag)
        base = docker_client.images.get(jre_image).attrs["RootFS"]["Layers"]
        assert pushed[:len(base)] == base == ours[:len(base)] and len(ours) > len(base)
        assert ours[-1] == pushed[-1]  # COPY support/ /: a2c's scripts, identical
        app_dir = str(live_app[1])
        theirs_layers = _layer_contents(docker_client, built.id, len(base), tmp_path / "pushed.tar", app_dir)
        our_layers = _layer_contents(docker_client, local.image_id, len(base), tmp_path / "ours.tar", app_dir)
        pruned = any("holds the identical file" in d for d in _recorder.details)
        if pruned:
            opened = theirs_layers.pop(0)
            assert all(name.split("/")[0] in ("usr", "lib", "lib64") for name in opened), opened  # the OS's files
        assert theirs_layers == our_layers
    finally:
        if built is not None:
            docker_client.images.remove(built.id, force=True)
        if local is not None:
            docker_client.images.remove(local.image_id, force=True)
