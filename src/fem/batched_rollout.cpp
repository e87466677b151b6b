// soft_rollout_gradient: checks the worlds against the body and each other, then rolls each world
// out on a tape of its own through step_explicit (the fused step itself), one world per task, or
// hands them to the CUDA kernels (src/fem/cuda/), which run the same element kernels. Worlds in
// GPU memory stay there, and a WorldsLoss is differentiated on the tape on their device.
#include "maya/fem/batched_rollout.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/parallel.hpp"
#include "dynamics/world_losses.hpp"
#include "fem/soft_body_ops.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/cuda.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#if defined(MAYA_HAVE_CUDA)
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
  const Device device = worlds.state.device();
  const std::pair<const Tensor*, const char*> others[] = {{&worlds.inverse_edges, "inverse_edges"},
                                                          {&worlds.volumes, "volumes"},
                                                          {&worlds.mu, "mu"},
                                                          {&worlds.lambda, "lambda"},
                                                          {&worlds.mass, "mass"},
                                                          {&worlds.actuation, "actuation"}};
  for (const auto& [t, name] : others) {
    if (t->device() != device && t->numel() > 0) {
      throw DeviceError(std::string(kOp) + ": " + name + " is on " +
                        std::string(to_string(t->device())) + " but state is on " +
                        std::string(to_string(device)) +
                        "; all the worlds' tensors must be on one device");
    }
  }
  if (device == Device::kCuda && options.device != Device::kCuda) {
    throw DeviceError(std::string(kOp) +
                      ": the worlds are on cuda but options.device is cpu; move them with "
                      "Tensor::to(Device::kCpu) or set options.device = Device::kCuda");
  }
  if (!body.options().rigid.shapes.empty()) {
    throw ValueError(std::string(kOp) +
                     ": bodies with rigid contact shapes are not batched (their obstacles are "
                     "a per-step input); roll them out with step_explicit");
  }
  (void)check_positive(options.dt, std::string(kOp) + ": dt");
  const auto bad_mass = [&](std::size_t j, double value) {
    (void)check_positive(value, std::string(kOp) + ": the mass of vertex " + dims(j % n) +
                                    " of world " + dims(j / n));
  };
  if (device == Device::kCuda) {
#if defined(MAYA_HAVE_CUDA)
    cuda_synchronize();  // the worlds' values are complete before the kernels read them
    const detail::FirstBadMass first =
        detail::cuda_first_bad_mass(worlds.mass.cuda_data(), worlds.mass.numel());
    if (first.index < worlds.mass.numel()) bad_mass(first.index, first.value);
#endif
  } else {
    const auto masses = worlds.mass.data();
    for (std::size_t j = 0; j < masses.size(); ++j) {
      if (!(masses[j] > 0.0 && std::isfinite(masses[j]))) bad_mass(j, masses[j]);
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
// the reverse sweep (loss = sum(final * adjoint) has gradient `adjoint`); the final state alone
// when `forward_only`.
void cpu_world(const SoftBody& body, const SoftWorlds& worlds, const Sizes& sizes,
               const FinalStateLoss& loss, const SoftRolloutOptions& options, std::size_t w,
               SoftRolloutGradients& out, TensorTape& tape, bool forward_only) {
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
  if (forward_only) return;
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
                const dynamics::detail::AnyWorldsLoss& loss, const SoftRolloutOptions& options,
                SoftRolloutGradients& out) {
  if (dynamics::cuda_device_count() == 0) {
    throw DeviceError(std::string(kOp) + ": Device::kCuda asked for, but no CUDA GPU is present");
  }
  const detail::SoftBodyModel& model = body.model();
  const std::size_t e = sizes.worlds;
  const bool actuated = sizes.per_element_actuation > 0;
  const bool on_device = worlds.state.device() == Device::kCuda;
  const detail::HostSoftTopology topology{
      model.dim(),          model.num_vertices(),         model.num_elements(),
      model.options.energy, model.mesh.elements().data(), model.pinned_mask.data(),
      model.gravity.data(), model.fiber.data(),           model.options.ground};
  const auto in = [on_device](const Tensor& t) {
    return on_device ? t.cuda_data() : t.data().data();
  };
  const auto to = [on_device](Tensor& t) {
    return on_device ? t.mutable_cuda_data() : t.mutable_data().data();
  };
  const detail::HostSoftWorlds data{e,
                                    in(worlds.state),
                                    in(worlds.inverse_edges),
                                    in(worlds.volumes),
                                    in(worlds.mu),
                                    sizes.per_element_mu,
                                    in(worlds.lambda),
                                    sizes.per_element_lambda,
                                    in(worlds.mass),
                                    actuated ? in(worlds.actuation) : nullptr,
                                    sizes.per_element_actuation,
                                    on_device};
  const detail::HostSoftGradients grads{to(out.final_state),
                                        to(out.state),
                                        to(out.inverse_edges),
                                        to(out.volumes),
                                        to(out.mu),
                                        to(out.lambda),
                                        to(out.mass),
                                        actuated ? to(out.actuation) : nullptr,
                                        on_device};
  if (on_device) cuda_synchronize();  // the outputs' tensors are complete
  const std::size_t size = 2 * body.num_vertices() * body.dim();
  std::vector<double> losses(e, 0.0);
  Tensor adjoint;  // of the tape loss, alive until the call returns
  detail::SoftAdjointOfFinal adjoint_of_final;
  if (loss.per_world != nullptr) {
    adjoint_of_final.host = [&](const double* final_state, double* adjoint_out) {
      dynamics::detail::evaluate_world_losses(*loss.per_world, e, size, final_state, adjoint_out,
                                              losses.data());
    };
  } else if (on_device) {
    adjoint_of_final.device = [&]() -> const double* {
      adjoint = dynamics::detail::worlds_loss_adjoint(kOp, *loss.worlds, out.final_state, out.loss);
      cuda_synchronize();
      return adjoint.cuda_data();
    };
  } else {
    adjoint_of_final.host = [&](const double* final_state, double* adjoint_out) {
      dynamics::detail::evaluate_tape_loss_on_host(kOp, *loss.worlds, worlds.state.shape(),
                                                   final_state, adjoint_out, losses.data());
    };
  }
  const detail::SoftKernelTimes times = detail::cuda_soft_rollout_gradient(
      topology, data, options.dt, options.steps, adjoint_of_final, grads);
  if (!adjoint_of_final.device) {
    if (on_device) {
      out.loss = Tensor::from_data(std::move(losses), {e}, Device::kCuda);
    } else {
      std::copy(losses.begin(), losses.end(), out.loss.mutable_data().begin());
    }
  }
  out.kernel_seconds_forward = times.forward;
  out.kernel_seconds_reverse = times.reverse;
}
#endif

// `out`'s tensors as the call's results: those of the right shape on the worlds' device are
// kept (every entry is overwritten), the others replaced. On the GPU a replacement is a copy of
// the input of that shape (a device-to-device copy; Tensor::zeros would fill a host vector and
// copy it over).
void fit_outputs(const SoftWorlds& worlds, const Sizes& sizes, SoftRolloutGradients& out) {
  const Device device = worlds.state.device();
  const auto fits = [](const Tensor& t, const Shape& shape, Device on) {
    return t.device() == on && std::ranges::equal(t.shape(), shape);
  };
  const auto fit = [&](Tensor& t, const Tensor& like) {
    if (fits(t, like.shape(), device)) return;
    t = device == Device::kCuda ? like : Tensor::zeros(like.shape());
  };
  if (!fits(out.loss, {sizes.worlds}, device)) out.loss = Tensor::zeros({sizes.worlds}, device);
  fit(out.final_state, worlds.state);
  fit(out.state, worlds.state);
  fit(out.inverse_edges, worlds.inverse_edges);
  fit(out.volumes, worlds.volumes);
  fit(out.mu, worlds.mu);
  fit(out.lambda, worlds.lambda);
  fit(out.mass, worlds.mass);
  if (sizes.per_element_actuation > 0) {
    fit(out.actuation, worlds.actuation);
  } else if (!fits(out.actuation, worlds.actuation.shape(), Device::kCpu)) {
    out.actuation = Tensor::zeros(worlds.actuation.shape());
  }
}

void rollout(const SoftBody& body, const SoftWorlds& worlds,
             const dynamics::detail::AnyWorldsLoss& loss, const SoftRolloutOptions& options,
             SoftRolloutGradients& out) {
  const Sizes sizes = check_worlds(body, worlds, options);
  const std::size_t e = sizes.worlds;
  const bool on_device = worlds.state.device() == Device::kCuda;
  fit_outputs(worlds, sizes, out);
  out.kernel_seconds_forward = 0.0;
  out.kernel_seconds_reverse = 0.0;
  if (options.device == Device::kCuda) {
#if defined(MAYA_HAVE_CUDA)
    gpu_worlds(body, worlds, sizes, loss, options, out);
#else
    throw DeviceError(std::string(kOp) +
                      ": Device::kCuda asked for, but maya was built without CUDA (configure "
                      "with -DMAYA_CUDA=ON)");
#endif
  } else {
    const auto each_world = [&](const FinalStateLoss& world_loss, bool forward_only) {
      maya::core::detail::parallel_for(e, 1, 1, [&](std::size_t begin, std::size_t end) {
        TensorTape tape;  // this task's: its worlds run one after another on one thread
        for (std::size_t w = begin; w < end; ++w) {
          cpu_world(body, worlds, sizes, world_loss, options, w, out, tape, forward_only);
        }
      });
    };
    dynamics::detail::run_with_loss(kOp, loss, out.final_state, each_world);
  }
  if (options.finite_check) {
    if (on_device) {
      const SoftRolloutGradients host{
          out.loss.to(Device::kCpu),     out.final_state.to(Device::kCpu),
          out.state.to(Device::kCpu),    out.inverse_edges.to(Device::kCpu),
          out.volumes.to(Device::kCpu),  out.mu.to(Device::kCpu),
          out.lambda.to(Device::kCpu),   out.mass.to(Device::kCpu),
          out.actuation.to(Device::kCpu)};
      check_finite(host, e);
    } else {
      check_finite(out, e);
    }
  }
}

}  // namespace

SoftRolloutGradients soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds,
                                           const FinalStateLoss& loss,
                                           const SoftRolloutOptions& options) {
  SoftRolloutGradients out;
  rollout(body, worlds, {.per_world = &loss}, options, out);
  return out;
}

SoftRolloutGradients soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds,
                                           const WorldsLoss& loss,
                                           const SoftRolloutOptions& options) {
  SoftRolloutGradients out;
  rollout(body, worlds, {.worlds = &loss}, options, out);
  return out;
}

void soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds,
                           const FinalStateLoss& loss, const SoftRolloutOptions& options,
                           SoftRolloutGradients& out) {
  rollout(body, worlds, {.per_world = &loss}, options, out);
}

void soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds, const WorldsLoss& loss,
                           const SoftRolloutOptions& options, SoftRolloutGradients& out) {
  rollout(body, worlds, {.worlds = &loss}, options, out);
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
