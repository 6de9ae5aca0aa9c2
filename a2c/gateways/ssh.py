"""SSH, through asyncssh: a Shell (``a2c.hosts.shell``) on a host with nothing of a2c installed.

One asyncio loop in one daemon thread serves every SshShell of the process: fifty hosts are fifty
connections, not fifty threads with loops. Callers stay synchronous; every call into the loop has
a deadline. Commands go to one long-lived /bin/sh per connection (a round trip each, about 3 ms on
loopback, instead of a channel, an exec and the account's login scripts: 0.3-0.7 s here), which is
dropped and restarted after a timeout or a flood. Host keys are checked against known_hosts; an unknown key is refused unless the target
accepts it explicitly (and then recorded). Each failure is a HostError saying what to do next, and
only connection failures (refused, silent, reset) are retried, with backoff.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import ipaddress
import os
import shlex
import socket
import threading
import urllib.parse
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, BinaryIO, TypeVar

import asyncssh

from a2c.errors import HostError, UsageError, excerpt
from a2c.workspace import atomic_write_bytes

DEFAULT_LIMIT = 64 * 1024 * 1024
STDERR_KEEP = 8192
_SFTP_BLOCK = 32 * 1024
_BACKOFF = 0.5  # seconds before the first retry; doubled after each
T = TypeVar("T")


@dataclass(frozen=True)
class SshOptions:
    host: str
    port: int = 22
    user: str | None = None            # None: the current user, as ssh does
    key_files: tuple[str, ...] = ()    # private keys; a certificate beside a key (KEY-cert.pub) is used
    certificate_file: str | None = None
    private_key: str | None = None     # key text (from Secrets Manager); never written to disk
    password: str | None = None
    use_agent: bool = True             # SSH_AUTH_SOCK when set
    known_hosts: str | None = None     # None: ~/.ssh/known_hosts
    accept_unknown_host: bool = False  # explicit opt-in; records the key in known_hosts (atomic append)
    jump: "SshOptions | None" = None
    connect_timeout: float = 15.0
    command_timeout: float = 120.0
    retries: int = 2                   # connection failures only, with backoff
    name: str = ""                     # the target's name, for messages

    @property
    def label(self) -> str:
        """"web1 (10.0.0.5:22)", or "10.0.0.5:22" for a target without a name."""
        where = f"{_bracketed(self.host)}:{self.port}"
        return f"{self.name} ({where})" if self.name else where

    def __repr__(self) -> str:  # never the secrets
        return f"SshOptions({self.label}, user={self.user!r})"


def options_from_uri(uri: str) -> SshOptions:
    """``ssh://[user@]host[:port][?key=FILE&known_hosts=FILE&accept_unknown_host=1&timeout=S]``."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "ssh" or not parts.hostname:
        raise UsageError(f"{excerpt(uri)} is not an ssh://[USER@]HOST[:PORT] address", "Write it as ssh://user@host:22.")
    try:
        port = parts.port or 22
    except ValueError as exc:
        raise UsageError(f"{excerpt(uri)}: bad port", "Give a port number between 1 and 65535.") from exc
    query = urllib.parse.parse_qs(parts.query)
    known = query.get("known_hosts", [None])[-1]
    timeout = query.get("timeout", [None])[-1]
    try:
        connect_timeout = float(timeout) if timeout else SshOptions.connect_timeout
    except ValueError as exc:
        raise UsageError(f"{excerpt(uri)}: timeout must be a number of seconds", "Write timeout=30.") from exc
    return SshOptions(
        host=parts.hostname, port=port, user=urllib.parse.unquote(parts.username) if parts.username else None,
        key_files=tuple(query.get("key", ())), known_hosts=known,
        accept_unknown_host=query.get("accept_unknown_host", ["0"])[-1].lower() in ("1", "true", "yes"),
        connect_timeout=connect_timeout,
    )


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _known_hosts_pattern(options: SshOptions) -> str:
    return options.host if options.port == 22 else f"[{options.host}]:{options.port}"


