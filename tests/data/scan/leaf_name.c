/* A single-phase extension installed as ia_leafname._leaf whose PyModuleDef
 * names it by its leaf only ("_leaf"), as many real packages do: CPython's
 * refusal then says "module _leaf does not support loading in subinterpreters". */
#include <Python.h>

static struct PyModuleDef leaf_def = {PyModuleDef_HEAD_INIT, "_leaf", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__leaf(void) { return PyModule_Create(&leaf_def); }
