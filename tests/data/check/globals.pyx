# cython: language_level=3
"""A Cython module with module-level cdef variables (expected findings in test_check.py)."""
from libc.stdlib cimport malloc

cdef extern from "lib.h":
    int lib_counter

cdef int counter = 0
cdef dict _cache = {}, *_other
cdef object (*callback)(object)
cdef int helper(int x) nogil
cdef inline int twice(int x):
    return 2 * x

cdef class Box:
    cdef int value

cdef:
    double scale
    list names = []

def bump():
    cdef int local = 1
    global counter
    counter += local
