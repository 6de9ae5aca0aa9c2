"""Facts about a Windows host that are not files: OS, build, IIS version, services, features.

A snapshot carries them in host.json under ``"windows"`` (fixtures/snapshots/README-windows.md).
They are read through ``host.windows_facts()``, which the Host interface declares; any other
host (a Linux machine) has none.
"""

from __future__ import annotations

from typing import Any

from a2c.analyzers.common.numbers import ascii_int
from a2c.hosts.base import Host

# Windows Server build -> the LTSC tag of the matching Windows container images. A Windows
# container's OS version must match the container host's (process isolation), so the image
# follows the source host's build; a host newer than the last LTSC gets that one.
LTSC_BY_BUILD = {14393: "ltsc2016", 17763: "ltsc2019", 20348: "ltsc2022"}
DEFAULT_LTSC = "ltsc2019"

ASPNET_IMAGE = "mcr.microsoft.com/dotnet/framework/aspnet"
RUNTIME_IMAGE = "mcr.microsoft.com/dotnet/framework/runtime"

# Windows features (Install-WindowsFeature names) the .NET Framework images already have.
# aspnet:4.8 is Server Core + IIS (Web-Server with its default role services) + ASP.NET 4.8;
# the 3.5 images add .NET 3.5 and ASP.NET 3.5.
BASE_FEATURES_48 = frozenset({
    "Web-Server", "Web-WebServer", "Web-Common-Http", "Web-Default-Doc", "Web-Dir-Browsing", "Web-Http-Errors",
    "Web-Static-Content", "Web-Health", "Web-Http-Logging", "Web-Performance", "Web-Stat-Compression",
    "Web-Security", "Web-Filtering", "Web-App-Dev", "Web-Net-Ext45", "Web-Asp-Net45", "Web-ISAPI-Ext",
    "Web-ISAPI-Filter", "NET-Framework-45-Features", "NET-Framework-45-Core", "NET-Framework-45-ASPNET",
    "NET-WCF-Services45", "NET-WCF-TCP-PortSharing45", "PowerShellRoot", "PowerShell", "WoW64-Support",
})
BASE_FEATURES_35 = BASE_FEATURES_48 | {"NET-Framework-Features", "NET-Framework-Core", "Web-Net-Ext", "Web-Asp-Net"}


def windows_facts(host: Host) -> dict[str, Any]:
    return dict(host.windows_facts() or {})


def build_number(facts: dict[str, Any]) -> int:
    build = str(facts.get("build", "")).strip()
    if not build:
        version = str(facts.get("version", ""))  # "10.0.17763"
        build = version.rsplit(".", 1)[-1] if version.count(".") >= 2 else ""
    return ascii_int(build)


def ltsc_tag(build: int) -> tuple[str, bool]:
    """(tag, exact): the LTSC tag for a build, and whether it matches the build exactly."""
    if build in LTSC_BY_BUILD:
        return LTSC_BY_BUILD[build], True
    older = [b for b in LTSC_BY_BUILD if b <= build]
    return (LTSC_BY_BUILD[max(older)] if older else DEFAULT_LTSC), False


def framework_image(repository: str, framework: str, build: int) -> str:
    """``mcr.microsoft.com/dotnet/framework/<repo>:<4.8|3.5>-windowsservercore-<ltsc>``."""
    tag, _ = ltsc_tag(build)
    return f"{repository}:{framework}-windowsservercore-{tag}"


def host_info(host: Host) -> dict[str, str]:
    """App2Container's ``hostInfo``."""
    facts = windows_facts(host)
    build = build_number(facts)
    return {
        "os": str(facts.get("os", "")),
        "osVersion": str(facts.get("version") or (f"10.0.{build}" if build else "")),
        "osWindowsDirectory": str(facts.get("windowsDirectory", "C:\\Windows")),
        "arch": str(facts.get("arch", "x64")),
    }


def services(host: Host) -> list[dict[str, Any]]:
    return [s for s in windows_facts(host).get("services", []) if isinstance(s, dict) and s.get("name")]


def installed_features(host: Host) -> list[str]:
    return [str(f) for f in windows_facts(host).get("features", [])]
