#include "maya/io/npy.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "maya/core/error.hpp"

namespace {

std::string header_of(const std::string& bytes) {
  const std::size_t length = static_cast<unsigned char>(bytes[8]) |
                             (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  return bytes.substr(10, length);
}

}  // namespace

TEST(Npy, HeaderIsVersionOneDictAlignedTo64Bytes) {
  const std::vector<double> values = {1, 2, 3, 4, 5, 6};
  const std::size_t shape[] = {2, 3};
  const std::string bytes = maya::io::npy_bytes(values, shape);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], '\x01');
  EXPECT_EQ(bytes[7], '\x00');
  const std::string header = header_of(bytes);
  EXPECT_EQ((10 + header.size()) % 64, 0u);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u)
      << header;
  EXPECT_EQ(bytes.size(), 10 + header.size() + 6 * sizeof(double));
  double last = 0;
  std::memcpy(&last, bytes.data() + bytes.size() - sizeof(double), sizeof(double));
  EXPECT_EQ(last, 6.0);
}

TEST(Npy, OneDimensionalShapeHasATrailingComma) {
  const std::vector<double> values = {1.5, -2.5, 3.25};
  const std::size_t shape[] = {3};
  EXPECT_NE(header_of(maya::io::npy_bytes(values, shape)).find("'shape': (3,)"), std::string::npos);
}

TEST(Npy, RoundTripsShapeAndValuesExactly) {
  const maya::Tensor tensor = maya::Tensor::uniform({4, 3, 2}, -1.0, 1.0, 7);
  const maya::io::NpyArray array = maya::io::parse_npy(maya::io::npy_bytes(tensor));
  EXPECT_EQ(array.shape, (std::vector<std::size_t>{4, 3, 2}));
  ASSERT_EQ(array.values.size(), tensor.numel());
  for (std::size_t i = 0; i < array.values.size(); ++i) {
    EXPECT_EQ(array.values[i], tensor.data()[i]);
  }
}

TEST(Npy, ScalarHasEmptyShape) {
  const maya::io::NpyArray array =
      maya::io::parse_npy(maya::io::npy_bytes(maya::Tensor::scalar(4)));
  EXPECT_TRUE(array.shape.empty());
  EXPECT_EQ(array.values, std::vector<double>{4.0});
}

TEST(Npy, ValueCountMustFillTheShape) {
  const std::vector<double> values = {1, 2, 3};
  const std::size_t shape[] = {2, 2};
  EXPECT_THROW((void)maya::io::npy_bytes(values, shape), maya::ShapeError);
}

TEST(Npy, ParseRejectsOtherDtypesAndTruncatedData) {
  std::string bytes = maya::io::npy_bytes(maya::Tensor::ones({3}));
  std::string as_int = bytes;
  as_int.replace(as_int.find("<f8"), 3, "<i8");
  EXPECT_THROW((void)maya::io::parse_npy(as_int), maya::ParseError);
  EXPECT_THROW((void)maya::io::parse_npy(bytes.substr(0, bytes.size() - 1)), maya::ParseError);
  EXPECT_THROW((void)maya::io::parse_npy("not numpy"), maya::ParseError);
}
