// maya.fem: soft bodies on triangle and tetrahedral meshes, explicit and implicit steps, ground
// and rigid-body contact.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "maya/fem/coupled_step.hpp"
#include "maya/fem/fem.hpp"
#include "maya/fem/mesh_io.hpp"

// The layer namespace its types move into (empty until they do).
namespace maya::rigid {}

namespace maya::python {

using namespace maya::rigid;

namespace {

using namespace maya::fem;
using TV = TensorVar;

}  // namespace

void register_fem(py::module_& parent) {
  py::module_ m = parent.def_submodule("fem", "Soft bodies by linear finite elements.");

  py::class_<Mesh>(m, "Mesh", "Rest positions [N, D] and elements of D + 1 vertex indices.")
      .def(py::init([](const Tensor& rest_positions, py::handle elements) {
             return Mesh(rest_positions, index_vector(elements, "Mesh"));
           }),
           py::arg("rest_positions"), py::arg("elements"))
      .def_property_readonly("dim", &Mesh::dim)
      .def_property_readonly("num_vertices", &Mesh::num_vertices)
      .def_property_readonly("num_elements", &Mesh::num_elements)
      .def_property_readonly("vertices_per_element", &Mesh::vertices_per_element)
      .def_property_readonly("rest_positions", &Mesh::rest_positions)
      .def_property_readonly("elements",
                             [](const Mesh& mesh) {
                               const auto e = mesh.elements();
                               py::array_t<std::int64_t> array(
                                   {static_cast<py::ssize_t>(mesh.num_elements()),
                                    static_cast<py::ssize_t>(mesh.vertices_per_element())});
                               std::copy(e.begin(), e.end(), array.mutable_data());
                               return array;
                             })
      .def("signed_volumes", &Mesh::signed_volumes)
      .def("orient_positively", &Mesh::orient_positively);
  py::class_<RectangleSpec>(m, "RectangleSpec")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<RectangleSpec>(kwargs); }))
      .def_readwrite("width", &RectangleSpec::width)
      .def_readwrite("height", &RectangleSpec::height)
      .def_readwrite("cells_x", &RectangleSpec::cells_x)
      .def_readwrite("cells_y", &RectangleSpec::cells_y)
      .def_readwrite("origin_x", &RectangleSpec::origin_x)
      .def_readwrite("origin_y", &RectangleSpec::origin_y);
  py::class_<BoxSpec>(m, "BoxSpec")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<BoxSpec>(kwargs); }))
      .def_readwrite("size_x", &BoxSpec::size_x)
      .def_readwrite("size_y", &BoxSpec::size_y)
      .def_readwrite("size_z", &BoxSpec::size_z)
      .def_readwrite("cells_x", &BoxSpec::cells_x)
      .def_readwrite("cells_y", &BoxSpec::cells_y)
      .def_readwrite("cells_z", &BoxSpec::cells_z)
      .def_readwrite("origin_x", &BoxSpec::origin_x)
      .def_readwrite("origin_y", &BoxSpec::origin_y)
      .def_readwrite("origin_z", &BoxSpec::origin_z);
  m.def("rectangle_mesh", &rectangle_mesh, py::arg("spec"));
  m.def("box_mesh", &box_mesh, py::arg("spec"));
  py::class_<MeshReadOptions>(m, "MeshReadOptions")
      .def(py::init([](bool orient) { return MeshReadOptions{orient}; }), py::arg("orient") = true)
      .def_readwrite("orient", &MeshReadOptions::orient);
  m.def("read_node_ele",
        py::overload_cast<const std::filesystem::path&, const std::filesystem::path&,
                          const MeshReadOptions&>(&read_node_ele),
        py::arg("node_file"), py::arg("ele_file"), py::arg("options") = MeshReadOptions{});
  m.def("read_gmsh",
        py::overload_cast<const std::filesystem::path&, const MeshReadOptions&>(&read_gmsh),
        py::arg("file"), py::arg("options") = MeshReadOptions{});

  py::enum_<Energy>(m, "Energy")
      .value("linear", Energy::kLinear)
      .value("corotational", Energy::kCorotational)
      .value("st_venant_kirchhoff", Energy::kStVenantKirchhoff)
      .value("stable_neo_hookean", Energy::kStableNeoHookean);
  py::enum_<Plane>(m, "Plane").value("strain", Plane::kStrain).value("stress", Plane::kStress);
  py::class_<Lame>(m, "Lame")
      .def(py::init([](TV mu, TV lambda) {
             return Lame{mu, lambda};
           }),
           py::arg("mu"), py::arg("lambda_"))
      .def_readwrite("mu", &Lame::mu)
      .def_readwrite("lambda_", &Lame::lambda);
  py::class_<LameValues>(m, "LameValues")
      .def_readonly("mu", &LameValues::mu)
      .def_readonly("lambda_", &LameValues::lambda);
  m.def("lame_parameters", py::overload_cast<TV, TV, Plane>(&lame_parameters),
        py::arg("youngs_modulus"), py::arg("poisson_ratio"), py::arg("plane") = Plane::kStrain);
  m.def("lame_parameters", py::overload_cast<double, double, Plane>(&lame_parameters),
        py::arg("youngs_modulus"), py::arg("poisson_ratio"), py::arg("plane") = Plane::kStrain);

  py::class_<GroundContact>(m, "GroundContact")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<GroundContact>(kwargs); }))
      .def_readwrite("enabled", &GroundContact::enabled)
      .def_readwrite("height", &GroundContact::height)
      .def_readwrite("up_axis", &GroundContact::up_axis)
      .def_readwrite("stiffness", &GroundContact::stiffness)
      .def_readwrite("damping", &GroundContact::damping)
      .def_readwrite("friction", &GroundContact::friction)
      .def_readwrite("slip_velocity", &GroundContact::slip_velocity);
  py::class_<RigidContactOptions>(m, "RigidContactOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<RigidContactOptions>(kwargs); }))
      .def_readwrite("shapes", &RigidContactOptions::shapes)
      .def_readwrite("slip_velocity", &RigidContactOptions::slip_velocity)
      .def_static("of", &RigidContactOptions::of, py::arg("world"),
                  py::arg("slip_velocity") = 1e-2);
  py::class_<SoftBodyOptions>(m, "SoftBodyOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<SoftBodyOptions>(kwargs); }))
      .def_readwrite("energy", &SoftBodyOptions::energy)
      .def_readwrite("plane", &SoftBodyOptions::plane)
      .def_readwrite("gravity", &SoftBodyOptions::gravity)
      .def_readwrite("ground", &SoftBodyOptions::ground)
      .def_readwrite("pinned", &SoftBodyOptions::pinned)
      .def_readwrite("rigid", &SoftBodyOptions::rigid)
      .def_readwrite("fiber", &SoftBodyOptions::fiber);

  py::class_<RestShape>(m, "RestShape")
      .def_readwrite("inverse_edges", &RestShape::inverse_edges)
      .def_readwrite("volumes", &RestShape::volumes);
  py::class_<BodyParameters>(m, "BodyParameters")
      .def(py::init([](RestShape rest, Lame lame, TV mass, py::object actuation) {
             BodyParameters params{rest, lame, mass, TV{}};
             if (!actuation.is_none()) params.actuation = actuation.cast<TV>();
             return params;
           }),
           py::arg("rest"), py::arg("lame"), py::arg("mass"), py::arg("actuation") = py::none())
      .def_readwrite("rest", &BodyParameters::rest)
      .def_readwrite("lame", &BodyParameters::lame)
      .def_readwrite("mass", &BodyParameters::mass)
      .def_readwrite("actuation", &BodyParameters::actuation);
  py::enum_<LinearSolver>(m, "LinearSolver")
      .value("auto", LinearSolver::kAuto)
      .value("ldlt", LinearSolver::kLdlt)
      .value("conjugate_gradient", LinearSolver::kConjugateGradient);
  py::class_<NewtonOptions>(m, "NewtonOptions")
      .def(py::init([](py::kwargs kwargs) { return from_kwargs<NewtonOptions>(kwargs); }))
      .def_readwrite("max_iterations", &NewtonOptions::max_iterations)
      .def_readwrite("tolerance", &NewtonOptions::tolerance)
      .def_readwrite("solver", &NewtonOptions::solver)
      .def_readwrite("cg_tolerance", &NewtonOptions::cg_tolerance)
      .def_readwrite("cg_max_iterations", &NewtonOptions::cg_max_iterations);

  py::class_<RigidContactMaterial>(m, "RigidContactMaterial")
      .def(py::init([](TV k, TV c, TV mu) {
             return RigidContactMaterial{k, c, mu};
           }),
           py::arg("stiffness"), py::arg("damping"), py::arg("friction"))
      .def_readwrite("stiffness", &RigidContactMaterial::stiffness)
      .def_readwrite("damping", &RigidContactMaterial::damping)
      .def_readwrite("friction", &RigidContactMaterial::friction);
  py::class_<RigidObstacles>(m, "RigidObstacles")
      .def(py::init([](TV state, RigidContactMaterial material) {
             return RigidObstacles{state, material};
           }),
           py::arg("state"), py::arg("material"))
      .def_readwrite("state", &RigidObstacles::state)
      .def_readwrite("material", &RigidObstacles::material);
  py::class_<RigidContactForces>(m, "RigidContactForces")
      .def_readonly("soft", &RigidContactForces::soft)
      .def_readonly("rigid", &RigidContactForces::rigid);
  py::class_<CoupledState>(m, "CoupledState")
      .def(py::init([](TV soft, TV rigid) {
             return CoupledState{soft, rigid};
           }),
           py::arg("soft"), py::arg("rigid"))
      .def_readwrite("soft", &CoupledState::soft)
      .def_readwrite("rigid", &CoupledState::rigid);

  using Obstacles = const RigidObstacles&;
  using Params = const BodyParameters&;
  using Newton = const NewtonOptions&;
  py::class_<SoftBody>(m, "SoftBody",
                       "A soft body on a Mesh; state [2, N, D] (positions, then velocities).")
      .def(py::init<const Mesh&, SoftBodyOptions>(), py::arg("mesh"),
           py::arg("options") = SoftBodyOptions{})
      .def_property_readonly("mesh", &SoftBody::mesh)
      .def_property_readonly("dim", &SoftBody::dim)
      .def_property_readonly("num_vertices", &SoftBody::num_vertices)
      .def_property_readonly("num_elements", &SoftBody::num_elements)
      .def_property_readonly("options", &SoftBody::options)
      .def("is_pinned", &SoftBody::is_pinned)
      // Methods over the free functions of soft_body.hpp (the nodes they record hold the body).
      .def(
          "rest_shape", [](const SoftBody& body, TV x) { return rest_shape(body, x); },
          py::arg("rest_positions"))
      .def(
          "rest_shape_composed",
          [](const SoftBody& body, TV x) { return rest_shape_composed(body, x); },
          py::arg("rest_positions"))
      .def(
          "lumped_masses",
          [](const SoftBody& body, const RestShape& rest, TV density) {
            return lumped_masses(body, rest, density);
          },
          py::arg("rest"), py::arg("density"))
      .def(
          "lame", [](const SoftBody& body, TV e, TV nu) { return lame(body, e, nu); },
          py::arg("youngs_modulus"), py::arg("poisson_ratio"))
      .def(
          "parameters",
          [](const SoftBody& body, TV x, TV e, TV nu, TV density) {
            return parameters(body, x, e, nu, density);
          },
          py::arg("rest_positions"), py::arg("youngs_modulus"), py::arg("poisson_ratio"),
          py::arg("density"))
      .def(
          "elastic_forces",
          [](const SoftBody& body, TV x, Params params) { return elastic_forces(body, x, params); },
          py::arg("positions"), py::arg("params"))
      .def(
          "elastic_forces_composed",
          [](const SoftBody& body, TV x, Params params) {
            return elastic_forces_composed(body, x, params);
          },
          py::arg("positions"), py::arg("params"))
      .def(
          "elastic_energy",
          [](const SoftBody& body, TV x, Params params) { return elastic_energy(body, x, params); },
          py::arg("positions"), py::arg("params"))
      .def(
          "deformation_gradients",
          [](const SoftBody& body, TV x, const RestShape& rest) {
            return deformation_gradients(body, x, rest);
          },
          py::arg("positions"), py::arg("rest"))
      .def(
          "stresses",
          [](const SoftBody& body, TV x, Params params) { return stresses(body, x, params); },
          py::arg("positions"), py::arg("params"))
      .def(
          "ground_forces",
          [](const SoftBody& body, TV x, TV v) { return ground_forces(body, x, v); },
          py::arg("positions"), py::arg("velocities"))
      .def(
          "ground_forces_composed",
          [](const SoftBody& body, TV x, TV v) { return ground_forces_composed(body, x, v); },
          py::arg("positions"), py::arg("velocities"))
      .def(
          "rigid_contact_forces",
          [](const SoftBody& body, TV state, Obstacles obstacles) {
            return rigid_contact_forces(body, state, obstacles);
          },
          py::arg("state"), py::arg("obstacles"))
      .def(
          "rigid_contact_forces_composed",
          [](const SoftBody& body, TV state, Obstacles obstacles) {
            return rigid_contact_forces_composed(body, state, obstacles);
          },
          py::arg("state"), py::arg("obstacles"))
      .def(
          "step_explicit",
          [](const SoftBody& body, TV state, Params params, double dt) {
            return step_explicit(body, state, params, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"))
      .def(
          "step_explicit",
          [](const SoftBody& body, TV state, Params params, double dt, Obstacles obstacles) {
            return step_explicit(body, state, params, dt, obstacles);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"), py::arg("obstacles"))
      .def(
          "step_explicit_composed",
          [](const SoftBody& body, TV state, Params params, double dt) {
            return step_explicit_composed(body, state, params, dt);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"))
      .def(
          "step_implicit",
          [](const SoftBody& body, TV state, Params params, double dt, Newton newton) {
            return step_implicit(body, state, params, dt, newton);
          },
          py::arg("state"), py::arg("params"), py::arg("dt"), py::arg("newton") = NewtonOptions{})
      .def(
          "step_implicit",
          [](const SoftBody& body, TV state, Params params, double dt, Obstacles obstacles,
             Newton newton) { return step_implicit(body, state, params, dt, obstacles, newton); },
          py::arg("state"), py::arg("params"), py::arg("dt"), py::arg("obstacles"),
          py::arg("newton") = NewtonOptions{})
      .def(
          "static_equilibrium",
          [](const SoftBody& body, TV x, Params params, Newton newton) {
            return static_equilibrium(body, x, params, newton);
          },
          py::arg("positions"), py::arg("params"), py::arg("newton") = NewtonOptions{})
      .def_static("make_state", &SoftBody::make_state, py::arg("positions"), py::arg("velocities"))
      .def("rest_state", &SoftBody::rest_state);

  m.def(
      "step_coupled",
      [](py::object body, Params soft_params, py::object world, const RigidParameters& rigid_params,
         const RigidContactMaterial& material, const CoupledState& state, double dt) {
        return step_coupled(body.cast<const SoftBody&>(), soft_params,
                            world.cast<const RigidWorld2D&>(), rigid_params, material, state, dt);
      },
      py::arg("body"), py::arg("soft_params"), py::arg("world"), py::arg("rigid_params"),
      py::arg("material"), py::arg("state"), py::arg("dt"));
}

}  // namespace maya::python
