// Rigid contact of a 2-D soft body: checks of the obstacles, the fused node giving the forces on
// the vertices and the wrench on the bodies, and its composed twin.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fem/rigid_contact_kernel.hpp"
#include "fem/soft_body_ops.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::fem {

RigidContactOptions RigidContactOptions::of(const rigid::RigidWorld2D& world,
                                            double slip_velocity) {
  RigidContactOptions options;
  for (std::size_t k = 0; k < world.num_bodies(); ++k) options.shapes.push_back(world.shape(k));
  options.slip_velocity = slip_velocity;
  return options;
}

void detail::check_obstacles(const SoftBodyModel& model, const RigidObstacles* obstacles,
                             std::string_view operation) {
  const std::string op(operation);
  const std::shared_ptr<const RigidShapes>& rigid_shapes = model.rigid_shapes;
  if (obstacles == nullptr) {
    if (rigid_shapes) {
      throw ValueError(op + ": the body has " + std::to_string(rigid_shapes->num_bodies()) +
                       " rigid shapes (SoftBodyOptions::rigid); pass their state and contact "
                       "material as RigidObstacles");
    }
    return;
  }
  if (!rigid_shapes) {
    if (model.dim() != 2) {
      throw ValueError(op + ": rigid contact is 2-D (maya's rigid bodies are 2-D); a " +
                       std::to_string(model.dim()) + "-D soft body cannot take rigid obstacles");
    }
    throw ValueError(op +
                     ": rigid obstacles were given, but the body has no rigid shapes (set "
                     "SoftBodyOptions::rigid.shapes)");
  }
  const std::size_t k = rigid_shapes->num_bodies();
  if (!obstacles->state.valid()) throw ValueError(op + ": the rigid state is not set");
  const ShapeView shape = obstacles->state.shape();
  const Shape expected{2, k, 3};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError(op + ": rigid state of shape " + shape_string(shape) + ", expected " +
                     shape_string(expected) + " for " + std::to_string(k) + " rigid shapes");
  }
  const RigidContactMaterial& m = obstacles->material;
  const TensorVar parts[] = {m.stiffness, m.damping, m.friction};
  const char* names[] = {"stiffness", "damping", "friction"};
  for (std::size_t j = 0; j < 3; ++j) {
    const TensorVar var = parts[j];
    const char* what = names[j];
    if (!var.valid()) throw ValueError(op + ": the rigid contact " + what + " is not set");
    if (var.numel() != 1) {
      throw ShapeError(op + ": the rigid contact " + what + " must have one element, got shape " +
                       shape_string(var.shape()));
    }
    const double value = var.view()[0];
    const bool positive = j == 0;  // a contact without stiffness is no contact
    if (positive) {
      (void)check_positive(value, op + ": the rigid contact " + what);
    } else {
      (void)check_non_negative(value, op + ": the rigid contact " + what);
    }
  }
}

detail::RigidContactKernel detail::rigid_kernel(const SoftBodyModel& model,
                                                const RigidObstacles& obstacles) {
  const RigidContactMaterial& m = obstacles.material;
  return {*model.rigid_shapes,
          model.pinned_mask.data(),
          obstacles.state.view().values,
          m.stiffness.view()[0],
          m.damping.view()[0],
          m.friction.view()[0],
          model.options.rigid.slip_velocity};
}

detail::RigidContactKernel detail::rigid_kernel(const SoftBodyModel& model,
                                                const BackwardContext& context, std::size_t first) {
  return {*model.rigid_shapes,
          model.pinned_mask.data(),
          context.input(first).values,
          context.input(first + 1).values[0],
          context.input(first + 2).values[0],
          context.input(first + 3).values[0],
          model.options.rigid.slip_velocity};
}

namespace {

void check_soft_state(TensorVar state, std::size_t n, const char* operation) {
  const ShapeView shape = state.shape();
  const Shape expected{2, n, 2};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError(std::string(operation) + ": state of shape " + shape_string(shape) +
                     ", expected " + shape_string(expected));
  }
}

