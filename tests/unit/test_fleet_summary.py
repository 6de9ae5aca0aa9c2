"""The fleet summary: applications by type and version, ports, dependencies between hosts (one
host's connections to another host's listening sockets), and the hosts that failed."""

from __future__ import annotations

from a2c.fleet.summary import (HostReport, build_summary, dotnet_runtime, java_release_version, normal_address,
                               summary_tables)


def process(pid, app=None, listening=(), connections=()):
    return {"pid": pid, "applicationId": app,
            "listening": [{"port": p, "address": a, "protocol": "tcp"} for p, a in listening],
            "connections": [{"remoteAddress": a, "remotePort": p, "localPort": 40000 + i}
                            for i, (a, p) in enumerate(connections)]}


def fleet():
    web = HostReport("web1", "10.0.0.1:22", True, ("10.0.0.1",),
                     {"java-tomcat-11111111": {"applicationType": "java-tomcat", "ports": [8080], "version": "10.1.16",
                                               "runtime": "Java 17.0.9"}},
                     (process(100, "java-tomcat-11111111", [(8080, "::")],
                              [("::ffff:10.0.0.2", 5432), ("10.0.0.3", 8443), ("8.8.8.8", 443), ("127.0.0.1", 6379),
                               ("10.0.0.2", 5432), ("10.0.0.1", 8080), ("10.0.0.3", 9999)]),))
    db = HostReport("db1", "10.0.0.2:22", True, ("10.0.0.2",), {},
                    (process(200, None, [(5432, "0.0.0.0")]),))
    api = HostReport("api1", "api.internal:22", True, ("10.0.0.3", "10.9.9.9"),
                     {"java-springboot-22222222": {"applicationType": "java-springboot", "ports": [8443],
                                                   "runtime": "Java 17.0.9"},
                      "java-tomcat-33333333": {"applicationType": "java-tomcat", "ports": [8081], "version": "10.1.16",
                                               "runtime": "Java 17.0.9"}},
                     (process(300, "java-springboot-22222222", [(8443, "10.0.0.3")]),
                      process(301, "java-tomcat-33333333", [(8081, "10.9.9.9")], [("10.0.0.1", 8080)])))
    down = HostReport("app9", "10.0.0.9:22", False, error="connection refused", hint="Is sshd running?",
                      kind="connection")
    return [web, db, api, down]


def test_applications_by_type_version_and_runtime():
    summary = build_summary(fleet())
    assert summary["hosts"] == {"total": 4, "succeeded": 3, "failed": 1}
    assert summary["applications"] == [
        {"applicationType": "java-springboot", "version": "", "runtime": "Java 17.0.9", "count": 1, "targets": ["api1"]},
        {"applicationType": "java-tomcat", "version": "10.1.16", "runtime": "Java 17.0.9", "count": 2,
         "targets": ["api1", "web1"]},
    ]
    assert [(p["target"], p["port"]) for p in summary["ports"]] == [("api1", 8081), ("api1", 8443), ("web1", 8080)]


def test_dependencies_between_hosts():
    summary = build_summary(fleet())
    edges = {(d["from"]["target"], d["from"]["applicationId"], d["to"]["target"], d["to"]["port"],
              d["to"]["applicationId"]) for d in summary["dependencies"]}
    assert edges == {
        ("web1", "java-tomcat-11111111", "db1", 5432, None),  # IPv4-mapped and plain: one edge
        ("web1", "java-tomcat-11111111", "api1", 8443, "java-springboot-22222222"),
        ("api1", "java-tomcat-33333333", "web1", 8080, "java-tomcat-11111111"),  # wildcard "::" listener
    }
    assert len(summary["dependencies"]) == 3
    db_edge = next(d for d in summary["dependencies"] if d["to"]["target"] == "db1")
    assert db_edge["to"]["pid"] == 200 and db_edge["to"]["address"] == "10.0.0.2"
    external = summary["externalConnections"]
    # 8.8.8.8:443 is outside the fleet; api1 does not listen on 9999; loopback and web1's own address are local
    assert external["count"] == 2
    assert {(e["address"], e["port"], e["knownHost"]) for e in external["listed"]} == {("8.8.8.8", 443, None),
                                                                                       ("10.0.0.3", 9999, "api1")}


