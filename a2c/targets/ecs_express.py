"""ECS Express Mode: one ``AWS::ECS::ExpressGatewayService`` with the two roles it requires, from
deployment.json's ecsExpressParameters (written into EcsExpressDeployment/).

Express Mode provisions the load balancer, HTTPS listener, target group, security groups and
auto scaling itself, so the template holds only what a2c must decide: the image, its HTTP port,
the size, the scaling range, the environment, the secrets and the logs. The checks shared with
the App Runner target (HTTP port, Linux only, tags, secrets, the README) live here too.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Callable, ClassVar, Mapping, Sequence

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import Quoted, render, to_json, trusted
from a2c.ids import check_application_id
from a2c.model import AnalysisHead
from a2c.targets.base import Target
from a2c.targets.ecs import ENV_NAME, check_tag, ecr_path, secret_arn

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
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
STACK_NAME = r"[A-Za-z][A-Za-z0-9-]{0,127}"
SERVICE_NAME = r"[A-Za-z0-9_-]{1,255}"

# us-east-1 on-demand prices (USD) the READMEs' estimates use; a month is 730 hours.
HOURS = 730
FARGATE_VCPU_HOUR = 0.04048
FARGATE_GB_HOUR = 0.004445
ALB_HOUR = 0.0225
LOGS_GB_INGESTED = 0.50

# Checks checkov reports on this template that a2c does not satisfy on purpose: id -> (resource,
# why), for the README; the template's Metadata skips the same, with the same words (a test
# compares them).
SKIPPED_CHECKS: dict[str, tuple[str, str]] = {
    "CKV_AWS_158": ("LogGroup", "The log group is encrypted at rest by CloudWatch Logs with an AWS-owned key; a "
                    "customer-managed KMS key adds a key policy to maintain and $1/month, so it is left to the user."),
}


# -- checks shared with the App Runner target ------------------------------------------------
def http_port(deployment: Mapping[str, Any], service: str, source: str) -> int:
    """The first exposed port whose protocol is http: Express Mode and App Runner front the
    container with an HTTP(S) endpoint, so a TCP-only service cannot run there."""
    ports = deployment.get("exposedPorts") or []
    for index, item in enumerate(ports):
        if item.get("protocol") == "http":
            return safe.port(item.get("localPort"), f"$.exposedPorts[{index}].localPort", source)
    listed = ", ".join(f"{p.get('localPort')}/{p.get('protocol', 'tcp')}" for p in ports) or "none"
    raise InvalidFile(f"{source}: $.exposedPorts: {service} serves HTTP only, and no port has protocol \"http\" "
                      f"(exposed: {listed}): a TCP-only service",
                      "Use ECS (createEcsArtifacts) with a Network Load Balancer for a TCP service; if the "
                      f"application does answer HTTP, set that port's protocol to \"http\" in {source}.")


def check_linux(deployment: Mapping[str, Any], service: str, flag: str, source: str) -> None:
    """Express Mode and App Runner run Linux containers only (``platform`` absent means linux)."""
    platform = deployment.get("platform", "linux")
    if platform == "linux":
        return
    if platform == "windows":
        raise InvalidFile(f"{source}: $.platform: {service} runs Linux containers only, and this is a Windows image",
                          f"Set {flag} to false; Windows containers run on Amazon ECS (createEcsArtifacts) with "
                          "Windows container instances.")
    raise safe.refusal(source, "$.platform", platform, "is not a platform (linux or windows)")


def check_size(cpu: Any, memory: Any, table: Mapping[int, tuple[int, ...]], service: str, field: str,
               source: str) -> tuple[int, int]:
    """``(cpu, memory)`` when ``table`` offers the pair; else the nearest valid choice in the hint."""
    for value, name in ((cpu, "cpu"), (memory, "memory")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise safe.refusal(source, f"{field}.{name}", value, "is not a whole number")
    if cpu not in table:
        nearest = min(table, key=lambda c: abs(c - cpu))
        raise InvalidFile(f"{source}: {field}.cpu: {service} does not offer {cpu} CPU units "
                          f"(it offers {', '.join(map(str, table))})",
                          f"Set {field}.cpu to {nearest} (memory {', '.join(map(str, table[nearest]))}).")
    if memory not in table[cpu]:
        pairs = [(c, m) for c, sizes in table.items() for m in sizes]
        near_cpu, near_memory = min(pairs, key=lambda p: (abs(p[1] - memory), abs(p[0] - cpu)))
        raise InvalidFile(f"{source}: {field}.memory: {service} does not offer {memory} MiB with {cpu} CPU units "
                          f"(it offers {', '.join(map(str, table[cpu]))})",
                          f"Pick a memory size for cpu {cpu}: {', '.join(map(str, table[cpu]))}; or the nearest "
                          f"pair, cpu {near_cpu} with memory {near_memory}.")
    return cpu, memory


def size_for(memory: int, table: Mapping[int, tuple[int, ...]]) -> tuple[int, int]:
    """A default size holding the analysis's memory: one vCPU where it can (a JVM starting on a
    quarter vCPU is slow), else the smallest pair with at least that memory, else the largest."""
    pairs = sorted(((m, c) for c, sizes in table.items() for m in sizes), key=lambda p: (p[0], abs(p[1] - 1024)))
    for m, c in pairs:
        if m >= memory:
            return c, m
    m, c = pairs[-1]
    return c, m


def check_choice(value: Any, allowed: tuple[Any, ...], field: str, source: str) -> Any:
    if isinstance(value, bool) or value not in allowed:
        raise safe.refusal(source, field, value, f"is not one of {', '.join(map(str, allowed))}")
    return value


def check_count(value: Any, field: str, source: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise safe.refusal(source, field, value, f"is not a whole number of at least {least}")
    return value


def check_shared(deployment: Mapping[str, Any], section: str, source: str) -> dict[str, Any]:
    """Refuse, by field, every shared value the template prints; return what it needs: the
    application id, the ECR ``repository:tag``, environment, secrets (ARN expressions) and tags."""
    app_id = check_application_id(deployment.get("applicationId"), f"{source}: $.applicationId")
    safe.image_reference(deployment.get("imageName"), "$.imageName", source)
    safe.matches(deployment.get("ecrParameters", {}).get("ecrRepoTag"), r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                 "image tag", "$.ecrParameters.ecrRepoTag", source)
    environment = list(deployment.get("environment", []))
    for index, item in enumerate(environment):
        safe.matches(item.get("name"), ENV_NAME, "environment variable name", f"$.environment[{index}].name", source)
        if not isinstance(item.get("value"), str):
            raise safe.refusal(source, f"$.environment[{index}].value", item.get("value"), "is not a string")
    secrets = []
    for index, secret in enumerate(deployment.get("secrets", [])):
        safe.matches(secret.get("name"), ENV_NAME, "environment variable name", f"$.secrets[{index}].name", source)
        if not isinstance(secret.get("valueFrom"), str):
            raise safe.refusal(source, f"$.secrets[{index}].valueFrom", secret.get("valueFrom"), "is not a string")
        arn = secret_arn(secret["valueFrom"], f"$.secrets[{index}].valueFrom", source)
        secrets.append({"name": secret["name"], "arn": trusted(arn)})
    tags = []
    for index, tag in enumerate((deployment.get(section) or {}).get("resourceTags", [])):
        key, value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or not isinstance(value, str):
            raise safe.refusal(source, f"$.{section}.resourceTags[{index}]", tag,
                               "is not a {key, value} pair of strings")
        if key in ("", "example-key"):
            continue  # App2Container's sample tag is not written
        check_tag(key, f"$.{section}.resourceTags[{index}].key", source, 1, 128)
        check_tag(value, f"$.{section}.resourceTags[{index}].value", source, 0, 256)
        if key.lower().startswith("aws:"):
            raise safe.refusal(source, f"$.{section}.resourceTags[{index}].key", key, "starts with aws:, which AWS "
                               "keeps for its own tags")
        tags.append({"key": key, "value": value})
    tags.append({"key": "a2c-application-id", "value": app_id})
    return {"app_id": app_id, "ecr_path": ecr_path(deployment), "environment": environment, "secrets": secrets,
            "tags": tags}


def tags_block(tags: list[dict[str, str]]) -> Callable[[int], Quoted]:
    """``tags(indent)`` for the template: a ``Tags:`` list, every key and value quoted."""
    def block(indent: int) -> Quoted:
        pad = " " * indent
        lines = [f"{pad}Tags:"]
        for tag in tags:
            lines += [f"{pad}  - Key: {to_json(tag['key'])}", f"{pad}    Value: {to_json(tag['value'])}"]
        return trusted("\n".join(lines))

    return block


def deploy_command(template: str, stack_name: str) -> str:
    """The one command that deploys the folder's template (its roles are unnamed: CAPABILITY_IAM)."""
    return (f"aws cloudformation deploy --template-file {shlex.quote(template)} --stack-name {shlex.quote(stack_name)} "
            "--capabilities CAPABILITY_IAM")


