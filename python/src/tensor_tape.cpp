// maya.TensorTape, maya.TensorVar and maya.TensorGradients. Leaves are made from NumPy arrays
// with one copy (into the tape); values come back as read-only views of the tape's memory.
#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::python {

namespace {

using TapeHandle = std::shared_ptr<TensorTape>;

TensorVar leaf(TensorTape& tape, py::handle value, bool is_var) {
  const char* operation = is_var ? "TensorTape.var" : "TensorTape.constant";
  if (py::isinstance<Tensor>(value)) {
    const auto& tensor = value.cast<const Tensor&>();
    return is_var ? tape.var(tensor) : tape.constant(tensor);
  }
  const py::array array = float64_array(value, operation);
  Shape shape;
  const TensorView view = view_of(array, shape);
  return is_var ? tape.var(view) : tape.constant(view);
}

// The tape's Python object (so a view of its memory keeps it alive).
py::object tape_object(TensorVar var) {
  return py::cast(&var.tape(), py::return_value_policy::reference);
}

}  // namespace

void register_tensor_tape(py::module_& m) {
  py::class_<TensorGradients>(m, "TensorGradients",
                              "Gradients of a loss with respect to the var() leaves of a tape.")
      .def(
          "__getitem__",
          [](py::object self, TensorVar var) {
            const Tensor& g = self.cast<const TensorGradients&>()[var];
            return array_view(g.data().data(), g.shape(), self, true);
          },
          "d loss / d leaf, as an ndarray viewing these gradients' memory (no copy).")
      .def(
          "tensor", [](const TensorGradients& g, TensorVar var) { return g[var]; },
          "d loss / d leaf as a maya.Tensor (a copy).")
      .def("__len__", &TensorGradients::size);

  py::class_<TensorTape, TapeHandle>(m, "TensorTape",
                                     "The tensor tape: records tensor ops and sweeps them in "
                                     "reverse.")
      .def(py::init([] { return TapeHandle(std::make_shared<PyTensorTape>()); }))
      .def(
          "var", [](TensorTape& t, py::handle value) { return leaf(t, value, true); },
          py::arg("value"),
          "A differentiable leaf from a maya.Tensor, a float64 ndarray (copied once, into the "
          "tape) or a list.")
      .def(
          "constant", [](TensorTape& t, py::handle value) { return leaf(t, value, false); },
          py::arg("value"), "A non-differentiable input.")
      // The sweep keeps the GIL: another thread recording on this tape meanwhile would race.
      .def("grad", py::overload_cast<TensorVar>(&TensorTape::grad), py::arg("loss"))
      .def("grad", py::overload_cast<TensorVar, TensorGradients&>(&TensorTape::grad),
           py::arg("loss"), py::arg("out"))
      .def(
          "clear",
          [](TensorTape& t) {
            if (PyTensorTape* owned = PyTensorTape::from(t)) {
              owned->clear_all();
            } else {
              t.clear();
            }
          },
          "Forgets every node (their TensorVars and views become invalid), keeping the memory.")
      .def("__len__", &TensorTape::size)
      .def_property_readonly("size", &TensorTape::size)
      .def_property_readonly("bytes_used", &TensorTape::bytes_used)
      .def_property("finite_check", &TensorTape::finite_check, &TensorTape::set_finite_check)
      .def_property("flush_subnormals", &TensorTape::flush_subnormals,
                    &TensorTape::set_flush_subnormals)
      .def("requires_grad", &TensorTape::requires_grad);

  py::class_<TensorVar> var(m, "TensorVar",
                            "A tensor recorded on a TensorTape (a handle: cheap to copy).");
  var.attr("__array_ufunc__") = py::none();
  var.def(py::init<>())
      .def_property_readonly("idx", &TensorVar::idx)
      .def_property_readonly("valid", &TensorVar::valid)
      .def_property_readonly("tape", &tape_object)
      .def("value", &TensorVar::value, "A copy of the value, as a maya.Tensor.")
      .def(
          "numpy",
          [](TensorVar v) {
            const TensorView view = v.view();
            // A tape maya made itself (gradcheck's) lives only for the call: copy its values.
            if (PyTensorTape::owner_of(v) == nullptr) return array_copy(view);
            return array_view(view.values, view.shape, tape_object(v), false);
          },
          "The value as a read-only ndarray over the tape's memory (no copy): the tape needs it "
          "unchanged for the reverse sweep. Valid until the tape is cleared.")
      .def(
          "__array__",
          [](TensorVar v, py::object dtype) {
            py::array copy = array_copy(v.view());
            if (dtype.is_none()) return copy;
            return py::array(copy.attr("astype")(dtype));
          },
          py::arg("dtype") = py::none())
      .def_property_readonly("shape", [](TensorVar v) { return shape_tuple(v.shape()); })
      .def_property_readonly("numel", &TensorVar::numel)
      .def_property_readonly("ndim", &TensorVar::ndim)
      .def("item", &TensorVar::item)
      .def("__float__", &TensorVar::item)
      .def("__len__",
           [](TensorVar v) {
             if (v.ndim() == 0) throw py::type_error("len() of a 0-d TensorVar");
             return v.shape()[0];
           })
      .def("__repr__", [](TensorVar v) {
        std::ostringstream text;
        if (v.valid()) {
          text << "TensorVar(shape=" << shape_string(v.shape()) << ", " << v.value() << ")";
        } else {
          text << "TensorVar(<unbound>)";
        }
        return text.str();
      });
}

}  // namespace maya::python
