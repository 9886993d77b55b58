"""Cython sources (``.pyx``, ``.pxd``, ``.pxi``), read with Python's own tokenizer.

No maintained tree-sitter grammar for Cython is published on PyPI, and Cython's
own parser needs the whole compiler.  Cython's token set is Python's (``cdef``,
``ctypedef``, ``<type>`` casts and ``&x`` are names and operators to the
tokenizer), so :mod:`tokenize` gives exact tokens, comments, strings and
indentation.  The checker groups tokens into logical lines and reads the
module-level ones; comments and strings can never be mistaken for code.  Where
the tokenizer gives up (an unterminated string, bad indentation), tokenizing
starts again at the next line that begins in column 0, and the file result
records the problem.

What is reported:

* IA205 every module-level ``cdef`` variable, including those in ``cdef:``
  blocks and in ``.pxd`` files (``cdef extern``, ``cdef class``, structs,
  enums, functions and prototypes are not variables).
* IA401 a ``.pyx`` module whose header has no ``# cython:
  subinterpreters_compatible=...`` directive, or sets it to ``no``; IA104 when
  it sets ``shared_gil``.  ``own_gil`` is what per-interpreter GIL support needs.
  A directive given in ``cythonize(compiler_directives=...)`` instead is not
  visible here: suppress IA401 in ``[tool.interp-audit] ignore`` then.
"""

from __future__ import annotations

import os
import tokenize
from dataclasses import dataclass
from typing import Iterator, Optional

from interp_audit.check.interface import Comment, FileResult, Hit, Location, SourceChecker

DIRECTIVE = "subinterpreters_compatible"
#: Words after ``cdef`` that start something other than a variable.
_NOT_VARIABLES = frozenset(
    {"class", "struct", "union", "enum", "cppclass", "fused", "extern", "packed", "ctypedef", "inline", "cpdef"}
)
_MODIFIERS = frozenset({"public", "api", "readonly", "const", "volatile", "static"})
_OPENING, _CLOSING = "([{", ")]}"


@dataclass
class _Token:
    kind: int
    text: str
    line: int  # 1-based
    column: int  # 0-based, in characters
    end_line: int
    end_column: int


@dataclass
class _LogicalLine:
    depth: int
    tokens: list[_Token]


class _Tokens:
    """Tokens, comments and logical lines of a Cython file, with restarts after tokenizer errors."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.logical: list[_LogicalLine] = []
        self.comments: list[Comment] = []
        self.problems: list[str] = []
        start = 0
        while start is not None:
            start = self._run(start)

    def _run(self, start: int) -> Optional[int]:
        """Tokenize from line index ``start``; return where to restart after an error, or None."""
        depth, current, current_depth = 0, [], 0
        readline = iter(self.lines[start:]).__next__
        last_line = start
        try:
            for raw in tokenize.generate_tokens(lambda: _next_or_empty(readline)):
                token = _Token(raw.type, raw.string, raw.start[0] + start, raw.start[1],
                               raw.end[0] + start, raw.end[1])
                last_line = token.line
                if raw.type == tokenize.INDENT:
                    depth += 1
                elif raw.type == tokenize.DEDENT:
                    depth -= 1
                elif raw.type == tokenize.COMMENT:
                    before = raw.line[: raw.start[1]] if raw.line else ""
                    self.comments.append(Comment(token.line, token.line, raw.string, alone=not before.strip()))
                elif raw.type == tokenize.NEWLINE:
                    if current:
                        self.logical.append(_LogicalLine(current_depth, current))
                    current = []
                elif raw.type in (tokenize.NL, tokenize.ENDMARKER):
                    continue
                else:
                    if not current:
                        current_depth = depth
                    current.append(token)
        except (tokenize.TokenError, SyntaxError) as error:
            line = _error_line(error, last_line) + start if isinstance(error, tokenize.TokenError) else (
                (error.lineno or 1) + start)
            self.problems.append("line %d: tokenizer stopped (%s); resumed at the next unindented line"
                                 % (line, error.args[0] if error.args else error))
            for index in range(max(line, last_line), len(self.lines)):
                text = self.lines[index]
                if text[:1] not in ("", " ", "\t", "\n", "\r", "#", "\f"):
                    return index
            return None
        if current:
            self.logical.append(_LogicalLine(current_depth, current))
        return None


def _next_or_empty(readline) -> str:
    try:
        return readline()
    except StopIteration:
        return ""


def _error_line(error: tokenize.TokenError, fallback: int) -> int:
    if len(error.args) > 1 and isinstance(error.args[1], tuple) and error.args[1]:
        return int(error.args[1][0])
    return fallback


def _directives(tokens: _Tokens) -> dict[str, tuple[str, Comment]]:
    """``# cython: key=value, ...`` comments before the first statement."""
    first = tokens.logical[0].tokens[0].line if tokens.logical else float("inf")
    found: dict[str, tuple[str, Comment]] = {}
    for comment in tokens.comments:
        if comment.line >= first:
            break
        body = comment.text.lstrip("#").strip()
        if not body.startswith("cython:"):
            continue
        for pair in body[len("cython:"):].split(","):
            key, _, value = pair.partition("=")
            if key.strip():
                found[key.strip()] = (value.strip().strip("\"'"), comment)
    return found


