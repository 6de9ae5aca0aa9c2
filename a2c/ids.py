"""Stable application ids: ``<type>-<8 hex>`` from what identifies the app, never from the PID."""

from __future__ import annotations

import hashlib


def application_id(application_type: str, identity: str) -> str:
    digest = hashlib.sha256(f"{application_type}\0{identity}".encode("utf-8")).hexdigest()
    return f"{application_type}-{digest[:8]}"
