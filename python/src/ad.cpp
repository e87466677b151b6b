// The scalar tape: maya.Tape, maya.Var (with Python operators) and maya.Gradients.
#include <pybind11/operators.h>
#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"
#include "maya/ad/tape.hpp"
#include "maya/ad/var.hpp"
#include "maya/ad/var_math.hpp"

namespace maya::python {

void register_ad(py::module_& m) {
  py::class_<Var> var(m, "Var", "A value recorded on a scalar Tape (a handle: cheap to copy).");
  // ndarray + Var defers to Var.__radd__ instead of making an object array.
  var.attr("__array_ufunc__") = py::none();
  var.def(py::init<>())
      .def_property_readonly("value", &Var::value)
      .def("__float__", &Var::value)
      .def_property_readonly("idx", &Var::idx)
      .def_property_readonly("valid", &Var::valid)
      .def("__repr__",
           [](Var v) {
             std::ostringstream text;
             if (v.valid()) {
               text << "Var(" << v.value() << ")";
             } else {
               text << "Var(<unbound>)";
             }
             return text.str();
           })
      .def(py::self + py::self)
      .def(py::self - py::self)
      .def(py::self * py::self)
      .def(py::self / py::self)
      .def(py::self + double())
      .def(double() + py::self)
      .def(py::self - double())
      .def(double() - py::self)
      .def(py::self * double())
      .def(double() * py::self)
      .def(py::self / double())
      .def(double() / py::self)
      .def(-py::self)
      .def(+py::self)
      .def(
          "__pow__", [](Var x, Var y) { return pow(x, y); }, py::is_operator())
      .def(
          "__pow__", [](Var x, double y) { return pow(x, y); }, py::is_operator())
      .def(
          "__rpow__", [](Var y, double x) { return pow(x, y); }, py::is_operator())
      .def(py::self < py::self)
      .def(py::self <= py::self)
      .def(py::self > py::self)
      .def(py::self >= py::self)
      .def(py::self < double())
      .def(py::self <= double())
      .def(py::self > double())
      .def(py::self >= double())
      .def("__abs__", [](Var x) { return abs(x); })
      .def("sin", &Var::sin)
      .def("cos", &Var::cos)
      .def("tan", &Var::tan)
      .def("asin", &Var::asin)
      .def("acos", &Var::acos)
      .def("atan", &Var::atan)
      .def("exp", &Var::exp)
      .def("log", &Var::log)
      .def("log1p", &Var::log1p)
      .def("sqrt", &Var::sqrt)
      .def("cbrt", &Var::cbrt)
      .def("abs", &Var::abs)
      .def("tanh", &Var::tanh)
      .def("sigmoid", &Var::sigmoid)
      .def("relu", &Var::relu)
      .def("softplus", &Var::softplus)
      .def("square", &Var::square)
      .def("pow", py::overload_cast<double>(&Var::pow, py::const_))
      .def("pow", py::overload_cast<Var>(&Var::pow, py::const_))
      .def("clamp", &Var::clamp, py::arg("lo"), py::arg("hi"));

  py::class_<Gradients>(m, "Gradients", "Adjoints d output / d node of every node of a Tape.")
      .def("__getitem__", py::overload_cast<Var>(&Gradients::operator[], py::const_))
      .def("__getitem__", py::overload_cast<std::size_t>(&Gradients::operator[], py::const_))
      .def("__len__", &Gradients::size)
      .def_property_readonly("values", [](const Gradients& g) {
        return array_copy(TensorView{g.values().data(), Shape{g.values().size()}});
      });

  py::class_<Tape>(m, "Tape", "The scalar reverse-mode tape.")
      .def(py::init<>())
      .def("var", &Tape::var, py::arg("value"), "A differentiable input.")
      .def("grad", py::overload_cast<Var>(&Tape::grad, py::const_), py::arg("output"))
      .def("grad", py::overload_cast<Var, Gradients&>(&Tape::grad, py::const_), py::arg("output"),
           py::arg("out"))
      .def("clear", &Tape::clear)
      .def("reserve", &Tape::reserve)
      .def("__len__", &Tape::size)
      .def_property_readonly("size", &Tape::size)
      .def_property("finite_check", &Tape::finite_check, &Tape::set_finite_check)
      .def_property("flush_subnormals", &Tape::flush_subnormals, &Tape::set_flush_subnormals)
      .def("set_value", &Tape::set_value, py::arg("input"), py::arg("value"))
      .def("replay", &Tape::replay)
      .def("value", &Tape::value);

  // Free functions; the tensor overloads of the same names join them in register_ops.
  m.def("sin", [](Var x) { return sin(x); });
  m.def("cos", [](Var x) { return cos(x); });
  m.def("tan", [](Var x) { return tan(x); });
  m.def("asin", [](Var x) { return asin(x); });
  m.def("acos", [](Var x) { return acos(x); });
  m.def("atan", [](Var x) { return atan(x); });
  m.def("exp", [](Var x) { return exp(x); });
  m.def("log", [](Var x) { return log(x); });
  m.def("log1p", [](Var x) { return log1p(x); });
  m.def("sqrt", [](Var x) { return sqrt(x); });
  m.def("cbrt", [](Var x) { return cbrt(x); });
  m.def("abs", [](Var x) { return abs(x); });
  m.def("tanh", [](Var x) { return tanh(x); });
  m.def("sigmoid", [](Var x) { return sigmoid(x); });
  m.def("relu", [](Var x) { return relu(x); });
  m.def("softplus", [](Var x) { return softplus(x); });
  m.def("square", [](Var x) { return square(x); });
  m.def("pow", [](Var x, Var y) { return pow(x, y); });
  m.def("pow", [](Var x, double y) { return pow(x, y); });
  m.def("pow", [](double x, Var y) { return pow(x, y); });
  m.def("atan2", [](Var y, Var x) { return atan2(y, x); });
  m.def("atan2", [](Var y, double x) { return atan2(y, x); });
  m.def("atan2", [](double y, Var x) { return atan2(y, x); });
  m.def("hypot", [](Var a, Var b) { return hypot(a, b); });
  m.def("hypot", [](Var a, double b) { return hypot(a, b); });
  m.def("hypot", [](double a, Var b) { return hypot(a, b); });
  m.def("minimum", [](Var a, Var b) { return min(a, b); });
  m.def("minimum", [](Var a, double b) { return min(a, b); });
  m.def("minimum", [](double a, Var b) { return min(a, b); });
  m.def("maximum", [](Var a, Var b) { return max(a, b); });
  m.def("maximum", [](Var a, double b) { return max(a, b); });
  m.def("maximum", [](double a, Var b) { return max(a, b); });
  m.def(
      "clamp", [](Var x, double lo, double hi) { return clamp(x, lo, hi); }, py::arg("x"),
      py::arg("lo"), py::arg("hi"));
}

}  // namespace maya::python
