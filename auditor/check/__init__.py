"""``interp-audit check``: a linter for C, C++ and Cython extension sources.

It reports what stands between a module and per-interpreter-GIL support
(single-phase init, missing or weak ``Py_mod_multiple_interpreters`` slots,
process-wide state, ``PyState_*`` and ``PyGILState_*`` calls, Cython globals and
directives) with the rule codes of the scan's catalogue, at file and line.
"""
