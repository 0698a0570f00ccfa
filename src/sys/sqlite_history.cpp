// SPDX-License-Identifier: MIT
#include "sys/sqlite_history.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "core/text.h"
#include "core/history_log.h"
#include "sys/unique_fd.h"

namespace ubc {

void Sqlite3Deleter::operator()(sqlite3* db) const noexcept {
  // close_v2 defers the close until every statement is finalized instead of failing.
  (void)sqlite3_close_v2(db);
}

namespace {

// Several processes use the database; the copier's insert may wait for the web page's read.
constexpr int kBusyTimeoutMs = 10000;

// sqlite3_exec that waits out SQLITE_BUSY. The busy handler is not called everywhere: two
// processes switching a new database to WAL at once get SQLITE_BUSY at once (SQLite gives
// up rather than risk a deadlock), so the statement is tried again within the same limit.
int exec_waiting(sqlite3* db, const char* sql) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    const int r = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (r != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL COLLATE NOCASE,"
    " label TEXT NOT NULL DEFAULT '',"
    " device TEXT NOT NULL DEFAULT '',"
    " started_at INTEGER NOT NULL,"
    " finished_at INTEGER NOT NULL,"
    " outcome TEXT NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '',"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " files INTEGER NOT NULL DEFAULT 0,"
    " duration_seconds INTEGER NOT NULL DEFAULT 0,"
    " free_bytes_after INTEGER,"  // NULL: unknown
    " warnings TEXT NOT NULL DEFAULT '',"
    " veeam_pauses INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS runs_by_disk ON runs (uuid, started_at);";

// Schema versions after the first (PRAGMA user_version), each applied once, in order.
constexpr const char* kMigrations[] = {
    // 1: what was read back and compared, and whether the run was a copy or a `verify`.
    "ALTER TABLE runs ADD COLUMN action TEXT NOT NULL DEFAULT 'copy';"
    "ALTER TABLE runs ADD COLUMN verified_files INTEGER;"  // NULL: nothing was verified
    "ALTER TABLE runs ADD COLUMN verified_bytes INTEGER;"
    "ALTER TABLE runs ADD COLUMN verify_mismatches INTEGER;"
    "ALTER TABLE runs ADD COLUMN verify_seconds INTEGER;"
    "PRAGMA user_version = 1;",
    // 2: the run's log (cap_run_log), shown by the web page. NULL: recorded without one.
    "ALTER TABLE runs ADD COLUMN run_log TEXT;"
    "PRAGMA user_version = 2;",
    // 3: the restore points the run saw on the disk (a JSON array); NULL: none seen (a
    // mirror, or the run never looked), so `status` shows what the disk last held.
    "ALTER TABLE runs ADD COLUMN restore_points TEXT;"
    "PRAGMA user_version = 3;",
};
constexpr std::int64_t kSchemaVersion = std::size(kMigrations);

// The columns read_row() reads. A reader cannot migrate (it may have no write access), so
// for an older database the columns it lacks read as what their migration fills in.
std::string row_columns(std::int64_t version) {
  std::string columns = "id, uuid, label, started_at, finished_at, outcome, reason, bytes, files, free_bytes_after, warnings, ";
  columns += version >= 1 ? "action, verified_files, verified_bytes, verify_mismatches, verify_seconds"
                          : "'copy', NULL, NULL, NULL, NULL";
  return columns;
}

class SqliteCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int code) const override { return sqlite3_errstr(code); }
};

const std::error_category& sqlite_category() {
  static const SqliteCategory category;
  return category;
}

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const std::string& what) {
  std::string text = what;
  if (db != nullptr) text += ": " + std::string(sqlite3_errmsg(db));
  throw std::system_error(rc, sqlite_category(), text);
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const noexcept { (void)sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// One prepared statement; parameters are bound by position, values never go into the SQL.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& path) : db_(db), path_(path) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "sqlite3_prepare_v2 on '" + path_ + "'");
  }

  void bind(int index, const std::string& text) {
    check(sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  void bind(int index, std::int64_t value) { check(sqlite3_bind_int64(stmt_.get(), index, value)); }
  void bind_null(int index) { check(sqlite3_bind_null(stmt_.get(), index)); }

  // true: a row is ready.
  bool step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(db_, rc, "sqlite3_step on '" + path_ + "'");
  }

  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_.get(), column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)))
             : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "sqlite3_bind on '" + path_ + "'");
  }

  sqlite3* db_;
  std::string path_;
  StmtPtr stmt_;
};

