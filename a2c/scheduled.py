"""Jobs a host runs on a schedule (cron, systemd timers), read through the Host, and the process
each would start: inventory lists them as applications of kind ``scheduled``, analyze reads them
again from their command lines and files (no /proc: they are not running).

Read: ``/etc/crontab`` and ``/etc/cron.d/*`` (with a user field), the per-user spools
(``/var/spool/cron/crontabs/*``, ``/var/spool/cron/*``, ``/var/spool/cron/tabs/*``), ``run-parts``
folders a crontab line runs, and the enabled timers (``*.wants/*.timer`` links) of
``/etc/systemd/system``, ``/run/systemd/system``, ``/lib/systemd/system`` and
``/usr/lib/systemd/system`` with their services and drop-ins. A job whose command (directly,
through a wrapper or a shell, or as the last matching line of a shell script it calls) runs a
program an analyzer wants becomes a ScheduledJob. Every read is bounded; what cannot be read
is a note. The parsers are ``a2c.analyzers.common.schedules``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from a2c.analyzers.common import schedules
from a2c.analyzers.common.schedules import ShellCommand
from a2c.errors import HostError, excerpt
from a2c.hosts.base import Host, join
from a2c.model import Finding, InventoryEntry, ProcessInfo

Wanted = Callable[[str, str, tuple[str, ...]], bool]

SYSTEM_CRONTAB = "/etc/crontab"
CRON_D = "/etc/cron.d"
SPOOLS = ("/var/spool/cron/crontabs", "/var/spool/cron", "/var/spool/cron/tabs")
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
CRON_PATH = "/usr/bin:/bin"  # cron's default PATH (Debian and cronie)
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_CRONTAB = 1024 * 1024
MAX_UNIT = 256 * 1024
MAX_SCRIPT = 512 * 1024
MAX_PASSWD = 4 * 1024 * 1024
MAX_FILES = 500  # per folder
MAX_SCRIPT_DEPTH = 3
_RUN_PARTS_NAME = re.compile(r"[A-Za-z0-9_-]+")
_BACKUP_SUFFIXES = ("~", ".dpkg-old", ".dpkg-dist", ".dpkg-new", ".dpkg-tmp", ".rpmsave", ".rpmnew", ".rpmorig",
                    ".swp", ".bak", ".orig", ".disabled")
# Variables cron or systemd set for every job: the session's, not the application's.
SESSION_VARIABLES = {"PATH", "HOME", "SHELL", "LOGNAME", "USER", "MAILTO", "MAILFROM", "CRON_TZ", "PWD",
                     "RANDOM_DELAY", "START_HOURS_RANGE", "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING", "OLDPWD", "_"}


@dataclass(frozen=True)
class ScheduledJob:
    """A job that runs a program an analyzer wants, and the process it would start."""

    identity: str  # what identifies it: its file and command (hashed), never a pid
    schedule: Mapping[str, Any]  # analysisInfo.workload.schedule
    process: ProcessInfo
    via: str = ""  # the script whose line runs the program ("" when the job's own command does)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    name: str
    uid: int = -1
    gid: int = -1
    home: str = "/"


@dataclass
class _Scan:
    host: Host
    wanted: Wanted
    jobs: dict[str, ScheduledJob] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _accounts: dict[str, Account] | None = None
    _timezone: str | None = None
    programs: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (name, PATH, cwd) -> the file
    heads: dict[str, bytes] = field(default_factory=dict)  # program -> its first bytes

    def add(self, job: ScheduledJob) -> None:
        if job.identity in self.jobs:
            first = self.jobs[job.identity].schedule
            self.notes.append(f"{job.schedule['file']} line {job.schedule.get('line', 0)} repeats the job of line "
                              f"{first.get('line', 0)} at another time; listed once, with the first schedule")
            return
        self.jobs[job.identity] = job
        self.notes += list(job.notes)

    def account(self, name: str) -> Account:
        if self._accounts is None:
            self._accounts = read_accounts(self.host, self.notes)
        if name.isdigit():
            return next((a for a in self._accounts.values() if a.uid == int(name)), Account(name, int(name)))
        return self._accounts.get(name) or Account(name)

    def timezone(self) -> str:
        if self._timezone is None:
            self._timezone = host_timezone(self.host)
        return self._timezone


def scan_jobs(host: Host, wanted: Wanted) -> tuple[list[ScheduledJob], list[str]]:
    """Every scheduled job on the host that runs a program ``wanted`` accepts, plus notes."""
    scan = _Scan(host, wanted)
    for path, system in crontab_files(host, scan.notes):
        read_crontab(scan, path, system)
    for timer in enabled_timers(host):
        read_timer(scan, timer)
    return list(scan.jobs.values()), scan.notes


def find_job(host: Host, identity: str, wanted: Wanted) -> ScheduledJob | None:
    """The job of that identity as the host schedules it now, or None when it is gone."""
    return next((j for j in scan_jobs(host, wanted)[0] if j.identity == identity), None)


def job_identity(source: str, path: str, command: str, via: str = "") -> str:
    """``crontab:/etc/cron.d/billing#1a2b…``: the file, and a hash of the command (which may hold a
    password: the identity is written to inventory.json)."""
    digest = hashlib.sha256(command.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{source}:{path}#{digest}" + (f"@{via}" if via else "")


# -- host facts --------------------------------------------------------------------------------

def read_accounts(host: Host, notes: list[str]) -> dict[str, Account]:
    """/etc/passwd: name -> uid, gid, home."""
    try:
        text = host.read_text("/etc/passwd", limit=MAX_PASSWD)
    except HostError as exc:
        notes.append(f"cannot read /etc/passwd ({exc.message}); jobs run from /")
        return {}
    accounts: dict[str, Account] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[0] or not fields[2].isdigit() or not fields[3].isdigit():
            continue
        accounts.setdefault(fields[0], Account(fields[0], int(fields[2]), int(fields[3]), fields[5] or "/"))
    return accounts


def host_timezone(host: Host) -> str:
    """The host's zone: /etc/timezone (Debian), else where /etc/localtime links, else UTC."""
    try:
        if host.is_file("/etc/timezone"):
            name = host.read_text("/etc/timezone", limit=4096).strip().split()
            if name and re.fullmatch(r"[A-Za-z0-9_+/-]+", name[0]):
                return name[0]
    except HostError:
        pass
    try:
        link = host.lstat("/etc/localtime")
    except HostError:
        link = None
    if link is not None and link.kind == "link" and "zoneinfo/" in link.link_target:
        return link.link_target.split("zoneinfo/", 1)[1]
    return "UTC"


