// SPDX-License-Identifier: MIT
#include "core/web_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>


#include <string_view>

#include "core/history_log.h"
#include "core/json.h"
#include "web_assets.h"

namespace ubc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RunsJsonTest, HasTheDocumentedShape) {
  HistoryRow copy;
  copy.id = 7;
  copy.uuid = "1a2b-3c4d";
  copy.label = "<script>x</script>";
  copy.started_at = 1'800'000'000;
  copy.finished_at = 1'800'003'600;
  copy.outcome = "warning";
  copy.reason = "copied \"all\"";
  copy.bytes = 5'000'000'000'123ULL;
  copy.files = 4711;
  copy.warnings = "disk almost full\n2 files vanished";
  copy.verification = HistoryVerification{3, 9'007'199'254'740'993ULL, 0, 12};
  HistoryRow verify;
  verify.id = 6;
  verify.uuid = "1a2b-3c4d";
  verify.label = "bad \xFF byte";
  verify.action = "verify";
  verify.outcome = "failed";

  EXPECT_EQ(render_runs_json({copy, verify}),
            "{\"runs\":[{\"id\":7,\"uuid\":\"1a2b-3c4d\",\"label\":\"<script>x</script>\",\"action\":\"copy\","
            "\"started\":1800000000,\"finished\":1800003600,\"outcome\":\"warning\",\"reason\":\"copied \\\"all\\\"\","
            "\"bytes\":5000000000123,\"files\":4711,\"verified_bytes\":9007199254740993,\"warnings\":2},"
            "{\"id\":6,\"uuid\":\"1a2b-3c4d\",\"label\":\"bad \xEF\xBF\xBD byte\",\"action\":\"verify\","
            "\"started\":0,\"finished\":0,\"outcome\":\"failed\",\"reason\":\"\",\"bytes\":0,\"files\":0,"
            "\"verified_bytes\":null,\"warnings\":0}]}\n");
  EXPECT_EQ(render_runs_json({}), "{\"runs\":[]}\n");
  EXPECT_TRUE(parse_json_object(render_runs_json({copy, verify})));
}

TEST(RunsLimitTest, DefaultsCapsAndRefusesWhatIsNotACount) {
  EXPECT_EQ(parse_runs_limit(std::nullopt), kDefaultRunsLimit);
  EXPECT_EQ(parse_runs_limit("1"), 1);
  EXPECT_EQ(parse_runs_limit("007"), 7);
  EXPECT_EQ(parse_runs_limit("500"), 500);
  EXPECT_EQ(parse_runs_limit("501"), kMaxRunsLimit);
  EXPECT_EQ(parse_runs_limit("99999999999999999999999"), kMaxRunsLimit);
  for (const char* bad : {"", "0", "000", "-1", "+5", "5x", " 5", "1e3"})
    EXPECT_EQ(parse_runs_limit(bad), std::nullopt) << bad;
}

TEST(RunLogPathTest, TakesOnlyAPositiveId) {
  EXPECT_EQ(parse_run_log_path("/runs/42/log"), 42);
  for (const char* bad : {"/runs//log", "/runs/0/log", "/runs/-1/log", "/runs/1/log/", "/runs/1x/log", "/runs/log",
                          "/runs/99999999999999999999/log", "/run/1/log"})
    EXPECT_EQ(parse_run_log_path(bad), std::nullopt) << bad;
}

TEST(CapRunLogTest, KeepsASmallLogWhole) {
  EXPECT_EQ(cap_run_log("one\ntwo\n", 100), "one\ntwo\n");
  EXPECT_EQ(cap_run_log("", 0), "");
}

TEST(CapRunLogTest, KeepsHeadAndTailAtLineEndsAndSaysWhatIsLeftOut) {
  std::string log;
  for (int i = 0; i < 1000; ++i) log += "line " + std::to_string(i) + "\n";
  const std::string capped = cap_run_log(log, 200);
  EXPECT_THAT(capped, ::testing::StartsWith("line 0\nline 1\n"));
  EXPECT_THAT(capped, ::testing::EndsWith("line 998\nline 999\n"));
  EXPECT_THAT(capped, ::testing::MatchesRegex("(line [0-9]+\n)+\\[\\.\\.\\. [0-9]+ bytes left out \\.\\.\\.\\]\n(line [0-9]+\n)+"));
  const auto marker = capped.find("[... ");
  const std::size_t left_out = std::stoul(capped.substr(marker + 5));
  EXPECT_EQ(capped.size() - (capped.find('\n', marker) + 1 - marker) + left_out, log.size())
      << "what is kept plus what is left out is the whole log";
  EXPECT_LE(capped.size() - (capped.find('\n', marker) + 1 - marker), 200u);
}

TEST(CapRunLogTest, CutsALogWithoutLineEndsWhereItMust) {
  const std::string capped = cap_run_log(std::string(1000, 'x'), 100);
  EXPECT_EQ(capped, std::string(50, 'x') + "\n[... 900 bytes left out ...]\n" + std::string(50, 'x'));
}

std::string_view asset(std::string_view name) {
  for (const auto& a : web::kAssets)
    if (a.name == name) return a.body;
  return {};
}

TEST(WebAssetsTest, ThePageAndItsFilesAreCompiledIn) {
  EXPECT_THAT(std::string(asset("index.html")), HasSubstr("<script src=\"/app.js\" defer></script>"));
  EXPECT_THAT(std::string(asset("index.html")), HasSubstr("href=\"/style.css\""));
  EXPECT_THAT(std::string(asset("app.js")), HasSubstr("fetch(path"));
  EXPECT_THAT(std::string(asset("style.css")), HasSubstr("progress"));
}

TEST(WebAssetsTest, ThePageInsertsNoHtmlAndLoadsNothingFromElsewhere) {
  const std::string js(asset("app.js"));
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("})
    EXPECT_THAT(js, Not(HasSubstr(sink))) << sink;
  for (const auto& a : web::kAssets) EXPECT_THAT(std::string(a.body), Not(HasSubstr("//cdn"))) << a.name;
  for (const auto& a : web::kAssets) EXPECT_THAT(std::string(a.body), Not(HasSubstr("https://"))) << a.name;
}

}  // namespace
}  // namespace ubc