HistoryRow read_row(const Statement& s) {
  HistoryRow row;
  row.id = s.integer(0);
  row.uuid = s.text(1);
  row.label = s.text(2);
  row.started_at = s.integer(3);
  row.finished_at = s.integer(4);
  row.outcome = s.text(5);
  row.reason = s.text(6);
  row.bytes = static_cast<std::uint64_t>(s.integer(7));
  row.files = static_cast<std::uint64_t>(s.integer(8));
  row.free_bytes_after = s.is_null(9) ? -1 : s.integer(9);
  row.warnings = s.text(10);
  row.action = s.text(11);
  if (!s.is_null(12)) {
    HistoryVerification v;
    v.files = static_cast<std::uint64_t>(s.integer(12));
    v.bytes = static_cast<std::uint64_t>(s.integer(13));
    v.mismatches = static_cast<std::uint64_t>(s.integer(14));
    v.seconds = s.integer(15);
    row.verification = v;
  }
  return row;
}

// The newest row of each disk among those that satisfy condition(alias): no other such row
// of that disk started later (ties: the higher id).
std::string newest_per_disk(const std::string& columns, const std::function<std::string(const char*)>& condition) {
  return "SELECT " + columns + " FROM runs AS r WHERE " + condition("r") +
         " AND NOT EXISTS (SELECT 1 FROM runs AS n WHERE n.uuid = r.uuid AND " + condition("n") +
         " AND (n.started_at > r.started_at OR (n.started_at = r.started_at AND n.id > r.id)))"
         " ORDER BY started_at DESC, id DESC";
}

// A good copy: one a restore could rely on (see History::last_success_per_disk).
std::string good_copy(const char* alias, bool has_action) {
  const std::string a(alias);
  return a + ".outcome IN ('success', 'warning')" + (has_action ? " AND " + a + ".action = 'copy'" : "");
}

constexpr std::int64_t kSecondsPerDay = 24 * 60 * 60;

std::string saw_restore_points(const char* alias) { return std::string(alias) + ".restore_points IS NOT NULL"; }

}  // namespace

SqliteHistory::SqliteHistory(std::string state_directory, HistoryAccess access, int keep_days)
    : directory_(std::move(state_directory)), path_(directory_ + "/history.db"), access_(access),
      keep_days_(keep_days) {}

bool SqliteHistory::open(bool create) {
  if (db_) return true;
  if (create && access_ == HistoryAccess::read_only)
    throw std::logic_error("SqliteHistory: record() on a read-only history '" + path_ + "'");
  if (create) {
    if (::mkdir(directory_.c_str(), 0750) < 0 && errno != EEXIST) {
      throw std::system_error(errno, std::generic_category(), "mkdir '" + directory_ + "'");
    }
    create_file();
  } else if (::access(path_.c_str(), F_OK) < 0) {
    if (errno == ENOENT) return false;
    throw std::system_error(errno, std::generic_category(), "access '" + path_ + "'");
  }
  if (access_ == HistoryAccess::read_only) return open_read_only();

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
  // sqlite3_open_v2 hands out a handle even when it fails; it must be closed either way.
  Sqlite3Ptr db(raw);
  if (rc != SQLITE_OK) throw_sqlite(db.get(), rc, "sqlite3_open_v2 '" + path_ + "'");
  if (const int r = sqlite3_busy_timeout(db.get(), kBusyTimeoutMs); r != SQLITE_OK) {
    throw_sqlite(db.get(), r, "sqlite3_busy_timeout on '" + path_ + "'");
  }
  // WAL lets readers (status, web page) go on while the copier writes. The setting is
  // stored in the file; asking again on every open is cheap.
  if (const int r = exec_waiting(db.get(), "PRAGMA journal_mode=WAL;"); r != SQLITE_OK) {
    throw_sqlite(db.get(), r, "PRAGMA journal_mode=WAL on '" + path_ + "'");
  }
  // A reader without write access to the directory (the web service) can open a WAL
  // database only while its -wal and -shm files exist: it cannot create them. SQLite
  // deletes them when the last connection closes unless told to keep them. They are made
  // with the database file's mode and owner.
  int keep = 1;
  if (const int r = sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_PERSIST_WAL, &keep); r != SQLITE_OK) {
    throw_sqlite(db.get(), r, "sqlite3_file_control(SQLITE_FCNTL_PERSIST_WAL) on '" + path_ + "'");
  }
  if (const int r = exec_waiting(db.get(), kSchema); r != SQLITE_OK) {
    throw_sqlite(db.get(), r, "CREATE TABLE runs in '" + path_ + "'");
  }
  migrate(db.get());
  version_ = kSchemaVersion;
  db_ = std::move(db);
  return true;
}

