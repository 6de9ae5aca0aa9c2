"""The one module that talks to the Docker engine; its errors become a2c's errors here."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from a2c.errors import BuildFailed, DockerUnavailable, ValidationFailed

log = logging.getLogger(__name__)

_HINT_UNAVAILABLE = ("Start the Docker engine (e.g. `sudo systemctl start docker` or `sudo dockerd &`) "
                     "or point DOCKER_HOST at one, then run the command again.")


@dataclass(frozen=True)
class BuiltImage:
    image_id: str
    tag: str
    size: int


class DockerEngine:
    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def connect(cls) -> "DockerEngine":
        import docker
        from docker.errors import DockerException

        try:
            client = docker.from_env(timeout=300)
            client.ping()
        except (DockerException, OSError) as exc:
            raise DockerUnavailable(f"cannot reach the Docker engine ({_short(exc)})", _HINT_UNAVAILABLE) from exc
        return cls(client)

    def build(self, context: Iterable[bytes], tag: str, on_line: Callable[[str], None], labels: dict[str, str] | None = None) -> BuiltImage:
        """Send the tar stream as the build context; report each line of build output."""
        from docker.errors import APIError, DockerException

        image_id = ""
        try:
            stream = self.client.api.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                                           decode=True, pull=False, labels=labels or None)
            for chunk in stream:
                if "error" in chunk:
                    detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                    raise BuildFailed(f"docker build of {tag} failed: {detail.strip()}",
                                      "Fix the Dockerfile in Artifacts/ (or the base image) and run "
                                      "`a2c containerize --build-only` again; the full log is in the workspace log.")
                text = chunk.get("stream") or chunk.get("status") or ""
                if text.strip():
                    on_line(text.rstrip("\n"))
                aux = chunk.get("aux") or {}
                if "ID" in aux:
                    image_id = aux["ID"]
        except APIError as exc:
            raise BuildFailed(f"docker build of {tag} failed: {_short(exc)}",
                              "Check that the base image exists locally or can be pulled.") from exc
        except DockerException as exc:
            raise DockerUnavailable(f"lost the Docker engine during the build ({_short(exc)})", _HINT_UNAVAILABLE) from exc
        image = self.client.images.get(tag)
        return BuiltImage(image_id=image_id or image.id, tag=tag, size=int(image.attrs.get("Size", 0)))

    def image_exists(self, name: str) -> bool:
        from docker.errors import ImageNotFound

        try:
            self.client.images.get(name)
            return True
        except ImageNotFound:
            return False

    def pinned_reference(self, name: str) -> str:
        """``name@sha256:…`` when the engine knows the image's registry digest, else ``name``."""
        from docker.errors import DockerException

        if "@" in name:
            return name
        try:
            digests = self.client.images.get(name).attrs.get("RepoDigests") or []
        except DockerException:
            return name
        repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        for digest in digests:
            repo, _, sha = digest.partition("@")
            if repo == repository or repo.endswith("/" + repository):
                return f"{name}@{sha}"
        return name

    def image_attrs(self, name: str) -> dict[str, Any]:
        return self.client.images.get(name).attrs

    def run_detached(self, image: str, container_ports: Sequence[int], name: str,
                     environment: dict[str, str] | None = None) -> tuple[Any, dict[int, int]]:
        """Start the image with each port published on a free loopback port; returns
        (container, {container port: host port}) (a port Docker did not publish is left out)."""
        from docker.errors import APIError

        try:
            container = self.client.containers.run(
                image, detach=True, name=name, environment=environment or {},
                ports={f"{p}/tcp": ("127.0.0.1", None) for p in container_ports},
                labels={"com.a2c.validation": "true"},
            )
            container.reload()
        except APIError as exc:
            raise ValidationFailed(f"could not start a container from {image}: {_short(exc)}",
                                   "Check the image with `docker run` by hand.") from exc
        published = container.attrs.get("NetworkSettings", {}).get("Ports") or {}
        mapped = {}
        for port in container_ports:
            bindings = published.get(f"{port}/tcp") or []
            if bindings:
                mapped[port] = int(bindings[0]["HostPort"])
        return container, mapped

    def file_digests(self, image: str, sizes: dict[str, int], max_bytes: int) -> dict[str, str]:
        """SHA-256 of each path that is a regular file in ``image`` of the size given, read from a
        created and never started container (no shell or tool needed in the image); at most
        ``max_bytes`` are read in all. A path the image lacks, or holds as something else, is
        left out, as is everything when the image cannot be looked into."""
        import hashlib
        import tarfile

        from docker.errors import DockerException

        digests: dict[str, str] = {}
        try:
            container = self.client.containers.create(image, entrypoint=["/a2c-never-started"], command=[],
                                                      labels={"com.a2c.base-files": "true"})
        except DockerException as exc:
            log.warning("could not look into %s: %s", image, exc)
            return digests
        budget = max_bytes
        try:
            for path, size in sizes.items():
                if size > budget:
                    continue
                try:
                    stream, stat = container.get_archive(path)
                except DockerException:
                    continue  # not in the image
                try:
                    if stat.get("size") != size or int(stat.get("mode", 0)) & _GO_MODE_TYPE:
                        continue  # another size, a folder, a link or a device: not the identical file
                    budget -= size
                    with tarfile.open(fileobj=_ChunkReader(stream), mode="r|") as archive:  # type: ignore[call-overload]
                        member = next(iter(archive), None)
                        source = archive.extractfile(member) if member is not None and member.isfile() else None
                        if source is None:
                            continue
                        digest = hashlib.sha256()
                        while chunk := source.read(1024 * 1024):
                            digest.update(chunk)
                        digests[path] = digest.hexdigest()
                finally:
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
        except (DockerException, tarfile.TarError, OSError) as exc:
            log.warning("could not read files of %s: %s", image, exc)
        finally:
            self.remove(container)
        return digests

    def container_state(self, container: Any) -> dict[str, Any]:
        container.reload()
        return container.attrs.get("State", {})

    def logs(self, container: Any, tail: int = 40) -> str:
        try:
            return container.logs(tail=tail).decode("utf-8", "replace")
        except Exception:  # the container may be gone already
            return ""

    def remove(self, container: Any) -> None:
        from docker.errors import DockerException

        try:
            container.remove(force=True)
        except DockerException as exc:
            log.warning("could not remove container %s: %s", getattr(container, "name", "?"), exc)

    def remove_by_name(self, name: str) -> None:
        from docker.errors import DockerException, NotFound

        try:
            self.client.containers.get(name).remove(force=True)
        except NotFound:
            pass
        except DockerException as exc:
            log.warning("could not remove container %s: %s", name, exc)


