"""The schedule translation (a2c.targets.cron) on real crontab lines and systemd timers.

The crontab table is copied from files people run: Debian 12's /etc/crontab and the /etc/cron.d
files of its packages (sysstat, php, e2fsprogs, certbot, anacron, mdadm), and the examples of
Debian's crontab(5) man page, with the EventBridge Scheduler and Kubernetes forms each must get.
The OnCalendar table holds the forms of systemd.time(7) and of timers Debian ships (apt-daily,
logrotate, fstrim, man-db, e2scrub_all).
"""

from __future__ import annotations

import pytest

from a2c.targets.cron import ScheduleRefused, parse_crontab, translate

# (the crontab line as written, its five fields, EventBridge expressions, Kubernetes schedule)
CRONTAB_LINES = [
    # Debian 12 /etc/crontab
    ("17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly",
     ("cron(17 * * * ? *)",), "17 * * * *"),
    ("25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }",
     ("cron(25 6 * * ? *)",), "25 6 * * *"),
    ("47 6\t* * 7\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }",
     ("cron(47 6 ? * SUN *)",), "47 6 * * 0"),  # crontab's 7 is Sunday: EventBridge 1, Kubernetes 0
    ("52 6\t1 * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }",
     ("cron(52 6 1 * ? *)",), "52 6 1 * *"),
    # /etc/cron.d/sysstat
    ("5-55/10 * * * * root command -v debian-sa1 > /dev/null && debian-sa1 1 1",
     ("cron(5/10 * * * ? *)",), "5-59/10 * * * *"),
    ("59 23 * * * root command -v debian-sa1 > /dev/null && debian-sa1 60 2",
     ("cron(59 23 * * ? *)",), "59 23 * * *"),
    # /etc/cron.d/php
    ("09,39 *     * * *     root   [ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean",
     ("cron(9,39 * * * ? *)",), "9,39 * * * *"),
    # /etc/cron.d/e2scrub_all
    ("30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron",
     ("cron(30 3 ? * SUN *)",), "30 3 * * 0"),
    # /etc/cron.d/certbot
    ("0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && certbot -q renew",
     ("cron(0 0,12 * * ? *)",), "0 0,12 * * *"),
    # /etc/cron.d/anacron
    ("30 7-23 * * *   root\t[ -x /etc/init.d/anacron ] && /usr/sbin/invoke-rc.d anacron start >/dev/null",
     ("cron(30 7-23 * * ? *)",), "30 7-23 * * *"),
    # /etc/cron.d/mdadm: the first Sunday is found by the command itself (date +%d -le 7)
    ("57 0 * * 0 root if [ -x /usr/share/mdadm/checkarray ] && [ $(date +\\%d) -le 7 ]; then checkarray --cron; fi",
     ("cron(57 0 ? * SUN *)",), "57 0 * * 0"),
    # crontab(5) examples (user crontabs: no user field)
    ("5 0 * * *       $HOME/bin/daily.job >> $HOME/tmp/out 2>&1", ("cron(5 0 * * ? *)",), "5 0 * * *"),
    ("15 14 1 * *     $HOME/bin/monthly", ("cron(15 14 1 * ? *)",), "15 14 1 * *"),
    ("0 22 * * 1-5    mail -s \"It's 10pm\" joe%Joe,%%Where are your kids?%", ("cron(0 22 ? * MON-FRI *)",),
     "0 22 * * 1-5"),
    ("23 0-23/2 * * * echo \"run 23 minutes after midn, 2am, 4am ..., everyday\"", ("cron(23 0/2 * * ? *)",),
     "23 */2 * * *"),
    ("5 4 * * sun     echo \"run at 5 after 4 every sunday\"", ("cron(5 4 ? * SUN *)",), "5 4 * * 0"),
    # crontab's either-day rule: the 1st of the month AND every Monday -> two EventBridge schedules
    ("0 */4 1 * mon   echo \"run every 4th hour on the 1st and on every Monday\"",
     ("cron(0 0/4 1 * ? *)", "cron(0 0/4 ? * MON *)"), "0 */4 1 * 1"),
    # user crontabs of batch jobs
    ("30 2 * * 1-5 /opt/billing/bin/run-batch.sh", ("cron(30 2 ? * MON-FRI *)",), "30 2 * * 1-5"),
    ("*/15 * * * * java -cp /opt/app/lib/* com.example.Sync", ("cron(0/15 * * * ? *)",), "*/15 * * * *"),
    ("0 1 * * 6,0 /usr/local/bin/weekend-report", ("cron(0 1 ? * SUN,SAT *)",), "0 1 * * 0,6"),
    ("0 3 * * Mon-Fri /usr/local/bin/etl", ("cron(0 3 ? * MON-FRI *)",), "0 3 * * 1-5"),
    ("45 23 28-31 * * [ \"$(date +\\%d -d tomorrow)\" = 01 ] && /opt/close-month", ("cron(45 23 28-31 * ? *)",),
     "45 23 28-31 * *"),
    ("0 6 1,15 jan,jul * /opt/app/semiannual", ("cron(0 6 1,15 1,7 ? *)",), "0 6 1,15 1,7 *"),
    ("0 0 * * 5-7 /opt/app/long-weekend", ("cron(0 0 ? * SUN,FRI,SAT *)",), "0 0 * * 0,5,6"),
    ("@daily /usr/bin/dotnet /opt/report/Report.dll", ("cron(0 0 * * ? *)",), "0 0 * * *"),
    ("@hourly /opt/app/poll", ("cron(0 * * * ? *)",), "0 * * * *"),
    ("@weekly /opt/app/cleanup", ("cron(0 0 ? * SUN *)",), "0 0 * * 0"),
    ("@monthly /opt/app/invoice", ("cron(0 0 1 * ? *)",), "0 0 1 * *"),
    ("@yearly /opt/app/archive", ("cron(0 0 1 1 ? *)",), "0 0 1 1 *"),
    # a day-of-month written as a full range is not "*": crontab's either-day rule makes it every day
    ("0 0 1-31 * 1 /opt/app/odd", ("cron(0 0 * * ? *)",), "0 0 * * *"),
]


