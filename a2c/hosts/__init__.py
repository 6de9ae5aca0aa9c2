"""The Host seam: everything a2c knows about a machine comes through ``Host``.

Analyzers and builders read processes and files only through a Host, so the same code works
on the local machine, on an extracted archive or snapshot, and (later) over SSH or SSM.
``open_host`` turns a host address into one.
"""

from __future__ import annotations

import sys

from a2c.errors import NotSupported, UsageError
from a2c.hosts.base import Host, ProcessFilter

__all__ = ["Host", "ProcessFilter", "open_host", "HOST_KINDS"]

# The addresses open_host understands, for help texts and errors.
HOST_KINDS = ("local", "snapshot:DIR", "ssh://[USER@]HOST[:PORT]", "ssm://INSTANCE-ID")


def open_host(uri: str = "local") -> Host:
    """The Host for an address: ``local`` (this machine), ``snapshot:DIR`` (a host snapshot or an
    unpacked extraction archive), ``ssh://…`` and ``ssm://…`` (remote hosts, not yet)."""
    if uri in ("", "local"):
        if sys.platform == "win32":
            from a2c.hosts.windows import WindowsLocalHost

            return WindowsLocalHost()
        from a2c.hosts.local import LocalHost

        return LocalHost()
    kind, sep, rest = uri.partition(":")
    if sep and kind == "snapshot" and rest:
        from a2c.hosts.snapshot import SnapshotHost

        return SnapshotHost(rest)
    if sep and kind in ("ssh", "ssm"):
        raise NotSupported(f"{kind} hosts are not supported in this version",
                           "Run a2c on that host, or `a2c extract` there and `a2c containerize --input-archive` here.")
    raise UsageError(f"{uri!r} is not a host address (one of: {', '.join(HOST_KINDS)})",
                     "Use `local`, or `snapshot:DIR` for a host snapshot folder.")
