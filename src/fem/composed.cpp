// The composed twins of the fused nodes: rest geometry, deformation gradients, stresses, energy
// and forces recorded from tensor ops on batches of D x D matrices ([M, D, D]). Slow and memory
// hungry, but every line is a formula of material.hpp, and the tape differentiates it: the tests
// hold the fused adjoints to these.
#include <string>
#include <vector>

#include "fem/soft_body_ops.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::fem {
namespace {

constexpr double kFactorial[] = {1.0, 1.0, 2.0, 6.0};

// Batched small-matrix algebra on [M, D, D] tensors.
class Batch {
 public:
  Batch(TensorTape& tape, std::size_t dim) : tape_(tape), dim_(dim) {}

  [[nodiscard]] TensorVar entry(TensorVar a, std::size_t i, std::size_t j) const {
    return select(select(a, 1, static_cast<long>(i)), 1, static_cast<long>(j));
  }
  // [M, D, D] from D x D entries [M], row-major.
  [[nodiscard]] TensorVar matrix(const std::vector<TensorVar>& entries) const {
    std::vector<TensorVar> rows;
    for (std::size_t i = 0; i < dim_; ++i) {
      rows.push_back(stack(std::span<const TensorVar>(entries.data() + i * dim_, dim_), 1));
    }
    return stack(rows, 1);
  }
  [[nodiscard]] TensorVar identity() const {
    std::vector<double> values(dim_ * dim_, 0.0);
    for (std::size_t i = 0; i < dim_; ++i) values[i * dim_ + i] = 1.0;
    return tape_.constant(Tensor::from_data(std::move(values), {dim_, dim_}));
  }
  [[nodiscard]] TensorVar trace(TensorVar a) const {
    TensorVar total = entry(a, 0, 0);
    for (std::size_t i = 1; i < dim_; ++i) total = total + entry(a, i, i);
    return total;
  }
  [[nodiscard]] static TensorVar transposed(TensorVar a) { return transpose(a, 1, 2); }
  // sum_ij A_ij B_ij per matrix, [M].
  [[nodiscard]] static TensorVar inner(TensorVar a, TensorVar b) { return sum(sum(a * b, 2), 1); }
  // A scaled per matrix by s ([M], [1] or []).
  [[nodiscard]] static TensorVar scaled(TensorVar a, TensorVar s) {
    return a * reshape(s, {s.numel(), 1, 1});
  }
  // cof(A) = dJ/dA: cof_ij = (-1)^(i+j) minor_ij.
  [[nodiscard]] TensorVar cofactor(TensorVar a) const {
    if (dim_ == 2) {
      return matrix({entry(a, 1, 1), -entry(a, 1, 0), -entry(a, 0, 1), entry(a, 0, 0)});
    }
    std::vector<TensorVar> out;
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) {
        const std::size_t i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
        out.push_back(entry(a, i1, j1) * entry(a, i2, j2) - entry(a, i1, j2) * entry(a, i2, j1));
      }
    }
    return matrix(out);
  }
  [[nodiscard]] TensorVar determinant(TensorVar a) const {
    if (dim_ == 2) return entry(a, 0, 0) * entry(a, 1, 1) - entry(a, 0, 1) * entry(a, 1, 0);
    return sum(select(a, 1, 0) * select(cofactor(a), 1, 0), 1);
  }
  // The rotation of the polar decomposition: closed form in 2-D; in 3-D Newton's iteration
  // R <- (R + R^-T) / 2 from F (Higham 1986), which converges quadratically to it for det F > 0.
  [[nodiscard]] TensorVar rotation(TensorVar f) const {
    if (dim_ == 2) {
      const TensorVar c = entry(f, 0, 0) + entry(f, 1, 1);
      const TensorVar s = entry(f, 1, 0) - entry(f, 0, 1);
      const TensorVar norm = sqrt(c * c + s * s);
      return matrix({c / norm, -s / norm, s / norm, c / norm});
    }
    TensorVar r = f;
    for (int iteration = 0; iteration < 14; ++iteration) {
      const TensorVar inverse_transpose =
          cofactor(r) / reshape(determinant(r), {r.shape()[0], 1, 1});
      r = 0.5 * (r + inverse_transpose);
    }
    return r;
  }

 private:
  TensorTape& tape_;
  std::size_t dim_;
};

