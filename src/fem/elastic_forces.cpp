// The elastic forces as one fused node; the adjoint is element_kernels.hpp's elastic_force_vjp.
#include <string>
#include <utility>
#include <vector>

#include "fem/soft_body_ops.hpp"
#include "maya/core/error.hpp"

namespace maya::fem {

TensorVar elastic_forces(const SoftBody& body, TensorVar positions, const BodyParameters& params) {
  const detail::SoftBodyModel& model = body.model();
  detail::check_parameters(model, params, "fem::elastic_forces", false);
  const ShapeView shape = positions.shape();
  const Shape expected{model.num_vertices(), model.dim()};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError("fem::elastic_forces: positions of shape " + shape_string(shape) +
                     ", expected " + shape_string(expected));
  }
  TensorTape& tape = positions.tape();
  const bool actuated = params.actuation.valid();
  const TensorView actuation = actuated ? tape.view(params.actuation) : TensorView{};
  const detail::ElementInputs in = detail::element_inputs(
      model, tape.view(positions).values, tape.view(params.rest.inverse_edges),
      tape.view(params.rest.volumes), tape.view(params.lame.mu), tape.view(params.lame.lambda),
      actuated ? &actuation : nullptr);
  std::vector<TensorVar> inputs{positions, params.rest.inverse_edges, params.rest.volumes,
                                params.lame.mu, params.lame.lambda};
  if (actuated) inputs.push_back(params.actuation);
  tape.keep_alive(body.ops());
  return tape.record(body.ops()->elastic_forces, inputs, expected, [&](MutableTensorView out) {
    std::fill(out.values, out.values + out.numel(), 0.0);
    detail::dispatch(model.options.energy, model.dim(),
                     [&]<int D, template <int> class Material>() {
                       detail::add_elastic_forces<D, Material>(in, out.values);
                     });
  });
}

void detail::ElasticForceOp::backward(BackwardContext& context) const {
  // The inputs in recording order (the actuation only for an actuated body).
  enum Input : std::size_t { kPositions, kInverseEdges, kVolumes, kMu, kLambda, kActuation };
  const bool actuated = context.num_inputs() == kActuation + 1;
  const TensorView actuation = actuated ? context.input(kActuation) : TensorView{};
  const detail::ElementInputs in = detail::element_inputs(
      *model_, context.input(kPositions).values, context.input(kInverseEdges),
      context.input(kVolumes), context.input(kMu), context.input(kLambda),
      actuated ? &actuation : nullptr);
  detail::ElementGradients out;
  const std::pair<Input, double**> targets[] = {
      {kPositions, &out.positions}, {kInverseEdges, &out.inverse_edges},
      {kVolumes, &out.volumes},     {kMu, &out.mu},
      {kLambda, &out.lambda},       {kActuation, &out.actuation}};
  for (const auto& [slot, target] : targets) {
    if (slot < context.num_inputs() && context.needs_grad(slot)) {
      *target = context.grad_input(slot).values;
    }
  }
  detail::dispatch(model_->options.energy, model_->dim(),
                   [&]<int D, template <int> class Material>() {
                     detail::elastic_force_vjp<D, Material>(in, context.grad_output().values, out);
                   });
}

}  // namespace maya::fem
