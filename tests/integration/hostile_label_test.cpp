// SPDX-License-Identifier: MIT
// A disk label is data from whoever made the filesystem. Real disks labelled with terminal
// escapes, HTML and CR/LF are copied to; the label must come out escaped everywhere an admin
// looks: the received mails (headers and body), `status` and `status --json`, the copier's
// stderr and log file, and the run log stored in the history. udev hands the label over as
// ID_FS_LABEL_ENC; ext4 labels hold at most 16 bytes, so each disk carries one payload.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// No raw control character but the line ends ('\n', and the "\r\n" of mail lines).
void expect_no_raw_controls(const std::string& text, const std::string& where) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) continue;
    if (c == '\t') continue;  // a mail header folds with a tab
    ASSERT_FALSE(c < 0x20 || c == 0x7f) << where << ": raw control character " << int(c) << " at " << i << " in:\n"
                                         << text;
  }
}

// The header section of a raw mail: no line may start with what followed the label's CR/LF.
std::string headers_of(const std::string& raw) { return raw.substr(0, raw.find("\r\n\r\n")); }

struct Copied {
  CopierResult run;
  std::string log_file, status_text, status_json, history_dump;
  std::vector<std::string> raw_mails;
  std::vector<Json> mails;
};

Copied copy_with_label(CopyFixture& f) {
  make_file(f.source() + "/a.vbk", 1u << 20, 1);
  Copied c;
  c.run = f.copy();
  c.log_file = read_file(f.log_file());
  c.status_text = f.copier({"status"}).output;
  c.status_json = f.copier({"status", "--json"}).output;
  (void)run({"sqlite3", "-readonly", f.state_dir() + "/history.db", "SELECT run_log FROM runs;"}, &c.history_dump);
  c.mails = f.wait_for_mails(2);
  c.raw_mails = f.smtp()->messages();
  return c;
}

void expect_escaped_everywhere(const Copied& c) {
  EXPECT_EQ(c.run.exit_code, 0) << c.run.output;
  expect_no_raw_controls(c.run.output, "stderr");
  expect_no_raw_controls(c.log_file, "log file");
  expect_no_raw_controls(c.status_text, "status");
  expect_no_raw_controls(c.status_json, "status --json");
  expect_no_raw_controls(c.history_dump, "run log in the history");
  ASSERT_EQ(c.raw_mails.size(), 2u);
  for (const auto& raw : c.raw_mails) expect_no_raw_controls(raw, "raw mail");
  for (const auto& m : c.mails) {
    expect_no_raw_controls(field(m, "subject"), "decoded subject");
    expect_no_raw_controls(field(m, "body"), "decoded body");
    EXPECT_EQ(json_int(m, "defects").value_or(-1), 0) << field(m, "subject");
  }
}

// libblkid, which probes the label for udev, already shows each control character of a
// label as '?' (measured with e2fsprogs 1.47 and util-linux 2.38): what reaches the copier is
// the rest of the label, HTML included. The escaping itself is covered byte by byte in
// tests/unit/log_escape_test.cpp and mail_compose/mime tests; here the whole chain is held
// to "no raw control character anywhere" with a real disk.
TEST(HostileLabelTest, TerminalEscapesAndHtmlInALabelAreShownNotObeyed) {
  CopyFixtureOptions o;
  o.label = "a\x1b[31mb<i>";
  CopyFixture f(o);
  const Copied c = copy_with_label(f);
  expect_escaped_everywhere(c);
  for (const std::string* text : {&c.run.output, &c.log_file, &c.history_dump, &c.status_text, &c.status_json})
    EXPECT_THAT(*text, HasSubstr("[31mb<i>"));
  for (const auto& m : c.mails) {
    EXPECT_THAT(field(m, "subject"), HasSubstr("[31mb<i>")) << field(m, "subject");
    EXPECT_THAT(field(m, "body"), HasSubstr("[31mb<i>"));
  }
}

TEST(HostileLabelTest, CrLfInALabelInjectsNoMailHeaderAndNoLogLine) {
  CopyFixtureOptions o;
  o.label = "x\r\nBcc: e@vil";  // 14 bytes
  CopyFixture f(o);
  const Copied c = copy_with_label(f);
  expect_escaped_everywhere(c);
  EXPECT_THAT(c.log_file, HasSubstr("Bcc: e@vil' (ext4) is whitelisted"));
  for (const auto& raw : c.raw_mails) {
    std::istringstream headers(headers_of(raw));
    for (std::string line; std::getline(headers, line);) EXPECT_THAT(line, Not(::testing::StartsWith("Bcc:"))) << raw;
  }
  for (const auto& m : c.mails) {
    EXPECT_THAT(field(m, "header_names"), Not(HasSubstr("Bcc")));
    EXPECT_THAT(field(m, "subject"), HasSubstr("Bcc: e@vil"));
  }
  for (const auto& envelope : f.smtp()->envelopes()) EXPECT_THAT(envelope, Not(HasSubstr("e@vil")));
}

}  // namespace
}  // namespace ubc::test
