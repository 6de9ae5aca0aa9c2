"""The EKS target: golden manifests and chart, kubernetes-validate on every document, the chart
rendered by a small Go-template evaluator and compared with the plain manifests, and hostile
values refused or quoted."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from a2c.errors import InvalidFile
from a2c.model import AnalysisHead
from a2c.targets.eks import EksTarget, kube_name, render_eks

from tests.conftest import missing

JAVA_ID = "java-springboot-5e1f00d1"
TOMCAT_ID = "java-tomcat-0badf00d"
TCP_ID = "dotnet-core-7c0ffee0"
SM_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-AbCdEf"


def _analysis(app_id: str, app_type: str, ports: tuple, health_path: str = "/", health_port: int = 0,
              memory: int = 0) -> AnalysisHead:
    return AnalysisHead(app_id=app_id, application_type=app_type, analyzer=app_type, host_name="host-01",
                        process_id=1, image_repository=app_id, image_tag="latest", application_port=ports[0][0],
                        health_check_path=health_path, base_image="", secrets=(), recommended_memory_mib=memory,
                        document={}, health_check_port=health_port, ports=ports)


def _deployment(analysis: AnalysisHead, **changes: Any) -> dict[str, Any]:
    """deployment.json's shared fields (as a2c.targets.deployment writes them) and this target's defaults."""
    eks = {**EksTarget().defaults(analysis), "createEksArtifacts": True, **changes.pop("eks", {})}
    return {"a2CTemplateVersion": "1.0", "applicationId": analysis.app_id, "imageName": analysis.image,
            "exposedPorts": [{"localPort": p, "protocol": proto} for p, proto in analysis.ports], "environment": [],
            "secrets": [], "ecrParameters": {"ecrRepoTag": analysis.image_tag}, "eksParameters": eks, **changes}


def http_java() -> dict[str, Any]:
    """Spring Boot with Actuator on its management port."""
    analysis = _analysis(JAVA_ID, "java-springboot", ((8080, "http"),), "/actuator/health", 8081, 3072)
    return _deployment(analysis, environment=[{"name": "SPRING_PROFILES_ACTIVE", "value": "prod"}])


def tcp_service() -> dict[str, Any]:
    return _deployment(_analysis(TCP_ID, "dotnet-core", ((5000, "tcp"),)), eks={"publicApp": False})


def secrets_and_storage() -> dict[str, Any]:
    analysis = _analysis(TOMCAT_ID, "java-tomcat", ((8080, "http"),), "/orders/health")
    return _deployment(
        analysis,
        secrets=[{"name": "DB_PASSWORD", "valueFrom": f"/a2c/{TOMCAT_ID}/DB_PASSWORD"},
                 {"name": "API_KEY", "valueFrom": f"{SM_ARN}:apiKey::"}],
        persistentStorage=[{"path": "/var/lib/orders", "storage": "efs"}, {"path": "/tmp/cache", "storage": "none"}],
        eks={"roleArn": "arn:aws:iam::123456789012:role/orders", "efsFileSystemId": "fs-0123456789abcdef0",
             "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab",
             "dnsRecordName": "orders", "rootDomain": "example.com",
             "resourceTags": [{"key": "team", "value": "orders"}]})


CASES = {"http-java": http_java, "tcp": tcp_service, "secrets-storage": secrets_and_storage}


def _docs(text: str) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _manifests(files: dict[str, str]) -> dict[str, str]:
    return {path: text for path, text in files.items() if path.endswith(".yml")}


# -- the chart, without helm ---------------------------------------------------------------------
_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
_SPACE = " \t\r\n"


def helm_template(text: str, values: dict[str, Any], release: str) -> str:
    """Go's text/template as Helm runs it, the subset a2c's chart uses: ``{{ PIPELINE }}`` with
    ``{{-``/``-}}`` trimming, ``{{ if PIPELINE }}…{{ end }}``, the arguments ``.Values.a.b``,
    ``.Release.Name``, "string" and numbers, and sprig's ``quote``, ``toYaml`` and ``nindent N``."""
    tokens: list[tuple[str, str]] = []
    position, trim_next = 0, False
    for match in _ACTION.finditer(text):
        literal = text[position:match.start()]
        literal = literal.lstrip(_SPACE) if trim_next else literal
        tokens += [("text", literal.rstrip(_SPACE) if match.group(1) else literal), ("action", match.group(2))]
        position, trim_next = match.end(), bool(match.group(3))
    tokens.append(("text", text[position:].lstrip(_SPACE) if trim_next else text[position:]))

    def argument(word: str) -> Any:
        if word.startswith('"'):
            return json.loads(word)
        if word == ".Release.Name":
            return release
        if word.startswith(".Values."):
            node: Any = values
            for part in word.split(".")[2:]:
                node = node[part]
            return node
        return int(word)

    def pipeline(expression: str) -> Any:
        """Each command's value is the last argument of the next (``toYaml .Values.env | nindent 12``)."""
        value: list[Any] = []
        for name, *words in (command.split() for command in expression.split("|")):
            if not name[0].isalpha():
                value = [argument(name)]
                continue
            args = [argument(word) for word in words] + value
            if name == "quote":
                value = [json.dumps(str(args[-1]), ensure_ascii=False)]
            elif name == "toYaml":
                value = [yaml.safe_dump(args[-1], default_flow_style=False, sort_keys=True).rstrip("\n")]
            elif name == "nindent":
                value = ["\n" + "\n".join(" " * args[0] + line for line in str(args[1]).split("\n"))]
            else:
                raise AssertionError(f"the evaluator has no function {name}")
        return value[0]

    out, active = [], [True]
    for kind, body in tokens:
        if kind == "text":
            out.append(body if all(active) else "")
        elif body.startswith("if "):
            active.append(all(active) and bool(pipeline(body[3:])))
        elif body == "end":
            active.pop()
        elif all(active):
            value = pipeline(body)
            out.append(str(value).lower() if isinstance(value, bool) else str(value))
    assert active == [True], "an if without its end"
    return "".join(out)


