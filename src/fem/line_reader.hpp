// Line-oriented reading of text mesh files with the position kept for error messages: every
// ParseError reads "<file>:<line>: expected <what>, got <what was there>".
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/mesh_io.hpp"

namespace maya::fem::detail {

// The most items a reader reserves room for up front from a count a file declares; beyond it the
// containers grow with the items actually read.
inline constexpr std::size_t kReserveLimit = std::size_t{1} << 16;

class LineReader {
 public:
  // comment: a character that starts a comment to the end of the line ('\0' for none).
  LineReader(std::istream& in, std::string_view name, char comment)
      : in_(in), name_(name), comment_(comment) {}

  // The next line with a token, split on whitespace; false at the end of the file.
  bool next(std::vector<std::string_view>& tokens) {
    while (std::getline(in_, line_)) {
      ++line_number_;
      if (comment_ != '\0') {
        const std::size_t hash = line_.find(comment_);
        if (hash != std::string::npos) line_.erase(hash);
      }
      tokens.clear();
      std::size_t i = 0;
      while (i < line_.size()) {
        while (i < line_.size() && is_space(line_[i])) ++i;
        const std::size_t begin = i;
        while (i < line_.size() && !is_space(line_[i])) ++i;
        if (i > begin) tokens.emplace_back(line_.data() + begin, i - begin);
      }
      if (!tokens.empty()) return true;
    }
    return false;
  }

  // Like next(), but a missing line is an error saying what was expected.
  void require(std::vector<std::string_view>& tokens, std::string_view expected) {
    if (!next(tokens)) {
      throw ParseError(name_ + ":" + std::to_string(line_number_ + 1) + ": expected " +
                       std::string(expected) + ", got the end of the file");
    }
  }

  [[noreturn]] void fail(std::string_view message) const {
    throw ParseError(name_ + ":" + std::to_string(line_number_) + ": " + std::string(message));
  }

  // The line must have at least `count` tokens.
  void expect_count(const std::vector<std::string_view>& tokens, std::size_t count,
                    std::string_view expected) const {
    if (tokens.size() < count) {
      fail("expected " + std::string(expected) + " (" + std::to_string(count) + " values), got " +
           std::to_string(tokens.size()) + (tokens.size() == 1 ? " value" : " values"));
    }
  }

  [[nodiscard]] double real(std::string_view token, std::string_view what) const {
    double value = 0.0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size()) {
      fail("expected " + std::string(what) + " (a number), got '" + std::string(token) + "'");
    }
    if (!(value - value == 0.0)) {
      fail("expected " + std::string(what) + " (a finite number), got '" + std::string(token) +
           "'");
    }
    return value;
  }

  [[nodiscard]] std::int64_t integer(std::string_view token, std::string_view what) const {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size()) {
      fail("expected " + std::string(what) + " (an integer), got '" + std::string(token) + "'");
    }
    return value;
  }

  [[nodiscard]] std::int64_t count(std::string_view token, std::string_view what) const {
    const std::int64_t value = integer(token, what);
    if (value < 0) {
      fail("expected " + std::string(what) + " (a count, >= 0), got " + std::to_string(value));
    }
    return value;
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::size_t line_number() const noexcept { return line_number_; }

 private:
  static bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  }

  std::istream& in_;
  std::string name_;
  char comment_;
  std::string line_;
  std::size_t line_number_ = 0;
};

// The mesh a reader built; Mesh's own checks (a repeated or unused vertex) become ParseErrors
// naming the file.
[[nodiscard]] inline Mesh finish_mesh(Tensor positions, std::vector<std::int64_t> elements,
                                      const MeshReadOptions& options, const std::string& name) {
  try {
    Mesh mesh(std::move(positions), std::move(elements));
    if (options.orient) mesh.orient_positively();
    return mesh;
  } catch (const ValueError& error) {
    throw ParseError(name + ": " + error.what());
  }
}

}  // namespace maya::fem::detail
