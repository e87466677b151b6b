// maya.optim: parameter sets with bounds and positive maps, SGD, Adam and L-BFGS, objectives
// from Python callables or from losses recorded on a tape.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings.hpp"
#include "maya/optim/optim.hpp"
#include "objective.hpp"

namespace maya::python {

namespace {

using namespace maya::optim;

// fn(values, gradients) -> loss: values are read-only ndarrays, gradients zeroed writable ones.
Objective objective_from_callable(py::function fn) {
  return [fn](std::span<const Tensor> values, std::span<Tensor> gradients) {
    py::list value_arrays;
    py::list gradient_arrays;
    for (const Tensor& value : values) {
      value_arrays.append(array_view(value.data().data(), value.shape(), py::none(), false));
    }
    for (Tensor& gradient : gradients) {
      gradient_arrays.append(
          array_view(gradient.mutable_data().data(), gradient.shape(), py::none(), true));
    }
    return fn(value_arrays, gradient_arrays).cast<double>();
  };
}

// loss(tape, *leaves) -> one-element TensorVar, recorded on a reused tape per evaluation.
Objective tape_objective_from(py::function loss) {
  auto tape = std::make_shared<PyTensorTape>();
  return [tape, loss](std::span<const Tensor> values, std::span<Tensor> gradients) {
    tape->clear_all();
    std::vector<TensorVar> leaves;
    py::list args;
    args.append(py::cast(static_cast<TensorTape*>(tape.get()), py::return_value_policy::reference));
    for (const Tensor& value : values) {
      leaves.push_back(tape->var(value));
      args.append(leaves.back());
    }
    const auto result = loss(*py::tuple(args)).cast<TensorVar>();
    const double value = result.item();
    const TensorGradients g = tape->grad(result);
    for (std::size_t i = 0; i < leaves.size(); ++i) gradients[i] = g[leaves[i]];
    return value;
  };
}

std::vector<Tensor> tensors_from(const py::sequence& items, const char* operation) {
  std::vector<Tensor> tensors;
  for (py::handle item : items) tensors.push_back(tensor_from(item, operation));
  return tensors;
}

template <class Optimizer, class Options>
void bind_optimizer(py::module_& m, const char* name, const char* doc) {
  py::class_<Optimizer>(m, name, doc)
      .def(py::init<ParameterSet&, Options>(), py::arg("parameters"),
           py::arg("options") = Options{}, py::keep_alive<1, 2>())
      .def(
          "step",
          [](Optimizer& o, const PyObjective& objective) { return o.step(objective.function); },
          py::arg("objective"))
      .def(
          "minimize",
          [](Optimizer& o, const PyObjective& objective, const MinimizeOptions& options) {
            return o.minimize(objective.function, options);
          },
          py::arg("objective"), py::arg("options") = MinimizeOptions{})
      .def_property_readonly("iterations", &Optimizer::iterations)
      .def_property_readonly("options", &Optimizer::options)
      .def("reset", &Optimizer::reset);
}

template <class Optimizer>
void bind_gradient_step(py::module_& m, const char* name) {
  auto optimizer = py::reinterpret_borrow<py::class_<Optimizer>>(m.attr(name));
  optimizer.def(
      "step",
      [](Optimizer& o, const py::list& gradients) {
        const std::vector<Tensor> tensors = tensors_from(gradients, "step");
        o.step(std::span<const Tensor>(tensors));
      },
      py::arg("gradients"), "One update from gradients with respect to the values.");
}

}  // namespace

void register_optim(py::module_& parent) {
  py::module_ m = parent.def_submodule("optim", "Optimizers over parameter sets.");

  py::class_<Bounds>(m, "Bounds")
      .def(py::init([](double lower, double upper) {
             return Bounds{lower, upper};
           }),
           py::arg("lower") = -Bounds::kInfinity, py::arg("upper") = Bounds::kInfinity)
      .def_readwrite("lower", &Bounds::lower)
      .def_readwrite("upper", &Bounds::upper)
      .def_static("at_least", &Bounds::at_least)
      .def_static("at_most", &Bounds::at_most)
      .def_static("between", &Bounds::between)
      .def_property_readonly("bounded", &Bounds::bounded);

  py::class_<Positive> positive(m, "Positive");
  py::enum_<Positive::Map>(positive, "Map")
      .value("softplus", Positive::Map::kSoftplus)
      .value("exp", Positive::Map::kExp);
  positive
      .def(py::init<Positive::Map, double>(), py::arg("map") = Positive::Map::kSoftplus,
           py::arg("floor") = 0.0)
      .def_static("softplus", &Positive::softplus, py::arg("floor") = 0.0)
      .def_static("exp", &Positive::exp, py::arg("floor") = 0.0)
      .def_property_readonly("map", &Positive::map)
      .def_property_readonly("floor", &Positive::floor)
      .def("value", py::overload_cast<double>(&Positive::value, py::const_))
      .def("value", py::overload_cast<TensorVar>(&Positive::value, py::const_))
      .def("value", py::overload_cast<const Tensor&>(&Positive::value, py::const_))
      .def("latent", py::overload_cast<double>(&Positive::latent, py::const_))
      .def("latent", py::overload_cast<const Tensor&>(&Positive::latent, py::const_))
      .def("derivative", &Positive::derivative);

  py::class_<ParameterSet>(m, "ParameterSet", "Named parameters that an optimizer fits.")
      .def(py::init<>())
      .def("add", py::overload_cast<std::string, Tensor, Bounds>(&ParameterSet::add),
           py::arg("name"), py::arg("initial"), py::arg("bounds") = Bounds{})
      .def("add", py::overload_cast<std::string, Tensor, Positive>(&ParameterSet::add),
           py::arg("name"), py::arg("initial"), py::arg("positive"))
      .def("__len__", &ParameterSet::size)
      .def_property_readonly("numel", &ParameterSet::numel)
      .def("index", &ParameterSet::index)
      .def("name", &ParameterSet::name)
      .def("bounds", &ParameterSet::bounds)
      .def("positive", &ParameterSet::positive)
      .def("value", py::overload_cast<std::size_t>(&ParameterSet::value, py::const_))
      .def("value", py::overload_cast<std::string_view>(&ParameterSet::value, py::const_))
      .def_property_readonly("values",
                             [](const ParameterSet& p) {
                               return std::vector<Tensor>(p.values().begin(), p.values().end());
                             })
      .def("set_value", &ParameterSet::set_value)
      .def_property_readonly(
          "latent",
          [](const ParameterSet& p) {
            return array_copy(TensorView{p.latent().data(), Shape{p.latent().size()}});
          })
      .def("set_latent", [](ParameterSet& p, py::handle latent) {
        const py::array array = float64_array(latent, "ParameterSet.set_latent");
        p.set_latent(std::span<const double>(static_cast<const double*>(array.data()),
                                             static_cast<std::size_t>(array.size())));
      });

  py::class_<PyObjective>(m, "Objective",
                          "What an optimizer minimizes: fn(values, gradients) -> loss, values "
                          "read-only ndarrays, gradients zeroed ndarrays to fill.")
      .def(py::init([](py::function fn) { return PyObjective{objective_from_callable(fn)}; }),
           py::arg("fn"))
      .def("__call__", [](const PyObjective& o, const py::list& values) {
        const std::vector<Tensor> tensors = tensors_from(values, "Objective");
        std::vector<Tensor> gradients;
        for (const Tensor& t : tensors) gradients.push_back(Tensor::zeros(t.shape()));
        const double loss = o.function(tensors, gradients);
        return py::make_tuple(loss, gradients);
      });
  m.def(
      "tape_objective", [](py::function loss) { return PyObjective{tape_objective_from(loss)}; },
      py::arg("loss"),
      "An Objective from loss(tape, *leaves) -> one-element TensorVar: each call records the "
      "loss on a reused tape and takes the gradients from one reverse sweep.");

  py::class_<Progress>(m, "Progress")
      .def_readonly("iteration", &Progress::iteration)
      .def_readonly("loss", &Progress::loss)
      .def_readonly("gradient_norm", &Progress::gradient_norm)
      .def_readonly("evaluations", &Progress::evaluations);
  py::class_<MinimizeOptions>(m, "MinimizeOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<MinimizeOptions>(kwargs); }))
      .def_readwrite("max_iterations", &MinimizeOptions::max_iterations)
      .def_readwrite("tolerance", &MinimizeOptions::tolerance)
      .def_readwrite("loss_tolerance", &MinimizeOptions::loss_tolerance)
      .def_readwrite("callback", &MinimizeOptions::callback);
  py::enum_<Status>(m, "Status")
      .value("gradient_tolerance", Status::kGradientTolerance)
      .value("loss_tolerance", Status::kLossTolerance)
      .value("max_iterations", Status::kMaxIterations)
      .value("line_search_failed", Status::kLineSearchFailed);
  py::class_<Result>(m, "Result")
      .def_readonly("loss", &Result::loss)
      .def_readonly("iterations", &Result::iterations)
      .def_readonly("evaluations", &Result::evaluations)
      .def_readonly("gradient_norm", &Result::gradient_norm)
      .def_readonly("converged", &Result::converged)
      .def_readonly("status", &Result::status)
      .def_readonly("loss_history", &Result::loss_history)
      .def_readonly("message", &Result::message);

  py::class_<SgdOptions>(m, "SgdOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<SgdOptions>(kwargs); }))
      .def_readwrite("learning_rate", &SgdOptions::learning_rate)
      .def_readwrite("momentum", &SgdOptions::momentum)
      .def_readwrite("nesterov", &SgdOptions::nesterov)
      .def_readwrite("weight_decay", &SgdOptions::weight_decay);
  py::class_<AdamOptions>(m, "AdamOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<AdamOptions>(kwargs); }))
      .def_readwrite("learning_rate", &AdamOptions::learning_rate)
      .def_readwrite("beta1", &AdamOptions::beta1)
      .def_readwrite("beta2", &AdamOptions::beta2)
      .def_readwrite("epsilon", &AdamOptions::epsilon)
      .def_readwrite("weight_decay", &AdamOptions::weight_decay)
      .def_readwrite("decoupled_weight_decay", &AdamOptions::decoupled_weight_decay);
  py::enum_<LineSearch>(m, "LineSearch")
      .value("strong_wolfe", LineSearch::kStrongWolfe)
      .value("backtracking", LineSearch::kBacktracking);
  py::class_<LbfgsOptions>(m, "LbfgsOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<LbfgsOptions>(kwargs); }))
      .def_readwrite("history", &LbfgsOptions::history)
      .def_readwrite("line_search", &LbfgsOptions::line_search)
      .def_readwrite("c1", &LbfgsOptions::c1)
      .def_readwrite("c2", &LbfgsOptions::c2)
      .def_readwrite("max_line_search_evaluations", &LbfgsOptions::max_line_search_evaluations);

  bind_optimizer<Sgd, SgdOptions>(m, "Sgd", "SGD with heavy-ball or Nesterov momentum.");
  bind_gradient_step<Sgd>(m, "Sgd");
  bind_optimizer<Adam, AdamOptions>(m, "Adam", "Adam with bias correction.");
  bind_gradient_step<Adam>(m, "Adam");
  bind_optimizer<Lbfgs, LbfgsOptions>(m, "Lbfgs", "L-BFGS with a line search.");
  py::reinterpret_borrow<py::class_<Lbfgs>>(m.attr("Lbfgs"))
      .def_property_readonly("history_size", &Lbfgs::history_size);
}

}  // namespace maya::python
