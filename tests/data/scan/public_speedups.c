/* ia_accel.speedups: a public-named single-phase accelerator (like websockets.speedups);
 * ia_accel.frames falls back to Python when it cannot be imported. */
#include <Python.h>

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "ia_accel.speedups", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_speedups(void) { return PyModule_Create(&module_def); }
