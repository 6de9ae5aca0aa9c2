"""Readers shared by all analyzers, hardened for untrusted customer files."""