def test_a_listener_bound_to_another_address_is_no_match():
    reports = fleet()
    api = reports[2]
    # api1's tomcat listens on 10.9.9.9:8081 only; a connection to 10.0.0.3:8081 reaches nothing
    web = HostReport("web2", "w", True, ("10.0.0.5",), {}, (process(1, None, [], [("10.0.0.3", 8081)]),))
    summary = build_summary([api, web])
    assert summary["dependencies"] == []
    assert [(e["target"], e["knownHost"]) for e in summary["externalConnections"]["listed"] if e["port"] == 8081] == [
        ("web2", "api1")]
    web = HostReport("web2", "w", True, ("10.0.0.5",), {}, (process(1, None, [], [("10.9.9.9", 8081)]),))
    (edge,) = build_summary([api, web])["dependencies"]
    assert edge["to"]["applicationId"] == "java-tomcat-33333333"


def test_failed_hosts_with_why():
    summary = build_summary(fleet())
    assert summary["failed"] == [{"target": "app9", "host": "10.0.0.9:22", "kind": "connection",
                                  "error": "connection refused", "hint": "Is sshd running?"}]
    tables = {title: rows for title, _, rows in summary_tables(summary)}
    assert tables["Failed hosts"] == [["app9", "10.0.0.9:22", "connection", "connection refused"]]
    assert ["web1", "java-tomcat-11111111", "db1", "5432", "pid 200"] in tables["Dependencies between hosts"]


def test_loopback_hosts_on_one_machine():
    """Two targets on one machine by different loopback addresses (as the tests run them): a
    connection to the other's address is a dependency; to one's own address it is not."""
    a = HostReport("a", "127.0.0.1:2222", True, ("127.0.0.1",), {}, (process(1, "app-a", [(9000, "0.0.0.0")],
                                                                             [("127.0.0.2", 9001), ("127.0.0.1", 9000)]),))
    b = HostReport("b", "127.0.0.2:2222", True, ("127.0.0.2",), {}, (process(2, "app-b", [(9001, "127.0.0.2")]),))
    summary = build_summary([a, b])
    assert [(d["from"]["target"], d["to"]["target"], d["to"]["applicationId"]) for d in summary["dependencies"]] == [
        ("a", "b", "app-b")]
    assert summary["externalConnections"]["count"] == 0


def test_runtime_readers():
    assert dotnet_runtime(["/usr/lib/x.so", "/usr/share/dotnet/shared/Microsoft.NETCore.App/3.1.32/libcoreclr.so"]) \
        == ".NET 3.1.32"
    assert dotnet_runtime(["/opt/app/libfoo.so"]) == ""
    assert java_release_version('IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.9"\n') == "Java 17.0.9"
    assert java_release_version("nothing here") == ""
    assert normal_address("[::ffff:10.0.0.2]") == "10.0.0.2" and normal_address("fe80::1%eth0") == "fe80::1"


def test_empty_fleet():
    summary = build_summary([])
    assert summary["hosts"] == {"total": 0, "succeeded": 0, "failed": 0} and summary["dependencies"] == []


def test_interface_addresses_come_from_the_kernel_tables():
    """A host reached through a forwarded port (127.0.0.1:PORT) still names its own addresses."""
    from a2c.hosts.command import parse_interface_addresses

    fib = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        |-- 127.0.0.1
           /32 host LOCAL
     |-- 172.17.0.0
        /16 link UNICAST
     |-- 172.17.0.2
        /32 host LOCAL
     |-- 172.17.255.255
        /32 link BROADCAST
"""
    inet6 = ("00000000000000000000000000000001 01 80 10 80       lo\n"
             "fe800000000000000042acfffe110002 02 40 20 80     eth0\n"
             "20010db8000000000000000000000005 02 40 00 80     eth0\n")
    assert parse_interface_addresses(fib, inet6) == ["172.17.0.2", "2001:db8::5"]


def test_a_connection_accepted_on_a_listening_port_is_not_an_outbound_one():
    from a2c.fleet.summary import HostReport, build_summary

    server = HostReport("db", "10.0.0.9", True, ("10.0.0.9",), {}, processes=({
        "pid": 1, "applicationId": "java-generic-1", "listening": [{"port": 5432, "address": "0.0.0.0"}],
        "connections": [{"remoteAddress": "10.0.0.5", "remotePort": 40000, "localPort": 5432}]},))
    client = HostReport("web", "10.0.0.5", True, ("10.0.0.5",), {}, processes=({
        "pid": 2, "applicationId": "java-tomcat-2", "listening": [{"port": 8080, "address": "0.0.0.0"}],
        "connections": [{"remoteAddress": "10.0.0.9", "remotePort": 5432, "localPort": 40000}]},))
    summary = build_summary([server, client])
    assert [(d["from"]["target"], d["to"]["target"], d["to"]["port"]) for d in summary["dependencies"]] == [
        ("web", "db", 5432)]
    assert summary["externalConnections"]["count"] == 0