def program_candidates(name: str, path_list: str, cwd: str) -> list[str]:
    """The paths a command name may run, in the order the shell tries them."""
    if not name:
        return []
    return [join(cwd or "/", name)] if "/" in name else [
        join(folder or cwd or "/", name) for folder in path_list.split(":")[:64]]


def find_program(host: Host, name: str, path_list: str, cwd: str, known: dict[str, str] | None = None) -> str:
    """The file a command name runs (PATH searched for a bare name), links resolved; "" when none.
    ``known``: path -> flags ("f" a regular file) already asked of the host in one batch."""
    for candidate in program_candidates(name, path_list, cwd):
        try:
            if known is not None and candidate in known:
                if "f" not in known[candidate]:
                    continue
            elif not host.is_file(candidate):
                continue
            return host.realpath(candidate)
        except HostError:
            continue
    return ""


def _heads(scan: "_Scan", paths: list[str]) -> None:
    """The first bytes of programs not seen yet, in one round trip where the host can (``heads``)."""
    batch = getattr(scan.host, "heads", None)
    missing = [p for p in dict.fromkeys(paths) if p not in scan.heads]
    if batch is None or not missing:
        return
    try:
        scan.heads.update(batch(missing[:4096]))
    except HostError:
        pass


def find_programs(scan: "_Scan", commands: list["ShellCommand"]) -> list[str]:
    """find_program for each command, memoized per scan; a host that answers many paths in one
    round trip (an SSH or SSM host: ``path_flags``) is asked once for all the candidates, since
    a job's scripts name dozens of programs and each lookup would be a round trip of its own."""
    keys = [(c.argv[0], c.env.get("PATH", CRON_PATH), c.cwd) for c in commands]
    missing = [k for k in dict.fromkeys(keys) if k not in scan.programs]
    batch = getattr(scan.host, "path_flags", None)
    known: dict[str, str] | None = None
    if batch is not None and missing:
        wanted = list(dict.fromkeys(p for k in missing for p in program_candidates(*k)))
        try:
            known = batch(wanted[:4096])
        except HostError:
            known = None
    for key in missing:
        scan.programs[key] = find_program(scan.host, *key, known=known)
    return [scan.programs[k] for k in keys]


