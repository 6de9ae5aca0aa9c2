"""A scheduled job on EKS (a2c.targets.eks_workloads.render_cronjob): the CronJob and its side
manifests pass kubernetes-validate --strict; the schedule is the five standard fields with
Kubernetes' 0-6 days of the week and the host's time zone; retries, restart policy and
concurrency come from workload.schedule; the container is the one the Deployment would run."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from a2c.errors import InvalidFile
from a2c.targets.eks import render_eks
from a2c.targets.eks_workloads import render_cronjob
from tests.unit.test_target_eks import assert_valid, http_java, kubernetes_validate, secrets_and_storage

SCHEDULE = {"cron": "47 6 * * 7", "onCalendar": "", "timezone": "Europe/Paris", "retries": 0,
            "deadLetterQueue": False, "concurrencyPolicy": "Forbid"}


def job(base: dict[str, Any] | None = None, **schedule: Any) -> dict[str, Any]:
    document = copy.deepcopy(base or http_java())
    document["workload"] = {"kind": "scheduled", "schedule": {**SCHEDULE, **schedule}}
    return document


def manifests(files: dict[str, str]) -> dict[str, str]:
    return {name: text for name, text in files.items() if name.endswith(".yml")}


def cronjob(files: dict[str, str]) -> dict[str, Any]:
    return yaml.safe_load(files["cronjob.yml"])


@pytest.mark.parametrize("make", [lambda: job(), lambda: job(secrets_and_storage(), retries=2,
                                                             concurrencyPolicy="Replace"),
                                  lambda: job(cron="", onCalendar="Mon..Fri *-*-* 02:30:00")])
def test_every_manifest_passes_kubernetes_validate_strict(tmp_path, make):
    files = render_cronjob(make(), "")
    assert "deployment.yml" not in files and "service.yml" not in files and "ingress.yml" not in files
    assert_valid(tmp_path, manifests(files))


def test_kubernetes_validate_catches_a_broken_cronjob(tmp_path):
    """The check can fail: a backoffLimit written as a string is refused by --strict validation."""
    files = manifests(render_cronjob(job(), ""))
    files["cronjob.yml"] = files["cronjob.yml"].replace("backoffLimit: 0", 'backoffLimit: "0"')
    assert kubernetes_validate(tmp_path, files).returncode != 0


def test_the_schedule_time_zone_and_policies():
    spec = cronjob(render_cronjob(job(), ""))["spec"]
    assert spec["schedule"] == "47 6 * * 0"  # crontab's 7 (Sunday) is 0 for Kubernetes
    assert spec["timeZone"] == "Europe/Paris" and spec["concurrencyPolicy"] == "Forbid"
    job_spec = spec["jobTemplate"]["spec"]
    assert job_spec["backoffLimit"] == 0 and job_spec["template"]["spec"]["restartPolicy"] == "Never"
    retried = cronjob(render_cronjob(job(retries=3, concurrencyPolicy="Allow"), ""))["spec"]
    assert retried["concurrencyPolicy"] == "Allow"
    assert retried["jobTemplate"]["spec"]["backoffLimit"] == 3
    assert retried["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    either = cronjob(render_cronjob(job(cron="0 4 1,15 * 5"), ""))["spec"]
    assert either["schedule"] == "0 4 1,15 * 5"  # one expression: Kubernetes has crontab's either-day rule
    timer = cronjob(render_cronjob(job(cron="", onCalendar="Sat,Sun 20:00 UTC"), ""))["spec"]
    assert (timer["schedule"], timer["timeZone"]) == ("0 20 * * 0,6", "UTC")


def test_the_container_is_the_deployments_without_ports_or_probes():
    deployment = job(secrets_and_storage())
    as_service = {k: v for k, v in deployment.items() if k != "workload"}  # what the same app gets as a service
    service = yaml.safe_load(render_eks(as_service, "")["deployment.yml"])["spec"]["template"]["spec"]
    assert "cronjob.yml" in render_eks(deployment, "")  # the target hands a job to render_cronjob
    files = render_cronjob(deployment, "")
    pod = cronjob(files)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (expected,) = service["containers"]
    for key in ("name", "image", "env", "envFrom", "resources", "securityContext", "volumeMounts"):
        assert container[key] == expected[key], key
    assert not {"ports", "startupProbe", "readinessProbe", "livenessProbe"} & set(container)
    assert pod["securityContext"] == service["securityContext"] and pod["volumes"] == service["volumes"]
    assert pod["serviceAccountName"] == service["serviceAccountName"]
    assert {"secretproviderclass.yml", "storage.yml", "serviceaccount.yml", "SECRETS.md"} <= set(files)
    assert "kubectl apply" in files["README.md"] and "kubectl create job --from=cronjob/" in files["README.md"]


@pytest.mark.parametrize("schedule, words", [
    ({"cron": "@reboot"}, "$.workload.schedule.cron"),
    ({"cron": "", "onCalendar": "Mon *-*-01"}, "$.workload.schedule.onCalendar"),
    ({"retries": -1}, "retries"),
    ({"concurrencyPolicy": "Sometimes"}, "concurrencyPolicy"),
])
def test_what_a_cronjob_cannot_say_is_refused(schedule, words):
    with pytest.raises(InvalidFile) as refusal:
        render_cronjob(job(**schedule), "")
    assert words in refusal.value.message + refusal.value.hint
