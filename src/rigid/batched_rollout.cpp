// rigid_rollout_gradient: checks the worlds against the world's topology and each other, then
// rolls them out on the CPU (each world on a tape of its own through RigidWorld2D::step, the fused
// step itself, one world per task) or hands them to the CUDA kernels.
#include "maya/rigid/batched_rollout.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/parallel.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#if defined(MAYA_HAVE_CUDA)
#include "dynamics/world_losses.hpp"
#include "rigid/cuda/rigid_rollout_cuda.hpp"
#endif

namespace maya::rigid {
namespace {

constexpr const char* kOp = "rigid_rollout_gradient";

std::string dims(std::size_t value) { return std::to_string(value); }

// E of the worlds; throws unless every tensor is [E, ...] with the world's sizes.
std::size_t check_worlds(const RigidWorld2D& world, const RigidWorlds& worlds,
                         const RigidRolloutOptions& options) {
  const std::size_t k = world.num_bodies();
  const std::size_t v = world.num_vertices();
  const Shape& state = worlds.state.shape();
  if (state.size() != 4 || state[1] != 2 || state[2] != k || state[3] != 3) {
    throw ShapeError(std::string(kOp) + ": state of shape " + shape_string(state) +
                     ", expected [E, 2, " + dims(k) + ", 3] for E worlds of this world");
  }
  const std::size_t e = state[0];
  if (e == 0) throw ShapeError(std::string(kOp) + ": no worlds (state of shape [0, ...])");
  const auto check = [&](const Tensor& t, const Shape& per_world, const char* name) {
    const Shape& shape = t.shape();
    Shape expected{e};
    expected.insert(expected.end(), per_world.begin(), per_world.end());
    if (shape.size() != expected.size() ||
        !std::equal(shape.begin() + 1, shape.end(), expected.begin() + 1)) {
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(shape) +
                       ", expected " + shape_string(expected) +
                       " (one row per world, of this world's topology)");
    }
    if (shape[0] != e) {
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(shape) +
                       " holds " + dims(shape[0]) + " worlds but state of shape " +
                       shape_string(state) + " holds " + dims(e));
    }
  };
  check(worlds.mass, {k}, "mass");
  check(worlds.inertia, {k}, "inertia");
  check(worlds.vertices, {v, 2}, "vertices");
  check(worlds.radius, {k}, "radius");
  check(worlds.applied, {k, 3}, "applied");
  check(worlds.stiffness, {}, "stiffness");
  check(worlds.damping, {}, "damping");
  check(worlds.friction, {}, "friction");
  for (const Tensor* t :
       {&worlds.state, &worlds.mass, &worlds.inertia, &worlds.vertices, &worlds.radius,
        &worlds.applied, &worlds.stiffness, &worlds.damping, &worlds.friction}) {
    if (t->device() != Device::kCpu) {
      throw DeviceError(std::string(kOp) + ": the worlds' tensors must be on the CPU for now");
    }
  }
  (void)check_positive(options.dt, std::string(kOp) + ": dt");
  const auto positive = [&](const Tensor& t, const char* name) {
    const auto values = t.data();
    for (std::size_t j = 0; j < values.size(); ++j) {
      if (!(values[j] > 0.0 && std::isfinite(values[j]))) {
        (void)check_positive(values[j], std::string(kOp) + ": the " + name + " of body " +
                                            dims(j % k) + " of world " + dims(j / k));
      }
    }
  };
  positive(worlds.mass, "mass");
  positive(worlds.inertia, "inertia");
  for (std::size_t w = 0; w < e; ++w) {
    (void)check_positive(worlds.stiffness.data()[w],
                         std::string(kOp) + ": the stiffness of world " + dims(w));
    (void)check_non_negative(worlds.damping.data()[w],
                             std::string(kOp) + ": the damping of world " + dims(w));
    (void)check_non_negative(worlds.friction.data()[w],
                             std::string(kOp) + ": the friction of world " + dims(w));
  }
  return e;
}

// Rows [w * size, (w + 1) * size) of t as a tensor of the given shape.
Tensor row(const Tensor& t, std::size_t w, Shape shape) {
  std::size_t size = 1;
  for (const std::size_t d : shape) size *= d;
  const auto values = t.data().subspan(w * size, size);
  return Tensor::from_data(std::vector<double>(values.begin(), values.end()), std::move(shape));
}

void put(Tensor& out, std::size_t w, const Tensor& value) {
  const auto values = value.data();
  std::copy(values.begin(), values.end(),
            out.mutable_data().begin() + static_cast<std::ptrdiff_t>(w * values.size()));
}

