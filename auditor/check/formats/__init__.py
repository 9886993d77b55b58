"""Output formats of ``interp-audit check``: text (for people and pre-commit), JSON, SARIF 2.1.0."""

from __future__ import annotations

import importlib

from interp_audit.check.formats.interface import CheckFormatter

_FORMATTERS = {
    "text": "interp_audit.check.formats.text:TextFormatter",
    "json": "interp_audit.check.formats.json:JsonFormatter",
    "sarif": "interp_audit.check.formats.sarif:SarifFormatter",
}

NAMES = tuple(_FORMATTERS)


def get(name: str) -> CheckFormatter:
    """The formatter for ``name`` (one of :data:`NAMES`)."""
    module_name, class_name = _FORMATTERS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
