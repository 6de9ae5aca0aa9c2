"""Recognise secrets so values are masked in what a2c writes and kept out of images.

A value is secret by its *name* (``DB_PASSWORD``, ``spring.datasource.password``), by its
*shape* wherever it stands (a URL's ``user:password@``, ``password=`` pairs of query strings
and connection strings, PEM private keys, JWTs, AWS access key ids, Oracle's
``user/password@``, a random-looking value under a key-ish name), or by its *position* (the
argument after ``--db.password``). :func:`secret_spans` says which characters of a value are
secret, so masking keeps the rest (``jdbc:postgresql://u:****@db:5432/x`` still names its host).
"""

from __future__ import annotations

import base64
import binascii
import collections
import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

MASK = "****"
Span = tuple[int, int]

# A name is split into words (db_password, spring.datasource.password, apiKey -> db/password, …).
_SECRET_WORDS = {"password", "passwd", "pwd", "pw", "pass", "passphrase", "passcode", "secret", "token", "credential",
                 "apikey", "apitoken", "authtoken", "accesstoken", "refreshtoken", "privatekey", "accesskey",
                 "secretkey", "authkey", "storepass", "keypass", "keystorepass", "truststorepass"}
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("auth", "key"),
                 ("client", "secret"), ("signing", "key"), ("encryption", "key"), ("master", "key"),
                 ("session", "key"), ("sas", "key"), ("account", "key"), ("shared", "key")}
# Settings about a secret that are not the secret itself: password.file, token.expiry, keystore.type.
_NOT_SECRET_WORDS = {"file", "path", "location", "dir", "url", "uri", "provider", "algorithm", "type", "length",
                     "policy", "expiry", "expiration", "expires", "ttl", "timeout", "validity", "header", "name",
                     "enabled", "required", "prefix", "format", "encoder", "label", "message", "text", "title",
                     "hint", "description", "help", "placeholder", "env"}
# Words that make a random-looking value a secret (STRIPE_KEY=sk_live_…, hmac.salt=…).
_KEYISH_WORDS = {"key", "auth", "sig", "signature", "hmac", "salt", "seed", "bearer", "cookie", "sas", "pin",
                 "session", "license", "licence", "cred", "creds"}
# Shell variables whose names happen to contain "pwd".
_KNOWN_PLAIN = {"PWD", "OLDPWD"}
# Inside a value (a connection string, a query) these keys are passwords in any case: Pwd=, PWD=.
_PASSWORD_KEYS = {"password", "passwd", "pwd", "pass"}


_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _words(name: str) -> tuple[str, ...]:
    spaced = _CAMEL.sub(r"\1 \2", name)
    return tuple(_singular(w) for w in _NOT_WORD.split(spaced.lower()) if w)


def _singular(word: str) -> str:
    """ApiKeys, tokens, passwords: a plural names the same kind of value."""
    if word.endswith("s") and not word.endswith("ss") and word[:-1] in _SECRET_WORDS | {"key"}:
        return word[:-1]
    return word


