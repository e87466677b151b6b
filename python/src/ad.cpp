// The scalar tape: maya.Tape, maya.Var (with Python operators) and maya.Gradients.
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
      .def(
          "__add__", [](Var a, Var b) -> Var { return a + b; }, py::is_operator())
      .def(
          "__sub__", [](Var a, Var b) -> Var { return a - b; }, py::is_operator())
      .def(
          "__mul__", [](Var a, Var b) -> Var { return a * b; }, py::is_operator())
      .def(
          "__truediv__", [](Var a, Var b) -> Var { return a / b; }, py::is_operator())
      .def(
          "__add__", [](Var a, double b) -> Var { return a + b; }, py::is_operator())
      .def(
          "__radd__", [](Var b, double a) -> Var { return a + b; }, py::is_operator())
      .def(
          "__sub__", [](Var a, double b) -> Var { return a - b; }, py::is_operator())
      .def(
          "__rsub__", [](Var b, double a) -> Var { return a - b; }, py::is_operator())
      .def(
          "__mul__", [](Var a, double b) -> Var { return a * b; }, py::is_operator())
      .def(
          "__rmul__", [](Var b, double a) -> Var { return a * b; }, py::is_operator())
      .def(
          "__truediv__", [](Var a, double b) -> Var { return a / b; }, py::is_operator())
      .def(
          "__rtruediv__", [](Var b, double a) -> Var { return a / b; }, py::is_operator())
      .def(
          "__neg__", [](Var a) -> Var { return -a; }, py::is_operator())
      .def(
          "__pos__", [](Var a) -> Var { return +a; }, py::is_operator())
      .def(
          "__pow__", [](Var x, Var y) -> Var { return pow(x, y); }, py::is_operator())
      .def(
          "__pow__", [](Var x, double y) -> Var { return pow(x, y); }, py::is_operator())
      .def(
          "__rpow__", [](Var y, double x) -> Var { return pow(x, y); }, py::is_operator())
      .def(
          "__lt__", [](Var a, Var b) { return a < b; }, py::is_operator())
      .def(
          "__le__", [](Var a, Var b) { return a <= b; }, py::is_operator())
      .def(
          "__gt__", [](Var a, Var b) { return a > b; }, py::is_operator())
      .def(
          "__ge__", [](Var a, Var b) { return a >= b; }, py::is_operator())
      .def(
          "__lt__", [](Var a, double b) { return a < b; }, py::is_operator())
      .def(
          "__le__", [](Var a, double b) { return a <= b; }, py::is_operator())
      .def(
          "__gt__", [](Var a, double b) { return a > b; }, py::is_operator())
      .def(
          "__ge__", [](Var a, double b) { return a >= b; }, py::is_operator())
      .def("__abs__", [](Var x) -> Var { return abs(x); })
      .def("sin", [](Var x) -> Var { return x.sin(); })
      .def("cos", [](Var x) -> Var { return x.cos(); })
      .def("tan", [](Var x) -> Var { return x.tan(); })
      .def("asin", [](Var x) -> Var { return x.asin(); })
      .def("acos", [](Var x) -> Var { return x.acos(); })
      .def("atan", [](Var x) -> Var { return x.atan(); })
      .def("exp", [](Var x) -> Var { return x.exp(); })
      .def("log", [](Var x) -> Var { return x.log(); })
      .def("log1p", [](Var x) -> Var { return x.log1p(); })
      .def("sqrt", [](Var x) -> Var { return x.sqrt(); })
      .def("cbrt", [](Var x) -> Var { return x.cbrt(); })
      .def("abs", [](Var x) -> Var { return x.abs(); })
      .def("tanh", [](Var x) -> Var { return x.tanh(); })
      .def("sigmoid", [](Var x) -> Var { return x.sigmoid(); })
      .def("relu", [](Var x) -> Var { return x.relu(); })
      .def("softplus", [](Var x) -> Var { return x.softplus(); })
      .def("square", [](Var x) -> Var { return x.square(); })
      .def("pow", [](Var x, double e) -> Var { return x.pow(e); })
      .def("pow", [](Var x, Var e) -> Var { return x.pow(e); })
      .def(
          "clamp", [](Var x, double lo, double hi) -> Var { return x.clamp(lo, hi); },
          py::arg("lo"), py::arg("hi"));

  py::class_<Gradients>(m, "Gradients", "Adjoints d output / d node of every node of a Tape.")
      .def("__getitem__", [](const Gradients& g, Var v) { return g[v]; })
      .def("__getitem__", [](const Gradients& g, std::size_t index) { return g[index]; })
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
  m.def("sin", [](Var x) -> Var { return sin(x); });
  m.def("cos", [](Var x) -> Var { return cos(x); });
  m.def("tan", [](Var x) -> Var { return tan(x); });
  m.def("asin", [](Var x) -> Var { return asin(x); });
  m.def("acos", [](Var x) -> Var { return acos(x); });
  m.def("atan", [](Var x) -> Var { return atan(x); });
  m.def("exp", [](Var x) -> Var { return exp(x); });
  m.def("log", [](Var x) -> Var { return log(x); });
  m.def("log1p", [](Var x) -> Var { return log1p(x); });
  m.def("sqrt", [](Var x) -> Var { return sqrt(x); });
  m.def("cbrt", [](Var x) -> Var { return cbrt(x); });
  m.def("abs", [](Var x) -> Var { return abs(x); });
  m.def("tanh", [](Var x) -> Var { return tanh(x); });
  m.def("sigmoid", [](Var x) -> Var { return sigmoid(x); });
  m.def("relu", [](Var x) -> Var { return relu(x); });
  m.def("softplus", [](Var x) -> Var { return softplus(x); });
  m.def("square", [](Var x) -> Var { return square(x); });
  m.def("pow", [](Var x, Var y) -> Var { return pow(x, y); });
  m.def("pow", [](Var x, double y) -> Var { return pow(x, y); });
  m.def("pow", [](double x, Var y) -> Var { return pow(x, y); });
  m.def("atan2", [](Var y, Var x) -> Var { return atan2(y, x); });
  m.def("atan2", [](Var y, double x) -> Var { return atan2(y, x); });
  m.def("atan2", [](double y, Var x) -> Var { return atan2(y, x); });
  m.def("hypot", [](Var a, Var b) -> Var { return hypot(a, b); });
  m.def("hypot", [](Var a, double b) -> Var { return hypot(a, b); });
  m.def("hypot", [](double a, Var b) -> Var { return hypot(a, b); });
  m.def("minimum", [](Var a, Var b) -> Var { return min(a, b); });
  m.def("minimum", [](Var a, double b) -> Var { return min(a, b); });
  m.def("minimum", [](double a, Var b) -> Var { return min(a, b); });
  m.def("maximum", [](Var a, Var b) -> Var { return max(a, b); });
  m.def("maximum", [](Var a, double b) -> Var { return max(a, b); });
  m.def("maximum", [](double a, Var b) -> Var { return max(a, b); });
  m.def(
      "clamp", [](Var x, double lo, double hi) -> Var { return clamp(x, lo, hi); }, py::arg("x"),
      py::arg("lo"), py::arg("hi"));
}

}  // namespace maya::python
