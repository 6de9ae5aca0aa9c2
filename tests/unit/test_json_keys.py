"""--json output keys are camelCase everywhere (App2Container's style), whatever the Python names."""

from __future__ import annotations

import re

from a2c.steps.containerize import ContainerizeResult
from a2c.steps.extract import ExtractResult
from a2c.model import camel_case, json_fields


def test_camel_case():
    assert [camel_case(n) for n in ("app_id", "context_files", "image", "kept_edited")] == [
        "applicationId", "contextFiles", "image", "keptEdited"]


def test_results_print_camel_case_keys():
    for data in (ContainerizeResult(app_id="x", image="x:1").to_json(), json_fields(ExtractResult("x", "/a", 1, 2))):
        assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", key) for key in data), data
        assert data["applicationId"] == "x"
