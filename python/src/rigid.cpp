// 2-D rigid bodies with penalty contact: shapes, the world, its parameters and contacts.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "maya/rigid/rigid.hpp"

// The layer namespace its types move into (empty until they do).
namespace maya::rigid {}

namespace maya::python {

using namespace maya::rigid;

namespace {

using TV = TensorVar;

template <class Dt>
TV world_step(py::object self, TV state, const RigidParameters& params, Dt dt) {
  return self.cast<const RigidWorld2D&>().step(state, params, dt);
}

}  // namespace

void register_rigid(py::module_& m) {
  py::class_<Vec2>(m, "Vec2")
      .def(py::init([](double x, double y) {
             return Vec2{x, y};
           }),
           py::arg("x") = 0.0, py::arg("y") = 0.0)
      .def(py::init([](py::tuple xy) {
        if (xy.size() != 2) throw py::value_error("Vec2: expected a pair (x, y)");
        return Vec2{xy[0].cast<double>(), xy[1].cast<double>()};
      }))
      .def_readwrite("x", &Vec2::x)
      .def_readwrite("y", &Vec2::y)
      .def("__iter__", [](const Vec2& v) { return py::iter(py::make_tuple(v.x, v.y)); })
      .def("__repr__", [](const Vec2& v) {
        return "Vec2(" + std::to_string(v.x) + ", " + std::to_string(v.y) + ")";
      });
  py::implicitly_convertible<py::tuple, Vec2>();

  py::enum_<ShapeKind>(m, "ShapeKind")
      .value("circle", ShapeKind::kCircle)
      .value("polygon", ShapeKind::kPolygon);
  py::class_<BodyShape>(m, "BodyShape", "A circle or convex polygon about its centre of mass.")
      .def_static("circle", &BodyShape::circle, py::arg("radius"))
      .def_static("box", &BodyShape::box, py::arg("width"), py::arg("height"))
      .def_static("polygon", &BodyShape::polygon, py::arg("vertices"))
      .def_property_readonly("kind", &BodyShape::kind)
      .def_property_readonly("radius", &BodyShape::radius)
      .def_property_readonly("vertices", &BodyShape::vertices)
      .def_property_readonly("centroid_shift", &BodyShape::centroid_shift)
      .def_property_readonly("area", &BodyShape::area)
      .def_property_readonly("polar_moment", &BodyShape::polar_moment)
      .def("bounding_radius", &BodyShape::bounding_radius)
      .def("inertia_for_mass", &BodyShape::inertia_for_mass);
  py::class_<MassPropertiesVar>(m, "MassPropertiesVar")
      .def_readonly("mass", &MassPropertiesVar::mass)
      .def_readonly("inertia", &MassPropertiesVar::inertia);
  m.def("circle_mass_properties", &circle_mass_properties, py::arg("radius"), py::arg("density"));
  m.def("box_mass_properties", &box_mass_properties, py::arg("width"), py::arg("height"),
        py::arg("density"));
  m.def("polygon_mass_properties", &polygon_mass_properties, py::arg("vertices"),
        py::arg("density"));
  m.def("box_vertices", &box_vertices, py::arg("width"), py::arg("height"));

  py::enum_<NormalForceLaw>(m, "NormalForceLaw")
      .value("kelvin_voigt", NormalForceLaw::kKelvinVoigt)
      .value("hunt_crossley", NormalForceLaw::kHuntCrossley);
  py::class_<ContactMaterial>(m, "ContactMaterial")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<ContactMaterial>(kwargs); }))
      .def_readwrite("stiffness", &ContactMaterial::stiffness)
      .def_readwrite("damping", &ContactMaterial::damping)
      .def_readwrite("friction", &ContactMaterial::friction);
  m.def("kelvin_voigt_damping_ratio", &kelvin_voigt_damping_ratio);
  m.def("kelvin_voigt_restitution", &kelvin_voigt_restitution);
  m.def("kelvin_voigt_damping_for_restitution", &kelvin_voigt_damping_for_restitution);

  py::class_<GroundPlane>(m, "GroundPlane", "The solid half-plane normal . p < offset.")
      .def(py::init([](Vec2 normal, double offset) {
             return GroundPlane{normal, offset};
           }),
           py::arg("normal") = Vec2{0.0, 1.0}, py::arg("offset") = 0.0)
      .def_readwrite("normal", &GroundPlane::normal)
      .def_readwrite("offset", &GroundPlane::offset)
      .def_static("through", &GroundPlane::through, py::arg("point"), py::arg("normal"));
  py::class_<RigidWorldOptions>(m, "RigidWorldOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<RigidWorldOptions>(kwargs); }))
      .def_readwrite("gravity", &RigidWorldOptions::gravity)
      .def_readwrite("grounds", &RigidWorldOptions::grounds)
      .def_readwrite("normal_law", &RigidWorldOptions::normal_law)
      .def_readwrite("friction_smoothing", &RigidWorldOptions::friction_smoothing)
      .def_readwrite("body_contacts", &RigidWorldOptions::body_contacts)
      .def_readwrite("linear_damping", &RigidWorldOptions::linear_damping)
      .def_readwrite("angular_damping", &RigidWorldOptions::angular_damping);

  py::class_<RigidParameters>(m, "RigidParameters",
                              "mass [K], inertia [K], vertices [V, 2], radius [K], applied "
                              "[K, 3], stiffness, damping, friction (one element each).")
      .def(py::init([](TV mass, TV inertia, TV vertices, TV radius, TV applied, TV stiffness,
                       TV damping, TV friction) {
             return RigidParameters{mass,    inertia,   vertices, radius,
                                    applied, stiffness, damping,  friction};
           }),
           py::arg("mass"), py::arg("inertia"), py::arg("vertices"), py::arg("radius"),
           py::arg("applied"), py::arg("stiffness"), py::arg("damping"), py::arg("friction"))
      .def_readwrite("mass", &RigidParameters::mass)
      .def_readwrite("inertia", &RigidParameters::inertia)
      .def_readwrite("vertices", &RigidParameters::vertices)
      .def_readwrite("radius", &RigidParameters::radius)
      .def_readwrite("applied", &RigidParameters::applied)
      .def_readwrite("stiffness", &RigidParameters::stiffness)
      .def_readwrite("damping", &RigidParameters::damping)
      .def_readwrite("friction", &RigidParameters::friction);
  py::class_<RigidParameterValues>(m, "RigidParameterValues")
      .def_readwrite("mass", &RigidParameterValues::mass)
      .def_readwrite("inertia", &RigidParameterValues::inertia)
      .def_readwrite("vertices", &RigidParameterValues::vertices)
      .def_readwrite("radius", &RigidParameterValues::radius)
      .def_readwrite("applied", &RigidParameterValues::applied)
      .def_readwrite("stiffness", &RigidParameterValues::stiffness)
      .def_readwrite("damping", &RigidParameterValues::damping)
      .def_readwrite("friction", &RigidParameterValues::friction)
      .def("constants", &RigidParameterValues::constants, py::arg("tape"))
      .def(
          "vars",
          [](const RigidParameterValues& v, TensorTape& tape) {
            return RigidParameters{tape.var(v.mass),    tape.var(v.inertia), tape.var(v.vertices),
                                   tape.var(v.radius),  tape.var(v.applied), tape.var(v.stiffness),
                                   tape.var(v.damping), tape.var(v.friction)};
          },
          py::arg("tape"), "Every parameter as a differentiable leaf of `tape`.");

  py::enum_<ContactKind>(m, "ContactKind")
      .value("ground", ContactKind::kGround)
      .value("face", ContactKind::kFace)
      .value("points", ContactKind::kPoints);
  py::class_<Contact>(m, "Contact")
      .def_readonly("kind", &Contact::kind)
      .def_readonly("body_a", &Contact::body_a)
      .def_readonly("feature_a", &Contact::feature_a)
      .def_readonly("body_b", &Contact::body_b)
      .def_readonly("feature_b", &Contact::feature_b)
      .def_readonly("point", &Contact::point)
      .def_readonly("normal", &Contact::normal)
      .def_readonly("depth", &Contact::depth);
  py::class_<ContactFrames>(m, "ContactFrames")
      .def_readonly("point", &ContactFrames::point)
      .def_readonly("normal", &ContactFrames::normal)
      .def_readonly("depth", &ContactFrames::depth);

  py::class_<RigidWorld2D>(m, "RigidWorld2D",
                           "2-D rigid bodies with penalty contact; state [2, K, 3]: poses (x, y, "
                           "theta), then velocities (vx, vy, omega).")
      .def(py::init<std::vector<BodyShape>, RigidWorldOptions>(), py::arg("shapes"),
           py::arg("options") = RigidWorldOptions{})
      .def_property_readonly("num_bodies", &RigidWorld2D::num_bodies)
      .def_property_readonly("num_vertices", &RigidWorld2D::num_vertices)
      .def("shape", &RigidWorld2D::shape)
      .def_property_readonly("options", &RigidWorld2D::options)
      .def("first_vertex", &RigidWorld2D::first_vertex)
      .def("next_vertex", &RigidWorld2D::next_vertex)
      .def("parameters_from_density", &RigidWorld2D::parameters_from_density, py::arg("density"),
           py::arg("material") = ContactMaterial{})
      .def("parameters_from_masses", &RigidWorld2D::parameters_from_masses, py::arg("masses"),
           py::arg("material") = ContactMaterial{})
      .def_static("make_state", &RigidWorld2D::make_state, py::arg("poses"), py::arg("velocities"))
      .def("step", &world_step<double>, py::arg("state"), py::arg("params"), py::arg("dt"))
      .def("step", &world_step<TV>, py::arg("state"), py::arg("params"), py::arg("dt"))
      .def(
          "step_composed",
          [](const RigidWorld2D& w, TV state, const RigidParameters& p, double dt) {
            return w.step_composed(state, p, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"))
      .def(
          "step_composed",
          [](const RigidWorld2D& w, TV state, const RigidParameters& p, TV dt) {
            return w.step_composed(state, p, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"))
      .def("find_contacts", &RigidWorld2D::find_contacts, py::arg("state"), py::arg("params"))
      .def(
          "contact_frames",
          [](const RigidWorld2D& w, TV state, const RigidParameters& p,
             const std::vector<Contact>& contacts) { return w.contact_frames(state, p, contacts); },
          py::arg("state"), py::arg("params"), py::arg("contacts"));
  m.def(
      "wrench_at_points",
      [](TV state, py::handle bodies, TV points, TV forces) {
        const auto indices = index_vector(bodies, "wrench_at_points");
        return wrench_at_points(state, indices, points, forces);
      },
      py::arg("state"), py::arg("bodies"), py::arg("points"), py::arg("forces"));
}

}  // namespace maya::python
