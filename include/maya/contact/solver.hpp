// The velocity-level time-stepping problem of 2-D rigid bodies with joints, contacts and Coulomb
// friction, solved by a primal-dual interior-point method with complementarity relaxed to
// lambda_i s_i = smoothing, and differentiated at its solution by the implicit function theorem.
//
// Unknown: the post-step generalized velocities v+ (3 per body: vx, vy, omega), with
//   M v+ = q + G^T y + J_n^T lambda_n + J_t^T lambda_t        Newton-Euler with impulses
//   G v+ = g                                                  joints (equality rows)
//   0 <= lambda_n  perp  J_n v+ + b_n >= 0                    non-penetration, per contact
// and, per contact with friction mu > 0, the linearized cone of de Avila Belbute-Peres et al.
// (NeurIPS 2018) / Anitescu-Potra (1997) with directions +t and -t, lambda_t = beta+ - beta-:
//   0 <= beta+  perp   J_t v+ + gamma >= 0
//   0 <= beta-  perp  -J_t v+ + gamma >= 0
//   0 <= gamma  perp  mu lambda_n - beta+ - beta- >= 0        gamma = the slip speed
// In 3-D a contact has a second tangent direction b (bitangent_jacobian): the cone is the pyramid
// of the four directions +t, -t, +b, -b, all sharing gamma,
//   0 <= beta_d  perp  D_d v+ + gamma >= 0,   0 <= gamma  perp  mu lambda_n - sum_d beta_d >= 0,
// with lambda_t = beta_t+ - beta_t-, lambda_b = beta_b+ - beta_b-. Sliding along +-t or +-b it
// gives |lambda| = mu lambda_n against the slip exactly (docs/contact.md: align t with the slip).
// Every "0 <= a perp b >= 0" is solved as a b = smoothing with a, b > 0; smoothing -> 0 recovers
// the LCP, smoothing > 0 makes v+ a smooth function of the data.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace maya::contact {

// One step's data, dense and row-major, for n generalized velocities, me joint rows and nc
// contacts.
struct ContactProblem {
  std::size_t num_velocities = 0;        // n
  std::vector<double> mass;              // [n] the diagonal of M (m, m, I per 2-D body)
  std::vector<double> momentum;          // [n] q = M v- + dt f
  std::vector<double> joint_jacobian;    // [me, n] G
  std::vector<double> joint_target;      // [me] g
  std::vector<double> normal_jacobian;   // [nc, n] J_n
  std::vector<double> normal_offset;     // [nc] b_n (restitution and stabilization)
  std::vector<double> tangent_jacobian;  // [nc, n] J_t
  std::vector<double> friction;          // [nc] mu; 0 = frictionless (no friction unknowns)
  // [nc, n] J_b, a second tangent direction per contact (3-D); empty for the 2-D cone.
  std::vector<double> bitangent_jacobian;

  [[nodiscard]] bool three_dimensional() const noexcept { return !bitangent_jacobian.empty(); }
  [[nodiscard]] std::size_t num_joint_rows() const noexcept { return joint_target.size(); }
  [[nodiscard]] std::size_t num_contacts() const noexcept { return normal_offset.size(); }
};

// Which dense system each Newton step factors (see docs/contact.md); both give the same iterates
// up to rounding. Automatic picks the smaller: impulses for few contacts on many bodies
// (billiards), velocities for many contacts on few bodies (stacks).
enum class Reduction {
  kAutomatic,
  kImpulses,   // joint and contact impulses: size me + p (p = nc + 3 nc_friction)
  kVelocities  // velocities and joint impulses: size n + me
};

struct SolverOptions {
  // The barrier parameter mu of the paper: every complementarity product equals it at the
  // solution. In units of impulse x velocity; 1e-8 leaves a resting 1 kg body 1e-9 m high.
  double smoothing = 1e-8;
  // Scaled residuals of every equation, and |lambda_i s_i / smoothing - 1|.
  double tolerance = 1e-10;
  int max_iterations = 100;
  Reduction reduction = Reduction::kAutomatic;
};

struct ContactSolution {
  std::vector<double> velocity;          // [n] v+
  std::vector<double> joint_impulse;     // [me] y
  std::vector<double> normal_impulse;    // [nc] lambda_n
  std::vector<double> friction_impulse;  // [nc] lambda_t = beta+ - beta- (0 when frictionless)
  std::vector<double> normal_velocity;   // [nc] J_n v+ + b_n
  std::vector<double> slip;              // [nc] gamma (0 when frictionless)
  // [nc] lambda_b = beta_b+ - beta_b- along the second tangent (0 when frictionless or 2-D).
  std::vector<double> bitangent_impulse;
  // The interior-point unknowns z and s: lambda_n [nc], then beta+ (t), beta- (t), in 3-D
  // beta+ (b), beta- (b), then gamma, each for the contacts with friction in contact order. The derivative reads them.
  std::vector<double> multipliers;
  std::vector<double> slacks;
  int iterations = 0;
};

// d loss / d each entry of a ContactProblem, with the same layout.
struct ProblemGradient {
  std::vector<double> mass;
  std::vector<double> momentum;
  std::vector<double> joint_jacobian;
  std::vector<double> joint_target;
  std::vector<double> normal_jacobian;
  std::vector<double> normal_offset;
  std::vector<double> tangent_jacobian;
  std::vector<double> friction;  // 0 for frictionless contacts (the cone has no interior at 0)
  std::vector<double> bitangent_jacobian;  // empty for a 2-D problem
};

// Throws maya::ShapeError for inconsistent sizes, maya::ValueError for a non-positive mass,
// negative friction, non-finite data or bad options, maya::ValueError for a singular constraint
// system (redundant joints), and maya::ConvergenceError for an infeasible or non-converging solve.
[[nodiscard]] ContactSolution solve(const ContactProblem& problem,
                                    const SolverOptions& options = {});

// d loss / d problem data at a solution, by the implicit function theorem: one solve with the
// transposed KKT matrix. grad_velocity is d loss / d v+ [n]; the impulse gradients [nc] may be
// empty (zero); grad_bitangent_impulse only for a 3-D problem.
[[nodiscard]] ProblemGradient differentiate(const ContactProblem& problem,
                                            const ContactSolution& solution,
                                            const SolverOptions& options,
                                            std::span<const double> grad_velocity,
                                            std::span<const double> grad_normal_impulse = {},
                                            std::span<const double> grad_friction_impulse = {},
                                            std::span<const double> grad_bitangent_impulse = {});

// The same derivative by forward-mode differentiation of every solver iteration (unrolling):
// a reference for tests and for doubting users; its cost grows with the size of the problem
// times the number of its entries.
[[nodiscard]] ProblemGradient differentiate_unrolled(const ContactProblem& problem,
                                                     const SolverOptions& options,
                                                     std::span<const double> grad_velocity);

}  // namespace maya::contact
