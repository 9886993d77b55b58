"""interp-audit: does this package work inside CPython sub-interpreters?"""

__version__ = "0.1.0"
