// maya simulate ROBOT.urdf|ROBOT.xml: a robot model run open loop (zero torques, or the torques of
// a .npy file) and written as joint trajectories (.npy), body poses and a 3-D viewer page.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "maya/core/error.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/viz/viewer3d.hpp"

namespace maya::cli {

bool is_robot_file(const std::filesystem::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".urdf" || extension == ".xml";
}

viz::Viewer3DScene robot_view(const multibody::Model& model, const std::string& title,
                              const std::vector<double>& states, std::size_t steps, double dt,
                              std::span<const double> params_in) {
  using multibody::ShapeType;
  viz::Viewer3DScene view;
  view.title = title;
  for (const multibody::Body& body : model.bodies()) {
    viz::Viewer3DBody out;
    out.name = body.name;
    out.parent = body.parent;
    for (const multibody::Geom& geom : body.geoms) {
      viz::Viewer3DShape shape;
      shape.type = geom.type == ShapeType::kBox       ? viz::Viewer3DShape::Type::kBox
                   : geom.type == ShapeType::kCapsule ? viz::Viewer3DShape::Type::kCapsule
                                                      : viz::Viewer3DShape::Type::kSphere;
      shape.position = geom.position;
      shape.orientation = geom.orientation;
      shape.radius = geom.radius;
      shape.half_length = geom.half_length;
      shape.half_size = geom.size;
      out.shapes.push_back(shape);
    }
    view.bodies.push_back(std::move(out));
  }
  for (const multibody::Plane& plane : model.options().planes) {
    view.planes.push_back({plane.normal[0], plane.normal[1], plane.normal[2], plane.offset});
  }
  const std::vector<double> params = params_in.empty()
                                         ? model.parameters()
                                         : std::vector<double>(params_in.begin(), params_in.end());
  for (std::size_t t = 0; t <= steps; ++t) {
    view.times.push_back(static_cast<double>(t) * dt);
    const std::vector<double> poses = multibody::body_poses(
        model, params, std::span<const double>(states.data() + t * model.nx(), model.nq()));
    view.poses.insert(view.poses.end(), poses.begin(), poses.end());
  }
  return view;
}

int simulate_robot_command(const std::filesystem::path& file, const std::filesystem::path& out,
                           const RobotRunOptions& options, bool quiet) {
  const std::string name = file.string();
  multibody::UrdfOptions urdf;
  urdf.floating_base = options.floating_base;
  urdf.ground_plane = options.ground;
  urdf.self_collision = options.self_collision;
  multibody::MjcfOptions mjcf;
  if (options.contact == "hard") {
    urdf.contact_model = multibody::ContactModel::kHard;
    mjcf.contact_model = multibody::ContactModel::kHard;
  } else if (options.contact == "penalty") {
    mjcf.contact_model = multibody::ContactModel::kPenalty;
  }
  const multibody::Model model = file.extension() == ".urdf" ? multibody::load_urdf(name, urdf)
                                                             : multibody::load_mjcf(name, mjcf);
  const bool hard = model.options().contact_model == multibody::ContactModel::kHard;
  std::vector<double> x0 = model.initial_state();
  if (options.height != 0.0) {
    if (model.num_bodies() == 0 || model.body(0).joint != multibody::JointType::kFree) {
      throw ValueError("simulate: --height needs a free root body (--floating-base for URDF)");
    }
    x0[model.q_index(0) + 2] += options.height;
  }
  io::check_output_directory(out);
  const double dt = options.dt.value_or(model.options().timestep);
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValueError("simulate: --dt must be a positive number of seconds, got " +
                     std::to_string(dt));
  }
  const std::size_t steps = options.steps;
  // Hard contact steps with semi-implicit Euler: it is the default then, and RK4 asked for is an
  // error.
  multibody::Integrator integrator =
      hard ? multibody::Integrator::kSemiImplicitEuler : model.options().integrator;
  if (options.integrator == "euler") integrator = multibody::Integrator::kSemiImplicitEuler;
  if (options.integrator == "rk4") {
    if (hard) {
      throw ValueError(
          "simulate: hard contact steps with semi-implicit Euler only (velocity-level time "
          "stepping); drop --integrator rk4 or use --contact penalty");
    }
    integrator = multibody::Integrator::kRungeKutta4;
  }
  const std::size_t nu = model.nu();
  std::vector<double> controls;
  if (options.torques) {
    const io::NpyArray torques = io::parse_npy(io::read_file(*options.torques));
    const bool fits =
        (torques.shape.size() == 2 && torques.shape[0] == steps && torques.shape[1] == nu) ||
        (torques.shape.size() == 1 && nu == 1 && torques.shape[0] == steps);
    if (!fits) {
      std::string shape = "[";
      for (std::size_t k = 0; k < torques.shape.size(); ++k) {
        shape += (k > 0 ? ", " : "") + std::to_string(torques.shape[k]);
      }
      throw ShapeError("simulate: " + options.torques->string() + " must have shape [" +
                       std::to_string(steps) + ", " + std::to_string(nu) +
                       "] (steps, the model's actuators in file order), got " + shape + "]");
    }
    controls = torques.values;
  }
  const std::vector<double> states =
      multibody::rollout(model, model.parameters(), x0, controls, steps, dt, integrator);

  const std::size_t nq = model.nq(), nv = model.nv(), nx = model.nx();
  std::vector<double> q, v;
  for (std::size_t t = 0; t <= steps; ++t) {
    q.insert(q.end(), states.begin() + t * nx, states.begin() + t * nx + nq);
    v.insert(v.end(), states.begin() + t * nx + nq, states.begin() + (t + 1) * nx);
  }
  const viz::Viewer3DScene view = robot_view(model, file.filename().string(), states, steps, dt);
  io::OutputFiles files(out);
  const std::size_t q_shape[] = {steps + 1, nq}, v_shape[] = {steps + 1, nv};
  const std::size_t pose_shape[] = {steps + 1, model.num_bodies(), 7}, t_shape[] = {steps + 1};
  files.add("joint_positions.npy", io::npy_bytes(q, q_shape));
  files.add("joint_velocities.npy", io::npy_bytes(v, v_shape));
  files.add("body_poses.npy", io::npy_bytes(view.poses, pose_shape));
  files.add("times.npy", io::npy_bytes(view.times, t_shape));
  files.add("viewer.html", viz::viewer3d_html(view));
  files.commit();
  if (!quiet) {
    std::printf("simulated %s: %zu bodies, nq %zu, nv %zu, %zu steps of %g s (%s, %s contact)\n",
                file.filename().string().c_str(), model.num_bodies(), nq, nv, steps, dt,
                integrator == multibody::Integrator::kRungeKutta4 ? "RK4" : "semi-implicit Euler",
                hard ? "hard" : "penalty");
    std::printf(
        "wrote joint_positions.npy, joint_velocities.npy, body_poses.npy, times.npy, "
        "viewer.html to %s\n",
        out.string().c_str());
    if (!viz::viewer3d_has_three()) {
      std::printf(
          "note: this maya was built without three.js (Debian: libjs-three); "
          "viewer.html says so instead of drawing\n");
    }
  }
  return 0;
}

}  // namespace maya::cli
