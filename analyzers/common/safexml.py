"""The one way a2c parses customer XML: no DTD loading, no entities, no network, bounded size.

server.xml, web.config and friends come from machines we do not control; a file with an
entity bomb or a ``file://`` entity must give a clear error, not a hang or a leak.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from a2c.errors import InvalidFile

if TYPE_CHECKING:  # lxml is imported when XML is read: inventory loads every analyzer, most read none
    from lxml import etree

MAX_XML_BYTES = 8 * 1024 * 1024
# Checked on the raw bytes first: some entity tricks fail the parser with a less useful message.
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY")


class UnsafeXML(InvalidFile):
    """A customer XML file that declares entities or cannot be parsed safely."""


def _parser() -> etree.XMLParser:
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, source: str) -> etree._Element:
    """Parse untrusted XML; raise UnsafeXML (with the file name) for anything dangerous or broken."""
    if len(data) > MAX_XML_BYTES:
        raise UnsafeXML(f"{source}: XML file larger than {MAX_XML_BYTES} bytes; not parsed")
    doctype = _DOCTYPE.search(data)
    if doctype is not None and _ENTITY.search(data, doctype.end()):
        raise _entities_refused(source)
    from lxml import etree

    try:
        root = etree.fromstring(data, _parser())
    except (etree.LxmlError, ValueError) as exc:  # ValueError: input lxml refuses before parsing
        raise UnsafeXML(f"{source}: not well-formed XML ({str(exc)[:300]})",
                        "Fix the file on the host, then run the step again.") from exc
    if root is None:  # recover-free parsers give None for a document without a root element
        raise UnsafeXML(f"{source}: no root element", "Fix the file on the host, then run the step again.")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _entities_refused(source)
    return root


def _entities_refused(source: str) -> UnsafeXML:
    return UnsafeXML(
        f"{source}: declares XML entities; a2c does not expand entities in customer files",
        "Replace the entity references with their values, then run the step again.",
    )


def serialize_xml(root: etree._Element) -> bytes:
    from lxml import etree

    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def local_name(element: etree._Element) -> str:
    """The tag without its ``{namespace}``; "" for comments and processing instructions."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""
