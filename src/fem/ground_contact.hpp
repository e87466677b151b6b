// Penalty ground contact per vertex (soft_body.hpp gives the model), with the derivatives the
// explicit node's adjoint and the implicit Newton matrix and adjoint need. With pen = h - x_up,
// s = v_t / q, q = sqrt(|v_t|^2 + eps^2) and ds/dv_t = (I - s s^T) / q:
//   explicit (x, v):  f_up = pen (k - c v_up),  f_t = -mu_f k pen s(v_t)
//     df_up/dx_up = -(k - c v_up), df_up/dv_up = -c pen,
//     df_t/dx_up = mu_f k s,       df_t/dv_t = -mu_f k pen (I - s s^T) / q
//   implicit (x1; x0, dt), v1 = (x1 - x0) / dt, friction load N0 = k pen(x0):
//     f_up = pen1 (k - c v1_up),   f_t = -mu_f N0 s(v1_t)
//     -df_up/dx1_up = (k - c v1_up) + c pen1 / dt,  df_up/dx0_up = c pen1 / dt
//     -df_t/dx1_t = df_t/dx0_t = mu_f N0 (I - s s^T) / (q dt),  df_t/dx0_up = mu_f k s
//   static: f_up = k pen1, no friction.
// The implicit forces are minus the gradient of a potential in x1 (for Newton's line search):
//   pen1^2/2 (k - c (h - x0_up)/dt) + c pen1^3 / (3 dt)  +  mu_f N0 dt q(v1_t)
//   (k pen1^2/2 when static)
// The explicit law's per-vertex functions are compiled for the device too (the GPU rollout).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fem/host_device.hpp"
#include "maya/fem/soft_body.hpp"

namespace maya::fem::detail {

class GroundKernel {
 public:
  // `pinned`: [N] flags (host or device memory, as the caller runs).
  MAYA_FEM_HD GroundKernel(const GroundContact& ground, std::size_t dim, const std::uint8_t* pinned)
      : ground_(ground), dim_(dim), pinned_(pinned) {}

  [[nodiscard]] MAYA_FEM_HD bool active() const noexcept { return ground_.enabled; }

  void add_explicit_forces(const double* x, const double* v, std::size_t n, double* f) const {
    for (std::size_t i = 0; active() && i < n; ++i) add_explicit_force(i, x, v, f + i * dim_);
  }

