"""Secret-looking names: which are masked, how command lines are masked, which variable carries them."""

from __future__ import annotations

import re

import pytest

from a2c.analyzers.common.secrets import MASK, env_var_for, is_secret_name, mask_cmdline, mask_mapping


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "spring.datasource.password",
        "apiKey",
        "api_key",
        "API-KEY",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "javax.net.ssl.keyStorePassword",
        "javax.net.ssl.trustStorePassword",
        "keystore.password",
        "client_secret",
        "GITHUB_TOKEN",
        "oauth.token",
        "private_key",
        "credentials",
        "passwd",
        "DB_PWD",
        "auth.key",
        "DB_PASS",
    ],
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PWD",
        "OLDPWD",
        "password.file",
        "keystore.type",
        "PATH",
        "HOME",
        "user",
        "username",
        "catalina.base",
        "PASSWORD_LENGTH",
        "password.policy",
        "jwt.secret.path",
        "secret.key.location",
        "token.url",
        "javax.net.ssl.keyStore",
        "SESSION_TIMEOUT",
        "",
    ],
)
def test_plain_names(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["token.expiry", "jwt.token.expiration"])
def test_expiry_settings_are_not_secrets(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["java", "-Dspring.datasource.password=s3cret", "-jar", "a.jar"],
         ["java", f"-Dspring.datasource.password={MASK}", "-jar", "a.jar"]),
        (["java", "-jar", "a.jar", "--db.password=s3cret"], ["java", "-jar", "a.jar", f"--db.password={MASK}"]),
        (["java", "-DDB_PASS=1"], ["java", f"-DDB_PASS={MASK}"]),
        (["java", "-Dapi.key=a=b=c"], ["java", f"-Dapi.key={MASK}"]),  # the whole value, '=' included
        # not secrets, or nothing to mask
        (["java", "-Dpassword.file=/etc/pw"], ["java", "-Dpassword.file=/etc/pw"]),
        (["java", "-Dempty.password="], ["java", "-Dempty.password="]),
        (["java", "-Xmx1g", "-Da=password"], ["java", "-Xmx1g", "-Da=password"]),
        (["java", "-Dcatalina.base=/opt/tomcat"], ["java", "-Dcatalina.base=/opt/tomcat"]),
        ([], []),
    ],
)
def test_mask_cmdline(args, expected):
    assert mask_cmdline(args) == expected
    assert mask_cmdline(tuple(args)) == expected


def test_mask_cmdline_does_not_mutate_its_input():
    args = ["java", "-Ddb.password=x"]
    mask_cmdline(args)
    assert args == ["java", "-Ddb.password=x"]


def test_mask_mapping():
    values = {"DB_PASSWORD": "x", "EMPTY_PASSWORD": "", "LANG": "C"}
    assert mask_mapping(values) == {"DB_PASSWORD": MASK, "EMPTY_PASSWORD": "", "LANG": "C"}
    assert values["DB_PASSWORD"] == "x"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("spring.datasource.password", "A2C_SECRET_SPRING_DATASOURCE_PASSWORD"),
        ("DB_PASSWORD", "A2C_SECRET_DB_PASSWORD"),
        ("apiKey", "A2C_SECRET_APIKEY"),
        ("my-app.api-key", "A2C_SECRET_MY_APP_API_KEY"),
        ("--weird..name--", "A2C_SECRET_WEIRD_NAME"),
        ("jdbc/pass word", "A2C_SECRET_JDBC_PASS_WORD"),
    ],
)
def test_env_var_for(name, expected):
    assert env_var_for(name) == expected


@pytest.mark.parametrize("name", ["spring.datasource.password", "a.b-c", "x y", "\u00e9t\u00e9.password"])
def test_env_var_for_is_a_valid_shell_name(name):
    assert re.fullmatch(r"A2C_SECRET_[A-Z0-9_]*", env_var_for(name))
