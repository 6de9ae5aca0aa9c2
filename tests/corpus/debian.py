"""Java servers packaged by Debian, started the way their users start them.

Each ``start_<name>(workdir)`` keeps the package's own configuration (copied from ``/etc``
or written the way the package's documentation says) and changes only what two instances on
one machine cannot share: the ports (free ones, bound to loopback) and the data, instance and
log folders (under ``workdir``). The pid handed back is the JVM itself: the launch scripts used
here (``catalina.sh run``, ``jetty.sh run``, ``derbyctl``) end in ``exec java``.

Stdlib only, like ``base.py``.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Callable

from tests.corpus.base import CorpusApp, Running, free_port, launch, require

JAVA_SHARE = "/usr/share/java"


# --- helpers -------------------------------------------------------------------------

def _outside_comments(xml: str, edit: Callable[[str], str]) -> str:
    """Apply ``edit`` to the parts of ``xml`` that are not inside <!-- comments -->, so the
    packaged file keeps its comments (and its commented-out examples stay untouched)."""
    parts = re.split(r"(<!--.*?-->)", xml, flags=re.S)
    return "".join(part if part.startswith("<!--") else edit(part) for part in parts)


def _ready(running: Running, role: str, path: str, timeout: float = 90.0) -> Running:
    """``launch`` returns once the ports accept connections; servlet containers bind their
    connector before deploying, so also wait until ``path`` answers 200 (stop and raise if
    it never does)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if running.process is not None and running.process.poll() is not None:
            break
        conn = http.client.HTTPConnection("127.0.0.1", running.ports[role], timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return running
            last = f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as exc:
            last = repr(exc)
        finally:
            conn.close()
        time.sleep(0.3)
    running.stop()
    raise RuntimeError(f"{running.name}: GET {path} on {role} never answered 200 ({last}):\n"
                       + running.log_tail())


def _logged(running: Running, marker: str, timeout: float = 60.0) -> Running:
    """Wait until the server's output shows ``marker`` (for servers that open their port
    before they are ready to serve); stop and raise if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process is not None and running.process.poll() is not None:
            break
        if running.log is not None and marker in running.log.read_text(errors="replace"):
            return running
        time.sleep(0.3)
    running.stop()
    raise RuntimeError(f"{running.name}: {marker!r} never showed in its output:\n" + running.log_tail())


def _write_war(path: Path, files: dict[str, str]) -> None:
    """A WAR is a zip: write ``files`` (name -> text) into it, the manifest first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as war:
        war.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: a2c corpus\r\n\r\n")
        for name, text in files.items():
            war.writestr(name, text)


def _ledger_war(path: Path, servlet_ns: str) -> None:
    """The organisation's own application: a tiny JSP app, deployed as ``/ledger``.
    ``servlet_ns`` picks the web.xml schema: "jakarta" (Tomcat 10) or "javax" (Jetty 9)."""
    if servlet_ns == "jakarta":
        web_app = ('<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee"\n'
                   '         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
                   '         xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee '
                   'https://jakarta.ee/xml/ns/jakartaee/web-app_6_0.xsd"\n'
                   '         version="6.0">\n')
    else:
        web_app = ('<web-app xmlns="http://xmlns.jcp.org/xml/ns/javaee"\n'
                   '         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
                   '         xsi:schemaLocation="http://xmlns.jcp.org/xml/ns/javaee '
                   'http://xmlns.jcp.org/xml/ns/javaee/web-app_3_1.xsd"\n'
                   '         version="3.1">\n')
    _write_war(path, {
        "WEB-INF/web.xml": ('<?xml version="1.0" encoding="UTF-8"?>\n' + web_app +
                            '  <display-name>Ledger</display-name>\n'
                            '  <welcome-file-list><welcome-file>index.jsp</welcome-file></welcome-file-list>\n'
                            '</web-app>\n'),
        "index.jsp": ('<%@ page contentType="text/html; charset=UTF-8" %>\n'
                      '<!DOCTYPE html>\n<html><head><title>Ledger</title></head>\n'
                      '<body><h1>Ledger</h1>\n'
                      '<p>Served by <%= application.getServerInfo() %> at <%= new java.util.Date() %></p>\n'
                      '</body></html>\n'),
    })


# --- Tomcat 10 -----------------------------------------------------------------------

TOMCAT_HOME = Path("/usr/share/tomcat10")
TOMCAT_CONF = Path("/etc/tomcat10")


def _tomcat_server_xml(xml: str, port: int) -> str:
    connectors = 0

    def edit(part: str) -> str:
        # Debian already ships port="-1" (no shutdown port); make sure of it.
        part = re.sub(r'(<Server\b[^>]*?\s)port="[^"]*"', r'\1port="-1"', part)

        def connector(match: re.Match) -> str:
            nonlocal connectors
            connectors += 1
            tag = re.sub(r'\saddress="[^"]*"', "", match.group(0))
            return re.sub(r'\sport="[^"]*"', f' port="{port}" address="127.0.0.1"', tag, count=1)

        return re.sub(r'<Connector\b[^>]*\bprotocol="HTTP/1\.1"[^>]*>', connector, part)

    xml = _outside_comments(xml, edit)
    if connectors != 1:
        raise RuntimeError(f"expected one live HTTP/1.1 Connector in {TOMCAT_CONF}/server.xml, found {connectors}")
    return xml


def start_tomcat10(workdir: Path) -> Running:
    """Debian's Tomcat 10 in a private CATALINA_BASE (makebase.sh), with the packaged conf
    and context files, hence /docs, /examples, /manager, /host-manager from the
    tomcat10-{docs,examples,admin} packages, the empty ROOT makebase leaves, and /ledger."""
    require(str(TOMCAT_HOME / "bin/catalina.sh"), str(TOMCAT_HOME / "bin/makebase.sh"),
            str(TOMCAT_CONF / "server.xml"), "/usr/libexec/tomcat10/tomcat-locate-java.sh")
    for context in sorted((TOMCAT_CONF / "Catalina/localhost").glob("*.xml")):
        doc_base = re.search(r'docBase="([^"]+)"', context.read_text())
        if doc_base:
            require(doc_base.group(1))  # tomcat10-docs, -examples and -admin
    base = workdir / "tomcat10"
    shutil.rmtree(base, ignore_errors=True)
    with (workdir / "makebase.out").open("wb") as out:
        subprocess.run(["sh", str(TOMCAT_HOME / "bin/makebase.sh"), str(base)], check=True, stdout=out,
                       stderr=subprocess.STDOUT, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    # Debian keeps Tomcat's conf in /etc/tomcat10 (its CATALINA_BASE /var/lib/tomcat10 links
    # conf -> /etc/tomcat10), so makebase found nothing to copy: copy it all, including
    # Catalina/localhost/*.xml, the context files through which Debian deploys docs,
    # examples, manager and host-manager from /usr/share/tomcat10-*.
    shutil.copytree(TOMCAT_CONF, base / "conf", dirs_exist_ok=True)
    port = free_port()
    server_xml = base / "conf/server.xml"
    server_xml.write_text(_tomcat_server_xml(server_xml.read_text(), port))
    _ledger_war(base / "webapps/ledger.war", "jakarta")
    env = {"CATALINA_HOME": str(TOMCAT_HOME), "CATALINA_BASE": str(base),
           "CATALINA_TMPDIR": str(base / "temp"), "JAVA_OPTS": "-Djava.awt.headless=true"}
    # What Debian's tomcat10.service runs (/usr/libexec/tomcat10/tomcat-start.sh): find the
    # JDK, cd to CATALINA_BASE, exec catalina.sh run, which execs the JVM.
    script = '. /usr/libexec/tomcat10/tomcat-locate-java.sh && exec "$CATALINA_HOME/bin/catalina.sh" run'
    running = launch("tomcat10", ["sh", "-c", script], workdir, {"http": port}, cwd=base, env=env, timeout=120)
    return _ready(running, "http", "/ledger/")


# --- Jetty 9 -------------------------------------------------------------------------

JETTY_HOME = Path("/usr/share/jetty9")


def start_jetty9(workdir: Path) -> Running:
    """Debian's Jetty 9 with a private JETTY_BASE: the packaged start.ini (modules deploy,
    http, jsp, jstl, websocket, ext, resources), Debian's default root webapp and /ledger."""
    require(str(JETTY_HOME / "bin/jetty.sh"), str(JETTY_HOME / "start.jar"), "/etc/jetty9/start.ini")
    base = workdir / "jetty-base"
    shutil.rmtree(base, ignore_errors=True)
    (base / "webapps").mkdir(parents=True)
    port = free_port()
    ini = Path("/etc/jetty9/start.ini").read_text()
    ini, count = re.subn(r"(?m)^jetty\.http\.port=.*$",
                         f"jetty.http.port={port}\njetty.http.host=127.0.0.1", ini)
    if count != 1:
        ini += f"\njetty.http.port={port}\njetty.http.host=127.0.0.1\n"
    (base / "start.ini").write_text(ini)
    # /var/lib/jetty9/webapps/root is what the package installs (from default-root).
    root = Path("/var/lib/jetty9/webapps/root")
    if not root.is_dir():
        root = JETTY_HOME / "default-root"
    shutil.copytree(root, base / "webapps/root")
    _ledger_war(base / "webapps/ledger.war", "javax")
    (workdir / "jetty-run").mkdir(exist_ok=True)
    (workdir / "jetty-tmp").mkdir(exist_ok=True)
    env = {"JETTY_HOME": str(JETTY_HOME), "JETTY_BASE": str(base),
           "JETTY_RUN": str(workdir / "jetty-run"), "JETTY_STATE": str(base / "jetty.state"),
           "TMPDIR": str(workdir / "jetty-tmp"), "JAVA_OPTIONS": "-Djava.awt.headless=true"}
    # As jetty9.service: jetty.sh run (it adds /etc/jetty9/jetty.conf's arguments and execs java).
    running = launch("jetty9", [str(JETTY_HOME / "bin/jetty.sh"), "run"], workdir, {"http": port},
                     cwd=base, env=env, timeout=120)
    return _ready(running, "http", "/ledger/")


# --- HSQLDB --------------------------------------------------------------------------

def start_hsqldb(workdir: Path) -> Running:
    """HyperSQL's network server with a server.properties beside it (as HSQLDB's guide
    sets it up), one file database ``xdb`` under data/."""
    jar = f"{JAVA_SHARE}/hsqldb.jar"
    require(jar)
    home = workdir / "hsqldb"
    (home / "data").mkdir(parents=True, exist_ok=True)
    port = free_port()
    (home / "server.properties").write_text(
        "# HSQLDB server configuration\n"
        "server.database.0=file:data/xdb\n"
        "server.dbname.0=xdb\n"
        f"server.port={port}\n"
        "server.address=127.0.0.1\n")
    argv = ["java", "-cp", jar, "org.hsqldb.server.Server", "--props", "server.properties"]
    # It opens its socket first and the database after: ready once it says it is online.
    return _logged(launch("hsqldb", argv, workdir, {"tcp": port}, cwd=home), "is online on port")


# --- Derby ---------------------------------------------------------------------------

def start_derby(workdir: Path) -> Running:
    """Apache Derby's network server through derby-tools' ``derbyctl`` (java-wrappers: it
    execs ``java -classpath derbyclient:derbytools:derbynet NetworkServerControl``),
    derby.system.home under workdir."""
    require("/usr/bin/derbyctl", "/usr/bin/ij", f"{JAVA_SHARE}/derbynet.jar", f"{JAVA_SHARE}/derby.jar")
    home = workdir / "derby"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {"JAVA_ARGS": f"-Dderby.system.home={home}"}
    argv = ["/usr/bin/derbyctl", "start", "-h", "127.0.0.1", "-p", str(port)]
    running = launch("derby", argv, workdir, {"tcp": port}, cwd=home, env=env)
    # Derby makes a database when a client first asks for it: create "ledger" (a folder
    # under derby.system.home) over the network with derby-tools' ij, as a user would.
    script = workdir / "derby-create.sql"
    script.write_text(f"connect 'jdbc:derby://127.0.0.1:{port}/ledger;create=true';\n"
                      "create table entries (id int primary key, label varchar(64));\n"
                      "insert into entries values (1, 'opening balance');\nexit;\n")
    try:
        done = subprocess.run(["/usr/bin/ij", str(script)], cwd=str(workdir), capture_output=True, text=True,
                              timeout=60, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
    except BaseException:
        running.stop()
        raise
    if done.returncode != 0 or "ERROR" in done.stdout or not (home / "ledger").is_dir():
        running.stop()
        raise RuntimeError(f"derby: could not create database ledger:\n{done.stdout}{done.stderr}")
    return running


# --- ZooKeeper -----------------------------------------------------------------------

ZOOKEEPER_CONF = Path("/etc/zookeeper/conf")


def start_zookeeper(workdir: Path) -> Running:
    """A standalone ZooKeeper 3.8 from Debian's conf (/etc/zookeeper/conf copied), with
    dataDir under workdir; its AdminServer (Jetty, HTTP) on a free port."""
    jars = [f"{JAVA_SHARE}/zookeeper.jar",
            # Packaged dependencies of libzookeeper-java that zookeeper.jar's manifest
            # Class-Path leaves out: without the servlet API the AdminServer does not start
            # ("Unable to load jetty"), without an SLF4J binding nothing is logged at all.
            f"{JAVA_SHARE}/servlet-api.jar", f"{JAVA_SHARE}/slf4j-log4j12.jar", f"{JAVA_SHARE}/log4j-1.2.jar"]
    require(*jars, str(ZOOKEEPER_CONF / "zoo.cfg"))
    home = workdir / "zookeeper"
    conf = home / "conf"
    shutil.rmtree(conf, ignore_errors=True)
    shutil.copytree(ZOOKEEPER_CONF, conf)
    data, logs = home / "data", home / "log"
    data.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    client, admin = free_port(), free_port()
    cfg = (conf / "zoo.cfg").read_text()
    cfg, count = re.subn(r"(?m)^dataDir=.*$", f"dataDir={data}", cfg)
    cfg, count2 = re.subn(r"(?m)^clientPort=.*$", f"clientPort={client}\nclientPortAddress=127.0.0.1", cfg)
    if count != 1 or count2 != 1:
        raise RuntimeError(f"expected dataDir= and clientPort= in {ZOOKEEPER_CONF}/zoo.cfg")
    cfg += ("\n# AdminServer: enabled by default on port 8080 of every interface\n"
            f"admin.serverAddress=127.0.0.1\nadmin.serverPort={admin}\n")
    (conf / "zoo.cfg").write_text(cfg)
    # As /etc/zookeeper/conf/environment and zkServer.sh start-foreground put it together:
    # CLASSPATH=conf:zookeeper.jar, JMXLOCALONLY=true, ZOO_LOG4J_PROP=INFO,ROLLINGFILE (plus
    # CONSOLE here, so that the output file shows something).
    argv = ["java", f"-Dzookeeper.log.dir={logs}", "-Dzookeeper.log.file=zookeeper.log",
            "-Dzookeeper.root.logger=INFO,CONSOLE,ROLLINGFILE",
            "-cp", ":".join([str(conf), *jars]),
            "-Dcom.sun.management.jmxremote", "-Dcom.sun.management.jmxremote.local.only=true",
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(conf / "zoo.cfg")]
    running = launch("zookeeper", argv, workdir, {"tcp": client, "admin": admin}, cwd=home)
    return _ready(running, "admin", "/commands/ruok")


# --- ActiveMQ ------------------------------------------------------------------------

ACTIVEMQ_HOME = Path("/usr/share/activemq")
ACTIVEMQ_INSTANCE = Path("/etc/activemq/instances-available/main")


def start_activemq(workdir: Path) -> Running:
    """ActiveMQ 5.17 with Debian's packaged instance "main" (OpenWire only, on loopback, no
    JMX, no web console in Debian's build), laid out as /etc/init.d/activemq does:
    conf in instances-enabled/main, ACTIVEMQ_BASE (data) per instance."""
    require(str(ACTIVEMQ_HOME / "bin/activemq.jar"), str(ACTIVEMQ_INSTANCE / "activemq.xml"))
    root = workdir / "activemq"
    conf = root / "instances-enabled/main"
    base = root / "main"
    shutil.rmtree(conf, ignore_errors=True)
    shutil.copytree(ACTIVEMQ_INSTANCE, conf)
    (base / "data").mkdir(parents=True, exist_ok=True)
    (base / "tmp").mkdir(exist_ok=True)
    port = free_port()
    xml_path = conf / "activemq.xml"
    xml, count = re.subn(r'(uri="tcp://127\.0\.0\.1:)\d+', rf"\g<1>{port}", xml_path.read_text())
    if count != 1:
        raise RuntimeError(f"expected one tcp://127.0.0.1 transport in {ACTIVEMQ_INSTANCE}/activemq.xml")
    xml_path.write_text(xml)
    # /usr/bin/activemq's java line for JDK > 8, with /etc/default/activemq's ACTIVEMQ_OPTS;
    # run in the foreground (the script would background it and su to user activemq).
    argv = ["java", "-Xms512M", "-Xmx512M", "-Dorg.apache.activemq.UseDedicatedTaskRunner=true",
            "--add-reads=java.xml=java.logging",
            "--add-opens", "java.base/java.security=ALL-UNNAMED",
            "--add-opens", "java.base/java.net=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/java.util=ALL-UNNAMED",
            "--add-opens", "java.naming/javax.naming.spi=ALL-UNNAMED",
            "--add-opens", "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
            "--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
            "--add-exports=jdk.xml.dom/org.w3c.dom.html=ALL-UNNAMED",
            "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED",
            f"-Dactivemq.classpath={base}/../lib/:",
            f"-Dactivemq.home={ACTIVEMQ_HOME}", f"-Dactivemq.base={base}",
            f"-Dactivemq.conf={conf}", f"-Dactivemq.data={base / 'data'}",
            f"-Djava.io.tmpdir={base / 'tmp'}",
            "-jar", str(ACTIVEMQ_HOME / "bin/activemq.jar"), "start", f"xbean:file:{xml_path}"]
    return launch("activemq", argv, workdir, {"tcp": port}, cwd=base, timeout=120)


# --- H2 ------------------------------------------------------------------------------

def start_h2(workdir: Path) -> Running:
    """H2's server: TCP (JDBC) and the web console, databases under h2data/."""
    jar = f"{JAVA_SHARE}/h2.jar"
    require(jar)
    home = workdir / "h2"
    (home / "h2data").mkdir(parents=True, exist_ok=True)
    tcp, web = free_port(), free_port()
    # h2.bindAddress: listen on loopback only (H2 listens on every interface by default);
    # -properties: where the console keeps .h2.server.properties (else the user's home).
    argv = ["java", "-Dh2.bindAddress=127.0.0.1", "-cp", jar, "org.h2.tools.Server",
            "-tcp", "-tcpPort", str(tcp), "-web", "-webPort", str(web),
            "-baseDir", str(home / "h2data"), "-properties", str(home)]
    running = launch("h2", argv, workdir, {"tcp": tcp, "web": web}, cwd=home)
    return _ready(running, "web", "/")


DEBIAN: list[CorpusApp] = [
    CorpusApp("tomcat10", "Debian's Tomcat 10 (makebase CATALINA_BASE, /etc/tomcat10 conf): ROOT, docs, "
              "examples, manager, host-manager and an organisation app /ledger",
              start_tomcat10, http=("http",), tags=("java", "tomcat", "debian")),
    CorpusApp("jetty9", "Debian's Jetty 9 (packaged start.ini in a private JETTY_BASE): root and /ledger",
              start_jetty9, http=("http",), tags=("java", "jetty", "debian")),
    CorpusApp("hsqldb", "HyperSQL network server (server.properties, file database)",
              start_hsqldb, tags=("java", "database", "debian")),
    CorpusApp("derby", "Apache Derby network server via derby-tools' derbyctl",
              start_derby, tags=("java", "database", "debian")),
    CorpusApp("zookeeper", "Standalone ZooKeeper 3.8 from /etc/zookeeper/conf, with its AdminServer",
              start_zookeeper, http=("admin",), tags=("java", "coordination", "debian")),
    CorpusApp("activemq", "ActiveMQ 5.17 broker, Debian's instance config (OpenWire on loopback)",
              start_activemq, tags=("java", "messaging", "debian")),
    CorpusApp("h2", "H2 database server: TCP and the web console",
              start_h2, http=("web",), tags=("java", "database", "debian")),
]
