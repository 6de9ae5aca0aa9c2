"""A cluster for users without one: an eksctl ClusterConfig in EksDeployment/cluster/.

eksctl, not a CloudFormation template of a2c's own, because what a cluster for these manifests
needs beyond the EKS API is kept current by eksctl: the IAM policies of the AWS Load Balancer
Controller and the EFS CSI driver (``wellKnownPolicies``, which AWS revises as the controllers
gain features; a copy in our template would go stale), the OIDC provider for IAM roles for
service accounts, and the managed add-ons, all from one file and one command. eksctl writes
CloudFormation stacks itself, so the result is still a stack a user can inspect and delete.
"""

from __future__ import annotations

from typing import Any, Mapping

from a2c.generate import safe
from a2c.targets.shared import INSTANCE_TYPE, stack_name_for

# EKS versions in standard support as this release was made; the user may pick another.
KUBERNETES_VERSION = "1.33"
CLUSTER_NAME = r"[A-Za-z][A-Za-z0-9-]{0,99}"
REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]"
VERSION = r"1\.[0-9]{2}"
KUBE_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


def cluster_settings(deployment: Mapping[str, Any], source: str) -> dict[str, Any]:
    """eksParameters.cluster, checked; defaults for what is missing."""
    eks = deployment.get("eksParameters") or {}
    cluster = eks.get("cluster") or {}
    field = "$.eksParameters.cluster"
    name = safe.matches(cluster.get("name") or stack_name_for(deployment["applicationId"], "eks")[:100], CLUSTER_NAME,
                        "EKS cluster name (a letter, then letters, digits and '-', at most 100)", f"{field}.name", source)
    region = safe.matches(cluster.get("region") or "us-east-1", REGION, "AWS region", f"{field}.region", source)
    version = safe.matches(str(cluster.get("version") or KUBERNETES_VERSION), VERSION, "Kubernetes version (1.NN)",
                           f"{field}.version", source)
    arm = (eks.get("cpuArchitecture") or deployment.get("ecsParameters", {}).get("cpuArchitecture")) == "ARM64"
    instance = safe.matches(cluster.get("instanceType") or ("m7g.large" if arm else "m6i.large"), INSTANCE_TYPE,
                            "EC2 instance type", f"{field}.instanceType", source)
    low, high = cluster.get("minSize", 2), cluster.get("maxSize", 4)
    if isinstance(low, bool) or isinstance(high, bool) or not (isinstance(low, int) and isinstance(high, int)) or \
            not 1 <= low <= high <= 100:
        raise safe.refusal(source, f"{field}.minSize", low, f"and maxSize {high!r} are not a node range (1 <= min <= "
                           "max <= 100)", "Set minSize 2 and maxSize 4, for example.")
    return {"name": name, "region": region, "version": version, "instance": instance, "min": low, "max": high,
            "arm": arm}


def cluster_config(settings: Mapping[str, Any], namespace: str, service_account: str,
                   tags: Mapping[str, str], secret_arns: list[str]) -> dict[str, Any]:
    """The ClusterConfig document: private managed nodes, OIDC, the controllers' roles, add-ons."""
    accounts: list[dict[str, Any]] = [
        {"metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system"},
         "wellKnownPolicies": {"awsLoadBalancerController": True}},
    ]
    if secret_arns:  # the application's own role: exactly the secrets it reads
        accounts.append({"metadata": {"name": service_account, "namespace": namespace},
                         "attachPolicy": {"Version": "2012-10-17", "Statement": [{
                             "Effect": "Allow", "Action": ["ssm:GetParameters", "secretsmanager:GetSecretValue"],
                             "Resource": secret_arns}]}})
    return {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": settings["name"], "region": settings["region"], "version": settings["version"],
                     "tags": dict(tags)},
        "iam": {"withOIDC": True, "serviceAccounts": accounts},
        "addons": [{"name": "vpc-cni"}, {"name": "coredns"}, {"name": "kube-proxy"},
                   {"name": "eks-pod-identity-agent"},
                   {"name": "aws-efs-csi-driver", "wellKnownPolicies": {"efsCSIController": True}}],
        "managedNodeGroups": [{
            "name": "nodes", "instanceType": settings["instance"], "minSize": settings["min"],
            "maxSize": settings["max"], "desiredCapacity": settings["min"], "privateNetworking": True,
            "volumeEncrypted": True, "volumeType": "gp3", "volumeSize": 50,
            "amiFamily": "AmazonLinux2023", "disableIMDSv1": True, "tags": dict(tags),
        }],
        "cloudWatch": {"clusterLogging": {"enableTypes": ["api", "audit", "authenticator"], "logRetentionInDays": 30}},
    }


