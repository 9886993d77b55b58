"""Strings around framework fingerprints in a binary's read-only data, for every reader."""

from __future__ import annotations

from typing import Sequence

#: Most bytes of read-only data searched for anchors, per section.
RODATA_SCAN_LIMIT = 32 * 1024 * 1024
#: Most strings kept per anchor.
MAX_HITS_PER_ANCHOR = 4
#: Most characters kept on each side of an anchor hit.
STRING_CONTEXT = 120


def _printable_run(view, start: int, end: int, hit: int, length: int) -> str:
    """The printable text around a hit, cut at NUL or control bytes."""
    lo = max(start, hit - STRING_CONTEXT)
    hi = min(end, hit + length + STRING_CONTEXT)
    chunk = view[lo:hi]
    pos = hit - lo
    left = pos
    while left > 0 and 32 <= chunk[left - 1] < 127:
        left -= 1
    right = pos + length
    while right < len(chunk) and 32 <= chunk[right] < 127:
        right += 1
    return chunk[left:right].decode("ascii", "replace")


def find_strings(view, sections, anchors: Sequence[bytes]) -> dict[str, list[str]]:
    """Anchor -> up to MAX_HITS_PER_ANCHOR printable strings holding it, in ``sections`` (offset, size) of ``view``."""
    found: dict[str, list[str]] = {}
    for anchor in anchors:
        hits: list[str] = []
        for section in sections:
            start = section.offset
            end = start + min(section.size, RODATA_SCAN_LIMIT)
            pos = view.find(anchor, start, end)
            tries = 0
            while pos >= 0 and len(hits) < MAX_HITS_PER_ANCHOR and tries < 4 * MAX_HITS_PER_ANCHOR:
                tries += 1
                text = _printable_run(view, start, end, pos, len(anchor))
                if text not in hits:
                    hits.append(text)
                pos = view.find(anchor, pos + len(anchor), end)
            if len(hits) >= MAX_HITS_PER_ANCHOR:
                break
        if hits:
            found[anchor.decode("ascii", "replace")] = hits
    return found
