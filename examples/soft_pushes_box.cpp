// Two-way soft-rigid coupling, seen from above: on an air table (no gravity, no ground) a soft
// block is launched into a rigid box, which slides off and slows down under linear drag. Which
// launch speed leaves the box's centre at x = 0.6 m after 1 s? L-BFGS answers through 2000
// coupled explicit steps per simulation: the block is a stable Neo-Hookean mesh of 32 triangles,
// the box a RigidWorld2D body, and every step hands the box the opposite of the contact forces
// on the block's vertices. Exits 1 unless the box ends within 0.1 mm of the goal.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>

namespace {

namespace fem = maya::fem;
namespace optim = maya::optim;

constexpr double kDt = 5e-4;  // s
constexpr int kSteps = 2000;
constexpr double kGoal = 0.6;  // m, the box's final centre

struct Scene {
  maya::rigid::RigidWorld2D world{
      {maya::rigid::BodyShape::box(0.1, 0.1)},
      {.gravity = {0.0, 0.0}, .grounds = {}, .linear_damping = 2.0, .angular_damping = 2.0}};
  fem::SoftBody body = make_body(world);

  static fem::SoftBody make_body(const maya::rigid::RigidWorld2D& world) {
    fem::SoftBodyOptions options;
    options.gravity = {0.0, 0.0};
    options.rigid = fem::RigidContactOptions::of(world, 0.5);
    return fem::SoftBody(fem::rectangle_mesh({.width = 0.1,
                                              .height = 0.1,
                                              .cells_x = 4,
                                              .cells_y = 4,
                                              .origin_x = 0.0,
                                              .origin_y = 0.0}),
                         options);
  }
};

// The box's x after the block is launched at `speed` (m/s) from x in [0, 0.1] towards the box
// resting at x = 0.3 (centred on the block's line: a head-on hit).
maya::TensorVar box_position(const Scene& scene, maya::TensorTape& tape, maya::TensorVar speed) {
  const fem::SoftBody& body = scene.body;
  const fem::BodyParameters params = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()), tape.constant(maya::Tensor::scalar(1e5)),
      tape.constant(maya::Tensor::scalar(0.3)), tape.constant(maya::Tensor::scalar(500.0)));
  const maya::rigid::RigidParameters rigid_params =
      scene.world
          .parameters_from_density(500.0, {.stiffness = 1e4, .damping = 30.0, .friction = 0.3})
          .constants(tape);
  const fem::RigidContactMaterial material{tape.constant(maya::Tensor::scalar(1e5)),
                                           tape.constant(maya::Tensor::scalar(2e3)),
                                           tape.constant(maya::Tensor::scalar(0.2))};
  // Velocity (speed, 0) on every vertex: a [2, N, 2] state from the rest state plus speed * e_x.
  const std::size_t n = body.num_vertices();
  maya::Tensor direction = maya::Tensor::zeros({2, n, 2});
  for (std::size_t i = 0; i < n; ++i) direction.mutable_data()[2 * n + 2 * i] = 1.0;
  fem::CoupledState state{
      tape.constant(body.rest_state()) + speed * tape.constant(direction),
      tape.constant(maya::rigid::RigidWorld2D::make_state(
          maya::Tensor::from_data({0.3, 0.05, 0.0}, {1, 3}), maya::Tensor::zeros({1, 3})))};
  for (int t = 0; t < kSteps; ++t) {
    state = fem::step_coupled(body, params, scene.world, rigid_params, material, state, kDt);
  }
  return maya::select(maya::reshape(state.rigid, {6}), 0, 0);
}

}  // namespace

int main() {
  const Scene scene;
  optim::ParameterSet params;
  params.add("speed", maya::Tensor::scalar(2.0), optim::Bounds::between(0.5, 5.0));
  const optim::Objective objective =
      optim::tape_objective([&](maya::TensorTape& tape, std::span<const maya::TensorVar> p) {
        const maya::TensorVar miss = box_position(scene, tape, p[0]) - kGoal;
        return 1e4 * miss * miss;  // cm^2
      });
  optim::Lbfgs lbfgs(params);
  const optim::Result result = lbfgs.minimize(
      objective,
      {.max_iterations = 50, .tolerance = 1e-10, .callback = [](const optim::Progress& p) {
         std::printf("iteration %3zu  miss^2 %.3e cm^2  |g| %.2e\n", p.iteration, p.loss,
                     p.gradient_norm);
       }});
  const double speed = params.value("speed").item();
  maya::TensorTape tape;
  const double x =
      box_position(scene, tape, tape.constant(maya::Tensor::scalar(speed))).value().item();
  std::printf("%s (%zu simulations of %d coupled steps)\n", result.message.c_str(),
              result.evaluations, kSteps);
  std::printf("launch speed %.6f m/s: after 1 s the box is at x = %.6f m (goal %.2f m)\n", speed, x,
              kGoal);
  return std::abs(x - kGoal) < 1e-9 ? 0 : 1;  // docs/fem.md: within 1e-9 m of the goal
}
