// The parameters an optimizer fits: named tensors with box bounds, or positive quantities
// reparameterized through an unconstrained latent u (value = floor + softplus(u) or exp(u)). The
// optimizers move the flat latent vector; the user's loss only ever sees the values.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::optim {

// lower <= value <= upper for every entry of one parameter; infinite ends are unbounded.
// SGD and Adam project onto the box after each update; L-BFGS projects its line search path.
struct Bounds {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();

  [[nodiscard]] static Bounds at_least(double lower) noexcept { return {lower, kInfinity}; }
  [[nodiscard]] static Bounds at_most(double upper) noexcept { return {-kInfinity, upper}; }
  [[nodiscard]] static Bounds between(double lower, double upper) noexcept {
    return {lower, upper};
  }
  [[nodiscard]] bool bounded() const noexcept { return lower > -kInfinity || upper < kInfinity; }

  static constexpr double kInfinity = std::numeric_limits<double>::infinity();
};

// A strictly positive quantity (a stiffness, a mass) fitted through an unconstrained latent u:
//   softplus: value = floor + log(1 + e^u),  dvalue/du = sigmoid(u)   (linear for large values)
//   exp:      value = floor + e^u,           dvalue/du = e^u          (scale-free: fits orders of
//                                                                      magnitude evenly)
// The value can approach `floor` but never reach it, so the model never sees k <= floor.
class Positive {
 public:
  enum class Map { kSoftplus, kExp };

  // Throws maya::ValueError for a non-finite floor.
  explicit Positive(Map map = Map::kSoftplus, double floor = 0.0);
  [[nodiscard]] static Positive softplus(double floor = 0.0) {
    return Positive(Map::kSoftplus, floor);
  }
  [[nodiscard]] static Positive exp(double floor = 0.0) { return Positive(Map::kExp, floor); }

  [[nodiscard]] Map map() const noexcept { return map_; }
  [[nodiscard]] double floor() const noexcept { return floor_; }

  [[nodiscard]] double value(double latent) const noexcept;
  // The u with value(u) = value; throws maya::ValueError unless value > floor (and finite).
  [[nodiscard]] double latent(double value) const;
  [[nodiscard]] double derivative(double latent) const noexcept;  // dvalue/du

  [[nodiscard]] Tensor value(const Tensor& latent) const;
  [[nodiscard]] Tensor latent(const Tensor& value) const;
  // Chain rule: dL/du = dL/dvalue * dvalue/du, elementwise. Throws maya::ShapeError when the
  // shapes differ.
  [[nodiscard]] Tensor latent_gradient(const Tensor& latent, const Tensor& value_gradient) const;
  // The same map recorded on a tape, for losses that keep the latent as their leaf.
  [[nodiscard]] TensorVar value(TensorVar latent) const;

 private:
  Map map_;
  double floor_;
};

// Named parameters, owned here. Each parameter is a Tensor of any shape; together their entries
// form one flat latent vector (parameter order, row-major within each) that the optimizers move.
// A plain parameter's latent is its value; a Positive one's is the u above.
class ParameterSet {
 public:
  // Returns the parameter's index. Throws maya::ValueError for a duplicate or empty name,
  // inverted or NaN bounds, or an initial value outside its bounds (naming the entry).
  std::size_t add(std::string name, Tensor initial, Bounds bounds = {});
  std::size_t add(std::string name, Tensor initial, Positive positive);

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] std::size_t numel() const noexcept { return latent_.size(); }
  // Throws maya::ValueError for an unknown name (listing the known ones).
  [[nodiscard]] std::size_t index(std::string_view name) const;
  [[nodiscard]] const std::string& name(std::size_t index) const;
  [[nodiscard]] const Bounds& bounds(std::size_t index) const;
  [[nodiscard]] const std::optional<Positive>& positive(std::size_t index) const;

  // The current values, in the order added: what an objective receives.
  [[nodiscard]] const Tensor& value(std::size_t index) const;
  [[nodiscard]] const Tensor& value(std::string_view name) const { return value(index(name)); }
  [[nodiscard]] std::span<const Tensor> values() const noexcept { return values_; }
  // Replaces a value (same shape, inside its bounds or above its floor).
  void set_value(std::size_t index, Tensor value);

  // ---- The optimizer's view: the flat latent vector and its box ----
  [[nodiscard]] std::span<const double> latent() const noexcept { return latent_; }
  // Sets the latent vector and recomputes every value. Throws maya::ShapeError for a wrong length.
  void set_latent(std::span<const double> latent);
  // Latent bounds per entry: a plain parameter's Bounds, (-inf, inf) for a Positive one.
  [[nodiscard]] std::span<const double> latent_lower() const noexcept { return lower_; }
  [[nodiscard]] std::span<const double> latent_upper() const noexcept { return upper_; }
  [[nodiscard]] bool bounded() const noexcept { return bounded_; }
  // Gradients with respect to the values (one per parameter, same shapes) -> the flat latent
  // gradient (chain rule through Positive maps). Throws maya::ShapeError naming the parameter
  // on a count or shape mismatch; `operation` names the caller in the message.
  void latent_gradient(std::span<const Tensor> value_gradients, std::span<double> out,
                       std::string_view operation) const;

 private:
  struct Entry {
    std::string name;
    std::size_t offset;  // into latent_
    Bounds bounds;
    std::optional<Positive> positive;
  };
  std::size_t add_entry(std::string name, Tensor initial, Bounds bounds,
                        std::optional<Positive> positive);
  void check_index(std::size_t index, std::string_view operation) const;
  void update_value(std::size_t index);

  std::vector<Entry> entries_;
  std::vector<Tensor> values_;
  std::vector<double> latent_;
  std::vector<double> lower_;
  std::vector<double> upper_;
  bool bounded_ = false;
};

}  // namespace maya::optim
