"""Loopback listeners in copied config files open to all interfaces in the image (issue 9, cause 6:
Debian's ActiveMQ binds ``tcp://127.0.0.1:61616`` in activemq.xml and stayed unreachable)."""

from __future__ import annotations

import json

import pytest

from a2c.analyzers.common.listeners import Change, loopback_rewrites, open_loopback
from a2c.hosts.snapshot import SnapshotHost
from a2c.model import Socket


def rewritten(path: str, text: str, ports=(61616, 5672, 8080, 9000, 7000, 2181, 9092, 8443)) -> str:
    new, changes = open_loopback(text.encode(), path, ports)
    assert bool(changes) == (new != text.encode())
    return new.decode()


@pytest.mark.parametrize("path, before, after", [
    # URIs
    ("a.properties", "transport.uri=tcp://127.0.0.1:61616?x=y\n", "transport.uri=tcp://0.0.0.0:61616?x=y\n"),
    ("a.properties", "amqp.listen=nio://localhost:5672\n", "amqp.listen=nio://0.0.0.0:5672\n"),
    ("a.properties", "http.bind=http://127.0.0.1:8080/\n", "http.bind=http://0.0.0.0:8080/\n"),
    ("a.properties", "stomp.transport=stomp+nio://127.0.1.1:61616\n", "stomp.transport=stomp+nio://0.0.0.0:61616\n"),
    ("a.properties", "listeners=PLAINTEXT://[::1]:9092\n", "listeners=PLAINTEXT://[::]:9092\n"),
    ("a.properties", "listeners=PLAINTEXT://ip6-localhost:9092\n", "listeners=PLAINTEXT://0.0.0.0:9092\n"),
    # host:port pairs in values
    ("app.conf", "listen=127.0.0.1:9000\n", "listen=0.0.0.0:9000\n"),
    ("app.conf", "listen 127.0.0.1:9000;\n", "listen 0.0.0.0:9000;\n"),
    ("app.json", '{"bind": "localhost:7000"}', '{"bind": "0.0.0.0:7000"}'),
    ("app.json", '{"a": {"listen": ["127.0.0.1:7000"]}}', '{"a": {"listen": ["0.0.0.0:7000"]}}'),
    ("app.yml", "bind: localhost:7000\n", "bind: 0.0.0.0:7000\n"),
    ("app.yml", "listeners:\n  - tcp://127.0.0.1:61616\n", "listeners:\n  - tcp://0.0.0.0:61616\n"),
    ("app.xml", "<acceptor name='a'>tcp://127.0.0.1:61616?tcpNoDelay=true</acceptor>",
     "<acceptor name='a'>tcp://0.0.0.0:61616?tcpNoDelay=true</acceptor>"),
    # key pairs: properties
    ("a.properties", "server.address=127.0.0.1\nserver.port=8080\n", "server.address=0.0.0.0\nserver.port=8080\n"),
    ("zoo.cfg", "clientPort=2181\nclientPortAddress=127.0.0.1\n", "clientPort=2181\nclientPortAddress=0.0.0.0\n"),
    ("a.cfg", "admin.serverAddress=localhost\nadmin.serverPort=8080\n",
     "admin.serverAddress=0.0.0.0\nadmin.serverPort=8080\n"),
    ("a.properties", "http.bind.host = ::1\nhttp.port = 8080\n", "http.bind.host = 0.0.0.0\nhttp.port = 8080\n"),
    ("my.ini", "[mysqld]\nbind-address = 127.0.0.1\nport = 9000\n", "[mysqld]\nbind-address = 0.0.0.0\nport = 9000\n"),
    # key pairs: XML attributes of one element
    ("a.xml", '<connector host="127.0.0.1" port="61616"/>', '<connector host="0.0.0.0" port="61616"/>'),
    ("a.xml", "<listener address='localhost' port='8080'></listener>",
     "<listener address='0.0.0.0' port='8080'></listener>"),
    ("a.json", '[{"bind": "localhost:7000"}]', '[{"bind": "0.0.0.0:7000"}]'),
    ("a.conf", '<server bind="localhost:7000"/>', '<server bind="0.0.0.0:7000"/>'),
    ("a.xml", '<s:server bindAddress="[::1]"\n   port="9000"/>', '<s:server bindAddress="[::]"\n   port="9000"/>'),
    # key pairs: YAML and JSON siblings
    ("a.yaml", "server:\n  host: 127.0.0.1\n  port: 8080\n", "server:\n  host: 0.0.0.0\n  port: 8080\n"),
    ("a.yaml", "http:\n  - host: \"localhost\"  # here\n    port: '8080'\n",
     "http:\n  - host: \"0.0.0.0\"  # here\n    port: '8080'\n"),
    ("a.json", '{"server": {"host": "127.0.0.1", "port": 8080}}', '{"server": {"host": "0.0.0.0", "port": 8080}}'),
])
def test_loopback_bindings_of_the_listening_ports_open(path, before, after):
    assert rewritten(path, before) == after


