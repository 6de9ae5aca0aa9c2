"""The application's libraries as a CycloneDX 1.5 JSON document, built with cyclonedx-python-lib.

``render_sbom`` is pure: the same components (in any order) give the same text, byte for byte
(no timestamp; the serial number is a UUID5 of the content), so it can be a golden file. What
each component carries: its package URL (exactly as ``Component.purl`` spells it), the SHA-256
when the scan computed one, the evidence that named it (technique and confidence, and where it
was found) and two a2c properties (``a2c:evidence``, ``a2c:shaded``). The document's own
component is the application; the tools entry names a2c and its version; in the dependency
graph the application depends on every library. The library's JSON outputter flattens that
graph, so each library also gets an entry without ``dependsOn`` (a2c does not read what the
libraries themselves depend on). Components with the same purl (one jar shipped twice) get
``<purl>#<path>`` references.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Sequence

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.component_evidence import (AnalysisTechnique, ComponentEvidence, Identity, IdentityField, Method,
                                                Occurrence)
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot5
from packageurl import PackageURL

from a2c import __version__
from a2c.model.sbom import (EVIDENCE_BUNDLE, EVIDENCE_DEPS_JSON, EVIDENCE_FILE_NAME, EVIDENCE_IMPLEMENTATION,
                            EVIDENCE_POM, Component)

SPEC_VERSION = "1.5"

# How each kind of evidence identifies a component, and how sure it is.
_TECHNIQUES = {
    EVIDENCE_POM: (AnalysisTechnique.MANIFEST_ANALYSIS, Decimal("1.0")),
    EVIDENCE_IMPLEMENTATION: (AnalysisTechnique.MANIFEST_ANALYSIS, Decimal("0.7")),
    EVIDENCE_BUNDLE: (AnalysisTechnique.MANIFEST_ANALYSIS, Decimal("0.7")),
    EVIDENCE_FILE_NAME: (AnalysisTechnique.FILENAME, Decimal("0.4")),
    EVIDENCE_DEPS_JSON: (AnalysisTechnique.MANIFEST_ANALYSIS, Decimal("1.0")),
}
_OTHER = (AnalysisTechnique.OTHER, Decimal("0.5"))


def render_sbom(app_id: str, version: str, components: Sequence[Component], *, tool_version: str = __version__) -> str:
    """The CycloneDX 1.5 JSON text of ``components`` (two-space indent, a final newline), for
    ``<app-id>/sbom.cdx.json``. ``version`` is the application's (may be empty)."""
    ordered = sorted(components, key=lambda c: (c.purl, c.path, c.shaded))
    refs = _refs(app_id, ordered)
    application = CdxComponent(type=ComponentType.APPLICATION, name=app_id, version=version or None,
                               bom_ref=BomRef(app_id))
    tool = CdxComponent(type=ComponentType.APPLICATION, name="a2c", version=tool_version)
    metadata = BomMetaData(component=application, tools=ToolRepository(components=[tool]))
    metadata.timestamp = None  # type: ignore[assignment]  # the same components give the same document
    libraries = [_component(c, ref) for c, ref in zip(ordered, refs)]
    bom = Bom(components=libraries, metadata=metadata, serial_number=_serial_number(app_id, version, ordered, refs),
              version=1)
    # The dependency graph as the outputter would complete it (an entry per component), given
    # whole: Bom.validate, which the outputter calls, registers each component through
    # Bom.register_dependency, which scans every entry each time (quadratic: half a second for
    # 1,000 jars, minutes for 10,000; cyclonedx-python-lib issue #1006).
    bom.dependencies = [Dependency(ref=application.bom_ref, dependencies=[Dependency(ref=lib.bom_ref) for lib in libraries]),
                        *(Dependency(ref=lib.bom_ref) for lib in libraries)]
    bom.validate = _complete  # type: ignore[method-assign]  # what validate checks holds by construction
    return JsonV1Dot5(bom).output_as_string(indent=2) + "\n"


def _complete() -> bool:
    """Bom.validate for a BOM built here: every dependency names a component of the BOM, every
    component has its dependency entry, and no component has licenses (so none mixes an
    expression with others)."""
    return True


def _refs(app_id: str, ordered: Sequence[Component]) -> list[str]:
    """One bom-ref per component: its purl, or ``<purl>#<path>`` when several share the purl."""
    purl_count: dict[str, int] = {}
    for component in ordered:
        purl_count[component.purl] = purl_count.get(component.purl, 0) + 1
    refs: list[str] = []
    taken: set[str] = {app_id}
    for component in ordered:
        ref = component.purl if purl_count[component.purl] == 1 else f"{component.purl}#{component.path}"
        candidate, suffix = ref, 2
        while candidate in taken:
            candidate, suffix = f"{ref}#{suffix}", suffix + 1
        taken.add(candidate)
        refs.append(candidate)
    return refs


def _serial_number(app_id: str, version: str, ordered: Sequence[Component], refs: Sequence[str]) -> uuid.UUID:
    """A UUID5 of everything the document says but the tool version: same content, same serial number."""
    identity = json.dumps([app_id, version, [
        [ref, c.purl, c.group, c.name, c.version, c.sha256, c.path, c.evidence, c.evidence_detail, c.shaded]
        for c, ref in zip(ordered, refs)]], separators=(",", ":"))
    return uuid.uuid5(uuid.NAMESPACE_URL, "a2c-sbom:" + identity)


def _component(component: Component, ref: str) -> CdxComponent:
    technique, confidence = _TECHNIQUES.get(component.evidence, _OTHER)
    method = Method(technique=technique, confidence=confidence,
                    value=component.evidence_detail or component.evidence)
    evidence = ComponentEvidence(
        identity=[Identity(field=IdentityField.PURL, confidence=confidence, methods=[method])],
        occurrences=[Occurrence(location=component.path)] if component.path else [])
    properties = [Property(name="a2c:evidence", value=component.evidence)]
    if component.shaded:
        properties.append(Property(name="a2c:shaded", value="true"))
    return CdxComponent(
        type=ComponentType.LIBRARY, bom_ref=BomRef(ref), group=component.group or None, name=component.name,
        version=component.version or None, purl=_Purl.of(component),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=component.sha256)] if component.sha256 else [],
        evidence=evidence, properties=properties)


class _Purl(PackageURL):
    """A PackageURL whose fields are the component's and whose text is ``Component.purl``.

    packageurl's own encoder spells some purls differently from what a2c has always written
    (a ``+`` in a NuGet version, a ``/`` or ``:`` in a version), and refuses an empty name (a jar
    called ``.jar``); the purl in the document stays the one the analysis and the findings name.
    """

    _text: str

    @classmethod
    def of(cls, component: Component) -> _Purl:
        purl = tuple.__new__(cls, (component.package_type, component.group or None, component.name,
                                   component.version or None, {}, None))
        purl._text = component.purl
        return purl

    def to_string(self, encode: bool | None = True) -> str:
        return self._text

    def __str__(self, *args: object, **kwargs: object) -> str:
        return self._text
