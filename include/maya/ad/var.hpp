// Var: a handle to one value recorded on a scalar Tape. Trivially copyable (slot, stamp, index);
// the stamp lets every operation detect a Var whose tape was cleared or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maya {

class Tape;

class Var {
 public:
  Var() = default;  // an unbound handle: every use throws maya::TapeError

  [[nodiscard]] double value() const;
  [[nodiscard]] std::size_t idx() const noexcept { return index_; }
  [[nodiscard]] bool valid() const noexcept;  // bound to a live, uncleared tape

  // Method forms of the free functions in var_math.hpp, so expressions chain as in
  // (x * x).sin().exp().
  [[nodiscard]] Var sin() const;
  [[nodiscard]] Var cos() const;
  [[nodiscard]] Var tan() const;
  [[nodiscard]] Var asin() const;
  [[nodiscard]] Var acos() const;
  [[nodiscard]] Var atan() const;
  [[nodiscard]] Var exp() const;
  [[nodiscard]] Var log() const;
  [[nodiscard]] Var log1p() const;
  [[nodiscard]] Var sqrt() const;
  [[nodiscard]] Var cbrt() const;
  [[nodiscard]] Var abs() const;
  [[nodiscard]] Var tanh() const;
  [[nodiscard]] Var sigmoid() const;
  [[nodiscard]] Var relu() const;
  [[nodiscard]] Var softplus() const;
  [[nodiscard]] Var square() const;
  [[nodiscard]] Var pow(double exponent) const;
  [[nodiscard]] Var pow(Var exponent) const;
  [[nodiscard]] Var clamp(double lo, double hi) const;

  Var& operator+=(Var other);
  Var& operator-=(Var other);
  Var& operator*=(Var other);
  Var& operator/=(Var other);
  Var& operator+=(double other);
  Var& operator-=(double other);
  Var& operator*=(double other);
  Var& operator/=(double other);

 private:
  friend class Tape;
  friend class Gradients;
  friend struct VarAccess;
  Var(std::uint32_t slot, std::uint32_t index, std::uint64_t stamp) noexcept
      : slot_(slot), index_(index), stamp_(stamp) {}

  std::uint32_t slot_ = 0;
  std::uint32_t index_ = 0;
  std::uint64_t stamp_ = 0;
};

}  // namespace maya
