// soft_rollout_gradient: checks the worlds against the body and each other, then rolls each world
// out on a tape of its own through step_explicit (the fused step itself), one world per task, or
// hands them to the CUDA kernels (src/fem/cuda/), which run the same element kernels.
#include "maya/fem/batched_rollout.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/parallel.hpp"
#include "fem/soft_body_ops.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#if defined(MAYA_HAVE_CUDA)
#include "dynamics/world_losses.hpp"
#include "fem/cuda/soft_rollout_cuda.hpp"
#endif

namespace maya::fem {
namespace {

constexpr const char* kOp = "fem::soft_rollout_gradient";

std::string dims(std::size_t value) { return std::to_string(value); }

struct Sizes {
  std::size_t worlds;
  std::size_t per_element_mu;  // P of mu, lambda and actuation: 1 or M
  std::size_t per_element_lambda;
  std::size_t per_element_actuation;  // 0: no actuation
};

Sizes check_worlds(const SoftBody& body, const SoftWorlds& worlds,
                   const SoftRolloutOptions& options) {
  const std::size_t n = body.num_vertices();
  const std::size_t m = body.num_elements();
  const std::size_t d = body.dim();
  const Shape& state = worlds.state.shape();
  if (state.size() != 4 || state[1] != 2 || state[2] != n || state[3] != d) {
    throw ShapeError(std::string(kOp) + ": state of shape " + shape_string(state) +
                     ", expected [E, 2, " + dims(n) + ", " + dims(d) +
                     "] for E worlds of this body");
  }
  const std::size_t e = state[0];
  if (e == 0) throw ShapeError(std::string(kOp) + ": no worlds (state of shape [0, ...])");
  const auto same_e = [&](const Tensor& t, const char* name) {
    if (t.shape()[0] != e) {
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(t.shape()) +
                       " holds " + dims(t.shape()[0]) + " worlds but state of shape " +
                       shape_string(state) + " holds " + dims(e));
    }
  };
  const auto check = [&](const Tensor& t, const Shape& per_world, const char* name) {
    const Shape& shape = t.shape();
    if (shape.size() != per_world.size() + 1 ||
        !std::equal(shape.begin() + 1, shape.end(), per_world.begin())) {
      Shape expected{e};
      expected.insert(expected.end(), per_world.begin(), per_world.end());
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(shape) +
                       ", expected " + shape_string(expected) +
                       " (one row per world, of this body's mesh)");
    }
    same_e(t, name);
  };
  // [E, 1] or [E, M]; returns P.
  const auto per_element = [&](const Tensor& t, const char* name) -> std::size_t {
    const Shape& shape = t.shape();
    if (shape.size() != 2 || (shape[1] != 1 && shape[1] != m)) {
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(shape) +
                       ", expected [E, 1] or [E, " + dims(m) + "]");
    }
    same_e(t, name);
    return shape[1];
  };
  check(worlds.inverse_edges, {m, d, d}, "inverse_edges");
  check(worlds.volumes, {m}, "volumes");
  check(worlds.mass, {n}, "mass");
  Sizes sizes{e, per_element(worlds.mu, "mu"), per_element(worlds.lambda, "lambda"), 0};
  if (worlds.actuation.numel() > 0) {
    sizes.per_element_actuation = per_element(worlds.actuation, "actuation");
  }
  for (const Tensor* t : {&worlds.state, &worlds.inverse_edges, &worlds.volumes, &worlds.mu,
                          &worlds.lambda, &worlds.mass, &worlds.actuation}) {
    if (t->device() != Device::kCpu) {
      throw DeviceError(std::string(kOp) + ": the worlds' tensors must be on the CPU for now");
    }
  }
  if (!body.options().rigid.shapes.empty()) {
    throw ValueError(std::string(kOp) +
                     ": bodies with rigid contact shapes are not batched (their obstacles are "
                     "a per-step input); roll them out with step_explicit");
  }
  (void)check_positive(options.dt, std::string(kOp) + ": dt");
  const auto masses = worlds.mass.data();
  for (std::size_t j = 0; j < masses.size(); ++j) {
    if (!(masses[j] > 0.0 && std::isfinite(masses[j]))) {
      (void)check_positive(masses[j], std::string(kOp) + ": the mass of vertex " + dims(j % n) +
                                          " of world " + dims(j / n));
    }
  }
  return sizes;
}

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