# Go's os.FileMode type bits, as the engine's path stat gives them: dir, symlink, device, named
# pipe, socket, char device, irregular. A regular file has none.
_GO_MODE_TYPE = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)


class _ChunkReader:
    """A read-only file over the chunks the engine streams an archive in."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._offset = 0  # into _buffer: a read copies what it returns, never the rest

    def read(self, size: int = -1) -> bytes:
        parts = []
        while size != 0:
            if self._offset >= len(self._buffer):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer, self._offset = chunk, 0
            end = len(self._buffer) if size < 0 else min(len(self._buffer), self._offset + size)
            parts.append(self._buffer[self._offset:end])
            if size > 0:
                size -= end - self._offset
            self._offset = end
        return b"".join(parts)


def _short(exc: BaseException) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        text = json.loads(text).get("message", text)
    except (ValueError, AttributeError):
        pass
    return str(text).strip().splitlines()[0][:300] if str(text).strip() else type(exc).__name__


PUSH_ATTEMPTS = 3
PUSH_BACKOFF = 2.0  # seconds before the second attempt, doubled before each next one
# Failures worth another attempt: the network or the registry hiccupped, the request was sound.
# Refusals (unauthorized, denied, unknown repository, tag invalid) are not retried.
_TRANSIENT = re.compile(
    r"connection reset|broken pipe|unexpected EOF|i/o timeout|timed? ?out|blob upload unknown"
    r"|blob upload invalid|toomanyrequests|HTTP status: 5\d\d|\b50[0234]\b"
    r"|internal server error|bad gateway|service unavailable|gateway timeout", re.I)


def is_transient(message: str) -> bool:
    """Whether a push failure is worth another attempt (network, 5xx, a lost blob upload)."""
    return bool(_TRANSIENT.search(message))


@dataclass(frozen=True)
class PushedImage:
    """What a push reported: the manifest digest names exactly the bytes pushed."""

    repository: str
    tag: str
    digest: str

    @property
    def by_digest(self) -> str:
        return f"{self.repository}@{self.digest}"


class _TransientPushError(Exception):
    """One attempt failed in a way another attempt may not."""


_DONE = ("Pushed", "Layer already exists", "Mounted from")


class PushProgress:
    """The engine's push stream summarised: a line per layer when it is done, and the bytes
    pushed at every quarter of the total, not each of the engine's many progress updates."""

    def __init__(self, on_line: Callable[[str], None], step: int = 25) -> None:
        self.on_line, self.step = on_line, step
        self.sizes: dict[str, tuple[int, int]] = {}  # layer -> (bytes pushed, bytes in all)
        self.done: dict[str, str] = {}
        self.shown = 0  # the last quarter shown

    def update(self, chunk: dict[str, Any]) -> None:
        layer, status = str(chunk.get("id") or ""), str(chunk.get("status") or "")
        if not layer:
            if status:
                self.on_line(status)  # "The push refers to …", "<tag>: digest: sha256:… size: …"
            return
        if status == "Pushing":
            detail = chunk.get("progressDetail") or {}
            self.sizes[layer] = (int(detail.get("current") or 0), int(detail.get("total") or 0))
            self._show_total()
        elif status.startswith(_DONE) and layer not in self.done:
            self.done[layer] = status
            self.on_line(f"{layer}: {status}")

    def _show_total(self) -> None:
        current = sum(c for c, _ in self.sizes.values())
        total = sum(t for _, t in self.sizes.values())
        if total <= 0:
            return
        quarter = min(100, current * 100 // total) // self.step
        if quarter > self.shown:
            self.shown = quarter
            self.on_line(f"pushing {len(self.sizes)} layer(s): {current / 1e6:.1f} of {total / 1e6:.1f} MB "
                         f"({quarter * self.step}%)")

    def summary(self) -> str:
        pushed = sum(1 for s in self.done.values() if s == "Pushed")
        return f"{len(self.done)} layer(s): {pushed} pushed, {len(self.done) - pushed} already in the registry"


def push_image(engine: DockerEngine, local: str, repository: str, tag: str, username: str, password: str,
               on_line: Callable[[str], None], *, attempts: int = PUSH_ATTEMPTS,
               sleep: Callable[[float], None] = time.sleep) -> PushedImage:
    """Tag ``local`` as ``repository:tag`` and push it with basic auth (ECR's token). Transient
    failures are tried again (``attempts`` in all, backing off); the digest the push reports is
    returned for the caller to check against the registry."""
    from docker.errors import DockerException, ImageNotFound

    try:
        engine.client.images.get(local).tag(repository, tag)
    except ImageNotFound as exc:
        raise BuildFailed(f"no local image {local} to push", "Run `a2c containerize` first.") from exc
    except DockerException as exc:
        raise DockerUnavailable(f"lost the Docker engine during the push ({_short(exc)})", _HINT_UNAVAILABLE) from exc
    for attempt in range(1, attempts + 1):
        try:
            return _push_once(engine, repository, tag, {"username": username, "password": password}, on_line)
        except _TransientPushError as exc:
            if attempt >= attempts:
                raise BuildFailed(f"push of {repository}:{tag} failed {attempts} times: {exc}",
                                  "The registry or the network kept failing; check the registry host and run "
                                  "the command again (layers already pushed are not sent again).") from exc
            delay = PUSH_BACKOFF * 2 ** (attempt - 1)
            on_line(f"push attempt {attempt} of {attempts} failed ({exc}); trying again in {delay:.0f}s")
            sleep(delay)
    raise AssertionError("unreachable: attempts < 1")


def _push_once(engine: DockerEngine, repository: str, tag: str, auth: dict[str, str],
               on_line: Callable[[str], None]) -> PushedImage:
    import requests.exceptions
    from docker.errors import APIError, DockerException

    progress, digest = PushProgress(on_line), ""
    try:
        for chunk in engine.client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth):
            if "error" in chunk:
                _raise_push_error(repository, tag, chunk.get("errorDetail", {}).get("message") or chunk["error"])
            digest = (chunk.get("aux") or {}).get("Digest") or digest
            progress.update(chunk)
    except APIError as exc:
        _raise_push_error(repository, tag, _short(exc), exc)
    except requests.exceptions.Timeout as exc:
        raise _TransientPushError(f"the engine did not answer in time ({exc})") from exc
    except (DockerException, requests.exceptions.ConnectionError) as exc:
        raise DockerUnavailable(f"lost the Docker engine during the push ({_short(exc)})", _HINT_UNAVAILABLE) from exc
    on_line(progress.summary())
    if not digest:
        raise BuildFailed(f"the push of {repository}:{tag} reported no manifest digest",
                          "Check the Docker engine's version (the push must report the digest) and push again.")
    return PushedImage(repository, tag, str(digest))


