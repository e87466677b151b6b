// Integrators, mass-spring systems, lattices and rollouts.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "maya/dynamics/integrators.hpp"
#include "maya/dynamics/lattice.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/dynamics/rollout.hpp"

// The layer namespace its types move into (empty until they do).
namespace maya::dynamics {}

namespace maya::python {

using namespace maya::dynamics;

namespace {

using TV = TensorVar;

// An acceleration: a TensorVar, or a callable accel(p, v) -> TensorVar (RK4 evaluates it 4x).
template <class Dt>
StepResult rk4(TV p, TV v, py::handle accel, Dt dt) {
  if (py::isinstance<TV>(accel)) return rk4_step(p, v, accel.cast<TV>(), dt);
  const auto field = py::reinterpret_borrow<py::function>(accel);
  return rk4_step(
      p, v, [&field](TV x, TV u) { return field(x, u).template cast<TV>(); }, dt);
}

}  // namespace

void register_dynamics(py::module_& m) {
  py::class_<StepResult>(m, "StepResult", "The position and velocity after one step.")
      .def_readwrite("position", &StepResult::position)
      .def_readwrite("velocity", &StepResult::velocity)
      .def("__iter__",
           [](const StepResult& r) { return py::iter(py::make_tuple(r.position, r.velocity)); });
  m.def("euler_step", py::overload_cast<TV, TV, TV, double>(&euler_step), py::arg("p"),
        py::arg("v"), py::arg("a"), py::arg("dt"), "p1 = p + dt v, v1 = v + dt a.");
  m.def("euler_step", py::overload_cast<TV, TV, TV, TV>(&euler_step), py::arg("p"), py::arg("v"),
        py::arg("a"), py::arg("dt"));
  m.def("semi_implicit_euler_step",
        py::overload_cast<TV, TV, TV, double>(&semi_implicit_euler_step), py::arg("p"),
        py::arg("v"), py::arg("a"), py::arg("dt"), "v1 = v + dt a, then p1 = p + dt v1.");
  m.def("semi_implicit_euler_step", py::overload_cast<TV, TV, TV, TV>(&semi_implicit_euler_step),
        py::arg("p"), py::arg("v"), py::arg("a"), py::arg("dt"));
  m.def("rk4_step", &rk4<double>, py::arg("p"), py::arg("v"), py::arg("a"), py::arg("dt"),
        "Classical RK4 for x'' = a: a TensorVar, or a callable a(p, v) -> TensorVar.");
  m.def("rk4_step", &rk4<TV>, py::arg("p"), py::arg("v"), py::arg("a"), py::arg("dt"));

  py::class_<GroundContact>(m, "GroundContact", "The penalty ground of a mass-spring system.")
      .def(py::init([](bool enabled, double height, double stiffness, double damping,
                       std::size_t up_axis, double friction, double slip_velocity) {
             return GroundContact{enabled, height,   stiffness,    damping,
                                  up_axis, friction, slip_velocity};
           }),
           py::arg("enabled") = true, py::arg("height") = 0.0, py::arg("stiffness") = 1e4,
           py::arg("damping") = 10.0, py::arg("up_axis") = 1, py::arg("friction") = 0.0,
           py::arg("slip_velocity") = 1e-2)
      .def_readwrite("enabled", &GroundContact::enabled)
      .def_readwrite("height", &GroundContact::height)
      .def_readwrite("stiffness", &GroundContact::stiffness)
      .def_readwrite("damping", &GroundContact::damping)
      .def_readwrite("up_axis", &GroundContact::up_axis)
      .def_readwrite("friction", &GroundContact::friction)
      .def_readwrite("slip_velocity", &GroundContact::slip_velocity);

  py::class_<SpringParameters>(m, "SpringParameters",
                               "mass [N], stiffness [E], damping [E], rest_length [E].")
      .def(py::init([](TV mass, TV stiffness, TV damping, TV rest_length) {
             return SpringParameters{mass, stiffness, damping, rest_length};
           }),
           py::arg("mass"), py::arg("stiffness"), py::arg("damping"), py::arg("rest_length"))
      .def_readwrite("mass", &SpringParameters::mass)
      .def_readwrite("stiffness", &SpringParameters::stiffness)
      .def_readwrite("damping", &SpringParameters::damping)
      .def_readwrite("rest_length", &SpringParameters::rest_length);

  py::class_<MassSpringModel>(m, "MassSpringModel",
                              "Particles and springs with gravity and a penalty ground; state "
                              "[2, N, D] (positions, then velocities).")
      .def(py::init([](std::size_t num_particles, std::size_t dim, py::handle first,
                       py::handle second, std::vector<double> gravity, GroundContact ground) {
             return MassSpringModel(num_particles, dim, index_vector(first, "MassSpringModel"),
                                    index_vector(second, "MassSpringModel"), std::move(gravity),
                                    ground);
           }),
           py::arg("num_particles"), py::arg("dim"), py::arg("first"), py::arg("second"),
           py::arg("gravity"), py::arg("ground") = GroundContact{})
      .def_property_readonly("num_particles", &MassSpringModel::num_particles)
      .def_property_readonly("num_springs", &MassSpringModel::num_springs)
      .def_property_readonly("dim", &MassSpringModel::dim)
      .def_property_readonly("end_a", &MassSpringModel::end_a)
      .def_property_readonly("end_b", &MassSpringModel::end_b)
      .def_property_readonly("gravity", &MassSpringModel::gravity)
      .def_property_readonly("ground", &MassSpringModel::ground)
      .def(
          "step",
          [](py::object self, TV state, const SpringParameters& params, double dt) {
            return self.cast<const MassSpringModel&>().step(state, params, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"),
          "One semi-implicit Euler step as a single fused node.")
      .def(
          "step_composed",
          [](const MassSpringModel& model, TV state, const SpringParameters& params, double dt) {
            return model.step_composed(state, params, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"))
      .def(
          "rollout",
          [](py::object self, TV state, const SpringParameters& params, double dt,
             std::size_t steps) {
            const auto& model = self.cast<const MassSpringModel&>();
            return rollout(state, steps,
                           [&](TV s, std::size_t) { return model.step(s, params, dt); })
                .states;
          },
          py::arg("state"), py::arg("params"), py::arg("dt"), py::arg("steps"),
          "steps fused steps from state: the list of every state, the initial one first.")
      .def("rest_lengths_of", &MassSpringModel::rest_lengths_of, py::arg("positions"))
      .def_static("make_state", &MassSpringModel::make_state, py::arg("positions"),
                  py::arg("velocities"));
  m.def("positions_of", &positions_of, py::arg("state"));
  m.def("velocities_of", &velocities_of, py::arg("state"));

  py::class_<LatticeOptions>(m, "LatticeOptions")
      .def(py::init([](py::kwargs kwargs) {
        LatticeOptions options;
        py::object self = py::cast(options);
        for (auto item : kwargs) self.attr(item.first) = item.second;
        return self.cast<LatticeOptions>();
      }))
      .def_readwrite("size", &LatticeOptions::size)
      .def_readwrite("spacing", &LatticeOptions::spacing)
      .def_readwrite("origin_x", &LatticeOptions::origin_x)
      .def_readwrite("origin_y", &LatticeOptions::origin_y)
      .def_readwrite("mass", &LatticeOptions::mass)
      .def_readwrite("velocity_x", &LatticeOptions::velocity_x)
      .def_readwrite("velocity_y", &LatticeOptions::velocity_y)
      .def_readwrite("gravity", &LatticeOptions::gravity)
      .def_readwrite("ground", &LatticeOptions::ground);
  py::class_<SpringLattice>(m, "SpringLattice")
      .def_readonly("model", &SpringLattice::model)
      .def_readonly("positions", &SpringLattice::positions)
      .def_readonly("velocities", &SpringLattice::velocities)
      .def_readonly("masses", &SpringLattice::masses)
      .def_readonly("rest_length", &SpringLattice::rest_length);
  m.def("make_spring_lattice", &make_spring_lattice, py::arg("options") = LatticeOptions{},
        "A G x G lattice with structural and shear springs (workload W2).");

  py::class_<Trajectory>(m, "Trajectory")
      .def_readonly("states", &Trajectory::states)
      .def("initial", &Trajectory::initial)
      .def("final", &Trajectory::final)
      .def("steps", &Trajectory::steps)
      .def("__len__", [](const Trajectory& t) { return t.states.size(); })
      .def("__getitem__", [](const Trajectory& t, std::size_t i) { return t.states.at(i); });
  m.def(
      "rollout",
      [](TV initial, std::size_t steps, py::function step) {
        return rollout(initial, steps,
                       [&step](TV state, std::size_t t) { return step(state, t).cast<TV>(); });
      },
      py::arg("initial"), py::arg("steps"), py::arg("step"),
      "Runs step(state, t) -> state `steps` times from `initial`, keeping every state.");
}

}  // namespace maya::python
