// The scalar reverse-mode tape, recorded by statements: assigning an expression of Vars to a Var
// appends one node, its value and the (operand index, partial) pair of every Var leaf of the
// expression (maya/ad/expression.hpp). Nodes and operands live in flat arrays, so the reverse
// sweep is one tight loop of multiply-adds over the operands, with no dispatch per node.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "maya/ad/expression.hpp"
#include "maya/ad/scalar_op.hpp"
#include "maya/ad/var.hpp"
#include "maya/core/page_memory.hpp"

namespace maya {

namespace ad::detail {

// Memory for a tape's arrays from allocate_pages: arrays of 2 MiB and more are mapped on their
// own and offered transparent huge pages, so a growing tape takes a page fault per 2 MiB instead
// of per 4 KiB (it made the first scalar-chain gradient of a process about 2.5x faster,
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
  // An expression is not on the tape until it is a Var: converting it here would record a new
  // node after the sweep. Keep the Var it was assigned to and index by that.
  template <class Node>
  double operator[](const VarExpr<Node>&) const = delete;
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
  // Room for `nodes` nodes of up to two Var operands each, allocated up front.
  void reserve(std::size_t nodes);
  // Nodes recorded: inputs plus one per assignment of an expression to a Var.
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

 private:
  friend struct VarAccess;

  // Appends the expression `node` (the Node of a VarExpr whose origin is this tape, checked by
  // VarAccess::record) as one node: what converting a VarExpr to a Var does.
  template <class Node>
  Var record(const Node& node);

  // Recomputes node `node` (a statement of type Node) in replay(); `constant` is its first
  // constant operand, advanced past them.
  using ReplayFunction = void (*)(Tape& tape, std::size_t node, std::size_t& constant);
  template <class Node>
  static void replay_statement(Tape& tape, std::size_t node, std::size_t& constant);

  // Writes the operands of statement `node` from the expression's leaves: those that are node - 1
  // (the node recorded just before, as y in y = f(y, x)) become one operand, the last, with the sum
  // of their partials, so that the sweep passes that adjoint in a register. Returns the bit mask
  // of the leaves that were node - 1 (0 for expressions of more than 32 leaves, stored as they
  // are); `operands` and the mask give back the leaves' order for replay(). With kSpare, it may
  // write one slot past the operands it keeps (record(), which keeps a slot free for that);
  // without, it writes only those (replay(), where the next node's operands follow).
  template <bool kSpare, std::size_t N, std::size_t C>
  static std::uint32_t store_operands(const ad::detail::Flat<N, C>& expr, std::size_t node,
                                      std::uint32_t* index, double* partial, std::size_t& operands);

  // What Node::rebuild reads in replay(): new leaf values and the stored constants.
  struct ReplaySource {
    const double* values;
    const std::uint32_t* next_index;
    const double* next_constant;
    std::uint32_t previous_mask;
    std::uint32_t leaf_number;
    std::size_t node;
    bool finite_check;

    ad::detail::Leaf leaf() noexcept {
      // Statements of more than 32 leaves have mask 0; never shift by 32 or more.
      const bool previous = leaf_number < 32 && ((previous_mask >> leaf_number) & 1u) != 0;
      ++leaf_number;
      const std::uint32_t index = previous ? static_cast<std::uint32_t>(node - 1) : *next_index++;
      return {index, values[index]};
    }
    double constant() noexcept { return *next_constant++; }
    void check(ScalarOp op, double value, double a, double b) const {
      if (finite_check && !std::isfinite(value)) [[unlikely]]
        throw_non_finite(op, a, b, node);
    }
  };

  void grow(std::size_t operands, std::size_t constants);
  void grow_nodes(std::size_t needed);
  void grow_operands(std::size_t needed);
  [[noreturn]] static void throw_non_finite(ScalarOp op, double a, double b, std::size_t node);
  void check_owned(Var var, const char* operation) const;

