"""Bad hosts fail fast, each with its own HostError: a port nobody listens on, a port that accepts
and stays silent, a server whose banner never ends (Python socket servers started here), a wrong
client key, a changed host key, an unknown host key (refused, then accepted and recorded), a command
that outlasts its timeout, and a host whose shell prints without end (a real sshd with a
ForceCommand). None may hang: each test runs under an alarm."""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc

import pytest

from a2c.errors import HostError
from a2c.gateways import ssh
from a2c.hosts.command import CHEAP_SCRIPT, CommandHost

from tests.conftest import free_port, missing
from tests.integration import sshd_server
from tests.integration.sshd_server import make_key, sshd_available, start_sshd, stop_sshd

# The shared fixtures, by name for pytest.
hang_guard = sshd_server.hang_guard
sshd = sshd_server.sshd

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("hang_guard")]


class TalkingServer:
    """127.0.0.1:port; each connection gets ``talk(sock)`` in a thread until the server stops."""

    def __init__(self, talk) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.talk = talk
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.talk(conn, self.stopping)
            except OSError:
                pass

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture
def server():
    made: list[TalkingServer] = []

    def make(talk) -> TalkingServer:
        made.append(TalkingServer(talk))
        return made[-1]

    yield make
    for each in made:
        each.close()


def options(port: int, tmp_path, **overrides) -> ssh.SshOptions:
    fields = dict(host="127.0.0.1", port=port, user="root", known_hosts=str(tmp_path / "known_hosts"),
                  use_agent=False, connect_timeout=2.0, retries=0, name="bad")
    fields.update(overrides)
    return ssh.SshOptions(**fields)


def fails_within(seconds: float, match: str, call) -> HostError:
    started = time.monotonic()
    with pytest.raises(HostError, match=match) as caught:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert caught.value.hint  # every failure says what to do next
    return caught.value


def test_nothing_listening(tmp_path):
    port = free_port()
    error = fails_within(5, "refused: nothing listens there", lambda: ssh.open_shell(options(port, tmp_path, retries=2)))
    assert "tried 3 times" in error.message and "sshd runs" in error.hint


def test_retries_back_off(tmp_path):
    started = time.monotonic()
    with pytest.raises(HostError, match="refused"):
        ssh.open_shell(options(free_port(), tmp_path, retries=2))
    assert time.monotonic() - started >= 1.4  # 0.5 s, then 1 s between the tries


def test_a_silent_port(server, tmp_path):
    silent = server(lambda conn, stop: stop.wait(30))
    fails_within(2 + 2, "did not complete the SSH greeting within 2 s", lambda: ssh.open_shell(options(silent.port, tmp_path)))


def test_a_banner_that_never_ends(server, tmp_path):
    def endless(conn: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            conn.sendall(b"Welcome! This banner goes on and on and on and on.\r\n" * 64)

    talker = server(endless)
    fails_within(2 + 2, "greeting|does not speak SSH", lambda: ssh.open_shell(options(talker.port, tmp_path)))


def test_a_banner_line_that_never_ends(server, tmp_path):
    def endless(conn: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            conn.sendall(b"x" * 65536)

    talker = server(endless)
    fails_within(2 + 2, "greeting|does not speak SSH", lambda: ssh.open_shell(options(talker.port, tmp_path)))


def test_a_wrong_client_key(sshd, tmp_path):
    stranger = make_key(tmp_path / "stranger")
    error = fails_within(10, "refused to log in root", lambda: ssh.open_shell(sshd.options(key_files=(str(stranger),))))
    assert "authorized_keys" in error.hint


def test_a_changed_host_key(sshd, tmp_path):
    other = make_key(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    algorithm, blob = other.with_suffix(".pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{sshd.port} {algorithm} {blob}\n")
    error = fails_within(10, "host key of .* changed", lambda: ssh.open_shell(sshd.options(known_hosts=str(known))))
    assert f"ssh-keygen -f {known} -R '[127.0.0.1]:{sshd.port}'" in error.hint
    # accepting unknown keys never accepts a changed one
    fails_within(10, "changed", lambda: ssh.open_shell(sshd.options(known_hosts=str(known), accept_unknown_host=True)))


def test_an_unknown_host_key_is_refused_then_accepted_and_recorded(sshd, tmp_path):
    known = tmp_path / "ssh" / "known_hosts"
    error = fails_within(10, "host key of .* is unknown", lambda: ssh.open_shell(sshd.options(known_hosts=str(known))))
    assert "SHA256:" in error.message and "ssh-keyscan -p" in error.hint and not known.exists()
    shell = ssh.open_shell(sshd.options(known_hosts=str(known), accept_unknown_host=True))
    try:
        assert shell.run("echo accepted") == b"accepted\n"
    finally:
        shell.close()
    assert known.read_text() == sshd.known_hosts_line()
    assert known.stat().st_mode & 0o777 == 0o600
    shell = ssh.open_shell(sshd.options(known_hosts=str(known)))  # now strict, and trusted
    shell.close()
    assert known.read_text() == sshd.known_hosts_line()  # recorded once


def test_a_command_that_outlasts_its_timeout(sshd):
    shell = ssh.open_shell(sshd.options(command_timeout=1.0))
    try:
        fails_within(4, "did not finish within 1 s", lambda: shell.run("sleep 30"))
        assert shell.run("echo still usable") == b"still usable\n"  # a new session after the stuck one
        fails_within(4, "did not finish within 1 s", lambda: shell.run("cat; sleep 30", stdin=b"x"))  # its own channel
    finally:
        shell.close()


def test_a_failing_command_quotes_its_stderr(sshd):
    shell = ssh.open_shell(sshd.options())
    try:
        fails_within(5, r"exit status 3\): went wrong", lambda: shell.run("echo went wrong >&2; exit 3"))
        assert shell.run("printf 'a\\000b'") == b"a\0b"
    finally:
        shell.close()


def test_a_command_printing_past_the_limit(sshd):
    shell = ssh.open_shell(sshd.options())
    try:
        tracemalloc.start()
        try:
            fails_within(10, "printed more than 4194304 bytes", lambda: shell.run("yes a2c-flood", limit=4 << 20))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 32 << 20, f"peak {peak} bytes"
        assert shell.run("echo after the flood") == b"after the flood\n"
    finally:
        shell.close()


@pytest.fixture(scope="module")
def flooding_host(tmp_path_factory):
    why = sshd_available()
    if why:
        missing("a private sshd", why)
    server = start_sshd(tmp_path_factory.mktemp("flood-sshd"), extra_config="ForceCommand yes a2c-flood-from-the-host\n")
    yield server
    stop_sshd(server)


def test_a_host_whose_shell_prints_megabytes(flooding_host):
    shell = ssh.open_shell(flooding_host.options())
    try:
        tracemalloc.start()
        try:
            fails_within(20, "printed more than", lambda: shell.run(CHEAP_SCRIPT, limit=8 << 20))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 64 << 20, f"peak {peak} bytes"
        fails_within(30, "printed more than|malformed", lambda: CommandHost(shell).scan_processes(lambda *facts: True))
        started = time.monotonic()
        assert shell.open("/etc/passwd") is None  # SFTP is forced into `yes` too: no reader (dd then fails the same way)
        assert time.monotonic() - started < 12
    finally:
        shell.close()
