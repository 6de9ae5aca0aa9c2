"""The Host seam: everything a2c knows about a machine comes through ``Host``.

Analyzers and the builder read processes and files only through a Host, so the same code
works on the local machine, on an extracted archive or snapshot, and (later) over SSH.
"""

from a2c.hosts.base import Host, ProcessFilter

__all__ = ["Host", "ProcessFilter"]
