"""``generate pipeline --deploy`` filling its source: the repository layout (the exported build
context of a containerized Tomcat, its deployment files, .a2c/) zipped to a versioned bucket on
moto server, and pushed with real git as the next commit of a branch.

What moto cannot check, so these tests do not claim it: moto's CodeCommit models the repository
(CreateRepository, GetRepository) but serves no Git, so the push goes to a local bare repository
standing in for the CodeCommit remote (``remote_for``), with everything else of the CodeCommit path
(its repository looked up in moto, the URL and credential helper chosen) as in a real run; that
CodeCommit accepts the push and that CodePipeline picks up the commit or the S3 version are not
checked here.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from a2c.errors import AWSError, NotSupported
from a2c.gateways.git import codecommit_remote, push_folder
from a2c.pipelines.publish import publish
from a2c.steps import containerize
from a2c.steps import pipeline as pipeline_step
from tests.integration.aws_services import moto, moto_server  # noqa: F401
from tests.integration.test_deploy_moto import TOMCAT_HOST, env  # noqa: F401 - fixture

pytestmark = [pytest.mark.aws]


def _fill_repository(env) -> tuple[dict, Path]:  # noqa: F811
    """The CLI's order: export the context into the repository folder, then generate the pipeline."""
    folder = pipeline_step.repository_folder(env.workspace, env.app_id)
    containerize.run(env, containerize.ContainerizeRequest(
        app_id=env.app_id, host=TOMCAT_HOST, artifacts_only=True, validate=False,
        export_context=folder, export_mode="copy", export_force=True))
    pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id))
    document = json.loads((env.workspace.app_dir(env.app_id) / "pipeline.json").read_text())
    return document, folder


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if name.split("/")[0] == ".git":
            continue
        st = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        content = os.readlink(path) if kind == "link" else path.read_bytes() if kind == "file" else b""
        out[name] = (kind, st.st_mode & 0o7777 if kind != "link" else 0, content)
    return out


def test_s3_source_gets_the_folder_zipped_with_modes_and_links_kept(env, moto):  # noqa: F811
    document, folder = _fill_repository(env)
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="a2c-sources")
    document["sourceInfo"]["CodeCommit"]["enabled"] = False
    document["sourceInfo"]["S3"] = {"enabled": True, "bucket": "a2c-sources", "objectKey": f"{env.app_id}/source.zip"}

    with pytest.raises(NotSupported) as refused:  # CodePipeline's S3 source reads versions
        publish(document, folder, env.aws())
    assert "put-bucket-versioning" in refused.value.hint
    s3.put_bucket_versioning(Bucket="a2c-sources", VersioningConfiguration={"Status": "Enabled"})

    published = publish(document, folder, env.aws())
    assert published.source == "S3" and published.location == f"s3://a2c-sources/{env.app_id}/source.zip"
    stored = s3.get_object(Bucket="a2c-sources", Key=f"{env.app_id}/source.zip")
    assert published.revision == stored["VersionId"]
    with zipfile.ZipFile(io.BytesIO(stored["Body"].read())) as archive:
        names = archive.namelist()
        assert "Dockerfile" in names and ".a2c/restore-metadata.py" in names and "buildspec.yml" in names
        assert any(n.startswith("layers/") and n.endswith(".war") or n.endswith("web.xml") for n in names)
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        assert modes["support/a2c/entrypoint.sh"] & 0o777 == 0o755
        assert published.files == sum(1 for i in archive.infolist() if not i.is_dir() and (i.external_attr >> 16) & 0o170000 == 0o100000)
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_codecommit_source_gets_the_folder_as_the_next_commit_of_its_branch(env, moto, tmp_path):  # noqa: F811
    document, folder = _fill_repository(env)
    name = document["sourceInfo"]["CodeCommit"]["repositoryName"]
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    stand_in = lambda region, repository: (bare.as_uri(), {})  # noqa: E731 - moto serves no Git

    with pytest.raises(AWSError) as missing:  # the pipeline stack creates it; moto's skips that resource
        publish(document, folder, env.aws(), remote_for=stand_in)
    assert "create-repository" in missing.value.hint
    moto.client("codecommit").create_repository(repositoryName=name)

    first = publish(document, folder, env.aws(), remote_for=stand_in)
    assert first.source == "CodeCommit" and not first.unchanged and first.files > 5
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", bare.as_uri(), str(clone)], check=True)
    assert (clone / "Dockerfile").read_bytes() == (folder / "Dockerfile").read_bytes()
    # What Git lost (empty folders, modes, times), the build's restore step gives back.
    subprocess.run([sys.executable, str(clone / ".a2c" / "restore-metadata.py")], check=True, capture_output=True)
    assert _tree(clone) == _tree(folder)

    again = publish(document, folder, env.aws(), remote_for=stand_in)
    assert again.unchanged and again.revision == first.revision  # nothing new: no empty commit
    (folder / "README.md").write_text("changed\n")
    third = publish(document, folder, env.aws(), remote_for=stand_in)
    parents = subprocess.run(["git", "--git-dir", str(bare), "rev-list", "--parents", "-n", "1", third.revision],
                             capture_output=True, text=True, check=True).stdout.split()
    assert parents == [third.revision, first.revision]  # history kept, never forced


