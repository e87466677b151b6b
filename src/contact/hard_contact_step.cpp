// The hard-contact step as one tape node. Forward: the rigid layer's contact detection and
// geometry, the step problem (joints, contacts, momentum), the interior-point solve, then
// x+ = x + dt v+. Backward: the same problem rebuilt from the inputs and the saved contact list,
// the solver's implicit-function adjoint, then the chain rule through the rows by hand and
// through the contact geometry by the rigid layer's own adjoint. The rigid layer's detection and
// geometry are its private maya::detail code (src/rigid/contact_*.hpp), shared here rather than
// duplicated: a change to their signatures shows up as a compile error in this file.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "maya/contact/hard_contact_world.hpp"
#include "maya/core/error.hpp"
#include "rigid/contact_detection.hpp"
#include "rigid/contact_kernel.hpp"

namespace maya::contact {

namespace {

constexpr std::size_t kIntsPerContact = 5;
constexpr std::size_t kNumInputs = 7;

// Which term of b_n a contact uses.
enum class OffsetMode : int {
  kResting,      // pen <= slop: b_n = 0
  kStabilizing,  // b_n = -beta (pen - slop) / dt
  kRestituting,  // b_n = e J_n v-
  kCapped,       // b_n = -max_correction_speed: a deep overlap, resolved over several steps
};

}  // namespace

// A step's problem data, rebuilt identically by the forward and the backward pass.
class HardContactWorld2D::Assembly {
 public:
  struct Inputs {
    const double* state;
    const double* mass;
    const double* inertia;
    const double* vertices;
    const double* radius;
    const double* applied;
    const double* anchors;
    double dt;
  };

  Assembly(const HardContactWorld2D& world, const Inputs& in, Workspace& work)
      : world_(world), in_(in), k_(world.num_bodies()), work_(work) {
    frames_.resize(k_);
    rigid::detail::fill_frames(in.state, k_, frames_.data());
    contact_inputs_ = {frames_.data(), in.vertices, in.radius,
                       world.bodies_.options().grounds.data(), world.next_vertex_.data()};
  }

  // The contacts of the rigid layer's detection, but none between jointed bodies.
  void detect() {
    contacts_.clear();
    rigid::detail::for_each_ground_contact(
        world_.bodies_, contact_inputs_,
        [&](const rigid::Contact& c, const rigid::detail::Geometry&) { contacts_.push_back(c); });
    if (!world_.bodies_.options().body_contacts) return;
    auto pairs_memory = work_.borrow<rigid::Contact>();
    std::vector<rigid::Contact>& pairs = *pairs_memory;
    rigid::detail::find_pair_contacts(world_.bodies_, contact_inputs_, pairs, work_);
    for (const rigid::Contact& c : pairs) {
      const bool jointed =
          std::any_of(world_.joints_.begin(), world_.joints_.end(), [&](const RevoluteJoint& j) {
            return (j.body_a == c.body_a && j.body_b == c.body_b) ||
                   (j.body_a == c.body_b && j.body_b == c.body_a);
          });
      if (!jointed) contacts_.push_back(c);
    }
  }

  void take_contacts(std::span<const std::int64_t> ints) {
    contacts_.clear();
    for (std::size_t i = 0; i + kIntsPerContact <= ints.size(); i += kIntsPerContact) {
      rigid::Contact c;
      c.kind = static_cast<rigid::ContactKind>(ints[i]);
      c.body_a = static_cast<std::int32_t>(ints[i + 1]);
      c.feature_a = static_cast<std::int32_t>(ints[i + 2]);
      c.body_b = static_cast<std::int32_t>(ints[i + 3]);
      c.feature_b = static_cast<std::int32_t>(ints[i + 4]);
      contacts_.push_back(c);
    }
  }

