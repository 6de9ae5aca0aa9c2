"""Jenkins: a declarative Jenkinsfile (checkout, build, push to ECR with the commit id, deploy per
environment, an approval before prod), config.xml for Jenkins' createItem API (a pipeline job
reading the Jenkinsfile from the repository) and the IAM policy the agents need.

Values reach the Jenkinsfile only as Groovy single-quoted strings (a2c.generate.quoting's
``groovy``), set in ``environment``
or ``withEnv``; the ``sh`` steps are single-quoted too and read them as shell variables, so no
value is ever interpolated into a command.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Mapping

from a2c.generate import safe
from a2c.pipelines.base import Pipeline
from a2c.generate.render import render
from a2c.pipelines.common import BRANCH, GITHUB_REPOSITORY, REGION, Plan, check_plan, policy_json

CREDENTIAL_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
LABEL = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
HTTPS_URL = r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?"
GIT_URL = r"(?:https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?/[A-Za-z0-9._~/-]+|ssh://[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(?::[0-9]{1,5})?/[A-Za-z0-9._~/-]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+)"
CODECOMMIT_NAME = r"[A-Za-z0-9._-]{1,100}"
PROVIDERS = {"GitHub": "https://github.com/", "GitHubEnterpriseServer": "", "GitLab": "https://gitlab.com/",
             "Bitbucket": "https://bitbucket.org/"}


def check_source(pipeline: Mapping[str, Any], plan: Plan, source: str) -> dict[str, str]:
    """The repository the job checks out: url, branch and the Jenkins credential that reads it."""
    info = pipeline.get("sourceInfo") or {}
    jenkins = (pipeline.get("pipelineInfo") or {}).get("Jenkins") or {}
    credential = jenkins.get("repoSshCredentialId") or ""
    if credential:
        safe.matches(credential, CREDENTIAL_ID, "Jenkins credential id", "$.pipelineInfo.Jenkins.repoSshCredentialId",
                     source)
    for name, section in info.items():
        if not (isinstance(section, Mapping) and section.get("enabled") is True):
            continue
        path = f"$.sourceInfo.{name}"
        branch = safe.matches(section.get("branch") or "main", BRANCH, "branch name", f"{path}.branch", source)
        if name == "CodeCommit":
            repo = safe.matches(section.get("repositoryName"), CODECOMMIT_NAME, "CodeCommit repository name",
                                f"{path}.repositoryName", source)
            if not plan.region:
                raise safe.refusal(source, "$.imageInfo.image", "", "names no ECR region, so the CodeCommit URL is "
                                   "not known", "Set $.imageInfo.image to the full ECR image URI.")
            url = f"https://git-codecommit.{plan.region}.amazonaws.com/v1/repos/{repo}"
        elif name == "ExistingGitRepo":
            url = safe.matches(section.get("repositoryUri"), GIT_URL, "Git repository URL", f"{path}.repositoryUri",
                               source)
        elif name == "CodeConnections":
            provider = str(section.get("provider") or "")
            if not PROVIDERS.get(provider):
                raise safe.refusal(source, f"{path}.provider", provider, "is not a provider Jenkins can clone from "
                                   f"by URL ({', '.join(p for p, u in PROVIDERS.items() if u)})")
            repo = safe.matches(section.get("repositoryId"), GITHUB_REPOSITORY, "repository id (owner/repo)",
                                f"{path}.repositoryId", source)
            url = f"{PROVIDERS[provider]}{repo}.git"
        else:
            raise safe.refusal(source, path, name, "is not a Git repository a Jenkins job can check out "
                               "(CodeCommit, ExistingGitRepo, CodeConnections)")
        return {"url": url, "branch": branch, "credential": credential}
    raise safe.refusal(source, "$.sourceInfo", "", "enables no source repository",
                       f"Set $.sourceInfo.ExistingGitRepo.enabled (or CodeCommit) to true in {source}.")


class JenkinsPipeline(Pipeline):
    id: ClassVar[str] = "jenkins"
    section: ClassVar[str] = "Jenkins"
    flag: ClassVar[str] = "enabled"
    output_folder: ClassVar[str] = "Jenkins"
    description: ClassVar[str] = ("A declarative Jenkinsfile (build, push to ECR, deploy beta, approve, deploy "
                                  "prod), the job's config.xml for createItem and the agents' IAM policy")

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "required": ["enabled"], "properties": {
            "enabled": {"type": "boolean"},
            "jenkinsServerUrl": {"type": "string", "pattern": f"^{HTTPS_URL}$"},
            "nodeLabels": {"type": "array", "items": {"type": "string", "pattern": f"^{LABEL}$"}},
            "awsCredentialId": {"type": "string", "pattern": f"^{CREDENTIAL_ID}$"},
            "repoSshCredentialId": {"type": "string"}}}

    def render(self, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> dict[str, str]:
        plan = check_plan(pipeline, deployment, source)
        jenkins = (pipeline.get("pipelineInfo") or {}).get("Jenkins") or {}
        base = "$.pipelineInfo.Jenkins"
        server = safe.matches(jenkins.get("jenkinsServerUrl"), HTTPS_URL, "HTTPS URL", f"{base}.jenkinsServerUrl",
                              source).rstrip("/")
        labels = jenkins.get("nodeLabels") or []
        if not isinstance(labels, list):
            raise safe.refusal(source, f"{base}.nodeLabels", labels, "is not a list of labels")
        labels = [safe.matches(label, LABEL, "Jenkins node label", f"{base}.nodeLabels[{i}]", source)
                  for i, label in enumerate(labels)]
        credential = safe.matches(jenkins.get("awsCredentialId"), CREDENTIAL_ID, "Jenkins credential id",
                                  f"{base}.awsCredentialId", source)
        if plan.region:
            safe.matches(plan.region, REGION, "AWS region", "$.imageInfo.image", source)
        repo = check_source(pipeline, plan, source)
        job = re.sub(r"[^A-Za-z0-9._-]", "-", f"a2c-{plan.app_id}")
        context = dict(plan=plan, app_id=plan.app_id, label=" && ".join(labels), credential=credential,
                       beta=plan.stage("beta"), prod=plan.stage("prod"), repo=repo, server=server, job=job)
        return {
            "Jenkinsfile": render("pipeline/jenkins/Jenkinsfile.j2", **context),
            "config.xml": render("pipeline/jenkins/config.xml.j2", **context),
            "jenkins-agent-policy.json": policy_json(plan),
            "README.md": render("pipeline/jenkins/README.md.j2", **context),
        }
