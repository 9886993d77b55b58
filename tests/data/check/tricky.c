/* Constructs a line-based scanner gets wrong; expected findings in test_check.py. */
#include <Python.h>

/* PyState_FindModule and PyGILState_Ensure in a comment are not calls. */
static const char *doc = "calls PyGILState_Ensure() and PyState_FindModule()";
static const char *names[] = {"a", "b", NULL};   /* never written: not state */
extern PyObject *defined_elsewhere;             /* a declaration, not a definition */
static PyObject *(*hook)(PyObject *);           /* function pointer, written below */
static PyObject *make(PyObject *arg);           /* a prototype */
static long calls;                              /* written inside a threads block */
static int shadowed;                            /* only a local of the same name is written */
static struct { int hits; } stats;              /* a field is written */

typedef struct {
    PyObject_HEAD
    int value;
} Box;

static Box *singleton;                          /* a Python object struct (PyObject_HEAD) */

#define FIND(def) PyState_FindModule(def)

static PyObject *
make(PyObject *arg)
{
    static PyObject *cached = NULL;             /* function-static object */
    static int initialised;                     /* function-static, written */
    int shadowed = 0;
    shadowed++;
    Py_BEGIN_ALLOW_THREADS
    calls++;
    Py_END_ALLOW_THREADS
    if (!initialised) {
        initialised = 1;
    }
    stats.hits += 1;
    hook = NULL;
    return cached;
}

static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "tricky", NULL, 0, NULL, slots};

static PyObject *
create(void)
{
    return PyModuleDef_Init(&def);
}

PyMODINIT_FUNC PyInit_tricky(void) { return create(); }