  // Drops the contacts of `solution` that carry no load: a contact whose separation speed is at
  // least half of what its own impulse gives it (s_i >= lambda_i w_i / 2, w_i = J_n M^-1 J_n^T)
  // is held only by the barrier, which would otherwise keep pushing its bodies apart by about
  // sqrt(smoothing w_i) per step (an inelastic collision would end separating). A loaded contact
  // (a resting box, a collision) has s_i ~ smoothing / lambda_i, far below. True if any was
  // dropped; then the caller builds and solves again without them.
  bool drop_unloaded(const ContactSolution& solution) {
    const ContactProblem& p = problem_;
    const std::size_t n = p.num_velocities;
    std::vector<rigid::Contact> kept;
    for (std::size_t i = 0; i < contacts_.size(); ++i) {
      const double* row = p.normal_jacobian.data() + i * n;
      double w = 0.0;
      for (std::size_t j = 0; j < n; ++j) w += row[j] * row[j] / p.mass[j];
      const double own = solution.normal_impulse[i] * w;
      const bool unloaded =
          modes_[i] == OffsetMode::kResting && solution.normal_velocity[i] >= 0.5 * own;
      if (!unloaded) kept.push_back(contacts_[i]);
    }
    if (kept.size() == contacts_.size()) return false;
    contacts_ = std::move(kept);
    return true;
  }

  void save_contacts(std::vector<std::int64_t>& ints) const {
    ints.clear();
    for (const rigid::Contact& c : contacts_) {
      for (const std::int64_t v :
           {static_cast<std::int64_t>(c.kind), static_cast<std::int64_t>(c.body_a),
            static_cast<std::int64_t>(c.feature_a), static_cast<std::int64_t>(c.body_b),
            static_cast<std::int64_t>(c.feature_b)}) {
        ints.push_back(v);
      }
    }
  }

  void build() {
    const std::size_t n = 3 * k_;
    const std::size_t nj = world_.joints_.size();
    const std::size_t nc = contacts_.size();
    const double dt = in_.dt;
    const double beta = world_.options_.stabilization;
    const rigid::Vec2 gravity = world_.bodies_.options().gravity;
    const double* velocity = in_.state + n;
    ContactProblem& p = problem_;
    p.num_velocities = n;
    p.mass.resize(n);
    p.momentum.resize(n);
    const double damping[3] = {world_.bodies_.options().linear_damping,
                               world_.bodies_.options().linear_damping,
                               world_.bodies_.options().angular_damping};
    for (std::size_t b = 0; b < k_; ++b) {
      const double moment[3] = {in_.mass[b], in_.mass[b], in_.inertia[b]};
      const double g[3] = {gravity.x, gravity.y, 0.0};
      for (std::size_t j = 0; j < 3; ++j) {
        const std::size_t i = 3 * b + j;
        p.mass[i] = moment[j];
        p.momentum[i] =
            moment[j] * ((1.0 - dt * damping[j]) * velocity[i] + dt * g[j]) + dt * in_.applied[i];
      }
    }

    // Joints: rows x and y of d/dt (x_a + u_a - x_b - u_b), u = R(theta) r.
    p.joint_jacobian.assign(2 * nj * n, 0.0);
    p.joint_target.resize(2 * nj);
    for (std::size_t j = 0; j < nj; ++j) {
      const JointGeometry g = joint_geometry(j);
      double* row_x = p.joint_jacobian.data() + 2 * j * n;
      double* row_y = row_x + n;
      const auto a = static_cast<std::size_t>(world_.joints_[j].body_a);
      row_x[3 * a] = 1.0;
      row_x[3 * a + 2] = -g.arm_a.y;
      row_y[3 * a + 1] = 1.0;
      row_y[3 * a + 2] = g.arm_a.x;
      if (world_.joints_[j].body_b != kWorld) {
        const auto b = static_cast<std::size_t>(world_.joints_[j].body_b);
        row_x[3 * b] = -1.0;
        row_x[3 * b + 2] = g.arm_b.y;
        row_y[3 * b + 1] = -1.0;
        row_y[3 * b + 2] = -g.arm_b.x;
      }
      p.joint_target[2 * j] = -beta / dt * g.error.x;
      p.joint_target[2 * j + 1] = -beta / dt * g.error.y;
    }

    // Contacts: J_n v = n . (v_b(p) - v_a(p)), J_t likewise along t.
    p.normal_jacobian.assign(nc * n, 0.0);
    p.tangent_jacobian.assign(nc * n, 0.0);
    p.normal_offset.resize(nc);
    p.friction.resize(nc);
    geometry_.resize(nc);
    modes_.resize(nc);
    restitution_.resize(nc);
    for (std::size_t i = 0; i < nc; ++i) {
      const rigid::Contact& c = contacts_[i];
      const rigid::detail::Geometry g = rigid::detail::contact_geometry(
          contact_inputs_, c.kind, c.body_a, c.feature_a, c.body_b, c.feature_b);
      geometry_[i] = g;
      const rigid::detail::V2 t = rigid::detail::perp(g.normal);
      double* normal_row = p.normal_jacobian.data() + i * n;
      double* tangent_row = p.tangent_jacobian.data() + i * n;
      fill_rows(c.body_b, g, t, 1.0, normal_row, tangent_row);
      if (c.body_a >= 0) fill_rows(c.body_a, g, t, -1.0, normal_row, tangent_row);
      const SurfaceMaterial ma =
          world_.material_of(c.kind == rigid::ContactKind::kGround ? kWorld : c.body_a);
      const SurfaceMaterial mb = world_.material_of(c.body_b);
      p.friction[i] = std::sqrt(ma.friction * mb.friction);
      restitution_[i] = std::max(ma.restitution, mb.restitution);
      double approach = 0.0;  // J_n v-
      for (std::size_t j = 0; j < n; ++j) approach += normal_row[j] * velocity[j];
      const double excess = g.depth - world_.options_.slop;
      const double cap = world_.options_.max_correction_speed;
      const bool capped = excess > 0.0 && beta * excess / dt > cap;
      const double stabilizing = capped ? -cap : excess > 0.0 ? -beta * excess / dt : 0.0;
      if (restitution_[i] > 0.0 && approach < 0.0 && restitution_[i] * approach < stabilizing) {
        modes_[i] = OffsetMode::kRestituting;
        p.normal_offset[i] = restitution_[i] * approach;
      } else {
        modes_[i] = capped         ? OffsetMode::kCapped
                    : excess > 0.0 ? OffsetMode::kStabilizing
                                   : OffsetMode::kResting;
        p.normal_offset[i] = stabilizing;
      }
    }
  }

