"""AWS App Runner: an ECR access role and one ``AWS::AppRunner::Service``, from deployment.json's
appRunnerParameters (written into AppRunnerDeployment/), as App2Container's apprunner.yml.

Kept for accounts that already use App Runner: it is closed to new customers, and ECS Express
Mode is its successor (see NOTICE). The checks it shares with the other targets are in a2c/targets/shared.py.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Mapping

from a2c import __version__
from a2c.generate import safe
from a2c.generate.render import render
from a2c.model import AnalysisHead
from a2c.targets.base import Target
from a2c.targets.shared import (HOURS, STACK_NAME, check_linux, check_shared, check_size, deploy_command,
                                health_path_default, http_port, money, readme, size_for, stack_name_for, tags_block)

NOTICE = ("App Runner is closed to new AWS customers since 30 April 2026; ECS Express Mode "
          "(createEcsExpressArtifacts) is its successor.")

# App Runner's instance sizes: memory (MiB) per cpu setting (units).
APPRUNNER_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024),
    512: (1024,),
    1024: (2048, 3072, 4096),
    2048: (4096, 6144),
    4096: (8192, 10240, 12288),
}
SERVICE_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{3,39}"
# App Runner pulls from private ECR (through the access role) or from ECR Public, nothing else.
PRIVATE_ECR = re.compile(r"[0-9]{12}\.dkr\.ecr\.[a-z]+-[a-z]+-[0-9]\.amazonaws\.com/.+")
PUBLIC_ECR = re.compile(r"public\.ecr\.aws/.+/.+")

# us-east-1 on-demand prices (USD): active instances pay vCPU and memory, idle provisioned ones memory only.
VCPU_HOUR = 0.064
GB_HOUR = 0.007
AUTO_DEPLOYMENTS_MONTH = 1.0

SKIPPED_CHECKS: dict[str, tuple[str, str]] = {}  # checkov passes every check it runs here


def default_stack_name(app_id: str) -> str:
    return stack_name_for(app_id, "AppRunner")


def default_service_name(app_id: str) -> str:
    """App Runner names are 4-40 letters, digits, '-' and '_': an id's dots become '-', cut to 40."""
    name = app_id.replace(".", "-")[:40]
    return name if len(name) >= 4 else f"a2c-{name}"