def cluster_readme(settings: Mapping[str, Any]) -> str:
    name, region = settings["name"], settings["region"]
    return "\n".join([
        f"# A cluster for these manifests: {name}", "",
        "For an account without an EKS cluster. `cluster.yaml` is an eksctl ClusterConfig (eksctl keeps the "
        "controllers' IAM policies current, see a2c/targets/ekscluster.py for why this and not a template of ours):",
        "",
        f"- an EKS {settings['version']} control plane in {region}, in a new VPC across the region's zones (public "
        "subnets for load balancers, private ones for nodes, NAT);",
        f"- a managed node group of {settings['min']}-{settings['max']} {settings['instance']} nodes in the private "
        "subnets (encrypted gp3 volumes, IMDSv2 only);",
        "- the OIDC provider for IAM roles for service accounts, and the roles of the AWS Load Balancer Controller "
        "and the EFS CSI driver;",
        "- the add-ons vpc-cni, coredns, kube-proxy, eks-pod-identity-agent and aws-efs-csi-driver;",
        "- control plane logs (api, audit, authenticator) kept 30 days.", "",
        "Rough monthly cost (us-east-1 on demand, 730 hours): 73 USD for the control plane, plus the nodes "
        f"({settings['min']} x {settings['instance']}) and one NAT gateway (about 33 USD), before data transfer.", "",
        "## Create it", "", "```sh", "eksctl create cluster -f cluster.yaml",
        "helm repo add eks https://aws.github.io/eks-charts",
        f"helm install aws-load-balancer-controller eks/aws-load-balancer-controller -n kube-system "
        f"--set clusterName={name} --set serviceAccount.create=false "
        "--set serviceAccount.name=aws-load-balancer-controller", "```", "",
        "Then deploy the application from the folder above (its README).", ""])


def secret_resources(deployment: Mapping[str, Any], region: str) -> list[str]:
    """The ARNs the application's role may read: each secret's ARN, or its SSM parameter's in the
    cluster's region (any account: the cluster's own is not known here)."""
    arns = []
    for secret in deployment.get("secrets") or ():
        value_from = str(secret.get("valueFrom", ""))
        if value_from.startswith("arn:"):  # a secret's ARN without ECS's :json-key:stage:version suffix
            arns.append(":".join(value_from.split(":")[:7]))
        else:
            arns.append(f"arn:aws:ssm:{region}:*:parameter/{value_from.lstrip('/')}")
    return arns


def render_cluster(deployment: Mapping[str, Any], namespace: str, service_account: str, tags: Mapping[str, str],
                   source: str) -> dict[str, str]:
    """``{"cluster/cluster.yaml", "cluster/README.md"}`` for EksDeployment/ (secrets' names were
    checked by the EKS target already)."""
    import yaml

    settings = cluster_settings(deployment, source)
    secret_arns = secret_resources(deployment, settings["region"])
    safe.matches(namespace, KUBE_NAME, "Kubernetes namespace", "the namespace", source)
    safe.matches(service_account, KUBE_NAME, "Kubernetes name", "the service account", source)
    document = cluster_config(settings, namespace, service_account, tags, secret_arns)
    text = "# Generated by a2c: eksctl create cluster -f cluster.yaml\n" + yaml.safe_dump(document, sort_keys=False)
    return {"cluster/cluster.yaml": text, "cluster/README.md": cluster_readme(settings)}
