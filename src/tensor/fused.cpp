// Fused elementwise nodes (maya/tensor/fused.hpp): the program builder, its recording as one
// tape node, and the CPU pass (one loop over the output forward, one backward). The program
// travels in the node's saved data, so a node outlives the ElementwiseProgram it came from.
#include "maya/tensor/fused.hpp"

#include <string>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "tensor/broadcast.hpp"
#include "tensor/fused_program.hpp"
#include "tensor/gpu_ops.hpp"

namespace maya {
namespace {

namespace fz = tensor::detail::fused;
using tensor::detail::BinaryCode;
using tensor::detail::UnaryCode;
using Kind = ElementwiseProgram::Kind;

static_assert(ElementwiseProgram::kMaxInputs == static_cast<std::size_t>(fz::kMaxInputs));
static_assert(ElementwiseProgram::kMaxInstructions ==
              static_cast<std::size_t>(fz::kMaxInstructions));

class FusedOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "fused"; }
  void backward(BackwardContext& context) const override {
    fz::Program program;
    fz::decode(context.saved(), context.saved_ints(), program);
    const TensorView out = context.output();
    const TensorView g = context.grad_output();
    const int count = program.num_inputs;
    const double* values[fz::kMaxInputs] = {};
    double* targets[fz::kMaxInputs] = {};
    bool assign[fz::kMaxInputs] = {};
    ShapeView shapes[fz::kMaxInputs];
    for (int k = 0; k < count; ++k) {
      const TensorView x = context.input(static_cast<std::size_t>(k));
      values[k] = x.values;
      shapes[k] = x.shape;
      if (!context.needs_grad(static_cast<std::size_t>(k))) continue;
      if (x.numel() == out.numel()) {
        const BackwardContext::GradientTarget target =
            context.grad_input_target(static_cast<std::size_t>(k));
        targets[k] = target.view.values;
        assign[k] = target.fresh;
      } else {
        targets[k] = context.grad_input(static_cast<std::size_t>(k)).values;
      }
    }
    const fz::Layout layout = fz::make_layout(out.shape, std::span<const ShapeView>(shapes, count));
    double r[fz::kMaxRegisters];
    double adj[fz::kMaxRegisters];
    const auto n = static_cast<std::int64_t>(out.numel());
    for (std::int64_t i = 0; i < n; ++i) {
      std::int64_t offsets[fz::kMaxInputs];
      for (int k = 0; k < count; ++k) {
        offsets[k] = fz::input_offset(layout, k, i);
        r[k] = values[k][offsets[k]];
      }
      fz::evaluate(program, r);
      fz::backpropagate(program, r, g[static_cast<std::size_t>(i)], adj);
      for (int k = 0; k < count; ++k) {
        if (targets[k] == nullptr) continue;
        if (assign[k]) {
          targets[k][offsets[k]] = adj[k];
        } else {
          targets[k][offsets[k]] += adj[k];
        }
      }
    }
  }
  static const FusedOp& instance() {
    static const FusedOp op;
    return op;
  }
};

FusedValue binary(Kind kind, BinaryCode code, FusedValue a, FusedValue b, double k = 0.0) {
  ElementwiseProgram* program = a.program();
  if (kind == Kind::binary && b.program() != program) {
    throw ValueError("fused: values of two different ElementwisePrograms in one op");
  }
  ElementwiseProgram::Instruction in;
  in.kind = kind;
  in.code = static_cast<std::int32_t>(code);
  in.a = a.index();
  in.b = kind == Kind::binary ? b.index() : 0;
  in.k0 = k;
  return program->append(in);
}
FusedValue with_constant(BinaryCode code, FusedValue a, double k, bool left) {
  return binary(left ? Kind::binary_left : Kind::binary_right, code, a, a, k);
}
FusedValue unary(UnaryCode code, FusedValue x, double lo = 0.0, double hi = 0.0) {
  ElementwiseProgram::Instruction in;
  in.kind = Kind::unary;
  in.code = static_cast<std::int32_t>(code);
  in.a = x.index();
  in.k0 = lo;
  in.k1 = hi;
  return x.program()->append(in);
}

}  // namespace

