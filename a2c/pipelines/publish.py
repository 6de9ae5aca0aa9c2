"""``generate pipeline --deploy`` for the sources a2c can fill itself: the repository layout
(``Artifacts/Pipeline/repository/``) pushed to the CodeCommit repository as the next commit of the
branch, or zipped to the S3 object the pipeline polls.

Both carry the folder as it stands, ``.a2c/`` included: the build runs its restore script, which
gives back the empty folders, modes and times Git and zips lose. A folder without a Dockerfile
at its top (the build context not exported) is refused: the pipeline's first run would fail.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from a2c.errors import AWSError, InvalidFile, NotSupported
from a2c.pipelines.pipelinejson import enabled_source

PUBLISHED_SOURCES = ("CodeCommit", "S3")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip holds: the archive is the same for the same folder


@dataclass(frozen=True)
class Published:
    source: str  # "CodeCommit" or "S3"
    location: str  # the repository's clone URL and branch, or s3://bucket/key
    revision: str  # the commit id, or the S3 object's version id
    files: int
    unchanged: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "location": self.location, "revision": self.revision, "files": self.files,
                "unchanged": self.unchanged}


def check_publishable(folder: Path, app_id: str) -> None:
    if not (folder / "Dockerfile").is_file():
        raise InvalidFile(f"{folder} holds no Dockerfile: the build context was not exported into it, so the "
                          "pipeline's build would fail",
                          f"Run `a2c generate pipeline --application-id {app_id} --deploy` without --no-context "
                          f"(it exports the context there), or `a2c containerize --application-id {app_id} "
                          f"--artifacts-only --export-context {folder} --export-mode copy --force`.")


def publish(pipeline: Mapping[str, Any], folder: Path, aws: Any, *, profile: str | None = None,
            push: Callable[..., Any] | None = None, remote_for: Callable[[str, str], tuple[str, dict]] | None = None,
            reporter: Any = None) -> Published | None:
    """Fill the pipeline's source from ``folder``; None for a source a2c does not fill (a
    CodeConnections or other Git repository: the user pushes there). ``push`` and ``remote_for``
    default to a2c.gateways.git (tests point them at a local bare repository)."""
    key = enabled_source(pipeline)
    if key not in PUBLISHED_SOURCES:
        return None
    app_id = str(pipeline["applicationId"])
    check_publishable(folder, app_id)
    settings = pipeline["sourceInfo"][key]
    if key == "S3":
        return upload_zip(aws, folder, str(settings.get("bucket") or ""), str(settings.get("objectKey") or ""), reporter)
    return push_codecommit(aws, folder, str(settings.get("repositoryName") or ""), str(settings.get("branch") or "main"),
                           app_id, profile=profile, push=push, remote_for=remote_for, reporter=reporter)


def push_codecommit(aws: Any, folder: Path, repository: str, branch: str, app_id: str, *, profile: str | None,
                    push: Callable[..., Any] | None, remote_for: Callable[[str, str], tuple[str, dict]] | None,
                    reporter: Any) -> Published:
    from a2c.gateways import git
    from a2c.gateways.aws import call

    if not repository:
        raise InvalidFile("pipeline.json: $.sourceInfo.CodeCommit.repositoryName is empty",
                          "Name the CodeCommit repository the pipeline reads.")
    codecommit = aws.client("codecommit")
    try:
        found = call(codecommit.get_repository, repositoryName=repository)["repositoryMetadata"]
    except AWSError as exc:
        if "RepositoryDoesNotExist" in exc.message or "does not exist" in exc.message:
            raise AWSError(f"the CodeCommit repository {repository} does not exist in {aws.region}",
                           "Deploy the pipeline stack first (it creates the repository when "
                           "sourceInfo.CodeCommit.createRepository is true), or create it: aws codecommit "
                           f"create-repository --repository-name {repository}") from None
        raise
    url, config = (remote_for or (lambda region, name: git.codecommit_remote(region, name, profile)))(
        aws.region, repository)
    if reporter is not None:
        reporter.step(f"Pushing {folder} to CodeCommit {repository} ({branch})")
    pushed = (push or git.push_folder)(folder, url, branch, f"a2c: the build context and deployment files of {app_id}",
                                       config=config)
    location = f"{found.get('cloneUrlHttp') or url} ({branch})"
    if reporter is not None:
        reporter.step(f"{'Unchanged' if pushed.unchanged else 'Pushed'}: {location} at {pushed.commit[:12]} "
                      f"({pushed.files} files)")
    return Published("CodeCommit", location, pushed.commit, pushed.files, pushed.unchanged)


def upload_zip(aws: Any, folder: Path, bucket: str, key: str, reporter: Any = None) -> Published:
    """The folder zipped (modes and links kept in the entries, fixed times) and uploaded to the
    versioned bucket CodePipeline's S3 source polls."""
    from a2c.gateways.aws import call

    if not bucket or not key:
        raise InvalidFile("pipeline.json: $.sourceInfo.S3.bucket and .objectKey name where the pipeline polls",
                          "Set both (the bucket must exist with versioning on).")
    s3 = aws.client("s3")
    versioning = call(s3.get_bucket_versioning, Bucket=bucket).get("Status")
    if versioning != "Enabled":
        raise NotSupported(f"the bucket {bucket} does not keep versions, and CodePipeline's S3 source needs them",
                           f"Turn versioning on: aws s3api put-bucket-versioning --bucket {bucket} "
                           "--versioning-configuration Status=Enabled")
    with tempfile.TemporaryDirectory(prefix="a2c-source-") as scratch:
        archive = Path(scratch) / "source.zip"
        files = zip_folder(folder, archive)
        if reporter is not None:
            reporter.step(f"Uploading {files} files ({archive.stat().st_size // 1024} KiB zipped) to s3://{bucket}/{key}")
        with open(archive, "rb") as body:
            put = call(s3.put_object, Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")
    return Published("S3", f"s3://{bucket}/{key}", str(put.get("VersionId") or ""), files)


def zip_folder(folder: Path, archive: Path) -> int:
    """Every folder, file and link under ``folder`` into ``archive``, in name order, each entry
    with its Unix mode (a link as a link) and one fixed time; returns the number of files."""
    files = 0
    root = str(folder)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for current, dirs, names in os.walk(root):  # links to folders are listed in dirs, never followed
            dirs.sort()
            relative = os.path.relpath(current, root)
            prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            if prefix:
                out.writestr(_info(prefix, os.lstat(current)), b"")
            for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(current, d))]:
                path = os.path.join(current, name)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    out.writestr(_info(prefix + name, st), os.readlink(path).encode("utf-8", "surrogateescape"))
                elif stat.S_ISREG(st.st_mode):
                    info = _info(prefix + name, st)
                    with open(path, "rb") as source, out.open(info, "w", force_zip64=st.st_size >= 1 << 31) as target:
                        while chunk := source.read(1024 * 1024):
                            target.write(chunk)
                    files += 1
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(current, d))]
    return files


def _info(name: str, st: os.stat_result) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.create_system = 3  # Unix: the mode below is read
    info.external_attr = (st.st_mode & 0xFFFF) << 16
    if stat.S_ISDIR(st.st_mode):
        info.external_attr |= 0x10  # MS-DOS directory flag
    info.compress_type = zipfile.ZIP_STORED if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode) else zipfile.ZIP_DEFLATED
    return info
