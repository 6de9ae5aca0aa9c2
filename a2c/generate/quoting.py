"""Quoting filters, one per target a2c writes: POSIX shell, Dockerfile, YAML/JSON, XML, PowerShell.

Each filter returns :class:`Quoted`, the only kind of text (with plain integers) that
:func:`finalize` lets through a ``{{ … }}``: a value that reaches a template without a filter
fails the render instead of landing raw in a script or a Dockerfile.  A value a filter cannot
represent safely raises :class:`UnsafeValue`; the renderers check the fields they know first,
so that the user sees the JSON path of the field (see ``a2c.generate.safe``).
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from typing import Any, Iterable

from a2c.errors import InvalidFile, quoted

# Only references a2c itself writes stay live; any other ${…} from a host's command line is literal.
_ENV_REF = re.compile(r"\$\{(?:JAVA|A2C_SECRET_[A-Z0-9_]+)\}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# PowerShell ends a single-quoted string at any of these, not only at the ASCII quote.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
_PS_BAREWORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_BREAKING = {"Cc", "Zl", "Zp", "Cs"}


class Quoted(str):
    """Text already quoted (or validated) for the template it goes into."""


class UnsafeValue(InvalidFile):
    """A value that has no safe representation in the file being written."""


def _controls(text: str, allow: str = "") -> list[str]:
    """Characters that break a line or a file: C0/C1 controls, line and paragraph separators,
    lone surrogates (which no UTF-8 file can hold)."""
    return [c for c in text if unicodedata.category(c) in _BREAKING and c not in allow]


def refuse(value: str, target: str, why: str) -> UnsafeValue:
    return UnsafeValue(f"{quoted(value)} cannot be written into {target}: {why}",
                       "Remove the character from the value in analysis.json or deployment.json (or on the host), "
                       "then run the command again.")


def finalize(value: Any) -> Any:
    """Jinja's last step for every ``{{ … }}``: only quoted text and integers may reach the output."""
    if isinstance(value, Quoted):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise UnsafeValue(f"a template printed {quoted(str(value))} without a quoting filter",
                      "Give every {{ … }} in the template a filter for its file: shell, docker_json, docker_value, "
                      "tojson, ps, xml, comment (see a2c/generate/quoting.py).")


# -- POSIX shell ----------------------------------------------------------------------------
def _no_nul(arg: str) -> None:
    if "\0" in arg:
        raise refuse(arg, "a shell script", "it holds a NUL character")


def shell_literal(arg: Any) -> Quoted:
    """One word for /bin/sh, every character literal."""
    text = str(arg)
    _no_nul(text)
    return Quoted(shlex.quote(text))


def _double_quoted_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")


