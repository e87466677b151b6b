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

// A linear solve that met a matrix that is not positive definite (negative curvature in
// conjugate gradients, a non-positive pivot); the caller may retry with another matrix or solver.
class IndefiniteMatrix : public ConvergenceError {
 public:
  using ConvergenceError::ConvergenceError;
};

// A file or directory that cannot be read or written (missing input, unwritable output).
class FileError : public Error {
 public:
  using Error::Error;
};

// A simulation whose state became non-finite or left the range the physics can represent (a
// blow-up: dt above the stability limit, absurd parameters).
class BlowUpError : public NonFiniteError {
 public:
  using NonFiniteError::NonFiniteError;
};

// Values asked for on a device where they are not (a host view of a CUDA tensor), or a device
// this build does not support.
class DeviceError : public Error {
 public:
  using Error::Error;
};

}  // namespace maya
