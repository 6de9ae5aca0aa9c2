"""a2c: move legacy Java and .NET applications off servers and into containers on AWS."""

__version__ = "0.1.0"