def is_shell_script(host: Host, path: str, forced: bool = False, head: bytes | None = None) -> bool:
    """Whether a shell reads the file (a ``#!`` line naming one; no ``#!`` at all is run by sh too).
    ``head``: its first bytes, already read (a batch of them: see _heads)."""
    if head is None:
        try:
            with host.open(path) as stream:
                head = stream.read(256)
        except HostError:
            return False
    if b"\0" in head:
        return False
    if not head.startswith(b"#!"):
        return forced or bool(head.strip())
    words = head[2:].split(b"\n", 1)[0].decode("latin-1").split()
    if not words:
        return forced
    interpreter = posixpath.basename(words[0])
    if interpreter == "env" and len(words) > 1:
        interpreter = posixpath.basename(next((w for w in words[1:] if not w.startswith("-")), ""))
    return interpreter in schedules.SHELLS or forced and interpreter == ""


def _readable_files(host: Host, folder: str, notes: list[str]) -> list[str]:
    try:
        names = host.list_dir(folder)
    except HostError as exc:
        if host.exists(folder):
            notes.append(f"cannot list {folder} ({exc.message}); its jobs are not listed")
        return []
    if len(names) > MAX_FILES:
        notes.append(f"{folder} holds {len(names)} entries; the first {MAX_FILES} are read")
    return [join(folder, n) for n in names[:MAX_FILES] if not n.startswith(".") and not n.endswith(_BACKUP_SUFFIXES)
            and host.is_file(join(folder, n))]


# -- crontabs ----------------------------------------------------------------------------------

def crontab_files(host: Host, notes: list[str]) -> list[tuple[str, bool]]:
    """(path, whether it names the user on each line)."""
    found: list[tuple[str, bool]] = []
    if host.is_file(SYSTEM_CRONTAB):
        found.append((SYSTEM_CRONTAB, True))
    found += [(p, True) for p in _readable_files(host, CRON_D, notes)]
    for spool in SPOOLS:
        found += [(p, False) for p in _readable_files(host, spool, notes)]
    return list(dict.fromkeys(found))


def _read_bounded(host: Host, path: str, limit: int, notes: list[str], what: str) -> str | None:
    try:
        return host.read_text(path, limit=limit)
    except HostError as exc:
        notes.append(f"cannot read the {what} {excerpt(path)} ({exc.message}); its jobs are not listed")
        return None


def read_crontab(scan: _Scan, path: str, system: bool) -> None:
    text = _read_bounded(scan.host, path, MAX_CRONTAB, scan.notes, "crontab")
    if text is None:
        return
    table = schedules.parse_crontab(text, system, path)
    scan.notes += list(table.notes)
    owner = "" if system else posixpath.basename(path)
    for entry in table.entries:
        user = entry.user if system else owner
        account = scan.account(user)
        env = {"SHELL": "/bin/sh", "HOME": account.home, "LOGNAME": user, "PATH": CRON_PATH, **entry.env}
        schedule = {"cron": entry.cron, "onCalendar": "", "timezone": entry.timezone or scan.timezone(),
                    "user": user, "source": "crontab", "file": path, "line": entry.line, "unit": ""}
        commands, _ = schedules.shell_commands(entry.command, env, env.get("HOME") or "/")
        for found in _programs(scan, commands, depth=0):
            command, exe, via, notes = found
            if entry.at_reboot:
                scan.notes.append(f"{path} line {entry.line}: @reboot starts {posixpath.basename(exe)} when the host "
                                  "boots (a service, not a scheduled job); it is listed when it runs")
                continue
            identity = job_identity("crontab", path, entry.command, via)
            scan.add(_job(scan, identity, schedule, command, exe, via, user, notes))


