// Material identification: recover Young's modulus and Poisson's ratio of a soft block from its
// observed drop onto the ground. The block (stable Neo-Hookean, 48 tetrahedra) is dropped tilted
// and spinning, bounces and rocks; the "observation" is every vertex's position every 5 ms of a
// simulation with the true material. Starting far from it, L-BFGS fits E and nu through
// backward Euler steps differentiated by the implicit function theorem (one adjoint solve per
// step). Exits 1 unless both are recovered to 1e-4 relative.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>
#include <vector>

namespace {

namespace fem = maya::fem;
namespace optim = maya::optim;

constexpr double kTrueYoungs = 5e4;  // Pa
constexpr double kTruePoisson = 0.35;
constexpr double kDensity = 1000.0;  // kg/m^3
constexpr double kDt = 2e-3;         // s
constexpr int kSteps = 100;
constexpr int kObserveEvery = 5;

// A 10 cm cube, tilted by 20 degrees about z, its lowest corner 2 cm above the ground, falling at
// 1 m/s and spinning at 5 rad/s.
maya::Tensor initial_state(const fem::SoftBody& body) {
  const maya::Tensor& rest = body.mesh().rest_positions();
  const std::size_t n = body.num_vertices();
  const double angle = 20.0 * 3.14159265358979 / 180.0;
  const double c = std::cos(angle), s = std::sin(angle);
  maya::Tensor x = maya::Tensor::zeros({n, 3});
  maya::Tensor v = maya::Tensor::zeros({n, 3});
  double lowest = 1e9;
  for (std::size_t i = 0; i < n; ++i) {
    const double px = rest.at({i, 0}) - 0.05, py = rest.at({i, 1}) - 0.05;
    x.mutable_data()[i * 3 + 0] = c * px - s * py;
    x.mutable_data()[i * 3 + 1] = s * px + c * py;
    x.mutable_data()[i * 3 + 2] = rest.at({i, 2});
    lowest = std::min(lowest, x.at({i, 1}));
  }
  for (std::size_t i = 0; i < n; ++i) {
    x.mutable_data()[i * 3 + 1] += 0.02 - lowest;
    // v = (0, -1, 0) + omega e_z x (x - centre)
    v.mutable_data()[i * 3 + 0] = -5.0 * (x.at({i, 1}) - (0.02 - lowest));
    v.mutable_data()[i * 3 + 1] = -1.0 + 5.0 * x.at({i, 0});
  }
  return fem::SoftBody::make_state(x, v);
}

// Positions of every vertex at every observed step.
std::vector<maya::TensorVar> simulate(const fem::SoftBody& body, maya::TensorTape& tape,
                                      maya::TensorVar youngs, maya::TensorVar poisson) {
  const fem::BodyParameters params =
      fem::parameters(body, tape.constant(body.mesh().rest_positions()), youngs, poisson,
                      tape.constant(maya::Tensor::scalar(kDensity)));
  maya::TensorVar state = tape.constant(initial_state(body));
  std::vector<maya::TensorVar> observed;
  for (int t = 1; t <= kSteps; ++t) {
    state = fem::step_implicit(body, state, params, kDt);
    if (t % kObserveEvery == 0) observed.push_back(maya::dynamics::positions_of(state));
  }
  return observed;
}

}  // namespace

int main() {
  fem::SoftBodyOptions options;
  options.energy = fem::Energy::kStableNeoHookean;
  options.ground = {.enabled = true,
                    .height = 0.0,
                    .up_axis = 1,
                    .stiffness = 1e5,
                    .damping = 1e3,
                    .friction = 0.4,
                    .slip_velocity = 0.01};
  const fem::SoftBody body(
      fem::box_mesh(
          {.size_x = 0.1, .size_y = 0.1, .size_z = 0.1, .cells_x = 2, .cells_y = 2, .cells_z = 2}),
      options);

  // The observation: the true material's trajectory.
  std::vector<maya::Tensor> observation;
  {
    maya::TensorTape tape;
    for (const maya::TensorVar x :
         simulate(body, tape, tape.constant(maya::Tensor::scalar(kTrueYoungs)),
                  tape.constant(maya::Tensor::scalar(kTruePoisson)))) {
      observation.push_back(x.value());
    }
  }

  // Fit from E = 20 kPa, nu = 0.2: E through a positive (log) map, nu inside (0, 0.49).
  optim::ParameterSet params;
  params.add("youngs_modulus", maya::Tensor::scalar(2e4), optim::Positive::exp());
  params.add("poisson_ratio", maya::Tensor::scalar(0.2), optim::Bounds::between(0.0, 0.49));
  // Mean squared position error in mm^2.
  const optim::Objective objective =
      optim::tape_objective([&](maya::TensorTape& tape, std::span<const maya::TensorVar> p) {
        const std::vector<maya::TensorVar> predicted = simulate(body, tape, p[0], p[1]);
        maya::TensorVar loss = tape.constant(maya::Tensor::scalar(0.0));
        for (std::size_t k = 0; k < predicted.size(); ++k) {
          loss = loss + maya::mean(maya::square(predicted[k] - tape.constant(observation[k])));
        }
        return loss * (1e6 / static_cast<double>(predicted.size()));
      });
  optim::Lbfgs lbfgs(params);
  const optim::Result result = lbfgs.minimize(
      objective,
      {.max_iterations = 100, .tolerance = 1e-9, .callback = [](const optim::Progress& p) {
         std::printf("iteration %3zu  loss %.3e mm^2  |g| %.2e\n", p.iteration, p.loss,
                     p.gradient_norm);
       }});

  const double youngs = params.value("youngs_modulus").item();
  const double poisson = params.value("poisson_ratio").item();
  const double youngs_error = std::abs(youngs - kTrueYoungs) / kTrueYoungs;
  const double poisson_error = std::abs(poisson - kTruePoisson) / kTruePoisson;
  std::printf("%s (%zu simulations of %d implicit steps)\n", result.message.c_str(),
              result.evaluations, kSteps);
  std::printf("Young's modulus: %.6f kPa (true %.1f kPa), relative error %.1e\n", youngs / 1e3,
              kTrueYoungs / 1e3, youngs_error);
  std::printf("Poisson's ratio: %.8f    (true %.2f),     relative error %.1e\n", poisson,
              kTruePoisson, poisson_error);
  // docs/fem.md: both recovered to better than 1e-12 relative (measured 5e-14 and 2e-13).
  return youngs_error < 1e-12 && poisson_error < 1e-12 ? 0 : 1;
}