def _known_hosts_path(options: SshOptions) -> Path:
    return Path(options.known_hosts) if options.known_hosts else Path.home() / ".ssh" / "known_hosts"


# -- the one loop ----------------------------------------------------------------------------

class _Loop:
    """An event loop running forever in a daemon thread; ``call`` runs a coroutine there and
    waits for it from any other thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="a2c-ssh-loop", daemon=True)
        self.thread.start()

    def call(self, coro: Awaitable[T], timeout: float | None) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise


_LOOP: _Loop | None = None
_LOOP_LOCK = threading.Lock()
_KNOWN_HOSTS_LOCK = threading.Lock()


def _loop() -> _Loop:
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = _Loop()
        return _LOOP


# -- connecting ------------------------------------------------------------------------------

class _Retryable(HostError):
    """A connection failure worth another try: refused, silent, reset, unreachable."""


class ConnectionFailed(HostError):
    """The host could not be reached after the retries: a fleet reports it as a connection
    failure (``retryable``: a later run may reach it), not a host that refused a2c."""

    retryable = True


def open_shell(options: SshOptions) -> "SshShell":
    """A connected SshShell (with retries on connection failures); HostError with what to do next."""
    budget = (options.connect_timeout * 2 + _BACKOFF * 2 ** options.retries) * (options.retries + 1) + 10
    try:
        return _loop().call(_open(options), budget)
    except concurrent.futures.TimeoutError:
        raise HostError(f"connecting to {options.label} did not finish in {budget:g} s",
                        "Check that the host answers SSH; lower the number of retries or the timeout.") from None


async def _open(options: SshOptions) -> "SshShell":
    jump = await _open(options.jump) if options.jump is not None else None
    tunnel = jump._conn if jump is not None else None
    try:
        conn = await _connect_with_retries(options, tunnel)
    except BaseException:
        if tunnel is not None:
            tunnel.close()
        raise
    shell = SshShell(conn, options, tunnel)
    shell._jump = jump  # held, so that the jump host's connection lives as long as this one
    return shell


async def _connect_with_retries(options: SshOptions, tunnel: Any) -> Any:
    delay = _BACKOFF
    for attempt in range(options.retries + 1):
        try:
            return await _connect(options, tunnel)
        except _Retryable as exc:
            if attempt == options.retries:
                tries = f" (tried {attempt + 1} times)" if attempt else ""
                raise ConnectionFailed(exc.message + tries, exc.hint) from exc
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


async def _connect(options: SshOptions, tunnel: Any) -> Any:
    known_path = _known_hosts_path(options)
    trusted = _trusted_keys(options, known_path)
    record = not trusted and options.accept_unknown_host
    if not trusted and not record:
        raise await _unknown_host(options, known_path, tunnel)
    kwargs: dict[str, Any] = dict(
        host=options.host, port=options.port, tunnel=tunnel, config=None,
        known_hosts=None if record else str(known_path),
        connect_timeout=options.connect_timeout, login_timeout=options.connect_timeout,
        keepalive_interval=30, keepalive_count_max=3,
    )
    if options.user:
        kwargs["username"] = options.user
    keys = _client_keys(options)
    if keys is not None:
        kwargs["client_keys"] = keys
    if options.password is not None:
        kwargs["password"] = options.password
    if not options.use_agent:
        kwargs["agent_path"] = None
    conn = await _guarded(options, known_path, asyncssh.connect(**kwargs))
    if record:
        try:
            _record_host_key(options, known_path, conn.get_server_host_key())
        except BaseException:
            conn.close()
            raise
    return conn


async def _guarded(options: SshOptions, known_path: Path, connecting: Awaitable[T]) -> T:
    """``connecting`` (a connection or a key exchange), its failures as HostErrors."""
    try:
        return await asyncio.wait_for(connecting, options.connect_timeout)  # the greeting, key exchange and login
    except asyncssh.HostKeyNotVerifiable as exc:
        raise _changed_host(options, known_path) from exc
    except asyncssh.PermissionDenied as exc:
        who = options.user or "the current user"
        raise HostError(f"{options.label} refused to log in {who}: none of the offered credentials was accepted",
                        "Check --user and --key (the key's public half must be in that user's "
                        "~/.ssh/authorized_keys on the host), or the agent's keys (ssh-add -l).") from exc
    except (asyncio.TimeoutError, socket.timeout) as exc:
        raise _Retryable(f"{options.label} did not complete the SSH greeting within {options.connect_timeout:g} s "
                         "(a silent port, a firewall dropping packets, or a server that never stops talking)",
                         "Check that sshd listens on that host and port, or raise the target's timeout.") from exc
    except ConnectionRefusedError as exc:
        raise _Retryable(f"connection to {options.label} refused: nothing listens there",
                         "Check the host name and --port, and that sshd runs on the host.") from exc
    except socket.gaierror as exc:
        raise HostError(f"cannot resolve the host name {options.host!r} ({exc.strerror})",
                        "Check the host name, or give its IP address.") from exc
    except asyncssh.ConnectionLost as exc:
        raise _Retryable(f"{options.label} closed the connection during the SSH handshake ({excerpt(str(exc))})",
                         "Check sshd's logs on the host (MaxStartups, tcp wrappers, fail2ban).") from exc
    except asyncssh.Error as exc:  # protocol errors: a greeting that is not SSH, a banner too long
        raise HostError(f"{options.label} does not speak SSH as expected: {excerpt(exc.reason or str(exc))}",
                        "Check that the port is an SSH server's (and not another service's).") from exc
    except OSError as exc:
        raise _Retryable(f"cannot reach {options.label}: {exc.strerror or exc}",
                         "Check the network path to the host (routes, firewall, jump host).") from exc
    except ValueError as exc:  # a key that does not parse
        raise HostError(f"cannot use the SSH credentials for {options.label}: {excerpt(str(exc))}",
                        "Check the key files (an unencrypted OpenSSH or PEM private key).") from exc


def _client_keys(options: SshOptions) -> list[Any] | None:
    """The keys to offer, or None for asyncssh's defaults (~/.ssh/id_*), as ssh does."""
    keys: list[Any] = []
    try:
        for path in options.key_files:
            cert = options.certificate_file if options.certificate_file and len(options.key_files) == 1 else None
            if cert is None and os.path.exists(path + "-cert.pub"):
                cert = path + "-cert.pub"
            key = asyncssh.read_private_key(path)
            keys.append((key, asyncssh.read_certificate(cert)) if cert else key)
        if options.private_key:
            key = asyncssh.import_private_key(options.private_key)
            cert_text = asyncssh.read_certificate(options.certificate_file) if options.certificate_file else None
            keys.append((key, cert_text) if cert_text else key)
    except (OSError, asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        raise HostError(f"cannot read the SSH key for {options.label}: {excerpt(str(exc))}",
                        "Check the --key file: it must exist, be readable and not need a passphrase.") from exc
    return keys if keys else None


def _trusted_keys(options: SshOptions, known_path: Path) -> bool:
    """Whether known_hosts holds a key for this host (so the check is strict)."""
    if not known_path.exists():
        return False
    try:
        known = asyncssh.read_known_hosts(str(known_path))
    except (OSError, ValueError, asyncssh.Error) as exc:
        raise HostError(f"cannot read the known hosts file {known_path}: {excerpt(str(exc))}",
                        "Fix or remove the bad lines in that file.") from exc
    addr = options.host if _is_ip(options.host) else ""
    matched = known.match(options.host, addr, options.port)
    return bool(matched[0] or matched[1])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _unknown_host(options: SshOptions, known_path: Path, tunnel: Any) -> HostError:
    """The refusal of an unknown key, naming its fingerprint (read without logging in)."""
    # Only the key exchange, no login: a connection failure is reported as such, and nothing of
    # ours (a password) reaches a host we do not trust.
    key = await _guarded(options, known_path, asyncssh.get_server_host_key(
        options.host, options.port, tunnel=tunnel, config=None))
    fingerprint = f" (it presents {key.get_fingerprint()})" if key is not None else ""
    port = f" -p {options.port}" if options.port != 22 else ""
    return HostError(
        f"the host key of {options.label} is unknown: it is not in {known_path}{fingerprint}; not connecting",
        f"Verify the fingerprint with the host's owner, then add it (ssh-keyscan{port} {options.host} >> {known_path}), "
        "or configure the target to accept an unknown host key once (it is then recorded).")


def _changed_host(options: SshOptions, known_path: Path) -> HostError:
    pattern = _known_hosts_pattern(options)
    return HostError(
        f"the host key of {options.label} changed: it is not the one recorded in {known_path}; not connecting",
        f"If the change is expected (the host was reinstalled), remove the old key with "
        f"ssh-keygen -f {shlex.quote(str(known_path))} -R {shlex.quote(pattern)} and connect again; "
        "otherwise someone may be intercepting the connection.")


def _record_host_key(options: SshOptions, known_path: Path, key: Any) -> None:
    """Append the host's key to known_hosts atomically (the whole file rewritten and renamed)."""
    if key is None:
        return
    algorithm, blob = key.export_public_key("openssh").decode("ascii").split()[:2]
    line = f"{_known_hosts_pattern(options)} {algorithm} {blob}\n".encode("ascii")
    with _KNOWN_HOSTS_LOCK:
        try:
            old = known_path.read_bytes()
            mode = known_path.stat().st_mode & 0o777
        except FileNotFoundError:
            old, mode = b"", 0o600
            known_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if line in old.splitlines(keepends=True):
            return
        if old and not old.endswith(b"\n"):
            old += b"\n"
        atomic_write_bytes(known_path, old + line, mode)


# -- the shell -------------------------------------------------------------------------------

class _Collector(asyncssh.SSHClientSession):
    """stdout up to a limit (then the channel is closed at once), the start of stderr."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out: list[bytes] = []
        self.size = 0
        self.err = bytearray()
        self.exceeded = False
        self.done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.chan: Any = None

    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: Any) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            if len(self.err) < STDERR_KEEP:
                self.err += data[:STDERR_KEEP - len(self.err)]
            return
        if self.exceeded:
            return
        self.size += len(data)
        if self.size > self.limit:
            self.exceeded = True
            self.out.clear()
            self.chan.close()
            self._finish(None)
            return
        self.out.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(exc)

    def _finish(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(exc)


# The shell a session keeps open: it reads a marker line, then the script's lines up to that marker
# again, runs the script in a subshell (its `exit` and traps stay there), and ends stdout and stderr
# with the marker and the status. One line, so that any login shell passes it on as it is.
_DRIVER = ("a2c_nl=$(printf '\\nx'); a2c_nl=${a2c_nl%x}; "
           "while IFS= read -r a2c_m; do a2c_s=; "
           "while IFS= read -r a2c_l; do [ \"$a2c_l\" = \"$a2c_m\" ] && break; a2c_s=\"$a2c_s$a2c_l$a2c_nl\"; done; "
           "(eval \"$a2c_s\") </dev/null; a2c_rc=$?; "
           "printf '\\n%s %s\\n' \"$a2c_m\" \"$a2c_rc\"; printf '\\n%s\\n' \"$a2c_m\" >&2; done")


class _Session(asyncssh.SSHClientSession):
    """One long-lived /bin/sh on the host (the driver above): a command costs one round trip, not
    a channel, an exec and the account's login scripts. Output is bounded per command."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.err = bytearray()
        self.limit = 0
        self.changed = asyncio.Event()
        self.lost: Exception | None = None
        self.ended = False
        self.chan: Any = None
        self.previous = b""  # the last command's marker

    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: Any) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.err += data
            if len(self.err) > 4 * STDERR_KEEP:  # keep the start (the message) and the end (the marker)
                self.err[STDERR_KEEP:-STDERR_KEEP] = b""
        elif len(self.out) <= self.limit:
            self.out += data
            if len(self.out) > self.limit:
                self.chan.close()  # a flood: stop it here (memory stays bounded); the run reports it
        self.changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended, self.lost = True, exc
        self.changed.set()


