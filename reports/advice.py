"""What to do about one result: the closing advice of the site's package page and of ``interp-audit show``.

Both render :func:`what_to_do` (``reports/templates/package.html.j2`` through the
``what_to_do`` template global, ``reports/show.py`` as text), so the two never differ.
"""

from __future__ import annotations

from interp_audit.model import DistributionResult
from interp_audit.reports import why

#: Advice for users of the package, by tier.
FOR_USERS = {
    "own-gil": "You can import it in isolated sub-interpreters with their own GIL "
               "(concurrent.interpreters, InterpreterPoolExecutor, per-interpreter-GIL workers).",
    "shared-gil": "Use it only in sub-interpreters that share the main GIL "
                  "(no per-interpreter-GIL workers); isolated own-GIL interpreters will fail.",
    "legacy-only": "Use it only in legacy sub-interpreters (shared GIL, no extension checks), "
                   "or import it in the main interpreter only.",
    "main-only": "Import it only in the main interpreter: keep it out of every sub-interpreter.",
    "broken": "It does not import even in the main interpreter: fix the installation first "
              "(a missing dependency or a broken build); this is not a sub-interpreter problem.",
}
#: Advice for its maintainers, by tier.
FOR_MAINTAINERS = {
    "shared-gil": "Maintainers: move global state into module state and declare "
                  "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED (PEP 684).",
    "legacy-only": "Maintainers: port the extension modules to multi-phase initialisation (PEP 489) "
                   "with Py_mod_multiple_interpreters.",
    "main-only": "Maintainers: the module must load in sub-interpreters, and in more than one per process: "
                 "multi-phase initialisation (PEP 489) with module state instead of C globals (PEP 630).",
}


def what_to_do(result: DistributionResult) -> list[str]:
    """The advice for ``result``, most important first, one sentence each."""
    lines = []
    if result.tier in FOR_USERS:
        lines.append(FOR_USERS[result.tier])
    if result.one_per_process:
        modules = ", ".join(dict.fromkeys(str(e.get("module")) for e in result.one_per_process))
        lines.append(f"{modules} loads in one interpreter per process: import it in main or in exactly one "
                     "sub-interpreter, never in both.")
    for blocker in result.blocked_by[:1]:
        owner = blocker.distribution or ("the standard library" if blocker.stdlib else blocker.module)
        lines.append(f"It is blocked by {blocker.module} ({owner}): this package becomes usable when {owner} is; "
                     f"upgrade {owner} or ask its maintainers.")
    if "crashed" in result.flags:
        mode, _, crash = why.first_crash(result)
        culprit = crash.culprit if crash is not None and crash.culprit else "it"
        lines.append(f"Importing {culprit} crashed a {mode or 'sub-'}interpreter process: do not load it in "
                     "sub-interpreters; report the crash to its maintainers with the stderr tail "
                     f"(interp-audit show {result.name}).")
    if result.degraded_modules:
        lines.append(f"In sub-interpreters it runs without {', '.join(result.degraded_modules)} (pure-Python "
                     "fallback): expect it to be slower there. Maintainers: make those modules multi-phase.")
    if "smoke-failed" in result.flags:
        lines.append("It imports but misbehaves when used across interpreters (see the smoke checks): "
                     "test your own use before relying on it.")
    if result.cpython_problems or any(c.cpython for c in result.controls):
        lines.append("A crash seen while auditing it is this Python's own: upgrade to the newest patch release.")
    if result.tier in FOR_MAINTAINERS and not result.blocked_by:
        lines.append(FOR_MAINTAINERS[result.tier])
    codes = sorted({f.code for f in result.findings})
    if codes:
        lines.append(f"The fix for each finding: interp-audit explain CODE ({', '.join(codes)}).")
    return lines