def _job(scan: _Scan, identity: str, schedule: Mapping[str, Any], command: ShellCommand, exe: str, via: str,
         user: str, notes: list[str]) -> ScheduledJob:
    """The job, with the process it starts as the analyzers see a live one (pid 0)."""
    account = scan.account(command.user or user)
    schedule = {**schedule, "user": account.name or schedule["user"]}
    if command.unresolved:
        notes = notes + [f"{schedule['file']} line {schedule.get('line', 0)}: the command uses "
                         f"{', '.join(dict.fromkeys(command.unresolved))}, known only when the job runs"]
    process = ProcessInfo(pid=0, cmdline=command.argv, exe=exe, cwd=command.cwd, environ=dict(command.env),
                          username=account.name, uid=account.uid, gid=account.gid)
    return ScheduledJob(identity, schedule, process, via, tuple(notes))


def _programs(scan: _Scan, commands: list[ShellCommand], depth: int,
              via: str = "") -> list[tuple[ShellCommand, str, str, list[str]]]:
    """(command, executable, the script it is in, notes) of the wanted program a job runs: the
    last of its commands that is one, or runs one (a shell script read line by line, or a
    run-parts folder: each of its scripts is a job). A script that runs no wanted program is
    itself the program when an analyzer wants it."""
    resolved = list(zip(commands, find_programs(scan, commands)))
    _heads(scan, [exe for _, exe in resolved if exe])

    def wanted(command: ShellCommand, exe: str) -> bool:
        return not command.script and scan.wanted(posixpath.basename(exe or command.argv[0]), exe, command.argv)

    direct = [c for c, exe in resolved if wanted(c, exe)]
    for command, exe in reversed(resolved):
        if exe and depth < MAX_SCRIPT_DEPTH:
            if posixpath.basename(command.argv[0]) == "run-parts":
                found = _run_parts(scan, command, depth)
                if found:
                    return found
                continue
            if is_shell_script(scan.host, exe, forced=command.script, head=scan.heads.get(exe)):
                found = _script(scan, command, exe, depth)
                if found:
                    return found
        if wanted(command, exe):
            notes = []
            if len(direct) > 1 and via:
                notes.append(f"{via} runs {len(direct)} matching programs; the last is the job's")
            return [(command, exe, via, notes)]
    return []


def _script(scan: _Scan, command: ShellCommand, path: str, depth: int) -> list[tuple[ShellCommand, str, str, list[str]]]:
    text = _read_bounded(scan.host, path, MAX_SCRIPT, scan.notes, "script")
    if text is None:
        return []
    named = join(command.cwd, command.argv[0]) if "/" in command.argv[0] else path
    inner, _ = schedules.shell_commands(text, command.env, command.cwd, (named,) + command.argv[1:], command.user)
    return _programs(scan, inner, depth + 1, via=path)


def _run_parts(scan: _Scan, command: ShellCommand, depth: int) -> list[tuple[ShellCommand, str, str, list[str]]]:
    """run-parts DIR: each executable file named as run-parts allows is a job of its own."""
    args = [a for a in command.argv[1:] if not a.startswith("-")]
    if not args:
        return []
    folder = join(command.cwd, args[-1])
    found = []
    for path in _readable_files(scan.host, folder, scan.notes):
        name = posixpath.basename(path)
        stat = scan.host.stat(path)
        if not _RUN_PARTS_NAME.fullmatch(name) or stat is None or not stat.mode & 0o111:
            continue
        if is_shell_script(scan.host, path):
            script = dataclasses.replace(command, argv=(path,))
            found += [(c, exe, via or path, notes) for c, exe, via, notes in _script(scan, script, path, depth)]
    return found


# -- systemd timers ----------------------------------------------------------------------------

def enabled_timers(host: Host) -> list[str]:
    """Names of the timers a ``*.wants``/``*.requires`` folder enables (timers.target.wants)."""
    names: list[str] = []
    for folder in UNIT_DIRS:
        try:
            entries = host.list_dir(folder)
        except HostError:
            continue
        for entry in entries[:MAX_FILES]:
            if not entry.endswith((".wants", ".requires")):
                continue
            for name in host.glob_names(join(folder, entry), (".timer",))[:MAX_FILES]:
                names.append(name)
    return list(dict.fromkeys(names))