def render_apprunner(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for AppRunnerDeployment/."""
    section, service = AppRunnerTarget.section, "App Runner"
    field = f"$.{section}"
    check_linux(deployment, service, f"{field}.{AppRunnerTarget.flag}", source)
    shared = check_shared(deployment, section, source)
    app_id = shared["app_id"]
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
        if not (PRIVATE_ECR.fullmatch(image_uri) or PUBLIC_ECR.fullmatch(image_uri)):
            raise safe.refusal(source, "the image URI (--image-uri)", image_uri, "is not in Amazon ECR or ECR Public, "
                               "the only registries App Runner pulls from",
                               "Push the image to this account's ECR (a2c generate app-deployment --push) and run "
                               "the command again.")
    public = bool(image_uri) and PUBLIC_ECR.fullmatch(image_uri) is not None
    port = http_port(deployment, service, source)
    params = {**AppRunnerTarget().defaults_for(app_id), **(deployment.get(section) or {})}
    cpu, memory = check_size(params["cpu"], params["memory"], APPRUNNER_MEMORY, service, field, source)
    stack_name = safe.matches(params["stackName"], STACK_NAME, "CloudFormation stack name (a letter, then letters, "
                              "digits and '-', at most 128)", f"{field}.stackName", source)
    service_name = safe.matches(params["serviceName"], SERVICE_NAME, "App Runner service name (4-40 letters, digits, "
                                "'-' and '_', starting with a letter or digit)", f"{field}.serviceName", source)
    auto = params["autoDeploymentsEnabled"]
    if not isinstance(auto, bool):
        raise safe.refusal(source, f"{field}.autoDeploymentsEnabled", auto, "is not true or false")
    auto = auto and not public  # App Runner watches private ECR repositories only
    health_path = safe.http_path(params["healthCheckPath"], f"{field}.healthCheckPath", source)

    template = render(
        "apprunner/apprunner.yml.j2",
        version=__version__, app_id=app_id, image_uri=image_uri, ecr_path=shared["ecr_path"], public=public,
        port=port, service_name=service_name, cpu=cpu, memory=memory, auto=auto, health_path=health_path,
        environment=shared["environment"], secrets=shared["secrets"], tags=tags_block(shared["tags"]),
    )
    vcpu, gb = cpu / 1024, memory / 1024
    idle, active = gb * GB_HOUR * HOURS, (vcpu * VCPU_HOUR + gb * GB_HOUR) * HOURS
    extra = AUTO_DEPLOYMENTS_MONTH if auto else 0.0
    cost = [
        f"Between {money(idle + extra)} (one instance provisioned, idle all month) and {money(active + extra)} (one "
        "instance serving requests all month); App Runner's default scaling adds instances under load, each billed "
        "the same way.",
        "",
        f"Assumed: us-east-1 on-demand prices, 730 hours a month, {vcpu:g} vCPU and {gb:g} GB per instance, "
        f"{VCPU_HOUR} USD per vCPU-hour while active and {GB_HOUR} USD per GB-hour while provisioned"
        + (f", {money(AUTO_DEPLOYMENTS_MONTH)} a month for automatic deployments" if auto else "")
        + ". Not counted: data transfer, builds (none: the source is an image).",
    ]
    creates = [
        f"`Service` (AWS::AppRunner::Service) `{service_name}`: {vcpu:g} vCPU and {gb:g} GB per instance, port "
        f"{port}, HTTP health check `{health_path}`, automatic deployments "
        + ("on (a push of the image tag to ECR deploys it)." if auto else "off."),
    ]
    if not public:
        creates.append("`AccessRole`: lets App Runner pull the image from ECR (AWSAppRunnerServicePolicyForECRAccess).")
    if shared["secrets"]:
        creates.append(f"`InstanceRole`: reads exactly the {len(shared['secrets'])} secret(s) of deployment.json at "
                       "start-up, nothing else.")
    text = readme(f"{app_id} on AWS App Runner", creates, cost, AppRunnerTarget.main_file, stack_name, SKIPPED_CHECKS,
                  [f"Generated by a2c {__version__} from {section} of deployment.json.", "", f"> {NOTICE}", ""])
    from a2c.targets.secretslist import secrets_readme

    return {**secrets_readme(deployment), AppRunnerTarget.main_file: template, "README.md": text}


class AppRunnerTarget(Target):
    id: ClassVar[str] = "apprunner"
    section: ClassVar[str] = "appRunnerParameters"
    flag: ClassVar[str] = "createAppRunnerArtifacts"
    output_folder: ClassVar[str] = "AppRunnerDeployment"
    main_file: ClassVar[str] = "apprunner.yml"
    description: ClassVar[str] = "AWS App Runner (CloudFormation AWS::AppRunner::Service)"
    schema_resource: ClassVar[tuple[str, str]] = ("a2c.schemas", "target-apprunner.schema.json")
    default_on: ClassVar[bool] = False

    def notice(self) -> str:
        """One line for the user when the target is chosen: App Runner takes no new customers."""
        return NOTICE

    def defaults_for(self, app_id: str, memory: int = 2048, health_path: str = "/") -> dict[str, Any]:
        """App2Container's fields of the section (stackName, serviceName, autoDeploymentsEnabled,
        resourceTags), with the size and health check path; also what render assumes for a field
        the user removed."""
        cpu, memory = size_for(memory, APPRUNNER_MEMORY)
        return {
            self.flag: self.default_on,
            "stackName": default_stack_name(app_id),
            "serviceName": default_service_name(app_id),
            "autoDeploymentsEnabled": True,
            "cpu": cpu,
            "memory": memory,
            "healthCheckPath": health_path,
            "resourceTags": [{"key": "example-key", "value": "example-value"}],
        }

    def defaults(self, analysis: AnalysisHead) -> dict[str, Any]:
        memory = analysis.recommended_memory_mib or 2048  # 2 GiB when the analyzer said nothing
        return self.defaults_for(analysis.app_id, memory, health_path_default(analysis))

    def stack_name(self, deployment: Mapping[str, Any]) -> str:
        return deployment.get(self.section, {}).get("stackName") or default_stack_name(deployment["applicationId"])

    def render(self, deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, str]:
        return render_apprunner(deployment, image_uri, source)

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        return [NOTICE, deploy_command(f"{folder}/{self.main_file}", self.stack_name(deployment))]
