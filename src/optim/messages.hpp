// Number formatting for maya::optim error messages: shortest form that names the value.
#pragma once

#include <sstream>
#include <string>

namespace maya::optim::detail {

inline std::string number_string(double value) {
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

}  // namespace maya::optim::detail