def unit_file(host: Host, name: str) -> tuple[str, bool]:
    """(the unit's file, whether it is masked): the first unit folder holding it (or its template)."""
    for candidate in dict.fromkeys((name, schedules.template_name(name))):
        for folder in UNIT_DIRS:
            path = join(folder, candidate)
            try:
                if host.lstat(path) is None:
                    continue
                real = host.realpath(path)
            except HostError:
                continue
            if real == "/dev/null":
                return path, True
            if host.is_file(path):
                return path, False
    for folder in UNIT_DIRS:  # only linked into a .wants folder (systemctl link)
        for wants in host.glob_names(folder, (".wants",)):
            path = join(folder, wants, name)
            if host.is_file(path):
                return path, False
    return "", False


def read_unit(scan: _Scan, name: str) -> tuple[str, schedules.Sections] | None:
    """A unit's file and its settings with the drop-ins (``name.d/*.conf``) merged in name order."""
    path, masked = unit_file(scan.host, name)
    if masked or not path:
        if masked:
            scan.notes.append(f"{name} is masked; its timer runs nothing")
        return None
    text = _read_bounded(scan.host, path, MAX_UNIT, scan.notes, "unit")
    if text is None:
        return None
    parts, notes = schedules.parse_unit(text, path)
    scan.notes += notes
    drop_ins: dict[str, str] = {}
    for folder in UNIT_DIRS:
        for base in dict.fromkeys((name, schedules.template_name(name))):
            directory = join(folder, base + ".d")
            for conf in scan.host.glob_names(directory, (".conf",))[:50]:
                drop_ins.setdefault(conf, join(directory, conf))
    merged = [parts]
    for conf in sorted(drop_ins):
        extra = _read_bounded(scan.host, drop_ins[conf], MAX_UNIT, scan.notes, "drop-in")
        if extra is not None:
            sections, notes = schedules.parse_unit(extra, drop_ins[conf])
            scan.notes += notes
            merged.append(sections)
    return path, schedules.merge_units(*merged)


def read_timer(scan: _Scan, name: str) -> None:
    loaded = read_unit(scan, name)
    if loaded is None:
        return
    timer_path, timer = loaded
    calendars = schedules.unit_list(timer, "Timer", "OnCalendar")
    service_name = schedules.unit_value(timer, "Timer", "Unit") or name.rsplit(".", 1)[0] + ".service"
    service = read_unit(scan, service_name)
    if service is None:
        return
    service_path, settings = service
    kind = schedules.unit_value(settings, "Service", "Type") or "simple"
    if kind != "oneshot" and schedules.unit_list(settings, "Install", "WantedBy"):
        # A daemon the timer only (re)starts (Debian's jetty9.timer starts jetty9.service daily,
        # which boots with multi-user.target anyway): a service, found as one when it runs.
        scan.notes.append(f"{timer_path} triggers {service_name}, a {kind} service that is also started at boot "
                          "(WantedBy=); listed as a service when it runs, not as a job")
        return
    user = schedules.unit_value(settings, "Service", "User") or "root"
    account = scan.account(user)
    specifiers = schedules.unit_specifiers(service_name, account.name, account.home, account.uid, scan.host.name)
    env = {"PATH": SYSTEMD_PATH}
    if schedules.unit_value(settings, "Service", "User"):  # systemd sets these for a service with User=
        env.update(HOME=account.home, USER=account.name, LOGNAME=account.name)
    env.update(schedules.parse_environment(
        schedules.resolve_specifiers(v, specifiers)[0] for v in schedules.unit_list(settings, "Service", "Environment")))
    for value in schedules.unit_list(settings, "Service", "EnvironmentFile"):
        optional = value.startswith("-")
        file_path = schedules.resolve_specifiers(value.lstrip("-").strip(), specifiers)[0]
        try:
            env.update(schedules.parse_env_file(scan.host.read_text(file_path, limit=MAX_UNIT)))
        except HostError as exc:
            if not optional:
                scan.notes.append(f"{service_path}: cannot read EnvironmentFile {excerpt(file_path)} ({exc.message})")
    cwd = _working_directory(settings, specifiers, account)
    found: list[tuple[ShellCommand, str, str, list[str]]] = []
    for value in schedules.unit_list(settings, "Service", "ExecStart"):
        resolved, _ = schedules.resolve_specifiers(value, specifiers)
        command, problems = schedules.parse_exec(resolved, env)
        if command is None:
            continue
        # The program systemd executes stands first (with @, the process calls itself otherwise).
        runs, _ = schedules.program_commands((command.path,) + command.argv[1:], env, cwd)
        found += [(c, e, via, notes + [f"{service_path}: {p}" for p in problems])
                  for c, e, via, notes in _programs(scan, runs, depth=0)]
    if not found:
        return
    if not calendars:
        scan.notes.append(f"{timer_path}: runs {posixpath.basename(found[-1][1])} on a monotonic timer "
                          "(OnBootSec/OnUnitActiveSec), not a calendar; not listed")
        return
    expression, zone = schedules.calendar_timezone(calendars[0])
    notes = [f"{timer_path} has {len(calendars)} OnCalendar= expressions; the first is kept"] if len(calendars) > 1 \
        else []
    line = next((ln for key, value, ln in timer.get("Timer", ()) if key == "OnCalendar" and value == calendars[0]), 0)
    command, exe, via, more = found[-1]
    schedule = {"cron": "", "onCalendar": expression, "timezone": zone or scan.timezone(), "user": account.name,
                "source": "systemd", "file": timer_path, "line": line, "unit": name,
                "service": service_name, "persistent": schedules.unit_bool(
                    schedules.unit_value(timer, "Timer", "Persistent")),
                "randomizedDelaySec": schedules.unit_value(timer, "Timer", "RandomizedDelaySec")}
    written = " ".join(command.argv)
    identity = job_identity("systemd", timer_path, written, via)
    scan.add(_job(scan, identity, schedule, command, exe, via, account.name, notes + more))