  // d loss / d inputs from d loss / d problem data (the solver's adjoint).
  void backward(const ProblemGradient& g, double* g_state, double* g_mass, double* g_inertia,
                double* g_vertices, double* g_radius, double* g_applied, double* g_anchors) {
    const std::size_t n = 3 * k_;
    const double dt = in_.dt;
    const double beta = world_.options_.stabilization;
    const rigid::Vec2 gravity = world_.bodies_.options().gravity;
    const double* velocity = in_.state + n;
    double* g_pose = g_state;
    double* g_velocity = g_state != nullptr ? g_state + n : nullptr;

    // q = M ((1 - dt lambda) v + dt g) + dt applied, and M itself.
    const double damping[3] = {world_.bodies_.options().linear_damping,
                               world_.bodies_.options().linear_damping,
                               world_.bodies_.options().angular_damping};
    for (std::size_t b = 0; b < k_; ++b) {
      const double moment[3] = {in_.mass[b], in_.mass[b], in_.inertia[b]};
      const double gr[3] = {gravity.x, gravity.y, 0.0};
      double g_moment[3];
      for (std::size_t j = 0; j < 3; ++j) {
        const std::size_t i = 3 * b + j;
        const double kept = 1.0 - dt * damping[j];
        if (g_velocity != nullptr) g_velocity[i] += moment[j] * kept * g.momentum[i];
        if (g_applied != nullptr) g_applied[i] += dt * g.momentum[i];
        g_moment[j] = g.mass[i] + g.momentum[i] * (kept * velocity[i] + dt * gr[j]);
      }
      if (g_mass != nullptr) g_mass[b] += g_moment[0] + g_moment[1];
      if (g_inertia != nullptr) g_inertia[b] += g_moment[2];
    }

    // Joints: G's angular entries (-u_a.y, u_a.x, u_b.y, -u_b.x) and g = -beta C / dt.
    for (std::size_t j = 0; j < world_.joints_.size() && (g_pose || g_anchors); ++j) {
      const JointGeometry geo = joint_geometry(j);
      const RevoluteJoint& joint = world_.joints_[j];
      const double* d_row_x = g.joint_jacobian.data() + 2 * j * n;
      const double* d_row_y = d_row_x + n;
      const auto a = static_cast<std::size_t>(joint.body_a);
      const rigid::detail::V2 g_error{-beta / dt * g.joint_target[2 * j],
                                      -beta / dt * g.joint_target[2 * j + 1]};
      rigid::detail::V2 g_arm_a{d_row_y[3 * a + 2], -d_row_x[3 * a + 2]};
      g_arm_a += g_error;
      double* g_anchor = g_anchors != nullptr ? g_anchors + 4 * j : nullptr;
      add_arm_gradient(joint.body_a, geo.arm_a, g_arm_a, g_pose, g_anchor);
      if (g_pose != nullptr) {
        g_pose[3 * a] += g_error.x;
        g_pose[3 * a + 1] += g_error.y;
      }
      if (joint.body_b == kWorld) {
        if (g_anchor != nullptr) {
          g_anchor[2] -= g_error.x;
          g_anchor[3] -= g_error.y;
        }
        continue;
      }
      const auto b = static_cast<std::size_t>(joint.body_b);
      rigid::detail::V2 g_arm_b{-d_row_y[3 * b + 2], d_row_x[3 * b + 2]};
      g_arm_b -= g_error;
      add_arm_gradient(joint.body_b, geo.arm_b, g_arm_b, g_pose,
                       g_anchor != nullptr ? g_anchor + 2 : nullptr);
      if (g_pose != nullptr) {
        g_pose[3 * b] -= g_error.x;
        g_pose[3 * b + 1] -= g_error.y;
      }
    }

    // Contacts: rows from (n, p, x), b_n from pen (or from J_n v-), then the geometry's adjoint.
    rigid::detail::GradientSinks sinks;
    sinks.pose = g_pose;
    sinks.vertices = g_vertices;
    sinks.radius = g_radius;
    for (std::size_t i = 0; i < contacts_.size(); ++i) {
      const rigid::Contact& c = contacts_[i];
      const rigid::detail::Geometry& geo = geometry_[i];
      const double* d_normal_row = g.normal_jacobian.data() + i * n;
      const double* d_tangent_row = g.tangent_jacobian.data() + i * n;
      const double* normal_row = problem_.normal_jacobian.data() + i * n;
      const double g_offset = g.normal_offset[i];
      rigid::detail::GeometryAdjoint adj;
      // b_n = e J_n v-: J_n gains e g_b v-, and v- gains e g_b J_n.
      const double restituting =
          modes_[i] == OffsetMode::kRestituting ? restitution_[i] * g_offset : 0.0;
      if (modes_[i] == OffsetMode::kStabilizing) adj.depth -= beta / dt * g_offset;
      if (restituting != 0.0 && g_velocity != nullptr) {
        for (std::size_t j = 0; j < n; ++j) g_velocity[j] += restituting * normal_row[j];
      }
      const rigid::detail::V2 t = rigid::detail::perp(geo.normal);
      rigid::detail::V2 g_tangent;
      for (const std::int32_t body : {c.body_b, c.body_a}) {
        if (body < 0) continue;
        const double sign = body == c.body_b ? 1.0 : -1.0;
        const auto s = static_cast<std::size_t>(body);
        const rigid::detail::V2 arm = geo.point - frames_[s].position;
        const double dn[3] = {d_normal_row[3 * s] + restituting * velocity[3 * s],
                              d_normal_row[3 * s + 1] + restituting * velocity[3 * s + 1],
                              d_normal_row[3 * s + 2] + restituting * velocity[3 * s + 2]};
        const double* dt_row = d_tangent_row + 3 * s;
        // row = sign (d, arm x d) for d = n and d = t: d (arm x d)/d arm = (d_y, -d_x) and
        // d (arm x d)/d d = perp(arm).
        adj.normal += sign * (rigid::detail::V2{dn[0], dn[1]} + dn[2] * rigid::detail::perp(arm));
        g_tangent +=
            sign * (rigid::detail::V2{dt_row[0], dt_row[1]} + dt_row[2] * rigid::detail::perp(arm));
        const rigid::detail::V2 g_arm =
            sign * (dn[2] * rigid::detail::V2{geo.normal.y, -geo.normal.x} +
                    dt_row[2] * rigid::detail::V2{t.y, -t.x});
        adj.point += g_arm;
        if (g_pose != nullptr) {
          g_pose[3 * s] -= g_arm.x;
          g_pose[3 * s + 1] -= g_arm.y;
        }
      }
      // t = (-n_y, n_x)
      adj.normal += rigid::detail::V2{g_tangent.y, -g_tangent.x};
      rigid::detail::contact_geometry_backward(contact_inputs_, geo, adj, c.kind, c.body_a,
                                               c.feature_a, c.body_b, c.feature_b, sinks);
    }
  }

