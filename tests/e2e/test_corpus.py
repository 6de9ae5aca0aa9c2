"""Every corpus application (tests/corpus/catalog.py: Debian's Java servers and in-house-style
services) goes from inventory to an image validated against the running original, with no
edit. The same runner gives benchmarks/migration.py its figure."""

from __future__ import annotations

import pytest

from tests.conftest import missing
from tests.corpus.catalog import APPS
from tests.corpus.migrate import migrate


@pytest.mark.parametrize("app", APPS, ids=[a.name for a in APPS])
def test_migrates_with_no_edit(app, tmp_path, docker_client, jre_image):
    outcome = migrate(app, tmp_path)
    if outcome.unavailable:
        missing(f"{app.name}: {outcome.reason}", "run scripts/setup.sh and scripts/setup-dotnet.sh")
    assert outcome.migrated, outcome.line()
    rows = outcome.validation["ports"]
    assert rows and all(r["match"] for r in rows)
