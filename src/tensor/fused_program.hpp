// The interpreter of fused elementwise programs (maya/tensor/fused.hpp), shared by the CPU op
// (tensor/fused.cpp) and the CUDA kernels (tensor/cuda/fused.cu), so that both evaluate the same
// formulas; the unfused CUDA elementwise kernels (tensor/cuda/elementwise.cu) call its functions
// too. Functions and conventions mirror the unfused CPU ops (elementwise.cpp, unary.cpp). The
// CUDA backend also compiles this header at run time with NVRTC (tensor/cuda/fused_jit.cpp): each
// program becomes a kernel of straight-line calls to the functions below with constant codes.
#pragma once

#ifdef __CUDACC_RTC__
// NVRTC has no standard headers; its math functions are built in.
namespace std {
using int32_t = int;
using int64_t = long;
}  // namespace std
#else
#include <cmath>
#include <cstdint>
#endif

#include "tensor/op_codes.hpp"

#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
#include <cstddef>
#include <span>

#include "maya/tensor/fused.hpp"
#include "maya/tensor/shape.hpp"
#endif

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define MAYA_FUSED_HD __host__ __device__
#else
#define MAYA_FUSED_HD
#endif

namespace maya::tensor::detail::fused {

inline constexpr int kMaxInputs = 8;
inline constexpr int kMaxInstructions = 32;
inline constexpr int kMaxRegisters = kMaxInputs + kMaxInstructions;
inline constexpr int kMaxDims = 8;

enum class Kind : std::int32_t { binary, binary_right, binary_left, unary, select };

struct Instruction {
  Kind kind;
  std::int32_t code;
  std::int32_t a, b, c;
  double k0, k1;
};

// A program as plain data (a kernel parameter).
struct Program {
  int num_inputs = 0;
  int num_instructions = 0;
  int output = 0;
  Instruction code[kMaxInstructions] = {};
};

// How element i of the output reads each input: mode 0 = at i (same shape), 1 = at 0 (one
// element), 2 = through the strides (broadcast).
struct Layout {
  int ndim = 0;
  std::int64_t shape[kMaxDims] = {};
  int mode[kMaxInputs] = {};
  std::int64_t stride[kMaxInputs][kMaxDims] = {};
};

// The buffers of a fused node on the GPU: gradients[k] (= or += when accumulate[k]) at element i
// of the output (null: no gradient; a broadcast input's is a buffer of the output's shape).
struct Pointers {
  const double* inputs[kMaxInputs] = {};
  double* gradients[kMaxInputs] = {};
  bool accumulate[kMaxInputs] = {};
};

MAYA_FUSED_HD inline std::int64_t input_offset(const Layout& layout, int input, std::int64_t i) {
  if (layout.mode[input] == 0) return i;
  if (layout.mode[input] == 1) return 0;
  std::int64_t offset = 0;
  for (int d = layout.ndim - 1; d >= 0; --d) {
    const std::int64_t extent = layout.shape[d];
    offset += (i % extent) * layout.stride[input][d];
    i /= extent;
  }
  return offset;
}

MAYA_FUSED_HD inline double sigmoid_value(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + ::exp(-x));
  const double e = ::exp(x);
  return e / (1.0 + e);
}

template <bool kFull = true>
MAYA_FUSED_HD inline double binary_value(std::int32_t code, double a, double b) {
  switch (static_cast<BinaryCode>(code)) {
    case BinaryCode::add: return a + b;
    case BinaryCode::sub: return a - b;
    case BinaryCode::mul: return a * b;
    case BinaryCode::div: return a / b;
    case BinaryCode::pow:
      if constexpr (kFull) return ::pow(a, b);
      return 0.0;
    case BinaryCode::maximum: return a >= b ? a : b;
    case BinaryCode::minimum: return a <= b ? a : b;
  }
  return 0.0;
}

// d F / d a and d F / d b at (a, b), given the value.
template <bool kFull = true>
MAYA_FUSED_HD inline void binary_partials(std::int32_t code, double a, double b, double out,
                                          double& da, double& db) {
  switch (static_cast<BinaryCode>(code)) {
    case BinaryCode::add:
      da = 1.0;
      db = 1.0;
      return;
    case BinaryCode::sub:
      da = 1.0;
      db = -1.0;
      return;
    case BinaryCode::mul:
      da = b;
      db = a;
      return;
    case BinaryCode::div:
      da = 1.0 / b;
      db = -out / b;
      return;
    case BinaryCode::pow:
      if constexpr (kFull) {
        da = b == 0.0 ? 0.0 : b * ::pow(a, b - 1.0);
        db = out == 0.0 ? 0.0 : out * ::log(a);
        return;
      }
      break;
    case BinaryCode::maximum:
      da = a >= b ? 1.0 : 0.0;
      db = a >= b ? 0.0 : 1.0;
      return;
    case BinaryCode::minimum:
      da = a <= b ? 1.0 : 0.0;
      db = a <= b ? 0.0 : 1.0;
      return;
  }
  da = 0.0;
  db = 0.0;
}

