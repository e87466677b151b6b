// Workload W1 of bench/SPEC.md (shared): a long chain of scalar operations, differentiated by the
// maya Tape, by ADOL-C when Debian's libadolc-dev is present and by Adept 2 when the build is given
// an Adept source tree (-DMAYA_ADEPT_DIR, bench/CMakeLists.txt), against the plain double code.
// One templated function is the workload for every method, so all compute the same numbers; main()
// checks that their losses and gradient checksums agree before timing anything, and prints the
// ratios the issue asks for (gradient/primal, peer/maya) after the benchmarks ran.
//
// Floating-point modes. W1's early adjoints decay through the subnormal range (below 2.2e-308),
// where Intel CPUs take a microcode assist of about a hundred cycles per operation. So every
// gradient is timed in two modes, the same for all methods: IEEE (the thread's default MXCSR;
// maya's sweep flush turned off) and FTZ|DAZ (flush-to-zero and denormals-are-zero set around the
// whole gradient, record and sweep, with maya::FlushSubnormals). maya's default, which flushes
// during its own sweep only, is timed as well.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <maya/maya.hpp>
#include <string>
#include <utility>
#include <vector>

#ifdef MAYA_HAVE_ADOLC
#include <adolc/adolc.h>
#endif
#ifdef MAYA_HAVE_ADEPT
#include <adept.h>
#endif

namespace {

constexpr int kInputs = 1000;        // n
constexpr int kRounds = 100;         // R
constexpr int kTorchRounds = 5;      // R of bench/scalar_chain_torch.py, for its checksum
constexpr double kAgreement = 1e-9;  // relative, SPEC.md

// W1: y = y + sin(x_i y + 0.1) exp(-0.01 x_i) / (1 + y^2), R sweeps over the n inputs. `Real` is
// double (the primal), maya::Var, ADOL-C's adouble or Adept's adept::adouble; math functions are
// found by argument-dependent lookup.
template <class Real>
Real scalar_chain(const std::vector<Real>& x, Real y, int rounds) {
  using std::exp, std::sin;
  for (int r = 0; r < rounds; ++r) {
    for (const Real& xi : x) y = y + sin(xi * y + 0.1) * exp(-0.01 * xi) / (1.0 + y * y);
  }
  return y;
}

std::vector<double> w1_inputs() {
  std::vector<double> x(kInputs);
  for (int i = 0; i < kInputs; ++i) x[i] = 0.5 + static_cast<double>(i) / kInputs;
  return x;
}

// Operations W1 evaluates: 10 per inner step (mul, add, sin, mul, exp, mul, mul, add, div, add),
// plus the n inputs and the starting y; ns per operation divides a time by this.
constexpr double recorded_nodes(int rounds) { return kInputs + 1.0 + 10.0 * kInputs * rounds; }
// Nodes the maya tape holds for W1: the inputs, the starting y and one per inner step (the
// statement y = ... is one node).
constexpr std::size_t tape_nodes(int rounds) {
  return static_cast<std::size_t>(kInputs) + 1 + static_cast<std::size_t>(kInputs) * rounds;
}

// How a gradient is timed: see the top of the file.
enum class Mode { kDefault, kIeee, kFlush };

struct Result {
  double loss = 0.0;
  std::vector<double> gradient;
  [[nodiscard]] double checksum() const {
    double sum = 0.0;
    for (const double g : gradient) sum += std::abs(g);
    return sum;
  }
};

// One W1 gradient on a reused tape, as an optimization loop would do it.
class MayaW1 {
 public:
  explicit MayaW1(int rounds, Mode mode = Mode::kDefault)
      : rounds_(rounds), mode_(mode), values_(w1_inputs()) {
    tape_.reserve(tape_nodes(rounds));
    tape_.set_flush_subnormals(mode != Mode::kIeee);
  }

  void gradient() {
    const maya::FlushSubnormals flush(mode_ == Mode::kFlush);
    record();
    sweep();
  }
  void record() {
    tape_.clear();
    inputs_.clear();
    for (const double v : values_) inputs_.push_back(tape_.var(v));
    loss_ = scalar_chain(inputs_, tape_.var(0.0), rounds_);
  }
  void sweep() { tape_.grad(loss_, gradients_); }
  // One gradient before a timed loop, so the tape and the adjoint buffer are allocated and their
  // pages touched outside it: the timed loops measure the warm steady state of SPEC.md.
  void warm_up() { gradient(); }
  void replay() {
    for (int i = 0; i < kInputs; ++i) tape_.set_value(inputs_[i], values_[i]);
    tape_.replay();
  }

  [[nodiscard]] std::size_t size() const { return tape_.size(); }
  [[nodiscard]] Result result() const {
    Result out{loss_.value(), {}};
    for (const maya::Var x : inputs_) out.gradient.push_back(gradients_[x]);
    return out;
  }

