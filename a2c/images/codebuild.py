"""The CodeBuild builder: the image is built and pushed to ECR by AWS CodeBuild, not on this machine.

The build context is the one the Docker builder streams to a local engine (``context_writer``),
gzipped on the fly and uploaded to the bucket ``a2c init`` saved, under
``<prefix>/contexts/<sha256>/context.tar.gz``: the key is the checksum, so an unchanged context is
found there and not sent again. The walk is made twice when the context is new (once to learn the
checksum, once to upload), never copied to disk: the upload goes to a staging key while it is
hashed, and S3 copies it to the key of what was really sent, so files that change between the
walks never leave an object under a checksum that is not its own.

One CodeBuild project (``a2c-image-builder`` unless named) builds every application: privileged
(Docker in Docker), its buildspec a2c's own (templates/codebuild/buildspec.yml.j2), its source the
S3 folder of the context, given per build with the repository and the tag (deployment.json's
``ecrParameters.ecrRepoTag``, as ``generate app-deployment --push`` tags). Its service role is
created by a2c unless given, with least privilege: push to the repositories it has built for,
read the context prefix, write its own log group.

The build is followed (status with BatchGetBuilds, log lines with CloudWatch Logs, both with
backoff) and the pushed image's digest is recorded in ``<app>/image.json``: from the variable the
buildspec exports, checked against ECR's own answer.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping

from a2c.errors import AWSError, BuildFailed, InvalidFile, UsageError
from a2c.hosts.base import Host
from a2c.images.base import BuildJob, BuildOutcome, Validation
from a2c.images.docker import DockerBuilder, context_outcome
from a2c.model import BuildPlan

DEFAULT_PROJECT = "a2c-image-builder"
DEFAULT_PREFIX = "a2c/codebuild"
BUILD_IMAGE = "aws/codebuild/standard:7.0"  # Ubuntu with Docker; the pipeline's build project uses it too
COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE",
                 "BUILD_GENERAL1_2XLARGE")
CONTEXT_NAME = "context.tar.gz"
ROLE_POLICY = "a2c-image-builder"
TAGS = {"a2c-generated": "true"}
LOG_RETENTION_DAYS = 30
QUEUED_TIMEOUT_MINUTES = 60  # a build waiting longer for capacity fails (QUEUED), and says why
MAX_INLINE_POLICY = 10_240  # IAM: characters of all inline policies of one role, together
IMAGE_RECORD = "image.json"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"})
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9!_.*'()-]+(?:/[A-Za-z0-9!_.*'()-]+)*")
_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,149}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")


@dataclass(frozen=True)
class CodeBuildSettings:
    """Where the contexts go and which project builds them (``containerize --builder codebuild``'s options)."""

    bucket: str
    prefix: str = DEFAULT_PREFIX
    project: str = DEFAULT_PROJECT
    role_arn: str = ""  # a role the user manages; empty: a2c creates (and keeps) its own
    compute_type: str = "BUILD_GENERAL1_SMALL"
    timeout_minutes: int = 60
    profile: str | None = None
    region: str | None = None

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1] if self.role_arn else f"{self.project}-service-role"[:64]

    @property
    def log_group(self) -> str:
        return f"/a2c/codebuild/{self.project}"

    @property
    def contexts(self) -> str:
        return f"{self.prefix}/contexts/"


def settings_from(options: Mapping[str, Any]) -> CodeBuildSettings:
    """The settings from the command's options, each checked before it reaches an ARN or a policy."""
    bucket = str(options.get("s3_bucket") or "")
    if not bucket:
        raise UsageError("the codebuild builder needs an S3 bucket for the build contexts, and none is configured",
                         "Pass --s3-bucket BUCKET, or save one with `a2c init --s3-bucket BUCKET`.")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UsageError(f"{bucket!r} is not an S3 bucket name", "Name the bucket as S3 does (lowercase, 3-63 characters).")
    prefix = str(options.get("s3_prefix") or DEFAULT_PREFIX).strip("/")
    if not _PREFIX.fullmatch(prefix):
        raise UsageError(f"{prefix!r} is not an S3 prefix a2c uses", "Use letters, digits and - _ . / only, e.g. a2c/codebuild.")
    project = str(options.get("project") or DEFAULT_PROJECT)
    if not _PROJECT.fullmatch(project):
        raise UsageError(f"{project!r} is not a CodeBuild project name",
                         "Use 2-150 letters, digits, - and _, starting with a letter or digit.")
    role = str(options.get("role") or "")
    if role and not _ROLE_ARN.fullmatch(role):
        raise UsageError(f"{role!r} is not an IAM role ARN", "Pass the role's ARN: arn:aws:iam::ACCOUNT:role/NAME.")
    compute = str(options.get("compute_type") or "BUILD_GENERAL1_SMALL")
    if compute not in COMPUTE_TYPES:
        raise UsageError(f"{compute!r} is not a CodeBuild compute type", f"Choose one of {', '.join(COMPUTE_TYPES)}.")
    timeout = int(options.get("timeout_minutes") or 60)
    if not 5 <= timeout <= 480:
        raise UsageError(f"a build timeout of {timeout} minutes is outside CodeBuild's 5-480", "Choose 5 to 480 minutes.")
    return CodeBuildSettings(bucket, prefix, project, role, compute, timeout,
                             options.get("profile") or None, options.get("region") or None)