// World w on the calling thread: T fused steps on `tape`, then the loss's adjoint as the seed of
// the reverse sweep (loss = sum(final * adjoint) has gradient `adjoint`).
void cpu_world(const SoftBody& body, const SoftWorlds& worlds, const Sizes& sizes,
               const FinalStateLoss& loss, const SoftRolloutOptions& options, std::size_t w,
               SoftRolloutGradients& out, TensorTape& tape) {
  const std::size_t n = body.num_vertices();
  const std::size_t m = body.num_elements();
  const std::size_t d = body.dim();
  tape.clear();
  const TensorVar state0 = tape.var(row(worlds.state, w, {2, n, d}));
  BodyParameters params;
  params.rest.inverse_edges = tape.var(row(worlds.inverse_edges, w, {m, d, d}));
  params.rest.volumes = tape.var(row(worlds.volumes, w, {m}));
  params.lame.mu = tape.var(row(worlds.mu, w, {sizes.per_element_mu}));
  params.lame.lambda = tape.var(row(worlds.lambda, w, {sizes.per_element_lambda}));
  params.mass = tape.var(row(worlds.mass, w, {n}));
  if (sizes.per_element_actuation > 0) {
    params.actuation = tape.var(row(worlds.actuation, w, {sizes.per_element_actuation}));
  }
  TensorVar state = state0;
  for (std::size_t t = 0; t < options.steps; ++t) {
    state = step_explicit(body, state, params, options.dt);
  }
  const Tensor final_state = state.value();
  put(out.final_state, w, final_state);
  std::vector<double> adjoint(2 * n * d, 0.0);
  out.loss.mutable_data()[w] = loss(w, final_state.data(), adjoint);
  const TensorVar seed = tape.constant(Tensor::from_data(std::move(adjoint), {2, n, d}));
  const TensorGradients g = tape.grad(sum(state * seed));
  put(out.state, w, g[state0]);
  put(out.inverse_edges, w, g[params.rest.inverse_edges]);
  put(out.volumes, w, g[params.rest.volumes]);
  put(out.mu, w, g[params.lame.mu]);
  put(out.lambda, w, g[params.lame.lambda]);
  put(out.mass, w, g[params.mass]);
  if (sizes.per_element_actuation > 0) put(out.actuation, w, g[params.actuation]);
}

void check_finite(const SoftRolloutGradients& out, std::size_t worlds) {
  const std::pair<const Tensor*, const char*> outputs[] = {
      {&out.final_state, "final state"},
      {&out.loss, "loss"},
      {&out.state, "gradient of the initial state"},
      {&out.inverse_edges, "rest-shape gradient"},
      {&out.volumes, "volume gradient"},
      {&out.mu, "mu gradient"},
      {&out.lambda, "lambda gradient"},
      {&out.mass, "mass gradient"},
      {&out.actuation, "actuation gradient"}};
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
void gpu_worlds(const SoftBody& body, const SoftWorlds& worlds, const Sizes& sizes,
                const FinalStateLoss& loss, const SoftRolloutOptions& options,
                SoftRolloutGradients& out) {
  if (dynamics::cuda_device_count() == 0) {
    throw DeviceError(std::string(kOp) + ": Device::kCuda asked for, but no CUDA GPU is present");
  }
  const detail::SoftBodyModel& model = body.model();
  const std::size_t e = sizes.worlds;
  const bool actuated = sizes.per_element_actuation > 0;
  const detail::HostSoftTopology topology{
      model.dim(),          model.num_vertices(),         model.num_elements(),
      model.options.energy, model.mesh.elements().data(), model.pinned_mask.data(),
      model.gravity.data(), model.fiber.data(),           model.options.ground};
  const detail::HostSoftWorlds host{e,
                                    worlds.state.data().data(),
                                    worlds.inverse_edges.data().data(),
                                    worlds.volumes.data().data(),
                                    worlds.mu.data().data(),
                                    sizes.per_element_mu,
                                    worlds.lambda.data().data(),
                                    sizes.per_element_lambda,
                                    worlds.mass.data().data(),
                                    actuated ? worlds.actuation.data().data() : nullptr,
                                    sizes.per_element_actuation};
  const detail::HostSoftGradients grads{out.final_state.mutable_data().data(),
                                        out.state.mutable_data().data(),
                                        out.inverse_edges.mutable_data().data(),
                                        out.volumes.mutable_data().data(),
                                        out.mu.mutable_data().data(),
                                        out.lambda.mutable_data().data(),
                                        out.mass.mutable_data().data(),
                                        actuated ? out.actuation.mutable_data().data() : nullptr};
  const std::size_t size = 2 * body.num_vertices() * body.dim();
  double* losses = out.loss.mutable_data().data();
  const auto adjoint_of_final = [&](const double* final_state, double* adjoint) {
    dynamics::detail::evaluate_world_losses(loss, e, size, final_state, adjoint, losses);
  };
  const detail::SoftKernelTimes times = detail::cuda_soft_rollout_gradient(
      topology, host, options.dt, options.steps, adjoint_of_final, grads);
  out.kernel_seconds_forward = times.forward;
  out.kernel_seconds_reverse = times.reverse;
}
#endif

}  // namespace

