"""Reference URLs quoted by the rules, named once so that texts stay consistent.

Documentation links are pinned to 3.13 so that anchors survive later page reorganisations.
"""

PEP_489 = "https://peps.python.org/pep-0489/"
PEP_630 = "https://peps.python.org/pep-0630/"
PEP_684 = "https://peps.python.org/pep-0684/"
PEP_687 = "https://peps.python.org/pep-0687/"
PEP_703 = "https://peps.python.org/pep-0703/"
PEP_734 = "https://peps.python.org/pep-0734/"

HOWTO_ISOLATING = "https://docs.python.org/3.13/howto/isolating-extensions.html"
HOWTO_FREE_THREADING = "https://docs.python.org/3.13/howto/free-threading-extensions.html"
CAPI_MULTIPHASE = "https://docs.python.org/3.13/c-api/module.html#multi-phase-initialization"
CAPI_MULTIPLE_INTERPRETERS_SLOT = "https://docs.python.org/3.13/c-api/module.html#c.Py_mod_multiple_interpreters"
CAPI_GIL_SLOT = "https://docs.python.org/3.13/c-api/module.html#c.Py_mod_gil"
CAPI_MODULE_STATE = "https://docs.python.org/3.13/c-api/module.html#c.PyModule_GetState"
CAPI_FIND_MODULE = "https://docs.python.org/3.13/c-api/module.html#c.PyState_FindModule"
CAPI_TYPE_FROM_SPEC = "https://docs.python.org/3.13/c-api/type.html#c.PyType_FromModuleAndSpec"
CAPI_GET_MODULE_BY_DEF = "https://docs.python.org/3.13/c-api/type.html#c.PyType_GetModuleByDef"
CAPI_SUBINTERPRETERS = "https://docs.python.org/3.13/c-api/init.html#sub-interpreter-support"
CAPI_GILSTATE = "https://docs.python.org/3.13/c-api/init.html#non-python-created-threads"

CYTHON_DIRECTIVES = "https://cython.readthedocs.io/en/latest/src/userguide/source_files_and_compilation.html#compiler-directives"
PYBIND11_SUBINTERPRETERS = "https://pybind11.readthedocs.io/en/stable/advanced/misc.html#sub-interpreter-support"
PYO3_SUBINTERPRETERS_ISSUE = "https://github.com/PyO3/pyo3/issues/576"
NANOBIND_CHANGELOG = "https://nanobind.readthedocs.io/en/latest/changelog.html"
SWIG_CHANGES = "https://www.swig.org/Release/CHANGES"
CFFI_INIT_ONCE = "https://cffi.readthedocs.io/en/stable/ref.html#ffi-init-once"
MYPYC_DOCS = "https://mypyc.readthedocs.io/en/latest/"
HPY_PORTING_GUIDE = "https://docs.hpyproject.org/en/latest/porting-guide.html"
