#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <maya/maya.hpp>
#include <sstream>
#include <string>

namespace {

using maya::fem::Mesh;

// A directory of its own per test, removed afterwards.
class MeshFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("maya_fem_") + info->test_suite_name() + "_" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

// "expected" message of a ParseError, or "(no error)".
std::string parse_error(const auto& read) {
  try {
    (void)read();
  } catch (const maya::ParseError& error) {
    return error.what();
  }
  return "(no error)";
}

Mesh node_ele(const std::string& node, const std::string& ele) {
  std::istringstream node_in(node);
  std::istringstream ele_in(ele);
  return maya::fem::read_node_ele(node_in, "cube.node", ele_in, "cube.ele");
}

Mesh msh(const std::string& text) {
  std::istringstream in(text);
  return maya::fem::read_gmsh(in, "part.msh");
}

// A unit square as two triangles (Triangle's format, 1-based, with a marker column).
const std::string kSquareNode = "# square\n4 2 0 1\n1 0 0 1\n2 1 0 1\n3 1 1 1\n4 0 1 1\n";
const std::string kSquareEle = "2 3 0\n1 1 2 3\n2 1 3 4  # last\n";

// A unit tetrahedron, Gmsh 4.1, with an entity section, a point and a line to skip.
const std::string kTetMsh = R"($MeshFormat
4.1 0 8
$EndMeshFormat
$Entities
1 0 0 1
1 0 0 0 0
1 0 0 0 1 1 1 1 0 1 1 0 0
$EndEntities
$Nodes
2 5 1 12
0 1 0 1
12
0 0 0
3 1 0 4
2
5
7
11
1 0 0
0 1 0
0 0 1
0.5 0.5 0.5
$EndNodes
$Elements
3 3 1 3
0 1 15 1
1 12
1 1 1 1
2 12 2
3 1 4 1
3 12 2 5 7
$EndElements
)";

}  // namespace

TEST_F(MeshFiles, ReadsTetGenNodeAndEleFiles) {
  // One cube of the Kuhn subdivision, 1-based, with attributes and boundary markers.
  const Mesh cube = maya::fem::box_mesh({});
  std::ostringstream node;
  node << cube.num_vertices() << " 3 1 1\n";
  for (std::size_t v = 0; v < cube.num_vertices(); ++v) {
    node << v + 1;
    for (std::size_t k = 0; k < 3; ++k) node << ' ' << cube.rest_positions().at({v, k});
    node << " 0.5 1\n";
  }
  std::ostringstream ele;
  ele << cube.num_elements() << " 4 1\n";
  for (std::size_t e = 0; e < cube.num_elements(); ++e) {
    ele << e + 1;
    for (const std::int64_t v : cube.element(e)) ele << ' ' << v + 1;
    ele << " 7\n";
  }
  const Mesh read =
      maya::fem::read_node_ele(write("cube.node", node.str()), write("cube.ele", ele.str()));
  EXPECT_TRUE(maya::allclose(read.rest_positions(), cube.rest_positions(), 0.0, 0.0));
  EXPECT_TRUE(std::equal(read.elements().begin(), read.elements().end(), cube.elements().begin(),
                         cube.elements().end()));
}

TEST_F(MeshFiles, ReadsTriangleFilesAndReorientsClockwiseElements) {
  const Mesh square = node_ele(kSquareNode, "2 3 0\n1 1 3 2\n2 1 3 4\n");  // first one clockwise
  EXPECT_EQ(square.dim(), 2u);
  EXPECT_EQ(square.num_elements(), 2u);
  for (const double area : square.signed_volumes()) EXPECT_NEAR(area, 0.5, 1e-15);
}