void SqliteHistory::create_file() {
  // Made here rather than by SQLite, whose mode follows the copier's umask (0077 under
  // systemd): 0640, so that the group of the state directory (the web service's, see
  // systemd/README.md) may read the history. SQLite gives -wal and -shm the same mode.
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640));
  if (!fd) {
    if (errno == EEXIST) return;
    throw std::system_error(errno, std::generic_category(), "open '" + path_ + "'");
  }
  if (::fchmod(fd.get(), 0640) < 0) throw std::system_error(errno, std::generic_category(), "fchmod '" + path_ + "'");
}

bool SqliteHistory::open_read_only() {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr);
  Sqlite3Ptr db(raw);
  if (rc != SQLITE_OK) throw_sqlite(db.get(), rc, "sqlite3_open_v2 (read-only) '" + path_ + "'");
  if (const int r = sqlite3_busy_timeout(db.get(), kBusyTimeoutMs); r != SQLITE_OK) {
    throw_sqlite(db.get(), r, "sqlite3_busy_timeout on '" + path_ + "'");
  }
  try {
    // SQLite opens the file lazily: a WAL database it cannot read shows up here.
    Statement tables(db.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'", path_);
    if (!tables.step() || tables.integer(0) == 0) return false;  // made, but no run recorded yet
    Statement version(db.get(), "PRAGMA user_version", path_);
    version_ = version.step() ? version.integer(0) : 0;
  } catch (const std::system_error& e) {
    const int code = e.code().value() & 0xff;
    if (code != SQLITE_CANTOPEN && code != SQLITE_READONLY) throw;
    throw std::system_error(e.code(), std::string(e.what()) +
                                          "; a reader without write access to '" + directory_ +
                                          "' needs history.db-wal and history.db-shm to exist and be "
                                          "readable: the copier keeps them from its next run on");
  }
  db_ = std::move(db);
  return true;
}

