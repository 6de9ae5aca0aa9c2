"""Analyzers for .NET applications: .NET Core on Linux, IIS sites and Windows services."""
