// Fused elementwise nodes: a chain of elementwise ops (arithmetic with NumPy broadcasting, every
// unary function, maximum/minimum, pow, where) recorded as ONE tape node, evaluated in one pass
// per element forward and one pass backward (one kernel each on the GPU), with the same values
// and gradients as the chain recorded op by op.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "maya/tensor/tensor_var.hpp"

namespace maya {

class ElementwiseProgram;

// A value inside an ElementwiseProgram while it is built: an input or the result of an op on
// earlier values. The operators and functions below mirror those of TensorVar, so one generic
// lambda builds a program (called with FusedValues) and records the unfused chain (called with
// TensorVars).
class FusedValue {
 public:
  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] ElementwiseProgram* program() const noexcept { return program_; }

 private:
  friend class ElementwiseProgram;
  FusedValue(ElementwiseProgram* program, int index) : program_(program), index_(index) {}
  ElementwiseProgram* program_;
  int index_;
};

// The per-element program of a fused node: registers 0 .. num_inputs - 1 hold the inputs, and
// instruction j writes register num_inputs + j. At most kMaxInputs inputs and kMaxInstructions
// instructions.
class ElementwiseProgram {
 public:
  static constexpr std::size_t kMaxInputs = 8;
  static constexpr std::size_t kMaxInstructions = 32;

  // What an instruction does; `code` picks the function within its kind.
  enum class Kind : std::int32_t {
    binary,        // f(r[a], r[b])         code: add, sub, mul, div, pow, maximum, minimum
    binary_right,  // f(r[a], k0)
    binary_left,   // f(k0, r[a])
    unary,         // f(r[a]) (clamp: bounds k0, k1)
    select,        // r[a] != 0 ? r[b] : r[c] (no gradient to r[a])
  };
  struct Instruction {
    Kind kind = Kind::binary;
    std::int32_t code = 0;
    std::int32_t a = 0, b = 0, c = 0;
    double k0 = 0.0, k1 = 0.0;
  };

  // Builds the program of body(input_0, ..., input_{N-1}), whose result is the node's value:
  //   auto step = ElementwiseProgram::build<3>("verlet",
  //       [](auto x, auto v, auto a) { return x + 0.01 * (v + 0.01 * a); });
  //   TensorVar x1 = fused(step, {x, v, a});
  // Throws maya::ValueError past kMaxInputs inputs or kMaxInstructions instructions.
  template <std::size_t N, class Body>
  [[nodiscard]] static ElementwiseProgram build(std::string name, Body&& body) {
    ElementwiseProgram program(std::move(name), N);
    const FusedValue result = program.call<N>(body, std::make_index_sequence<N>{});
    program.set_output(result);
    return program;
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::size_t num_inputs() const noexcept { return num_inputs_; }
  [[nodiscard]] std::span<const Instruction> instructions() const noexcept { return instructions_; }
  // The register that holds the result.
  [[nodiscard]] int output() const noexcept { return output_; }

  // Appends one instruction and returns its register (used by FusedValue's operators).
  FusedValue append(const Instruction& instruction);
  FusedValue input(std::size_t i);

 private:
  ElementwiseProgram(std::string name, std::size_t num_inputs);
  template <std::size_t N, class Body, std::size_t... I>
  FusedValue call(Body& body, std::index_sequence<I...>) {
    return FusedValue(body(input(I)...));
  }
  void set_output(FusedValue value);

  std::string name_;
  std::size_t num_inputs_;
  std::vector<Instruction> instructions_;
  int output_ = 0;
};

// The program applied to `inputs` (which broadcast together as NumPy does, to a result of at most
// 8 dimensions) as one tape node on their device; the result has the broadcast shape, and the
// gradient of a broadcast input is summed back to its shape. Throws maya::ValueError when
// inputs.size() != program.num_inputs(), maya::ShapeError when they do not broadcast (or the
// result has more than 8 dimensions), maya::DeviceError when they live on two devices.
[[nodiscard]] TensorVar fused(const ElementwiseProgram& program, std::span<const TensorVar> inputs);
[[nodiscard]] TensorVar fused(const ElementwiseProgram& program,
                              std::initializer_list<TensorVar> inputs);

// ---- FusedValue's operators (ADL finds them as it finds TensorVar's) ----
[[nodiscard]] FusedValue operator+(FusedValue a, FusedValue b);
[[nodiscard]] FusedValue operator-(FusedValue a, FusedValue b);
[[nodiscard]] FusedValue operator*(FusedValue a, FusedValue b);
[[nodiscard]] FusedValue operator/(FusedValue a, FusedValue b);
[[nodiscard]] FusedValue operator+(FusedValue a, double b);
[[nodiscard]] FusedValue operator+(double a, FusedValue b);
[[nodiscard]] FusedValue operator-(FusedValue a, double b);
[[nodiscard]] FusedValue operator-(double a, FusedValue b);
[[nodiscard]] FusedValue operator*(FusedValue a, double b);
[[nodiscard]] FusedValue operator*(double a, FusedValue b);
[[nodiscard]] FusedValue operator/(FusedValue a, double b);
[[nodiscard]] FusedValue operator/(double a, FusedValue b);
[[nodiscard]] FusedValue operator-(FusedValue a);
[[nodiscard]] FusedValue neg(FusedValue a);
[[nodiscard]] FusedValue scale(FusedValue x, double factor);
[[nodiscard]] FusedValue pow(FusedValue base, FusedValue exponent);
[[nodiscard]] FusedValue pow(FusedValue base, double exponent);
[[nodiscard]] FusedValue maximum(FusedValue a, FusedValue b);
[[nodiscard]] FusedValue minimum(FusedValue a, FusedValue b);
[[nodiscard]] FusedValue maximum(FusedValue a, double b);
[[nodiscard]] FusedValue minimum(FusedValue a, double b);
[[nodiscard]] FusedValue where(FusedValue mask, FusedValue a, FusedValue b);
[[nodiscard]] FusedValue sin(FusedValue x);
[[nodiscard]] FusedValue cos(FusedValue x);
[[nodiscard]] FusedValue tan(FusedValue x);
[[nodiscard]] FusedValue exp(FusedValue x);
[[nodiscard]] FusedValue log(FusedValue x);
[[nodiscard]] FusedValue sqrt(FusedValue x);
[[nodiscard]] FusedValue tanh(FusedValue x);
[[nodiscard]] FusedValue sigmoid(FusedValue x);
[[nodiscard]] FusedValue relu(FusedValue x);
[[nodiscard]] FusedValue softplus(FusedValue x);
[[nodiscard]] FusedValue abs(FusedValue x);
[[nodiscard]] FusedValue square(FusedValue x);
[[nodiscard]] FusedValue clamp(FusedValue x, double lo, double hi);

}  // namespace maya
