"""Format names of ``interp-audit report --format`` and the reporter behind each."""

from __future__ import annotations

import importlib

from interp_audit.reports.interface import Reporter

#: format name -> "module:class" (imported on use, so that e.g. jinja2 loads only for html).
_REPORTERS = {
    "table": "interp_audit.reports.table:TableReporter",
    "markdown": "interp_audit.reports.markdown:MarkdownReporter",
    "html": "interp_audit.reports.html:HtmlReporter",
    "csv": "interp_audit.reports.csv:CsvReporter",
    "json": "interp_audit.reports.json:JsonReporter",
    "junit": "interp_audit.reports.junit:JunitReporter",
    "survey": "interp_audit.reports.survey:SurveyReporter",
}

NAMES = tuple(_REPORTERS)


def get(name: str, **options: object) -> Reporter:
    """The reporter for format ``name`` (one of :data:`NAMES`); ``options`` go to its constructor."""
    module_name, class_name = _REPORTERS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)(**options)
