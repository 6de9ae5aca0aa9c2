"""State folders (issue 9, cause 4): the folders a server writes are found, listed as
persistentStorage, created writable in the image and not baked, on the real config formats of
ZooKeeper, HSQLDB, Derby, H2 and ActiveMQ as Debian installs them."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import pytest

from a2c.analyzers.common import statedirs
from a2c.analyzers.registry import load_registry
from a2c.errors import InvalidFile
from a2c.hosts.local import LocalHost, parse_fdinfo_flags
from a2c.hosts.snapshot import SnapshotHost, process_from_json, process_to_json
from a2c.images.layers import ContextWriter
from a2c.model import ProcessInfo
from a2c.steps.analyze import build_document
from a2c.steps.inventory import discover
from a2c.workspace import validate

JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"


# -- the rule: names ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    "dataDir", "dataLogDir", "dataDirectory", "data-dir", "data_dir", "datadir", "storage.path", "activemq.data",
    "derby.system.home", "baseDir", "server.database.0", "database.0", "kahaDB.directory", "broker.dataDirectory",
    "path.data", "work.dir", "workDir", "state.dir", "DATA_DIR", "journalDirectory", "spool.dir", "db.file",
])
def test_keys_that_name_a_state_folder(key):
    assert statedirs.names_state(key)


@pytest.mark.parametrize("key", [
    "zookeeper.log.dir", "log.dir", "java.io.tmpdir", "catalina.home", "activemq.home", "activemq.base",
    "activemq.conf", "activemq.classpath", "db.password", "user.home", "user.dir", "jetty.base", "clientPort",
    "server.dbname.0", "data.cache.dir", "temp.data.dir", "config.dir", "logging.path", "db.url", "java.home",
    "javax.net.ssl.keyStore", "spring.datasource.url", "file.encoding", "transportConnector.uri",
])
def test_keys_that_do_not(key):
    assert not statedirs.names_state(key)


def test_words_split_camel_case_separators_and_known_run_together_words():
    assert statedirs.words("dataLogDir") == ["data", "log", "dir"]
    assert statedirs.words("kahaDB.directory") == ["kaha", "db", "directory"]
    assert statedirs.words("datalogdir") == ["data", "log", "dir"]
    assert statedirs.words("database") == ["database"]  # not data + base
    assert statedirs.words("dbname") == ["dbname"]  # "name" is no word of the rule: left whole


# -- the rule: values -----------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, expected", [
    ("dataDir", "/var/lib/zookeeper", ("/var/lib/zookeeper", False)),
    ("dataDir", "/var/lib/zookeeper/", ("/var/lib/zookeeper", False)),
    ("dataDir", "data", ("/srv/app/data", False)),  # a bare name: the key says it is a folder
    ("dataDir", "./data/../zk", ("/srv/app/zk", False)),
    ("server.database.0", "file:/var/lib/hsqldb/db/mydb", ("/var/lib/hsqldb/db/mydb", True)),
    ("server.database.0", "file:mydb", ("/srv/app/mydb", True)),
    ("database.0", "file:///srv/db/x", ("/srv/db/x", True)),
    ("kahaDB.directory", "${activemq.base}/data/kahadb", ("/var/lib/activemq/main/data/kahadb", False)),
    ("storage.path", "${env:STORE:-/srv/store}", ("/srv/store", False)),
    ("spring.datasource.url", "jdbc:h2:file:./db/app;AUTO_SERVER=TRUE;PASSWORD=x", ("/srv/app/db/app", True)),
    ("url", "jdbc:hsqldb:file:/srv/hsql/app", ("/srv/hsql/app", True)),
    ("url", "jdbc:derby:/srv/derby/app;create=true", ("/srv/derby/app", True)),
])
def test_values_that_are_paths(key, value, expected):
    props = {"activemq.base": "/var/lib/activemq/main"}
    assert statedirs.state_path(key, value, "/srv/app", props) == expected


@pytest.mark.parametrize("key, value", [
    ("db.type", "mysql"),  # a bare word under a key that names no folder
    ("dataDir", "${undefined.property}/x"), ("dataDir", "~/zk"), ("dataDir", ""), ("dataDir", "true"),
    ("dataDir", "2181"), ("dataDir", "/a\nb"), ("url", "jdbc:h2:tcp://db:9092/app"), ("url", "jdbc:h2:mem:x"),
    ("url", "jdbc:derby://db:1527/app"), ("url", "jdbc:hsqldb:hsql://db/app"), ("url", "jdbc:postgresql:/x"),
    ("database.0", "mem:x"), ("database.0", "res:/db"), ("dataDir", "//server/share"),
])
def test_values_that_are_not(key, value):
    assert statedirs.state_path(key, value, "/srv/app", {}) is None


def test_folder_of_a_path_a_file_and_a_file_prefix(tmp_path):
    host = LocalHost()
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "mydb.script").write_text("")
    (tmp_path / "app.db").write_text("")
    assert statedirs.folder_of(host, str(tmp_path / "db"), False) == str(tmp_path / "db")
    assert statedirs.folder_of(host, str(tmp_path / "app.db"), False) == str(tmp_path)
    assert statedirs.folder_of(host, str(tmp_path / "db" / "mydb"), False) == str(tmp_path / "db")  # HSQLDB's prefix
    assert statedirs.folder_of(host, str(tmp_path / "db" / "new"), True) == str(tmp_path / "db")  # file: not yet made
    assert statedirs.folder_of(host, str(tmp_path / "nothing"), False) is None  # no evidence of a folder
    assert statedirs.folder_of(host, str(tmp_path / "no" / "where"), True) is None


def test_arguments_pair_options_with_their_values():
    pairs = list(statedirs.argument_pairs(["-tcp", "-tcpAllowOthers", "-baseDir", "/srv/h2", "--database.0",
                                           "file:/srv/db/x", "--port=9001", "dataDir=/srv/zk", "/etc/app.cfg"]))
    assert ("baseDir", "/srv/h2", "argument -baseDir /srv/h2") in pairs
    assert ("database.0", "file:/srv/db/x", "argument --database.0 file:/srv/db/x") in pairs
    assert ("port", "9001", "argument --port=9001") in pairs and ("dataDir", "/srv/zk", "argument dataDir=/srv/zk") in pairs
    assert not any(name == "tcp" for name, _, _ in pairs)


def test_merge_nested_keeps_the_outermost_folder_with_all_evidence():
    outer = statedirs.Candidate("/srv/amq/data", ["-Dactivemq.data=/srv/amq/data"], named=True)
    inner = statedirs.Candidate("/srv/amq/data/kahadb", ["kahaDB.directory=${activemq.data}/kahadb in a.xml"], ["a.xml"])
    other = statedirs.Candidate("/srv/amq/database", ["x"])  # a sibling whose name starts alike
    merged = statedirs.merge_nested([inner, other, outer])
    assert [m.path for m in merged] == ["/srv/amq/data", "/srv/amq/database"]
    assert merged[0].evidence == ["-Dactivemq.data=/srv/amq/data",
                                  "kahaDB.directory=${activemq.data}/kahadb in a.xml (inside it: /srv/amq/data/kahadb)"]
    assert merged[0].sources == ["a.xml"]


def test_fdinfo_flags_are_octal_and_the_access_mode_is_their_low_bits():
    assert parse_fdinfo_flags(b"pos:\t0\nflags:\t02100002\nmnt_id:\t25\n") == 0o2100002
    assert parse_fdinfo_flags(b"pos:\t0\nflags:\t0100000\n") & 3 == 0  # O_RDONLY
    assert parse_fdinfo_flags(b"pos:\t0\n") == 0 and parse_fdinfo_flags(b"flags:\tzz\n") == 0


def test_snapshot_carries_written_files():
    proc = ProcessInfo(7, ("java",), open_files=("/a", "/b"), written_files=("/b",))
    data = process_to_json(proc)
    assert data["writtenFiles"] == ["/b"] and process_from_json(json.loads(json.dumps(data))) == proc
    assert process_from_json({"pid": 7, "writtenFiles": "/b"}).written_files == ()  # not a list: ignored
    assert process_from_json({"pid": 7, "writtenFiles": ["/b", 3]}).written_files == ("/b",)
    assert process_from_json({"pid": 7}).written_files == ()  # a snapshot from before


# -- real servers' layouts, as host snapshots ---------------------------------------------------

def _jar(manifest: str = "Manifest-Version: 1.0\r\n\r\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", manifest)
    return buffer.getvalue()


def _snapshot(tmp_path, process: dict, files: dict[str, bytes | str], links: dict[str, str] | None = None,
              others: tuple[dict, ...] = ()) -> SnapshotHost:
    root = tmp_path / "snap"
    for path, data in files.items():
        target = root / "files" / path.lstrip("/")
        if path.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
    for path, target in (links or {}).items():
        (root / "files" / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / "files" / path.lstrip("/")).symlink_to(target)
    process = {"pid": 4242, "exe": JAVA, "cwd": "/", "username": "svc", "uid": 110, "gid": 110, "ppid": 1,
               "listening": [{"port": 2181, "address": "0.0.0.0", "protocol": "tcp"}], **process}
    (root / "host.json").write_text(json.dumps({"hostname": "data-01", "processes": [process, *others]}))
    return SnapshotHost(str(root))


def _analyze(host: SnapshotHost):
    registry = load_registry()
    entry = next(iter(discover(host, registry).entries.values()))
    analyzer = registry.get(entry.analyzer_id)
    assert analyzer.id == "java-generic"
    analysis = build_document(analyzer.analyze(entry, host.process(entry.process_id), host))
    validate(analysis, "analysis", "analysis.json")
    return analyzer, analysis


def _storage(analysis) -> dict[str, list[str]]:
    return {e["path"]: e["evidence"] for e in analysis["analysisInfo"]["persistentStorage"]}


def _codes(analysis) -> list[str]:
    return [f["code"] for f in analysis.get("findings", [])]


def _tar_members(host, plan) -> dict[str, tarfile.TarInfo]:
    data = b"".join(ContextWriter(host, plan, {}))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {m.name.rstrip("/"): m for m in archive.getmembers()}


# Debian's /etc/zookeeper/conf/zoo.cfg (Apache's sample), pointed at the package's data folder.
ZOO_CFG = """\
# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
# do not use /tmp for storage, /tmp here is just
# example sakes.
dataDir=/var/lib/zookeeper
dataLogDir=/var/lib/zookeeper-txlog
# the port at which the clients will connect
clientPort=2181
# the maximum number of client connections.
#maxClientCnxns=60
#autopurge.snapRetainCount=3
#autopurge.purgeInterval=1
#metricsProvider.httpHost=0.0.0.0
"""
ZOO_LOG4J = """\
zookeeper.root.logger=INFO, CONSOLE
zookeeper.log.dir=.
zookeeper.log.file=zookeeper.log
log4j.rootLogger=${zookeeper.root.logger}
log4j.appender.ROLLINGFILE=org.apache.log4j.RollingFileAppender
log4j.appender.ROLLINGFILE.File=${zookeeper.log.dir}/${zookeeper.log.file}
"""


@pytest.fixture
def zookeeper(tmp_path):
    """ZooKeeper as Debian's zkServer.sh starts it: conf folder on the class path, zoo.cfg named."""
    cmdline = [JAVA, "-Dzookeeper.log.dir=/var/log/zookeeper", "-Dzookeeper.root.logger=INFO,ROLLINGFILE",
               "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar", "-Dcom.sun.management.jmxremote",
               "-Dcom.sun.management.jmxremote.local.only=false", "org.apache.zookeeper.server.quorum.QuorumPeerMain",
               "/etc/zookeeper/conf/zoo.cfg"]
    return _snapshot(tmp_path, {
        "cmdline": cmdline,
        "openFiles": ["/usr/share/java/zookeeper.jar", "/var/lib/zookeeper-txlog/version-2/log.100000001",
                      "/var/log/zookeeper/zookeeper.log"],
        "writtenFiles": ["/var/lib/zookeeper-txlog/version-2/log.100000001", "/var/log/zookeeper/zookeeper.log"],
    }, {
        "/etc/zookeeper/conf/zoo.cfg": ZOO_CFG, "/etc/zookeeper/conf/log4j.properties": ZOO_LOG4J,
        "/etc/zookeeper/conf/environment": "ZOOMAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain\n",
        "/usr/share/java/zookeeper.jar": _jar(),
        "/var/lib/zookeeper/myid": "1\n", "/var/lib/zookeeper/version-2/snapshot.0": b"\x00snap",
        "/var/lib/zookeeper-txlog/version-2/log.100000001": b"\x00txn",
        "/var/log/zookeeper/zookeeper.log": "started\n",
    })


