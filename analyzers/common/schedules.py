"""Pure parsers for what schedules jobs on Linux: crontabs and systemd timer and service units.

Text in, facts out, never an exception on odd input (a line that cannot be read becomes a note).
The host reading around them (which files, which user, which script a job calls) is
``a2c/scheduled.py``.

- Crontabs as Vixie cron (Debian's ``cron``) and cronie read them: ``/etc/crontab`` and
  ``/etc/cron.d/*`` have a user field after the five time fields, per-user spools do not;
  ``NAME = value`` lines (quotes stripped, no expansion) apply to the lines below them; the
  ``@`` nicknames; an unescaped ``%`` ends the command (the rest is its standard input). Cron
  has no line continuation.
- systemd units as ``systemd.syntax(7)`` says: sections, ``#``/``;`` comments, a trailing
  backslash continues the line, an empty assignment resets a list; ExecStart with its
  ``-@:+!`` prefixes, quoting, C escapes, ``$VAR``/``${VAR}`` and ``%`` specifiers.
- The shell commands a job line or a wrapper script runs (``shell_commands``): POSIX quoting,
  variables the job sets, ``cd``, ``&&``/``;``/``|``, redirections, and the wrappers that run
  another program (``env``, ``exec``, ``nice``, ``timeout``, ``flock``, ``sh -c``, ``su -c``, …).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

MAX_LINE = 8192  # longer lines are refused (cron's own limit is about 1000 characters)
MAX_ENTRIES = 5000  # per file

NICKNAMES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
REBOOT = "@reboot"
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DAYS = "sun|mon|tue|wed|thu|fri|sat"
# (lowest, highest, names) of the five fields
_FIELDS = ((0, 59, ""), (0, 23, ""), (1, 31, ""), (1, 12, _MONTHS), (0, 7, _DAYS))
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CronLine:
    """One job line of a crontab."""

    line: int  # 1-based
    cron: str  # five fields; nicknames written out ("" for @reboot)
    written: str  # the schedule as the file writes it ("@daily", "30 2 * * 1-5")
    command: str  # the shell command, up to the first unescaped %
    user: str = ""  # system crontabs name the user; a spool file is its user's
    stdin: str = ""  # what follows the first %: the command's standard input
    env: Mapping[str, str] = field(default_factory=dict)  # the assignments above the line

    @property
    def at_reboot(self) -> bool:
        return self.written == REBOOT

    @property
    def timezone(self) -> str:
        """CRON_TZ (cronie: the schedule's zone), else TZ, as the crontab sets them."""
        return self.env.get("CRON_TZ") or self.env.get("TZ") or ""


@dataclass(frozen=True)
class Crontab:
    entries: tuple[CronLine, ...]
    notes: tuple[str, ...] = ()


def parse_crontab(text: str, system: bool, source: str = "crontab") -> Crontab:
    """Every job of a crontab (``system``: the line names its user, as in /etc/crontab and
    /etc/cron.d). Assignments apply to the lines below them, as cron reads them."""
    env: dict[str, str] = {}
    entries: list[CronLine] = []
    notes: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(entries) >= MAX_ENTRIES:
            notes.append(f"{source}: more than {MAX_ENTRIES} jobs; the rest is not read")
            break
        if len(raw) > MAX_LINE:
            notes.append(f"{source} line {number}: longer than {MAX_LINE} characters; not read")
            continue
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assignment = parse_cron_assignment(line)
        if assignment is not None:
            env[assignment[0]] = assignment[1]
            continue
        entry, problem = parse_cron_job(line, number, system, env)
        if entry is None:
            notes.append(f"{source} line {number}: {problem}; not read")
            continue
        entries.append(entry)
    return Crontab(tuple(entries), tuple(notes))


def parse_cron_assignment(line: str) -> tuple[str, str] | None:
    """``NAME = value`` (spaces around ``=`` allowed, matching quotes stripped, nothing expanded),
    or None when the line is a job (it starts with a digit, ``*`` or ``@``)."""
    if line[:1] in "0123456789*@" or "=" not in line:
        return None
    name, _, value = line.partition("=")
    name, value = name.strip(), value.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        name = name[1:-1]
    if not name or any(c.isspace() for c in name):
        return None
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return name, value


def parse_cron_job(line: str, number: int, system: bool, env: Mapping[str, str]) -> tuple[CronLine | None, str]:
    """(the job, "") or (None, why the line is no job)."""
    if line.startswith("@"):
        nickname, rest = (line.split(None, 1) + [""])[:2]
        nickname = nickname.lower()
        if nickname != REBOOT and nickname not in NICKNAMES:
            return None, f"unknown schedule {nickname[:40]!r}"
        cron, written = NICKNAMES.get(nickname, ""), nickname
    else:
        fields = line.split(None, 5)
        if len(fields) < 6:
            return None, "fewer than five time fields and a command"
        for index, value in enumerate(fields[:5]):
            if not valid_cron_field(value, index):
                return None, f"time field {index + 1} {value[:40]!r} is not valid"
        cron = written = " ".join(fields[:5])
        rest = fields[5]
    rest = rest.strip()
    user = ""
    if system:
        user, rest = (rest.split(None, 1) + [""])[:2]
        rest = rest.strip()
        if not user:
            return None, "no user field"
    if not rest:
        return None, "no command"
    command, stdin = split_percent(rest)
    return CronLine(number, cron, written, command.strip(), user, stdin, dict(env)), ""


def valid_cron_field(value: str, index: int) -> bool:
    """A time field: ``*``, numbers or names, ranges, lists and ``/step`` (cronie's ``~`` too)."""
    low, high, names = _FIELDS[index]
    for part in value.lower().split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and 0 < int(step) <= high + 1):
            return False
        if base in ("*", "~"):
            continue
        bounds = base.split("-") if "-" in base else base.split("~") if "~" in base else [base]
        if len(bounds) > 2 or not all(_field_value(b, low, high, names) for b in bounds):
            return False
    return True


