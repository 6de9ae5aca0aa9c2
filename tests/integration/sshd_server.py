"""A private OpenSSH server for tests: /usr/sbin/sshd on 127.0.0.1:<free port> with its own config,
host key, client key and authorized_keys in a temporary folder, stopped by its PID.

``start_sshd(folder)`` for any test (or benchmark) that needs a real SSH host; the ``sshd`` fixture
gives one per module. ``extra_config`` adds sshd_config lines (a ForceCommand, a Match block).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, missing

SSHD = "/usr/sbin/sshd"  # sshd re-executes itself and insists on an absolute path


@dataclass
class Sshd:
    folder: Path
    port: int
    pid: int
    client_key: Path       # private key authorized for root
    host_key: Path
    known_hosts: Path      # a known_hosts file that trusts host_key at [127.0.0.1]:port
    process: subprocess.Popen

    host = "127.0.0.1"

    def known_hosts_line(self) -> str:
        algorithm, blob = (self.host_key.with_suffix(".pub")).read_text().split()[:2]
        return f"[{self.host}]:{self.port} {algorithm} {blob}\n"

    def options(self, **overrides):
        """SshOptions for this server as root with the client key, checked against known_hosts."""
        from a2c.gateways.ssh import SshOptions

        fields = dict(host=self.host, port=self.port, user="root", key_files=(str(self.client_key),),
                      known_hosts=str(self.known_hosts), use_agent=False, connect_timeout=10.0,
                      command_timeout=60.0, retries=0, name="test-sshd")
        fields.update(overrides)
        return SshOptions(**fields)


def make_key(path: Path) -> Path:
    """An unencrypted ed25519 key pair: path and path.pub."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


def sshd_available() -> str | None:
    """Why a private sshd cannot run here, or None."""
    if not os.path.exists(SSHD):
        return f"{SSHD} is missing (apt-get install openssh-server)"
    if not shutil.which("ssh-keygen"):
        return "ssh-keygen is missing (apt-get install openssh-client)"
    if os.geteuid() != 0:
        return "a private sshd that logs in as root needs root"
    return None


def start_sshd(folder: Path, *, extra_config: str = "", port: int | None = None, timeout: float = 20.0) -> Sshd:
    """Start sshd in the foreground (-D) with a config of its own; returns once it greets."""
    folder.mkdir(parents=True, exist_ok=True)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # its privilege separation folder (Debian's default)
    host_key = folder / "host_ed25519"
    client_key = folder / "client_ed25519"
    if not host_key.exists():
        make_key(host_key)
    if not client_key.exists():
        make_key(client_key)
    shutil.copyfile(client_key.with_suffix(".pub"), folder / "authorized_keys")
    port = port or free_port()
    config = folder / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {folder / 'sshd.pid'}
AuthorizedKeysFile {folder / 'authorized_keys'}
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 64
MaxSessions 64
PrintMotd no
Subsystem sftp internal-sftp
LogLevel ERROR
{extra_config}
""")
    log = open(folder / "sshd.log", "ab")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    known_hosts = folder / "known_hosts"
    server = Sshd(folder=folder, port=port, pid=process.pid, client_key=client_key, host_key=host_key,
                  known_hosts=known_hosts, process=process)
    known_hosts.write_text(server.known_hosts_line())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {(folder / 'sshd.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return server
        except OSError:
            time.sleep(0.1)
    stop_sshd(server)
    raise RuntimeError(f"sshd on port {port} did not greet within {timeout} s")


def stop_sshd(server: Sshd) -> None:
    """Stop that sshd (its own PID only) and wait for it."""
    if server.process.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.process.wait()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    why = sshd_available()
    if why:
        missing("a private sshd", why)
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    stop_sshd(server)


# -- a guard against hanging ---------------------------------------------------------------------

class Hung(Exception):
    pass


@pytest.fixture
def hang_guard(request):
    """Fail a test that runs past its limit (60 s, or the test function's ``hang_limit``
    attribute) instead of hanging the run: SIGALRM interrupts any wait in the main thread (the
    repo has no pytest-timeout)."""
    limit = int(getattr(request.function, "hang_limit", 60))

    def expired(signum, frame):
        raise Hung(f"{request.node.name} still running after {limit} s: it hangs")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- a Java application to find --------------------------------------------------------------------

JAVA_APP = """
import java.io.*;
import java.net.*;

/** Listens on 127.0.0.1:PORT, holds DB open for writing and CONFIG for reading, then waits. */
public class Main {
    static ServerSocket server;
    static RandomAccessFile db;
    static FileInputStream config;

    public static void main(String[] args) throws Exception {
        server = new ServerSocket(Integer.parseInt(args[0]), 50, InetAddress.getByName("127.0.0.1"));
        db = new RandomAccessFile(args[1], "rw");
        db.write(1);
        config = new FileInputStream(args[2]);
        System.out.println("ready");
        System.out.flush();
        while (true) {
            server.accept().close();
        }
    }
}
"""


def build_java_app(folder: Path, padding_bytes: int = 0) -> Path:
    """folder/app.jar holding Main (javac) and, when asked, incompressible STORED padding entries
    (a big jar whose central directory is small)."""
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "Main.java").write_text(JAVA_APP)
    classes = folder / "classes"
    subprocess.run(["javac", "--release", "11", "-d", str(classes), str(folder / "src" / "Main.java")], check=True)
    jar = folder / "app.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: Main\n")
        archive.write(classes / "Main.class", "Main.class")
        chunk = 1 << 20
        for index in range(padding_bytes // chunk):
            archive.writestr(zipfile.ZipInfo(f"padding/blob-{index:04d}.bin"), os.urandom(chunk),
                             compress_type=zipfile.ZIP_STORED)
    return jar


def start_java_app(jar: Path, workdir: Path, port: int) -> subprocess.Popen:
    """java -cp app.jar Main PORT 'DB' 'CONFIG' in workdir, with names that test quoting; waits
    until it says it is ready."""
    if not shutil.which("java"):
        missing("a Java runtime", "install openjdk-17-jre-headless")
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "caf\u00e9 data\nbase.db"
    config = workdir / "it's \"config\".properties"
    config.write_text("greeting=hello\n")
    env = {**os.environ, "A2C_TEST_MARKER": "caf\u00e9 \"quoted\" $HOME", "A2C_TEST_EMPTY": ""}
    proc = subprocess.Popen(["java", "-Xmx64m", "-Xlog:disable", "-cp", str(jar), "Main", str(port), str(db), str(config)],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the Java test application did not start: {line!r}")
    return proc


def stop_process(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
