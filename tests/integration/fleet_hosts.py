"""Real, distinct hosts for the fleet tests and the fleet benchmark: containers of the
``a2c-test/sshd-jre`` image (``scripts/sshd_image.sh``), each running its own sshd and a stand-in
application, reached on 127.0.0.1 at a published port.

Each container is a host of its own: its processes, /proc, sockets, host name and files are its
own. Every host gets a fresh ed25519 host key and the fleet's client key in its authorized keys at
start (a read-only folder mounted at ``/etc/a2c-host``); root logs in by key only. The stand-in
application is a real JVM running ``fleet-app.jar`` (compiled here from ``FLEET_APP_SOURCE`` with
the machine's JDK): it answers HTTP on its own port and, when given a peer, keeps one connection
open to another host's port, so that a fleet summary has a dependency between hosts to find.
Hosts reach each other on their bridge addresses (``FleetHost.internal_address``), never on
127.0.0.1: a fleet summary must match connections against the addresses a host reports itself.

The bad hosts of issue 12 are methods of ``Fleet`` too: down (a closed port), a wrong key (the
client's key is not authorized), a changed host key (sshd restarted with a new one), slow (every
command waits), chatty (the login prints megabytes before the command), and two that are only a
socket of this process: silent (accepts, never speaks) and an endless banner.

``Fleet`` owns what it starts and removes its containers by id (``stop``, or the ``with`` block),
also when a start fails half-way. Stdlib plus the docker SDK, so the benchmark can use it too.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

SSHD_IMAGE = os.environ.get("A2C_TEST_SSHD_IMAGE", "a2c-test/sshd-jre:latest")
CONFIG_DIR = "/etc/a2c-host"  # in the container: host key, authorized keys, sshd_config, scripts
APP_DIR = "/opt/fleet-app"  # in the container: fleet-app.jar, mounted read-only
APP_PORT = 8080
LABEL = "a2c-test.fleet-hosts"  # on every container, to tell ours apart in `docker ps`
START_TIMEOUT = 60.0

# JVM options: the full host's app is a small service; a light host's keeps to a few tens of MiB.
FULL_JAVA = ("-Xmx32m", "-XX:+UseSerialGC")
LIGHT_JAVA = ("-Xmx8m", "-Xss256k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
              "-XX:ReservedCodeCacheSize=8m", "-XX:MaxMetaspaceSize=16m", "-Xshare:auto")
LIGHT_MEMORY = "96m"

FLEET_APP_SOURCE = r"""
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** The stand-in application of a fleet test host: HTTP on PORT, and with PEER (ip:port) one
 *  connection kept open to another host, asking it something every two seconds. */
