// Every tensor op: Python operators on maya.TensorVar (an ndarray, Tensor or list operand becomes
// a constant of the TensorVar's tape), the method forms, and the free functions of ops.hpp.
#include <pybind11/operators.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::python {

namespace {

// A non-TensorVar operand of an op with `like`: a constant on like's tape.
TensorVar constant_like(TensorVar like, py::handle operand, const char* operation) {
  TensorTape& tape = like.tape();
  if (py::isinstance<Tensor>(operand)) return tape.constant(operand.cast<const Tensor&>());
  const py::array array = float64_array(operand, operation);
  Shape shape;
  return tape.constant(view_of(array, shape));
}

bool is_number(py::handle operand) {
  return PyLong_Check(operand.ptr()) || PyFloat_Check(operand.ptr());
}

template <class Op, class ScalarOp>
py::object binary_any(TensorVar a, py::handle b, const char* operation, Op op, ScalarOp scalar_op) {
  if (is_number(b)) return py::cast(scalar_op(a, b.cast<double>()));
  return py::cast(op(a, constant_like(a, b, operation)));
}

// Python's key on axis after axis: integers select (dropping the axis), slices slice.
TensorVar index(TensorVar x, py::handle key) {
  py::tuple keys =
      py::isinstance<py::tuple>(key) ? py::reinterpret_borrow<py::tuple>(key) : py::make_tuple(key);
  long axis = 0;
  for (py::handle k : keys) {
    if (py::isinstance<py::slice>(k)) {
      const auto s = py::reinterpret_borrow<py::slice>(k);
      const auto pick = [](py::object value, long fallback) {
        return value.is_none() ? fallback : value.cast<long>();
      };
      const long step = pick(s.attr("step"), 1);
      const auto extent = static_cast<long>(x.shape()[static_cast<std::size_t>(axis)]);
      x = slice(x, axis, pick(s.attr("start"), 0), pick(s.attr("stop"), extent), step);
      ++axis;
    } else if (PyLong_Check(k.ptr())) {
      x = select(x, axis, k.cast<long>());
    } else if (k.is(py::ellipsis())) {
      throw py::index_error("TensorVar indexing: ... is not supported; use slices");
    } else {
      throw py::index_error(
          "TensorVar indexing: only integers and slices (step > 0) are "
          "supported; use index_select or gather for index arrays");
    }
  }
  return x;
}

}  // namespace

