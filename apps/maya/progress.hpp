// Progress of an optimization on stderr: a redrawn bar (iteration, loss, gradient norm, time
// left) when stderr is a terminal, a plain line every tenth of the run when it is not (CI logs),
// nothing with --quiet.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "maya/optim/objective.hpp"

namespace maya::cli {

class ProgressReporter {
 public:
  ProgressReporter(std::string label, std::size_t max_iterations, bool quiet);
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;
  ~ProgressReporter();

  void update(const optim::Progress& progress);
  // Ends the bar's line (terminal) or prints the last state (log).
  void finish();

 private:
  [[nodiscard]] std::string describe(const optim::Progress& progress, bool with_eta = true) const;

  std::string label_;
  std::size_t max_iterations_;
  bool quiet_;
  bool terminal_;
  bool open_line_ = false;
  std::size_t next_log_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  optim::Progress last_{};
  bool have_last_ = false;
};

}  // namespace maya::cli
