"""The SBOM of an application's jars: coordinates from pom.properties, manifests and file names,
nested jars read in place, hostile archives turned into findings (``analyzers/common/jarscan``),
and CycloneDX 1.5 output for jars and NuGet packages (``a2c.generate.sbom``).

Every jar is built here with zipfile; the same trees are read through LocalHost and a SnapshotHost.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest

from tests.conftest import missing

from tests.conftest import load_make_hostile
from a2c.analyzers.common.jarscan import SbomLimits, parse_jar_file_name, scan_jars
from a2c.analyzers.dotnet.corelaunch import nuget_components
from a2c.generate.sbom import render_sbom
from a2c.hosts.local import LocalHost
from a2c.hosts.snapshot import SnapshotHost
from a2c.model.sbom import (
    EVIDENCE_BUNDLE,
    EVIDENCE_FILE_NAME,
    EVIDENCE_IMPLEMENTATION,
    EVIDENCE_POM,
    PURL_NUGET,
    Component,
    ComponentScan,
    build_purl,
)

HOSTILE = Path(__file__).resolve().parents[2] / "fixtures" / "hostile" / "archives"
make_hostile = load_make_hostile()
FIXED_TIME = make_hostile.FIXED_TIME
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED


# -- building jars ------------------------------------------------------------------------------
def zip_bytes(members: dict[str, bytes | str | tuple[bytes | str, int]], method: int = STORED) -> bytes:
    """A zip in memory, fixed timestamps; a member given as (data, method) overrides ``method``.

    STORED by default: zlib's output may change between builds, and the golden file holds hashes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in members.items():
            data, member_method = value if isinstance(value, tuple) else (value, method)
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = member_method
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def pom(group: str, artifact: str, version: str) -> dict[str, str]:
    return {f"META-INF/maven/{group}/{artifact}/pom.properties":
            f"#Created by Apache Maven 3.9.4\ngroupId={group}\nartifactId={artifact}\nversion={version}\n"}