# -- what a2c asks AWS for (pure) ----------------------------------------------------------------

def context_key(settings: CodeBuildSettings, sha256: str) -> str:
    return f"{settings.contexts}{sha256}/{CONTEXT_NAME}"


def trust_policy(account: str) -> dict[str, Any]:
    """CodeBuild may assume the role, for builds of this account only (the confused-deputy guard)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}


def statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def role_policy(settings: CodeBuildSettings, partition: str, region: str, account: str,
                repositories: Iterable[str]) -> dict[str, Any]:
    """The service role's one inline policy: nothing on ``*`` but the ECR login, which AWS
    authorizes on ``*`` only."""
    arn = f"arn:{partition}"
    bucket = f"{arn}:s3:::{settings.bucket}"
    names = sorted(set(repositories))
    push = [statement("PushImages", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                     "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                                     "ecr:PutImage"],
                      [f"{arn}:ecr:{region}:{account}:repository/{name}" for name in names])] if names else []
    return {"Version": "2012-10-17", "Statement": [
        statement("WriteBuildLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                  [f"{arn}:logs:{region}:{account}:log-group:{settings.log_group}:*"]),
        statement("ReadBuildContexts", ["s3:GetObject", "s3:GetObjectVersion"], [f"{bucket}/{settings.contexts}*"]),
        statement("ListBuildContexts", ["s3:ListBucket"], [bucket],
                  Condition={"StringLike": {"s3:prefix": [f"{settings.contexts}*"]}}),
        statement("LocateBucket", ["s3:GetBucketAcl", "s3:GetBucketLocation"], [bucket]),
        statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        *push,  # none until the first repository: IAM refuses a statement without resources
    ]}


def policy_repositories(document: Mapping[str, Any] | None) -> set[str]:
    """The repository names a role policy of ours lets the builds push to."""
    names: set[str] = set()
    for item in (document or {}).get("Statement", []):
        if isinstance(item, dict) and item.get("Sid") == "PushImages":
            resources = item.get("Resource", [])
            for resource in [resources] if isinstance(resources, str) else resources:
                names.add(str(resource).split(":repository/", 1)[-1])
    return names


def render_buildspec() -> str:
    from a2c.generate.render import render

    return render("codebuild/buildspec.yml.j2")


def project_spec(settings: CodeBuildSettings, role_arn: str, buildspec: str) -> dict[str, Any]:
    """CreateProject's request. The source is a placeholder folder: each build names its own
    (``sourceLocationOverride``), and one started by hand fails in DOWNLOAD_SOURCE, naming it."""
    return {
        "name": settings.project,
        "description": "a2c containerize --builder codebuild: builds an application's image from its build "
                       "context in S3 and pushes it to ECR",
        "source": {"type": "S3", "location": f"{settings.bucket}/{settings.prefix}/start-builds-with-a2c/",
                   "buildspec": buildspec},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {"type": "LINUX_CONTAINER", "image": BUILD_IMAGE, "computeType": settings.compute_type,
                        "privilegedMode": True, "imagePullCredentialsType": "CODEBUILD", "environmentVariables": []},
        "serviceRole": role_arn,
        "timeoutInMinutes": settings.timeout_minutes,
        "queuedTimeoutInMinutes": QUEUED_TIMEOUT_MINUTES,
        "logsConfig": {"cloudWatchLogs": {"status": "ENABLED", "groupName": settings.log_group, "streamName": "build"},
                       "s3Logs": {"status": "DISABLED"}},
        "tags": [{"key": k, "value": v} for k, v in TAGS.items()],
    }


def project_differences(found: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    """How an existing project departs from the one a2c would create (an older a2c's buildspec,
    privileged mode turned off by hand): each is reason to update it."""
    differences = []
    if found.get("source", {}).get("buildspec") != spec["source"]["buildspec"]:
        differences.append("its buildspec")
    env, wanted = found.get("environment", {}), spec["environment"]
    for key in ("image", "computeType", "privilegedMode", "type"):
        if env.get(key) != wanted[key]:
            differences.append(f"environment.{key} {env.get(key)!r} (a2c's: {wanted[key]!r})")
    if found.get("serviceRole") != spec["serviceRole"]:
        differences.append("its service role")
    if found.get("source", {}).get("type") != "S3":
        differences.append("its source type")
    logs = found.get("logsConfig", {}).get("cloudWatchLogs", {})
    if logs.get("groupName") != spec["logsConfig"]["cloudWatchLogs"]["groupName"]:
        differences.append("its log group")
    if found.get("timeoutInMinutes") != spec["timeoutInMinutes"]:
        differences.append(f"timeoutInMinutes {found.get('timeoutInMinutes')} (asked {spec['timeoutInMinutes']})")
    return differences


def start_request(settings: CodeBuildSettings, sha256: str, repository_uri: str, tag: str,
                  app_id: str) -> dict[str, Any]:
    """StartBuild's request: this application's context folder, repository and tag."""
    variables = {"IMAGE_REPOSITORY": repository_uri, "IMAGE_TAG": tag, "CONTEXT_SHA256": sha256,
                 "A2C_APPLICATION_ID": app_id}
    return {"projectName": settings.project, "sourceTypeOverride": "S3",
            "sourceLocationOverride": f"{settings.bucket}/{settings.contexts}{sha256}/",
            "environmentVariablesOverride": [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()],
            "idempotencyToken": hashlib.sha256(f"{app_id}\0{sha256}\0{tag}\0{time.time_ns()}".encode()).hexdigest()[:64]}


def exported_digest(build: Mapping[str, Any]) -> str:
    for variable in build.get("exportedEnvironmentVariables") or []:
        if variable.get("name") == "IMAGE_DIGEST" and re.fullmatch(r"sha256:[0-9a-f]{64}", str(variable.get("value"))):
            return str(variable["value"])
    return ""


def log_location(build: Mapping[str, Any], settings: CodeBuildSettings) -> tuple[str, str]:
    """(group, stream) of the build's log: as the build names it, else where the project puts it
    (``<streamName>/<build uuid>``), which the build names only once its log exists."""
    logs = build.get("logs") or {}
    if logs.get("groupName") and logs.get("streamName"):
        return str(logs["groupName"]), str(logs["streamName"])
    return settings.log_group, f"build/{str(build.get('id', '')).split(':', 1)[-1]}"


PHASE_HINTS = {
    "QUEUED": "The account's concurrent build limit is reached: lower --concurrency, or raise the CodeBuild quota.",
    "PROVISIONING": "CodeBuild could not start the build environment: check the service role (it must trust "
                    "codebuild.amazonaws.com) and the account's CodeBuild quotas.",
    "DOWNLOAD_SOURCE": "CodeBuild could not read the build context from S3: the service role needs s3:GetObject and "
                       "s3:ListBucket on the context prefix (a role given with --codebuild-role too).",
    "PRE_BUILD": "The context's checksum or the ECR login failed: the service role needs ecr:GetAuthorizationToken; "
                 "run the command again to upload the context anew.",
    "BUILD": "The image build failed: fix the Dockerfile in Artifacts/ or the base image (CodeBuild must be able to "
             "pull containerParameters.containerBaseImage; Docker Hub limits anonymous pulls, an ECR Public mirror "
             "such as public.ecr.aws/docker/library/... does not), then run the command again.",
    "POST_BUILD": "The push to ECR failed: the service role needs push to the repository, and an IMMUTABLE "
                  "repository takes each tag once (set ecrParameters.ecrRepoTag in deployment.json to a new tag).",
}


def build_failure(build: Mapping[str, Any], log_tail: Iterable[str] = ()) -> BuildFailed:
    """What went wrong, from the build's phases (their contexts hold CodeBuild's own reasons) and
    the end of its log."""
    status = str(build.get("buildStatus", ""))
    failed = [p for p in build.get("phases") or [] if p.get("phaseStatus") not in (None, "SUCCEEDED")]
    phase = str(failed[0].get("phaseType")) if failed else str(build.get("currentPhase", ""))
    reasons = [f"{c.get('statusCode', '')}: {c.get('message', '')}".strip(": ")
               for p in failed for c in p.get("contexts") or [] if c.get("message") or c.get("statusCode")]
    message = f"CodeBuild build {build.get('id')} {status}" + (f" in phase {phase}" if phase else "")
    if reasons:
        message += " (" + "; ".join(dict.fromkeys(reasons)) + ")"
    tail = [line for line in log_tail if line.strip()][-15:]
    if tail:
        message += "\nlast lines of its log:\n  " + "\n  ".join(tail)
    if status == "TIMED_OUT":
        hint = "The build ran out of time: pass a longer --codebuild-timeout (minutes) and run the command again."
    elif status == "STOPPED":
        hint = "The build was stopped; run the command again to build anew."
    else:
        hint = PHASE_HINTS.get(phase, "Read the build's log (its console link was printed) and run the command again.")
    links = (build.get("logs") or {}).get("deepLink")
    if links:
        hint += f" Full log: {links}"
    return BuildFailed(message, hint)


def follow_build(gateway: Any, build_id: str, settings: CodeBuildSettings, on_line: Callable[[str], None],
                 on_phase: Callable[[str], None], *, timeout: float, cancel: threading.Event | None = None,
                 clock: Callable[[], float] = time.monotonic, poll: tuple[float, float] = (3.0, 30.0)) -> dict[str, Any]:
    """Follow one build to its end: its phases, its log lines, then the terminal build.

    Polls back off (up to ``poll[1]`` seconds) while nothing changes and come back to ``poll[0]``
    when a phase or a log line does. ``cancel`` (set on an interrupt, or by --all's other thread)
    stops the build on AWS. After ``timeout`` seconds a2c stops following, and says the build goes on.
    """
    cancel = cancel or threading.Event()
    deadline = clock() + timeout
    delay, token, phase = poll[0], None, ""
    while True:
        build = gateway.builds([build_id]).get(build_id)
        if build is None:
            raise AWSError(f"CodeBuild does not know the build {build_id} it started",
                           "Check the region (--region) and run the command again.")
        progressed = False
        if build.get("currentPhase") and build["currentPhase"] != phase:
            phase = str(build["currentPhase"])
            on_phase(phase)
            progressed = True
        group, stream = log_location(build, settings)
        lines, token = _read_log(gateway, group, stream, token)
        for line in lines:
            on_line(line)
        if build.get("buildStatus") in TERMINAL:
            for _ in range(3):  # CloudWatch receives the last lines a little after the build ends
                more, token = _read_log(gateway, group, stream, token)
                for line in more:
                    on_line(line)
                if not more or cancel.wait(poll[0]):
                    break
            return build
        if cancel.is_set():
            gateway.stop_build(build_id)
            raise BuildFailed(f"stopped the CodeBuild build {build_id}", "Run the command again to build anew.")
        if clock() >= deadline:
            raise BuildFailed(f"gave up following the CodeBuild build {build_id} after {timeout / 60:.0f} minutes "
                              f"(it goes on in AWS, in phase {phase})",
                              "Follow it in the CodeBuild console, or run the command again once it has finished.")
        delay = poll[0] if progressed or lines else min(delay * 1.6, poll[1])
        if cancel.wait(delay):
            continue  # the next round stops the build


def _read_log(gateway: Any, group: str, stream: str, token: str | None, pages: int = 20) -> tuple[list[str], str | None]:
    """The new lines of the log, page by page until CloudWatch hands back the token it was given."""
    lines: list[str] = []
    for _ in range(pages):
        found, following = gateway.log_events(group, stream, token)
        lines += [line.rstrip("\n") for line in found]
        if following == token or not found:
            return lines, following
        token = following
    return lines, token


# -- the context: gzipped on the fly -------------------------------------------------------------

@dataclass
class GzipDigest:
    """SHA-256 and size of the gzip bytes that went through ``stream``."""

    sha: Any = field(default_factory=hashlib.sha256)
    size: int = 0

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Deterministic gzip (no name, time 0): one context always gives the same bytes, so its checksum finds it."""
        squeeze = zlib.compressobj(6, zlib.DEFLATED, 31)
        for chunk in chunks:
            out = squeeze.compress(chunk)
            if out:
                yield self._seen(out)
        yield self._seen(squeeze.flush())

    def _seen(self, data: bytes) -> bytes:
        self.sha.update(data)
        self.size += len(data)
        return data

    @property
    def hexdigest(self) -> str:
        return str(self.sha.hexdigest())


@dataclass
class CodeBuildOutcome(BuildOutcome):
    image_uri: str = ""  # repository@sha256:…
    digest: str = ""
    build_id: str = ""
    context: str = ""  # s3://bucket/key
    reused: bool = False  # ECR already held the image built from this very context


class CodeBuildBuilder(DockerBuilder):
    id: ClassVar[str] = "codebuild"
    platform: ClassVar[str] = "linux"
    priority: ClassVar[int] = 50  # chosen by name (--builder codebuild); the local engine stays the default
    description: ClassVar[str] = "Linux images built and pushed to Amazon ECR by AWS CodeBuild"
    remote: ClassVar[bool] = True  # builds elsewhere: no local engine, the image is not run here
    pushes: ClassVar[bool] = True  # pushes to ECR itself: needs deployment.json's ecrParameters first

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.options: dict[str, Any] = {}
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._settings: CodeBuildSettings | None = None
        self._gateway: Any = None
        self._role_arn = ""
        self._repositories: set[str] = set()
        self._project_ready = False

    def configure(self, options: Mapping[str, Any]) -> None:
        self.options = {k: v for k, v in options.items() if v not in (None, "")}
        self._settings = None

    @property
    def settings(self) -> CodeBuildSettings:
        if self._settings is None:
            self._settings = settings_from(self.options)
        return self._settings

    def gateway(self) -> Any:
        with self._lock:
            if self._gateway is None:
                from a2c.gateways.codebuild import CodeBuildGateway

                settings = self.settings
                self._gateway = CodeBuildGateway(self.env.aws(settings.profile, settings.region))
            return self._gateway

    def prepare(self, plan: BuildPlan, host: Host | None = None) -> BuildPlan:
        """Pin and prune as the Docker builder does, but only when a local engine pins the base to a
        registry digest: then CodeBuild pulls the very image whose files were compared. Otherwise
        (no engine here, or a base it holds by name only) the plan stays as written, and the image
        may carry a few files the base already has."""
        from a2c.errors import DockerUnavailable

        try:
            pinned = self._engine().pinned_reference(plan.base_image)
        except (DockerUnavailable, OSError):
            return plan
        if "@" not in pinned:
            return plan
        return super().prepare(plan, host)

    def validate(self, job: BuildJob, timeout: float) -> Validation | None:
        return None

    # -- the project, once per run ----------------------------------------------------------------
    def preflight(self, reporter: Any) -> None:
        """The bucket, the service role and the project, checked or made once (before --all fans out)."""
        with self._lock:
            if self._project_ready:
                return
        gateway, settings = self.gateway(), self.settings
        gateway.check_bucket(settings.bucket)
        account = gateway.account_id()
        reporter.step(f"AWS prerequisite check succeeded (account {account}, region {gateway.region}, "
                      f"bucket {settings.bucket})")
        with self._lock:
            if self._project_ready:
                return
            self._role_arn = settings.role_arn or self._ensure_role(gateway, settings, account, reporter)
            gateway.ensure_log_group(settings.log_group, LOG_RETENTION_DAYS, TAGS)
            spec = project_spec(settings, self._role_arn, render_buildspec())
            found = gateway.project(settings.project)
            if found is None:
                gateway.create_project(spec)
                reporter.step(f"Created CodeBuild project {settings.project} (privileged, {BUILD_IMAGE}, "
                              f"{settings.compute_type}, role {self._role_arn})")
            elif project_differences(found, spec):
                gateway.update_project(spec)
                reporter.step(f"Updated CodeBuild project {settings.project}: "
                              f"{'; '.join(project_differences(found, spec))}")
            else:
                reporter.step(f"CodeBuild project {settings.project}")
            self._project_ready = True

    def _ensure_role(self, gateway: Any, settings: CodeBuildSettings, account: str, reporter: Any) -> str:
        arn = gateway.role_arn(settings.role_name)
        if arn is None:
            arn = gateway.create_role(settings.role_name, trust_policy(account),
                                      f"CodeBuild project {settings.project}: a2c's image builds", TAGS)
            reporter.step(f"Created IAM role {arn} for CodeBuild")
        current = gateway.role_policy(settings.role_name, ROLE_POLICY)
        self._repositories = policy_repositories(current)
        if current != role_policy(settings, gateway.partition(), gateway.region, account, self._repositories):
            self._put_policy(gateway, settings, account, self._repositories)  # new, or another a2c's, or edited
        return str(arn)

    def _allow_push(self, repository: str, reporter: Any) -> None:
        """Add the repository to the role's push statement (the role a2c manages only)."""
        settings, gateway = self.settings, self.gateway()
        if settings.role_arn:
            return
        with self._lock:
            if repository in self._repositories:
                return
            self._put_policy(gateway, settings, gateway.account_id(), self._repositories | {repository})
            reporter.step(f"IAM role {settings.role_name} may now push to ECR repository {repository}")

    def _put_policy(self, gateway: Any, settings: CodeBuildSettings, account: str, repositories: set[str]) -> None:
        import json

        document = role_policy(settings, gateway.partition(), gateway.region, account, repositories)
        if len(json.dumps(document, separators=(",", ":"))) > MAX_INLINE_POLICY:
            raise AWSError(f"the IAM role {settings.role_name} would need an inline policy larger than IAM takes "
                           f"({len(repositories)} ECR repositories)",
                           "Pass --codebuild-role with a role you manage (ECR push to your repositories, S3 read of "
                           f"s3://{settings.bucket}/{settings.contexts}, logs to {settings.log_group}).")
        gateway.put_role_policy(settings.role_name, ROLE_POLICY, document)
        self._repositories = set(repositories)

    # -- one application's build --------------------------------------------------------------------
    def build(self, job: BuildJob) -> BuildOutcome:
        from a2c.images.push import MOVING_TAGS, refuse_moving_tag, repository_settings

        reporter, app_id = job.reporter, job.analysis.app_id
        if job.workspace is None:
            raise ValueError("the codebuild builder reads deployment.json: the job needs the workspace")
        self.preflight(reporter)
        gateway, settings = self.gateway(), self.settings
        parameters = job.workspace.read_deployment(app_id).get("ecrParameters", {})
        ecr = repository_settings(job.image, parameters)
        tag = str(parameters["ecrRepoTag"])
        repository = gateway.ensure_repository(ecr)
        if tag in MOVING_TAGS and repository.immutable:
            raise refuse_moving_tag(tag, ecr.name, not repository.created, "")
        reporter.step(("Created" if repository.created else "Using") + f" ECR repository {repository.uri}")
        self._allow_push(ecr.name, reporter)

        sha, writer_stats = self._upload_context(job, gateway, settings)
        outcome = CodeBuildOutcome(**vars(context_outcome(writer_stats)))
        outcome.context = f"s3://{settings.bucket}/{context_key(settings, sha)}"
        already = self._already_built(job, gateway, ecr.name, tag, sha, repository)
        if already:
            reporter.step(f"{repository.uri}:{tag} already holds the image built from this context; nothing to build")
            outcome.image_uri, outcome.digest, outcome.reused = f"{repository.uri}@{already}", already, True
            return outcome

        started = gateway.start_build(start_request(settings, sha, repository.uri, tag, app_id))
        build_id = str(started["id"])
        outcome.build_id = build_id
        reporter.step(f"Started CodeBuild build {build_id} ({repository.uri}:{tag} from {outcome.context})")
        tail: list[str] = []

        def line(text: str) -> None:
            tail.append(text)
            del tail[:-40]
            reporter.detail(text)

        try:
            build = follow_build(gateway, build_id, settings, line, lambda p: reporter.detail(f"phase {p}"),
                                 timeout=(settings.timeout_minutes + QUEUED_TIMEOUT_MINUTES + 10) * 60.0, cancel=self.cancel)
        except KeyboardInterrupt:
            gateway.stop_build(build_id)
            raise
        if build.get("buildStatus") != "SUCCEEDED":
            raise build_failure(build, tail)
        outcome.digest = self._pushed_digest(gateway, build, ecr.name, tag, repository.uri)
        outcome.image_uri = f"{repository.uri}@{outcome.digest}"
        reporter.step(f"Built and pushed {outcome.image_uri} on CodeBuild (tag {tag})")
        self._record(job, outcome, tag)
        return outcome

    def _upload_context(self, job: BuildJob, gateway: Any, settings: CodeBuildSettings) -> tuple[str, Any]:
        """The context's checksum, and the context under it in S3; (sha, the walk's stats).

        A first walk only hashes: when S3 holds that checksum already nothing is sent. Otherwise the
        second walk streams to a staging key while hashing, and S3 copies the object to the key of
        what was really sent: files that change between the walks (a log, a folder's time) never
        leave an object under a checksum that is not its own."""
        import uuid

        reporter = job.reporter
        first = GzipDigest()
        writer = self.context_writer(job)
        for _ in first.stream(writer):
            pass
        key = context_key(settings, first.hexdigest)
        if gateway.object_size(settings.bucket, key) == first.size:
            reporter.step(f"Build context s3://{settings.bucket}/{key} is there already "
                          f"({first.size // (1024 * 1024)} MiB); not uploaded again")
            return first.hexdigest, writer.stats
        staging = f"{settings.prefix}/uploads/{uuid.uuid4().hex}.tar.gz"
        sent = GzipDigest()
        writer = self.context_writer(job)
        reporter.step(f"Uploading the build context of {job.analysis.app_id} to s3://{settings.bucket}/{settings.contexts}")
        try:
            gateway.upload_stream(settings.bucket, staging, sent.stream(writer), accept=lambda: True,
                                  metadata={"a2c-application-id": job.analysis.app_id})
            key = context_key(settings, sent.hexdigest)
            if gateway.object_size(settings.bucket, key) != sent.size:
                gateway.copy_object(settings.bucket, staging, key, sent.size)
        finally:
            gateway.delete_object(settings.bucket, staging)
        if sent.hexdigest != first.hexdigest:
            reporter.warn("files of the application changed while a2c read them; the build uses what was uploaded")
        reporter.step(f"Uploaded s3://{settings.bucket}/{key} ({sent.size // (1024 * 1024)} MiB, "
                      f"{writer.stats.files} files from {job.host.name})")
        return sent.hexdigest, writer.stats

    def _already_built(self, job: BuildJob, gateway: Any, name: str, tag: str, sha: str, repository: Any) -> str:
        """The digest ECR holds for the tag when a2c built it from this very context before; "" to build.
        A tag holding another image in an immutable repository is refused, as the push would be."""
        served = gateway.image_digest(name, tag)
        if not served:
            return ""
        record = _read_record(job)
        if record.get("digest") == served and record.get("contextSha256") == sha:
            return served
        if not repository.immutable:
            return ""  # the build moves the tag
        raise InvalidFile(f"deployment.json: ecrParameters.ecrRepoTag {tag!r} already holds another image ({served}) "
                          f"in the immutable ECR repository {name}, not one built from this build context",
                          f"Set ecrParameters.ecrRepoTag to context-{sha[:12]} (this context's own tag) in "
                          "deployment.json and run the command again.")

    def _pushed_digest(self, gateway: Any, build: Mapping[str, Any], name: str, tag: str, uri: str) -> str:
        from a2c.images.push import check_digest

        served = gateway.image_digest(name, tag)
        exported = exported_digest(build)
        if not served:
            raise BuildFailed(f"CodeBuild build {build.get('id')} succeeded, but ECR holds no image {name}:{tag}",
                              "Check the build's log for the push, and that the project is a2c's (its buildspec "
                              "pushes IMAGE_REPOSITORY:IMAGE_TAG); then run the command again.")
        if exported:
            check_digest(f"{uri}:{tag}", exported, served)
        return served

    def _record(self, job: BuildJob, outcome: CodeBuildOutcome, tag: str) -> None:
        from a2c.workspace import atomic_write_json

        atomic_write_json(job.workspace.app_dir(job.analysis.app_id) / IMAGE_RECORD, {
            "builder": self.id, "imageUri": outcome.image_uri, "digest": outcome.digest, "tag": tag,
            "repository": outcome.image_uri.split("@", 1)[0], "buildId": outcome.build_id,
            "context": outcome.context, "contextSha256": outcome.context.rsplit("/", 2)[-2],
            "builtAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def _read_record(job: BuildJob) -> dict[str, Any]:
    import json

    try:
        data = json.loads((job.workspace.app_dir(job.analysis.app_id) / IMAGE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
