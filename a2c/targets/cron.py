"""A host's schedule (a crontab line's five fields, or a systemd timer's OnCalendar) translated for
EventBridge Scheduler (``cron(min hour dom month dow year)``) and a Kubernetes CronJob.

Pure functions, no AWS and no Kubernetes here. The two dialects differ where it matters:

- EventBridge numbers the days of the week 1-7 from Sunday (crontab: 0-6 from Sunday, and 7 is
  Sunday again); Kubernetes (robfig/cron) takes 0-6 only, so a crontab's 7 becomes 0 there too.
- EventBridge needs ``?`` in exactly one of day-of-month and day-of-week.
- crontab runs a job on the days that match EITHER field when both are restricted (``0 4 1,15 * 5``:
  the 1st, the 15th and every Friday). One EventBridge expression cannot say that, so it becomes
  two schedules (one per field); Kubernetes has crontab's rule and keeps one expression. When
  either field starts with ``*`` (``*/2``) crontab takes the days matching BOTH, which neither
  EventBridge nor Kubernetes can say: refused, naming the fields.
- systemd's OnCalendar requires the weekday AND the date to match; the same refusal applies when
  both are restricted. Seconds other than 0 and years are refused (EventBridge schedules minutes).

Every field is read into the set of values it matches, then written in each dialect's own
syntax, so that what reaches a template is built from numbers and a2c's own names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab 0-6; EventBridge 1-7
SYSTEMD_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
TIMEZONE = r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*"
MAX_TEXT = 200

# crontab's @-forms (cron(8)); @reboot has no schedule.
CRON_SHORTHANDS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                   "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
# systemd.time(7)'s shorthands, as the full form they stand for.
CALENDAR_SHORTHANDS = {"minutely": "*-*-* *:*:00", "hourly": "*-*-* *:00:00", "daily": "*-*-* 00:00:00",
                       "monthly": "*-*-01 00:00:00", "weekly": "Mon *-*-* 00:00:00", "yearly": "*-01-01 00:00:00",
                       "annually": "*-01-01 00:00:00", "quarterly": "*-01,04,07,10-01 00:00:00",
                       "semiannually": "*-01,07-01 00:00:00"}

FULL = {"minute": range(0, 60), "hour": range(0, 24), "day-of-month": range(1, 32), "month": range(1, 13),
        "day-of-week": range(0, 7)}


class ScheduleRefused(ValueError):
    """A schedule the targets cannot run as written: ``message`` names the field, ``hint`` the way out."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Days:
    """Which days a schedule runs: every day, by day of month, by day of week, or on either."""

    rule: str  # "every" | "dom" | "dow" | "either"
    doms: frozenset[int] = frozenset()
    dows: frozenset[int] = frozenset()  # 0 = Sunday


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: Days
    months: frozenset[int]


@dataclass(frozen=True)
class Translation:
    """``eventbridge``: one or two ``cron(...)`` expressions (two when crontab's either-day rule
    needs one per field); ``kubernetes``: five standard fields; ``timezone``: IANA name."""

    eventbridge: tuple[str, ...]
    kubernetes: str
    timezone: str
    source: str  # "crontab" or "systemd"
    expression: str  # what the host said

    @property
    def why_two(self) -> str:
        if len(self.eventbridge) < 2:
            return ""
        return (f"`{self.expression}` runs on the days that match either its day of month or its day of week; an "
                "EventBridge expression takes one of the two (the other is `?`), so there is one schedule for each.")


# -- reading one field ---------------------------------------------------------------------------
def _refuse(expression: str, field: str, text: str, why: str, hint: str = "") -> ScheduleRefused:
    return ScheduleRefused(f"{expression!r}: the {field} field {text!r} {why}",
                           hint or "Write the schedule with numbers, names (jan, mon), *, ranges (1-5), lists (1,15) "
                           "and steps (*/15), or give the cron expression by hand in deployment.json.")


