"""Crontab and systemd unit parsing on real files' lines (Debian's /etc/crontab and cron.d files as
the packages ship them, user crontabs with environment lines, units as systemd documents them),
the shell commands a job runs, and the scheduled jobs a snapshot host holds (a2c/scheduled.py
through SnapshotHost: hostile files, huge crontabs, link loops, links out of the snapshot)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from a2c.analyzers.common import schedules
from a2c.analyzers.common.schedules import (calendar_timezone, parse_crontab, parse_env_file, parse_environment,
                                            parse_exec, parse_unit, shell_commands, split_percent, unit_list,
                                            unit_value, valid_cron_field)
from a2c.errors import InvalidFile
from a2c.hosts.snapshot import SnapshotHost
from a2c.scheduled import MAX_CRONTAB, host_timezone, job_identity, scan_jobs

from tests.conftest import FIXTURES

HOSTILE = FIXTURES / "hostile" / "schedules"

# Debian 12's /etc/crontab, as the cron package ships it (tabs and all).
DEBIAN_CRONTAB = """\
# /etc/crontab: system-wide crontab
# Unlike any other crontab you don't have to run the `crontab'
# command to install the new version when you edit this file
# and files in /etc/cron.d. These files also have username fields,
# that none of the other crontabs do.

SHELL=/bin/sh
# You can also override PATH, but by default, newer versions inherit it from the environment
#PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin

