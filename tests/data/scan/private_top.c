/* _ia_priv: a private top-level single-phase module (like PyYAML's _yaml shim); the public
 * package ia_pub imports it when it can. */
#include <Python.h>

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_ia_priv", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__ia_priv(void) { return PyModule_Create(&module_def); }