def test_zookeeper_data_dirs_are_persistent_storage_created_writable_and_not_baked(zookeeper):
    analyzer, analysis = _analyze(zookeeper)
    storage = _storage(analysis)
    assert storage == {
        "/var/lib/zookeeper": ["dataDir=/var/lib/zookeeper in /etc/zookeeper/conf/zoo.cfg"],
        "/var/lib/zookeeper-txlog": ["dataLogDir=/var/lib/zookeeper-txlog in /etc/zookeeper/conf/zoo.cfg",
                                     "open for writing: /var/lib/zookeeper-txlog/version-2/log.100000001"],
    }
    assert all(e["bakeContents"] is False for e in analysis["analysisInfo"]["persistentStorage"])
    finding = next(f for f in analysis["findings"] if f["code"] == "STATE-I001")
    assert finding["severity"] == "info" and "/var/lib/zookeeper" in finding["message"]
    assert "bakeContents" in finding["message"]
    mode = analysis["analysisInfo"]["processMode"]
    assert not any(p.startswith("/var/lib/zookeeper") for p in mode["paths"])  # the open txn log is not copied
    plan = analyzer.plan(analysis, zookeeper)
    assert {"/var/lib/zookeeper", "/var/lib/zookeeper-txlog"} <= set(plan.writable_dirs)
    members = _tar_members(zookeeper, plan)
    # Created (outside every copied path), group 0 may write; the host's data is not in the image.
    assert members["writable/var/lib/zookeeper"].isdir() and members["writable/var/lib/zookeeper"].mode == 0o775
    assert not any("zookeeper/myid" in name or "log.100000001" in name for name in members)
    assert "layers/application/etc/zookeeper/conf/zoo.cfg" in members


