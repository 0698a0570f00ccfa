// SPDX-License-Identifier: MIT
// ping-url: a real copy pings a real HTTP server on 127.0.0.1 with URL/start, then URL.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

using namespace std::chrono_literals;

// Removes the server's directory however the test ends.
struct TempDir {
  std::string path = make_temp_dir("ubc-ping");
  ~TempDir() { remove_tree(path); }
};

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(MonitoringPing, ACopyPingsStartThenSuccess) {
  TempDir dir;
  const std::string port_file = dir.path + "/port";
  const std::string requests = dir.path + "/requests";
  ChildProcess server({"/usr/bin/python3", std::string(UBC_SOURCE_DIR) + "/tests/integration/support/ping_server.py",
                       port_file, requests});
  const auto deadline = std::chrono::steady_clock::now() + 30s;  // a safety net only
  while (!exists(port_file)) {
    ASSERT_TRUE(server.running()) << server.output_so_far();
    if (std::chrono::steady_clock::now() >= deadline) FAIL() << "the ping server never started";
    poll_pause();
  }
  const std::string url = "http://127.0.0.1:" + read_file(port_file) + "/ping/5f0c";

  CopyFixture f({.extra_sections = "[Monitoring]\nping-url = " + url + "\n"});
  make_file(f.source() + "/a.vbk", 1 << 20);
  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(f.history().size(), 1u);
  // A complete copy (warning: this machine may have no logind to take a shutdown inhibitor
  // from), and the pings themselves were answered.
  const HistoryRow& run = f.history().back();
  EXPECT_TRUE(run.outcome == "success" || run.outcome == "warning") << run.outcome << ": " << run.reason;
  EXPECT_EQ(run.warnings.find("monitoring ping"), std::string::npos) << run.warnings;
  EXPECT_EQ(read_file(requests), "/ping/5f0c/start\n/ping/5f0c\n");
}

}  // namespace
}  // namespace ubc::test
