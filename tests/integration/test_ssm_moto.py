"""SsmShell, ssm_fleet_scan and select_instances against moto server, through botocore's real
requests, with a stand-in for the SSM agent.

What moto models, and these tests check as moto records it: SendCommand (document name,
parameters, instance ids or tag targets resolved against moto's EC2 instances, MaxConcurrency,
MaxErrors, the S3 output settings, TimeoutSeconds), ListCommands, GetCommandInvocation, and S3.

What moto does not do, and how these tests stand in for it:
- moto runs nothing on any instance: every invocation is "Success" with empty output at once
  (``test_moto_alone_runs_nothing`` shows it). The stand-in ``Agent`` sits between boto3 and moto:
  it forwards every request, and for each SendCommand moto accepted it runs the command's
  ``commands`` with this machine's /bin/sh (with AWS_SSM_INSTANCE_ID set, as the agent sets it),
  answers GetCommandInvocation with the first 24,000 characters of stdout (InProgress on the first
  poll), and puts the whole stdout into moto's S3 at the agent's documented key when the command
  names a bucket. So the wrapper and decoding are real; the agent's own behaviour (root, its
  working folder, its exact cut of the text, its S3 upload, the instance's tools) is not.
- moto has no ListCommandInvocations, DescribeInstanceInformation or (resource-groups)
  ListGroupResources: the stand-in answers them from the commands moto recorded and from the
  managed-instance and group captures in fixtures/ssm/, with the filters and paging of the API
  reference. Their semantics are the stand-in's, so only the request shapes and a2c's handling of
  the answers are checked.
- IAM: moto grants everything (the README's policy is not verified here); KMS on the bucket,
  Run Command's rate control in time (moto does not stagger by MaxConcurrency or stop at
  MaxErrors), and SendCommand's real size limit are not modelled.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from a2c.errors import HostError
from a2c.gateways import ssm
from a2c.gateways.aws import AwsClients
from tests.conftest import FIXTURES
from tests.integration.aws_services import TEST_REGION, moto, moto_server  # noqa: F401

pytestmark = [pytest.mark.aws]

CAPTURES = FIXTURES / "ssm"
BUCKET = "a2c-ssm-test-output"
AMI = "ami-12c6146b"  # one of moto's stock images
CAPTURE_NONCE = json.loads((CAPTURES / "expected.json").read_text())["nonce"]


def agent_key(prefix: str, command_id: str, instance_id: str) -> str:
    """Where the SSM agent uploads stdout (the layout AWS documents for aws:runShellScript)."""
    return f"{prefix.rstrip('/')}/{command_id}/{instance_id}/awsrunShellScript/0.awsrunShellScript/stdout"


class Agent:
    """moto server plus what it lacks (see the module docstring), on its own 127.0.0.1 port."""

    def __init__(self, moto_server: Any) -> None:
        self.moto = moto_server
        self.backend = urllib.parse.urlsplit(moto_server.url)
        self.invocations: dict[tuple[str, str], dict[str, Any]] = {}
        self.polls: dict[tuple[str, str], int] = {}
        self.fates: dict[str, dict[str, Any]] = {}  # instance id -> a capture to answer instead of running
        self.managed: list[dict[str, Any]] = []  # DescribeInstanceInformation records (+ "Tags")
        self.groups: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the parts moto does not do ----------------------------------------------------------------
    def ran(self, command: dict[str, Any]) -> None:
        """Run a command moto accepted on each of its instances, as the agent would."""
        script = "\n".join(command["Parameters"]["commands"])
        timeout = float(command["Parameters"].get("executionTimeout", ["60"])[0])
        nonce = re.search(r"A2C-SSM ([0-9a-f]+) begin", script)
        for instance_id in command["InstanceIds"]:
            if instance_id in self.fates:  # a capture replayed as this command's answer (its nonce, its id)
                record = dict(self.fates[instance_id], CommandId=command["CommandId"], InstanceId=instance_id)
                if nonce:
                    record["StandardOutputContent"] = record["StandardOutputContent"].replace(CAPTURE_NONCE, nonce[1])
            else:
                record = self._run(script, timeout, command, instance_id)
            with self.lock:
                self.invocations[(command["CommandId"], instance_id)] = record

    def _run(self, script: str, timeout: float, command: dict[str, Any], instance_id: str) -> dict[str, Any]:
        done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=timeout,
                              env={"PATH": "/usr/bin:/bin", "AWS_SSM_INSTANCE_ID": instance_id,
                                   "AWS_SSM_REGION_NAME": TEST_REGION})
        stdout = done.stdout.decode("utf-8", "replace")
        url = ""
        if command.get("OutputS3BucketName"):
            key = agent_key(command.get("OutputS3KeyPrefix", ""), command["CommandId"], instance_id)
            s3 = self.moto.client("s3")
            s3.put_object(Bucket=command["OutputS3BucketName"], Key=key, Body=done.stdout)
            url = f"https://s3.{TEST_REGION}.amazonaws.com/{command['OutputS3BucketName']}/{key}"
        status = "Success" if done.returncode == 0 else "Failed"
        return {"CommandId": command["CommandId"], "InstanceId": instance_id, "Comment": command.get("Comment", ""),
                "DocumentName": command["DocumentName"], "DocumentVersion": "$DEFAULT",
                "PluginName": "aws:runShellScript", "ResponseCode": done.returncode, "Status": status,
                "StatusDetails": status, "StandardOutputContent": stdout[:ssm.INLINE_OUTPUT_CHARS],
                "StandardOutputUrl": url,
                "StandardErrorContent": done.stderr.decode("utf-8", "replace")[:ssm.INLINE_ERROR_CHARS],
                "StandardErrorUrl": "",
                "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}}

    def get_invocation(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = (body["CommandId"], body["InstanceId"])
        with self.lock:
            record = self.invocations.get(key)
            self.polls[key] = self.polls.get(key, 0) + 1
            first = self.polls[key] == 1
        if record is None:
            return 400, {"__type": "InvocationDoesNotExist", "message": "no such invocation"}
        if first:
            return 200, dict(record, Status="InProgress", StatusDetails="InProgress", StandardOutputContent="",
                             StandardErrorContent="", ResponseCode=-1)
        return 200, record

    def list_invocations(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            found = [{k: v for k, v in r.items() if not k.startswith("Standard") or k.endswith("Url")}
                     for (command_id, _), r in sorted(self.invocations.items()) if command_id == body["CommandId"]]
        return _page(found, body, "CommandInvocations")

    def describe(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self.managed
        for f in body.get("Filters") or []:
            key, values = f["Key"], f["Values"]
            if key == "InstanceIds":
                found = [r for r in found if r["InstanceId"] in values]
            elif key == "tag-key":
                found = [r for r in found if set(values) & set(r.get("Tags", {}))]
            elif key.startswith("tag:"):
                found = [r for r in found if r.get("Tags", {}).get(key[4:]) in values]
            else:
                raise AssertionError(f"filter key {key} is not one a2c should send")
        answer = _page([{k: v for k, v in r.items() if k != "Tags"} for r in found], body, "InstanceInformationList")
        return answer

    # -- HTTP --------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                operation = target.split(".")[-1] if target.startswith("AmazonSSM.") else ""
                if self.path.startswith("/list-group-resources"):
                    operation = "ListGroupResources"
                request = json.loads(body or b"{}") if operation else {}
                if operation:
                    with agent.lock:
                        agent.requests.append((operation, request))
                elif self.command == "GET" and "/awsrunShellScript/" in self.path:
                    with agent.lock:
                        agent.requests.append(("GetObject", {"path": self.path}))
                if operation == "GetCommandInvocation":
                    return self._json(*agent.get_invocation(request))
                if operation == "ListCommandInvocations":
                    return self._json(200, agent.list_invocations(request))
                if operation == "DescribeInstanceInformation":
                    return self._json(200, agent.describe(request))
                if operation == "ListGroupResources":
                    group = agent.groups.get(request["Group"])
                    if group is None:
                        return self._json(404, {"__type": "NotFoundException", "Message": "no such group"},
                                          rest=True)
                    return self._json(200, _page(group["Resources"], request, "Resources"))
                status, headers, answer = agent._forward(self.command, self.path, self.headers, body)
                if operation == "SendCommand" and status == 200:
                    agent.ran(json.loads(answer)["Command"])
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _json(self, status: int, document: dict[str, Any], rest: bool = False) -> None:
                data = json.dumps(document, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if rest else "application/x-amz-json-1.1")
                if rest and status != 200:
                    self.send_header("x-amzn-ErrorType", document["__type"])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        return Handler

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.backend.hostname, self.backend.port, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
            forwarded["Host"] = self.backend.netloc
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


def _page(items: list[dict[str, Any]], body: dict[str, Any], field: str) -> dict[str, Any]:
    """The API's paging: MaxResults a page, NextToken an opaque offset."""
    start = int(body.get("NextToken") or 0)
    size = int(body.get("MaxResults") or 50)
    answer: dict[str, Any] = {field: items[start:start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


@pytest.fixture
def agent(moto):
    stand_in = Agent(moto)
    yield stand_in
    stand_in.stop()


def aws_clients(monkeypatch, tmp_path: Path, url: str) -> AwsClients:
    """a2c's own client provider, pointed at ``url`` by botocore's standard variables."""
    (tmp_path / "aws-config").write_text("")
    for name, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"),
                        "AWS_EC2_METADATA_DISABLED": "true", "A2C_CONFIG": str(tmp_path / "a2c-config.json")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    return AwsClients(region=TEST_REGION)


@pytest.fixture
def clients(agent, monkeypatch, tmp_path):
    return aws_clients(monkeypatch, tmp_path, agent.url)


def ec2_instances(moto, count: int, tags: dict[str, str]) -> list[str]:
    ec2 = moto.client("ec2")
    tags = tags or {"Name": "a2c-test"}
    made = ec2.run_instances(ImageId=AMI, MinCount=count, MaxCount=count, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
    return sorted(i["InstanceId"] for i in made["Instances"])


def recorded(moto, command_id: str | None = None) -> list[dict[str, Any]]:
    """The commands as moto recorded them."""
    ssm_client = moto.client("ssm")
    commands = ssm_client.list_commands(**({"CommandId": command_id} if command_id else {}))["Commands"]
    return commands


def fast(shell: ssm.SsmShell) -> ssm.SsmShell:
    shell.poll = 0.05
    return shell


# -- one instance -----------------------------------------------------------------------------------------

def test_moto_alone_runs_nothing(moto, monkeypatch, tmp_path):
    """Without the stand-in agent the command is 'Success' with no output: a2c says nothing ran."""
    instance = ec2_instances(moto, 1, {"Role": "web"})[0]
    shell = fast(ssm.SsmShell(aws_clients(monkeypatch, tmp_path, moto.url), instance, bucket=""))
    with pytest.raises(HostError, match="without a2c's framed output"):
        shell.run("echo hello")
    assert recorded(moto)[0]["DocumentName"] == "AWS-RunShellScript"


def test_run_returns_binary_stdout_and_takes_stdin(agent, clients, moto):
    instance = ec2_instances(moto, 1, {"Role": "web"})[0]
    shell = fast(ssm.SsmShell(clients, instance, bucket=""))
    payload = bytes(range(256)) * 20
    assert shell.run("cat; printf '\\000\\377'; printf %s \"$AWS_SSM_INSTANCE_ID\"", stdin=payload,
                     timeout=45) == payload + b"\0\xff" + instance.encode()
    assert shell.open("/etc/hostname") is None
    [command] = recorded(moto)
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["InstanceIds"] == [instance]
    assert command["Parameters"]["executionTimeout"] == ["45"]
    assert len(command["Parameters"]["commands"]) == 1 and "A2C-SSM" in command["Parameters"]["commands"][0]
    assert command["TimeoutSeconds"] >= 30
    assert command["OutputS3BucketName"] == ""
    polls = [r for op, r in agent.requests if op == "GetCommandInvocation"]
    assert len(polls) >= 2  # it waited through InProgress
    assert shell.name == f"{instance} (SSM {TEST_REGION})"


def test_a_failing_command_raises_with_its_code_and_stderr(agent, clients, moto):
    instance = ec2_instances(moto, 1, {})[0]
    shell = fast(ssm.SsmShell(clients, instance, bucket=""))
    with pytest.raises(HostError, match=r"exited with status 3: no such file /proc/999"):
        shell.run("echo 'no such file /proc/999' >&2; exit 3")


def test_large_output_comes_from_s3(agent, clients, moto):
    moto.client("s3").create_bucket(Bucket=BUCKET)
    instance = ec2_instances(moto, 1, {})[0]
    shell = fast(ssm.SsmShell(clients, instance, bucket=BUCKET, key_prefix="a2c/ssm/"))
    data = shell.run("head -c 300000 /dev/urandom | od -An -v -tx1 | tr -d ' \\n'; printf '\\001\\002'")
    assert len(data) == 600002 and data.endswith(b"\1\2")
    [command] = recorded(moto)
    assert (command["OutputS3BucketName"], command["OutputS3KeyPrefix"]) == (BUCKET, "a2c/ssm/")
    key = agent_key("a2c/ssm/", command["CommandId"], instance)
    assert moto.client("s3").head_object(Bucket=BUCKET, Key=key)["ContentLength"] > ssm.INLINE_OUTPUT_CHARS


def test_the_bucket_from_a2c_init_is_used(agent, clients, moto, tmp_path):
    from a2c.config import Config, save_config

    save_config(Config(s3Bucket=BUCKET), tmp_path / "a2c-config.json")
    moto.client("s3").create_bucket(Bucket=BUCKET)
    instance = ec2_instances(moto, 1, {})[0]
    shell = fast(ssm.SsmShell(clients, instance))
    assert shell.run("head -c 40000 /dev/zero") == b"\0" * 40000
    assert recorded(moto)[0]["OutputS3BucketName"] == BUCKET


def test_large_output_without_a_bucket_names_the_fix(agent, clients, moto):
    instance = ec2_instances(moto, 1, {})[0]
    shell = fast(ssm.SsmShell(clients, instance, bucket=""))
    with pytest.raises(HostError) as caught:
        shell.run("head -c 40000 /dev/zero")
    assert "40000 bytes" in caught.value.message and "a2c init --s3-bucket" in caught.value.hint


def test_a_missing_output_object_says_what_the_instance_role_needs(agent, clients, moto, monkeypatch):
    monkeypatch.setattr(ssm, "S3_RETRY_DELAYS", (0.01, 0.01))
    moto.client("s3").create_bucket(Bucket=BUCKET)
    instance = ec2_instances(moto, 1, {})[0]
    agent.fates[instance] = dict(json.loads((CAPTURES / "get-command-invocation-truncated.json").read_text()))
    shell = fast(ssm.SsmShell(clients, instance, bucket=BUCKET))
    with pytest.raises(HostError, match="is not in s3://") as caught:
        shell.run("true")
    assert "s3:PutObject" in caught.value.hint
    gets = [r for r in agent.requests if r[0] == "GetObject"]
    assert len(gets) == 3  # looked again while the agent's upload could still land


@pytest.mark.parametrize("capture, words", [
    ("delivery-timed-out", "did not pick up the command"), ("undeliverable", "could not deliver"),
    ("invalid-platform", "not a Linux instance"), ("access-denied", "AccessDenied"),
    ("timed-out", "ran too long"), ("cancelled", "was cancelled")])
def test_ssm_statuses_become_host_errors(agent, clients, moto, capture, words):
    instance = ec2_instances(moto, 1, {})[0]
    agent.fates[instance] = json.loads((CAPTURES / f"get-command-invocation-{capture}.json").read_text())
    with pytest.raises(HostError, match=words):
        fast(ssm.SsmShell(clients, instance, bucket="")).run("true")


def test_output_past_the_limit(agent, clients, moto):
    instance = ec2_instances(moto, 1, {})[0]
    with pytest.raises(HostError, match="passed the limit of 4096 bytes"):
        fast(ssm.SsmShell(clients, instance, bucket="")).run("head -c 100000000 /dev/zero", limit=4096)


# -- many instances ----------------------------------------------------------------------------------------

def test_fleet_scan_by_tag_is_one_command_with_ssms_thresholds(agent, clients, moto):
    moto.client("s3").create_bucket(Bucket=BUCKET)
    web = ec2_instances(moto, 3, {"Role": "web"})
    ec2_instances(moto, 2, {"Role": "db"})
    results = ssm.ssm_fleet_scan(clients, [{"Key": "tag:Role", "Values": ["web"]}],
                                 "printf 'scan of %s\\n' \"$AWS_SSM_INSTANCE_ID\"; head -c 30000 /dev/zero",
                                 max_concurrency="2", max_errors="1", bucket=BUCKET, poll=0.05)
    assert sorted(results) == web
    for instance, data in results.items():
        assert data == f"scan of {instance}\n".encode() + b"\0" * 30000  # past 24,000 characters: from S3
    [command] = recorded(moto)
    assert command["Targets"] == [{"Key": "tag:Role", "Values": ["web"]}]
    assert (command["MaxConcurrency"], command["MaxErrors"]) == ("2", "1")
    assert (command["OutputS3BucketName"], command["OutputS3KeyPrefix"]) == (BUCKET, "a2c/ssm/")
    assert command["DocumentName"] == "AWS-RunShellScript"
    listings = [r for op, r in agent.requests if op == "ListCommandInvocations"]
    assert listings and all(r["CommandId"] == command["CommandId"] and r["MaxResults"] == 50 for r in listings)


def test_fleet_scan_reports_each_instance_on_its_own(agent, clients, moto):
    ok = ec2_instances(moto, 2, {})
    lost = ec2_instances(moto, 1, {})[0]
    agent.fates[lost] = json.loads((CAPTURES / "get-command-invocation-delivery-timed-out.json").read_text())
    results = ssm.ssm_fleet_scan(clients, ok + [lost], "echo \"$AWS_SSM_INSTANCE_ID\"", bucket="", poll=0.05)
    assert {i: results[i] for i in ok} == {i: f"{i}\n".encode() for i in ok}
    assert isinstance(results[lost], HostError) and "did not pick up" in results[lost].message
    [command] = recorded(moto)
    assert sorted(command["InstanceIds"]) == sorted(ok + [lost])
    assert (command["MaxConcurrency"], command["MaxErrors"]) == ("10%", "10%")
    assert "OutputS3BucketName" not in command or command["OutputS3BucketName"] == ""


def test_fleet_scan_many_instances_pages_through_invocations(agent, clients, moto):
    ids = ec2_instances(moto, 60, {"Role": "batch"})
    results = ssm.ssm_fleet_scan(clients, [{"Key": "tag:Role", "Values": ["batch"]}], "echo ok", bucket="",
                                 poll=0.05)
    assert sorted(results) == ids and set(results.values()) == {b"ok\n"}
    assert any("NextToken" in r for op, r in agent.requests if op == "ListCommandInvocations")


# -- selection ------------------------------------------------------------------------------------------------

def managed_captures() -> list[dict[str, Any]]:
    records = json.loads((CAPTURES / "describe-instance-information.json").read_text())["InstanceInformationList"]
    tags = {"i-0a1b2c3d4e5f60718": {"Role": "web", "Env": "prod"}, "i-0b2c3d4e5f6071829": {"Role": "web"},
            "i-0c3d4e5f607182930": {"Role": "web", "Env": "prod"}, "mi-0123456789abcdef0": {"Env": "prod"}}
    return [dict(r, Tags=tags.get(r["InstanceId"], {})) for r in records]


def test_select_instances_by_id_tag_and_group(agent, clients):
    agent.managed = managed_captures()
    agent.groups["legacy-apps"] = json.loads((CAPTURES / "list-group-resources.json").read_text())
    chosen = ssm.select_instances(clients, instance_ids=["mi-0fedcba9876543210"], tags=["Role=web", "Env"],
                                  resource_groups=["legacy-apps"])
    by_id = {c["instanceId"]: c for c in chosen}
    assert [c["instanceId"] for c in chosen] == sorted(by_id)
    assert sorted(by_id) == ["i-0a1b2c3d4e5f60718", "i-0c3d4e5f607182930", "i-0ffffffffffffffff",
                             "mi-0123456789abcdef0", "mi-0fedcba9876543210"]
    assert [i for i, c in by_id.items() if c["usable"]] == ["i-0a1b2c3d4e5f60718", "mi-0123456789abcdef0"]
    assert by_id["i-0a1b2c3d4e5f60718"]["selectedBy"] == ["resource-group:legacy-apps", "tags:Role=web,Env"]
    assert "Windows" in by_id["i-0c3d4e5f607182930"]["reason"]
    assert "no record" in by_id["i-0ffffffffffffffff"]["reason"]  # in the group, but no agent registered
    assert "inactive" in by_id["mi-0fedcba9876543210"]["reason"]
    describes = [r for op, r in agent.requests if op == "DescribeInstanceInformation"]
    assert {"Key": "tag:Role", "Values": ["web"]} in describes[-1]["Filters"]
    assert {"Key": "tag-key", "Values": ["Env"]} in describes[-1]["Filters"]
    [group_request] = [r for op, r in agent.requests if op == "ListGroupResources"]
    assert group_request["Group"] == "legacy-apps"
    assert group_request["Filters"][0]["Values"] == ["AWS::EC2::Instance", "AWS::SSM::ManagedInstance"]


def test_selecting_many_ids_pages_and_chunks(agent, clients):
    base = managed_captures()[0]
    agent.managed = [dict(base, InstanceId=f"i-{n:017x}") for n in range(120)]
    chosen = ssm.select_instances(clients, instance_ids=[f"i-{n:017x}" for n in range(120)])
    assert len(chosen) == 120 and all(c["usable"] for c in chosen)
    describes = [r for op, r in agent.requests if op == "DescribeInstanceInformation"]
    assert all(len(r["Filters"][0]["Values"]) <= 50 for r in describes)


def test_an_unknown_resource_group_is_an_aws_error(agent, clients):
    from a2c.errors import AWSError

    with pytest.raises(AWSError, match="NotFoundException"):
        ssm.select_instances(clients, resource_groups=["nope"])


# -- a2c's own host over SSM, end to end ----------------------------------------------------------------------

@pytest.fixture
def marked_process():
    """A long-lived process with a command line and environment only this test has."""
    marker = f"a2c-ssm-{os.getpid()}-{time.monotonic_ns()}"
    proc = subprocess.Popen(["/bin/sh", "-c", f"exec sleep 300 # {marker}", marker],
                            env={"PATH": "/usr/bin:/bin", "A2C_SSM_MARKER": "caf\u00e9 $HOME \"q\""},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.2)
    yield proc, marker
    proc.kill()
    proc.wait(10)


def test_command_host_over_ssm_reads_what_the_local_shell_reads(agent, clients, moto, marked_process, tmp_path) -> None:
    """The stand-in agent runs on this machine, so CommandHost over SsmShell must read this machine's
    /proc and files exactly as CommandHost over LocalShell does (the scan passes 24,000 characters:
    it comes from S3)."""
    from a2c.hosts.command import CommandHost
    from a2c.hosts.shell import LocalShell, Shell

    proc, _ = marked_process
    moto.client("s3").create_bucket(Bucket=BUCKET)
    instance = ec2_instances(moto, 1, {})[0]
    shell: Shell = fast(ssm.SsmShell(clients, instance, bucket=BUCKET))
    host, local = CommandHost(shell), CommandHost(LocalShell())

    def wanted(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
        return name == "sleep" and "300" in cmdline

    ours, _ = host.scan_processes(wanted)
    theirs, _ = local.scan_processes(wanted)
    assert proc.pid in [p.pid for p in ours]
    assert [p for p in ours if p.pid == proc.pid] == [p for p in theirs if p.pid == proc.pid]
    assert host.process(proc.pid).environ["A2C_SSM_MARKER"] == "caf\u00e9 $HOME \"q\""
    blob = bytes(range(256)) * 700  # 179,200 bytes: ranged dd reads through run()
    (tmp_path / "blob.bin").write_bytes(blob)
    with host.open(str(tmp_path / "blob.bin")) as stream:
        stream.seek(100_000)
        assert stream.read(5000) == blob[100_000:105_000]
        stream.seek(0)
        assert stream.read() == blob
    assert host.lstat(str(tmp_path / "blob.bin")) == local.lstat(str(tmp_path / "blob.bin"))


def test_a_fleet_scan_prefetches_what_command_host_parses(agent, clients, moto, marked_process):
    from a2c.hosts.command import SCAN_SCRIPT, CommandHost
    from a2c.hosts.shell import LocalShell

    proc, _ = marked_process
    moto.client("s3").create_bucket(Bucket=BUCKET)
    instances = ec2_instances(moto, 2, {"Role": "app"})
    results = ssm.ssm_fleet_scan(clients, instances, SCAN_SCRIPT, bucket=BUCKET, poll=0.05)
    local = {p.pid: p for p in CommandHost(LocalShell()).scan_processes()[0]}
    for instance in instances:
        data = results[instance]
        assert isinstance(data, bytes) and len(data) > ssm.INLINE_OUTPUT_CHARS
        shell = fast(ssm.SsmShell(clients, instance, bucket=BUCKET))
        scanned, _ = CommandHost(shell, prefetched_scan=data).scan_processes()
        found = {p.pid: p for p in scanned}
        assert found[proc.pid] == local[proc.pid]
        assert found[1].cmdline == local[1].cmdline
