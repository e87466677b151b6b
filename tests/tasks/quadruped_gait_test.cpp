// The quadruped's walking gait: the standing pose, the gait's targets, the gradient of the gait
// loss through the whole rollout with contact (hard and penalty) against central differences,
// and a short optimization that walks materially farther than the gait it starts from.
#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/multibody/loaders.hpp>
#include <maya/tasks/quadruped_gait.hpp>
#include <numbers>
#include <string>
#include <vector>

namespace {

namespace mb = maya::multibody;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::tasks::QuadrupedGaitOptions;

mb::Model quadruped_file() {
  mb::UrdfOptions urdf;
  urdf.floating_base = true;
  urdf.ground_plane = true;
  return mb::load_urdf(std::string(MAYA_SOURCE_DIR) + "/examples/robots/quadruped.urdf", urdf);
}

// A gait off the trot in place in every coefficient, so no entry's derivative is zero by symmetry.
Tensor perturbed_trot(const maya::tasks::Quadruped& robot, const QuadrupedGaitOptions& options,
                      std::uint64_t seed) {
  Tensor gait = maya::tasks::trot_in_place(robot, options);
  const Tensor shift = Tensor::uniform(gait.shape(), -0.1, 0.1, seed);
  for (std::size_t i = 0; i < gait.numel(); ++i) gait.mutable_data()[i] += shift.data()[i];
  return gait;
}

}  // namespace

// Each foot straight under its hip, touching the ground, the trunk level at the asked height.
// Started standing, with zero amplitudes the servos hold that pose: they yield under the weight
// (80 N m/rad against about 5 N m at a knee), so the trunk settles 13 mm lower and, the knees all
// bending one way, leans and shifts a little; every foot stays on the ground.
TEST(QuadrupedGait, StandsOnItsFeetUnderTheHips) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  QuadrupedGaitOptions options;
  options.steps = 100;
  const maya::tasks::Quadruped robot = maya::tasks::make_quadruped(quadruped_file(), options);
  EXPECT_EQ(robot.model.nu(), 12u);
  EXPECT_NEAR(robot.initial_state[2], options.stand_height, 1e-12);
  EXPECT_DOUBLE_EQ(robot.body_length, 0.5);
  // The thigh and the calf are 0.2 m each: the knee bends by 2 a with 0.4 cos a = 0.33 - 0.025.
  EXPECT_NEAR(robot.posture[1], std::acos(0.305 / 0.4), 1e-12);
  EXPECT_NEAR(robot.posture[2], -2.0 * std::acos(0.305 / 0.4), 1e-12);
  Tensor still = maya::tasks::trot_in_place(robot, options);
  for (std::size_t j = 0; j < 12; ++j) still.mutable_data()[3 * j + 1] = 0.0;
  const maya::tasks::GaitReplay replay = maya::tasks::replay_gait(robot, options, still);
  EXPECT_NEAR(replay.min_height, options.stand_height, 0.02);
  EXPECT_LT(std::abs(replay.distance), 0.03);
  EXPECT_LT(replay.max_tilt, 0.03);
  for (std::size_t leg = 0; leg < 4; ++leg) {
    EXPECT_EQ(replay.contact[4 * options.steps + leg], 1.0) << "leg " << leg;
    EXPECT_EQ(replay.touchdowns[leg], 0u);
  }
}

// From the crouch (0.21 m: the stand-up example's, hips at 1.09 rad, knees at -2.18), the targets
// lead to the standing posture over the ramp and the servos raise the trunk; every foot ends on the
// ground (two lose their load for a moment on the way up).
TEST(QuadrupedGait, StandsUpFromTheCrouch) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  QuadrupedGaitOptions options;
  options.steps = 300;
  options.start_height = 0.21;
  const maya::tasks::Quadruped robot = maya::tasks::make_quadruped(quadruped_file(), options);
  EXPECT_NEAR(robot.initial_state[2], 0.21, 1e-12);
  const double knee = -std::acos((0.185 * 0.185 - 0.08) / 0.08);
  EXPECT_NEAR(robot.start_posture[2], knee, 1e-12);
  EXPECT_NEAR(robot.start_posture[1], -knee / 2.0, 1e-12);
  Tensor still = maya::tasks::trot_in_place(robot, options);
  for (std::size_t j = 0; j < 12; ++j) still.mutable_data()[3 * j + 1] = 0.0;
  const maya::tasks::GaitReplay replay = maya::tasks::replay_gait(robot, options, still);
  const double end_height = replay.states[options.steps * robot.model.nx() + 2];
  EXPECT_NEAR(end_height, options.stand_height, 0.02);
  EXPECT_LT(replay.max_tilt, 0.05);
  EXPECT_FALSE(replay.trunk_touched);
  for (std::size_t leg = 0; leg < 4; ++leg) {
    EXPECT_EQ(replay.contact[4 * options.steps + leg], 1.0) << "leg " << leg;
  }
}