def _number(text: str, field: str, names: tuple[str, ...], first: int, expression: str,
            day_names: tuple[str, ...] = ()) -> int:
    low, high = FULL[field].start, FULL[field].stop - 1
    if field == "day-of-week" and not day_names:
        high = 7  # crontab: 7 is Sunday too
    word = text.lower()
    if text.isascii() and text.isdigit() and len(text) <= 4:
        value = int(text)
    elif names and word[:3] in names and (word == word[:3] or word in day_names):
        value = names.index(word[:3]) + first
    else:
        raise _refuse(expression, field, text, "is not a number or a name")
    if not low <= value <= high:
        raise _refuse(expression, field, text, f"is outside {low}-{high}")
    return value


def _values(text: str, field: str, expression: str, *, dash: str = "-", names: tuple[str, ...] = (),
            first: int = 0, day_names: tuple[str, ...] = (), start_step: bool = False) -> frozenset[int]:
    """The values one field matches: ``*``, ``n``, ``a-b`` (systemd: ``a..b``), ``/step`` after
    either (systemd, ``start_step``: after a start too, to the field's end), and lists of those."""
    full = FULL[field]
    low, high = full.start, full.stop - 1
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not (step_text.isascii() and step_text.isdigit()) or not 0 < int(step_text) <= len(full):
                raise _refuse(expression, field, text, f"has a step {step_text!r} that is not 1-{len(full)}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif dash in base:
            left, _, right = base.partition(dash)
            start = _number(left, field, names, first, expression, day_names)
            end = _number(right, field, names, first, expression, day_names)
            if start > end:
                raise _refuse(expression, field, text, f"has a range {base!r} that runs backwards")
        elif base:
            start = _number(base, field, names, first, expression, day_names)
            if slash and not start_step:  # cron(8) variants disagree on what 5/10 means
                raise _refuse(expression, field, text, f"steps from a single value ({part!r}), which crontab "
                              "implementations read differently", f"Write {start}-{high}/{step} (from {start} to the "
                              f"end) or {start} (once), as the host's cron runs it.")
            end = high if slash else start
        else:
            raise _refuse(expression, field, text, "has an empty item")
        values.update(range(start, end + 1, step))
    if field == "day-of-week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def _days(doms: frozenset[int], dows: frozenset[int], both: bool, expression: str) -> Days:
    """``both``: the rule that a day must match both fields (crontab when one starts with ``*``,
    systemd always); else crontab's either-field rule."""
    dom_full, dow_full = doms == frozenset(FULL["day-of-month"]), dows == frozenset(FULL["day-of-week"])
    if (dom_full and dow_full) or (not both and (dom_full or dow_full)):
        return Days("every")  # either rule: a full field matches every day
    if dow_full:
        return Days("dom", doms=doms)
    if dom_full:
        return Days("dow", dows=dows)
    if both:
        raise ScheduleRefused(f"{expression!r}: runs only on days that match both its day of month and its day of "
                              "week; EventBridge and Kubernetes schedules take one of the two",
                              "Keep one of the two fields (and let the job check the other when it starts), "
                              "or give the schedule by hand in deployment.json.")
    return Days("either", doms=doms, dows=dows)


# -- crontab -------------------------------------------------------------------------------------
def parse_crontab(expression: str) -> Schedule:
    """Five crontab fields (or an @-form) as the set each matches."""
    text = " ".join(expression.split())
    if text.lower() == "@reboot":
        raise ScheduleRefused(f"{expression!r}: @reboot runs once when the host starts; there is no schedule to keep",
                              "Run the job at container start instead (an ECS service, or a task started once), "
                              'and set workload.kind to "service" in deployment.json.')
    text = CRON_SHORTHANDS.get(text.lower(), text)
    if text.startswith("@"):
        raise ScheduleRefused(f"{expression!r}: {text.split()[0]} is not one of crontab's @-forms",
                              f"Use five fields or one of {', '.join(CRON_SHORTHANDS)}.")
    fields = text.split(" ")
    if len(fields) != 5:
        raise ScheduleRefused(f"{expression!r}: a crontab schedule has five fields (minute hour day-of-month month "
                              f"day-of-week), this has {len(fields)}",
                              "Keep the five time fields only: no user name, command or seconds.")
    minute, hour, dom, month, dow = fields
    doms = _values(dom, "day-of-month", expression)
    dows = _values(dow, "day-of-week", expression, names=DAY_NAMES)
    return Schedule(minutes=_values(minute, "minute", expression), hours=_values(hour, "hour", expression),
                    days=_days(doms, dows, dom.startswith("*") or dow.startswith("*"), expression),
                    months=_values(month, "month", expression, names=MONTH_NAMES, first=1))


# -- systemd OnCalendar ----------------------------------------------------------------------------
def parse_on_calendar(expression: str) -> tuple[Schedule, str]:
    """``[weekdays] [[year-]month-day] [hour:minute[:second]] [time zone]`` as the sets each
    matches, and the time zone it names (or "")."""
    tokens = expression.split()
    zone = ""
    if len(tokens) > 1 and re.fullmatch(TIMEZONE, tokens[-1]) and (tokens[-1] == "UTC" or "/" in tokens[-1]):
        zone = tokens.pop()
    text = " ".join(tokens)
    tokens = CALENDAR_SHORTHANDS.get(text.lower(), text).split(" ")
    weekdays = tokens.pop(0) if tokens and tokens[0][:1].isalpha() else ""
    date = tokens.pop(0) if tokens and "-" in tokens[0] and ":" not in tokens[0] else "*-*-*"
    clock = tokens.pop(0) if tokens and ":" in tokens[0] else "00:00:00"
    if tokens:
        raise ScheduleRefused(f"{expression!r}: {tokens[0]!r} is not a weekday, a date, a time or a time zone",
                              "Write it as systemd.time(7) does: `Mon..Fri *-*-* 02:30:00 Europe/Paris`.")
    if "~" in date:
        raise _refuse(expression, "day-of-month", date, "counts from the end of the month (~), which the targets "
                      "do not schedule", "Name the days of the month, or give the schedule by hand in deployment.json.")
    parts = date.split("-")
    if len(parts) == 2:
        parts.insert(0, "*")
    if len(parts) != 3:
        raise _refuse(expression, "date", date, "is not year-month-day")
    if parts[0] != "*":
        raise _refuse(expression, "year", parts[0], "is not *: a CronJob repeats every year",
                      "Use * for the year (a one-off run is not a scheduled job).")
    times = clock.split(":")
    if len(times) == 2:
        times.append("00")
    if len(times) != 3:
        raise _refuse(expression, "time", clock, "is not hour:minute[:second]")
    if times[2] not in ("0", "00"):
        raise _refuse(expression, "second", times[2], "is not 0: EventBridge and Kubernetes schedule whole minutes",
                      "Use :00 seconds.")
    dows = frozenset(FULL["day-of-week"])
    if weekdays:
        dows = _values(weekdays.replace("..", "-"), "day-of-week", expression, names=DAY_NAMES,
                       day_names=SYSTEMD_DAYS)
    doms = _values(parts[2], "day-of-month", expression, dash="..", start_step=True)
    return Schedule(minutes=_values(times[1], "minute", expression, dash="..", start_step=True),
                    hours=_values(times[0], "hour", expression, dash="..", start_step=True),
                    days=_days(doms, dows, True, expression),
                    months=_values(parts[1], "month", expression, dash="..", start_step=True)), zone


# -- writing -------------------------------------------------------------------------------------
def _runs(values: frozenset[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _list(values: frozenset[int], word: Any = str) -> str:
    """``1-5,10,12``: runs of three or more as ranges, the rest one by one."""
    items = []
    for start, end in _runs(values):
        if end - start >= 2:
            items.append(f"{word(start)}-{word(end)}")
        else:
            items.extend(word(v) for v in range(start, end + 1))
    return ",".join(items)


def _step(values: frozenset[int], field: str) -> tuple[int, int] | None:
    """(start, step) when the values are start, start+step, … to the field's end (``*/15``)."""
    ordered, high = sorted(values), FULL[field].stop - 1
    if len(ordered) < 3:
        return None
    step = ordered[1] - ordered[0]
    if step < 2 or any(b - a != step for a, b in zip(ordered, ordered[1:])) or ordered[-1] + step <= high:
        return None
    return ordered[0], step


def _eventbridge_field(values: frozenset[int], field: str) -> str:
    if values == frozenset(FULL[field]):
        return "*"
    if field == "day-of-week":  # EventBridge: 1-7 from Sunday, named here
        return _list(values, lambda v: DAY_NAMES[v].upper())
    stepped = _step(values, field) if field in ("minute", "hour") else None
    return f"{stepped[0]}/{stepped[1]}" if stepped else _list(values)


def _kubernetes_field(values: frozenset[int], field: str) -> str:
    if values == frozenset(FULL[field]):
        return "*"
    stepped = _step(values, field) if field in ("minute", "hour") else None
    if stepped:
        start, step = stepped
        return f"*/{step}" if start == FULL[field].start else f"{start}-{FULL[field].stop - 1}/{step}"
    return _list(values)


def eventbridge_expressions(schedule: Schedule) -> tuple[str, ...]:
    """``cron(min hour dom month dow *)``: one, or two for crontab's either-day rule."""
    head = f"{_eventbridge_field(schedule.minutes, 'minute')} {_eventbridge_field(schedule.hours, 'hour')}"
    month = _eventbridge_field(schedule.months, "month")
    days = schedule.days
    pairs = {"every": [("*", "?")], "dom": [(_eventbridge_field(days.doms, "day-of-month"), "?")],
             "dow": [("?", _eventbridge_field(days.dows, "day-of-week"))],
             "either": [(_eventbridge_field(days.doms, "day-of-month"), "?"),
                        ("?", _eventbridge_field(days.dows, "day-of-week"))]}[days.rule]
    return tuple(f"cron({head} {dom} {month} {dow} *)" for dom, dow in pairs)


def kubernetes_expression(schedule: Schedule) -> str:
    """Five standard fields as a CronJob takes them (0-6 for the days of the week, no ``?``)."""
    days = schedule.days
    dom = _kubernetes_field(days.doms, "day-of-month") if days.rule in ("dom", "either") else "*"
    dow = _kubernetes_field(days.dows, "day-of-week") if days.rule in ("dow", "either") else "*"
    return " ".join([_kubernetes_field(schedule.minutes, "minute"), _kubernetes_field(schedule.hours, "hour"), dom,
                     _kubernetes_field(schedule.months, "month"), dow])


def translate(schedule: Mapping[str, Any]) -> Translation:
    """deployment.json's ``workload.schedule`` (``cron`` or ``onCalendar``, ``timezone``) for
    both targets; ScheduleRefused names what cannot be kept."""
    cron, calendar = str(schedule.get("cron") or "").strip(), str(schedule.get("onCalendar") or "").strip()
    if bool(cron) == bool(calendar):
        raise ScheduleRefused("a scheduled job needs exactly one of cron and onCalendar",
                              "Set workload.schedule.cron (crontab's five fields) or workload.schedule.onCalendar "
                              "(a systemd timer's), and leave the other empty.")
    expression = " ".join((cron or calendar).split())  # crontab separates fields with tabs too
    if len(expression) > MAX_TEXT or not expression.isprintable():
        raise ScheduleRefused(f"the schedule {expression[:60]!r} is not one printable line of at most {MAX_TEXT} "
                              "characters", "Write the schedule on one line.")
    zone = str(schedule.get("timezone") or "UTC")
    if cron:
        parsed, source = parse_crontab(cron), "crontab"
    else:
        (parsed, named), source = parse_on_calendar(calendar), "systemd"
        zone = named or zone
    if not re.fullmatch(TIMEZONE, zone) or len(zone) > 50:
        raise ScheduleRefused(f"the time zone {zone!r} is not an IANA name", "Use a name such as UTC or Europe/Paris.")
    return Translation(eventbridge_expressions(parsed), kubernetes_expression(parsed), zone, source, expression)