def readme(title: str, creates: list[str], cost: list[str], main_file: str, stack_name: str,
           skipped: Mapping[str, tuple[str, str]], notes: Sequence[str] = ()) -> str:
    """The folder's README: what the stack creates, a rough monthly cost, the deploy command and
    the checkov checks skipped on purpose. Every value in it was checked by the renderer."""
    lines = [f"# {title}", "", *notes, "## What the stack creates", "", *[f"- {item}" for item in creates], "",
             "## Rough monthly cost", "", *cost, "", "## Deploy", "", "From this folder:", "", "```sh",
             deploy_command(main_file, stack_name), "```", ""]
    if skipped:
        lines += ["## checkov checks skipped on purpose", "",
                  *[f"- `{check}` ({resource}): {why}" for check, (resource, why) in skipped.items()], ""]
    return "\n".join(lines)


def money(value: float) -> str:
    return f"${value:,.2f}"


def stack_name_for(app_id: str, suffix: str) -> str:
    """``a2c-<id>-<suffix>`` as CloudFormation takes it: an id's '.' and '_' become '-', and a long
    id is cut so that the name stays within 128 characters."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", app_id)
    return f"a2c-{name[:128 - len(suffix) - 5]}-{suffix}"


# -- the target ---------------------------------------------------------------------------
def default_stack_name(app_id: str) -> str:
    return stack_name_for(app_id, "EcsExpress")


def default_service_name(app_id: str) -> str:
    """ECS service names take letters, digits, '-' and '_': an id's dots become '-'."""
    return app_id.replace(".", "-")[:255]


def health_path_default(analysis: AnalysisHead) -> str:
    """The analysis's health check path when it answers on the application port; Express Mode
    checks that port only, so a path on another port (Spring Boot's management port) becomes '/'."""
    if analysis.health_check_port and analysis.health_check_port != analysis.application_port:
        return "/"
    return analysis.health_check_path or "/"


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
    return {EcsExpressTarget.main_file: template, "README.md": text}


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
