"""The static website: index with chart and searchable table, a page, a badge and JSON per package.

Layout of the output directory (deployable to any static host, no network needed)::

    index.html                     headline counts, tiers-per-Python chart, package table
    packages/<slug>.html           one page per distribution name
    badges/<slug>.svg              its badge, badges/<slug>.json the shields.io endpoint JSON
    api/packages.json              every package, with schema_version
    api/packages/<slug>.json       every result of one package (DistributionResult dicts)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlencode

from interp_audit.model import SCHEMA_VERSION, TIERS, DistributionResult, to_dict
from interp_audit.reports.badge import Badge, badge_for, render_svg, shields_endpoint
from interp_audit.reports.matrix import Column, Matrix, Row, build, version_key
from interp_audit.reports.merge import Merged, normalize_name
from interp_audit.reports.templating import render
from interp_audit.reports.timeline import SiteHistory

CHART_WIDTH = 560  # pixels of the longest bar


@dataclass
class Package:
    """One distribution name: all its versions (rows), newest first."""

    slug: str
    name: str
    rows: list[Row] = field(default_factory=list)

    def newest(self, matrix: Matrix) -> tuple[Optional[Column], Optional[DistributionResult]]:
        """The result the badge shows: newest version, newest interpreter that has a result."""
        row = self.rows[0]
        for column in sorted(matrix.columns, key=lambda c: version_key(c.python.version), reverse=True):
            if column.key in row.cells:
                return column, row.cells[column.key]
        return None, None


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", normalize_name(name)).strip("-") or "package"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def packages_of(matrix: Matrix) -> list[Package]:
    """Group matrix rows by distribution name, each with a file-name-safe unique slug."""
    by_name: dict[str, Package] = {}
    taken: set[str] = set()
    for row in matrix.rows:
        key = normalize_name(row.name)
        if key not in by_name:
            by_name[key] = Package(slug=_slug(row.name, taken), name=row.name)
        by_name[key].rows.insert(0, row)  # matrix rows are sorted by version: newest ends up first
    return list(by_name.values())


def chart(matrix: Matrix) -> list[dict[str, Any]]:
    """One stacked bar per interpreter: segments of (tier, count, x, width) in pixels."""
    bars = []
    totals = [sum(matrix.tier_counts(c).values()) for c in matrix.columns]
    longest = max(totals, default=0) or 1
    for column, total in zip(matrix.columns, totals):
        counts = matrix.tier_counts(column)
        x, segments = 0.0, []
        for tier in (*TIERS, None):
            if counts[tier]:
                width = counts[tier] * CHART_WIDTH / longest
                segments.append({"tier": tier or "none", "count": counts[tier], "x": x, "width": width})
                x += width
        bars.append({"label": column.label, "total": total, "segments": segments})
    return bars


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _snippet(badge: Badge, slug: str, base_url: Optional[str]) -> dict[str, Any]:
    """Copy-paste Markdown for a README: absolute when ``base_url`` is known, else made absolute by the page's JS."""
    prefix = base_url.rstrip("/") + "/" if base_url else "../"
    image, page = f"{prefix}badges/{slug}.svg", f"{prefix}packages/{slug}.html"
    return {
        "alt": badge.title,
        "image": image,
        "page": page,
        "absolute": bool(base_url),
        "markdown": f"[![{badge.title}]({image})]({page})",
    }


def report_link(template: Optional[str], result: DistributionResult, python: str, tool_version: str) -> Optional[str]:
    """The "wrong verdict?" link of one result: ``template`` with ``{package}``, ``{version}``,
    ``{python}``, ``{tier}`` and ``{tool_version}`` filled in (URL-quoted), or those as query
    parameters when it has no placeholder."""
    if not template:
        return None
    values = {"package": result.name, "version": result.version, "python": python,
              "tier": result.tier or "", "tool_version": tool_version}
    if "{" in template:
        return template.format(**{k: quote(v, safe="") for k, v in values.items()})
    return template + ("&" if "?" in template else "?") + urlencode(values)