def render_chart(files: dict[str, str], release: str, **overrides: Any) -> dict[str, str]:
    values = yaml.safe_load(files["chart/values.yaml"])
    for path, value in overrides.items():  # "ingress.enabled" = False, like --set
        *parents, last = path.split(".")
        node = values
        for part in parents:
            node = node[part]
        node[last] = value
    return {path[len("chart/templates/"):]: helm_template(text, values, release)
            for path, text in files.items() if path.startswith("chart/templates/")}


# -- kubernetes-validate -------------------------------------------------------------------------
def kubernetes_validate(tmp_path: Path, manifests: dict[str, str]) -> subprocess.CompletedProcess:
    tool = shutil.which("kubernetes-validate") or str(Path(sys.executable).with_name("kubernetes-validate"))
    if not Path(tool).exists():
        missing("kubernetes-validate", "pip install kubernetes-validate")
    folder = tmp_path / "manifests"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, text in manifests.items():
        (folder / name).write_text(text)
    return subprocess.run([tool, "--strict", *sorted(str(p) for p in folder.iterdir())], capture_output=True,
                          text=True, timeout=300)


def assert_valid(tmp_path: Path, manifests: dict[str, str]) -> None:
    """Every document passes; only the SecretProviderClass (a CRD: no bundled schema) is left
    to the structural checks below."""
    result = kubernetes_validate(tmp_path, manifests)
    assert result.returncode == 0, result.stdout + result.stderr
    documents = sum(len(_docs(text)) for text in manifests.values())
    passed = result.stdout.count(" passed for resource ")
    warnings = [line for line in result.stdout.splitlines() if line.startswith("WARN")]
    assert all("SecretProviderClass" in line for line in warnings), result.stdout
    assert passed + len(warnings) == documents, result.stdout


