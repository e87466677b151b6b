#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <vector>

#include "fem/fem_support.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::fem::BodyParameters;
using maya::fem::Energy;
using maya::fem::SoftBody;
namespace fem = maya::fem;

// Per-element Lame parameters and actuation, on the tape as leaves.
struct Leaves {
  TensorVar positions, rest_positions, mu, lambda, actuation;
};

BodyParameters parameters_of(const SoftBody& body, const Leaves& leaves, bool composed_rest) {
  BodyParameters params;
  params.rest = composed_rest ? fem::rest_shape_composed(body, leaves.rest_positions)
                              : fem::rest_shape(body, leaves.rest_positions);
  params.lame = {leaves.mu, leaves.lambda};
  params.actuation = leaves.actuation;
  return params;
}

std::vector<Tensor> random_inputs(const SoftBody& body, double amplitude) {
  const std::size_t m = body.num_elements();
  const Tensor& rest = body.mesh().rest_positions();
  return {fem_test::deformed(rest, amplitude, 11), rest, Tensor::uniform({m}, 800, 1200, 12),
          Tensor::uniform({m}, 1500, 2500, 13), Tensor::uniform({m}, -300, 300, 14)};
}

TensorVar weighted(TensorVar forces) {
  const Tensor w =
      Tensor::uniform(maya::Shape(forces.shape().begin(), forces.shape().end()), -1, 1, 99);
  return maya::sum(forces * forces.tape().constant(w));
}

}  // namespace