struct StressAndEnergy {
  TensorVar stress;  // P [M, D, D]
  TensorVar energy;  // Psi [M]
};

StressAndEnergy constitutive(const Batch& batch, Energy energy, std::size_t dim, TensorVar f,
                             TensorVar mu, TensorVar lambda) {
  const TensorVar mu_flat = reshape(mu, {mu.numel()});
  const TensorVar lambda_flat = reshape(lambda, {lambda.numel()});
  const TensorVar eye = batch.identity();
  const auto d = static_cast<double>(dim);
  switch (energy) {
    case Energy::kLinear: {
      const TensorVar strain = 0.5 * (f + Batch::transposed(f)) - eye;
      const TensorVar tr = batch.trace(strain);
      return {Batch::scaled(2.0 * strain, mu) +
                  Batch::scaled(reshape(tr, {tr.numel(), 1, 1}) * eye, lambda),
              mu_flat * Batch::inner(strain, strain) + 0.5 * lambda_flat * tr * tr};
    }
    case Energy::kStVenantKirchhoff: {
      const TensorVar green = 0.5 * (matmul(Batch::transposed(f), f) - eye);
      const TensorVar tr = batch.trace(green);
      return {
          Batch::scaled(2.0 * matmul(f, green), mu) + Batch::scaled(Batch::scaled(f, tr), lambda),
          mu_flat * Batch::inner(green, green) + 0.5 * lambda_flat * tr * tr};
    }
    case Energy::kCorotational: {
      const TensorVar r = batch.rotation(f);
      const TensorVar volume_strain = batch.trace(matmul(Batch::transposed(r), f)) - d;
      return {
          Batch::scaled(2.0 * (f - r), mu) + Batch::scaled(Batch::scaled(r, volume_strain), lambda),
          mu_flat * Batch::inner(f - r, f - r) + 0.5 * lambda_flat * volume_strain * volume_strain};
    }
    case Energy::kStableNeoHookean: {
      const double kappa = d / (d + 1.0);
      const TensorVar mu_s = (d + 1.0) / d * mu_flat;
      const TensorVar lambda_s = lambda_flat + (d - 1.0) * (d + 2.0) / (d * (d + 1.0)) * mu_flat;
      const TensorVar invariant = Batch::inner(f, f);
      const TensorVar j = batch.determinant(f);
      const TensorVar cof = batch.cofactor(f);
      const TensorVar stress =
          Batch::scaled(Batch::scaled(f, 1.0 - 1.0 / (invariant + 1.0)) - kappa * cof, mu_s) +
          Batch::scaled(Batch::scaled(cof, j - 1.0), lambda_s);
      const TensorVar psi = mu_s * (0.5 * (invariant - d) - kappa * (j - 1.0) -
                                    0.5 * log((invariant + 1.0) / (d + 1.0))) +
                            0.5 * lambda_s * (j - 1.0) * (j - 1.0);
      return {stress, psi};
    }
  }
  throw ValueError("fem: unknown energy");
}

// D_s [M, D, D] with D_s[:, k, a-1] = (x_a - x_0)_k, gathered by index_select.
TensorVar edge_matrices(const Mesh& mesh, TensorVar positions) {
  const std::size_t per = mesh.dim() + 1;
  const std::size_t m = mesh.num_elements();
  const auto elements = mesh.elements();
  std::vector<std::vector<std::int64_t>> corner(per, std::vector<std::int64_t>(m));
  for (std::size_t e = 0; e < m; ++e) {
    for (std::size_t a = 0; a < per; ++a) corner[a][e] = elements[e * per + a];
  }
  const TensorVar x0 = index_select(positions, 0, corner[0]);
  std::vector<TensorVar> columns;
  for (std::size_t a = 1; a < per; ++a) {
    columns.push_back(index_select(positions, 0, corner[a]) - x0);
  }
  return stack(columns, 2);
}

}  // namespace

