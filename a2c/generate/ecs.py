"""ECS on Fargate: a self-contained CloudFormation template and the task definition, from deployment.json."""

from __future__ import annotations

import json
from typing import Any, Mapping

from a2c import __version__
from a2c.errors import InvalidFile
from a2c.generate.render import render, to_json

# Fargate's allowed memory (MiB) per CPU unit setting.
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def check_fargate_size(cpu: int, memory: int, source: str) -> None:
    allowed = FARGATE_MEMORY.get(cpu, ())
    if memory not in allowed:
        raise InvalidFile(
            f"{source}: $.ecsParameters: Fargate does not offer {memory} MiB with {cpu} CPU units",
            f"Pick a memory size for cpu {cpu}: {', '.join(str(m) for m in allowed[:8])}{' …' if len(allowed) > 8 else ''}.",
        )


def secret_arn(value_from: str) -> str:
    """A CloudFormation expression for an SSM parameter name or a full ARN."""
    if value_from.startswith("arn:"):
        return to_json(value_from)
    return '!Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter' + value_from.replace('"', "") + '"'


def render_ecs(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EcsDeployment/."""
    ecs = deployment["ecsParameters"]
    app_id = deployment["applicationId"]
    defaults = {"ecsFamily": app_id, "cpu": 1024, "memory": 2048, "desiredCount": 1, "publicApp": True}
    ecs = {**defaults, **ecs}
    check_fargate_size(ecs["cpu"], ecs["memory"], source)
    reuse = ecs.get("reuseResources") or {}
    reuse_vpc = reuse.get("vpcId", "")
    subnets = reuse.get("subnetIds", [])
    if reuse_vpc and len(subnets) < 2:
        raise InvalidFile(f"{source}: $.ecsParameters.reuseResources.subnetIds: name at least two subnets of {reuse_vpc}",
                          "An Application Load Balancer needs subnets in two Availability Zones.")
    stack_name = ecs.get("stackName") or f"a2c-{app_id}-ECS"
    resource_tags = [t for t in ecs.get("resourceTags", []) if t.get("key") not in ("", "example-key")]
    resource_tags.append({"key": "a2c-application-id", "value": app_id})
    secrets = [{"name": s["name"], "arn": secret_arn(s["valueFrom"])} for s in deployment.get("secrets", [])]

    def tags(indent: int) -> str:
        pad = " " * indent
        lines = [f"{pad}Tags:"]
        for tag in resource_tags:
            lines += [f"{pad}  - Key: {to_json(tag['key'])}", f"{pad}    Value: {to_json(tag['value'])}"]
        return "\n".join(lines)

    template = render(
        "ecs/ecs-master.yml.j2",
        version=__version__,
        app_id=app_id,
        stack_name=stack_name,
        image_uri=image_uri,
        ecr_path=f"{deployment['imageName'].rsplit(':', 1)[0]}:{deployment['ecrParameters']['ecrRepoTag']}",
        ecs=ecs,
        port=deployment["exposedPorts"][0]["localPort"],
        health_path=ecs.get("healthCheckPath", "/"),
        environment=deployment.get("environment", []),
        secrets=secrets,
        reuse_vpc=reuse_vpc,
        reuse_subnets=subnets,
        vpc_ref="!Ref VpcId" if reuse_vpc else "!Ref Vpc",
        subnets_ref="!Ref SubnetIds" if reuse_vpc else "[!Ref PublicSubnet1, !Ref PublicSubnet2]",
        tags=tags,
    )
    task_definition = {
        "family": ecs["ecsFamily"],
        "cpu": str(ecs["cpu"]),
        "memory": str(ecs["memory"]),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{
            "name": app_id,
            "image": image_uri or f"<account>.dkr.ecr.<region>.amazonaws.com/{deployment['imageName']}",
            "essential": True,
            "portMappings": [{"containerPort": deployment["exposedPorts"][0]["localPort"], "protocol": "tcp"}],
            "environment": [{"name": e["name"], "value": e["value"]} for e in deployment.get("environment", [])],
            "secrets": [{"name": s["name"], "valueFrom": s["valueFrom"]} for s in deployment.get("secrets", [])],
        }],
    }
    return {
        "ecs-master.yml": template,
        "task-definition.json": json.dumps(task_definition, indent=2) + "\n",
    }