// World w on the calling thread: T fused steps on `tape`, the loss's adjoint as the seed of the
// reverse sweep (loss = sum(final * adjoint) has gradient `adjoint`).
void cpu_world(const RigidWorld2D& world, const RigidWorlds& worlds, const FinalStateLoss& loss,
               const RigidRolloutOptions& options, std::size_t w, RigidRolloutGradients& out,
               TensorTape& tape) {
  const std::size_t k = world.num_bodies();
  const std::size_t v = world.num_vertices();
  tape.clear();
  const TensorVar state0 = tape.var(row(worlds.state, w, {2, k, 3}));
  const RigidParameters params{
      tape.var(row(worlds.mass, w, {k})),        tape.var(row(worlds.inertia, w, {k})),
      tape.var(row(worlds.vertices, w, {v, 2})), tape.var(row(worlds.radius, w, {k})),
      tape.var(row(worlds.applied, w, {k, 3})),  tape.var(row(worlds.stiffness, w, {1})),
      tape.var(row(worlds.damping, w, {1})),     tape.var(row(worlds.friction, w, {1}))};
  TensorVar state = state0;
  for (std::size_t t = 0; t < options.steps; ++t) state = world.step(state, params, options.dt);
  const Tensor final_state = state.value();
  put(out.final_state, w, final_state);
  std::vector<double> adjoint(6 * k, 0.0);
  out.loss.mutable_data()[w] = loss(w, final_state.data(), adjoint);
  const TensorVar seed = tape.constant(Tensor::from_data(std::move(adjoint), {2, k, 3}));
  const TensorGradients g = tape.grad(sum(state * seed));
  put(out.state, w, g[state0]);
  put(out.mass, w, g[params.mass]);
  put(out.inertia, w, g[params.inertia]);
  put(out.vertices, w, g[params.vertices]);
  put(out.radius, w, g[params.radius]);
  put(out.applied, w, g[params.applied]);
  put(out.stiffness, w, g[params.stiffness]);
  put(out.damping, w, g[params.damping]);
  put(out.friction, w, g[params.friction]);
}

// The first world with a NaN or infinity in its final state, loss or a gradient.
void check_finite(const RigidRolloutGradients& out, std::size_t worlds) {
  const std::pair<const Tensor*, const char*> outputs[] = {
      {&out.final_state, "final state"},
      {&out.loss, "loss"},
      {&out.state, "gradient of the initial state"},
      {&out.mass, "mass gradient"},
      {&out.inertia, "inertia gradient"},
      {&out.vertices, "vertex gradient"},
      {&out.radius, "radius gradient"},
      {&out.applied, "applied-wrench gradient"},
      {&out.stiffness, "stiffness gradient"},
      {&out.damping, "damping gradient"},
      {&out.friction, "friction gradient"}};
  for (std::size_t w = 0; w < worlds; ++w) {
    for (const auto& [tensor, name] : outputs) {
      const std::size_t per_world = tensor->numel() / worlds;
      const auto values = tensor->data().subspan(w * per_world, per_world);
      for (std::size_t j = 0; j < per_world; ++j) {
        if (!std::isfinite(values[j])) {
          throw NonFiniteError(std::string(kOp) + ": world " + dims(w) + " of " + dims(worlds) +
                               " blew up: its " + name + " holds " + format_number(values[j]) +
                               " at element " + dims(j));
        }
      }
    }
  }
}

#if defined(MAYA_HAVE_CUDA)
void gpu_worlds(const RigidWorld2D& world, const RigidWorlds& worlds, const FinalStateLoss& loss,
                const RigidRolloutOptions& options, std::size_t e, RigidRolloutGradients& out) {
  if (dynamics::cuda_device_count() == 0) {
    throw DeviceError(std::string(kOp) + ": Device::kCuda asked for, but no CUDA GPU is present");
  }
  const RigidWorldOptions& wo = world.options();
  const std::size_t k = world.num_bodies();
  std::vector<std::int32_t> first(k);
  std::vector<std::int32_t> count(k);
  std::vector<std::int32_t> next(world.num_vertices());
  for (std::size_t b = 0; b < k; ++b) {
    const bool polygon = world.shape(b).kind() == ShapeKind::kPolygon;
    first[b] = polygon ? static_cast<std::int32_t>(world.first_vertex(b)) : -1;
    count[b] = polygon ? static_cast<std::int32_t>(world.shape(b).vertices().size()) : 1;
    for (std::int32_t i = 0; polygon && i < count[b]; ++i) {
      next[static_cast<std::size_t>(first[b] + i)] = first[b] + (i + 1) % count[b];
    }
  }
  const detail::HostRigidTopology topology{k,
                                           world.num_vertices(),
                                           first.data(),
                                           count.data(),
                                           wo.grounds.data(),
                                           wo.grounds.size(),
                                           {wo.gravity.x, wo.gravity.y},
                                           wo.linear_damping,
                                           wo.angular_damping,
                                           wo.friction_smoothing,
                                           wo.normal_law,
                                           wo.body_contacts,
                                           next.data()};
  const detail::HostRigidWorlds host{
      e,
      worlds.state.data().data(),
      worlds.mass.data().data(),
      worlds.inertia.data().data(),
      worlds.vertices.data().data(),
      worlds.radius.data().data(),
      worlds.applied.data().data(),
      worlds.stiffness.data().data(),
      worlds.damping.data().data(),
      worlds.friction.data().data(),
  };
  const detail::HostRigidGradients grads{
      out.final_state.mutable_data().data(), out.state.mutable_data().data(),
      out.mass.mutable_data().data(),        out.inertia.mutable_data().data(),
      out.vertices.mutable_data().data(),    out.radius.mutable_data().data(),
      out.applied.mutable_data().data(),     out.stiffness.mutable_data().data(),
      out.damping.mutable_data().data(),     out.friction.mutable_data().data()};
  const std::size_t size = 6 * k;
  double* losses = out.loss.mutable_data().data();
  const auto adjoint_of_final = [&](const double* final_state, double* adjoint) {
    dynamics::detail::evaluate_world_losses(loss, e, size, final_state, adjoint, losses);
  };
  const detail::RigidKernelTimes times = detail::cuda_rigid_rollout_gradient(
      topology, host, options.dt, options.steps, adjoint_of_final, grads);
  out.kernel_seconds_forward = times.forward;
  out.kernel_seconds_reverse = times.reverse;
}
#endif