def _field_value(text: str, low: int, high: int, names: str) -> bool:
    if text.isdigit():
        return low <= int(text) <= high
    return bool(names) and text in names.split("|")


def split_percent(command: str) -> tuple[str, str]:
    """cron turns the first unescaped ``%`` into the end of the command (the rest, with ``%``
    as newlines, is its standard input); ``\\%`` stands for ``%``."""
    out: list[str] = []
    index = 0
    while index < len(command):
        char = command[index]
        if char == "\\" and command[index + 1:index + 2] == "%":
            out.append("%")
            index += 2
            continue
        if char == "%":
            return "".join(out), command[index + 1:].replace("%", "\n")
        out.append(char)
        index += 1
    return "".join(out), ""


# -- systemd units -----------------------------------------------------------------------------

Sections = dict[str, list[tuple[str, str, int]]]  # section -> [(key, value, line)]


def parse_unit(text: str, source: str = "unit") -> tuple[Sections, list[str]]:
    """A unit file's assignments by section, continuations joined, in file order."""
    sections: Sections = {}
    notes: list[str] = []
    current = ""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            notes.append(f"{source} line {number}: longer than {MAX_LINE} characters; not read")
            pending = ""
            continue
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if pending and line[:1] in "#;":
            continue  # a comment inside a continued line is skipped, as systemd does
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending, start = pending + line[:-1] + " ", start or number
            continue
        line, first = pending + line, start or number
        pending, start = "", 0
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            notes.append(f"{source} line {first}: not an assignment; ignored")
            continue
        if not current:
            notes.append(f"{source} line {first}: an assignment before any [section]; ignored")
            continue
        sections[current].append((key.strip(), value.strip(), first))
    if pending:
        line = pending.strip()
        key, sep, value = line.partition("=")
        if sep and current:
            sections[current].append((key.strip(), value.strip(), start))
    return sections, notes


def merge_units(*parts: Sections) -> Sections:
    """A unit and its drop-ins (``name.d/*.conf``, in order): later assignments add to the lists."""
    merged: Sections = {}
    for part in parts:
        for section, values in part.items():
            merged.setdefault(section, []).extend(values)
    return merged


def unit_list(sections: Sections, section: str, key: str) -> list[str]:
    """Every value of a list setting; an empty assignment resets what came before."""
    values: list[str] = []
    for name, value, _ in sections.get(section, ()):
        if name == key:
            values = [] if value == "" else values + [value]
    return values


def unit_value(sections: Sections, section: str, key: str, default: str = "") -> str:
    """The last value of a setting (a later assignment overrides)."""
    values = unit_list(sections, section, key)
    return values[-1] if values else default


def unit_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "yes", "y", "true", "t", "on")


_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"',
              "'": "'", "s": " ", " ": " "}


