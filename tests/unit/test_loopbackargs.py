"""Loopback listen addresses on a command line (Derby's -h, H2's -Dh2.bindAddress, --bind=host:port)."""

import pytest

from a2c.analyzers.common.loopbackargs import loopback_ports, open_loopback_args


@pytest.mark.parametrize("args, expected", [
    (["NetworkServerControl", "start", "-h", "127.0.0.1", "-p", "1527"], ["NetworkServerControl", "start", "-h", "0.0.0.0", "-p", "1527"]),
    (["-Dh2.bindAddress=127.0.0.1", "org.h2.tools.Server"], ["-Dh2.bindAddress=0.0.0.0", "org.h2.tools.Server"]),
    (["--bind=localhost:1527"], ["--bind=0.0.0.0:1527"]),
    (["--listen", "[::1]:1527"], ["--listen", "[::]:1527"]),
    (["-Djetty.http.host=localhost", "-Djetty.http.port=1527"], ["-Djetty.http.host=0.0.0.0", "-Djetty.http.port=1527"]),
    (["--hostname", "127.0.0.2", "--port", "1527"], ["--hostname", "0.0.0.0", "--port", "1527"]),
])
def test_listen_addresses_open(args, expected):
    new, changes = open_loopback_args(["java", *args], [1527])
    assert new == ["java", *expected] and changes


@pytest.mark.parametrize("args", [
    ["-Dspring.datasource.url=jdbc:derby://localhost:1527/db"],  # a client's URL
    ["--bootstrap-servers=localhost:1527"],  # a client end, named so
    ["-Dremote.host=127.0.0.1"],
    ["--bind=localhost:9999"],  # not a port the process listens on
    ["-h", "db.example.com"],  # not loopback
    ["-Dapp.name=localhost"],  # a name that says no address
])
def test_other_arguments_stay(args):
    assert open_loopback_args(["java", *args], [1527]) == (["java", *args], [])


def test_nothing_changes_when_no_listener_is_on_loopback():
    assert open_loopback_args(["java", "-h", "127.0.0.1"], []) == (["java", "-h", "127.0.0.1"], [])


def test_loopback_ports_from_bound_addresses():
    assert loopback_ports([(1527, "127.0.0.1"), (8082, "::"), (9092, "::ffff:127.0.0.1"), (1, "")]) == [1527, 9092]


def test_h2_gets_its_allow_others_switches_for_the_listeners_it_starts():
    from a2c.analyzers.common.loopbackargs import allow_remote_clients

    args = ["java", "-cp", "h2.jar", "org.h2.tools.Server", "-tcp", "-tcpPort", "9092", "-web", "-webAllowOthers"]
    new, added = allow_remote_clients(args)
    assert added == ["-tcpAllowOthers"]
    assert new == ["java", "-cp", "h2.jar", "org.h2.tools.Server", "-tcpAllowOthers", "-tcp", "-tcpPort", "9092",
                   "-web", "-webAllowOthers"]
    assert allow_remote_clients(["java", "-jar", "app.jar", "-tcp"]) == (["java", "-jar", "app.jar", "-tcp"], [])


@pytest.mark.parametrize("args", [
    ["-Dspring.redis.host=localhost", "-jar", "app.jar"],  # a client's host, no port of the process named
    ["--db-host", "localhost"],
    # opening JMX (often with authenticate=false) would hand the JVM to the network
    ["-Dcom.sun.management.jmxremote.host=127.0.0.1", "-Dcom.sun.management.jmxremote.port=1527"],
])
def test_client_and_management_addresses_stay(args):
    assert open_loopback_args(["java", *args], [1527])[1] == []
