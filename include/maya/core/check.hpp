// The one vocabulary for checking arguments: positive, non-negative, finite, in range, counts and
// shapes. NaN fails every check. A failed check throws the maya::Error subclass asked for
// (ValueError unless said otherwise) with "<what> must be <rule>, got <value>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "maya/core/error.hpp"

namespace maya {

// The shortest text that reads back to the same double ("0.1", "1e+300", "nan", "inf", "-inf").
// The one number formatter of messages and data files.
[[nodiscard]] std::string format_number(double value);

namespace core::detail {
[[nodiscard]] std::string check_message(std::string_view what, std::string_view rule,
                                        std::string_view value);
[[nodiscard]] std::string check_message(std::string_view what, std::string_view rule, double value);
[[nodiscard]] std::string range_rule(double low, double high);
[[nodiscard]] std::string half_open_range_rule(double low, double high);
}  // namespace core::detail

// `what` names the operation and the argument ("SoftBody::step_implicit: dt"). Each returns the
// value it checked, so a check can sit in an initializer.

// Finite (not NaN, not +-inf).
template <class E = ValueError>
double check_finite(double value, std::string_view what) {
  if (!(value - value == 0.0)) {
    throw E(core::detail::check_message(what, "must be finite", value));
  }
  return value;
}

// 0 < value < inf.
template <class E = ValueError>
double check_positive(double value, std::string_view what) {
  if (!(value > 0.0 && value <= std::numeric_limits<double>::max())) {
    throw E(core::detail::check_message(what, "must be positive and finite", value));
  }
  return value;
}

// 0 <= value < inf.
template <class E = ValueError>
double check_non_negative(double value, std::string_view what) {
  if (!(value >= 0.0 && value <= std::numeric_limits<double>::max())) {
    throw E(core::detail::check_message(what, "must be non-negative and finite", value));
  }
  return value;
}

// low <= value <= high (both finite or infinite bounds; NaN fails).
template <class E = ValueError>
double check_in_range(double value, double low, double high, std::string_view what) {
  if (!(value >= low && value <= high)) {
    throw E(core::detail::check_message(what, core::detail::range_rule(low, high), value));
  }
  return value;
}

// low <= value < high: a bound the value may approach but not reach (a momentum below 1).
template <class E = ValueError>
double check_in_half_open_range(double value, double low, double high, std::string_view what) {
  if (!(value >= low && value < high)) {
    throw E(
        core::detail::check_message(what, core::detail::half_open_range_rule(low, high), value));
  }
  return value;
}

// value >= minimum for a count a caller chose (iterations, cells, threads).
template <class E = ValueError>
std::size_t check_at_least(std::size_t value, std::size_t minimum, std::string_view what) {
  if (value < minimum) {
    throw E(core::detail::check_message(what, "must be at least " + std::to_string(minimum),
                                        std::to_string(value)));
  }
  return value;
}

// A count read from a signed source (a flag, a file): 0 <= count <= limit.
template <class E = ValueError>
std::size_t check_count(std::int64_t count, std::string_view what,
                        std::uint64_t limit = std::numeric_limits<std::int64_t>::max()) {
  if (count < 0 || static_cast<std::uint64_t>(count) > limit) {
    throw E(core::detail::check_message(
        what, "must be a count in [0, " + std::to_string(limit) + "]", std::to_string(count)));
  }
  return static_cast<std::size_t>(count);
}

// The number of elements of `shape`; throws ShapeError when the product overflows std::size_t
// (or exceeds `limit`), naming `what` and the shape.
std::size_t checked_element_count(std::span<const std::size_t> shape, std::string_view what,
                                  std::size_t limit = std::numeric_limits<std::size_t>::max());

// a * b, or ShapeError naming `what` when the product overflows std::size_t.
std::size_t checked_product(std::size_t a, std::size_t b, std::string_view what);

}  // namespace maya
