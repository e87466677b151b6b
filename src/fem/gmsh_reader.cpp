// Gmsh .msh 4.x ASCII: $MeshFormat, $Nodes and $Elements (version 4.1, and 4.0's layout of the
// same sections); every other section is skipped to its $End line.
#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fem/line_reader.hpp"
#include "maya/fem/mesh_io.hpp"

namespace maya::fem {
namespace {

constexpr std::int64_t kTriangle = 2;     // 3-node triangle
constexpr std::int64_t kTetrahedron = 4;  // 4-node tetrahedron
constexpr std::int64_t kTriangle6 = 9;    // 6-node (quadratic) triangle
constexpr std::int64_t kTetrahedron10 = 11;

struct RawElements {
  std::vector<std::int64_t> triangles;   // node tags, 3 per triangle
  std::vector<std::int64_t> tetrahedra;  // node tags, 4 per tetrahedron
  std::size_t triangle_line = 0;         // where the first one was, for errors
  std::size_t tetrahedron_line = 0;
  bool quadratic = false;
};

void skip_section(detail::LineReader& reader, std::vector<std::string_view>& tokens,
                  std::string_view section) {
  const std::string end = "$End" + std::string(section.substr(1));
  while (reader.next(tokens)) {
    if (tokens[0] == end) return;
  }
  throw ParseError(reader.name() + ":" + std::to_string(reader.line_number()) + ": expected '" +
                   end + "' to close " + std::string(section) + ", got the end of the file");
}

void expect_end(detail::LineReader& reader, std::vector<std::string_view>& tokens,
                std::string_view end) {
  reader.require(tokens, "'" + std::string(end) + "'");
  if (tokens[0] != end) {
    reader.fail("expected '" + std::string(end) + "', got '" + std::string(tokens[0]) + "'");
  }
}

}  // namespace

Mesh read_gmsh(std::istream& in, std::string_view name, const MeshReadOptions& options) {
  detail::LineReader reader(in, name, '\0');
  std::vector<std::string_view> tokens;
  bool have_format = false;
  bool version_41 = true;
  std::map<std::int64_t, std::array<double, 3>> nodes;  // tag -> coordinates
  bool have_nodes = false;
  RawElements raw;
  bool have_elements = false;
  while (reader.next(tokens)) {
    const std::string section(tokens[0]);  // a copy: the next line read reuses the buffer
    if (section.empty() || section[0] != '$') {
      reader.fail("expected a section header such as '$MeshFormat' or '$Nodes', got '" +
                  std::string(section) + "'");
    }
    if (section == "$MeshFormat") {
      reader.require(tokens, "'<version> <file-type> <data-size>'");
      reader.expect_count(tokens, 3, "'<version> <file-type> <data-size>'");
      const double version = reader.real(tokens[0], "the format version");
      if (version < 4.0 || version >= 5.0) {
        reader.fail("expected .msh format version 4.x, got " + std::string(tokens[0]) +
                    " (re-export from Gmsh with Mesh.MshFileVersion = 4.1)");
      }
      version_41 = version >= 4.1;
      if (reader.integer(tokens[1], "the file type") != 0) {
        reader.fail("expected an ASCII file (file-type 0), got a binary one (file-type " +
                    std::string(tokens[1]) + ")");
      }
      expect_end(reader, tokens, "$EndMeshFormat");
      have_format = true;
    } else if (section == "$Nodes") {
      if (!have_format) reader.fail("expected $MeshFormat before $Nodes");
      reader.require(tokens, "'<#blocks> <#nodes> <min tag> <max tag>'");
      reader.expect_count(tokens, version_41 ? 4 : 2, "'<#blocks> <#nodes> ...'");
      const std::int64_t blocks = reader.count(tokens[0], "the number of node blocks");
      for (std::int64_t b = 0; b < blocks; ++b) {
        reader.require(tokens, "a node block header '<dim> <tag> <parametric> <#nodes>'");
        reader.expect_count(tokens, 4, "a node block header '<dim> <tag> <parametric> <#nodes>'");
        const std::int64_t entity_dim =
            reader.integer(tokens[version_41 ? 0 : 1], "the entity dimension");
        const bool parametric = reader.integer(tokens[2], "the parametric flag") != 0;
        const std::int64_t count = reader.count(tokens[3], "the number of nodes in the block");
        const std::size_t extra = parametric ? static_cast<std::size_t>(entity_dim) : 0;
        if (version_41) {
          std::vector<std::int64_t> tags;
          for (std::int64_t i = 0; i < count; ++i) {
            reader.require(tokens, "a node tag");
            tags.push_back(reader.integer(tokens[0], "a node tag"));
          }
          for (std::int64_t i = 0; i < count; ++i) {
            reader.require(tokens, "the coordinates 'x y z' of node " +
                                       std::to_string(tags[static_cast<std::size_t>(i)]));
            reader.expect_count(tokens, 3 + extra, "the coordinates 'x y z' of a node");
            nodes[tags[static_cast<std::size_t>(i)]] = {reader.real(tokens[0], "x"),
                                                        reader.real(tokens[1], "y"),
                                                        reader.real(tokens[2], "z")};
          }
        } else {
          for (std::int64_t i = 0; i < count; ++i) {
            reader.require(tokens, "a node line '<tag> <x> <y> <z>'");
            reader.expect_count(tokens, 4 + extra, "a node line '<tag> <x> <y> <z>'");
            nodes[reader.integer(tokens[0], "a node tag")] = {reader.real(tokens[1], "x"),
                                                              reader.real(tokens[2], "y"),
                                                              reader.real(tokens[3], "z")};
          }
        }
      }
      expect_end(reader, tokens, "$EndNodes");
      have_nodes = true;
    } else if (section == "$Elements") {
      if (!have_format) reader.fail("expected $MeshFormat before $Elements");
      reader.require(tokens, "'<#blocks> <#elements> <min tag> <max tag>'");
      reader.expect_count(tokens, version_41 ? 4 : 2, "'<#blocks> <#elements> ...'");
      const std::int64_t blocks = reader.count(tokens[0], "the number of element blocks");
      for (std::int64_t b = 0; b < blocks; ++b) {
        reader.require(tokens, "an element block header '<dim> <tag> <type> <#elements>'");
        reader.expect_count(tokens, 4, "an element block header '<dim> <tag> <type> <#elements>'");
        const std::int64_t type = reader.integer(tokens[2], "the element type");
        const std::int64_t count = reader.count(tokens[3], "the number of elements in the block");
        if (type == kTriangle6 || type == kTetrahedron10) raw.quadratic = true;
        const std::size_t per = type == kTriangle ? 3 : type == kTetrahedron ? 4 : 0;
        for (std::int64_t i = 0; i < count; ++i) {
          reader.require(tokens, "an element line '<tag> <node tags...>'");
          if (per == 0) continue;  // points, lines, other types: not part of the mesh
          reader.expect_count(tokens, 1 + per,
                              std::string("an element line '<tag> ") +
                                  (per == 3 ? "<n0> <n1> <n2>'" : "<n0> <n1> <n2> <n3>'"));
          auto& list = per == 3 ? raw.triangles : raw.tetrahedra;
          std::size_t& first = per == 3 ? raw.triangle_line : raw.tetrahedron_line;
          if (first == 0) first = reader.line_number();
          for (std::size_t a = 0; a < per; ++a) {
            const std::int64_t tag = reader.integer(tokens[1 + a], "a node tag");
            if (have_nodes && !nodes.contains(tag)) {
              reader.fail("expected a node tag listed in $Nodes, got " + std::to_string(tag));
            }
            list.push_back(tag);
          }
        }
      }
      expect_end(reader, tokens, "$EndElements");
      have_elements = true;
    } else {
      skip_section(reader, tokens, section);
    }
  }
  const std::string file(name);
  if (!have_format) throw ParseError(file + ": expected a $MeshFormat section, found none");
  if (!have_nodes) throw ParseError(file + ": expected a $Nodes section, found none");
  if (!have_elements) throw ParseError(file + ": expected an $Elements section, found none");
  const bool solid = !raw.tetrahedra.empty();
  const std::vector<std::int64_t>& tags = solid ? raw.tetrahedra : raw.triangles;
  if (tags.empty()) {
    throw ParseError(file +
                     ": expected 3-node triangles (type 2) or 4-node tetrahedra (type 4) "
                     "in $Elements, found none" +
                     (raw.quadratic ? " (only quadratic ones: maya's elements are linear)" : ""));
  }
  // Keep the nodes the elements use, in the order of their tags.
  std::vector<std::int64_t> used(tags);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  const std::size_t dim = solid ? 3 : 2;
  std::vector<double> positions;
  positions.reserve(used.size() * dim);
  for (const std::int64_t tag : used) {
    if (!nodes.contains(tag)) {
      throw ParseError(file + ": expected every node of an element in $Nodes, but node " +
                       std::to_string(tag) + " is missing");
    }
  }
  const double z0 = nodes.at(used.front())[2];
  for (const std::int64_t tag : used) {
    const auto& xyz = nodes.at(tag);
    if (!solid && xyz[2] != z0) {
      throw ParseError(file + ":" + std::to_string(raw.triangle_line) +
                       ": expected a planar triangle mesh (constant z), but node " +
                       std::to_string(tag) + " has z = " + std::to_string(xyz[2]) + " and node " +
                       std::to_string(used.front()) + " z = " + std::to_string(z0));
    }
    positions.insert(positions.end(), xyz.begin(), xyz.begin() + static_cast<long>(dim));
  }
  std::vector<std::int64_t> elements(tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    elements[i] = std::lower_bound(used.begin(), used.end(), tags[i]) - used.begin();
  }
  return detail::finish_mesh(Tensor::from_data(std::move(positions), {used.size(), dim}),
                             std::move(elements), options, file);
}

Mesh read_gmsh(const std::filesystem::path& file, const MeshReadOptions& options) {
  std::ifstream in(file);
  if (!in) throw ParseError(file.string() + ": cannot open the .msh file");
  return read_gmsh(in, file.string(), options);
}

}  // namespace maya::fem
