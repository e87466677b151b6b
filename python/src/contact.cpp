// maya.contact: 2-D rigid bodies with hard contact (an interior-point solve per step,
// differentiated implicitly) and revolute joints.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "maya/contact/contact.hpp"

// The layer namespace its types move into (empty until they do).
namespace maya::rigid {}

namespace maya::python {

using namespace maya::rigid;

void register_contact(py::module_& parent) {
  using namespace maya::contact;
  using TV = TensorVar;
  py::module_ m = parent.def_submodule("contact", "Hard contact for 2-D rigid bodies.");
  m.attr("WORLD") = kWorld;

  py::class_<RevoluteJoint>(m, "RevoluteJoint")
      .def(py::init([](std::int32_t a, std::int32_t b) {
             return RevoluteJoint{a, b};
           }),
           py::arg("body_a") = 0, py::arg("body_b") = kWorld)
      .def_readwrite("body_a", &RevoluteJoint::body_a)
      .def_readwrite("body_b", &RevoluteJoint::body_b);
  py::class_<SurfaceMaterial>(m, "SurfaceMaterial")
      .def(py::init([](double friction, double restitution) {
             return SurfaceMaterial{friction, restitution};
           }),
           py::arg("friction") = 0.5, py::arg("restitution") = 0.0)
      .def_readwrite("friction", &SurfaceMaterial::friction)
      .def_readwrite("restitution", &SurfaceMaterial::restitution);
  py::enum_<Reduction>(m, "Reduction")
      .value("automatic", Reduction::kAutomatic)
      .value("impulses", Reduction::kImpulses)
      .value("velocities", Reduction::kVelocities);
  py::class_<SolverOptions>(m, "SolverOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<SolverOptions>(kwargs); }))
      .def_readwrite("smoothing", &SolverOptions::smoothing)
      .def_readwrite("tolerance", &SolverOptions::tolerance)
      .def_readwrite("max_iterations", &SolverOptions::max_iterations)
      .def_readwrite("reduction", &SolverOptions::reduction);
  py::class_<HardContactOptions>(m, "HardContactOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<HardContactOptions>(kwargs); }))
      .def_readwrite("material", &HardContactOptions::material)
      .def_readwrite("body_materials", &HardContactOptions::body_materials)
      .def_readwrite("ground_material", &HardContactOptions::ground_material)
      .def_readwrite("stabilization", &HardContactOptions::stabilization)
      .def_readwrite("slop", &HardContactOptions::slop)
      .def_readwrite("solver", &HardContactOptions::solver);

  py::class_<HardContactParameters>(m, "HardContactParameters",
                                    "mass [K], inertia [K], vertices [V, 2], radius [K], "
                                    "applied [K, 3], anchors [J, 4].")
      .def(py::init([](TV mass, TV inertia, TV vertices, TV radius, TV applied, TV anchors) {
             return HardContactParameters{mass, inertia, vertices, radius, applied, anchors};
           }),
           py::arg("mass"), py::arg("inertia"), py::arg("vertices"), py::arg("radius"),
           py::arg("applied"), py::arg("anchors"))
      .def_readwrite("mass", &HardContactParameters::mass)
      .def_readwrite("inertia", &HardContactParameters::inertia)
      .def_readwrite("vertices", &HardContactParameters::vertices)
      .def_readwrite("radius", &HardContactParameters::radius)
      .def_readwrite("applied", &HardContactParameters::applied)
      .def_readwrite("anchors", &HardContactParameters::anchors);
  py::class_<HardContactParameterValues>(m, "HardContactParameterValues")
      .def_readwrite("mass", &HardContactParameterValues::mass)
      .def_readwrite("inertia", &HardContactParameterValues::inertia)
      .def_readwrite("vertices", &HardContactParameterValues::vertices)
      .def_readwrite("radius", &HardContactParameterValues::radius)
      .def_readwrite("applied", &HardContactParameterValues::applied)
      .def_readwrite("anchors", &HardContactParameterValues::anchors)
      .def("constants", &HardContactParameterValues::constants, py::arg("tape"))
      .def("vars", &HardContactParameterValues::vars, py::arg("tape"));

  py::class_<HardContactWorld2D>(m, "HardContactWorld2D",
                                 "A RigidWorld2D's bodies stepped with hard contact and joints.")
      .def(py::init<RigidWorld2D, std::vector<RevoluteJoint>, HardContactOptions>(),
           py::arg("bodies"), py::arg("joints") = std::vector<RevoluteJoint>{},
           py::arg("options") = HardContactOptions{})
      .def_property_readonly("bodies", &HardContactWorld2D::bodies)
      .def_property_readonly("num_bodies", &HardContactWorld2D::num_bodies)
      .def_property_readonly("joints", &HardContactWorld2D::joints)
      .def_property_readonly("options", &HardContactWorld2D::options)
      .def("material_of", &HardContactWorld2D::material_of)
      .def("parameters", &HardContactWorld2D::parameters, py::arg("masses"), py::arg("state"),
           py::arg("pivots") = std::vector<Vec2>{})
      .def(
          "step",
          [](py::object self, TV state, const HardContactParameters& params, double dt) {
            return self.cast<const HardContactWorld2D&>().step(state, params, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"));
  m.def("kinetic_energy", &kinetic_energy, py::arg("state"), py::arg("mass"), py::arg("inertia"));
  m.def("potential_energy", &potential_energy, py::arg("state"), py::arg("mass"),
        py::arg("gravity"));
}

}  // namespace maya::python
