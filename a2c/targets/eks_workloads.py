"""EKS manifests for applications that are not long-running web services (deployment.json's
``workload.kind``): a scheduled job becomes a CronJob (render_cronjob); a queue worker becomes a
Deployment scaled by KEDA (render_keda_worker, below).

Each function returns ``{relative path: text}`` for EksDeployment/ like eks.render_eks, reusing
its checks and side manifests (service account, SecretProviderClass, EFS claims); the workload's
own manifest is written from data by eks.yaml_document, every scalar JSON-quoted. These folders
hold plain manifests only (no Helm chart): ``kubectl apply -f EksDeployment``.
"""

from __future__ import annotations

from typing import Any, Mapping

from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import trusted
from a2c.ids import check_application_id
from a2c.targets.cron import ScheduleRefused, translate
from a2c.targets.ecs import ecr_path
from a2c.targets.eks import (CONTROL_PLANE_HOUR, FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS_PER_MONTH, SECRETS_MOUNT,
                             _storage, _whole, _yaml, check_shared, kube_name, render_manifest, secret_object,
                             yaml_document)

CONCURRENCY = ("Forbid", "Allow", "Replace")
STARTING_DEADLINE = 300  # seconds: a run the controller missed by more is skipped, not started late


def _pod_pieces(deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, Any]:
    """What the pod of any workload shares with eks.render_eks's Deployment: the image, env,
    secrets (synced to a Secret), resources, EFS volumes, and the side manifests' context."""
    check_shared(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    app_id = check_application_id(deployment["applicationId"], f"{source}: $.applicationId")
    app = kube_name(app_id)
    eks = deployment.get("eksParameters") or {}
    memory = _whole(eks, "memory", 2048, 128, 1048576, source)
    cpu = eks.get("cpu", 1)
    if isinstance(cpu, bool) or not isinstance(cpu, (int, float)) or not 0.1 <= cpu <= 192:
        raise safe.refusal(source, "$.eksParameters.cpu", cpu, "is not a number of vCPUs (0.1-192)")
    role_arn = eks.get("roleArn") or ""
    if role_arn:
        safe.matches(role_arn, r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}", "IAM role ARN",
                     "$.eksParameters.roleArn", source)
    file_system = eks.get("efsFileSystemId") or ""
    if file_system:
        safe.matches(file_system, r"fs-[0-9a-f]{8,17}", "EFS file system id", "$.eksParameters.efsFileSystemId", source)
    volumes = _storage(deployment, source)
    secrets = [secret_object(s["name"], s["valueFrom"], f"$.secrets[{i}].valueFrom", source)
               for i, s in enumerate(deployment.get("secrets", []))]
    environment = [{"name": e["name"], "value": str(e["value"])} for e in deployment.get("environment", [])]
    if eks.get("javaHeapFromMemory", False) and not any(e["name"] == "JAVA_TOOL_OPTIONS" for e in environment):
        environment.append({"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75.0"})
    size = {"cpu": f"{round(cpu * 1000)}m", "memory": f"{memory}Mi"}
    container: dict[str, Any] = {
        "name": app, "image": image_uri or f"<account>.dkr.ecr.<region>.amazonaws.com/{ecr_path(deployment)}",
        "env": environment, "resources": {"requests": dict(size), "limits": dict(size)},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}}}
    if secrets:
        container["envFrom"] = [{"secretRef": {"name": f"{app}-secrets"}}]
    mounts = ([{"name": "secrets-store", "mountPath": SECRETS_MOUNT, "readOnly": True}] if secrets else []) + [
        {"name": v["volume"], "mountPath": v["path"]} for v in volumes]
    pod_volumes = ([{"name": "secrets-store", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                                       "volumeAttributes": {"secretProviderClass": app}}}]
                   if secrets else []) + [
        {"name": v["volume"], "persistentVolumeClaim": {"claimName": app + v["suffix"]}} for v in volumes]
    if mounts:
        container["volumeMounts"] = mounts
    pod: dict[str, Any] = {
        "serviceAccountName": app, "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 0,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container], **({"volumes": pod_volumes} if pod_volumes else {})}
    values: dict[str, Any] = {
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {}},
        **({"storage": {"storageClassName": eks.get("storageClassName") or "a2c-efs",
                        "size": eks.get("storageSize") or "5Gi",
                        **({"fileSystemId": file_system} if file_system else {})}} if volumes else {})}
    if volumes:
        safe.matches(values["storage"]["storageClassName"], r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?",
                     "StorageClass name", "$.eksParameters.storageClassName", source)
        safe.matches(values["storage"]["size"], r"[1-9][0-9]{0,5}(?:Mi|Gi|Ti)", "size (such as 5Gi)",
                     "$.eksParameters.storageSize", source)
    context = {"app": app, "app_id": app_id, "volumes": volumes, "secrets": secrets,
               "synced": [s["jmesPath"][0]["objectAlias"] if "jmesPath" in s else s["objectAlias"] for s in secrets],
               "objects": trusted(_yaml(secrets, 6).lstrip("\n")) if secrets else "",
               "storage_class": bool(volumes and file_system)}
    side = ["serviceaccount"] + (["secretproviderclass"] if secrets else []) + (["storage"] if volumes else [])
    files = {f"{name}.yml": render_manifest(name, values, False, **context) for name in side}
    return {"app": app, "app_id": app_id, "pod": pod, "files": files, "cpu": cpu, "memory": memory,
            "secrets": bool(secrets), "volumes": bool(volumes)}


