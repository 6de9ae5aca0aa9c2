"""ECS Express Mode: one ``AWS::ECS::ExpressGatewayService`` with the two roles it requires, from
deployment.json's ecsExpressParameters (written into EcsExpressDeployment/).

Express Mode provisions the load balancer, HTTPS listener, target group, security groups and
auto scaling itself, so the template holds only what a2c must decide: the image, its HTTP port,
the size, the scaling range, the environment, the secrets and the logs. The checks shared with
the App Runner target (HTTP port, Linux only, tags, secrets, the README) live here too.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from a2c import __version__
from a2c.generate import safe
from a2c.generate.render import render
from a2c.model import AnalysisHead
from a2c.targets.base import Target
from a2c.targets.shared import (ALB_HOUR, FARGATE_GB_HOUR, FARGATE_VCPU_HOUR, HOURS, LOG_RETENTION_DAYS,
                                LOGS_GB_INGESTED, STACK_NAME, check_choice, check_count, check_linux, check_shared,
                                check_size, deploy_command, health_path_default, http_port, money, readme, size_for,
                                stack_name_for, tags_block)

# Express Mode's sizes: Fargate's pairs with cpu 256-4096 units and memory 512-8192 MiB (the
# CreateExpressGatewayService limits).
EXPRESS_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 8193, 1024)),
    4096: (8192,),
}
SCALING_METRICS = ("AVERAGE_CPU", "AVERAGE_MEMORY", "REQUEST_COUNT_PER_TARGET")
SERVICE_NAME = r"[A-Za-z0-9_-]{1,255}"
# Checks checkov reports on this template that a2c does not satisfy on purpose: id -> (resource,
# why), for the README; the template's Metadata skips the same, with the same words (a test
# compares them).
SKIPPED_CHECKS: dict[str, tuple[str, str]] = {
    "CKV_AWS_158": ("LogGroup", "The log group is encrypted at rest by CloudWatch Logs with an AWS-owned key; a "
                    "customer-managed KMS key adds a key policy to maintain and $1/month, so it is left to the user."),
}


# -- the target ---------------------------------------------------------------------------
def default_stack_name(app_id: str) -> str:
    return stack_name_for(app_id, "EcsExpress")


def default_service_name(app_id: str) -> str:
    """ECS service names take letters, digits, '-' and '_': an id's dots become '-'."""
    return app_id.replace(".", "-")[:255]


