// SPDX-License-Identifier: MIT
#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace ubc {
namespace {

TEST(JsonEscape, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(json_escape(R"(say "hi" \ bye)"), R"(say \"hi\" \\ bye)");
}

TEST(JsonEscape, EscapesControlCharacters) {
  EXPECT_EQ(json_escape("a\nb\rc\td\be\ff"), R"(a\nb\rc\td\be\ff)");
  EXPECT_EQ(json_escape(std::string("x\x01y\x1fz", 5)), R"(x\u0001y\u001fz)");
  EXPECT_EQ(json_escape(std::string("nul\0end", 7)), R"(nul\u0000end)");
}

TEST(JsonEscape, PassesUtf8Through) {
  EXPECT_EQ(json_escape("Sicherung Büro €"), "Sicherung Büro €");
  EXPECT_EQ(json_escape("\xF0\x9F\x92\xBE"), "\xF0\x9F\x92\xBE");
}

TEST(JsonObject, WritesKeysInOrderWithEveryType) {
  JsonObject o;
  o.add("s", "a\"b")
      .add("i", -5)
      .add("u", std::uint64_t{18446744073709551615ULL})
      .add("big", std::int64_t{-9000000000})
      .add("d", 1.5)
      .add("t", true)
      .add("f", false)
      .add_null("n")
      .add_raw("arr", json_array({"1", "\"x\""}));
  EXPECT_EQ(o.str(),
            R"({"s": "a\"b", "i": -5, "u": 18446744073709551615, "big": -9000000000, "d": 1.5, )"
            R"("t": true, "f": false, "n": null, "arr": [1, "x"]})");
}

TEST(JsonObject, WritesNonFiniteDoublesAsNull) {
  JsonObject o;
  o.add("nan", std::nan("")).add("inf", HUGE_VAL);
  EXPECT_EQ(o.str(), R"({"nan": null, "inf": null})");
}

TEST(JsonObject, EscapesKeys) {
  EXPECT_EQ(JsonObject().add("k\"ey", 1).str(), R"({"k\"ey": 1})");
}

TEST(JsonArray, EmptyAndSeveral) {
  EXPECT_EQ(json_array({}), "[]");
  EXPECT_EQ(json_array({"{}", "2"}), "[{}, 2]");
}

TEST(ParseFlatJson, ReadsEveryScalarType) {
  const auto obj = parse_flat_json_object(
      R"( { "s" : "text", "i": 42, "neg": -7, "d": 2.5e3, "t": true, "f": false, "n": null } )");
  ASSERT_TRUE(obj);
  EXPECT_EQ(json_string(*obj, "s"), "text");
  EXPECT_EQ(json_int(*obj, "i"), 42);
  EXPECT_EQ(json_int(*obj, "neg"), -7);
  EXPECT_EQ(json_int(*obj, "d"), 2500);  // a whole number written as a double
  EXPECT_DOUBLE_EQ(std::get<double>(obj->at("d")), 2500.0);
  EXPECT_EQ(json_bool(*obj, "t"), true);
  EXPECT_EQ(json_bool(*obj, "f"), false);
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(obj->at("n")));
  EXPECT_EQ(obj->size(), 7u);
}

TEST(ParseFlatJson, AccessorsRejectTheWrongType) {
  const auto obj = parse_flat_json_object(R"({"s": "1", "i": 1, "b": true, "frac": 1.5, "n": null})");
  ASSERT_TRUE(obj);
  EXPECT_FALSE(json_int(*obj, "s"));
  EXPECT_FALSE(json_string(*obj, "i"));
  EXPECT_FALSE(json_bool(*obj, "i"));
  EXPECT_FALSE(json_int(*obj, "b"));
  EXPECT_FALSE(json_int(*obj, "frac"));
  EXPECT_FALSE(json_string(*obj, "n"));
  EXPECT_FALSE(json_string(*obj, "missing"));
}

TEST(ParseFlatJson, DecodesEscapes) {
  const auto obj = parse_flat_json_object(R"({"e": "q\" b\\ s\/ \b\f\n\r\t", "k\"ey": 1})");
  ASSERT_TRUE(obj);
  EXPECT_EQ(json_string(*obj, "e"), "q\" b\\ s/ \b\f\n\r\t");
  EXPECT_EQ(json_int(*obj, "k\"ey"), 1);
}

