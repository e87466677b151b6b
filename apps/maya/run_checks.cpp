// Stability limit, memory estimate and blow-up detection for the program's runs.
#include "run_checks.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tasks/rigid_scene.hpp"

namespace maya::cli {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
// A blow-up is a speed this many times above what the initial energy and gravity allow.
constexpr double kSpeedMargin = 10.0;

struct BodyMass {
  std::vector<double> mass;
  std::vector<double> inertia;
};

BodyMass body_masses(const io::SceneSpec& scene) {
  BodyMass result;
  if (scene.bodies.empty()) return result;
  const rigid::RigidWorld2D world = tasks::make_rigid_world(scene);
  const rigid::RigidParameterValues values = tasks::rigid_parameter_values(scene, world);
  result.mass.assign(values.mass.data().begin(), values.mass.data().end());
  result.inertia.assign(values.inertia.data().begin(), values.inertia.data().end());
  return result;
}

double squared_norm(const std::array<double, 2>& v) { return v[0] * v[0] + v[1] * v[1]; }

// The largest speed a passive scene can reach by time t: all of its initial kinetic and elastic
// energy in its lightest member, plus what gravity adds in t. Separate for particles and bodies,
// which do not interact.
struct SpeedBound {
  double energy_speed = 0.0;  // sqrt(2 E0 / m_min)
  double gravity = 0.0;       // |g|
  [[nodiscard]] double at(double time) const {
    return kSpeedMargin * (energy_speed + gravity * time) + 1e-6;
  }
};

SpeedBound particle_bound(const io::SceneSpec& scene) {
  double energy = 0.0;
  double lightest = kInfinity;
  for (const io::ParticleSpec& p : scene.particles) {
    energy += 0.5 * p.mass * squared_norm(p.velocity);
    lightest = std::min(lightest, p.mass);
    if (scene.ground && p.position[1] < scene.ground->height) {
      const double depth = scene.ground->height - p.position[1];
      energy += 0.5 * scene.ground->stiffness * depth * depth;
    }
  }
  for (const io::SpringSpec& s : scene.springs) {
    const auto& a = scene.particles[s.first].position;
    const auto& b = scene.particles[s.second].position;
    const double length = std::hypot(b[0] - a[0], b[1] - a[1]);
    const double stretch = length - s.rest_length.value_or(length);
    energy += 0.5 * s.stiffness * stretch * stretch;
  }
  SpeedBound bound;
  bound.energy_speed = lightest < kInfinity ? std::sqrt(2.0 * energy / lightest) : 0.0;
  bound.gravity = std::hypot(scene.gravity[0], scene.gravity[1]);
  return bound;
}

SpeedBound body_bound(const io::SceneSpec& scene, const BodyMass& masses) {
  double energy = 0.0;
  double lightest = kInfinity;
  for (std::size_t b = 0; b < scene.bodies.size(); ++b) {
    const io::BodySpec& body = scene.bodies[b];
    energy += 0.5 * masses.mass[b] * squared_norm(body.velocity) +
              0.5 * masses.inertia[b] * body.angular_velocity * body.angular_velocity;
    lightest = std::min(lightest, masses.mass[b]);
  }
  SpeedBound bound;
  bound.energy_speed = lightest < kInfinity ? std::sqrt(2.0 * energy / lightest) : 0.0;
  bound.gravity = std::hypot(scene.gravity[0], scene.gravity[1]);
  return bound;
}

std::string limit_hint(const io::SceneSpec& scene) {
  const double limit = stability_limit(scene);
  if (scene.dt > limit) {
    return "; dt " + format_number(scene.dt) + " s exceeds the stability limit " +
           format_number(limit) + " s (docs/cli.md): lower dt";
  }
  return "; lower dt or check the scene's parameters";
}

[[noreturn]] void blow_up(const io::SceneSpec& scene, std::string_view what, std::size_t frame,
                          const std::string& who, const std::string& how) {
  throw BlowUpError(std::string(what) + ": the simulation blew up at step " +
                    std::to_string(frame) +
                    " (t = " + format_number(scene.dt * static_cast<double>(frame)) +
                    " s): " + who + " " + how + limit_hint(scene));
}

}  // namespace

double stability_limit(const io::SceneSpec& scene) {
  // omega^2 <= max_i (2 sum_j k_ij + k_ground) / m_i (Gershgorin on M^-1 K), and likewise for
  // damping: the explicit velocity update is stable while dt c / m <= 2.
  const std::size_t n = scene.particles.size();
  std::vector<double> stiffness_sum(n, 0.0);
  std::vector<double> damping_sum(n, 0.0);
  for (const io::SpringSpec& s : scene.springs) {
    for (const std::size_t end : {s.first, s.second}) {
      stiffness_sum[end] += 2.0 * s.stiffness;
      damping_sum[end] += 2.0 * s.damping;
    }
  }
  double limit = kInfinity;
  for (std::size_t i = 0; i < n; ++i) {
    double k = stiffness_sum[i];
    double c = damping_sum[i];
    if (scene.ground) {
      k += scene.ground->stiffness;
      c += scene.ground->damping;
    }
    const double m = scene.particles[i].mass;
    if (k > 0) limit = std::min(limit, 2.0 * std::sqrt(m / k));
    if (c > 0) limit = std::min(limit, 2.0 * m / c);
  }
  if (!scene.bodies.empty()) {
    const BodyMass masses = body_masses(scene);
    const double lightest = *std::min_element(masses.mass.begin(), masses.mass.end());
    const double k = scene.body_contact.stiffness;
    const double c = scene.body_contact.damping;
    if (k > 0) limit = std::min(limit, 2.0 * std::sqrt(lightest / k));
    if (c > 0) limit = std::min(limit, 2.0 * lightest / c);
  }
  return limit;
}

