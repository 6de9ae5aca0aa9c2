"""What a user should know about an application, from any step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """Something a user should know about an application, with where it was seen."""

    code: str  # e.g. "JAVA-W101"
    severity: str  # "error", "warning" or "info"
    message: str
    path: str = ""

    def to_json(self) -> dict[str, str]:
        data = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.path:
            data["path"] = self.path
        return data
