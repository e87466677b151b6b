// The scalar reverse-mode tape (a Wengert list). Nodes live in flat arrays: each stores its value,
// its two parent indices and the local partials computed while recording, so the reverse sweep is
// one tight loop of multiply-adds with no dispatch. A node without a second parent points at
// itself, which keeps the sweep branch-free: the sweep overwrites a node's own adjoint after
// propagating it, so that edge's partial is never used and holds the constant of ops like x * c.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "maya/ad/scalar_op.hpp"
#include "maya/ad/var.hpp"
#include "maya/core/page_memory.hpp"

namespace maya {

namespace ad::detail {

// Memory for a tape's node arrays from allocate_pages: arrays of 2 MiB and more are mapped on
// their own and offered transparent huge pages, so a growing tape takes a page fault per 2 MiB
// instead of per 4 KiB (it made the first scalar-chain gradient of a process about 2.5x faster,
// docs/benchmarks.md). A reused tape (clear()) touches no new memory and is not affected.

template <class T>
struct NodeArrayAllocator {
  using value_type = T;
  NodeArrayAllocator() = default;
  template <class U>
  NodeArrayAllocator(const NodeArrayAllocator<U>&) noexcept {}
  [[nodiscard]] T* allocate(std::size_t n) {
    return static_cast<T*>(core::detail::allocate_pages(n * sizeof(T)));
  }
  void deallocate(T* data, std::size_t n) noexcept {
    core::detail::free_pages(data, n * sizeof(T));
  }
  friend bool operator==(NodeArrayAllocator, NodeArrayAllocator) noexcept { return true; }
};

template <class T>
using NodeArray = std::vector<T, NodeArrayAllocator<T>>;

}  // namespace ad::detail

// Adjoints d y / d node for every node of a tape, indexed by Var or by Var::idx().
class Gradients {
 public:
  Gradients() = default;

  [[nodiscard]] double operator[](std::size_t index) const;
  [[nodiscard]] double operator[](Var var) const;
  [[nodiscard]] std::size_t size() const noexcept { return adjoints_.size(); }
  [[nodiscard]] const std::vector<double>& values() const noexcept { return adjoints_; }

 private:
  friend class Tape;
  std::vector<double> adjoints_;
  std::uint32_t slot_ = 0;
  std::uint64_t stamp_ = 0;
};

class Tape {
 public:
  Tape();
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  Tape(Tape&&) = delete;
  Tape& operator=(Tape&&) = delete;

  // A differentiable input.
  [[nodiscard]] Var var(double value);

  // Reverse sweep from `output`: d output / d node for every node. May be called many times.
  [[nodiscard]] Gradients grad(Var output) const;
  // The same into `out`, reusing its memory (optimization loops).
  void grad(Var output, Gradients& out) const;

  // Forgets every node (all Vars of this tape become invalid) but keeps the memory.
  void clear() noexcept;
  void reserve(std::size_t nodes);
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  // Opt-in: throw maya::NonFiniteError at the first operation whose value is NaN or Inf.
  void set_finite_check(bool enabled) noexcept { finite_check_ = enabled; }
  [[nodiscard]] bool finite_check() const noexcept { return finite_check_; }
  // The reverse sweep flushes subnormal adjoints (below 2.2e-308) to zero (FlushSubnormals,
  // maya/core/subnormals.hpp): on Intel CPUs arithmetic on them is ~100x slower, and decaying
  // adjoints of long chains pass through them. On by default; off gives IEEE subnormals.
  void set_flush_subnormals(bool enabled) noexcept { flush_subnormals_ = enabled; }
  [[nodiscard]] bool flush_subnormals() const noexcept { return flush_subnormals_; }

  // Record once, evaluate many times: give inputs new values, then replay() recomputes every
  // node and its partials in recording order. Valid for programs whose control flow does not
  // depend on the values (branches taken while recording are baked into the tape).
  void set_value(Var input, double value);
  void replay();
  [[nodiscard]] double value(Var var) const;

  // Recording primitives used by the operators in var_math.hpp.
  template <ScalarOp Op>
  Var record_unary(std::uint32_t arg);
  template <ScalarOp Op>
  Var record_binary(std::uint32_t lhs, std::uint32_t rhs);
  template <ScalarOp Op>
  Var record_constant(std::uint32_t arg, double constant);

 private:
  // Parent index meaning "no parent": the node itself. The partial of such an edge is 0 for unary
  // ops and the constant operand for ops recorded by record_constant (replay reads it there).
  static constexpr std::uint32_t kSelf = 0xffffffffu;

  struct Edge {
    std::uint32_t lhs;
    std::uint32_t rhs;
    double d_lhs;
    double d_rhs;
  };

  Var push(ScalarOp op, std::uint32_t lhs, std::uint32_t rhs, const LocalPartials& local);
  void grow();
  [[noreturn]] static void throw_non_finite(ScalarOp op, double a, double b, std::size_t node);
  void check_owned(Var var, const char* operation) const;

  std::uint32_t slot_;
  std::uint64_t stamp_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  ad::detail::NodeArray<double> values_;
  ad::detail::NodeArray<Edge> edges_;
  ad::detail::NodeArray<ScalarOp> ops_;
  bool finite_check_ = false;
  bool flush_subnormals_ = true;
};

inline Var Tape::push(ScalarOp op, std::uint32_t lhs, std::uint32_t rhs,
                      const LocalPartials& local) {
  if (size_ == capacity_) grow();
  const auto index = static_cast<std::uint32_t>(size_);
  values_[index] = local.value;
  edges_[index] =
      Edge{lhs == kSelf ? index : lhs, rhs == kSelf ? index : rhs, local.d_lhs, local.d_rhs};
  ops_[index] = op;
  ++size_;
  return Var(slot_, index, stamp_);
}

template <ScalarOp Op>
Var Tape::record_unary(std::uint32_t arg) {
  const double a = values_[arg];
  const LocalPartials local = evaluate(Op, a, 0.0);
  if (finite_check_ && !std::isfinite(local.value)) throw_non_finite(Op, a, 0.0, size_);
  return push(Op, arg, kSelf, local);
}

template <ScalarOp Op>
Var Tape::record_binary(std::uint32_t lhs, std::uint32_t rhs) {
  const double a = values_[lhs];
  const double b = values_[rhs];
  const LocalPartials local = evaluate(Op, a, b);
  if (finite_check_ && !std::isfinite(local.value)) throw_non_finite(Op, a, b, size_);
  return push(Op, lhs, rhs, local);
}

template <ScalarOp Op>
Var Tape::record_constant(std::uint32_t arg, double constant) {
  const double a = values_[arg];
  LocalPartials local = evaluate(Op, a, constant);
  if (finite_check_ && !std::isfinite(local.value)) throw_non_finite(Op, a, constant, size_);
  local.d_rhs = constant;  // the self edge's partial slot keeps the constant for replay()
  return push(Op, arg, kSelf, local);
}

}  // namespace maya