void warn_if_unstable(const io::SceneSpec& scene, std::string_view what) {
  const double limit = stability_limit(scene);
  if (scene.dt > limit) {
    std::fprintf(stderr,
                 "maya: warning: %.*s: dt %s s exceeds the stability limit %s s of the scene's "
                 "stiffest spring or contact (docs/cli.md); the run may blow up\n",
                 static_cast<int>(what.size()), what.data(), format_number(scene.dt).c_str(),
                 format_number(limit).c_str());
  }
}

void check_memory(const io::SceneSpec& scene, std::size_t copies, std::string_view what) {
  // Per frame: positions and velocities (32 bytes a particle) and the output text made from them
  // (measured: CSV 37, SVG 112, viewer 16 and .npy 32 bytes a particle), 24 + 100 per body.
  const double frames = static_cast<double>(scene.steps) + 1.0;
  const double per_frame = 256.0 * static_cast<double>(scene.particles.size()) +
                           128.0 * static_cast<double>(scene.bodies.size()) + 64.0;
  const double bytes = frames * per_frame * static_cast<double>(copies);
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  const double memory = pages > 0 && page_size > 0
                            ? static_cast<double>(pages) * static_cast<double>(page_size)
                            : 8.0 * (1ULL << 30);
  if (bytes > 0.5 * memory) {
    char text[256];
    std::snprintf(
        text, sizeof text,
        "%.*s: the run needs about %.3g GB for its trajectories and output files (%zu "
        "steps of %zu particles and %zu bodies), more than half of this machine's %.3g GB; "
        "use fewer steps or a smaller scene",
        static_cast<int>(what.size()), what.data(), bytes / 1e9, scene.steps,
        scene.particles.size(), scene.bodies.size(), memory / 1e9);
    throw ValueError(text);
  }
}

void check_trajectory(const io::SceneSpec& scene, const io::Trajectory& trajectory,
                      std::string_view what, bool check_speed) {
  const std::size_t frames = trajectory.num_frames();
  const std::size_t n = trajectory.num_particles;
  const std::size_t dim = trajectory.dim;
  if (n > 0 && trajectory.positions.size() == frames * n * dim) {
    const SpeedBound bound = particle_bound(scene);
    const bool has_velocities = trajectory.velocities.size() == trajectory.positions.size();
    for (std::size_t t = 0; t < frames; ++t) {
      const double limit = bound.at(trajectory.times[t]);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t at = (t * n + i) * dim;
        for (std::size_t a = 0; a < dim; ++a) {
          const double x = trajectory.positions[at + a];
          const double v = has_velocities ? trajectory.velocities[at + a] : 0.0;
          if (!std::isfinite(x) || !std::isfinite(v)) {
            blow_up(scene, what, t, "particle " + std::to_string(i),
                    std::string(std::isfinite(x) ? "velocity" : "position") + " is " +
                        format_number(std::isfinite(x) ? v : x));
          }
        }
        if (has_velocities && check_speed) {
          const double speed = std::hypot(trajectory.velocities[at], trajectory.velocities[at + 1]);
          if (speed > limit) {
            blow_up(scene, what, t, "particle " + std::to_string(i),
                    "moves at " + format_number(speed) +
                        " m/s, more than its initial energy "
                        "and gravity allow (" +
                        format_number(limit / kSpeedMargin) + " m/s)");
          }
        }
      }
    }
  }
  const std::size_t bodies = trajectory.num_bodies;
  if (bodies > 0 && trajectory.body_poses.size() == frames * bodies * 3) {
    const SpeedBound bound = body_bound(scene, body_masses(scene));
    for (std::size_t t = 0; t < frames; ++t) {
      const double limit = bound.at(trajectory.times[t]);
      for (std::size_t b = 0; b < bodies; ++b) {
        const std::size_t at = (t * bodies + b) * 3;
        for (std::size_t a = 0; a < 3; ++a) {
          if (!std::isfinite(trajectory.body_poses[at + a])) {
            blow_up(scene, what, t, "body " + std::to_string(b),
                    std::string(a == 2 ? "angle" : "position") + " is " +
                        format_number(trajectory.body_poses[at + a]));
          }
        }
        if (t > 0 && check_speed) {
          const std::size_t before = at - bodies * 3;
          const double dt = trajectory.times[t] - trajectory.times[t - 1];
          const double speed =
              std::hypot(trajectory.body_poses[at] - trajectory.body_poses[before],
                         trajectory.body_poses[at + 1] - trajectory.body_poses[before + 1]) /
              dt;
          if (speed > limit) {
            blow_up(scene, what, t, "body " + std::to_string(b),
                    "moves at " + format_number(speed) +
                        " m/s, more than its initial energy "
                        "and gravity allow (" +
                        format_number(limit / kSpeedMargin) + " m/s)");
          }
        }
      }
    }
  }
}

}  // namespace maya::cli