 private:
  int rounds_;
  Mode mode_;
  std::vector<double> values_;
  maya::Tape tape_;
  std::vector<maya::Var> inputs_;
  maya::Var loss_;
  maya::Gradients gradients_;
};

double primal(const std::vector<double>& x, int rounds) { return scalar_chain(x, 0.0, rounds); }

#ifdef MAYA_HAVE_ADOLC
constexpr short kAdolcTag = 1;
// Buffers large enough that ADOL-C keeps the ~1M-operation tape in memory instead of spilling it to
// files in the working directory (its defaults hold 524288 entries).
constexpr unsigned kAdolcBuffer = 1u << 23;

// Records W1 with ADOL-C; keep_taylors = 1 keeps the forward values for a direct reverse sweep.
double adolc_record(const std::vector<double>& values, int rounds, int keep_taylors) {
  trace_on(kAdolcTag, keep_taylors, kAdolcBuffer, kAdolcBuffer, kAdolcBuffer, kAdolcBuffer);
  std::vector<adouble> x(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) x[i] <<= values[i];
  adouble y = 0.0;
  y = scalar_chain(x, y, rounds);
  double loss = 0.0;
  y >>= loss;
  trace_off();
  return loss;
}

// The documented ADOL-C driver: record, then gradient() (a forward replay and a reverse sweep).
Result adolc_gradient(const std::vector<double>& values, int rounds, Mode mode) {
  const maya::FlushSubnormals flush(mode == Mode::kFlush);
  Result out{adolc_record(values, rounds, 0), std::vector<double>(values.size())};
  gradient(kAdolcTag, static_cast<int>(values.size()), values.data(), out.gradient.data());
  return out;
}

// The faster ADOL-C path: record keeping the Taylor values, then only the reverse sweep.
Result adolc_keep_reverse(const std::vector<double>& values, int rounds, Mode mode) {
  const maya::FlushSubnormals flush(mode == Mode::kFlush);
  Result out{adolc_record(values, rounds, 1), std::vector<double>(values.size())};
  reverse(kAdolcTag, 1, static_cast<int>(values.size()), 0, 1.0, out.gradient.data());
  return out;
}
#endif

#ifdef MAYA_HAVE_ADEPT
// One W1 gradient with Adept on a reused stack: new_recording() keeps its memory and the inputs'
// gradient indices. Adept allows one active stack per thread, so one AdeptW1 at a time.
class AdeptW1 {
 public:
  AdeptW1(int rounds, Mode mode) : rounds_(rounds), mode_(mode), values_(w1_inputs()) {
    inputs_.resize(values_.size());  // after stack_ exists: the inputs register with it
    result_.gradient.resize(values_.size());
  }

  void gradient() {
    const maya::FlushSubnormals flush(mode_ == Mode::kFlush);
    for (std::size_t i = 0; i < values_.size(); ++i) inputs_[i].set_value(values_[i]);
    stack_.new_recording();
    adept::adouble y = 0.0;
    y = scalar_chain(inputs_, y, rounds_);
    y.set_gradient(1.0);
    stack_.compute_adjoint();
    result_.loss = y.value();
    for (std::size_t i = 0; i < values_.size(); ++i) {
      result_.gradient[i] = inputs_[i].get_gradient();
    }
  }
  [[nodiscard]] const Result& result() const { return result_; }

