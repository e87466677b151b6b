// maya gradcheck TASK.json: the task gradient against central differences, per parameter.
#include <cstdio>

#include "commands.hpp"
#include "maya/core/check.hpp"
#include "maya/io/robot_task_file.hpp"
#include "maya/io/task_file.hpp"

namespace maya::cli {

int gradcheck_command(const std::filesystem::path& task_file, std::optional<double> step,
                      std::optional<double> tolerance) {
  if (io::is_robot_task_file(task_file)) {
    return gradcheck_robot_command(task_file, step, tolerance);
  }
  const tasks::Task task(io::load_task(task_file));
  const double h =
      check_in_range(step.value_or(task.spec().gradcheck.step), io::GradcheckSpec::kMinStep,
                     io::GradcheckSpec::kMaxStep, "gradcheck: the step");
  const double accepted = check_positive(tolerance.value_or(task.spec().gradcheck.tolerance),
                                         "gradcheck: the tolerance");
  return report_gradcheck(task_file, tasks::gradcheck_task(task, h), h, accepted);
}

int report_gradcheck(const std::filesystem::path& task_file, const tasks::GradcheckSummary& summary,
                     double h, double accepted) {
  std::printf("gradcheck %s: loss %.6e, central differences with h = %g max(1, |value|)\n",
              task_file.string().c_str(), summary.loss, h);
  std::printf("  %-20s %6s %16s %16s %12s\n", "parameter", "entry", "analytic", "numeric",
              "rel. error");
  for (const tasks::GradcheckEntry& entry : summary.worst) {
    std::printf("  %-20s %6zu %16.9e %16.9e %12.3e%s\n", entry.parameter.c_str(), entry.entry,
                entry.analytic, entry.numeric, entry.relative_error,
                !(entry.relative_error <= accepted) ? "  FAIL" : "");
  }
  // Written so that NaN fails: every comparison that passes is a true `<=`.
  if (!(summary.max_error() <= accepted)) {
    std::fprintf(stderr, "maya: gradcheck: worst relative error %.3e exceeds %.1e\n",
                 summary.max_error(), accepted);
    return 1;
  }
  std::printf("ok: worst relative error %.3e <= %.1e\n", summary.max_error(), accepted);
  return 0;
}

}  // namespace maya::cli