# Every secret or key-ish word holds one of these: a cheap test first (hostile values hold many keys).
_HINT = re.compile(r"(?i)pass|pw|secret|token|cred|key|auth|sig|hmac|salt|seed|bearer|cookie|sas|pin|session|licen")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for DB_PASSWORD, spring.datasource.password, apiKey, AWS_SECRET_ACCESS_KEY;
    not for password.file, token.expiry, PWD, passport or COMPASS_HOME."""
    if name in _KNOWN_PLAIN or not _HINT.search(name):
        return False
    words = _words(name)
    if not words or words[-1] in _NOT_SECRET_WORDS:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


@functools.lru_cache(maxsize=4096)
def _is_keyish_name(name: str) -> bool:
    """A name under which a random-looking value is a secret (``STRIPE_KEY``, ``hmac.salt``)."""
    if not _HINT.search(name):
        return False
    words = _words(name)
    return bool(words) and words[-1] not in _NOT_SECRET_WORDS and any(w in _KEYISH_WORDS for w in words)


def _is_secret_key(key: str) -> bool:
    """A key inside a value (``Pwd=`` of a connection string, ``?password=``) that holds a secret."""
    return key.strip().lower() in _PASSWORD_KEYS or is_secret_name(key.strip())


_RANDOM_MAX = 4096  # longer than any generated credential worth finding by its randomness
_RANDOM_TOKEN = re.compile(r"[A-Za-z0-9+/_\-~.]{16,%d}={0,2}" % _RANDOM_MAX)


def looks_random(value: str) -> bool:
    """A generated credential rather than a word, path, host or number: long, one token,
    letters and digits mixed, and close to random (Shannon entropy of at least 3 bits a character)."""
    if not 16 <= len(value) <= _RANDOM_MAX or not _RANDOM_TOKEN.fullmatch(value) or value.startswith(("/", ".")):
        return False
    if not (re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value)):
        return False
    if re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){2,}", value) and not re.search(r"[0-9]{3}", value):
        return False  # a host or class name: com.example.app.Main
    counts = collections.Counter(value).values()
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts)
    return entropy >= 3.0


def _is_placeholder(text: str) -> bool:
    """``${NAME}`` (resolved by the app or by a2c's entry script), ``%NAME%`` (Windows), or a mask.
    A bare ``$word`` is a value: a running process's arguments were expanded long ago."""
    return bool(re.fullmatch(r"\s*(?:\$\{[^}]*\}|%[A-Za-z_][A-Za-z0-9_]*%)\s*", text)) or text.strip() == MASK


# -- shapes -----------------------------------------------------------------------------------------

_PEM = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END \1-----|\Z)", re.DOTALL)
_JWT = re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# HTTP credentials as an Authorization header carries them: "Basic dXNlcjpwdw==" (base64 of
# user:password), "Bearer <random token>". Case-sensitive, as headers write them: "basic setup"
# and "Basic Information System" are prose.
_AUTH_VALUE = re.compile(r"\s*(?:Basic|Bearer|Digest|Token|Negotiate)[ \t]+(?P<cred>\S+)\s*", re.IGNORECASE)
_AUTH_SCHEME = re.compile(r"(?<![A-Za-z0-9])(?:Basic|Bearer|Digest)[ \t]+(?P<cred>[A-Za-z0-9+/_\-~.=]{8,})")
# //user:password@host — the password holds no '/', '?', '#' or blank (RFC 3986 escapes them), and
# the '@' that ends it is the last one before the host.
_URL_USERINFO = re.compile(r"//[^:/@\s?#]*:(?P<pw>[^\s/?#]*?)@(?=[^@\s/?#]*(?:[/?#\s\"'<>]|$))")
_ORACLE_USER = re.compile(r"(?i)jdbc:oracle:[a-z0-9]+:(?:\"[^\"]*\"|[^/@:\s\"]+)/(?P<pw>\"[^\"]*\"|[^@\s]+)@")
# key=value: a key after a separator (or an option prefix), spaces allowed around '=' as ADO.NET does.
_PAIR = re.compile(r"(?:^|(?<=[\s?&;,({\[\"'=|]))(?:-D|--|-|/)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-:]*)[ \t]*=[ \t]*")
# "key": value, as JSON and YAML flow maps write it inside any text.
_QUOTED = {q: re.compile(r"(?:[^%s\\]|\\.)*" % q, re.DOTALL) for q in "\"'"}
_QUOTED_PAIR = re.compile(r"[\"'](?P<key>[^\"'\\\n]{1,200})[\"']\s*:\s*")
# --password VALUE inside a value (a command line kept in one variable).
_FLAG_ARG = re.compile(r"(?:^|(?<=\s))--?(?P<key>[A-Za-z][A-Za-z0-9_.\-:]*)[ \t]+(?P<value>[^\s\-\"'][^\s]*|\"[^\"]*\"|'[^']*')")
_CONNECTION_LIKE = re.compile(r";\s*[A-Za-z][A-Za-z ]*=")


def _value_end(text: str, start: int, connection_like: bool, separator: str = "") -> Span:
    """The span of an unquoted or quoted value that starts at ``start``; an unquoted one ends
    where its pair's own separator comes again (``,`` in ``host,password=…,ssl=true``)."""
    if start < len(text) and text[start] in "\"'{":
        close = {"{": "}"}.get(text[start], text[start])
        end = start + 1
        while end < len(text):
            if text[end] == close:
                if end + 1 < len(text) and text[end + 1] == close:  # a doubled quote stands for itself
                    end += 2
                    continue
                return start + 1, end
            end += 1
        return start + 1, len(text)
    stops = (";" if connection_like else ";& \t\r\n") + (separator if separator and separator in ",|" else "")
    run = _run_of(stops).match(text, start)
    end = run.end() if run else start
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_secret_pair(key: str, value: str) -> bool:
    return bool(value) and not _is_placeholder(value) and (
        _is_secret_key(key) or (_is_keyish_name(key) and looks_random(value)))


@functools.lru_cache(maxsize=16)
def _run_of(stops: str) -> re.Pattern[str]:
    return re.compile("[^%s]*" % re.escape(stops))


