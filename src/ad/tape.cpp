#include "maya/ad/tape.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <sstream>
#include <string>

#include "maya/ad/var_math.hpp"
#include "maya/core/error.hpp"
#include "maya/core/subnormals.hpp"
#include "maya/core/tape_registry.hpp"

namespace maya {

Tape::Tape() : slot_(core::detail::TapeRegistry::acquire(this)) {
  stamp_ = core::detail::TapeRegistry::stamp(slot_);
}

Tape::~Tape() { core::detail::TapeRegistry::release(slot_); }

Var Tape::var(double value) {
  if (size_ == node_capacity_) [[unlikely]]
    grow(0, 0);
  const std::size_t index = size_;
  values_[index] = value;
  ops_[index] = ScalarOp::kLeaf;
  replays_[index] = nullptr;
  previous_mask_[index] = 0;
  operand_end_[index] = static_cast<std::uint32_t>(operands_);
  size_ = index + 1;
  return Var(slot_, static_cast<std::uint32_t>(index), stamp_);
}

namespace {

// Doubles `capacity` until `needed` fits (from `minimum`); throws past `limit`.
std::size_t grown(std::size_t capacity, std::size_t needed, std::size_t minimum, std::size_t limit,
                  const char* what) {
  if (needed > limit) {
    throw TapeError(std::string("Tape: more than ") + std::to_string(limit) + " " + what +
                    " recorded");
  }
  std::size_t out = std::max(capacity, minimum);
  while (out < needed) out *= 2;
  return std::min(out, limit);
}

}  // namespace

// Node and operand numbers are stored in 32 bits. Index 2^32 - 1 is never a node, so the sweep can
// compare an operand with `node - 1` at node 0 without matching.
constexpr std::size_t kMaxNodes = 0xffffffffu - 1;
constexpr std::size_t kMaxOperands = 0xffffffffu;

void Tape::grow_nodes(std::size_t needed) {
  node_capacity_ = grown(node_capacity_, needed, 1024, kMaxNodes, "nodes");
  values_.resize(node_capacity_);
  operand_end_.resize(node_capacity_);
  previous_mask_.resize(node_capacity_);
  ops_.resize(node_capacity_);
  replays_.resize(node_capacity_);
}

void Tape::grow_operands(std::size_t needed) {
  operand_capacity_ = grown(operand_capacity_, needed, 2048, kMaxOperands, "operands");
  operand_index_.resize(operand_capacity_);
  operand_partial_.resize(operand_capacity_);
}

void Tape::grow(std::size_t operands, std::size_t constants) {
  if (size_ == node_capacity_) grow_nodes(size_ + 1);
  if (operand_capacity_ - operands_ < operands) grow_operands(operands_ + operands);
  if (constant_capacity_ - constants_ < constants) {
    constant_capacity_ =
        grown(constant_capacity_, constants_ + constants, 1024, kMaxOperands, "constant operands");
    constant_values_.resize(constant_capacity_);
  }
}

void Tape::reserve(std::size_t nodes) {
  if (node_capacity_ < nodes) grow_nodes(nodes);
  if (operand_capacity_ < 2 * nodes) grow_operands(2 * nodes);
}

void Tape::clear() noexcept {
  size_ = 0;
  operands_ = 0;
  constants_ = 0;
  stamp_ = core::detail::TapeRegistry::restamp(slot_);
}

void Tape::check_owned(Var var, const char* operation) const {
  if (var.slot_ != slot_ || var.stamp_ != stamp_) {
    if (!core::detail::TapeRegistry::is_current(var.slot_, var.stamp_)) {
      VarAccess::throw_unusable(var, operation);
    }
    throw TapeError(std::string("Tape::") + operation + ": the Var belongs to another tape");
  }
}

Gradients Tape::grad(Var output) const {
  Gradients out;
  grad(output, out);
  return out;
}

void Tape::grad(Var output, Gradients& out) const {
  check_owned(output, "grad");
  out.adjoints_.assign(size_, 0.0);
  const FlushSubnormals flush(flush_subnormals_);
  out.slot_ = slot_;
  out.stamp_ = stamp_;
  double* adjoint = out.adjoints_.data();
  const std::uint32_t* end = operand_end_.data();
  const std::uint32_t* operand = operand_index_.data();
  const double* partial = operand_partial_.data();
  adjoint[output.index_] = 1.0;
  // d y / d operand += d node / d operand * d y / d node, over the nodes in reverse recording
  // order and each node's operands.
  //
  // Most nodes read the node recorded just before them (y = f(y, x) in a loop), and a chain of
  // adjoint updates through memory would wait on store-to-load forwarding at every link. So
  // record() merges the leaves of a statement that are node i - 1 into its last operand, and
  // what node i sends to i - 1 travels in a register (`carry`). Node i is the last consumer of
  // i - 1 swept, so adding the carry when i - 1 is reached gives what a plain sweep would.
  double carry = 0.0;
  for (std::size_t i = output.index_ + 1; i-- > 0;) {
    const double a = adjoint[i] + carry;
    const std::size_t first = i == 0 ? 0 : end[i - 1];
    std::size_t last = end[i];
    const bool feeds_previous =
        last > first && operand[last - 1] == static_cast<std::uint32_t>(i - 1);
    carry = feeds_previous ? partial[last - 1] * a : 0.0;  // never 0 * inf from a non-operand
    last -= feeds_previous ? 1 : 0;
    for (std::size_t k = first; k < last; ++k) adjoint[operand[k]] += partial[k] * a;
    adjoint[i] = a;
  }
}

void Tape::set_value(Var input, double value) {
  check_owned(input, "set_value");
  if (ops_[input.index_] != ScalarOp::kLeaf) {
    throw TapeError("Tape::set_value: node " + std::to_string(input.index_) + " is the result of " +
                    std::string(op_name(ops_[input.index_])) + ", not an input made by Tape::var");
  }
  values_[input.index_] = value;
}

void Tape::replay() {
  std::size_t constant = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    if (replays_[i] != nullptr) replays_[i](*this, i, constant);
  }
}

