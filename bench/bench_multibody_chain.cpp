// Workload W6 of the benchmark specification: a chain of N capsule links (0.1 m, radius 0.02 m,
// 0.1 kg, solid-capsule inertia) on hinges alternating about y and z, base fixed, joint damping
// 0.01 N m s, links along +x at rest (so both hinge axes act against gravity), q0 = 0.1 rad, at
// rest; semi-implicit Euler, dt = 1e-3, T = 1000, torques 0.01 N m; loss = |tip_T - (0.2, 0.2,
// -0.3)|^2; gradient w.r.t. q0 and every torque. maya: a plain rollout, the rollout recorded as
// fused tape nodes, and its gradient. MuJoCo (when built with it): the mj_step loop, and the
// gradient a MuJoCo user gets by chaining mjd_transitionFD's step Jacobians backwards. Counters:
// loss, |gradient|, and for MuJoCo the largest difference from maya's gradient relative to its
// largest entry.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <maya/multibody/differentiable.hpp>
#include <maya/multibody/dynamics.hpp>
#include <maya/tensor/ops.hpp>
#include <maya/tensor/tensor_tape.hpp>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#if MAYA_HAVE_MUJOCO
#include <mujoco/mujoco.h>
#endif

namespace {

namespace mb = maya::multibody;

constexpr std::size_t kSteps = 1000;
constexpr double kDt = 1e-3;
constexpr double kLength = 0.1, kRadius = 0.02, kMass = 0.1;
const double kTarget[3] = {0.2, 0.2, -0.3};

// Solid capsule (cylinder of length kLength, hemispherical caps) of total mass kMass: inertia
// along and across its axis about its centre.
std::pair<double, double> capsule_inertia() {
  const double r = kRadius, h = 0.5 * kLength;
  const double cylinder = std::numbers::pi * r * r * kLength,
               caps = 4.0 / 3.0 * std::numbers::pi * r * r * r;
  const double rho = kMass / (cylinder + caps);
  const double mc = rho * cylinder, ms = rho * caps;
  const double along = 0.5 * mc * r * r + 0.4 * ms * r * r;
  const double across =
      mc * (3.0 * r * r + kLength * kLength) / 12.0 + ms * (0.4 * r * r + h * h + 0.75 * h * r);
  return {along, across};
}

mb::Model chain(std::size_t n) {
  const auto [along, across] = capsule_inertia();
  std::vector<mb::Body> bodies(n);
  std::vector<mb::Actuator> actuators(n);
  for (std::size_t i = 0; i < n; ++i) {
    mb::Body& b = bodies[i];
    b.name = "link" + std::to_string(i);
    b.parent = static_cast<int>(i) - 1;
    b.joint = mb::JointType::kRevolute;
    b.joint_position = {i == 0 ? 0.0 : kLength, 0.0, 0.0};
    b.axis = i % 2 == 0 ? mb::Vec3{0.0, 1.0, 0.0} : mb::Vec3{0.0, 0.0, 1.0};
    b.damping = 0.01;
    b.mass = kMass;
    b.com = {0.5 * kLength, 0.0, 0.0};
    b.inertia = {along, across, across, 0.0, 0.0, 0.0};
    actuators[i].name = "motor" + std::to_string(i);
    actuators[i].body = static_cast<int>(i);
  }
  // Joint damping at the new velocity, as MuJoCo's Euler integrator takes it: the two gradients
  // then differ only by MuJoCo's finite differences.
  mb::ModelOptions options;
  options.implicit_damping = true;
  return mb::Model(std::move(bodies), std::move(actuators), options);
}

std::vector<double> initial_state(const mb::Model& model) {
  std::vector<double> x(model.nx(), 0.0);
  std::fill(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(model.nq()), 0.1);
  return x;
}

struct Gradient {
  double loss = 0.0;
  std::vector<double> q0, torques;  // [N], [T * N]
};

Gradient maya_gradient(const mb::Model& model, maya::TensorTape& tape) {
  tape.clear();
  const std::size_t n = model.nq();
  const std::vector<double> x0 = initial_state(model);
  const maya::TensorVar state0 = tape.var(maya::Tensor::from_data(x0, {x0.size()}));
  const maya::TensorVar torques = tape.var(maya::Tensor::full({kSteps, n}, 0.01));
  const maya::TensorVar params =
      tape.constant(maya::Tensor::from_data(model.parameters(), {model.num_parameters()}));
  maya::TensorVar x = state0;
  for (std::size_t t = 0; t < kSteps; ++t) {
    x = mb::step(model, x, maya::select(torques, 0, static_cast<long>(t)), params, kDt);
  }
  const maya::TensorVar tip = mb::body_point(model, x, params, n - 1, {kLength, 0.0, 0.0});
  const maya::TensorVar loss = maya::sum(maya::square(
      tip - tape.constant(maya::Tensor::from_data({kTarget[0], kTarget[1], kTarget[2]}, {3}))));
  const maya::TensorGradients g = tape.grad(loss);
  Gradient out;
  out.loss = loss.item();
  const auto gq = g[state0].data();
  out.q0.assign(gq.begin(), gq.begin() + static_cast<std::ptrdiff_t>(n));
  const auto gu = g[torques].data();
  out.torques.assign(gu.begin(), gu.end());
  return out;
}

double norm(const Gradient& g) {
  double s = 0.0;
  for (double v : g.q0) s += v * v;
  for (double v : g.torques) s += v * v;
  return std::sqrt(s);
}

void maya_forward(benchmark::State& bench) {
  const mb::Model model = chain(static_cast<std::size_t>(bench.range(0)));
  const std::vector<double> params = model.parameters();
  const std::vector<double> x0 = initial_state(model);
  const std::vector<double> torques(kSteps * model.nu(), 0.01);
  double z = 0.0;
  for (auto _ : bench) {
    const std::vector<double> states = mb::rollout(model, params, x0, torques, kSteps, kDt);
    z = states.back();
    benchmark::DoNotOptimize(z);
  }
}

void maya_tape_gradient(benchmark::State& bench) {
  const mb::Model model = chain(static_cast<std::size_t>(bench.range(0)));
  maya::TensorTape tape;
  Gradient g = maya_gradient(model, tape);
  for (auto _ : bench) g = maya_gradient(model, tape);
  bench.counters["loss"] = g.loss;
  bench.counters["grad_norm"] = norm(g);
}

BENCHMARK(maya_forward)->Arg(7)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(maya_tape_gradient)->Arg(7)->Arg(32)->Unit(benchmark::kMillisecond)->MinTime(2.0);

#if MAYA_HAVE_MUJOCO

std::string exact(double x) {
  std::ostringstream out;
  out << std::setprecision(17) << x;
  return out.str();
}

std::string mjcf(std::size_t n) {
  const auto [along, across] = capsule_inertia();
  std::string xml =
      "<mujoco><compiler angle=\"radian\"/><option timestep=\"0.001\" integrator=\"Euler\">"
      "<flag contact=\"disable\"/></option><worldbody>";
  for (std::size_t i = 0; i < n; ++i) {
    xml += "<body name=\"link" + std::to_string(i) + "\" pos=\"" + (i == 0 ? "0" : "0.1") +
           " 0 0\"><joint name=\"j" + std::to_string(i) + "\" type=\"hinge\" axis=\"" +
           (i % 2 == 0 ? "0 1 0" : "0 0 1") +
           "\" damping=\"0.01\"/><inertial pos=\"0.05 0 0\" mass=\"0.1\" diaginertia=\"" +
           exact(along) + " " + exact(across) + " " + exact(across) +
           "\"/><geom type=\"capsule\" fromto=\"0 0 0 0.1 0 0\" size=\"0.02\" contype=\"0\" "
           "conaffinity=\"0\"/>";
    if (i + 1 == n) xml += "<site name=\"tip\" pos=\"0.1 0 0\"/>";
  }
  for (std::size_t i = 0; i < n; ++i) xml += "</body>";
  xml += "</worldbody><actuator>";
  for (std::size_t i = 0; i < n; ++i) {
    xml += "<motor joint=\"j" + std::to_string(i) + "\" gear=\"1\"/>";
  }
  return xml + "</actuator></mujoco>";
}

struct Mujoco {
  explicit Mujoco(std::size_t n) {
    const auto path =
        std::filesystem::temp_directory_path() / ("maya_w6_chain_" + std::to_string(n) + ".xml");
    std::ofstream(path) << mjcf(n);
    char error[1000] = "";
    model = mj_loadXML(path.string().c_str(), nullptr, error, sizeof(error));
    if (model == nullptr) throw std::runtime_error(error);
    data = mj_makeData(model);
  }
  ~Mujoco() {
    mj_deleteData(data);
    mj_deleteModel(model);
  }
  Mujoco(const Mujoco&) = delete;
  Mujoco& operator=(const Mujoco&) = delete;
  void reset() const {
    mj_resetData(model, data);
    for (int i = 0; i < model->nq; ++i) data->qpos[i] = 0.1;
    for (int i = 0; i < model->nu; ++i) data->ctrl[i] = 0.01;
  }
  mjModel* model;
  mjData* data;
};

void mujoco_forward(benchmark::State& bench) {
  Mujoco mj(static_cast<std::size_t>(bench.range(0)));
  for (auto _ : bench) {
    mj.reset();
    for (std::size_t t = 0; t < kSteps; ++t) mj_step(mj.model, mj.data);
    benchmark::DoNotOptimize(mj.data->qpos[0]);
  }
}

// Step Jacobians by finite differences at every step (forward differences, eps 1e-6, as
// mjd_transitionFD's users call it), then lambda_t = A_t^T lambda_{t+1}, g_u_t = B_t^T
// lambda_{t+1}.
Gradient mujoco_fd_gradient(const Mujoco& mj, std::vector<double>& A, std::vector<double>& B) {
  const mjModel* m = mj.model;
  mjData* d = mj.data;
  const auto nv = static_cast<std::size_t>(m->nv), nu = static_cast<std::size_t>(m->nu);
  const std::size_t nx = 2 * nv;
  A.resize(kSteps * nx * nx);
  B.resize(kSteps * nx * nu);
  mj.reset();
  for (std::size_t t = 0; t < kSteps; ++t) {
    mjd_transitionFD(m, d, 1e-6, 0, A.data() + t * nx * nx, B.data() + t * nx * nu, nullptr,
                     nullptr);
    mj_step(m, d);
  }
  mj_forward(m, d);
  const int tip = mj_name2id(m, mjOBJ_SITE, "tip");
  std::vector<double> jac(3 * nv);
  mj_jacSite(m, d, jac.data(), nullptr, tip);
  Gradient out;
  std::vector<double> lambda(nx, 0.0), next(nx);
  double residual[3];
  for (int k = 0; k < 3; ++k) {
    residual[k] = d->site_xpos[3 * tip + k] - kTarget[k];
    out.loss += residual[k] * residual[k];
  }
  for (std::size_t j = 0; j < nv; ++j) {
    for (int k = 0; k < 3; ++k) lambda[j] += 2.0 * residual[k] * jac[k * nv + j];
  }
  out.torques.assign(kSteps * nu, 0.0);
  for (std::size_t t = kSteps; t-- > 0;) {
    const double* At = A.data() + t * nx * nx;
    const double* Bt = B.data() + t * nx * nu;
    for (std::size_t j = 0; j < nu; ++j) {
      double s = 0.0;
      for (std::size_t i = 0; i < nx; ++i) s += Bt[i * nu + j] * lambda[i];
      out.torques[t * nu + j] = s;
    }
    for (std::size_t j = 0; j < nx; ++j) {
      double s = 0.0;
      for (std::size_t i = 0; i < nx; ++i) s += At[i * nx + j] * lambda[i];
      next[j] = s;
    }
    lambda.swap(next);
  }
  out.q0.assign(lambda.begin(), lambda.begin() + static_cast<std::ptrdiff_t>(nv));
  return out;
}

void mujoco_fd_gradient(benchmark::State& bench) {
  const auto n = static_cast<std::size_t>(bench.range(0));
  Mujoco mj(n);
  std::vector<double> A, B;
  Gradient g = mujoco_fd_gradient(mj, A, B);
  for (auto _ : bench) g = mujoco_fd_gradient(mj, A, B);
  // Against maya's exact gradient of the same model.
  maya::TensorTape tape;
  const Gradient reference = maya_gradient(chain(n), tape);
  double largest = 0.0, difference = 0.0;
  for (std::size_t i = 0; i < g.torques.size(); ++i) {
    largest = std::max(largest, std::abs(reference.torques[i]));
    difference = std::max(difference, std::abs(reference.torques[i] - g.torques[i]));
  }
  for (std::size_t i = 0; i < g.q0.size(); ++i) {
    largest = std::max(largest, std::abs(reference.q0[i]));
    difference = std::max(difference, std::abs(reference.q0[i] - g.q0[i]));
  }
  bench.counters["loss"] = g.loss;
  bench.counters["grad_norm"] = norm(g);
  bench.counters["rel_diff_vs_maya"] = difference / largest;
}

BENCHMARK(mujoco_forward)->Arg(7)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(mujoco_fd_gradient)->Arg(7)->Arg(32)->Unit(benchmark::kMillisecond)->MinTime(2.0);

#endif

}  // namespace

BENCHMARK_MAIN();