template <bool kFull = true>
MAYA_FUSED_HD inline double unary_value(std::int32_t code, double x, double lo, double hi) {
  if constexpr (!kFull) {
    switch (static_cast<UnaryCode>(code)) {
      case UnaryCode::relu: return x > 0.0 ? x : 0.0;
      case UnaryCode::abs: return ::fabs(x);
      case UnaryCode::square: return x * x;
      case UnaryCode::clamp: return x < lo ? lo : (x > hi ? hi : x);
      default: return 0.0;
    }
  }
  switch (static_cast<UnaryCode>(code)) {
    case UnaryCode::sin: return ::sin(x);
    case UnaryCode::cos: return ::cos(x);
    case UnaryCode::tan: return ::tan(x);
    case UnaryCode::exp: return ::exp(x);
    case UnaryCode::log: return ::log(x);
    case UnaryCode::sqrt: return ::sqrt(x);
    case UnaryCode::tanh: return ::tanh(x);
    case UnaryCode::sigmoid: return sigmoid_value(x);
    case UnaryCode::relu: return x > 0.0 ? x : 0.0;
    case UnaryCode::softplus: return x > 0.0 ? x + ::log1p(::exp(-x)) : ::log1p(::exp(x));
    case UnaryCode::abs: return ::fabs(x);
    case UnaryCode::square: return x * x;
    case UnaryCode::clamp: return x < lo ? lo : (x > hi ? hi : x);
  }
  return 0.0;
}

template <bool kFull = true>
MAYA_FUSED_HD inline double unary_derivative(std::int32_t code, double x, double y, double lo,
                                             double hi) {
  if constexpr (!kFull) {
    switch (static_cast<UnaryCode>(code)) {
      case UnaryCode::relu: return x > 0.0 ? 1.0 : 0.0;
      case UnaryCode::abs: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
      case UnaryCode::square: return 2.0 * x;
      case UnaryCode::clamp: return x > lo && x < hi ? 1.0 : 0.0;
      default: return 0.0;
    }
  }
  switch (static_cast<UnaryCode>(code)) {
    case UnaryCode::sin: return ::cos(x);
    case UnaryCode::cos: return -::sin(x);
    case UnaryCode::tan: return 1.0 + y * y;
    case UnaryCode::exp: return y;
    case UnaryCode::log: return 1.0 / x;
    case UnaryCode::sqrt: return 0.5 / y;
    case UnaryCode::tanh: return 1.0 - y * y;
    case UnaryCode::sigmoid: return y * (1.0 - y);
    case UnaryCode::relu: return x > 0.0 ? 1.0 : 0.0;
    case UnaryCode::softplus: return sigmoid_value(x);
    case UnaryCode::abs: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
    case UnaryCode::square: return 2.0 * x;
    case UnaryCode::clamp: return x > lo && x < hi ? 1.0 : 0.0;
  }
  return 0.0;
}

// r[num_inputs + j] = instruction j of r (r[0, num_inputs) hold the inputs).
template <bool kFull = true>
MAYA_FUSED_HD inline void evaluate(const Program& p, double* r) {
  for (int j = 0; j < p.num_instructions; ++j) {
    const Instruction& in = p.code[j];
    double value = 0.0;
    switch (in.kind) {
      case Kind::binary: value = binary_value<kFull>(in.code, r[in.a], r[in.b]); break;
      case Kind::binary_right: value = binary_value<kFull>(in.code, r[in.a], in.k0); break;
      case Kind::binary_left: value = binary_value<kFull>(in.code, in.k0, r[in.a]); break;
      case Kind::unary: value = unary_value<kFull>(in.code, r[in.a], in.k0, in.k1); break;
      case Kind::select: value = r[in.a] != 0.0 ? r[in.b] : r[in.c]; break;
    }
    r[p.num_inputs + j] = value;
  }
}

