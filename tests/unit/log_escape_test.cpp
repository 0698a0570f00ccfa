// SPDX-License-Identifier: MIT
#include "core/log_escape.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "core/run_log.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

TEST(EscapeForLogTest, ShowsControlCharactersAsEscapes) {
  EXPECT_EQ(escape_for_log("a\x1b[31mb<i>"), "a\\x1b[31mb<i>");
  EXPECT_EQ(escape_for_log("x\r\ny"), "x\\x0d\\x0ay");
  EXPECT_EQ(escape_for_log("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
  EXPECT_EQ(escape_for_log(std::string("nul\0tab\tdel\x7f", 12)), "nul\\x00tab\\x09del\\x7f");
}

TEST(EscapeForLogTest, ShowsC1ControlsSeparatorsAndInvalidUtf8AsEscapes) {
  EXPECT_EQ(escape_for_log("csi\xc2\x9b" "31m"), "csi\\u009b31m");
  EXPECT_EQ(escape_for_log("nel\xc2\x85."), "nel\\u0085.");
  EXPECT_EQ(escape_for_log("ls\xe2\x80\xa8ps\xe2\x80\xa9"), "ls\\u2028ps\\u2029");
  EXPECT_EQ(escape_for_log("raw\x9b" "31m\xff"), "raw\\x9b31m\\xff");
}

TEST(EscapeForLogTest, LeavesPrintableTextAndUtf8Alone) {
  const std::string text = "Disk 'Offsite-3' \xc3\xbcmlaut \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x92\xbe <b>&amp; \\x1b";
  EXPECT_EQ(escape_for_log(text), text);
}

TEST(EscapeForLogTest, EscapesEachLineOfABlockAndKeepsItsLineBreaks) {
  EXPECT_EQ(escape_each_line("Disk 'a\x1b[31mb':\n  x\ry\n"), "Disk 'a\\x1b[31mb':\n  x\\x0dy\n");
  EXPECT_EQ(escape_each_line(""), "");
  EXPECT_EQ(escape_each_line("no end"), "no end");
}

TEST(EscapingFormatterTest, EscapesTheMessageButNotThePattern) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  sink->set_formatter(std::make_unique<EscapingFormatter>("%l: %v"));
  spdlog::logger logger("t", sink);
  logger.info("label '{}'", "a\x1b[31mb\r\nwarning: forged");
  EXPECT_EQ(out.str(), "info: label 'a\\x1b[31mb\\x0d\\x0awarning: forged'\n");
}

TEST(EscapingFormatterTest, LogsABlockOfTextLineByLine) {
  auto sink = std::make_shared<RunLogSink>();
  sink->set_formatter(std::make_unique<EscapingFormatter>("%l: %v"));
  spdlog::logger logger("t", sink);
  log_lines(logger, spdlog::level::err, "Here it is:", "From: a@b\r\nSubject: \x1b[2Jx\n\nbody");
  EXPECT_EQ(sink->text(), "error: Here it is:\nerror:   From: a@b\nerror:   Subject: \\x1b[2Jx\nerror:   \nerror:   body\n");
}

}  // namespace
}  // namespace ubc::test
