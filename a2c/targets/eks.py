"""Amazon EKS: Kubernetes manifests and a Helm chart from deployment.json's eksParameters
(written into EksDeployment/), for a cluster the user already runs with the AWS Load Balancer
Controller, the Secrets Store CSI driver (AWS provider) and the EFS CSI driver installed.

One set of templates (``templates/eks/*.yml.j2``) writes both the plain manifests and the
chart's templates: every value a user may tune lives in one ``values`` mapping, which the
plain manifests print (quoted) and the chart prints as ``{{ .Values.… }}``, so ``kubectl apply``
and ``helm install`` with the default values create the same objects. Those templates use
``[[ … ]]`` / ``[% … %]`` so that Helm's ``{{ … }}`` is ordinary text to Jinja; the same
fail-closed finalize as every other template applies (nothing unquoted reaches a file).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Any, ClassVar, Mapping

import jinja2

from a2c.errors import InvalidFile
from a2c.generate import safe
from a2c.generate.quoting import FILTERS, Quoted, UnsafeValue, finalize, to_json
from a2c.generate.render import render, trusted
from a2c.ids import check_application_id
from a2c.model import AnalysisHead
from a2c.progress import Reporter
from a2c.targets.base import DeployOptions, DeployResult, Target
from a2c.targets.ecs import ENV_NAME, check_tag, ecr_path, secret_arn

ACM_ARN = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+"
ROLE_ARN = r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}"
DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DNS_NAME = rf"{DNS_LABEL}(?:\.{DNS_LABEL})*"
QUANTITY = r"[1-9][0-9]{0,5}(?:Mi|Gi|Ti)"
MAX_NAME = 50  # room for the suffixes a2c adds (-secrets, -data-N) within 63 characters
SECRETS_MOUNT = "/mnt/secrets-store"
# us-east-1 list prices (USD per hour) the README's estimate assumes.
CONTROL_PLANE_HOUR, FARGATE_VCPU_HOUR, FARGATE_GB_HOUR, LOAD_BALANCER_HOUR = 0.10, 0.04048, 0.004445, 0.0225
HOURS_PER_MONTH = 730


def kube_name(app_id: str) -> str:
    """A DNS-1035 label for the objects (Service names must start with a letter), from an id
    that may hold '.' and '_' and run to 128 characters; a long one keeps a hash of the whole."""
    name = re.sub(r"[^a-z0-9]+", "-", app_id).strip("-")
    name = name if name[:1].isalpha() else f"app-{name}"
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME - 9].rstrip("-") + "-" + hashlib.sha256(app_id.encode()).hexdigest()[:8]
    return name


def default_stack_name(app_id: str) -> str:
    return f"a2c-{app_id}-EKS"


# -- YAML written from data, every scalar JSON-quoted ----------------------------------------
def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_./-]*", key) else to_json(key)


def _yaml(value: Any, indent: int) -> str:
    """Block YAML for ``value`` as it follows a ``key:`` (a leading space or newline)."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        return "".join(f"\n{pad}{_key(str(k))}:{_yaml(v, indent + 2)}" for k, v in value.items())
    if isinstance(value, list) and value:
        items = (_yaml(v, indent + 2) for v in value)
        return "".join(f"\n{pad}-" + (" " + item[indent + 3:] if item.startswith("\n") else item) for item in items)
    if isinstance(value, bool) or value is None:
        return " " + {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        return f" {value}"
    return " " + (to_json(value) if isinstance(value, str) else ("{}" if isinstance(value, dict) else "[]"))


def yaml_document(value: Mapping[str, Any]) -> str:
    return _yaml(dict(value), 0).lstrip("\n") + "\n"


# -- the templates' environment ------------------------------------------------------------
class Helm(Quoted):
    """A Go-template expression a2c composed (``{{ .Values.image | quote }}``): printed as is."""


def _chart_finalize(value: Any) -> Any:
    """The chart's literal values (a mount path, a health path) may not open a Go-template
    action: ``{{`` is written as ``{{ "{{" }}``, which Helm prints back as ``{{``."""
    value = finalize(value)
    if isinstance(value, Quoted) and not isinstance(value, Helm) and "{{" in value:
        return Quoted(value.replace("{{", '{{ "{{" }}'))
    return value


@functools.lru_cache(maxsize=8)
def environment(user_dir: str | None, chart: bool) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(user_dir)] if user_dir else []
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([*loaders, jinja2.PackageLoader("a2c.templates", "")]),
        variable_start_string="[[", variable_end_string="]]", block_start_string="[%", block_end_string="%]",
        comment_start_string="[#", comment_end_string="#]",
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False, finalize=_chart_finalize if chart else finalize,
    )
    env.filters.update(FILTERS)
    env.filters.update(safe.FILTERS)
    return env


