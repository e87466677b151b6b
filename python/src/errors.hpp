// Raising maya's Python exceptions from the bindings themselves (checks Python-side input).
#pragma once

#include <string>

namespace maya::python {

// Raises maya.DTypeError (a TypeError) with `message`.
[[noreturn]] void raise_dtype_error(const std::string& message);

}  // namespace maya::python