def render_ecs_express(deployment: Mapping[str, Any], image_uri: str,
                       source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsExpressDeployment/."""
    section, service = EcsExpressTarget.section, "ECS Express Mode"
    field = f"$.{section}"
    check_linux(deployment, service, f"{field}.{EcsExpressTarget.flag}", source)
    shared = check_shared(deployment, section, source)
    app_id = shared["app_id"]
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    port = http_port(deployment, service, source)
    params = {**EcsExpressTarget().defaults_for(app_id), **(deployment.get(section) or {})}
    cpu, memory = check_size(params["cpu"], params["memory"], EXPRESS_MEMORY, service, field, source)
    stack_name = safe.matches(params["stackName"], STACK_NAME, "CloudFormation stack name (a letter, then letters, "
                              "digits and '-', at most 128)", f"{field}.stackName", source)
    service_name = safe.matches(params["serviceName"], SERVICE_NAME, "ECS service name (letters, digits, '-' and "
                                "'_', at most 255)", f"{field}.serviceName", source)
    low = check_count(params["minTaskCount"], f"{field}.minTaskCount", source, 1)
    high = check_count(params["maxTaskCount"], f"{field}.maxTaskCount", source, low)
    metric = check_choice(params["autoScalingMetric"], SCALING_METRICS, f"{field}.autoScalingMetric", source)
    target_value = check_count(params["autoScalingTargetValue"], f"{field}.autoScalingTargetValue", source, 1)
    if metric != "REQUEST_COUNT_PER_TARGET" and target_value > 100:
        raise safe.refusal(source, f"{field}.autoScalingTargetValue", target_value, f"is over 100 (% for {metric})")
    retention = check_choice(params["logRetentionDays"], LOG_RETENTION_DAYS, f"{field}.logRetentionDays", source)
    health_path = safe.http_path(params["healthCheckPath"], f"{field}.healthCheckPath", source)

    template = render(
        "ecs-express/ecs-express.yml.j2",
        version=__version__, app_id=app_id, image_uri=image_uri, ecr_path=shared["ecr_path"], port=port,
        service_name=service_name, cpu=cpu, memory=memory, min_tasks=low, max_tasks=high, metric=metric,
        target_value=target_value, retention=retention, health_path=health_path,
        environment=shared["environment"], secrets=shared["secrets"], tags=tags_block(shared["tags"]),
    )
    task_hour = cpu / 1024 * FARGATE_VCPU_HOUR + memory / 1024 * FARGATE_GB_HOUR
    alb = ALB_HOUR * HOURS
    cost = [
        f"About {money(task_hour * HOURS * low + alb)} a month with {low} task(s) running all month"
        + (f", up to {money(task_hour * HOURS * high + alb)} with {high}" if high > low else "") + ".",
        "",
        f"Assumed: us-east-1 on-demand prices, 730 hours a month, Fargate Linux/x86 at {FARGATE_VCPU_HOUR} USD per "
        f"vCPU-hour and {FARGATE_GB_HOUR} USD per GB-hour ({cpu / 1024:g} vCPU, {memory / 1024:g} GB: "
        f"{money(task_hour * HOURS)} per task), one Application Load Balancer at {ALB_HOUR} USD per hour "
        f"({money(alb)}; Express Mode may share it between services). Not counted: load balancer capacity units, "
        f"public IPv4 addresses, data transfer, CloudWatch Logs ({LOGS_GB_INGESTED:.2f} USD per GB ingested).",
    ]
    creates = [
        f"`Service` (AWS::ECS::ExpressGatewayService) `{service_name}` in the `default` cluster: {cpu / 1024:g} vCPU "
        f"and {memory / 1024:g} GB per task, {low} to {high} tasks scaled on {metric} at {target_value}, "
        f"container port {port}, health check `{health_path}`. Express Mode provisions the Application Load "
        "Balancer, HTTPS listener, certificate, target group, security groups and scaling policy itself.",
        "`ExecutionRole`: pulls the image and writes logs (AmazonECSTaskExecutionRolePolicy)"
        + (f", and reads exactly the {len(shared['secrets'])} secret(s) of deployment.json." if shared["secrets"]
           else "."),
        "`InfrastructureRole`: lets ECS manage the load balancer, security groups and scaling "
        "(AmazonECSInfrastructureRoleforExpressGatewayServices).",
        f"`LogGroup` `/a2c/{app_id}/ecs-express`, kept {retention} days.",
    ]
    text = readme(f"{app_id} on Amazon ECS Express Mode", creates, cost, EcsExpressTarget.main_file, stack_name,
                  SKIPPED_CHECKS, [f"Generated by a2c {__version__} from {section} of deployment.json.", ""])
    from a2c.targets.secretslist import secrets_readme

    return {**secrets_readme(deployment), EcsExpressTarget.main_file: template, "README.md": text}


class EcsExpressTarget(Target):
    id: ClassVar[str] = "ecs-express"
    section: ClassVar[str] = "ecsExpressParameters"
    flag: ClassVar[str] = "createEcsExpressArtifacts"
    output_folder: ClassVar[str] = "EcsExpressDeployment"
    main_file: ClassVar[str] = "ecs-express.yml"
    description: ClassVar[str] = "Amazon ECS Express Mode (CloudFormation AWS::ECS::ExpressGatewayService)"
    schema_resource: ClassVar[tuple[str, str]] = ("a2c.schemas", "target-ecs-express.schema.json")
    default_on: ClassVar[bool] = False

    def defaults_for(self, app_id: str, memory: int = 2048, health_path: str = "/") -> dict[str, Any]:
        """The section's defaults; also what render assumes for a field the user removed."""
        cpu, memory = size_for(memory, EXPRESS_MEMORY)
        return {
            self.flag: self.default_on,
            "stackName": default_stack_name(app_id),
            "serviceName": default_service_name(app_id),
            "cpu": cpu,
            "memory": memory,
            "minTaskCount": 1,
            "maxTaskCount": 2,
            "autoScalingMetric": "AVERAGE_CPU",
            "autoScalingTargetValue": 60,
            "healthCheckPath": health_path,
            "logRetentionDays": 30,
            "resourceTags": [{"key": "example-key", "value": "example-value"}],
        }

    def defaults(self, analysis: AnalysisHead) -> dict[str, Any]:
        memory = analysis.recommended_memory_mib or 2048  # 2 GiB when the analyzer said nothing
        return self.defaults_for(analysis.app_id, memory, health_path_default(analysis))

    def stack_name(self, deployment: Mapping[str, Any]) -> str:
        return deployment.get(self.section, {}).get("stackName") or default_stack_name(deployment["applicationId"])

    def render(self, deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, str]:
        return render_ecs_express(deployment, image_uri, source)

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        return [deploy_command(f"{folder}/{self.main_file}", self.stack_name(deployment))]