def test_bake_contents_copies_a_folder_into_the_image_writable(zookeeper):
    analyzer, analysis = _analyze(zookeeper)
    for entry in analysis["analysisInfo"]["persistentStorage"]:
        entry["bakeContents"] = entry["path"] == "/var/lib/zookeeper"  # the user's edit
    validate(analysis, "analysis", "analysis.json")
    plan = analyzer.plan(analysis, zookeeper)
    members = _tar_members(zookeeper, plan)
    myid = members["layers/application/var/lib/zookeeper/myid"]
    assert myid.mode & 0o060 == 0o060  # the application's group may write what was baked
    assert not any("log.100000001" in name for name in members)  # the other folder stays empty
    assert "/var/lib/zookeeper" in plan.writable_dirs


def test_log_folders_the_runtime_and_the_system_are_no_state(zookeeper):
    _, analysis = _analyze(zookeeper)
    paths = set(_storage(analysis))
    assert not any(p.startswith(("/var/log", "/usr", "/etc")) for p in paths)


def test_hsqldb_server_properties_in_the_working_folder(tmp_path):
    """HSQLDB reads ./server.properties; server.database.0 names a file prefix: the folder holds its files."""
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-cp", "/usr/share/java/hsqldb.jar", "org.hsqldb.server.Server"], "cwd": "/srv/hsqldb",
        "openFiles": ["/srv/hsqldb/db/mydb.lck", "/srv/hsqldb/db/mydb.log"],
        "writtenFiles": ["/srv/hsqldb/db/mydb.lck", "/srv/hsqldb/db/mydb.log"],
    }, {
        "/usr/share/java/hsqldb.jar": _jar(),
        "/srv/hsqldb/server.properties": "server.database.0=file:/srv/hsqldb/db/mydb\nserver.dbname.0=mydb\n"
                                         "server.port=9001\nserver.silent=true\n",
        "/srv/hsqldb/sqltool.rc": "urlid mydb\n",
        "/srv/hsqldb/db/mydb.properties": "version=2.7.1\nmodified=yes\n",
        "/srv/hsqldb/db/mydb.script": "CREATE SCHEMA PUBLIC AUTHORIZATION DBA\n",
        "/srv/hsqldb/db/mydb.lck": b"HSQLLOCK", "/srv/hsqldb/db/mydb.log": "",
    })
    analyzer, analysis = _analyze(host)
    assert _storage(analysis) == {"/srv/hsqldb/db": [
        "server.database.0=file:/srv/hsqldb/db/mydb in /srv/hsqldb/server.properties "
        "(the folder of the files it names)",
        "open for writing: /srv/hsqldb/db/mydb.lck"]}
    mode = analysis["analysisInfo"]["processMode"]
    assert "/srv/hsqldb" in mode["paths"] and "/srv/hsqldb/db/mydb.properties" not in mode["configFiles"]
    members = _tar_members(host, analyzer.plan(analysis, host))
    assert "layers/application/srv/hsqldb/server.properties" in members
    assert not any(name.startswith("layers/application/srv/hsqldb/db") for name in members)
    assert members["writable/srv/hsqldb/db"].mode == 0o775


