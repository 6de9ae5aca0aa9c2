"""Software bill of materials entries: what an analyzer found, before any SBOM format."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from a2c.model.findings import Finding

# Where the evidence for a component's name came from (Component.evidence).
EVIDENCE_POM = "pom.properties"
EVIDENCE_IMPLEMENTATION = "manifest Implementation-Title/Implementation-Version"
EVIDENCE_BUNDLE = "manifest Bundle-SymbolicName/Bundle-Version"
EVIDENCE_FILE_NAME = "file name"
EVIDENCE_DEPS_JSON = "deps.json"  # .NET: the SDK's own dependency manifest

# Package URL types (Component.purl_type).
PURL_MAVEN = "maven"  # a jar; ``pkg:generic`` while its group is unknown, since a Maven purl needs one
PURL_NUGET = "nuget"
PURL_GENERIC = "generic"


@dataclass(frozen=True)
class Component:
    """One library: its coordinates, where it is and which evidence named it."""

    name: str
    version: str = ""
    group: str = ""
    path: str = ""  # host path, or ``outer.war!/WEB-INF/lib/x.jar``
    evidence: str = EVIDENCE_FILE_NAME
    evidence_detail: str = ""  # e.g. the pom.properties member that gave the coordinates
    shaded: bool = False  # found inside another library's jar (one of several pom.properties)
    sha256: str = ""  # only with scan_jars(hashes=True)
    purl_type: str = PURL_MAVEN  # the package ecosystem: PURL_MAVEN, PURL_NUGET or PURL_GENERIC

    @property
    def package_type(self) -> str:
        """The type its purl really has (a Maven jar without a group is ``generic``)."""
        return _resolved_type(self.purl_type, self.group)

    @property
    def purl(self) -> str:
        return build_purl(self.group, self.name, self.version, self.purl_type)


@dataclass
class ComponentScan:
    """The libraries an analyzer found for an image, and what it could not read."""

    components: list[Component] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _resolved_type(purl_type: str, group: str) -> str:
    if purl_type == PURL_MAVEN and not group:
        return PURL_GENERIC
    return purl_type


def build_purl(group: str, name: str, version: str, purl_type: str = PURL_MAVEN) -> str:
    """The component's package URL, percent-encoded the way a2c always wrote it:

    ``pkg:maven/<group>/<name>@<version>`` when the group is known, else ``pkg:generic/<name>@<version>``;
    ``pkg:nuget/<Name>@<Version>`` (a NuGet version keeps its ``+build`` metadata unencoded).
    """
    kind = _resolved_type(purl_type, group)
    if kind == PURL_NUGET:
        head = f"pkg:nuget/{_purl_part(name)}"
        return f"{head}@{quote(version, safe='.-_~+')}" if version else head
    if kind == PURL_MAVEN:
        head = f"pkg:maven/{_purl_part(group)}/{_purl_part(name)}"
    else:
        head = f"pkg:{kind}/{_purl_part(group)}/{_purl_part(name)}" if group else f"pkg:{kind}/{_purl_part(name)}"
    return f"{head}@{_purl_part(version)}" if version else head


def _purl_part(text: str) -> str:
    return quote(text, safe=".-_~")