// u_t = mean + (1 - r) (s - p) + r (sine and cosine terms): the start posture at t = 0 (from
// the crouch), the Fourier series of the gait once the ramp is over.
TEST(QuadrupedGait, TargetsAreTheFourierSeriesOfTheGait) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  QuadrupedGaitOptions options;
  options.steps = 200;
  options.harmonics = 2;
  options.start_height = 0.21;
  const maya::tasks::Quadruped robot = maya::tasks::make_quadruped(quadruped_file(), options);
  std::vector<double> coefficients(12 * 5);
  for (std::size_t i = 0; i < coefficients.size(); ++i) coefficients[i] = 0.01 * double(i);
  const Tensor gait = Tensor::from_data(coefficients, {12, 5});
  const std::vector<double> targets = maya::tasks::gait_targets(robot, gait, options);
  const std::size_t t = 150, j = 7;  // past the ramp (0.25 s = 125 steps)
  const double w = 2.0 * std::numbers::pi * options.frequency * double(t) * options.dt;
  const double* c = coefficients.data() + 5 * j;
  EXPECT_NEAR(targets[12 * t + j],
              c[0] + c[1] * std::sin(w) + c[2] * std::cos(w) + c[3] * std::sin(2 * w) +
                  c[4] * std::cos(2 * w),
              1e-12);
  EXPECT_NEAR(targets[j], c[0] + robot.start_posture[j] - robot.posture[j], 1e-12);  // r(0) = 0
  EXPECT_THROW((void)maya::tasks::gait_targets(robot, Tensor::zeros({12, 3}), options),
               maya::ShapeError);
}

// The gait loss's gradient through the whole rollout with respect to every Fourier coefficient
// against central differences, under hard contact (the default) and penalty contact, on a short
// walk with the feet loaded; the hard-contact walk (0.3 s, 4 Hz) lifts and sets down every foot.
// Measured errors: hard 2.8e-9 (h = 1e-6; 2.4e-9 over 0.6 s and two steps a foot); penalty 1.3e-6 at
// h = 1e-5, but 1.5e-5 at 1e-6 and 1.8e-4 at 1e-7: the stiff penalty steps amplify the
// rollout's rounding, which the differences divide by h, so the penalty run takes the larger h.
TEST(QuadrupedGait, LossGradientMatchesCentralDifferences) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  for (const mb::ContactModel contact : {mb::ContactModel::kHard, mb::ContactModel::kPenalty}) {
    QuadrupedGaitOptions options;
    options.contact = contact;
    options.dt = contact == mb::ContactModel::kHard ? 2e-3 : 5e-4;
    options.steps = contact == mb::ContactModel::kHard ? 150 : 120;
    options.ramp = 0.02;
    options.frequency = 4.0;
    const maya::tasks::Quadruped robot = maya::tasks::make_quadruped(quadruped_file(), options);
    const Tensor gait = perturbed_trot(robot, options, 3);
    if (contact == mb::ContactModel::kHard) {
      // Through every foot's lift-off and touchdown: the contact set changes between steps.
      const maya::tasks::GaitReplay replay = maya::tasks::replay_gait(robot, options, gait);
      for (std::size_t leg = 0; leg < 4; ++leg) EXPECT_GE(replay.touchdowns[leg], 1u);
    }
    const Tensor inputs[] = {gait};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          return maya::tasks::gait_loss(robot, options, x[0]);
        },
        inputs, contact == mb::ContactModel::kHard ? 1e-6 : 1e-5);
    const double scale = [&] {
      double largest = 0.0;
      for (const double g : report.analytic[0].data()) largest = std::max(largest, std::abs(g));
      return largest;
    }();
    EXPECT_GT(scale, 1e-3);
    EXPECT_LT(report.worst_error[0], 1e-5)
        << (contact == mb::ContactModel::kHard ? "hard" : "penalty") << " contact, entry "
        << report.worst_entry[0];
  }
}

// A few L-BFGS iterations from the trot in place: the walk goes materially farther forward than
// the start's (measured -0.036 m to 0.147 m in 0.5 s), every accepted iterate lowers the loss, and
// the replay stays up with the trunk off the ground.
TEST(QuadrupedGait, ShortOptimizationWalksFartherForward) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  QuadrupedGaitOptions options;
  options.dt = 2e-3;
  options.steps = 250;
  const maya::tasks::Quadruped robot = maya::tasks::make_quadruped(quadruped_file(), options);
  const Tensor start = maya::tasks::trot_in_place(robot, options);
  const maya::tasks::GaitTraining training = maya::tasks::train_gait(robot, options, start, 6);
  const auto& losses = training.result.loss_history;
  ASSERT_GE(losses.size(), 2u);
  for (std::size_t k = 1; k < losses.size(); ++k) EXPECT_LE(losses[k], losses[k - 1]);
  const maya::tasks::GaitReplay before = maya::tasks::replay_gait(robot, options, start);
  const maya::tasks::GaitReplay after = maya::tasks::replay_gait(robot, options, training.gait);
  EXPECT_NEAR(after.distance, training.distances.back(), 1e-9);
  EXPECT_GT(after.distance, before.distance + 0.1);
  EXPECT_GT(after.distance, 0.1);
  EXPECT_GT(after.min_height, 0.25);
  EXPECT_FALSE(after.trunk_touched);
}

TEST(QuadrupedGait, BadInputThrowsNamingTheValue) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  QuadrupedGaitOptions options;
  options.stand_height = 0.6;  // beyond the 0.4 m legs
  EXPECT_THROW((void)maya::tasks::make_quadruped(quadruped_file(), options), maya::ValueError);
  options = {};
  options.dt = 0.0;
  EXPECT_THROW((void)maya::tasks::make_quadruped(quadruped_file(), options), maya::ValueError);
  mb::UrdfOptions welded;
  welded.ground_plane = true;
  const mb::Model fixed_base =
      mb::load_urdf(std::string(MAYA_SOURCE_DIR) + "/examples/robots/quadruped.urdf", welded);
  EXPECT_THROW((void)maya::tasks::make_quadruped(fixed_base, QuadrupedGaitOptions{}),
               maya::ValueError);
}
