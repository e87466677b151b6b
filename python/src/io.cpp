// maya.io: scene and task files, the models they make, trajectories and .npy files.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/scene_file.hpp"
#include "maya/io/task_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/tasks/rigid_scene.hpp"
#include "maya/tasks/spring_task.hpp"
#include "objective.hpp"

namespace maya::python {

namespace {

using namespace maya::io;
using namespace maya::tasks;

py::array vector_array(const std::vector<double>& values, Shape shape) {
  return array_copy(TensorView{values.data(), shape});
}

std::vector<Tensor> tensors_from(const py::sequence& items) {
  std::vector<Tensor> tensors;
  for (py::handle item : items) tensors.push_back(tensor_from(item, "SpringTask"));
  return tensors;
}

}  // namespace

void register_io(py::module_& parent) {
  py::module_ m = parent.def_submodule("io", "Scene and task files, trajectories, .npy.");

  py::class_<ParticleSpec>(m, "ParticleSpec")
      .def(py::init<>())
      .def_readwrite("position", &ParticleSpec::position)
      .def_readwrite("velocity", &ParticleSpec::velocity)
      .def_readwrite("mass", &ParticleSpec::mass)
      .def_readwrite("radius", &ParticleSpec::radius);
  py::class_<SpringSpec>(m, "SpringSpec")
      .def(py::init<>())
      .def_readwrite("first", &SpringSpec::first)
      .def_readwrite("second", &SpringSpec::second)
      .def_readwrite("rest_length", &SpringSpec::rest_length)
      .def_readwrite("stiffness", &SpringSpec::stiffness)
      .def_readwrite("damping", &SpringSpec::damping);
  py::class_<GroundSpec>(m, "GroundSpec")
      .def(py::init<>())
      .def_readwrite("height", &GroundSpec::height)
      .def_readwrite("stiffness", &GroundSpec::stiffness)
      .def_readwrite("damping", &GroundSpec::damping);
  py::class_<BodySpec> body(m, "BodySpec");
  py::enum_<BodySpec::Shape>(body, "Shape")
      .value("box", BodySpec::Shape::kBox)
      .value("circle", BodySpec::Shape::kCircle)
      .value("polygon", BodySpec::Shape::kPolygon);
  body.def(py::init<>())
      .def_readwrite("shape", &BodySpec::shape)
      .def_readwrite("size", &BodySpec::size)
      .def_readwrite("radius", &BodySpec::radius)
      .def_readwrite("vertices", &BodySpec::vertices)
      .def_readwrite("position", &BodySpec::position)
      .def_readwrite("angle", &BodySpec::angle)
      .def_readwrite("velocity", &BodySpec::velocity)
      .def_readwrite("angular_velocity", &BodySpec::angular_velocity)
      .def_readwrite("mass", &BodySpec::mass)
      .def_readwrite("density", &BodySpec::density);
  py::class_<BodyContactSpec>(m, "BodyContactSpec")
      .def(py::init<>())
      .def_readwrite("stiffness", &BodyContactSpec::stiffness)
      .def_readwrite("damping", &BodyContactSpec::damping)
      .def_readwrite("friction", &BodyContactSpec::friction);
  py::class_<SceneSpec>(m, "SceneSpec", "A 2-D scene read from a scene file.")
      .def(py::init<>())
      .def_readwrite("name", &SceneSpec::name)
      .def_readwrite("dt", &SceneSpec::dt)
      .def_readwrite("steps", &SceneSpec::steps)
      .def_readwrite("gravity", &SceneSpec::gravity)
      .def_readwrite("particles", &SceneSpec::particles)
      .def_readwrite("springs", &SceneSpec::springs)
      .def_readwrite("ground", &SceneSpec::ground)
      .def_readwrite("bodies", &SceneSpec::bodies)
      .def_readwrite("body_contact", &SceneSpec::body_contact)
      .def("duration", &SceneSpec::duration);
  m.def("load_scene", &load_scene, py::arg("path"));
  m.def("parse_scene_text", &parse_scene_text, py::arg("text"), py::arg("source") = "");
  m.def("scene_json", &scene_json, py::arg("scene"));

  py::class_<TaskSpec>(m, "TaskSpec",
                       "A task file: a scene, free parameters, a loss, an optimizer.")
      .def_readonly("name", &TaskSpec::name)
      .def_readwrite("scene", &TaskSpec::scene);
  m.def("load_task", &load_task, py::arg("path"));
  m.def("parse_task_text", &parse_task_text, py::arg("text"), py::arg("source") = "",
        py::arg("base_directory") = std::filesystem::path("."));

  py::class_<Trajectory>(m, "Trajectory", "A recorded trajectory in plain arrays.")
      .def_readonly("dim", &Trajectory::dim)
      .def_readonly("num_particles", &Trajectory::num_particles)
      .def_readonly("num_bodies", &Trajectory::num_bodies)
      .def_property_readonly("num_frames", &Trajectory::num_frames)
      .def_property_readonly(
          "times", [](const Trajectory& t) { return vector_array(t.times, {t.times.size()}); })
      .def_property_readonly(
          "positions",
          [](const Trajectory& t) {
            return vector_array(t.positions, {t.num_frames(), t.num_particles, t.dim});
          })
      .def_property_readonly(
          "velocities",
          [](const Trajectory& t) {
            return vector_array(
                t.velocities, {t.velocities.empty() ? 0 : t.num_frames(), t.num_particles, t.dim});
          })
      .def_property_readonly("body_poses", [](const Trajectory& t) {
        return vector_array(t.body_poses,
                            {t.body_poses.empty() ? 0 : t.num_frames(), t.num_bodies, 3});
      });
  m.def("trajectory_csv", &trajectory_csv);
  m.def("simulate", &simulate, py::arg("scene"), "Runs a scene's particles (forward only).");
  m.def("simulate_bodies", &simulate_bodies, py::arg("scene"), py::arg("trajectory"));

  py::class_<SpringScene>(m, "SpringScene")
      .def_readonly("model", &SpringScene::model)
      .def_readonly("positions", &SpringScene::positions)
      .def_readonly("velocities", &SpringScene::velocities)
      .def_readonly("mass", &SpringScene::mass)
      .def_readonly("stiffness", &SpringScene::stiffness)
      .def_readonly("damping", &SpringScene::damping)
      .def_readonly("rest_length", &SpringScene::rest_length);
  m.def("make_spring_scene", &make_spring_scene, py::arg("scene"));
  m.def("make_rigid_world", &make_rigid_world, py::arg("scene"));
  m.def("rigid_parameter_values", &rigid_parameter_values, py::arg("scene"), py::arg("world"));

  py::class_<SpringTask>(m, "SpringTask", "A task ready to evaluate on the mass-spring model.")
      .def(py::init<TaskSpec>(), py::arg("task"))
      .def_property_readonly("spec", &SpringTask::spec)
      .def("parameters", &SpringTask::parameters)
      .def(
          "loss",
          [](const SpringTask& t, const py::sequence& values) {
            const std::vector<Tensor> tensors = tensors_from(values);
            return t.loss(tensors);
          },
          py::arg("values"))
      .def(
          "objective",
          [](const SpringTask& t) { return PyObjective{optim::tape_objective(t.loss_function())}; },
          py::keep_alive<0, 1>(), "The task loss as a maya.optim.Objective.")
      .def(
          "scene_with",
          [](const SpringTask& t, const py::sequence& values) {
            const std::vector<Tensor> tensors = tensors_from(values);
            return t.scene_with(tensors);
          },
          py::arg("values"))
      .def("true_values", &SpringTask::true_values)
      .def("observed", &SpringTask::observed);
  py::class_<GradcheckEntry>(m, "GradcheckEntry")
      .def_readonly("parameter", &GradcheckEntry::parameter)
      .def_readonly("entry", &GradcheckEntry::entry)
      .def_readonly("analytic", &GradcheckEntry::analytic)
      .def_readonly("numeric", &GradcheckEntry::numeric)
      .def_readonly("relative_error", &GradcheckEntry::relative_error);
  py::class_<GradcheckSummary>(m, "GradcheckSummary")
      .def_readonly("loss", &GradcheckSummary::loss)
      .def_readonly("worst", &GradcheckSummary::worst)
      .def("max_error", &GradcheckSummary::max_error);
  m.def("gradcheck_task", &gradcheck_task, py::arg("task"), py::arg("step") = 1e-6);

  m.def(
      "npy_bytes",
      [](const Tensor& t) {
        const std::string bytes = npy_bytes(t);
        return py::bytes(bytes);
      },
      py::arg("tensor"));
  m.def(
      "parse_npy",
      [](const py::bytes& bytes) {
        const NpyArray array = parse_npy(std::string_view(bytes));
        return Tensor::from_data(array.values, array.shape);
      },
      py::arg("bytes"));
}

}  // namespace maya::python
