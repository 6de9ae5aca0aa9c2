"""deployment.json: the editable deployment settings App2Container users know, built from an analysis."""

from __future__ import annotations

from typing import Any, Mapping

from a2c.generate.safe import env_var_name

TEMPLATE_VERSION = "1.0"


def recommended_memory(analysis: Mapping[str, Any]) -> int:
    """Task memory in MiB, as the analyzer recommended it (2 GiB when it said nothing)."""
    return int(analysis["analysisInfo"].get("jvm", {}).get("recommendedTaskMemoryMiB") or 2048)


def fargate_cpu_for(memory: int) -> int:
    """A Fargate CPU setting (units) that offers this memory size: one vCPU where it can (a JVM
    starting on half a vCPU is slow), else the nearest that fits."""
    for cpu, low, high in ((1024, 2048, 8192), (512, 1024, 4096), (2048, 4096, 16384), (4096, 8192, 30720)):
        if low <= memory <= high:
            return cpu
    return 256 if memory < 1024 else 4096


def build_deployment(analysis: Mapping[str, Any], source: str = "analysis.json") -> dict[str, Any]:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    app_id = info["appId"]
    for index, secret in enumerate(info.get("secrets", [])):
        # Each becomes a task's environment variable and an SSM parameter name.
        env_var_name(secret["envVar"], f"$.analysisInfo.secrets[{index}].envVar", source)
    port = int(params.get("applicationPort") or 8080)
    secrets = list({
        s["envVar"]: {"name": s["envVar"], "valueFrom": f"/a2c/{app_id}/{s['envVar']}", "foundIn": s["foundIn"]}
        for s in reversed(info.get("secrets", []))  # one per variable: the first place it was found
    }.values())[::-1]
    return {
        "a2CTemplateVersion": TEMPLATE_VERSION,
        "applicationId": app_id,
        "imageName": f"{params['imageRepository']}:{params['imageTag']}",
        "exposedPorts": [{"localPort": port, "protocol": "tcp"}],
        "environment": [],
        "secrets": secrets,
        "ecrParameters": {"ecrRepoTag": params["imageTag"]},
        "ecsParameters": {
            "createEcsArtifacts": True,
            "ecsFamily": app_id,
            "cpu": fargate_cpu_for(recommended_memory(analysis)),
            "memory": recommended_memory(analysis),
            "desiredCount": 1,
            "publicApp": True,
            "stackName": f"a2c-{app_id}-ECS",
            "deployTarget": "fargate",
            "healthCheckPath": params.get("healthCheckPath", "/"),
            "resourceTags": [{"key": "example-key", "value": "example-value"}],
            "reuseResources": {"vpcId": "", "subnetIds": []},
        },
        "eksParameters": {"createEksArtifacts": False},
        "appRunnerParameters": {"createAppRunnerArtifacts": False},
    }
