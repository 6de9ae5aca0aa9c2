"""validate_image against real containers (busybox): an image that answers like the original
passes; one whose port is open but silent, one that never starts listening, and one whose
health path redirects forever each fail within the timeout, naming the port and what was tried."""

from __future__ import annotations

import io
import os
import time

import pytest

from tests.conftest import missing

from a2c.errors import ValidationFailed
from a2c.probe import HTTP, TCP, Baseline, PathResult, PortProbe

BUSYBOX = os.environ.get("A2C_TEST_BUSYBOX_IMAGE", "a2c-test/busybox:latest")


class Quiet:
    def step(self, message):
        pass

    detail = warn = step


@pytest.fixture(scope="module")
def engine(docker_client):
    try:
        docker_client.images.get(BUSYBOX)
    except Exception:
        missing(f"the local image {BUSYBOX}", "run scripts/setup.sh")
    from a2c.gateways.docker_engine import DockerEngine

    return DockerEngine(docker_client)


def _image(docker_client, tag, script):
    """A busybox image whose command is ``script`` (sh -c), with an httpd document root."""
    dockerfile = (
        f"FROM {BUSYBOX}\n"
        "RUN mkdir -p /www/app /www/cgi-bin && echo ok > /www/app/index.html\n"
        "RUN printf '#!/bin/sh\\necho Status: 302 Found\\necho Location: /cgi-bin/loop\\necho\\n' > /www/cgi-bin/loop "
        "&& chmod +x /www/cgi-bin/loop\n"
        f"CMD [\"sh\", \"-c\", \"{script}\"]\n")
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    return tag


ORIGINAL_HTTP = PortProbe(8080, HTTP, paths=(PathResult("/app/", 200), PathResult("/", 404)))


def test_an_image_that_answers_like_the_original_passes(engine, docker_client):
    from a2c.images.validate import validate_image

    image = _image(docker_client, "a2c-test/parity-ok:latest", "httpd -f -p 8080 -h /www")
    try:
        result = validate_image(engine, image, "parity-ok", (8080, "/app/"), Baseline([ORIGINAL_HTTP]), 60, Quiet())
    finally:
        docker_client.images.remove(image, force=True)
    assert result.baseline == "original" and all(r.match for r in result.rows)
    assert [(r.probe, r.container) for r in result.rows] == [("/app/", "200"), ("/", "404")]


@pytest.mark.parametrize("tag, script, expected", [
    # the port is open in the container but nothing answers HTTP on it
    ("a2c-test/parity-silent:latest", "while true; do nc -l -p 8080 -e sleep 5; done", "port 8080 /app/"),
    # the server never starts listening (a slow start, cut by the timeout)
    ("a2c-test/parity-slow:latest", "sleep 600", "port 8080 /app/"),
])
def test_an_image_that_does_not_answer_fails_in_time_naming_the_port(engine, docker_client, tag, script, expected):
    from a2c.images.validate import validate_image

    image = _image(docker_client, tag, script)
    started = time.monotonic()
    try:
        with pytest.raises(ValidationFailed) as failure:
            validate_image(engine, image, "parity-bad", (8080, "/app/"), Baseline([ORIGINAL_HTTP]), 12, Quiet())
    finally:
        docker_client.images.remove(image, force=True)
    assert time.monotonic() - started < 60
    assert expected in failure.value.message and "Original vs container" in failure.value.message
    assert not docker_client.containers.list(all=True, filters={"label": "com.a2c.validation=true", "ancestor": image})


def test_a_health_path_that_redirects_forever_fails_naming_the_loop(engine, docker_client):
    from a2c.images.validate import validate_image

    image = _image(docker_client, "a2c-test/parity-loop:latest", "httpd -f -p 8080 -h /www")
    try:
        with pytest.raises(ValidationFailed) as failure:
            validate_image(engine, image, "parity-loop", (8080, "/cgi-bin/loop"), Baseline(source="health check",
                           reason="the original was not probed"), 8, Quiet())
    finally:
        docker_client.images.remove(image, force=True)
    assert "redirect loop" in failure.value.message and "port 8080" in failure.value.message


def test_a_tcp_listener_is_proved_by_holding_the_connection(engine, docker_client):
    """Docker's proxy accepts every connection: a silent TCP server passes only once it holds one."""
    from a2c.images.validate import validate_image

    image = _image(docker_client, "a2c-test/parity-tcp:latest", "sleep 2; while true; do nc -l -p 9000 -e sleep 3; done")
    original = PortProbe(9000, TCP, held=True)
    try:
        result = validate_image(engine, image, "parity-tcp", (9000, "/"), Baseline([original]), 60, Quiet())
    finally:
        docker_client.images.remove(image, force=True)
    assert result.rows[0].match and result.rows[0].container == "accepts, silent"