# Example of job definition:
# .---------------- minute (0 - 59)
# |  .------------- hour (0 - 23)
# |  |  .---------- day of month (1 - 31)
# |  |  |  .------- month (1 - 12) OR jan,feb,mar,apr ...
# |  |  |  |  .---- day of week (0 - 6) (Sunday=0 or 7) OR sun,mon,tue,wed,thu,fri,sat
# |  |  |  |  |
# *  *  *  *  * user-name command to be executed
17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly
25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }
47 6\t* * 7\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }
52 6\t1 * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }
#
"""


def test_debian_system_crontab():
    table = parse_crontab(DEBIAN_CRONTAB, system=True)
    assert table.notes == ()
    assert [(e.line, e.cron, e.user) for e in table.entries] == [
        (19, "17 * * * *", "root"), (20, "25 6 * * *", "root"), (21, "47 6 * * 7", "root"), (22, "52 6 1 * *", "root")]
    assert table.entries[1].command == ("test -x /usr/sbin/anacron || { cd / && run-parts --report "
                                        "/etc/cron.daily; }")
    # the commented PATH is no assignment
    assert all(dict(e.env) == {"SHELL": "/bin/sh"} for e in table.entries)


# Lines of cron.d files Debian packages ship, and logrotate-style ones: (line, cron, user, command).
CRON_D_LINES = [
    ("30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron",
     "30 3 * * 0", "root", "test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron"),
    ("09,39 *     * * *     root   [ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then "
     "/usr/lib/php/sessionclean; fi", "09,39 * * * *", "root",
     "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"),
    ("5-55/10 * * * * root command -v debian-sa1 > /dev/null && debian-sa1 1 1", "5-55/10 * * * *", "root",
     "command -v debian-sa1 > /dev/null && debian-sa1 1 1"),
    ("0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' "
     "&& certbot -q renew", "0 */12 * * *", "root",
     "test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew"),
    ("0 * * * * root /usr/sbin/logrotate /etc/logrotate.conf >/dev/null 2>&1", "0 * * * *", "root",
     "/usr/sbin/logrotate /etc/logrotate.conf >/dev/null 2>&1"),
    ("@daily\troot\t/usr/sbin/logrotate --state /var/lib/logrotate/app.status /etc/logrotate.d/app", "0 0 * * *",
     "root", "/usr/sbin/logrotate --state /var/lib/logrotate/app.status /etc/logrotate.d/app"),
    ("*/5 * * * * www-data [ -x /usr/bin/php ] && php -f /var/www/cron.php --define apc.enable_cli=1",
     "*/5 * * * *", "www-data", "[ -x /usr/bin/php ] && php -f /var/www/cron.php --define apc.enable_cli=1"),
    ("0 1 * jan-jun,dec mon-fri batch java -jar /opt/etl/etl.jar", "0 1 * jan-jun,dec mon-fri", "batch",
     "java -jar /opt/etl/etl.jar"),
]


@pytest.mark.parametrize("line, cron, user, command", CRON_D_LINES)
def test_cron_d_lines(line, cron, user, command):
    table = parse_crontab(line + "\n", system=True)
    assert table.notes == ()
    (entry,) = table.entries
    assert (entry.cron, entry.user, entry.command) == (cron, user, command)


USER_CRONTAB = """\
# DO NOT EDIT THIS FILE - edit the master and reinstall.
# (/tmp/crontab.XXXX installed on Mon Nov 30 10:00:00 2026)
MAILTO=""
PATH = /opt/jdk/bin:/usr/bin:/bin
CRON_TZ='Europe/Paris'
0 2 * * * /opt/app/bin/nightly.sh > /tmp/out 2>&1
TZ=Asia/Tokyo
*/15 9-17 * * mon-fri cd $HOME/etl && java -jar etl.jar
@daily java -cp /opt/x Purge --before "$(date -d '30 days ago' +\\%F)" %line one%line two
@reboot java -jar /opt/app/service.jar
@annually true
"""


def test_user_crontab_with_environment_lines():
    table = parse_crontab(USER_CRONTAB, system=False)
    assert table.notes == ()
    nightly, etl, purge, reboot, yearly = table.entries
    assert dict(nightly.env) == {"MAILTO": "", "PATH": "/opt/jdk/bin:/usr/bin:/bin", "CRON_TZ": "Europe/Paris"}
    assert nightly.timezone == "Europe/Paris" and nightly.user == ""
    assert etl.env["TZ"] == "Asia/Tokyo" and etl.timezone == "Europe/Paris"  # CRON_TZ first
    assert (etl.cron, etl.written) == ("*/15 9-17 * * mon-fri", "*/15 9-17 * * mon-fri")
    assert (purge.cron, purge.written) == ("0 0 * * *", "@daily")
    assert purge.command == "java -cp /opt/x Purge --before \"$(date -d '30 days ago' +%F)\""
    assert purge.stdin == "line one\nline two"
    assert reboot.at_reboot and reboot.cron == ""
    assert yearly.cron == "0 0 1 1 *"


@pytest.mark.parametrize("line, problem", [
    ("61 2 * * * root x", "time field 1"),
    ("* 24 * * * root x", "time field 2"),
    ("* * 0 * * root x", "time field 3"),
    ("* * * 13 * root x", "time field 4"),
    ("* * * * 8 root x", "time field 5"),
    ("*/0 * * * * root x", "time field 1"),
    ("* * * * *", "fewer than five"),
    ("* * * * * root", "no command"),
    ("@fortnightly root x", "unknown schedule"),
    ("1-2-3 * * * * root x", "time field 1"),
    ("NAME WITH SPACES = x", "fewer than five"),
])
def test_broken_lines_become_notes(line, problem):
    table = parse_crontab(f"{line}\n0 1 * * * root ok\n", system=True, source="/etc/cron.d/x")
    assert [e.command for e in table.entries] == ["ok"]
    assert len(table.notes) == 1 and problem in table.notes[0] and table.notes[0].startswith("/etc/cron.d/x line 1")


def test_long_lines_and_many_entries_are_bounded():
    text = "0 1 * * * root " + "x" * (schedules.MAX_LINE + 10) + "\n" + "0 1 * * * root y\n" * (schedules.MAX_ENTRIES + 5)
    table = parse_crontab(text, system=True)
    assert len(table.entries) == schedules.MAX_ENTRIES
    assert any("longer than" in n for n in table.notes) and any("the rest is not read" in n for n in table.notes)


@pytest.mark.parametrize("value, index, ok", [
    ("*", 0, True), ("0-59/5", 0, True), ("1,15,30", 0, True), ("sun-sat", 4, True), ("7", 4, True),
    ("JAN", 3, True), ("~", 0, True), ("10~20", 0, True), ("60", 0, False), ("mon", 3, False), ("", 0, False),
    ("1-", 0, False), ("*/x", 0, False),
])
def test_cron_fields(value, index, ok):
    assert valid_cron_field(value, index) is ok


def test_percent_ends_the_command():
    assert split_percent("date +\\%F%hello%world") == ("date +%F", "hello\nworld")
    assert split_percent("no percent") == ("no percent", "")


HOME = {"HOME": "/home/batch", "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}


@pytest.mark.parametrize("text, argv, cwd, added, user", [
    ("cd /opt/batch && java -cp classes:lib/* com.acme.Nightly >> /var/log/nightly.log 2>&1",
     ("java", "-cp", "classes:lib/*", "com.acme.Nightly"), "/opt/batch", {}, ""),
    ("/usr/bin/env JAVA_OPTS=-Xmx1g java -jar /opt/app/app.jar", ("java", "-jar", "/opt/app/app.jar"), "/home/batch",
     {"JAVA_OPTS": "-Xmx1g"}, ""),
    ("sh -c 'cd /srv/x; exec java Main'", ("java", "Main"), "/srv/x", {}, ""),
    ("su - batch -c \"cd jobs && nice -n 10 timeout 1h java -Dx=1 Job a b\"", ("java", "-Dx=1", "Job", "a", "b"),
     "/home/batch/jobs", {}, "batch"),
    ("FOO=\"a b\" BAR=$HOME/x flock -n /tmp/lock java -jar j.jar 2> /dev/null", ("java", "-jar", "j.jar"),
     "/home/batch", {"FOO": "a b", "BAR": "/home/batch/x"}, ""),
    ("bash -lc \"dotnet /opt/report/Report.dll\"", ("dotnet", "/opt/report/Report.dll"), "/home/batch", {}, ""),
    ("sudo -u batch -E ionice -c3 java -cp ~/lib App", ("java", "-cp", "/home/batch/lib", "App"), "/home/batch", {},
     "batch"),
    ("env -i PATH=/usr/bin -C /opt/y java App", ("java", "App"), "/opt/y", {}, ""),
    ("flock -n /tmp/l -c 'cd /opt/z && java App'", ("java", "App"), "/opt/z", {}, ""),
    ("[ -x /usr/bin/java ] && java -version 2>&1 | logger -t cron", ("logger", "-t", "cron"), "/home/batch", {}, ""),
])
def test_the_program_a_job_runs(text, argv, cwd, added, user):
    commands, problems = shell_commands(text, HOME, "/home/batch")
    last = commands[-1]
    assert (last.argv, last.cwd, last.user) == (argv, cwd, user) and problems == []
    for key, value in added.items():
        assert last.env[key] == value


def test_a_wrapper_script_line_by_line():
    script = """#!/bin/bash
