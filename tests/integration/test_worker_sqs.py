"""Queue workers and file-drop processors end to end on real processes: a Java worker polling
moto server's SQS over HTTP (java.net.http, no listening port, its queue URL in an
application.properties), and a Java poller that moves the files of the folder named in
-Dinbox.dir to done/. Each goes through inventory and analyze on the local host, its workload
facts are read (analyzers/common/workload.py), and its ECS template is rendered from the
deployment.json a2c builds, linted with cfn-lint and deployed to moto's CloudFormation. The
worker's image is then run once against moto's SQS: it must take a message off the queue, say
so, and still be running when stopped.

What moto (5.2) cannot check, so these tests do not claim it:
- ``AWS::ApplicationAutoScaling::ScalableTarget`` and ``::ScalingPolicy`` are accepted by moto's
  CloudFormation and make nothing. The same target and backlog-per-task policy are registered
  through moto's Application Auto Scaling API instead, which stores them as given; no one
  evaluates the metric math (moto's CloudWatch has no metric math), so the scaling itself, and
  whether ECS/ContainerInsights publishes RunningTaskCount, are not checked.
- ECS services: moto keeps the cluster, desired count and task definition and ignores the
  network configuration; no task runs.
- EventBridge: moto stores the rule and its ECS target (role, input transformer); it does not
  deliver S3's Object Created events or run the task. moto's CloudFormation applies the bucket's
  encryption but neither its public access block nor its NotificationConfiguration (EventBridge
  on): those are checked on the template (tests/unit/test_target_ecs_filedrop.py).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from a2c.analyzers.common.workload import workload_facts
from a2c.env import Environment
from a2c.hosts.local import LocalHost
from a2c.steps import analyze, inventory
from a2c.workspace import Workspace
from tests.conftest import missing
from tests.integration.aws_services import moto, moto_server  # noqa: F401
from tests.integration.test_aws_push import cfn_lint_command

pytestmark = [pytest.mark.aws]

ACCOUNT = "123456789012"

WORKER = r"""
import java.io.FileInputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Polls one SQS queue (the query API over plain HTTP) and deletes each message it handles. */
public class Worker {
    static final Pattern MESSAGE = Pattern.compile(
        "<ReceiptHandle>(.*?)</ReceiptHandle>.*?<Body>(.*?)</Body>", Pattern.DOTALL);

    public static void main(String[] args) throws Exception {
        Properties config = new Properties();
        try (FileInputStream in = new FileInputStream("application.properties")) { config.load(in); }
        String queue = config.getProperty("app.queue.url");
        HttpClient http = HttpClient.newHttpClient();
        System.out.println("worker polling " + queue);
        while (true) {
            String answer = call(http, queue, "Action=ReceiveMessage&MaxNumberOfMessages=10&WaitTimeSeconds=1");
            Matcher m = MESSAGE.matcher(answer);
            while (m.find()) {
                System.out.println("processed " + m.group(2));
                call(http, queue, "Action=DeleteMessage&ReceiptHandle=" + URLEncoder.encode(m.group(1), StandardCharsets.UTF_8));
            }
            Thread.sleep(200);
        }
    }

    static String call(HttpClient http, String queue, String form) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(queue))
            .header("Content-Type", "application/x-www-form-urlencoded")
            // the credential scope names the service (moto routes by it; it checks no signature)
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sqs/aws4_request, "
                + "SignedHeaders=host, Signature=0")
            .POST(HttpRequest.BodyPublishers.ofString(form + "&Version=2012-11-05")).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }
}
"""

POLLER = r"""
import java.io.File;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;

