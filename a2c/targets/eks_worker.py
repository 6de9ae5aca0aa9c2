"""EKS for a queue worker (deployment.json ``workload.kind: worker``): a Deployment with no
Service or probes on a port (a worker listens on none), its ServiceAccount (IAM roles for
service accounts), and, when the queue is SQS, a KEDA ScaledObject on the ``aws-sqs-queue``
trigger with a TriggerAuthentication whose pod identity is the workload's own (provider
``aws``, identityOwner ``workload``): KEDA reads the queue's attributes with the role the pods
use. KEDA scales the Deployment between minTasks and maxTasks, ``queueLength`` messages per pod.

Other brokers get the Deployment at eksParameters.replicas and the README's list of what to
provision (Amazon MQ, Amazon MSK) and which setting to change.
"""

from __future__ import annotations

from typing import Any, Mapping

from a2c.generate import safe
from a2c.generate.render import trusted
from a2c.ids import check_application_id
from a2c.targets.ecs_worker import AWS_SQS_URL, QUEUE_NAME, broker_lines, other_brokers
from a2c.targets.eks import (ROLE_ARN, SECRETS_MOUNT, _yaml, check_shared, kube_name, render_manifest, secret_object,
                             yaml_document)

REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]"
POLLING_SECONDS = 30
COOLDOWN_SECONDS = 300


def check_keda_queue(workload: Mapping[str, Any], eks: Mapping[str, Any], source: str) -> dict[str, Any] | None:
    """workload.queue as KEDA's aws-sqs-queue trigger reads it (every metadata value a string)."""
    spec = workload.get("queue")
    if not spec:
        return None
    field = "$.workload.queue"
    url = str(spec.get("url") or "")
    aws = AWS_SQS_URL.fullmatch(url)
    name = safe.matches(spec.get("name") or (aws.group("name") if aws else ""), QUEUE_NAME, "SQS queue name",
                        f"{field}.name", source)
    region = (aws.group("region") or aws.group("legacy")) if aws else str(eks.get("region") or "us-east-1")
    safe.matches(region, REGION, "AWS region", "$.eksParameters.region", source)
    low, high = spec.get("minTasks", 0), spec.get("maxTasks", 10)
    if isinstance(low, bool) or isinstance(high, bool) or not (isinstance(low, int) and isinstance(high, int)) \
            or not 0 <= low <= high or high < 1:
        raise safe.refusal(source, field, {"minTasks": low, "maxTasks": high}, "is not a range of pod counts "
                           "(0 <= minTasks <= maxTasks, maxTasks at least 1)")
    target = spec.get("targetBacklogPerTask", 10)
    if isinstance(target, bool) or not isinstance(target, int) or target < 1:
        raise safe.refusal(source, f"{field}.targetBacklogPerTask", target, "is not a whole number of messages per "
                           "pod (KEDA's queueLength), at least 1")
    if not aws:
        url = f"https://sqs.{region}.amazonaws.com/<account>/{name}" if not url else url
    return {"name": name, "url": url.rstrip("/"), "aws": bool(aws), "region": region, "min": low, "max": high,
            "target": target}


