#include "maya/optim/parameter.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::optim {

namespace {

// log(1 + e^u) without overflow for large u or cancellation for very negative u.
double log1p_exp(double u) noexcept {
  return std::max(u, 0.0) + std::log1p(std::exp(-std::abs(u)));
}

double sigmoid(double u) noexcept {
  if (u >= 0.0) return 1.0 / (1.0 + std::exp(-u));
  const double e = std::exp(u);
  return e / (1.0 + e);
}

}  // namespace

// ---- Positive ----

Positive::Positive(Map map, double floor) : map_(map), floor_(floor) {
  (void)check_finite(floor, "Positive: floor");
}

double Positive::value(double latent) const noexcept {
  return floor_ + (map_ == Map::kSoftplus ? log1p_exp(latent) : std::exp(latent));
}

double Positive::latent(double value) const {
  const double excess = value - floor_;
  if (!(excess > 0.0) || !std::isfinite(value)) {
    throw ValueError("Positive: value " + format_number(value) +
                     " must be finite and above the floor " + format_number(floor_));
  }
  // softplus^-1(y) = log(e^y - 1) = y + log(1 - e^-y), written with expm1 to stay exact as y -> 0
  // and y -> inf.
  if (map_ == Map::kSoftplus) return excess + std::log(-std::expm1(-excess));
  return std::log(excess);
}

double Positive::derivative(double latent) const noexcept {
  return map_ == Map::kSoftplus ? sigmoid(latent) : std::exp(latent);
}

Tensor Positive::value(const Tensor& latent) const {
  Tensor out = latent;
  for (double& x : out.mutable_data()) x = value(x);
  return out;
}

Tensor Positive::latent(const Tensor& value) const {
  Tensor out = value;
  for (double& x : out.mutable_data()) x = latent(x);
  return out;
}

Tensor Positive::latent_gradient(const Tensor& latent, const Tensor& value_gradient) const {
  if (latent.shape() != value_gradient.shape()) {
    throw ShapeError("Positive::latent_gradient: latent " + shape_string(latent.shape()) +
                     " and gradient " + shape_string(value_gradient.shape()) + " differ");
  }
  Tensor out = value_gradient;
  const auto u = latent.data();
  const auto g = out.mutable_data();
  for (std::size_t i = 0; i < g.size(); ++i) g[i] *= derivative(u[i]);
  return out;
}

TensorVar Positive::value(TensorVar latent) const {
  return (map_ == Map::kSoftplus ? maya::softplus(latent) : maya::exp(latent)) + floor_;
}

// ---- ParameterSet ----

std::size_t ParameterSet::add(std::string name, Tensor initial, Bounds bounds) {
  if (std::isnan(bounds.lower) || std::isnan(bounds.upper) || bounds.lower > bounds.upper) {
    throw ValueError("ParameterSet::add: bounds of '" + name +
                     "' must satisfy lower <= upper, got [" + format_number(bounds.lower) + ", " +
                     format_number(bounds.upper) + "]");
  }
  const auto data = initial.data();
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (!(data[i] >= bounds.lower && data[i] <= bounds.upper)) {
      throw ValueError("ParameterSet::add: initial value of '" + name + "' entry " +
                       std::to_string(i) + " is " + format_number(data[i]) +
                       ", outside its bounds [" + format_number(bounds.lower) + ", " +
                       format_number(bounds.upper) + "]");
    }
  }
  return add_entry(std::move(name), std::move(initial), bounds, std::nullopt);
}

std::size_t ParameterSet::add(std::string name, Tensor initial, Positive positive) {
  const auto data = initial.data();
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (!(data[i] > positive.floor()) || !std::isfinite(data[i])) {
      throw ValueError("ParameterSet::add: initial value of positive parameter '" + name +
                       "' entry " + std::to_string(i) + " is " + format_number(data[i]) +
                       "; it must be finite and above the floor " +
                       format_number(positive.floor()));
    }
  }
  return add_entry(std::move(name), std::move(initial), Bounds{}, positive);
}

std::size_t ParameterSet::add_entry(std::string name, Tensor initial, Bounds bounds,
                                    std::optional<Positive> positive) {
  if (name.empty()) throw ValueError("ParameterSet::add: a parameter needs a non-empty name");
  for (const Entry& entry : entries_) {
    if (entry.name == name) {
      throw ValueError("ParameterSet::add: a parameter named '" + name + "' already exists");
    }
  }
  const std::size_t offset = latent_.size();
  const auto data = initial.data();
  for (const double x : data) latent_.push_back(positive ? positive->latent(x) : x);
  lower_.insert(lower_.end(), data.size(), bounds.lower);
  upper_.insert(upper_.end(), data.size(), bounds.upper);
  bounded_ = bounded_ || bounds.bounded();
  entries_.push_back(Entry{std::move(name), offset, bounds, positive});
  values_.push_back(std::move(initial));
  update_value(entries_.size() - 1);
  return entries_.size() - 1;
}