def test_hsqldb_database_argument(tmp_path):
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-cp", "/usr/share/java/hsqldb.jar", "org.hsqldb.server.Server", "--database.0",
                    "file:/var/lib/hsqldb/db/mydb", "--dbname.0", "mydb"], "cwd": "/"}, {
        "/usr/share/java/hsqldb.jar": _jar(), "/var/lib/hsqldb/db/mydb.script": "CREATE SCHEMA PUBLIC\n"})
    _, analysis = _analyze(host)
    assert _storage(analysis) == {"/var/lib/hsqldb/db": [
        "argument --database.0 file:/var/lib/hsqldb/db/mydb (the folder of the files it names)"]}


def test_derby_system_home_with_its_own_properties(tmp_path):
    """derby.system.home holds derby.properties and each database's service.properties: all data."""
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-Dderby.system.home=/var/lib/derby", "-jar", "/usr/share/java/derbynet.jar", "start",
                    "-h", "0.0.0.0", "-p", "1527"], "cwd": "/var/lib/derby",
        "writtenFiles": ["/var/lib/derby/derby.log", "/var/lib/derby/mydb/seg0/c10.dat", "/var/lib/derby/mydb/log/log1.dat"],
    }, {
        "/usr/share/java/derbynet.jar": _jar("Manifest-Version: 1.0\r\nClass-Path: derby.jar\r\n\r\n"),
        "/usr/share/java/derby.jar": _jar(),
        "/var/lib/derby/derby.properties": "derby.drda.host=0.0.0.0\n",
        "/var/lib/derby/derby.log": "Booting Derby\n",
        "/var/lib/derby/mydb/service.properties": "derby.storage.pageSize=4096\n",
        "/var/lib/derby/mydb/seg0/c10.dat": b"\x00", "/var/lib/derby/mydb/log/log1.dat": b"\x00",
    })
    analyzer, analysis = _analyze(host)
    storage = _storage(analysis)
    assert list(storage) == ["/var/lib/derby"]
    assert storage["/var/lib/derby"][0] == "-Dderby.system.home=/var/lib/derby"
    assert "open for writing: /var/lib/derby/mydb/seg0/c10.dat" in storage["/var/lib/derby"]
    mode = analysis["analysisInfo"]["processMode"]
    assert "/var/lib/derby" not in mode["paths"] and not mode["configFiles"]
    assert "STATE-W001" not in _codes(analysis)
    plan = analyzer.plan(analysis, host)
    assert plan.workdir == "/var/lib/derby" and "/var/lib/derby" in plan.writable_dirs


