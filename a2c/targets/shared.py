"""What the CloudFormation targets share: the checks of deployment.json's shared fields (image,
environment, secrets, tags, the HTTP port, Linux only, sizes), stack names, the prices of the
READMEs' cost estimates, and the README itself."""

from __future__ import annotations

import re
import shlex
from typing import Any, Callable, Mapping, Sequence

from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.render import Quoted, to_json, trusted
from a2c.ids import check_application_id
from a2c.model import AnalysisHead

# An SSM parameter name (letters, digits, _ . - and /), or the ARN of an SSM parameter or a
# Secrets Manager secret (with an optional :json-key:version-stage:version-id suffix).
SSM_NAME = r"/?[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*"
SECRET_ARN = r"arn:aws[a-z-]*:(?:ssm|secretsmanager):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9/_+=.@:-]+"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
TAG_PUNCTUATION = "_.:/=+-@"


def secret_arn(value_from: str, field: str = "$.secrets[*].valueFrom", source: str = "deployment.json") -> str:
    """A CloudFormation expression (quoted YAML) for an SSM parameter name or a full ARN."""
    if value_from.startswith("arn:"):
        return to_json(safe.matches(value_from, SECRET_ARN, "SSM parameter or Secrets Manager ARN", field, source))
    name = safe.matches(value_from, SSM_NAME, "SSM parameter name (letters, digits, _ . - and /)", field, source)
    return "!Sub " + to_json("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/" + name.lstrip("/"))


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
STACK_NAME = r"[A-Za-z][A-Za-z0-9-]{0,127}"
INSTANCE_TYPE = r"[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+"  # an EC2 instance type (m6i.large)

# us-east-1 on-demand prices (USD) the READMEs' estimates use; a month is 730 hours.
HOURS = 730
FARGATE_VCPU_HOUR = 0.04048
FARGATE_GB_HOUR = 0.004445
ALB_HOUR = 0.0225
LOGS_GB_INGESTED = 0.50


def check_tag(text: str, field: str, source: str, shortest: int, longest: int) -> None:
    """AWS tags: letters, digits, spaces and ``_ . : / = + - @``, of bounded length."""
    if not shortest <= len(text) <= longest or not all(c.isalnum() or c == " " or c in TAG_PUNCTUATION for c in text):
        raise safe.refusal(source, field, text, f"is not an AWS tag ({shortest}-{longest} letters, digits, spaces "
                           f"and {TAG_PUNCTUATION})")


def ecr_path(deployment: Mapping[str, Any]) -> str:
    """``repository:tag`` of the image in ECR: imageName's repository with ecrRepoTag."""
    match = safe.IMAGE_REFERENCE.fullmatch(deployment["imageName"])
    assert match is not None  # checked by check_deployment
    return f"{match.group('name')}:{deployment['ecrParameters']['ecrRepoTag']}"


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


def deploy_command(template: str, stack_name: str, capability: str = "CAPABILITY_IAM") -> str:
    """The one command that deploys the folder's template (unnamed roles need CAPABILITY_IAM)."""
    return (f"aws cloudformation deploy --template-file {shlex.quote(template)} --stack-name {shlex.quote(stack_name)} "
            f"--capabilities {capability}")


def readme(title: str, creates: list[str], cost: list[str], main_file: str, stack_name: str,
           skipped: Mapping[str, tuple[str, str]], notes: Sequence[str] = (), capability: str = "CAPABILITY_IAM",
           after_deploy: Sequence[str] = ()) -> str:
    """The folder's README: what the stack creates, a rough monthly cost, the deploy command and
    the checkov checks skipped on purpose. Every value in it was checked by the renderer."""
    lines = [f"# {title}", "", *notes, "## What the stack creates", "", *[f"- {item}" for item in creates], "",
             "## Rough monthly cost", "", *cost, "", "## Deploy", "", "From this folder:", "", "```sh",
             deploy_command(main_file, stack_name, capability), "```", "", *after_deploy]
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


def health_path_default(analysis: AnalysisHead) -> str:
    """The analysis's health check path when it answers on the application port; Express Mode
    checks that port only, so a path on another port (Spring Boot's management port) becomes '/'."""
    if analysis.health_check_port and analysis.health_check_port != analysis.application_port:
        return "/"
    return analysis.health_check_path or "/"
