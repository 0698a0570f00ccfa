// SPDX-License-Identifier: MIT
// The run history in state_directory/history.db. The copier writes it while `status` and
// the web page read it, each from its own process: WAL mode and a busy timeout let them
// share the file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ports/history.h"

struct sqlite3;

namespace ubc {

struct Sqlite3Deleter {
  void operator()(sqlite3* db) const noexcept;
};
using Sqlite3Ptr = std::unique_ptr<sqlite3, Sqlite3Deleter>;

// read_write: the copier's; opening brings the schema up to date. read_only: `status` and
// `serve`, which may run as a user that can read the files but write nothing beside them
// (the web service); record() then throws std::logic_error.
enum class HistoryAccess { read_write, read_only };

class SqliteHistory final : public History {
 public:
  // Opens nothing yet: a missing database is created by the first record(), and reading
  // one that does not exist yet gives no rows (so `status` works before the first run).
  // keep_days > 0: record() deletes the runs that finished more than keep_days before the
  // run it records (history-keep-days), except each disk's newest run and newest good copy.
  // 0 keeps every run.
  explicit SqliteHistory(std::string state_directory, HistoryAccess access = HistoryAccess::read_write,
                         int keep_days = 0);
  SqliteHistory(const SqliteHistory&) = delete;
  SqliteHistory& operator=(const SqliteHistory&) = delete;

  // All throw std::system_error (category "sqlite" or errno) naming the call.
  void record(const JobReport& report) override;
  std::vector<HistoryRow> last_run_per_disk() override;
  std::vector<HistoryRow> last_success_per_disk() override;
  std::vector<HistoryRow> last_verification_per_disk() override;
  std::vector<DiskRestorePoints> restore_points_per_disk() override;
  std::vector<HistoryRow> recent(int limit) override;
  std::optional<std::string> run_log(std::int64_t id) override;

  const std::string& path() const { return path_; }

 private:
  // false: the database does not exist and create was not asked for.
  bool open(bool create);
  bool open_read_only();
  void create_file();
  void migrate(sqlite3* db);
  // Runs body inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows when it throws.
  void in_transaction(sqlite3* db, const std::function<void()>& body);
  void insert(const JobReport& report);
  void prune(std::int64_t cutoff);

  std::string directory_;
  std::string path_;
  HistoryAccess access_;
  int keep_days_;
  std::int64_t version_ = 0;  // the schema version of the open database
  Sqlite3Ptr db_;
};

}  // namespace ubc