# nightly wrapper
set -euo pipefail
cd "$(dirname "$0")"
APP_HOME=$(pwd)
CP="classes:lib/*"
export JAVA_OPTS="-Xmx512m -Dmode=${1:-full}"
if [ ! -d logs ]; then
    mkdir -p logs
fi
cat > logs/started <<EOF
java -cp nothing NotAJob
EOF
exec java $JAVA_OPTS \\
    -cp "$CP" com.acme.Weekly "$@" >> logs/weekly.log 2>&1
"""
    commands, problems = shell_commands(script, HOME, "/home/batch", ("/opt/batch/run.sh", "weekly", "--dry run"))
    java = [c for c in commands if c.argv[0] == "java"]
    assert len(java) == 1 and problems == []
    assert java[0].argv == ("java", "-Xmx512m", "-Dmode=weekly", "-cp", "classes:lib/*", "com.acme.Weekly", "weekly",
                            "--dry run")
    assert java[0].cwd == "/opt/batch" and java[0].env["JAVA_OPTS"] == "-Xmx512m -Dmode=weekly"
    assert "CP" not in java[0].env  # not exported


def test_unresolved_expansions_are_recorded():
    commands, _ = shell_commands("java -Dday=$(date +%F) -Dn=$UNSET_ONE App `hostname`", HOME, "/")
    (command,) = commands
    assert command.argv == ("java", "-Dday=$(date +%F)", "-Dn=", "App", "`hostname`")
    assert set(command.unresolved) == {"$(date +%F)", "$UNSET_ONE", "`hostname`"}


def test_unbalanced_quotes_are_problems_not_errors():
    commands, problems = shell_commands('java -cp "/opt/x App', HOME, "/")
    assert commands[0].argv == ("java", "-cp", "/opt/x App") and problems


# -- systemd -----------------------------------------------------------------------------------

SERVICE = """\
# /etc/systemd/system/report.service
[Unit]
Description=Nightly report ; not a comment here

