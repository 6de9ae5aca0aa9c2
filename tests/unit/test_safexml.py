"""The hardened XML reader against the hostile files in fixtures/hostile/xml/."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import load_make_hostile
from a2c.analyzers.common import safexml
from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml, serialize_xml
from a2c.errors import InvalidFile

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOSTILE_XML = FIXTURES / "hostile" / "xml"
SERVER_XML = FIXTURES / "snapshots" / "tomcat-host" / "files" / "opt" / "tomcat" / "conf" / "server.xml"


def _make_hostile():
    return load_make_hostile()


@pytest.fixture
def listener():
    """A TCP port nobody should connect to; yields (port, was_contacted)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def contacted() -> bool:
        readable, _, _ = select.select([server], [], [], 0.1)
        return bool(readable)

    yield server.getsockname()[1], contacted
    server.close()


def test_unsafe_xml_is_an_invalid_file():
    assert issubclass(UnsafeXML, InvalidFile)


def test_normal_server_xml_parses():
    root = parse_xml(SERVER_XML.read_bytes(), str(SERVER_XML))
    assert local_name(root) == "Server"
    connectors = [e for e in root.iter() if local_name(e) == "Connector"]
    assert [c.get("port") for c in connectors] == ["8080", "8009", "8443"]
    # comments have a non-string tag; local_name must not choke on them
    assert all(isinstance(local_name(e), str) for e in root.getroottree().iter())
    assert serialize_xml(root).startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


@pytest.mark.parametrize(
    "name",
    [
        "billion-laughs.xml",
        "billion-laughs-utf16.xml",
        "quadratic-blowup.xml",
        "xxe-file.xml",
        "xxe-parameter-entity.xml",
        "entity-in-attribute.xml",
        "undeclared-entity.xml",
        "malformed.xml",
        "truncated.xml",
        "not-xml.xml",
        "deep-nesting.xml",
    ],
)
def test_hostile_xml_is_refused_with_the_file_name(name):
    path = HOSTILE_XML / name
    started = time.monotonic()
    with pytest.raises(UnsafeXML) as caught:
        parse_xml(path.read_bytes(), str(path))
    assert time.monotonic() - started < 2
    assert str(path) in caught.value.message
    assert "root:" not in caught.value.message  # nothing of /etc/passwd leaks into the message


def test_entity_refusal_has_a_hint():
    path = HOSTILE_XML / "xxe-file.xml"
    with pytest.raises(UnsafeXML) as caught:
        parse_xml(path.read_bytes(), "conf/server.xml")
    assert caught.value.message.startswith("conf/server.xml: ")
    assert caught.value.hint


@pytest.mark.parametrize("name", ["xxe-parameter-entity.xml", "external-dtd-http.xml"])
def test_external_dtds_are_never_fetched(name, listener):
    port, contacted = listener
    data = (HOSTILE_XML / name).read_bytes().replace(b"127.0.0.1:9/", f"127.0.0.1:{port}/".encode())
    assert f":{port}/".encode() in data
    try:
        root = parse_xml(data, name)
    except UnsafeXML:
        root = None
    assert not contacted(), "the parser connected to the DTD's URL"
    if root is not None:
        # parsed without the DTD: the entity only it declares is left unexpanded (empty in an attribute)
        engine = next(e for e in root.iter() if local_name(e) == "Engine")
        assert engine.get("name") in ("", "&fromdtd;")


def test_external_dtd_from_a_file_is_not_read(tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "A2C-LEAKED-MARKER">\n<!ATTLIST Server leaked CDATA "A2C-DEFAULT-ATTR">\n')
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE Server SYSTEM "file://{dtd}">\n'
            '<Server port="8005"><Service name="&leak;"/></Server>\n').encode()
    try:
        root = parse_xml(data, "server.xml")
    except UnsafeXML:
        return
    text = etree.tostring(root)
    assert b"A2C-LEAKED-MARKER" not in text and b"A2C-DEFAULT-ATTR" not in text


def test_external_dtd_file_fixture_parses_without_reading_it():
    path = HOSTILE_XML / "external-dtd-file.xml"
    try:
        root = parse_xml(path.read_bytes(), str(path))
    except UnsafeXML as exc:
        assert str(path) in exc.message
        return
    assert b"root:" not in etree.tostring(root)


def test_xinclude_is_not_processed():
    path = HOSTILE_XML / "xinclude.xml"
    root = parse_xml(path.read_bytes(), str(path))
    text = etree.tostring(root)
    assert b"root:" not in text
    assert any(local_name(e) == "include" for e in root.iter())


def test_oversize_input_is_refused_before_parsing():
    data = _make_hostile().oversize_xml(safexml.MAX_XML_BYTES + 1)
    assert len(data) == safexml.MAX_XML_BYTES + 1
    with pytest.raises(UnsafeXML) as caught:
        parse_xml(data, "huge/server.xml")
    assert "huge/server.xml" in caught.value.message


def test_input_at_the_size_limit_parses():
    data = _make_hostile().oversize_xml(safexml.MAX_XML_BYTES)
    assert len(data) == safexml.MAX_XML_BYTES
    assert local_name(parse_xml(data, "big.xml")) == "Server"


@pytest.mark.parametrize(
    "data",
    [
        '<?xml version="1.0" encoding="ISO-8859-1"?><Server name="caf\u00e9"/>'.encode("latin-1"),
        '<?xml version="1.0" encoding="UTF-16"?><Server name="caf\u00e9"/>'.encode("utf-16"),
        b'\xef\xbb\xbf<?xml version="1.0"?><Server name="caf\xc3\xa9"/>',
    ],
    ids=["latin-1", "utf-16", "utf-8-bom"],
)
def test_declared_encodings_are_honoured(data):
    assert parse_xml(data, "x.xml").get("name") == "caf\u00e9"


def test_empty_input_is_refused():
    with pytest.raises(UnsafeXML, match="empty.xml"):
        parse_xml(b"", "empty.xml")
