"""ECS for a file-drop processor (deployment.json ``workload.kind: fileDrop``): an S3 bucket
replaces the inbox folder (encrypted, public access blocked, TLS only, EventBridge
notifications on), and an EventBridge rule on its ``Object Created`` events runs one Fargate
task per object, with the bucket and key passed as container environment overrides
(``A2C_INBOX_BUCKET``, ``A2C_INBOX_KEY``). The task role can read that bucket only.

The README says what the application changes to read from S3, or how to keep the inbox
folder on EFS instead.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from a2c.generate import safe
from a2c.generate.render import render
from a2c.targets.ecs import S3_BUCKET, S3_PREFIX, skips_block
from a2c.targets.ecs_worker import check_alerts, check_common, network_line, skipped_checks
from a2c.targets.shared import FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, money

BUCKET_ENV, KEY_ENV = "A2C_INBOX_BUCKET", "A2C_INBOX_KEY"
INBOX_PATH = r"/[A-Za-z0-9._\-/]{0,250}"
KEEP_VERSIONS_DAYS = 30
RETRIES = 2


def check_inbox(workload: Mapping[str, Any], app_id: str, source: str) -> dict[str, Any]:
    """workload.inbox as the template writes it: the folder it replaces, the bucket's name ("" lets
    CloudFormation name it), an optional key prefix, and the rule's input to the task."""
    spec = workload.get("inbox") or {}
    path = safe.matches(spec.get("path", ""), INBOX_PATH, "absolute path (letters, digits, . _ - /)",
                        "$.workload.inbox.path", source)
    bucket = spec.get("bucket", "")
    if bucket:
        safe.matches(bucket, S3_BUCKET, "S3 bucket name (3-63 lower-case letters, digits, . and -)",
                     "$.workload.inbox.bucket", source)
    prefix = spec.get("prefix", "")
    if prefix:
        safe.matches(prefix, S3_PREFIX, "S3 key prefix", "$.workload.inbox.prefix", source)
    template = json.dumps({"containerOverrides": [{"name": app_id, "environment": [
        {"name": BUCKET_ENV, "value": "@bucket@"}, {"name": KEY_ENV, "value": "@key@"}]}]})
    # EventBridge puts a string variable into a JSON template with its quotes: <bucket>, not "<bucket>".
    template = template.replace('"@bucket@"', "<bucket>").replace('"@key@"', "<key>")
    return {"path": path, "bucket": bucket, "prefix": prefix, "input_template": template,
            "keep_days": KEEP_VERSIONS_DAYS, "retries": RETRIES}


def filedrop_skips(common: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    skipped = skipped_checks(common)
    skipped["CKV_AWS_18"] = ("InboxBucket", "Server access logs need a second bucket to receive them; the inbox's "
                             "object events already go through EventBridge, and CloudTrail data events can log reads. "
                             "Add a logging bucket if your policy requires access logs.")
    return skipped


def render_filedrop(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsDeployment/ of a file-drop processor."""
    from a2c.targets.secretslist import secrets_readme

    common = check_common(deployment, image_uri, source)
    common["alerts"] = check_alerts(common["ecs"].get("alerts") or {}, source, service=False)
    inbox = check_inbox(deployment.get("workload") or {}, common["app_id"], source)
    skipped = filedrop_skips(common)
    template = render("ecs/ecs-filedrop.yml.j2", **common, inbox=inbox, queue=None, desired=0, broker_ports=[],
                      skips=skips_block(skipped))
    return {**secrets_readme(deployment), "ecs-master.yml": template,
            "README.md": filedrop_readme(common, inbox, skipped)}


def filedrop_readme(common: Mapping[str, Any], inbox: Mapping[str, Any], skipped: Mapping[str, tuple[str, str]]) -> str:
    from a2c.targets.shared import readme

    ecs, app_id = common["ecs"], common["app_id"]
    path = inbox["path"]
    creates = [network_line(common),
               f"An S3 bucket for the files that went to {path}: encrypted (SSE-KMS with the AWS managed key, bucket "
               "keys on), public access blocked, TLS only, versioned (old versions kept "
               f"{inbox['keep_days']} days), EventBridge notifications on",
               "An EventBridge rule on the bucket's `Object Created` events"
               + (f" under `{inbox['prefix']}`" if inbox["prefix"] else "")
               + f" that runs one Fargate task per object ({ecs['cpu']} CPU units, {ecs['memory']} MiB), with "
               f"`{BUCKET_ENV}` and `{KEY_ENV}` set to the object's bucket and key; up to {inbox['retries']} retries "
               "when a task cannot start, and the role that lets it run the task",
               "An ECS cluster (Container Insights on) and the task definition; no service: a task runs per file",
               "The task execution role (reads exactly the secrets the task names) and the task role (s3:GetObject and "
               "s3:ListBucket on the inbox bucket only)",
               f"A CloudWatch Logs group ({common['logging']['retention']} days)"]
    notes = ["## What the application changes", "",
             f"On the host the application took its files from `{path}`. Here each file is an S3 object, and the "
             f"task that handles it starts with `{BUCKET_ENV}` and `{KEY_ENV}` in its environment. Either:", "",
             f"- read the object `s3://${BUCKET_ENV}/${KEY_ENV}` with the AWS SDK (the task role's credentials "
             "come from the task metadata endpoint: no keys to configure), handle it, and exit 0; the task stops "
             "when the application exits, so a poller's endless loop becomes one pass;",
             f"- or keep the code as it is and fetch first: an entry script that copies the object into `{path}` "
             "(`aws s3 cp` needs the AWS CLI in the image), then runs the application until the folder is empty.",
             "", "Moving a handled file to done/ becomes the task's exit status (lifecycle alerts report a non-zero "
             "one); give the task role s3:PutObject on a prefix of its own if it must write results back.", "",
             "## Keeping the inbox on EFS instead", "",
             f"To change nothing in the application, run it as a long-running ECS service with `{path}` on an EFS "
             "volume: set workload.kind to \"service\" in deployment.json and add "
             f'`{{"path": "{path}", "storage": "efs"}}` to persistentStorage. Whatever drops the files then writes to '
             "EFS (an EC2 instance or AWS DataSync mounting it, or AWS Transfer Family over SFTP to EFS), and the "
             "application polls the folder as it did on the host.", ""]
    per_task_minute = (ecs["cpu"] / 1024 * FARGATE_VCPU_HOUR + ecs["memory"] / 1024 * FARGATE_GB_HOUR) / 60
    nat = 0.045 * 730 * common["nat_gateways"] if common["private_tasks"] and not common["reuse_vpc"] else 0
    cost = [f"About {money(per_task_minute * 1000)} per thousand files handled in a minute each (Fargate bills per "
            "second, one minute at least), plus S3 storage and requests"
            + (f", and {money(nat)} a month for the NAT gateway(s)" if nat else "")
            + f" (us-east-1 on-demand: {FARGATE_VCPU_HOUR} USD per vCPU-hour, {FARGATE_GB_HOUR} USD per GB-hour)."]
    return readme(f"{app_id}: a file-drop processor on Amazon ECS (Fargate and S3)", creates, cost, "ecs-master.yml",
                  common["stack_name"], skipped, notes=notes)
