#include "maya/io/task_file.hpp"

#include <gtest/gtest.h>

#include "maya/core/error.hpp"

namespace {

constexpr const char* kScene = R"("scene": {"dt": 0.01, "steps": 10,
  "particles": [{"position": [0, 1]}, {"position": [1, 1]}, {"position": [2, 1]}],
  "springs": [{"i": 0, "j": 1, "stiffness": 5}, {"i": 1, "j": 2, "stiffness": 7}]})";

maya::io::TaskSpec task_with(const std::string& rest) {
  return maya::io::parse_task_text("{" + std::string(kScene) + ", " + rest + "}", "t.json");
}

std::string parse_error_of(const std::string& rest) {
  try {
    (void)task_with(rest);
  } catch (const maya::ParseError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected maya::ParseError";
  return {};
}

}  // namespace

TEST(ParseTask, ParametersTakeInitialValuesFromTheSceneAndPhysicalBounds) {
  const maya::io::TaskSpec task = task_with(R"(
    "parameters": [{"of": "springs[1].stiffness"}, {"of": "particles.velocity", "shared": false}],
    "loss": {"type": "reach_target", "particle": 2, "target": [3, 1], "time": 0.05})");
  ASSERT_EQ(task.parameters.size(), 2u);
  EXPECT_EQ(task.parameters[0].name, "springs[1].stiffness");
  EXPECT_EQ(task.parameters[0].initial, std::vector<double>{7.0});
  EXPECT_EQ(task.parameters[0].lower, 0.0);
  EXPECT_EQ(task.parameters[1].numel(task.scene), 6u);
  EXPECT_EQ(task.loss[0].step, 5u);
  EXPECT_EQ(task.optimizer.method, maya::io::OptimizerSpec::Method::kLbfgs);
}

TEST(ParseTask, SimulateWithHoldsTheHiddenTruth) {
  const maya::io::TaskSpec task = task_with(R"(
    "parameters": [{"of": "springs.stiffness", "initial": 1}],
    "loss": [{"type": "match_trajectory", "observed": {"simulate_with": {"springs.stiffness": 9}}}])");
  ASSERT_EQ(task.loss[0].truth.size(), 1u);
  EXPECT_EQ(task.loss[0].truth[0].values, std::vector<double>{9.0});
  maya::io::SceneSpec scene = task.scene;
  maya::io::assign(scene, task.loss[0].truth[0].selector, task.loss[0].truth[0].values);
  EXPECT_EQ(maya::io::read(scene, task.parameters[0].selector), (std::vector<double>{9.0, 9.0}));
}

TEST(ParseTask, SelectorsAreCheckedAgainstTheScene) {
  const std::string loss = R"("loss": {"type": "reach_target", "particle": 0, "target": [0, 0]})";
  EXPECT_EQ(parse_error_of(R"("parameters": [{"of": "springs[5].damping"}], )" + loss),
            "t.json: task.parameters[0].of: 'springs[5].damping': springs[5] does not exist (the "
            "scene has 2 springs)");
  EXPECT_EQ(parse_error_of(R"("parameters": [{"of": "spring.damping"}], )" + loss),
            "t.json: task.parameters[0].of: 'spring.damping': unknown group 'spring'; did you "
            "mean 'springs'?");
  EXPECT_EQ(
      parse_error_of(R"("parameters": [{"of": "springs.stiffness", "initial": -1}], )" + loss),
      "t.json: task.parameters[0]: initial value -1 is outside the bounds [0, inf]");
}

TEST(ParseTask, UnknownLossTypeSuggestsTheNearest) {
  EXPECT_EQ(
      parse_error_of(R"("parameters": [{"of": "springs.stiffness"}],
                              "loss": {"type": "reach_targt"})"),
      "t.json: task.loss.type: unknown loss type 'reach_targt'; did you mean 'reach_target'?");
}
