"""Two in-house services, built and started the way the teams that own them do it.

``ledger-boot``: a Spring Boot 3.2 REST API shipped as an executable jar, installed like
``/opt/ledger/{ledger.jar,config/application.properties,logs/}`` and started from that folder
with ``java -jar /opt/ledger/ledger.jar``. Ops keep the production settings in
``config/application.properties`` (Boot reads ``./config/`` of the working directory): the port,
the context path ``/ledger`` (the API has no index page: ``/ledger/`` is a 404), Actuator on its
own management port, and ``logging.file.name=logs/ledger.log``. The jar has Boot's layout
(launcher, ``BOOT-INF/classes``, ``BOOT-INF/lib`` with ``spring-boot-actuator-3.2.5.jar`` and
the team's ``ledger-model``), built here with javac and zipfile from ``inhouse_src/ledger-boot``;
the HTTP server is the JDK's com.sun.net.httpserver.

``orders-dotnet``: an ASP.NET-Core-shaped web API (C# compiled by Debian's mcs against the
dotnetcore2 wheel's .NET Core 3.1 runtime), laid out as ``dotnet publish`` leaves it and started
from its publish folder as ``ASPNETCORE_ENVIRONMENT=Production dotnet Orders.dll > orders.log``.
Its port comes from ``Kestrel:Endpoints:Http:Url`` in ``appsettings.Production.json`` (over
``appsettings.json``); HTTP is served with TcpListener (HttpListener needs libssl 1.1).

Builds are cached by content hash in ``workdir.parent/.build``; a fresh one takes a few seconds.
Stdlib only, like the rest of the corpus.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from tests.corpus.base import CorpusApp, NotAvailable, Running, free_port, launch, wait_listening

SRC = Path(__file__).resolve().parent / "inhouse_src"
BOOT_SRC = SRC / "ledger-boot"
ORDERS_SRC = SRC / "orders-dotnet"
START_TIMEOUT = 60.0
# Reproducible zip entries, as Spring Boot's build plugins write them.
_ZIP_TIME = (1980, 2, 1, 0, 0, 0)


# --- shared ------------------------------------------------------------------------------

def _digest(*roots: Path, extra: str = "") -> str:
    """A hash of every file under ``roots`` (names and bytes), of this recipe and of ``extra``."""
    h = hashlib.sha256(extra.encode())
    h.update(Path(__file__).read_bytes())
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _cached(workdir: Path, name: str, digest: str, build: Callable[[Path], None]) -> Path:
    """The folder ``build`` fills, kept in ``workdir.parent/.build`` under its content hash."""
    cache = workdir.resolve().parent / ".build"
    final = cache / f"{name}-{digest}"
    if final.is_dir():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        build(scratch)
        try:
            scratch.rename(final)
        except OSError:  # another worker finished the same build first
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def _run(argv: list[str], what: str, **kwargs) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-4000:]}")


def _template(source: Path, target: Path, values: dict[str, object]) -> None:
    text = source.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    unfilled = re.findall(r"@[A-Z_]+@", text)
    if unfilled:
        raise RuntimeError(f"{source}: no value for {', '.join(unfilled)}")
    target.write_text(text)


# --- ledger-boot: a Spring Boot 3.2 executable jar --------------------------------------

# The modules under inhouse_src/ledger-boot and the nested jars they become (group, artifact, version).
_BOOT_LIBS = {
    "actuator": ("org.springframework.boot", "spring-boot-actuator", "3.2.5"),
    "model": ("com.acme.ledger", "ledger-model", "1.4.2"),
}


def _zip_add(archive: zipfile.ZipFile, name: str, data: bytes, seen: set[str], *, stored: bool = False) -> None:
    """One member, after the entries of its parent folders (as ``jar`` writes them)."""
    parts = name.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        folder = "/".join(parts[:i]) + "/"
        if folder not in seen:
            seen.add(folder)
            archive.writestr(zipfile.ZipInfo(folder, _ZIP_TIME), b"")
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
    seen.add(name)


def _module_files(module: Path, classes: Path) -> list[tuple[str, Path]]:
    """(name in the jar, file) for a module's compiled classes and its resources."""
    packages = {p.parent.relative_to(module / "src") for p in (module / "src").rglob("*.java")}
    files = [(str(p.relative_to(classes)), p) for package in sorted(packages)
             for p in sorted((classes / package).glob("*.class"))]
    resources = module / "resources"
    if resources.is_dir():
        files += [(str(p.relative_to(resources)), p) for p in sorted(resources.rglob("*")) if p.is_file()]
    return files