def test_h2_base_dir_argument(tmp_path):
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-cp", "/usr/share/java/h2.jar", "org.h2.tools.Server", "-tcp", "-tcpAllowOthers",
                    "-tcpPort", "9092", "-baseDir", "/var/lib/h2", "-ifNotExists"], "cwd": "/",
        "writtenFiles": ["/var/lib/h2/test.mv.db"]}, {
        "/usr/share/java/h2.jar": _jar(), "/var/lib/h2/test.mv.db": b"H:2"})
    _, analysis = _analyze(host)
    assert _storage(analysis) == {"/var/lib/h2": ["argument -baseDir /var/lib/h2",
                                                  "open for writing: /var/lib/h2/test.mv.db"]}


def test_an_empty_data_folder_is_still_created(tmp_path):
    """A fresh H2 has written nothing yet: its named, empty base folder must still be in the image."""
    host = _snapshot(tmp_path, {"cmdline": [JAVA, "-cp", "/usr/share/java/h2.jar", "org.h2.tools.Server",
                                            "-baseDir", "/srv/h2/data"], "cwd": "/srv/h2"},
                     {"/usr/share/java/h2.jar": _jar(), "/srv/h2/data/": b"", "/srv/h2/h2.sh": "java ...\n"})
    analyzer, analysis = _analyze(host)
    assert list(_storage(analysis)) == ["/srv/h2/data"]
    plan = analyzer.plan(analysis, host)
    assert "/srv/h2/data" in plan.layers[-1].excludes and "/srv/h2/data" in plan.writable_dirs