TEST(ElasticForces, ZeroEnergyAndForceAtRest) {
  for (const std::size_t dim : {2, 3}) {
    for (const Energy energy : fem_test::kEnergies) {
      const SoftBody body(fem_test::small_mesh(dim), {.energy = energy});
      TensorTape tape;
      const TensorVar rest = tape.constant(body.mesh().rest_positions());
      const BodyParameters params =
          fem::parameters(body, rest, tape.constant(Tensor::scalar(1e5)),
                          tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
      // Roundoff relative to the energy scale E * volume.
      const double scale = 1e5 * maya::sum(params.rest.volumes).item();
      EXPECT_NEAR(fem::elastic_energy(body, rest, params).item(), 0.0, 1e-15 * scale)
          << maya::fem::to_string(energy) << " " << dim << "-D";
      // Typical force scale: E h^(D-1) ~ 1e5 * 0.1^(D-1).
      const Tensor forces = fem::elastic_forces(body, rest, params).value();
      for (const double f : forces.data()) {
        EXPECT_NEAR(f, 0.0, 1e-9) << maya::fem::to_string(energy) << " " << dim << "-D";
      }
    }
  }
}

TEST(ElasticForces, PatchTestAffineDeformationGivesConstantStressAndZeroInteriorForce) {
  for (const std::size_t dim : {2, 3}) {
    // Regular grids with interior vertices, jittered: the patch test must hold on any mesh.
    const std::size_t cells = dim == 2 ? 4 : 3;
    const maya::fem::Mesh grid =
        dim == 2 ? maya::fem::rectangle_mesh({.cells_x = cells, .cells_y = cells})
                 : maya::fem::box_mesh({.cells_x = cells, .cells_y = cells, .cells_z = cells});
    Tensor rest = fem_test::deformed(grid.rest_positions(), 0.08, 5);
    const maya::fem::Mesh mesh(rest, {grid.elements().begin(), grid.elements().end()});
    const std::size_t n = mesh.num_vertices();
    // Vertex (i, j[, k]) of the grid is interior when no index is 0 or `cells`.
    std::vector<bool> interior(n);
    for (std::size_t v = 0; v < n; ++v) {
      std::size_t rest_index = v;
      bool inside = true;
      for (std::size_t a = 0; a < dim; ++a) {
        const std::size_t i = rest_index % (cells + 1);
        rest_index /= cells + 1;
        inside = inside && i != 0 && i != cells;
      }
      interior[v] = inside;
    }
    // x = A X + b with A = I + a random matrix (det A > 0).
    const Tensor a = Tensor::uniform({dim, dim}, -0.25, 0.25, 17);
    Tensor x = Tensor::zeros({n, dim});
    for (std::size_t v = 0; v < n; ++v) {
      for (std::size_t i = 0; i < dim; ++i) {
        double value = 0.1 * static_cast<double>(i + 1) + rest.at({v, i});
        for (std::size_t j = 0; j < dim; ++j) value += a.at({i, j}) * rest.at({v, j});
        x.mutable_data()[v * dim + i] = value;
      }
    }
    for (const Energy energy : fem_test::kEnergies) {
      const SoftBody body(mesh, {.energy = energy});
      TensorTape tape;
      const BodyParameters params =
          fem::parameters(body, tape.constant(rest), tape.constant(Tensor::scalar(1e5)),
                          tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
      const TensorVar positions = tape.constant(x);
      const auto stress = fem::stresses(body, positions, params).view();
      const std::size_t dd = dim * dim;
      double scale = 0.0;
      for (std::size_t k = 0; k < dd; ++k) scale = std::max(scale, std::abs(stress[k]));
      ASSERT_GT(scale, 1e3);
      for (std::size_t e = 1; e < body.num_elements(); ++e) {
        for (std::size_t k = 0; k < dd; ++k) {
          ASSERT_NEAR(stress[e * dd + k], stress[k], 1e-9 * scale)
              << maya::fem::to_string(energy) << " " << dim << "-D element " << e;
        }
      }
      const auto force = fem::elastic_forces(body, positions, params).view();
      double largest = 0.0;
      for (std::size_t v = 0; v < n; ++v) {
        for (std::size_t k = 0; k < dim; ++k) {
          largest = std::max(largest, std::abs(force[v * dim + k]));
          if (interior[v]) {
            EXPECT_NEAR(force[v * dim + k], 0.0, 1e-9 * scale)
                << maya::fem::to_string(energy) << " " << dim << "-D vertex " << v;
          }
        }
      }
      EXPECT_GT(largest, 1e-3 * scale);  // boundary vertices carry the traction
    }
  }
}

TEST(ElasticForces, ForceIsMinusTheGradientOfTheComposedEnergy) {
  for (const std::size_t dim : {2, 3}) {
    for (const Energy energy : fem_test::kEnergies) {
      const SoftBody body(fem_test::small_mesh(dim), {.energy = energy});
      const std::vector<Tensor> in = random_inputs(body, 0.02);
      TensorTape tape;
      const Leaves leaves{tape.var(in[0]), tape.var(in[1]), tape.var(in[2]), tape.var(in[3]),
                          tape.var(in[4])};
      const BodyParameters params = parameters_of(body, leaves, false);
      const Tensor force = fem::elastic_forces(body, leaves.positions, params).value();
      const auto g = tape.grad(fem::elastic_energy(body, leaves.positions, params));
      const Tensor& de_dx = g[leaves.positions];
      for (std::size_t i = 0; i < force.numel(); ++i) {
        EXPECT_NEAR(force.data()[i], -de_dx.data()[i], 1e-9 * (1.0 + std::abs(force.data()[i])))
            << maya::fem::to_string(energy) << " " << dim << "-D entry " << i;
      }
    }
  }
}

TEST(ElasticForces, FusedEqualsComposedInValuesAndGradients) {
  for (const std::size_t dim : {2, 3}) {
    for (const Energy energy : fem_test::kEnergies) {
      const SoftBody body(fem_test::small_mesh(dim), {.energy = energy});
      const std::vector<Tensor> in = random_inputs(body, 0.02);
      Tensor forces[2];
      Tensor gradients[2][5];
      for (const bool composed : {false, true}) {
        TensorTape tape;
        const Leaves leaves{tape.var(in[0]), tape.var(in[1]), tape.var(in[2]), tape.var(in[3]),
                            tape.var(in[4])};
        const BodyParameters params = parameters_of(body, leaves, composed);
        const TensorVar f = composed ? fem::elastic_forces_composed(body, leaves.positions, params)
                                     : fem::elastic_forces(body, leaves.positions, params);
        const auto g = tape.grad(weighted(f));
        forces[composed] = f.value();
        const TensorVar all[] = {leaves.positions, leaves.rest_positions, leaves.mu, leaves.lambda,
                                 leaves.actuation};
        for (int i = 0; i < 5; ++i) gradients[composed][i] = g[all[i]];
      }
      const std::string what =
          std::string(maya::fem::to_string(energy)) + " " + std::to_string(dim) + "-D";
      EXPECT_TRUE(maya::allclose(forces[0], forces[1], 1e-12, 1e-12))
          << what << ": " << maya::max_abs_difference(forces[0], forces[1]);
      const char* names[] = {"positions", "rest positions", "mu", "lambda", "actuation"};
      for (int i = 0; i < 5; ++i) {
        // Gradients w.r.t. positions are ~E/h^2 ~ 1e7: compare relative to their scale.
        double scale = 0.0;
        for (const double v : gradients[1][i].data()) scale = std::max(scale, std::abs(v));
        EXPECT_LE(maya::max_abs_difference(gradients[0][i], gradients[1][i]), 1e-12 * scale)
            << what << ", gradient w.r.t. " << names[i];
      }
    }
  }
}

TEST(ElasticForces, FusedGradientMatchesCentralDifferences) {
  for (const std::size_t dim : {2, 3}) {
    for (const Energy energy : fem_test::kEnergies) {
      const SoftBody body(fem_test::small_mesh(dim), {.energy = energy});
      std::vector<Tensor> in = random_inputs(body, 0.02);
      // The material values (~1e3) enter in units of 1e3, so that the difference's step (1e-6)
      // moves them by 1e-3: a step of 1e-6 would move the loss by about its rounding noise.
      constexpr double kMaterialUnit = 1e3;
      for (std::size_t i = 2; i < 5; ++i) {
        for (double& v : in[i].mutable_data()) v /= kMaterialUnit;
      }
      const auto report = maya::gradcheck(
          [&](TensorTape&, std::span<const TensorVar> x) {
            const Leaves leaves{x[0], x[1], x[2] * kMaterialUnit, x[3] * kMaterialUnit,
                                x[4] * kMaterialUnit};
            return weighted(fem::elastic_forces(body, x[0], parameters_of(body, leaves, false)));
          },
          in);
      for (std::size_t i = 0; i < in.size(); ++i) {
        EXPECT_LT(report.worst_error[i], 1e-6)
            << maya::fem::to_string(energy) << " " << dim << "-D input " << i;
      }
    }
  }
}

TEST(RestShape, FusedEqualsComposedAndMatchesCentralDifferences) {
  for (const std::size_t dim : {2, 3}) {
    const SoftBody body(fem_test::small_mesh(dim));
    const Tensor rest = body.mesh().rest_positions();
    const auto loss = [&](bool composed) {
      return [&body, composed](TensorTape& tape, std::span<const TensorVar> x) {
        const auto r =
            composed ? fem::rest_shape_composed(body, x[0]) : fem::rest_shape(body, x[0]);
        const Tensor wb = Tensor::uniform(
            maya::Shape(r.inverse_edges.shape().begin(), r.inverse_edges.shape().end()), -1, 1, 3);
        const Tensor ww = Tensor::uniform({body.num_elements()}, -1, 1, 4);
        return maya::sum(r.inverse_edges * tape.constant(wb)) * 1e-2 +
               maya::sum(r.volumes * tape.constant(ww)) * 1e2;
      };
    };
    const Tensor inputs[] = {rest};
    const auto fused = maya::gradcheck(loss(false), inputs);
    const auto composed = maya::gradcheck(loss(true), inputs);
    EXPECT_LT(fused.max_error(), 1e-6) << dim << "-D";
    EXPECT_TRUE(maya::allclose(fused.analytic[0], composed.analytic[0], 1e-12, 1e-12))
        << dim << "-D: " << maya::max_abs_difference(fused.analytic[0], composed.analytic[0]);
  }
}
