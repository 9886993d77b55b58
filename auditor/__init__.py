"""interp-audit: does this package work inside CPython sub-interpreters?"""

__version__ = "0.2.0"