def build_site(merged: Merged, out_dir: Path, base_url: Optional[str] = None,
               history: Optional[SiteHistory] = None, report_url: Optional[str] = None) -> list[Path]:
    """Write the whole site for ``merged`` into ``out_dir``; return the files written.

    With ``history``: a timeline per package page, "recently gained support" and
    "regressed" on the index, and ``api/history.json``.
    """
    report = merged.report
    matrix = build(report, merged.conflicts)
    matrix.columns.reverse()  # newest Python first, as readiness trackers' readers ask
    packages = packages_of(matrix)
    page_of = {id(row): package for package in packages for row in package.rows}
    common = {"tool_version": report.tool_version, "generated_at": report.generated_at}
    versioned = {"schema_version": SCHEMA_VERSION, **common}
    written: list[Path] = []
    api_packages = []
    for package in packages:
        column, newest = package.newest(matrix)
        badge = badge_for(newest)
        written.append(_write(out_dir / "badges" / f"{package.slug}.svg", render_svg(badge)))
        written.append(_write(out_dir / "badges" / f"{package.slug}.json", shields_endpoint(badge)))
        html = render(
            "package.html.j2", package=package, matrix=matrix, badge=badge,
            report_link=lambda result, column: report_link(report_url, result, column.label, report.tool_version),
            snippet=_snippet(badge, package.slug, base_url), home="../index.html",
            timeline=history.timeline(package.name) if history else None, **common,
        )
        written.append(_write(out_dir / "packages" / f"{package.slug}.html", html))
        detail = {
            "schema_version": SCHEMA_VERSION,
            "name": package.name,
            "results": [
                {"python": to_dict(col.python), "result": to_dict(row.cells[col.key])}
                for row in package.rows for col in matrix.columns if col.key in row.cells
            ],
        }
        if history:
            detail["history"] = history.entries(package.name)
        written.append(_write(out_dir / "api" / "packages" / f"{package.slug}.json", json.dumps(detail, indent=2, ensure_ascii=False)))
        api_packages.append({
            "name": package.name,
            "slug": package.slug,
            "versions": [row.version for row in package.rows],
            "page": f"packages/{package.slug}.html",
            "badge": f"badges/{package.slug}.svg",
            "json": f"api/packages/{package.slug}.json",
            "badge_message": badge.message,
            "tiers": {col.label: (package.rows[0].cells[col.key].tier if col.key in package.rows[0].cells else None)
                      for col in matrix.columns},
            "flags": package.rows[0].flags,
        })
    index = {
        **versioned,
        "pythons": [{"label": c.label, **to_dict(c.python)} for c in matrix.columns],
        "packages": api_packages,
        "conflicts": [to_dict(c) for c in matrix.conflicts],
    }
    written.append(_write(out_dir / "api" / "packages.json", json.dumps(index, indent=2, ensure_ascii=False)))
    changes = history.changes([p.name for p in packages]) if history else None
    slug_of = {normalize_name(p.name): p.slug for p in packages}
    if history:
        api_history = {**versioned, "since": history.since.isoformat(),
                       "changes": [{**c.to_dict(), "slug": slug_of.get(normalize_name(c.distribution))}
                                   for c in changes]}
        written.append(_write(out_dir / "api" / "history.json", json.dumps(api_history, indent=2, ensure_ascii=False)))
    html = render(
        "index.html.j2", matrix=matrix, packages=packages, chart=chart(matrix), chart_width=CHART_WIDTH,
        link=lambda row: f"packages/{page_of[id(row)].slug}.html", home="index.html", changes=changes,
        since=history.since.date().isoformat() if history else None,
        slug_of=slug_of, normalize_name=normalize_name, **versioned,
    )
    written.append(_write(out_dir / "index.html", html))
    return written