double Tape::value(Var var) const {
  check_owned(var, "value");
  return values_[var.index_];
}

void Tape::throw_non_finite(ScalarOp op, double a, double b, std::size_t node) {
  std::ostringstream message;
  message << "finite check: " << op_name(op) << " produced a non-finite value at node " << node
          << " (operands " << a << ", " << b << ")";
  throw NonFiniteError(message.str());
}

double Gradients::operator[](std::size_t index) const {
  if (index >= adjoints_.size()) {
    throw TapeError("Gradients: index " + std::to_string(index) + " out of range for a tape of " +
                    std::to_string(adjoints_.size()) + " nodes");
  }
  return adjoints_[index];
}

double Gradients::operator[](Var var) const {
  if (var.slot_ != slot_ || var.stamp_ != stamp_) {
    throw TapeError(
        "Gradients: the Var was not recorded on the tape (or tape generation) these "
        "gradients were computed from");
  }
  return (*this)[var.index_];
}

bool Var::valid() const noexcept { return core::detail::TapeRegistry::is_current(slot_, stamp_); }

void VarAccess::throw_unusable(Var v, const char* operation) {
  if (v.stamp_ == 0) {
    throw TapeError(std::string(operation) + ": the Var is unbound (default-constructed)");
  }
  throw TapeError(std::string(operation) +
                  ": the Var's tape was cleared or destroyed after it was recorded");
}

void VarAccess::throw_mixed(ad::detail::Origin a, ad::detail::Origin b, const char* operation) {
  for (const ad::detail::Origin origin : {a, b}) {
    if (!core::detail::TapeRegistry::is_current(origin.slot, origin.stamp)) {
      throw TapeError(std::string(operation) +
                      ": an operand's tape was cleared or destroyed after it was read");
    }
  }
  throw TapeError(std::string(operation) + ": the operands were recorded on two different tapes");
}

void VarAccess::throw_stale_expression(ad::detail::Origin origin) {
  throw TapeError(origin.stamp == 0
                      ? std::string("record: the expression has no tape")
                      : std::string("record: the expression's tape was cleared or destroyed "
                                    "after its operands were read"));
}

void VarAccess::throw_non_finite(ad::detail::Origin origin, ScalarOp op, double a, double b) {
  if (!core::detail::TapeRegistry::is_current(origin.slot, origin.stamp)) {
    throw_stale_expression(origin);
  }
  Tape::throw_non_finite(
      op, a, b, static_cast<const Tape*>(core::detail::TapeRegistry::tape(origin.slot))->size());
}

void ad::detail::throw_bad_clamp(double lo, double hi) {
  std::ostringstream message;
  message << "clamp: lower bound " << lo << " exceeds upper bound " << hi;
  throw ValueError(message.str());
}

std::string_view op_name(ScalarOp op) noexcept {
  switch (op) {
    case ScalarOp::kLeaf: return "var";
    case ScalarOp::kAdd: return "add";
    case ScalarOp::kSub: return "sub";
    case ScalarOp::kRSub: return "sub";
    case ScalarOp::kMul: return "mul";
    case ScalarOp::kDiv: return "div";
    case ScalarOp::kRDiv: return "div";
    case ScalarOp::kNeg: return "neg";
    case ScalarOp::kSin: return "sin";
    case ScalarOp::kCos: return "cos";
    case ScalarOp::kTan: return "tan";
    case ScalarOp::kAsin: return "asin";
    case ScalarOp::kAcos: return "acos";
    case ScalarOp::kAtan: return "atan";
    case ScalarOp::kAtan2: return "atan2";
    case ScalarOp::kRAtan2: return "atan2";
    case ScalarOp::kExp: return "exp";
    case ScalarOp::kLog: return "log";
    case ScalarOp::kLog1p: return "log1p";
    case ScalarOp::kSqrt: return "sqrt";
    case ScalarOp::kCbrt: return "cbrt";
    case ScalarOp::kAbs: return "abs";
    case ScalarOp::kTanh: return "tanh";
    case ScalarOp::kSigmoid: return "sigmoid";
    case ScalarOp::kRelu: return "relu";
    case ScalarOp::kSoftplus: return "softplus";
    case ScalarOp::kSquare: return "square";
    case ScalarOp::kPow: return "pow";
    case ScalarOp::kPowConst: return "pow";
    case ScalarOp::kRPow: return "pow";
    case ScalarOp::kHypot: return "hypot";
    case ScalarOp::kMin: return "min";
    case ScalarOp::kMax: return "max";
  }
  return "unknown";
}

}  // namespace maya
