// The mass-spring model: validation and the fused step with its hand-derived adjoint.
#include "maya/dynamics/mass_spring.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya {

MassSpringModel::MassSpringModel(std::size_t num_particles, std::size_t dim,
                                 std::vector<std::int64_t> first, std::vector<std::int64_t> second,
                                 std::vector<double> gravity, GroundContact ground)
    : num_particles_(num_particles),
      dim_(dim),
      first_(std::move(first)),
      second_(std::move(second)),
      gravity_(std::move(gravity)),
      ground_(ground) {
  if (dim_ == 0) throw ValueError("MassSpringModel: dimension must be at least 1");
  if (first_.size() != second_.size()) {
    throw ValueError("MassSpringModel: " + std::to_string(first_.size()) + " first ends but " +
                     std::to_string(second_.size()) + " second ends");
  }
  const auto n = static_cast<std::int64_t>(num_particles_);
  for (std::size_t e = 0; e < first_.size(); ++e) {
    if (first_[e] < 0 || first_[e] >= n || second_[e] < 0 || second_[e] >= n) {
      throw ValueError("MassSpringModel: spring " + std::to_string(e) + " joins particles " +
                       std::to_string(first_[e]) + " and " + std::to_string(second_[e]) +
                       ", but particles are numbered 0.." + std::to_string(n - 1));
    }
    if (first_[e] == second_[e]) {
      throw ValueError("MassSpringModel: spring " + std::to_string(e) + " joins particle " +
                       std::to_string(first_[e]) + " to itself");
    }
  }
  if (gravity_.size() != dim_) {
    throw ValueError("MassSpringModel: gravity has " + std::to_string(gravity_.size()) +
                     " components for a " + std::to_string(dim_) + "-dimensional system");
  }
  if (ground_.enabled && ground_.up_axis >= dim_) {
    throw ValueError("MassSpringModel: ground up axis " + std::to_string(ground_.up_axis) +
                     " is not an axis of a " + std::to_string(dim_) + "-dimensional system");
  }
}

MassSpringModel::MassSpringModel(const MassSpringModel& other)
    : num_particles_(other.num_particles_),
      dim_(other.dim_),
      first_(other.first_),
      second_(other.second_),
      gravity_(other.gravity_),
      ground_(other.ground_) {}

MassSpringModel& MassSpringModel::operator=(const MassSpringModel& other) {
  num_particles_ = other.num_particles_;
  dim_ = other.dim_;
  first_ = other.first_;
  second_ = other.second_;
  gravity_ = other.gravity_;
  ground_ = other.ground_;
  return *this;
}

Tensor MassSpringModel::rest_lengths_of(const Tensor& positions) const {
  if (positions.shape() != Shape{num_particles_, dim_}) {
    throw ShapeError("MassSpringModel::rest_lengths_of: positions of shape " +
                     shape_string(positions.shape()) + ", expected " +
                     shape_string(Shape{num_particles_, dim_}));
  }
  std::vector<double> lengths(first_.size());
  const auto x = positions.data();
  for (std::size_t e = 0; e < first_.size(); ++e) {
    double squared = 0.0;
    for (std::size_t k = 0; k < dim_; ++k) {
      const double d = x[static_cast<std::size_t>(second_[e]) * dim_ + k] -
                       x[static_cast<std::size_t>(first_[e]) * dim_ + k];
      squared += d * d;
    }
    lengths[e] = std::sqrt(squared);
  }
  return Tensor::from_data(std::move(lengths), {first_.size()});
}

Tensor MassSpringModel::make_state(const Tensor& positions, const Tensor& velocities) {
  if (positions.shape() != velocities.shape() || positions.ndim() != 2) {
    throw ShapeError("MassSpringModel::make_state: positions " + shape_string(positions.shape()) +
                     " and velocities " + shape_string(velocities.shape()) +
                     " must both be [N, D]");
  }
  std::vector<double> values(positions.data().begin(), positions.data().end());
  values.insert(values.end(), velocities.data().begin(), velocities.data().end());
  return Tensor::from_data(std::move(values), {2, positions.shape()[0], positions.shape()[1]});
}

void MassSpringModel::check_inputs(TensorVar state, const SpringParameters& params,
                                   double dt) const {
  const auto expect = [](TensorVar var, const Shape& shape, const char* what) {
    const ShapeView actual = var.shape();
    if (!std::equal(actual.begin(), actual.end(), shape.begin(), shape.end())) {
      throw ShapeError(std::string("mass_spring_step: ") + what + " has shape " +
                       shape_string(actual) + ", expected " + shape_string(shape));
    }
  };
  expect(state, {2, num_particles_, dim_}, "state");
  expect(params.mass, {num_particles_}, "mass");
  expect(params.stiffness, {first_.size()}, "stiffness");
  expect(params.damping, {first_.size()}, "damping");
  expect(params.rest_length, {first_.size()}, "rest_length");
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValueError("mass_spring_step: dt must be positive and finite, got " + std::to_string(dt));
  }
  for (const double m : params.mass.view().data()) {
    if (!(m > 0.0)) {
      throw ValueError("mass_spring_step: every mass must be positive, got " + std::to_string(m));
    }
  }
}

