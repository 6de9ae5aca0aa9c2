"""Which names and values are secrets: secret names and sections, and the shapes of secret values
(URLs with a password, ``user/PW@`` Oracle URLs, secret-named URL parameters, PEM private keys)."""

from __future__ import annotations

import re

from a2c.analyzers.common.secrets import is_secret_name, secret_spans

_PLACEHOLDER = re.compile(r"^\$\{[^}]*\}$")


def is_secret_section(name: str) -> bool:
    """A section whose every leaf is a secret: Secrets, Credentials, ApiKeys, Tokens, Passwords."""
    if is_secret_name(name):
        return True
    return name[-1:] in ("s", "S") and is_secret_name(name[:-1])


def secret_under_section(leaf: str) -> bool:
    """A leaf of a secret section that is a secret (not its ``file``, ``path``, ``enabled``…)."""
    return is_secret_name(f"secret.{leaf}")


def _secret_key(name: str, leaf: str, in_section: bool) -> bool:
    """A name that makes its whole value a secret: itself, or a leaf of a secret section."""
    return is_secret_name(name) or (in_section and secret_under_section(leaf))


def _is_value(value: str) -> bool:
    value = value.strip().strip("\"'")
    return bool(value) and not _PLACEHOLDER.match(value)


_USERINFO = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:?#\"'<>]*:([^\s/@\"'<>]+)@")
_ORACLE = re.compile(r"(?i)jdbc:oracle:[a-z0-9]+:(?://)?[^\s/@:\"'<>]+/([^\s@\"'<>]+)@")
_PARAM = re.compile(r"(?:^|(?<=[?&;]))\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*=([^&;#\s\"'<>]*)")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,64})-----.*?(?:-----END \1-----|\Z)", re.DOTALL)
_PUBLIC_PEM = ("CERTIFICATE", "PUBLIC KEY", "X509 CRL", "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
               "TRUSTED CERTIFICATE", "PGP PUBLIC KEY BLOCK", "PKCS7", "DH PARAMETERS", "EC PARAMETERS")


def _is_private_pem(label: str) -> bool:
    return label.strip() not in _PUBLIC_PEM


def value_secret_spans(name: str, value: str) -> list[tuple[str, int, int]]:
    """(secret name, start, end) of the secrets inside a value whose name is not itself secret:
    URL passwords, secret-named URL/connection parameters, a PEM private key (the whole value)."""
    if not value:
        return []
    for match in _PEM.finditer(value):
        if _is_private_pem(match.group(1)):
            return [(name, 0, len(value))]
    spans: list[tuple[str, int, int]] = []
    for pattern in (_USERINFO, _ORACLE):
        for match in pattern.finditer(value):
            spans.append((f"{name}.password", match.start(1), match.end(1)))
    for match in _PARAM.finditer(value):
        if is_secret_name(match.group(1)) and match.group(2):
            spans.append((f"{name}.{match.group(1)}", match.start(2), match.end(2)))
    chosen: list[tuple[str, int, int]] = []
    for item in sorted(spans, key=lambda s: s[1]):
        if _PLACEHOLDER.match(value[item[1]:item[2]]) or (chosen and item[1] < chosen[-1][2]):
            continue
        chosen.append(item)
    for start, end in secret_spans(value, name.rsplit(".", 1)[-1]):
        if (start, end) == (0, len(value)) and not chosen:
            return [(name, 0, len(value))]
        if not any(start < e and s < end for _, s, e in chosen):
            chosen.append((f"{name}.secret", start, end))
    return _numbered(sorted(chosen, key=lambda s: s[1]))


def _numbered(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The second ``x.password`` of one value becomes ``x.password2``: names stay distinct."""
    seen: dict[str, int] = {}
    out = []
    for name, start, end in spans:
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}{seen[name]}", start, end))
    return out


def _secrets_in(name: str, value: str, secret: bool) -> list[tuple[str, int, int]]:
    """The secrets of one named value: all of it when its name is a secret's, else its shapes."""
    if not _is_value(value):
        return []
    if secret:
        return [(name, 0, len(value))]
    return value_secret_spans(name, value)


def _clean(text: str) -> str:
    """A name fit for JSON: lone surrogates (from ``\\uD800`` or a Latin-1 file) become U+FFFD."""
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)
