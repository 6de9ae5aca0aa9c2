"""``<app>/Artifacts/Pipeline/repository/``: a folder the user can ``git init`` and push to the
pipeline's source. It holds a README saying what to do next, the files the pipeline kind reads
from the repository (the CodePipeline buildspec), and the release targets' folders as
``generate app-deployment`` rendered them (EcsDeployment/, …). The application's build context
(Dockerfile at the top, with ``.a2c/`` to restore what Git loses) is exported into it first by the
``generate pipeline`` command (``a2c containerize --export-context`` underneath)."""

from __future__ import annotations

import shlex
from typing import Any, Mapping

from a2c.pipelines.pipelinejson import enabled_source


def repository_readme(pipeline: Mapping[str, Any], kind: Any, folders: list[str], missing: list[str],
                      context: bool = False) -> str:
    app_id = str(pipeline["applicationId"])
    key = enabled_source(pipeline)
    settings = pipeline["sourceInfo"][key]
    branch = settings.get("branch") or "main"
    q = shlex.quote
    remote = {
        "CodeCommit": f"codecommit::REGION://{settings.get('repositoryName', '')}",
        "CodeConnections": f"the repository {settings.get('repositoryId', '')} on {settings.get('provider', 'GitHub')}",
        "ExistingGitRepo": settings.get("repositoryUri", ""),
    }.get(key, "")
    lines = [f"# Source repository of {app_id}", "",
             f"What the {kind.description} pipeline builds from. Each push to `{branch}` runs it.", "",
             "## Next", ""]
    if context:
        lines += ["1. The application's build context is here: `Dockerfile` at the top, the files it copies "
                  "(`layers/`, `generated/`, `writable/`, `support/`), and `.a2c/`, the modes and times Git "
                  "and zips lose, which the build restores with `python3 .a2c/restore-metadata.py` before "
                  "`docker build .`. `a2c generate pipeline` exports it again on every run and replaces this "
                  "folder: change the application through a2c (analysis.json, Artifacts/), not here.", ""]
    else:
        lines += ["1. Export the application's build context (its Dockerfile and files) into this folder:", "",
                  "```sh", f"a2c containerize --application-id {q(app_id)} --artifacts-only --export-mode copy "
                  f"--force --export-context {q(f'{app_id}/Artifacts/Pipeline/repository')}", "```", "",
                  "   (run it in the a2c workspace; `a2c generate pipeline` does it unless given --no-context).", ""]
    if key in ("CodeCommit", "S3"):
        lines += [f"   `a2c generate pipeline --application-id {q(app_id)} --deploy` pushes this folder to the "
                  "source for you after deploying the pipeline; by hand:", ""]
    if key == "S3":
        lines += ["2. Zip the folder and upload it where the pipeline polls:", "", "```sh",
                  f"zip -r source.zip . && aws s3 cp source.zip "
                  f"{q('s3://' + str(settings.get('bucket', '')) + '/' + str(settings.get('objectKey', '')))}",
                  "```", ""]
    else:
        lines += ["2. Make it a Git repository and push it:", "", "```sh",
                  f"git init -b {q(branch)} && git add . && git commit -m 'Containerized with a2c'", ]
        if key == "CodeCommit":
            lines += ["pip install git-remote-codecommit  # pushes with your AWS credentials",
                      f"git remote add origin {q(remote)}  # REGION: the pipeline's region"]
        else:
            lines += [f"git remote add origin URL  # {remote}"]
        lines += [f"git push -u origin {q(branch)}", "```", ""]
    lines += ["## What is here", "", *[f"- `{f}`" for f in folders], ""]
    if missing:
        lines += [f"Not copied (not rendered yet: run `a2c generate app-deployment --application-id {q(app_id)}`, "
                  f"then `a2c generate pipeline` again): {', '.join(missing)}", ""]
    return "\n".join(lines)


def render_repository(pipeline: Mapping[str, Any], kind: Any, kind_files: Mapping[str, str],
                      target_files: Mapping[str, Mapping[str, bytes]], missing: list[str],
                      context: list[str] | None = None) -> dict[str, str | bytes]:
    """``{path in the repository: content}``: the README, the kind's repository files, and each
    target folder's files (``target_files``: folder name -> {relative path: bytes})."""
    files: dict[str, str | bytes] = {}
    for rendered, there in kind.repository_files.items():
        if rendered in kind_files:
            files[there] = kind_files[rendered]
    for folder, contents in target_files.items():
        for relative, data in contents.items():
            files[f"{folder}/{relative}"] = data
    tops = sorted({path.split("/")[0] + ("/" if "/" in path else "") for path in files})
    tops = sorted({*tops, *(context or [])})  # context: the exported build context's top entries
    files["README.md"] = repository_readme(pipeline, kind, tops, missing, bool(context))
    return files
