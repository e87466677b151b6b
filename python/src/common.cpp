// The Python-owned tensor tape and the NumPy conversions every layer's bindings use.
#include <algorithm>
#include <string>
#include <unordered_set>

#include "bindings.hpp"
#include "errors.hpp"

namespace maya::python {

namespace {

// Tapes made from Python (the module's code runs under the GIL, which guards this set).
std::unordered_set<const TensorTape*>& python_tapes() {
  static std::unordered_set<const TensorTape*> tapes;
  return tapes;
}

}  // namespace

PyTensorTape::PyTensorTape() { python_tapes().insert(this); }
PyTensorTape::~PyTensorTape() { python_tapes().erase(this); }

void PyTensorTape::hold(py::handle owner) {
  if (!held_.empty() && held_.back().ptr() == owner.ptr()) return;
  for (const py::object& held : held_) {
    if (held.ptr() == owner.ptr()) return;
  }
  held_.push_back(py::reinterpret_borrow<py::object>(owner));
}

void PyTensorTape::clear_all() noexcept {
  clear();
  held_.clear();
}

PyTensorTape* PyTensorTape::owner_of(TensorVar var) { return from(var.tape()); }

PyTensorTape* PyTensorTape::from(TensorTape& tape) {
  if (python_tapes().count(&tape) == 0) return nullptr;
  return static_cast<PyTensorTape*>(&tape);
}

py::array float64_array(py::handle object, const char* operation) {
  if (py::isinstance<py::array>(object)) {
    auto array = py::reinterpret_borrow<py::array>(object);
    if (!array.dtype().is(py::dtype::of<double>())) {
      raise_dtype_error(
          std::string(operation) + ": expected float64 values, got an array of dtype " +
          py::str(array.dtype()).cast<std::string>() + " (convert it with .astype(numpy.float64))");
    }
    if (array.flags() & py::array::c_style) return array;
    return py::array_t<double, py::array::c_style>::ensure(array);
  }
  // Lists, tuples and numbers carry no dtype: NumPy converts them (and raises for the rest).
  py::module_ numpy = py::module_::import("numpy");
  py::object converted = numpy.attr("asarray")(object, py::arg("dtype") = numpy.attr("float64"));
  return py::array_t<double, py::array::c_style>::ensure(converted);
}

Shape shape_of(const py::array& array) {
  Shape shape(static_cast<std::size_t>(array.ndim()));
  for (std::size_t i = 0; i < shape.size(); ++i) {
    shape[i] = static_cast<std::size_t>(array.shape(static_cast<py::ssize_t>(i)));
  }
  return shape;
}

TensorView view_of(const py::array& array, Shape& shape_storage) {
  shape_storage = shape_of(array);
  return TensorView{static_cast<const double*>(array.data()), shape_storage};
}

Tensor tensor_from(py::handle object, const char* operation) {
  if (py::isinstance<Tensor>(object)) return object.cast<const Tensor&>();
  const py::array array = float64_array(object, operation);
  Shape shape;
  return Tensor::from_view(view_of(array, shape));
}

py::array array_view(const double* values, ShapeView shape, py::handle owner, bool writable) {
  std::vector<py::ssize_t> extents(shape.begin(), shape.end());
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t stride = sizeof(double);
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= static_cast<py::ssize_t>(shape[i]);
  }
  // A null pointer of an empty tensor would make NumPy allocate; any aligned address will do.
  static const double kEmpty = 0.0;
  py::array array(py::dtype::of<double>(), std::move(extents), std::move(strides),
                  values != nullptr ? values : &kEmpty, owner);
  if (!writable) {
    py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  }
  return array;
}

py::array array_copy(TensorView view) {
  std::vector<py::ssize_t> extents(view.shape.begin(), view.shape.end());
  py::array_t<double> array(extents);
  if (view.numel() > 0) {
    std::copy_n(view.values, view.numel(), static_cast<double*>(array.mutable_data()));
  }
  return array;
}

py::tuple shape_tuple(ShapeView shape) {
  py::tuple tuple(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) tuple[i] = py::int_(shape[i]);
  return tuple;
}

std::vector<std::int64_t> index_vector(py::handle object, const char* operation) {
  py::module_ numpy = py::module_::import("numpy");
  const py::array array = numpy.attr("asarray")(object);
  if (array.size() > 0 && array.dtype().kind() != 'i' && array.dtype().kind() != 'u') {
    raise_dtype_error(std::string(operation) + ": expected integer indices, got dtype " +
                      py::str(array.dtype()).cast<std::string>());
  }
  const auto ints =
      py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
  const auto* data = ints.data();
  return std::vector<std::int64_t>(data, data + ints.size());
}

}  // namespace maya::python