def _build_ledger(out: Path) -> None:
    classes = out / "classes"
    sources = sorted(str(p) for p in BOOT_SRC.rglob("*.java"))
    # Spring Boot 3 needs Java 17, so that is what the team compiles for.
    _run(["javac", "--release", "17", "-encoding", "UTF-8", "-nowarn", "-d", str(classes), *sources], "javac")
    libs: list[tuple[str, bytes]] = []
    for module, (group, artifact, version) in _BOOT_LIBS.items():
        name = f"{artifact}-{version}.jar"
        manifest = (f"Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 17\r\n"
                    f"Implementation-Title: {artifact}\r\nImplementation-Version: {version}\r\n"
                    f"Automatic-Module-Name: {artifact.replace('-', '.')}\r\n\r\n")
        path = out / name
        with zipfile.ZipFile(path, "w") as jar:
            seen: set[str] = set()
            _zip_add(jar, "META-INF/MANIFEST.MF", manifest.encode(), seen)
            for member, file in _module_files(BOOT_SRC / module, classes):
                _zip_add(jar, member, file.read_bytes(), seen)
        libs.append((f"BOOT-INF/lib/{name}", path.read_bytes()))
        path.unlink()
    lib_names = [name for name, _ in libs]
    classpath_idx = "".join(f'- "{name}"\n' for name in lib_names)
    layers_idx = ('- "dependencies":\n' + "".join(f'  - "{n}"\n' for n in lib_names)
                  + '- "spring-boot-loader":\n  - "org/"\n- "snapshot-dependencies":\n- "application":\n'
                  + '  - "BOOT-INF/classes/"\n  - "BOOT-INF/classpath.idx"\n  - "BOOT-INF/layers.idx"\n'
                  + '  - "META-INF/"\n')
    manifest = (BOOT_SRC / "MANIFEST.MF").read_text().strip().replace("\n", "\r\n") + "\r\n\r\n"
    with zipfile.ZipFile(out / "ledger.jar", "w") as jar:
        seen = set()
        _zip_add(jar, "META-INF/MANIFEST.MF", manifest.encode(), seen)
        root = BOOT_SRC / "jar-root"
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            _zip_add(jar, str(path.relative_to(root)), path.read_bytes(), seen)
        for member, file in _module_files(BOOT_SRC / "launcher", classes):
            _zip_add(jar, member, file.read_bytes(), seen)
        for member, file in _module_files(BOOT_SRC / "app", classes):
            _zip_add(jar, f"BOOT-INF/classes/{member}", file.read_bytes(), seen)
        for name, data in libs:  # nested jars are stored, never compressed, in a Boot jar
            _zip_add(jar, name, data, seen, stored=True)
        _zip_add(jar, "BOOT-INF/classpath.idx", classpath_idx.encode(), seen)
        _zip_add(jar, "BOOT-INF/layers.idx", layers_idx.encode(), seen)
    shutil.rmtree(classes)


def start_ledger_boot(workdir: Path) -> Running:
    """ledger-boot installed in ``workdir/ledger`` and started there as ``java -jar .../ledger.jar``."""
    missing = [tool for tool in ("java", "javac") if not shutil.which(tool)]
    if missing:
        raise NotAvailable(f"{', '.join(missing)} not found: a JDK 17 is needed "
                           "(apt-get install openjdk-17-jdk-headless)")
    workdir = Path(workdir)
    build = _cached(workdir, "ledger-boot", _digest(BOOT_SRC), _build_ledger)
    app = workdir / "ledger"
    (app / "config").mkdir(parents=True, exist_ok=True)
    (app / "logs").mkdir(exist_ok=True)
    shutil.copyfile(build / "ledger.jar", app / "ledger.jar")
    port, management = free_port(), free_port()
    while management == port:
        management = free_port()
    _template(BOOT_SRC / "config" / "application.properties", app / "config" / "application.properties",
              {"SERVER_PORT": port, "MANAGEMENT_PORT": management})
    return launch("ledger-boot", ["java", "-jar", str(app / "ledger.jar")], workdir,
                  {"http": port, "management": management}, cwd=app, timeout=START_TIMEOUT)


# --- orders-dotnet: a .NET Core 3.1 publish folder --------------------------------------

