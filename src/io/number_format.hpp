// Number formatting shared by the writers: the shortest text that reads back to the same double
// (for data files) and a short human form (for messages and plot labels).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace maya::io::detail {

inline std::string shortest(double value) {
  if (!std::isfinite(value)) {
    return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// At most `digits` significant digits, trailing zeros dropped (%g).
inline std::string human(double value, int digits = 6) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

}  // namespace maya::io::detail