ACTIVEMQ_XML = """\
<beans
  xmlns="http://www.springframework.org/schema/beans"
  xmlns:amq="http://activemq.apache.org/schema/core"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">

    <!-- Allows us to use system properties as variables in this configuration file -->
    <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>

    <broker xmlns="http://activemq.apache.org/schema/core"
            useJmx="false"
            brokerName="localhost"
            dataDirectory="${activemq.base}/data">
        <persistenceAdapter>
            <kahaDB directory="${activemq.data}/kahadb"/>
        </persistenceAdapter>
        <systemUsage><systemUsage><storeUsage><storeUsage limit="100 gb"/></storeUsage>
            <tempUsage><tempUsage limit="50 gb"/></tempUsage></systemUsage></systemUsage>
        <transportConnectors>
            <transportConnector name="openwire" uri="tcp://0.0.0.0:61616"/>
        </transportConnectors>
    </broker>
</beans>
"""


def test_activemq_data_property_and_kahadb_directory(tmp_path):
    """Debian's /usr/bin/activemq command line; the instance's conf is a link into /etc/activemq."""
    base = "/var/lib/activemq/main"
    cmdline = [JAVA, "-Xms512M", "-Xmx512M", "-Dorg.apache.activemq.UseDedicatedTaskRunner=true",
               "--add-opens", "java.base/java.lang=ALL-UNNAMED", f"-Dactivemq.classpath={base}/conf",
               "-Dactivemq.home=/usr/share/activemq", f"-Dactivemq.base={base}", f"-Dactivemq.conf={base}/conf",
               f"-Dactivemq.data={base}/data", "-jar", "/usr/share/activemq/bin/activemq.jar", "start",
               "xbean:activemq.xml"]
    kahadb = f"{base}/data/kahadb"
    host = _snapshot(tmp_path, {"cmdline": cmdline, "cwd": base,
                                "writtenFiles": [f"{kahadb}/db.data", f"{kahadb}/db-1.log", f"{kahadb}/lock"]}, {
        "/usr/share/java/activemq-run.jar": _jar(), "/usr/share/activemq/lib/activemq-broker.jar": _jar(),
        "/etc/activemq/instances-available/main/activemq.xml": ACTIVEMQ_XML,
        "/etc/activemq/instances-available/main/log4j2.properties": "appender.console.type=Console\n",
        f"{kahadb}/db.data": b"\x00", f"{kahadb}/db-1.log": b"\x00", f"{kahadb}/lock": b"",
        f"{base}/tmp/": b"",
    }, links={"/usr/share/activemq/bin/activemq.jar": "../../java/activemq-run.jar",
              "/etc/activemq/instances-enabled/main": "../instances-available/main",
              f"{base}/conf": "/etc/activemq/instances-enabled/main"})
    analyzer, analysis = _analyze(host)
    storage = _storage(analysis)
    assert list(storage) == [f"{base}/data"]
    evidence = storage[f"{base}/data"]
    assert evidence[0] == f"-Dactivemq.data={base}/data"
    assert any(e.startswith("broker.dataDirectory=${activemq.base}/data in ") for e in evidence)
    assert any(e.startswith("kahaDB.directory=${activemq.data}/kahadb in ") and e.endswith(f"(inside it: {kahadb})")
               for e in evidence)
    assert f"open for writing: {kahadb}/db.data, {kahadb}/lock" in evidence  # db-1.log: a log name, not evidence
    plan = analyzer.plan(analysis, host)
    members = _tar_members(host, plan)
    assert not any(name.startswith(f"layers/application{base}/data") for name in members)
    assert members[f"writable{base}/data"].mode == 0o775


