"""SECRETS.md beside a template: every parameter or secret the stack reads at task start, and
the ``aws`` command that creates it.

a2c never holds a secret's value (analysis.json and deployment.json name where each was found
and what the task reads); the user creates the values before the first deploy, by hand with
these commands or from the application server with ``a2c analyze --store-secrets``.
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping


def secret_kind(value_from: str) -> tuple[str, str]:
    """("ssm" or "secretsmanager", the name to create) of a deployment.json valueFrom."""
    if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
        name = value_from.split(":secret:", 1)[-1].split(":", 1)[0]
        if len(name) > 7 and name[-7] == "-":  # the random suffix Secrets Manager appends to a name
            name = name[:-7]
        return "secretsmanager", name
    if value_from.startswith("arn:"):
        return "ssm", "/" + value_from.split(":parameter/", 1)[-1].lstrip("/")
    return "ssm", value_from if value_from.startswith("/") else "/" + value_from


def create_command(value_from: str, region: str = "") -> str:
    """The command that creates one secret (the value typed in place of VALUE, or read from a file)."""
    kind, name = secret_kind(value_from)
    where = f" --region {shlex.quote(region)}" if region else ""
    if kind == "secretsmanager":
        return f"aws secretsmanager create-secret{where} --name {shlex.quote(name)} --secret-string 'VALUE'"
    return f"aws ssm put-parameter{where} --type SecureString --name {shlex.quote(name)} --value 'VALUE'"


def secrets_readme(deployment: Mapping[str, Any]) -> dict[str, str]:
    """``{"SECRETS.md": text}`` when the deployment reads secrets, else nothing."""
    secrets = [s for s in deployment.get("secrets") or () if isinstance(s, Mapping) and s.get("valueFrom")]
    if not secrets:
        return {}
    app_id = deployment.get("applicationId", "")
    lines = [f"# Secrets {app_id} reads at start", "",
             "Each value is read by the task when it starts, never stored by a2c. Create every one before the first "
             "deploy (`a2c generate app-deployment --deploy` checks that they exist and names the missing ones), with "
             "the command below (type the value in place of VALUE, or use `file://path` to read it from a file), or "
             f"from the application server with `a2c analyze --application-id {app_id} --store-secrets`.", ""]
    for secret in secrets:
        kind, name = secret_kind(str(secret["valueFrom"]))
        where = "an SSM parameter (SecureString)" if kind == "ssm" else "a Secrets Manager secret"
        found = str(secret.get("foundIn", "")).replace("`", "'")
        lines += [f"- `{secret.get('name', '')}`, {where} `{name}`" + (f", found in `{found}`" if found else ""), "",
                  "  ```sh", f"  {create_command(str(secret['valueFrom']))}", "  ```", ""]
    return {"SECRETS.md": "\n".join(lines)}