def test_a_branch_that_moved_is_not_overwritten(tmp_path):
    """Someone pushed between a2c's fetch and push: git refuses, a2c says to run again."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    push_folder(folder, bare.as_uri(), "main", "one")
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'rejected: non-fast-forward' >&2\nexit 1\n")
    hook.chmod(0o755)
    (folder / "Dockerfile").write_text("FROM scratch\nLABEL a=b\n")
    from a2c.gateways.git import GitError

    with pytest.raises(GitError) as failed:
        push_folder(folder, bare.as_uri(), "main", "two")
    assert "never force-pushes" in failed.value.hint


def test_codecommit_remote_uses_the_helper_there_is():
    assert codecommit_remote("eu-west-1", "repo", which=lambda tool: tool == "git-remote-codecommit") == (
        "codecommit::eu-west-1://repo", {})
    assert codecommit_remote("eu-west-1", "repo", "ops", which=lambda tool: tool == "git-remote-codecommit")[0] == \
        "codecommit::eu-west-1://ops@repo"
    url, config = codecommit_remote("eu-west-1", "repo", which=lambda tool: tool == "aws")
    assert url == "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/repo"
    assert config["credential.helper"] == "!aws codecommit credential-helper $@"
    with pytest.raises(NotSupported) as neither:
        codecommit_remote("eu-west-1", "repo", which=lambda tool: False)
    assert "git-remote-codecommit" in neither.value.hint


def test_deploy_refuses_an_empty_folder_before_the_stack_then_deploys_and_uploads(env, moto):  # noqa: F811
    """The whole step: a folder without the context is refused before any stack exists; with it,
    the pipeline stack is deployed and the folder uploaded to the S3 source."""
    from a2c.errors import InvalidFile

    pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id))
    path = env.workspace.app_dir(env.app_id) / "pipeline.json"
    document = json.loads(path.read_text())
    document["sourceInfo"]["CodeCommit"]["enabled"] = False
    document["sourceInfo"]["S3"] = {"enabled": True, "bucket": "a2c-sources", "objectKey": "app/source.zip"}
    document["releaseInfo"]["ECS"]["prod"]["serviceName"] = "a2c-app-ECS-Service-1"  # moto has no ECS stack output
    path.write_text(json.dumps(document))
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="a2c-sources")
    s3.put_bucket_versioning(Bucket="a2c-sources", VersioningConfiguration={"Status": "Enabled"})

    with pytest.raises(InvalidFile) as refused:
        pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id, deploy=True))
    assert "no Dockerfile" in refused.value.message
    assert not moto.client("cloudformation").list_stacks()["StackSummaries"]

    _fill_repository(env)
    result = pipeline_step.run(env, pipeline_step.PipelineRequest(app_id=env.app_id, deploy=True))
    assert result.stack_status == "CREATE_COMPLETE"
    assert result.published["location"] == "s3://a2c-sources/app/source.zip" and result.published["files"] > 5
    assert s3.head_object(Bucket="a2c-sources", Key="app/source.zip")["VersionId"] == result.published["revision"]
