"""Pre-validation: run the built image and prove it answers like the original, port by port.

The baseline (``a2c.parity.baseline``) is the original probed before the build, else what
analyze recorded, else the analysis's health check alone. The image passes when every probed
port answers the same way: HTTP status classes equal per path, TCP greeting and holding equal.
Bounded by the timeout; the container is always removed.
"""

from __future__ import annotations

import dataclasses
import secrets as random_tokens
import time

from a2c.errors import ValidationFailed
from a2c.gateways.docker_engine import DockerEngine
from a2c.images.base import Validation
from a2c.probe import CLOSED, HTTP, Baseline, PathResult, Row, compare, http_path, probe_port, table
from a2c.progress import Reporter

POLL_SECONDS = 1.0


def probe(url: str, timeout: float = 3.0) -> int:
    """HTTP status of a GET on a loopback URL (same-server redirects followed); 0 when nothing answers."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return http_path(parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/", timeout).status


def validate_image(engine: DockerEngine, image: str, app_id: str, health: tuple[int, str], baseline: Baseline | None,
                   timeout: float, reporter: Reporter) -> Validation:
    """Start the image beside whatever runs on the host (its own network namespace, free loopback
    ports), wait until it answers like the original on every port, and remove it."""
    baseline = baseline or Baseline(source="health check", reason="the original was not probed")
    health_port, health_path = health
    # A port the original did not answer on (closed, or past the probe budget) proves nothing.
    ports = [p for p in dict.fromkeys([health_port] + [o.port for o in baseline.probes if o.protocol != CLOSED]) if p]
    if not ports:
        raise ValidationFailed(f"{app_id} has no applicationPort to probe",
                               "Set containerParameters.applicationPort in analysis.json, or use --no-validate.")
    name = f"a2c-validate-{app_id}-{random_tokens.token_hex(3)}"
    container, mapped = engine.run_detached(image, ports, name)
    where = ", ".join(f"{p} on 127.0.0.1:{mapped[p]}" for p in ports if p in mapped)
    against = ("the original's answers" if baseline.source == "original"
               else f"{'the answers analyze recorded' if baseline.source == 'analysis' else 'the health check'} "
                    f"({baseline.reason})")
    reporter.step(f"Running {image} as {name}; probing port {where} against {against}")
    started = time.monotonic()
    rows: list[Row] = []
    try:
        while True:
            state = engine.container_state(container)
            if state.get("Status") in ("exited", "dead"):
                raise ValidationFailed(
                    f"the container exited with code {state.get('ExitCode')} before answering on port "
                    f"{', '.join(map(str, ports))}:\n" + engine.logs(container) + _shown(rows),
                    "Read the container log above; fix analysis.json or Artifacts/Dockerfile and containerize again.")
            rows, health_result = _round(baseline, mapped, health)
            if rows and all(r.match or not r.required for r in rows) or not rows and health_result.ok:
                elapsed = time.monotonic() - started
                return Validation(f"http://127.0.0.1:{mapped.get(health_port, 0)}{health_path}", health_result.status,
                                  elapsed, tuple(rows), baseline.source, baseline.reason)
            if time.monotonic() - started + POLL_SECONDS > timeout:
                break
            time.sleep(POLL_SECONDS)
        logs = engine.logs(container)
        raise ValidationFailed(_failure(image, baseline, rows, health, health_result, timeout) + f"\nLast log lines:\n{logs}",
                               "If the application serves another path, set containerParameters.healthCheckPath in "
                               "analysis.json; for slow starts raise --validate-timeout; or skip with --no-validate.")
    finally:
        engine.remove(container)


def _round(baseline: Baseline, mapped: dict[int, int], health: tuple[int, str]) -> tuple[list[Row], PathResult]:
    """One look at the container: the parity rows (none without a probed original) and the health check."""
    health_port, health_path = health
    rows: list[Row] = []
    health_result = PathResult(health_path, 0, "not published")
    for original in baseline.probes:
        if original.protocol == CLOSED:
            continue
        required = original.port not in baseline.optional
        if original.port not in mapped:
            rows.append(Row(original.port, "-", "probed", "not published", False, required))
            continue
        paths = [r.path for r in original.paths]
        seen = probe_port("127.0.0.1", mapped[original.port], paths, known=original.protocol, origin_port=original.port)
        rows += [dataclasses.replace(r, required=required) for r in compare(original, seen)]
        if original.port == health_port and original.protocol == HTTP:
            health_result = next((r for r in seen.paths if r.path == health_path), health_result)
    if health_port in mapped and health_result.error == "not published" and not baseline.probes:
        health_result = http_path("127.0.0.1", mapped[health_port], health_path, timeout=3.0, origin_port=health_port)
    elif not any(o.port == health_port and o.protocol == HTTP for o in baseline.probes):
        health_result = PathResult(health_path, 200 if rows and all(r.match or not r.required for r in rows) else 0)
    return rows, health_result


def _shown(rows: list[Row]) -> str:
    return ("\n\nOriginal vs container:\n" + table(rows)) if rows else ""


def _failure(image: str, baseline: Baseline, rows: list[Row], health: tuple[int, str], result: PathResult,
             timeout: float) -> str:
    if rows:
        differ = [r for r in rows if not r.match and r.required]
        what = "; ".join(f"port {r.port} {r.probe}: original {r.original}, container {r.container}" for r in differ)
        return f"{image} did not answer like the original within {timeout:.0f}s ({what}).{_shown(rows)}"
    port, path = health
    return (f"{image} {'answered HTTP ' + str(result.status) if result.status else 'did not answer'} on port {port} "
            f"(path {path}{', ' + result.error if result.error and result.status else ''}) within {timeout:.0f}s; "
            f"the original was not probed ({baseline.reason})")


RUN_ONCE = "run once"  # Validation.baseline of a job run once


def validate_run_once(engine: DockerEngine, image: str, app_id: str, timeout: float, reporter: Reporter,
                      environment: dict[str, str] | None = None, expected_output: str = "") -> Validation:
    """A job (a scheduled batch) serves no port: its image is proven by running it once, to the
    end, and reading how it ended. Passes on exit status 0 (and, when given, ``expected_output``
    in what it printed); fails on another status, on the engine killing it (out of memory), or
    when it is still running at ``timeout``. The container is always removed."""
    name = f"a2c-validate-{app_id}-{random_tokens.token_hex(3)}"
    container, _ = engine.run_detached(image, [], name, environment)
    reporter.step(f"Running {image} once as {name}: a job, proven by its exit status")
    started = time.monotonic()
    try:
        while True:
            state = engine.container_state(container)
            elapsed = time.monotonic() - started
            if state.get("Status") in ("exited", "dead"):
                return _ended(engine, container, image, state, elapsed, expected_output)
            if elapsed + JOB_POLL_SECONDS > timeout:
                break
            time.sleep(JOB_POLL_SECONDS)
        raise ValidationFailed(
            f"{image} was still running after {timeout:.0f}s; a scheduled job must finish.\nLast log lines:\n"
            + engine.logs(container),
            "Check that the job does not wait for something the container cannot reach (a database, a queue, a "
            "mounted folder); for a long job raise --validate-timeout, or skip with --no-validate.")
    finally:
        engine.remove(container)


JOB_POLL_SECONDS = 0.5
WORKER_GRACE_SECONDS = 20.0


def validate_stays_up(engine: DockerEngine, image: str, app_id: str, timeout: float, reporter: Reporter,
                      environment: dict[str, str] | None = None) -> Validation:
    """A queue worker or a file-drop processor serves no port and never ends by itself: its image
    is proven by starting and staying up (its queue client or folder poll running) for a grace
    period, or by ending with status 0. A crash at start (a class not found, a config file
    missing, a broker URL it cannot parse) fails with its log. The container is always removed."""
    name = f"a2c-validate-{app_id}-{random_tokens.token_hex(3)}"
    grace = min(WORKER_GRACE_SECONDS, timeout)
    container, _ = engine.run_detached(image, [], name, environment)
    reporter.step(f"Running {image} as {name}: a worker, proven by staying up for {grace:.0f}s")
    started = time.monotonic()
    try:
        while time.monotonic() - started < grace:
            state = engine.container_state(container)
            if state.get("Status") in ("exited", "dead"):
                return _ended(engine, container, image, state, time.monotonic() - started, "")
            time.sleep(JOB_POLL_SECONDS)
        output = engine.logs(container)
        last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
        return Validation(url="", status=0, seconds=grace, baseline=RUN_ONCE,
                          note=f"started and stayed up for {grace:.0f}s" + (f"; last output: {last[:200]}" if last else ""))
    finally:
        engine.remove(container)


def _ended(engine: DockerEngine, container: object, image: str, state: dict, elapsed: float,
           expected_output: str) -> Validation:
    output = engine.logs(container)
    code = state.get("ExitCode")
    if state.get("OOMKilled"):
        raise ValidationFailed(f"{image} was killed for lack of memory after {elapsed:.1f}s:\n{output}",
                               "Give the job more memory (or a smaller heap) and containerize again.")
    if code != 0:
        raise ValidationFailed(f"{image} exited with code {code} after {elapsed:.1f}s:\n{output}",
                               "Read the container log above; fix analysis.json or Artifacts/Dockerfile and "
                               "containerize again.")
    if expected_output and expected_output not in output:
        raise ValidationFailed(f"{image} exited 0 after {elapsed:.1f}s but did not print {expected_output!r}:\n{output}",
                               "Compare with the job's output on the host.")
    last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
    return Validation(url="", status=0, seconds=elapsed, baseline=RUN_ONCE,
                      note=f"ran once and exited 0 after {elapsed:.1f}s" + (f"; last output: {last[:200]}" if last else ""))