namespace {

// What one spring's force and its adjoint need: length, direction, closing velocity, magnitude.
struct SpringGeometry {
  double length;
  double unit[3];
  double closing[3];  // (v_b - v_a)
  double closing_speed;
  double magnitude;
};

void spring_geometry(const double* x, const double* v, std::size_t dim, std::int64_t a,
                     std::int64_t b, double stiffness, double damping, double rest,
                     SpringGeometry& s) {
  const std::size_t ia = static_cast<std::size_t>(a) * dim;
  const std::size_t ib = static_cast<std::size_t>(b) * dim;
  double squared = 0.0;
  for (std::size_t k = 0; k < dim; ++k) {
    const double d = x[ib + k] - x[ia + k];
    s.unit[k] = d;
    squared += d * d;
  }
  s.length = std::sqrt(squared);
  s.closing_speed = 0.0;
  for (std::size_t k = 0; k < dim; ++k) {
    s.unit[k] /= s.length;
    s.closing[k] = v[ib + k] - v[ia + k];
    s.closing_speed += s.closing[k] * s.unit[k];
  }
  s.magnitude = stiffness * (s.length - rest) + damping * s.closing_speed;
}

}  // namespace

TensorVar MassSpringModel::step(TensorVar state, const SpringParameters& params, double dt) const {
  if (dim_ > 3) throw ValueError("mass_spring_step: the fused step supports 1 to 3 dimensions");
  check_inputs(state, params, dt);
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const std::size_t nd = num_particles_ * dim_;
  const double* v = x + nd;
  const double* mass = tape.view(params.mass).values;
  const double* stiffness = tape.view(params.stiffness).values;
  const double* damping = tape.view(params.damping).values;
  const double* rest = tape.view(params.rest_length).values;
  const double saved[] = {dt};
  const Shape shape{2, num_particles_, dim_};
  return tape.record(
      step_op_, {state, params.mass, params.stiffness, params.damping, params.rest_length}, shape,
      [&](MutableTensorView out) {
        double* x1 = out.values;
        double* force = out.values + nd;  // the new velocities are computed in place of F
        for (std::size_t i = 0; i < nd; ++i) force[i] = 0.0;
        SpringGeometry s;
        const std::size_t num_springs = first_.size();
        for (std::size_t e = 0; e < num_springs; ++e) {
          spring_geometry(x, v, dim_, first_[e], second_[e], stiffness[e], damping[e], rest[e], s);
          double* fa = force + static_cast<std::size_t>(first_[e]) * dim_;
          double* fb = force + static_cast<std::size_t>(second_[e]) * dim_;
          for (std::size_t k = 0; k < dim_; ++k) {
            const double f = s.magnitude * s.unit[k];
            fa[k] += f;
            fb[k] -= f;
          }
        }
        for (std::size_t i = 0; i < num_particles_; ++i) {
          double* fi = force + i * dim_;
          if (ground_.enabled) {
            const std::size_t up = ground_.up_axis;
            const double penetration = ground_.height - x[i * dim_ + up];
            if (penetration > 0.0) {
              fi[up] += ground_.stiffness * penetration - ground_.damping * v[i * dim_ + up];
            }
          }
          for (std::size_t k = 0; k < dim_; ++k) {
            const double v1 = v[i * dim_ + k] + dt * (fi[k] / mass[i] + gravity_[k]);
            fi[k] = v1;
            x1[i * dim_ + k] = x[i * dim_ + k] + dt * v1;
          }
        }
      },
      SavedData{saved, {}});
}

