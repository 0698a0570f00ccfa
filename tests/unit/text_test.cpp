// SPDX-License-Identifier: MIT
#include "core/text.h"

#include <gtest/gtest.h>

#include "core/format.h"

namespace ubc {
namespace {

TEST(TextTest, TrimDropsEveryKindOfBlankAtBothEnds) {
  EXPECT_EQ(trim(" \t\r\n\f\va b\t \r"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(TextTest, LowerAndIequalsTouchOnlyAsciiLetters) {
  EXPECT_EQ(lower("ABC-Def_09\xC3\x84"), "abc-def_09\xC3\x84");
  EXPECT_TRUE(iequals("0A1B-C2D3", "0a1b-c2d3"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("\xC3\x84", "\xC3\xA4"));
  EXPECT_TRUE(is_ascii_alnum('z'));
  EXPECT_TRUE(is_ascii_alnum('Q'));
  EXPECT_TRUE(is_ascii_alnum('7'));
  EXPECT_FALSE(is_ascii_alnum('-'));
  EXPECT_FALSE(is_ascii_alnum('\xC3'));
}

TEST(TextTest, QuotedJoinAndCountOfReadAsMessagesDo) {
  EXPECT_EQ(quoted("/srv/veeam"), "'/srv/veeam'");
  EXPECT_EQ(join({"a", "b", "c"}, " | "), "a | b | c");
  EXPECT_EQ(join({"only"}, "\n"), "only");
  EXPECT_EQ(join({}, ", "), "");
  EXPECT_EQ(count_of(0, "file", "files"), "0 files");
  EXPECT_EQ(count_of(1, "file is", "files are"), "1 file is");
  EXPECT_EQ(count_of(12, "mismatch", "mismatches"), "12 mismatches");
}

TEST(TextTest, UuidFileStemIsLowerCaseAndRefusesWhatCannotBeAName) {
  EXPECT_EQ(uuid_file_stem("1A2B-3C4D"), "1a2b-3c4d");
  EXPECT_EQ(uuid_file_stem("0a1b2c3d-4e5f-6789-abcd-ef0123456789"), "0a1b2c3d-4e5f-6789-abcd-ef0123456789");
  EXPECT_EQ(uuid_file_stem(""), std::nullopt);
  EXPECT_EQ(uuid_file_stem("../etc"), std::nullopt);
  EXPECT_EQ(uuid_file_stem("a/b"), std::nullopt);
  EXPECT_EQ(uuid_file_stem("ab cd"), std::nullopt);
}

TEST(TextTest, UuidNameCharsKeepsCaseAndDropsTheRest) {
  EXPECT_EQ(uuid_name_chars("1A2B-3C4D"), "1A2B-3C4D");
  EXPECT_EQ(uuid_name_chars("../1a/2b\n"), "1a2b");
  EXPECT_EQ(uuid_name_chars("\xC3\x84"), "");
}

TEST(TextTest, Utf8SequenceLengthAcceptsOnlyShortestFormsOfScalarValues) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1U);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA4", 0), 2U);           // U+00E4
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3U);       // U+20AC
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x92\xBE", 0), 4U);   // U+1F4BE
  EXPECT_EQ(utf8_sequence_length("x\xC3\xA4", 1), 2U);
  EXPECT_EQ(utf8_sequence_length("\xC0\xAF", 0), 0U);           // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xE0\x80\xAF", 0), 0U);       // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80", 0), 0U);       // surrogate U+D800
  EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80", 0), 0U);   // above U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xC3", 0), 0U);               // cut short
  EXPECT_EQ(utf8_sequence_length("\xE2\x28\xA1", 0), 0U);       // bad continuation
  EXPECT_EQ(utf8_sequence_length("\x80", 0), 0U);               // lone continuation
}

TEST(TextTest, UtcTmHoldsTheCalendarFieldsOfAUtcTime) {
  const std::tm tm = utc_tm(1795396127);  // 2026-11-23T01:08:47Z, a Monday
  EXPECT_EQ(tm.tm_year, 126);
  EXPECT_EQ(tm.tm_mon, 10);
  EXPECT_EQ(tm.tm_mday, 23);
  EXPECT_EQ(tm.tm_wday, 1);
  EXPECT_EQ(tm.tm_hour, 1);
  EXPECT_EQ(tm.tm_min, 8);
  EXPECT_EQ(tm.tm_sec, 47);
  const std::tm before = utc_tm(-1);  // 1969-12-31T23:59:59Z, a Wednesday
  EXPECT_EQ(before.tm_year, 69);
  EXPECT_EQ(before.tm_wday, 3);
  EXPECT_EQ(before.tm_sec, 59);
  EXPECT_EQ(format_utc(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace ubc
