""".NET Core on Linux: launch detection (muxer, apphost, self-contained, single-file bundles),
runtimeconfig/deps parsing, the runtime really loaded, URL precedence, connection strings,
secrets templated out of JSON settings, and the dotnet-host snapshot end to end against golden files."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from a2c.steps.analyze import build_document
from a2c.analyzers.dotnet import coreconfig, coresecrets
from a2c.analyzers.dotnet.core import DotnetCoreAnalyzer, base_image, find_launch
from a2c.analyzers.dotnet.coreconfig import JsonConfigError, layered_config, parse_json, resolve_urls
from a2c.analyzers.dotnet.corelaunch import (
    BUNDLE_SIGNATURE,
    app_kind,
    frameworks_in,
    parse_deps,
    parse_host_cmdline,
    parse_runtimeconfig,
    read_bundle,
    read_bundle_marker,
    roll_forward,
    wants_process,
)
from a2c.analyzers.registry import load_registry
from a2c.applications import classify_process
from a2c.generate.container import render_container_artifacts
from a2c.generate.sbom import render_sbom
from a2c.hosts.local import LocalHost
from a2c.hosts.snapshot import SnapshotHost
from a2c.ids import application_id
from a2c.model import ProcessInfo, Socket
from a2c.model.sbom import PURL_NUGET, Component
from a2c.workspace import validate

from tests.conftest import FIXTURES

SNAPSHOT = FIXTURES / "snapshots" / "dotnet-host"
SAMPLE = FIXTURES / "samples" / "dotnet-hello" / "publish"
# Every secret value in the snapshot: none may reach analysis.json, an artifact or a generated file.
SNAPSHOT_SECRETS = ("Sql;Sn4p", "Smtp-Sn4pshot-Pw", "Redis-Sn4pshot-Pw", "Env-Sn4pshot-Pw", "Cli-Sn4pshot-Pw",
                    "Amqp-Sn4pshot-Pw")


# -- command lines and the cheap filter ------------------------------------------------------------

@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (["dotnet", "App.dll"], ("App.dll", (), ())),
        (["/usr/bin/dotnet", "/srv/app/App.dll", "--urls", "http://+:80"], ("/srv/app/App.dll", (), ("--urls", "http://+:80"))),
        (["dotnet", "exec", "App.dll"], ("App.dll", ("exec",), ())),
        (["dotnet", "exec", "--runtimeconfig", "x.json", "--depsfile", "x.deps.json", "bin/App.dll", "a"],
         ("bin/App.dll", ("exec", "--runtimeconfig", "x.json", "--depsfile", "x.deps.json"), ("a",))),
        (["dotnet", "--roll-forward", "Major", "App.dll"], ("App.dll", ("--roll-forward", "Major"), ())),
        (["dotnet", "--additionalprobingpath", "/root/.nuget/packages", "App.DLL"],
         ("App.DLL", ("--additionalprobingpath", "/root/.nuget/packages"), ())),
        (["dotnet.exe", "Legacy.exe"], ("Legacy.exe", (), ())),
        # SDK commands and host queries are not apps
        (["dotnet", "run"], None),
        (["dotnet", "watch", "run"], None),
        (["dotnet", "build", "App.csproj"], None),
        (["dotnet", "--info"], None),
        (["dotnet", "--list-runtimes"], None),
        (["dotnet", "exec"], None),
        (["dotnet", "--depsfile"], None),
        (["dotnet"], None),
        (["java", "-jar", "App.dll"], None),
        ([], None),
    ],
)
def test_parse_host_cmdline(cmdline, expected):
    command = parse_host_cmdline(cmdline)
    if expected is None:
        assert command is None
    else:
        assert command is not None and (command.dll, command.host_options, command.args) == expected


@pytest.mark.parametrize(
    ("name", "exe", "cmdline", "expected"),
    [
        ("dotnet", "/usr/share/dotnet/dotnet", ("dotnet", "App.dll"), True),
        ("dotnet", "/usr/lib/dotnet/dotnet", ("/usr/bin/dotnet", "App.dll"), True),  # an OS folder: still the muxer
        ("Api", "/opt/api/Api", ("/opt/api/Api",), True),  # a possible apphost
        ("Worker", "/srv/worker/Worker", ("./Worker", "--flag"), True),
        ("sshd", "/usr/sbin/sshd", ("/usr/sbin/sshd", "-D"), False),
        ("nginx", "/usr/sbin/nginx", ("nginx",), False),
        ("java", "/opt/jdk/bin/java", ("java", "-jar", "x.jar"), False),
        ("python3.11", "/home/dev/.pyenv/versions/3.11.7/bin/python3.11", ("python3",), False),
        ("node", "/opt/node/bin/node", ("node", "server.js"), False),
        ("pwsh", "/opt/microsoft/powershell/7/pwsh", ("pwsh",), False),
        ("App", "/opt/app/App (deleted)", ("/opt/app/App",), False),
        ("kthreadd", "", (), False),
    ],
)
def test_wants_process(name, exe, cmdline, expected):
    assert wants_process(name, exe, cmdline) is expected
    assert DotnetCoreAnalyzer().wants(name, exe, cmdline) is expected


# -- apphosts, self-contained folders, single-file bundles ------------------------------------------

def _string(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 128
    return bytes([len(data)]) + data


def _elf_with_data(data: bytes) -> bytearray:
    """A minimal ELF64 file: a writable .data section holding ``data``, and its section table."""
    shstrtab = b"\0.data\0.shstrtab\0"
    data_offset = 64
    strtab_offset = data_offset + len(data)
    shoff = strtab_offset + len(shstrtab)
    shoff += (-shoff) % 8
    header = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    header += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 2)
    sections = b"\0" * 64
    sections += struct.pack("<IIQQQQIIQQ", 1, 1, 0x3, 0, data_offset, len(data), 0, 0, 8, 0)
    sections += struct.pack("<IIQQQQIIQQ", 7, 3, 0, 0, strtab_offset, len(shstrtab), 0, 0, 1, 0)
    image = bytearray(header + data + shstrtab)
    image += b"\0" * (shoff - len(image))
    return image + sections


def make_bundle(path: Path, *, major: int = 6, runtimeconfig: bytes = b"", deps: bytes = b"", compress: bool = False,
                elf: bool = True, extra: tuple[tuple[str, int, bytes], ...] = ()) -> Path:
    """A single-file bundle as `dotnet publish -p:PublishSingleFile=true` lays it out: the host
    (with the 40-byte marker), the embedded files, then the manifest the marker points at."""
    marker = b"\0" * 8 + BUNDLE_SIGNATURE
    host = _elf_with_data(b"\x11" * 24 + marker + b"\x22" * 16) if elf else bytearray(b"MZ" + b"\0" * 200 + marker + b"\0" * 64)
    marker_at = bytes(host).index(BUNDLE_SIGNATURE) - 8
    body = bytearray(host)
    files = []
    for name, kind, content in (("App.dll", 1, b"MZ app"),) + extra + (
            ("App.runtimeconfig.json", 4, runtimeconfig), ("App.deps.json", 3, deps)):
        if not content:
            continue
        stored, compressed = content, 0
        if compress and kind in (3, 4):
            deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
            stored = deflater.compress(content) + deflater.flush()
            compressed = len(stored)
        files.append((len(body), len(content), compressed, kind, name))
        body += stored
    header_offset = len(body)
    manifest = struct.pack("<IIi", major, 0, len(files)) + _string("bundle-id-1")
    if major >= 2:
        deps_entry = next((f for f in files if f[3] == 3), (0, 0, 0, 0, ""))
        rc_entry = next((f for f in files if f[3] == 4), (0, 0, 0, 0, ""))
        manifest += struct.pack("<qqqqQ", deps_entry[0], deps_entry[1], rc_entry[0], rc_entry[1], 0)
    for offset, size, compressed, kind, name in files:
        manifest += struct.pack("<qq", offset, size)
        if major >= 6:
            manifest += struct.pack("<q", compressed)
        manifest += bytes([kind]) + _string(name)
    body += manifest
    body[marker_at:marker_at + 8] = struct.pack("<q", header_offset)
    path.write_bytes(bytes(body))
    path.chmod(0o755)
    return path


RC_SELF_CONTAINED = json.dumps({"runtimeOptions": {"tfm": "net8.0", "includedFrameworks": [
    {"name": "Microsoft.NETCore.App", "version": "8.0.4"}, {"name": "Microsoft.AspNetCore.App", "version": "8.0.4"}]}}).encode()
RC_FRAMEWORK = json.dumps({"runtimeOptions": {"tfm": "net6.0", "framework": {"name": "Microsoft.NETCore.App",
                                                                            "version": "6.0.0"}}}).encode()
DEPS = json.dumps({"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64"}, "targets": {
    ".NETCoreApp,Version=v8.0/linux-x64": {"Serilog/3.1.1": {"runtime": {"lib/net7.0/Serilog.dll": {}}}}},
    "libraries": {"Serilog/3.1.1": {"type": "package", "path": "serilog/3.1.1"}}}).encode()


@pytest.mark.parametrize(("major", "compress", "elf"), [(1, False, True), (2, False, False), (6, False, True),
                                                        (6, True, True), (6, True, False)])
def test_single_file_bundles(tmp_path, major, compress, elf):
    exe = make_bundle(tmp_path / "App", major=major, runtimeconfig=RC_SELF_CONTAINED, deps=DEPS, compress=compress,
                      elf=elf, extra=(("libSystem.Native.so", 2, b"\x7fELF native"),))
    host = LocalHost()
    position, offset = read_bundle_marker(host, str(exe))
    assert offset > position > 0
    bundle = read_bundle(host, str(exe), offset)
    assert (bundle.major, bundle.bundle_id) == (major, "bundle-id-1")
    assert [f.path for f in bundle.files] == ["App.dll", "libSystem.Native.so", "App.runtimeconfig.json", "App.deps.json"]
    assert bundle.runtimeconfig == RC_SELF_CONTAINED and bundle.deps == DEPS
    proc = ProcessInfo(9, (str(exe),), exe=str(exe), cwd=str(tmp_path), listening=(Socket(8080, "0.0.0.0"),))
    launch = find_launch(proc, host)
    assert launch is not None and launch.mode == "single-file" and launch.identity == f"dotnet:{exe}"
    entry = classify_process(proc, host, [DotnetCoreAnalyzer()], [])
    result = DotnetCoreAnalyzer().analyze(entry, proc, host)
    info, params = result.analysis_info, result.container_parameters
    assert params["containerBaseImage"] == "mcr.microsoft.com/dotnet/runtime-deps:8.0"
    assert info["dotnet"]["kind"] == "aspnetcore" and info["dotnet"]["selfContained"] is True
    assert info["dotnet"]["bundle"]["files"] == 4 and info["dotnet"]["runtimeIdentifier"] == "linux-x64"
    assert info["dotnet"]["runtimeconfig"] == f"{exe}!/runtimeconfig.json"
    assert info["nuget"] == [{"name": "Serilog", "version": "3.1.1", "path": "", "packagePath": "serilog/3.1.1"}]
    assert DotnetCoreAnalyzer().plan(build_document(result), host).entrypoint == (str(exe),)


def test_not_a_bundle(tmp_path):
    host = LocalHost()
    script = tmp_path / "run"
    script.write_text("#!/bin/sh\nexec sleep 1\n")
    assert read_bundle_marker(host, str(script)) is None
    plain = tmp_path / "Plain"
    plain.write_bytes(bytes(_elf_with_data(b"\0" * 64)))
    assert read_bundle_marker(host, str(plain)) is None
    # an apphost without its app beside it: the marker is there, its offset is 0
    lonely = tmp_path / "Lonely"
    lonely.write_bytes(bytes(_elf_with_data(b"\1" * 8 + b"\0" * 8 + BUNDLE_SIGNATURE)))
    assert read_bundle_marker(host, str(lonely))[1] == 0
    for exe in (script, plain, lonely):
        assert find_launch(ProcessInfo(1, (str(exe),), exe=str(exe), cwd=str(tmp_path)), host) is None
    # a marker pointing at garbage: still a single-file app, with a finding instead of a target
    broken = make_bundle(tmp_path / "Broken", runtimeconfig=RC_FRAMEWORK)
    data = bytearray(broken.read_bytes())
    offset = struct.unpack_from("<q", data, data.index(BUNDLE_SIGNATURE) - 8)[0]
    data[offset:] = b"\xff" * (len(data) - offset)
    broken.write_bytes(bytes(data))
    proc = ProcessInfo(2, (str(broken),), exe=str(broken), cwd="/")
    launch = find_launch(proc, host)
    assert launch is not None and launch.bundle is None and "not a bundle manifest" in launch.bundle_error
    entry = classify_process(proc, host, [DotnetCoreAnalyzer()], [])
    codes = [f.code for f in DotnetCoreAnalyzer().analyze(entry, proc, host).findings]
    assert "DOTNET-W007" in codes and "DOTNET-W001" in codes


def test_apphost_and_self_contained_folders(tmp_path):
    host = LocalHost()
    app = tmp_path / "app"
    app.mkdir()
    (app / "Shop").write_bytes(b"\x7fELF apphost")
    (app / "Shop.runtimeconfig.json").write_bytes(RC_FRAMEWORK)
    proc = ProcessInfo(3, ("./Shop", "--port", "1"), exe=str(app / "Shop"), cwd=str(app))
    assert find_launch(proc, host) is None  # no Shop.dll: nothing an apphost could run
    (app / "Shop.dll").write_bytes(b"MZ")
    launch = find_launch(proc, host)
    assert launch is not None and (launch.mode, launch.app_name, launch.args) == ("apphost", "Shop", ("--port", "1"))
    (app / "libcoreclr.so").write_bytes(b"\x7fELF")
    assert find_launch(proc, host).mode == "self-contained"
    (app / "libcoreclr.so").unlink()
    (app / "Shop.runtimeconfig.json").write_bytes(RC_SELF_CONTAINED)
    assert find_launch(proc, host).mode == "self-contained"


def test_dotnet_host_needs_the_dll_and_skips_sdk_tools(tmp_path):
    host = LocalHost()
    (tmp_path / "App.dll").write_bytes(b"MZ")
    proc = ProcessInfo(4, ("dotnet", "App.dll"), exe="/usr/share/dotnet/dotnet", cwd=str(tmp_path))
    assert find_launch(proc, host).app_path == str(tmp_path / "App.dll")
    assert find_launch(ProcessInfo(4, ("dotnet", "Missing.dll"), exe="/usr/share/dotnet/dotnet", cwd=str(tmp_path)),
                       host) is None
    sdk = tmp_path / "sdk" / "6.0.428"
    sdk.mkdir(parents=True)
    (sdk / "MSBuild.dll").write_bytes(b"MZ")
    assert find_launch(ProcessInfo(5, ("dotnet", str(sdk / "MSBuild.dll")), exe="/usr/share/dotnet/dotnet",
                                   cwd="/"), host) is None


# -- runtimeconfig.json, deps.json, the runtime --------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"runtimeOptions": {"tfm": "netcoreapp3.1", "framework": {"name": "Microsoft.AspNetCore.App", "version": "3.1.0"}}}',
         ("netcoreapp3.1", (("Microsoft.AspNetCore.App", "3.1.0"),), (), "")),
        ('{"runtimeOptions": {"tfm": "net6.0", "rollForward": "Major", "frameworks": [\n'
         '  {"name": "Microsoft.NETCore.App", "version": "6.0.0"},\n'
         '  {"name": "Microsoft.AspNetCore.App", "version": "6.0.0"}, // a comment\n]}}',
         ("net6.0", (("Microsoft.NETCore.App", "6.0.0"), ("Microsoft.AspNetCore.App", "6.0.0")), (), "Major")),
        ('{"runtimeOptions": {"tfm": "net8.0", "includedFrameworks": [{"name": "Microsoft.NETCore.App", "version": "8.0.4"}]}}',
         ("net8.0", (), (("Microsoft.NETCore.App", "8.0.4"),), "")),
        ("{}", ("", (), (), "")),
        ("[]", ("", (), (), "")),
    ],
)
def test_parse_runtimeconfig(text, expected):
    config = parse_runtimeconfig(text)
    assert (config.tfm, config.frameworks, config.included, config.roll_forward) == expected


def test_parse_deps_and_kind():
    deps = parse_deps((SAMPLE / "HelloApp.deps.json").read_text())
    assert (deps.runtime_target, deps.rid) == (".NETCoreApp,Version=v3.1", "")
    assert [(p.name, p.version, p.assets) for p in deps.packages] == [
        ("Humanizer.Core", "2.8.26", ("lib/netstandard2.0/Humanizer.dll",)),
        ("Serilog.Sinks.File", "4.1.0", ("lib/netstandard2.0/Serilog.Sinks.File.dll",))]
    assert deps.projects == (("HelloApp", "1.0.0"),)
    config = parse_runtimeconfig((SAMPLE / "HelloApp.runtimeconfig.json").read_text())
    assert app_kind(config, deps) == "console"
    api = parse_deps((SNAPSHOT / "files/opt/api/Api.deps.json").read_text())
    assert api.rid == "linux-x64" and ("Microsoft.AspNetCore.App.Runtime.linux-x64", "8.0.11") in api.runtime_packs
    assert app_kind(parse_runtimeconfig("{}"), api) == "aspnetcore"
    worker = parse_deps((SNAPSHOT / "files/opt/worker/Worker.deps.json").read_text())
    assert app_kind(parse_runtimeconfig("{}"), worker) == "worker"
    with pytest.raises(JsonConfigError):
        parse_deps('{"targets": ')


@pytest.mark.parametrize(
    "text",
    ['{"runtimeOptions": {"framework": "x", "frameworks": [1, "a", {"name": 2}], "configProperties": [], "tfm": 3}}',
     '{"runtimeOptions": []}', '{"runtimeTarget": 1, "targets": [], "libraries": {"a": 1, "b/1": {"type": "package"}}}',
     '{"runtimeTarget": {"name": "x"}, "targets": {"x": []}, "libraries": {"p/1": {"type": "package", "path": 5}}}',
     '"just a string"', "null"],
)
def test_odd_target_files_never_crash(text):
    parse_runtimeconfig(text)
    parse_deps(text)


def test_hostile_bundles_are_refused(tmp_path):
    host = LocalHost()
    exe = make_bundle(tmp_path / "App", runtimeconfig=RC_FRAMEWORK)
    data = bytearray(exe.read_bytes())
    offset = read_bundle_marker(host, str(exe))[1]
    data[offset + 8:offset + 12] = struct.pack("<i", 10_000_000)  # a file count no bundle has
    exe.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a bundle manifest"):
        read_bundle(host, str(exe), offset)
    exe.write_bytes(bytes(data[:offset + 14]))  # cut inside the manifest
    with pytest.raises(ValueError):
        read_bundle(host, str(exe), offset)
    with pytest.raises(ValueError, match="outside the file"):
        read_bundle(host, str(exe), 1 << 40)
    # ELF headers that lie about their section table fall back to scanning the head
    elf = tmp_path / "Lies"
    image = _elf_with_data(b"\0" * 8 + BUNDLE_SIGNATURE)
    struct.pack_into("<Q", image, 0x28, 1 << 40)
    elf.write_bytes(bytes(image))
    assert read_bundle_marker(host, str(elf)) == (bytes(image).index(BUNDLE_SIGNATURE) - 8, 0)
    (tmp_path / "Short").write_bytes(b"\x7fELF\x02\x01")
    assert read_bundle_marker(host, str(tmp_path / "Short")) is None


@pytest.mark.parametrize(
    ("requested", "available", "policy", "expected"),
    [
        ("3.1.0", ["3.1.10", "3.1.32", "5.0.17"], "", "3.1.32"),  # latest patch of the same minor
        ("3.0.0", ["3.1.10", "3.1.32", "5.0.17"], "", "3.1.32"),  # Minor: the next minor up, its latest patch
        ("3.1.0", ["5.0.17", "6.0.36"], "", ""),  # no major roll-forward by default
        ("3.1.0", ["5.0.17", "6.0.36"], "Major", "5.0.17"),
        ("3.1.0", ["5.0.17", "6.0.36"], "LatestMajor", "6.0.36"),
        ("6.0.0", ["6.0.25", "6.0.36", "6.0.37-rc.1"], "", "6.0.36"),  # releases before previews
        ("6.0.5", ["6.0.2"], "", ""),  # never down
        ("6.0.0", ["6.0.36"], "LatestPatch", "6.0.36"),
        ("6.0.0", ["6.1.0"], "LatestPatch", ""),
        ("x", ["6.0.0"], "", ""),
    ],
)
def test_roll_forward(requested, available, policy, expected):
    assert roll_forward(requested, available, policy) == expected


def test_frameworks_in_open_files():
    paths = ["/usr/share/dotnet/shared/Microsoft.NETCore.App/3.1.23/System.Private.CoreLib.dll",
             "/usr/share/dotnet/shared/Microsoft.NETCore.App/3.1.23/System.Runtime.dll",
             "/opt/dn/shared/Microsoft.AspNetCore.App/6.0.0-rc.2.21480.10/Microsoft.AspNetCore.dll",
             "/srv/app/App.dll", "/srv/shared/Microsoft.Thing/1.0.0"]
    assert [(f.name, f.version, f.path) for f in frameworks_in(paths)] == [
        ("Microsoft.AspNetCore.App", "6.0.0-rc.2.21480.10", "/opt/dn/shared/Microsoft.AspNetCore.App/6.0.0-rc.2.21480.10"),
        ("Microsoft.NETCore.App", "3.1.23", "/usr/share/dotnet/shared/Microsoft.NETCore.App/3.1.23")]


@pytest.mark.parametrize(
    ("kind", "self_contained", "version", "expected"),
    [
        ("aspnetcore", False, "3.1.23", "mcr.microsoft.com/dotnet/aspnet:3.1"),
        ("console", False, "6.0.36", "mcr.microsoft.com/dotnet/runtime:6.0"),
        ("worker", False, "8.0.1", "mcr.microsoft.com/dotnet/runtime:8.0"),
        ("aspnetcore", True, "8.0.11", "mcr.microsoft.com/dotnet/runtime-deps:8.0"),
        ("console", False, "", "mcr.microsoft.com/dotnet/runtime:8.0"),
    ],
)
def test_base_image(kind, self_contained, version, expected):
    assert base_image(kind, self_contained, version) == expected


# -- JSON settings ---------------------------------------------------------------------------------------

def test_parse_json_keeps_spans_and_lines():
    text = '{\n  // c\n  "A": {"B": "x\\"y", "C": [1, "two", {"D": null}],},\n  /* "E": "no" */ "F": true,\n}'
    document, strings = parse_json(text)
    assert coreconfig.flatten(document) == {"A:B": 'x"y', "A:C:0": "1", "A:C:1": "two", "A:C:2:D": "", "F": "True"}
    assert [(s.key, s.value, s.line, text[s.start:s.end]) for s in strings] == [
        ("A:B", 'x"y', 3, '"x\\"y"'), ("A:C:1", "two", 3, '"two"')]


@pytest.mark.parametrize("text", ['{"a": }', '{"a" "b"}', '{"a": "b"', "[1, 2", '{"a": "\\q"}', '{a: 1}', "/* x",
                                  '{"a": 1} x', "", "[" * 100 + "]" * 100, '{"a": tru}'])
def test_parse_json_refuses_malformed(text):
    with pytest.raises(JsonConfigError):
        parse_json(text)


@pytest.mark.parametrize(
    ("args", "environ", "files", "expected"),
    [
        # --urls beats everything
        (["--urls", "http://127.0.0.1:7001"], {"ASPNETCORE_URLS": "http://+:7002"}, {"Kestrel:Endpoints:Http:Url": "http://+:7003"},
         (["http://127.0.0.1:7001"], "command line")),
        (["--urls=http://*:7001;https://*:7443"], {}, {}, (["http://*:7001", "https://*:7443"], "command line")),
        (["/urls", "http://+:7001"], {}, {}, (["http://+:7001"], "command line")),
        # then ASPNETCORE_URLS, then DOTNET_URLS
        ([], {"ASPNETCORE_URLS": "http://+:7002", "DOTNET_URLS": "http://+:7004"}, {}, (["http://+:7002"], "environment ASPNETCORE_URLS")),
        ([], {"DOTNET_URLS": "http://+:7004"}, {"Kestrel:Endpoints:Http:Url": "http://+:7003"}, (["http://+:7004"], "environment DOTNET_URLS")),
        # .NET 8's HTTP_PORTS
        ([], {"ASPNETCORE_HTTP_PORTS": "8080;8081"}, {}, (["http://*:8080", "http://*:8081"], "environment ASPNETCORE_HTTP_PORTS")),
        # then Kestrel endpoints from the settings, then a Urls key
        ([], {}, {"kestrel:endpoints:Web:url": "http://localhost:7003"}, (["http://localhost:7003"], "appsettings.json")),
        ([], {}, {"Urls": "http://+:7005"}, (["http://+:7005"], "appsettings.json")),
        # a variable in .NET's __ notation overrides the file's endpoint
        ([], {"Kestrel__Endpoints__Http__Url": "http://+:7006"}, {"Kestrel:Endpoints:Http:Url": "http://+:7003"},
         (["http://+:7006"], "environment Kestrel__Endpoints__Http__Url")),
        # nothing: Kestrel's default
        ([], {}, {}, (["http://localhost:5000"], "default")),
    ],
)
def test_url_precedence(args, environ, files, expected):
    config = layered_config([("appsettings.json", files)], environ, args)
    listen = resolve_urls(args, environ, config)
    assert ([u.text for u in listen.urls], listen.source) == expected


def test_environment_file_overrides_base_file():
    config = layered_config([("appsettings.json", {"Kestrel:Endpoints:Http:Url": "http://+:1", "Kestrel:Endpoints:Admin:Url": "http://localhost:9"}),
                             ("appsettings.Staging.json", {"KESTREL:ENDPOINTS:HTTP:URL": "http://+:2"})], {}, [])
    listen = resolve_urls([], {}, config)
    assert [u.text for u in listen.urls] == ["http://+:2", "http://localhost:9"]
    assert listen.source == "appsettings.Staging.json, appsettings.json" and listen.endpoints == ("HTTP", "Admin")


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        (["--environment", "Test"], {"ASPNETCORE_ENVIRONMENT": "Staging"}, ("Test", "command line")),
        ([], {"ASPNETCORE_ENVIRONMENT": "Staging", "DOTNET_ENVIRONMENT": "Dev"}, ("Staging", "environment ASPNETCORE_ENVIRONMENT")),
        ([], {"DOTNET_ENVIRONMENT": "Dev"}, ("Dev", "environment DOTNET_ENVIRONMENT")),
        ([], {}, ("Production", "default")),
    ],
)
def test_environment_name(args, environ, expected):
    assert coreconfig.environment_name(args, environ) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--a=1", "--b", "2", "/c=3", "/d", "4", "e=5", "-f", "6", "plain", "--g"], [("a", "1"), ("b", "2"), ("c", "3"),
                                                                                   ("d", "4"), ("e", "5")]),
        (["--urls", "--other"], [("urls", "--other")]),  # .NET takes the next argument, whatever it is
        (["--x=a=b"], [("x", "a=b")]),
    ],
)
def test_command_line_pairs(args, expected):
    assert coreconfig.command_line_pairs(args) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://+:5000", ("http", "+", 5000)),
        ("https://[::1]:5001/", ("https", "[::1]", 5001)),
        ("http://localhost", ("http", "localhost", 80)),
        ("https://example.internal", ("https", "example.internal", 443)),
        ("http://*:99999", None),
        ("localhost:5000", None),
    ],
)
def test_parse_url(text, expected):
    url = coreconfig.parse_url(text)
    assert (None if url is None else (url.scheme, url.host, url.port)) == expected


# -- connection strings and secrets ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "masked", "dependency"),
    [
        ("Server=tcp:db.example.internal,1433;Initial Catalog=shop;User ID=app;Password=S3cret!;Encrypt=True",
         "Server=tcp:db.example.internal,1433;Initial Catalog=shop;User ID=app;Password=****;Encrypt=True",
         ("sqlserver", "db.example.internal", 1433, "shop")),
        ("Data Source=sql01\\PROD,1533;Database=erp;User Id=erp;Pwd=p", "Data Source=sql01\\PROD,1533;Database=erp;User Id=erp;Pwd=****",
         ("sqlserver", "sql01", 1533, "erp")),
        ("Server=.;Database=x;Trusted_Connection=True", "Server=.;Database=x;Trusted_Connection=True",
         ("sqlserver", "localhost", 1433, "x")),
        ("Host=pg.example.internal;Port=5433;Database=app;Username=u;Password='it''s'",
         "Host=pg.example.internal;Port=5433;Database=app;Username=u;Password='****'", ("postgresql", "pg.example.internal", 5433, "app")),
        ("Host=pg1:5432,pg2:5432;Database=app", "Host=pg1:5432,pg2:5432;Database=app", ("postgresql", "pg1", 5432, "app")),
        ("Server=my.example.internal;Port=3306;Database=shop;Uid=root;Pwd=x;", "Server=my.example.internal;Port=3306;Database=shop;Uid=root;Pwd=****;",
         ("mysql", "my.example.internal", 3306, "shop")),
        ("Data Source=ora.example.internal:1522/ORCL;User Id=scott;Password=tiger", "Data Source=ora.example.internal:1522/ORCL;User Id=scott;Password=****",
         ("oracle", "ora.example.internal", 1522, "")),
        ("Data Source=(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora2)(PORT=1599))(CONNECT_DATA=(SERVICE_NAME=X)));User Id=a",
         "Data Source=(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora2)(PORT=1599))(CONNECT_DATA=(SERVICE_NAME=X)));User Id=a",
         ("oracle", "ora2", 1599, "")),
        ("Data Source=app.db;Cache=Shared", "Data Source=app.db;Cache=Shared", ("embedded", "", 0, "app.db")),
        ("redis.example.internal:6380,password=r3dis,ssl=True", "redis.example.internal:6380,password=****,ssl=True",
         ("redis", "redis.example.internal", 6380, "")),
        ("localhost", "localhost", ("redis", "localhost", 6379, "")),
        ("mongodb://app:m0ngo@mongo.example.internal/shop?authSource=admin", "mongodb://app:****@mongo.example.internal/shop?authSource=admin",
         ("mongodb", "mongo.example.internal", 27017, "shop")),
        ("Password=${A2C_SECRET_X};Server=db", "Password=${A2C_SECRET_X};Server=db", ("sqlserver", "db", 1433, "")),
        ("not a connection string", "not a connection string", None),
    ],
)
def test_connection_strings(text, masked, dependency):
    assert coresecrets.mask_connection_string(text) == masked
    deps = coresecrets.connection_dependencies("ConnectionStrings:X", text, "f.json")
    if dependency is None:
        assert deps == []
    else:
        assert (deps[0]["kind"], deps[0]["host"], deps[0]["port"], deps[0]["database"]) == dependency
        assert deps[0]["connectionString"] == masked and deps[0]["name"] == "ConnectionStrings:X"


def test_template_json_changes_only_the_secrets():
    data = ('\ufeff{\r\n  // keep me\r\n  "ConnectionStrings": {"Db": "Server=db;Password=\\"a;b\\"\\"c\\";x=1",},\r\n'
            '  "Mail": {"Password": "m\\u00e4il", "PasswordFile": "/run/secrets/mail"},\r\n'
            '  "Jwt": {"Key": "${JWT_KEY}", "SigningKey": "k3y"},\r\n  "Name": "caf\u00e9"\r\n}\r\n').encode("utf-8")
    templated, found = coresecrets.template_json("/app/appsettings.json", data, {"Mail:Password": "MAIL_PW"})
    assert [(s.name, s.env_var, s.line) for s in found] == [
        ("ConnectionStrings:Db:Password", "A2C_SECRET_CONNECTIONSTRINGS_DB_PASSWORD", 3),
        ("Mail:Password", "MAIL_PW", 4), ("Jwt:SigningKey", "A2C_SECRET_JWT_SIGNINGKEY", 5)]
    expected = data.decode("utf-8")
    expected = expected.replace('Password=\\"a;b\\"\\"c\\"', 'Password=\\"${A2C_SECRET_CONNECTIONSTRINGS_DB_PASSWORD}\\"')
    expected = expected.replace('"m\\u00e4il"', '"${MAIL_PW}"').replace('"k3y"', '"${A2C_SECRET_JWT_SIGNINGKEY}"')
    assert templated == expected.encode("utf-8")  # BOM, CRLF, comments, trailing comma and other values kept
    again, found_again = coresecrets.template_json("/app/appsettings.json", templated)
    assert again == templated and found_again == []  # placeholders are not secrets


def test_latin1_settings_stay_latin1():
    data = '{"Name": "caf\xe9", "ApiKey": "abc"}'.encode("latin-1")
    templated, found = coresecrets.template_json("a.json", data)
    assert templated == '{"Name": "caf\xe9", "ApiKey": "${A2C_SECRET_APIKEY}"}'.encode("latin-1")
    assert [s.name for s in found] == ["ApiKey"]


# -- the dotnet-host snapshot, end to end -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def snapshot():
    host = SnapshotHost(str(SNAPSHOT))
    analyzer = DotnetCoreAnalyzer()
    notes: list[str] = []
    entries = {p.pid: e for p in host.scan_processes()[0] if (e := classify_process(p, host, [analyzer], notes))}
    assert notes == []
    documents = {}
    for pid, entry in entries.items():
        document = build_document(analyzer.analyze(entry, host.process(pid), host))
        document["createdTime"] = "2024-01-01 00:00:00"
        documents[pid] = document
    return host, analyzer, entries, documents


def test_snapshot_inventory(snapshot):
    _, _, entries, _ = snapshot
    # the SDK's MSBuild node, `dotnet watch run` and sshd are not applications
    assert sorted(entries) == [3100, 3200, 3300]
    hello = entries[3100]
    assert hello.app_id == application_id("dotnet-core", "dotnet:/srv/hello/HelloApp.dll") == "dotnet-core-58845c83"
    assert (hello.web_apps, hello.ports, hello.base_dir) == (("HelloApp",), (5080,), "/srv/hello")
    assert "Cli-Sn4pshot-Pw" not in hello.cmdline
    assert entries[3200].identity == "dotnet:/opt/worker/Worker"
    assert entries[3300].identity == "dotnet:/opt/api/Api"
    # registered with the built-ins, before the generic Java fallback
    registry = load_registry()
    assert registry.get("dotnet-core") is not None and registry.for_type("dotnet-core").runtime == "dotnet"


def test_snapshot_analysis(snapshot, golden):
    _, _, _, documents = snapshot
    analysis = documents[3100]
    validate(analysis, "analysis", "analysis.json")
    info, params = analysis["analysisInfo"], analysis["containerParameters"]
    dotnet = info["dotnet"]
    assert params["containerBaseImage"] == "mcr.microsoft.com/dotnet/aspnet:3.1"
    assert params["applicationPort"] == 5080 and dotnet["urlsSource"] == "command line" and dotnet["loopbackOnly"]
    assert dotnet["environmentName"] == "Staging"
    assert dotnet["configFiles"] == ["/srv/hello/appsettings.json", "/srv/hello/appsettings.Staging.json"]
    assert dotnet["runtime"]["version"] == "3.1.32" and dotnet["runtime"]["source"] == "open files"
    assert dotnet["kind"] == "aspnetcore" and dotnet["targetFramework"] == "netcoreapp3.1"
    assert params["environment"] == {"ASPNETCORE_ENVIRONMENT": "Staging", "ASPNETCORE_FORWARDEDHEADERS_ENABLED": "true",
                                     "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "true"}
    assert params["logLocations"] == ["/srv/hello/logs"] and "/srv/hello/logs" in params["appExcludedFiles"]
    assert {(s["name"], s["foundIn"]) for s in info["secrets"]} == {
        ("ConnectionStrings:Default:Password", "/srv/hello/appsettings.json"),
        ("Smtp:Password", "/srv/hello/appsettings.json"),
        ("ConnectionStrings:Cache:Password", "/srv/hello/appsettings.Staging.json"),
        ("ConnectionStrings__Reports", "environment"), ("Smtp:Password", "command line")}
    assert [(d["kind"], d["host"], d["port"]) for d in info["outboundDependencies"]] == [
        ("sqlserver", "hello-sql.example.internal", 1433), ("embedded", "", 0),
        ("redis", "hello-redis.example.internal", 6380), ("postgresql", "reports-db.example.internal", 5433),
        ("sqlserver", "192.0.2.10", 1433), ("tcp", "192.0.2.20", 5433)]
    assert [(p["name"], p["path"]) for p in info["nuget"]] == [
        ("Dapper", "/srv/hello/Dapper.dll"),
        ("Microsoft.Data.SqlClient", "/srv/hello/runtimes/unix/lib/netcoreapp3.1/Microsoft.Data.SqlClient.dll"),
        ("Microsoft.SourceLink.Common", ""), ("Npgsql", "/srv/hello/Npgsql.dll")]
    codes = [f["code"] for f in analysis["findings"]]
    assert codes.count("SEC-W001") == 5 and "DOTNET-W006" in codes and "DOTNET-I001" in codes
    text = json.dumps(analysis, indent=2) + "\n"
    assert not [s for s in SNAPSHOT_SECRETS if s in text]
    golden("dotnet-core/analysis.json", text)


def test_snapshot_worker_and_self_contained(snapshot):
    _, _, _, documents = snapshot
    worker = documents[3200]
    validate(worker, "analysis", "analysis.json")
    dotnet, params = worker["analysisInfo"]["dotnet"], worker["containerParameters"]
    assert (dotnet["launch"], dotnet["kind"]) == ("apphost", "worker")
    # not running from a muxer we can see: the host's roll-forward picks the latest 6.0 patch installed
    assert dotnet["runtime"]["version"] == "6.0.36" and dotnet["runtime"]["source"].startswith("installed in /usr/share/dotnet")
    assert dotnet["contentRoot"] == "/opt/worker"  # cwd / has no settings; the app folder has
    assert params["containerBaseImage"] == "mcr.microsoft.com/dotnet/runtime:6.0" and params["applicationPort"] == 0
    assert [s["name"] for s in worker["analysisInfo"]["secrets"]] == ["ConnectionStrings:Queue:Password"]
    api = documents[3300]
    validate(api, "analysis", "analysis.json")
    assert api["analysisInfo"]["dotnet"]["launch"] == "self-contained"
    assert api["containerParameters"]["containerBaseImage"] == "mcr.microsoft.com/dotnet/runtime-deps:8.0"
    assert api["containerParameters"]["applicationPort"] == 8080
    assert api["analysisInfo"]["dotnet"]["urlsSource"] == "environment ASPNETCORE_HTTP_PORTS"


def test_snapshot_artifacts(snapshot, golden):
    host, analyzer, _, documents = snapshot
    analysis = documents[3100]
    plan = analyzer.plan(analysis, host)
    assert [(layer.name, layer.paths, layer.excludes) for layer in plan.layers] == [
        ("application", ("/srv/hello",), ("/root/.aws", "/srv/hello/logs"))]
    # --urls named loopback on the host: the container's command opens it up; the CLI secret is a reference
    assert plan.entrypoint == ("dotnet", "/srv/hello/HelloApp.dll", "--urls", "http://+:5080",
                               "--Smtp:Password=${A2C_SECRET_SMTP_PASSWORD_2}")  # not the file's secret: its own variable
    assert "ASPNETCORE_URLS" not in plan.env and plan.env["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] == "true"
    assert (plan.workdir, plan.writable_dirs, plan.ports, plan.health_port) == ("/srv/hello", ("/srv/hello/logs",),
                                                                                 (5080,), 5080)
    assert plan.render_at_start == {
        "/srv/hello/appsettings.json": ("A2C_SECRET_CONNECTIONSTRINGS_DEFAULT_PASSWORD", "A2C_SECRET_SMTP_PASSWORD"),
        "/srv/hello/appsettings.Staging.json": ("A2C_SECRET_CONNECTIONSTRINGS_CACHE_PASSWORD",)}
    for path, data in sorted(plan.generated.items()):
        golden(f"dotnet-core/generated{path}", data.decode("utf-8"))
    files = render_container_artifacts(plan, host_name="dotnet-host", health_path="/",
                                       secrets=analysis["analysisInfo"]["secrets"])
    for name in ("Dockerfile", "a2c/entrypoint.sh"):
        golden(f"dotnet-core/Artifacts/{name}", files[name])
    everything = "".join(files.values()) + "".join(d.decode("utf-8") for d in plan.generated.values())
    assert not [s for s in SNAPSHOT_SECRETS if s in everything]
    assert b"Smtp-Sn4pshot-Pw" in host.read_bytes("/srv/hello/appsettings.json")  # the host is untouched


def test_snapshot_sbom(snapshot, golden):
    host, analyzer, _, documents = snapshot
    info = documents[3100]["analysisInfo"]
    scan = analyzer.components(documents[3100], host)
    assert scan.findings == []
    assert {(c.name, c.path, c.evidence_detail) for c in scan.components} >= {
        ("Dapper", "/srv/hello/Dapper.dll", info["dotnet"]["depsFile"])}
    text = render_sbom(info["appId"], info["AdvancedAppInfo"]["version"], scan.components, tool_version="0.0.0-test")
    document = json.loads(text)
    assert [c["purl"] for c in document["components"]] == [
        "pkg:nuget/Dapper@2.0.123", "pkg:nuget/Microsoft.Data.SqlClient@2.1.4",
        "pkg:nuget/Microsoft.SourceLink.Common@1.0.0", "pkg:nuget/Npgsql@4.1.9"]
    assert Component("My Lib", "1.0.0-beta+1", purl_type=PURL_NUGET).purl == "pkg:nuget/My%20Lib@1.0.0-beta+1"
    assert analyzer.components({"analysisInfo": {"appId": "x"}}, host) is None  # no nuget list: no SBOM
    golden("dotnet-core/sbom.cdx.json", text)


def test_loopback_app_from_settings_gets_urls_opened(snapshot):
    """Bound to loopback through a Kestrel endpoint in appsettings: ASPNETCORE_URLS and the
    endpoint's own variable open it up in the image; the invariant-globalization switch follows
    the host process."""
    host, analyzer, entries, _ = snapshot
    proc = host.process(3100)
    proc = ProcessInfo(**{**proc.__dict__, "cmdline": ("dotnet", "HelloApp.dll"), "listening": (Socket(5050, "127.0.0.1"),),
                          "environ": {"ASPNETCORE_ENVIRONMENT": "Staging"}})
    document = build_document(analyzer.analyze(entries[3100], proc, host))
    dotnet = document["analysisInfo"]["dotnet"]
    assert (dotnet["urlsSource"], document["containerParameters"]["applicationPort"]) == (
        "/srv/hello/appsettings.Staging.json", 5050)
    plan = analyzer.plan(document, host)
    assert plan.env["ASPNETCORE_URLS"] == "http://+:5050"
    assert plan.env["Kestrel__Endpoints__Http__Url"] == "http://+:5050"
    assert "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT" not in plan.env
    assert plan.entrypoint == ("dotnet", "/srv/hello/HelloApp.dll")


def test_port_cross_check_with_sockets(snapshot):
    host, analyzer, entries, _ = snapshot
    proc = host.process(3100)
    proc = ProcessInfo(**{**proc.__dict__, "listening": (Socket(6000, "0.0.0.0"),)})
    result = analyzer.analyze(entries[3100], proc, host)
    assert result.container_parameters["applicationPort"] == 6000
    assert result.analysis_info["dotnet"]["loopbackOnly"] is False
    assert any(f.code == "DOTNET-W002" for f in result.findings)


def test_settings_edited_after_analysis_leak_nothing(snapshot, tmp_path):
    """The plan finds secrets in the settings again: one added after the analysis is templated too."""
    _, analyzer, _, documents = snapshot
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy)
    settings = copy / "files/srv/hello/appsettings.json"
    settings.write_text(settings.read_text().replace('"AllowedHosts": "*",', '"AllowedHosts": "*", "ApiKey": "Late-S3cret",'))
    plan = analyzer.plan(documents[3100], SnapshotHost(str(copy)))
    generated = plan.generated["/srv/hello/appsettings.json"].decode()
    assert "Late-S3cret" not in generated and '"ApiKey": "${A2C_SECRET_APIKEY}"' in generated
    assert "A2C_SECRET_APIKEY" in plan.render_at_start["/srv/hello/appsettings.json"]


def test_other_config_files_of_the_publish_folder_are_templated(tmp_path):
    """A .env, a secrets.json and an App.config beside the dll are copied into the image like the
    settings are, so their secrets are found at analyze and are placeholders in the image."""
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy)
    app = copy / "files/srv/hello"
    (app / ".env").write_text("export SMTP_PASSWORD='Env-Canary-7f3a'\nLOG_LEVEL=debug\n")
    (app / "secrets.json").write_text('{"Payments": {"ApiKey": "Json-Canary-7f3a"}, "Region": "eu"}\n')
    (app / "HelloApp.dll.config").write_text(
        '<configuration><appSettings><add key="DbPassword" value="Xml-Canary-7f3a"/>'
        '<add key="Theme" value="dark"/></appSettings></configuration>\n')
    host = SnapshotHost(str(copy))
    analyzer = DotnetCoreAnalyzer()
    entry = next(e for p in host.scan_processes()[0] if (e := classify_process(p, host, [analyzer], [])) and p.pid == 3100)
    document = build_document(analyzer.analyze(entry, host.process(3100), host))
    found = {(s["foundIn"].rsplit("/", 1)[-1], s["name"]) for s in document["analysisInfo"]["secrets"]}
    assert {(".env", "SMTP_PASSWORD"), ("secrets.json", "Payments:ApiKey"), ("HelloApp.dll.config", "DbPassword")} <= found
    assert "Canary-7f3a" not in json.dumps(document)
    plan = analyzer.plan(document, host)
    for name in (".env", "secrets.json", "HelloApp.dll.config"):
        generated = plan.generated[f"/srv/hello/{name}"].decode()
        assert "Canary-7f3a" not in generated and "${A2C_SECRET_" in generated, name
        assert f"/srv/hello/{name}" in plan.render_at_start
    assert "dark" in plan.generated["/srv/hello/HelloApp.dll.config"].decode()
