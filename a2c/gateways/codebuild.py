"""CodeBuild, and what building an image there needs beside it: S3 (the build context), IAM (the
project's service role), CloudWatch Logs (the build's log) and ECR (the repository and the digest).

Only here are boto3's shapes and exceptions known: callers get dicts of the services' own field
names, ``None`` or ``False`` for "not there", and AWSError (with a next step) for every other failure.

One gateway serves many builds at once (``containerize --all``): its clients are made once, under
a lock, because a boto3 session is not safe to make clients from in several threads (a client is).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Iterable, Mapping

from a2c.errors import AWSError
from a2c.gateways.aws import EcrRepository, EcrRepositorySettings, call, translate

MIB = 1024 * 1024
PART_SIZE = 8 * MIB  # S3 takes parts of 5 MiB to 5 GiB, at most 10,000 of them: 8 MiB parts reach 80 GB
MAX_PARTS = 10_000
# A role IAM has just created is not yet assumable by CodeBuild everywhere: create_project says so.
ROLE_PROPAGATION_SECONDS = 90.0


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _message(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))


def _status(exc: Exception) -> int:
    return int(getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class SharedClients:
    """``AwsClients`` with each service's client made once, under a lock: the shape the ECR
    helpers of ``a2c.gateways.aws`` expect (``client``, ``region``, ``account_id``)."""

    def __init__(self, aws: Any) -> None:
        self._aws = aws
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account = ""

    @property
    def region(self) -> str:
        return str(self._aws.region)

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._aws.client(service)
            return self._clients[service]

    def account_id(self) -> str:
        if not self._account:
            self._account = str(call(self.client("sts").get_caller_identity)["Account"])
        return self._account

    def partition(self) -> str:
        return str(self.client("sts").meta.partition or "aws")


class CodeBuildGateway:
    """One region's CodeBuild, S3, IAM, CloudWatch Logs and ECR, from ``aws`` (an ``AwsClients``)."""

    def __init__(self, aws: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self.clients = SharedClients(aws)
        self._sleep = sleep

    @property
    def region(self) -> str:
        return self.clients.region

    def account_id(self) -> str:
        return self.clients.account_id()

    def partition(self) -> str:
        return self.clients.partition()

    def _client(self, service: str) -> Any:
        return self.clients.client(service)

    # -- S3: the build context ------------------------------------------------------------------
    def check_bucket(self, bucket: str) -> None:
        """The bucket exists and this profile may use it; else AWSError saying what to do."""
        import botocore.exceptions as bce

        try:
            self._client("s3").head_bucket(Bucket=bucket)
        except bce.ClientError as exc:
            status = _status(exc)
            if status == 404 or _code(exc) in ("404", "NoSuchBucket"):
                raise AWSError(f"the S3 bucket {bucket} does not exist (in this account and region)",
                               "Create it (aws s3 mb s3://BUCKET), or name another with --s3-bucket or "
                               "`a2c init --s3-bucket BUCKET`.") from exc
            if status == 403:
                raise AWSError(f"the S3 bucket {bucket} exists but this profile may not use it",
                               "Grant the profile s3:ListBucket, s3:GetObject and s3:PutObject on it, or name "
                               "another bucket with --s3-bucket.") from exc
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc

    def object_size(self, bucket: str, key: str) -> int | None:
        """The object's size, or None when there is none under ``key``."""
        import botocore.exceptions as bce

        try:
            return int(self._client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"])
        except bce.ClientError as exc:
            if _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc

    def upload_stream(self, bucket: str, key: str, chunks: Iterable[bytes], accept: Callable[[], bool],
                      metadata: Mapping[str, str] | None = None, part_size: int = PART_SIZE) -> bool:
        """Stream ``chunks`` to ``bucket/key`` in parts (one put for a small object), never holding
        more than one part. ``accept()`` is asked once everything is sent: False aborts the upload,
        so that nothing lands under the key (the caller's check of what was sent failed)."""
        s3 = self._client("s3")
        extra = {"Metadata": dict(metadata or {}), "ServerSideEncryption": "AES256"}
        buffer = bytearray()
        iterator = iter(chunks)
        for chunk in iterator:
            buffer += chunk
            if len(buffer) >= part_size:
                break
        else:  # all of it fits in one part
            if not accept():
                return False
            call(s3.put_object, Bucket=bucket, Key=key, Body=bytes(buffer), **extra)
            return True
        upload_id = call(s3.create_multipart_upload, Bucket=bucket, Key=key, **extra)["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            for chunk in iterator:
                buffer += chunk
                while len(buffer) >= part_size:
                    parts.append(self._part(bucket, key, upload_id, len(parts) + 1, bytes(buffer[:part_size])))
                    del buffer[:part_size]
            if buffer or not parts:
                parts.append(self._part(bucket, key, upload_id, len(parts) + 1, bytes(buffer)))
            if not accept():
                raise _Refused()
            call(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id,
                 MultipartUpload={"Parts": parts})
            return True
        except BaseException as exc:  # an interrupt too: no parts stay behind to be billed
            try:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                pass
            if isinstance(exc, _Refused):
                return False
            raise

    def _part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        if number > MAX_PARTS:
            raise AWSError(f"the build context is larger than S3 takes in {MAX_PARTS} parts of {PART_SIZE // MIB} MiB",
                           "Leave large data folders out of the image (appExcludedFiles in analysis.json).")
        answer = call(self._client("s3").upload_part, Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                      Body=data)
        return {"ETag": answer["ETag"], "PartNumber": number}

    def copy_object(self, bucket: str, source: str, key: str, size: int) -> None:
        """Copy within the bucket, on S3's side: one request up to 5 GiB, parts of 1 GiB above."""
        s3 = self._client("s3")
        origin = {"Bucket": bucket, "Key": source}
        if size <= 5 * 1024 * MIB:
            call(s3.copy_object, Bucket=bucket, Key=key, CopySource=origin, ServerSideEncryption="AES256",
                 MetadataDirective="COPY")
            return
        upload_id = call(s3.create_multipart_upload, Bucket=bucket, Key=key, ServerSideEncryption="AES256")["UploadId"]
        parts, step = [], 1024 * MIB
        try:
            for number, start in enumerate(range(0, size, step), 1):
                answer = call(s3.upload_part_copy, Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                              CopySource=origin, CopySourceRange=f"bytes={start}-{min(start + step, size) - 1}")
                parts.append({"ETag": answer["CopyPartResult"]["ETag"], "PartNumber": number})
            call(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id,
                 MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                pass
            raise

    def delete_object(self, bucket: str, key: str) -> None:
        call(self._client("s3").delete_object, Bucket=bucket, Key=key)

    # -- IAM: the project's service role --------------------------------------------------------
    def role_arn(self, name: str) -> str | None:
        """The role's ARN, or None when there is no role by that name."""
        import botocore.exceptions as bce

        try:
            return str(self._client("iam").get_role(RoleName=name)["Role"]["Arn"])
        except bce.ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                return None
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc

    def create_role(self, name: str, trust_policy: Mapping[str, Any], description: str,
                    tags: Mapping[str, str]) -> str:
        created = call(self._client("iam").create_role, RoleName=name, Path="/service-role/",
                       AssumeRolePolicyDocument=json.dumps(trust_policy), Description=description,
                       Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return str(created["Role"]["Arn"])

    def role_policy(self, role: str, policy: str) -> dict[str, Any] | None:
        """The role's inline policy document, or None when it has none by that name."""
        import botocore.exceptions as bce
        from urllib.parse import unquote

        try:
            document = self._client("iam").get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        except bce.ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                return None
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc
        # boto3 decodes the URL-encoded document for us; a stand-in may hand back the text.
        return dict(document) if isinstance(document, dict) else json.loads(unquote(str(document)))

    def put_role_policy(self, role: str, policy: str, document: Mapping[str, Any]) -> None:
        call(self._client("iam").put_role_policy, RoleName=role, PolicyName=policy,
             PolicyDocument=json.dumps(document, separators=(",", ":")))

    # -- CloudWatch Logs -------------------------------------------------------------------------
    def ensure_log_group(self, name: str, retention_days: int, tags: Mapping[str, str]) -> None:
        import botocore.exceptions as bce

        logs = self._client("logs")
        try:
            logs.create_log_group(logGroupName=name, tags=dict(tags))
        except bce.ClientError as exc:
            if _code(exc) != "ResourceAlreadyExistsException":
                raise translate(exc) from exc
            return  # an existing group keeps its own retention
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc
        call(logs.put_retention_policy, logGroupName=name, retentionInDays=retention_days)

    def log_events(self, group: str, stream: str, token: str | None) -> tuple[list[str], str | None]:
        """The stream's messages after ``token`` (from the start without one) and the token to go on
        from; nothing while the stream does not exist yet (a build still provisioning)."""
        import botocore.exceptions as bce

        args: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            args["nextToken"] = token
        try:
            page = self._client("logs").get_log_events(**args)
        except bce.ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return [], token
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc
        return [str(e.get("message", "")) for e in page.get("events", [])], page.get("nextForwardToken") or token

    # -- CodeBuild --------------------------------------------------------------------------------
    def project(self, name: str) -> dict[str, Any] | None:
        found = call(self._client("codebuild").batch_get_projects, names=[name]).get("projects", [])
        return dict(found[0]) if found else None

    def create_project(self, spec: Mapping[str, Any], wait: float = ROLE_PROPAGATION_SECONDS) -> dict[str, Any]:
        """Create the project; while IAM has not yet made a new role assumable, try again (bounded)."""
        return self._while_role_propagates("create_project", spec, wait)

    def update_project(self, spec: Mapping[str, Any], wait: float = ROLE_PROPAGATION_SECONDS) -> dict[str, Any]:
        return self._while_role_propagates("update_project", spec, wait)

    def _while_role_propagates(self, operation: str, spec: Mapping[str, Any], wait: float) -> dict[str, Any]:
        import botocore.exceptions as bce

        method = getattr(self._client("codebuild"), operation)
        deadline = time.monotonic() + wait
        delay = 2.0
        while True:
            try:
                return dict(method(**spec)["project"])
            except bce.ClientError as exc:
                not_yet = _code(exc) == "InvalidInputException" and "not authorized to perform: sts:AssumeRole" in _message(exc)
                if not not_yet or time.monotonic() + delay > deadline:
                    raise translate(exc) from exc
            except bce.BotoCoreError as exc:
                raise translate(exc) from exc
            self._sleep(delay)
            delay = min(delay * 2, 15.0)

    def start_build(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return dict(call(self._client("codebuild").start_build, **request)["build"])

    def builds(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The builds by id (BatchGetBuilds takes 100 ids a call)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            answer = call(self._client("codebuild").batch_get_builds, ids=ids[start:start + 100])
            found.update({str(b["id"]): dict(b) for b in answer.get("builds", [])})
        return found

    def stop_build(self, build_id: str) -> None:
        call(self._client("codebuild").stop_build, id=build_id)

    # -- ECR ---------------------------------------------------------------------------------------
    def ensure_repository(self, settings: EcrRepositorySettings) -> EcrRepository:
        from a2c.gateways.aws import ensure_ecr_repository

        return ensure_ecr_repository(self.clients, settings)  # type: ignore[arg-type]

    def image_digest(self, repository: str, tag: str) -> str:
        from a2c.gateways.aws import ecr_image_digest

        return ecr_image_digest(self.clients, repository, tag)  # type: ignore[arg-type]


class _Refused(Exception):
    """The caller's ``accept()`` said no: abort the upload quietly."""