public final class FleetApp {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String name = System.getProperty("fleet.host", "host");
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
        server.createContext("/", exchange -> {
            byte[] body = ("fleet app on " + name + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("fleet app on " + name + " listening on " + port);
        if (args.length > 1) {
            keepConnected(args[1]);
        }
    }

    private static void keepConnected(String peer) throws InterruptedException {
        int colon = peer.lastIndexOf(':');
        String host = peer.substring(0, colon);
        int port = Integer.parseInt(peer.substring(colon + 1));
        byte[] request = ("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 2000);
                socket.setSoTimeout(10000);
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                while (true) {
                    out.write(request);
                    out.flush();
                    readResponse(in);
                    Thread.sleep(2000);
                }
            } catch (IOException e) {
                Thread.sleep(500);
            }
        }
    }

    /** One HTTP response: headers up to the blank line, then Content-Length bytes of body. */
    private static void readResponse(InputStream in) throws IOException {
        StringBuilder headers = new StringBuilder();
        while (!headers.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0 || headers.length() > 65536) {
                throw new IOException("peer closed");
            }
            headers.append((char) b);
        }
        long length = 0;
        for (String line : headers.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Long.parseLong(line.substring(15).trim());
            }
        }
        while (length > 0) {
            long skipped = in.skip(length);
            if (skipped <= 0 && in.read() < 0) {
                throw new IOException("peer closed");
            }
            length -= Math.max(skipped, 1);
        }
    }
}
"""


@dataclass(frozen=True)
class FleetHost:
    """One host as a test reaches it: sshd at address:port, root by key_file, its host key in
    known_hosts_line. The rest is what the test knows about it from the inside."""

    name: str
    address: str  # where sshd is reached from this machine (127.0.0.1)
    port: int  # sshd's published port (a closed one for the down host)
    user: str
    key_file: str  # the client's private key
    known_hosts_line: str  # "" when the host has none (down, silent)
    container_id: str | None  # None for the hosts that are only a socket here
    internal_address: str | None = None  # its bridge address: what the other hosts connect to
    app: str | None = None  # "java", "sleep" or None
    app_port: int | None = None  # where its Java application listens (on every address)
    peer: str | None = None  # "ip:port" its application keeps a connection open to

    @property
    def target(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"


class Fleet:
    """The container hosts of one test session or benchmark run; removes them all on stop()."""

    def __init__(self, workdir: Path | str, docker_client: Any | None = None, *, parallel: int = 8) -> None:
        import docker

        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._own_client = docker_client is None
        self.client = docker_client if docker_client is not None else docker.from_env(timeout=120)
        self.parallel = parallel
        self.container_ids: list[str] = []
        self.hosts: list[FleetHost] = []
        self._lock = threading.Lock()
        self._servers: list[_SocketHost] = []
        self.client_key = self._keypair(self.workdir / "client", "a2c-fleet-client")
        self.known_hosts = self.workdir / "known_hosts"
        self.known_hosts.touch()
        self._jar: Path | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Remove every container this fleet started (by id) and close its sockets."""
        for server in self._servers:
            server.close()
        self._servers.clear()
        with self._lock:
            ids, self.container_ids = self.container_ids, []

        def remove(container_id: str) -> None:
            try:
                self.client.api.remove_container(container_id, force=True)
            except Exception as exc:  # noqa: BLE001 - already gone is fine; anything else is shown
                if getattr(getattr(exc, "response", None), "status_code", None) != 404:
                    print(f"fleet_hosts: could not remove container {container_id[:12]}: {exc}")

        with ThreadPoolExecutor(self.parallel) as pool:
            list(pool.map(remove, ids))
        if self._own_client:
            self.client.close()

    # -- good hosts -----------------------------------------------------------------------------
    def start(self, count: int, *, prefix: str = "host", app: str | None = "java", light: bool = False,
              peers: dict[int, int] | None = None) -> list[FleetHost]:
        """``count`` hosts named prefix1..prefixN. ``peers`` maps a host's index to the index of the
        host its application connects to (e.g. {1: 0}: the second connects to the first's port)."""
        names = [f"{prefix}{index + 1}" for index in range(count)]
        peers = peers or {}
        first = [i for i in range(count) if i not in peers]
        second = [i for i in range(count) if i in peers]
        started: dict[int, FleetHost] = {}
        with ThreadPoolExecutor(self.parallel) as pool:
            for index, host in zip(first, pool.map(lambda i: self.start_host(names[i], app=app, light=light), first)):
                started[index] = host

            def with_peer(i: int) -> FleetHost:
                target = started[peers[i]]
                assert target.app == "java" and target.internal_address, "a peer must run the Java application"
                return self.start_host(names[i], app=app, light=light, peer=f"{target.internal_address}:{target.app_port}")

            for index, host in zip(second, pool.map(with_peer, second)):
                started[index] = host
        return [started[i] for i in range(count)]

    def start_host(self, name: str, *, app: str | None = "java", light: bool = False, peer: str | None = None,
                   authorized_key: Path | None = None, login_prelude: str | None = None) -> FleetHost:
        """One container host, ready (sshd answers with its banner). ``login_prelude`` is shell run
        before every command and subsystem of the session (what makes a host slow or chatty)."""
        config = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=self.workdir))
        config.chmod(0o755)  # sshd's StrictModes: root's, writable by root only
        host_key = self._keypair(config / "ssh_host_ed25519_key", f"root@{name}")
        authorized = (authorized_key or public_key(self.client_key)).read_text()
        (config / "authorized_keys").write_text(authorized)
        (config / "sshd_config").write_text(_sshd_config(login_prelude is not None))
        if login_prelude is not None:
            _write_script(config / "login.sh", _login_script(login_prelude))
        _write_script(config / "start.sh", _start_script(name, app, light, peer))
        volumes = {str(config): {"bind": CONFIG_DIR, "mode": "ro"}}
        if app == "java":
            volumes[str(self.app_jar().parent)] = {"bind": APP_DIR, "mode": "ro"}
        container = self.client.containers.create(
            SSHD_IMAGE, ["/bin/sh", f"{CONFIG_DIR}/start.sh"], hostname=name, labels={LABEL: name},
            ports={"22/tcp": ("127.0.0.1", None)}, volumes=volumes, detach=True,
            mem_limit=LIGHT_MEMORY if light else None)
        with self._lock:
            self.container_ids.append(container.id)
        container.start()
        container.reload()
        settings = container.attrs["NetworkSettings"]
        port = int(settings["Ports"]["22/tcp"][0]["HostPort"])
        wait_for_banner("127.0.0.1", port, START_TIMEOUT, container=container)
        host = FleetHost(name=name, address="127.0.0.1", port=port, user="root", key_file=str(self.client_key),
                         known_hosts_line=_known_hosts_line("127.0.0.1", port, public_key(host_key)),
                         container_id=container.id, internal_address=settings["IPAddress"] or None, app=app,
                         app_port=APP_PORT if app == "java" else None, peer=peer)
        self._add(host)
        return host

    # -- bad hosts ----------------------------------------------------------------------------
    def down_host(self, name: str = "down") -> FleetHost:
        """A host whose port is closed: connection refused."""
        host = FleetHost(name=name, address="127.0.0.1", port=_closed_port(), user="root",
                         key_file=str(self.client_key), known_hosts_line="", container_id=None)
        self._add(host)
        return host

    def wrong_key_host(self, name: str = "wrongkey") -> FleetHost:
        """A real host that authorizes another key, not the fleet's client key."""
        other = self._keypair(self.other_client_key(name), "someone-else")
        return self.start_host(name, app=None, authorized_key=public_key(other))

    def other_client_key(self, name: str) -> Path:
        """The private key the wrong-key host named ``name`` does authorize (to prove it is real)."""
        return self.workdir / f"{name}-other-client"

    def changed_key_host(self, name: str = "changedkey") -> FleetHost:
        """A real host whose sshd restarted with a new host key after its old one was recorded:
        the record (and known_hosts) hold the old key."""
        host = self.start_host(name, app=None)
        self.change_host_key(host)
        return host

    def change_host_key(self, host: FleetHost) -> str:
        """Give a running host a new host key and restart its sshd (SIGHUP: sshd re-executes and
        reads its keys again); the new known_hosts line, once the host serves it."""
        assert host.container_id
        config = self._config_dir(host)
        key = config / "ssh_host_ed25519_key"
        for path in (key, public_key(key)):
            path.unlink()
        self._keypair(key, f"root@{host.name}-new")
        new_line = _known_hosts_line(host.address, host.port, public_key(key))
        self.client.api.kill(host.container_id, signal="SIGHUP")
        deadline = time.monotonic() + START_TIMEOUT
        while served_key(host.address, host.port) != new_line.split(" ", 1)[1]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host.name}: sshd did not come back with its new host key")
            time.sleep(0.1)
        return new_line

    def slow_host(self, name: str = "slow", delay: float = 30.0) -> FleetHost:
        """A real host where every command (and SFTP) starts only after ``delay`` seconds."""
        return self.start_host(name, app="java", login_prelude=f"sleep {float(delay):g}")

    def chatty_host(self, name: str = "chatty", megabytes: int | None = 8) -> FleetHost:
        """A real host whose login prints ``megabytes`` MiB on stdout before each command (a noisy
        profile or rc file); None prints forever."""
        if megabytes is None:
            prelude = "yes 'a2c-fleet chatty host: this line is noise from the login' || true"
        else:
            prelude = f"head -c {int(megabytes) * 1024 * 1024} /dev/zero | tr '\\0' 'x'"
        return self.start_host(name, app="java", login_prelude=prelude)

    def silent_host(self, name: str = "silent") -> FleetHost:
        """A socket here that accepts connections and never says anything (no SSH banner)."""
        return self._socket_host(name, b"")

    def endless_banner_host(self, name: str = "endless") -> FleetHost:
        """A socket here that sends lines before the SSH banner forever (the banner never ends)."""
        return self._socket_host(name, b"Welcome. This line is not the SSH version line.\r\n")

    # -- helpers for tests ------------------------------------------------------------------------
    def ssh(self, host: FleetHost, command: str, *, timeout: float = 30.0,
            known_hosts: Path | None = None) -> subprocess.CompletedProcess:
        """Run ``command`` on the host with the OpenSSH client (BatchMode, this fleet's known_hosts)."""
        return subprocess.run(ssh_argv(host, known_hosts or self.known_hosts, command), capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def app_jar(self) -> Path:
        """fleet-app.jar, compiled once per source text into this fleet's folder."""
        if self._jar is None:
            digest = hashlib.sha256(FLEET_APP_SOURCE.encode()).hexdigest()[:12]
            folder = self.workdir / f"fleet-app-{digest}"
            jar = folder / "fleet-app.jar"
            if not jar.exists():
                build = self.workdir / f"fleet-app-build-{digest}"
                build.mkdir(parents=True, exist_ok=True)
                (build / "FleetApp.java").write_text(FLEET_APP_SOURCE)
                subprocess.run(["javac", "--release", "17", "-d", str(build / "classes"), str(build / "FleetApp.java")],
                               check=True, capture_output=True)
                folder.mkdir(parents=True, exist_ok=True)
                subprocess.run(["jar", "--create", "--file", str(jar), "--main-class", "FleetApp",
                                "-C", str(build / "classes"), "."], check=True, capture_output=True)
                folder.chmod(0o755)
            self._jar = jar
        return self._jar

    def write_known_hosts(self) -> None:
        lines = [h.known_hosts_line for h in self.hosts if h.known_hosts_line]
        temporary = self.known_hosts.with_suffix(".tmp")
        temporary.write_text("".join(line + "\n" for line in lines))
        temporary.replace(self.known_hosts)

    # -- internals ----------------------------------------------------------------------------------
    def _add(self, host: FleetHost) -> None:
        with self._lock:
            self.hosts.append(host)
            self.write_known_hosts()

    def _config_dir(self, host: FleetHost) -> Path:
        inspected = self.client.api.inspect_container(host.container_id)
        for mount in inspected["Mounts"]:
            if mount["Destination"] == CONFIG_DIR:
                return Path(mount["Source"])
        raise RuntimeError(f"{host.name} has no {CONFIG_DIR} mount")

    def _keypair(self, path: Path, comment: str) -> Path:
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                           check=True, capture_output=True, stdin=subprocess.DEVNULL)
        return path

    def _socket_host(self, name: str, line: bytes) -> FleetHost:
        server = _SocketHost(line)
        self._servers.append(server)
        host = FleetHost(name=name, address="127.0.0.1", port=server.port, user="root",
                         key_file=str(self.client_key), known_hosts_line="", container_id=None)
        self._add(host)
        return host