/** Takes each file dropped into -Dinbox.dir, reads it and moves it to done/. */
public class Poller {
    public static void main(String[] args) throws Exception {
        File inbox = new File(System.getProperty("inbox.dir"));
        File done = new File(inbox, "done");
        done.mkdirs();
        while (true) {
            File[] files = inbox.listFiles(File::isFile);
            for (File file : files == null ? new File[0] : files) {
                String text = new String(Files.readAllBytes(file.toPath()));
                Files.move(file.toPath(), new File(done, file.getName()).toPath(), StandardCopyOption.REPLACE_EXISTING);
                System.out.println("handled " + file.getName() + ": " + text.length() + " bytes");
            }
            Thread.sleep(200);
        }
    }
}
"""


def _compile(folder: Path, name: str, source: str) -> None:
    if not (Path(os.environ.get("JAVA_HOME", "/nonexistent")) / "bin" / "javac").exists() and not _which("javac"):
        missing("javac", "the JDK (scripts/setup.sh installs openjdk-17-jdk-headless)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.java").write_text(source)
    subprocess.run([_which("javac") or "javac", "-d", str(folder), str(folder / f"{name}.java")], check=True,
                   timeout=120)
    (folder / f"{name}.java").unlink()


def _which(tool: str) -> str | None:
    import shutil

    return shutil.which(tool)


def _start(argv: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def _analyze(tmp_path: Path, pid: int) -> tuple[Environment, str, dict]:
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    listed = inventory.run(env, inventory.InventoryRequest(runtime="java"))
    (app_id,) = [k for k, e in listed.entries.items() if e.process_id == pid]
    result = analyze.run(env, analyze.AnalyzeRequest(app_id))
    return env, app_id, result.document


def _create_stack(server, name: str, template: str) -> dict:
    cloudformation = server.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    stack = _wait_for(lambda: next((s for s in cloudformation.describe_stacks(StackName=name)["Stacks"]
                                    if not s["StackStatus"].endswith("IN_PROGRESS")), None), 120, "the stack settles")
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return {r["LogicalResourceId"]: r for r in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
            if "LogicalResourceId" in r}  # moto lists the resources it skipped without one


def _lint(tmp_path: Path, template: str) -> None:
    path = tmp_path / "ecs-master.yml"
    path.write_text(template)
    run = subprocess.run(cfn_lint_command() + [str(path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture
def worker(tmp_path, moto):
    """The Java worker running against moto's SQS queue ``orders`` (its URL in application.properties)."""
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    app = tmp_path / "orders-worker"
    _compile(app, "Worker", WORKER)
    (app / "application.properties").write_text(f"app.queue.url={url}\n")
    proc = _start(["java", "-cp", ".", "Worker"], app, tmp_path / "worker.log")
    try:
        _wait_for(lambda: b"worker polling" in (tmp_path / "worker.log").read_bytes(), 60, "the worker starts")
        yield proc, app, url
    finally:
        _stop(proc)


