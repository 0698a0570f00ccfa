// SPDX-License-Identifier: MIT
#include "core/manifest.h"

#include <gtest/gtest.h>

#include "core/verification.h"

namespace ubc {
namespace {

const std::string kHashA(64, 'a');
const std::string kHashB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(ManifestTest, RendersSha256sumsOwnFormatSortedByPath) {
  Manifest m;
  m["jobs/b.vbk"] = {kHashB, FileStamp{5, 7}};
  m["a file with spaces"] = {kHashA, std::nullopt};
  EXPECT_EQ(render_sha256sums(m), kHashA + "  a file with spaces\n" + kHashB + "  jobs/b.vbk\n");
}

TEST(ManifestTest, EscapesBackslashNewlineAndCarriageReturnAsCoreutilsDoes) {
  Manifest m;
  m["x\ny"] = {kHashA, std::nullopt};
  m["b\\c"] = {kHashA, std::nullopt};
  m["cr\rz"] = {kHashA, std::nullopt};
  const std::string text = render_sha256sums(m);
  EXPECT_EQ(text, "\\" + kHashA + "  b\\\\c\n\\" + kHashA + "  cr\\rz\n\\" + kHashA + "  x\\ny\n");
  const ParsedManifest back = parse_sha256sums(text);
  EXPECT_TRUE(back.bad_lines.empty());
  EXPECT_EQ(back.entries.size(), 3u);
  EXPECT_TRUE(back.entries.count("x\ny"));
  EXPECT_TRUE(back.entries.count("b\\c"));
  EXPECT_TRUE(back.entries.count("cr\rz"));
}

TEST(ManifestTest, StampsRoundTripBesideTheSums) {
  Manifest m;
  m["a"] = {kHashA, FileStamp{123, 1700000000123456789}};
  m["n\nl"] = {kHashB, FileStamp{0, -5}};
  m["unstamped"] = {kHashB, std::nullopt};
  ParsedManifest back = parse_sha256sums(render_sha256sums(m));
  apply_stamps(render_stamps(m), back.entries);
  EXPECT_EQ(back.entries.at("a").stamp, (FileStamp{123, 1700000000123456789}));
  EXPECT_EQ(back.entries.at("n\nl").stamp, (FileStamp{0, -5}));
  EXPECT_FALSE(back.entries.at("unstamped").stamp);
}

TEST(ManifestTest, HostileLinesAreCountedNeverTrusted) {
  const std::string text =
      kHashA + "  ../../etc/shadow\n" +   // climbs out
      kHashA + "  /etc/passwd\n" +        // absolute
      kHashA + "  a//b\n" +               // empty component
      kHashA + "  ./a\n" +                // "."
      "nothex" + std::string(58, 'z') + "  b\n" +
      kHashA.substr(1) + "  short\n" +
      "\\" + kHashA + "  bad\\escape\n" +
      "no separator at all\n" +
      kHashA + "  fine/file\n";
  const ParsedManifest parsed = parse_sha256sums(text);
  EXPECT_EQ(parsed.entries.size(), 1u);
  EXPECT_TRUE(parsed.entries.count("fine/file"));
  EXPECT_EQ(parsed.bad_lines, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(ManifestTest, UpperCaseSumsAreReadAsCoreutilsReadsThem) {
  std::string upper = kHashB;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const ParsedManifest parsed = parse_sha256sums(upper + "  f");
  EXPECT_EQ(parsed.entries.at("f").sha256, kHashB);
}

TEST(ManifestTest, MalformedStampsAreIgnored) {
  Manifest m = parse_sha256sums(kHashA + "  a\n" + kHashA + "  b\n").entries;
  apply_stamps("12 x  a\n-1  b\n5 6  unknown\n", m);
  EXPECT_FALSE(m.at("a").stamp);
  EXPECT_FALSE(m.at("b").stamp);
  EXPECT_EQ(m.size(), 2u) << "a stamp never adds an entry";
}

TEST(VerificationPlanTest, WrittenKeepsSumsOfFilesWhoseStampIsUnchanged) {
  Manifest known;
  known["same"] = {kHashA, FileStamp{10, 100}};
  known["touched"] = {kHashA, FileStamp{10, 100}};
  known["no-stamp"] = {kHashA, std::nullopt};
  known["gone"] = {kHashA, FileStamp{1, 1}};
  const VerificationPlan plan = plan_verification(
      VerifyMode::written,
      {{"same", {10, 100}}, {"touched", {10, 101}}, {"no-stamp", {10, 100}}, {"new", {7, 1}}}, known);
  EXPECT_EQ(plan.kept.size(), 1u);
  EXPECT_TRUE(plan.kept.count("same"));
  ASSERT_EQ(plan.to_check.size(), 3u);
  EXPECT_EQ(plan.bytes_to_check, 27u);
}

TEST(VerificationPlanTest, AllChecksEveryFileAndNoneNothing) {
  Manifest known;
  known["same"] = {kHashA, FileStamp{10, 100}};
  EXPECT_EQ(plan_verification(VerifyMode::all, {{"same", {10, 100}}}, known).to_check.size(), 1u);
  EXPECT_TRUE(plan_verification(VerifyMode::none, {{"same", {10, 100}}}, known).to_check.empty());
}

TEST(VerificationPlanTest, RsyncsPartialFilesAreNotPartOfTheCopy) {
  const VerificationPlan plan = plan_verification(
      VerifyMode::all, {{"dir/.rsync-partial/big.vbk", {1, 1}}, {".rsync-partial", {1, 1}}}, {});
  ASSERT_EQ(plan.to_check.size(), 1u) << "a file named like the directory is an ordinary file";
  EXPECT_EQ(plan.to_check[0].path, ".rsync-partial");
}

TEST(VerificationPlanTest, QuotedPathShowsControlCharactersAsEscapes) {
  EXPECT_EQ(quoted_path("a\nb\x1b[31m"), "'a\\x0Ab\\x1B[31m'");
}

}  // namespace
}  // namespace ubc
