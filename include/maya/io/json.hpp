// Strict reading of JSON input files (scenes, tasks). Every value knows its path from the root
// ("scene.springs[3].stiffness"), so every complaint — a syntax error (with line and column), an
// unknown key (with the nearest valid one), a wrong type, a non-physical value — is one
// maya::ParseError line that says where and what would be valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "maya/core/error.hpp"

namespace maya::io {

// Which numbers a field accepts; the message names the rule ("must be positive, got -2").
enum class NumberRule { kAny, kPositive, kNonNegative };

// A node of a JsonDocument; valid while the document lives.
class JsonValue {
 public:
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string_view type_name() const noexcept;  // "object", "number", ...
  [[nodiscard]] bool is_object() const noexcept;
  [[nodiscard]] bool is_array() const noexcept;
  [[nodiscard]] bool is_number() const noexcept;
  [[nodiscard]] bool is_string() const noexcept;
  [[nodiscard]] bool is_bool() const noexcept;
  [[nodiscard]] bool is_null() const noexcept;

  // Typed reads; a wrong type throws "<path>: expected a number, got a string (\"abc\")".
  [[nodiscard]] double as_number(NumberRule rule = NumberRule::kAny) const;
  [[nodiscard]] double as_number_in(double low, double high) const;  // low <= x <= high
  [[nodiscard]] std::int64_t as_integer() const;
  [[nodiscard]] std::size_t as_index() const;  // an integer >= 0
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] std::string as_string() const;
  // An array of numbers; `expected_size` (when given) is checked: "must have 2 numbers, got 3".
  [[nodiscard]] std::vector<double> as_numbers(
      std::optional<std::size_t> expected_size = std::nullopt,
      NumberRule rule = NumberRule::kAny) const;

  // Arrays: the number of elements and element i (path "…[i]"); objects: the number of keys.
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] JsonValue at(std::size_t index) const;
  [[nodiscard]] std::vector<JsonValue> elements() const;
  // Objects: every key with its value (path "…key"), in the file's order.
  [[nodiscard]] std::vector<std::pair<std::string, JsonValue>> members() const;

  // The compact JSON text of this value.
  [[nodiscard]] std::string dump() const;
  // Throws maya::ParseError "<source>: <path>: <message>".
  [[noreturn]] void fail(std::string_view message) const;

 private:
  friend class JsonDocument;
  friend class JsonObject;
  JsonValue(const void* node, std::string path, const std::string* source)
      : node_(node), path_(std::move(path)), source_(source) {}

  const void* node_;  // a nlohmann::json inside the document (kept out of the public headers)
  std::string path_;
  const std::string* source_;
};

// A parsed JSON text. Duplicate keys are an error (JSON leaves them undefined).
class JsonDocument {
 public:
  // `source` names the text in messages (a file name); `root_name` is the root's path.
  // Malformed JSON throws ParseError "<source>:<line>:<column>: invalid JSON: <reason>".
  [[nodiscard]] static JsonDocument parse(std::string_view text, std::string source,
                                          std::string root_name);
  // Reads and parses a file; a missing file throws maya::io::FileError.
  [[nodiscard]] static JsonDocument load(const std::filesystem::path& path, std::string root_name);

  JsonDocument(JsonDocument&&) noexcept;
  JsonDocument& operator=(JsonDocument&&) noexcept;
  ~JsonDocument();

  [[nodiscard]] JsonValue root() const;
  [[nodiscard]] const std::string& source() const noexcept;

 private:
  struct Impl;
  explicit JsonDocument(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An object read strictly: keys outside `allowed` are an error naming the nearest allowed key.
class JsonObject {
 public:
  JsonObject(const JsonValue& value, std::initializer_list<std::string_view> allowed);

  [[nodiscard]] bool has(std::string_view key) const;
  // A missing required key throws "<path>: missing key 'dt'".
  [[nodiscard]] JsonValue required(std::string_view key) const;
  [[nodiscard]] std::optional<JsonValue> optional(std::string_view key) const;
  [[nodiscard]] double number(std::string_view key, NumberRule rule = NumberRule::kAny) const;
  [[nodiscard]] double number_or(std::string_view key, double fallback,
                                 NumberRule rule = NumberRule::kAny) const;
  [[nodiscard]] const JsonValue& value() const noexcept { return value_; }
  [[nodiscard]] const std::string& path() const noexcept { return value_.path(); }

 private:
  JsonValue value_;
};

// The candidate closest to `word` by edit distance (insertions, deletions, substitutions and
// transpositions), if it is close enough to be a plausible typo; nullopt otherwise.
[[nodiscard]] std::optional<std::string> nearest_word(std::string_view word,
                                                      std::span<const std::string_view> candidates);
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace maya::io