  [[nodiscard]] const ContactProblem& problem() const noexcept { return problem_; }

 private:
  struct JointGeometry {
    rigid::detail::V2 arm_a;  // R(theta_a) r_a
    rigid::detail::V2 arm_b;  // R(theta_b) r_b, or the world point
    rigid::detail::V2 error;  // C
  };

  [[nodiscard]] JointGeometry joint_geometry(std::size_t j) const {
    const RevoluteJoint& joint = world_.joints_[j];
    const double* r = in_.anchors + 4 * j;
    const rigid::detail::BodyFrame& fa = frames_[static_cast<std::size_t>(joint.body_a)];
    JointGeometry g;
    g.arm_a = fa.rotate({r[0], r[1]});
    rigid::detail::V2 point_b{r[2], r[3]};
    if (joint.body_b != kWorld) {
      const rigid::detail::BodyFrame& fb = frames_[static_cast<std::size_t>(joint.body_b)];
      g.arm_b = fb.rotate(point_b);
      point_b = fb.position + g.arm_b;
    }
    g.error = fa.position + g.arm_a - point_b;
    return g;
  }

  // u = R(theta) r: d/dtheta = perp(u), d/dr = R^T.
  void add_arm_gradient(std::int32_t body, rigid::detail::V2 arm, rigid::detail::V2 g_arm,
                        double* g_pose, double* g_anchor) const {
    const auto s = static_cast<std::size_t>(body);
    if (g_pose != nullptr) g_pose[3 * s + 2] += rigid::detail::dot(g_arm, rigid::detail::perp(arm));
    if (g_anchor != nullptr) {
      const rigid::detail::V2 local = frames_[s].unrotate(g_arm);
      g_anchor[0] += local.x;
      g_anchor[1] += local.y;
    }
  }