TEST(ParseFlatJson, DecodesUnicodeEscapesToUtf8) {
  const auto obj = parse_flat_json_object(R"({"a": "\u0041", "u": "B\u00fcro", "e": "\u20AC", "d": "\ud83d\udcbe"})");
  ASSERT_TRUE(obj);
  EXPECT_EQ(json_string(*obj, "a"), "A");
  EXPECT_EQ(json_string(*obj, "u"), "Büro");
  EXPECT_EQ(json_string(*obj, "e"), "€");
  EXPECT_EQ(json_string(*obj, "d"), "\xF0\x9F\x92\xBE");
}

TEST(ParseFlatJson, RoundTripsWhatJsonObjectWrites) {
  const std::string nasty = "line1\nline2 \"q\" \\ tab\t ctl\x02 ü";
  const std::string text = JsonObject().add("v", nasty).add("n", std::int64_t{-123456789012}).str();
  const auto obj = parse_flat_json_object(text);
  ASSERT_TRUE(obj);
  EXPECT_EQ(json_string(*obj, "v"), nasty);
  EXPECT_EQ(json_int(*obj, "n"), -123456789012);
}

TEST(ParseFlatJson, SkipsNestedValues) {
  const auto obj = parse_flat_json_object(R"({"a": 1, "o": {"x": [1, {"y": "}"}]}, "l": [], "b": 2})");
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->size(), 2u);
  EXPECT_EQ(json_int(*obj, "a"), 1);
  EXPECT_EQ(json_int(*obj, "b"), 2);
  EXPECT_EQ(obj->count("o"), 0u);
}

TEST(ParseFlatJson, AcceptsEmptyObject) {
  const auto obj = parse_flat_json_object(" {} \n");
  ASSERT_TRUE(obj);
  EXPECT_TRUE(obj->empty());
}

TEST(ParseFlatJson, KeepsHugeIntegersAsDoubles) {
  const auto obj = parse_flat_json_object(R"({"u": 18446744073709551615})");
  ASSERT_TRUE(obj);
  ASSERT_TRUE(std::holds_alternative<double>(obj->at("u")));
  EXPECT_DOUBLE_EQ(std::get<double>(obj->at("u")), 18446744073709551615.0);
}

TEST(ParseFlatJson, RejectsMalformedInput) {
  for (const char* bad : {
           "",
           "   ",
           "[]",
           "\"s\"",
           "{",
           "{\"a\": 1",
           "{\"a\" 1}",
           "{\"a\": }",
           "{a: 1}",
           "{'a': 1}",
           "{\"a\": 1,}",
           "{\"a\": 1} trailing",
           "{\"a\": 1}{}",
           "{\"a\": tru}",
           "{\"a\": nul}",
           "{\"a\": 01}",
           "{\"a\": +1}",
           "{\"a\": 1.}",
           "{\"a\": .5}",
           "{\"a\": 1e}",
           "{\"a\": -}",
           "{\"a\": \"unterminated}",
           "{\"a\": \"bad \\x escape\"}",
           "{\"a\": \"\\u12\"}",
           "{\"a\": \"\\uZZZZ\"}",
           "{\"a\": \"\\ud83d alone\"}",
           "{\"a\": \"\\udcbe\"}",
           "{\"a\": \"raw\nnewline\"}",
           "{\"a\": [1, 2}",
           "{\"a\": {\"b\": 1}",
       }) {
    EXPECT_FALSE(parse_flat_json_object(bad)) << "accepted: " << bad;
  }
}

TEST(ParseFlatJson, RejectsNestingDeeperThanItWillFollow) {
  const std::string deep = "{\"a\": " + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_FALSE(parse_flat_json_object(deep));
  const std::string shallow = "{\"a\": " + std::string(5, '[') + std::string(5, ']') + ", \"b\": 1}";
  EXPECT_TRUE(parse_flat_json_object(shallow));
}

}  // namespace
}  // namespace ubc