def _pair_spans(text: str) -> list[Span]:
    """``key=value`` pairs with a secret key; a secret value is skipped whole (linear time on
    ``a=a=a=…``), a key that cannot be secret is never measured."""
    connection_like = bool(_CONNECTION_LIKE.search(text))
    spans = []
    match = _PAIR.search(text)
    while match:
        key, resume = match.group("key"), match.end()
        if _is_secret_key(key):
            separator = text[match.start() - 1] if match.start() > 0 else ""
            start, end = _value_end(text, match.end(), connection_like, separator)
            if _is_secret_pair(key, text[start:end]):
                spans.append((start, end))
                resume = max(end, resume)
        elif _is_keyish_name(key):
            token = _random_token_at(text, match.end())
            if token:
                spans.append(token)
                resume = token[1]
        match = _PAIR.search(text, resume)
    return spans


def _random_token_at(text: str, start: int) -> Span | None:
    """The random-looking token that starts at ``start`` and ends the value, if there is one."""
    token = _RANDOM_TOKEN.match(text, start)
    if token is None or (token.end() < len(text) and text[token.end()] not in ";&,| \t\r\n\"'}])"):
        return None
    return token.span() if looks_random(token.group(0)) else None


def _quoted_pair_spans(text: str) -> list[Span]:
    spans = []
    match = _QUOTED_PAIR.search(text)
    while match:
        key, at = match.group("key"), match.end()
        resume = at
        if _is_secret_key(key) or _is_keyish_name(key):
            if at < len(text) and text[at] in "\"'":
                quoted = _QUOTED[text[at]].match(text, at + 1)
                start, end = at + 1, quoted.end() if quoted else len(text)
            else:
                found = re.match(r"[^,}\]\s]+", text[at:at + _RANDOM_MAX])
                start, end = at, at + (found.end() if found else 0)
                if text[start:end] in ("null", "true", "false"):  # a JSON literal holds no secret
                    end = start
            if _is_secret_pair(key, text[start:end]):
                spans.append((start, end))
                resume = max(end, resume)
        match = _QUOTED_PAIR.search(text, resume)
    return spans


def _flag_spans(text: str) -> list[Span]:
    spans = []
    for match in _FLAG_ARG.finditer(text):
        key, value = match.group("key"), match.group("value")
        if key[:1] in ("D", "X") and match.group(0).lstrip()[1:2] != "-":
            continue  # -Dname and -Xflag take no following argument
        if _is_placeholder(value.strip("\"'")):
            continue
        if is_secret_name(key) or (_is_keyish_name(key) and looks_random(value.strip("\"'"))):
            start, end = match.span("value")
            spans.append((start + 1, end - 1) if value[:1] in "\"'" else (start, end))
    return spans


def _group_spans(pattern: re.Pattern[str], text: str, group: str | int = 0) -> list[Span]:
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span(group)
        if end > start and not _is_placeholder(text[start:end]):
            spans.append((start, end))
    return spans


def _auth_spans(text: str) -> list[Span]:
    """HTTP credentials: base64 after Basic (whole quads, with a colon inside once decoded), a
    random-looking token after Bearer or Digest."""
    spans = []
    for match in _AUTH_SCHEME.finditer(text):
        cred = match.group("cred")
        if match.group(0).startswith("Basic"):
            try:
                decoded = base64.b64decode(cred, validate=True)
            except (ValueError, binascii.Error):
                continue
            if b":" not in decoded:
                continue
        elif not looks_random(cred):
            continue
        spans.append(match.span("cred"))
    return spans


def _shape_spans(text: str) -> list[Span]:
    """The secret parts of a value by shape alone, wherever in the value they stand."""
    return (_group_spans(_PEM, text) + _group_spans(_JWT, text) + _group_spans(_AWS_KEY_ID, text)
            + _group_spans(_URL_USERINFO, text, "pw") + _group_spans(_ORACLE_USER, text, "pw")
            + _auth_spans(text)
            + _pair_spans(text) + _quoted_pair_spans(text) + _flag_spans(text))


# -- JSON values (SPRING_APPLICATION_JSON, -Dspring.application.json) ------------------------------

_JSON_TOKEN = re.compile(r"\"(?:[^\"\\]|\\.)*\"|[{}\[\]:,]|[^\s{}\[\]:,\"]+", re.DOTALL)


def _is_json_name(name: str) -> bool:
    words = _words(name)
    return bool(words) and words[-1] == "json"


