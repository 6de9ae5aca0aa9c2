"""extract on the application host, containerize --input-archive on a "worker" (another workspace)."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.slow]


def test_extract_then_containerize_from_archive(samples, run_a2c, workspace, tmp_path, jre_image):
    inventory = run_a2c("--json", "inventory").json()
    app_id = next(k for k, v in inventory.items() if v["processId"] == samples["tomcat"]["pid"])
    assert run_a2c("analyze", "--application-id", app_id).exit_code == 0
    extracted = run_a2c("--json", "extract", "--application-id", app_id)
    assert extracted.exit_code == 0, extracted
    archive = extracted.json()["archive"]
    assert extracted.json()["files"] > 20

    worker = tmp_path / "worker"
    result = run_a2c("--json", "--workspace", str(worker), "containerize", "--input-archive", archive,
                     "--base-image", jre_image)
    assert result.exit_code == 0, result
    assert result.json()["validation"]["status"] == 200
    assert json.loads((worker / app_id / "analysis.json").read_text())["analysisInfo"]["appId"] == app_id
