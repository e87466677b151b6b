// The viewer's JSON frame format and the page around it.
#include "maya/viz/viewer.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "maya/core/error.hpp"
#include "viz/page_text.hpp"

namespace maya::viz {

using io::Trajectory;

namespace detail {
extern const std::string_view kViewerPage;  // generated from viewer_page.html
}  // namespace detail

namespace {

using detail::append_json_number;
using detail::append_json_string;
using detail::html_escape;

void append_point(std::string& out, const std::array<double, 2>& point) {
  out += '[';
  append_json_number(out, point[0]);
  out += ',';
  append_json_number(out, point[1]);
  out += ']';
}

// [[x0, y0, x1, y1, ...] per frame]: 2-D coordinates of every particle (z dropped in 3-D).
void append_particle_frames(std::string& out, const Trajectory& trajectory) {
  out += '[';
  for (std::size_t frame = 0; frame < trajectory.num_frames(); ++frame) {
    out += frame == 0 ? "[" : ",\n[";
    for (std::size_t particle = 0; particle < trajectory.num_particles; ++particle) {
      if (particle > 0) {
        out += ',';
      }
      append_json_number(out, trajectory.position(frame, particle, 0));
      out += ',';
      append_json_number(out, trajectory.dim > 1 ? trajectory.position(frame, particle, 1) : 0.0);
    }
    out += ']';
  }
  out += ']';
}

}  // namespace

std::string viewer_json(const ViewerScene& scene) {
  const Trajectory& trajectory = scene.trajectory;
  trajectory.check();
  const std::size_t particles = trajectory.num_particles;
  if (!scene.particle_radius.empty() && scene.particle_radius.size() != particles) {
    throw ShapeError("viewer_json: " + std::to_string(scene.particle_radius.size()) +
                     " particle radii for " + std::to_string(particles) + " particles");
  }
  if (scene.bodies.size() != trajectory.num_bodies) {
    throw ShapeError("viewer_json: " + std::to_string(scene.bodies.size()) + " body shapes for " +
                     std::to_string(trajectory.num_bodies) + " bodies in the trajectory");
  }
  for (const ViewerSpring& spring : scene.springs) {
    if (spring.first >= particles || spring.second >= particles) {
      throw ValueError("viewer_json: spring (" + std::to_string(spring.first) + ", " +
                       std::to_string(spring.second) +
                       ") names a particle >= " + std::to_string(particles));
    }
  }
  for (const auto& triangle : scene.triangles) {
    for (const std::size_t vertex : triangle) {
      if (vertex >= particles) {
        throw ValueError("viewer_json: triangle (" + std::to_string(triangle[0]) + ", " +
                         std::to_string(triangle[1]) + ", " + std::to_string(triangle[2]) +
                         ") names a particle >= " + std::to_string(particles));
      }
    }
  }
  const bool has_ghost = scene.ghost.num_frames() > 0;
  if (has_ghost) {
    scene.ghost.check();
    if (scene.ghost.num_particles != particles) {
      throw ShapeError("viewer_json: the ghost has " + std::to_string(scene.ghost.num_particles) +
                       " particles, the trajectory " + std::to_string(particles));
    }
  }

  std::string out = "{\"format\":\"maya-viewer\",\"version\":1,\"title\":";
  append_json_string(out, scene.title);
  out += ",\n\"times\":[";
  for (std::size_t i = 0; i < trajectory.num_frames(); ++i) {
    if (i > 0) {
      out += ',';
    }
    append_json_number(out, trajectory.times[i]);
  }
  out += "],\n\"particles\":{\"count\":" + std::to_string(particles) + ",\"radius\":[";
  for (std::size_t i = 0; i < scene.particle_radius.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    append_json_number(out, scene.particle_radius[i]);
  }
  out += "],\"frames\":";
  append_particle_frames(out, trajectory);
  out += "},\n\"springs\":[";
  for (std::size_t i = 0; i < scene.springs.size(); ++i) {
    const ViewerSpring& spring = scene.springs[i];
    out += (i > 0 ? ",[" : "[") + std::to_string(spring.first) + ',' +
           std::to_string(spring.second) + ',';
    append_json_number(out, spring.rest_length);
    out += ']';
  }
  out += "],\n\"triangles\":[";
  for (std::size_t i = 0; i < scene.triangles.size(); ++i) {
    const auto& triangle = scene.triangles[i];
    out += (i > 0 ? ",[" : "[") + std::to_string(triangle[0]) + ',' + std::to_string(triangle[1]) +
           ',' + std::to_string(triangle[2]) + ']';
  }
  out += "],\n\"bodies\":{\"shapes\":[";
  for (std::size_t b = 0; b < scene.bodies.size(); ++b) {
    const ViewerBody& body = scene.bodies[b];
    out += b > 0 ? "," : "";
    if (body.shape == ViewerBody::Shape::kCircle) {
      out += "{\"shape\":\"circle\",\"radius\":";
      append_json_number(out, body.radius);
      out += '}';
    } else {
      out += "{\"shape\":\"polygon\",\"vertices\":[";
      for (std::size_t v = 0; v < body.vertices.size(); ++v) {
        out += v > 0 ? "," : "";
        append_point(out, body.vertices[v]);
      }
      out += "]}";
    }
  }
  out += "],\"frames\":[";
  for (std::size_t frame = 0; frame < trajectory.num_frames() && trajectory.num_bodies > 0;
       ++frame) {
    out += frame == 0 ? "[" : ",\n[";
    for (std::size_t k = 0; k < trajectory.num_bodies * 3; ++k) {
      out += k > 0 ? "," : "";
      append_json_number(out, trajectory.body_poses[frame * trajectory.num_bodies * 3 + k]);
    }
    out += ']';
  }
  out += "]},\n\"ground\":";
  if (scene.ground_height) {
    out += "{\"height\":";
    append_json_number(out, *scene.ground_height);
    out += '}';
  } else {
    out += "null";
  }
  out += ",\n\"targets\":[";
  for (std::size_t i = 0; i < scene.targets.size(); ++i) {
    out += i > 0 ? "," : "";
    append_point(out, scene.targets[i]);
  }
  out += "],\n\"paths\":[";
  for (std::size_t i = 0; i < scene.paths.size(); ++i) {
    const ViewerPath& path = scene.paths[i];
    out += i > 0 ? ",{\"label\":" : "{\"label\":";
    append_json_string(out, path.label);
    out += ",\"color\":";
    append_json_string(out, path.color);
    out += ",\"points\":[";
    for (std::size_t k = 0; k < path.points.size(); ++k) {
      out += k > 0 ? "," : "";
      append_point(out, path.points[k]);
    }
    out += "]}";
  }
  out += "],\n\"ghost\":";
  if (has_ghost) {
    out += "{\"label\":";
    append_json_string(out, scene.ghost_label);
    out += ",\"frames\":";
    append_particle_frames(out, scene.ghost);
    out += '}';
  } else {
    out += "null";
  }
  out += "}";
  return out;
}

// The page (src/viz/viewer_page.html, compiled in) with its title and frame data filled in. The
// script only reads the embedded JSON; it fetches nothing.
std::string viewer_html(const ViewerScene& scene) {
  constexpr std::string_view kTitle = "@MAYA_TITLE@";
  constexpr std::string_view kData = "@MAYA_DATA@";
  const std::string_view page = detail::kViewerPage;
  const std::size_t title_at = page.find(kTitle);
  const std::size_t data_at = page.find(kData);
  const std::string title = html_escape(scene.title.empty() ? "maya trajectory" : scene.title);
  std::string html(page.substr(0, title_at));
  html += title;
  html += page.substr(title_at + kTitle.size(), data_at - title_at - kTitle.size());
  html += viewer_json(scene);
  html += page.substr(data_at + kData.size());
  return html;
}

}  // namespace maya::viz