  std::uint32_t slot_;
  std::uint64_t stamp_;
  std::size_t size_ = 0;
  std::size_t node_capacity_ = 0;
  std::size_t operands_ = 0;
  std::size_t operand_capacity_ = 0;
  std::size_t constants_ = 0;
  std::size_t constant_capacity_ = 0;
  // Per node: value, one past its last operand, which of its expression's leaves were the node
  // before it (store_operands), the op at the root of its expression (kLeaf for inputs) and how
  // replay() recomputes it (null for inputs).
  ad::detail::NodeArray<double> values_;
  ad::detail::NodeArray<std::uint32_t> operand_end_;
  ad::detail::NodeArray<std::uint32_t> previous_mask_;
  ad::detail::NodeArray<ScalarOp> ops_;
  ad::detail::NodeArray<ReplayFunction> replays_;
  // Per operand: the node it reads and d node / d operand. Per constant operand: its value.
  ad::detail::NodeArray<std::uint32_t> operand_index_;
  ad::detail::NodeArray<double> operand_partial_;
  ad::detail::NodeArray<double> constant_values_;
  bool finite_check_ = false;
  bool flush_subnormals_ = true;
};

template <bool kSpare, std::size_t N, std::size_t C>
std::uint32_t Tape::store_operands(const ad::detail::Flat<N, C>& expr, std::size_t node,
                                   std::uint32_t* index, double* partial, std::size_t& operands) {
  if constexpr (N > 32) {
    for (std::size_t k = 0; k < N; ++k) {
      index[k] = expr.index[k];
      partial[k] = expr.partial[k];
    }
    operands = N;
    return 0;
  } else {
    // Branch-free: every leaf is written at position `operands`, which advances past the others.
    const auto previous = static_cast<std::uint32_t>(node - 1);
    std::uint32_t mask = 0;
    double to_previous = 0.0;
    std::size_t n = 0;
    [&]<std::size_t... k>(std::index_sequence<k...>) {
      ((mask |= static_cast<std::uint32_t>(expr.index[k] == previous) << k,
        to_previous = expr.index[k] == previous ? to_previous + expr.partial[k] : to_previous,
        index[n] = expr.index[k], partial[n] = expr.partial[k],
        n += expr.index[k] == previous ? 0 : 1),
       ...);
    }
    (std::make_index_sequence<N>{});
    // Compaction wrote nothing past the kept operands: a leaf that is node - 1 lands at the
    // merged operand's place, which exists when there is one.
    if (kSpare || mask != 0) {
      index[n] = previous;
      partial[n] = to_previous;
    }
    operands = n + (mask != 0 ? 1 : 0);
    return mask;
  }
}

template <class Node>
Var Tape::record(const Node& node) {
  constexpr std::size_t kOperands = Node::kOperands;
  constexpr std::size_t kConstants = Node::kConstants;
  // One more operand slot than the leaves: store_operands writes one past what it keeps.
  if (size_ == node_capacity_ || operand_capacity_ - operands_ < kOperands + 1 ||
      constant_capacity_ - constants_ < kConstants) [[unlikely]] {
    grow(kOperands + 1, kConstants);
  }
  const std::size_t index = size_;
  values_[index] = node.value;
  ops_[index] = Node::kOp;
  replays_[index] = &replay_statement<Node>;
  std::size_t operands = 0;
  previous_mask_[index] = store_operands<true>(node, index, operand_index_.data() + operands_,
                                               operand_partial_.data() + operands_, operands);
  double* constant = constant_values_.data() + constants_;
  [&]<std::size_t... k>(std::index_sequence<k...>) { ((constant[k] = node.constants[k]), ...); }
  (std::make_index_sequence<kConstants>{});
  operands_ += operands;
  constants_ += kConstants;
  operand_end_[index] = static_cast<std::uint32_t>(operands_);
  size_ = index + 1;
  return Var(slot_, static_cast<std::uint32_t>(index), stamp_);
}

template <class Node>
void Tape::replay_statement(Tape& tape, std::size_t node, std::size_t& constant) {
  const std::size_t first = node == 0 ? 0 : tape.operand_end_[node - 1];
  ReplaySource source{tape.values_.data(),
                      tape.operand_index_.data() + first,
                      tape.constant_values_.data() + constant,
                      tape.previous_mask_[node],
                      0,
                      node,
                      tape.finite_check_};
  const Node rebuilt = Node::rebuild(source);
  tape.values_[node] = rebuilt.value;
  // The same operands in the same places, with the new partials.
  std::size_t operands = 0;
  (void)store_operands<false>(rebuilt, node, tape.operand_index_.data() + first,
                              tape.operand_partial_.data() + first, operands);
  constant += Node::kConstants;
}

}  // namespace maya