def ssh_argv(host: FleetHost, known_hosts: Path | str, command: str, *, connect_timeout: int = 10) -> list[str]:
    """The OpenSSH client's command line for one command on the host: no user config, no agent,
    only the host's own key file, host keys checked strictly against ``known_hosts``."""
    options = {"BatchMode": "yes", "StrictHostKeyChecking": "yes", "UserKnownHostsFile": str(known_hosts),
               "GlobalKnownHostsFile": os.devnull, "IdentitiesOnly": "yes", "IdentityAgent": "none",
               "ConnectTimeout": str(connect_timeout), "LogLevel": "ERROR"}
    argv = ["ssh", "-F", os.devnull, "-i", host.key_file, "-p", str(host.port)]
    for key, value in options.items():
        argv += ["-o", f"{key}={value}"]
    return [*argv, f"{host.user}@{host.address}", "--", command]


def wait_for_banner(address: str, port: int, timeout: float, container: Any | None = None) -> None:
    """Until sshd answers with its version line (docker's proxy accepts connections before it does)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            logs = ""
            if container is not None:
                logs = container.logs(tail=20).decode(errors="replace")
            raise RuntimeError(f"sshd at {address}:{port} did not answer within {timeout:.0f} s\n{logs}")
        time.sleep(0.05)


def served_key(address: str, port: int) -> str | None:
    """The ed25519 host key the server presents ("ssh-ed25519 AAAA…"), by ssh-keyscan."""
    done = subprocess.run(["ssh-keyscan", "-T", "5", "-t", "ed25519", "-p", str(port), address],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            return f"{parts[1]} {parts[2]}"
    return None


def public_key(private_key: Path) -> Path:
    """Where ssh-keygen put the public half of a key."""
    return private_key.with_name(private_key.name + ".pub")


def _known_hosts_line(address: str, port: int, public: Path) -> str:
    key_type, key = public.read_text().split()[:2]
    where = address if port == 22 else f"[{address}]:{port}"
    return f"{where} {key_type} {key}"


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _sshd_config(forced_login: bool) -> str:
    lines = [
        "Port 22",
        f"HostKey {CONFIG_DIR}/ssh_host_ed25519_key",
        f"AuthorizedKeysFile {CONFIG_DIR}/authorized_keys",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PidFile /run/sshd.pid",
        "MaxStartups 64",
        "MaxSessions 64",
        "UseDNS no",
        "Subsystem sftp /usr/lib/openssh/sftp-server",
    ]
    if forced_login:
        lines.append(f"ForceCommand {CONFIG_DIR}/login.sh")
    return "\n".join(lines) + "\n"


def _login_script(prelude: str) -> str:
    """What a hostile login does before the session's own command or subsystem runs."""
    return f"""#!/bin/sh
{prelude}
case "$SSH_ORIGINAL_COMMAND" in
    "") exec /bin/sh -l ;;
    /usr/lib/openssh/sftp-server) exec /usr/lib/openssh/sftp-server ;;
    *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
"""