RigidContactForces split(TensorVar packed, std::size_t n, std::size_t k) {
  const auto soft = static_cast<long>(2 * n);
  return {reshape(slice(packed, 0, 0, soft), {n, 2}),
          reshape(slice(packed, 0, soft, soft + static_cast<long>(3 * k)), {k, 3})};
}

}  // namespace

RigidContactForces rigid_contact_forces(const SoftBody& body, TensorVar state,
                                        const RigidObstacles& obstacles) {
  const detail::SoftBodyModel& model = body.model();
  const char* operation = "fem::rigid_contact_forces";
  detail::check_obstacles(model, &obstacles, operation);
  const std::size_t n = model.num_vertices();
  check_soft_state(state, n, operation);
  const std::size_t k = model.rigid_shapes->num_bodies();
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const RigidContactMaterial& m = obstacles.material;
  const detail::RigidContactKernel kernel(*model.rigid_shapes, model.pinned_mask.data(),
                                          tape.view(obstacles.state).values, m.stiffness.view()[0],
                                          m.damping.view()[0], m.friction.view()[0],
                                          model.options.rigid.slip_velocity);
  tape.keep_alive(body.ops());
  const TensorVar packed = tape.record(
      body.ops()->rigid_contact, {state, obstacles.state, m.stiffness, m.damping, m.friction},
      Shape{2 * n + 3 * k}, [&](MutableTensorView out) {
        std::fill(out.values, out.values + out.numel(), 0.0);
        kernel.add_explicit_forces(x, x + 2 * n, n, out.values, out.values + 2 * n);
      });
  return split(packed, n, k);
}

void detail::RigidContactOp::backward(BackwardContext& context) const {
  // The inputs in recording order; the material's three follow the rigid state.
  enum Input : std::size_t { kSoftState, kRigidState, kStiffness, kDamping, kFriction };
  const SoftBodyModel& model = *model_;
  const std::size_t n = model.num_vertices();
  const detail::RigidContactKernel kernel(
      *model.rigid_shapes, model.pinned_mask.data(), context.input(kRigidState).values,
      context.input(kStiffness).values[0], context.input(kDamping).values[0],
      context.input(kFriction).values[0], model.options.rigid.slip_velocity);
  double* g_x = context.needs_grad(kSoftState) ? context.grad_input(kSoftState).values : nullptr;
  double* g_state =
      context.needs_grad(kRigidState) ? context.grad_input(kRigidState).values : nullptr;
  double g_material[3] = {0.0, 0.0, 0.0};  // stiffness, damping, friction
  const double* x = context.input(kSoftState).values;
  const double* g = context.grad_output().values;
  kernel.explicit_vjp(x, x + 2 * n, n, g, g + 2 * n, g_x, g_x == nullptr ? nullptr : g_x + 2 * n,
                      g_state, g_material);
  for (std::size_t j = 0; j < 3; ++j) {
    if (context.needs_grad(kStiffness + j))
      context.grad_input(kStiffness + j).values[0] += g_material[j];
  }
}

