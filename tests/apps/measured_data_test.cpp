// maya optimize on measured data: noisy observations and a measured CSV give each parameter a
// standard error in the printed table and fitted.json, and the demo's truth lies in its interval.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"

namespace {

using maya::test::CliResult;
using maya::test::example;
using maya::test::run_cli;
using maya::test::ScratchDir;
namespace fs = std::filesystem;

}  // namespace

TEST(MayaMeasured, FitsReportStandardErrorsWhoseIntervalsHoldTheTruth) {
  for (const char* task : {"spring_noisy_sysid.json", "spring_measured.json"}) {
    const ScratchDir dir;
    const fs::path out = dir.path() / "out";
    const CliResult result =
        run_cli({"optimize", example(task).string(), "-o", out.string()}, dir.path());
    ASSERT_EQ(result.status, 0) << task << result.err;
    EXPECT_NE(result.out.find("std. error"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("Gauss-Newton (Laplace)"), std::string::npos) << result.out;
    const nlohmann::json fitted = nlohmann::json::parse(maya::test::slurp(out / "fitted.json"));
    ASSERT_TRUE(fitted.contains("uncertainty")) << task;
    // The noise was 2 mm; the residuals estimate it.
    EXPECT_NEAR(fitted["uncertainty"]["sigma"].get<double>(), 0.002, 0.0002) << task;
    const double truth[] = {300.0, 0.5};
    for (std::size_t p = 0; p < 2; ++p) {
      const nlohmann::json& parameter = fitted["parameters"][p];
      const double low = parameter["interval95"][0][0].get<double>();
      const double high = parameter["interval95"][0][1].get<double>();
      EXPECT_GT(parameter["standard_error"][0].get<double>(), 0.0);
      EXPECT_LE(low, truth[p]) << task << " " << parameter.dump();
      EXPECT_GE(high, truth[p]) << task << " " << parameter.dump();
    }
  }
}

TEST(MayaMeasured, NoisyDemoPassesByItsIntervals) {
  const ScratchDir dir;
  const CliResult result = run_cli({"demo", "noisy", "-q"}, dir.path());
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("inside the 95% interval"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("OUTSIDE"), std::string::npos) << result.out;
}

TEST(MayaMeasured, GradcheckPassesOnTheMeasuredTasks) {
  for (const char* task : {"spring_noisy_sysid.json", "spring_measured.json"}) {
    const ScratchDir dir;
    const CliResult result = run_cli({"gradcheck", example(task).string()}, dir.path());
    EXPECT_EQ(result.status, 0) << task << result.out << result.err;
  }
}

TEST(MayaMeasured, MalformedMeasurementNamesTheFileAndLine) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "data.csv") << "time,particle,x,y\n0,0,1,2\n0.002,0,oops,2\n";
  std::ofstream(dir.path() / "task.json") << R"({
    "scene": {"dt": 0.002, "steps": 10, "particles": [{"position": [0, 1]}]},
    "parameters": [{"of": "particles.mass"}],
    "loss": {"type": "match_trajectory", "observed": {"file": "data.csv"}}})";
  const CliResult result =
      run_cli({"optimize", (dir.path() / "task.json").string(), "-o", "out"}, dir.path());
  EXPECT_EQ(result.status, 2) << result.err;
  EXPECT_NE(result.err.find("data.csv:3: column 'x': expected a number, got 'oops'"),
            std::string::npos)
      << result.err;
}
