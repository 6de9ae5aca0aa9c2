"""``a2c generate pipeline`` as a user runs it: a Tomcat snapshot through inventory, analyze,
containerize --artifacts-only and generate app-deployment, then the pipeline's files, the
repository layout, an edit refused with its field, and --help."""

from __future__ import annotations

import json
import shutil

from tests.conftest import FIXTURES

SNAPSHOT = str(FIXTURES / "snapshots" / "tomcat-host")


def _tomcat(run_a2c) -> str:
    listed = run_a2c("--json", "inventory", "--snapshot", SNAPSHOT)
    assert listed.exit_code == 0, listed
    app_id = next(k for k, e in listed.json().items() if e.get("applicationType") == "java-tomcat")
    for args in (("analyze", "--application-id", app_id, "--snapshot", SNAPSHOT),
                 ("containerize", "--application-id", app_id, "--snapshot", SNAPSHOT, "--artifacts-only"),
                 ("generate", "app-deployment", "--application-id", app_id)):
        result = run_a2c(*args)
        assert result.exit_code == 0, result
    return app_id


def test_generate_pipeline_writes_the_pipeline_and_the_repository(run_a2c, workspace):
    app_id = _tomcat(run_a2c)
    assert (workspace / app_id / "pipeline.json").is_file(), "generate app-deployment writes it"
    result = run_a2c("--json", "generate", "pipeline", "--application-id", app_id, "--snapshot", SNAPSHOT)
    assert result.exit_code == 0, result
    out = result.json()
    folder = workspace / app_id / "Artifacts" / "Pipeline"
    assert out["kind"] == "codepipeline" and out["template"] == str(folder / "CodePipeline" / "pipeline.yml")
    for name in ("pipeline.yml", "buildspec.yml", "deployspec.yml", "README.md"):
        assert (folder / "CodePipeline" / name).is_file()
    repository = folder / "repository"
    assert (repository / "buildspec.yml").is_file() and (repository / "EcsDeployment" / "ecs-master.yml").is_file()
    # The build context is exported into it: the Dockerfile at the top, the application's files, .a2c/.
    assert (repository / "Dockerfile").read_bytes() == (workspace / app_id / "Artifacts" / "Dockerfile").read_bytes()
    assert any((repository / "layers").rglob("*.war")) or any((repository / "layers").rglob("web.xml"))
    assert (repository / ".a2c" / "restore-metadata.py").is_file() and (repository / "support" / "a2c").is_dir()
    assert "build context is here" in (repository / "README.md").read_text()

    assert "- `layers/`" in (repository / "README.md").read_text()
    shutil.rmtree(repository)
    bare = run_a2c("--json", "generate", "pipeline", "--application-id", app_id, "--no-context")
    assert bare.exit_code == 0, bare
    assert f"--export-context {app_id}/Artifacts/Pipeline/repository" in (repository / "README.md").read_text()

    path = workspace / app_id / "pipeline.json"
    document = json.loads(path.read_text())
    document["sourceInfo"]["S3"]["enabled"] = True
    path.write_text(json.dumps(document))
    refused = run_a2c("generate", "pipeline", "--application-id", app_id)
    assert refused.exit_code == 6, refused
    assert "$.sourceInfo.S3.enabled" in refused.stderr


def test_generate_pipeline_help(run_a2c):
    result = run_a2c("generate", "pipeline", "--help")
    assert result.exit_code == 0, result
    assert "Examples:" in result.stdout and "--deploy" in result.stdout and "Exit statuses:" in result.stdout