// The explicit law of rigid_contact.hpp, one row per touching (vertex, body) pair, in two groups
// (circles: n = d / |d|, pen = r - |d|; faces: n = R m, pen = o - n . d, d = x - c), each
// scattered to the vertices by index_add and to the bodies by wrench_at_points.
RigidContactForces rigid_contact_forces_composed(const SoftBody& body, TensorVar state,
                                                 const RigidObstacles& obstacles) {
  const detail::SoftBodyModel& model = body.model();
  const char* operation = "fem::rigid_contact_forces_composed";
  detail::check_obstacles(model, &obstacles, operation);
  const std::size_t n = model.num_vertices();
  check_soft_state(state, n, operation);
  const detail::RigidShapes& shapes = *model.rigid_shapes;
  const std::size_t k = shapes.num_bodies();
  TensorTape& tape = state.tape();
  const double* x_values = tape.view(state).values;
  const double* rigid_values = tape.view(obstacles.state).values;

  struct Group {
    std::vector<std::int64_t> vertices, bodies;
    std::vector<double> radius, mx, my, offset;
  };
  Group circles, faces;
  for (std::size_t b = 0; b < k; ++b) {
    for (std::size_t i = 0; i < n; ++i) {
      if (model.pinned_mask[i] != 0) continue;
      const detail::Closest c = detail::closest_feature(shapes, b, x_values[2 * i],
                                                        x_values[2 * i + 1], rigid_values + 3 * b);
      if (!(c.depth > 0.0)) continue;
      Group& group = c.face < 0 ? circles : faces;
      group.vertices.push_back(static_cast<std::int64_t>(i));
      group.bodies.push_back(static_cast<std::int64_t>(b));
      if (c.face < 0) {
        group.radius.push_back(shapes.radius[b]);
      } else {
        const auto f = static_cast<std::size_t>(c.face);
        group.mx.push_back(shapes.normals[2 * f]);
        group.my.push_back(shapes.normals[2 * f + 1]);
        group.offset.push_back(shapes.offsets[f]);
      }
    }
  }

  const RigidContactMaterial& m = obstacles.material;
  const TensorVar stiffness = reshape(m.stiffness, {1});
  const TensorVar damping = reshape(m.damping, {1});
  const TensorVar friction = reshape(m.friction, {1});
  const double eps = model.options.rigid.slip_velocity;
  const TensorVar poses = dynamics::positions_of(obstacles.state);
  const TensorVar body_velocities = dynamics::velocities_of(obstacles.state);
  TensorVar soft = tape.constant(Tensor::zeros({n, 2}));
  TensorVar wrench = tape.constant(Tensor::zeros({k, 3}));
  const auto column = [](TensorVar a, long j) { return select(a, 1, j); };
  for (const Group* group : {&circles, &faces}) {
    const std::size_t count = group->vertices.size();
    if (count == 0) continue;
    const auto constant = [&](const std::vector<double>& values) {
      return tape.constant(Tensor::from_data(values, {count}));
    };
    const TensorVar x = index_select(dynamics::positions_of(state), 0, group->vertices);
    const TensorVar v = index_select(dynamics::velocities_of(state), 0, group->vertices);
    const TensorVar pose = index_select(poses, 0, group->bodies);
    const TensorVar velocity = index_select(body_velocities, 0, group->bodies);
    const TensorVar dx = column(x, 0) - column(pose, 0);
    const TensorVar dy = column(x, 1) - column(pose, 1);
    TensorVar nx, ny, pen;
    if (group == &circles) {
      const TensorVar length = sqrt(dx * dx + dy * dy);
      nx = dx / length;
      ny = dy / length;
      pen = constant(group->radius) - length;
    } else {
      const TensorVar c = cos(column(pose, 2));
      const TensorVar s = sin(column(pose, 2));
      const TensorVar mx = constant(group->mx);
      const TensorVar my = constant(group->my);
      nx = mx * c - my * s;
      ny = mx * s + my * c;
      pen = constant(group->offset) - (nx * dx + ny * dy);
    }
    // v_rel = v - V - omega perp(d), perp(d) = (-d_y, d_x)
    const TensorVar omega = column(velocity, 2);
    const TensorVar rx = column(v, 0) - (column(velocity, 0) - omega * dy);
    const TensorVar ry = column(v, 1) - (column(velocity, 1) + omega * dx);
    const TensorVar normal_speed = nx * rx + ny * ry;
    const TensorVar slip = nx * ry - ny * rx;
    const TensorVar f_n = pen * (stiffness - damping * normal_speed);
    const TensorVar f_t = -(friction * stiffness) * pen * slip / sqrt(slip * slip + eps * eps);
    const TensorVar force = stack({f_n * nx - f_t * ny, f_n * ny + f_t * nx}, 1);
    soft = index_add(soft, 0, group->vertices, force);
    wrench = wrench + rigid::wrench_at_points(obstacles.state, group->bodies, x, -force);
  }
  return {soft, wrench};
}

}  // namespace maya::fem