def manifest(**headers: str) -> dict[str, str]:
    lines = ["Manifest-Version: 1.0"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return {"META-INF/MANIFEST.MF": "\r\n".join(lines) + "\r\n\r\n"}


def library(group: str, artifact: str, version: str, method: int = STORED) -> bytes:
    return zip_bytes({**manifest(Created_By="Maven JAR Plugin 3.3.0"), **pom(group, artifact, version),
                      f"{artifact.replace('-', '/')}/Main.class": b"\xca\xfe\xba\xbe" + bytes(200)}, method)


LANG3 = library("org.apache.commons", "commons-lang3", "3.12.0")
JACKSON = library("com.fasterxml.jackson.core", "jackson-databind", "2.15.2")
SLF4J_BUNDLE = zip_bytes({**manifest(Bundle_SymbolicName="slf4j.api;singleton:=true", Bundle_Version="2.0.7"),
                          "org/slf4j/Logger.class": b"\xca\xfe"})
IMPL_ONLY = zip_bytes({**manifest(Implementation_Title="legacy-utils", Implementation_Version="4.1",
                                  Bundle_SymbolicName="com.example.legacy", Bundle_Version="4.1.0")})
NAME_ONLY = zip_bytes({"com/google/common/base/Strings.class": b"\xca\xfe"})
SHADED = zip_bytes({**manifest(), **pom("com.example", "uber-client", "2.0"), **pom("com.google.guava", "guava", "31.1-jre"),
                    **pom("org.apache.httpcomponents", "httpclient", "4.5.14")})
SHADED_NO_MATCH = zip_bytes({**pom("com.google.guava", "guava", "31.1-jre"), **pom("io.netty", "netty-buffer", "4.1.94.Final")})


class Tree:
    """Files laid out as a host sees them, read through LocalHost or a SnapshotHost."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        if kind == "local":
            self.files = tmp_path / "fs"
            self.prefix = str(self.files)
            self.host: LocalHost | SnapshotHost = LocalHost()
        else:
            self.files = tmp_path / "snap" / "files"
            self.prefix = ""
            self.files.mkdir(parents=True)
            (tmp_path / "snap" / "host.json").write_text('{"hostname": "snap"}')
            self.host = SnapshotHost(str(tmp_path / "snap"))
        self.files.mkdir(parents=True, exist_ok=True)

    def path(self, virtual: str) -> str:
        return self.prefix + virtual

    def local(self, virtual: str) -> Path:
        return self.files / virtual.lstrip("/")

    def write(self, virtual: str, data: bytes) -> str:
        target = self.local(virtual)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return self.path(virtual)

    def link(self, virtual: str, relative_target: str) -> str:
        target = self.local(virtual)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(relative_target, target)
        return self.path(virtual)

    def scan(self, *roots: str, **options) -> ComponentScan:
        return scan_jars(self.host, [self.path(r) for r in roots], **options)


@pytest.fixture(params=["local", "snapshot"])
def tree(request, tmp_path):
    return Tree(request.param, tmp_path)


def by_name(scan: ComponentScan) -> dict[str, Component]:
    return {c.name: c for c in scan.components}


def codes(scan: ComponentScan) -> list[str]:
    return sorted(f.code for f in scan.findings)


# -- names and purls ----------------------------------------------------------------------------
@pytest.mark.parametrize("file_name, expected", [
    ("commons-lang3-3.12.0.jar", ("commons-lang3", "3.12.0")),
    ("spring-core-5.3.20.RELEASE.jar", ("spring-core", "5.3.20.RELEASE")),
    ("guava-31.1-jre.jar", ("guava", "31.1-jre")),
    ("my-app-1.0-SNAPSHOT.jar", ("my-app", "1.0-SNAPSHOT")),
    ("netty-codec-http2-4.1.94.Final.jar", ("netty-codec-http2", "4.1.94.Final")),
    ("jetty-server-9.4.48.v20220622.jar", ("jetty-server", "9.4.48.v20220622")),
    ("javax.inject-1.jar", ("javax.inject", "1")),
    ("bcprov-jdk15on-1.70.jar", ("bcprov-jdk15on", "1.70")),
    ("cglib-nodep-2.2_beta1.jar", ("cglib-nodep", "2.2_beta1")),
    ("scala-xml_2.13-1.2.0.jar", ("scala-xml_2.13", "1.2.0")),
    ("hibernate-core-5.6.15.Final.jar", ("hibernate-core", "5.6.15.Final")),
    ("spring-boot-3.1.0-M2.jar", ("spring-boot", "3.1.0-M2")),
    ("java2d-utils-1.0.jar", ("java2d-utils", "1.0")),
    ("foo-2d-graphics-1.0.jar", ("foo-2d-graphics", "1.0")),
    ("org.eclipse.osgi_3.17.0.v20211104-1343.jar", ("org.eclipse.osgi", "3.17.0.v20211104-1343")),
    ("tomcat-i18n-ja.jar", ("tomcat-i18n-ja", "")),
    ("servlet-api.jar", ("servlet-api", "")),
    ("ROOT.war", ("ROOT", "")),
    ("-1.0.jar", ("-1.0", "")),
])
def test_parse_jar_file_name(file_name, expected):
    assert parse_jar_file_name(file_name) == expected


@pytest.mark.parametrize("group, name, version, purl", [
    ("org.apache.commons", "commons-lang3", "3.12.0", "pkg:maven/org.apache.commons/commons-lang3@3.12.0"),
    ("", "guava", "31.1-jre", "pkg:generic/guava@31.1-jre"),
    ("", "Legacy Utils", "4.1", "pkg:generic/Legacy%20Utils@4.1"),
    ("", "servlet-api", "", "pkg:generic/servlet-api"),
    ("g", "a", "1.0+build/7", "pkg:maven/g/a@1.0%2Bbuild%2F7"),
])
def test_build_purl(group, name, version, purl):
    assert build_purl(group, name, version) == purl
    assert Component(name, version, group).purl == purl


@pytest.mark.parametrize("name, version, purl", [
    ("Dapper", "2.0.123", "pkg:nuget/Dapper@2.0.123"),
    ("My Lib", "1.0.0-beta+1", "pkg:nuget/My%20Lib@1.0.0-beta+1"),  # NuGet build metadata stays readable
    ("Npgsql", "", "pkg:nuget/Npgsql"),
])
def test_nuget_purl(name, version, purl):
    assert Component(name, version, purl_type=PURL_NUGET).purl == purl
    assert build_purl("", name, version, PURL_NUGET) == purl


# -- a folder of jars ---------------------------------------------------------------------------
def test_coordinates_by_evidence(tree):
    lib = "/opt/app/WEB-INF/lib"
    tree.write(f"{lib}/commons-lang3-3.12.0.jar", LANG3)
    tree.write(f"{lib}/renamed.jar", JACKSON)  # one pom.properties names the jar whatever its file name
    tree.write(f"{lib}/slf4j-api-2.0.7.jar", SLF4J_BUNDLE)
    tree.write(f"{lib}/legacy-utils.jar", IMPL_ONLY)
    tree.write(f"{lib}/guava-31.1-jre.jar", NAME_ONLY)
    tree.write(f"{lib}/README.txt", b"not a jar")
    scan = tree.scan(lib)
    assert scan.findings == []
    found = by_name(scan)
    assert set(found) == {"commons-lang3", "jackson-databind", "slf4j.api", "legacy-utils", "guava"}
    lang3 = found["commons-lang3"]
    assert (lang3.group, lang3.version, lang3.evidence) == ("org.apache.commons", "3.12.0", EVIDENCE_POM)
    assert lang3.evidence_detail == "META-INF/maven/org.apache.commons/commons-lang3/pom.properties"
    assert lang3.path == tree.path(f"{lib}/commons-lang3-3.12.0.jar")
    assert lang3.purl == "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
    assert found["jackson-databind"].path == tree.path(f"{lib}/renamed.jar")
    assert (found["slf4j.api"].version, found["slf4j.api"].evidence) == ("2.0.7", EVIDENCE_BUNDLE)
    assert (found["legacy-utils"].version, found["legacy-utils"].evidence) == ("4.1", EVIDENCE_IMPLEMENTATION)
    assert (found["guava"].version, found["guava"].evidence, found["guava"].group) == ("31.1-jre", EVIDENCE_FILE_NAME, "")
    assert all(c.sha256 == "" and not c.shaded for c in scan.components)


def test_pom_properties_fall_back_to_folder_names(tree):
    tree.write("/lib/widget.jar", zip_bytes({"META-INF/maven/org.example/widget/pom.properties": "version=1.2\n"}))
    scan = tree.scan("/lib/widget.jar")
    assert [(c.group, c.name, c.version) for c in scan.components] == [("org.example", "widget", "1.2")]


def test_shaded_jar_is_named_by_its_own_pom_and_lists_the_others(tree):
    tree.write("/lib/uber-client-2.0.jar", SHADED)
    scan = tree.scan("/lib")
    own, *shaded = scan.components
    assert (own.group, own.name, own.version, own.shaded) == ("com.example", "uber-client", "2.0", False)
    assert {(c.name, c.version) for c in shaded} == {("guava", "31.1-jre"), ("httpclient", "4.5.14")}
    assert all(c.shaded and c.path == own.path and c.evidence == EVIDENCE_POM for c in shaded)


def test_shaded_jar_without_a_matching_pom_lists_all_as_shaded(tree):
    tree.write("/lib/bundle-of-things.jar", SHADED_NO_MATCH)
    scan = tree.scan("/lib")
    assert {(c.name, c.shaded) for c in scan.components} == {("guava", True), ("netty-buffer", True)}


def test_walk_depth_links_and_loops(tree):
    root = "/opt/tomcat/lib"
    tree.write(f"{root}/commons-lang3-3.12.0.jar", LANG3)
    tree.write(f"{root}/ext/deep/one/two/three/deeper.jar", NAME_ONLY)
    tree.write("/usr/share/java/jackson-databind.jar", JACKSON)
    tree.write("/usr/share/java/other/slf4j.jar", SLF4J_BUNDLE)
    tree.link(f"{root}/jackson-databind.jar", "../../../usr/share/java/jackson-databind.jar")  # a linked jar: read
    tree.link(f"{root}/shared", "../../../usr/share/java/other")  # a linked folder outside the root: not followed
    tree.link(f"{root}/ext/again", "..")  # a loop back into the root: no hang, nothing twice
    tree.link(f"{root}/ext/self", "self")
    tree.link(f"{root}/loop.jar", "loop.jar")
    tree.link(f"{root}/dangling.jar", "no-such.jar")
    scan = tree.scan(root, max_depth=3)
    assert sorted(c.name for c in scan.components) == ["commons-lang3", "jackson-databind"]
    assert by_name(scan)["jackson-databind"].path == tree.path(f"{root}/jackson-databind.jar")
    assert codes(scan) == ["SBOM-I001", "SBOM-I002", "SBOM-W005", "SBOM-W005"]
    assert {f.path for f in scan.findings if f.code == "SBOM-W005"} == {tree.path(f"{root}/loop.jar"),
                                                                        tree.path(f"{root}/dangling.jar")}
    deeper = tree.scan(root)
    assert sorted(c.name for c in deeper.components) == ["commons-lang3", "deeper", "jackson-databind"]


def test_a_jar_reached_twice_is_listed_once(tree):
    tree.write("/opt/app/lib/commons-lang3-3.12.0.jar", LANG3)
    tree.link("/opt/app/lib/alias.jar", "commons-lang3-3.12.0.jar")
    scan = tree.scan("/opt/app", "/opt/app/lib")
    assert [c.name for c in scan.components] == ["commons-lang3"]


def test_missing_root_is_an_info_finding(tree):
    scan = tree.scan("/no/such/lib")
    assert scan.components == [] and codes(scan) == ["SBOM-I003"]


def test_hashes_only_on_request(tree):
    tree.write("/lib/commons-lang3-3.12.0.jar", LANG3)
    assert tree.scan("/lib").components[0].sha256 == ""
    assert tree.scan("/lib", hashes=True).components[0].sha256 == hashlib.sha256(LANG3).hexdigest()


# -- archives inside archives ------------------------------------------------------------------
def hello_war() -> bytes:
    return zip_bytes({
        **manifest(Created_By="a2c tests"),
        "WEB-INF/web.xml": "<web-app/>",
        "index.jsp": "hello",
        "WEB-INF/lib/commons-lang3-3.12.0.jar": (LANG3, STORED),
        "WEB-INF/lib/jackson-databind-2.15.2.jar": (JACKSON, DEFLATED),
        "WEB-INF/lib/slf4j-api-2.0.7.jar": (SLF4J_BUNDLE, STORED),
        "WEB-INF/lib/guava-31.1-jre.jar": (NAME_ONLY, DEFLATED),
        "WEB-INF/lib/uber-client-2.0.jar": (SHADED, STORED),
        "WEB-INF/lib/commons-lang3.jar": (LANG3, DEFLATED),  # the same library twice: two bom-refs
        "WEB-INF/lib/sub/ignored-1.0.jar": (NAME_ONLY, STORED),  # only jars directly in WEB-INF/lib count
        "WEB-INF/classes/app.properties": "a=b\n",
    })


def test_war_with_stored_and_deflated_jars(tree):
    war = tree.write("/opt/tomcat/webapps/hello.war", hello_war())
    scan = tree.scan("/opt/tomcat/webapps/hello.war", hashes=True)
    assert scan.findings == []
    paths = {c.path for c in scan.components}
    assert paths == {f"{war}!/WEB-INF/lib/{n}" for n in ("commons-lang3-3.12.0.jar", "jackson-databind-2.15.2.jar",
                                                          "slf4j-api-2.0.7.jar", "guava-31.1-jre.jar",
                                                          "uber-client-2.0.jar", "commons-lang3.jar")}
    found = {(c.path.rsplit("/", 1)[1], c.name, c.version, c.evidence) for c in scan.components if not c.shaded}
    assert ("commons-lang3-3.12.0.jar", "commons-lang3", "3.12.0", EVIDENCE_POM) in found  # stored: read in place
    assert ("jackson-databind-2.15.2.jar", "jackson-databind", "2.15.2", EVIDENCE_POM) in found  # deflated: inflated
    assert ("guava-31.1-jre.jar", "guava", "31.1-jre", EVIDENCE_FILE_NAME) in found
    hashes = {c.path.rsplit("/", 1)[1]: c.sha256 for c in scan.components if not c.shaded}
    assert hashes["commons-lang3-3.12.0.jar"] == hashes["commons-lang3.jar"] == hashlib.sha256(LANG3).hexdigest()
    assert hashes["jackson-databind-2.15.2.jar"] == hashlib.sha256(JACKSON).hexdigest()
    assert all(c.sha256 == "" for c in scan.components if c.shaded)


def test_war_in_a_deployments_folder_and_nested_off(tree):
    tree.write("/opt/jboss/standalone/deployments/hello.war", hello_war())
    tree.write("/opt/jboss/standalone/deployments/hello.war.deployed", b"")
    assert len(tree.scan("/opt/jboss/standalone/deployments").components) == 8
    off = tree.scan("/opt/jboss/standalone/deployments", nested=False)
    assert off.components == [] and off.findings == []


def test_spring_boot_fat_jar(tree):
    fat = zip_bytes({
        **manifest(Main_Class="org.springframework.boot.loader.JarLauncher", Start_Class="com.example.App"),
        **pom("com.example", "hello-boot", "0.0.1-SNAPSHOT"),  # the application itself, not a dependency
        "org/springframework/boot/loader/JarLauncher.class": b"\xca\xfe",
        "BOOT-INF/classes/application.properties": "server.port=8081\n",
        "BOOT-INF/lib/spring-core-6.0.9.jar": (library("org.springframework", "spring-core", "6.0.9"), STORED),
        "BOOT-INF/lib/jackson-databind-2.15.2.jar": (JACKSON, STORED),
        "BOOT-INF/lib/snakeyaml-2.0.jar": (NAME_ONLY, STORED),
        "BOOT-INF/classpath.idx": '- "BOOT-INF/lib/spring-core-6.0.9.jar"\n',
    }, STORED)
    path = tree.write("/srv/hello-boot.jar", fat)
    scan = tree.scan("/srv/hello-boot.jar")
    assert scan.findings == []
    assert sorted((c.name, c.version) for c in scan.components) == [
        ("jackson-databind", "2.15.2"), ("snakeyaml", "2.0"), ("spring-core", "6.0.9")]
    assert by_name(scan)["spring-core"].path == f"{path}!/BOOT-INF/lib/spring-core-6.0.9.jar"
    # The same jar met while walking a folder is a library like any other: its own coordinates.
    walked = tree.scan("/srv")
    assert [(c.name, c.version) for c in walked.components] == [("hello-boot", "0.0.1-SNAPSHOT")]


def test_plain_jar_as_root_is_itself(tree):
    tree.write("/lib/commons-lang3-3.12.0.jar", LANG3)
    assert [c.name for c in tree.scan("/lib/commons-lang3-3.12.0.jar").components] == ["commons-lang3"]


def test_ear_lib_folder(tree):
    ear = zip_bytes({"META-INF/application.xml": "<application/>", "lib/commons-lang3-3.12.0.jar": (LANG3, STORED),
                     "web.war": (hello_war(), STORED)})
    tree.write("/deployments/shop.ear", ear)
    assert [c.name for c in tree.scan("/deployments").components] == ["commons-lang3"]


# -- hostile archives ---------------------------------------------------------------------------
EXPECTED_HOSTILE = {
    "truncated.jar": "SBOM-W001",
    "not-a-zip.jar": "SBOM-W001",
    "empty.jar": "SBOM-W001",
    "encrypted-member.jar": "SBOM-W002",
    "unsupported-method.jar": "SBOM-W002",
    "bad-local-header.jar": "SBOM-W002",
    "lying-size.jar": "SBOM-W002",
    "traversal.jar": "SBOM-W003",
}


def test_every_hostile_archive_is_covered():
    assert sorted(p.name for p in HOSTILE.glob("*.jar")) == sorted(EXPECTED_HOSTILE)


def test_hostile_jars_in_a_folder(tree):
    for name in EXPECTED_HOSTILE:
        tree.write(f"/lib/{name}", (HOSTILE / name).read_bytes())
    scan = tree.scan("/lib")
    assert {f.path: f.code for f in scan.findings} == {tree.path(f"/lib/{n}"): c for n, c in EXPECTED_HOSTILE.items()}
    assert all(f.severity == "warning" and f.path in f.message for f in scan.findings)
    # Still listed (the application ships them), named from the file name.
    assert sorted(c.name for c in scan.components) == sorted(n[:-4] for n in EXPECTED_HOSTILE)


@pytest.mark.parametrize("method", [STORED, DEFLATED], ids=["stored", "deflated"])
def test_hostile_jars_nested_in_a_war(tree, method):
    members = {f"WEB-INF/lib/{name}": ((HOSTILE / name).read_bytes(), method) for name in EXPECTED_HOSTILE}
    war = tree.write("/webapps/bad.war", zip_bytes(members))
    scan = tree.scan("/webapps/bad.war")
    assert {f.path: f.code for f in scan.findings} == {
        f"{war}!/WEB-INF/lib/{n}": c for n, c in EXPECTED_HOSTILE.items()}
    assert len(scan.components) == len(EXPECTED_HOSTILE)


def test_traversal_names_in_a_war_are_reported_and_not_read(tree):
    war = zip_bytes({"WEB-INF/lib/ok-1.0.jar": (NAME_ONLY, STORED),
                     "WEB-INF/lib/../../../../tmp/evil-1.0.jar": (LANG3, STORED),
                     "WEB-INF/lib/..\\..\\evil2-1.0.jar": (LANG3, STORED)})
    path = tree.write("/webapps/sneaky.war", war)
    scan = tree.scan("/webapps/sneaky.war")
    assert [c.name for c in scan.components] == ["ok"]
    assert codes(scan) == ["SBOM-W003"] and scan.findings[0].path == path


def test_nested_zip_bomb_is_refused_before_inflating(tree, tmp_path):
    bomb = make_hostile.zip_bomb(tmp_path / "bomb.jar", 64 * 1024 * 1024).read_bytes()  # 64 MiB of zeros in ~64 KiB
    war = zip_bytes({"WEB-INF/lib/bomb-1.0.jar": bomb,  # an outer member inflating to a few KiB: readable
                     "WEB-INF/lib/huge-2.0.jar": (bytes(8 * 1024 * 1024), DEFLATED)})
    path = tree.write("/webapps/bombs.war", war)
    limits = SbomLimits(nested_jar_bytes=4 * 1024 * 1024, manifest_head_bytes=1024)
    scan = tree.scan("/webapps/bombs.war", limits=limits)
    by_code = {f.code: f for f in scan.findings}
    assert set(by_code) == {"SBOM-W004"}  # huge-2.0.jar: over the per-jar limit, never inflated
    assert by_code["SBOM-W004"].path == f"{path}!/WEB-INF/lib/huge-2.0.jar"
    # The bomb jar's own manifest is a bomb, but only its head is read: no finding, no 64 MiB in memory.
    assert sorted((c.name, c.version) for c in scan.components) == [("bomb", "1.0"), ("huge", "2.0")]


def test_pom_properties_bomb(tree, tmp_path):
    bomb = make_hostile.zip_bomb(tmp_path / "b.jar", 8 * 1024 * 1024, name="META-INF/maven/g/a/pom.properties")
    tree.write("/lib/a-1.0.jar", bomb.read_bytes())
    scan = tree.scan("/lib")
    assert codes(scan) == ["SBOM-W002"] and "limit" in scan.findings[0].message
    assert [(c.name, c.version, c.evidence) for c in scan.components] == [("a", "1.0", EVIDENCE_FILE_NAME)]


def test_lying_nested_size_is_caught_by_crc(tree, tmp_path):
    war = make_hostile.write_zip(tmp_path / "lying.war", {"WEB-INF/lib/liar-1.0.jar": bytes(4 * 1024 * 1024)})
    make_hostile._patch_member(war, central={24: ("<I", 100)}, local={22: ("<I", 100)})  # claims 100 bytes
    path = tree.write("/webapps/lying.war", war.read_bytes())
    scan = tree.scan("/webapps/lying.war")
    assert codes(scan) == ["SBOM-W002"] and scan.findings[0].path == f"{path}!/WEB-INF/lib/liar-1.0.jar"


def test_total_inflation_budget(tree):
    members = {f"WEB-INF/lib/lib{n}-1.0.jar": (zip_bytes({**pom("g", f"lib{n}", "1.0"), "pad": (bytes(300_000), STORED)}),
                                               DEFLATED)
               for n in range(5)}
    tree.write("/webapps/many.war", zip_bytes(members))
    scan = tree.scan("/webapps/many.war", limits=SbomLimits(total_inflated_bytes=1_000_000))
    assert len(scan.components) == 5  # all listed; the ones past the budget from their file names
    assert [c.evidence for c in scan.components].count(EVIDENCE_FILE_NAME) == 2
    assert codes(scan) == ["SBOM-W004", "SBOM-W004"]


def test_nested_stored_jar_running_past_the_end(tree):
    war = bytearray(zip_bytes({"WEB-INF/lib/x-1.0.jar": (LANG3, STORED)}))
    central = war.rfind(b"PK\x01\x02")
    struct.pack_into("<I", war, central + 20, 10**8)  # compressed size: past the end of the war
    struct.pack_into("<I", war, central + 24, 10**8)
    path = tree.write("/webapps/cut.war", bytes(war))
    scan = tree.scan("/webapps/cut.war")
    assert codes(scan) == ["SBOM-W001"] and scan.findings[0].path == f"{path}!/WEB-INF/lib/x-1.0.jar"
    assert [c.name for c in scan.components] == ["x"]


def test_encrypted_nested_member(tree):
    war = bytearray(zip_bytes({"WEB-INF/lib/secret-1.0.jar": (LANG3, STORED)}))
    struct.pack_into("<H", war, war.rfind(b"PK\x01\x02") + 8, 1)
    struct.pack_into("<H", war, war.find(b"PK\x03\x04") + 6, 1)
    tree.write("/webapps/enc.war", bytes(war))
    scan = tree.scan("/webapps/enc.war")
    assert codes(scan) == ["SBOM-W002"] and "encrypted" in scan.findings[0].message


def test_unreadable_war_is_a_finding_without_components(tree):
    tree.write("/webapps/broken.war", (HOSTILE / "truncated.jar").read_bytes())
    scan = tree.scan("/webapps")
    assert scan.components == [] and codes(scan) == ["SBOM-W001"]


# -- CycloneDX ----------------------------------------------------------------------------------
@pytest.fixture
def golden_components(tmp_path) -> list[Component]:
    """The hello.war fixture through a SnapshotHost: host paths are the same on every machine."""
    tree = Tree("snapshot", tmp_path)
    tree.write("/opt/tomcat/webapps/hello.war", hello_war())
    scan = tree.scan("/opt/tomcat/webapps/hello.war", hashes=True)
    assert scan.findings == []
    return scan.components


def render(app_id: str, version: str, components, **options) -> dict:
    return json.loads(render_sbom(app_id, version, components, **options))


def test_golden_hello_war(golden, golden_components):
    text = render_sbom("java-tomcat-5a1e2b3c", "1.0", golden_components, tool_version="0.0.0-test")
    golden("sbom/hello-war.cdx.json", text)


def test_render_is_deterministic_and_order_independent(golden_components):
    components = golden_components
    first = render_sbom("java-tomcat-5a1e2b3c", "1.0", components)
    assert render_sbom("java-tomcat-5a1e2b3c", "1.0", list(reversed(components))) == first
    assert first.endswith("}\n") and "timestamp" not in first
    serial = json.loads(first)["serialNumber"]
    assert render("java-tomcat-5a1e2b3c", "1.1", components)["serialNumber"] != serial
    assert render("java-tomcat-5a1e2b3c", "1.0", components[1:])["serialNumber"] != serial


def test_duplicate_purls_get_path_suffixed_refs(golden_components):
    doc = render("app", "", golden_components)
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(refs) == len(set(refs))
    lang3 = sorted(r for r in refs if "commons-lang3" in r)
    assert lang3 == ["pkg:maven/org.apache.commons/commons-lang3@3.12.0#/opt/tomcat/webapps/hello.war!/WEB-INF/lib/"
                     "commons-lang3-3.12.0.jar",
                     "pkg:maven/org.apache.commons/commons-lang3@3.12.0#/opt/tomcat/webapps/hello.war!/WEB-INF/lib/"
                     "commons-lang3.jar"]
    assert "pkg:generic/guava@31.1-jre" in refs
    # The application depends on every library; cyclonedx-python-lib's outputter lists each
    # library too, without dependsOn (a2c does not read what the libraries depend on).
    assert doc["dependencies"] == [{"ref": "app", "dependsOn": sorted(refs)}] + [{"ref": r} for r in sorted(refs)]
    assert "version" not in doc["metadata"]["component"]


def test_required_fields_by_hand(golden_components):
    """What CycloneDX 1.5 requires, checked without the schema (see the schema tests below)."""
    doc = render("java-tomcat-5a1e2b3c", "1.0", golden_components)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5" and doc["version"] == 1
    assert doc["serialNumber"].startswith("urn:uuid:") and len(doc["serialNumber"]) == 45
    assert doc["metadata"]["tools"]["components"][0]["name"] == "a2c"
    assert doc["metadata"]["tools"]["components"][0]["type"] == "application"
    assert doc["metadata"]["component"] == {"type": "application", "bom-ref": "java-tomcat-5a1e2b3c",
                                            "name": "java-tomcat-5a1e2b3c", "version": "1.0"}
    for component in doc["components"]:
        assert component["type"] == "library" and component["name"] and component["purl"].startswith("pkg:")
        assert component["evidence"]["identity"]["field"] == "purl"
        assert all({"technique", "confidence"} <= set(m) for m in component["evidence"]["identity"]["methods"])
    shaded = [c for c in doc["components"] if {"name": "a2c:shaded", "value": "true"} in c["properties"]]
    assert {c["name"] for c in shaded} == {"guava", "httpclient"}


def test_document_carries_what_the_scan_found(golden_components):
    """purls exactly as Component.purl spells them, hashes when known, evidence and properties."""
    doc = render("java-tomcat-5a1e2b3c", "1.0", golden_components, tool_version="9.9.9")
    assert doc["metadata"]["tools"]["components"] == [{"type": "application", "name": "a2c", "version": "9.9.9"}]
    assert sorted(c["purl"] for c in doc["components"]) == sorted(c.purl for c in golden_components)
    by_location = {(c["evidence"]["occurrences"][0]["location"], c["name"]): c for c in doc["components"]}
    for component in golden_components:
        rendered = by_location[(component.path, component.name)]
        assert rendered.get("group", "") == component.group and rendered.get("version", "") == component.version
        assert rendered.get("hashes", []) == ([{"alg": "SHA-256", "content": component.sha256}] if component.sha256 else [])
        assert {"name": "a2c:evidence", "value": component.evidence} in rendered["properties"]
        method = rendered["evidence"]["identity"]["methods"][0]
        assert method["value"] == (component.evidence_detail or component.evidence)
    techniques = {c["name"]: c["evidence"]["identity"]["methods"][0] for c in doc["components"] if not c.get("group")}
    assert techniques["guava"] == {"technique": "filename", "confidence": 0.4, "value": "guava-31.1-jre.jar"}
    assert techniques["slf4j.api"]["confidence"] == 0.7


def test_purls_are_not_re_encoded():
    """packageurl would write ``1.0%2Bbuild/7`` and ``1.0.0-beta%2B1``; the document keeps a2c's spelling."""
    components = [Component("a", "1.0+build/7", "g", "/lib/a.jar"),
                  Component("My Lib", "1.0.0-beta+1", "", "/app/MyLib.dll", "deps.json", purl_type=PURL_NUGET),
                  Component("", "", "", "/lib/.jar")]
    doc = render("app", "1", components)
    assert sorted(c["purl"] for c in doc["components"]) == ["pkg:generic/", "pkg:maven/g/a@1.0%2Bbuild%2F7",
                                                            "pkg:nuget/My%20Lib@1.0.0-beta+1"]


NUGET = [{"name": "Dapper", "version": "2.0.123", "path": "/srv/hello/Dapper.dll", "packagePath": "dapper/2.0.123"},
         {"name": "Npgsql", "version": "4.1.9", "path": "", "packagePath": "npgsql/4.1.9"},
         {"name": "My Lib", "version": "1.0.0-beta+1", "path": "/srv/hello/MyLib.dll", "packagePath": ""}]


def test_nuget_document():
    components = nuget_components(NUGET, "/srv/hello/HelloApp.deps.json")
    doc = render("dotnet-core-58845c83", "3.1.32", components)
    assert [c["purl"] for c in doc["components"]] == ["pkg:nuget/Dapper@2.0.123", "pkg:nuget/My%20Lib@1.0.0-beta+1",
                                                      "pkg:nuget/Npgsql@4.1.9"]
    dapper = doc["components"][0]
    assert dapper["evidence"]["identity"]["methods"] == [
        {"technique": "manifest-analysis", "confidence": 1.0, "value": "/srv/hello/HelloApp.deps.json"}]
    assert dapper["evidence"]["occurrences"] == [{"location": "/srv/hello/Dapper.dll"}]
    assert "occurrences" not in doc["components"][2]["evidence"]  # a package without a file in the app folder
    assert {"name": "a2c:evidence", "value": "deps.json"} in dapper["properties"]


def test_generate_imports_nothing_from_the_analyzers():
    import ast

    folder = Path(__file__).resolve().parents[2] / "a2c" / "generate"
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.startswith(("a2c.analyzers", "analyzers"))], path.name


