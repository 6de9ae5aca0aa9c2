"""What every Java analyzer has beyond the contract: the jars of its image, for the SBOM."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from a2c.analyzers.base import Analyzer
from a2c.hosts.base import Host
from a2c.model.sbom import ComponentScan

# How deep library folders are walked (WEB-INF/lib of a war in an ear in deployments/ is 5).
SBOM_DEPTH = 10


class JavaAnalyzer(Analyzer):
    runtime: ClassVar[str] = "java"

    def components(self, analysis: Mapping[str, Any], host: Host) -> ComponentScan:
        """Every jar the image will hold, read by central directory: the plan's archives and the
        folders it copies."""
        from a2c.analyzers.common.jarscan import scan_jars

        plan = self.plan(analysis, host)
        roots = [p for layer in plan.layers for p in layer.paths
                 if p.endswith((".jar", ".war", ".ear")) or host.is_dir(p)]
        return scan_jars(host, roots, max_depth=SBOM_DEPTH)
