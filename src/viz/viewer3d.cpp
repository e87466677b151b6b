// The 3-D viewer page: src/viz/viewer3d_page.html with the title, the scene's JSON and three.js
// (when the build had it) filled in.
#include "maya/viz/viewer3d.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "maya/core/error.hpp"
#include "viz/page_text.hpp"

namespace maya::viz {
namespace detail {
extern const std::string_view kViewer3DPage;  // generated from viewer3d_page.html
extern const std::string_view kThreeJs;       // three.min.js, or empty without libjs-three
}  // namespace detail

namespace {

using detail::append_json_number;
using detail::append_json_string;
using detail::html_escape;

template <std::size_t N>
void append_array(std::string& out, const std::array<double, N>& values) {
  out += '[';
  for (std::size_t k = 0; k < N; ++k) {
    if (k > 0) out += ',';
    append_json_number(out, values[k]);
  }
  out += ']';
}

const char* type_name(Viewer3DShape::Type type) {
  switch (type) {
    case Viewer3DShape::Type::kSphere: return "sphere";
    case Viewer3DShape::Type::kCapsule: return "capsule";
    case Viewer3DShape::Type::kBox: return "box";
  }
  return "sphere";
}

}  // namespace

std::string viewer3d_json(const Viewer3DScene& scene) {
  const std::size_t frames = scene.times.size(), bodies = scene.bodies.size();
  if (scene.poses.size() != frames * bodies * 7) {
    throw ShapeError("viz::viewer3d_json: poses must have " + std::to_string(frames) + " x " +
                     std::to_string(bodies) + " x 7 = " + std::to_string(frames * bodies * 7) +
                     " entries (frames, bodies, position and quaternion), got " +
                     std::to_string(scene.poses.size()));
  }
  std::string out = R"({"format":"maya-viewer-3d","version":1,"title":)";
  append_json_string(out, scene.title);
  out += ",\"bodies\":[";
  for (std::size_t b = 0; b < bodies; ++b) {
    const Viewer3DBody& body = scene.bodies[b];
    out += b > 0 ? ",{\"name\":" : "{\"name\":";
    append_json_string(out, body.name);
    out += ",\"parent\":" + std::to_string(body.parent) + ",\"shapes\":[";
    for (std::size_t s = 0; s < body.shapes.size(); ++s) {
      const Viewer3DShape& shape = body.shapes[s];
      out += s > 0 ? ",{\"type\":\"" : "{\"type\":\"";
      out += type_name(shape.type);
      out += "\",\"position\":";
      append_array(out, shape.position);
      out += ",\"orientation\":";
      append_array(out, shape.orientation);
      out += ",\"radius\":";
      append_json_number(out, shape.radius);
      out += ",\"half_length\":";
      append_json_number(out, shape.half_length);
      out += ",\"half_size\":";
      append_array(out, shape.half_size);
      out += '}';
    }
    out += "]}";
  }
  out += "],\"planes\":[";
  for (std::size_t k = 0; k < scene.planes.size(); ++k) {
    if (k > 0) out += ',';
    append_array(out, scene.planes[k]);
  }
  out += "],\"targets\":[";
  for (std::size_t k = 0; k < scene.targets.size(); ++k) {
    if (k > 0) out += ',';
    append_array(out, scene.targets[k]);
  }
  out += "],\"times\":[";
  for (std::size_t f = 0; f < frames; ++f) {
    if (f > 0) out += ',';
    append_json_number(out, scene.times[f]);
  }
  out += "],\"poses\":[";
  for (std::size_t k = 0; k < scene.poses.size(); ++k) {
    if (k > 0) out += ',';
    append_json_number(out, scene.poses[k]);
  }
  out += "]}";
  return out;
}

bool viewer3d_has_three() noexcept { return !detail::kThreeJs.empty(); }

std::string viewer3d_html(const Viewer3DScene& scene) {
  const std::string title = html_escape(scene.title.empty() ? "maya robot" : scene.title);
  const std::string_view three =
      viewer3d_has_three() ? detail::kThreeJs
                           : std::string_view(
                                 "window.MAYA_NO_THREE = \"This maya was built without three.js, "
                                 "so the page cannot draw the robot. Install Debian's libjs-three "
                                 "(scripts/bootstrap.sh does) and rebuild maya; the trajectory is "
                                 "in the .npy files beside this page.\";");
  const std::string data = viewer3d_json(scene);
  // The markers are found in the page as written, so no filled-in text is searched again.
  const std::string_view page = detail::kViewer3DPage;
  struct Part {
    std::size_t at;
    std::string_view marker, text;
  };
  std::array<Part, 3> parts{Part{page.find("@MAYA_TITLE@"), "@MAYA_TITLE@", title},
                            Part{page.find("@MAYA_THREE_JS@"), "@MAYA_THREE_JS@", three},
                            Part{page.find("@MAYA_DATA@"), "@MAYA_DATA@", data}};
  std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.at < b.at; });
  std::string html;
  html.reserve(page.size() + three.size() + data.size());
  std::size_t from = 0;
  for (const Part& part : parts) {
    if (part.at == std::string_view::npos) continue;
    html += page.substr(from, part.at - from);
    html += part.text;
    from = part.at + part.marker.size();
  }
  html += page.substr(from);
  return html;
}

}  // namespace maya::viz
