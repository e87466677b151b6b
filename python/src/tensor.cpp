// maya.Tensor: an owning float64 array that NumPy reads and writes in place (buffer protocol, no
// copy); built from any array-like (float64 arrays only, see float64_array).
#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/index_tensor.hpp"

namespace maya::python {

void register_tensor(py::module_& m) {
  py::class_<Tensor> tensor(m, "Tensor", py::buffer_protocol(),
                            "An owning, contiguous, row-major float64 array. numpy.asarray(t) "
                            "and t.numpy() view its values without a copy.");
  tensor
      .def(py::init([](py::handle values) { return tensor_from(values, "Tensor"); }),
           py::arg("values"))
      .def_buffer([](Tensor& t) {
        std::vector<py::ssize_t> extents(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(extents.size());
        py::ssize_t stride = sizeof(double);
        for (std::size_t i = extents.size(); i-- > 0;) {
          strides[i] = stride;
          stride *= extents[i];
        }
        return py::buffer_info(t.mutable_data().data(), sizeof(double),
                               py::format_descriptor<double>::format(),
                               static_cast<py::ssize_t>(extents.size()), extents, strides);
      })
      .def(
          "numpy",
          [](py::object self) {
            Tensor& t = self.cast<Tensor&>();
            return array_view(t.mutable_data().data(), t.shape(), self, true);
          },
          "The values as an ndarray that shares this tensor's memory (no copy).")
      .def(
          "__array__",
          [](py::object self, py::object dtype) {
            Tensor& t = self.cast<Tensor&>();
            py::array view = array_view(t.mutable_data().data(), t.shape(), self, true);
            if (dtype.is_none()) return view;
            return py::array(view.attr("astype")(dtype));
          },
          py::arg("dtype") = py::none())
      // The factories' device argument stays in C++: the Python package works on the CPU.
      .def_static(
          "zeros", [](Shape shape) { return Tensor::zeros(std::move(shape)); }, py::arg("shape"))
      .def_static(
          "ones", [](Shape shape) { return Tensor::ones(std::move(shape)); }, py::arg("shape"))
      .def_static(
          "full", [](Shape shape, double value) { return Tensor::full(std::move(shape), value); },
          py::arg("shape"), py::arg("value"))
      .def_static("scalar", &Tensor::scalar, py::arg("value"))
      .def_static("arange", &Tensor::arange, py::arg("start"), py::arg("stop"),
                  py::arg("step") = 1.0)
      .def_static("linspace", &Tensor::linspace, py::arg("start"), py::arg("stop"),
                  py::arg("count"))
      .def_static(
          "uniform",
          [](Shape shape, double low, double high, std::uint64_t seed) {
            return Tensor::uniform(std::move(shape), low, high, seed);
          },
          py::arg("shape"), py::arg("low"), py::arg("high"), py::arg("seed"))
      .def_static(
          "normal",
          [](Shape shape, double mean, double stddev, std::uint64_t seed) {
            return Tensor::normal(std::move(shape), mean, stddev, seed);
          },
          py::arg("shape"), py::arg("mean"), py::arg("stddev"), py::arg("seed"))
      .def_property_readonly("shape", [](const Tensor& t) { return shape_tuple(t.shape()); })
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("numel", &Tensor::numel)
      .def_property_readonly("device",
                             [](const Tensor& t) { return std::string(to_string(t.device())); })
      .def("__len__",
           [](const Tensor& t) {
             if (t.ndim() == 0) throw py::type_error("len() of a 0-d Tensor");
             return t.shape()[0];
           })
      .def(
          "at",
          [](const Tensor& t, const std::vector<std::size_t>& index) {
            return t.at(std::span<const std::size_t>(index));
          },
          py::arg("index"))
      .def("item", &Tensor::item)
      .def("__float__", &Tensor::item)
      .def("reshape", &Tensor::reshape, py::arg("shape"))
      .def("copy", [](const Tensor& t) { return Tensor(t); })
      .def("__repr__", [](const Tensor& t) {
        std::ostringstream text;
        text << t;
        return text.str();
      });
  // Functions that take a Tensor take NumPy arrays and lists too (copied once, into the Tensor).
  py::implicitly_convertible<py::array, Tensor>();
  py::implicitly_convertible<py::list, Tensor>();
  py::implicitly_convertible<py::tuple, Tensor>();

  m.def("allclose", &allclose, py::arg("a"), py::arg("b"), py::arg("rtol") = 1e-5,
        py::arg("atol") = 1e-8);
  m.def("max_abs_difference", &max_abs_difference, py::arg("a"), py::arg("b"));

  py::class_<IndexTensor>(m, "IndexTensor", "Integer index arrays for gather and scatter_add.")
      .def(py::init([](py::handle values) {
             const py::array array = py::module_::import("numpy").attr("asarray")(values);
             return IndexTensor::from_data(index_vector(array, "IndexTensor"), shape_of(array));
           }),
           py::arg("values"))
      .def_property_readonly("shape", [](const IndexTensor& t) { return shape_tuple(t.shape); })
      .def_property_readonly("values", [](const IndexTensor& t) { return t.values; });
  py::implicitly_convertible<py::array, IndexTensor>();
  py::implicitly_convertible<py::list, IndexTensor>();

  py::class_<GradcheckReport>(m, "GradcheckReport")
      .def_readonly("worst_error", &GradcheckReport::worst_error)
      .def_readonly("worst_entry", &GradcheckReport::worst_entry)
      .def_readonly("analytic", &GradcheckReport::analytic)
      .def_readonly("numeric", &GradcheckReport::numeric)
      .def("max_error", &GradcheckReport::max_error);
}

}  // namespace maya::python