// `t` with `shape` on the CPU: kept where it already has them (every element is overwritten by
// the rollout), else a new zero tensor.
void shape_result(Tensor& t, const Shape& shape) {
  if (t.device() != Device::kCpu || t.shape() != shape) t = Tensor::zeros(shape);
}

}  // namespace

void rigid_rollout_gradient(const RigidWorld2D& world, const RigidWorlds& worlds,
                            const FinalStateLoss& loss, const RigidRolloutOptions& options,
                            RigidRolloutGradients& out) {
  const std::size_t e = check_worlds(world, worlds, options);
  const std::size_t k = world.num_bodies();
  const std::size_t v = world.num_vertices();
  shape_result(out.loss, {e});
  shape_result(out.final_state, worlds.state.shape());
  shape_result(out.state, worlds.state.shape());
  shape_result(out.mass, {e, k});
  shape_result(out.inertia, {e, k});
  shape_result(out.vertices, {e, v, 2});
  shape_result(out.radius, {e, k});
  shape_result(out.applied, {e, k, 3});
  shape_result(out.stiffness, {e});
  shape_result(out.damping, {e});
  shape_result(out.friction, {e});
  out.kernel_seconds_forward = 0.0;
  out.kernel_seconds_reverse = 0.0;
  if (options.device == Device::kCuda) {
#if defined(MAYA_HAVE_CUDA)
    gpu_worlds(world, worlds, loss, options, e, out);
#else
    throw DeviceError(std::string(kOp) +
                      ": Device::kCuda asked for, but maya was built without "
                      "CUDA (configure with -DMAYA_CUDA=ON)");
#endif
  } else {
    maya::core::detail::parallel_for(e, 1, 1, [&](std::size_t begin, std::size_t end) {
      TensorTape tape;  // this task's: its worlds run one after another on one thread
      for (std::size_t w = begin; w < end; ++w) {
        cpu_world(world, worlds, loss, options, w, out, tape);
      }
    });
  }
  if (options.finite_check) check_finite(out, e);
}

RigidRolloutGradients rigid_rollout_gradient(const RigidWorld2D& world, const RigidWorlds& worlds,
                                             const FinalStateLoss& loss,
                                             const RigidRolloutOptions& options) {
  RigidRolloutGradients out;
  rigid_rollout_gradient(world, worlds, loss, options, out);
  return out;
}

RigidWorlds replicate_world(const Tensor& state, const RigidParameterValues& values,
                            std::size_t worlds) {
  const auto stack = [worlds](const Tensor& t, bool scalar) {
    std::vector<double> data;
    data.reserve(t.numel() * worlds);
    for (std::size_t w = 0; w < worlds; ++w) {
      data.insert(data.end(), t.data().begin(), t.data().end());
    }
    Shape shape{worlds};
    if (!scalar) shape.insert(shape.end(), t.shape().begin(), t.shape().end());
    return Tensor::from_data(std::move(data), shape);
  };
  for (const Tensor* t : {&values.stiffness, &values.damping, &values.friction}) {
    if (t->numel() != 1) {
      throw ShapeError(
          "rigid::replicate_world: a material value must have one element, got "
          "shape " +
          shape_string(t->shape()));
    }
  }
  return {stack(state, false),           stack(values.mass, false),   stack(values.inertia, false),
          stack(values.vertices, false), stack(values.radius, false), stack(values.applied, false),
          stack(values.stiffness, true), stack(values.damping, true), stack(values.friction, true)};
}

}  // namespace maya::rigid
