#include "maya/io/json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using maya::io::JsonDocument;
using maya::io::JsonObject;
using maya::io::NumberRule;

// The message of the ParseError `body` throws; fails the test if it throws nothing.
template <class Body>
std::string parse_error_of(Body&& body) {
  try {
    body();
  } catch (const maya::ParseError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected maya::ParseError";
  return {};
}

}  // namespace

TEST(JsonDocument, SyntaxErrorNamesSourceLineAndColumn) {
  const std::string text = "{\n  \"dt\": 0.01,\n  \"steps\": ,\n}";
  const std::string message =
      parse_error_of([&] { (void)JsonDocument::parse(text, "scene.json", "scene"); });
  EXPECT_EQ(message.rfind("scene.json:3:12: invalid JSON: ", 0), 0u) << message;
}

TEST(JsonDocument, UnterminatedObjectReportsTheEnd) {
  const std::string message =
      parse_error_of([] { (void)JsonDocument::parse("{\"a\": 1", "f.json", ""); });
  EXPECT_EQ(message.rfind("f.json:1:8: invalid JSON:", 0), 0u) << message;
}

TEST(JsonDocument, DuplicateKeysAreRejected) {
  const std::string message =
      parse_error_of([] { (void)JsonDocument::parse("{\"a\": 1, \"a\": 2}", "f.json", ""); });
  EXPECT_NE(message.find("duplicate key \"a\""), std::string::npos) << message;
}

TEST(JsonObject, UnknownKeySuggestsTheNearestValidOne) {
  const JsonDocument document = JsonDocument::parse(
      R"({"springs": [{}, {}, {}, {"i": 0, "j": 1, "stifness": 3}]})", "scene.json", "scene");
  const JsonObject scene(document.root(), {"springs"});
  const maya::io::JsonValue spring = scene.required("springs").at(3);
  const std::string message = parse_error_of([&] {
    (void)JsonObject(spring, {"i", "j", "stiffness", "damping"});
  });
  EXPECT_EQ(message,
            "scene.json: scene.springs[3].stifness: unknown key; did you mean 'stiffness'?");
}

TEST(JsonObject, UnknownKeyFarFromAllListsTheValidKeys) {
  const JsonDocument document = JsonDocument::parse(R"({"colour": 1})", "", "scene");
  const std::string message = parse_error_of([&] {
    (void)JsonObject(document.root(), {"dt", "steps"});
  });
  EXPECT_EQ(message, "scene.colour: unknown key (valid keys: dt, steps)");
}

TEST(JsonObject, MissingKeyIsNamed) {
  const JsonDocument document = JsonDocument::parse(R"({"steps": 3})", "t.json", "scene");
  const JsonObject scene(document.root(), {"dt", "steps"});
  EXPECT_EQ(parse_error_of([&] { (void)scene.number("dt"); }), "t.json: scene: missing key 'dt'");
}

TEST(JsonValue, WrongTypeNamesExpectedAndActual) {
  const JsonDocument document = JsonDocument::parse(R"({"dt": "fast"})", "t.json", "scene");
  const JsonObject scene(document.root(), {"dt"});
  EXPECT_EQ(parse_error_of([&] { (void)scene.number("dt"); }),
            "t.json: scene.dt: expected a number, got a string (\"fast\")");
}

TEST(JsonValue, NonPhysicalValueNamesTheRuleAndTheValue) {
  const JsonDocument document =
      JsonDocument::parse(R"({"springs": [{"stiffness": -2}]})", "", "scene");
  const JsonObject spring(JsonObject(document.root(), {"springs"}).required("springs").at(0),
                          {"stiffness"});
  EXPECT_EQ(parse_error_of([&] { (void)spring.number("stiffness", NumberRule::kPositive); }),
            "scene.springs[0].stiffness: must be positive, got -2");
}

TEST(JsonValue, NumbersArrayChecksLength) {
  const JsonDocument document = JsonDocument::parse(R"({"gravity": [0, -9.81, 0]})", "", "scene");
  const JsonObject scene(document.root(), {"gravity"});
  EXPECT_EQ(parse_error_of([&] { (void)scene.required("gravity").as_numbers(2); }),
            "scene.gravity: must have 2 numbers, got 3");
}

TEST(JsonValue, IntegersAcceptIntegralFloatsOnly) {
  const JsonDocument document = JsonDocument::parse(R"([3, 4.0, 2.5, -1])", "", "list");
  const maya::io::JsonValue list = document.root();
  EXPECT_EQ(list.at(0).as_index(), 3u);
  EXPECT_EQ(list.at(1).as_index(), 4u);
  EXPECT_EQ(parse_error_of([&] { (void)list.at(2).as_integer(); }),
            "list[2]: expected an integer, got 2.5");
  EXPECT_EQ(parse_error_of([&] { (void)list.at(3).as_index(); }), "list[3]: must be >= 0, got -1");
}

