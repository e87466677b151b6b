// Fits to measured data: observations read with their own time stamps, resampled onto the steps,
// a subset of particles, seeded noise, and standard errors whose 95 % intervals cover the truth.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "maya/core/error.hpp"
#include "maya/io/observations.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/tasks/measurement.hpp"
#include "maya/tasks/spring_task.hpp"

namespace {

namespace fs = std::filesystem;

// Two particles on one spring, no gravity: an oscillation whose frequency sets the stiffness.
std::string oscillator_task(double noise, std::uint64_t seed, const std::string& extra = "") {
  return R"({
    "scene": {"dt": 0.01, "steps": 60, "gravity": [0, 0],
              "particles": [{"position": [0, 0]}, {"position": [1.3, 0.2], "velocity": [0, 0.5]}],
              "springs": [{"i": 0, "j": 1, "stiffness": 30, "damping": 0.2, "rest_length": 1}]},
    "parameters": [{"name": "k", "of": "springs.stiffness", "initial": 22, "log_scale": true}],
    "loss": {"type": "match_trajectory",)" +
         extra + R"(
             "observed": {"simulate_with": {"springs.stiffness": 30},
                          "noise": {"std": )" +
         std::to_string(noise) + R"(, "seed": )" + std::to_string(seed) + "}}}}";
}

std::vector<maya::Tensor> fit(const maya::tasks::Task& task) {
  maya::optim::ParameterSet parameters = task.parameters();
  maya::optim::Lbfgs optimizer(parameters);
  maya::optim::MinimizeOptions options;
  options.max_iterations = 100;
  options.tolerance = 1e-12;
  options.loss_tolerance = 1e-15;
  (void)optimizer.minimize(maya::optim::tape_objective(task.loss_function()), options);
  return {parameters.values().begin(), parameters.values().end()};
}

struct ScratchFile {
  fs::path path;
  ScratchFile(const std::string& name, const std::string& contents)
      : path(fs::temp_directory_path() /
             ("maya_measurement_" + std::to_string(::getpid()) + name)) {
    std::ofstream(path) << contents;
  }
  ~ScratchFile() { fs::remove(path); }
};

}  // namespace

TEST(Observations, CsvKeepsItsTimeStampsAndPoints) {
  const maya::io::Observations data = maya::io::parse_observations_csv(
      "step,time,particle,x,y,vx,vy\n0,0,2,1,2,0,0\n0,0,0,3,4,0,0\n1,0.5,2,5,6,0,0\n"
      "1,0.5,0,7,8,0,0\n",
      "data.csv");
  EXPECT_EQ(data.times, (std::vector<double>{0, 0.5}));
  EXPECT_EQ(data.points, (std::vector<std::size_t>{2, 0}));
  EXPECT_EQ(data.positions, (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Observations, MalformedCsvNamesTheFileAndLine) {
  const auto message = [](const std::string& text) {
    try {
      (void)maya::io::parse_observations_csv(text, "data.csv");
    } catch (const maya::ParseError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("time,particle,x\n").find("data.csv:1: the header has no column 'y'"),
            std::string::npos);
  EXPECT_NE(message("time,particle,x,y\n0,0,1,2\n0.1,0,abc,2\n")
                .find("data.csv:3: column 'x': expected a number, got 'abc'"),
            std::string::npos);
  EXPECT_NE(message("time,particle,x,y\n0.2,0,1,2\n0.1,0,1,2\n").find("data.csv:3: time 0.1"),
            std::string::npos);
  EXPECT_NE(message("time,particle,x,y\n0,0,1,2\n0,1,1,2\n0.1,0,1,2\n0.2,0,1,2\n")
                .find("data.csv:4: the rows of time 0.1"),
            std::string::npos);
}

TEST(Resample, InterpolatesBetweenTimeStampsInsideTheObservedSpan) {
  maya::io::Observations data;
  data.times = {0.015, 0.035};
  data.num_points = 1;
  data.positions = {1, 0, 3, 2};
  const maya::tasks::ObservedFrames frames =
      maya::tasks::resample(data, 0.01, 10, 1, {}, 1, "particle", "data");
  ASSERT_EQ(frames.frames, (std::vector<std::size_t>{2, 3}));  // t = 0.02, 0.03
  EXPECT_NEAR(frames.positions[0], 1.5, 1e-12);
  EXPECT_NEAR(frames.positions[1], 0.5, 1e-12);
  EXPECT_NEAR(frames.positions[2], 2.5, 1e-12);
  EXPECT_EQ(frames.row_of[3], 1);
  EXPECT_EQ(frames.row_of[4], -1);
  EXPECT_THROW((void)maya::tasks::resample(data, 0.01, 10, 1, {}, 0, "particle", "data"),
               maya::ParseError);  // particle 0 does not exist in a scene without particles
}

TEST(Noise, IsSeededAndHasTheRequestedSize) {
  maya::tasks::ObservedFrames a;
  a.positions.assign(20000, 0.0);
  maya::tasks::ObservedFrames b = a;
  maya::tasks::add_noise(a, 0.5, 7);
  maya::tasks::add_noise(b, 0.5, 7);
  EXPECT_EQ(a.positions, b.positions);
  double sum = 0.0, squares = 0.0;
  for (const double x : a.positions) {
    sum += x;
    squares += x * x;
  }
  const double n = static_cast<double>(a.positions.size());
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(squares / n), 0.5, 0.01);
}

TEST(SpringTaskResiduals, SquaresSumToTheLoss) {
  const maya::tasks::Task task(
      maya::io::parse_task_text(oscillator_task(0.01, 3, R"("particles": [1], "every": 3,)")));
  const std::vector<maya::Tensor> values = {maya::Tensor::from_data({25.0}, {1})};
  const std::vector<double> residuals = task.residuals(values);
  EXPECT_EQ(residuals.size(), 21u * 1u * 2u);  // frames 0, 3, ..., 60; particle 1; x and y
  double squares = 0.0;
  for (const double r : residuals) squares += r * r;
  EXPECT_NEAR(squares / (21.0 * 1.0), task.loss(values), 1e-12 * squares);
}

TEST(SpringTaskMeasured, CsvOfSomeParticlesAtTheirOwnTimesRecoversTheStiffness) {
  // Particle 1 measured every 0.03 s, as a CSV from another tool would be, compared at every
  // third step (the measured times; between them the resampling would interpolate).
  const maya::tasks::Task truth(maya::io::parse_task_text(oscillator_task(0.0, 0)));
  const maya::io::Trajectory& run = truth.observed()[0];
  std::string csv = "time,particle,x,y\n";
  for (std::size_t k = 0; k < run.num_frames(); k += 3) {
    csv += std::to_string(run.times[k]) + ",1," + std::to_string(run.position(k, 1, 0)) + "," +
           std::to_string(run.position(k, 1, 1)) + "\n";
  }
  const ScratchFile file("data.csv", csv);
  std::string text = oscillator_task(0.0, 0, R"("every": 3,)");
  const std::string observed = R"({"simulate_with": {"springs.stiffness": 30},)";
  text.replace(text.find(observed), observed.size(), "{\"file\": \"" + file.path.string() + "\",");
  const maya::tasks::Task task(maya::io::parse_task_text(text));
  ASSERT_EQ(task.observations()[0].points, (std::vector<std::size_t>{1}));
  EXPECT_EQ(task.observations()[0].num_frames(), 21u);  // every third step
  const std::vector<maya::Tensor> fitted = fit(task);
  // std::to_string keeps 6 decimals: the data are rounded to 1e-6 m.
  EXPECT_NEAR(fitted[0].data()[0], 30.0, 1e-3);
  EXPECT_LT(std::abs(fitted[0].data()[0] - 30.0), 1e-4);
  const maya::tasks::Uncertainty uncertainty = task.uncertainty(fitted);
  ASSERT_TRUE(uncertainty.available) << uncertainty.reason;
  EXPECT_LT(uncertainty.sigma, 1e-5);
}

TEST(SpringTaskMeasured, MissingObservationFileNamesIt) {
  std::string text = oscillator_task(0.0, 0);
  const std::string observed = R"({"simulate_with": {"springs.stiffness": 30},)";
  text.replace(text.find(observed), observed.size(), R"({"file": "no_such_file.csv",)");
  try {
    const maya::tasks::Task task(maya::io::parse_task_text(text));
    FAIL() << "no error";
  } catch (const maya::FileError& error) {
    EXPECT_NE(std::string(error.what()).find("no_such_file.csv"), std::string::npos);
  }
}

// The 95 % intervals of noisy fits hold the truth in about 95 % of seeds: over 200 seeds the
// count is binomial (mean 190, standard deviation 3.1); 180..199 is more than 3 of them.
TEST(SpringTaskMeasured, NinetyFivePercentIntervalsCoverTheTruthOverManySeeds) {
  constexpr int kSeeds = 200;
  int covered = 0;
  double mean_error = 0.0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const maya::tasks::Task task(
        maya::io::parse_task_text(oscillator_task(0.02, static_cast<std::uint64_t>(seed))));
    const std::vector<maya::Tensor> fitted = fit(task);
    const maya::tasks::Uncertainty uncertainty = task.uncertainty(fitted);
    ASSERT_TRUE(uncertainty.available) << uncertainty.reason;
    const double error = uncertainty.standard_error[0][0];
    mean_error += error / kSeeds;
    if (std::abs(fitted[0].data()[0] - 30.0) <= maya::tasks::Uncertainty::kZ95 * error) {
      ++covered;
    }
  }
  std::printf("95%% intervals held the truth in %d of %d seeds (mean standard error %.4g)\n",
              covered, kSeeds, mean_error);
  EXPECT_GE(covered, 180) << "mean standard error " << mean_error;
  EXPECT_LE(covered, 199) << "mean standard error " << mean_error;
  EXPECT_GT(mean_error, 0.0);
}
