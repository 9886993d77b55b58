# cython: language_level=3, subinterpreters_compatible=own_gil
# distutils: extra_compile_args = -DCYTHON_USE_MODULE_STATE=1
"""Declares per-interpreter GIL support and keeps no cdef globals."""

def answer():
    return 42
