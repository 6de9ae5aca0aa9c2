"""A host reached through a real sshd (a private one on 127.0.0.1, logging in as root with a key),
read with nothing installed there: the same facts as LocalHost gives of the same Java process, the
same inventory id, a big jar's central directory read by ranges over SFTP, through a jump host,
and many connections served by one event loop thread."""

from __future__ import annotations

import threading
import time

import pytest

from a2c.analyzers.common.archives import open_zip, read_directory, read_member
from a2c.analyzers.registry import load_registry
from a2c.env import Environment
from a2c.errors import HostError
from a2c.gateways import ssh
from a2c.hosts.command import CommandHost
from a2c.hosts.local import LocalHost
from a2c.steps.inventory import discover
from a2c.workspace import Workspace

from tests.conftest import free_port
from tests.integration import sshd_server
from tests.integration.sshd_server import build_java_app, start_java_app, stop_process

# The shared fixtures, by name for pytest.
hang_guard = sshd_server.hang_guard
sshd = sshd_server.sshd

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("hang_guard")]

JAR_PADDING = 24 << 20


@pytest.fixture(scope="module")
def java_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ssh-java-app")
    jar = build_java_app(folder / "build", padding_bytes=JAR_PADDING)
    port = free_port()
    proc = start_java_app(jar, folder / "run", port)
    yield proc, port, jar
    stop_process(proc)


@pytest.fixture(scope="module")
def host(sshd):
    shell = ssh.open_shell(sshd.options())
    yield CommandHost(shell)
    shell.close()


def is_app(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
    return "Main" in cmdline and any(arg.endswith("app.jar") for arg in cmdline)


def test_the_java_process_reads_the_same_as_locally(host, java_app):
    proc, port, jar = java_app
    ours = host.process(proc.pid)
    assert ours == LocalHost().process(proc.pid)
    assert str(jar) in ours.open_files and [s.port for s in ours.listening] == [port] and ours.written_files
    found, _ = host.scan_processes(is_app)
    assert [p.pid for p in found] == [proc.pid] and found[0] == ours


def test_inventory_over_ssh_gives_the_local_id(host, java_app):
    proc, *_ = java_app
    registry = load_registry()
    ours = {k: v for k, v in discover(host, registry).entries.items() if v.process_id == proc.pid}
    theirs = {k: v for k, v in discover(LocalHost(), registry).entries.items() if v.process_id == proc.pid}
    assert len(ours) == 1 and ours == theirs
    assert next(iter(ours)).startswith("java-generic-")


def test_a_jars_central_directory_costs_a_fraction_of_the_jar(host, java_app):
    *_, jar = java_app
    shell = host.shell
    before = shell.sftp_bytes_read
    with host.open(str(jar)) as stream:
        directory = read_directory(stream, str(jar))
    transferred = shell.sftp_bytes_read - before
    size = jar.stat().st_size
    with open(jar, "rb") as local:
        assert directory.raw_names == read_directory(local, str(jar)).raw_names
    assert len(directory) == 2 + JAR_PADDING // (1 << 20)
    assert 0 < transferred < size / 100, f"{transferred} of {size} bytes transferred"
    with open_zip(host, str(jar)) as archive:
        assert read_member(archive, "Main.class").startswith(b"\xca\xfe\xba\xbe")


def test_files_over_ssh_match_local_files(host, tmp_path):
    names = ["plain", "new\nline", "it's \"q\"", "caf\u00e9", "sp ace", "-dash"]
    for name in names:
        (tmp_path / name).write_text(name)
    (tmp_path / b"latin1-\xe9".decode("utf-8", "surrogateescape")).write_bytes(b"x")
    local = LocalHost()
    assert host.list_dir(str(tmp_path)) == local.list_dir(str(tmp_path))
    for name in host.list_dir(str(tmp_path)):
        path = str(tmp_path / name)
        assert host.lstat(path) == local.lstat(path)
        assert host.read_bytes(path) == local.read_bytes(path)  # over SFTP, with the name as bytes
    with pytest.raises(HostError):
        host.read_bytes(str(tmp_path / "missing"))


def test_env_opens_an_ssh_uri(sshd, tmp_path, java_app):
    proc, *_ = java_app
    env = Environment(workspace=Workspace(tmp_path / "ws").ensure())
    uri = f"ssh://root@127.0.0.1:{sshd.port}?key={sshd.client_key}&known_hosts={sshd.known_hosts}"
    remote = env.open_host(uri)
    try:
        assert isinstance(remote, CommandHost) and remote.process(proc.pid).pid == proc.pid
    finally:
        remote.close()


def test_through_a_jump_host(sshd, java_app):
    proc, *_ = java_app
    shell = ssh.open_shell(sshd.options(jump=sshd.options(name="jump")))
    try:
        assert CommandHost(shell).process(proc.pid).cmdline == LocalHost().process(proc.pid).cmdline
    finally:
        shell.close()


def test_many_hosts_share_one_loop_thread(sshd):
    results: list[object] = []

    def one(index: int) -> None:
        try:
            shell = ssh.open_shell(sshd.options(name=f"host{index}"))
            try:
                results.append(shell.run(f"echo {index}"))
            finally:
                shell.close()
        except HostError as exc:
            results.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == sorted(f"{i}\n".encode() for i in range(12)), results  # type: ignore[type-var]
    assert [t.name for t in threading.enumerate()].count("a2c-ssh-loop") == 1
    assert time.monotonic() - started < 30


def test_options_from_uri():
    options = ssh.options_from_uri("ssh://deploy@[::1]:2222?key=/k1&key=/k2&accept_unknown_host=yes&timeout=3")
    assert (options.host, options.port, options.user, options.key_files) == ("::1", 2222, "deploy", ("/k1", "/k2"))
    assert options.accept_unknown_host and options.connect_timeout == 3 and options.label == "[::1]:2222"
    assert ssh.options_from_uri("ssh://web1").port == 22 and ssh.options_from_uri("ssh://web1").user is None


def test_a_key_given_as_text(sshd):
    """A key from a secret store: its text only, never a file."""
    shell = ssh.open_shell(sshd.options(key_files=(), private_key=sshd.client_key.read_text()))
    try:
        assert shell.run("echo keyed") == b"keyed\n"
    finally:
        shell.close()
    assert "BEGIN" not in repr(sshd.options(private_key=sshd.client_key.read_text()))