def _variables(tokens: list[_Token]) -> Iterator[tuple[_Token, str]]:
    """(name token, type text) of each variable a ``cdef`` declaration (without ``cdef``) declares."""
    index = 0
    while index < len(tokens) and tokens[index].text in _MODIFIERS:
        index += 1
    body = tokens[index:]
    if not body or body[0].text in _NOT_VARIABLES or body[-1].text == ":":
        return
    segments: list[list[_Token]] = [[]]
    level = 0
    for token in body:
        if token.text in _OPENING:
            level += 1
        elif token.text in _CLOSING:
            level -= 1
        if token.text == "," and level == 0:
            segments.append([])
        else:
            segments[-1].append((token, level))  # type: ignore[arg-type]
    base_type = ""
    for number, segment in enumerate(segments):
        declarator = []
        for token, level in segment:  # type: ignore[misc]
            if token.text == "=" and level == 0:
                break
            declarator.append((token, level))
        parenthesis = next((i for i, (t, lv) in enumerate(declarator) if t.text == "(" and lv == 1), None)
        if parenthesis is not None:
            after = declarator[parenthesis + 1][0].text if parenthesis + 1 < len(declarator) else ""
            if after not in ("*", "&"):
                return  # a function prototype
            inner = [t for t, lv in declarator[parenthesis + 1:] if t.kind == tokenize.NAME]
            if inner:
                yield inner[0], _type_text(declarator[:parenthesis]) + " (*)(...)"
            continue
        names = [(i, t) for i, (t, lv) in enumerate(declarator) if t.kind == tokenize.NAME and lv == 0]
        if not names:
            continue
        if number == 0:
            position, name = names[-1]
            type_text = _type_text(declarator[:position])
            base_type = type_text.rstrip("*& ")
        else:
            position, name = names[0]
            type_text = (base_type + " " + _type_text(declarator[:position])).strip()
        yield name, type_text


def _type_text(tokens) -> str:
    """Tokens joined as written: a space only where the source has one."""
    text, previous = "", None
    for token, _ in tokens:
        if previous is not None and (token.line, token.column) != (previous.end_line, previous.end_column):
            text += " "
        text += token.text
        previous = token
    return text


class CythonChecker(SourceChecker):
    """Module-level ``cdef`` globals and the sub-interpreter directive of Cython modules."""

    language = "cython"
    suffixes = (".pyx", ".pxd", ".pxi")
    codes = ("IA104", "IA205", "IA401")

    def check(self, source: bytes, path: str) -> FileResult:
        text = source.decode("utf-8", "replace")
        tokens = _Tokens(text)
        module = os.path.basename(path).split(".")[0]
        hits: list[Hit] = []
        self._globals(tokens, path, module, hits)
        if path.endswith(".pyx"):
            self._directive(tokens, path, module, hits)
        hits.sort(key=lambda hit: (hit.location.line, hit.location.column, hit.code))
        noncode = {number for number, line in enumerate(tokens.lines, 1) if not line.strip()}
        noncode.update(comment.line for comment in tokens.comments if comment.alone)
        return FileResult(path, self.language, len(tokens.lines), hits, tokens.comments, frozenset(noncode),
                          tokens.problems)

    def _globals(self, tokens: _Tokens, path: str, module: str, hits: list[Hit]) -> None:
        in_block = False
        for line in tokens.logical:
            words = [token.text for token in line.tokens]
            if line.depth == 0:
                in_block = words == ["cdef", ":"]
                if in_block or words[0] != "cdef":
                    continue
                declaration = line.tokens[1:]
            elif in_block and line.depth == 1:
                declaration = line.tokens
            else:
                continue
            for name, type_text in _variables(declaration):
                kind = " %s" % type_text if type_text else ""
                location = Location(path, name.line, name.column + 1, name.end_line, name.end_column + 1)
                hits.append(Hit("IA205", location, "module-level cdef%s %s is a C global shared by every interpreter"
                                % (kind, name.text), name.text, line.tokens[0].line, module))

    def _directive(self, tokens: _Tokens, path: str, module: str, hits: list[Hit]) -> None:
        setting = _directives(tokens).get(DIRECTIVE)
        if setting is None:
            first = tokens.lines[0].rstrip("\r\n") if tokens.lines else ""
            location = Location(path, 1, 1, 1, len(first) + 1)
            hits.append(Hit("IA401", location, "no '# cython: %s=own_gil' directive in the module header" % DIRECTIVE,
                            module, 1, module))
            return
        value, comment = setting
        location = Location(path, comment.line, 1, comment.line, len(comment.text) + 1)
        if value == "shared_gil":
            hits.append(Hit("IA104", location, "%s=shared_gil: the module declares shared-GIL support only" % DIRECTIVE,
                            module, comment.line, module))
        elif value != "own_gil":
            hits.append(Hit("IA401", location, "%s=%s: the module declares no sub-interpreter support"
                            % (DIRECTIVE, value or "(empty)"), module, comment.line, module))
