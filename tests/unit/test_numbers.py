"""Numbers from host files are ASCII digits or nothing."""

from __future__ import annotations

import pytest

from a2c.analyzers.common.numbers import ascii_int, is_ascii_int


@pytest.mark.parametrize("text, expected", [
    ("8080", 8080), (" 8443 ", 8443), ("0", 0), ("123456789", 123456789),
    ("²", -1), ("٣٣", -1), ("8080x", -1), ("", -1), ("-1", -1), ("1" * 5000, -1), ("1234567890", -1),
    (None, -1), (8080, -1),
])
def test_ascii_int(text, expected):
    assert ascii_int(text, -1) == expected
    assert is_ascii_int(text) == (expected != -1)


@pytest.mark.parametrize("text", [
    "Server=db," + "9" * 5000 + ";Database=x;User Id=a;Password=b;",
    "Server=db,²;Database=x",
    "Data Source=(DESCRIPTION=(ADDRESS=(HOST=h)(PORT=" + "1" * 5000 + ")));User Id=a;Password=b",
    "redis.internal:٣٣,password=x",
])
def test_connection_strings_with_odd_ports_do_not_crash(text):
    from a2c.analyzers.dotnet.coresecrets import connection_dependencies

    for dep in connection_dependencies("Db", text, "appsettings.json"):
        assert 0 <= dep["port"] < 10**9
