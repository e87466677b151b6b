// maya's exception hierarchy in Python: maya.Error and one subclass per maya::Error subclass,
// each also a subclass of the built-in exception a Python user would catch (maya.ShapeError is a
// ValueError), raised with maya's message.
#include <Python.h>

#include <exception>

#include "bindings.hpp"
#include "errors.hpp"
#include "maya/core/error.hpp"
#include "maya/io/output_files.hpp"

namespace maya::python {

namespace {

PyObject* g_error = nullptr;
PyObject* g_tape_error = nullptr;
PyObject* g_shape_error = nullptr;
PyObject* g_value_error = nullptr;
PyObject* g_non_finite_error = nullptr;
PyObject* g_parse_error = nullptr;
PyObject* g_convergence_error = nullptr;
PyObject* g_device_error = nullptr;
PyObject* g_file_error = nullptr;
PyObject* g_dtype_error = nullptr;

PyObject* make_exception(py::module_& m, const char* name, const char* doc, PyObject* builtin) {
  const std::string qualified = std::string("maya.") + name;
  const py::tuple bases = py::make_tuple(py::handle(g_error), py::handle(builtin));
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.attr(name) = py::handle(type);
  return type;
}

}  // namespace

void raise_dtype_error(const std::string& message) {
  PyErr_SetString(g_dtype_error, message.c_str());
  throw py::error_already_set();
}

void register_errors(py::module_& m) {
  PyObject* base = PyErr_NewExceptionWithDoc("maya.Error", "Base of every exception maya raises.",
                                             PyExc_Exception, nullptr);
  if (base == nullptr) throw py::error_already_set();
  m.attr("Error") = py::handle(base);
  g_error = base;
  g_tape_error = make_exception(m, "TapeError",
                                "A Var/TensorVar of another tape, or of a tape cleared or gone.",
                                PyExc_RuntimeError);
  g_shape_error = make_exception(m, "ShapeError", "Shapes that cannot be combined, bad axes.",
                                 PyExc_ValueError);
  g_value_error =
      make_exception(m, "ValueError", "An argument outside the accepted domain.", PyExc_ValueError);
  g_non_finite_error = make_exception(m, "NonFiniteError", "An operation produced NaN or Inf.",
                                      PyExc_ArithmeticError);
  g_parse_error =
      make_exception(m, "ParseError", "A malformed scene, task or mesh file.", PyExc_ValueError);
  g_convergence_error =
      make_exception(m, "ConvergenceError", "An iterative solver that did not reach its tolerance.",
                     PyExc_RuntimeError);
  g_device_error =
      make_exception(m, "DeviceError", "Values asked for on the wrong device.", PyExc_RuntimeError);
  g_file_error =
      make_exception(m, "FileError", "A file that cannot be read or written.", PyExc_OSError);
  g_dtype_error = make_exception(
      m, "DTypeError", "An array whose dtype is not float64 (maya converts no values silently).",
      PyExc_TypeError);

  // Most derived first: a handler sees the first matching catch.
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const TapeError& e) {
      PyErr_SetString(g_tape_error, e.what());
    } catch (const ShapeError& e) {
      PyErr_SetString(g_shape_error, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(g_value_error, e.what());
    } catch (const NonFiniteError& e) {
      PyErr_SetString(g_non_finite_error, e.what());
    } catch (const ParseError& e) {
      PyErr_SetString(g_parse_error, e.what());
    } catch (const ConvergenceError& e) {
      PyErr_SetString(g_convergence_error, e.what());
    } catch (const DeviceError& e) {
      PyErr_SetString(g_device_error, e.what());
    } catch (const io::FileError& e) {
      PyErr_SetString(g_file_error, e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });
}

}  // namespace maya::python