void register_ops(py::module_& m) {
  auto var = py::reinterpret_borrow<py::class_<TensorVar>>(m.attr("TensorVar"));
  using TV = TensorVar;

  // Operators: TensorVar first (the fast path), then numbers, then array-likes as constants.
  var.def(
         "__add__", [](TV a, TV b) { return a + b; }, py::is_operator())
      .def(
          "__add__", [](TV a, double b) { return a + b; }, py::is_operator())
      .def(
          "__add__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "+", [](TV x, TV y) { return x + y; }, [](TV x, double y) { return x + y; });
          },
          py::is_operator())
      .def(
          "__radd__", [](TV a, double b) { return b + a; }, py::is_operator())
      .def(
          "__radd__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "+", [](TV x, TV y) { return y + x; }, [](TV x, double y) { return y + x; });
          },
          py::is_operator())
      .def(
          "__sub__", [](TV a, TV b) { return a - b; }, py::is_operator())
      .def(
          "__sub__", [](TV a, double b) { return a - b; }, py::is_operator())
      .def(
          "__sub__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "-", [](TV x, TV y) { return x - y; }, [](TV x, double y) { return x - y; });
          },
          py::is_operator())
      .def(
          "__rsub__", [](TV a, double b) { return b - a; }, py::is_operator())
      .def(
          "__rsub__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "-", [](TV x, TV y) { return y - x; }, [](TV x, double y) { return y - x; });
          },
          py::is_operator())
      .def(
          "__mul__", [](TV a, TV b) { return a * b; }, py::is_operator())
      .def(
          "__mul__", [](TV a, double b) { return a * b; }, py::is_operator())
      .def(
          "__mul__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "*", [](TV x, TV y) { return x * y; }, [](TV x, double y) { return x * y; });
          },
          py::is_operator())
      .def(
          "__rmul__", [](TV a, double b) { return b * a; }, py::is_operator())
      .def(
          "__rmul__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "*", [](TV x, TV y) { return y * x; }, [](TV x, double y) { return y * x; });
          },
          py::is_operator())
      .def(
          "__truediv__", [](TV a, TV b) { return a / b; }, py::is_operator())
      .def(
          "__truediv__", [](TV a, double b) { return a / b; }, py::is_operator())
      .def(
          "__truediv__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "/", [](TV x, TV y) { return x / y; }, [](TV x, double y) { return x / y; });
          },
          py::is_operator())
      .def(
          "__rtruediv__", [](TV a, double b) { return b / a; }, py::is_operator())
      .def(
          "__rtruediv__",
          [](TV a, py::handle b) {
            return binary_any(
                a, b, "/", [](TV x, TV y) { return y / x; }, [](TV x, double y) { return y / x; });
          },
          py::is_operator())
      .def(
          "__matmul__", [](TV a, TV b) { return matmul(a, b); }, py::is_operator())
      .def(
          "__matmul__", [](TV a, py::handle b) { return matmul(a, constant_like(a, b, "matmul")); },
          py::is_operator())
      .def(
          "__rmatmul__",
          [](TV a, py::handle b) { return matmul(constant_like(a, b, "matmul"), a); },
          py::is_operator())
      .def(
          "__pow__", [](TV a, TV b) { return pow(a, b); }, py::is_operator())
      .def(
          "__pow__", [](TV a, double b) { return pow(a, b); }, py::is_operator())
      .def("__neg__", [](TV a) { return -a; })
      .def("__pos__", [](TV a) { return a; })
      .def("__abs__", [](TV a) { return abs(a); })
      .def("__getitem__", &index, py::arg("key"),
           "x[i] selects, x[a:b:s] slices (step > 0), axis after axis.")
      // Method forms.
      .def("matmul", &TV::matmul)
      .def("sum", py::overload_cast<>(&TV::sum, py::const_))
      .def("sum", py::overload_cast<long, bool>(&TV::sum, py::const_), py::arg("axis"),
           py::arg("keepdim") = false)
      .def("mean", py::overload_cast<>(&TV::mean, py::const_))
      .def("mean", py::overload_cast<long, bool>(&TV::mean, py::const_), py::arg("axis"),
           py::arg("keepdim") = false)
      .def(
          "max", [](TV x, long axis, bool keepdim) { return max(x, axis, keepdim); },
          py::arg("axis"), py::arg("keepdim") = false)
      .def(
          "min", [](TV x, long axis, bool keepdim) { return min(x, axis, keepdim); },
          py::arg("axis"), py::arg("keepdim") = false)
      .def(
          "norm", [](TV x, long axis, bool keepdim) { return norm(x, axis, keepdim); },
          py::arg("axis"), py::arg("keepdim") = false)
      .def("reshape", &TV::reshape, py::arg("shape"))
      .def("transpose", &TV::transpose)
      .def("transpose", [](TV x, long a0, long a1) { return transpose(x, a0, a1); })
      .def_property_readonly("T", &TV::transpose)
      .def("slice", &TV::slice, py::arg("axis"), py::arg("start"), py::arg("stop"),
           py::arg("step") = 1)
      .def("select", &TV::select, py::arg("axis"), py::arg("index"))
      .def("sin", &TV::sin)
      .def("cos", &TV::cos)
      .def("tan", [](TV x) { return tan(x); })
      .def("exp", &TV::exp)
      .def("log", &TV::log)
      .def("sqrt", &TV::sqrt)
      .def("tanh", &TV::tanh)
      .def("sigmoid", [](TV x) { return sigmoid(x); })
      .def("relu", &TV::relu)
      .def("softplus", [](TV x) { return softplus(x); })
      .def("square", &TV::square)
      .def("abs", &TV::abs)
      .def(
          "clamp", [](TV x, double lo, double hi) { return clamp(x, lo, hi); }, py::arg("lo"),
          py::arg("hi"));

  // ---- Free functions (ops.hpp) ----
  m.def("add", [](TV a, TV b) { return a + b; });
  m.def("sub", [](TV a, TV b) { return a - b; });
  m.def("mul", [](TV a, TV b) { return a * b; });
  m.def("div", [](TV a, TV b) { return a / b; });
  m.def("neg", [](TV a) { return neg(a); });
  m.def("scale", &scale, py::arg("x"), py::arg("factor"));
  m.def("pow", [](TV a, TV b) { return pow(a, b); });
  m.def("pow", [](TV a, double b) { return pow(a, b); });
  m.def("maximum", [](TV a, TV b) { return maximum(a, b); });
  m.def("maximum", [](TV a, double b) { return maximum(a, b); });
  m.def("minimum", [](TV a, TV b) { return minimum(a, b); });
  m.def("minimum", [](TV a, double b) { return minimum(a, b); });
  m.def("where", &where, py::arg("mask"), py::arg("a"), py::arg("b"));

  m.def("sin", [](TV x) { return sin(x); });
  m.def("cos", [](TV x) { return cos(x); });
  m.def("tan", [](TV x) { return tan(x); });
  m.def("exp", [](TV x) { return exp(x); });
  m.def("log", [](TV x) { return log(x); });
  m.def("sqrt", [](TV x) { return sqrt(x); });
  m.def("tanh", [](TV x) { return tanh(x); });
  m.def("sigmoid", [](TV x) { return sigmoid(x); });
  m.def("relu", [](TV x) { return relu(x); });
  m.def("softplus", [](TV x) { return softplus(x); });
  m.def("abs", [](TV x) { return abs(x); });
  m.def("square", [](TV x) { return square(x); });
  m.def(
      "clamp", [](TV x, double lo, double hi) { return clamp(x, lo, hi); }, py::arg("x"),
      py::arg("lo"), py::arg("hi"));

  m.def("sum", [](TV x) { return sum(x); });
  m.def(
      "sum", [](TV x, long axis, bool keepdim) { return sum(x, axis, keepdim); }, py::arg("x"),
      py::arg("axis"), py::arg("keepdim") = false);
  m.def("mean", [](TV x) { return mean(x); });
  m.def(
      "mean", [](TV x, long axis, bool keepdim) { return mean(x, axis, keepdim); }, py::arg("x"),
      py::arg("axis"), py::arg("keepdim") = false);
  m.def(
      "max", [](TV x, long axis, bool keepdim) { return max(x, axis, keepdim); }, py::arg("x"),
      py::arg("axis"), py::arg("keepdim") = false);
  m.def(
      "min", [](TV x, long axis, bool keepdim) { return min(x, axis, keepdim); }, py::arg("x"),
      py::arg("axis"), py::arg("keepdim") = false);
  m.def(
      "norm", [](TV x, long axis, bool keepdim) { return norm(x, axis, keepdim); }, py::arg("x"),
      py::arg("axis"), py::arg("keepdim") = false);
  m.def("dot", &dot, py::arg("a"), py::arg("b"));
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"));

  py::enum_<Activation>(m, "Activation")
      .value("identity", Activation::identity)
      .value("tanh", Activation::tanh)
      .value("sigmoid", Activation::sigmoid)
      .value("relu", Activation::relu);
  m.def("dense", &dense, py::arg("x"), py::arg("w"), py::arg("b"),
        py::arg("activation") = Activation::identity,
        "activation(x w + b) as one tape node: x [..., in], w [in, out], b [out].");

  m.def("reshape", &reshape, py::arg("x"), py::arg("shape"));
  m.def("transpose", [](TV x) { return transpose(x); });
  m.def("transpose", [](TV x, long a0, long a1) { return transpose(x, a0, a1); });
  m.def(
      "permute",
      [](TV x, const std::vector<long>& axes) { return permute(x, std::span<const long>(axes)); },
      py::arg("x"), py::arg("axes"));
  m.def("squeeze", &squeeze, py::arg("x"), py::arg("axis"));
  m.def("unsqueeze", &unsqueeze, py::arg("x"), py::arg("axis"));
  m.def("slice", &slice, py::arg("x"), py::arg("axis"), py::arg("start"), py::arg("stop"),
        py::arg("step") = 1);
  m.def("select", &select, py::arg("x"), py::arg("axis"), py::arg("index"));
  m.def(
      "concat",
      [](const std::vector<TV>& parts, long axis) {
        return concat(std::span<const TV>(parts), axis);
      },
      py::arg("parts"), py::arg("axis") = 0);
  m.def(
      "stack",
      [](const std::vector<TV>& parts, long axis) {
        return stack(std::span<const TV>(parts), axis);
      },
      py::arg("parts"), py::arg("axis") = 0);
  m.def("broadcast_to", &broadcast_to, py::arg("x"), py::arg("shape"));

  m.def(
      "index_select",
      [](TV x, long axis, py::handle indices) {
        const auto values = index_vector(indices, "index_select");
        return index_select(x, axis, values);
      },
      py::arg("x"), py::arg("axis"), py::arg("indices"));
  m.def(
      "index_add",
      [](TV x, long axis, py::handle indices, TV source) {
        const auto values = index_vector(indices, "index_add");
        return index_add(x, axis, values, source);
      },
      py::arg("x"), py::arg("axis"), py::arg("indices"), py::arg("source"));
  m.def("gather", &gather, py::arg("x"), py::arg("axis"), py::arg("index"));
  m.def("scatter_add", &scatter_add, py::arg("x"), py::arg("axis"), py::arg("index"),
        py::arg("source"));

  m.def(
      "gradcheck",
      [](py::function loss, const std::vector<Tensor>& inputs, double step) {
        const LossFunction function = [&loss](TensorTape& tape, std::span<const TensorVar> leaves) {
          py::list args;
          for (const TensorVar leaf : leaves) args.append(leaf);
          return loss(py::cast(&tape, py::return_value_policy::reference), *args).cast<TensorVar>();
        };
        return gradcheck(function, inputs, step);
      },
      py::arg("loss"), py::arg("inputs"), py::arg("step") = 1e-6,
      "Tape gradient of loss(tape, *leaves) against central differences, per input.");
}

}  // namespace maya::python
