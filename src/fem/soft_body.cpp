// SoftBody: validation of the mesh and options, parameter helpers, copies.
#include "maya/fem/soft_body.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "fem/rigid_contact_kernel.hpp"
#include "fem/simplex.hpp"
#include "fem/soft_body_ops.hpp"
#include "fem/sparse_system.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/expect_shape.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::fem {
namespace {

void check_finite_nonnegative(const char* what, double value) {
  (void)check_non_negative(value, std::string("SoftBody: ground ") + what);
}

}  // namespace

std::string_view to_string(Energy energy) noexcept {
  switch (energy) {
    case Energy::kLinear: return "linear";
    case Energy::kCorotational: return "corotational";
    case Energy::kStVenantKirchhoff: return "st_venant_kirchhoff";
    case Energy::kStableNeoHookean: return "stable_neo_hookean";
  }
  return "unknown";
}

SoftBody::SoftBody(const Mesh& mesh, SoftBodyOptions options) {
  auto model = std::make_shared<detail::SoftBodyModel>(mesh, std::move(options));
  const SoftBodyOptions& checked = model->options;
  std::vector<double>& gravity = model->gravity;
  std::vector<double>& fiber = model->fiber;
  std::vector<std::uint8_t>& pinned_mask = model->pinned_mask;
  const std::size_t dim = mesh.dim();
  const std::size_t n = mesh.num_vertices();
  const GroundContact& ground = checked.ground;
  if (ground.up_axis >= dim) {
    throw ValueError("SoftBody: ground up axis " + std::to_string(ground.up_axis) +
                     " is not an axis of a " + std::to_string(dim) + "-D mesh");
  }
  check_finite_nonnegative("stiffness", ground.stiffness);
  check_finite_nonnegative("damping", ground.damping);
  check_finite_nonnegative("friction", ground.friction);
  (void)check_positive(ground.slip_velocity, "SoftBody: ground slip_velocity");
  gravity = checked.gravity;
  if (gravity.empty()) {
    gravity.assign(dim, 0.0);
    gravity[ground.up_axis] = -9.81;
  }
  if (gravity.size() != dim) {
    throw ValueError("SoftBody: gravity has " + std::to_string(gravity.size()) +
                     " components for a " + std::to_string(dim) + "-D mesh");
  }
  fiber = checked.fiber;
  if (fiber.empty()) {
    fiber.assign(dim, 0.0);
    fiber[0] = 1.0;
  }
  double fiber_norm = 0.0;
  for (const double c : fiber) fiber_norm += c * c;
  fiber_norm = std::sqrt(fiber_norm);
  if (fiber.size() != dim || !(fiber_norm > 0.0) || !std::isfinite(fiber_norm)) {
    throw ValueError("SoftBody: the fibre direction needs " + std::to_string(dim) +
                     " finite components, not all zero");
  }
  for (double& c : fiber) c /= fiber_norm;
  pinned_mask.assign(n, 0);
  for (const std::int64_t v : checked.pinned) {
    if (v < 0 || static_cast<std::size_t>(v) >= n) {
      throw ValueError("SoftBody: pinned vertex " + std::to_string(v) +
                       " is not a vertex (they are numbered 0.." + std::to_string(n - 1) + ")");
    }
    pinned_mask[static_cast<std::size_t>(v)] = 1;
  }
  // Degenerate elements, judged against the element's own size so units do not matter.
  const double* x = mesh.rest_positions().data().data();
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    const auto element = mesh.element(e);
    const double volume = detail::signed_volume(x, element, dim);
    double longest = 0.0;
    for (std::size_t a = 1; a <= dim; ++a) {
      double squared = 0.0;
      for (std::size_t k = 0; k < dim; ++k) {
        const double d = x[static_cast<std::size_t>(element[a]) * dim + k] -
                         x[static_cast<std::size_t>(element[0]) * dim + k];
        squared += d * d;
      }
      longest = std::max(longest, std::sqrt(squared));
    }
    if (!(volume > 1e-12 * std::pow(longest, static_cast<double>(dim)))) {
      std::string vertices;
      for (const std::int64_t v : element) {
        vertices += (vertices.empty() ? "" : ", ") + std::to_string(v);
      }
      throw ValueError("SoftBody: element " + std::to_string(e) + " (vertices " + vertices +
                       ") has " + (volume < 0.0 ? "negative" : "zero") + " rest " +
                       (dim == 2 ? "area " : "volume ") + std::to_string(volume) +
                       (volume < 0.0 ? "; it is inverted (Mesh::orient_positively fixes that)"
                                     : "; it is degenerate"));
    }
  }
  std::vector<double> low(dim, std::numeric_limits<double>::infinity());
  std::vector<double> high(dim, -std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < dim; ++k) {
      low[k] = std::min(low[k], x[i * dim + k]);
      high[k] = std::max(high[k], x[i * dim + k]);
    }
  }
  double diagonal = 0.0;
  for (std::size_t k = 0; k < dim; ++k) diagonal += (high[k] - low[k]) * (high[k] - low[k]);
  model->length_scale = std::sqrt(diagonal);
  model->pattern =
      std::make_shared<const detail::SystemPattern>(detail::build_pattern(mesh, pinned_mask));
  const RigidContactOptions& rigid = checked.rigid;
  if (!rigid.shapes.empty()) {
    if (dim != 2) {
      throw ValueError("SoftBody: rigid contact is 2-D (maya's rigid bodies are 2-D), but " +
                       std::to_string(rigid.shapes.size()) +
                       " rigid shapes were given to a 3-D mesh");
    }
    (void)check_positive(rigid.slip_velocity, "SoftBody: rigid slip_velocity");
    model->rigid_shapes =
        std::make_shared<const detail::RigidShapes>(detail::make_rigid_shapes(rigid.shapes));
  }
  ops_ = std::make_shared<const detail::SoftBodyOps>(std::move(model));
}