@pytest.mark.parametrize("path, text", [
    ("a.properties", "spring.datasource.url=jdbc:mysql://localhost:3306/db\n"),  # outbound, other port
    ("a.properties", "spring.datasource.url=jdbc:mysql://localhost:8080/db\n"),  # outbound, same port
    ("a.xml", '<Resource url="jdbc:postgresql://127.0.0.1:8080/app"/>'),
    ("a.properties", "bootstrap.servers=localhost:9092\n"),  # the process reaching itself as a client
    ("a.properties", "zookeeper.connect=localhost:2181\n"),
    ("a.properties", "advertised.listeners=PLAINTEXT://localhost:9092\n"),
    ("a.properties", "remote.host=127.0.0.1\nremote.port=8080\n"),
    ("a.xml", '<property name="brokerURL" value="tcp://localhost:61616"/>'),
    ("a.xml", '<networkConnector uri="static:(tcp://localhost:61616)"/>'),
    ("a.xml", "<connector name='c'>tcp://localhost:61616</connector>"),  # Artemis: where others connect
    ("a.xml", '<Connector protocol="AJP/1.3" address="127.0.0.1" port="8080"/>'),  # Ghostcat
    ("a.properties", "web.listen=http://localhost:8161\n"),  # 8161: not a listening port
    ("a.properties", "server.address=127.0.0.1\nserver.port=8161\n"),
    ("a.properties", "server.address=127.0.0.1\nmanagement.server.port=8080\n"),  # names another thing
    ("a.properties", "server.address=10.0.0.5\nserver.port=8080\n"),
    ("a.properties", "listen=127.0.0.10:80800\nlisten=x127.0.0.1:8080\nlisten=localhost.example:8080\n"),
    ("a.properties", "greeting=localhost:8080\n"),  # a name that binds nothing
    # commented out
    ("a.properties", "#listen=127.0.0.1:9000\n! server.address=127.0.0.1\nserver.port=8080\n"),
    ("a.cfg", "; listen=127.0.0.1:9000\n// listen=127.0.0.1:9000\n"),
    ("a.yml", "# bind: localhost:7000\nname: x # bind: localhost:7000\n"),
    ("a.xml", '<!-- <transportConnector name="x" uri="tcp://127.0.0.1:61616"/> -->\n<broker/>'),
    ("a.json", '{\n  // "bind": "localhost:7000"\n  /* "listen": "127.0.0.1:7000" */\n}'),
])
def test_everything_else_stays(path, text):
    assert rewritten(path, text) == text


def test_no_ports_no_change():
    data = b"listen=127.0.0.1:9000\n"
    assert open_loopback(data, "a.properties", ()) == (data, [])


def test_changes_name_line_port_and_both_texts():
    data = b"# broker\nserver.port=8080\r\nserver.address=127.0.0.1\r\nlisten=localhost:9000 , 127.0.0.1:7000\r\n"
    new, changes = open_loopback(data, "a.properties", {8080, 9000, 7000})
    assert new == data.replace(b"127.0.0.1\r", b"0.0.0.0\r").replace(b"localhost:9000 , 127.0.0.1",
                                                                       b"0.0.0.0:9000 , 0.0.0.0")
    assert new.count(b"\r\n") == 3  # CRLF kept
    assert changes == [
        Change(3, "server.address=127.0.0.1", "server.address=0.0.0.0", 8080),
        Change(4, "listen=localhost:9000 , 127.0.0.1:7000", "listen=0.0.0.0:9000 , 0.0.0.0:7000", 7000),
        Change(4, "listen=localhost:9000 , 127.0.0.1:7000", "listen=0.0.0.0:9000 , 0.0.0.0:7000", 9000),
    ]


def test_other_bytes_stay_byte_for_byte():
    """A BOM, Latin-1 bytes, CR line endings and a missing last newline survive the edit."""
    data = b"\xef\xbb\xbfcaf\xe9=1\rlisten=127.0.0.1:9000\rtail=\xff"
    new, _ = open_loopback(data, "a.cfg", {9000})
    assert new == b"\xef\xbb\xbfcaf\xe9=1\rlisten=0.0.0.0:9000\rtail=\xff"


ACTIVEMQ_XML = """<?xml version="1.0" encoding="UTF-8"?>\r
<!-- Debian's activemq.xml -->\r
<beans xmlns="http://www.springframework.org/schema/beans">\r
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>\r
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="localhost" dataDirectory="${activemq.data}">\r
    <transportConnectors>\r
      <!-- <transportConnector name="amqp" uri="amqp://127.0.0.1:5672"/> -->\r
      <transportConnector name="openwire" uri="tcp://127.0.0.1:61616?maximumConnections=1000\
&amp;wireFormat.maxFrameSize=104857600"/>\r
      <transportConnector name="stomp" uri="stomp+nio://localhost:61613"/>\r
    </transportConnectors>\r
    <networkConnectors><networkConnector uri="static:(tcp://localhost:61616)"/></networkConnectors>\r
  </broker>\r
  <import resource="jetty.xml"/>\r
</beans>\r
"""


