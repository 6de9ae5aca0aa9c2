"""Analyzers for Java applications."""