  void fill_rows(std::int32_t body, const rigid::detail::Geometry& g, rigid::detail::V2 t,
                 double sign, double* normal_row, double* tangent_row) const {
    const auto s = static_cast<std::size_t>(body);
    const rigid::detail::V2 arm = g.point - frames_[s].position;
    normal_row[3 * s] += sign * g.normal.x;
    normal_row[3 * s + 1] += sign * g.normal.y;
    normal_row[3 * s + 2] += sign * rigid::detail::cross(arm, g.normal);
    tangent_row[3 * s] += sign * t.x;
    tangent_row[3 * s + 1] += sign * t.y;
    tangent_row[3 * s + 2] += sign * rigid::detail::cross(arm, t);
  }

  const HardContactWorld2D& world_;
  Inputs in_;
  std::size_t k_;
  Workspace& work_;
  std::vector<rigid::detail::BodyFrame> frames_;
  rigid::detail::ContactInputs contact_inputs_{};
  std::vector<rigid::Contact> contacts_;
  std::vector<rigid::detail::Geometry> geometry_;
  std::vector<OffsetMode> modes_;
  std::vector<double> restitution_;
  ContactProblem problem_;
};

TensorVar HardContactWorld2D::step(TensorVar state, const HardContactParameters& params,
                                   double dt) const {
  check_inputs(state, params, dt);
  TensorTape& tape = state.tape();
  const TensorVar inputs[kNumInputs] = {state,           params.mass,   params.inertia,
                                        params.vertices, params.radius, params.applied,
                                        params.anchors};
  for (const TensorVar input : inputs) tape.check_owned(input, "hard_contact_step");
  const std::size_t k = num_bodies();
  const double* x = tape.view(state).values;
  Assembly assembly(*this,
                    {x, tape.view(params.mass).values, tape.view(params.inertia).values,
                     tape.view(params.vertices).values, tape.view(params.radius).values,
                     tape.view(params.applied).values, tape.view(params.anchors).values, dt},
                    tape.workspace());
  assembly.detect();
  assembly.build();
  ContactSolution solution = solve(assembly.problem(), options_.solver);
  if (assembly.drop_unloaded(solution)) {
    assembly.build();
    solution = solve(assembly.problem(), options_.solver);
  }

  // Saved for the reverse sweep: dt, then y, z and s; the contact list as ints.
  auto saved_memory = tape.workspace().borrow<double>();
  auto saved_ints_memory = tape.workspace().borrow<std::int64_t>();
  std::vector<double>& saved = *saved_memory;
  std::vector<std::int64_t>& saved_ints = *saved_ints_memory;
  saved.assign(1, dt);
  const bool differentiable = std::any_of(std::begin(inputs), std::end(inputs),
                                          [&](TensorVar v) { return tape.requires_grad(v); });
  if (differentiable) {
    saved.insert(saved.end(), solution.joint_impulse.begin(), solution.joint_impulse.end());
    saved.insert(saved.end(), solution.multipliers.begin(), solution.multipliers.end());
    saved.insert(saved.end(), solution.slacks.begin(), solution.slacks.end());
    assembly.save_contacts(saved_ints);
  }
  const Shape shape{2, k, 3};
  tape.keep_alive(step_op_);
  return tape.record(
      *step_op_, std::span<const TensorVar>(inputs, kNumInputs), shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0; i < 3 * k; ++i) {
          out[3 * k + i] = solution.velocity[i];
          out[i] = x[i] + dt * solution.velocity[i];
        }
      },
      SavedData{saved, saved_ints});
}