def _json_spans(text: str) -> list[Span] | None:
    """Secret parts of a JSON document (values under secret keys, shaped strings); None when it is not JSON."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return None
    spans: list[Span] = []
    stack: list[list[str]] = []  # per open container: [kind, its own key, the current member key]
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        token = match.group(0)
        if token in "{[":
            owner = (stack[-1][2] if stack[-1][0] == "{" else stack[-1][1]) if stack else ""
            stack.append([token, owner, ""])
            expect_key = token == "{"
        elif token in "}]":
            stack.pop()
            expect_key = False
        elif token == ",":
            expect_key = bool(stack) and stack[-1][0] == "{"
        elif token == ":":
            expect_key = False
        elif expect_key:
            stack[-1][2] = json.loads(token)
            expect_key = False
        else:
            spans += _json_value_spans(token, match.start(), stack)
    return spans


def _json_value_spans(token: str, at: int, stack: list[list[str]]) -> list[Span]:
    name = (stack[-1][2] if stack[-1][0] == "{" else stack[-1][1]) if stack else ""
    quoted = token.startswith('"')
    value = json.loads(token) if quoted else token
    inner = (at + 1, at + len(token) - 1) if quoted else (at, at + len(token))
    if not isinstance(value, str) or value in ("null", "true", "false") and not quoted:
        return []
    if value and not _is_placeholder(value) and (
            _is_secret_key(name) or (_is_keyish_name(name) and looks_random(value))):
        return [inner]
    found = _shape_spans(value) if quoted and len(value) >= 5 else []
    if not found:
        return []
    if "\\" in token:
        return [inner]  # escapes shift offsets: the whole string, to be safe
    return [(inner[0] + s, inner[0] + e) for s, e in found]


# -- the API ----------------------------------------------------------------------------------------

def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def secret_spans(value: str, name: str = "") -> list[Span]:
    """The (start, end) parts of ``value`` that are secret, sorted and disjoint.

    ``name`` is what holds the value (a variable, a property, a flag): a secret name makes the
    whole value secret, a key-ish one a random-looking value, and a ``…json`` one asks for the
    value to be read as JSON (all of it is secret when it cannot be)."""
    if not value or _is_placeholder(value):
        return []
    whole = [(0, len(value))]
    if name and (is_secret_name(name) or (_is_keyish_name(name) and looks_random(value))):
        return whole
    if name and _is_keyish_name(name) and (scheme := _AUTH_VALUE.fullmatch(value)):
        return [scheme.span("cred")]  # upstream.auth=Basic …: an Authorization value under an auth-ish name
    stripped = value.strip()
    if _is_json_name(name) or (stripped[:1] in "{[" and stripped[-1:] in "}]"):
        found = _json_spans(value)
        if found is not None:
            return _merge(found)
        if _is_json_name(name):
            return whole
    return _merge(_shape_spans(value))


def has_secret(value: str, name: str = "") -> bool:
    """True when any part of ``value`` (held under ``name``) is secret."""
    return bool(secret_spans(value, name))


def mask_spans(value: str, spans: Iterable[Span], replacement: str = MASK) -> str:
    """``value`` with each span replaced by ``****`` (or by ``replacement``, a ``${…}`` reference)."""
    out, last = [], 0
    for start, end in _merge(spans):
        out.append(value[last:start])
        out.append(replacement)
        last = end
    out.append(value[last:])
    return "".join(out)


def mask_value(value: str, name: str = "") -> str:
    """``value`` with only its secret parts masked: ``jdbc:postgresql://u:****@db:5432/x``."""
    return mask_spans(value, secret_spans(value, name))


def mask_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """An environment or property map with every secret masked (by name, shape and embedded options)."""
    return {k: (mask_value(v, k) if isinstance(v, str) else v) for k, v in values.items()}


@dataclass(frozen=True)
class ArgSecret:
    """Secret parts of one command-line argument: its index, the name it is known by, the spans."""

    index: int
    name: str
    spans: tuple[Span, ...]


_OPTION = re.compile(r"(?P<prefix>-D|--|-|/)?(?P<name>[A-Za-z_][A-Za-z0-9_.\-:]*)=")
_FLAG = re.compile(r"--?(?P<name>[A-Za-z][A-Za-z0-9_.\-:]*)")


def _takes_secret_value(flag: str, value: str) -> str:
    """The flag's name when ``flag`` is a secret-named flag whose value is the next argument ``value``."""
    match = _FLAG.fullmatch(flag)
    if not match or value.startswith("-") or not value or _is_placeholder(value):
        return ""
    if not flag.startswith("--") and flag[1:2] in ("D", "X"):
        return ""  # -Dname and -Xflag take no following argument
    name = match.group("name")
    return name if is_secret_name(name) or (_is_keyish_name(name) and looks_random(value)) else ""


