// User-defined tensor ops in Python: a subclass of maya.TensorOp with name and backward(context),
// recorded by tape.record(op, inputs, values). The context hands out copies of the node's
// values and adds into input gradients (accumulate_grad), so nothing a backward() keeps can
// point into the tape's memory after the sweep.
#include <pybind11/stl.h>

#include <string>

#include "bindings.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/tensor_op.hpp"

namespace maya::python {

namespace {

class PyTensorOp : public TensorOp {
 public:
  explicit PyTensorOp(std::string name) : name_(std::move(name)) {}
  [[nodiscard]] std::string_view name() const noexcept override { return name_; }
  void backward(BackwardContext& context) const override {
    // grad() keeps the GIL, but a sweep started from C++ (an optimizer's objective) may not.
    py::gil_scoped_acquire gil;
    PYBIND11_OVERRIDE_PURE(void, TensorOp, backward, context);
  }

 private:
  std::string name_;
};

}  // namespace

void register_custom_op(py::module_& m) {
  py::class_<BackwardContext>(m, "BackwardContext", "What TensorOp.backward sees of its node.")
      .def_property_readonly("num_inputs", &BackwardContext::num_inputs)
      .def(
          "input", [](const BackwardContext& c, std::size_t i) { return array_copy(c.input(i)); },
          py::arg("i"), "A copy of input i's value.")
      .def("output", [](const BackwardContext& c) { return array_copy(c.output()); })
      .def("grad_output", [](const BackwardContext& c) { return array_copy(c.grad_output()); })
      .def("needs_grad", &BackwardContext::needs_grad, py::arg("i"))
      .def(
          "accumulate_grad",
          [](BackwardContext& c, std::size_t i, py::handle gradient) {
            const py::array array = float64_array(gradient, "accumulate_grad");
            const MutableTensorView target = c.grad_input(i);
            if (shape_of(array) != Shape(target.shape.begin(), target.shape.end())) {
              throw ShapeError("accumulate_grad: input " + std::to_string(i) + " has shape " +
                               shape_string(target.shape) + ", the gradient " +
                               shape_string(shape_of(array)));
            }
            const auto* values = static_cast<const double*>(array.data());
            for (std::size_t k = 0; k < target.numel(); ++k) target[k] += values[k];
          },
          py::arg("i"), py::arg("gradient"),
          "Adds d loss / d input i (the shape of input i) into its gradient.");

  py::class_<TensorOp, PyTensorOp>(m, "TensorOp",
                                   "Subclass with __init__ calling super().__init__(name) and "
                                   "backward(self, context); record with tape.record.")
      .def(py::init<std::string>(), py::arg("name"))
      .def_property_readonly("name", [](const TensorOp& op) { return std::string(op.name()); })
      .def("backward", &TensorOp::backward, py::arg("context"));

  auto tape = py::reinterpret_borrow<py::class_<TensorTape, std::shared_ptr<TensorTape>>>(
      m.attr("TensorTape"));
  tape.def(
      "record",
      [](TensorTape& t, py::object op, const std::vector<TensorVar>& inputs, py::handle values) {
        const py::array array = float64_array(values, "TensorTape.record");
        Shape shape;
        const TensorView view = view_of(array, shape);
        if (PyTensorTape* owned = PyTensorTape::from(t)) owned->hold(op);
        return t.record(
            op.cast<const TensorOp&>(), std::span<const TensorVar>(inputs), shape,
            [&view](MutableTensorView out) { std::copy_n(view.values, view.numel(), out.values); });
      },
      py::arg("op"), py::arg("inputs"), py::arg("values"),
      "Records a node of `op` over `inputs` whose value is `values` (computed by the caller).");
}

}  // namespace maya::python