def render_manifest(template: str, values: Mapping[str, Any], chart: bool, **context: Any) -> str:
    """One manifest, plain (``chart`` false: the values printed) or as a chart template."""

    def lookup(path: str) -> Any:
        node: Any = values
        for part in path.split("."):
            node = node[part]
        return node

    def value(path: str) -> Any:
        data = lookup(path)
        if chart:
            return Helm(f"{{{{ .Values.{path} }}}}" if isinstance(data, int) else f"{{{{ .Values.{path} | quote }}}}")
        return data if isinstance(data, int) and not isinstance(data, bool) else to_json(data)

    def block(path: str, indent: int) -> Quoted:
        if chart:
            return Helm(f" {{{{- toYaml .Values.{path} | nindent {indent} }}}}")
        return trusted(_yaml(lookup(path), indent))

    def helm_if(path: str) -> Helm:  # a chart-only line: {{ … }} is not written in the templates themselves
        return Helm(f"{{{{- if .Values.{path} }}}}")

    def name(suffix: str = "") -> Quoted:
        return Helm(f"{{{{ .Release.Name }}}}{suffix}") if chart else to_json(context["app"] + suffix)

    try:
        env = environment(os.environ.get("A2C_TEMPLATES") or None, chart)
        return env.get_template(f"eks/{template}.yml.j2").render(
            chart=chart, value=value, block=block, name=name, values=values, helm_if=helm_if,
            helm_end=Helm("{{- end }}"), **context)
    except UnsafeValue as exc:
        raise UnsafeValue(f"eks/{template}.yml.j2: {exc.message}", exc.hint) from None


# -- checks of deployment.json -------------------------------------------------------------
def check_shared(deployment: Mapping[str, Any], source: str) -> None:
    """deployment.json's shared fields, checked as the ECS target checks them (secrets' valueFrom
    by ``secret_object``)."""
    safe.image_reference(deployment["imageName"], "$.imageName", source)
    safe.matches(deployment["ecrParameters"]["ecrRepoTag"], r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "image tag",
                 "$.ecrParameters.ecrRepoTag", source)
    for key in ("environment", "secrets"):
        for index, item in enumerate(deployment.get(key, [])):
            safe.matches(item["name"], ENV_NAME, "environment variable name", f"$.{key}[{index}].name", source)


def _whole(eks: Mapping[str, Any], key: str, default: int, low: int, high: int, source: str) -> int:
    value = eks.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise safe.refusal(source, f"$.eksParameters.{key}", value, f"is not a whole number from {low} to {high}")
    return value


def _optional(eks: Mapping[str, Any], key: str, pattern: str, what: str, source: str) -> str:
    value = eks.get(key) or ""
    return safe.matches(value, pattern, what, f"$.eksParameters.{key}", source) if value else ""


def _alias(eks: Mapping[str, Any], key: str, alias: str, source: str) -> Any:
    """A field App2Container spells otherwise (``ingress``, ``acmCertificateArn``): either name,
    not two different values."""
    value, other = eks.get(key) or "", eks.get(alias) or ""
    if value and other and value != other:
        raise safe.refusal(source, f"$.eksParameters.{alias}", other, f"differs from $.eksParameters.{key} "
                           f"({value!r}); keep one of the two")
    return value or other


