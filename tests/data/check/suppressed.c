/* Suppression comments: every finding here but one is silenced. */
#include <Python.h>

static PyObject *trailing; // interp-audit: ignore[IA201] set once at import, never replaced

// interp-audit: ignore[IA201] read-only after exec
static PyObject *above;

/* interp-audit: ignore[IA202,IA201] legacy type, ported in issue 12 */

static PyTypeObject Legacy_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "suppressed.Legacy",
};

static PyObject *not_silenced;

static PyObject *
lookup(PyObject *self)
{
    /* interp-audit: ignore[IA203] */ return PyState_FindModule(NULL);
}

// interp-audit: ignore-file[IA101] single-phase on purpose in this example
PyMODINIT_FUNC PyInit_suppressed(void) { return PyModule_Create(NULL); }
