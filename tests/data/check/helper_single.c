/* Single-phase init through a helper function, and a declared-but-numeric slot value elsewhere. */
#include <Python.h>

static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "helper_single", NULL, -1, NULL};

static PyObject *
build(void)
{
    PyObject *m = PyModule_Create(&def);
    return m;
}

PyMODINIT_FUNC PyInit_helper_single(void) { return build(); }