void MassSpringModel::StepOp::backward(BackwardContext& context) const {
  const MassSpringModel& model = *model_;
  const std::size_t n = model.num_particles_;
  const std::size_t dim = model.dim_;
  const std::size_t nd = n * dim;
  const double dt = context.saved()[0];
  const double* x = context.input(0).values;
  const double* v = x + nd;
  const double* mass = context.input(1).values;
  const double* stiffness = context.input(2).values;
  const double* damping = context.input(3).values;
  const double* rest = context.input(4).values;
  const double* g_x1 = context.grad_output().values;
  const double* g_v1 = g_x1 + nd;

  // x1 = x + dt v1 and v1 = v + dt (F / m + g): the total adjoint reaching v1 is
  // g_v1 + dt g_x1, and d loss / d F = dt (g_v1 + dt g_x1) / m.
  thread_local std::vector<double> g_v1_total;
  thread_local std::vector<double> g_force;
  g_v1_total.resize(nd);
  g_force.resize(nd);
  for (std::size_t i = 0; i < nd; ++i) g_v1_total[i] = g_v1[i] + dt * g_x1[i];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < dim; ++k) {
      g_force[i * dim + k] = dt * g_v1_total[i * dim + k] / mass[i];
    }
  }

  const bool state_grad = context.needs_grad(0);
  double* g_x = state_grad ? context.grad_input(0).values : nullptr;
  double* g_v = state_grad ? g_x + nd : nullptr;
  double* g_mass = context.needs_grad(1) ? context.grad_input(1).values : nullptr;
  double* g_stiffness = context.needs_grad(2) ? context.grad_input(2).values : nullptr;
  double* g_damping = context.needs_grad(3) ? context.grad_input(3).values : nullptr;
  double* g_rest = context.needs_grad(4) ? context.grad_input(4).values : nullptr;

  if (state_grad) {
    for (std::size_t i = 0; i < nd; ++i) {
      g_x[i] += g_x1[i];
      g_v[i] += g_v1_total[i];
    }
  }

  // Ground: F_up += k pen - c v_up [pen > 0], pen = height - x_up.
  const GroundContact& ground = model.ground_;
  thread_local std::vector<double> force;
  if (g_mass) force.assign(nd, 0.0);
  for (std::size_t i = 0; ground.enabled && i < n; ++i) {
    const std::size_t j = i * dim + ground.up_axis;
    const double penetration = ground.height - x[j];
    if (penetration <= 0.0) continue;
    if (state_grad) {
      g_x[j] -= g_force[j] * ground.stiffness;
      g_v[j] -= g_force[j] * ground.damping;
    }
    if (g_mass) force[j] += ground.stiffness * penetration - ground.damping * v[j];
  }

  SpringGeometry s;
  for (std::size_t e = 0; e < model.first_.size(); ++e) {
    const std::int64_t a = model.first_[e];
    const std::int64_t b = model.second_[e];
    spring_geometry(x, v, dim, a, b, stiffness[e], damping[e], rest[e], s);
    const std::size_t ia = static_cast<std::size_t>(a) * dim;
    const std::size_t ib = static_cast<std::size_t>(b) * dim;
    // f = m u with F_a += f, F_b -= f: d loss / d f = g_F_a - g_F_b.
    double g_f[3];
    double g_magnitude = 0.0;
    for (std::size_t k = 0; k < dim; ++k) {
      g_f[k] = g_force[ia + k] - g_force[ib + k];
      g_magnitude += g_f[k] * s.unit[k];
      if (g_mass) {
        force[ia + k] += s.magnitude * s.unit[k];
        force[ib + k] -= s.magnitude * s.unit[k];
      }
    }
    // magnitude = k (l - L) + c (closing . u)
    if (g_stiffness) g_stiffness[e] += g_magnitude * (s.length - rest[e]);
    if (g_rest) g_rest[e] -= g_magnitude * stiffness[e];
    if (g_damping) g_damping[e] += g_magnitude * s.closing_speed;
    if (!state_grad) continue;
    // d loss / d u = magnitude g_f + (g_magnitude c) closing; u = d / l projects it onto the
    // plane normal to u and divides by l; l = |d| adds (g_magnitude k) u.
    double g_unit[3];
    double along = 0.0;
    for (std::size_t k = 0; k < dim; ++k) {
      g_unit[k] = s.magnitude * g_f[k] + g_magnitude * damping[e] * s.closing[k];
      along += g_unit[k] * s.unit[k];
    }
    for (std::size_t k = 0; k < dim; ++k) {
      const double g_d =
          (g_unit[k] - along * s.unit[k]) / s.length + g_magnitude * stiffness[e] * s.unit[k];
      g_x[ib + k] += g_d;
      g_x[ia + k] -= g_d;
      const double g_closing = g_magnitude * damping[e] * s.unit[k];
      g_v[ib + k] += g_closing;
      g_v[ia + k] -= g_closing;
    }
  }

  // d (F / m) / d m = -F / m^2.
  for (std::size_t i = 0; g_mass && i < n; ++i) {
    double total = 0.0;
    for (std::size_t k = 0; k < dim; ++k) total += g_force[i * dim + k] * force[i * dim + k];
    g_mass[i] -= total / mass[i];
  }
}

}  // namespace maya