def schedule_fields(line: str) -> str:
    """The schedule part of a crontab line: an @-form, or the first five fields."""
    words = line.split()
    return words[0] if line.startswith("@") else " ".join(words[:5])


@pytest.mark.parametrize("line, eventbridge, kubernetes", CRONTAB_LINES, ids=[c[0][:40] for c in CRONTAB_LINES])
def test_real_crontab_lines(line, eventbridge, kubernetes):
    translation = translate({"cron": schedule_fields(line), "timezone": "Europe/Paris"})
    assert translation.eventbridge == eventbridge
    assert translation.kubernetes == kubernetes
    assert translation.timezone == "Europe/Paris" and translation.source == "crontab"
    for expression in translation.eventbridge:  # exactly one of the day fields is "?"
        fields = expression[len("cron("):-1].split(" ")
        assert len(fields) == 6 and [fields[2], fields[4]].count("?") == 1, expression
    assert "?" not in translation.kubernetes and "7" not in translation.kubernetes.split(" ")[4]


def test_the_either_day_rule_is_explained_when_it_makes_two_schedules():
    two = translate({"cron": "0 4 1,15 * 5"})
    assert two.eventbridge == ("cron(0 4 1,15 * ? *)", "cron(0 4 ? * FRI *)")
    assert "either" in two.why_two and "`0 4 1,15 * 5`" in two.why_two
    assert translate({"cron": "0 4 * * 5"}).why_two == ""


