// maya against MuJoCo on the same MJCF files: a double pendulum, a damped 7-link chain, a free
// spinning body and a gimbal with a ball joint. With semi-implicit Euler the two agree to rounding
// (both take joint damping implicitly); so does RK4 on hinge trees. On quaternion joints maya's
// RK4 moves on the manifold (fourth order) where MuJoCo's exponentiates the averaged angular
// velocity (second order): against a fine maya RK4 reference, maya converges at fourth order and
// MuJoCo at second.
// Measured (dt 4e-3, 2e-3, 1e-3): same-integrator gaps of 1e-16 to 2e-15 rad or m, 1.1e-10 on the
// gimbal (the 1e-9 kg link maya puts between the two joints of one body).
#include <gtest/gtest.h>

#if MAYA_HAS_MUJOCO && MAYA_HAS_TINYXML2

#include <mujoco/mujoco.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"

namespace maya::multibody {
namespace {

std::string data_path(const std::string& name) {
  return std::string(MAYA_SOURCE_DIR) + "/tests/multibody/data/" + name;
}

struct MujocoModel {
  explicit MujocoModel(const std::string& path) {
    char error[1000] = "";
    model = mj_loadXML(path.c_str(), nullptr, error, sizeof(error));
    if (model == nullptr) throw std::runtime_error("mj_loadXML: " + std::string(error));
    data = mj_makeData(model);
  }
  ~MujocoModel() {
    mj_deleteData(data);
    mj_deleteModel(model);
  }
  MujocoModel(const MujocoModel&) = delete;
  MujocoModel& operator=(const MujocoModel&) = delete;
  mjModel* model = nullptr;
  mjData* data = nullptr;
};

// MuJoCo's positions [(steps + 1), nq] from the maya state x0 (same coordinates: hinge angles;
// free joints as position, quaternion and velocity [v world, w body]).
std::vector<double> mujoco_positions(const std::string& file, const std::vector<double>& x0,
                                     const std::vector<double>& control, Integrator integrator,
                                     double dt, std::size_t steps) {
  MujocoModel mj(data_path(file));
  mjModel* m = mj.model;
  mjData* d = mj.data;
  m->opt.timestep = dt;
  m->opt.integrator = integrator == Integrator::kRungeKutta4 ? mjINT_RK4 : mjINT_EULER;
  const auto nq = static_cast<std::size_t>(m->nq), nv = static_cast<std::size_t>(m->nv);
  for (std::size_t i = 0; i < nq; ++i) d->qpos[i] = x0[i];
  for (std::size_t i = 0; i < nv; ++i) d->qvel[i] = x0[nq + i];
  for (std::size_t i = 0; i < control.size(); ++i) d->ctrl[i] = control[i];
  mj_forward(m, d);
  std::vector<double> out(d->qpos, d->qpos + nq);
  for (std::size_t t = 0; t < steps; ++t) {
    mj_step(m, d);
    out.insert(out.end(), d->qpos, d->qpos + nq);
  }
  return out;
}

std::vector<double> maya_positions(const Model& model, const std::vector<double>& x0,
                                   const std::vector<double>& control, Integrator integrator,
                                   double dt, std::size_t steps) {
  std::vector<double> controls;
  for (std::size_t t = 0; t < steps; ++t)
    controls.insert(controls.end(), control.begin(), control.end());
  const std::vector<double> states =
      rollout(model, model.parameters(), x0, controls, steps, dt, integrator);
  std::vector<double> out;
  for (std::size_t t = 0; t <= steps; ++t) {
    out.insert(out.end(), states.begin() + t * model.nx(),
               states.begin() + t * model.nx() + model.nq());
  }
  return out;
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

struct Case {
  std::string file;
  std::vector<double> x0;
  std::vector<double> control;
  // MuJoCo's RK4 order here: 4 on hinge trees (where maya's RK4 is the same method), 2 with
  // quaternion joints (where maya's is fourth order and differs).
  int mujoco_rk4_order = 4;
  // Same-integrator agreement: rounding, or the negligible-mass links maya puts between the
  // joints of one MJCF body (1e-9 kg).
  double agreement = 1e-12;
};

Case double_pendulum() { return {"double_pendulum.xml", {0.8, -0.5, 0.0, 1.0}, {}}; }
Case chain7() {
  std::vector<double> x(14, 0.0);
  for (std::size_t i = 0; i < 7; ++i) x[i] = 0.1;
  return {"chain7.xml", x, std::vector<double>(7, 0.01)};
}
Case spinning_body() {
  const Model model = load_mjcf(data_path("spinning_body.xml"));
  std::vector<double> x = model.initial_state();
  const double v[6] = {0.5, -0.2, 3.0, 2.0, 6.0, -1.0};  // v world, w body: tumbling
  for (int k = 0; k < 6; ++k) x[7 + k] = v[k];
  return {"spinning_body.xml", x, {}, 2};
}

Case gimbal() {
  std::vector<double> x{0.3, -0.4, 0.9, 0.2, -0.1, 0.3, 0.5, -1.0, 1.0, 2.0, -0.5};
  const double n = std::sqrt(0.81 + 0.04 + 0.01 + 0.09);
  for (int k = 2; k < 6; ++k) x[k] /= n;
  return {"gimbal.xml", x, {}, 2, 1e-9};
}

class AgainstMujoco : public ::testing::TestWithParam<int> {
 protected:
  Case get() const {
    switch (GetParam()) {
      case 0: return double_pendulum();
      case 1: return chain7();
      case 2: return spinning_body();
      default: return gimbal();
    }
  }
};

TEST_P(AgainstMujoco, SameIntegratorAgreesAndBothConvergeAtTheirOrders) {
  const Case c = get();
  const Model model = load_mjcf(data_path(c.file));
  ASSERT_EQ(model.nx(), c.x0.size());
  const double seconds = 1.0;
  const bool same_rk4 = c.mujoco_rk4_order == 4;
  // A fine RK4 reference from maya, near MuJoCo's at the same dt.
  const double fine = 1.25e-4;
  const auto fine_steps = static_cast<std::size_t>(seconds / fine);
  const auto reference =
      maya_positions(model, c.x0, c.control, Integrator::kRungeKutta4, fine, fine_steps);
  const auto mujoco_reference =
      mujoco_positions(c.file, c.x0, c.control, Integrator::kRungeKutta4, fine, fine_steps);
  EXPECT_LT(max_difference(reference, mujoco_reference), same_rk4 ? c.agreement : 1e-5) << c.file;
  const auto at_end = [&](const std::vector<double>& q) {
    return std::vector<double>(q.end() - static_cast<std::ptrdiff_t>(model.nq()), q.end());
  };
  const std::vector<double> reference_end = at_end(reference);
  double previous_euler = 0.0, previous_rk4 = 0.0, previous_mujoco_rk4 = 0.0;
  for (const double dt : {4e-3, 2e-3, 1e-3}) {
    const auto steps = static_cast<std::size_t>(std::lround(seconds / dt));
    const auto maya_rk4 =
        maya_positions(model, c.x0, c.control, Integrator::kRungeKutta4, dt, steps);
    const auto mj_rk4 =
        mujoco_positions(c.file, c.x0, c.control, Integrator::kRungeKutta4, dt, steps);
    const auto maya_euler =
        maya_positions(model, c.x0, c.control, Integrator::kSemiImplicitEuler, dt, steps);
    const auto mj_euler =
        mujoco_positions(c.file, c.x0, c.control, Integrator::kSemiImplicitEuler, dt, steps);
    // Same integrator, same dt: the same discretization (the MJCF reader turns on MuJoCo's
    // implicit damping for Euler), so the trajectories agree to rounding.
    if (same_rk4) {
      EXPECT_LT(max_difference(maya_rk4, mj_rk4), c.agreement) << c.file << " dt " << dt;
    }
    const double euler_gap = max_difference(maya_euler, mj_euler);
    EXPECT_LT(euler_gap, c.agreement) << c.file << " dt " << dt;
    // Convergence to the reference: RK4 error ~ dt^4, Euler ~ dt.
    const double rk4_error = max_difference(at_end(maya_rk4), reference_end);
    const double euler_error = max_difference(at_end(maya_euler), reference_end);
    const double mujoco_rk4_error = max_difference(at_end(mj_rk4), reference_end);
    EXPECT_LT(rk4_error, 2000.0 * std::pow(dt, 4) + 1e-10) << c.file << " dt " << dt;
    EXPECT_LT(euler_error, 50.0 * dt) << c.file << " dt " << dt;
    if (previous_euler > 0.0) {
      EXPECT_GT(previous_euler / euler_error, 1.6) << "Euler is first order: " << c.file;
      // Halving dt divides the error by 2^order.
      if (previous_rk4 > 1e-9) {
        EXPECT_GT(previous_rk4 / rk4_error, 12.0) << "RK4 order: " << c.file;
      }
      if (previous_mujoco_rk4 > 1e-9) {
        EXPECT_GT(previous_mujoco_rk4 / mujoco_rk4_error, 0.75 * std::pow(2.0, c.mujoco_rk4_order))
            << "MuJoCo's RK4 order: " << c.file;
      }
    }
    previous_euler = euler_error;
    previous_rk4 = rk4_error;
    previous_mujoco_rk4 = mujoco_rk4_error;
  }
}

INSTANTIATE_TEST_SUITE_P(DoublePendulumChainSpinningBodyAndGimbal, AgainstMujoco,
                         ::testing::Values(0, 1, 2, 3));

}  // namespace
}  // namespace maya::multibody

#endif
