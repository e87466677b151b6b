// One walking robot's rollout and its hand-written adjoint, phase by phase, shared by the CPU (one
// robot per thread: each phase a plain loop) and the GPU (tasks/cuda/: one thread block per
// robot, a barrier between phases). A phase's loop runs indices rank, rank + threads, ...; no two
// indices of one phase write the same value. The arithmetic is walk_distance's (walker.cpp), its
// composed twin: the controller network, the muscles' rest lengths, and MassSpringModel's fused
// semi-implicit step with ground contact and smoothed Coulomb friction (mass_spring_kernels.hpp).
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define MAYA_WALKER_HD __host__ __device__
#else
#define MAYA_WALKER_HD
#endif

namespace maya::tasks::detail {

// The robot, its controller's sizes and the rollout's constants (2-D, y up). Arrays are on the
// device that runs the phases.
struct WalkerLayout {
  int particles;               // N
  int springs;                 // S
  int muscles;                 // A
  int sines;                   // J
  int hidden;                  // H
  int inputs;                  // I = J + 4 N
  int steps;                   // T
  const int* first;            // [S]
  const int* second;           // [S]
  const int* incidence_begin;  // [N + 1]
  const int* incidence;        // [2 S]: (e << 1) | [i is e's first end], each particle's in order
  const int* muscle_of;        // [S]: the controller output that drives spring e, -1 for none
  const double* rest;          // [S]: L_e
  const double* start;         // [N, 2]: the positions at rest (the velocities start at zero)
  double mass;
  double stiffness;
  double damping;
  double actuation;
  double gravity[2];
  bool ground;
  double ground_height;
  double ground_stiffness;
  double ground_damping;
  double friction;       // mu
  double slip_velocity;  // eps
  double dt;
  double frequency;
  double position_scale;  // state_input / cell
  double velocity_scale;  // 0.1 state_input / cell
};

// A controller's values (and its gradient's) in one array [P]: W1 [I, H], b1 [H], W2 [H, A],
// b2 [A], each row-major as robot e's slice of the tensors of WalkerTraining::controllers().
MAYA_WALKER_HD inline int controller_size(const WalkerLayout& l) {
  return l.inputs * l.hidden + l.hidden + l.hidden * l.muscles + l.muscles;
}
struct Controller {
  double* w1;
  double* b1;
  double* w2;
  double* b2;
};
MAYA_WALKER_HD inline Controller controller_at(const WalkerLayout& l, double* values) {
  double* b1 = values + l.inputs * l.hidden;
  double* w2 = b1 + l.hidden;
  return {values, b1, w2, w2 + l.hidden * l.muscles};
}

// One robot's working arrays, carved from one block of walker_scratch_size doubles.
struct WalkerScratch {
  double* x;         // [N, 2]: the state at the current step
  double* v;         // [N, 2]
  double* input;     // [I]
  double* hidden;    // [H]
  double* action;    // [A]
  double* pull;      // [S, 2]: -f of each spring, F_b += pull and F_a -= pull
  double* g_x;       // [N, 2]: d loss / d state, from the step after back to the current one
  double* g_v;       // [N, 2]
  double* g_force;   // [N, 2]
  double* g_spring;  // [S, 4]: each spring's adjoint of x_b - x_a, then of v_b - v_a
  double* g_action;  // [A]: d loss / d action, then d loss / d (W2 h + b2)
  double* g_hidden;  // [H]: d loss / d (W1 input + b1)
  double* g_input;   // [I]
};
MAYA_WALKER_HD inline int walker_scratch_size(const WalkerLayout& l) {
  return 4 * l.particles + l.inputs + l.hidden + l.muscles + 2 * l.springs + 6 * l.particles +
         4 * l.springs + l.muscles + l.hidden + l.inputs;
}
MAYA_WALKER_HD inline WalkerScratch carve_scratch(const WalkerLayout& l, double* base) {
  WalkerScratch s{};
  const int nd = 2 * l.particles;
  s.x = base;
  s.v = s.x + nd;
  s.input = s.v + nd;
  s.hidden = s.input + l.inputs;
  s.action = s.hidden + l.hidden;
  s.pull = s.action + l.muscles;
  s.g_x = s.pull + 2 * l.springs;
  s.g_v = s.g_x + nd;
  s.g_force = s.g_v + nd;
  s.g_spring = s.g_force + nd;
  s.g_action = s.g_spring + 4 * l.springs;
  s.g_hidden = s.g_action + l.muscles;
  s.g_input = s.g_hidden + l.hidden;
  return s;
}

// Spring e's length, direction, closing velocity and force magnitude (SpringGeometry).
struct WalkerSpring {
  int a;  // the ends' offsets, index times 2
  int b;
  double rest;
  double length;
  double inverse_length;
  double unit[2];
  double closing[2];
  double closing_speed;
  double magnitude;