@pytest.mark.parametrize("calendar, eventbridge, kubernetes, zone", [
    ("daily", ("cron(0 0 * * ? *)",), "0 0 * * *", "UTC"),
    ("weekly", ("cron(0 0 ? * MON *)",), "0 0 * * 1", "UTC"),  # systemd's week starts on Monday
    ("hourly", ("cron(0 * * * ? *)",), "0 * * * *", "UTC"),
    ("monthly", ("cron(0 0 1 * ? *)",), "0 0 1 * *", "UTC"),
    ("quarterly", ("cron(0 0 1 1,4,7,10 ? *)",), "0 0 1 1,4,7,10 *", "UTC"),
    ("Mon..Fri *-*-* 02:30:00", ("cron(30 2 ? * MON-FRI *)",), "30 2 * * 1-5", "UTC"),
    ("*-*-01 04:00", ("cron(0 4 1 * ? *)",), "0 4 1 * *", "UTC"),
    ("Sat,Sun 20:00 Europe/Paris", ("cron(0 20 ? * SUN,SAT *)",), "0 20 * * 0,6", "Europe/Paris"),
    ("*:0/15", ("cron(0/15 * * * ? *)",), "*/15 * * * *", "UTC"),
    ("Mon,Wed,Fri 08..18:00", ("cron(0 8-18 ? * MON,WED,FRI *)",), "0 8-18 * * 1,3,5", "UTC"),
    ("*-*-* 6,18:00", ("cron(0 6,18 * * ? *)",), "0 6,18 * * *", "UTC"),  # apt-daily.timer
    ("Sun *-*-* 03:10:00", ("cron(10 3 ? * SUN *)",), "10 3 * * 0", "UTC"),  # e2scrub_all.timer
    ("Monday 01:00", ("cron(0 1 ? * MON *)",), "0 1 * * 1", "UTC"),
    ("*-01,07-01 00:00:00", ("cron(0 0 1 1,7 ? *)",), "0 0 1 1,7 *", "UTC"),
])
def test_systemd_on_calendar(calendar, eventbridge, kubernetes, zone):
    translation = translate({"onCalendar": calendar, "timezone": "UTC"})
    assert (translation.eventbridge, translation.kubernetes, translation.timezone) == (eventbridge, kubernetes, zone)
    assert translation.source == "systemd"


@pytest.mark.parametrize("schedule, words", [
    ({"cron": "@reboot"}, "once when the host starts"),
    ({"cron": "0 0 */2 * sun"}, "both its day of month and its day of week"),  # crontab(5)'s own example
    ({"cron": "5/10 * * * *"}, "5-59/10"),
    ({"cron": "0 0 * * 8"}, "day-of-week field '8' is outside 0-7"),
    ({"cron": "61 * * * *"}, "minute field '61'"),
    ({"cron": "0 25 * * *"}, "hour field '25'"),
    ({"cron": "0 0 0 * *"}, "day-of-month field '0'"),
    ({"cron": "0 0 * 13 *"}, "month field '13'"),
    ({"cron": "0 0 * * foo"}, "day-of-week field 'foo' is not a number or a name"),
    ({"cron": "0 0 5-1 * *"}, "runs backwards"),
    ({"cron": "*/0 * * * *"}, "step"),
    ({"cron": "0 2 * * * root /opt/run"}, "five fields"),
    ({"cron": "0 2 * *"}, "five fields"),
    ({"cron": "@fortnightly"}, "@-forms"),
    ({"cron": "0 2 * * *", "onCalendar": "daily"}, "exactly one"),
    ({}, "exactly one"),
    ({"onCalendar": "Mon *-*-01 00:00"}, "both its day of month and its day of week"),
    ({"onCalendar": "*-*-* 02:30:15"}, "second field '15'"),
    ({"onCalendar": "2030-*-* 00:00"}, "year field '2030'"),
    ({"onCalendar": "*-02~03"}, "end of the month"),
    ({"onCalendar": "Mon 02:00 tomorrow"}, "'tomorrow'"),
    ({"cron": "0 2 * * *", "timezone": "Europe/Paris\nX"}, "IANA"),
    ({"cron": "0 2 * * *\u0000"}, "printable"),
])
def test_what_cannot_be_kept_is_refused_by_its_field(schedule, words):
    with pytest.raises(ScheduleRefused) as refused:
        translate(schedule)
    assert words in refused.value.message + refused.value.hint, refused.value.message


def test_crontab_star_fields_follow_crons_both_days_rule():
    """Vixie cron (Debian's) takes the days matching both fields when one starts with '*': with
    the other field full that is simply the restricted one."""
    assert parse_crontab("0 0 * * 1").days.rule == "dow"
    assert parse_crontab("0 0 */2 * *").days.rule == "dom"
    assert parse_crontab("0 0 1 * 1").days.rule == "either"
    assert parse_crontab("0 0 * * *").days.rule == "every"
