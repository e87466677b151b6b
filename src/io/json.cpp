// JsonDocument and friends on nlohmann::json, which stays private to this file.
#include "maya/io/json.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/io/output_files.hpp"

namespace maya::io {
namespace {

using Json = nlohmann::json;

const Json& node_of(const void* node) { return *static_cast<const Json*>(node); }

std::string type_name_of(const Json& json) {
  switch (json.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::null: return "null";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    default: return "value";
  }
}

std::string article(std::string_view noun) {
  return (noun.front() == 'a' || noun.front() == 'o' || noun.front() == 'i' ? "an " : "a ") +
         std::string(noun);
}

// Nesting deeper than this is an error: scenes and tasks nest a few levels, and every walk over a
// document (the destructor, dump(), the messages' previews) then has a bounded depth.
constexpr std::size_t kMaxDepth = 100;

// The compact JSON text of `json`, written only until `out` holds `budget` characters, so a
// preview of a huge value costs no more than a preview of a small one. Text cut inside a UTF-8
// sequence is written with the replacement character (never an exception).
std::string compact(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void preview_into(const Json& json, std::string& out, std::size_t budget) {
  if (out.size() >= budget) return;
  if (json.is_object()) {
    out += '{';
    bool first = true;
    for (auto item = json.begin(); item != json.end() && out.size() < budget; ++item) {
      out += first ? "" : ",";
      first = false;
      out += compact(Json(item.key())) + ":";
      preview_into(item.value(), out, budget);
    }
    out += '}';
  } else if (json.is_array()) {
    out += '[';
    bool first = true;
    for (auto element = json.begin(); element != json.end() && out.size() < budget; ++element) {
      out += first ? "" : ",";
      first = false;
      preview_into(*element, out, budget);
    }
    out += ']';
  } else if (json.is_string() && json.get_ref<const std::string&>().size() > budget) {
    out += compact(Json(json.get_ref<const std::string&>().substr(0, budget)));
  } else {
    out += compact(json);
  }
}

// The JSON text of a value, cut short for messages (at a character boundary).
std::string excerpt(const Json& json) {
  std::string text;
  preview_into(json, text, 40);
  if (text.size() > 40) {
    std::size_t cut = 37;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

bool is_identifier(std::string_view key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string child_path(const std::string& parent, std::string_view key) {
  if (!is_identifier(key)) {
    return parent + "[" + compact(Json(std::string(key))) + "]";
  }
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// "<line>:<column>" of the byte at `offset` (0-based), both counted from 1.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

// nlohmann's message without its "[json.exception...] parse error at line L, column C: " prefix.
std::string reason_of(std::string message) {
  const std::size_t column = message.find("column ");
  std::size_t start = column == std::string::npos ? message.find("] ") : message.find(": ", column);
  if (start == std::string::npos) {
    return message;
  }
  message = message.substr(start + 2);
  std::replace(message.begin(), message.end(), '\n', ' ');
  return message;
}

// Where the value opened at depth kMaxDepth + 1 starts: the offset of its bracket.
std::size_t offset_of_too_deep(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return text.size();
}

// Builds the document with nlohmann's own DOM builder, adding what maya's files need: duplicate
// keys are an error, nesting is bounded (so nothing downstream recurses without bound), and a
// number that overflows a double is a ParseError with line and column like any syntax error. One
// pass, linear in the text (nlohmann's callback parser rescans a parent array each time one of
// its elements closes, which is quadratic for a scene of a million particles).
class DocumentBuilder : public nlohmann::json_sax<Json> {
 public:
  DocumentBuilder(Json& root, std::string_view text, std::string prefix)
      : dom_(root), text_(text), prefix_(std::move(prefix)) {}

  bool null() override { return dom_.null(); }
  bool boolean(bool value) override { return dom_.boolean(value); }
  bool number_integer(number_integer_t value) override { return dom_.number_integer(value); }
  bool number_unsigned(number_unsigned_t value) override { return dom_.number_unsigned(value); }
  bool number_float(number_float_t value, const string_t& text) override {
    return dom_.number_float(value, text);
  }
  bool string(string_t& value) override { return dom_.string(value); }
  bool binary(binary_t& value) override { return dom_.binary(value); }

  bool start_object(std::size_t elements) override {
    open();
    while (keys_.size() < depth_) keys_.emplace_back();
    keys_[depth_ - 1].clear();
    return dom_.start_object(elements);
  }
  bool key(string_t& value) override {
    if (!keys_[depth_ - 1].insert(value).second) {
      throw ParseError((prefix_.empty() ? "" : prefix_ + " ") + "invalid JSON: duplicate key \"" +
                       value + "\"");
    }
    return dom_.key(value);
  }
  bool end_object() override {
    close();
    return dom_.end_object();
  }
  bool start_array(std::size_t elements) override {
    open();
    return dom_.start_array(elements);
  }
  bool end_array() override {
    close();
    return dom_.end_array();
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) override {
    fail_at(position > 0 ? position - 1 : 0, reason_of(error.what()));
  }

 private:
  void open() {
    if (++depth_ > kMaxDepth) {
      fail_at(offset_of_too_deep(text_),
              "values nest deeper than " + std::to_string(kMaxDepth) + " levels");
    }
  }
  void close() { --depth_; }
  [[noreturn]] void fail_at(std::size_t offset, const std::string& reason) const {
    const auto [line, column] = line_and_column(text_, offset);
    throw ParseError(prefix_ + std::to_string(line) + ":" + std::to_string(column) +
                     ": invalid JSON: " + reason);
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::string_view text_;
  std::string prefix_;
  std::size_t depth_ = 0;
  std::vector<std::unordered_set<std::string>> keys_;  // per open depth, reused
};

}  // namespace

// ---- JsonValue ----

std::string_view JsonValue::type_name() const noexcept {
  switch (node_of(node_).type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::null: return "null";
    default: return "number";
  }
}

bool JsonValue::is_object() const noexcept { return node_of(node_).is_object(); }
bool JsonValue::is_array() const noexcept { return node_of(node_).is_array(); }
bool JsonValue::is_number() const noexcept { return node_of(node_).is_number(); }
bool JsonValue::is_string() const noexcept { return node_of(node_).is_string(); }
bool JsonValue::is_bool() const noexcept { return node_of(node_).is_boolean(); }
bool JsonValue::is_null() const noexcept { return node_of(node_).is_null(); }

void JsonValue::fail(std::string_view message) const {
  std::string text = source_ != nullptr && !source_->empty() ? *source_ + ": " : "";
  if (!path_.empty()) {
    text += path_ + ": ";
  }
  throw ParseError(text + std::string(message));
}

namespace {

[[noreturn]] void wrong_type(const JsonValue& value, const Json& json, std::string_view expected) {
  value.fail("expected " + std::string(expected) + ", got " + article(type_name_of(json)) + " (" +
             excerpt(json) + ")");
}

// The magnitudes a file's number may have: its square and its reciprocal stay finite, so the
// physics can run on it (1e308 for a dt or 5e-324 for a mass cannot).
constexpr double kLargest = 1e100;
constexpr double kSmallestPositive = 1e-100;

void check_rule(const JsonValue& value, double number, NumberRule rule) {
  if (rule == NumberRule::kPositive && !(number > 0)) {
    value.fail("must be positive, got " + format_number(number));
  }
  if (rule == NumberRule::kNonNegative && !(number >= 0)) {
    value.fail("must be >= 0, got " + format_number(number));
  }
  if (std::abs(number) > kLargest) {
    value.fail("must be within [-1e100, 1e100] (a magnitude the physics can square), got " +
               format_number(number));
  }
  if (rule == NumberRule::kPositive && number < kSmallestPositive) {
    value.fail("must be at least 1e-100 (a magnitude the physics can invert), got " +
               format_number(number));
  }
}

}  // namespace

double JsonValue::as_number(NumberRule rule) const {
  const Json& json = node_of(node_);
  if (!json.is_number()) {
    wrong_type(*this, json, "a number");
  }
  const double number = json.get<double>();
  if (!std::isfinite(number)) {
    fail("must be finite, got " + excerpt(json));
  }
  check_rule(*this, number, rule);
  return number;
}

double JsonValue::as_number_in(double low, double high) const {
  const double number = as_number();
  if (!(number >= low && number <= high)) {
    fail("must be in [" + format_number(low) + ", " + format_number(high) + "], got " +
         format_number(number));
  }
  return number;
}

std::int64_t JsonValue::as_integer() const {
  const Json& json = node_of(node_);
  if (json.is_number_integer()) {
    return json.get<std::int64_t>();
  }
  if (json.is_number_float()) {
    const double number = json.get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::abs(number) < 9.0e15) {
      return static_cast<std::int64_t>(number);
    }
    fail("expected an integer, got " + excerpt(json));
  }
  wrong_type(*this, json, "an integer");
}

std::size_t JsonValue::as_index() const {
  const std::int64_t integer = as_integer();
  if (integer < 0) {
    fail("must be >= 0, got " + std::to_string(integer));
  }
  return static_cast<std::size_t>(integer);
}

bool JsonValue::as_bool() const {
  const Json& json = node_of(node_);
  if (!json.is_boolean()) {
    wrong_type(*this, json, "true or false");
  }
  return json.get<bool>();
}

std::string JsonValue::as_string() const {
  const Json& json = node_of(node_);
  if (!json.is_string()) {
    wrong_type(*this, json, "a string");
  }
  return json.get<std::string>();
}

std::vector<double> JsonValue::as_numbers(std::optional<std::size_t> expected_size,
                                          NumberRule rule) const {
  const Json& json = node_of(node_);
  if (!json.is_array()) {
    wrong_type(*this, json,
               expected_size ? "an array of " + std::to_string(*expected_size) + " numbers"
                             : std::string("an array of numbers"));
  }
  if (expected_size && json.size() != *expected_size) {
    fail("must have " + std::to_string(*expected_size) + " numbers, got " +
         std::to_string(json.size()));
  }
  std::vector<double> numbers;
  numbers.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    numbers.push_back(at(i).as_number(rule));
  }
  return numbers;
}

std::size_t JsonValue::size() const {
  const Json& json = node_of(node_);
  if (!json.is_array() && !json.is_object()) {
    wrong_type(*this, json, "an array");
  }
  return json.size();
}

JsonValue JsonValue::at(std::size_t index) const {
  const Json& json = node_of(node_);
  if (!json.is_array()) {
    wrong_type(*this, json, "an array");
  }
  if (index >= json.size()) {
    fail("has " + std::to_string(json.size()) + " elements, no element " + std::to_string(index));
  }
  return JsonValue(&json[index], path_ + "[" + std::to_string(index) + "]", source_);
}

std::vector<JsonValue> JsonValue::elements() const {
  const std::size_t count = size();
  if (!is_array()) {
    wrong_type(*this, node_of(node_), "an array");
  }
  std::vector<JsonValue> result;
  result.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    result.push_back(at(i));
  }
  return result;
}

std::vector<std::pair<std::string, JsonValue>> JsonValue::members() const {
  const Json& json = node_of(node_);
  if (!json.is_object()) {
    wrong_type(*this, json, "an object");
  }
  std::vector<std::pair<std::string, JsonValue>> result;
  for (const auto& item : json.items()) {
    result.emplace_back(item.key(),
                        JsonValue(&item.value(), child_path(path_, item.key()), source_));
  }
  return result;
}

std::string JsonValue::dump() const { return compact(node_of(node_)); }

// ---- JsonDocument ----

struct JsonDocument::Impl {
  Json json;
  std::string source;
  std::string root_name;
};

JsonDocument::JsonDocument(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonDocument::JsonDocument(JsonDocument&&) noexcept = default;
JsonDocument& JsonDocument::operator=(JsonDocument&&) noexcept = default;
JsonDocument::~JsonDocument() = default;

JsonDocument JsonDocument::parse(std::string_view text, std::string source, std::string root_name) {
  auto impl = std::make_unique<Impl>();
  impl->source = std::move(source);
  impl->root_name = std::move(root_name);
  const std::string prefix = impl->source.empty() ? std::string() : impl->source + ":";
  DocumentBuilder builder(impl->json, text, prefix);
  (void)Json::sax_parse(text.begin(), text.end(), &builder);
  return JsonDocument(std::move(impl));
}

JsonDocument JsonDocument::load(const std::filesystem::path& path, std::string root_name) {
  return parse(read_file(path), path.string(), std::move(root_name));
}

JsonValue JsonDocument::root() const {
  return JsonValue(&impl_->json, impl_->root_name, &impl_->source);
}

const std::string& JsonDocument::source() const noexcept { return impl_->source; }

// ---- JsonObject ----

JsonObject::JsonObject(const JsonValue& value, std::initializer_list<std::string_view> allowed)
    : value_(value) {
  const Json& json = node_of(value.node_);
  if (!json.is_object()) {
    wrong_type(value, json, "an object");
  }
  const std::vector<std::string_view> candidates(allowed);
  for (const auto& item : json.items()) {
    const std::string& key = item.key();
    if (std::find(candidates.begin(), candidates.end(), key) != candidates.end()) {
      continue;
    }
    const JsonValue unknown(&item.value(), child_path(value.path_, key), value.source_);
    if (const auto suggestion = nearest_word(key, candidates)) {
      unknown.fail("unknown key; did you mean '" + *suggestion + "'?");
    }
    std::string valid;
    for (const std::string_view candidate : candidates) {
      valid += (valid.empty() ? "" : ", ") + std::string(candidate);
    }
    unknown.fail("unknown key (valid keys: " + valid + ")");
  }
}

bool JsonObject::has(std::string_view key) const {
  return node_of(value_.node_).contains(std::string(key));
}

std::optional<JsonValue> JsonObject::optional(std::string_view key) const {
  const Json& json = node_of(value_.node_);
  const auto found = json.find(std::string(key));
  if (found == json.end()) {
    return std::nullopt;
  }
  return JsonValue(&*found, child_path(value_.path_, key), value_.source_);
}

JsonValue JsonObject::required(std::string_view key) const {
  if (auto found = optional(key)) {
    return *found;
  }
  value_.fail("missing key '" + std::string(key) + "'");
}

double JsonObject::number(std::string_view key, NumberRule rule) const {
  return required(key).as_number(rule);
}

double JsonObject::number_or(std::string_view key, double fallback, NumberRule rule) const {
  const auto found = optional(key);
  return found ? found->as_number(rule) : fallback;
}

// ---- suggestions ----

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("stfifness").
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                       std::tolower(static_cast<unsigned char>(b[j - 1]))
                                   ? 0
                                   : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> nearest_word(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  // A typo changes a few characters; beyond a third of the word it is a different word.
  const std::size_t longest = std::max<std::size_t>(word.size(), best ? best->size() : 0);
  if (!best || best_distance > std::max<std::size_t>(2, longest / 3)) {
    return std::nullopt;
  }
  return best;
}

}  // namespace maya::io