  // Vertex i's explicit force, added into its D entries f_i.
  MAYA_FEM_HD void add_explicit_force(std::size_t i, const double* x, const double* v,
                                      double* f_i) const {
    const Vertex c = vertex(i, x, v);
    if (!c.touching) return;
    f_i[up()] += c.pen * (k() - ground_.damping * v[i * dim_ + up()]);
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) f_i[t] -= ground_.friction * k() * c.pen * c.slip[t];
    }
  }

  void explicit_vjp(const double* x, const double* v, std::size_t n, const double* g, double* g_x,
                    double* g_v) const {
    for (std::size_t i = 0; active() && i < n; ++i) {
      explicit_vjp_vertex(i, x, v, g + i * dim_, g_x != nullptr ? g_x + i * dim_ : nullptr,
                          g_v != nullptr ? g_v + i * dim_ : nullptr);
    }
  }

  // Vertex i's part of explicit_vjp, with g_i its output gradient: g_x_i, g_v_i (its D entries)
  // += g_i^T df/dx, g_i^T df/dv (nullptr: skipped).
  MAYA_FEM_HD void explicit_vjp_vertex(std::size_t i, const double* x, const double* v,
                                       const double* g_i, double* g_x_i, double* g_v_i) const {
    const Vertex c = vertex(i, x, v);
    if (!c.touching) return;
    const double load = ground_.friction * k();  // mu_f k
    if (g_x_i != nullptr) {
      double total = -g_i[up()] * (k() - ground_.damping * v[i * dim_ + up()]);
      for (std::size_t t = 0; t < dim_; ++t) {
        if (t != up()) total += g_i[t] * load * c.slip[t];
      }
      g_x_i[up()] += total;
    }
    if (g_v_i != nullptr) {
      g_v_i[up()] -= g_i[up()] * ground_.damping * c.pen;
      add_projected(g_i, c, -load * c.pen / c.q, g_v_i);
    }
  }

  // Implicit forces at x1 given the start x0 (dt > 0), or static ones (dt = 0).
  void add_implicit_forces(const double* x1, const double* x0, double dt, std::size_t n,
                           double* f) const {
    for (std::size_t i = 0; active() && i < n; ++i) {
      if (pinned_[i]) continue;
      const double pen1 = ground_.height - x1[i * dim_ + up()];
      if (pen1 > 0.0) {
        const double v_up = dt > 0.0 ? (x1[i * dim_ + up()] - x0[i * dim_ + up()]) / dt : 0.0;
        f[i * dim_ + up()] += pen1 * (k() - ground_.damping * v_up);
      }
      if (dt <= 0.0) continue;
      const Vertex c = lagged(i, x1, x0, dt);
      if (!c.touching) continue;
      for (std::size_t t = 0; t < dim_; ++t) {
        if (t != up()) f[i * dim_ + t] -= ground_.friction * k() * c.pen * c.slip[t];
      }
    }
  }

  [[nodiscard]] double implicit_energy(const double* x1, const double* x0, double dt,
                                       std::size_t n) const {
    double total = 0.0;
    for (std::size_t i = 0; active() && i < n; ++i) {
      if (pinned_[i]) continue;
      const double pen1 = ground_.height - x1[i * dim_ + up()];
      if (pen1 > 0.0) {
        if (dt > 0.0) {
          const double pen0 = ground_.height - x0[i * dim_ + up()];
          total += 0.5 * pen1 * pen1 * (k() - ground_.damping * pen0 / dt) +
                   ground_.damping * pen1 * pen1 * pen1 / (3.0 * dt);
        } else {
          total += 0.5 * k() * pen1 * pen1;
        }
      }
      if (dt <= 0.0) continue;
      const Vertex c = lagged(i, x1, x0, dt);
      if (c.touching) total += ground_.friction * k() * c.pen * dt * c.q;
    }
    return total;
  }

  // -df/dx1 into the vertex diagonal blocks (slots as SystemPattern::vertex_slots); `project`
  // clamps a negative normal stiffness (fast separation with damping) to zero.
  void add_implicit_stiffness(const double* x1, const double* x0, double dt, std::size_t n,
                              const std::int32_t* vertex_slots, double* values,
                              bool project) const {
    for (std::size_t i = 0; active() && i < n; ++i) {
      if (pinned_[i]) continue;
      const std::int32_t* slots = vertex_slots + i * dim_ * dim_;
      const double pen1 = ground_.height - x1[i * dim_ + up()];
      if (pen1 > 0.0) {
        double stiffness = k();
        if (dt > 0.0) {
          const double v_up = (x1[i * dim_ + up()] - x0[i * dim_ + up()]) / dt;
          stiffness += -ground_.damping * v_up + ground_.damping * pen1 / dt;
        }
        values[slots[up() * dim_ + up()]] += project ? std::max(stiffness, 0.0) : stiffness;
      }
      if (dt <= 0.0) continue;
      const Vertex c = lagged(i, x1, x0, dt);
      if (!c.touching || ground_.friction == 0.0) continue;
      const double scale = ground_.friction * k() * c.pen / (c.q * dt);
      for (std::size_t r = 0; r < dim_; ++r) {
        for (std::size_t s = 0; s < dim_; ++s) {
          if (r == up() || s == up()) continue;
          values[slots[r * dim_ + s]] += scale * ((r == s ? 1.0 : 0.0) - c.slip[r] * c.slip[s]);
        }
      }
    }
  }

  // g_x0 += lambda^T df/dx0 for the implicit forces (dt > 0).
  void implicit_vjp_start(const double* x1, const double* x0, double dt, std::size_t n,
                          const double* lambda, double* g_x0) const {
    for (std::size_t i = 0; active() && i < n; ++i) {
      if (pinned_[i]) continue;
      const double* li = lambda + i * dim_;
      const double pen1 = ground_.height - x1[i * dim_ + up()];
      if (pen1 > 0.0) g_x0[i * dim_ + up()] += li[up()] * ground_.damping * pen1 / dt;
      const Vertex c = lagged(i, x1, x0, dt);
      if (!c.touching) continue;
      const double load = ground_.friction * k();
      double along = 0.0;
      for (std::size_t t = 0; t < dim_; ++t) {
        if (t != up()) along += li[t] * c.slip[t];
      }
      g_x0[i * dim_ + up()] += load * along;
      add_projected(li, c, load * c.pen / (c.q * dt), g_x0 + i * dim_);
    }
  }

 private:
  struct Vertex {
    bool touching = false;
    double pen = 0.0;
    double q = 1.0;
    double slip[3] = {0.0, 0.0, 0.0};  // s, zero along the up axis
  };

  [[nodiscard]] MAYA_FEM_HD std::size_t up() const noexcept { return ground_.up_axis; }
  [[nodiscard]] MAYA_FEM_HD double k() const noexcept { return ground_.stiffness; }

  // Penetration at x and slip direction of the tangential velocity v.
  [[nodiscard]] MAYA_FEM_HD Vertex vertex(std::size_t i, const double* x, const double* v) const {
    Vertex c;
    if (pinned_[i]) return c;
    c.pen = ground_.height - x[i * dim_ + up()];
    if (!(c.pen > 0.0)) return c;
    c.touching = true;
    double squared = ground_.slip_velocity * ground_.slip_velocity;
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) squared += v[i * dim_ + t] * v[i * dim_ + t];
    }
    c.q = std::sqrt(squared);
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) c.slip[t] = v[i * dim_ + t] / c.q;
    }
    return c;
  }

  // Penetration at x0 (the friction load) and slip of v1 = (x1 - x0) / dt.
  [[nodiscard]] Vertex lagged(std::size_t i, const double* x1, const double* x0, double dt) const {
    double v[3] = {0.0, 0.0, 0.0};
    for (std::size_t t = 0; t < dim_; ++t) v[t] = (x1[i * dim_ + t] - x0[i * dim_ + t]) / dt;
    Vertex c;
    if (pinned_[i]) return c;
    c.pen = ground_.height - x0[i * dim_ + up()];
    if (!(c.pen > 0.0)) return c;
    c.touching = true;
    double squared = ground_.slip_velocity * ground_.slip_velocity;
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) squared += v[t] * v[t];
    }
    c.q = std::sqrt(squared);
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) c.slip[t] = v[t] / c.q;
    }
    return c;
  }

  // out_t += scale ((I - s s^T) g)_t over the tangential components.
  MAYA_FEM_HD void add_projected(const double* g, const Vertex& c, double scale,
                                 double* out) const {
    double along = 0.0;
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) along += g[t] * c.slip[t];
    }
    for (std::size_t t = 0; t < dim_; ++t) {
      if (t != up()) out[t] += scale * (g[t] - c.slip[t] * along);
    }
  }

  GroundContact ground_;  // a copy: the kernel travels to the device by value
  std::size_t dim_;
  const std::uint8_t* pinned_;
};

}  // namespace maya::fem::detail