def _ports(deployment: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    """The exposed ports, ``http`` or ``tcp`` (App2Container's tcp6 and the like are TCP), each
    with a Kubernetes port name."""
    items = deployment.get("exposedPorts") or []
    if not items:
        raise InvalidFile(f"{source}: $.exposedPorts: the list is empty; the service needs the port the application "
                          "serves on", f'Edit {source} and set $.exposedPorts to [{{"localPort": 8080, "protocol": '
                          '"http"}] with the application\'s port.')
    ports: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        port = safe.port(item.get("localPort"), f"$.exposedPorts[{index}].localPort", source)
        if any(p["port"] == port for p in ports):
            continue
        http = str(item.get("protocol") or "http").lower() == "http"
        first = http and not any(p["http"] for p in ports)
        ports.append({"port": port, "http": http, "name": "http" if first else f"{'http' if http else 'tcp'}-{port}"})
    return ports


def _storage(deployment: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    """The ``persistentStorage`` paths kept on EFS (``storage: none`` stays in the container)."""
    volumes: list[dict[str, Any]] = []
    for index, item in enumerate(deployment.get("persistentStorage") or []):
        field = f"$.persistentStorage[{index}]"
        storage = item.get("storage", "none")
        if storage not in ("efs", "none"):
            raise safe.refusal(source, f"{field}.storage", storage, 'is not "efs" or "none"')
        path = safe.absolute_path(item.get("path"), f"{field}.path", source)
        if ":" in path or path.rstrip("/") in ("", SECRETS_MOUNT) or any(v["path"] == path for v in volumes):
            raise safe.refusal(source, f"{field}.path", path, "cannot be a volume's mount path (no ':', not '/', "
                               f"not {SECRETS_MOUNT}, each path once)")
        if storage == "efs":
            volumes.append({"path": path, "suffix": f"-data-{len(volumes) + 1}", "volume": f"data-{len(volumes) + 1}"})
    return volumes


def secret_object(name: str, value_from: str, field: str, source: str) -> dict[str, Any]:
    """One object of the AWS provider's ``objects``: an SSM parameter (a name or an ARN) or a
    Secrets Manager secret, whose ECS-style ``:json-key:version-stage:version-id`` suffix
    becomes a JMESPath and version fields. The value is mounted (and synced) as ``name``."""
    secret_arn(value_from, field, source)  # the same forms ECS accepts
    if not value_from.startswith("arn:") or value_from.split(":")[2] == "ssm":
        return {"objectName": value_from, "objectType": "ssmparameter", "objectAlias": name}
    parts = value_from.split(":")
    key, stage, version = (parts[7:] + ["", "", ""])[:3]
    obj: dict[str, Any] = {"objectName": ":".join(parts[:7]), "objectType": "secretsmanager"}
    obj.update({"objectVersionLabel": stage} if stage else {})
    obj.update({"objectVersion": version} if version else {})
    if key:
        obj.update({"objectAlias": f"{name}.json", "jmesPath": [{"path": f'"{key}"', "objectAlias": name}]})
    else:
        obj["objectAlias"] = name
    return obj


def _tags(eks: Mapping[str, Any], app_id: str, source: str) -> str:
    """resourceTags as the load balancer controllers read them: ``key=value,…``."""
    tags = [t for t in eks.get("resourceTags", []) if t.get("key") not in ("", "example-key")]
    for index, tag in enumerate(tags):
        for part, longest in (("key", 128), ("value", 256)):
            field = f"$.eksParameters.resourceTags[{index}].{part}"
            check_tag(tag[part], field, source, 1 if part == "key" else 0, longest)
            if "=" in tag[part]:
                raise safe.refusal(source, field, tag[part], "holds '=', which the load balancer controller reads "
                                   "as the end of a key")
    return ",".join(f"{t['key']}={t['value']}" for t in [*tags, {"key": "a2c-application-id", "value": app_id}])


# -- rendering -------------------------------------------------------------------------------
def render_eks(deployment: Mapping[str, Any], image_uri: str, source: str = "deployment.json") -> dict[str, str]:
    """``{relative path: text}`` for EksDeployment/: a Deployment, or for a workload of another
    kind (deployment.json's ``workload.kind``) that kind's objects."""
    kind = (deployment.get("workload") or {}).get("kind", "service")
    if kind == "scheduled":
        from a2c.targets.eks_workloads import render_cronjob

        return render_cronjob(deployment, image_uri, source)
    if kind == "worker":
        from a2c.targets.eks_worker import render_keda_worker

        return render_keda_worker(deployment, image_uri, source)
    check_shared(deployment, source)
    if image_uri:
        safe.image_reference(image_uri, "the image URI (--image-uri, or the image pushed to ECR)", source)
    app_id = check_application_id(deployment["applicationId"], f"{source}: $.applicationId")
    app = kube_name(app_id)
    eks = deployment.get("eksParameters") or {}
    ports = _ports(deployment, source)
    http_ports = [p for p in ports if p["http"]]
    tcp_ports = [p for p in ports if not p["http"]]
    main = ports[0]
    replicas = _whole(eks, "replicas", 2, 1, 1000, source)
    max_replicas = _whole(eks, "maxReplicas", max(replicas, 4), replicas, 1000, source)
    memory = _whole(eks, "memory", 2048, 128, 1048576, source)
    cpu = eks.get("cpu", 1)
    if isinstance(cpu, bool) or not isinstance(cpu, (int, float)) or not 0.1 <= cpu <= 192:
        raise safe.refusal(source, "$.eksParameters.cpu", cpu, "is not a number of vCPUs (0.1-192)")
    ingress_class = _alias(eks, "ingressClass", "ingress", source) or "alb"
    if ingress_class not in ("alb", "nginx"):
        raise safe.refusal(source, "$.eksParameters.ingressClass", ingress_class, 'is not "alb" or "nginx"')
    certificate = _alias(eks, "certificateArn", "acmCertificateArn", source)
    certificate = _optional({"certificateArn": certificate}, "certificateArn", ACM_ARN, "ACM certificate ARN", source)
    role_arn = _optional(eks, "roleArn", ROLE_ARN, "IAM role ARN", source)
    file_system = _optional(eks, "efsFileSystemId", r"fs-[0-9a-f]{8,17}", "EFS file system id", source)
    storage_class = _optional(eks, "storageClassName", DNS_NAME, "StorageClass name", source) or "a2c-efs"
    storage_size = _optional(eks, "storageSize", QUANTITY, "size (such as 5Gi)", source) or "5Gi"
    record = _optional(eks, "dnsRecordName", DNS_LABEL, "DNS label", source)
    domain = _optional(eks, "rootDomain", DNS_NAME, "domain name", source)
    host = f"{record}.{domain}" if record and domain else ""
    app_path = safe.http_path(eks.get("applicationPath") or "/", "$.eksParameters.applicationPath", source)
    health_path = safe.http_path(eks.get("healthCheckPath") or "/", "$.eksParameters.healthCheckPath", source)
    health_port = safe.port(eks["healthCheckPort"], "$.eksParameters.healthCheckPort", source) \
        if eks.get("healthCheckPort") else main["port"]
    public = bool(eks.get("publicApp", True))
    tags = _tags(eks, app_id, source)
    volumes = _storage(deployment, source)
    secrets = [secret_object(s["name"], s["valueFrom"], f"$.secrets[{i}].valueFrom", source)
               for i, s in enumerate(deployment.get("secrets", []))]
    environment_ = [{"name": e["name"], "value": str(e["value"])} for e in deployment.get("environment", [])]
    if eks.get("javaHeapFromMemory", False) and not any(e["name"] == "JAVA_TOOL_OPTIONS" for e in environment_):
        # The JVM sizes its heap from the container's memory limit (the image's own -Xmx still wins).
        environment_.append({"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75.0"})
    size = {"cpu": f"{round(cpu * 1000)}m", "memory": f"{memory}Mi"}
    scheme = "internet-facing" if public else "internal"
    values: dict[str, Any] = {
        "image": image_uri or f"<account>.dkr.ecr.<region>.amazonaws.com/{ecr_path(deployment)}",
        "replicas": replicas,
        "resources": {"requests": dict(size), "limits": dict(size)},
        "env": environment_,
        "autoscaling": {"minReplicas": replicas, "maxReplicas": max_replicas,
                        "targetCPUUtilizationPercentage": _whole(eks, "targetCpuUtilization", 70, 1, 100, source)},
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {}},
    }
    if http_ports:
        values["ingress"] = {"enabled": True, "className": ingress_class, "host": host, "path": app_path,
                             "annotations": _ingress_annotations(ingress_class, scheme, health_path, health_port,
                                                                 main["port"], certificate, tags)}
    if volumes:
        values["storage"] = {"storageClassName": storage_class, "size": storage_size,
                             **({"fileSystemId": file_system} if file_system else {})}
    context = {
        "app": app, "app_id": app_id, "ports": ports, "main": main, "http_ports": http_ports, "tcp_ports": tcp_ports,
        "tcp_name": "-tcp" if http_ports else "", "health_path": health_path, "health_port": health_port,
        "volumes": volumes, "secrets": secrets, "secrets_mount": SECRETS_MOUNT,
        "synced": [s["jmesPath"][0]["objectAlias"] if "jmesPath" in s else s["objectAlias"] for s in secrets],
        "objects": trusted(_yaml(secrets, 6).lstrip("\n")) if secrets else "",
        "nlb": {"service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme,
                "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": tags},
        "storage_class": bool(volumes and file_system),
    }
    manifests = ["deployment", "service", "hpa", "pdb", "serviceaccount"]
    manifests += ["ingress"] if http_ports else []
    manifests += ["secretproviderclass"] if secrets else []
    manifests += ["storage"] if volumes else []
    files: dict[str, str] = {}
    for manifest in manifests:
        files[f"{manifest}.yml"] = render_manifest(manifest, values, False, **context)
        text = render_manifest(manifest, values, True, **context)
        if manifest == "ingress":  # the chart can leave the Ingress out (--set ingress.enabled=false)
            text = "{{- if .Values.ingress.enabled }}\n" + text + "{{- end }}\n"
        files[f"chart/templates/{manifest}.yaml"] = text
    files["chart/Chart.yaml"] = yaml_document({
        "apiVersion": "v2", "name": app, "description": f"{app_id} on Amazon EKS (written by a2c)",
        "type": "application", "version": "0.1.0", "appVersion": deployment["ecrParameters"]["ecrRepoTag"]})
    files["chart/values.yaml"] = yaml_document(values)
    load_balancers = bool(http_ports and ingress_class == "alb") + bool(tcp_ports)
    files["README.md"] = render("eks/README.md.j2", app=app, app_id=app_id, manifests=manifests,
                                cost=_cost(cpu, memory, replicas, load_balancers),
                                ingress_class=ingress_class, certificate=bool(certificate), public=public,
                                http=bool(http_ports), tcp=bool(tcp_ports), role_arn=bool(role_arn),
                                secrets=bool(secrets), volumes=bool(volumes), file_system=bool(file_system),
                                storage_class=storage_class, image_uri=image_uri)
    from a2c.targets.ekscluster import render_cluster
    from a2c.targets.secretslist import secrets_readme

    files.update(render_cluster(deployment, "default", app, {"a2c-application-id": app_id}, source))
    files.update(secrets_readme(deployment))
    return dict(sorted(files.items()))


def _ingress_annotations(ingress_class: str, scheme: str, health_path: str, health_port: int, port: int,
                         certificate: str, tags: str) -> dict[str, str]:
    """The AWS Load Balancer Controller's ALB settings; NGINX needs none (its own load balancer
    is the ingress-nginx controller's Service)."""
    if ingress_class == "nginx":
        return {}
    prefix = "alb.ingress.kubernetes.io/"
    listen = '[{"HTTP": 80}, {"HTTPS": 443}]' if certificate else '[{"HTTP": 80}]'
    annotations = {"scheme": scheme, "target-type": "ip", "healthcheck-path": health_path,
                   "healthcheck-port": "traffic-port" if health_port == port else str(health_port),
                   "listen-ports": listen, "tags": tags}
    if certificate:
        annotations.update({"certificate-arn": certificate, "ssl-redirect": "443"})
    return {prefix + key: value for key, value in annotations.items()}


def _cost(cpu: float, memory: int, replicas: int, load_balancers: int) -> dict[str, str]:
    """A rough monthly figure (us-east-1 list prices): the control plane, each load balancer's
    hourly charge, and the pods if they ran on Fargate (which rounds memory up to whole GB and
    adds 256 MiB for the kubelet). Nodes, traffic and LCUs are not counted."""
    gb = math.ceil((memory + 256) / 1024)
    fargate = replicas * (cpu * FARGATE_VCPU_HOUR + gb * FARGATE_GB_HOUR) * HOURS_PER_MONTH
    return {"control_plane": f"${CONTROL_PLANE_HOUR * HOURS_PER_MONTH:.2f}",
            "load_balancers": f"${load_balancers * LOAD_BALANCER_HOUR * HOURS_PER_MONTH:.2f}",
            "load_balancer_count": str(load_balancers),
            "fargate": f"${fargate:.2f}", "fargate_pods": f"{replicas} pods of {cpu:g} vCPU and {gb} GB"}


class EksTarget(Target):
    id: ClassVar[str] = "eks"
    section: ClassVar[str] = "eksParameters"
    flag: ClassVar[str] = "createEksArtifacts"
    output_folder: ClassVar[str] = "EksDeployment"
    main_file: ClassVar[str] = "deployment.yml"
    description: ClassVar[str] = "Amazon EKS: Kubernetes manifests and a Helm chart (ALB or NGINX ingress)"
    schema_resource: ClassVar[tuple[str, str]] = ("a2c.schemas", "target-eks.schema.json")
    default_on: ClassVar[bool] = False

    def defaults(self, analysis: AnalysisHead) -> dict[str, Any]:
        java = analysis.application_type.startswith("java-")  # deployment.json names no runtime
        return {
            "createEksArtifacts": self.default_on,
            "stackName": default_stack_name(analysis.app_id),
            "replicas": 2,
            "maxReplicas": 4,
            "cpu": 1,
            "memory": analysis.recommended_memory_mib or 2048,
            **({"javaHeapFromMemory": True} if java else {}),
            "healthCheckPath": analysis.health_check_path,
            **({"healthCheckPort": analysis.health_check_port} if analysis.health_check_port else {}),
            "ingressClass": "alb",
            "publicApp": True,
            "certificateArn": "",
            "roleArn": "",
            "resourceTags": [{"key": "example-key", "value": "example-value"}],
        }

    def stack_name(self, deployment: Mapping[str, Any]) -> str:
        return deployment.get(self.section, {}).get("stackName") or default_stack_name(deployment["applicationId"])

    def render(self, deployment: Mapping[str, Any], image_uri: str, source: str) -> dict[str, str]:
        return render_eks(deployment, image_uri, source)

    def next_steps(self, deployment: Mapping[str, Any], folder: str) -> list[str]:
        name = kube_name(deployment["applicationId"])
        if (deployment.get("workload") or {}).get("kind", "service") != "service":
            return [f"kubectl apply -f {folder}"]  # a CronJob or worker: plain manifests, no chart
        return [f"kubectl apply -f {folder}", f"or: helm install {name} {folder}/chart"]

    def deploy(self, deployment: Mapping[str, Any], folder: Path, aws: Any, reporter: Reporter,
               options: DeployOptions) -> DeployResult:
        """``kubectl apply -f`` the manifests to the cluster of ``options.kubeconfig``. Without a
        kubeconfig or kubectl, say so and print the commands that do it (a2c creates no cluster)."""
        import shlex
        import shutil
        import subprocess

        from a2c.targets.stack import DeployFailed

        config = ["--kubeconfig", options.kubeconfig] if options.kubeconfig else []
        apply = ["kubectl", *config, "apply", "-f", str(folder)]
        helm = ["helm", "install", kube_name(deployment["applicationId"]), str(folder / "chart"), *config]
        kubectl = shutil.which("kubectl")
        if not options.kubeconfig or kubectl is None:
            why = ("kubectl is not on PATH" if options.kubeconfig
                   else "no kubeconfig was given (--kubeconfig PATH or KUBECONFIG)")
            reporter.warn(f"The EKS manifests in {folder} were not applied: {why}. Apply them to your cluster with:\n"
                          f"  {shlex.join(apply)}\n  or: {shlex.join(helm)}")
            return DeployResult("", "NOT_DEPLOYED")
        try:
            done = subprocess.run([kubectl, *apply[1:]], capture_output=True, text=True, timeout=options.timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise DeployFailed(f"kubectl apply -f {folder} did not finish within {options.timeout / 60:g} minutes",
                               "Check that the cluster answers (`kubectl cluster-info`), then run the command "
                               "again.") from exc
        for line in done.stdout.splitlines():
            reporter.step(line)
        if done.returncode != 0:
            error = " ".join(done.stderr.split())[-500:] or f"exit status {done.returncode}"
            raise DeployFailed(f"kubectl apply -f {folder} failed: {error}",
                               f"Fix the cause (the cluster in {options.kubeconfig}, its add-ons in "
                               f"{folder}/README.md), then run the command again, or apply by hand: "
                               f"{shlex.join(apply)}")
        return DeployResult("", "APPLIED")

