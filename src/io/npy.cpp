// The .npy layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.0, uint32 LE for
// 2.0+), then "{'descr': '<f8', 'fortran_order': False, 'shape': (..), }" padded with spaces and
// a final '\n' so the data starts at a multiple of 64 bytes, then the raw values.
#include "maya/io/npy.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"

namespace maya::io {
namespace {

static_assert(std::endian::native == std::endian::little, "npy writer assumes little endian");

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kAlignment = 64;

std::string shape_tuple(std::span<const std::size_t> shape) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    tuple += std::to_string(shape[i]);
    tuple += (shape.size() == 1 || i + 1 < shape.size()) ? "," : "";
    if (i + 1 < shape.size()) {
      tuple += " ";
    }
  }
  return tuple + ")";
}

[[noreturn]] void bad(const std::string& why) { throw ParseError("npy: " + why); }

// The text of `key`'s value in the header dict (up to the next ',' at depth 0 or '}').
std::string_view dict_value(std::string_view header, std::string_view key) {
  const std::string quoted = "'" + std::string(key) + "'";
  const std::size_t at = header.find(quoted);
  if (at == std::string_view::npos) {
    bad("header has no " + quoted + ": " + std::string(header));
  }
  std::size_t start = header.find(':', at + quoted.size());
  if (start == std::string_view::npos) {
    bad("malformed header: " + std::string(header));
  }
  ++start;
  int depth = 0;
  std::size_t end = start;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if ((c == ',' || c == '}') && depth == 0) {
      break;
    }
  }
  std::string_view value = header.substr(start, end - start);
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  return value;
}

}  // namespace

std::string npy_bytes(std::span<const double> values, std::span<const std::size_t> shape) {
  const std::size_t count =
      std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  if (count != values.size()) {
    throw ShapeError("npy_bytes: " + std::to_string(values.size()) + " values do not fill shape " +
                     shape_tuple(shape));
  }
  std::string header =
      "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  const std::size_t prefix = kMagic.size() + 2 + 2;
  const std::size_t unpadded = prefix + header.size() + 1;
  header.append((kAlignment - unpadded % kAlignment) % kAlignment, ' ');
  header += '\n';
  if (header.size() > 0xffff) {
    throw ShapeError("npy_bytes: shape " + shape_tuple(shape) + " needs a header over 64 KiB");
  }
  std::string bytes;
  bytes.reserve(prefix + header.size() + values.size() * sizeof(double));
  bytes += kMagic;
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  const std::size_t data_at = bytes.size();
  bytes.resize(data_at + values.size() * sizeof(double));
  if (!values.empty()) {
    std::memcpy(bytes.data() + data_at, values.data(), values.size() * sizeof(double));
  }
  return bytes;
}

std::string npy_bytes(const Tensor& tensor) { return npy_bytes(tensor.data(), tensor.shape()); }

NpyArray parse_npy(std::string_view bytes) {
  if (bytes.size() < 10 || bytes.substr(0, kMagic.size()) != kMagic) {
    bad("not a .npy file (no \\x93NUMPY magic)");
  }
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  const unsigned major = byte(6);
  std::size_t header_length = 0;
  std::size_t header_at = 0;
  if (major == 1) {
    header_length = byte(8) | (std::size_t{byte(9)} << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) {
      bad("truncated header");
    }
    header_length = byte(8) | (std::size_t{byte(9)} << 8) | (std::size_t{byte(10)} << 16) |
                    (std::size_t{byte(11)} << 24);
    header_at = 12;
  } else {
    bad("unsupported format version " + std::to_string(major));
  }
  if (bytes.size() < header_at + header_length) {
    bad("truncated header");
  }
  const std::string_view header = bytes.substr(header_at, header_length);
  const std::string_view descr = dict_value(header, "descr");
  if (descr != "'<f8'" && descr != "'float64'") {
    bad("dtype " + std::string(descr) + " is not little-endian float64 '<f8'");
  }
  if (dict_value(header, "fortran_order") != "False") {
    bad("Fortran-order arrays are not supported");
  }
  const std::string_view tuple = dict_value(header, "shape");
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') {
    bad("malformed shape " + std::string(tuple));
  }
  NpyArray array;
  std::size_t count = 0;
  std::size_t i = 1;
  while (i + 1 < tuple.size()) {
    while (i + 1 < tuple.size() && (tuple[i] == ' ' || tuple[i] == ',')) {
      ++i;
    }
    if (i + 1 >= tuple.size()) {
      break;
    }
    std::size_t dimension = 0;
    bool digits = false;
    while (i + 1 < tuple.size() && tuple[i] >= '0' && tuple[i] <= '9') {
      if (dimension > (std::numeric_limits<std::size_t>::max() - 9) / 10) {
        bad("shape " + std::string(tuple) + " has an extent that overflows");
      }
      dimension = dimension * 10 + static_cast<std::size_t>(tuple[i] - '0');
      digits = true;
      ++i;
    }
    if (!digits) {
      bad("malformed shape " + std::string(tuple));
    }
    array.shape.push_back(dimension);
  }
  const std::size_t data_at = header_at + header_length;
  // Bounded by what the file holds, so a product that wraps around cannot match its size.
  try {
    count = checked_element_count(array.shape, "npy", (bytes.size() - data_at) / sizeof(double));
  } catch (const ShapeError&) {
    bad("shape " + std::string(tuple) + " needs more data than the file's " +
        std::to_string(bytes.size() - data_at) + " bytes");
  }
  if (bytes.size() - data_at != count * sizeof(double)) {
    bad("shape " + std::string(tuple) + " needs " + std::to_string(count * sizeof(double)) +
        " bytes of data, the file has " + std::to_string(bytes.size() - data_at));
  }
  array.values.resize(count);
  if (count > 0) {
    std::memcpy(array.values.data(), bytes.data() + data_at, count * sizeof(double));
  }
  return array;
}

}  // namespace maya::io
