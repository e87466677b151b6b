#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace maya::cli {
namespace {

std::string format_seconds(double seconds) {
  char buffer[32];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof(buffer), "%.0fs", seconds);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  }
  return buffer;
}

}  // namespace

ProgressReporter::ProgressReporter(std::string label, std::size_t max_iterations, bool quiet)
    : label_(std::move(label)),
      max_iterations_(std::max<std::size_t>(1, max_iterations)),
      quiet_(quiet),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressReporter::~ProgressReporter() {
  if (open_line_) {
    std::fputc('\n', stderr);
  }
}

std::string ProgressReporter::describe(const optim::Progress& progress, bool with_eta) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char text[160];
  std::snprintf(text, sizeof(text), "%zu/%zu  loss %.4e  |grad| %.3e", progress.iteration,
                max_iterations_, progress.loss, progress.gradient_norm);
  std::string line = text;
  if (with_eta && progress.iteration > 0 && progress.iteration < max_iterations_) {
    // An upper bound: the optimizer may stop early on its tolerances.
    const double left = elapsed / static_cast<double>(progress.iteration) *
                        static_cast<double>(max_iterations_ - progress.iteration);
    line += "  ETA " + format_seconds(left);
  }
  return line;
}

void ProgressReporter::update(const optim::Progress& progress) {
  last_ = progress;
  have_last_ = true;
  if (quiet_) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    // Redraw at most 20 times a second.
    if (open_line_ && now - last_draw_ < std::chrono::milliseconds(50)) {
      return;
    }
    last_draw_ = now;
    constexpr int kWidth = 24;
    const double fraction = std::min(
        1.0, static_cast<double>(progress.iteration) / static_cast<double>(max_iterations_));
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %s", label_.c_str(), bar.c_str(),
                 describe(progress).c_str());
    std::fflush(stderr);
    open_line_ = true;
    return;
  }
  if (progress.iteration >= next_log_) {
    std::fprintf(stderr, "%s: iteration %s\n", label_.c_str(), describe(progress).c_str());
    next_log_ = progress.iteration + std::max<std::size_t>(1, max_iterations_ / 10);
  }
}

void ProgressReporter::finish() {
  if (quiet_) {
    return;
  }
  if (terminal_ && open_line_) {
    if (have_last_) {
      std::fprintf(stderr, "\r\033[K%s: done, %s\n", label_.c_str(),
                   describe(last_, false).c_str());
    } else {
      std::fputc('\n', stderr);
    }
    open_line_ = false;
  } else if (!terminal_ && have_last_) {
    std::fprintf(stderr, "%s: done at iteration %s\n", label_.c_str(),
                 describe(last_, false).c_str());
  }
}

}  // namespace maya::cli