def test_a_java_worker_on_sqs_is_found_with_its_queue_and_its_stack_deploys(worker, moto, tmp_path):
    from a2c.targets.deployment import build_deployment
    from a2c.targets.ecs_worker import render_worker

    proc, app, url = worker
    sqs = moto.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="order-1")
    _wait_for(lambda: b"processed order-1" in (tmp_path / "worker.log").read_bytes(), 30, "the worker takes order-1")
    env, app_id, document = _analyze(tmp_path, proc.pid)
    info = document["analysisInfo"]
    assert not [p for p in info.get("ports") or () if not p.get("incidental")]  # it listens on nothing
    facts = info.get("workload") or workload_facts(LocalHost(), LocalHost().process(proc.pid), info)
    assert facts["kind"] == "worker"
    assert facts["queues"] == [{"type": "sqs", "name": "orders", "url": url, "endpoint": "",
                                "foundIn": str(app / "application.properties")}]

    info["workload"] = facts
    deployment = build_deployment(document)
    assert deployment["workload"]["queue"]["name"] == "orders"
    files = render_worker(deployment, "")
    _lint(tmp_path, files["ecs-master.yml"])
    # The stack is the queue's home on AWS: the stand-in's queue of that name goes first.
    _stop(proc)
    sqs.delete_queue(QueueUrl=url)
    resources = _create_stack(moto, "orders-worker", files["ecs-master.yml"])

    # The queue is not an AWS one (moto's URL), so the stack made its own "orders" in moto's SQS.
    assert resources["Queue"]["PhysicalResourceId"].endswith("/orders")
    ecs = moto.client("ecs")
    cluster = resources["Cluster"]["PhysicalResourceId"]
    (service,) = ecs.describe_services(cluster=cluster, services=[resources["Service"]["PhysicalResourceId"]])["services"]
    assert service["desiredCount"] == 0 and not service.get("loadBalancers")
    iam = moto.client("iam")
    role = resources["TaskRole"]["PhysicalResourceId"]
    policy = iam.get_role_policy(RoleName=role, PolicyName="consume-the-queue")["PolicyDocument"]
    if isinstance(policy, str):  # moto's CloudFormation keeps an inline policy as the repr of a dict
        policy = ast.literal_eval(urllib.parse.unquote(policy))
    (statement,) = policy["Statement"]
    assert sorted(statement["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=resources["Queue"]["PhysicalResourceId"],
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert statement["Resource"] == queue_arn

    # moto's CloudFormation skips Application Auto Scaling: register the template's own target and
    # policy through the API, as CloudFormation would.
    from tests.integration.test_aws_push import load_template

    template = load_template(tmp_path / "ecs-master.yml")["Resources"]
    scaling = moto.client("application-autoscaling")
    resource_id = f"service/{cluster}/{service['serviceName']}"
    bounds = template["ScalableTarget"]["Properties"]
    scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id,
                                     ScalableDimension="ecs:service:DesiredCount",
                                     MinCapacity=bounds["MinCapacity"], MaxCapacity=bounds["MaxCapacity"])
    config = json.loads(json.dumps(template["BacklogPerTaskPolicy"]["Properties"][
        "TargetTrackingScalingPolicyConfiguration"]))
    for metric in config["CustomizedMetricSpecification"]["Metrics"]:
        for dimension in metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", []):
            dimension["Value"] = {"QueueName": "orders", "ClusterName": cluster,
                                  "ServiceName": service["serviceName"]}[dimension["Name"]]
    scaling.put_scaling_policy(PolicyName="backlog-per-task", ServiceNamespace="ecs", ResourceId=resource_id,
                               ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=config)
    (stored,) = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
    metrics = stored["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]["Metrics"]
    assert [m["Id"] for m in metrics] == ["visible", "running", "backlog"]


def test_the_worker_image_takes_a_message_from_moto_sqs_when_run_once(worker, moto, tmp_path, docker_client,
                                                                       jre_image):
    """Validation of a worker, here (a2c/images/validate.py probes ports only): the image a2c
    builds runs once on the host's network (so that the queue URL of its configuration reaches
    moto), takes a message put on the queue, says so, and is still running when stopped."""
    from a2c.steps import containerize

    proc, app, url = worker
    env, app_id, _ = _analyze(tmp_path, proc.pid)
    _stop(proc)  # the original stops taking messages: only the container may
    built = containerize.run(env, containerize.ContainerizeRequest(app_id=app_id, base_image=jre_image,
                                                                   validate=False))
    sqs = moto.client("sqs")
    container = docker_client.containers.run(built.image, detach=True, network_mode="host")
    try:
        _wait_for(lambda: b"worker polling" in container.logs(), 60, "the container's worker starts")
        sqs.send_message(QueueUrl=url, MessageBody="order-from-validation")
        _wait_for(lambda: b"processed order-from-validation" in container.logs(), 30, "the container takes the message")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"
        container.reload()
        assert container.status == "running", container.logs()[-2000:]
        container.stop(timeout=10)
        status = container.wait(timeout=30)["StatusCode"]
        assert status in (0, 143), container.logs()[-2000:]  # exit 0, or the JVM's answer to SIGTERM
    finally:
        container.remove(force=True)


def test_an_inbox_poller_is_a_file_drop_processor_and_its_stack_deploys(moto, tmp_path):
    from a2c.targets.deployment import build_deployment
    from a2c.targets.ecs_filedrop import render_filedrop

    app = tmp_path / "invoice-poller"
    box = tmp_path / "inbox"
    box.mkdir()
    _compile(app, "Poller", POLLER)
    proc = _start(["java", f"-Dinbox.dir={box}", "-cp", ".", "Poller"], app, tmp_path / "poller.log")
    stop = threading.Event()

    def drop_files() -> None:  # what the partner's SFTP upload does, all through the analysis
        count = 0
        while not stop.is_set():
            count += 1
            (box / f"invoice-{count}.csv").write_text("id,amount\n1,10\n")
            stop.wait(0.3)

    dropper = threading.Thread(target=drop_files, daemon=True)
    try:
        _wait_for(lambda: (box / "done").is_dir(), 60, "the poller starts")
        dropper.start()
        _wait_for(lambda: any((box / "done").iterdir()), 30, "the poller moves a file")
        env, app_id, document = _analyze(tmp_path, proc.pid)
        info = document["analysisInfo"]
        facts = info.get("workload") or workload_facts(LocalHost(), LocalHost().process(proc.pid), info)
    finally:
        stop.set()
        _stop(proc)
    assert facts["kind"] == "fileDrop" and facts["inbox"]["path"] == str(box)
    assert facts["inbox"]["evidence"][0] == "named on the command line (inbox.dir)"
    assert any(e.startswith(("files moved away", "files arrived")) for e in facts["inbox"]["evidence"])

    info["workload"] = facts
    deployment = build_deployment(document)
    assert deployment["workload"]["inbox"]["path"] == str(box)
    files = render_filedrop(deployment, "")
    _lint(tmp_path, files["ecs-master.yml"])
    resources = _create_stack(moto, "invoice-poller", files["ecs-master.yml"])

    s3 = moto.client("s3")
    bucket = resources["InboxBucket"]["PhysicalResourceId"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    events = moto.client("events")
    rule = resources["ObjectCreatedRule"]["PhysicalResourceId"]
    pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
    assert pattern["detail-type"] == ["Object Created"] and pattern["detail"]["bucket"]["name"] == [bucket]
    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target["Arn"].endswith(resources["Cluster"]["PhysicalResourceId"]) or ":cluster/" in target["Arn"]
    assert target["EcsParameters"]["LaunchType"] == "FARGATE"
    assert target["InputTransformer"]["InputPathsMap"] == {"bucket": "$.detail.bucket.name",
                                                           "key": "$.detail.object.key"}