# -- scheduled jobs: a CronJob ------------------------------------------------------------------
def render_cronjob(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EksDeployment/ when ``workload.kind`` is ``scheduled``: a
    CronJob on the host's schedule (crontab's five fields, 0-6 for the days of the week) in its
    time zone, the service account and the secrets' and storage's manifests, and a README."""
    schedule = (deployment.get("workload") or {}).get("schedule") or {}
    field = "$.workload.schedule." + ("cron" if schedule.get("cron") else "onCalendar")
    try:
        translation = translate(schedule)
    except ScheduleRefused as refused:
        raise InvalidFile(f"{source}: {field}: {refused.message}", refused.hint) from None
    retries = schedule.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 185:
        raise safe.refusal(source, "$.workload.schedule.retries", retries, "is not a number of retries (0-185)")
    policy = schedule.get("concurrencyPolicy", "Forbid")
    if policy not in CONCURRENCY:
        raise safe.refusal(source, "$.workload.schedule.concurrencyPolicy", policy, f"is not one of {', '.join(CONCURRENCY)}")
    pieces = _pod_pieces(deployment, image_uri, source)
    app, app_id = pieces["app"], pieces["app_id"]
    labels = {"app.kubernetes.io/name": app}
    # Never: a failed attempt's pod stays with its logs and the Job starts another (backoffLimit
    # of them); with no retry there is nothing to restart. OnFailure restarts the container in place.
    pod = {**pieces["pod"], "restartPolicy": "OnFailure" if retries else "Never"}
    cronjob = {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": app, "labels": labels,
                     "annotations": {"a2c/application-id": app_id,
                                     "a2c/host-schedule": f"{translation.source}: {translation.expression}"}},
        "spec": {"schedule": translation.kubernetes, "timeZone": translation.timezone, "concurrencyPolicy": policy,
                 "startingDeadlineSeconds": STARTING_DEADLINE, "successfulJobsHistoryLimit": 3,
                 "failedJobsHistoryLimit": 3,
                 "jobTemplate": {"metadata": {"labels": labels},
                                 "spec": {"backoffLimit": retries,
                                          "template": {"metadata": {"labels": labels}, "spec": pod}}}}}
    files = {**pieces["files"], "cronjob.yml": yaml_document(cronjob)}
    from a2c.targets.ekscluster import render_cluster
    from a2c.targets.secretslist import secrets_readme

    files.update(render_cluster(deployment, "default", app, {"a2c-application-id": app_id}, source))
    files.update(secrets_readme(deployment))
    files["README.md"] = _cronjob_readme(app, app_id, translation, retries, policy, pieces, sorted(files))
    return dict(sorted(files.items()))


def _cronjob_readme(app: str, app_id: str, translation: Any, retries: int, policy: str, pieces: Mapping[str, Any],
                    names: list[str]) -> str:
    gb = -(-(pieces["memory"] + 256) // 1024)  # Fargate rounds up to whole GB, plus the kubelet's 256 MiB
    run = (pieces["cpu"] * FARGATE_VCPU_HOUR + gb * FARGATE_GB_HOUR) / 4
    manifests = [n for n in names if n.endswith(".yml")]
    lines = [f"# {app_id}: a scheduled job on Amazon EKS", "",
             "## What is created", "",
             f"- A CronJob `{app}` on `{translation.kubernetes}` in {translation.timezone} (the host's "
             f"{translation.source} `{translation.expression}`), concurrencyPolicy {policy}: "
             + {"Forbid": "a run is skipped while the last one still runs",
                "Allow": "runs may overlap", "Replace": "a new run stops the one still running"}[policy]
             + f"; each run is a Job with backoffLimit {retries} "
             + ("(the container restarts in its pod on failure)" if retries else "(a failed run is not retried; "
                "its pod stays for `kubectl logs`)")
             + f"; a run the controller misses by more than {STARTING_DEADLINE} seconds is skipped",
             f"- The service account `{app}` the pods run as"
             + (", the SecretProviderClass that mounts the secrets and syncs them to a Secret" if pieces["secrets"]
                else "") + (", claims on EFS for the persistent paths" if pieces["volumes"] else ""),
             "- `cluster/cluster.yaml`: an eksctl cluster for it, if you have none (see `cluster/README.md`)", "",
             "## Rough monthly cost", "",
             f"The cluster's control plane, about ${CONTROL_PLANE_HOUR * HOURS_PER_MONTH:.2f} a month; each "
             f"15-minute run on Fargate about ${run:.2f} ({pieces['cpu']:g} vCPU and {gb} GB, us-east-1). Nodes you "
             "run yourself, logs and data transfer are not counted.", "",
             "## Deploy", "", "From this folder:", "", "```sh",
             "kubectl apply " + " ".join(f"-f {n}" for n in manifests), "```", "",
             f"Start one run by hand: `kubectl create job --from=cronjob/{app} {app}-manual`.", ""]
    return "\n".join(lines)


# -- queue workers: a KEDA ScaledObject -----------------------------------------------------------
# render_keda_worker(deployment, image_uri, source) is helper WORKERS's: it goes here, reusing
# _pod_pieces for the pod (a Deployment with no Service) and adding the ScaledObject on the SQS
# queue of workload.queue.
