"""The corpus: every application a2c must migrate with no edit, in one list.

Adding one is a few lines: a ``start(workdir) -> Running`` function (``base.launch`` does the
waiting) and a ``CorpusApp`` entry in ``debian.py`` (servers from Debian packages, run the way
their users run them) or ``inhouse.py`` (services written the way real teams write them).
"""

from __future__ import annotations

from tests.corpus.base import CorpusApp
from tests.corpus.debian import DEBIAN
from tests.corpus.inhouse import INHOUSE

APPS: list[CorpusApp] = DEBIAN + INHOUSE


def by_name(names: list[str] | None = None) -> list[CorpusApp]:
    if not names:
        return list(APPS)
    known = {app.name: app for app in APPS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown corpus app {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
