"""Recognise secret-looking names so values are masked in analysis.json and kept out of images."""

from __future__ import annotations

import re

MASK = "****"

# A name is split into words (db_password, spring.datasource.password, apiKey -> db/password, …).
_SECRET_WORDS = {"password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "credential",
                 "credentials", "apikey", "privatekey", "accesskey", "secretkey", "authkey"}
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("auth", "key"),
                 ("client", "secret"), ("signing", "key"), ("encryption", "key")}
# Settings about a secret that are not the secret itself: password.file, token.expiry, keystore.type.
_NOT_SECRET_WORDS = {"file", "path", "location", "dir", "url", "uri", "provider", "algorithm", "type", "length",
                     "policy", "expiry", "expiration", "expires", "ttl", "timeout", "validity", "header", "name",
                     "enabled", "required", "prefix", "format", "encoder"}
# Shell variables whose names happen to contain "pwd".
_KNOWN_PLAIN = {"PWD", "OLDPWD"}


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_name(name: str) -> bool:
    """True for DB_PASSWORD, spring.datasource.password, apiKey, AWS_SECRET_ACCESS_KEY;
    not for password.file, token.expiry, PWD, passport or COMPASS_HOME."""
    if name in _KNOWN_PLAIN:
        return False
    words = _words(name)
    if not words or words[-1] in _NOT_SECRET_WORDS:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def mask_mapping(values: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_name(k) and v else v) for k, v in values.items()}


def mask_cmdline(args: list[str] | tuple[str, ...]) -> list[str]:
    """-Dkey=secret and --key=secret arguments with their values masked."""
    masked = []
    for arg in args:
        key, sep, value = arg.partition("=")
        name = key.lstrip("-")
        if name.startswith("D"):
            name = name[1:]
        if sep and value and is_secret_name(name):
            masked.append(f"{key}={MASK}")
        else:
            masked.append(arg)
    return masked


def env_var_for(name: str) -> str:
    """The environment variable a secret is passed in at run time: spring.datasource.password -> A2C_SECRET_SPRING_DATASOURCE_PASSWORD."""
    return "A2C_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
