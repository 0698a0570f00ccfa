// SPDX-License-Identifier: MIT
// The run history in state_directory/history.db. The copier writes it while `status` and
// the web page read it, each from its own process: WAL mode and a busy timeout let them
// share the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ports/history.h"

struct sqlite3;

namespace ubc {

struct Sqlite3Deleter {
  void operator()(sqlite3* db) const noexcept;
};
using Sqlite3Ptr = std::unique_ptr<sqlite3, Sqlite3Deleter>;

class SqliteHistory final : public History {
 public:
  // Opens nothing yet: a missing database is created by the first record(), and reading
  // one that does not exist yet gives no rows (so `status` works before the first run).
  explicit SqliteHistory(std::string state_directory);
  SqliteHistory(const SqliteHistory&) = delete;
  SqliteHistory& operator=(const SqliteHistory&) = delete;

  // All three throw std::system_error (category "sqlite" or errno) naming the call.
  void record(const JobReport& report) override;
  std::vector<HistoryRow> last_run_per_disk() override;
  std::vector<HistoryRow> recent(int limit) override;

  const std::string& path() const { return path_; }

 private:
  // false: the database does not exist and create was not asked for.
  bool open(bool create);
  void migrate(sqlite3* db);

  std::string directory_;
  std::string path_;
  Sqlite3Ptr db_;
};

}  // namespace ubc
