// Messages of the checking vocabulary and the one number formatter.
#include "maya/core/check.hpp"

#include <charconv>
#include <cmath>

namespace maya {

std::string format_number(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::isinf(value)) {
    return value > 0 ? "inf" : "-inf";
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

namespace core::detail {

std::string check_message(std::string_view what, std::string_view rule, std::string_view value) {
  std::string message(what);
  message += ' ';
  message += rule;
  message += ", got ";
  message += value;
  return message;
}

std::string check_message(std::string_view what, std::string_view rule, double value) {
  return check_message(what, rule, format_number(value));
}

std::string range_rule(double low, double high) {
  return "must be in [" + format_number(low) + ", " + format_number(high) + "]";
}

std::string half_open_range_rule(double low, double high) {
  return "must be in [" + format_number(low) + ", " + format_number(high) + ")";
}

namespace {
std::string shape_text(std::span<const std::size_t> shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}
}  // namespace

}  // namespace core::detail

std::size_t checked_element_count(std::span<const std::size_t> shape, std::string_view what,
                                  std::size_t limit) {
  for (const std::size_t extent : shape) {
    if (extent == 0) {
      return 0;  // no elements, whatever the other extents
    }
  }
  std::size_t count = 1;
  for (const std::size_t extent : shape) {
    if (count > limit / extent) {
      throw ShapeError(std::string(what) + ": shape " + core::detail::shape_text(shape) +
                       " has more than " + std::to_string(limit) + " elements");
    }
    count *= extent;
  }
  return count;
}

std::size_t checked_product(std::size_t a, std::size_t b, std::string_view what) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) {
    throw ShapeError(std::string(what) + ": " + std::to_string(a) + " x " + std::to_string(b) +
                     " overflows the size of an array");
  }
  return a * b;
}

}  // namespace maya
