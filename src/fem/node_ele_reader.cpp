// TetGen / Triangle .node and .ele files.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "fem/line_reader.hpp"
#include "maya/fem/mesh_io.hpp"

namespace maya::fem {
namespace {

std::ifstream open(const std::filesystem::path& path, const char* kind) {
  std::ifstream in(path);
  if (!in) {
    throw ParseError(path.string() + ": cannot open the " + kind + " file");
  }
  return in;
}

}  // namespace

Mesh read_node_ele(std::istream& node, std::string_view node_name, std::istream& ele,
                   std::string_view ele_name, const MeshReadOptions& options) {
  std::vector<std::string_view> tokens;
  detail::LineReader nodes(node, node_name, '#');
  nodes.require(tokens, "the header '<#points> <dimension> <#attributes> <#boundary markers>'");
  nodes.expect_count(tokens, 2, "the header '<#points> <dimension> <#attributes> <#markers>'");
  const std::int64_t num_points = nodes.count(tokens[0], "the number of points");
  const std::int64_t dim = nodes.integer(tokens[1], "the dimension");
  if (dim != 2 && dim != 3) nodes.fail("expected dimension 2 or 3, got " + std::to_string(dim));
  const std::int64_t attributes =
      tokens.size() > 2 ? nodes.count(tokens[2], "the number of attributes") : 0;
  const std::int64_t markers =
      tokens.size() > 3 ? nodes.count(tokens[3], "the number of boundary markers") : 0;
  if (num_points == 0) nodes.fail("expected at least one point, got 0");
  const auto d = static_cast<std::size_t>(dim);
  const auto n = static_cast<std::size_t>(num_points);
  // The header's count is only a claim: reserve what a modest file holds and let the vector grow
  // with the lines actually there, so a header of 4e12 points is a ParseError at the first
  // missing line, not an allocation of 100 TB.
  std::vector<double> positions;
  positions.reserve(std::min<std::size_t>(n, detail::kReserveLimit) * d);
  std::int64_t base = 0;
  const std::size_t per_line = 1 + d + static_cast<std::size_t>(attributes + (markers > 0 ? 1 : 0));
  for (std::size_t i = 0; i < n; ++i) {
    nodes.require(tokens, "point " + std::to_string(i + 1) + " of " + std::to_string(n));
    nodes.expect_count(tokens, 1 + d,
                       "'<index> " + std::string(d == 2 ? "<x> <y>" : "<x> <y> <z>") + "'");
    if (tokens.size() > per_line) {
      nodes.fail("expected at most " + std::to_string(per_line) + " values for a point (index, " +
                 std::to_string(d) + " coordinates, " + std::to_string(attributes) +
                 " attributes, " + std::to_string(markers > 0 ? 1 : 0) + " marker), got " +
                 std::to_string(tokens.size()));
    }
    const std::int64_t index = nodes.integer(tokens[0], "the point index");
    if (i == 0) {
      if (index != 0 && index != 1) {
        nodes.fail("expected the first point to be numbered 0 or 1, got " + std::to_string(index));
      }
      base = index;
    } else if (index != base + static_cast<std::int64_t>(i)) {
      nodes.fail("expected point number " + std::to_string(base + static_cast<std::int64_t>(i)) +
                 " (points are numbered consecutively), got " + std::to_string(index));
    }
    for (std::size_t k = 0; k < d; ++k) {
      positions.push_back(nodes.real(tokens[1 + k], "coordinate " + std::to_string(k)));
    }
  }

  detail::LineReader elements_file(ele, ele_name, '#');
  elements_file.require(tokens, "the header '<#elements> <vertices per element> <#attributes>'");
  elements_file.expect_count(tokens, 2, "the header '<#elements> <vertices per element>'");
  const std::int64_t num_elements = elements_file.count(tokens[0], "the number of elements");
  const std::int64_t per = elements_file.integer(tokens[1], "the vertices per element");
  if (per != dim + 1) {
    elements_file.fail("expected " + std::to_string(dim + 1) + " vertices per element (linear " +
                       (dim == 2 ? "triangles" : "tetrahedra") + " for the " + std::to_string(dim) +
                       "-D .node file), got " + std::to_string(per) +
                       (per > dim + 1 ? " (higher-order elements are not supported)" : ""));
  }
  if (num_elements == 0) elements_file.fail("expected at least one element, got 0");
  std::vector<std::int64_t> elements;
  elements.reserve(
      std::min<std::size_t>(static_cast<std::size_t>(num_elements), detail::kReserveLimit) *
      static_cast<std::size_t>(per));
  for (std::int64_t e = 0; e < num_elements; ++e) {
    elements_file.require(
        tokens, "element " + std::to_string(e + 1) + " of " + std::to_string(num_elements));
    elements_file.expect_count(tokens, static_cast<std::size_t>(1 + per),
                               "'<index> <v0> ... <v" + std::to_string(per - 1) + ">'");
    for (std::int64_t a = 0; a < per; ++a) {
      const std::int64_t v =
          elements_file.integer(tokens[static_cast<std::size_t>(1 + a)], "a vertex index");
      if (v < base || v >= base + num_points) {
        elements_file.fail("expected a point number in " + std::to_string(base) + ".." +
                           std::to_string(base + num_points - 1) + ", got " + std::to_string(v));
      }
      elements.push_back(v - base);
    }
  }
  return detail::finish_mesh(Tensor::from_data(std::move(positions), {n, d}), std::move(elements),
                             options, std::string(ele_name));
}

Mesh read_node_ele(const std::filesystem::path& node_file, const std::filesystem::path& ele_file,
                   const MeshReadOptions& options) {
  std::ifstream node = open(node_file, ".node");
  std::ifstream ele = open(ele_file, ".ele");
  return read_node_ele(node, node_file.string(), ele, ele_file.string(), options);
}

}  // namespace maya::fem
