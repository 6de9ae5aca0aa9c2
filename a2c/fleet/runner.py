"""Run one piece of work per host, many hosts at once, without one host stopping or hanging the rest.

- **Bounded concurrency.** At most ``concurrency`` hosts are worked on at a time, each in a
  daemon thread (a thread that never returns cannot keep the process from exiting).
- **Bounded connections.** ``connections`` (a semaphore) is held by a host's thread for as
  long as that thread runs, so the number of open connections stays bounded even while
  abandoned hosts are still closing theirs.
- **A deadline per host.** A host that passes its timeout is reported as timed out and
  abandoned: ``abandon(item)`` is called (to close its connection, which makes the blocked
  call return), its late result is ignored, and the run goes on and ends.
- **Retries with backoff**, for connection failures only (``retryable``), within the deadline.
- **Progress per host** through the reporter, from the calling thread only (the CLI's output
  is not thread-safe); the work's own messages go through ``progress`` handed to it.
- **One bad host never stops the others**: every exception becomes that host's outcome.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from a2c.errors import A2CError, HostError, crash_summary
from a2c.progress import Reporter

T = TypeVar("T")

DEFAULT_CONCURRENCY = 8
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 1.0  # seconds before the first retry; doubled for each next one
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What happened on one host."""

    name: str
    item: T
    ok: bool
    value: Any = None
    error: str = ""
    hint: str = ""
    kind: str = ""  # "" when ok; "timeout", "connection", "host", "aws", "error"
    exit_status: int = 0
    attempts: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"target": self.name, "ok": self.ok, "attempts": self.attempts,
                                "seconds": round(self.seconds, 3)}
        if not self.ok:
            data.update({"error": self.error, "hint": self.hint, "kind": self.kind, "exitStatus": self.exit_status})
        return data


def is_connection_failure(exc: BaseException) -> bool:
    """Whether a failure is worth another try: the SSH gateway marks connection failures
    (refused, reset, timed out while connecting) as ``retryable``; a wrong key or a changed
    host key is not."""
    return isinstance(exc, HostError) and bool(getattr(exc, "retryable", False))


def failure_kind(exc: BaseException) -> str:
    from a2c.errors import AWSError

    if is_connection_failure(exc):
        return "connection"
    if isinstance(exc, AWSError):
        return "aws"
    if isinstance(exc, HostError):
        return "host"
    return "error"


class _Job:
    """One host's thread and what the main loop knows of it."""

    def __init__(self, name: str, item: Any, deadline: float, started: float) -> None:
        self.name = name
        self.item = item
        self.deadline = deadline
        self.started = started
        self.abandoned = threading.Event()
        self.attempts = 0


Progress = Callable[..., None]  # progress(message, level="detail"|"step"|"warn")