def test_generic_keys_in_yaml_properties_and_the_environment(tmp_path):
    app = "/opt/search"
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-cp", f"{app}/lib/*", f"-Dapp.config={app}/config/app.yml", "com.example.Main"],
        "cwd": app, "ppid": 77, "environ": {"QUEUE_STATE_DIR": "/srv/queue", "LANG": "C"}}, {
        f"{app}/lib/app.jar": _jar(),
        f"{app}/config/app.yml": "path:\n  data: /srv/search/data\n  logs: /srv/search/logs\nstorage:\n  path: ./store\n",
        f"{app}/config/db.properties": "spring.datasource.url=jdbc:h2:file:/srv/h2/app;AUTO_SERVER=TRUE\n"
                                       "db.type=h2\ncache.dir=/srv/cache\n",
        "/srv/search/data/nodes/0/node.lock": b"", "/srv/search/logs/search.log": "x\n",
        f"{app}/store/segments_1": b"\x00", "/srv/h2/app.mv.db": b"H:2", "/srv/cache/entry": b"",
        "/srv/queue/q.dat": b"",
    }, others=({"pid": 77, "cmdline": ["/bin/sh", "start.sh"], "environ": {"LANG": "C"}},))  # set for the app only
    analyzer, analysis = _analyze(host)
    storage = _storage(analysis)
    assert storage.keys() == {"/srv/search/data", f"{app}/store", "/srv/h2", "/srv/queue"}
    assert storage["/srv/search/data"] == [f"path.data=/srv/search/data in {app}/config/app.yml"]
    assert storage["/srv/h2"] == [f"spring.datasource.url=jdbc:h2:file:/srv/h2/app in {app}/config/db.properties "
                                  f"(the folder of the files it names)"]  # its options (a password) not shown
    assert storage["/srv/queue"] == ["environment QUEUE_STATE_DIR=/srv/queue"]
    plan = analyzer.plan(analysis, host)
    assert f"{app}/store" in plan.layers[-1].excludes


def test_a_state_folder_that_holds_the_code_is_copied_writable_with_a_warning(tmp_path):
    """H2 with -baseDir . in the folder of its own jar: no volume can go there; it stays, writable."""
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-cp", "/opt/h2/h2.jar", "org.h2.tools.Server", "-baseDir", "."], "cwd": "/opt/h2",
        "writtenFiles": ["/opt/h2/test.mv.db"]}, {"/opt/h2/h2.jar": _jar(), "/opt/h2/test.mv.db": b"H:2"})
    analyzer, analysis = _analyze(host)
    assert _storage(analysis) == {}
    warning = next(f for f in analysis["findings"] if f["code"] == "STATE-W001")
    assert warning["path"] == "/opt/h2" and "/opt/h2/h2.jar" in warning["message"]
    assert "STATE-I001" not in _codes(analysis)
    plan = analyzer.plan(analysis, host)
    assert "/opt/h2" in plan.writable_dirs and "/opt/h2" not in plan.layers[-1].excludes
    members = _tar_members(host, plan)
    assert members["layers/application/opt/h2/test.mv.db"].mode & 0o060 == 0o060


def test_a_written_file_beside_configuration_is_no_volume(tmp_path):
    """Only written (no key names the folder), and the folder holds configuration the app reads."""
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-jar", "/opt/app/app.jar"], "cwd": "/opt/app",
        "writtenFiles": ["/opt/app/conf/state.bin", "/opt/app/var/queue.dat", "/opt/app/app.pid",
                         "/opt/app/logs/app.log", "/opt/app/recording.jfr", "/tmp/upload-1/part.bin"]}, {
        "/opt/app/app.jar": _jar(), "/opt/app/conf/app.properties": "a=b\n", "/opt/app/conf/state.bin": b"\x00",
        "/opt/app/var/queue.dat": b"\x00", "/opt/app/app.pid": "1\n", "/opt/app/logs/app.log": "x\n",
        "/opt/app/recording.jfr": b"", "/tmp/upload-1/part.bin": b""})
    analyzer, analysis = _analyze(host)
    assert _storage(analysis) == {"/opt/app/var": ["open for writing: /opt/app/var/queue.dat"]}
    mode = analysis["analysisInfo"]["processMode"]
    assert "/opt/app/conf" in mode["writableDirs"] and "STATE-W001" in _codes(analysis)
    assert "/opt/app" not in mode["writableDirs"]  # its pid file, log and flight recording are no state
    assert any(s.startswith("/tmp/upload-1 (open for writing") and "a temporary folder" in s for s in mode["skipped"])


def test_a_data_dir_under_tmp_named_by_its_configuration_is_kept(tmp_path):
    """Apache's sample zoo.cfg, as shipped: dataDir=/tmp/zookeeper."""
    host = _snapshot(tmp_path, {"cmdline": [JAVA, "-cp", "/opt/zk/conf:/opt/zk/lib/zookeeper.jar",
                                            "org.apache.zookeeper.server.quorum.QuorumPeerMain", "/opt/zk/conf/zoo.cfg"],
                                "writtenFiles": ["/tmp/zookeeper/version-2/log.1"]}, {
        "/opt/zk/conf/zoo.cfg": ZOO_CFG.replace("/var/lib/zookeeper-txlog", "/tmp/zookeeper").replace(
            "/var/lib/zookeeper", "/tmp/zookeeper"), "/opt/zk/lib/zookeeper.jar": _jar(),
        "/tmp/zookeeper/version-2/log.1": b"\x00"})
    _, analysis = _analyze(host)
    assert _storage(analysis) == {"/tmp/zookeeper": ["dataDir=/tmp/zookeeper in /opt/zk/conf/zoo.cfg",
                                                     "dataLogDir=/tmp/zookeeper in /opt/zk/conf/zoo.cfg",
                                                     "open for writing: /tmp/zookeeper/version-2/log.1"]}


def test_system_home_and_runtime_folders_are_skipped(tmp_path):
    host = _snapshot(tmp_path, {
        "cmdline": [JAVA, "-Ddata.dir=/var/lib", "-Dstate.dir=/home/svc", "-Dwork.dir=/usr/lib/jvm/java-17/work",
                    "-Dstorage.path=/var/log/app", "-Dspool.dir=/srv/only-logs", "-jar", "/opt/app/app.jar"],
        "cwd": "/opt/app"}, {
        "/opt/app/app.jar": _jar(), "/var/lib/dpkg/status": "", "/home/svc/.profile": "",
        "/usr/lib/jvm/java-17/work/x": "", "/var/log/app/a.log": "", "/srv/only-logs/a.log": "",
        "/srv/only-logs/b.log.1": ""})
    _, analysis = _analyze(host)
    assert _storage(analysis) == {}
    skipped = " ".join(analysis["analysisInfo"]["processMode"]["skipped"])
    for reason in ("/var/lib (-Ddata.dir=/var/lib): a system folder", "/home/svc (-Dstate.dir=/home/svc): a home folder",
                   "the operating system's files", "/srv/only-logs (-Dspool.dir=/srv/only-logs): a log folder"):
        assert reason in skipped


# -- the analysis schema ----------------------------------------------------------------------------

def test_schema_checks_persistent_storage_entries(zookeeper):
    _, analysis = _analyze(zookeeper)
    entries = analysis["analysisInfo"]["persistentStorage"]
    entries.append({"path": "/srv/extra"})  # a user's own entry: evidence and bakeContents optional
    validate(analysis, "analysis", "analysis.json")
    for bad in ({"path": "/srv/x", "bakeContents": "yes"}, {"path": "relative"}, {"evidence": []},
                {"path": "/srv/x", "bake": True}):
        edited = json.loads(json.dumps(analysis))
        edited["analysisInfo"]["persistentStorage"].append(bad)
        with pytest.raises(InvalidFile, match="persistentStorage"):
            validate(edited, "analysis", "analysis.json")


def test_plan_ignores_edited_entries_that_name_system_folders(zookeeper):
    analyzer, analysis = _analyze(zookeeper)
    analysis["analysisInfo"]["persistentStorage"] += [{"path": "/etc"}, {"path": "/var/log/x"}, {"path": "/srv/new/"}]
    plan = analyzer.plan(analysis, zookeeper)
    assert "/etc" not in plan.writable_dirs and "/var/log/x" not in plan.writable_dirs
    assert "/srv/new" in plan.writable_dirs
