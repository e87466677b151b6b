// The per-element loops behind the fused nodes: elastic forces, their adjoint (a vector-Jacobian
// product to positions, rest geometry, Lame parameters and actuation) and the stiffness matrix.
// Templated on the dimension and the material, so the inner loops are fixed-size Eigen code with
// no virtual call per element; dispatch() picks the instance once per call. One element's forces
// and adjoint (element_force_columns, element_force_vjp) are compiled for the device too: the
// GPU rollout (src/fem/cuda/) runs them a thread per element.
//
// Notation per element: D_s = [x_1 - x_0, ...], B = D_m^-1, F = D_s B, W the rest volume,
// b_a = row a-1 of B (a >= 1) and b_0 = -sum of the rows, so that dF = sum_a dx_a b_a^T.
//   forces:  f_a = -W P b_a
//   adjoint: with g the output gradient, G_s = [g_1 - g_0, ...] and G = G_s B, the element's
//            part of L = g.f is -W P:G, so
//              dL/dx_a = -W dP[G] b_a                      (dP symmetric: dP[dF]:G = dP[G]:dF)
//              dL/dB   = -W (D_s^T dP[G] + G_s^T P),  dL/dW = -P:G,
//              dL/dmu  = -W P_mu:G,  dL/dlambda = -W P_lambda:G,  dL/da = -W (F n n^T):G
//   stiffness: K[(a,i),(c,k)] = -df_(a,i)/dx_(c,k) = W (dP[e_k b_c^T] b_a)_i
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fem/constitutive.hpp"
#include "fem/host_device.hpp"
#include "maya/fem/material.hpp"

namespace maya::fem::detail {

// Raw views of one call's inputs. Parameters of size 1 apply to every element.
struct ElementInputs {
  const double* positions = nullptr;  // [N, D]
  const std::int64_t* elements = nullptr;
  std::size_t num_elements = 0;
  const double* inverse_edges = nullptr;  // [M, D, D] row-major
  const double* volumes = nullptr;        // [M]
  const double* mu = nullptr;
  std::size_t mu_size = 1;
  const double* lambda = nullptr;
  std::size_t lambda_size = 1;
  const double* actuation = nullptr;  // nullptr: none
  std::size_t actuation_size = 1;
  const double* fiber = nullptr;  // [D], unit
};

// Where the adjoint adds (+=) its results; nullptr entries are skipped. Parameter gradients have
// the parameters' sizes (a global one accumulates over all elements).
struct ElementGradients {
  double* positions = nullptr;
  double* inverse_edges = nullptr;
  double* volumes = nullptr;
  double* mu = nullptr;
  double* lambda = nullptr;
  double* actuation = nullptr;
};

[[nodiscard]] MAYA_FEM_HD inline std::size_t at(std::size_t size, std::size_t e) noexcept {
  return size == 1 ? 0 : e;
}

template <int D>
using RowMat = Eigen::Matrix<double, D, D, Eigen::RowMajor>;

template <int D>
struct Element {
  std::size_t vertex[D + 1];
  Mat<D> ds;  // D_s
  Mat<D> inverse_edges;
  Mat<D> f;
  double volume;
  double mu;
  double lambda;
  double actuation;

  MAYA_FEM_HD Element(const ElementInputs& in, std::size_t e) {
    for (int a = 0; a <= D; ++a) {
      vertex[a] = static_cast<std::size_t>(in.elements[e * (D + 1) + static_cast<std::size_t>(a)]);
    }
    const double* x0 = in.positions + vertex[0] * D;
    for (int a = 1; a <= D; ++a) {
      const double* xa = in.positions + vertex[a] * D;
      for (int k = 0; k < D; ++k) ds(k, a - 1) = xa[k] - x0[k];
    }
    inverse_edges = Eigen::Map<const RowMat<D>>(in.inverse_edges + e * D * D);
    f = ds * inverse_edges;
    volume = in.volumes[e];
    mu = in.mu[at(in.mu_size, e)];
    lambda = in.lambda[at(in.lambda_size, e)];
    actuation = in.actuation != nullptr ? in.actuation[at(in.actuation_size, e)] : 0.0;
  }

