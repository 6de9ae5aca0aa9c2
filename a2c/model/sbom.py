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

    @property
    def purl(self) -> str:
        return build_purl(self.group, self.name, self.version)


@dataclass
class ComponentScan:
    """The libraries an analyzer found for an image, and what it could not read."""

    components: list[Component] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def build_purl(group: str, name: str, version: str) -> str:
    """``pkg:maven/<group>/<name>@<version>`` when the group is known, else ``pkg:generic/<name>@<version>``."""
    head = f"pkg:maven/{_purl_part(group)}/{_purl_part(name)}" if group else f"pkg:generic/{_purl_part(name)}"
    return f"{head}@{_purl_part(version)}" if version else head


def _purl_part(text: str) -> str:
    return quote(text, safe=".-_~")


SbomScan = ComponentScan  # the name the jar scanner used first
