"""The CodeBuild builder's pure parts: its buildspec, the project and role it asks for, the
StartBuild request, and the follow loop over builds that moto never produces.

moto completes every build on the first BatchGetBuilds (tests/integration/test_codebuild_builder.py
runs the builder against it). In-progress, failed, timed-out and stopped builds are replayed here
from captured BatchGetBuilds answers, each checked against botocore's model of CodeBuild (so the
fields the loop reads are fields CodeBuild sends), and CloudWatch Logs pages with its tokens.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import threading

import botocore.session
import pytest
import yaml

from a2c.errors import BuildFailed, UsageError
from a2c.images import codebuild
from a2c.images.codebuild import (CodeBuildSettings, GzipDigest, build_failure, follow_build, project_differences,
                                  project_spec, render_buildspec, role_policy, settings_from, start_request)

SETTINGS = CodeBuildSettings(bucket="my-a2c-bucket")
SHA = "ab" * 32
REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/java-tomcat-1dd8e7ba"


def test_buildspec_is_yaml_with_the_phases_and_the_exported_digest():
    spec = yaml.safe_load(render_buildspec())
    assert spec["version"] == 0.2
    assert spec["env"]["exported-variables"] == ["IMAGE_DIGEST"]
    assert list(spec["phases"]) == ["pre_build", "build", "post_build"]
    assert spec["phases"]["build"]["commands"] == ['docker build --tag "$IMAGE_REPOSITORY:$IMAGE_TAG" - < context.tar.gz']
    commands = [c for phase in spec["phases"].values() for c in phase["commands"]]
    for command in commands:  # each parses as shell
        checked = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, (command, checked.stderr)


def test_buildspec_reads_only_what_start_build_sets_and_codebuild_provides():
    text = "\n".join(c for p in yaml.safe_load(render_buildspec())["phases"].values() for c in p["commands"])
    read = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", text))
    set_by_a2c = {v["name"] for v in start_request(SETTINGS, SHA, REPO, "analysis-0123", "java-tomcat-1dd8e7ba")
                  ["environmentVariablesOverride"]}
    by_codebuild = {"AWS_DEFAULT_REGION", "CODEBUILD_BUILD_SUCCEEDING"}
    made_here = {"REGISTRY", "IMAGE_DIGEST"}
    assert read - made_here <= set_by_a2c | by_codebuild, read
    assert {"IMAGE_REPOSITORY", "IMAGE_TAG", "CONTEXT_SHA256"} <= read


def test_start_request_names_the_context_folder_and_the_image():
    request = start_request(SETTINGS, SHA, REPO, "analysis-0123", "java-tomcat-1dd8e7ba")
    assert request["sourceTypeOverride"] == "S3"
    assert request["sourceLocationOverride"] == f"my-a2c-bucket/a2c/codebuild/contexts/{SHA}/"
    variables = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
    assert variables["IMAGE_REPOSITORY"] == REPO and variables["IMAGE_TAG"] == "analysis-0123"
    assert variables["CONTEXT_SHA256"] == SHA
    model = botocore.session.get_session().get_service_model("codebuild").operation_model("StartBuild")
    assert set(request) <= set(model.input_shape.members)
    assert codebuild.context_key(SETTINGS, SHA) == f"a2c/codebuild/contexts/{SHA}/context.tar.gz"


def _statements(document):
    return {s["Sid"]: s for s in document["Statement"]}


def test_role_policy_has_nothing_on_star_but_the_ecr_login():
    document = role_policy(SETTINGS, "aws", "eu-west-1", "123456789012", ["b-app", "a-app", "a-app"])
    for item in document["Statement"]:
        assert not any(a == "*" or a.endswith(":*") for a in item["Action"]), item
        if "*" in item["Resource"]:
            assert item["Action"] == ["ecr:GetAuthorizationToken"]
    statements = _statements(document)
    assert statements["PushImages"]["Resource"] == [
        "arn:aws:ecr:eu-west-1:123456789012:repository/a-app", "arn:aws:ecr:eu-west-1:123456789012:repository/b-app"]
    assert statements["ReadBuildContexts"]["Resource"] == ["arn:aws:s3:::my-a2c-bucket/a2c/codebuild/contexts/*"]
    assert statements["ListBuildContexts"]["Condition"] == {"StringLike": {"s3:prefix": ["a2c/codebuild/contexts/*"]}}
    assert statements["WriteBuildLogs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/a2c/codebuild/a2c-image-builder:*"]
    assert codebuild.policy_repositories(document) == {"a-app", "b-app"}
    assert "PushImages" not in _statements(role_policy(SETTINGS, "aws", "eu-west-1", "123456789012", []))
    assert codebuild.trust_policy("123456789012")["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_project_is_privileged_with_the_buildspec_and_differences_are_named():
    spec = project_spec(SETTINGS, "arn:aws:iam::123456789012:role/service-role/r", render_buildspec())
    assert spec["environment"]["privilegedMode"] is True and spec["environment"]["type"] == "LINUX_CONTAINER"
    assert spec["source"]["type"] == "S3" and spec["source"]["buildspec"] == render_buildspec()
    model = botocore.session.get_session().get_service_model("codebuild").operation_model("CreateProject")
    assert set(spec) <= set(model.input_shape.members)
    assert project_differences(spec, spec) == []
    changed = {**spec, "environment": {**spec["environment"], "privilegedMode": False},
               "source": {**spec["source"], "buildspec": "version: 0.2\n"}}
    assert project_differences(changed, spec) == ["its buildspec", "environment.privilegedMode False (a2c's: True)"]


@pytest.mark.parametrize("options, hint", [
    ({}, "a2c init --s3-bucket"),
    ({"s3_bucket": "Bad_Bucket"}, "Name the bucket"),
    ({"s3_bucket": "ok-bucket", "project": "-x"}, "2-150"),
    ({"s3_bucket": "ok-bucket", "role": "my-role"}, "arn:aws:iam::ACCOUNT:role/NAME"),
    ({"s3_bucket": "ok-bucket", "compute_type": "HUGE"}, "BUILD_GENERAL1_SMALL"),
    ({"s3_bucket": "ok-bucket", "s3_prefix": "a b"}, "a2c/codebuild"),
])
def test_settings_refuse_what_would_reach_an_arn_badly(options, hint):
    with pytest.raises(UsageError) as caught:
        settings_from(options)
    assert hint in caught.value.hint


def test_the_context_gzip_is_deterministic_and_holds_the_tar():
    chunks = [b"a" * 700_000, b"b" * 10, b"\0" * 1024]
    first, second = GzipDigest(), GzipDigest()
    one, two = b"".join(first.stream(iter(chunks))), b"".join(second.stream(iter(chunks)))
    assert one == two and first.hexdigest == second.hexdigest and first.size == len(one)
    assert gzip.decompress(one) == b"".join(chunks)


# -- following a build: captured BatchGetBuilds answers ---------------------------------------------

BUILD_ID = "a2c-image-builder:4b2c7a1e-3f0d-4c55-9a77-0a1b2c3d4e5f"
LOGS = {"groupName": "/a2c/codebuild/a2c-image-builder", "streamName": "build/4b2c7a1e-3f0d-4c55-9a77-0a1b2c3d4e5f",
        "deepLink": "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=x;stream=y"}


def _build(status, phase, phases, **extra):
    return {"id": BUILD_ID, "buildStatus": status, "currentPhase": phase, "phases": phases, "logs": LOGS,
            "buildComplete": status != "IN_PROGRESS", **extra}


OK = {"phaseStatus": "SUCCEEDED"}
CAPTURED_FAILED = _build("FAILED", "COMPLETED", [
    {"phaseType": "SUBMITTED", **OK}, {"phaseType": "QUEUED", **OK}, {"phaseType": "PROVISIONING", **OK},
    {"phaseType": "DOWNLOAD_SOURCE", **OK}, {"phaseType": "INSTALL", **OK}, {"phaseType": "PRE_BUILD", **OK},
    {"phaseType": "BUILD", "phaseStatus": "FAILED", "contexts": [
        {"statusCode": "COMMAND_EXECUTION_ERROR",
         "message": "Error while executing command: docker build --tag \"$IMAGE_REPOSITORY:$IMAGE_TAG\" - < "
                    "context.tar.gz. Reason: exit status 1"}]},
    {"phaseType": "POST_BUILD", "phaseStatus": "FAILED", "contexts": [
        {"statusCode": "COMMAND_EXECUTION_ERROR", "message": "Error while executing command: test \"$CODEBUILD_BUILD_SUCCEEDING\" = 1. Reason: exit status 1"}]},
    {"phaseType": "FINALIZING", **OK}, {"phaseType": "COMPLETED"}])
CAPTURED_SUCCEEDED = _build("SUCCEEDED", "COMPLETED", [{"phaseType": "BUILD", **OK}, {"phaseType": "COMPLETED"}],
                            exportedEnvironmentVariables=[{"name": "IMAGE_DIGEST", "value": "sha256:" + "c" * 64}])


def test_captured_builds_are_shaped_as_codebuild_sends_them():
    model = botocore.session.get_session().get_service_model("codebuild")
    for build in (CAPTURED_FAILED, CAPTURED_SUCCEEDED):
        assert set(build) <= set(model.shape_for("Build").members)
        assert set(build["logs"]) <= set(model.shape_for("LogsLocation").members)
        for phase in build["phases"]:
            assert set(phase) <= set(model.shape_for("BuildPhase").members)
            assert phase["phaseType"] in model.shape_for("BuildPhaseType").enum
        assert build["buildStatus"] in model.shape_for("StatusType").enum


def test_a_failed_build_says_which_phase_why_and_what_to_do():
    error = build_failure(CAPTURED_FAILED, ["Step 1/9 : FROM eclipse-temurin:17-jre", "toomanyrequests: rate limit"])
    assert "FAILED in phase BUILD" in error.message and "exit status 1" in error.message
    assert "toomanyrequests" in error.message and "public.ecr.aws" in error.hint and LOGS["deepLink"] in error.hint
    assert error.exit_status == 8
    timed_out = build_failure({**CAPTURED_FAILED, "buildStatus": "TIMED_OUT"})
    assert "--codebuild-timeout" in timed_out.hint
    assert codebuild.exported_digest(CAPTURED_SUCCEEDED) == "sha256:" + "c" * 64
    assert codebuild.exported_digest({"exportedEnvironmentVariables": [{"name": "IMAGE_DIGEST", "value": "x; rm"}]}) == ""


class Replay:
    """CodeBuild and CloudWatch Logs as captured: one BatchGetBuilds answer per poll, and log
    pages that hand back the token they were given once nothing is new (as CloudWatch does)."""

    def __init__(self, builds, log_pages):
        self.builds_seen = list(builds)
        self.pages = log_pages  # token -> (messages, next token)
        self.stopped: list[str] = []
        self.polls = 0

    def builds(self, ids):
        self.polls += 1
        build = self.builds_seen.pop(0) if len(self.builds_seen) > 1 else self.builds_seen[0]
        return {build["id"]: build}

    def log_events(self, group, stream, token):
        assert (group, stream) == (LOGS["groupName"], LOGS["streamName"])
        return self.pages.get(token, ([], token))

    def stop_build(self, build_id):
        self.stopped.append(build_id)


class Waits(threading.Event):
    """An Event whose waits return at once, recording how long each would have been."""

    def __init__(self, set_after: int | None = None) -> None:
        super().__init__()
        self.delays: list[float] = []
        self.set_after = set_after

    def wait(self, timeout=None):
        self.delays.append(timeout)
        if self.set_after is not None and len(self.delays) >= self.set_after:
            self.set()
        return self.is_set()


def test_follow_reports_phases_and_each_log_line_once_backing_off_while_nothing_moves():
    queued = _build("IN_PROGRESS", "QUEUED", [{"phaseType": "SUBMITTED", **OK}, {"phaseType": "QUEUED"}])
    queued["logs"] = {"deepLink": LOGS["deepLink"]}  # no log yet: the stream is found where the project puts it
    building = _build("IN_PROGRESS", "BUILD", [])
    replay = Replay([queued, queued, queued, building, building, CAPTURED_FAILED], {
        None: (["Step 1/9 : FROM base\n"], "f/1"),
        "f/1": (["Step 2/9 : COPY layers/application/ /\n"], "f/2"),
    })
    phases, lines, waits = [], [], Waits()
    build = follow_build(replay, BUILD_ID, SETTINGS, lines.append, phases.append, timeout=3600, cancel=waits,
                         poll=(3.0, 30.0))
    assert build is CAPTURED_FAILED
    assert phases == ["QUEUED", "BUILD", "COMPLETED"]
    assert lines == ["Step 1/9 : FROM base", "Step 2/9 : COPY layers/application/ /"]
    assert waits.delays[0] == 3.0 and waits.delays[1] == pytest.approx(4.8) and waits.delays[2] == pytest.approx(7.68)
    assert waits.delays[3] == 3.0  # a new phase: back to the short poll
    assert max(waits.delays) <= 30.0 and replay.stopped == []


def test_follow_stops_the_build_when_cancelled_and_gives_up_after_the_timeout():
    running_build = _build("IN_PROGRESS", "BUILD", [])
    replay = Replay([running_build], {})
    with pytest.raises(BuildFailed, match="stopped the CodeBuild build"):
        follow_build(replay, BUILD_ID, SETTINGS, print, print, timeout=3600, cancel=Waits(set_after=2))
    assert replay.stopped == [BUILD_ID]

    now = [0.0]

    def clock():
        now[0] += 100.0
        return now[0]

    with pytest.raises(BuildFailed, match="gave up following") as caught:
        follow_build(Replay([running_build], {}), BUILD_ID, SETTINGS, print, print, timeout=250, cancel=Waits(),
                     clock=clock)
    assert "goes on in AWS" in caught.value.message