ElementwiseProgram::ElementwiseProgram(std::string name, std::size_t num_inputs)
    : name_(std::move(name)), num_inputs_(num_inputs) {
  if (num_inputs == 0 || num_inputs > kMaxInputs) {
    throw ValueError("ElementwiseProgram '" + name_ + "': takes 1 to " +
                     std::to_string(kMaxInputs) + " inputs, got " + std::to_string(num_inputs));
  }
  instructions_.reserve(kMaxInstructions);
}

FusedValue ElementwiseProgram::input(std::size_t i) {
  if (i >= num_inputs_) {
    throw ValueError("ElementwiseProgram '" + name_ + "': input " + std::to_string(i) + " of " +
                     std::to_string(num_inputs_));
  }
  return FusedValue(this, static_cast<int>(i));
}

FusedValue ElementwiseProgram::append(const Instruction& instruction) {
  if (instructions_.size() == kMaxInstructions) {
    throw ValueError("ElementwiseProgram '" + name_ + "': more than " +
                     std::to_string(kMaxInstructions) +
                     " instructions; split the chain into two fused nodes");
  }
  instructions_.push_back(instruction);
  return FusedValue(this, static_cast<int>(num_inputs_ + instructions_.size() - 1));
}

void ElementwiseProgram::set_output(FusedValue value) {
  if (value.program() != this) {
    throw ValueError("ElementwiseProgram '" + name_ +
                     "': the body returned a value of another "
                     "program");
  }
  output_ = value.index();
}

TensorVar fused(const ElementwiseProgram& program, std::span<const TensorVar> inputs) {
  const char* name = program.name().c_str();
  if (inputs.size() != program.num_inputs()) {
    throw ValueError("fused '" + program.name() + "': the program takes " +
                     std::to_string(program.num_inputs()) + " inputs, got " +
                     std::to_string(inputs.size()));
  }
  TensorTape& tape = inputs[0].tape();
  for (const TensorVar input : inputs) tape.check_owned(input, name);
  const bool gpu = tensor::detail::on_cuda(tape, inputs, name);
  ShapeView shapes[fz::kMaxInputs];
  const double* values[fz::kMaxInputs] = {};
  tensor::detail::SmallShape out_shape(tape.values(inputs[0]).shape);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const TensorView v = gpu ? tape.values(inputs[k]) : tape.view(inputs[k]);
    shapes[k] = v.shape;
    values[k] = v.values;
    if (k > 0) {
      const tensor::detail::SmallShape so_far = out_shape;
      tensor::detail::broadcast_shape_into(so_far, v.shape, name, out_shape);
    }
  }
  if (out_shape.size() > static_cast<std::size_t>(fz::kMaxDims)) {
    throw ShapeError("fused '" + program.name() + "': at most " + std::to_string(fz::kMaxDims) +
                     " dimensions, got " + shape_string(ShapeView(out_shape)));
  }
  double saved[2 * fz::kMaxInstructions];
  std::int64_t ints[3 + 5 * fz::kMaxInstructions];
  const std::size_t used = fz::encode(program, saved, ints);
  const SavedData data{std::span<const double>(saved, 2 * program.instructions().size()),
                       std::span<const std::int64_t>(ints, used)};
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::fused(inputs, out_shape, data.values, data.ints);
  fz::Program decoded;
  fz::decode(data.values, data.ints, decoded);
  const fz::Layout layout =
      fz::make_layout(out_shape, std::span<const ShapeView>(shapes, inputs.size()));
  const int count = static_cast<int>(inputs.size());
  return tape.record(
      FusedOp::instance(), inputs, out_shape,
      [&](MutableTensorView out) {
        double r[fz::kMaxRegisters];
        const auto n = static_cast<std::int64_t>(out.numel());
        for (std::int64_t i = 0; i < n; ++i) {
          for (int k = 0; k < count; ++k) r[k] = values[k][fz::input_offset(layout, k, i)];
          fz::evaluate(decoded, r);
          out.values[i] = r[decoded.output];
        }
      },
      data);
}

TensorVar fused(const ElementwiseProgram& program, std::initializer_list<TensorVar> inputs) {
  return fused(program, std::span<const TensorVar>(inputs.begin(), inputs.size()));
}

