# cython: subinterpreters_compatible=shared_gil
def answer():
    return 42
