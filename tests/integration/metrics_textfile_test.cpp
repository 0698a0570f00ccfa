// SPDX-License-Identifier: MIT
// metrics-textfile: a real copy leaves a .prom file that Prometheus' own parser reads, with
// the run just made in it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

// Removes the collector's directory however the test ends.
struct TempDir {
  std::string path = make_temp_dir("ubc-textfile");
  ~TempDir() { remove_tree(path); }
};

TEST(MetricsTextfile, ACopyLeavesAPromFileThatPrometheusParses) {
  TempDir collector;
  const std::string prom = collector.path + "/usb-backup-copier.prom";
  CopyFixture f({.extra_sections = "[Monitoring]\nmetrics-textfile = " + prom + "\n"});
  make_file(f.source() + "/a.vbk", 3 << 20);
  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;

  struct stat st {};
  ASSERT_EQ(::stat(prom.c_str(), &st), 0) << r.output;
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  const CopierResult parsed = run_program(
      {"/usr/bin/python3", std::string(UBC_SOURCE_DIR) + "/tests/integration/support/parse_metrics.py", prom});
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output << "\n" << read_file(prom);
  std::map<std::string, double> values;
  std::istringstream lines(parsed.output);
  for (std::string line; std::getline(lines, line);) {
    const auto sample = nlohmann::json::parse(line);
    EXPECT_EQ(sample["labels"]["uuid"], f.uuid()) << line;
    values[sample["name"].get<std::string>()] = sample["value"].get<double>();
  }
  ASSERT_EQ(f.history().size(), 1u);
  const CopierResult finished =
      run_program({"sqlite3", f.state_dir() + "/history.db", "SELECT finished_at FROM runs"});
  ASSERT_EQ(finished.exit_code, 0) << finished.output;
  // Written after the history row: the run just made is in it.
  EXPECT_EQ(values["usb_backup_copier_last_success_timestamp_seconds"], std::stod(finished.output));
  EXPECT_EQ(values["usb_backup_copier_last_run_bytes"], static_cast<double>(3 << 20));
  EXPECT_EQ(values["usb_backup_copier_disk_stale"], 0.0);
  EXPECT_EQ(values.count("usb_backup_copier_job_bytes_done"), 0u) << "the run has ended";
}

}  // namespace
}  // namespace ubc::test