FusedValue operator+(FusedValue a, FusedValue b) {
  return binary(Kind::binary, BinaryCode::add, a, b);
}
FusedValue operator-(FusedValue a, FusedValue b) {
  return binary(Kind::binary, BinaryCode::sub, a, b);
}
FusedValue operator*(FusedValue a, FusedValue b) {
  return binary(Kind::binary, BinaryCode::mul, a, b);
}
FusedValue operator/(FusedValue a, FusedValue b) {
  return binary(Kind::binary, BinaryCode::div, a, b);
}
// The constant forms record what TensorVar's record (x - c as x + (-c), c * x as x * c), so
// fused and unfused round alike.
FusedValue operator+(FusedValue a, double b) { return with_constant(BinaryCode::add, a, b, false); }
FusedValue operator+(double a, FusedValue b) { return with_constant(BinaryCode::add, b, a, false); }
FusedValue operator-(FusedValue a, double b) {
  return with_constant(BinaryCode::add, a, -b, false);
}
FusedValue operator-(double a, FusedValue b) { return with_constant(BinaryCode::sub, b, a, true); }
FusedValue operator*(FusedValue a, double b) { return with_constant(BinaryCode::mul, a, b, false); }
FusedValue operator*(double a, FusedValue b) { return with_constant(BinaryCode::mul, b, a, false); }
FusedValue operator/(FusedValue a, double b) { return with_constant(BinaryCode::div, a, b, false); }
FusedValue operator/(double a, FusedValue b) { return with_constant(BinaryCode::div, b, a, true); }
FusedValue operator-(FusedValue a) { return with_constant(BinaryCode::mul, a, -1.0, false); }
FusedValue neg(FusedValue a) { return -a; }
FusedValue scale(FusedValue x, double factor) { return x * factor; }
FusedValue pow(FusedValue base, FusedValue exponent) {
  return binary(Kind::binary, BinaryCode::pow, base, exponent);
}
FusedValue pow(FusedValue base, double exponent) {
  return with_constant(BinaryCode::pow, base, exponent, false);
}
FusedValue maximum(FusedValue a, FusedValue b) {
  return binary(Kind::binary, BinaryCode::maximum, a, b);
}
FusedValue minimum(FusedValue a, FusedValue b) {
  return binary(Kind::binary, BinaryCode::minimum, a, b);
}
FusedValue maximum(FusedValue a, double b) {
  return with_constant(BinaryCode::maximum, a, b, false);
}
FusedValue minimum(FusedValue a, double b) {
  return with_constant(BinaryCode::minimum, a, b, false);
}
FusedValue where(FusedValue mask, FusedValue a, FusedValue b) {
  if (a.program() != mask.program() || b.program() != mask.program()) {
    throw ValueError("fused: values of two different ElementwisePrograms in one op");
  }
  ElementwiseProgram::Instruction in;
  in.kind = Kind::select;
  in.a = mask.index();
  in.b = a.index();
  in.c = b.index();
  return mask.program()->append(in);
}
FusedValue sin(FusedValue x) { return unary(UnaryCode::sin, x); }
FusedValue cos(FusedValue x) { return unary(UnaryCode::cos, x); }
FusedValue tan(FusedValue x) { return unary(UnaryCode::tan, x); }
FusedValue exp(FusedValue x) { return unary(UnaryCode::exp, x); }
FusedValue log(FusedValue x) { return unary(UnaryCode::log, x); }
FusedValue sqrt(FusedValue x) { return unary(UnaryCode::sqrt, x); }
FusedValue tanh(FusedValue x) { return unary(UnaryCode::tanh, x); }
FusedValue sigmoid(FusedValue x) { return unary(UnaryCode::sigmoid, x); }
FusedValue relu(FusedValue x) { return unary(UnaryCode::relu, x); }
FusedValue softplus(FusedValue x) { return unary(UnaryCode::softplus, x); }
FusedValue abs(FusedValue x) { return unary(UnaryCode::abs, x); }
FusedValue square(FusedValue x) { return unary(UnaryCode::square, x); }
FusedValue clamp(FusedValue x, double lo, double hi) {
  if (!(lo <= hi)) {
    throw ValueError("clamp: lower bound " + format_number(lo) + " exceeds upper bound " +
                     format_number(hi));
  }
  return unary(UnaryCode::clamp, x, lo, hi);
}

}  // namespace maya
