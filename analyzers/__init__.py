"""Analyzers: one class per framework, found through a registry (installed as a2c.analyzers)."""
