// Shared pieces of the Python module: the Python-owned tensor tape (which keeps alive the Python
// custom ops its nodes call), NumPy conversions, and one registration function per layer.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <vector>

#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::python {

namespace py = pybind11;

// A TensorTape made from Python. A custom op written in Python is a Python object its nodes call
// back, so each record hands it to the tape, which holds it until clear() or its own end.
// (Simulators' fused nodes hold their models in C++: TensorTape::keep_alive.)
class PyTensorTape : public TensorTape {
 public:
  PyTensorTape();
  ~PyTensorTape();
  PyTensorTape(const PyTensorTape&) = delete;
  PyTensorTape& operator=(const PyTensorTape&) = delete;

  void hold(py::handle owner);
  void clear_all() noexcept;

  // The Python tape that owns `var`, or nullptr for a tape maya made itself (gradcheck's).
  [[nodiscard]] static PyTensorTape* owner_of(TensorVar var);
  [[nodiscard]] static PyTensorTape* from(TensorTape& tape);

 private:
  std::vector<py::object> held_;
};

// ---- NumPy ----
// A C-contiguous float64 array with the values of `object`: the same array when it already is
// one (no copy), a contiguous copy of a float64 array of another layout, the conversion of a
// list or a number. Arrays of another dtype raise maya.DTypeError naming `operation` (maya never
// narrows or widens values silently).
[[nodiscard]] py::array float64_array(py::handle object, const char* operation);
[[nodiscard]] Shape shape_of(const py::array& array);
[[nodiscard]] TensorView view_of(const py::array& array, Shape& shape_storage);
// A Tensor with a copy of the values of `object` (float64_array's rules), or the Tensor itself.
[[nodiscard]] Tensor tensor_from(py::handle object, const char* operation);
// An ndarray over `values` without a copy; `owner` is kept alive by it.
[[nodiscard]] py::array array_view(const double* values, ShapeView shape, py::handle owner,
                                   bool writable);
// An ndarray with a copy of the values.
[[nodiscard]] py::array array_copy(TensorView view);
[[nodiscard]] py::tuple shape_tuple(ShapeView shape);
// Integer index lists (spring ends, vertex indices) from a sequence or an integer array.
[[nodiscard]] std::vector<std::int64_t> index_vector(py::handle object, const char* operation);

// A settings struct from keyword arguments (maya.RigidWorldOptions(gravity=(0, -9.8), ...)):
// defaults first, then each keyword set as an attribute (an unknown name raises AttributeError).
template <class Options>
[[nodiscard]] Options from_kwargs(const py::kwargs& kwargs) {
  py::object object = py::cast(Options{});
  for (auto item : kwargs) py::setattr(object, item.first, item.second);
  return object.cast<Options>();
}

// ---- Registration, bottom layer first ----
void register_errors(py::module_& m);
void register_ad(py::module_& m);
void register_tensor(py::module_& m);
void register_tensor_tape(py::module_& m);
void register_ops(py::module_& m);
void register_dynamics(py::module_& m);
void register_optim(py::module_& m);
void register_rigid(py::module_& m);
void register_contact(py::module_& m);
void register_fem(py::module_& m);
void register_io(py::module_& m);

}  // namespace maya::python