void SqliteHistory::in_transaction(sqlite3* db, const std::function<void()>& body) {
  // IMMEDIATE takes the write lock at once: two writers then wait for each other (busy
  // timeout) instead of failing halfway when both try to upgrade a read.
  if (const int r = exec_waiting(db, "BEGIN IMMEDIATE;"); r != SQLITE_OK)
    throw_sqlite(db, r, "BEGIN IMMEDIATE on '" + path_ + "'");
  try {
    body();
    if (const int r = sqlite3_exec(db, "COMMIT;", nullptr, nullptr, nullptr); r != SQLITE_OK)
      throw_sqlite(db, r, "COMMIT on '" + path_ + "'");
  } catch (...) {
    (void)sqlite3_exec(db, "ROLLBACK;", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteHistory::migrate(sqlite3* db) {
  // One writer at a time: two copiers opening an old database together must not both add
  // the columns, so the version is read and raised inside one transaction.
  in_transaction(db, [&] {
    std::int64_t version = 0;
    {
      Statement s(db, "PRAGMA user_version", path_);
      if (s.step()) version = s.integer(0);
    }
    for (auto v = static_cast<std::size_t>(version); v < std::size(kMigrations); ++v)
      if (const int r = sqlite3_exec(db, kMigrations[v], nullptr, nullptr, nullptr); r != SQLITE_OK)
        throw_sqlite(db, r, "schema version " + std::to_string(v + 1) + " of '" + path_ + "'");
  });
}

void SqliteHistory::record(const JobReport& report) {
  open(true);
  // The row and the housekeeping it triggers land together or not at all.
  in_transaction(db_.get(), [&] {
    insert(report);
    if (keep_days_ > 0) prune(report.finished_at - keep_days_ * kSecondsPerDay);
  });
}

void SqliteHistory::prune(std::int64_t cutoff) {
  // Each disk's newest run and newest good copy stay however old they are: `status`, the
  // web page and the stale-disk alert read them, and a disk unplugged for a year still
  // needs its last good copy shown. The run's log is in the row and goes with it.
  const std::string newest_run = newest_per_disk("r.id", [](const char*) { return std::string("1"); });
  const std::string newest_good = newest_per_disk("r.id", [](const char* t) { return good_copy(t, true); });
  const std::string newest_points = newest_per_disk("r.id", saw_restore_points);
  Statement s(db_.get(),
              "DELETE FROM runs WHERE finished_at < ? AND id NOT IN (" + newest_run + ") AND id NOT IN (" +
                  newest_good + ") AND id NOT IN (" + newest_points + ")",
              path_);
  s.bind(1, cutoff);
  (void)s.step();
}

void SqliteHistory::insert(const JobReport& report) {
  Statement s(db_.get(),
              "INSERT INTO runs (uuid, label, device, started_at, finished_at, outcome, reason, bytes,"
              " files, duration_seconds, free_bytes_after, warnings, veeam_pauses, action,"
              " verified_files, verified_bytes, verify_mismatches, verify_seconds, run_log, restore_points)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              path_);
  s.bind(1, report.disk.uuid);
  s.bind(2, report.disk.label);
  s.bind(3, report.disk.devnode);
  s.bind(4, report.started_at);
  s.bind(5, report.finished_at);
  s.bind(6, std::string(to_string(report.outcome)));
  s.bind(7, report.reason);
  s.bind(8, static_cast<std::int64_t>(report.bytes_copied));
  s.bind(9, static_cast<std::int64_t>(report.files_copied));
  const std::int64_t duration = report.finished_at - report.started_at;
  s.bind(10, duration > 0 ? duration : std::int64_t{0});
  if (report.free_bytes_after) {
    s.bind(11, static_cast<std::int64_t>(*report.free_bytes_after));
  } else {
    s.bind_null(11);
  }
  s.bind(12, join(report.warnings, "\n"));
  s.bind(13, static_cast<std::int64_t>(report.veeam_pauses));
  s.bind(14, std::string(report.action == JobAction::verify ? "verify" : "copy"));
  if (const auto& v = report.verification) {
    s.bind(15, static_cast<std::int64_t>(v->files_checked));
    s.bind(16, static_cast<std::int64_t>(v->bytes_read));
    s.bind(17, static_cast<std::int64_t>(v->mismatches + v->missing));
    s.bind(18, v->seconds);
  } else {
    for (int i = 15; i <= 18; ++i) s.bind_null(i);
  }
  if (report.run_log.empty())
    s.bind_null(19);
  else
    s.bind(19, cap_run_log(report.run_log));
  if (report.restore_points.empty())
    s.bind_null(20);
  else
    s.bind(20, to_json(report.restore_points));
  (void)s.step();
}

std::vector<HistoryRow> SqliteHistory::last_run_per_disk() {
  std::vector<HistoryRow> rows;
  if (!open(false)) return rows;
  Statement s(db_.get(), newest_per_disk(row_columns(version_), [](const char*) { return std::string("1"); }), path_);
  while (s.step()) rows.push_back(read_row(s));
  return rows;
}

std::vector<HistoryRow> SqliteHistory::last_success_per_disk() {
  std::vector<HistoryRow> rows;
  if (!open(false)) return rows;
  const bool has_action = version_ >= 1;
  Statement s(db_.get(),
              newest_per_disk(row_columns(version_),
                              [has_action](const char* t) { return good_copy(t, has_action); }),
              path_);
  while (s.step()) rows.push_back(read_row(s));
  return rows;
}

std::vector<HistoryRow> SqliteHistory::last_verification_per_disk() {
  std::vector<HistoryRow> rows;
  // Before schema version 1 nothing was read back.
  if (!open(false) || version_ < 1) return rows;
  Statement s(db_.get(),
              newest_per_disk(row_columns(version_),
                              [](const char* t) { return std::string(t) + ".verified_files IS NOT NULL"; }),
              path_);
  while (s.step()) rows.push_back(read_row(s));
  return rows;
}

std::vector<DiskRestorePoints> SqliteHistory::restore_points_per_disk() {
  std::vector<DiskRestorePoints> disks;
  // Before schema version 3 no run recorded them.
  if (!open(false) || version_ < 3) return disks;
  Statement s(db_.get(), newest_per_disk("uuid, finished_at, restore_points", saw_restore_points), path_);
  while (s.step()) disks.push_back({s.text(0), s.integer(1), restore_points_from_json(s.text(2))});
  return disks;
}

std::vector<HistoryRow> SqliteHistory::recent(int limit) {
  std::vector<HistoryRow> rows;
  if (limit <= 0 || !open(false)) return rows;
  Statement s(db_.get(), "SELECT " + row_columns(version_) + " FROM runs ORDER BY started_at DESC, id DESC LIMIT ?",
              path_);
  s.bind(1, static_cast<std::int64_t>(limit));
  while (s.step()) rows.push_back(read_row(s));
  return rows;
}

std::optional<std::string> SqliteHistory::run_log(std::int64_t id) {
  if (!open(false) || version_ < 2) return std::nullopt;
  Statement s(db_.get(), "SELECT run_log FROM runs WHERE id = ?", path_);
  s.bind(1, id);
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.text(0);
}

}  // namespace ubc
