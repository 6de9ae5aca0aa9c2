"""Application ids: ``<type>-<8 hex>``, stable, from the identity only."""

from __future__ import annotations

import re

import pytest

from a2c.ids import application_id


@pytest.mark.parametrize(
    ("application_type", "identity"),
    [
        ("java-tomcat", "tomcat:/opt/tomcat"),
        ("java-springboot", "jar:/srv/app/app.jar"),
        ("java-generic", "main:com.example.Main@/"),
        ("java-generic", ""),
        ("java-tomcat", "tomcat:/opt/caf\u00e9"),
    ],
)
def test_format(application_type, identity):
    app_id = application_id(application_type, identity)
    assert re.fullmatch(re.escape(application_type) + r"-[0-9a-f]{8}", app_id)


def test_stable():
    # a fixed value: ids are written to inventory.json and must not change between releases
    assert application_id("java-tomcat", "tomcat:/opt/tomcat") == application_id("java-tomcat", "tomcat:/opt/tomcat")
    assert application_id("java-tomcat", "tomcat:/opt/tomcat") == "java-tomcat-1dd8e7ba"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("java-tomcat", "tomcat:/opt/tomcat"), ("java-tomcat", "tomcat:/opt/tomcat2")),
        (("java-tomcat", "tomcat:/opt/tomcat"), ("java-generic", "tomcat:/opt/tomcat")),
        # the separator keeps (type, identity) pairs apart even when their concatenation is equal
        (("java-tomcat", "x"), ("java-tomcatx", "")),
    ],
)
def test_differs_by_identity(a, b):
    assert application_id(*a) != application_id(*b)