const detail::SoftBodyModel& SoftBody::model() const noexcept { return *ops_->model; }
const Mesh& SoftBody::mesh() const noexcept { return model().mesh; }
const SoftBodyOptions& SoftBody::options() const noexcept { return model().options; }
std::span<const double> SoftBody::gravity() const noexcept { return model().gravity; }
std::span<const double> SoftBody::fiber() const noexcept { return model().fiber; }
bool SoftBody::is_pinned(std::size_t vertex) const { return model().pinned_mask.at(vertex) != 0; }

Lame lame(const SoftBody& body, TensorVar youngs_modulus, TensorVar poisson_ratio) {
  return lame_parameters(youngs_modulus, poisson_ratio,
                         body.dim() == 2 ? body.options().plane : Plane::kStrain);
}

TensorVar lumped_masses(const SoftBody& body, const RestShape& rest, TensorVar density) {
  const std::size_t m = body.num_elements();
  const std::size_t size = density.numel();
  if (size != 1 && size != m) {
    throw ShapeError("SoftBody::lumped_masses: density of shape " + shape_string(density.shape()) +
                     ", expected [], [1] or [" + std::to_string(m) + "]");
  }
  const TensorView densities = density.view();
  for (const double rho : densities.data()) {
    (void)check_positive(rho, "SoftBody::lumped_masses: density");
  }
  const TensorVar flat_density = size == 1 ? reshape(density, {1}) : density;
  // Each element gives a (D+1)-th of its mass to each of its vertices.
  const TensorVar share = rest.volumes * flat_density / static_cast<double>(body.dim() + 1);
  TensorVar mass = density.tape().constant(Tensor::zeros({body.num_vertices()}));
  const std::size_t per = body.dim() + 1;
  const auto elements = body.mesh().elements();
  std::vector<std::int64_t> corner(m);
  for (std::size_t a = 0; a < per; ++a) {
    for (std::size_t e = 0; e < m; ++e) corner[e] = elements[e * per + a];
    mass = index_add(mass, 0, corner, share);
  }
  return mass;
}

BodyParameters parameters(const SoftBody& body, TensorVar rest_positions, TensorVar youngs_modulus,
                          TensorVar poisson_ratio, TensorVar density) {
  BodyParameters params;
  params.rest = rest_shape(body, rest_positions);
  params.lame = lame(body, youngs_modulus, poisson_ratio);
  params.mass = lumped_masses(body, params.rest, density);
  return params;
}

Tensor SoftBody::make_state(const Tensor& positions, const Tensor& velocities) {
  return dynamics::MassSpringModel::make_state(positions, velocities);
}

Tensor SoftBody::rest_state() const {
  return make_state(mesh().rest_positions(), Tensor::zeros(mesh().rest_positions().shape()));
}

namespace detail {

void check_parameters(const SoftBodyModel& model, const BodyParameters& params,
                      std::string_view operation, bool need_mass) {
  const std::size_t m = model.num_elements();
  const std::size_t d = model.dim();
  const auto expect_per_element = [&](TensorVar var, const char* what) {
    const std::size_t size = var.numel();
    if (var.ndim() > 1 || (size != 1 && size != m)) {
      throw ShapeError(std::string(operation) + ": " + what + " has shape " +
                       shape_string(var.shape()) + ", expected [], [1] or [" + std::to_string(m) +
                       "]");
    }
  };
  expect_shape(params.rest.inverse_edges.shape(), {m, d, d}, operation, "rest.inverse_edges");
  expect_shape(params.rest.volumes.shape(), {m}, operation, "rest.volumes");
  expect_per_element(params.lame.mu, "lame.mu");
  expect_per_element(params.lame.lambda, "lame.lambda");
  if (params.actuation.valid()) expect_per_element(params.actuation, "actuation");
  if (need_mass) {
    expect_shape(params.mass.shape(), {model.num_vertices()}, operation, "mass");
    const auto masses = params.mass.view();
    for (std::size_t i = 0; i < masses.numel(); ++i) {
      if (!(masses[i] > 0.0 && masses[i] <= std::numeric_limits<double>::max())) {
        (void)check_positive(masses[i],
                             std::string(operation) + ": the mass of vertex " + std::to_string(i));
      }
    }
  }
}

}  // namespace detail
}  // namespace maya::fem