def shell_word(arg: Any) -> Quoted:
    """Quote one argument for /bin/sh, keeping a2c's own ``${JAVA}`` / ``${A2C_SECRET_…}`` references live."""
    text = str(arg)
    if not _ENV_REF.search(text):
        return shell_literal(text)
    _no_nul(text)
    out, last = [], 0
    for match in _ENV_REF.finditer(text):
        out.append(_double_quoted_literal(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_double_quoted_literal(text[last:]))
    return Quoted('"' + "".join(out) + '"')


def env_name(name: Any) -> Quoted:
    """An environment variable name, checked: it is printed bare inside ``${…}`` and ``"…"``."""
    text = str(name)
    if not ENV_NAME.fullmatch(text):
        raise refuse(text, "a shell script", "not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return Quoted(text)


def env_default(name: Any) -> Quoted:
    """``${NAME:-}``: the variable's value, or nothing when it is unset (safe under ``set -u`` too)."""
    return Quoted("${" + env_name(name) + ":-}")


# -- comments (every target) ------------------------------------------------------------------
def comment(text: Any) -> Quoted:
    """Text for a ``#`` comment: one line of printable characters, so that a newline in a host
    name cannot start a shell line, a Dockerfile instruction or a YAML key."""
    value = str(text)
    return Quoted("".join(c if c.isprintable() else ascii(c)[1:-1] for c in value))


# -- Dockerfile -------------------------------------------------------------------------------
def docker_json(value: Any) -> Quoted:
    """A Dockerfile exec-form array (ENTRYPOINT, CMD, HEALTHCHECK): JSON, which Docker parses as JSON."""
    return Quoted(json.dumps(value, ensure_ascii=False))


def docker_value(value: Any, escape: str = "\\") -> Quoted:
    """A double-quoted ENV or LABEL value. Inside double quotes Docker unescapes only ``$``, ``"``
    and the escape character itself, and expands ``$NAME``: those three are escaped, and a line
    break (which no escape can carry) is refused."""
    text = str(value)
    bad = _controls(text, allow="\t")
    if bad:
        raise refuse(text, "a Dockerfile", f"it holds the control character {ascii(bad[0])}")
    out = "".join(escape + c if c in ("$", '"', escape) else c for c in text)
    return Quoted(f'"{out}"')


# -- YAML / JSON / CloudFormation ---------------------------------------------------------------
def _yaml_escape(c: str) -> str:
    if 0xD800 <= ord(c) <= 0xDFFF:
        raise refuse(c, "a YAML or JSON file", "it holds a lone surrogate (not a character)")
    return f"\\u{ord(c):04x}"


def to_json(value: Any) -> Quoted:
    """Quote a value for YAML or JSON. A JSON scalar is a YAML scalar, once the characters YAML
    reads as line breaks or refuses (NEL, U+2028/9, C1 controls, BOM) are escaped too."""
    text = json.dumps(value, ensure_ascii=False)
    return Quoted("".join(c if c.isprintable() or c in " " else _yaml_escape(c) for c in text))


# -- XML ------------------------------------------------------------------------------------
def xml_text(value: Any) -> Quoted:
    """Text for an XML element or a double-quoted attribute value, escaped by lxml."""
    from lxml import etree

    text = str(value)
    try:
        element = etree.Element("a", b=text)
    except ValueError as exc:  # a character XML 1.0 does not allow
        raise refuse(text, "an XML file", str(exc)) from None
    serialized = etree.tostring(element, encoding="unicode")
    return Quoted(serialized[len('<a b="'):-len('"/>')])


# -- PowerShell -----------------------------------------------------------------------------
def powershell_literal(value: Any) -> Quoted:
    """A PowerShell single-quoted string (no expansion), each quote character doubled. Line
    breaks are refused: these strings also sit on Dockerfile RUN lines."""
    text = str(value)
    bad = _controls(text, allow="\t")
    if bad:
        raise refuse(text, "a PowerShell script", f"it holds the control character {ascii(bad[0])}")
    return Quoted("'" + "".join(c + c if c in _PS_QUOTES else c for c in text) + "'")


def powershell_word(value: Any) -> Quoted:
    """A PowerShell argument: bare when it is a plain name (``Web-Server``), else single-quoted."""
    text = str(value)
    return Quoted(text) if _PS_BAREWORD.fullmatch(text) else powershell_literal(text)


def powershell_words(values: Iterable[Any], separator: str = ", ") -> Quoted:
    return Quoted(separator.join(powershell_word(v) for v in values))


def dockerignore_path(value: Any) -> Quoted:
    """One .dockerignore line naming a path: a line break would add a rule, a leading ``!`` re-include."""
    text = str(value)
    if _controls(text):
        raise refuse(text, "a .dockerignore file", "it holds a control character")
    if text.lstrip().startswith(("!", "#")):
        raise refuse(text, "a .dockerignore file", "a path there cannot start with '!' or '#'")
    return Quoted(text)


# A GitHub Actions expression a2c writes itself: context references only.
_GHA_EXPRESSION = re.compile(r"[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)*(?: \|\| [a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)?")


def github_expression(expression: Any) -> Quoted:
    """``${{ expression }}`` for a workflow: only a2c's own context references (``github.sha``,
    ``vars.NAME``, ``steps.id.outputs.name``); a value from a user never becomes an expression."""
    text = str(expression)
    if not _GHA_EXPRESSION.fullmatch(text):
        raise refuse(text, "a GitHub Actions workflow", "not a context reference a2c writes")
    return Quoted("${{ " + text + " }}")


def groovy_literal(value: Any) -> Quoted:
    """A Groovy single-quoted string: no interpolation; a backslash and a quote escaped, and every
    control or line-breaking character written as ``\\uXXXX``, so that no value closes the quote or
    the line."""
    text = str(value)
    out = []
    for char in text:
        if char in ("\\", "'"):
            out.append("\\" + char)
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise refuse(text, "a Jenkinsfile", "it holds a lone surrogate (not a character)")
        elif not char.isprintable() and char != " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return Quoted("'" + "".join(out) + "'")


FILTERS = {
    "shell": shell_word,
    "sh": shell_literal,
    "env_name": env_name,
    "env_default": env_default,
    "comment": comment,
    "docker_json": docker_json,
    "docker_value": docker_value,
    "tojson": to_json,
    "xml": xml_text,
    "ps": powershell_literal,
    "ps_word": powershell_word,
    "ps_words": powershell_words,
    "dockerignore_path": dockerignore_path,
    "gha": github_expression,
    "groovy": groovy_literal,
}