def test_debian_activemq_xml():
    new, changes = open_loopback(ACTIVEMQ_XML.encode(), "/etc/activemq/instances-available/main/activemq.xml",
                                 {61616, 5672})
    assert new.decode() == ACTIVEMQ_XML.replace('uri="tcp://127.0.0.1:61616?', 'uri="tcp://0.0.0.0:61616?')
    assert [(c.line, c.port) for c in changes] == [(8, 61616)]
    assert changes[0].after.startswith('<transportConnector name="openwire" uri="tcp://0.0.0.0:61616?')


ZOO_CFG = """# The number of milliseconds of each tick
tickTime=2000
dataDir=/var/lib/zookeeper
clientPort=2181
clientPortAddress=127.0.0.1
admin.serverAddress=127.0.0.1
admin.serverPort=8080
server.1=localhost:2888:3888
"""


def test_zoo_cfg():
    new, changes = open_loopback(ZOO_CFG.encode(), "/etc/zookeeper/conf/zoo.cfg", {2181, 2888})
    assert new.decode() == ZOO_CFG.replace("clientPortAddress=127.0.0.1", "clientPortAddress=0.0.0.0")
    assert [(c.line, c.port) for c in changes] == [(5, 2181)]  # the admin server listens on 8080: not seen


APPLICATION_YML = """server:
  address: 127.0.0.1
  port: 8080
management:
  server:
    address: 127.0.0.1
    port: 8161
spring:
  datasource:
    url: jdbc:mysql://localhost:8080/shop
  kafka:
    bootstrap-servers: localhost:9092
    listener:
      host: 127.0.0.1
grpc:
  server:
    host: localhost
    port: 9000
"""


def test_spring_application_yml():
    new, changes = open_loopback(APPLICATION_YML.encode(), "/srv/app/config/application.yml", {8080, 9092, 9000})
    expected = APPLICATION_YML.replace("  address: 127.0.0.1\n  port: 8080", "  address: 0.0.0.0\n  port: 8080")
    expected = expected.replace("host: localhost\n    port: 9000", "host: 0.0.0.0\n    port: 9000")
    assert new.decode() == expected
    assert [(c.line, c.port) for c in changes] == [(2, 8080), (17, 9000)]


# -- the edge --------------------------------------------------------------------------------

def _host(tmp_path, files: dict[str, bytes]) -> SnapshotHost:
    (tmp_path / "host.json").write_text(json.dumps({"hostname": "broker"}))
    for path, data in files.items():
        target = tmp_path / "files" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return SnapshotHost(str(tmp_path))


def test_rewrites_read_through_the_host(tmp_path):
    host = _host(tmp_path, {
        "/etc/activemq/activemq.xml": ACTIVEMQ_XML.encode(),
        "/etc/activemq/jetty.properties": b"jetty.host=127.0.0.1\njetty.port=8161\n",  # 8161 is public
        "/etc/activemq/lib.bin": b"\x00\x01\x02listen=127.0.0.1:61616\x00\x00\x00",
        "/etc/activemq/entities.xml": b'<!DOCTYPE x [<!ENTITY e "y">]><connector host="127.0.0.1" port="61616"/>',
    })
    paths = ["/etc/activemq/activemq.xml", "/etc/activemq/jetty.properties", "/etc/activemq/lib.bin",
             "/etc/activemq/entities.xml", "/etc/activemq/missing.xml"]
    listening = [Socket(61616, "127.0.0.1"), Socket(8161, "0.0.0.0"), Socket(5672, "::", "tcp6")]
    copies, findings = loopback_rewrites(host, paths, listening)
    assert list(copies) == ["/etc/activemq/activemq.xml"]
    assert b"tcp://0.0.0.0:61616?" in copies["/etc/activemq/activemq.xml"]
    (finding,) = findings
    assert (finding.code, finding.severity, finding.path) == ("NET-W001", "warning", "/etc/activemq/activemq.xml")
    assert "port 61616" in finding.message and "line 8" in finding.message and "image's copy" in finding.message
    assert host.read_bytes("/etc/activemq/activemq.xml") == ACTIVEMQ_XML.encode()  # the host's file stays


def test_no_loopback_socket_no_rewrite(tmp_path):
    host = _host(tmp_path, {"/etc/app.properties": b"listen=127.0.0.1:9000\n"})
    assert loopback_rewrites(host, ["/etc/app.properties"], [Socket(9000, "0.0.0.0")]) == ({}, [])
    copies, findings = loopback_rewrites(host, ["/etc/app.properties"], [Socket(9000, "::ffff:127.0.0.1", "tcp6")])
    assert copies == {"/etc/app.properties": b"listen=0.0.0.0:9000\n"} and len(findings) == 1


def test_generated_copies_are_edited_not_replaced(tmp_path):
    host = _host(tmp_path, {"/etc/app.properties": b"password=hunter2\nlisten=127.0.0.1:9000\n"})
    templated = {"/etc/app.properties": b"password=${A2C_SECRET_PASSWORD}\nlisten=127.0.0.1:9000\n"}
    copies, _ = loopback_rewrites(host, ["/etc/app.properties"], [Socket(9000, "127.0.0.1")], generated=templated)
    assert copies == {"/etc/app.properties": b"password=${A2C_SECRET_PASSWORD}\nlisten=0.0.0.0:9000\n"}