[Service]
Type=oneshot
User=batch
WorkingDirectory=-/opt/report
Environment="REPORT_KIND=full daily" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
Environment=
Environment=ONLY=this 'QUOTED=a b'
; a comment
ExecStart=/bin/true
ExecStart=-/usr/bin/dotnet /opt/report/Report.dll \\
    --kind "${REPORT_KIND}" --flags $FLAGS \\
    --literal '$$HOME'
"""


def test_a_service_unit():
    sections, notes = parse_unit(SERVICE, "report.service")
    assert notes == []
    assert unit_value(sections, "Unit", "Description") == "Nightly report ; not a comment here"
    assert unit_value(sections, "Service", "User") == "batch"
    assert parse_environment(unit_list(sections, "Service", "Environment")) == {"ONLY": "this", "QUOTED": "a b"}
    execs = unit_list(sections, "Service", "ExecStart")
    assert len(execs) == 2
    command, problems = parse_exec(execs[-1], {"REPORT_KIND": "full daily", "FLAGS": "-a -b"})
    assert problems == [] and command is not None
    assert command.prefixes == "-" and command.path == "/usr/bin/dotnet"
    assert command.argv == ("/usr/bin/dotnet", "/opt/report/Report.dll", "--kind", "full daily", "--flags", "-a", "-b",
                            "--literal", "$HOME")


@pytest.mark.parametrize("value, path, argv, prefixes", [
    ("@/usr/bin/java batch-java -jar /opt/x.jar", "/usr/bin/java", ("batch-java", "-jar", "/opt/x.jar"), "@"),
    ("+/usr/bin/java -cp /opt/c App", "/usr/bin/java", ("/usr/bin/java", "-cp", "/opt/c", "App"), "+"),
    ("!!-/usr/bin/java App", "/usr/bin/java", ("/usr/bin/java", "App"), "!!-"),
    (":/usr/bin/java -Dx=$HOME App", "/usr/bin/java", ("/usr/bin/java", "-Dx=$HOME", "App"), ":"),
    ("/usr/bin/java -Dtab=a\\tb \"-Dq=\\\"x\\\"\" App", "/usr/bin/java", ("/usr/bin/java", "-Dtab=a\tb", '-Dq="x"', "App"), ""),
    ("/usr/bin/java App ; /bin/echo done", "/usr/bin/java", ("/usr/bin/java", "App"), ""),
])
def test_exec_prefixes_and_quoting(value, path, argv, prefixes):
    command, _ = parse_exec(value, {"HOME": "/root"})
    assert command is not None and (command.path, command.argv, command.prefixes) == (path, argv, prefixes)


def test_environment_file():
    text = "# comment\n; comment\nA=1\nexport B='two words'\nC=\"say \\\"hi\\\"\"\nD=x \\\ny\n bad line\n9X=no\n"
    assert parse_env_file(text) == {"A": "1", "B": "two words", "C": 'say "hi"', "D": "x y"}


@pytest.mark.parametrize("expression, left, zone", [
    ("Mon..Fri *-*-* 02:30:00 Europe/Paris", "Mon..Fri *-*-* 02:30:00", "Europe/Paris"),
    ("daily", "daily", ""),
    ("*-*-* 04:00:00 UTC", "*-*-* 04:00:00", "UTC"),
    ("Sat *-*-* 01:00 America/Argentina/Buenos_Aires", "Sat *-*-* 01:00", "America/Argentina/Buenos_Aires"),
    ("weekly", "weekly", ""),
])
def test_calendar_time_zones(expression, left, zone):
    assert calendar_timezone(expression) == (left, zone)


def test_specifiers():
    specifiers = schedules.unit_specifiers("report@eu-west.service", "batch", "/home/batch", 1001, "host1")
    assert schedules.resolve_specifiers("%h/%i/%I/%u/%%/%n", specifiers) == (
        "/home/batch/eu-west/eu/west/batch/%/report@eu-west.service", [])
    text, problems = schedules.resolve_specifiers("%Z", specifiers)
    assert text == "%Z" and problems


# -- jobs a snapshot host schedules --------------------------------------------------------------

def _host(root: Path, files: dict[str, str | bytes], links: dict[str, str] | None = None) -> SnapshotHost:
    base = root / "files"
    defaults = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/bash\nbatch:x:1001:1001::/home/batch:/bin/sh\n",
        "usr/lib/jvm/java-17-openjdk-amd64/bin/java": "#!/bin/sh\n",
        "usr/lib/jvm/java-17-openjdk-amd64/release": 'JAVA_VERSION="17.0.15"\n',
        "usr/share/dotnet/dotnet": "\x7fELF\0",
        "usr/bin/run-parts": "\x7fELF\0",
    }
    for rel, content in {**defaults, **files}.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        if rel.endswith((".sh", "bin/java", "dotnet", "run-parts")) or rel.startswith("etc/cron.") and not rel.startswith("etc/cron.d/"):
            path.chmod(0o755)
    for rel, target in {"usr/bin/java": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
                        "usr/bin/dotnet": "/usr/share/dotnet/dotnet", **(links or {})}.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
    (root / "host.json").write_text(json.dumps({"hostname": "batch-host"}))
    return SnapshotHost(str(root))


def _wanted(name: str, exe: str, cmdline: tuple[str, ...]) -> bool:
    return name in ("java", "dotnet")


def test_jobs_of_every_kind(tmp_path):
    host = _host(tmp_path, {
        "etc/timezone": "Europe/Paris\n",
        "etc/crontab": DEBIAN_CRONTAB,
        "etc/cron.daily/nightly-etl": "#!/bin/sh\ncd /opt/etl\nexec java -jar etl.jar --all\n",
        "etc/cron.daily/logrotate": "#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n",
        "etc/cron.d/billing": "BATCH_MODE=nightly\n30 2 * * 1-5 batch cd /opt/batch && java -cp classes com.acme.Nightly\n"
                              "0 4 * * * batch java -cp /opt/batch/classes com.acme.Nightly\n"
                              "0 5 * * * batch java -cp /opt/batch/classes com.acme.Nightly\n",
        "etc/cron.d/billing.dpkg-old": "0 1 * * * batch java Old\n",
        "var/spool/cron/crontabs/batch": "TZ=UTC\n@hourly /usr/bin/env REPORT=1 dotnet /opt/report/Report.dll\n"
                                         "@reboot java -jar /opt/app/service.jar\n",
        "etc/systemd/system/report.timer": "[Timer]\nOnCalendar=Mon..Fri 04:00 Europe/Berlin\nPersistent=true\n"
                                           "RandomizedDelaySec=5m\n",
        "etc/systemd/system/report.service": SERVICE,
        "etc/systemd/system/report.service.d/override.conf": "[Service]\nEnvironment=FLAGS=--verbose\n",
        "lib/systemd/system/disabled.timer": "[Timer]\nOnCalendar=daily\n",
        "lib/systemd/system/disabled.service": "[Service]\nExecStart=/usr/bin/java Never\n",
    }, links={"etc/systemd/system/timers.target.wants/report.timer": "/etc/systemd/system/report.timer"})
    jobs, notes = scan_jobs(host, _wanted)
    by_file = {(j.schedule["file"], j.schedule["line"]): j for j in jobs}
    assert sorted(by_file) == [("/etc/cron.d/billing", 2), ("/etc/cron.d/billing", 3), ("/etc/crontab", 20),
                               ("/etc/systemd/system/report.timer", 2), ("/var/spool/cron/crontabs/batch", 2)]
    etl = by_file[("/etc/crontab", 20)]
    assert etl.via == "/etc/cron.daily/nightly-etl" and etl.process.cwd == "/opt/etl"
    assert etl.process.cmdline == ("java", "-jar", "etl.jar", "--all") and etl.process.username == "root"
    assert etl.schedule["cron"] == "25 6 * * *" and etl.schedule["timezone"] == "Europe/Paris"
    nightly = by_file[("/etc/cron.d/billing", 2)]
    process = nightly.process
    assert (process.pid, process.cwd, process.username, process.uid, process.gid) == (0, "/opt/batch", "batch", 1001, 1001)
    assert process.exe == "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
    assert process.environ["BATCH_MODE"] == "nightly" and process.environ["HOME"] == "/home/batch"
    # the same command at 5:00 is the job of 4:00: listed once, with a note
    assert any("line 4 repeats the job of line 3" in n for n in notes)
    report = by_file[("/var/spool/cron/crontabs/batch", 2)]
    assert report.schedule["timezone"] == "UTC" and report.process.environ["REPORT"] == "1"
    assert report.process.exe == "/usr/share/dotnet/dotnet"
    timer = by_file[("/etc/systemd/system/report.timer", 2)]
    assert timer.schedule == {"cron": "", "onCalendar": "Mon..Fri 04:00", "timezone": "Europe/Berlin", "user": "batch",
                              "source": "systemd", "file": "/etc/systemd/system/report.timer", "line": 2,
                              "unit": "report.timer", "service": "report.service", "persistent": True,
                              "randomizedDelaySec": "5m"}
    assert timer.process.cwd == "/opt/report"
    assert timer.process.cmdline[-4:] == ("--flags", "--verbose", "--literal", "$HOME")  # the drop-in's FLAGS
    assert any("@reboot" in n for n in notes)
    assert not any(j.process.cmdline[-1] == "Never" or "Old" in j.process.cmdline for j in jobs)
    # ids come from the file and the command, never a pid, and hide the command
    assert nightly.identity == job_identity("crontab", "/etc/cron.d/billing",
                                            "cd /opt/batch && java -cp classes com.acme.Nightly")
    assert "Nightly" not in nightly.identity


def test_hostile_schedule_files(tmp_path):
    host = _host(tmp_path, {
        "etc/cron.d/broken": (HOSTILE / "broken-crontab").read_bytes(),
        "etc/systemd/system/broken.timer": (HOSTILE / "broken.timer").read_text(),
        "etc/systemd/system/broken.service": (HOSTILE / "broken.service").read_text(),
    }, links={"etc/systemd/system/timers.target.wants/broken.timer": "../broken.timer"})
    jobs, notes = scan_jobs(host, _wanted)
    by_line = {j.schedule["line"]: j for j in jobs if j.schedule["source"] == "crontab"}
    assert sorted(by_line) == [8, 10]
    assert by_line[8].process.cmdline == ("java", "-Dlabel=café", "-cp", "classes", "com.acme.Nightly")
    assert by_line[10].process.cmdline[-1] == "/opt/batch/classes com.acme.Unbalanced"
    for line in (3, 4, 5, 6, 9, 11):
        assert any(f"/etc/cron.d/broken line {line}:" in n for n in notes), (line, notes)
    (timer,) = [j for j in jobs if j.schedule["source"] == "systemd"]
    assert (timer.schedule["onCalendar"], timer.schedule["timezone"]) == ("*-*-* 01:00:00", "Europe/Paris")
    assert timer.process.cwd == "/opt/batch" and timer.process.username == "batch"
    assert timer.process.cmdline[:3] == ("/usr/bin/java", "-Dx=%Z", "-cp") and "com.acme.Nightly" in timer.process.cmdline
    assert any("before any [section]" in n for n in notes) and any("not an assignment" in n for n in notes)


def test_huge_crontabs_and_links(tmp_path):
    big = "0 1 * * * root java -cp /opt Big\n" + "#" * (MAX_CRONTAB + 1)
    host = _host(tmp_path, {"etc/cron.d/huge": big, "etc/cron.d/ok": "0 1 * * * root java -cp /opt Ok\n"},
                 links={"etc/cron.d/loop": "/etc/cron.d/loop2", "etc/cron.d/loop2": "/etc/cron.d/loop",
                        "etc/cron.d/outside": "/../../../../etc/passwd", "var/spool/cron/crontabs/batch": "/dev/zero"})
    os.mkfifo(tmp_path / "files" / "etc" / "cron.d" / "fifo")
    jobs, notes = scan_jobs(host, _wanted)
    assert [j.process.cmdline[-1] for j in jobs] == ["Ok"]
    assert any("/etc/cron.d/huge" in n and "larger than" in n for n in notes)


def test_links_out_of_the_snapshot_stay_inside(tmp_path):
    outside = tmp_path / "elsewhere.timer"
    outside.write_text("[Timer]\nOnCalendar=daily\n")
    host = _host(tmp_path / "host", {"etc/systemd/system/x.service": "[Service]\nExecStart=/usr/bin/java X\n"},
                 links={"etc/systemd/system/timers.target.wants/x.timer": str(outside)})
    jobs, _ = scan_jobs(host, _wanted)
    assert jobs == []  # the link resolves inside the snapshot, where no such file is


def test_the_host_time_zone(tmp_path):
    assert host_timezone(_host(tmp_path / "a", {"etc/timezone": "America/Chicago\n"})) == "America/Chicago"
    linked = _host(tmp_path / "b", {}, links={"etc/localtime": "/usr/share/zoneinfo/Asia/Kolkata"})
    assert host_timezone(linked) == "Asia/Kolkata"
    assert host_timezone(_host(tmp_path / "c", {})) == "UTC"


def test_hostile_fixtures_are_where_the_readme_says():
    assert sorted(p.name for p in HOSTILE.iterdir()) == ["broken-crontab", "broken.service", "broken.timer"]


def test_a_scheduled_entry_round_trips_through_inventory_json():
    from a2c.model import InventoryEntry
    from a2c.workspace import validate

    schedule = {"cron": "30 2 * * 1-5", "onCalendar": "", "timezone": "Europe/Paris", "user": "batch",
                "source": "crontab", "file": "/etc/cron.d/billing", "line": 3, "unit": ""}
    entry = InventoryEntry("java-generic-0a1b2c3d", "java-generic", "java-generic", 0, "java -cp classes Nightly",
                           "crontab:/etc/cron.d/billing#00", kind="scheduled", schedule=schedule)
    document = {entry.app_id: entry.to_json()}
    validate(document, "inventory", "inventory.json")
    assert InventoryEntry.from_json(entry.app_id, document[entry.app_id]) == entry
    service = InventoryEntry("java-generic-0a1b2c3e", "java-generic", "java-generic", 42, "java X", "main:X@/")
    assert "kind" not in service.to_json()  # inventory.json of services is unchanged
    broken = {entry.app_id: {**entry.to_json(), "schedule": {"cron": 5}}}
    with pytest.raises(InvalidFile, match="schedule"):
        validate(broken, "inventory", "inventory.json")


def test_the_analysis_schema_takes_a_workload():
    from a2c.workspace import validate

    schedule = {"cron": "", "onCalendar": "Mon..Fri 04:00", "timezone": "Europe/Berlin", "source": "systemd"}
    document = {"a2CTemplateVersion": "1.0", "createdTime": "x", "findings": [],
                "containerParameters": {"imageRepository": "a", "imageTag": "latest", "containerBaseImage": "x",
                                        "applicationMode": False, "applicationPort": 0},
                "analysisInfo": {"appId": "a", "applicationType": "java-generic", "cmdline": ["java"],
                                 "workload": {"kind": "scheduled", "schedule": schedule}}}
    validate(document, "analysis", "analysis.json")
    for bad in ({"kind": "scheduled"}, {"kind": "scheduled", "schedule": {**schedule, "cron": "0 1 * * *"}},
                {"kind": "nightly"}):
        document["analysisInfo"]["workload"] = bad
        with pytest.raises(InvalidFile, match="workload"):
            validate(document, "analysis", "analysis.json")


def test_a_timer_that_only_restarts_a_daemon_is_not_a_job(tmp_path):
    """Debian's jetty9 package ships jetty9.timer (OnCalendar=daily) beside jetty9.service, a
    simple service started at boot: the timer only restarts the server, which inventory lists as
    a service when it runs. A oneshot service behind a timer stays a job."""
    host = _host(tmp_path, {
        "lib/systemd/system/jetty9.timer": "[Unit]\nDescription=Weekly trigger for jetty9 logging.\n\n"
                                           "[Timer]\nOnCalendar=daily\nPersistent=true\n\n"
                                           "[Install]\nWantedBy=multi-user.target\n",
        "lib/systemd/system/jetty9.service": "[Service]\nType=simple\nUser=root\n"
                                             "ExecStart=/usr/bin/java -jar /usr/share/jetty9/start.jar\n\n"
                                             "[Install]\nWantedBy=multi-user.target\n",
        "lib/systemd/system/purge.timer": "[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n",
        "lib/systemd/system/purge.service": "[Service]\nType=oneshot\nExecStart=/usr/bin/java -jar /opt/purge.jar\n",
    }, links={"etc/systemd/system/multi-user.target.wants/jetty9.timer": "/lib/systemd/system/jetty9.timer",
              "etc/systemd/system/timers.target.wants/purge.timer": "/lib/systemd/system/purge.timer"})
    jobs, notes = scan_jobs(host, _wanted)
    assert [j.schedule["unit"] for j in jobs] == ["purge.timer"]
    assert any("jetty9.timer triggers jetty9.service" in n for n in notes)
