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

Var Tape::var(double value) { return push(ScalarOp::kLeaf, kSelf, kSelf, {value, 0.0, 0.0}); }

void Tape::grow() {
  capacity_ = std::max<std::size_t>(1024, capacity_ * 2);
  if (capacity_ > kSelf) throw TapeError("Tape: more than 2^32 - 1 nodes recorded");
  values_.resize(capacity_);
  edges_.resize(capacity_);
  ops_.resize(capacity_);
}

void Tape::reserve(std::size_t nodes) {
  while (capacity_ < nodes) grow();
}

void Tape::clear() noexcept {
  size_ = 0;
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
  const Edge* edges = edges_.data();
  adjoint[output.index_] = 1.0;
  // d y / d parent += d node / d parent * d y / d node, in reverse recording order. A missing
  // parent is the node itself (its partial slot holds 0 or a constant operand); restoring the
  // node's adjoint afterwards discards what that self edge added, including NaN from 0 * inf.
  //
  // Most nodes feed the node recorded just before them (chains like sin(x * y + 0.1)), and a
  // chain of adjoint updates through memory waits on store-to-load forwarding at every link. So
  // what node i sends to node i - 1 travels in a register (`carry`). It is added last, as a plain
  // sweep would add it (node i is the last consumer of i - 1 swept), and the memory update of
  // that edge goes to node i's own slot instead, overwritten just after. It made
  // the scalar-chain sweep (docs/benchmarks.md) about 20% faster.
  double carry = 0.0;
  for (std::size_t i = output.index_ + 1; i-- > 0;) {
    const Edge& e = edges[i];
    const double a = adjoint[i] + carry;
    const std::size_t previous = i - 1;  // wraps at i = 0, where no parent can match it
    const bool lhs_previous = e.lhs == previous;
    const bool rhs_previous = e.rhs == previous;
    const double to_previous =
        ((lhs_previous ? e.d_lhs : 0.0) + (rhs_previous ? e.d_rhs : 0.0)) * a;
    carry = lhs_previous || rhs_previous ? to_previous : 0.0;  // never 0 * inf from a non-edge
    adjoint[lhs_previous ? i : e.lhs] += e.d_lhs * a;
    adjoint[rhs_previous ? i : e.rhs] += e.d_rhs * a;
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
  for (std::size_t i = 0; i < size_; ++i) {
    const ScalarOp op = ops_[i];
    if (op == ScalarOp::kLeaf) continue;
    Edge& e = edges_[i];
    const double a = values_[e.lhs];
    const bool has_rhs = e.rhs != i;
    const double b = has_rhs ? values_[e.rhs] : e.d_rhs;  // a constant operand, or 0 if unary
    const LocalPartials local = evaluate(op, a, b);
    if (finite_check_ && !std::isfinite(local.value)) throw_non_finite(op, a, b, i);
    values_[i] = local.value;
    e.d_lhs = local.d_lhs;
    if (has_rhs) e.d_rhs = local.d_rhs;
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

void VarAccess::throw_mixed(Var a, Var b, const char* operation) {
  if (!a.valid()) throw_unusable(a, operation);
  if (!b.valid()) throw_unusable(b, operation);
  throw TapeError(std::string(operation) + ": the operands were recorded on two different tapes");
}

Var clamp(Var x, double lo, double hi) {
  if (!(lo <= hi)) {
    std::ostringstream message;
    message << "clamp: lower bound " << lo << " exceeds upper bound " << hi;
    throw ValueError(message.str());
  }
  return min(max(x, lo), hi);
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
