// spring_rollout_gradient: checks the worlds against the model and each other, then rolls them
// out on the CPU (the fused step's kernels, one world per task) or hands them to the CUDA code.
#include "maya/dynamics/batched_rollout.hpp"
#include "maya/core/check.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/parallel.hpp"
#include "dynamics/mass_spring_kernels.hpp"
#include "dynamics/mass_spring_step.hpp"
#include "dynamics/world_losses.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#if defined(MAYA_HAVE_CUDA)
#include "dynamics/cuda/spring_rollout_cuda.hpp"
#endif

namespace maya::dynamics {
namespace {

constexpr const char* kOp = "spring_rollout_gradient";

// Throws maya::ValueError for mass `value`, element j of the masses [E, N].
void bad_mass(std::size_t n, std::size_t j, double value) {
  (void)check_positive(value, std::string(kOp) + ": the mass of particle " + std::to_string(j % n) +
                                  " of world " + std::to_string(j / n));
}

// E of the worlds; throws unless every tensor is [E, ...] with the model's sizes.
std::size_t check_worlds(const MassSpringModel& model, const SpringWorlds& worlds,
                         const SpringRolloutOptions& options) {
  const std::size_t n = model.num_particles();
  const std::size_t s = model.num_springs();
  const std::size_t d = model.dim();
  const Shape& state = worlds.state.shape();
  if (state.size() != 4 || state[1] != 2 || state[2] != n || state[3] != d) {
    throw ShapeError(std::string(kOp) + ": state of shape " + shape_string(state) +
                     ", expected [E, 2, " + std::to_string(n) + ", " + std::to_string(d) +
                     "] for E worlds of this model");
  }
  const std::size_t e = state[0];
  if (e == 0) throw ShapeError(std::string(kOp) + ": no worlds (state of shape [0, ...])");
  const auto check = [&](const Tensor& t, std::size_t per_world, const char* name) {
    const Shape& shape = t.shape();
    if (shape.size() != 2 || shape[1] != per_world) {
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(shape) +
                       ", expected [E, " + std::to_string(per_world) + "]");
    }
    if (shape[0] != e) {
      throw ShapeError(std::string(kOp) + ": " + name + " of shape " + shape_string(shape) +
                       " holds " + std::to_string(shape[0]) + " worlds but state of shape " +
                       shape_string(state) + " holds " + std::to_string(e));
    }
  };
  check(worlds.mass, n, "mass");
  check(worlds.stiffness, s, "stiffness");
  check(worlds.damping, s, "damping");
  check(worlds.rest_length, s, "rest_length");
  const Device device = worlds.state.device();
  const std::pair<const Tensor*, const char*> others[] = {{&worlds.mass, "mass"},
                                                          {&worlds.stiffness, "stiffness"},
                                                          {&worlds.damping, "damping"},
                                                          {&worlds.rest_length, "rest_length"}};
  for (const auto& [t, name] : others) {
    if (t->device() != device) {
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
  if (d > 3)
    throw ValueError(std::string(kOp) + ": supports 1 to 3 dimensions, got " + std::to_string(d));
  (void)check_positive(options.dt, std::string(kOp) + ": dt");
  // Masses on the device are checked there, alongside the rollout (rollout() throws after it).
  if (device == Device::kCpu) {
    const auto masses = worlds.mass.data();
    for (std::size_t j = 0; j < masses.size(); ++j) {
      if (!(masses[j] > 0.0 && masses[j] <= std::numeric_limits<double>::max())) {
        bad_mass(n, j, masses[j]);
      }
    }
  }
  return e;
}

// The model flattened for the CPU kernels, with each particle's springs in spring order.
struct CpuSystem {
  std::vector<std::uint32_t> offsets;
  std::vector<std::uint32_t> incidence;
  maya::dynamics::detail::SpringSystem system;

  explicit CpuSystem(const MassSpringModel& model) {
    const std::size_t n = model.num_particles();
    const std::size_t s = model.num_springs();
    const auto& first = model.end_a();
    const auto& second = model.end_b();
    offsets.assign(n + 1, 0);
    for (std::size_t e = 0; e < s; ++e) {
      ++offsets[static_cast<std::size_t>(first[e]) + 1];
      ++offsets[static_cast<std::size_t>(second[e]) + 1];
    }
    for (std::size_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
    incidence.resize(2 * s);
    std::vector<std::uint32_t> next(offsets.begin(), offsets.end() - 1);
    for (std::size_t e = 0; e < s; ++e) {
      incidence[next[static_cast<std::size_t>(first[e])]++] = static_cast<std::uint32_t>(2 * e + 1);
      incidence[next[static_cast<std::size_t>(second[e])]++] = static_cast<std::uint32_t>(2 * e);
    }
    system = {n,
              s,
              first.data(),
              second.data(),
              model.gravity().data(),
              model.ground(),
              offsets.data(),
              incidence.data()};
  }
};

// World w on the calling thread: T fused steps keeping every state, the loss, T adjoint steps
// (forward_only: the steps and the final state only).
void cpu_world(const MassSpringModel& model, const maya::dynamics::detail::SpringSystem& system,
               const SpringWorlds& worlds, const FinalStateLoss& loss,
               const SpringRolloutOptions& options, std::size_t w, SpringRolloutGradients& out,
               Workspace& work, bool forward_only = false) {
  const std::size_t n = model.num_particles();
  const std::size_t s = model.num_springs();
  const std::size_t d = model.dim();
  const std::size_t size = 2 * n * d;
  const std::size_t steps = options.steps;
  auto history_memory = work.borrow_unset<double>((steps + 1) * size);
  auto adjoints_memory = work.borrow<double>(2 * size);
  std::vector<double>& history = *history_memory;
  std::vector<double>& adjoints = *adjoints_memory;
  const auto initial = worlds.state.data().subspan(w * size, size);
  std::copy(initial.begin(), initial.end(), history.begin());
  const double* mass = worlds.mass.data().data() + w * n;
  const double* stiffness = worlds.stiffness.data().data() + w * s;
  const double* damping = worlds.damping.data().data() + w * s;
  const double* rest = worlds.rest_length.data().data() + w * s;
  const auto inputs_at = [&](std::size_t t) {
    return maya::dynamics::detail::SpringInputs{history.data() + t * size, mass, stiffness, damping,
                                                rest};
  };
  for (std::size_t t = 0; t < steps; ++t) {
    maya::dynamics::detail::mass_spring_forward(d, system, inputs_at(t), options.dt,
                                                history.data() + (t + 1) * size, work);
  }
  const std::span<const double> final_state(history.data() + steps * size, size);
  std::copy(final_state.begin(), final_state.end(),
            out.final_state.mutable_data().begin() + static_cast<std::ptrdiff_t>(w * size));
  if (forward_only) return;
  double* adjoint = adjoints.data();
  double* previous = adjoints.data() + size;
  out.loss.mutable_data()[w] = loss(w, final_state, std::span<double>(adjoint, size));
  // Parameter gradients accumulate over the steps into the (zeroed) outputs; each step's state
  // adjoint is a fresh buffer.
  const auto slot = [](Tensor& t, std::size_t offset) {
    return maya::dynamics::detail::GradientSlot{t.mutable_data().data() + offset, false};
  };
  maya::dynamics::detail::SpringGradients grads{{},
                                                out.mass.mutable_data().data() + w * n,
                                                slot(out.stiffness, w * s),
                                                slot(out.damping, w * s),
                                                slot(out.rest_length, w * s)};
  for (std::size_t t = steps; t-- > 0;) {
    grads.state = maya::dynamics::detail::GradientSlot{previous, true};
    maya::dynamics::detail::mass_spring_backward(d, system, inputs_at(t), options.dt, adjoint,
                                                 grads, work);
    std::swap(adjoint, previous);
  }
  std::copy(adjoint, adjoint + size,
            out.state.mutable_data().begin() + static_cast<std::ptrdiff_t>(w * size));
}

// The first world with a NaN or infinity in its final state or a gradient.
void check_finite(const SpringRolloutGradients& out, std::size_t worlds) {
  const std::pair<const Tensor*, const char*> outputs[] = {
      {&out.final_state, "final state"},
      {&out.loss, "loss"},
      {&out.state, "gradient of the initial state"},
      {&out.mass, "mass gradient"},
      {&out.stiffness, "stiffness gradient"},
      {&out.damping, "damping gradient"},
      {&out.rest_length, "rest-length gradient"}};
  for (std::size_t w = 0; w < worlds; ++w) {
    for (const auto& [tensor, name] : outputs) {
      const std::size_t per_world = tensor->numel() / worlds;
      const auto values = tensor->data().subspan(w * per_world, per_world);
      for (std::size_t j = 0; j < per_world; ++j) {
        if (!std::isfinite(values[j])) {
          throw NonFiniteError(std::string(kOp) + ": world " + std::to_string(w) + " of " +
                               std::to_string(worlds) + " blew up: its " + name + " holds " +
                               std::to_string(values[j]) + " at element " + std::to_string(j));
        }
      }
    }
  }
}

}  // namespace

int cuda_device_count() noexcept {
#if defined(MAYA_HAVE_CUDA)
  return detail::cuda_devices();
#else
  return 0;
#endif
}

namespace {

SpringRolloutGradients rollout(const MassSpringModel& model, const SpringWorlds& worlds,
                               const detail::AnyWorldsLoss& loss,
                               const SpringRolloutOptions& options) {
  const std::size_t e = check_worlds(model, worlds, options);
  const std::size_t n = model.num_particles();
  const std::size_t s = model.num_springs();
  const bool on_device = worlds.state.device() == Device::kCuda;
  // Results on the worlds' device; there, the GPU rollout allocates them (below) while its
  // forward pass runs.
  SpringRolloutGradients out = on_device
                                   ? SpringRolloutGradients{}
                                   : SpringRolloutGradients{Tensor::zeros({e}),
                                                            Tensor::zeros(worlds.state.shape()),
                                                            Tensor::zeros(worlds.state.shape()),
                                                            Tensor::zeros({e, n}),
                                                            Tensor::zeros({e, s}),
                                                            Tensor::zeros({e, s}),
                                                            Tensor::zeros({e, s})};
  if (options.device == Device::kCuda) {
#if defined(MAYA_HAVE_CUDA)
    if (detail::cuda_devices() == 0) {
      throw DeviceError(std::string(kOp) + ": Device::kCuda asked for, but no CUDA GPU is present");
    }
    const std::size_t size = 2 * n * model.dim();
    const auto& ground = model.ground();
    detail::HostTopology topology{model.topology_id(),
                                  n,
                                  s,
                                  model.dim(),
                                  model.end_a().data(),
                                  model.end_b().data(),
                                  {0.0, 0.0, 0.0},
                                  ground.enabled,
                                  ground.height,
                                  ground.stiffness,
                                  ground.damping,
                                  ground.up_axis,
                                  ground.friction,
                                  ground.slip_velocity};
    for (std::size_t k = 0; k < model.dim(); ++k) topology.gravity[k] = model.gravity()[k];
    const auto in_ptr = [on_device](const Tensor& t) {
      return on_device ? t.cuda_data() : t.data().data();
    };
    const auto out_ptr = [on_device](Tensor& t) {
      return on_device ? t.mutable_cuda_data() : t.mutable_data().data();
    };
    const detail::HostWorlds data{e,
                                  in_ptr(worlds.state),
                                  in_ptr(worlds.mass),
                                  in_ptr(worlds.stiffness),
                                  in_ptr(worlds.damping),
                                  in_ptr(worlds.rest_length),
                                  on_device};
    detail::HostGradients grads;
    grads.on_device = on_device;
    const auto point_at_results = [&](detail::HostGradients& g) {
      g.final_state = out_ptr(out.final_state);
      g.state = out_ptr(out.state);
      g.mass = out_ptr(out.mass);
      g.stiffness = out_ptr(out.stiffness);
      g.damping = out_ptr(out.damping);
      g.rest_length = out_ptr(out.rest_length);
    };
    if (on_device) {
      // Copies of the inputs of each shape (overwritten), queued on maya's stream; the loss
      // (a tape loss sets it, a host loss below) needs none.
      grads.allocate = [&](detail::HostGradients& g) {
        out.final_state = worlds.state;
        out.state = worlds.state;
        out.mass = worlds.mass;
        out.stiffness = worlds.stiffness;
        out.damping = worlds.damping;
        out.rest_length = worlds.rest_length;
        point_at_results(g);
      };
    } else {
      point_at_results(grads);
    }
    std::vector<double> losses(e, 0.0);
    Tensor adjoint;  // of the tape loss, alive until the call returns
    detail::AdjointOfFinal adjoint_of_final;
    if (loss.per_world != nullptr) {
      adjoint_of_final.host = [&](const double* final_state, double* adjoint_out) {
        detail::evaluate_world_losses(*loss.per_world, e, size, final_state, adjoint_out,
                                      losses.data());
      };
    } else if (on_device) {
      // Queued on maya's stream, after the forward pass (the rollout orders them on the device).
      adjoint_of_final.device = [&]() -> const double* {
        adjoint = detail::worlds_loss_adjoint(kOp, *loss.worlds, out.final_state, out.loss);
        return adjoint.cuda_data();
      };
    } else {
      adjoint_of_final.host = [&](const double* final_state, double* adjoint_out) {
        detail::evaluate_tape_loss_on_host(kOp, *loss.worlds, worlds.state.shape(), final_state,
                                           adjoint_out, losses.data());
      };
    }
    const detail::RolloutReport report = detail::cuda_spring_rollout_gradient(
        topology, data, options.dt, options.steps, adjoint_of_final, grads);
    if (on_device && report.bad_mass.index < e * n) {
      bad_mass(n, report.bad_mass.index, report.bad_mass.value);
    }
    const detail::KernelTimes& times = report.times;
    if (!adjoint_of_final.device) {
      out.loss = Tensor::from_data(std::move(losses), {e}, worlds.state.device());
    }
    out.kernel_seconds_forward = times.forward;
    out.kernel_seconds_reverse = times.reverse;
#else
    throw DeviceError(std::string(kOp) +
                      ": Device::kCuda asked for, but maya was built without "
                      "CUDA (configure with -DMAYA_CUDA=ON)");
#endif
  } else {
    const CpuSystem cpu(model);
    const auto each_world = [&](const FinalStateLoss& world_loss, bool forward_only) {
      maya::core::detail::parallel_for(e, 1, 1, [&](std::size_t begin, std::size_t end) {
        Workspace work;  // this task's: its worlds run one after another on one thread
        for (std::size_t w = begin; w < end; ++w) {
          cpu_world(model, cpu.system, worlds, world_loss, options, w, out, work, forward_only);
        }
      });
    };
    detail::run_with_loss(kOp, loss, out.final_state, each_world);
  }
  if (options.finite_check) {
    if (on_device) {
      const SpringRolloutGradients host{
          out.loss.to(Device::kCpu),       out.final_state.to(Device::kCpu),
          out.state.to(Device::kCpu),      out.mass.to(Device::kCpu),
          out.stiffness.to(Device::kCpu),  out.damping.to(Device::kCpu),
          out.rest_length.to(Device::kCpu)};
      check_finite(host, e);
    } else {
      check_finite(out, e);
    }
  }
  return out;
}

}  // namespace

SpringRolloutGradients spring_rollout_gradient(const MassSpringModel& model,
                                               const SpringWorlds& worlds,
                                               const FinalStateLoss& loss,
                                               const SpringRolloutOptions& options) {
  return rollout(model, worlds, {.per_world = &loss}, options);
}

SpringRolloutGradients spring_rollout_gradient(const MassSpringModel& model,
                                               const SpringWorlds& worlds, const WorldsLoss& loss,
                                               const SpringRolloutOptions& options) {
  return rollout(model, worlds, {.worlds = &loss}, options);
}

SpringWorlds replicate_world(const Tensor& state, const Tensor& mass, const Tensor& stiffness,
                             const Tensor& damping, const Tensor& rest_length, std::size_t worlds) {
  const auto stack = [worlds](const Tensor& t) {
    std::vector<double> values;
    values.reserve(t.numel() * worlds);
    for (std::size_t w = 0; w < worlds; ++w) {
      values.insert(values.end(), t.data().begin(), t.data().end());
    }
    Shape shape{worlds};
    shape.insert(shape.end(), t.shape().begin(), t.shape().end());
    return Tensor::from_data(std::move(values), shape);
  };
  return {stack(state), stack(mass), stack(stiffness), stack(damping), stack(rest_length)};
}

}  // namespace maya::dynamics
