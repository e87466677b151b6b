// The one exception hierarchy of maya. Every misuse or bad input throws a subclass of
// maya::Error whose message names the operation, the offending values and what would be valid.
#pragma once

#include <stdexcept>
#include <string>

namespace maya {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A Var/TensorVar used with the wrong tape, or after its tape was cleared or destroyed.
class TapeError : public Error {
 public:
  using Error::Error;
};

// Operands whose shapes cannot be combined, bad axes, out-of-range indices.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// An argument outside the domain an operation accepts (negative mass, dt <= 0, ...).
class ValueError : public Error {
 public:
  using Error::Error;
};

// Finite-check mode: an operation produced NaN or Inf.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

// Malformed input files (scenes, meshes, tasks).
class ParseError : public Error {
 public:
  using Error::Error;
};

// An iterative solver that did not reach its tolerance.
class ConvergenceError : public Error {
 public:
  using Error::Error;
};

}  // namespace maya

namespace maya {

// Values asked for on a device where they are not (a host view of a CUDA tensor), or a device
// this build does not support.
class DeviceError : public Error {
 public:
  using Error::Error;
};

}  // namespace maya
