"""deployment.json: the editable deployment settings App2Container users know, built from an analysis."""

from __future__ import annotations

from typing import Any, Mapping

TEMPLATE_VERSION = "1.0"


def recommended_memory(analysis: Mapping[str, Any]) -> int:
    """Task memory in MiB: room for the JVM heap the app had (or 75% of the task) plus overhead."""
    for option in analysis["analysisInfo"].get("jvmOptions", []):
        if option.startswith("-Xmx"):
            value = option[4:].lower()
            try:
                number = float(value[:-1]) if value[-1:] in "kmg" else float(value) / (1024 * 1024)
            except ValueError:
                break
            mib = number * {"k": 1 / 1024, "m": 1, "g": 1024}.get(value[-1:], 1)
            for size in (1024, 2048, 3072, 4096, 8192, 16384, 30720):
                if size >= mib / 0.75:
                    return size
    return 2048


def build_deployment(analysis: Mapping[str, Any]) -> dict[str, Any]:
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    app_id = info["appId"]
    port = int(params.get("applicationPort") or 8080)
    secrets = [
        {"name": s["envVar"], "valueFrom": f"/a2c/{app_id}/{s['envVar']}", "foundIn": s["foundIn"]}
        for s in info.get("secrets", [])
    ]
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
            "cpu": 1024,
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