// Reverse sweep: adj[0, num_inputs) = g d output / d input, from evaluated registers r.
// adj must hold num_inputs + num_instructions entries.
template <bool kFull = true>
MAYA_FUSED_HD inline void backpropagate(const Program& p, const double* r, double g, double* adj) {
  const int count = p.num_inputs + p.num_instructions;
  for (int k = 0; k < count; ++k) adj[k] = 0.0;
  adj[p.output] = g;
  for (int j = p.num_instructions - 1; j >= 0; --j) {
    const Instruction& in = p.code[j];
    const double a = adj[p.num_inputs + j];
    const double out = r[p.num_inputs + j];
    switch (in.kind) {
      case Kind::binary: {
        double da = 0.0;
        double db = 0.0;
        binary_partials<kFull>(in.code, r[in.a], r[in.b], out, da, db);
        adj[in.a] += a * da;
        adj[in.b] += a * db;
        break;
      }
      case Kind::binary_right: {
        double da = 0.0;
        double db = 0.0;
        binary_partials<kFull>(in.code, r[in.a], in.k0, out, da, db);
        adj[in.a] += a * da;
        break;
      }
      case Kind::binary_left: {
        double da = 0.0;
        double db = 0.0;
        binary_partials<kFull>(in.code, in.k0, r[in.a], out, da, db);
        adj[in.a] += a * db;
        break;
      }
      case Kind::unary:
        adj[in.a] += a * unary_derivative<kFull>(in.code, r[in.a], out, in.k0, in.k1);
        break;
      case Kind::select:
        if (r[in.a] != 0.0) {
          adj[in.b] += a;
        } else {
          adj[in.c] += a;
        }
        break;
    }
  }
}

#ifndef __CUDACC_RTC__
// Whether the program uses only arithmetic (no pow, no transcendental function): the GPU then
// runs an interpreter without those, a much smaller kernel.
inline bool arithmetic_only(const Program& p) {
  for (int j = 0; j < p.num_instructions; ++j) {
    const Instruction& in = p.code[j];
    if (in.kind == Kind::unary) {
      const auto code = static_cast<UnaryCode>(in.code);
      if (code != UnaryCode::relu && code != UnaryCode::abs && code != UnaryCode::square &&
          code != UnaryCode::clamp) {
        return false;
      }
    } else if (in.kind != Kind::select && static_cast<BinaryCode>(in.code) == BinaryCode::pow) {
      return false;
    }
  }
  return true;
}
#endif

#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
// A program in a node's saved data: ints = {inputs, instructions, output, then kind, code, a, b,
// c per instruction}, doubles = {k0, k1 per instruction}. Returns the ints used.
inline std::size_t encode(const ElementwiseProgram& program, double* saved, std::int64_t* ints) {
  const auto instructions = program.instructions();
  ints[0] = static_cast<std::int64_t>(program.num_inputs());
  ints[1] = static_cast<std::int64_t>(instructions.size());
  ints[2] = program.output();
  std::size_t at = 3;
  for (std::size_t j = 0; j < instructions.size(); ++j) {
    const ElementwiseProgram::Instruction& in = instructions[j];
    ints[at++] = static_cast<std::int64_t>(in.kind);
    ints[at++] = in.code;
    ints[at++] = in.a;
    ints[at++] = in.b;
    ints[at++] = in.c;
    saved[2 * j] = in.k0;
    saved[2 * j + 1] = in.k1;
  }
  return at;
}

inline void decode(std::span<const double> saved, std::span<const std::int64_t> ints,
                   Program& program) {
  program.num_inputs = static_cast<int>(ints[0]);
  program.num_instructions = static_cast<int>(ints[1]);
  program.output = static_cast<int>(ints[2]);
  for (int j = 0; j < program.num_instructions; ++j) {
    const std::int64_t* at = ints.data() + 3 + 5 * j;
    program.code[j] = Instruction{static_cast<Kind>(at[0]),
                                  static_cast<std::int32_t>(at[1]),
                                  static_cast<std::int32_t>(at[2]),
                                  static_cast<std::int32_t>(at[3]),
                                  static_cast<std::int32_t>(at[4]),
                                  saved[2 * static_cast<std::size_t>(j)],
                                  saved[2 * static_cast<std::size_t>(j) + 1]};
  }
}

// How each input (trailing-aligned, NumPy broadcasting) is read at the elements of `out`
// (at most kMaxDims dimensions, checked by the op).
inline Layout make_layout(ShapeView out, std::span<const ShapeView> inputs) {
  Layout layout;
  layout.ndim = static_cast<int>(out.size());
  for (std::size_t d = 0; d < out.size(); ++d) {
    layout.shape[d] = static_cast<std::int64_t>(out[d]);
  }
  const std::size_t n = numel_of(out);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const ShapeView in = inputs[k];
    const std::size_t count = numel_of(in);
    layout.mode[k] = count == n ? 0 : (count == 1 ? 1 : 2);
    std::int64_t stride = 1;
    const std::size_t lead = out.size() - in.size();
    for (std::size_t d = in.size(); d-- > 0;) {
      layout.stride[k][lead + d] = in[d] == 1 ? 0 : stride;
      stride *= static_cast<std::int64_t>(in[d]);
    }
  }
  return layout;
}
#endif

}  // namespace maya::tensor::detail::fused
