// The extension module maya._maya; python/maya/__init__.py re-exports it as `maya`.
#include "bindings.hpp"
#include "maya/core/threads.hpp"

namespace maya::python {
void register_custom_op(py::module_& m);  // custom_op.cpp
}  // namespace maya::python

PYBIND11_MODULE(_maya, m) {
  namespace python = maya::python;
  namespace py = pybind11;
  m.doc() = "maya: differentiable physics (C++20), from Python";
  python::register_errors(m);
  m.def("set_num_threads", &maya::set_num_threads, py::arg("count"),
        "Threads maya's parallel kernels may use (default 1).");
  m.def("num_threads", &maya::num_threads);
  python::register_ad(m);
  python::register_tensor(m);
  python::register_tensor_tape(m);
  python::register_ops(m);
  python::register_custom_op(m);
  python::register_dynamics(m);
  python::register_optim(m);
  python::register_rigid(m);
  python::register_contact(m);
  python::register_fem(m);
  python::register_io(m);
}