def cmdline_secrets(args: Sequence[str]) -> list[ArgSecret]:
    """Where a command line holds secrets: ``-Dx.password=…``, ``--db.password VALUE``, shaped values.

    The name is the option's (``db.password``); a shaped part of a plainly named option is
    ``<option>.secret`` (``spring.datasource.url.secret``); a bare shaped argument ``argument<N>``."""
    found: list[ArgSecret] = []
    index = 0
    while index < len(args):
        arg = args[index]
        flag = _takes_secret_value(arg, args[index + 1]) if index + 1 < len(args) else ""
        if flag:
            found.append(ArgSecret(index + 1, flag, ((0, len(args[index + 1])),)))
            index += 2
            continue
        option = _OPTION.match(arg)
        if option:
            offset, name = option.end(), option.group("name")
            spans = secret_spans(arg[offset:], name)
            label = name if spans == [(0, len(arg) - offset)] else f"{name}.secret"
            if spans:
                found.append(ArgSecret(index, label, tuple((offset + s, offset + e) for s, e in spans)))
        else:
            spans = secret_spans(arg)
            if spans:
                found.append(ArgSecret(index, f"argument{index}", tuple(spans)))
        index += 1
    return found


def masked_argument_name(args: Sequence[str], index: int) -> str:
    """The name cmdline_secrets gave the secret masked in ``args[index]`` (a masked command line),
    or "" when that argument holds no mask: how a reference is put back where the mask stands."""
    arg = args[index]
    if MASK not in arg:
        return ""
    if arg == MASK and index > 0:
        flag = _FLAG.fullmatch(args[index - 1])
        if flag and (args[index - 1].startswith("--") or args[index - 1][1:2] not in ("D", "X")):
            return flag.group("name")
    option = _OPTION.match(arg)
    if option:
        return option.group("name") if arg[option.end():] == MASK else f"{option.group('name')}.secret"
    return f"argument{index}"


def numbered_names(found: Iterable[tuple[int, str, int]]) -> dict[int, list[str]]:
    """For (argument index, name, number of masked parts) in command-line order, the distinct
    name of each part: ``name`` first, then ``name2``, ``name3``… for further parts and for a
    name already used by an earlier argument (``-Ddb.password=a … --db.password b``)."""
    used: collections.Counter[str] = collections.Counter()
    names: dict[int, list[str]] = {}
    for index, name, count in found:
        for _ in range(count):
            used[name] += 1
            names.setdefault(index, []).append(name if used[name] == 1 else f"{name}{used[name]}")
    return names


def mask_cmdline(args: Sequence[str]) -> list[str]:
    """The command line with every secret part masked (``--db.password ****``, ``-Dapi.key=****``)."""
    masked = list(args)
    for secret in cmdline_secrets(args):
        masked[secret.index] = mask_spans(masked[secret.index], secret.spans)
    return masked


def env_var_for(name: str) -> str:
    """The environment variable a secret is passed in at run time: spring.datasource.password -> A2C_SECRET_SPRING_DATASOURCE_PASSWORD."""
    return "A2C_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


# -- one variable per distinct secret ---------------------------------------------------
_PINNED_SOURCES = ("environment",)


def _identity(secret: Mapping[str, Any]) -> tuple[str, str, int]:
    return str(secret.get("foundIn", "")), str(secret.get("name", "")), int(secret.get("line", 0) or 0)


def _pinned(secret: Mapping[str, Any]) -> bool:
    """Variables the application reads by their own name (the environment, a server.env): never renamed."""
    return secret.get("foundIn") in _PINNED_SOURCES or not str(secret.get("envVar", "")).startswith("A2C_SECRET_")


def assign_env_vars(secrets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The secrets with distinct variables: a variable claimed by two different secrets (different
    file, name or line) keeps its name for the first and becomes ``_2``, ``_3``… for the others.

    Deterministic (list order) and idempotent, so ``analyze`` can apply it and anything applying it
    again gets the same names; variables of the environment are never renamed, others move aside.
    """
    out = [dict(s) for s in secrets]
    taken: dict[str, tuple[str, str, int]] = {}
    for secret in out:
        if _pinned(secret):
            taken.setdefault(str(secret.get("envVar", "")), _identity(secret))
    for secret in out:
        if _pinned(secret):
            continue
        base = str(secret.get("envVar", "")) or env_var_for(str(secret.get("name", "")))
        identity, candidate, number = _identity(secret), base, 1
        while candidate in taken and taken[candidate] != identity:
            number += 1
            candidate = f"{base}_{number}"
        taken[candidate] = identity
        secret["envVar"] = candidate
    return out
