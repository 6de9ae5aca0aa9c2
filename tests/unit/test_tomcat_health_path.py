"""Tomcat's health check path is a context that can answer, not "/" because a ROOT folder exists
(issue 9, cause 1: Debian's makebase.sh leaves an empty ROOT that answers 404 on the host too)."""

from __future__ import annotations

import pytest

from a2c.analyzers.java.tomcat import health_check_path
from a2c.hosts.local import LocalHost


def _webapps(tmp_path, layout: dict[str, list[str]]):
    root = tmp_path / "webapps"
    for app, files in layout.items():
        if app.endswith(".war"):
            root.mkdir(exist_ok=True)
            (root / app).write_bytes(b"PK\x05\x06" + b"\0" * 18)
            continue
        (root / app).mkdir(parents=True)
        for name in files:
            (root / app / name).parent.mkdir(parents=True, exist_ok=True)
            (root / app / name).write_text("x")
    return str(root)


@pytest.mark.parametrize("layout, expected", [
    ({"ROOT": ["index.html"], "ledger": ["index.jsp"]}, "/"),
    ({"ROOT": [], "ledger": ["WEB-INF/web.xml"]}, "/ledger/"),  # makebase.sh's empty ROOT
    ({"ROOT": ["META-INF/context.xml"], "docs": ["index.html"], "ledger": ["WEB-INF/web.xml"]}, "/ledger/"),
    ({"ROOT": [], "docs": ["index.html"], "examples": ["index.html"], "manager": ["WEB-INF/web.xml"]}, "/docs/"),
    ({"ROOT": [], "manager": ["WEB-INF/web.xml"], "host-manager": ["WEB-INF/web.xml"]}, "/"),
    ({"ledger": ["META-INF/context.xml"], "docs": []}, "/ledger/"),  # nothing shows it answers: the first, as before
    ({"ROOT": [], "shop.war": []}, "/shop/"),  # a WAR is not looked into
    ({}, "/"),
])
def test_the_health_check_asks_a_context_that_can_answer(tmp_path, layout, expected):
    webapps = _webapps(tmp_path, layout)
    names = sorted((n[:-4] if n.endswith(".war") else n for n in layout), key=lambda n: (n != "ROOT", n))
    assert health_check_path(LocalHost(), webapps, names) == expected
