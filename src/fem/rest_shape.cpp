// Rest geometry as two fused nodes: B = D_m^-1 and W = det(D_m) / D! per element.
//   dB = -B dD_m B          =>  dL/dD_m = -B^T (dL/dB) B^T
//   dW = W tr(B dD_m)       =>  dL/dD_m = (dL/dW) W B^T
// and D_m's columns are x_a - x_0, so dL/dx_a is column a-1 and dL/dx_0 minus their sum.
#include <Eigen/Dense>
#include <string>

#include "fem/soft_body_ops.hpp"
#include "maya/core/error.hpp"

namespace maya::fem {
namespace {

constexpr double kFactorial[] = {1.0, 1.0, 2.0, 6.0};

template <int D>
detail::Mat<D> rest_edges(const double* x, const std::int64_t* element) {
  detail::Mat<D> edges;
  const double* x0 = x + static_cast<std::size_t>(element[0]) * D;
  for (int a = 1; a <= D; ++a) {
    const double* xa = x + static_cast<std::size_t>(element[a]) * D;
    for (int k = 0; k < D; ++k) edges(k, a - 1) = xa[k] - x0[k];
  }
  return edges;
}

template <int D>
void scatter_edge_gradient(const detail::Mat<D>& g, const std::int64_t* element, double* out) {
  double* o0 = out + static_cast<std::size_t>(element[0]) * D;
  for (int a = 1; a <= D; ++a) {
    double* oa = out + static_cast<std::size_t>(element[a]) * D;
    for (int k = 0; k < D; ++k) {
      oa[k] += g(k, a - 1);
      o0[k] -= g(k, a - 1);
    }
  }
}

// Throws maya::ValueError naming the first element whose volume is not positive.
template <int D>
void check_volumes(const double* x, const Mesh& mesh, const char* operation) {
  const std::int64_t* elements = mesh.elements().data();
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    const detail::Mat<D> edges = rest_edges<D>(x, elements + e * (D + 1));
    const double volume = edges.determinant() / kFactorial[D];
    const double longest = edges.colwise().norm().maxCoeff();
    if (!(volume > 1e-12 * std::pow(longest, D))) {
      std::string vertices;
      for (int a = 0; a <= D; ++a) {
        vertices += (a ? ", " : "") + std::to_string(elements[e * (D + 1) + a]);
      }
      throw ValueError(std::string(operation) + ": element " + std::to_string(e) + " (vertices " +
                       vertices + ") has " + (volume < 0.0 ? "negative" : "zero") +
                       " rest volume " + std::to_string(volume) +
                       " at the given rest positions (degenerate or inverted)");
    }
  }
}

template <int D>
void fill_rest(const double* x, const Mesh& mesh, double* inverse_edges, double* volumes) {
  const std::int64_t* elements = mesh.elements().data();
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    const detail::Mat<D> edges = rest_edges<D>(x, elements + e * (D + 1));
    if (inverse_edges != nullptr) {
      Eigen::Map<detail::RowMat<D>>(inverse_edges + e * D * D) = edges.inverse();
    }
    if (volumes != nullptr) volumes[e] = edges.determinant() / kFactorial[D];
  }
}

template <int D>
void rest_inverse_backward(const Mesh& mesh, const double* inverse_edges, const double* grad,
                           double* g_x) {
  const std::int64_t* elements = mesh.elements().data();
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    const detail::Mat<D> b = Eigen::Map<const detail::RowMat<D>>(inverse_edges + e * D * D);
    const detail::Mat<D> g_b = Eigen::Map<const detail::RowMat<D>>(grad + e * D * D);
    scatter_edge_gradient<D>(-b.transpose() * g_b * b.transpose(), elements + e * (D + 1), g_x);
  }
}

template <int D>
void rest_volume_backward(const double* x, const Mesh& mesh, const double* grad, double* g_x) {
  const std::int64_t* elements = mesh.elements().data();
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    // dW/dD_m = cof(D_m) / D!.
    const detail::Mat<D> edges = rest_edges<D>(x, elements + e * (D + 1));
    scatter_edge_gradient<D>((grad[e] / kFactorial[D]) * detail::cofactor(edges),
                             elements + e * (D + 1), g_x);
  }
}

}  // namespace

RestShape rest_shape(const SoftBody& body, TensorVar rest_positions) {
  const Mesh& mesh = body.mesh();
  const ShapeView shape = rest_positions.shape();
  const Shape expected{body.num_vertices(), body.dim()};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError("fem::rest_shape: rest positions of shape " + shape_string(shape) +
                     ", expected " + shape_string(expected));
  }
  TensorTape& tape = rest_positions.tape();
  const double* x = tape.view(rest_positions).values;
  const std::size_t m = body.num_elements();
  const std::size_t d = body.dim();
  if (d == 2) {
    check_volumes<2>(x, mesh, "fem::rest_shape");
  } else {
    check_volumes<3>(x, mesh, "fem::rest_shape");
  }
  const auto fill = [&](double* inverse_edges, double* volumes) {
    if (d == 2) {
      fill_rest<2>(x, mesh, inverse_edges, volumes);
    } else {
      fill_rest<3>(x, mesh, inverse_edges, volumes);
    }
  };
  tape.keep_alive(body.ops());
  RestShape rest;
  rest.inverse_edges = tape.record(body.ops()->rest_inverse, {rest_positions}, Shape{m, d, d},
                                   [&](MutableTensorView out) { fill(out.values, nullptr); });
  rest.volumes = tape.record(body.ops()->rest_volume, {rest_positions}, Shape{m},
                             [&](MutableTensorView out) { fill(nullptr, out.values); });
  return rest;
}

void detail::RestInverseOp::backward(BackwardContext& context) const {
  double* g_x = context.grad_input(0).values;
  if (model_->dim() == 2) {
    rest_inverse_backward<2>(model_->mesh, context.output().values, context.grad_output().values,
                             g_x);
  } else {
    rest_inverse_backward<3>(model_->mesh, context.output().values, context.grad_output().values,
                             g_x);
  }
}

void detail::RestVolumeOp::backward(BackwardContext& context) const {
  const double* x = context.input(0).values;
  double* g_x = context.grad_input(0).values;
  if (model_->dim() == 2) {
    rest_volume_backward<2>(x, model_->mesh, context.grad_output().values, g_x);
  } else {
    rest_volume_backward<3>(x, model_->mesh, context.grad_output().values, g_x);
  }
}

}  // namespace maya::fem