  // rest = L_e (1 + actuation a_m) for a muscle, L_e (1 + 0) for the others: the tape's
  // rest * (action M + 1) with M's one nonzero per muscle.
  MAYA_WALKER_HD WalkerSpring(const WalkerLayout& l, const WalkerScratch& s, int e) {
    a = 2 * l.first[e];
    b = 2 * l.second[e];
    const int muscle = l.muscle_of[e];
    rest = l.rest[e] * ((muscle >= 0 ? s.action[muscle] * l.actuation : 0.0) + 1.0);
    double squared = 0.0;
    for (int k = 0; k < 2; ++k) {
      unit[k] = s.x[b + k] - s.x[a + k];
      squared += unit[k] * unit[k];
    }
    length = sqrt(squared);
    inverse_length = 1.0 / length;
    closing_speed = 0.0;
    for (int k = 0; k < 2; ++k) {
      unit[k] *= inverse_length;
      closing[k] = s.v[b + k] - s.v[a + k];
      closing_speed += closing[k] * unit[k];
    }
    magnitude = l.stiffness * (length - rest) + l.damping * closing_speed;
  }
};

// The ground's penalty force on a particle along y (0 above the ground).
MAYA_WALKER_HD inline double walker_ground_force(const WalkerLayout& l, double y, double v_y) {
  const double penetration = l.ground_height - y;
  return penetration > 0.0 ? l.ground_stiffness * penetration - l.ground_damping * v_y : 0.0;
}

// ---- Forward ----------------------------------------------------------------------------------

// The network's input at step t: sin(2 pi (f t dt + j / J)), the positions about the robot's
// centre times position_scale, the velocities times velocity_scale.
MAYA_WALKER_HD inline void controller_input(const WalkerLayout& l, const WalkerScratch& s, int t,
                                            int rank, int threads) {
  const double time = l.dt * static_cast<double>(t);
  const int nd = 2 * l.particles;
  for (int j = rank; j < l.inputs; j += threads) {
    double value;
    if (j < l.sines) {
      constexpr double kPi = 3.14159265358979323846;
      value = sin(2.0 * kPi *
                  (l.frequency * time + static_cast<double>(j) / static_cast<double>(l.sines)));
    } else if (j < l.sines + nd) {
      const int k = j - l.sines;
      double centre = 0.0;
      for (int i = 0; i < l.particles; ++i) centre += s.x[2 * i + k % 2];
      centre /= static_cast<double>(l.particles);
      value = (s.x[k] - centre) * l.position_scale;
    } else {
      value = s.v[j - l.sines - nd] * l.velocity_scale;
    }
    s.input[j] = value;
  }
}

// h = tanh(input W1 + b1).
MAYA_WALKER_HD inline void hidden_layer(const WalkerLayout& l, const Controller& c,
                                        const WalkerScratch& s, int rank, int threads) {
  for (int h = rank; h < l.hidden; h += threads) {
    double z = 0.0;
    for (int i = 0; i < l.inputs; ++i) z += s.input[i] * c.w1[i * l.hidden + h];
    s.hidden[h] = tanh(z + c.b1[h]);
  }
}

// a = tanh(h W2 + b2).
MAYA_WALKER_HD inline void action_layer(const WalkerLayout& l, const Controller& c,
                                        const WalkerScratch& s, int rank, int threads) {
  for (int m = rank; m < l.muscles; m += threads) {
    double z = 0.0;
    for (int h = 0; h < l.hidden; ++h) z += s.hidden[h] * c.w2[h * l.muscles + m];
    s.action[m] = tanh(z + c.b2[m]);
  }
}

// Each spring's pull = -f = -(k (l - rest) + c closing speed) u.
MAYA_WALKER_HD inline void spring_pulls(const WalkerLayout& l, const WalkerScratch& s, int rank,
                                        int threads) {
  for (int e = rank; e < l.springs; e += threads) {
    const WalkerSpring spring(l, s, e);
    for (int k = 0; k < 2; ++k) s.pull[2 * e + k] = -(spring.magnitude * spring.unit[k]);
  }
}

// Each particle, in place: F = its springs' pulls in spring order, the ground's normal force and
// friction f_t = -mu f_n v_t / sqrt(v_t^2 + eps^2); v1 = v + dt F / m + dt g, x1 = x + dt v1.
MAYA_WALKER_HD inline void particle_steps(const WalkerLayout& l, const WalkerScratch& s, int rank,
                                          int threads) {
  const double dt_over_m = l.dt / l.mass;
  for (int i = rank; i < l.particles; i += threads) {
    double force[2] = {0.0, 0.0};
    for (int j = l.incidence_begin[i]; j < l.incidence_begin[i + 1]; ++j) {
      const int code = l.incidence[j];
      const double* pull = s.pull + 2 * (code >> 1);
      for (int k = 0; k < 2; ++k) force[k] += (code & 1) != 0 ? -pull[k] : pull[k];
    }
    double* x = s.x + 2 * i;
    double* v = s.v + 2 * i;
    if (l.ground) {
      const double normal = walker_ground_force(l, x[1], v[1]);
      force[1] += normal;
      if (l.friction > 0.0 && normal > 0.0) {
        const double slip_squared = l.slip_velocity * l.slip_velocity + v[0] * v[0];
        force[0] += -l.friction * normal / sqrt(slip_squared) * v[0];
      }
    }
    for (int k = 0; k < 2; ++k) {
      const double v1 = v[k] + dt_over_m * force[k] + l.dt * l.gravity[k];
      v[k] = v1;
      x[k] = x[k] + l.dt * v1;
    }
  }
}

// ---- Reverse (the loss's adjoint of the state after step t in g_x, g_v; the state at step t
// and the network's values at step t in x, v, input, hidden, action) -------------------------

// Through the integration and the ground: g_v1 total = g_v1 + dt g_x1, g_F = dt g_v1 total / m;
// f_n = k pen - c v_y (pen > 0) and its friction (mass_spring_kernels.hpp's adjoint).
MAYA_WALKER_HD inline void particles_adjoint(const WalkerLayout& l, const WalkerScratch& s,
                                             int rank, int threads) {
  const double dt_over_m = l.dt / l.mass;
  for (int i = rank; i < l.particles; i += threads) {
    double* g_x = s.g_x + 2 * i;
    double* g_v = s.g_v + 2 * i;
    double* g_f = s.g_force + 2 * i;
    for (int k = 0; k < 2; ++k) {
      const double g_v1_total = g_v[k] + l.dt * g_x[k];
      g_f[k] = dt_over_m * g_v1_total;
      g_v[k] = g_v1_total;
    }
    const double* x = s.x + 2 * i;
    const double* v = s.v + 2 * i;
    if (!l.ground || l.ground_height - x[1] <= 0.0) continue;
    double g_normal = g_f[1];
    if (l.friction > 0.0) {
      const double normal = walker_ground_force(l, x[1], v[1]);
      if (normal > 0.0) {
        // f_t = -mu f_n v_t / s, s = sqrt(v_t^2 + eps^2): d f_t / d f_n = -mu v_t / s,
        // d (v_t / s) / d v_t = (1 - v_t^2 / s^2) / s.
        const double slip_squared = l.slip_velocity * l.slip_velocity + v[0] * v[0];
        const double g_dot_v = g_f[0] * v[0];
        const double slip = sqrt(slip_squared);
        g_v[0] += -l.friction * normal / slip * (g_f[0] - v[0] * g_dot_v / slip_squared);
        g_normal += -l.friction * g_dot_v / slip;
      }
    }
    g_x[1] -= g_normal * l.ground_stiffness;
    g_v[1] -= g_normal * l.ground_damping;
  }
}

// Each spring: f = m u with F_a += f, F_b -= f, so g_f = g_F_a - g_F_b and g_m = g_f . u;
// m = k (l - rest) + c (closing . u) gives d loss / d rest = -k g_m, and d rest / d a =
// L_e actuation for a muscle. The adjoints of x_b - x_a and v_b - v_a go to g_spring.
MAYA_WALKER_HD inline void springs_adjoint(const WalkerLayout& l, const WalkerScratch& s, int rank,
                                           int threads) {
  for (int e = rank; e < l.springs; e += threads) {
    const WalkerSpring spring(l, s, e);
    double g_f[2];
    double g_magnitude = 0.0;
    for (int k = 0; k < 2; ++k) {
      g_f[k] = s.g_force[spring.a + k] - s.g_force[spring.b + k];
      g_magnitude += g_f[k] * spring.unit[k];
    }
    const int muscle = l.muscle_of[e];
    if (muscle >= 0) s.g_action[muscle] = -g_magnitude * l.stiffness * l.rest[e] * l.actuation;
    // u = d / l: d loss / d u projected normal to u and divided by l; l = |d| adds g_m k u.
    double g_unit[2];
    double along = 0.0;
    for (int k = 0; k < 2; ++k) {
      g_unit[k] = spring.magnitude * g_f[k] + g_magnitude * l.damping * spring.closing[k];
      along += g_unit[k] * spring.unit[k];
    }
    for (int k = 0; k < 2; ++k) {
      s.g_spring[4 * e + k] = (g_unit[k] - along * spring.unit[k]) * spring.inverse_length +
                              g_magnitude * l.stiffness * spring.unit[k];
      s.g_spring[4 * e + 2 + k] = g_magnitude * l.damping * spring.unit[k];
    }
  }
}

// Each particle sums its springs' adjoints (second end +, first end -) into g_x and g_v; each
// muscle's a = tanh(z): g_z = g_a (1 - a^2), which is also b2's gradient.
MAYA_WALKER_HD inline void gather_and_action_adjoint(const WalkerLayout& l, const Controller& grad,
                                                     const WalkerScratch& s, int rank,
                                                     int threads) {
  for (int i = rank; i < l.particles; i += threads) {
    for (int j = l.incidence_begin[i]; j < l.incidence_begin[i + 1]; ++j) {
      const int code = l.incidence[j];
      const double* g = s.g_spring + 4 * (code >> 1);
      const double sign = (code & 1) != 0 ? -1.0 : 1.0;
      for (int k = 0; k < 2; ++k) {
        s.g_x[2 * i + k] += sign * g[k];
        s.g_v[2 * i + k] += sign * g[2 + k];
      }
    }
  }
  for (int m = rank; m < l.muscles; m += threads) {
    const double g_z = s.g_action[m] * (1.0 - s.action[m] * s.action[m]);
    s.g_action[m] = g_z;
    grad.b2[m] += g_z;
  }
}

// z2 = h W2 + b2: g_W2 += h^T g_z2, g_h = W2 g_z2; h = tanh(z1): g_z1 = g_h (1 - h^2) = g_b1.
MAYA_WALKER_HD inline void hidden_adjoint(const WalkerLayout& l, const Controller& c,
                                          const Controller& grad, const WalkerScratch& s, int rank,
                                          int threads) {
  const int a = l.muscles;
  for (int p = rank; p < l.hidden * a; p += threads)
    grad.w2[p] += s.hidden[p / a] * s.g_action[p % a];
  for (int h = rank; h < l.hidden; h += threads) {
    // Row h of W2 read from column h mod A on: on the GPU neighbouring threads then read
    // different shared-memory banks (rows of A doubles would map several threads to one bank).
    double g = 0.0;
    for (int j = 0, m = h % a; j < a; ++j, m = m + 1 == a ? 0 : m + 1) {
      g += c.w2[h * a + m] * s.g_action[m];
    }
    const double g_z = g * (1.0 - s.hidden[h] * s.hidden[h]);
    s.g_hidden[h] = g_z;
    grad.b1[h] += g_z;
  }
}

// z1 = input W1 + b1: g_W1 += input^T g_z1, g_input = W1 g_z1 (its state part only).
MAYA_WALKER_HD inline void input_adjoint(const WalkerLayout& l, const Controller& c,
                                         const Controller& grad, const WalkerScratch& s, int rank,
                                         int threads) {
  const int h = l.hidden;
  for (int p = rank; p < l.inputs * h; p += threads)
    grad.w1[p] += s.input[p / h] * s.g_hidden[p % h];
  for (int i = l.sines + rank; i < l.inputs; i += threads) {
    // Row i of W1 from column i mod H on, for the same reason as hidden_adjoint's rows.
    double g = 0.0;
    for (int j = 0, k = i % h; j < h; ++j, k = k + 1 == h ? 0 : k + 1) {
      g += c.w1[i * h + k] * s.g_hidden[k];
    }
    s.g_input[i] = g;
  }
}

// The state inputs: (x - mean x) position_scale gives g_x += scale (g - mean g) per axis;
// v velocity_scale gives g_v += scale g.
MAYA_WALKER_HD inline void state_input_adjoint(const WalkerLayout& l, const WalkerScratch& s,
                                               int rank, int threads) {
  const int nd = 2 * l.particles;
  const double* g_position = s.g_input + l.sines;
  const double* g_velocity = g_position + nd;
  for (int k = rank; k < nd; k += threads) {
    double mean = 0.0;
    for (int i = 0; i < l.particles; ++i) mean += g_position[2 * i + k % 2];
    mean /= static_cast<double>(l.particles);
    s.g_x[k] += (g_position[k] - mean) * l.position_scale;
    s.g_v[k] += g_velocity[k] * l.velocity_scale;
  }
}

// ---- Whole rollouts on one thread (the CPU's; the GPU's kernels run the same phases) -----------

// The distance walked: the mean x of the particles at the end less at the start.
MAYA_WALKER_HD inline double walked(const WalkerLayout& l, const double* start, const double* end) {
  double from = 0.0;
  double to = 0.0;
  for (int i = 0; i < l.particles; ++i) {
    from += start[2 * i];
    to += end[2 * i];
  }
  return (to - from) / static_cast<double>(l.particles);
}

// One forward step: the network at step t, then the mass-spring step, in phases.
#define MAYA_WALKER_FORWARD_STEP(l, c, s, t, rank, threads, barrier) \
  do {                                                               \
    controller_input(l, s, t, rank, threads);                        \
    barrier;                                                         \
    hidden_layer(l, c, s, rank, threads);                            \
    barrier;                                                         \
    action_layer(l, c, s, rank, threads);                            \
    barrier;                                                         \
    spring_pulls(l, s, rank, threads);                               \
    barrier;                                                         \
    particle_steps(l, s, rank, threads);                             \
    barrier;                                                         \
  } while (false)

// One reverse step, with x, v the state at step t and g_x, g_v the adjoint after it.
#define MAYA_WALKER_REVERSE_STEP(l, c, grad, s, t, rank, threads, barrier) \
  do {                                                                     \
    controller_input(l, s, t, rank, threads);                              \
    particles_adjoint(l, s, rank, threads);                                \
    barrier;                                                               \
    hidden_layer(l, c, s, rank, threads);                                  \
    barrier;                                                               \
    action_layer(l, c, s, rank, threads);                                  \
    barrier;                                                               \
    springs_adjoint(l, s, rank, threads);                                  \
    barrier;                                                               \
    gather_and_action_adjoint(l, grad, s, rank, threads);                  \
    barrier;                                                               \
    hidden_adjoint(l, c, grad, s, rank, threads);                          \
    barrier;                                                               \
    input_adjoint(l, c, grad, s, rank, threads);                           \
    barrier;                                                               \
    state_input_adjoint(l, s, rank, threads);                              \
    barrier;                                                               \
  } while (false)

}  // namespace maya::tasks::detail