RestShape rest_shape_composed(const SoftBody& body, TensorVar rest_positions) {
  const std::size_t d = body.dim();
  const Batch batch(rest_positions.tape(), d);
  const TensorVar edges = edge_matrices(body.mesh(), rest_positions);
  const TensorVar det = batch.determinant(edges);
  for (std::size_t e = 0; e < body.num_elements(); ++e) {
    if (!(det.view()[e] > 0.0)) {
      throw ValueError("fem::rest_shape_composed: element " + std::to_string(e) +
                       " has non-positive rest volume " +
                       std::to_string(det.view()[e] / kFactorial[d]));
    }
  }
  const TensorVar inverse =
      Batch::transposed(batch.cofactor(edges)) / reshape(det, {body.num_elements(), 1, 1});
  return {inverse, det / kFactorial[d]};
}

TensorVar deformation_gradients(const SoftBody& body, TensorVar positions, const RestShape& rest) {
  return matmul(edge_matrices(body.mesh(), positions), rest.inverse_edges);
}

TensorVar stresses(const SoftBody& body, TensorVar positions, const BodyParameters& params) {
  const std::size_t d = body.dim();
  detail::check_parameters(body.model(), params, "fem::stresses", false);
  const Batch batch(positions.tape(), d);
  const TensorVar f = deformation_gradients(body, positions, params.rest);
  TensorVar stress =
      constitutive(batch, body.options().energy, d, f, params.lame.mu, params.lame.lambda).stress;
  if (params.actuation.valid()) {
    const std::span<const double> direction = body.fiber();
    std::vector<double> outer(d * d);
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < d; ++j) outer[i * d + j] = direction[i] * direction[j];
    }
    const TensorVar fiber = positions.tape().constant(Tensor::from_data(outer, {d, d}));
    stress = stress + Batch::scaled(matmul(f, fiber), params.actuation);
  }
  return stress;
}

TensorVar elastic_energy(const SoftBody& body, TensorVar positions, const BodyParameters& params) {
  const std::size_t d = body.dim();
  detail::check_parameters(body.model(), params, "fem::elastic_energy", false);
  const Batch batch(positions.tape(), d);
  const TensorVar f = deformation_gradients(body, positions, params.rest);
  TensorVar psi =
      constitutive(batch, body.options().energy, d, f, params.lame.mu, params.lame.lambda).energy;
  if (params.actuation.valid()) {
    const std::span<const double> fiber = body.fiber();
    const TensorVar n = positions.tape().constant(
        Tensor::from_data(std::vector<double>(fiber.begin(), fiber.end()), {d}));
    const TensorVar stretched = matmul(f, n);  // F n, [M, D]
    psi = psi + 0.5 * reshape(params.actuation, {params.actuation.numel()}) *
                    (sum(stretched * stretched, 1) - 1.0);
  }
  return sum(params.rest.volumes * psi);
}

TensorVar elastic_forces_composed(const SoftBody& body, TensorVar positions,
                                  const BodyParameters& params) {
  const std::size_t per = body.dim() + 1;
  const std::size_t m = body.num_elements();
  // H = -W P B^T: column a-1 is the force on vertex a, minus their sum the force on vertex 0.
  const TensorVar h = -Batch::scaled(
      matmul(stresses(body, positions, params), Batch::transposed(params.rest.inverse_edges)),
      params.rest.volumes);
  const auto elements = body.mesh().elements();
  std::vector<std::int64_t> corner(m);
  TensorVar force = positions.tape().constant(Tensor::zeros({body.num_vertices(), body.dim()}));
  for (std::size_t a = 0; a < per; ++a) {
    for (std::size_t e = 0; e < m; ++e) corner[e] = elements[e * per + a];
    const TensorVar part = a == 0 ? -sum(h, 2) : select(h, 2, static_cast<long>(a - 1));
    force = index_add(force, 0, corner, part);
  }
  return force;
}

}  // namespace maya::fem