  // b_a: dF = sum_a dx_a b_a^T.
  [[nodiscard]] MAYA_FEM_HD Vec<D> shape_gradient(int a) const {
    if (a > 0) return inverse_edges.row(a - 1).transpose();
    return -inverse_edges.colwise().sum().transpose();
  }
  // [v_1 - v_0, ..., v_D - v_0] for per-vertex values v [N, D].
  [[nodiscard]] MAYA_FEM_HD Mat<D> edges_of(const double* values) const {
    Mat<D> out;
    const double* v0 = values + vertex[0] * D;
    for (int a = 1; a <= D; ++a) {
      const double* va = values + vertex[a] * D;
      for (int k = 0; k < D; ++k) out(k, a - 1) = va[k] - v0[k];
    }
    return out;
  }
  // Adds the columns of h (D x D) to vertices 1..D and minus their sum to vertex 0.
  MAYA_FEM_HD void scatter_columns(const Mat<D>& h, double* out) const {
    double* o0 = out + vertex[0] * D;
    for (int a = 1; a <= D; ++a) {
      double* oa = out + vertex[a] * D;
      for (int k = 0; k < D; ++k) {
        oa[k] += h(k, a - 1);
        o0[k] -= h(k, a - 1);
      }
    }
  }
};

template <int D>
[[nodiscard]] MAYA_FEM_HD Mat<D> fiber_matrix(const double* fiber) {
  const Eigen::Map<const Vec<D>> n(fiber);
  return n * n.transpose();
}

// -W P B^T: one element's forces on its vertices 1..D as columns (vertex 0 takes minus their sum).
template <int D, template <int> class Material>
[[nodiscard]] MAYA_FEM_HD Mat<D> element_force_columns(const Element<D>& el,
                                                       const Material<D>& material,
                                                       const Mat<D>& fiber, bool actuated) {
  Mat<D> stress = el.mu * material.stress_mu() + el.lambda * material.stress_lambda();
  if (actuated) stress += el.actuation * el.f * fiber;
  return -el.volume * stress * el.inverse_edges.transpose();
}

// One element's part of the force adjoint, given G_s of the output gradient (header comment).
template <int D>
struct ElementAdjoint {
  Mat<D> position_columns;       // -W dP[G] B^T, scattered as the forces are
  Mat<D> inverse_edges_from_dp;  // W D_s^T dP[G], subtracted from dL/dB
  Mat<D> inverse_edges_from_p;   // W G_s^T P, subtracted from dL/dB after it
  double mu_part = 0.0;          // P_mu : G
  double lambda_part = 0.0;      // P_lambda : G
  double actuation_part = 0.0;   // (F n n^T) : G
};

// `differential`: the position and dP parts of dL/dB; `parts`: the stress parts (P_mu : G, ...)
// and the rest of dL/dB.
template <int D, template <int> class Material>
[[nodiscard]] MAYA_FEM_HD ElementAdjoint<D> element_force_vjp(const Element<D>& el,
                                                              const Material<D>& material,
                                                              const Mat<D>& fiber, bool actuated,
                                                              const Mat<D>& g_edges,
                                                              bool differential, bool parts) {
  ElementAdjoint<D> out;
  const Mat<D> g_f = g_edges * el.inverse_edges;  // G
  const double w = el.volume;
  if (differential) {
    Mat<D> d_stress = material.differential(g_f, el.mu, el.lambda);
    if (actuated) d_stress += el.actuation * g_f * fiber;
    out.position_columns = -w * d_stress * el.inverse_edges.transpose();
    out.inverse_edges_from_dp = w * el.ds.transpose() * d_stress;
  }
  if (!parts) return out;
  const Mat<D> stress_mu = material.stress_mu();
  const Mat<D> stress_lambda = material.stress_lambda();
  const Mat<D> stress_actuation = el.f * fiber;
  out.mu_part = stress_mu.cwiseProduct(g_f).sum();
  out.lambda_part = stress_lambda.cwiseProduct(g_f).sum();
  out.actuation_part = actuated ? stress_actuation.cwiseProduct(g_f).sum() : 0.0;
  Mat<D> stress = el.mu * stress_mu + el.lambda * stress_lambda;
  if (actuated) stress += el.actuation * stress_actuation;
  out.inverse_edges_from_p = w * g_edges.transpose() * stress;
  return out;
}

// dL/dW of one element: -(mu P_mu + lambda P_lambda + a F n n^T) : G.
template <int D>
[[nodiscard]] MAYA_FEM_HD double volume_gradient(const Element<D>& el,
                                                 const ElementAdjoint<D>& adjoint) {
  return -(el.mu * adjoint.mu_part + el.lambda * adjoint.lambda_part +
           el.actuation * adjoint.actuation_part);
}

template <int D, template <int> class Material>
void add_elastic_forces(const ElementInputs& in, double* forces) {
  const Mat<D> fiber = fiber_matrix<D>(in.fiber);
  const bool actuated = in.actuation != nullptr;
  for (std::size_t e = 0; e < in.num_elements; ++e) {
    const Element<D> el(in, e);
    const Material<D> material(el.f);
    el.scatter_columns(element_force_columns<D, Material>(el, material, fiber, actuated), forces);
  }
}

template <int D, template <int> class Material>
void elastic_force_vjp(const ElementInputs& in, const double* grad_forces,
                       const ElementGradients& out) {
  const Mat<D> fiber = fiber_matrix<D>(in.fiber);
  const bool actuated = in.actuation != nullptr;
  const bool need_differential = out.positions != nullptr || out.inverse_edges != nullptr;
  const bool need_parts = out.inverse_edges != nullptr || out.volumes != nullptr ||
                          out.mu != nullptr || out.lambda != nullptr || out.actuation != nullptr;
  for (std::size_t e = 0; e < in.num_elements; ++e) {
    const Element<D> el(in, e);
    const Material<D> material(el.f);
    const ElementAdjoint<D> adjoint = element_force_vjp<D, Material>(
        el, material, fiber, actuated, el.edges_of(grad_forces), need_differential, need_parts);
    const double w = el.volume;
    if (out.positions != nullptr) el.scatter_columns(adjoint.position_columns, out.positions);
    if (out.inverse_edges != nullptr) {
      Eigen::Map<RowMat<D>> g_b(out.inverse_edges + e * D * D);
      g_b -= adjoint.inverse_edges_from_dp;
      g_b -= adjoint.inverse_edges_from_p;
    }
    if (out.volumes != nullptr) out.volumes[e] += volume_gradient(el, adjoint);
    if (out.mu != nullptr) out.mu[at(in.mu_size, e)] -= w * adjoint.mu_part;
    if (out.lambda != nullptr) out.lambda[at(in.lambda_size, e)] -= w * adjoint.lambda_part;
    if (out.actuation != nullptr) {
      out.actuation[at(in.actuation_size, e)] -= w * adjoint.actuation_part;
    }
  }
}

// E = sum_e W_e (mu Psi_mu + lambda Psi_lambda + a/2 (|F n|^2 - 1)).
template <int D, template <int> class Material>
[[nodiscard]] double elastic_energy(const ElementInputs& in) {
  const Eigen::Map<const Vec<D>> fiber(in.fiber);
  double total = 0.0;
  for (std::size_t e = 0; e < in.num_elements; ++e) {
    const Element<D> el(in, e);
    const Material<D> material(el.f);
    double psi = el.mu * material.energy_mu() + el.lambda * material.energy_lambda();
    if (in.actuation != nullptr) psi += 0.5 * el.actuation * ((el.f * fiber).squaredNorm() - 1.0);
    total += el.volume * psi;
  }
  return total;
}

// Adds every element's stiffness into values[slot], slots laid out per element as a
// (D+1)D x (D+1)D row-major table of indices (-1: a pinned degree of freedom, skipped). With
// `project`, each element matrix is first made positive semi-definite by clamping its negative
// eigenvalues to zero (Teran et al. 2005), which makes every Newton direction a descent one.
template <int D, template <int> class Material>
void add_elastic_stiffness(const ElementInputs& in, const std::int32_t* slots, double* values,
                           bool project) {
  constexpr int kDofs = (D + 1) * D;
  using Local = Eigen::Matrix<double, kDofs, kDofs>;
  const Mat<D> fiber = fiber_matrix<D>(in.fiber);
  for (std::size_t e = 0; e < in.num_elements; ++e) {
    const Element<D> el(in, e);
    const Material<D> material(el.f);
    Vec<D> b[D + 1];
    for (int a = 0; a <= D; ++a) b[a] = el.shape_gradient(a);
    Local local;
    for (int c = 0; c <= D; ++c) {
      for (int k = 0; k < D; ++k) {
        Mat<D> df = Mat<D>::Zero();
        df.row(k) = b[c].transpose();
        Mat<D> d_stress = material.differential(df, el.mu, el.lambda);
        if (in.actuation != nullptr) d_stress += el.actuation * df * fiber;
        for (int a = 0; a <= D; ++a) {
          local.template block<D, 1>(a * D, c * D + k) = el.volume * d_stress * b[a];
        }
      }
    }
    if (project) {
      const Eigen::SelfAdjointEigenSolver<Local> eigen(0.5 * (local + local.transpose()));
      local = eigen.eigenvectors() * eigen.eigenvalues().cwiseMax(0.0).asDiagonal() *
              eigen.eigenvectors().transpose();
    }
    const std::int32_t* element_slots = slots + e * kDofs * kDofs;
    for (int p = 0; p < kDofs; ++p) {
      for (int q = 0; q < kDofs; ++q) {
        const std::int32_t slot = element_slots[p * kDofs + q];
        if (slot >= 0) values[slot] += local(p, q);
      }
    }
  }
}

// Calls visit.template operator()<D, Material>() for the runtime dimension and energy.
template <class Visitor>
void dispatch(Energy energy, std::size_t dim, Visitor&& visit) {
  const auto in_dimension = [&]<int D>() {
    switch (energy) {
      case Energy::kLinear: visit.template operator()<D, LinearMaterial>(); return;
      case Energy::kCorotational: visit.template operator()<D, CorotationalMaterial>(); return;
      case Energy::kStVenantKirchhoff:
        visit.template operator()<D, StVenantKirchhoffMaterial>();
        return;
      case Energy::kStableNeoHookean:
        visit.template operator()<D, StableNeoHookeanMaterial>();
        return;
    }
    throw std::logic_error("fem: unknown energy");
  };
  if (dim == 2) {
    in_dimension.template operator()<2>();
  } else {
    in_dimension.template operator()<3>();
  }
}

}  // namespace maya::fem::detail