 private:
  int rounds_;
  Mode mode_;
  std::vector<double> values_;
  adept::Stack stack_;
  std::vector<adept::adouble> inputs_;
  Result result_;
};
#endif

void set_counters(benchmark::State& state, const Result& result, int rounds) {
  // Time per recorded operation: the inverted rate of nodes per second.
  state.counters["per_op"] =
      benchmark::Counter(recorded_nodes(rounds), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
  state.counters["loss"] = result.loss;
  state.counters["sum_abs_g"] = result.checksum();
}

void bm_primal(benchmark::State& state) {
  const std::vector<double> x = w1_inputs();
  double loss = 0.0;
  for (auto _ : state) {
    loss = primal(x, kRounds);
    benchmark::DoNotOptimize(loss);
  }
  state.counters["per_op"] =
      benchmark::Counter(recorded_nodes(kRounds), benchmark::Counter::kIsIterationInvariantRate |
                                                      benchmark::Counter::kInvert);
  state.counters["loss"] = loss;
}

void bm_maya_gradient(benchmark::State& state, Mode mode) {
  MayaW1 w1(kRounds, mode);
  w1.warm_up();
  for (auto _ : state) w1.gradient();
  set_counters(state, w1.result(), kRounds);
}

void bm_maya_record(benchmark::State& state) {
  MayaW1 w1(kRounds);
  w1.warm_up();
  for (auto _ : state) w1.record();
  w1.sweep();
  set_counters(state, w1.result(), kRounds);
}

void bm_maya_sweep(benchmark::State& state) {
  MayaW1 w1(kRounds);
  w1.warm_up();
  for (auto _ : state) w1.sweep();
  set_counters(state, w1.result(), kRounds);
}

void bm_maya_replay_sweep(benchmark::State& state) {
  MayaW1 w1(kRounds);
  w1.warm_up();
  for (auto _ : state) {
    w1.replay();
    w1.sweep();
  }
  set_counters(state, w1.result(), kRounds);
}

#ifdef MAYA_HAVE_ADOLC
void bm_adolc_gradient(benchmark::State& state, Mode mode) {
  const std::vector<double> x = w1_inputs();
  Result result = adolc_gradient(x, kRounds, mode);  // warm-up
  for (auto _ : state) result = adolc_gradient(x, kRounds, mode);
  set_counters(state, result, kRounds);
}

void bm_adolc_keep_reverse(benchmark::State& state, Mode mode) {
  const std::vector<double> x = w1_inputs();
  Result result = adolc_keep_reverse(x, kRounds, mode);  // warm-up
  for (auto _ : state) result = adolc_keep_reverse(x, kRounds, mode);
  set_counters(state, result, kRounds);
}
#endif

#ifdef MAYA_HAVE_ADEPT
void bm_adept_gradient(benchmark::State& state, Mode mode) {
  AdeptW1 w1(kRounds, mode);
  w1.gradient();  // warm-up: the stack's memory is allocated and touched outside the loop
  for (auto _ : state) w1.gradient();
  set_counters(state, w1.result(), kRounds);
}
#endif

bool agree(double a, double b) {
  return std::abs(a - b) <= kAgreement * std::max(std::abs(a), std::abs(b));
}

// Every method must compute the same loss and gradient checksum before its time means anything.
bool check_agreement() {
  const double loss = primal(w1_inputs(), kRounds);
  std::map<std::string, Result> results;
  // The first gradient of the process, on a fresh tape whose memory is allocated and faulted in
  // here: what a program that wants one gradient pays. The timed benchmarks reuse a warm tape.
  const std::clock_t cold_start = std::clock();
  MayaW1 recorded(kRounds);
  recorded.record();
  recorded.sweep();
  const double cold_ms = 1e3 * static_cast<double>(std::clock() - cold_start) / CLOCKS_PER_SEC;
  results["maya gradient"] = recorded.result();
  recorded.replay();
  recorded.sweep();
  results["maya replay+sweep"] = recorded.result();
  for (const auto& [mode, label] : {std::pair{Mode::kIeee, "IEEE"}, {Mode::kFlush, "FTZ|DAZ"}}) {
    MayaW1 maya(kRounds, mode);
    maya.gradient();
    results[std::string("maya gradient ") + label] = maya.result();
#ifdef MAYA_HAVE_ADOLC
    results[std::string("ADOL-C gradient() ") + label] = adolc_gradient(w1_inputs(), kRounds, mode);
    results[std::string("ADOL-C keep+rev. ") + label] =
        adolc_keep_reverse(w1_inputs(), kRounds, mode);
#endif
#ifdef MAYA_HAVE_ADEPT
    AdeptW1 adept(kRounds, mode);
    adept.gradient();
    results[std::string("Adept ") + label] = adept.result();
#endif
  }
  const double checksum = results["maya gradient"].checksum();
  bool ok = recorded.size() == tape_nodes(kRounds);
  std::printf("W1: n = %d, R = %d, %zu recorded nodes; primal loss %.15g\n", kInputs, kRounds,
              recorded.size(), loss);
  std::printf("  first maya gradient of the process (fresh tape, cold memory): %.1f ms CPU\n",
              cold_ms);
  for (const auto& [name, result] : results) {
    const bool same = agree(result.loss, loss) && agree(result.checksum(), checksum);
    ok = ok && same;
    std::printf("  %-26s loss %.15g  sum|g| %.15g  %s\n", name.c_str(), result.loss,
                result.checksum(), same ? "agrees" : "DISAGREES (relative 1e-9)");
  }
  MayaW1 small(kTorchRounds);
  small.record();
  small.sweep();
  std::printf("  at R = %d (compare bench/scalar_chain_torch.py): loss %.15g  sum|g| %.15g\n\n",
              kTorchRounds, small.result().loss, small.result().checksum());
  return ok;
}

// Console output as usual, keeping each benchmark's median times for the summary. Ratios use CPU
// time: the run is single-threaded, so CPU time equals real time on a quiet machine and stays
// meaningful on a shared one, where real time also counts the time other processes held the core.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes: the output is kept in logs

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Iteration || median) {
        const double unit = benchmark::GetTimeUnitMultiplier(run.time_unit);
        times_[run.run_name.function_name] = {run.GetAdjustedRealTime() / unit,
                                              run.GetAdjustedCPUTime() / unit};
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print_summary() const {
    const double primal_s = cpu_time("W1/primal");
    const double maya_s = cpu_time("W1/maya_gradient");
    std::printf("\nW1 summary (medians, 1 thread; ratios and ns/op from CPU time)\n");
    std::printf("  %-26s %9s %9s %9s %12s %12s\n", "method", "real ms", "CPU ms", "ns/op",
                "time/primal", "time/maya");
    for (const auto& [name, time] : times_) {
      std::printf("  %-26s %9.2f %9.2f %9.2f %12.2f %12.2f\n", name.c_str(), time.real * 1e3,
                  time.cpu * 1e3, time.cpu * 1e9 / recorded_nodes(kRounds), time.cpu / primal_s,
                  time.cpu / maya_s);
    }
    if (primal_s > 0.0 && maya_s > 0.0) {
      std::printf("  gradient/primal (maya record+sweep): %.2f  (target <= 3)\n",
                  maya_s / primal_s);
    }
    // The same methods side by side in the two floating-point modes, each ratio within one mode.
    std::printf(
        "\nW1 gradients by floating-point mode (CPU ms, and gradient/primal)\n"
        "  IEEE: the default MXCSR, maya's sweep flush off; FTZ|DAZ: set for the whole gradient\n");
    std::printf("  %-26s %18s %18s\n", "method", "IEEE", "FTZ|DAZ");
    const std::pair<const char*, const char*> methods[] = {
        {"maya", "W1/maya_gradient"},
        {"Adept 2", "W1/adept_gradient"},
        {"ADOL-C gradient()", "W1/adolc_gradient"},
        {"ADOL-C keep + reverse", "W1/adolc_keep_reverse"}};
    for (const auto& [label, name] : methods) {
      const double ieee = cpu_time(std::string(name) + "_ieee");
      const double flush = cpu_time(std::string(name) + "_ftz");
      if (ieee <= 0.0 || flush <= 0.0) continue;
      std::printf("  %-26s %9.2f (%5.2f)  %9.2f (%5.2f)\n", label, ieee * 1e3, ieee / primal_s,
                  flush * 1e3, flush / primal_s);
    }
    for (const auto& [label, name] : methods) {
      if (std::string(label) == "maya") continue;
      const double ieee = cpu_time(std::string(name) + "_ieee");
      const double flush = cpu_time(std::string(name) + "_ftz");
      const double maya_ieee = cpu_time("W1/maya_gradient_ieee");
      const double maya_flush = cpu_time("W1/maya_gradient_ftz");
      if (ieee <= 0.0 || flush <= 0.0 || maya_ieee <= 0.0 || maya_flush <= 0.0) continue;
      std::printf("  %s / maya: %.2fx in IEEE, %.2fx in FTZ|DAZ\n", label, ieee / maya_ieee,
                  flush / maya_flush);
    }
  }

 private:
  struct Seconds {
    double real;
    double cpu;
  };
  [[nodiscard]] double cpu_time(const std::string& name) const {
    const auto it = times_.find(name);
    return it == times_.end() ? 0.0 : it->second.cpu;
  }
  std::map<std::string, Seconds> times_;
};

void register_benchmarks() {
  const auto add = [](const std::string& name, auto function) {
    benchmark::RegisterBenchmark(name.c_str(), function)
        ->Unit(benchmark::kMillisecond)
        ->Repetitions(5)
        ->ReportAggregatesOnly(true);
  };
  const auto add_modes = [&](const std::string& name, void (*function)(benchmark::State&, Mode)) {
    add(name + "_ieee", [function](benchmark::State& state) { function(state, Mode::kIeee); });
    add(name + "_ftz", [function](benchmark::State& state) { function(state, Mode::kFlush); });
  };
  add("W1/primal", bm_primal);
  add("W1/maya_gradient", [](benchmark::State& state) { bm_maya_gradient(state, Mode::kDefault); });
  add("W1/maya_record", bm_maya_record);
  add("W1/maya_sweep", bm_maya_sweep);
  add("W1/maya_replay_sweep", bm_maya_replay_sweep);
  add_modes("W1/maya_gradient", bm_maya_gradient);
#ifdef MAYA_HAVE_ADEPT
  add_modes("W1/adept_gradient", bm_adept_gradient);
#endif
#ifdef MAYA_HAVE_ADOLC
  add_modes("W1/adolc_gradient", bm_adolc_gradient);
  add_modes("W1/adolc_keep_reverse", bm_adolc_keep_reverse);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!check_agreement()) {
    std::fprintf(stderr, "W1: the methods disagree; timings would compare different work\n");
    return 1;
  }
  register_benchmarks();
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}
