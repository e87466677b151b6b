// Physics with known answers: a cantilever against Euler-Bernoulli beam theory, and a block
// crushed under its own (enormous) weight.
#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::fem::Energy;
using maya::fem::SoftBody;
namespace fem = maya::fem;

// Tip deflection of a cantilever (length L, height H, plane stress, clamped at x = 0) under its
// own weight, by static equilibrium of linear elasticity on cells_x x cells_y cells.
double cantilever_tip_deflection(std::size_t cells_x, std::size_t cells_y, double length,
                                 double height, double youngs, double poisson, double density) {
  const maya::fem::Mesh mesh = maya::fem::rectangle_mesh(
      {.width = length, .height = height, .cells_x = cells_x, .cells_y = cells_y});
  std::vector<std::int64_t> clamped;
  for (std::size_t j = 0; j <= cells_y; ++j) {
    clamped.push_back(static_cast<std::int64_t>(j * (cells_x + 1)));
  }
  const SoftBody body(
      mesh, {.energy = Energy::kLinear, .plane = maya::fem::Plane::kStress, .pinned = clamped});
  TensorTape tape;
  const auto params = fem::parameters(
      body, tape.constant(mesh.rest_positions()), tape.constant(Tensor::scalar(youngs)),
      tape.constant(Tensor::scalar(poisson)), tape.constant(Tensor::scalar(density)));
  const Tensor x =
      fem::static_equilibrium(body, tape.constant(mesh.rest_positions()), params).value();
  // Mean vertical displacement of the tip's vertices.
  double deflection = 0.0;
  for (std::size_t j = 0; j <= cells_y; ++j) {
    const std::size_t v = j * (cells_x + 1) + cells_x;
    deflection += mesh.rest_positions().at({v, 1}) - x.at({v, 1});
  }
  return deflection / static_cast<double>(cells_y + 1);
}

}  // namespace

// Euler-Bernoulli: a uniform load q = rho g H (per unit length and thickness) on a cantilever
// deflects its tip by q L^4 / (8 E I), I = H^3 / 12, so delta = 3 rho g L^4 / (2 E H^2).
// Linear triangles are stiff in bending (shear locking), so the coarse meshes underestimate it;
// the error must shrink with every refinement (measured: 37%, 12.5%, 2.9%, 0.17%) and be below
// 1% on the finest mesh. Beam theory itself neglects shear deformation, about
// 0.8 (1 + nu) (H/L)^2 = 1% of the deflection, which a further refinement would expose.
TEST(Cantilever, DeflectsAsEulerBernoulliPredictsWithErrorShrinkingUnderRefinement) {
  const double length = 1.0, height = 0.1, youngs = 1e7, poisson = 0.3, density = 1000.0;
  const double beam_theory =
      3.0 * density * 9.81 * std::pow(length, 4) / (2.0 * youngs * height * height);
  double previous_error = 1.0;
  for (const std::size_t refinement : {1, 2, 4, 8}) {
    const double deflection = cantilever_tip_deflection(20 * refinement, 2 * refinement, length,
                                                        height, youngs, poisson, density);
    const double error = std::abs(deflection - beam_theory) / beam_theory;
    EXPECT_LT(error, previous_error) << refinement * 20 << " x " << refinement * 2 << " cells";
    previous_error = error;
  }
  EXPECT_LT(previous_error, 0.01);
}

namespace {

// Smallest volume ratio J = det F over all elements and all steps of a 3 x 3 x 3 block dropped
// onto the ground under 300 g, where its weight per area (rho g H = 3 MPa) is 30 times E.
double smallest_volume_ratio_when_crushed(Energy energy) {
  const double size = 0.1;
  const maya::fem::Mesh mesh = maya::fem::box_mesh(
      {.size_x = size, .size_y = size, .size_z = size, .cells_x = 3, .cells_y = 3, .cells_z = 3});
  maya::fem::SoftBodyOptions options;
  options.energy = energy;
  options.gravity = {0.0, -3000.0, 0.0};
  options.ground = {.enabled = true,
                    .height = 0.0,
                    .up_axis = 1,
                    .stiffness = 1e6,
                    .damping = 1e4,
                    .friction = 0.5,
                    .slip_velocity = 0.01};
  const SoftBody body(mesh, options);
  TensorTape tape;
  const auto params = fem::parameters(
      body, tape.constant(mesh.rest_positions()), tape.constant(Tensor::scalar(1e5)),
      tape.constant(Tensor::scalar(0.45)), tape.constant(Tensor::scalar(1000.0)));
  const std::vector<std::int64_t> elements(mesh.elements().begin(), mesh.elements().end());
  const std::vector<double> rest = mesh.signed_volumes();
  const std::size_t n = mesh.num_vertices();
  TensorVar state = tape.constant(body.rest_state());
  double smallest = 1.0;
  for (int t = 0; t < 100; ++t) {
    state = fem::step_implicit(body, state, params, 2e-3, {.max_iterations = 100});
    const Tensor x = Tensor::from_data({state.view().values, state.view().values + n * 3}, {n, 3});
    const std::vector<double> volumes = maya::fem::Mesh(x, elements).signed_volumes();
    for (std::size_t e = 0; e < volumes.size(); ++e) {
      smallest = std::min(smallest, volumes[e] / rest[e]);
    }
  }
  return smallest;
}

}  // namespace

// Stable Neo-Hookean (Smith et al. 2018) keeps every element's volume ratio J = det F positive
// under a load that makes St. Venant-Kirchhoff, whose energy softens under compression, collapse.
TEST(StableNeoHookean, DoesNotInvertUnderHeavyCompression) {
  EXPECT_GT(smallest_volume_ratio_when_crushed(Energy::kStableNeoHookean), 0.1);
  EXPECT_LT(smallest_volume_ratio_when_crushed(Energy::kStVenantKirchhoff), 0.0);
}
