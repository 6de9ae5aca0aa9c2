"""Secrets in configuration files: find them, and template them out of the image.

A file that holds a password is copied into the image with the value replaced by
``${A2C_SECRET_…}``; the entry script fills the placeholder from the environment when the
container starts (ECS gets it from SSM Parameter Store). So no image layer ever holds the
value, and the application still reads a complete file.

Every format is read the way its application reads it, so that what the application would
see as a password is what gets templated: Java properties (``\\uXXXX`` escapes, ``\\`` line
continuations), YAML (flow maps, block scalars, anchors, values on the next line: through
PyYAML's event stream, which neither recurses nor expands aliases), XML (secret-named
attributes, ``name=``/``value=`` pairs, secret-named elements), JSON (the .NET reader), and
any other text by a conservative line scan. Beside names, values are checked for shapes:
URLs with a password (``scheme://user:PW@``, ``?password=``), Oracle ``user/PW@`` URLs, PEM
private keys. A file no parser accepts is line-scanned and reported; a binary file is reported.

Templating finds the secrets again in the bytes it is given (a file edited since the analysis
leaves no secret behind) and takes each one's variable from the analysis by (name, line), so
two secrets of one name keep the two variables ``assign_env_vars`` gave them.

One module per format, beside what they share: ``shapes`` (secret names and the shapes of
secret values), ``edits`` (the records and the edits every reader makes of a text), ``escapes``
(Java's properties escapes), ``properties``, ``yamlfile``, ``xmlfile``, ``linescan`` (any other
text), and ``files`` (which reader a file gets: ``scan_file``, ``template_file`` and the JSON
files the .NET reader handles). Callers use the names this package exports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2c.analyzers.common.configsecrets.edits import FileSecret, ScanResult
    from a2c.analyzers.common.configsecrets.escapes import unescape_property
    from a2c.analyzers.common.configsecrets.files import (
        find_secrets,
        is_binary,
        kind_of,
        placeholders_in,
        render_vars,
        scan_file,
        secret_values,
        template,
        template_file,
        template_xml,
    )
    from a2c.analyzers.common.configsecrets.properties import properties_secrets, template_properties
    from a2c.analyzers.common.configsecrets.shapes import is_secret_section, secret_under_section, value_secret_spans
    from a2c.analyzers.common.configsecrets.xmlfile import xml_secrets
    from a2c.analyzers.common.configsecrets.yamlfile import template_yaml, yaml_secrets
    from a2c.analyzers.common.secrets import assign_env_vars  # one variable per secret

_HOME = {
    "FileSecret": "a2c.analyzers.common.configsecrets.edits",
    "ScanResult": "a2c.analyzers.common.configsecrets.edits",
    "assign_env_vars": "a2c.analyzers.common.secrets",
    "find_secrets": "a2c.analyzers.common.configsecrets.files",
    "is_binary": "a2c.analyzers.common.configsecrets.files",
    "is_secret_section": "a2c.analyzers.common.configsecrets.shapes",
    "kind_of": "a2c.analyzers.common.configsecrets.files",
    "placeholders_in": "a2c.analyzers.common.configsecrets.files",
    "properties_secrets": "a2c.analyzers.common.configsecrets.properties",
    "render_vars": "a2c.analyzers.common.configsecrets.files",
    "scan_file": "a2c.analyzers.common.configsecrets.files",
    "secret_under_section": "a2c.analyzers.common.configsecrets.shapes",
    "secret_values": "a2c.analyzers.common.configsecrets.files",
    "template": "a2c.analyzers.common.configsecrets.files",
    "template_file": "a2c.analyzers.common.configsecrets.files",
    "template_properties": "a2c.analyzers.common.configsecrets.properties",
    "template_xml": "a2c.analyzers.common.configsecrets.files",
    "template_yaml": "a2c.analyzers.common.configsecrets.yamlfile",
    "unescape_property": "a2c.analyzers.common.configsecrets.escapes",
    "value_secret_spans": "a2c.analyzers.common.configsecrets.shapes",
    "xml_secrets": "a2c.analyzers.common.configsecrets.xmlfile",
    "yaml_secrets": "a2c.analyzers.common.configsecrets.yamlfile",
}

__all__ = [
    "FileSecret", "ScanResult", "assign_env_vars", "find_secrets", "is_binary", "is_secret_section", "kind_of",
    "placeholders_in", "properties_secrets", "render_vars", "scan_file", "secret_under_section", "secret_values", "template",
    "template_file", "template_properties", "template_yaml", "template_xml", "unescape_property",
    "value_secret_spans", "xml_secrets", "yaml_secrets",
]


def __getattr__(name: str) -> Any:
    """A name of the package, imported from its module on first use: inventory imports every
    analyzer, and most of them read no configuration file (the XML reader brings in lxml)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
