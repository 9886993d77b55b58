"""Badges: a flat, shields-style SVG (or a shields.io endpoint JSON) for one distribution.

Which message a badge shows, first match wins:

1. ``crashes`` (dark red) -- the ``crashed`` flag: importing it killed a process;
2. ``broken`` (grey) -- it does not import even in the main interpreter;
3. ``not audited`` (grey) -- no verdict;
4. ``pure Python`` (blue) -- own-gil and no extension module was found;
5. ``per-interpreter GIL`` (green) -- own-gil;
6. ``shared GIL`` (yellow), ``legacy only`` (orange), ``main only`` (red) -- the other tiers.

The label is always ``subinterpreters``.  Text widths come from DejaVu Sans
advance widths (:mod:`~interp_audit.reports.fontmetrics`) and are also pinned with
``textLength``, so the text fits its box whatever font the viewer picks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Optional
from xml.sax.saxutils import escape, quoteattr

from interp_audit.model import DistributionResult, ScanReport
from interp_audit.reports.fontmetrics import text_width
from interp_audit.reports.matrix import build
from interp_audit.reports.merge import normalize_name

LABEL = "subinterpreters"
LABEL_COLOR = "#555"
FONT_SIZE = 11
HEIGHT = 20
PADDING = 6  # pixels left and right of each text

COLORS = {
    "crashes": "#8b0000",
    "broken": "#9f9f9f",
    "not audited": "#9f9f9f",
    "pure Python": "#007ec6",
    "per-interpreter GIL": "#44cc11",
    "shared GIL": "#dfb317",
    "legacy only": "#fe7d37",
    "main only": "#e05d44",
}
TIER_MESSAGES = {
    "own-gil": "per-interpreter GIL",
    "shared-gil": "shared GIL",
    "legacy-only": "legacy only",
    "main-only": "main only",
    "broken": "broken",
}


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str  # "#rrggbb"

    @property
    def title(self) -> str:
        return f"{self.label}: {self.message}"


def badge_for(result: Optional[DistributionResult]) -> Badge:
    """The badge of one distribution result (the precedence is in the module docstring)."""
    if result is None:
        message = "not audited"
    elif "crashed" in result.flags:
        message = "crashes"
    elif result.tier is None:
        message = "not audited"
    elif result.tier == "own-gil" and not result.extensions and not result.degraded_modules and not result.one_per_process:
        message = "pure Python"
    else:
        message = TIER_MESSAGES[result.tier]
    color = COLORS[message]
    if result is not None and result.degraded_modules and message in TIER_MESSAGES.values():
        message += ", degraded"  # a working pure-Python fallback: the tier's colour, the note beside it
    return Badge(LABEL, message, color)


def _luminance(color: str) -> float:
    """WCAG relative luminance of ``#rgb`` / ``#rrggbb``."""
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def _is_light(color: str) -> bool:
    """Whether dark text (#333) contrasts better than white on ``color``."""
    background = _luminance(color)
    on_white = 1.05 / (background + 0.05)
    on_dark = (background + 0.05) / (_luminance("#333") + 0.05)
    return on_dark > on_white


def _text(x: float, text: str, width: float, light: bool) -> str:
    fill, shadow = ("#333", "#ccc") if light else ("#fff", "#010101")
    attrs = f'x="{x:.1f}" textLength="{width:.1f}" lengthAdjust="spacingAndGlyphs"'
    return (
        f'<text {attrs} y="15" fill="{shadow}" fill-opacity=".3" aria-hidden="true">{escape(text)}</text>'
        f'<text {attrs} y="14" fill="{fill}">{escape(text)}</text>'
    )


def find_result(report: ScanReport, distribution: str, python: Optional[str] = None) -> Optional[DistributionResult]:
    """The result a badge for ``distribution`` shows: its newest version on the newest interpreter.

    ``python`` ("3.13" or "3.13.0") restricts the interpreters; None when nothing matches.
    """
    matrix = build(report)
    wanted = normalize_name(distribution)
    rows = [row for row in matrix.rows if normalize_name(row.name) == wanted]
    for row in reversed(rows):  # newest version first
        for column in reversed(matrix.columns):  # newest interpreter first
            version = column.python.version
            if python and not (version == python or version.startswith(python + ".")):
                continue
            if column.key in row.cells:
                return row.cells[column.key]
    return None


def render_svg(badge: Badge) -> str:
    """A flat badge as a standalone SVG document."""
    label_text = text_width(badge.label, FONT_SIZE)
    message_text = text_width(badge.message, FONT_SIZE)
    label_width = math.ceil(label_text + 2 * PADDING)
    message_width = math.ceil(message_text + 2 * PADDING)
    width = label_width + message_width
    title = badge.title
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>'
        '<g clip-path="url(#r)">'
        f'<rect width="{label_width}" height="{HEIGHT}" fill="{LABEL_COLOR}"/>'
        f'<rect x="{label_width}" width="{message_width}" height="{HEIGHT}" fill="{badge.color}"/>'
        f'<rect width="{width}" height="{HEIGHT}" fill="url(#s)"/></g>'
        f'<g text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="{FONT_SIZE}">'
        + _text(label_width / 2, badge.label, label_text, _is_light(LABEL_COLOR))
        + _text(label_width + message_width / 2, badge.message, message_text, _is_light(badge.color))
        + "</g></svg>\n"
    )


def shields_endpoint(badge: Badge) -> str:
    """The shields.io endpoint JSON (https://shields.io/badges/endpoint-badge) for ``badge``."""
    data = {"schemaVersion": 1, "label": badge.label, "message": badge.message, "color": badge.color.lstrip("#")}
    return json.dumps(data, indent=2) + "\n"