TEST_F(MeshFiles, MalformedNodeEleFilesNameTheFileLineAndExpectation) {
  const auto expect_error = [&](const std::string& node, const std::string& ele,
                                const std::string& where, const std::string& what) {
    const std::string message = parse_error([&] { return node_ele(node, ele); });
    EXPECT_NE(message.find(where), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  };
  expect_error("4 2 0 1\n1 0 0 1\n2 1\n", kSquareEle,
               "cube.node:3:", "expected '<index> <x> <y>' (3 values), got 2 values");
  expect_error("4 2 0 1\n1 0 0 1\n2 1 zero 1\n", kSquareEle,
               "cube.node:3:", "expected coordinate 1 (a number), got 'zero'");
  expect_error("4 2 0 1\n1 0 0 1\n3 1 0 1\n", kSquareEle,
               "cube.node:3:", "expected point number 2");
  expect_error("4 4 0 0\n", kSquareEle, "cube.node:1:", "expected dimension 2 or 3, got 4");
  expect_error("4 2 0 1\n1 0 0 1\n2 1 0 1\n", kSquareEle,
               "cube.node:4:", "expected point 3 of 4, got the end of the file");
  expect_error(kSquareNode, "2 6 0\n", "cube.ele:1:", "higher-order elements are not supported");
  expect_error(kSquareNode, "2 3 0\n1 1 2 3\n2 1 3 9\n",
               "cube.ele:3:", "expected a point number in 1..4, got 9");
  expect_error(kSquareNode, "2 3 0\n1 1 2 3\n", "cube.ele:3:", "expected element 2 of 2");
  expect_error(kSquareNode, "2 3 0\n1 1 2 3\n2 1 3 3\n", "cube.ele", "repeats vertex");
  EXPECT_NE(parse_error([&] {
              return maya::fem::read_node_ele(dir_ / "no.node", dir_ / "no.ele");
            }).find("cannot open"),
            std::string::npos);
}

TEST_F(MeshFiles, ReadsGmshVersion4Tetrahedra) {
  const Mesh tet = maya::fem::read_gmsh(write("tet.msh", kTetMsh));
  EXPECT_EQ(tet.dim(), 3u);
  EXPECT_EQ(tet.num_elements(), 1u);
  EXPECT_EQ(tet.num_vertices(), 4u);  // node 11 belongs to no element and is dropped
  EXPECT_NEAR(tet.signed_volumes()[0], 1.0 / 6.0, 1e-15);
  // Nodes are renumbered in tag order: 2, 5, 7, 12 -> 0, 1, 2, 3.
  EXPECT_EQ(tet.rest_positions().at({3, 0}), 0.0);
  EXPECT_EQ(tet.rest_positions().at({0, 0}), 1.0);
}

TEST_F(MeshFiles, ReadsPlanarGmshTrianglesAsA2DMesh) {
  const std::string text = R"($MeshFormat
4.1 0 8
$EndMeshFormat
$Nodes
1 4 1 4
2 1 0 4
1
2
3
4
0 0 0
1 0 0
1 1 0
0 1 0
$EndNodes
$Elements
1 2 1 2
2 1 2 2
1 1 2 3
2 1 3 4
$EndElements
)";
  const Mesh square = msh(text);
  EXPECT_EQ(square.dim(), 2u);
  EXPECT_EQ(square.num_elements(), 2u);
}

TEST_F(MeshFiles, MalformedGmshFilesNameTheFileLineAndExpectation) {
  const auto expect_error = [&](const std::string& text, const std::string& where,
                                const std::string& what) {
    const std::string message = parse_error([&] { return msh(text); });
    EXPECT_NE(message.find(where), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  };
  const auto replace = [](std::string text, const std::string& from, const std::string& to) {
    return text.replace(text.find(from), from.size(), to);
  };
  expect_error(replace(kTetMsh, "4.1 0 8", "2.2 0 8"),
               "part.msh:2:", "expected .msh format version 4.x, got 2.2");
  expect_error(replace(kTetMsh, "4.1 0 8", "4.1 1 8"), "part.msh:2:", "binary");
  expect_error(replace(kTetMsh, "0.5 0.5 0.5", "0.5 0.5"), "part.msh:22:",
               "expected the coordinates 'x y z' of a node (3 values), got 2 values");
  expect_error(replace(kTetMsh, "3 12 2 5 7", "3 12 2 5 8"),
               "part.msh:31:", "expected a node tag listed in $Nodes, got 8");
  expect_error(replace(kTetMsh, "$EndNodes", "$End"), "part.msh:23:", "expected '$EndNodes'");
  expect_error(replace(kTetMsh, "3 1 4 1", "3 1 11 1"), "part.msh",
               "only quadratic ones: maya's elements are linear");
  expect_error("$MeshFormat\n4.1 0 8\n$EndMeshFormat\n", "part.msh", "expected a $Nodes section");
  expect_error(kTetMsh.substr(0, kTetMsh.find("$EndElements")),
               "part.msh:", "expected '$EndElements', got the end of the file");
}

// Regression: the name of an unknown section pointed into the line buffer, which the next line
// (longer than the buffer's capacity) reallocated; the error then read freed memory (ASan).
TEST_F(MeshFiles, UnterminatedUnknownGmshSectionIsAParseError) {
  const std::string text = "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$PhysicalNamesAndMore\n" +
                           std::string(300, 'x') + "\n";
  const std::string message = parse_error([&] { return msh(text); });
  EXPECT_NE(message.find("expected '$EndPhysicalNamesAndMore' to close $PhysicalNamesAndMore"),
            std::string::npos)
      << message;
}

// Regression: the reader reserved the count the header declared (std::bad_alloc for 4e12).
TEST_F(MeshFiles, NodeHeaderClaimingHugeCountsIsAParseErrorWithTheLine) {
  const std::string message =
      parse_error([&] { return node_ele("4000000000000 2 0 0\n1 0 0\n", kSquareEle); });
  EXPECT_NE(message.find("cube.node:3: expected point 2 of 4000000000000"), std::string::npos)
      << message;
  const std::string elements =
      parse_error([&] { return node_ele(kSquareNode, "4000000000000 3 0\n1 1 2 3\n"); });
  EXPECT_NE(elements.find("cube.ele:3: expected element 2 of 4000000000000"), std::string::npos)
      << elements;
}

TEST_F(MeshFiles, NonFiniteCoordinatesAreAParseError) {
  const std::string message = parse_error(
      [&] { return node_ele("4 2 0 1\n1 0 0 1\n2 nan 0 1\n3 1 1 1\n4 0 1 1\n", kSquareEle); });
  EXPECT_NE(message.find("cube.node:3: expected coordinate 0 (a finite number), got 'nan'"),
            std::string::npos)
      << message;
}
