// pybind11 module (pybind11 >= 3 options) and C++ globals.
#include <pybind11/pybind11.h>
#include <vector>
namespace py = pybind11;

static py::object cache;                       // a Python object at namespace scope
namespace detail {
std::vector<PyObject *> registry;              // a container of Python objects
}

class Holder {
  public:
    static PyObject *shared;                   // static data member holding an object
    PyObject *own;                             // per-instance: fine
};

int add(int a, int b) { return a + b; }

PYBIND11_MODULE(binding, m, py::mod_gil_not_used(), py::multiple_interpreters::shared_gil()) {
    m.def("add", &add);
}