class SshShell:
    """/bin/sh on a host over one SSH connection: one kept-open shell session for the commands
    (restarted after a timeout or a flood), a channel of its own for a command with stdin, and
    SFTP for ranged reads."""

    def __init__(self, conn: Any, options: SshOptions, tunnel: Any = None) -> None:
        self._conn = conn
        self._tunnel = tunnel
        self.options = options
        self.name = options.label
        self._jump: SshShell | None = None
        self._session: _Session | None = None
        self._lock: asyncio.Lock | None = None
        self._sftp: Any = None
        self._sftp_tried = False
        self.sftp_bytes_read = 0  # what ranged reads transferred, for the curious (and the tests)
        # A shell dropped without close() must not hold its connection open in the loop forever.
        weakref.finalize(self, _close_soon, conn, tunnel)

    # -- commands ------------------------------------------------------------------------
    def run(self, script: str, *, stdin: bytes | None = None,
            timeout: float | None = None, limit: int = DEFAULT_LIMIT) -> bytes:
        timeout = self.options.command_timeout if timeout is None else timeout
        try:
            if stdin is None:
                budget = timeout + self.options.connect_timeout + 10
                return _loop().call(self._run_in_session(script, timeout, limit), budget)
            return _loop().call(self._run_exec(script, stdin, timeout, limit), timeout + 10)
        except concurrent.futures.TimeoutError:
            raise _timed_out(self.name, timeout) from None

    async def _run_in_session(self, script: str, timeout: float, limit: int) -> bytes:
        if self._lock is None:
            self._lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        async with self._lock:
            try:
                try:  # starting the shell (the account's login scripts) has the connection's budget
                    session = await asyncio.wait_for(self._open_session(), self.options.connect_timeout)
                except asyncio.TimeoutError:
                    raise HostError(f"{self.name} did not start a shell within {self.options.connect_timeout:g} s",
                                    "The account's login scripts are slow or hang there; check them, or raise "
                                    "the target's timeout.") from None
                return await self._exchange(session, script, loop.time() + timeout, timeout, limit)
            except asyncio.TimeoutError:
                self._drop_session()
                raise _timed_out(self.name, timeout) from None
            except HostError:
                self._drop_session()
                raise
            except (asyncssh.Error, OSError) as exc:
                self._drop_session()
                raise _lost(self.name, exc) from exc

    async def _open_session(self) -> _Session:
        if self._session is not None and not self._session.ended:
            return self._session
        _, session = await self._conn.create_session(_Session, "exec /bin/sh -c " + shlex.quote(_DRIVER), encoding=None)
        self._session = session
        # A first, empty command: whatever the login scripts printed ends up in its output.
        await self._exchange(session, ":", asyncio.get_running_loop().time() + self.options.connect_timeout,
                             self.options.connect_timeout, 1 << 20)
        return session

    def _drop_session(self) -> None:
        if self._session is not None:
            self._session.chan.close()
            self._session = None

    async def _exchange(self, session: _Session, script: str, deadline: float, timeout: float, limit: int) -> bytes:
        marker = b"a2c-end-" + os.urandom(16).hex().encode()
        session.out.clear()
        session.err.clear()
        session.limit = limit + len(marker) + 32
        session.chan.write(marker + b"\n" + script.encode("utf-8", "surrogateescape") + b"\n" + marker + b"\n")
        loop = asyncio.get_running_loop()
        tail = b"\n" + marker + b" "
        scanned, at = 0, -1
        while True:
            if at < 0:  # look only at what is new since the last look
                at = session.out.find(tail, max(0, scanned - len(tail)))
                scanned = len(session.out)
            if at >= 0 and session.out.find(b"\n", at + len(tail)) >= 0:
                break
            if len(session.out) > session.limit:
                raise HostError(f"a command on {self.name} printed more than {limit} bytes; stopped reading",
                                "The host prints more than a2c asked for (a login banner or a forced command?): "
                                "check the account's shell start-up files and sshd's ForceCommand.")
            if session.ended:
                raise _lost(self.name, session.lost or ConnectionError("the shell on the host exited"))
            session.changed.clear()
            await asyncio.wait_for(session.changed.wait(), max(0.0, deadline - loop.time()))
        output = bytes(session.out[:at])
        previous, session.previous = session.previous, marker
        status = session.out[at + len(tail):session.out.find(b"\n", at + len(tail))].decode("ascii", "replace")
        if status == "0":
            return output
        # The status came on stdout; the script's stderr ends with the marker on stderr.
        end = loop.time() + 2
        while b"\n" + marker not in session.err and not session.ended and loop.time() < end:
            session.changed.clear()
            try:
                await asyncio.wait_for(session.changed.wait(), end - loop.time())
            except asyncio.TimeoutError:
                break
        said = bytes(session.err).split(b"\n" + marker)[0]
        if previous:  # the end of the last command's stderr may have come after its status
            said = said.split(previous + b"\n")[-1]
        raise HostError(f"a command failed on {self.name} (exit status {status}): "
                        f"{excerpt(said.decode('utf-8', 'replace').strip()) or 'nothing on stderr'}",
                        "Check that the user a2c logs in as may read /proc and the application's files there "
                        "(root, or read access), and that /bin/sh is a POSIX shell.")

    async def _run_exec(self, script: str, stdin: bytes, timeout: float, limit: int) -> bytes:
        """A command with its own stdin: a channel of its own."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            chan, session = await asyncio.wait_for(self._conn.create_session(
                lambda: _Collector(limit), "exec /bin/sh -c " + shlex.quote(script), encoding=None), timeout)
        except asyncio.TimeoutError:
            raise _timed_out(self.name, timeout) from None
        except (asyncssh.Error, OSError) as exc:
            raise _lost(self.name, exc) from exc
        try:
            chan.write(stdin)
            chan.write_eof()
            lost = await asyncio.wait_for(asyncio.shield(session.done), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise _timed_out(self.name, timeout) from None
        except (asyncssh.Error, OSError) as exc:
            raise _lost(self.name, exc) from exc
        finally:
            chan.close()
        if session.exceeded:
            raise HostError(f"a command on {self.name} printed more than {limit} bytes; stopped reading",
                            "The host prints more than a2c asked for (a login banner or a forced command?): "
                            "check the account's shell start-up files and sshd's ForceCommand.")
        status, signal_info = chan.get_exit_status(), chan.get_exit_signal()
        if status == 0:
            return b"".join(session.out)
        if status is None and signal_info is None and lost is not None:
            raise _lost(self.name, lost)
        said = excerpt(session.err.decode("utf-8", "replace").strip()) or "nothing on stderr"
        why = f"exit status {status}" if status not in (None, -1) else f"signal {signal_info[0] if signal_info else '?'}"
        raise HostError(f"a command failed on {self.name} ({why}): {said}",
                        "Check that the user a2c logs in as may read /proc and the application's files there "
                        "(root, or read access), and that /bin/sh is a POSIX shell.")

    # -- files -----------------------------------------------------------------------------
    def open(self, path: str) -> BinaryIO | None:
        """A seekable reader over SFTP, or None when the host offers no SFTP (then dd does)."""
        timeout = self.options.command_timeout
        sftp = _loop().call(self._sftp_client(), timeout + 10)
        if sftp is None:
            return None
        try:
            handle, size = _loop().call(_sftp_open(sftp, os.fsencode(path), timeout), timeout + 10)
        except concurrent.futures.TimeoutError:
            raise _timed_out(self.name, timeout) from None
        return io.BufferedReader(_SftpReader(self, handle, size, path), buffer_size=_SFTP_BLOCK)

    async def _sftp_client(self) -> Any:
        if not self._sftp_tried:
            self._sftp_tried = True
            try:
                self._sftp = await asyncio.wait_for(self._conn.start_sftp_client(path_encoding=None),
                                                    self.options.connect_timeout)
            except (asyncio.TimeoutError, asyncssh.Error, OSError):
                self._sftp = None
        return self._sftp

    def close(self) -> None:
        try:
            _loop().call(self._close(), self.options.connect_timeout + 5)
        except (concurrent.futures.TimeoutError, OSError, asyncssh.Error):
            pass

    async def _close(self) -> None:
        self._drop_session()
        if self._sftp is not None:
            self._sftp.exit()
        for conn in (self._conn, self._tunnel):
            if conn is not None:
                conn.close()
                try:
                    await asyncio.wait_for(conn.wait_closed(), self.options.connect_timeout)
                except (asyncio.TimeoutError, OSError, asyncssh.Error):
                    pass


async def _sftp_open(sftp: Any, path: bytes, timeout: float) -> tuple[Any, int]:
    async def opening() -> tuple[Any, int]:
        handle = await sftp.open(path, "rb")
        attrs = await handle.stat()
        return handle, int(attrs.size or 0)

    try:
        return await asyncio.wait_for(opening(), timeout)
    except asyncssh.SFTPError as exc:
        raise HostError(f"cannot read {excerpt(os.fsdecode(path))} over SFTP: {excerpt(exc.reason)}",
                        "Check the path and that the login user may read it.") from exc
    except asyncio.TimeoutError:
        raise HostError(f"opening {excerpt(os.fsdecode(path))} over SFTP took more than {timeout:g} s",
                        "The host is slow; raise the target's timeout.") from None


class _SftpReader(io.RawIOBase):
    """Synchronous ranged reads of one remote file: each read is one SFTP request at an offset."""

    def __init__(self, shell: SshShell, handle: Any, size: int, path: str) -> None:
        self._shell, self._handle, self._size, self._pos, self._path = shell, handle, size, 0, path
        self.name = path

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        if want == 0:
            return 0
        timeout = self._shell.options.command_timeout
        try:
            data = _loop().call(self._read(want, self._pos, timeout), timeout + 10)
        except concurrent.futures.TimeoutError:
            raise _timed_out(self._shell.name, timeout) from None
        buffer[:len(data)] = data
        self._pos += len(data)
        self._shell.sftp_bytes_read += len(data)
        return len(data)

    async def _read(self, size: int, offset: int, timeout: float) -> bytes:
        try:
            return bytes(await asyncio.wait_for(self._handle.read(size, offset), timeout))
        except asyncssh.SFTPError as exc:
            raise HostError(f"cannot read {excerpt(self._path)} on {self._shell.name}: {excerpt(exc.reason)}",
                            "Check the file on the host.") from exc
        except asyncio.TimeoutError:
            raise _timed_out(self._shell.name, timeout) from None
        except (asyncssh.Error, OSError) as exc:
            raise _lost(self._shell.name, exc) from exc

    def close(self) -> None:
        if not self.closed:
            try:
                _loop().call(self._handle.close(), 10)
            except (concurrent.futures.TimeoutError, asyncssh.Error, OSError):
                pass
        super().close()


def _close_soon(*conns: Any) -> None:
    loop = _LOOP.loop if _LOOP is not None else None
    if loop is None or loop.is_closed():
        return
    for conn in conns:
        if conn is not None:
            loop.call_soon_threadsafe(conn.close)


def _timed_out(name: str, timeout: float) -> HostError:
    return HostError(f"a command on {name} did not finish within {timeout:g} s; stopped",
                     "The host is slow or the command hangs there; raise the target's timeout if the host is just slow.")


def _lost(name: str, exc: BaseException) -> HostError:
    return HostError(f"the SSH connection to {name} was lost ({excerpt(str(exc) or type(exc).__name__)})",
                     "Check the host and the network, then run again.")
