// A friction coefficient identified from an observed slide, through hard contact: a box thrown
// across an incline (its slip turns downhill as it slides) is recorded for 0.3 s with mu = 0.3;
// starting from a guess of 0.1, Newton's method on the squared misfit of the box's track, with
// the derivative from the tape (one fused hard-contact node per step, the solver differentiated
// implicitly) and the curvature by a secant, recovers mu. Exits 1 unless it does to 1e-8.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>
#include <vector>

namespace mb = maya::multibody;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

namespace {

constexpr double kDt = 1e-3;
constexpr int kSteps = 300;

mb::Model incline_with_box() {
  mb::Body box;
  box.name = "box";
  box.joint = mb::JointType::kFree;
  box.mass = 2.0;
  box.inertia = {2.0 * 0.0125 / 3.0, 2.0 * 0.0125 / 3.0, 2.0 * 0.02 / 3.0, 0, 0, 0};
  mb::Geom shape;
  shape.type = mb::ShapeType::kBox;
  shape.size = {0.1, 0.1, 0.05};
  box.geoms = {shape};
  mb::ModelOptions options;
  const double angle = 0.45, heading = 0.6;  // the incline: gravity tilted towards `heading`
  options.gravity = {9.81 * std::sin(angle) * std::cos(heading),
                     9.81 * std::sin(angle) * std::sin(heading), -9.81 * std::cos(angle)};
  options.planes = {mb::Plane{}};
  options.contact_model = mb::ContactModel::kHard;
  options.hard_contact.smoothing = 1e-6;
  return mb::Model({box}, {}, options);
}

std::vector<double> start(const mb::Model& model) {
  std::vector<double> x = model.zero_state();
  x[2] = 0.05;
  x[7] = -1.2 * std::sin(0.6);  // thrown across the slope
  x[8] = 1.2 * std::cos(0.6);
  return x;
}

// The box's (x, y) track over the slide.
std::vector<double> track(const mb::Model& model, std::vector<double> p) {
  std::vector<double> x = start(model), out;
  for (int t = 0; t < kSteps; ++t) {
    x = mb::step(model, p, x, {}, kDt);
    out.push_back(x[0]);
    out.push_back(x[1]);
  }
  return out;
}

// Misfit sum |track(mu) - observed|^2 and its derivative in mu, from the tape.
double misfit(const mb::Model& model, double mu, const std::vector<double>& observed,
              double& gradient) {
  std::vector<double> p = model.parameters();
  const std::size_t friction =
      p.size() - mb::ParameterLayout::kGlobal + mb::ParameterLayout::kFriction;
  p[friction] = mu;
  TensorTape tape;
  const TensorVar params = tape.var(Tensor::from_data(p, {p.size()}));
  const std::vector<double> x0 = start(model);
  TensorVar x = tape.constant(Tensor::from_data(x0, {x0.size()}));
  const TensorVar u = tape.constant(Tensor::zeros({0}));
  TensorVar loss = tape.constant(Tensor::zeros({}));
  for (int t = 0; t < kSteps; ++t) {
    x = mb::step(model, x, u, params, kDt);
    const TensorVar target = tape.constant(Tensor::from_data(
        {observed[2 * static_cast<std::size_t>(t)], observed[2 * static_cast<std::size_t>(t) + 1]},
        {2}));
    loss = loss + maya::sum(maya::square(maya::slice(x, 0, 0, 2) - target));
  }
  gradient = tape.grad(loss)[params].data()[friction];
  return tape.view(loss).values[0];
}

}  // namespace

int main() {
  const mb::Model model = incline_with_box();
  std::vector<double> truth = model.parameters();
  const std::size_t friction =
      truth.size() - mb::ParameterLayout::kGlobal + mb::ParameterLayout::kFriction;
  truth[friction] = 0.3;
  const std::vector<double> observed = track(model, truth);

  double mu = 0.1, previous_mu = 0.0, previous_gradient = 0.0;
  for (int iteration = 0; iteration < 30; ++iteration) {
    double gradient = 0.0;
    const double loss = misfit(model, mu, observed, gradient);
    std::printf("iteration %2d  mu %.10f  misfit %.3e  d misfit / d mu %+.3e\n", iteration, mu,
                loss, gradient);
    if (std::abs(gradient) < 1e-12) break;
    // Newton on d misfit / d mu = 0 with the curvature from the last two gradients (a first
    // step of 0.05 against the gradient to start).
    const double step = iteration == 0
                            ? (gradient > 0.0 ? -0.05 : 0.05)
                            : -gradient * (mu - previous_mu) / (gradient - previous_gradient);
    previous_mu = mu;
    previous_gradient = gradient;
    mu += step;
    if (std::abs(step) < 1e-12) break;
  }
  const double error = std::abs(mu - 0.3);
  std::printf("recovered mu = %.10f (true 0.3, error %.1e)\n", mu, error);
  return error < 1e-8 ? 0 : 1;
}