SoftRolloutGradients soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds,
                                           const FinalStateLoss& loss,
                                           const SoftRolloutOptions& options) {
  const Sizes sizes = check_worlds(body, worlds, options);
  const std::size_t e = sizes.worlds;
  SoftRolloutGradients out{Tensor::zeros({e}),
                           Tensor::zeros(worlds.state.shape()),
                           Tensor::zeros(worlds.state.shape()),
                           Tensor::zeros(worlds.inverse_edges.shape()),
                           Tensor::zeros(worlds.volumes.shape()),
                           Tensor::zeros(worlds.mu.shape()),
                           Tensor::zeros(worlds.lambda.shape()),
                           Tensor::zeros(worlds.mass.shape()),
                           Tensor::zeros(worlds.actuation.shape())};
  if (options.device == Device::kCuda) {
#if defined(MAYA_HAVE_CUDA)
    gpu_worlds(body, worlds, sizes, loss, options, out);
#else
    throw DeviceError(std::string(kOp) +
                      ": Device::kCuda asked for, but maya was built without CUDA (configure "
                      "with -DMAYA_CUDA=ON)");
#endif
  } else {
    maya::core::detail::parallel_for(e, 1, 1, [&](std::size_t begin, std::size_t end) {
      TensorTape tape;  // this task's: its worlds run one after another on one thread
      for (std::size_t w = begin; w < end; ++w) {
        cpu_world(body, worlds, sizes, loss, options, w, out, tape);
      }
    });
  }
  if (options.finite_check) check_finite(out, e);
  return out;
}

SoftWorlds replicate_world(const SoftBody& body, const Tensor& state, const Tensor& rest_positions,
                           double youngs_modulus, double poisson_ratio, double density,
                           std::size_t worlds) {
  TensorTape tape;
  const BodyParameters p = parameters(
      body, tape.constant(rest_positions), tape.constant(Tensor::scalar(youngs_modulus)),
      tape.constant(Tensor::scalar(poisson_ratio)), tape.constant(Tensor::scalar(density)));
  const auto stack = [worlds](const Tensor& t, Shape per_world) {
    std::vector<double> data;
    data.reserve(t.numel() * worlds);
    for (std::size_t w = 0; w < worlds; ++w) {
      data.insert(data.end(), t.data().begin(), t.data().end());
    }
    Shape shape{worlds};
    shape.insert(shape.end(), per_world.begin(), per_world.end());
    return Tensor::from_data(std::move(data), shape);
  };
  const std::size_t n = body.num_vertices();
  const std::size_t m = body.num_elements();
  const std::size_t d = body.dim();
  return {stack(state, {2, n, d}),
          stack(p.rest.inverse_edges.value(), {m, d, d}),
          stack(p.rest.volumes.value(), {m}),
          stack(p.lame.mu.value(), {p.lame.mu.numel()}),
          stack(p.lame.lambda.value(), {p.lame.lambda.numel()}),
          stack(p.mass.value(), {n}),
          Tensor::zeros({0})};
}

}  // namespace maya::fem