TEST(JsonObject, KeysThatAreNotIdentifiersArePathQuoted) {
  const JsonDocument document = JsonDocument::parse(R"({"a b": 1})", "", "root");
  EXPECT_EQ(parse_error_of([&] { (void)JsonObject(document.root(), {"ab_cd_ef_gh"}); }),
            "root[\"a b\"]: unknown key (valid keys: ab_cd_ef_gh)");
}

TEST(EditDistance, CountsTranspositionsAsOneEdit) {
  EXPECT_EQ(maya::io::edit_distance("stiffness", "stiffness"), 0u);
  EXPECT_EQ(maya::io::edit_distance("stifness", "stiffness"), 1u);
  EXPECT_EQ(maya::io::edit_distance("stfifness", "stiffness"), 1u);
  EXPECT_EQ(maya::io::edit_distance("mass", "dt"), 4u);
}

TEST(NearestWord, ReturnsNothingForUnrelatedWords) {
  const std::string_view candidates[] = {"particles", "springs", "gravity"};
  EXPECT_EQ(maya::io::nearest_word("spring", candidates), "springs");
  EXPECT_EQ(maya::io::nearest_word("gravty", candidates), "gravity");
  EXPECT_FALSE(maya::io::nearest_word("colour", candidates).has_value());
}

// Regression: a deeply nested value overflowed the stack (in the parser's callbacks, the
// destructor and the message's preview of the value). Nesting is now bounded.
TEST(JsonDocument, NestingBeyondTheLimitIsAParseErrorAtTheBracket) {
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  const std::string message =
      parse_error_of([&] { (void)JsonDocument::parse(text, "s.json", ""); });
  EXPECT_EQ(message, "s.json:1:101: invalid JSON: values nest deeper than 100 levels");
  // Brackets inside strings do not count; the object is the first level.
  const std::string prefix = "{\"a\": \"[{\\\"\", \"b\": ";
  const std::string in_object = prefix + std::string(200, '[');
  const std::string object_message =
      parse_error_of([&] { (void)JsonDocument::parse(in_object, "s.json", ""); });
  EXPECT_EQ(object_message, "s.json:1:" + std::to_string(prefix.size() + 100) +
                                ": invalid JSON: values nest deeper than 100 levels");
}

TEST(JsonDocument, NestingAtTheLimitParsesAndItsPreviewIsShort) {
  const std::string text = std::string(100, '[') + std::string(100, ']');
  const JsonDocument document = JsonDocument::parse(text, "s.json", "scene");
  const std::string message = parse_error_of([&] { (void)JsonObject(document.root(), {"dt"}); });
  EXPECT_EQ(message,
            "s.json: scene: expected an object, got an array ([[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
            "[[[[[[[...)");
}

TEST(JsonDocument, PreviewOfAHugeArrayIsBounded) {
  std::string text = "[";
  for (int i = 0; i < 100000; ++i) text += (i == 0 ? "" : ",") + std::to_string(i);
  text += "]";
  const JsonDocument document = JsonDocument::parse(text, "s.json", "scene");
  const std::string message = parse_error_of([&] { (void)JsonObject(document.root(), {"dt"}); });
  EXPECT_LT(message.size(), 120U) << message;
}

// Regression: 1e999 escaped as nlohmann's out_of_range exception (not a maya::Error).
TEST(JsonDocument, NumberOverflowingADoubleIsAParseErrorWithLineAndColumn) {
  const std::string message = parse_error_of(
      [] { (void)JsonDocument::parse("{\n  \"dt\": 1e999\n}", "scene.json", "scene"); });
  EXPECT_EQ(message.rfind("scene.json:2:", 0), 0U) << message;
  EXPECT_NE(message.find("number overflow"), std::string::npos) << message;
  EXPECT_NE(message.find("1e999"), std::string::npos) << message;
}

TEST(JsonDocument, DuplicateKeysAreRejectedInNestedObjectsOnly) {
  (void)JsonDocument::parse(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})", "f",
                            "");
  const std::string message = parse_error_of(
      [] { (void)JsonDocument::parse(R"({"a": {"x": 1, "y": {}, "x": 2}})", "f.json", ""); });
  EXPECT_NE(message.find("duplicate key \"x\""), std::string::npos) << message;
}

// Found by fuzz_task_json: a preview cut a long string inside a UTF-8 sequence, and nlohmann's
// dump threw type_error (not a maya::Error).
TEST(JsonDocument, PreviewOfALongNonAsciiStringIsAParseError) {
  std::string text = "{\"dt\": \"";
  for (int i = 0; i < 60; ++i) text += "\xc3\xa9";  // e acute
  text += "\"}";
  const JsonDocument document = JsonDocument::parse(text, "s.json", "scene");
  const std::string message = parse_error_of([&] {
    const JsonObject scene(document.root(), {"dt"});
    (void)scene.number("dt");
  });
  EXPECT_NE(message.find("scene.dt: expected a number, got a string"), std::string::npos)
      << message;
}