# -- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_files(case, golden):
    for path, text in render_eks(CASES[case](), "").items():
        golden(f"eks-{case}/{path}", text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_manifest_passes_kubernetes_validate(case, tmp_path):
    files = render_eks(CASES[case](), "")
    assert_valid(tmp_path, _manifests(files))
    chart = render_chart(files, kube_name(CASES[case]()["applicationId"]))
    assert_valid(tmp_path, {name: text for name, text in chart.items() if text.strip()})


def test_kubernetes_validate_catches_a_broken_manifest(tmp_path):
    """The check can fail: a replica count written as a string is refused."""
    manifests = _manifests(render_eks(http_java(), ""))
    manifests["deployment.yml"] = manifests["deployment.yml"].replace("replicas: 2", 'replicas: "2"')
    assert kubernetes_validate(tmp_path, manifests).returncode != 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_chart_with_its_values_is_the_plain_manifests(case):
    files = render_eks(CASES[case](), "")
    chart = render_chart(files, kube_name(CASES[case]()["applicationId"]))
    assert set(chart) == {name[:-len(".yml")] + ".yaml" for name in _manifests(files)}
    for name, text in chart.items():
        assert _docs(text) == _docs(files[name[:-len(".yaml")] + ".yml"]), name
    assert yaml.safe_load(files["chart/Chart.yaml"])["apiVersion"] == "v2"


def test_the_chart_can_leave_the_ingress_out():
    files = render_eks(http_java(), "")
    assert render_chart(files, "web", **{"ingress.enabled": False})["ingress.yaml"].strip() == ""
    assert _docs(render_chart(files, "web", **{"ingress.host": ""})["ingress.yaml"])[0]["spec"]["rules"][0].get(
        "host") is None


def test_http_java_app():
    files = render_eks(http_java(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/java-springboot-5e1f00d1:latest")
    [deployment] = _docs(files["deployment.yml"])
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"].startswith("123456789012.dkr.ecr.")
    assert container["resources"]["limits"] == {"cpu": "1000m", "memory": "3072Mi"}
    assert {"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75.0"} in container["env"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/actuator/health", "port": 8081}
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 0,
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    [service] = _docs(files["service.yml"])
    assert service["spec"]["type"] == "ClusterIP"
    annotations = _docs(files["ingress.yml"])[0]["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-port"] == "8081"
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTP": 80}]'
    assert "alb.ingress.kubernetes.io/certificate-arn" not in annotations
    assert _docs(files["serviceaccount.yml"])[0]["metadata"]["annotations"] == {}
    assert "secretproviderclass.yml" not in files and "storage.yml" not in files


def test_tcp_service_gets_a_network_load_balancer():
    files = render_eks(tcp_service(), "")
    assert "ingress.yml" not in files
    [service] = _docs(files["service.yml"])
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    container = _docs(files["deployment.yml"])[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["tcpSocket"] == {"port": 5000}
    assert all(e["name"] != "JAVA_TOOL_OPTIONS" for e in container["env"])  # not a JVM


def test_secrets_and_persistent_storage():
    files = render_eks(secrets_and_storage(), "")
    [provider] = _docs(files["secretproviderclass.yml"])
    assert provider["spec"]["provider"] == "aws"
    objects = yaml.safe_load(provider["spec"]["parameters"]["objects"])
    assert objects == [
        {"objectName": f"/a2c/{TOMCAT_ID}/DB_PASSWORD", "objectType": "ssmparameter", "objectAlias": "DB_PASSWORD"},
        {"objectName": SM_ARN, "objectType": "secretsmanager", "objectAlias": "API_KEY.json",
         "jmesPath": [{"path": '"apiKey"', "objectAlias": "API_KEY"}]}]
    synced = provider["spec"]["secretObjects"][0]
    assert [d["key"] for d in synced["data"]] == ["DB_PASSWORD", "API_KEY"]
    pod = _docs(files["deployment.yml"])[0]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": synced["secretName"]}}]
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/mnt/secrets-store", "/var/lib/orders"]
    claims = {v["name"]: v for v in pod["volumes"]}
    storage_class, claim = _docs(files["storage.yml"])
    assert storage_class["parameters"]["fileSystemId"] == "fs-0123456789abcdef0"
    assert claims["data-1"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["storageClassName"] == storage_class["metadata"]["name"]
    annotations = _docs(files["ingress.yml"])[0]["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/tags"] == f"team=orders,a2c-application-id={TOMCAT_ID}"
    assert _docs(files["ingress.yml"])[0]["spec"]["rules"][0]["host"] == "orders.example.com"


def test_nginx_ingress():
    deployment = http_java()
    deployment["eksParameters"]["ingressClass"] = "nginx"
    [ingress] = _docs(render_eks(deployment, "")["ingress.yml"])
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {}


def test_defaults_and_schema():
    target = EksTarget()
    schema = target.schema()
    java = target.defaults(_analysis(JAVA_ID, "java-springboot", ((8080, "http"),), memory=3072))
    dotnet = target.defaults(_analysis(TCP_ID, "dotnet-core", ((5000, "tcp"),)))
    assert java["javaHeapFromMemory"] is True and "javaHeapFromMemory" not in dotnet
    assert java["memory"] == 3072 and dotnet["memory"] == 2048 and java["createEksArtifacts"] is False
    for section in (java, dotnet, secrets_and_storage()["eksParameters"],
                    {"createEksArtifacts": True, "stackName": "a2c-x-EKS", "ingress": "nginx", "reuseResources":
                     {"vpcId": "", "cfnStackName": "", "sshKeyPairName": ""}}):  # App2Container's spelling
        jsonschema.validate(section, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"createEksArtifacts": True, "gMSAParameters": {}}, schema)
    assert (target.id, target.section, target.flag, target.output_folder, target.main_file) == (
        "eks", "eksParameters", "createEksArtifacts", "EksDeployment", "deployment.yml")
    assert target.stack_name(http_java()) == f"a2c-{JAVA_ID}-EKS"


def test_names_fit_kubernetes():
    assert kube_name("java-tomcat-0badf00d") == "java-tomcat-0badf00d"
    assert kube_name("9app_x.y") == "app-9app-x-y"
    long = kube_name("java-generic-" + "a" * 110)
    assert len(long) <= 50 and re.fullmatch(r"[a-z]([a-z0-9-]*[a-z0-9])?", long)


# -- hostile values ------------------------------------------------------------------------------
def test_hostile_strings_are_quoted():
    deployment = http_java()
    values = ['say "hi"\nkind: Secret', "{{ .Values.image }}", "\u2028 \x85 \\ '", "--- # not a document"]
    deployment["environment"] = [{"name": f"V{i}", "value": v} for i, v in enumerate(values)]
    deployment["eksParameters"]["healthCheckPath"] = "/health check\n{{x}}"
    deployment["persistentStorage"] = [{"path": '/data/{{ .Values.x }}/"q"', "storage": "efs"}]
    files = render_eks(deployment, "")
    container = _docs(files["deployment.yml"])[0]["spec"]["template"]["spec"]["containers"][0]
    assert [e["value"] for e in container["env"][:4]] == values
    assert container["livenessProbe"]["httpGet"]["path"] == "/health%20check%0A%7B%7Bx%7D%7D"
    assert container["volumeMounts"][0]["mountPath"] == '/data/{{ .Values.x }}/"q"'
    assert yaml.safe_load(files["chart/values.yaml"])["env"][:4] == [{"name": f"V{i}", "value": v}
                                                                    for i, v in enumerate(values)]
    chart = render_chart(files, kube_name(JAVA_ID))
    assert _docs(chart["deployment.yaml"]) == _docs(files["deployment.yml"])  # Helm prints the "{{" back


@pytest.mark.parametrize(("change", "field"), [
    ({"applicationId": 'app"\nkind: Secret'}, "$.applicationId"),
    ({"secrets": [{"name": "DB\nEvil: 1", "valueFrom": "/a2c/x"}]}, "$.secrets[0].name"),
    ({"secrets": [{"name": "DB", "valueFrom": "/a2c/x\n  evil: 1"}]}, "$.secrets[0].valueFrom"),
    ({"environment": [{"name": "A B", "value": "1"}]}, "$.environment[0].name"),
    ({"imageName": "app:latest\nkind: Secret"}, "$.imageName"),
    ({"ecrParameters": {"ecrRepoTag": 'latest"'}}, "$.ecrParameters.ecrRepoTag"),
    ({"exposedPorts": [{"localPort": 0, "protocol": "http"}]}, "$.exposedPorts[0].localPort"),
    ({"persistentStorage": [{"path": "/data\nx", "storage": "efs"}]}, "$.persistentStorage[0].path"),
    ({"persistentStorage": [{"path": "/data:ro", "storage": "efs"}]}, "$.persistentStorage[0].path"),
    ({"persistentStorage": [{"path": "/data", "storage": "ebs"}]}, "$.persistentStorage[0].storage"),
    ({"eks": {"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/x\"y"}}, "certificateArn"),
    ({"eks": {"roleArn": "arn:aws:iam::123456789012:role/x\ny"}}, "$.eksParameters.roleArn"),
    ({"eks": {"resourceTags": [{"key": "team\nEvil", "value": "x"}]}}, "$.eksParameters.resourceTags[0].key"),
    ({"eks": {"resourceTags": [{"key": "team", "value": "a=b"}]}}, "$.eksParameters.resourceTags[0].value"),
    ({"eks": {"ingressClass": "traefik"}}, "$.eksParameters.ingressClass"),
    ({"eks": {"ingressClass": "alb", "ingress": "nginx"}}, "$.eksParameters.ingress"),
    ({"eks": {"rootDomain": "example.com\n", "dnsRecordName": "x"}}, "$.eksParameters.rootDomain"),
    ({"eks": {"replicas": "2"}}, "$.eksParameters.replicas"),
    ({"eks": {"replicas": 5, "maxReplicas": 4}}, "$.eksParameters.maxReplicas"),
    ({"eks": {"cpu": True}}, "$.eksParameters.cpu"),
    ({"eks": {"healthCheckPath": "health"}}, "$.eksParameters.healthCheckPath"),
])
def test_unrepresentable_values_are_refused(change, field):
    deployment = http_java()
    change = copy.deepcopy(change)
    deployment["eksParameters"].update(change.pop("eks", {}))
    deployment.update(change)
    with pytest.raises(InvalidFile) as caught:
        render_eks(deployment, "", "ws/app/deployment.json")
    assert field in caught.value.message and "ws/app/deployment.json" in caught.value.message


def test_image_uri_is_checked():
    with pytest.raises(InvalidFile, match="image URI"):
        render_eks(http_java(), "123.dkr.ecr.eu-west-1.amazonaws.com/app:1\nkind: Secret")
