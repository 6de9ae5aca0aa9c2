"""The fleet runner with real threads, real sleeps and real failures: bounded concurrency and
connections, a deadline per host that abandons a hung one, retries with backoff for connection
failures only, and progress reported from the calling thread."""

from __future__ import annotations

import threading
import time

import pytest

from a2c.errors import HostError, WorkspaceError
from a2c.fleet.runner import run_hosts
from a2c.progress import Reporter


class ConnectionFailed(HostError):
    retryable = True


class Recorder(Reporter):
    """Keeps every line, and fails the test if one comes from another thread."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.caller = threading.current_thread()

    def _add(self, level: str, message: str) -> None:
        assert threading.current_thread() is self.caller, "reporter called from a worker thread"
        self.lines.append((level, message))

    def step(self, message: str) -> None:
        self._add("step", message)

    def detail(self, message: str) -> None:
        self._add("detail", message)

    def warn(self, message: str) -> None:
        self._add("warn", message)


class Gauge:
    """How many callers are inside at once, at most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __enter__(self) -> "Gauge":
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def test_concurrency_is_bounded_and_every_host_reported():
    gauge, reporter = Gauge(), Recorder()

    def work(item, progress):
        with gauge:
            progress(f"working on {item}")
            time.sleep(0.2)
        return item * 10

    started = time.monotonic()
    outcomes = run_hosts(list(range(10)), work, name=lambda i: f"h{i}", timeout=lambda i: 10, reporter=reporter,
                         concurrency=3)
    elapsed = time.monotonic() - started
    assert [o.value for o in outcomes] == [i * 10 for i in range(10)]  # in the items' order
    assert all(o.ok and o.attempts == 1 for o in outcomes)
    assert gauge.peak == 3
    assert 0.75 < elapsed < 3.0  # four waves of 0.2 s, not ten and not one
    assert ("detail", "h4: working on 4") in reporter.lines
    assert sum(1 for level, m in reporter.lines if level == "step" and m.endswith("s)")) == 10


def test_a_hung_host_is_abandoned_and_the_run_ends():
    release = threading.Event()
    abandoned = []

    def work(item, progress):
        if item == "hang":
            release.wait(30)  # a shell that never answers, until its connection is closed
            raise HostError("connection closed")
        time.sleep(0.1)
        return "ok"

    def abandon(item):
        abandoned.append(item)
        release.set()

    reporter = Recorder()
    started = time.monotonic()
    outcomes = run_hosts(["a", "hang", "b", "c"], work, name=str, timeout=lambda i: 0.5, reporter=reporter,
                         concurrency=2, abandon=abandon)
    assert time.monotonic() - started < 3
    by_name = {o.name: o for o in outcomes}
    assert by_name["hang"].kind == "timeout" and not by_name["hang"].ok
    assert "abandoned" in by_name["hang"].error and by_name["hang"].exit_status == 5
    assert all(by_name[n].ok for n in "abc")
    assert abandoned == ["hang"]
    assert any(level == "warn" and m.startswith("hang: timeout") for level, m in reporter.lines)


def test_connection_failures_are_retried_with_backoff():
    calls: list[float] = []

    def work(item, progress):
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionFailed("connection refused")
        return "connected"

    reporter = Recorder()
    (outcome,) = run_hosts(["flaky"], work, name=str, timeout=lambda i: 10, reporter=reporter, retries=2, backoff=0.2)
    assert outcome.ok and outcome.value == "connected" and outcome.attempts == 3
    assert calls[1] - calls[0] >= 0.19 and calls[2] - calls[1] >= 0.39  # doubled
    assert sum("retrying" in m for _, m in reporter.lines) == 2


def test_other_failures_are_not_retried_and_do_not_stop_the_others():
    attempts = {"wrong-key": 0, "crash": 0}

    def work(item, progress):
        if item in attempts:
            attempts[item] += 1
        if item == "wrong-key":
            raise HostError("permission denied (publickey)", "Check --key.")
        if item == "crash":
            raise ValueError("secret value 's3cret' in a message")
        if item == "disk":
            raise WorkspaceError("cannot write", "free space")
        return "fine"

    outcomes = {o.name: o for o in run_hosts(["wrong-key", "crash", "good", "disk"], work, name=str,
                                             timeout=lambda i: 10, retries=3, backoff=0.01)}
    assert attempts == {"wrong-key": 1, "crash": 1}
    assert (outcomes["wrong-key"].kind, outcomes["wrong-key"].hint) == ("host", "Check --key.")
    assert outcomes["crash"].kind == "error" and "s3cret" not in outcomes["crash"].error
    assert "ValueError" in outcomes["crash"].error
    assert outcomes["disk"].exit_status == 3
    assert outcomes["good"].ok


def test_retries_stop_at_the_deadline():
    def work(item, progress):
        raise ConnectionFailed("connection timed out")

    started = time.monotonic()
    (outcome,) = run_hosts(["down"], work, name=str, timeout=lambda i: 1.0, retries=5, backoff=10)
    assert time.monotonic() - started < 2  # no 10 s sleep past a 1 s deadline
    assert outcome.kind == "connection" and outcome.attempts == 1


def test_open_connections_stay_bounded_while_abandoned_hosts_close():
    """A host abandoned at its deadline holds its connection until its thread returns: the
    semaphore counts it, so no more than `connections` are ever open at once."""
    open_now = Gauge()

    def work(item, progress):
        with open_now:
            time.sleep(0.8 if item.startswith("slow") else 0.05)  # slow ones ignore being abandoned
        return item

    items = ["slow1", "slow2"] + [f"fast{i}" for i in range(6)]
    started = time.monotonic()
    outcomes = run_hosts(items, work, name=str, timeout=lambda i: 0.3 if i.startswith("slow") else 5,
                         concurrency=2, connections=threading.BoundedSemaphore(2))
    assert open_now.peak <= 2
    assert [o.kind for o in outcomes[:2]] == ["timeout", "timeout"]
    assert all(o.ok for o in outcomes[2:])
    assert time.monotonic() - started >= 0.8  # the fast ones waited for the slow ones' connections


def test_late_results_of_abandoned_hosts_are_ignored():
    def work(item, progress):
        time.sleep(0.4)
        progress("late line")
        return "late"

    reporter = Recorder()
    (outcome,) = run_hosts(["slow"], work, name=str, timeout=lambda i: 0.1, reporter=reporter)
    time.sleep(0.5)
    assert outcome.kind == "timeout" and outcome.value is None
    assert not any("late line" in m for _, m in reporter.lines)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_empty_and_single(concurrency):
    assert run_hosts([], lambda i, p: i, name=str, timeout=lambda i: 1, concurrency=concurrency) == []
    (outcome,) = run_hosts([7], lambda i, p: i + 1, name=str, timeout=lambda i: 1, concurrency=concurrency)
    assert outcome.value == 8 and outcome.to_json()["ok"] is True
