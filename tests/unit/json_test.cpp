// SPDX-License-Identifier: MIT
#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace ubc {
namespace {

TEST(JsonWrite, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(dump_json(Json{{"k\"ey", "a\"b\\c\n\t\x01"}}), R"({"k\"ey":"a\"b\\c\n\t\u0001"})");
}

TEST(JsonWrite, PassesUtf8Through) {
  EXPECT_EQ(dump_json(Json{{"l", "Sicherung Büro € \xF0\x9F\x92\xBE"}}), "{\"l\":\"Sicherung Büro € \xF0\x9F\x92\xBE\"}");
}

TEST(JsonWrite, ReplacesInvalidUtf8InsteadOfFailing) {
  // A label or file name from a disk may be any bytes: the document stays valid UTF-8.
  const std::string out = dump_json(Json{{"label", std::string("ab\xff\xfe" "c\xC3")}});
  EXPECT_EQ(out, "{\"label\":\"ab\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\"}");
  EXPECT_TRUE(parse_json_object(out));
}

TEST(JsonWrite, KeepsKeysInOrderAndEveryType) {
  const Json o = {{"s", "x"},
                  {"i", -5},
                  {"u", std::numeric_limits<std::uint64_t>::max()},
                  {"big", std::int64_t{-9000000000}},
                  {"d", 1.5},
                  {"t", true},
                  {"n", nullptr},
                  {"arr", Json::array({1, "x"})},
                  {"nested", {{"a", 1}}}};
  EXPECT_EQ(dump_json(o), R"({"s":"x","i":-5,"u":18446744073709551615,"big":-9000000000,"d":1.5,)"
                          R"("t":true,"n":null,"arr":[1,"x"],"nested":{"a":1}})");
}

TEST(JsonWrite, WritesNonFiniteNumbersAsNull) {
  EXPECT_EQ(dump_json(Json{{"nan", std::nan("")}, {"inf", HUGE_VAL}}), R"({"nan":null,"inf":null})");
}

TEST(JsonRead, ByteCountsRoundTripExactlyUpTo64Bits) {
  for (const std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1} << 53, (std::uint64_t{1} << 53) + 1,
                                std::numeric_limits<std::uint64_t>::max()}) {
    const auto back = parse_json_object(dump_json(Json{{"bytes", n}}));
    ASSERT_TRUE(back);
    EXPECT_EQ(json_count(*back, "bytes"), n);
  }
}

TEST(JsonRead, TypedAccessorsRejectTheWrongType) {
  const auto o = parse_json_object(R"({"s": "text", "i": 42, "neg": -7, "d": 2.5e3, "t": true, "n": null,
                                       "huge": 18446744073709551615})");
  ASSERT_TRUE(o);
  EXPECT_EQ(json_string(*o, "s"), "text");
  EXPECT_EQ(json_int(*o, "i"), 42);
  EXPECT_EQ(json_int(*o, "neg"), -7);
  EXPECT_EQ(json_number(*o, "d"), 2500.0);
  EXPECT_EQ(json_bool(*o, "t"), true);
  EXPECT_FALSE(json_string(*o, "i"));
  EXPECT_FALSE(json_int(*o, "s"));
  EXPECT_FALSE(json_int(*o, "d"));
  EXPECT_FALSE(json_int(*o, "huge")) << "does not fit an int64";
  EXPECT_FALSE(json_bool(*o, "n"));
  EXPECT_FALSE(json_string(*o, "missing"));
  EXPECT_EQ(json_count(*o, "neg"), 0u) << "a negative count reads as 0";
  EXPECT_EQ(json_count(*o, "huge"), std::numeric_limits<std::uint64_t>::max());
}

TEST(JsonRead, DecodesEscapesAndSurrogatePairs) {
  const auto o = parse_json_object(R"({"v": "a\"b\\c\/d\n\u00fc\ud83d\udcbe"})");
  ASSERT_TRUE(o);
  EXPECT_EQ(json_string(*o, "v"), "a\"b\\c/d\n\xC3\xBC\xF0\x9F\x92\xBE");
}

TEST(JsonRead, RoundTripsWhatItWrites) {
  const std::string nasty = "line1\nline2 \"q\" \\ tab\t ctl\x02 \xC3\xBC";
  const auto o = parse_json_object(dump_json(Json{{"v", nasty}, {"n", std::int64_t{-123456789012}}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(json_string(*o, "v"), nasty);
  EXPECT_EQ(json_int(*o, "n"), -123456789012);
}

TEST(JsonRead, AcceptsAnEmptyObjectAndKeepsNestedValues) {
  const auto empty = parse_json_object(" {} \n");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  const auto nested = parse_json_object(R"({"a": 1, "o": {"x": [1, {"y": "}"}]}, "b": 2})");
  ASSERT_TRUE(nested);
  EXPECT_EQ(json_string(nested->at("o").at("x").at(1), "y"), "}");
  EXPECT_EQ(json_int(*nested, "b"), 2);
}

TEST(JsonRead, RejectsWhatIsNotOneObject) {
  for (const char* bad : {
           "", "   ", "[]", "\"s\"", "1", "{", "{\"a\": 1", "{\"a\" 1}", "{\"a\": }", "{a: 1}", "{'a': 1}",
           "{\"a\": 1,}", "{\"a\": 1} trailing", "{\"a\": 1}{}", "{\"a\": tru}", "{\"a\": 01}", "{\"a\": +1}",
           "{\"a\": 1.}", "{\"a\": .5}", "{\"a\": \"unterminated}", "{\"a\": \"bad \\x escape\"}",
           "{\"a\": \"\\u12\"}", "{\"a\": \"\\ud83d alone\"}", "{\"a\": \"raw\nnewline\"}", "{\"a\": [1, 2}",
       }) {
    EXPECT_FALSE(parse_json_object(bad)) << "accepted: " << bad;
  }
}

TEST(JsonRead, RefusesTextLargerThanTheLimit) {
  const std::string text = R"({"a": ")" + std::string(100, 'x') + "\"}";
  EXPECT_TRUE(parse_json_object(text, text.size()));
  EXPECT_FALSE(parse_json_object(text, text.size() - 1));
}

TEST(JsonRead, RefusesNestingDeeperThanTheLimit) {
  const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(parse_json_object(deep, deep.size()));
  // Depth 4: the object, "a"'s array and two more arrays inside it.
  const std::string four = R"({"a": [[[1]]], "b": {"c": 1}})";
  EXPECT_TRUE(parse_json_object(four, 1024, 4));
  EXPECT_FALSE(parse_json_object(four, 1024, 3));
}

}  // namespace
}  // namespace ubc