def keda_objects(app: str, app_id: str, queue: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The TriggerAuthentication and the ScaledObject of one Deployment."""
    labels = {"app.kubernetes.io/name": app}
    return [
        {"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
         "metadata": {"name": f"{app}-sqs", "labels": labels},
         "spec": {"podIdentity": {"provider": "aws", "identityOwner": "workload"}}},
        {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
         "metadata": {"name": app, "labels": labels, "annotations": {"a2c/application-id": app_id}},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                  "minReplicaCount": queue["min"], "maxReplicaCount": queue["max"],
                  "pollingInterval": POLLING_SECONDS, "cooldownPeriod": COOLDOWN_SECONDS,
                  "triggers": [{"type": "aws-sqs-queue", "authenticationRef": {"name": f"{app}-sqs"},
                                "metadata": {"queueURL": queue["url"], "queueLength": str(queue["target"]),
                                             "awsRegion": queue["region"]}}]}},
    ]


def worker_deployment(app: str, app_id: str, image: str, replicas: int, env: list[dict[str, str]],
                      size: Mapping[str, str], secrets: bool) -> dict[str, Any]:
    """The pods: the image's command, no ports, no probes; non-root, read-only privileges."""
    container: dict[str, Any] = {
        "name": app, "image": image, "env": env,
        "resources": {"requests": dict(size), "limits": dict(size)},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    spec: dict[str, Any] = {
        "serviceAccountName": app, "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 60,  # a message in hand is finished, or returns to the queue
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 0,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if secrets:
        container["envFrom"] = [{"secretRef": {"name": f"{app}-secrets"}}]
        container["volumeMounts"] = [{"name": "secrets-store", "mountPath": SECRETS_MOUNT, "readOnly": True}]
        spec["volumes"] = [{"name": "secrets-store", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                                             "volumeAttributes": {"secretProviderClass": app}}}]
    labels = {"app.kubernetes.io/name": app}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "labels": labels, "annotations": {"a2c/application-id": app_id}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def render_keda_worker(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EksDeployment/ of a queue worker."""
    from a2c.targets.secretslist import secrets_readme
    from a2c.targets.shared import ecr_path

    check_shared(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    app_id = check_application_id(deployment["applicationId"], f"{source}: $.applicationId")
    app = kube_name(app_id)
    eks = deployment.get("eksParameters") or {}
    workload = deployment.get("workload") or {}
    queue = check_keda_queue(workload, eks, source)
    brokers = other_brokers(workload, source)
    role_arn = eks.get("roleArn") or ""
    if role_arn:
        safe.matches(role_arn, ROLE_ARN, "IAM role ARN", "$.eksParameters.roleArn", source)
    replicas = eks.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 0 <= replicas <= 1000:
        raise safe.refusal(source, "$.eksParameters.replicas", replicas, "is not a whole number from 0 to 1000")
    memory, cpu = eks.get("memory", 2048), eks.get("cpu", 1)
    if isinstance(memory, bool) or not isinstance(memory, int) or not 128 <= memory <= 1048576:
        raise safe.refusal(source, "$.eksParameters.memory", memory, "is not a memory size in MiB (128-1048576)")
    if isinstance(cpu, bool) or not isinstance(cpu, (int, float)) or not 0.1 <= cpu <= 192:
        raise safe.refusal(source, "$.eksParameters.cpu", cpu, "is not a number of vCPUs (0.1-192)")
    env = [{"name": e["name"], "value": str(e["value"])} for e in deployment.get("environment", [])]
    if eks.get("javaHeapFromMemory", False) and not any(e["name"] == "JAVA_TOOL_OPTIONS" for e in env):
        env.append({"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75.0"})
    secrets = [secret_object(s["name"], s["valueFrom"], f"$.secrets[{i}].valueFrom", source)
               for i, s in enumerate(deployment.get("secrets", []))]
    image = image_uri or f"<account>.dkr.ecr.<region>.amazonaws.com/{ecr_path(deployment)}"
    size = {"cpu": f"{round(cpu * 1000)}m", "memory": f"{memory}Mi"}
    files = {
        "deployment.yml": yaml_document(worker_deployment(app, app_id, image, queue["min"] if queue else replicas,
                                                          env, size, bool(secrets))),
        "serviceaccount.yml": yaml_document({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": app, "labels": {"app.kubernetes.io/name": app},
                         **({"annotations": {"eks.amazonaws.com/role-arn": role_arn}} if role_arn else {})}}),
    }
    if queue:
        files["keda.yml"] = "---\n".join(yaml_document(o) for o in keda_objects(app, app_id, queue))
    if secrets:
        files["secretproviderclass.yml"] = render_manifest(
            "secretproviderclass", {}, False, app=app, objects=trusted(_yaml(secrets, 6).lstrip("\n")),
            synced=[s["jmesPath"][0]["objectAlias"] if "jmesPath" in s else s["objectAlias"] for s in secrets])
    files["README.md"] = keda_readme(app, app_id, queue, brokers, bool(role_arn), sorted(files))
    files.update(secrets_readme(deployment))
    return dict(sorted(files.items()))


def keda_readme(app: str, app_id: str, queue: Mapping[str, Any] | None, brokers: list[dict[str, str]], role: bool,
                manifests: list[str]) -> str:
    lines = [f"# {app_id}: a queue worker on Amazon EKS", "",
             "A Deployment with no Service: a worker listens on no port, so nothing routes to it.", ""]
    if queue:
        lines += [f"[KEDA](https://keda.sh) scales it between {queue['min']} and {queue['max']} pods, "
                  f"{queue['target']} messages of `{queue['name']}` per pod (`keda.yml`: a ScaledObject on the "
                  "`aws-sqs-queue` trigger, and a TriggerAuthentication with pod identity provider `aws`, "
                  "identityOwner `workload`: KEDA asks SQS with the pods' own role).", "",
                  "## Before applying", "",
                  "- KEDA 2.13 or later installed in the cluster (`helm install keda kedacore/keda -n keda "
                  "--create-namespace`).",
                  "- An IAM role for the service account (`eksParameters.roleArn`" + (", set" if role else
                                                                                    ", empty now: set it") + ") "
                  f"allowing sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on `{queue['name']}` "
                  "only, trusted by the cluster's OIDC provider for this service account.", ""]
        if not queue["aws"]:
            lines += [f"The analysis found the queue at a URL that is not an AWS one; `keda.yml` names "
                      f"`{queue['url']}`: create the queue and put its URL there and in the application's setting.",
                      ""]
    if brokers:
        lines += ["## Brokers to provision", "", *broker_lines(brokers), ""]
    lines += ["## Apply", "", "```sh", "kubectl apply -f .", "```", "", "Manifests: "
              + ", ".join(f"`{m}`" for m in manifests) + ".", ""]
    return "\n".join(lines)
