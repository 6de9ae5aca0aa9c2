"""`a2c containerize --all` through the CLI: every analyzed application, one failure not stopping
the others, a summary table or JSON, and an exit status that says whether any failed.

Two real JVM applications (StateWriter, run from two folders) are inventoried and analyzed by the
CLI; one is then given a base image no registry here has, so its build fails.
- With the local Docker engine (one build at a time), the other is built, the summary says so,
  and the exit status is the failure's (8).
- With ``--builder codebuild`` against moto server, two at a time: moto runs no build and
  answers SUCCEEDED at once, so the push a build would make is made by the test beforehand, for
  one application only (an image put into moto's ECR under the tag deployment.json names). That
  one is recorded with ECR's digest; the other fails with "ECR holds no image" (exit 8), and
  one project serves both builds.

Until setup.cfg registers the codebuild builder (entry point ``a2c.builders``), the CLI finds it
through a dist-info written here on PYTHONPATH; the plugin loader takes the same entry point
twice without complaint, so the test stays right once setup.cfg has it.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.aws_services import TEST_REGION, moto, moto_server  # noqa: F401
from tests.integration.state_writer import compile_into, running

pytestmark = [pytest.mark.docker, pytest.mark.slow]
MISSING_BASE = "a2c-test/no-such-base:never"
BUCKET = "a2c-e2e-contexts"


@pytest.fixture
def two_apps(tmp_path, run_a2c, workspace, jre_image):
    """Two analyzed StateWriters (ids good, bad); bad's base image exists nowhere."""
    folders = [tmp_path / "ledger-a", tmp_path / "ledger-b"]
    for folder in folders:
        compile_into(folder)
    with running(folders[0]) as first, running(folders[1]) as second:
        listed = run_a2c("--json", "inventory")
        assert listed.exit_code == 0, listed
        ids = [next(k for k, v in listed.json().items() if v["processId"] == p.pid) for p in (first, second)]
        for app_id in ids:
            analyzed = run_a2c("analyze", "--application-id", app_id)
            assert analyzed.exit_code == 0, analyzed
    for app_id, base in zip(ids, (jre_image, MISSING_BASE)):
        path = workspace / app_id / "analysis.json"
        document = json.loads(path.read_text())
        document["containerParameters"]["containerBaseImage"] = base
        path.write_text(json.dumps(document))
    return ids


def test_all_with_the_local_engine_builds_the_others_and_exits_with_the_failure(two_apps, run_a2c, workspace,
                                                                                docker_client):
    good, bad = two_apps
    result = run_a2c("--json", "containerize", "--all", "--no-validate")
    try:
        assert result.exit_code == 8, result
        summary = result.json()
        assert (summary["built"], summary["failed"], summary["concurrency"]) == (1, 1, 1)
        outcomes = {a["applicationId"]: a for a in summary["applications"]}
        assert outcomes[good]["status"] == "built" and outcomes[good]["exitStatus"] == 0
        assert outcomes[bad]["status"] == "failed" and outcomes[bad]["exitStatus"] == 8
        assert "docker build of" in outcomes[bad]["error"] and outcomes[bad]["hint"]  # the engine cannot get its base
        assert docker_client.images.get(outcomes[good]["image"]).id == outcomes[good]["result"]["imageId"]
        assert (workspace / good / "deployment.json").is_file()

        human = run_a2c("containerize", "--all", "--build-only")
        assert human.exit_code == 8, human
        assert "APPLICATION" in human.stdout and "1 built, 1 failed, 2 in all" in human.stdout
        assert f"a2c containerize --application-id {bad}" in human.stdout
    finally:
        image = json.loads((workspace / good / "analysis.json").read_text())["containerParameters"]
        try:
            docker_client.images.remove(f"{image['imageRepository']}:{image['imageTag']}", force=True)
        except Exception:  # noqa: BLE001 - not built: nothing to remove
            pass


@pytest.fixture
def codebuild_registered(tmp_path):
    """PYTHONPATH holding a dist-info that registers the codebuild builder (see the module docstring)."""
    site = tmp_path / "site"
    info = site / "a2c_codebuild_entry-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: a2c-codebuild-entry\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[a2c.builders]\ncodebuild = a2c.images.codebuild:CodeBuildBuilder\n")
    return str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")


@pytest.mark.aws
def test_all_on_codebuild_builds_two_at_a_time_and_records_the_digest(two_apps, run_a2c, workspace, moto, tmp_path,
                                                                      codebuild_registered):
    good, bad = two_apps
    (tmp_path / "aws-config").write_text("")
    env = {key: None for key in os.environ if key.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": TEST_REGION,
                "AWS_ENDPOINT_URL": moto.url, "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"), "AWS_EC2_METADATA_DISABLED": "true",
                "PYTHONPATH": codebuild_registered})
    moto.client("s3").create_bucket(Bucket=BUCKET)

    written = run_a2c("containerize", "--application-id", good, "--artifacts-only")  # deployment.json: the tag
    assert written.exit_code == 0, written
    tag = json.loads((workspace / good / "deployment.json").read_text())["ecrParameters"]["ecrRepoTag"]
    ecr = moto.client("ecr")
    ecr.create_repository(repositoryName=good)  # what the build's push leaves in ECR, for this one only
    pushed = ecr.put_image(repositoryName=good, imageTag=tag, imageManifest=json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": [],
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                   "digest": "sha256:" + "d" * 64}}))["image"]["imageId"]["imageDigest"]

    result = run_a2c("--json", "containerize", "--all", "--builder", "codebuild", "--s3-bucket", BUCKET,
                     "--concurrency", "2", env=env)
    assert result.exit_code == 8, result
    summary = result.json()
    assert (summary["builder"], summary["concurrency"], summary["built"], summary["failed"]) == ("codebuild", 2, 1, 1)
    outcomes = {a["applicationId"]: a for a in summary["applications"]}
    uri = ecr.describe_repositories(repositoryNames=[good])["repositories"][0]["repositoryUri"]
    assert outcomes[good]["imageUri"] == f"{uri}@{pushed}"
    assert json.loads((workspace / good / "image.json").read_text())["digest"] == pushed
    assert outcomes[bad]["status"] == "failed" and "ECR holds no image" in outcomes[bad]["error"]
    assert not (workspace / bad / "image.json").exists()
    codebuild = moto.client("codebuild")
    assert codebuild.list_projects()["projects"] == ["a2c-image-builder"]
    assert len(codebuild.list_builds_for_project(projectName="a2c-image-builder")["ids"]) == 2
    contexts = moto.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
    assert len(contexts) == 2 and all(o["Key"].endswith("/context.tar.gz") for o in contexts)

    refused = run_a2c("containerize", "--all", "--s3-bucket", BUCKET, env=env)
    assert refused.exit_code == 2 and "--s3-bucket go with --builder codebuild" in refused.stderr, refused