# The runtime's own assemblies that Program.cs compiles against.
_ASSEMBLIES = ("System.Private.CoreLib", "System.Runtime", "System.Runtime.Extensions", "System.Console",
               "System.Collections", "System.IO.FileSystem", "System.Net.Primitives", "System.Net.Sockets",
               "System.Text.Json", "System.Memory", "System.Threading", "System.Threading.Thread",
               "System.Threading.ThreadPool", "System.Text.Encoding.Extensions")
_SETUP_DOTNET = "run scripts/setup-dotnet.sh"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in path.name.split("."))


def _dotnet_runtime() -> tuple[Path, Path]:
    """(the folder holding the ``dotnet`` host, its Microsoft.NETCore.App 3.1 framework folder),
    looked up as fixtures/samples/dotnet-hello/build.sh does: $DOTNET_ROOT, the dotnetcore2 wheel,
    then the usual install folder."""
    roots: list[Path] = []
    if os.environ.get("DOTNET_ROOT"):
        roots.append(Path(os.environ["DOTNET_ROOT"]))
    spec = importlib.util.find_spec("dotnetcore2")
    if spec is not None and spec.origin:
        roots.append(Path(spec.origin).parent / "bin")
    roots.append(Path("/usr/share/dotnet"))
    for root in roots:
        frameworks = sorted((root / "shared" / "Microsoft.NETCore.App").glob("3.1.*"), key=_version_key)
        if (root / "dotnet").is_file() and frameworks:
            return root, frameworks[-1]
    raise NotAvailable(f"no .NET Core 3.1 runtime (PyPI's dotnetcore2): {_SETUP_DOTNET}")


def _build_orders(framework: Path) -> Callable[[Path], None]:
    def build(out: Path) -> None:
        refs = [f"-r:{framework / name}.dll" for name in _ASSEMBLIES]
        _run(["mcs", "-nostdlib", "-noconfig", "-nologo", "-optimize+", "-nowarn:1701,1702", *refs,
              "-target:exe", f"-out:{out / 'Orders.dll'}", str(ORDERS_SRC / "src" / "Program.cs")], "mcs")
    return build


def start_orders_dotnet(workdir: Path) -> Running:
    """orders-dotnet published to ``workdir/orders`` and started there as
    ``ASPNETCORE_ENVIRONMENT=Production dotnet Orders.dll > orders.log``."""
    if not shutil.which("mcs"):
        raise NotAvailable(f"Debian's mcs (mono-mcs) not found: {_SETUP_DOTNET}")
    root, framework = _dotnet_runtime()
    workdir = Path(workdir)
    build = _cached(workdir, "orders-dotnet", _digest(ORDERS_SRC / "src", extra=framework.name),
                    _build_orders(framework))
    app = workdir / "orders"
    app.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(build / "Orders.dll", app / "Orders.dll")
    publish = ORDERS_SRC / "publish"
    for name in ("Orders.runtimeconfig.json", "Orders.deps.json", "appsettings.json", "web.config"):
        shutil.copyfile(publish / name, app / name)
    port = free_port()
    _template(publish / "appsettings.Production.json", app / "appsettings.Production.json", {"PORT": port})

    # As the team's start script does it: `dotnet` from PATH, output redirected into the folder.
    env = {"PATH": f"{root}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "ASPNETCORE_ENVIRONMENT": "Production", "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"}
    log = app / "orders.log"
    with log.open("ab") as out:
        process = subprocess.Popen(["dotnet", "Orders.dll"], cwd=str(app), env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    running = Running("orders-dotnet", process.pid, {"http": port}, workdir, process, log)
    try:
        wait_listening(running, START_TIMEOUT)
    except BaseException:
        running.stop()
        raise
    return running


INHOUSE: list[CorpusApp] = [
    CorpusApp("ledger-boot",
              "In-house Spring Boot 3.2 REST API: executable jar with Actuator, started as java -jar from "
              "its install folder; external config/application.properties (context path /ledger, a "
              "separate management port, logging.file.name=logs/ledger.log)",
              start_ledger_boot, http=("http", "management"), tags=("java", "spring-boot", "inhouse")),
    CorpusApp("orders-dotnet",
              "In-house .NET Core 3.1 web API: a publish folder started as `dotnet Orders.dll > orders.log` "
              "with ASPNETCORE_ENVIRONMENT=Production; the Kestrel endpoint and a connection string in "
              "appsettings.Production.json",
              start_orders_dotnet, http=("http",), tags=("dotnet", "dotnet-core", "inhouse")),
]
