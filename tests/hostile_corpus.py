"""Run the hostile workflow corpus (fixtures/hostile/workflow/) through the whole CLI and judge it.

Shared by tests/e2e/test_hostile_corpus.py and benchmarks/hostile_leaks.py. Per case: inventory,
analyze, the case's edits, containerize --artifacts-only, extract, generate app-deployment,
containerize --input-archive on a second ("worker") workspace, and with a Docker engine a
real build that is saved and started. Then it looks for:

- crashes: exit status 1 or a traceback in any command's output (a refusal, exit 6 etc., is fine);
- leaks: any planted canary in any file of the workspaces (tar members read), the commands'
  output, image layers and image config (``docker save``, every nested tar and gzip read);
- injections: the injected command's file (``/tmp/a2c-pwned-<case>``) on this host, in an image
  layer or in a container started from the image (``docker diff`` after its entry script and
  health check ran), or in a throw-away busybox sandbox that runs the generated scripts; a RUN
  instruction in a Dockerfile (the template writes none); CloudFormation that is not YAML or has a
  key the case injected.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "hostile" / "workflow"
BASE_IMAGE = os.environ.get("A2C_TEST_BASE_IMAGE", "a2c-test/busybox:latest")
MAX_SCAN_BYTES = 512 * 1024 * 1024
MARKER_PREFIX = "a2c-pwned-"
COMMAND_TIMEOUT = 300


def load_cases_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_workflow_cases", CORPUS / "make_workflow_cases.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules.setdefault("make_workflow_cases", module)
    spec.loader.exec_module(module)
    return module


@dataclass
class Problem:
    kind: str  # crash | leak | injection | check
    what: str
    where: str = ""

    def __str__(self) -> str:
        return f"[{self.kind}] {self.what}" + (f" in {self.where}" if self.where else "")


@dataclass
class CaseResult:
    name: str
    kind: str
    canaries: list[str]
    problems: list[Problem] = field(default_factory=list)
    steps: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def leaked(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for problem in self.problems:
            if problem.kind == "leak":
                found.setdefault(problem.what, []).append(problem.where)
        return found

    def report(self) -> str:
        lines = [f"{self.name} ({self.kind}): " + ("ok" if not self.problems else f"{len(self.problems)} problem(s)")]
        lines += [f"  {p}" for p in _dedupe(self.problems)]
        lines += [f"  steps: " + ", ".join(f"{s}={c}" for s, c in self.steps)]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.kind, p.what, p.where)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# -- docker ------------------------------------------------------------------------------------------
class Docker:
    """The docker CLI, as a user has it; None of this runs without an engine."""

    def __init__(self, base_image: str = BASE_IMAGE) -> None:
        self.base_image = base_image

    @staticmethod
    def available(base_image: str = BASE_IMAGE) -> str:
        """"" when the engine and the base image are there, else why not."""
        if not shutil.which("docker"):
            return "no docker command"
        probe = subprocess.run(["docker", "image", "inspect", base_image], capture_output=True, text=True)
        return "" if probe.returncode == 0 else f"docker image inspect {base_image}: {probe.stderr.strip()[:200]}"

    def run(self, *args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], capture_output=True, input=input, timeout=timeout)

    def save(self, image: str, dest: Path) -> Path:
        with open(dest, "wb") as out:
            subprocess.run(["docker", "save", image], stdout=out, check=True, timeout=300)
        return dest

    def remove_image(self, image: str) -> None:
        self.run("image", "rm", "-f", image)


# -- scanning ----------------------------------------------------------------------------------------
class Scanner:
    """Looks for canaries in bytes, nested tar and gzip included, and for markers in member names."""

    def __init__(self, canaries: list[str], markers: list[str]) -> None:
        self.canaries = [(c, c.encode()) for c in canaries]
        self.markers = markers
        self.problems: list[Problem] = []

    def text(self, text: str, where: str) -> None:
        for canary, _ in self.canaries:
            if canary in text:
                self.problems.append(Problem("leak", canary, where))

    def name(self, name: str, where: str) -> None:
        self.text(name, where + " (a name)")
        self.created(name, where)

    def created(self, path: str, where: str) -> None:
        """A file named exactly like a marker is what an injected ``touch`` leaves (the marker inside
        a longer name is only the hostile input itself, copied as it should be)."""
        base = path.rstrip("/").rsplit("/", 1)[-1].strip()
        for marker in self.markers:
            if base == marker:
                self.problems.append(Problem("injection", f"{marker} was created ({path.strip()})", where))

    def blob(self, data: bytes, where: str, depth: int = 0) -> None:
        if depth < 6 and data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)[:MAX_SCAN_BYTES]
                where += " (gunzipped)"
            except (OSError, EOFError, zlib.error):
                pass
        if depth < 6 and len(data) > 512 and data[257:262] == b"ustar":
            try:
                self.tar(tarfile.open(fileobj=io.BytesIO(data)), where, depth + 1)
                return
            except tarfile.TarError:
                pass
        for canary, raw in self.canaries:
            if raw in data:
                self.problems.append(Problem("leak", canary, where))

    def tar(self, tar: tarfile.TarFile, where: str, depth: int = 0) -> None:
        with tar:
            for member in tar:
                inner = f"{where}!{member.name}"
                self.name(member.name, inner)
                if member.linkname:
                    self.text(member.linkname, inner + " (link target)")
                for key, value in (member.pax_headers or {}).items():
                    self.text(f"{key}={value}", inner + " (pax header)")
                if member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        self.blob(handle.read(MAX_SCAN_BYTES), inner, depth)

    def tree(self, root: Path, label: str) -> None:
        """Every file under root, links not followed (a link to / must not make us scan the machine)."""
        if not root.exists():
            return
        for folder, dirs, files in os.walk(root, followlinks=False):
            for entry in dirs + files:
                path = Path(folder) / entry
                where = f"{label}/{path.relative_to(root)}"
                self.name(entry, where)
                if path.is_symlink():
                    self.text(os.readlink(path), where + " (link target)")
                elif entry in files and path.is_file():
                    try:
                        with open(path, "rb") as handle:
                            self.blob(handle.read(MAX_SCAN_BYTES), where)
                    except OSError as exc:
                        self.problems.append(Problem("check", f"cannot read {where}: {exc}"))


# -- editing -----------------------------------------------------------------------------------------
def set_path(document: Any, dotted: str, value: Any) -> None:
    """Set (or, with None, delete) a dotted path; list indexes are numbers."""
    *parents, last = dotted.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value


def _edit_json(path: Path, edits: dict[str, Any], base_image: str, token: str) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    for dotted, value in edits.items():
        if isinstance(value, str):
            value = value.replace(token, base_image)
        set_path(document, dotted, value)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


# -- archive mutations -------------------------------------------------------------------------------
def mutate_archive(source: Path, dest: Path, mutation: str, outside: Path, canary: str) -> None:
    """Rewrite an extraction archive the way a hostile sender would."""
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "worker-secret.txt"
    secret.write_text(f"worker-only {canary}\n")
    with tarfile.open(source) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar]  # type: ignore[union-attr]
    out: list[tuple[tarfile.TarInfo, bytes | None]] = []
    analysis_paths = [str(secret), str(outside)]
    for member, data in members:
        name = member.name
        if mutation.startswith("app-id:") and name == "a2c-extraction.json":
            meta = json.loads(data or b"{}")
            meta["applicationId"] = mutation.removeprefix("app-id:")
            data = json.dumps(meta).encode()
        elif mutation in ("files-symlink-root", "files-symlink-up") and (name == "files" or name.startswith("files/")):
            continue
        elif mutation == "analysis-json-symlink" and name == "analysis.json":
            out.append((_link("analysis.json", str(secret)), None))
            continue
        elif mutation == "host-json-symlink" and name == "host.json":
            out.append((_link("host.json", str(secret)), None))
            continue
        elif name == "analysis.json" and mutation in ("files-symlink-root", "files-symlink-up", "member-symlink-outside"):
            document = json.loads(data or b"{}")
            mode = document.setdefault("analysisInfo", {}).setdefault("processMode", {})
            mode["paths"] = list(mode.get("paths", [])) + (analysis_paths if mutation == "files-symlink-root"
                                                           else ["/srv/app/worker-secret.txt"])
            data = json.dumps(document).encode()
        out.append((member, data))
    if mutation == "files-symlink-root":
        out.append((_link("files", "/"), None))
    elif mutation == "files-symlink-up":
        # files -> ../../../..<outside>: from <ws>/<app>/extracted/ up to / and down to the worker's folder.
        out.append((_link("files", "../../../../../../../../../.." + str(outside)), None))
    elif mutation == "member-symlink-outside":
        out.append((_link("files/srv/app/worker-secret.txt", str(secret)), None))
    with tarfile.open(dest, "w") as tar:
        for member, data in out:
            if data is not None:
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data is not None else None)


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mtime = 1700000000
    return info


# -- one case ----------------------------------------------------------------------------------------
class CaseRun:
    def __init__(self, case: Any, module: Any, tmp: Path, docker: Docker | None) -> None:
        self.case, self.module, self.docker = case, module, docker
        self.tmp = tmp / case.name
        self.snapshot = self.tmp / "snapshot"
        self.ws = self.tmp / "ws"
        self.worker = self.tmp / "worker"
        self.outside = self.tmp / "outside"
        self.result = CaseResult(case.name, case.kind, list(case.canaries))
        self.outputs: list[tuple[str, str]] = []
        self.images: list[str] = []
        self.env = {**os.environ, "A2C_CONFIG": str(self.tmp / "config.json"), "A2C_WORKSPACE": str(self.ws),
                    "NO_COLOR": "1"}

    # each command of the workflow
    def a2c(self, label: str, *args: str, workspace: Path | None = None) -> tuple[int, Any]:
        argv = [sys.executable, "-m", "a2c", "--json", "--workspace", str(workspace or self.ws), *args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=COMMAND_TIMEOUT,
                                  errors="surrogateescape")
        except subprocess.TimeoutExpired:
            self.result.problems.append(Problem("crash", f"`a2c {label}` did not finish in {COMMAND_TIMEOUT} s"))
            return -1, None
        self.result.steps.append((label, proc.returncode))
        self.outputs.append((f"output of `a2c {label}`", proc.stdout + proc.stderr))
        if proc.returncode == 1:
            self.result.problems.append(Problem("crash", f"`a2c {label}` exited 1: {_last_line(proc)}"))
        if "Traceback (most recent call last)" in proc.stdout + proc.stderr:
            self.result.problems.append(Problem("crash", f"`a2c {label}` printed a traceback"))
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else None
        except ValueError:
            data = None
        return proc.returncode, data

    def run(self) -> CaseResult:
        started = time.monotonic()
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.module.materialize(self.case, self.snapshot)
        self.images.append(f"a2c-corpus/{self.case.name}:latest")  # removed afterwards if it gets built
        for marker in self.case.markers:
            _remove(Path("/tmp") / marker)
        try:
            self._workflow()
        except Exception as exc:  # noqa: BLE001 - a fault of this runner is the case's problem, not the corpus's
            self.result.problems.append(Problem("check", f"the corpus runner failed: {type(exc).__name__}: {exc}"))
        finally:
            self._judge()
            for image in self.images:
                if self.docker:
                    self.docker.remove_image(image)
            self.result.seconds = time.monotonic() - started
        return self.result

    def _workflow(self) -> None:
        status, inventory = self.a2c("inventory", "inventory", "--snapshot", str(self.snapshot))
        if status != 0 or not isinstance(inventory, dict):
            self.result.notes.append(f"inventory refused the host (exit {status})")
            return
        if not inventory and self.case.kind != "crash":
            self.result.problems.append(Problem("check", "inventory found no application; the case proves nothing"))
        for app_id in inventory:
            self._application(app_id)

    def _application(self, app_id: str) -> None:
        snap = ("--snapshot", str(self.snapshot))
        status, analyzed = self.a2c("analyze", "analyze", "--application-id", app_id, *snap)
        for finding in analyzed.get("findings", []) if isinstance(analyzed, dict) else []:
            if finding.get("code") == "A2C-E001":  # an analyzer raised; a2c fell back to process mode
                self.result.problems.append(Problem("crash", f"an analyzer crashed: {finding['message'][:200]}"))
        if status != 0:
            self.result.notes.append(f"analyze refused {app_id} (exit {status})")
            return
        self._edit_analysis(app_id)
        if self.case.workspace == "read-only":
            self._read_only(app_id)
            return
        if self.case.kind != "archive":  # an archive case only needs a good archive to spoil
            if self.docker and self.case.image:  # a real build writes the same artifacts first
                status, built = self.a2c("containerize (build)", "containerize", "--application-id", app_id,
                                         "--no-validate", *snap)
                if status == 0 and isinstance(built, dict) and built.get("image"):
                    self.images.append(built["image"])
            else:
                self.a2c("containerize --artifacts-only", "containerize", "--application-id", app_id,
                         "--artifacts-only", *snap)
        status, extracted = self.a2c("extract", "extract", "--application-id", app_id, *snap)
        if self.case.kind != "archive":
            self._deployment(app_id)
        archive = Path(extracted["archive"]) if status == 0 and isinstance(extracted, dict) and extracted.get("archive") else None
        if self.case.archive and archive and archive.is_file():
            self._worker(app_id, archive)

    def _deployment(self, app_id: str) -> None:
        self.a2c("generate app-deployment", "generate", "app-deployment", "--application-id", app_id)
        deployment = self.ws / app_id / "deployment.json"
        if self.case.deployment_edits and deployment.is_file():
            _edit_json(deployment, self.case.deployment_edits, BASE_IMAGE, self.module.BASE_IMAGE_TOKEN)
            self.a2c("generate app-deployment (edited)", "generate", "app-deployment", "--application-id", app_id)

    def _edit_analysis(self, app_id: str) -> None:
        path = self.ws / app_id / "analysis.json"
        if not path.is_file():
            return
        # Each case builds its own image name: cases run side by side and share application ids.
        edits = {"containerParameters.containerBaseImage": BASE_IMAGE,
                 "containerParameters.imageRepository": f"a2c-corpus/{self.case.name}", **self.case.analysis_edits}
        _edit_json(path, edits, BASE_IMAGE, self.module.BASE_IMAGE_TOKEN)
        if self.case.special == "deep-json-edit":
            text = path.read_text()
            depth = self.module.DEEP_EDIT_DEPTH
            deep = '{"a": ' * depth + '"x"' + "}" * depth
            path.write_text(text.replace('"containerParameters": {', '"containerParameters": {"zzDeep": ' + deep + ",", 1))

    def _read_only(self, app_id: str) -> None:
        locked = subprocess.run(["chattr", "-R", "+i", str(self.ws)], capture_output=True).returncode == 0
        if not locked:
            if os.geteuid() == 0:
                self.result.notes.append("cannot make the workspace read-only (no chattr) as root; case not run")
                return
            subprocess.run(["chmod", "-R", "a-w", str(self.ws)], check=False)
        try:
            snap = ("--snapshot", str(self.snapshot))
            for label, args in (("containerize --artifacts-only", ("containerize", "--application-id", app_id,
                                                                   "--artifacts-only", *snap)),
                                ("extract", ("extract", "--application-id", app_id, *snap)),
                                ("inventory", ("inventory", *snap))):
                status, _ = self.a2c(f"{label} (read-only workspace)", *args)
                if status not in (0, 3):
                    self.result.problems.append(Problem("check", f"`a2c {label}` on a read-only workspace exited "
                                                                 f"{status}, not 3"))
        finally:
            subprocess.run(["chattr", "-R", "-i", str(self.ws)], capture_output=True)
            subprocess.run(["chmod", "-R", "u+w", str(self.ws)], capture_output=True)

    def _worker(self, app_id: str, archive: Path) -> None:
        hostile = self.tmp / "hostile-extraction.tar"
        mutate_archive(archive, hostile, self.case.archive, self.outside, self.case.canaries[0])
        archive = hostile
        build = bool(self.docker and self.case.image)
        mode = ("--no-validate",) if build else ("--artifacts-only",)
        status, built = self.a2c("containerize --input-archive", "containerize", "--input-archive", str(archive),
                                 *mode, workspace=self.worker)
        if build and status == 0 and isinstance(built, dict) and built.get("image"):
            self.images.append(built["image"])

    # judging
    def _judge(self) -> None:
        case = self.case
        scanner = Scanner(case.canaries, case.markers)
        scanner.tree(self.ws, "workspace")
        scanner.tree(self.worker, "worker workspace")
        for label, text in self.outputs:
            scanner.text(text, label)
        self._static_checks(scanner)
        if self.docker:
            built = list(dict.fromkeys(self.images[1:]))
            for image in built:
                self._image(image, scanner)
            if not built:  # the image's own start and health check ran the same scripts
                self._sandbox(scanner)
        for marker in case.markers:
            if (Path("/tmp") / marker).exists():
                scanner.problems.append(Problem("injection", f"/tmp/{marker} exists on the host"))
                _remove(Path("/tmp") / marker)
        self.result.problems += _dedupe(scanner.problems)

    def _static_checks(self, scanner: Scanner) -> None:
        for dockerfile in sorted(self.ws.glob("*/Artifacts/Dockerfile")) + sorted(self.worker.glob("*/Artifacts/Dockerfile")):
            for line in _logical_lines(dockerfile.read_text(errors="replace")):
                if line.split(None, 1)[:1] and line.split(None, 1)[0].upper() == "RUN":
                    scanner.problems.append(Problem("injection", f"a RUN instruction: {line[:120]!r}",
                                                    str(dockerfile.relative_to(self.tmp))))
        for script in sorted(self.ws.glob("*/Artifacts/a2c/*.sh")):
            check = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
            if check.returncode != 0:
                scanner.problems.append(Problem("injection", f"not valid sh: {check.stderr.strip()[:160]}",
                                                str(script.relative_to(self.tmp))))
        for template in sorted(self.ws.glob("*/EcsDeployment/*.yml")):
            self._yaml(template, scanner)
        if "distinct-secret-variables" in self.case.checks:
            for analysis in self.ws.glob("*/analysis.json"):
                secrets = json.loads(analysis.read_text()).get("analysisInfo", {}).get("secrets", [])
                named = [s for s in secrets if s.get("name") == "db.password"]
                if len({s.get("envVar") for s in named}) < 2:
                    scanner.problems.append(Problem("check", f"{len(named)} secrets named db.password (different values) "
                                                             f"share the variables {sorted({s.get('envVar') for s in named})}"))
        if "workspace-intact" in self.case.checks:
            self._workspace_intact(scanner)
        if self.case.kind == "archive":
            self._links_inside(scanner)

    def _yaml(self, path: Path, scanner: Scanner) -> None:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        try:
            document = yaml.load(path.read_text(), Loader=Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            scanner.problems.append(Problem("injection", f"not valid YAML: {str(exc).splitlines()[0]}",
                                            str(path.relative_to(self.tmp))))
            return
        for key in _keys(document):
            if "a2cpwned" in str(key).lower():
                scanner.problems.append(Problem("injection", f"an injected key {key!r}", str(path.relative_to(self.tmp))))

    def _workspace_intact(self, scanner: Scanner) -> None:
        allowed = {"snapshot", "ws", "worker", "outside", "config.json", "hostile-extraction.tar"}
        for entry in self.tmp.iterdir():
            if entry.name not in allowed:
                scanner.problems.append(Problem("check", f"{entry.name!r} was written beside the workspace"))
        inventory = self.worker / "inventory.json"
        if inventory.exists() and not inventory.is_file():
            scanner.problems.append(Problem("check", "the worker's inventory.json is no longer a file"))
        log = self.worker / "log"
        if log.exists() and (not log.is_dir() or any(not p.name.startswith("a2c.log") for p in log.iterdir())):
            scanner.problems.append(Problem("check", "the worker's log folder holds more than its log"))
        for path in self.worker.rglob("*") if self.worker.exists() else ():
            if "\n" in path.name or len(path.name.encode()) > 255:
                scanner.problems.append(Problem("check", f"a workspace entry named {path.name[:60]!r}"))

    def _links_inside(self, scanner: Scanner) -> None:
        root = os.path.realpath(self.worker)
        for folder, dirs, files in os.walk(self.worker, followlinks=False):
            for entry in dirs + files:
                path = os.path.join(folder, entry)
                if os.path.islink(path):
                    real = os.path.realpath(path)
                    if real != root and not real.startswith(root + os.sep):
                        scanner.problems.append(Problem("check", f"a link resolving outside the workspace -> {real}",
                                                        os.path.relpath(path, self.tmp)))

    def _image(self, image: str, scanner: Scanner) -> None:
        assert self.docker is not None
        saved = self.tmp / "image.tar"
        try:
            self.docker.save(image, saved)
            scanner.tar(tarfile.open(saved), f"image {image}")
        except (subprocess.SubprocessError, tarfile.TarError, OSError) as exc:
            scanner.problems.append(Problem("check", f"cannot save {image}: {exc}"))
            return
        finally:
            _remove(saved)
        # Start it as the platform would, then run its health check; then what changed in it.
        name = f"a2c-corpus-{self.case.name}-{os.getpid()}-{len(self.images)}"[:120]
        main = self.docker.run("run", "-d", "--name", name, image)
        probe = self.docker.run("run", "-d", "--name", name + "-hc", "--entrypoint", "/a2c/healthcheck.sh", image)
        try:
            time.sleep(1)
            self.docker.run("exec", name, "/a2c/healthcheck.sh", timeout=30)
            self.docker.run("wait", name + "-hc", timeout=30)
            for container in (name, name + "-hc"):
                diff = self.docker.run("diff", container).stdout.decode(errors="replace")
                for line in diff.splitlines():
                    scanner.created(line, f"docker diff of a container of {image}")
        except subprocess.TimeoutExpired:
            scanner.problems.append(Problem("check", f"a container of {image} did not answer in time"))
        finally:
            self.docker.run("rm", "-f", name, name + "-hc")
        del main, probe

    def _sandbox(self, scanner: Scanner) -> None:
        """The generated scripts, run under busybox sh in a throw-away container: what did they create?"""
        assert self.docker is not None
        for folder in sorted(self.ws.glob("*/Artifacts/a2c")):
            stream = io.BytesIO()
            with tarfile.open(fileobj=stream, mode="w") as tar:
                for script in ("entrypoint.sh", "healthcheck.sh"):
                    if (folder / script).is_file():
                        tar.add(folder / script, arcname=script)
            script = ("mkdir -p /a2c && tar -x -C /a2c && cd / && "
                      "(timeout 10 sh /a2c/entrypoint.sh >/dev/null 2>&1; timeout 10 sh /a2c/healthcheck.sh "
                      ">/dev/null 2>&1; true) && find / -xdev -name 'a2c-pwned-*' 2>/dev/null")
            ran = self.docker.run("run", "--rm", "-i", "--network", "none", "--entrypoint", "sh", self.docker.base_image,
                                  "-c", script, input=stream.getvalue(), timeout=60)
            for line in ran.stdout.decode(errors="replace").splitlines():
                scanner.created(line, f"the busybox sandbox running {folder.relative_to(self.tmp)}/*.sh")


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return [line for line in lines if line]


def _keys(node: Any) -> Iterable[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _last_line(proc: subprocess.CompletedProcess) -> str:
    text = (proc.stderr or proc.stdout).strip()
    try:
        return str(json.loads(proc.stdout).get("error", ""))[:300]
    except (ValueError, AttributeError):
        return text.splitlines()[-1][:300] if text else ""


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        shutil.rmtree(path, ignore_errors=True)


# -- the corpus --------------------------------------------------------------------------------------
def run_corpus(tmp: Path, docker: Docker | None, names: Iterable[str] | None = None,
               workers: int | None = None) -> dict[str, CaseResult]:
    """Every case (or the named ones), side by side: the work is mostly waiting on subprocesses."""
    workers = workers or int(os.environ.get("A2C_CORPUS_WORKERS", "3"))
    module = load_cases_module()
    cases = [c for c in module.all_cases() if names is None or c.name in set(names)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda case: CaseRun(case, module, tmp, docker).run(), cases))
    return {r.name: r for r in results}


def leak_figure(results: Iterable[CaseResult]) -> tuple[int, int, list[tuple[str, str, list[str]]]]:
    """(kept out, planted, [(case, canary, where found)])."""
    planted = kept = 0
    leaks = []
    for result in results:
        for canary in result.canaries:
            planted += 1
            where = result.leaked.get(canary)
            if where:
                leaks.append((result.name, canary, where))
            else:
                kept += 1
    return kept, planted, leaks