def _raise_push_error(repository: str, tag: str, message: str, cause: BaseException | None = None) -> None:
    message = str(message).strip()
    if is_transient(message):
        raise _TransientPushError(message) from cause
    raise BuildFailed(f"push of {repository}:{tag} failed: {message}",
                      "The push uses ECR's token for the AWS profile a2c uses; check that profile's "
                      "ecr:GetAuthorizationToken and ecr:*Layer* permissions and the registry host.") from cause


def registry_digest(engine: DockerEngine, reference: str, username: str, password: str) -> str:
    """The manifest digest a registry serves for ``reference`` (``repo:tag``), asked through the
    engine's distribution endpoint (the engine holds the registry's TLS and mirror settings)."""
    from docker.errors import DockerException

    try:
        answer = engine.client.api.inspect_distribution(reference,
                                                        auth_config={"username": username, "password": password})
    except DockerException as exc:
        raise BuildFailed(f"could not read back the manifest of {reference} from its registry: {_short(exc)}",
                          "Check that the registry serves what it accepted (a proxy or mirror may not), "
                          "then push again.") from exc
    return str((answer.get("Descriptor") or {}).get("digest", ""))


def image_id(engine: DockerEngine, name: str) -> str:
    """The local image's id (``sha256:…``), "" when the engine does not have it."""
    from docker.errors import DockerException

    try:
        return str(engine.client.images.get(name).id)
    except DockerException:
        return ""


def repo_digests(engine: DockerEngine, name: str) -> list[str]:
    """The ``repo@sha256:…`` names the engine records for a local image it pushed or pulled."""
    from docker.errors import DockerException

    try:
        return [str(d) for d in engine.client.images.get(name).attrs.get("RepoDigests") or []]
    except DockerException:
        return []
