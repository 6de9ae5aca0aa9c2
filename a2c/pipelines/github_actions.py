"""GitHub Actions: a workflow that builds the image on every push to the branch, pushes it to ECR
and rolls it out per enabled environment (beta, then prod behind a GitHub environment), and a
CloudFormation template of the role the workflow assumes through GitHub's OIDC provider. The
checks of pipeline.json, the environments and the IAM statements are a2c.pipelines.common's.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Mapping

from a2c.generate.render import render
from a2c.pipelines.base import Pipeline
from a2c.pipelines.common import BRANCH, GITHUB_REPOSITORY, Plan, _text, check_plan, statements, sub_arn

# -- GitHub Actions --------------------------------------------------------------------------------------
OIDC_HOST = "token.actions.githubusercontent.com"
ROLE_VARIABLE = "A2C_AWS_ROLE_ARN"


def check_github(pipeline: Mapping[str, Any], source: str) -> tuple[str, str]:
    section = (pipeline.get("pipelineInfo") or {}).get("GitHubActions") or {}
    repository = _text(section.get("repository"), GITHUB_REPOSITORY, "GitHub repository (owner/repo)",
                       "$.pipelineInfo.GitHubActions.repository", source)
    branch = _text(section.get("branch") or "main", BRANCH, "branch name (letters, digits, . _ / -)",
                   "$.pipelineInfo.GitHubActions.branch", source)
    return repository, branch


def oidc_subjects(repository: str, branch: str, plan: Plan) -> list[str]:
    """The ``sub`` claims the role trusts: pushes to the branch, and the prod environment's jobs
    (GitHub names a job that sets ``environment:`` by the environment instead of the ref)."""
    subjects = [f"repo:{repository}:ref:refs/heads/{branch}"]
    if plan.stage("prod"):
        subjects.append(f"repo:{repository}:environment:prod")
    return subjects


class GitHubActionsPipeline(Pipeline):
    id: ClassVar[str] = "github-actions"
    section: ClassVar[str] = "GitHubActions"
    flag: ClassVar[str] = "enabled"
    output_folder: ClassVar[str] = "GitHubActions"
    description: ClassVar[str] = ("A GitHub Actions workflow (build, push to ECR, deploy beta then prod) and the "
                                  "IAM role it assumes through GitHub's OIDC provider")

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "required": ["enabled"], "properties": {
            "enabled": {"type": "boolean"},
            "repository": {"type": "string", "pattern": f"^{GITHUB_REPOSITORY}$"},
            "branch": {"type": "string", "pattern": f"^{BRANCH}$"}}}

    def render(self, pipeline: Mapping[str, Any], deployment: Mapping[str, Any], source: str) -> dict[str, str]:
        plan = check_plan(pipeline, deployment, source)
        repository, branch = check_github(pipeline, source)
        workflow = f".github/workflows/a2c-{plan.app_id}.yml"
        role_stack = f"a2c-{re.sub(r'[^A-Za-z0-9-]', '-', plan.app_id)}-github-oidc"[:128]
        policy = {"Version": "2012-10-17", "Statement": statements(plan, sub_arn)}
        subjects = oidc_subjects(repository, branch, plan)
        context = dict(plan=plan, app_id=plan.app_id, repository=repository, branch=branch, subjects=subjects,
                       beta=plan.stage("beta"), prod=plan.stage("prod"), role_variable=ROLE_VARIABLE,
                       region_expression="vars.AWS_REGION", policy=policy, oidc_host=OIDC_HOST,
                       tags=[{"key": k, "value": v} for k, v in plan.tags], workflow=workflow, role_stack=role_stack)
        return {
            workflow: render("pipeline/github-actions/workflow.yml.j2", **context),
            "github-oidc-role.yml": render("pipeline/github-actions/github-oidc-role.yml.j2", **context),
            "README.md": render("pipeline/github-actions/README.md.j2", **context),
        }


__all__ = ["GitHubActionsPipeline", "check_github", "oidc_subjects"]
