"""Pre-validation: run the built image and probe its application port over HTTP."""

from __future__ import annotations

import secrets as random_tokens
import time
import urllib.error
import urllib.request

from a2c.errors import ValidationFailed
from a2c.gateways.docker_engine import DockerEngine
from a2c.images.base import Validation
from a2c.progress import Reporter


def probe(url: str, timeout: float = 3.0) -> int:
    """HTTP status of a GET (redirects followed); 0 when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError):
        return 0


def validate_image(engine: DockerEngine, image: str, app_id: str, port: int, path: str, timeout: float,
                   reporter: Reporter) -> Validation:
    """Start the image beside whatever runs on the host (its own network namespace, a free
    loopback port), wait for an HTTP answer below 400, and always remove the container."""
    if not port:
        raise ValidationFailed(f"{app_id} has no applicationPort to probe",
                               "Set containerParameters.applicationPort in analysis.json, or use --no-validate.")
    name = f"a2c-validate-{app_id}-{random_tokens.token_hex(3)}"
    container, host_port = engine.run_detached(image, port, name)
    url = f"http://127.0.0.1:{host_port}{path or '/'}"
    reporter.step(f"Running {image} as {name}; probing port {port} (published on {url})")
    started = time.monotonic()
    last_status = 0
    try:
        while time.monotonic() - started < timeout:
            state = engine.container_state(container)
            if state.get("Status") in ("exited", "dead"):
                raise ValidationFailed(
                    f"the container exited with code {state.get('ExitCode')} before answering on port {port}:\n"
                    + engine.logs(container),
                    "Read the container log above; fix analysis.json or Artifacts/Dockerfile and containerize again.")
            last_status = probe(url) if host_port else 0
            if 0 < last_status < 400:
                return Validation(url, last_status, time.monotonic() - started)
            time.sleep(1.0)
        logs = engine.logs(container)
        what = f"answered HTTP {last_status}" if last_status else "did not answer"
        raise ValidationFailed(
            f"{image} {what} on port {port} (path {path or '/'}) within {timeout:.0f}s. Last log lines:\n{logs}",
            "If the application serves another path, set containerParameters.healthCheckPath in analysis.json; "
            "for slow starts raise --validate-timeout; or skip with --no-validate.")
    finally:
        engine.remove(container)