std::size_t ParameterSet::index(std::string_view name) const {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == name) return i;
  }
  std::string known;
  for (const Entry& entry : entries_) known += (known.empty() ? "'" : ", '") + entry.name + "'";
  throw ValueError("ParameterSet: no parameter named '" + std::string(name) +
                   "'; known: " + (known.empty() ? "none" : known));
}

void ParameterSet::check_index(std::size_t index, std::string_view operation) const {
  if (index >= entries_.size()) {
    throw ValueError("ParameterSet::" + std::string(operation) + ": index " +
                     std::to_string(index) + " out of range for " +
                     std::to_string(entries_.size()) + " parameters");
  }
}

const std::string& ParameterSet::name(std::size_t index) const {
  check_index(index, "name");
  return entries_[index].name;
}

const Bounds& ParameterSet::bounds(std::size_t index) const {
  check_index(index, "bounds");
  return entries_[index].bounds;
}

const std::optional<Positive>& ParameterSet::positive(std::size_t index) const {
  check_index(index, "positive");
  return entries_[index].positive;
}

const Tensor& ParameterSet::value(std::size_t index) const {
  check_index(index, "value");
  return values_[index];
}

void ParameterSet::set_value(std::size_t index, Tensor value) {
  check_index(index, "set_value");
  const Entry& entry = entries_[index];
  if (value.shape() != values_[index].shape()) {
    throw ShapeError("ParameterSet::set_value: '" + entry.name + "' has shape " +
                     shape_string(values_[index].shape()) + ", got " + shape_string(value.shape()));
  }
  const auto data = value.data();
  for (std::size_t i = 0; i < data.size(); ++i) {
    const bool inside = entry.positive
                            ? data[i] > entry.positive->floor() && std::isfinite(data[i])
                            : data[i] >= entry.bounds.lower && data[i] <= entry.bounds.upper;
    if (!inside) {
      throw ValueError("ParameterSet::set_value: value of '" + entry.name + "' entry " +
                       std::to_string(i) + " is " + format_number(data[i]) + ", outside " +
                       (entry.positive ? "(" + format_number(entry.positive->floor()) + ", inf)"
                                       : "[" + format_number(entry.bounds.lower) + ", " +
                                             format_number(entry.bounds.upper) + "]"));
    }
    latent_[entry.offset + i] = entry.positive ? entry.positive->latent(data[i]) : data[i];
  }
  update_value(index);
}

void ParameterSet::set_latent(std::span<const double> latent) {
  if (latent.size() != latent_.size()) {
    throw ShapeError("ParameterSet::set_latent: expected " + std::to_string(latent_.size()) +
                     " entries, got " + std::to_string(latent.size()));
  }
  std::copy(latent.begin(), latent.end(), latent_.begin());
  for (std::size_t i = 0; i < entries_.size(); ++i) update_value(i);
}

void ParameterSet::update_value(std::size_t index) {
  const Entry& entry = entries_[index];
  const auto out = values_[index].mutable_data();
  const double* u = latent_.data() + entry.offset;
  if (entry.positive) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = entry.positive->value(u[i]);
  } else {
    std::copy(u, u + out.size(), out.begin());
  }
}

void ParameterSet::latent_gradient(std::span<const Tensor> value_gradients, std::span<double> out,
                                   std::string_view operation) const {
  if (value_gradients.size() != entries_.size()) {
    throw ShapeError(std::string(operation) + ": expected " + std::to_string(entries_.size()) +
                     " gradients (one per parameter), got " +
                     std::to_string(value_gradients.size()));
  }
  if (out.size() != latent_.size()) {
    throw ShapeError(std::string(operation) + ": latent gradient needs " +
                     std::to_string(latent_.size()) + " entries, got " +
                     std::to_string(out.size()));
  }
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    const Entry& entry = entries_[k];
    if (value_gradients[k].shape() != values_[k].shape()) {
      throw ShapeError(std::string(operation) + ": gradient of '" + entry.name + "' has shape " +
                       shape_string(value_gradients[k].shape()) + ", the parameter has " +
                       shape_string(values_[k].shape()));
    }
    const auto g = value_gradients[k].data();
    const double* u = latent_.data() + entry.offset;
    double* target = out.data() + entry.offset;
    for (std::size_t i = 0; i < g.size(); ++i) {
      target[i] = entry.positive ? g[i] * entry.positive->derivative(u[i]) : g[i];
    }
  }
}

}  // namespace maya::optim