def _start_script(name: str, app: str | None, light: bool, peer: str | None) -> str:
    """PID 1 of the host: start the stand-in application, then become sshd."""
    lines = ["#!/bin/sh", "mkdir -p /run/sshd"]
    if app == "java":
        java = ["java", *(LIGHT_JAVA if light else FULL_JAVA), f"-Dfleet.host={name}", "-jar",
                f"{APP_DIR}/fleet-app.jar", str(APP_PORT), *([peer] if peer else [])]
        lines.append(f"cd {APP_DIR} && {shlex.join(java)} >/var/log/fleet-app.log 2>&1 &")
    elif app == "sleep":
        lines.append("sleep infinity &")
    lines.append(f"exec /usr/sbin/sshd -D -e -f {CONFIG_DIR}/sshd_config")
    return "\n".join(lines) + "\n"


class _SocketHost:
    """A listening socket on 127.0.0.1 that answers each connection with ``line`` forever (or with
    nothing when it is empty), in a daemon thread, until close()."""

    def __init__(self, line: bytes) -> None:
        self.line = line
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.closed = threading.Event()
        self.peers: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                peer, _ = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer)
            if self.line:
                threading.Thread(target=self._talk, args=(peer,), daemon=True).start()

    def _talk(self, peer: socket.socket) -> None:
        try:
            while not self.closed.is_set():
                peer.sendall(self.line)
                time.sleep(0.001)
        except OSError:
            pass

    def close(self) -> None:
        self.closed.set()
        for sock in [self.sock, *self.peers]:
            try:
                sock.close()
            except OSError:
                pass


def host_lines(hosts: Iterable[FleetHost]) -> str:
    """An Ansible INI inventory of the hosts (group [fleet]), for ``a2c remote configure
    --inventory-file``."""
    lines = ["[fleet]"]
    for host in hosts:
        lines.append(f"{host.name} ansible_host={host.address} ansible_port={host.port} ansible_user={host.user} "
                     f"ansible_ssh_private_key_file={host.key_file}")
    return "\n".join(lines) + "\n"
