"""Text widths for badges, from the advance widths of a real font (DejaVu Sans Book).

``static/badge-font-widths.json`` holds the horizontal advance of every glyph of
DejaVu Sans for Basic Latin, Latin-1, Latin Extended-A, General Punctuation and a
few symbols, in font units.  It was generated from Debian's ``fonts-dejavu-core``
file ``/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf`` by running this module:

    pip install fonttools
    python -m interp_audit.reports.fontmetrics /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

DejaVu fonts are free (Bitstream Vera licence plus public-domain changes); only
the numbers are shipped, not the font.  Characters outside the table count as one
full em, so a measured width is never too small.  Kerning is ignored, which can
only make a width slightly larger than the rendered text.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("static") / "badge-font-widths.json"

#: Code point ranges written into the table.
RANGES = ((0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x2190, 0x21FF), (0x2713, 0x2717))


@functools.lru_cache(maxsize=None)
def _table() -> tuple[int, dict[str, int]]:
    data = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    return data["units_per_em"], data["advances"]


def text_width(text: str, size: float = 11.0) -> float:
    """Width in pixels of ``text`` set in DejaVu Sans at ``size`` pixels."""
    units_per_em, advances = _table()
    return sum(advances.get(ch, units_per_em) for ch in text) * size / units_per_em


def build_table(font_path: str) -> dict:
    """Read the advance widths of ``font_path`` (needs fontTools, a maintainer-only tool)."""
    from fontTools.ttLib import TTFont

    font = TTFont(font_path)
    cmap = font.getBestCmap()
    metrics = font["hmtx"].metrics
    advances = {}
    for first, last in RANGES:
        for code in range(first, last + 1):
            glyph = cmap.get(code)
            if glyph is not None:
                advances[chr(code)] = metrics[glyph][0]
    name = font["name"].getDebugName(4)
    return {
        "font": name,
        "source": Path(font_path).name,
        "licence": "Bitstream Vera Fonts licence with public-domain DejaVu changes",
        "units_per_em": font["head"].unitsPerEm,
        "advances": advances,
    }


if __name__ == "__main__":
    TABLE_PATH.write_text(json.dumps(build_table(sys.argv[1]), ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {TABLE_PATH}")