def run_hosts(items: Sequence[T], work: Callable[[T, Progress], Any], *,
              name: Callable[[T], str], timeout: Callable[[T], float], reporter: Reporter | None = None,
              concurrency: int = DEFAULT_CONCURRENCY, connections: threading.Semaphore | None = None,
              retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF,
              retryable: Callable[[BaseException], bool] = is_connection_failure,
              abandon: Callable[[T], None] | None = None,
              clock: Callable[[], float] = time.monotonic) -> list[Outcome[T]]:
    """``work(item, progress)`` for every item; one Outcome per item, in the items' order.
    ``progress(message, level)`` shows a line for that host (level "detail", "step" or "warn").

    ``timeout(item)`` is the seconds the item may take in all (attempts and waits included),
    counted from when its thread starts."""
    reporter = reporter or Reporter()
    concurrency = max(1, int(concurrency))
    connections = connections or threading.BoundedSemaphore(concurrency)
    events: queue.Queue[tuple[str, _Job, Any]] = queue.Queue()
    pending = list(enumerate(items))
    pending.reverse()
    running: dict[int, _Job] = {}
    outcomes: dict[int, Outcome[T]] = {}

    def finish(index: int, job: _Job, outcome: Outcome[T]) -> None:
        outcomes[index] = outcome
        running.pop(index, None)
        if outcome.ok:
            reporter.step(f"{job.name}: done ({outcome.seconds:.1f} s)")
        else:
            reporter.warn(f"{job.name}: {outcome.kind} - {outcome.error}")

    def thread_main(index: int, job: _Job) -> None:
        try:
            with connections:
                if job.abandoned.is_set():
                    return
                value = _attempts(job, work, retries, backoff, retryable, events, clock)
            events.put(("done", job, (index, value, None)))
        except BaseException as exc:  # noqa: BLE001 - every failure is this host's outcome
            events.put(("done", job, (index, None, exc)))

    try:
        while pending or running:
            while pending and len(running) < concurrency:
                index, item = pending.pop()
                now = clock()
                job = _Job(name(item), item, now + max(0.001, float(timeout(item))), now)
                running[index] = job
                reporter.detail(f"{job.name}: started")
                threading.Thread(target=thread_main, args=(index, job), name=f"a2c-host-{job.name}", daemon=True).start()
            wait = max(0.0, min(j.deadline for j in running.values()) - clock()) if running else 0.0
            try:
                kind, job, payload = events.get(timeout=wait)
            except queue.Empty:
                kind = ""
            if kind == "progress" and not job.abandoned.is_set():
                message, level = payload
                getattr(reporter, level if level in ("step", "warn") else "detail")(f"{job.name}: {message}")
            elif kind == "done" and not job.abandoned.is_set():
                index, value, exc = payload
                seconds = clock() - job.started
                if exc is None:
                    finish(index, job, Outcome(job.name, job.item, True, value, attempts=job.attempts, seconds=seconds))
                else:
                    finish(index, job, _failed(job, exc, seconds))
            now = clock()
            for index, job in list(running.items()):
                if now >= job.deadline:
                    job.abandoned.set()
                    seconds = now - job.started
                    finish(index, job, Outcome(
                        job.name, job.item, False, error=f"no answer within {seconds:.0f} s; abandoned",
                        hint="Check the host, or raise its timeout (`a2c remote configure --target NAME --timeout S`).",
                        kind="timeout", exit_status=int(HostError.exit_status), attempts=job.attempts, seconds=seconds))
                    _abandon(abandon, job, reporter)
    except BaseException:  # Ctrl-C: close what is open, then let the interrupt through
        for job in running.values():
            job.abandoned.set()
            _abandon(abandon, job, reporter)
        raise
    return [outcomes[i] for i in range(len(items))]


def _attempts(job: _Job, work: Callable[[Any, Progress], Any], retries: int, backoff: float,
              retryable: Callable[[BaseException], bool], events: "queue.Queue[tuple[str, _Job, Any]]",
              clock: Callable[[], float]) -> Any:
    def progress(message: str, level: str = "detail") -> None:
        events.put(("progress", job, (message, level)))

    delay = backoff
    while True:
        job.attempts += 1
        try:
            return work(job.item, progress)
        except BaseException as exc:
            left = job.deadline - clock()
            if job.attempts > retries or not retryable(exc) or job.abandoned.is_set() or left <= delay:
                raise
            progress(f"attempt {job.attempts} failed ({_message(exc)}); retrying in {delay:.1f} s")
            if job.abandoned.wait(delay):
                raise
            delay = min(MAX_BACKOFF, delay * 2)


def _abandon(abandon: Callable[[Any], None] | None, job: _Job, reporter: Reporter) -> None:
    if abandon is None:
        return
    try:
        abandon(job.item)
    except Exception as exc:  # noqa: BLE001 - closing a dead connection must not stop the run
        reporter.detail(f"{job.name}: closing after the timeout failed: {crash_summary(exc)}")


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, A2CError) else crash_summary(exc)


def _failed(job: _Job, exc: BaseException, seconds: float) -> Outcome[Any]:
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    hint = exc.hint if isinstance(exc, A2CError) else "Run again with --debug; the workspace log has the details."
    status = exc.exit_status if isinstance(exc, A2CError) else 1
    return Outcome(job.name, job.item, False, error=_message(exc), hint=hint, kind=failure_kind(exc),
                   exit_status=int(status), attempts=job.attempts, seconds=seconds)
