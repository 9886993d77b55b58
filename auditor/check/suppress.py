"""Suppression comments: ``interp-audit: ignore[IA201,IA202] reason``.

Written in any comment (``//``, ``/* */``, ``#``):

* at the end of a line, it silences those codes for findings on that line
  (or in the statement that starts on it);
* alone on its line, it silences them for the next line holding code;
* ``interp-audit: ignore-file[IA401] reason`` anywhere silences them in the
  whole file.

The text after ``]`` is the justification; it is kept in the JSON and SARIF
output (SARIF ``suppressions``) so reviewers see why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from interp_audit.check.interface import Comment, Hit

_DIRECTIVE = re.compile(r"interp-audit:\s*(ignore|ignore-file)\[([^\]]*)\]\s*(.*)", re.IGNORECASE | re.DOTALL)
NO_REASON = "no reason given"


@dataclass(frozen=True)
class Suppression:
    """Codes silenced on one line (``line`` None: in the whole file), and why."""

    codes: frozenset[str]
    justification: str
    line: Optional[int]
    comment_line: int

    def covers(self, hit: Hit) -> bool:
        if hit.code not in self.codes:
            return False
        if self.line is None:
            return True
        first = hit.statement_line or hit.location.line
        return first <= self.line <= hit.location.line


def _justification(text: str) -> str:
    text = re.sub(r"\s*\*/\s*$", "", text).strip()
    return " ".join(text.split()) or NO_REASON


def parse(comments: Iterable[Comment], noncode_lines: frozenset[int], last_line: int) -> list[Suppression]:
    """The suppressions written in ``comments``."""
    found = []
    for comment in comments:
        match = _DIRECTIVE.search(comment.text)
        if match is None:
            continue
        kind, codes_text, rest = match.groups()
        codes = frozenset(code.strip().upper() for code in codes_text.split(",") if code.strip())
        if not codes:
            continue
        justification = _justification(rest)
        if kind.lower() == "ignore-file":
            found.append(Suppression(codes, justification, None, comment.line))
            continue
        target = comment.line
        if comment.alone:
            target = comment.end_line + 1
            while target in noncode_lines and target <= last_line:
                target += 1
        found.append(Suppression(codes, justification, target, comment.line))
    return found


def match(suppressions: Iterable[Suppression], hit: Hit) -> Optional[Suppression]:
    """The first suppression that silences ``hit``, or None."""
    for suppression in suppressions:
        if suppression.covers(hit):
            return suppression
    return None