def split_unit_words(value: str, env: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """systemd's word splitting: whitespace separates, ``"…"`` and ``'…'`` quote, C escapes
    anywhere; with ``env``, ``${VAR}`` is one word and ``$VAR`` splits into words (ExecStart's
    rules; ``$$`` is a dollar). Returns (words, problems)."""
    words: list[str] = []
    problems: list[str] = []
    index, size = 0, len(value)
    while index < size:
        while index < size and value[index] in " \t":
            index += 1
        if index >= size:
            break
        word: list[str] = []
        extra: list[str] = []  # words a $VAR expanded to beyond the first
        quote = ""
        started = index
        while index < size:
            char = value[index]
            if not quote and char in " \t":
                break
            if char in "\"'" and (not quote or quote == char):
                quote = "" if quote else char
                index += 1
                continue
            if char == "\\" and index + 1 < size:
                code, width = _c_escape(value, index + 1)
                word.append(code)
                index += 1 + width
                continue
            if env is not None and char == "$":
                if value[index + 1:index + 2] == "$":
                    word.append("$")
                    index += 2
                    continue
                if value[index + 1:index + 2] == "{":
                    end = value.find("}", index + 2)
                    if end > 0:
                        word.append(env.get(value[index + 2:end], ""))
                        index = end + 1
                        continue
                match = _ENV_NAME.match(value, index + 1)
                if match and not quote and not word and _at_word_end(value, match.end()):
                    parts = env.get(match.group(0), "").split()
                    word.extend(parts[:1])
                    extra = parts[1:]
                    index = match.end()
                    continue
                if match:
                    word.append(env.get(match.group(0), ""))
                    index = match.end()
                    continue
            word.append(char)
            index += 1
        if quote:
            problems.append(f"unbalanced {quote} in {value[started:started + 60]!r}")
        if word or index > started:
            words.append("".join(word))
        words.extend(extra)
    return words, problems


def _at_word_end(value: str, index: int) -> bool:
    return index >= len(value) or value[index] in " \t"


def _c_escape(value: str, index: int) -> tuple[str, int]:
    """(the character, how many characters of ``value`` from ``index`` it took)."""
    char = value[index]
    if char in _C_ESCAPES:
        return _C_ESCAPES[char], 1
    for prefix, width, base in (("x", 2, 16), ("u", 4, 16), ("U", 8, 16)):
        digits = value[index + 1:index + 1 + width]
        if char == prefix and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
            try:
                return chr(int(digits, base)), 1 + width
            except ValueError:
                break
    digits = value[index:index + 3]
    if len(digits) == 3 and all(c in "01234567" for c in digits):
        return chr(int(digits, 8)), 3
    return char, 1


@dataclass(frozen=True)
class ExecCommand:
    """One ExecStart= line: the program systemd runs, its argv and the prefixes."""

    path: str  # what is executed (argv[0], unless the @ prefix gave another)
    argv: tuple[str, ...]
    prefixes: str = ""  # "-" failure ignored, "@" argv[0] given, "+"/"!"/"!!" privileges, ":" no expansion
    written: str = ""  # the line as the unit writes it


def parse_exec(value: str, env: Mapping[str, str]) -> tuple[ExecCommand | None, list[str]]:
    """An ExecStart= value (specifiers already resolved) with its prefixes and variables."""
    rest = value.lstrip()
    prefixes = ""
    while rest[:1] in ("-", "@", "+", "!", ":", "|"):
        prefixes += rest[0]
        rest = rest[1:]
    words, problems = split_unit_words(rest, None if ":" in prefixes else env)
    if ";" in words:  # older systemd: "cmd1 ; cmd2" on one line; the first is the command
        words = words[:words.index(";")]
    if not words:
        return None, problems + ["an empty command"]
    path = words[0]
    if "@" in prefixes:
        if len(words) < 2:
            return None, problems + ["the @ prefix without the argv[0] that follows the path"]
        argv = tuple(words[1:])
    else:
        argv = tuple(words)
    return ExecCommand(path, argv, prefixes, value), problems


def parse_environment(values: Iterable[str]) -> dict[str, str]:
    """Environment= assignments (``"A=1 2" B=3``), in order; later ones win."""
    env: dict[str, str] = {}
    for value in values:
        for word in split_unit_words(value)[0]:
            name, sep, setting = word.partition("=")
            if sep and _ENV_NAME.fullmatch(name):
                env[name] = setting
    return env


def parse_env_file(text: str) -> dict[str, str]:
    """An EnvironmentFile=: ``KEY=value`` lines, ``#``/``;`` comments, quotes, ``\\`` continuations
    (a leading ``export`` is tolerated)."""
    env: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines()[:10000]:
        line = pending + raw.strip()
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        pending = ""
        if not line or line[0] in "#;":
            continue
        line = line.removeprefix("export ").lstrip()
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _ENV_NAME.fullmatch(name):
            continue
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\(["\\`$])', r"\1", value[1:-1])
        env[name] = value
    return env


_TIMEZONE = re.compile(r"(UTC|GMT|[A-Z][A-Za-z_+-]+(/[A-Za-z0-9_+-]+){1,2})")


def calendar_timezone(expression: str) -> tuple[str, str]:
    """(the OnCalendar= expression without its time zone, the zone) — systemd takes a zone
    name as the last word (``Mon..Fri 02:30 Europe/Paris``)."""
    words = expression.split()
    if len(words) > 1 and _TIMEZONE.fullmatch(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return expression.strip(), ""


def unit_name_parts(name: str) -> tuple[str, str, str]:
    """(prefix, instance, suffix) of ``prefix@instance.suffix`` (instance "" when none)."""
    stem, _, suffix = name.rpartition(".")
    prefix, at, instance = stem.partition("@")
    return prefix, instance if at else "", suffix


def template_name(name: str) -> str:
    """``foo@bar.service`` -> ``foo@.service``: the file a template instance is read from."""
    prefix, instance, suffix = unit_name_parts(name)
    return f"{prefix}@.{suffix}" if instance else name


def unescape_instance(instance: str) -> str:
    """``%I``: systemd-escape undone (``-`` is ``/``, ``\\xNN`` a byte)."""
    text = instance.replace("-", "/")
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def resolve_specifiers(value: str, specifiers: Mapping[str, str]) -> tuple[str, list[str]]:
    """``%`` specifiers replaced (``%%`` is ``%``); an unknown one stays, with a problem."""
    out: list[str] = []
    problems: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "%" and index + 1 < len(value):
            code = value[index + 1]
            if code == "%":
                out.append("%")
            elif code in specifiers:
                out.append(specifiers[code])
            else:
                out.append(value[index:index + 2])
                problems.append(f"the specifier %{code} is not known to a2c")
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out), problems


def unit_specifiers(name: str, user: str = "", home: str = "", uid: int = -1, hostname: str = "") -> dict[str, str]:
    """The specifiers a service's settings use, as systemd resolves them for a system unit."""
    prefix, instance, _ = unit_name_parts(name)
    return {"n": name, "N": name.rsplit(".", 1)[0], "p": prefix, "P": unescape_instance(prefix), "i": instance,
            "I": unescape_instance(instance), "j": prefix.rsplit("-", 1)[-1], "u": user or "root",
            "h": home or "/root", "U": str(uid if uid >= 0 else 0), "H": hostname, "t": "/run", "S": "/var/lib",
            "C": "/var/cache", "L": "/var/log", "E": "/etc", "T": "/tmp", "V": "/var/tmp"}


# -- shell commands ----------------------------------------------------------------------------

MAX_COMMANDS = 2000  # simple commands read from one job or script
MAX_DEPTH = 4  # sh -c inside su -c inside …
SHELLS = {"sh", "bash", "dash", "ksh", "mksh", "zsh", "ash", "busybox-sh"}
_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"}
_CLOSERS = {"fi", "done", "esac", "}", "then", "else", "do"}
_SKIPPED = {"for", "case", "function", "select", "[[", "[", "test", "set", ".", "source", "trap", "return", "exit",
            "shift", "wait", "local", "readonly", "declare", "typeset", "umask", "ulimit", "eval", "alias"}
_DIRNAME_SELF = re.compile(
    r"\$\(\s*(?:cd\s+\"?)?\$\(\s*dirname\s+(?:--\s+)?\"?(?:\$0|\$\{0\}|\$\{BASH_SOURCE(?:\[0\])?\})\"?\s*\)\"?"
    r"(?:\s*(?:&&|;)\s*pwd(?:\s+-P)?)?\s*\)|`\s*dirname\s+\"?\$0\"?\s*`"
    r"|\$\(\s*dirname\s+(?:--\s+)?\"?(?:\$0|\$\{0\}|\$\{BASH_SOURCE(?:\[0\])?\}|\$\(\s*readlink\s+-f\s+\"?\$0\"?\s*\))\"?\s*\)")


@dataclass(frozen=True)
class ShellCommand:
    """A program a shell text runs, as it would run it."""

    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]  # its environment: the exported variables and its own assignments
    user: str = ""  # the user su/sudo/runuser switches to
    script: bool = False  # argv[0] is a script a shell reads (``sh job.sh``)
    unresolved: tuple[str, ...] = ()  # expansions only the run itself knows ($(date), $RANDOM, $UNSET)


@dataclass
class _Word:
    text: str = ""
    fields: list[str] = field(default_factory=list)  # the words it split into (unquoted expansions)
    quoted: bool = False
    unresolved: list[str] = field(default_factory=list)
    assignment: bool = False  # NAME= written unquoted at its start: a variable assignment


class _Tokenizer:
    """POSIX shell words and operators of one text, variables expanded from what the job knows."""

    def __init__(self, text: str, variables: Mapping[str, str], positional: tuple[str, ...]) -> None:
        self.text, self.variables, self.positional = text, variables, positional
        self.index = 0
        self.problems: list[str] = []
        self.heredocs: list[tuple[str, bool]] = []

    def run(self) -> Iterator[_Word | str]:
        """Words and operators, one at a time: the caller runs each command before the next is
        read, so an assignment is seen by the expansions after it."""
        text = self.text
        word: _Word | None = None
        redirect_target = False
        while self.index < len(text):
            char = text[self.index]
            if char == "\\" and text[self.index + 1:self.index + 2] == "\n":
                self.index += 2
                continue
            if char in " \t\r" or char == "\n" or char in ";&|()<>":
                if word is not None:
                    if char in "<>" and word.text.isdigit() and not word.quoted and not word.fields:
                        word = None  # the file descriptor of a redirection (2>&1)
                    else:
                        yield from self._emit(word, redirect_target)
                        redirect_target = False
                        word = None
                if char == "\n":
                    self.index += 1
                    self._skip_heredocs()
                    yield ";"
                    continue
                if char in " \t\r":
                    self.index += 1
                    continue
                if char in "<>" or (char == "&" and text[self.index + 1:self.index + 2] == ">"):
                    redirect_target = self._redirection()
                    continue
                two = text[self.index:self.index + 2]
                op = two if two in ("&&", "||", ";;") else char
                self.index += len(op)
                yield op
                continue
            if char == "#" and word is None:
                end = text.find("\n", self.index)
                self.index = len(text) if end < 0 else end
                continue
            if word is None:
                word = _Word()
                if char == "~" and text[self.index + 1:self.index + 2] in ("/", "", " ", "\t", "\n", ";"):
                    word.text += self.variables.get("HOME", "~")
                    self.index += 1
                    continue
            self._word_part(word)
        if word is not None:
            yield from self._emit(word, redirect_target)

    def _emit(self, word: _Word, redirect_target: bool) -> Iterator[_Word]:
        if redirect_target:
            return
        if word.fields:
            for text in word.fields + [word.text]:
                if text or word.quoted:
                    yield _Word(text, unresolved=word.unresolved, quoted=True)
        elif word.text or word.quoted:
            yield word

    def _redirection(self) -> bool:
        """Skip a redirection operator; True when a target word follows (not for ``<<``, whose
        body is skipped at the end of the line)."""
        text = self.text
        start = self.index
        while self.index < len(text) and text[self.index] in "<>&|-":
            if text[self.index] == "-" and text[start:self.index] != "<<":
                break
            self.index += 1
        op = text[start:self.index]
        if op.startswith("<<") and not op.startswith("<<<"):
            while self.index < len(text) and text[self.index] in " \t":
                self.index += 1
            match = re.match(r"['\"]?([A-Za-z0-9_]+)['\"]?", text[self.index:])
            if match:
                self.heredocs.append((match.group(1), op.endswith("-")))
                self.index += match.end()
            return False
        if op.endswith("&") and self.text[self.index:self.index + 1].isdigit():
            self.index += 1  # >&2
            return False
        return True

    def _skip_heredocs(self) -> None:
        while self.heredocs:
            delimiter, strip = self.heredocs.pop(0)
            while self.index < len(self.text):
                end = self.text.find("\n", self.index)
                end = len(self.text) if end < 0 else end
                line = self.text[self.index:end]
                self.index = end + 1
                if (line.strip() if strip else line.rstrip("\r")) == delimiter:
                    break

    def _word_part(self, word: _Word) -> None:
        text = self.text
        char = text[self.index]
        if char == "'":
            end = text.find("'", self.index + 1)
            if end < 0:
                self.problems.append("an unbalanced ' quote")
                end = len(text)
            word.text += text[self.index + 1:end]
            word.quoted = True
            self.index = end + 1
            return
        if char == '"':
            word.quoted = True
            self.index += 1
            while self.index < len(text) and text[self.index] != '"':
                inner = text[self.index]
                if inner == "\\" and text[self.index + 1:self.index + 2] in ('"', "\\", "$", "`", "\n"):
                    if text[self.index + 1] != "\n":
                        word.text += text[self.index + 1]
                    self.index += 2
                elif inner in "$`":
                    self._expansion(word, quoted=True)
                else:
                    word.text += inner
                    self.index += 1
            if self.index >= len(text):
                self.problems.append('an unbalanced " quote')
            self.index += 1
            return
        if char == "\\":
            word.text += text[self.index + 1:self.index + 2]
            word.quoted = True
            self.index += 2
            return
        if char in "$`":
            self._expansion(word, quoted=False)
            return
        if char == "=" and not word.quoted and not word.fields and not word.assignment \
                and _ENV_NAME.fullmatch(word.text):
            word.assignment = True
        word.text += char
        self.index += 1

    def _expansion(self, word: _Word, quoted: bool) -> None:
        text = self.text
        special = _DIRNAME_SELF.match(text, self.index)
        if special and self.positional:
            script = self.positional[0]
            word.text += script.rsplit("/", 1)[0] if "/" in script else "."
            self.index = special.end()
            return
        if text[self.index] == "`":
            end = text.find("`", self.index + 1)
            end = len(text) if end < 0 else end
            self._unknown(word, text[self.index:end + 1])
            self.index = end + 1
            return
        nxt = text[self.index + 1:self.index + 2]
        if nxt == "(":
            end = _closing(text, self.index + 1)
            self._unknown(word, text[self.index:end + 1])
            self.index = end + 1
            return
        if nxt == "{":
            end = text.find("}", self.index + 2)
            end = len(text) if end < 0 else end
            self._value(word, self._braced(text[self.index + 2:end], word), quoted)
            self.index = end + 1
            return
        if nxt.isdigit() or nxt in ("@", "*", "#"):
            self.index += 2
            if nxt == "#":
                word.text += str(max(len(self.positional) - 1, 0))
            elif nxt.isdigit():
                position = int(nxt)
                word.text += self.positional[position] if position < len(self.positional) else ""
            else:
                args = list(self.positional[1:])
                if quoted and nxt == "@":  # "$@": one word per argument
                    for number, arg in enumerate(args):
                        if number:
                            word.fields.append(word.text)
                            word.text = ""
                        word.text += arg
                else:
                    self._value(word, " ".join(args), quoted)
            return
        match = _ENV_NAME.match(text, self.index + 1)
        if not match:
            if nxt in ("$", "!", "?", "-"):
                self._unknown(word, "$" + nxt)
                self.index += 2
                return
            word.text += "$"
            self.index += 1
            return
        self.index = match.end()
        name = match.group(0)
        if name in self.variables:
            self._value(word, self.variables[name], quoted)
        else:
            self._unknown(word, "$" + name, keep=False)

    def _braced(self, inner: str, word: _Word) -> str:
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(:?[-=+?])?(.*)", inner, re.S)
        if not match:
            self._unknown(word, "${" + inner + "}", keep=False)
            return ""
        name, op, rest = match.groups()
        if name.isdigit():
            position = int(name)
            value: str | None = self.positional[position] if position < len(self.positional) else None
        else:
            value = self.variables.get(name)
        if op is None:
            if rest:
                self._unknown(word, "${" + inner + "}", keep=False)
                return ""
            if value is None:
                self._unknown(word, "$" + name, keep=False)
            return value or ""
        empty = value is None or (op.startswith(":") and value == "")
        if op.endswith(("-", "=")):
            return rest if empty else str(value)
        if op.endswith("+"):
            return "" if empty else rest
        if value is None:
            self._unknown(word, "$" + name, keep=False)
        return value or ""

    def _value(self, word: _Word, value: str, quoted: bool) -> None:
        if quoted or word.assignment:  # an assignment's value is not split into words
            word.text += value
            return
        parts = value.split()
        if not parts:
            return
        if value[:1].isspace() and word.text:
            word.fields.append(word.text)
            word.text = ""
        word.text += parts[0]
        for part in parts[1:]:
            word.fields.append(word.text)
            word.text = part
        if value[-1:].isspace():
            word.fields.append(word.text)
            word.text = ""

    def _unknown(self, word: _Word, expression: str, keep: bool = True) -> None:
        """An expansion only the run knows: kept as written (a command substitution) or empty (an
        unset variable), and recorded."""
        word.unresolved.append(expression[:80])
        if keep:
            word.text += expression


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at ``start`` (quotes respected)."""
    depth, index, quote = 0, start, ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return len(text) - 1


@dataclass
class _Shell:
    """What a shell text has set so far: its variables, the exported ones, its folder."""

    variables: dict[str, str]
    exported: set[str]
    cwd: str
    user: str = ""

    def environment(self) -> dict[str, str]:
        return {k: v for k, v in self.variables.items() if k in self.exported}


def shell_commands(text: str, env: Mapping[str, str], cwd: str, positional: tuple[str, ...] = (),
                   user: str = "", depth: int = 0) -> tuple[list[ShellCommand], list[str]]:
    """Every program the shell text runs, in order, with the folder, environment and user it
    runs with (``cd``, assignments and ``export`` carried along; wrappers such as ``env``,
    ``nice``, ``timeout``, ``flock``, ``su -c`` and ``sh -c`` unwrapped). ``positional``: ``$0``
    (the script) and its arguments. Returns (commands, problems)."""
    shell = _Shell(dict(env), set(env), cwd, user)
    commands: list[ShellCommand] = []
    problems: list[str] = []
    tokenizer = _Tokenizer(text, shell.variables, positional)
    simple: list[_Word] = []
    for token in itertools.chain(tokenizer.run(), [";"]):
        if isinstance(token, _Word):
            simple.append(token)
            continue
        if simple:
            _simple_command(simple, shell, commands, problems, depth)
            if len(commands) >= MAX_COMMANDS:
                problems.append(f"more than {MAX_COMMANDS} commands; the rest is not read")
                break
        simple = []
    return commands, tokenizer.problems + problems


def _simple_command(words: list[_Word], shell: _Shell, commands: list[ShellCommand], problems: list[str],
                    depth: int) -> None:
    texts = [w.text for w in words]
    while texts and texts[0] in _KEYWORDS and not words[0].quoted:
        texts, words = texts[1:], words[1:]
    if not texts or texts[0] in _CLOSERS or texts[0] in _SKIPPED or texts[0].endswith("()"):
        return
    unresolved = tuple(u for w in words for u in w.unresolved)
    local: dict[str, str] = {}
    while texts and words[0].assignment:
        name, _, value = texts[0].partition("=")
        local[name] = value
        texts, words = texts[1:], words[1:]
    if not texts:  # NAME=value alone: a shell variable (exported when it already was)
        shell.variables.update(local)
        return
    if texts[0] == "export":
        for item in texts[1:]:
            name, sep, value = item.partition("=")
            if _ENV_NAME.fullmatch(name):
                if sep:
                    shell.variables[name] = value
                shell.exported.add(name)
        return
    if texts[0] == "unset":
        for name in texts[1:]:
            shell.variables.pop(name, None)
        return
    if texts[0] == "cd":
        target = next((t for t in texts[1:] if not t.startswith("-") or t == "-"), None)
        if target == "-":
            return
        target = target if target is not None else shell.variables.get("HOME", "/")
        shell.cwd = _join(shell.cwd, target)
        return
    env = {**shell.environment(), **local}
    run = ShellCommand(tuple(texts), shell.cwd, env, shell.user, False, unresolved)
    _unwrapped(run, commands, problems, depth)


def _join(cwd: str, path: str) -> str:
    import posixpath

    return posixpath.normpath(posixpath.join(cwd or "/", path))


def _unwrapped(run: ShellCommand, commands: list[ShellCommand], problems: list[str], depth: int) -> None:
    """The program a wrapper runs (recursively), or the command itself."""
    import dataclasses

    if depth > MAX_DEPTH:
        problems.append(f"commands nested more than {MAX_DEPTH} deep; not read")
        return
    argv = list(run.argv)
    name = argv[0].rsplit("/", 1)[-1]
    inner = _wrapped(name, argv[1:], run)
    if inner is not None:
        if isinstance(inner, tuple):  # a shell text to run: (text, positional, replaced run)
            text, positional, base = inner
            found, more = shell_commands(text, base.env, base.cwd, positional, base.user, depth + 1)
            commands.extend(dataclasses.replace(c, unresolved=c.unresolved + run.unresolved) for c in found)
            problems.extend(more)
        elif inner.argv:
            _unwrapped(inner, commands, problems, depth + 1)
        return
    commands.append(run)


def _wrapped(name: str, args: list[str], run: ShellCommand) -> "ShellCommand | tuple[str, tuple[str, ...], ShellCommand] | None":
    """What a wrapper program runs: another command, a shell text, or None when ``name`` is none."""
    import dataclasses

    def then(rest: list[str], **changes: object) -> ShellCommand:
        return dataclasses.replace(run, argv=tuple(rest), **changes)  # type: ignore[arg-type]

    if name in SHELLS:
        return _shell_invocation(args, run)
    if name in ("exec", "nohup", "chronic", "command", "builtin", "setsid", "nocache", "eatmydata"):
        rest = _skip_options(args, with_value={"-a"})
        return then(rest)
    if name == "env":
        return _env_invocation(args, run)
    if name in ("nice", "ionice", "stdbuf"):
        return then(_skip_options(args, with_value={"-n", "-c", "-i", "-o", "-e", "--adjustment", "--class",
                                                    "--classdata"}, attached_digits=True))
    if name == "taskset":
        rest = _skip_options(args, with_value=set())
        return then(rest[1:] if rest else rest)
    if name == "timeout":
        rest = _skip_options(args, with_value={"-s", "-k", "--signal", "--kill-after"})
        return then(rest[1:] if rest else rest)
    if name == "flock":
        rest = _skip_options(args, with_value={"-E", "-w", "--timeout", "--conflict-exit-code"})
        if len(rest) >= 3 and rest[1] in ("-c", "--command"):
            return rest[2], ("sh",), run
        return then(rest[1:] if rest else rest)
    if name == "sudo":
        user = run.user
        index = 0
        while index < len(args) and args[index].startswith("-"):
            if args[index] == "--":
                index += 1
                break
            if args[index] in ("-u", "--user", "-g", "--group", "-C", "-D", "-h", "-p", "-r", "-t", "-U") \
                    and index + 1 < len(args):
                if args[index] in ("-u", "--user"):
                    user = args[index + 1]
                index += 2
                continue
            if args[index].startswith("--user="):
                user = args[index].split("=", 1)[1]
            index += 1
        rest = args[index:]
        env = dict(run.env)
        while rest and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", rest[0], re.S):
            key, _, value = rest[0].partition("=")
            env[key] = value
            rest = rest[1:]
        return then(rest, user=user or "root", env=env)
    if name in ("su", "runuser"):
        return _su_invocation(args, run)
    return None


def _skip_options(args: list[str], with_value: set[str], attached_digits: bool = False) -> list[str]:
    """The arguments after a wrapper's own options (``--`` ends them)."""
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        arg = args[index]
        if arg == "--":
            return args[index + 1:]
        key = arg.split("=", 1)[0]
        if key in with_value and "=" not in arg and index + 1 < len(args):
            index += 2
            continue
        if attached_digits or arg[1:].lstrip("-").isdigit() or "=" in arg or len(arg) > 2:
            index += 1
            continue
        index += 1
    return args[index:]


def _env_invocation(args: list[str], run: ShellCommand) -> ShellCommand:
    import dataclasses

    env, cwd = dict(run.env), run.cwd
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-i", "-", "--ignore-environment"):
            env = {}
        elif arg in ("-u", "--unset") and index + 1 < len(args):
            env.pop(args[index + 1], None)
            index += 1
        elif arg.startswith("--unset="):
            env.pop(arg.split("=", 1)[1], None)
        elif arg in ("-C", "--chdir") and index + 1 < len(args):
            cwd = _join(cwd, args[index + 1])
            index += 1
        elif arg.startswith("--chdir="):
            cwd = _join(cwd, arg.split("=", 1)[1])
        elif arg in ("-S", "--split-string") and index + 1 < len(args):
            return _env_invocation(args[index + 1].split() + args[index + 2:],
                                   dataclasses.replace(run, env=env, cwd=cwd))
        elif arg == "--":
            index += 1
            break
        elif arg.startswith("-") and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", arg, re.S):
            pass
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", arg, re.S):
            key, _, value = arg.partition("=")
            env[key] = value
        else:
            break
        index += 1
    rest = args[index:]
    while rest and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", rest[0], re.S):
        key, _, value = rest[0].partition("=")
        env[key] = value
        rest = rest[1:]
    return dataclasses.replace(run, argv=tuple(rest), env=env, cwd=cwd)


def _shell_invocation(args: list[str], run: ShellCommand) -> "ShellCommand | tuple[str, tuple[str, ...], ShellCommand]":
    import dataclasses

    index = 0
    command = None
    while index < len(args) and args[index].startswith(("-", "+")) and args[index] not in ("-", "--"):
        arg = args[index]
        if arg in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file") and index + 1 < len(args):
            index += 2
            continue
        if not arg.startswith("--") and "c" in arg[1:]:
            command = index
        index += 1
    if index < len(args) and args[index] == "--":
        index += 1
    if command is not None:
        if index >= len(args):
            return dataclasses.replace(run, argv=())
        text = args[index]
        positional = tuple(args[index + 1:]) or ("sh",)
        return text, positional, run
    if index >= len(args):
        return dataclasses.replace(run, argv=())  # commands from standard input: unknown here
    return dataclasses.replace(run, argv=tuple(args[index:]), script=True)


def _su_invocation(args: list[str], run: ShellCommand) -> "ShellCommand | tuple[str, tuple[str, ...], ShellCommand]":
    import dataclasses

    user, command, rest = "", None, []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-c", "--command") and index + 1 < len(args):
            command = args[index + 1]
            index += 2
            continue
        if arg.startswith("--command="):
            command = arg.split("=", 1)[1]
        elif arg in ("-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment") \
                and index + 1 < len(args):
            index += 1
        elif arg in ("-u", "--user") and index + 1 < len(args):
            user = args[index + 1]
            index += 1
        elif arg == "--":
            rest = args[index + 1:]
            break
        elif arg.startswith("-"):
            pass
        elif not user:
            user = arg
        else:
            rest = args[index:]
            break
        index += 1
    base = dataclasses.replace(run, user=user or "root")
    if command is not None:
        return command, ("sh",), base
    return dataclasses.replace(base, argv=tuple(rest))


def program_commands(argv: tuple[str, ...], env: Mapping[str, str], cwd: str,
                     user: str = "") -> tuple[list[ShellCommand], list[str]]:
    """What an already split command line runs (a unit's ExecStart=): itself, or what the wrappers
    and shells it starts run."""
    commands: list[ShellCommand] = []
    problems: list[str] = []
    if argv:
        _unwrapped(ShellCommand(tuple(argv), cwd, dict(env), user), commands, problems, 0)
    return commands, problems