# -- the CycloneDX 1.5 schema -------------------------------------------------------------------
def _library_validator():
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        missing("cyclonedx-python-lib", "pip install -e '.[test]'")
    return JsonStrictValidator(SchemaVersion.V1_5)


@pytest.mark.parametrize("kind", ["maven", "nuget"])
def test_validates_with_cyclonedx_python_libs_validator(kind, golden_components):
    components = golden_components if kind == "maven" else nuget_components(NUGET, "/srv/hello/HelloApp.deps.json")
    validator = _library_validator()
    text = render_sbom("java-tomcat-5a1e2b3c", "1.0", components)
    error = validator.validate_str(text)
    assert error is None, error
    broken = json.loads(text)
    broken["components"][0]["type"] = "jar"
    assert validator.validate_str(json.dumps(broken)) is not None, "the schema check must be able to fail"


def _cyclonedx_schema_folder() -> Path | None:
    """The official schemas shipped by cyclonedx-python-lib, found without importing it."""
    spec = importlib.util.find_spec("cyclonedx")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "schema" / "_res"
    return folder if (folder / "bom-1.5.SNAPSHOT.schema.json").is_file() else None


@pytest.mark.parametrize("kind", ["maven", "nuget"])
def test_validates_against_the_official_cyclonedx_1_5_schema(kind, golden_components):
    folder = _cyclonedx_schema_folder()
    if folder is None:
        missing("cyclonedx-python-lib (which ships the CycloneDX JSON schemas)", "pip install -e '.[test]'")
    import jsonschema
    from referencing import Registry, Resource

    def load(name: str) -> dict:
        return json.loads((folder / name).read_text(encoding="utf-8"))

    bom = load("bom-1.5.SNAPSHOT.schema.json")
    base = "http://cyclonedx.org/schema/"
    registry = Registry().with_resources([
        (base + name, Resource.from_contents(load(name)))
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")
    ])
    validator = jsonschema.Draft7Validator(bom, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    components = golden_components if kind == "maven" else nuget_components(NUGET, "/srv/hello/HelloApp.deps.json")
    doc = render("java-tomcat-5a1e2b3c", "1.0", components)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    broken = dict(doc, specVersion=1.5)
    assert list(validator.iter_errors(broken)), "the schema check must be able to fail"