void HardContactWorld2D::StepOp::backward(BackwardContext& context) const {
  const HardContactWorld2D& world = *world_;
  const std::size_t k = world.num_bodies();
  const std::size_t n = 3 * k;
  const std::span<const double> saved = context.saved();
  const double dt = saved[0];
  Assembly assembly(world,
                    {context.input(0).values, context.input(1).values, context.input(2).values,
                     context.input(3).values, context.input(4).values, context.input(5).values,
                     context.input(6).values, dt},
                    context.workspace());
  assembly.take_contacts(context.saved_ints());
  assembly.build();
  const ContactProblem& problem = assembly.problem();

  ContactSolution solution;
  const double* output = context.output().values;
  solution.velocity.assign(output + n, output + 2 * n);
  const std::size_t me = problem.num_joint_rows();
  const std::size_t pairs = (saved.size() - 1 - me) / 2;
  const auto y = saved.begin() + 1;
  const auto z = y + static_cast<long>(me);
  solution.joint_impulse.assign(y, z);
  solution.multipliers.assign(z, z + static_cast<long>(pairs));
  solution.slacks.assign(z + static_cast<long>(pairs), z + 2 * static_cast<long>(pairs));

  // x+ = x + dt v+: the adjoint reaching v+ is g_v+ + dt g_x+, and x gets g_x+ directly.
  const double* g_pose1 = context.grad_output().values;
  const double* g_velocity1 = g_pose1 + n;
  auto g_velocity_total_memory = context.workspace().borrow<double>(n);
  std::vector<double>& g_velocity_total = *g_velocity_total_memory;
  for (std::size_t i = 0; i < n; ++i) g_velocity_total[i] = g_velocity1[i] + dt * g_pose1[i];
  const ProblemGradient g =
      differentiate(problem, solution, world.options_.solver, g_velocity_total);

  const auto sink = [&](std::size_t i) {
    return context.needs_grad(i) ? context.grad_input(i).values : nullptr;
  };
  double* g_state = sink(0);
  if (g_state != nullptr) {
    for (std::size_t i = 0; i < n; ++i) g_state[i] += g_pose1[i];
  }
  assembly.backward(g, g_state, sink(1), sink(2), sink(3), sink(4), sink(5), sink(6));
}

}  // namespace maya::contact
