"""History on the website: a package's tier timeline as inline SVG, and the recent changes.

Used by :func:`interp_audit.reports.site.build_site` when the site is built
with result stores (``interp-audit site ... --history STORE``).  The SVG needs
no network and no script; its colours come from the site's stylesheet (the
chart's ``seg <tier>`` classes), and every package-supplied text is escaped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Optional, Sequence

from markupsafe import Markup, escape

from interp_audit.history import Change, Entry, History
from interp_audit.model import TIERS

LEFT, TOP, ROW, STEP, RIGHT, BOTTOM = 110, 14, 26, 90, 100, 40
MAX_RUNS = 40  # the newest runs shown on one timeline
LANES = (*TIERS, "none")


def _lane(entry: Entry) -> int:
    return LANES.index(entry.tier or "none")


def timeline_svg(timeline: dict[str, list[Entry]]) -> Markup:
    """One line per Python line across the runs (oldest left), a dot per run coloured by tier."""
    dates = sorted({e.date for entries in timeline.values() for e in entries})[-MAX_RUNS:]
    x_of = {date: LEFT + i * STEP for i, date in enumerate(dates)}
    width = LEFT + max(len(dates) - 1, 1) * STEP + RIGHT
    height = TOP + ROW * (len(LANES) - 1) + BOTTOM
    parts = [f'<svg class="chart timeline" role="img" aria-label="Tier over time per Python version" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             "<title>Tier over time per Python version</title>"]
    for lane, name in enumerate(LANES):
        y = TOP + lane * ROW
        parts.append(f'<line x1="{LEFT - 6}" y1="{y}" x2="{width - RIGHT + 20}" y2="{y}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{LEFT - 12}" y="{y + 4}" text-anchor="end">{"no verdict" if name == "none" else name}'
                     "</text>")
    same_day = len({date[:10] for date in dates}) < len(dates)  # then month, day and time tell runs apart
    for date in dates:
        label = date[5:16].replace("T", " ") if same_day else date[:10]
        parts.append(f'<text x="{x_of[date]}" y="{height - 12}" text-anchor="middle">{escape(label)}</text>')
    for index, (minor, entries) in enumerate(timeline.items()):
        shown = [e for e in entries if e.date in x_of]
        offset = index * 5 - (len(timeline) - 1) * 2.5  # Python lines on one tier stay apart
        points = [(x_of[e.date], TOP + _lane(e) * ROW + offset, e) for e in shown]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#57606a" stroke-width="1.5" '
                     f'stroke-dasharray="{"none" if index == 0 else f"{2 + 2 * index},3"}"/>')
        for x, y, entry in points:
            text = (f"Python {entry.python}, {entry.date[:16].replace('T', ' ')}: {entry.version or 'no version'} "
                    f"{entry.outcome} (interp-audit {entry.tool_version})")
            parts.append(f'<circle class="seg {entry.tier or "none"}" cx="{x:.1f}" cy="{y:.1f}" r="5">'
                         f"<title>{escape(text)}</title></circle>")
        if points:
            x, y, _ = points[-1]
            parts.append(f'<text x="{x + 10:.1f}" y="{y + 4:.1f}">Python {escape(minor)}</text>')
    parts.append("</svg>")
    return Markup("\n".join(parts))


@dataclass
class SiteHistory:
    """The history the site shows: all runs of the stores, and what changed since ``since``."""

    history: History
    since: datetime

    def timeline(self, name: str) -> Optional[Markup]:
        lines = self.history.timeline(name)
        return timeline_svg(lines) if lines else None

    def entries(self, name: str) -> dict[str, list[dict[str, Any]]]:
        """Python line -> runs, as JSON for ``api/packages/<slug>.json``."""
        return {minor: [{**asdict(e), "outcome": e.outcome} for e in entries]
                for minor, entries in self.history.timeline(name).items()}

    def changes(self, names: Sequence[str]) -> list[Change]:
        return self.history.changes_since(self.since, names)
