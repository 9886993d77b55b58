# cython: subinterpreters_compatible=own_gil
def f():
        x = 1
    y = 2
cdef int after_the_error = 1