def _working_directory(settings: schedules.Sections, specifiers: Mapping[str, str], account: Account) -> str:
    """WorkingDirectory= (``-`` optional, ``~`` the user's home); systemd's default is /."""
    value = schedules.unit_value(settings, "Service", "WorkingDirectory").lstrip("-").strip()
    value = schedules.resolve_specifiers(value, specifiers)[0]
    if value == "~" or value.startswith("~/"):
        return join(account.home, value[2:]) if len(value) > 1 else account.home
    return value if value.startswith("/") else "/"


# -- the steps' part ---------------------------------------------------------------------------

def job_entry(job: ScheduledJob, claimed: InventoryEntry) -> InventoryEntry:
    """The inventory entry of a job, from the entry an analyzer made of its process: the id and
    identity are the job's (its file and command), the process's identity stays beside."""
    from a2c.ids import application_id

    return dataclasses.replace(
        claimed, app_id=application_id(claimed.application_type, job.identity), identity=job.identity,
        process_id=0, ports=(), user=job.process.username or claimed.user, kind="scheduled",
        schedule=dict(job.schedule),
        extra={**claimed.extra, "processIdentity": claimed.identity, **({"via": job.via} if job.via else {})})


def workload(entry: InventoryEntry) -> dict[str, Any]:
    """analysisInfo.workload of a scheduled entry."""
    return {"kind": "scheduled", "schedule": dict(entry.schedule)}


def apply_to_analysis(document: dict[str, Any], entry: InventoryEntry, proc: ProcessInfo) -> list[Finding]:
    """What analyze records for a scheduled job: its workload, no port or health check (a job
    serves nothing: it is validated by running once and exiting 0), and the variables the crontab
    or unit sets for it in the container's environment (secrets stay out: they are listed)."""
    from a2c.analyzers.common.secrets import has_secret, is_secret_name

    info, params = document["analysisInfo"], document["containerParameters"]
    info["workload"] = workload(entry)
    info["ports"] = []
    params["applicationPort"] = 0
    params.pop("healthCheckPort", None)
    secret_vars = {s.get("envVar") for s in info.get("secrets", [])} | {s.get("name") for s in info.get("secrets", [])}
    environment = dict(params.get("environment") or {})
    for key, value in sorted(proc.environ.items()):
        if key in SESSION_VARIABLES or key in environment or key in secret_vars or is_secret_name(key) \
                or has_secret(value, key) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue
        environment[key] = value
    params["environment"] = environment
    schedule = entry.schedule
    when = schedule.get("cron") or schedule.get("onCalendar")
    where = schedule.get("unit") or f"{schedule.get('file')} line {schedule.get('line')}"
    return [Finding("JOB-I001", "info", f"a scheduled job ({where}: {when}, {schedule.get('timezone')}): it listens "
                    "on no port, so the image is validated by running it once (exit status 0), not by a health check",
                    str(schedule.get("file", "")))]
