// Reading meshes written by other tools: the .node/.ele pair of TetGen and Triangle, and Gmsh's
// .msh version 4 ASCII format. Malformed files throw maya::ParseError naming the file, the line
// and what was expected there.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string_view>

#include "maya/fem/mesh.hpp"

namespace maya::fem {

struct MeshReadOptions {
  // Reorder the vertices of negatively oriented elements (Mesh::orient_positively), so meshes
  // from tools with the opposite convention load as they are.
  bool orient = true;
};

// TetGen/Triangle: `<base>.node` lists "<count> <dimension> <#attributes> <#markers>" then one
// "<index> <x> <y> [z] [attributes...] [marker]" line per vertex; `<base>.ele` lists
// "<count> <vertices per element> <#attributes>" then "<index> <v0> ... [attributes...]".
// Indices may start at 0 or 1 (as the first vertex line says); '#' starts a comment. Only linear
// elements (3 vertices in 2-D, 4 in 3-D) are accepted.
[[nodiscard]] Mesh read_node_ele(const std::filesystem::path& node_file,
                                 const std::filesystem::path& ele_file,
                                 const MeshReadOptions& options = {});
[[nodiscard]] Mesh read_node_ele(std::istream& node, std::string_view node_name, std::istream& ele,
                                 std::string_view ele_name, const MeshReadOptions& options = {});

// Gmsh .msh 4.x ASCII ($MeshFormat, $Nodes, $Elements; other sections are skipped). The mesh is
// made of the 4-node tetrahedra when there are any, else of the 3-node triangles (then z must
// be constant and is dropped). Nodes no kept element uses are dropped and the rest renumbered in
// order of their tags.
[[nodiscard]] Mesh read_gmsh(const std::filesystem::path& file,
                             const MeshReadOptions& options = {});
[[nodiscard]] Mesh read_gmsh(std::istream& in, std::string_view name,
                             const MeshReadOptions& options = {});

}  // namespace maya::fem
