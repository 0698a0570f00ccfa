// SPDX-License-Identifier: MIT
// The whole copy job, for real: a temporary repository, a loop-device disk with a random
// UUID, a configuration that whitelists it and mails to a real SMTP server on 127.0.0.1,
// and the built `usb-backup-copier` run as a child process. Root only.
//
// Use:
//   CopyFixture f;                                  // ext4, 64 MiB, plain SMTP server
//   make_file(f.source() + "/a.vbk", 1 << 20);
//   const CopierResult r = f.copy();                // copy --device <loop> --config <cfg>
//   EXPECT_EQ(r.exit_code, 0) << r.output;
//   { DiskView disk(f.disk());                   // read-only, for the scope
//     EXPECT_TRUE(tree_differences(scan_tree(f.source()),
//                                  scan_tree(disk.path(), disk_own_entries())).empty()); }
//   EXPECT_EQ(f.history().back().outcome, "warning");
//   ASSERT_TRUE(f.smtp()->wait_for_messages(2, 10s));
//
// Layout under dir(): repo/ (backup-source), mnt/ (backup-destination), state/, run/,
// veeam/ (veeam-lockfiles, coordination.lock), copier.log, rsync.log, config.ini.
// The lock file is the default: <repo>/.usb-backup-copier.lock.
//
// Everything is undone by the destructors, also when an assertion fails: a child still
// running is killed (its process group, by pid), the mount point and inspection mounts
// unmounted, the loop device detached, the SMTP server stopped by pid, the directory
// removed. udevd is the process-wide shared_udevd() (support/udevd.h), which the fixture
// refreshes for its disk. Implemented in copy_fixture.cpp (the fixture, mounts) and
// copy_fixture_tools.cpp (programs, trees).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "support/loop_disk.h"
#include "support/smtp_server.h"

namespace ubc::test {

// ---------------------------------------------------------------------------------------
// Running the built binaries.

// A finished run of one of the built programs.
struct CopierResult {
  int exit_code = -1;   // 128 + signal when killed by one
  std::string output;   // stdout and stderr, interleaved as written
};

// <dir>/<name> for "usb-backup-copier", "veeam-lock", "veeam-unlock"; dir is the
// environment's UBC_BIN_DIR if set, else the build's (the compile definition).
std::string binary_path(const std::string& name);

// A program running as a child (argv, no shell) in a process group of its own,
// stdout+stderr captured. The destructor kills (SIGKILL) the group of a child that is
// still running (rsync under the copier, `sleep` under `flock`) and reaps the child.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends sig to the child only (not its group): the copier stops rsync itself.
  void signal(int sig);
  // Waits for the exit; nullopt on timeout (the child keeps running).
  std::optional<CopierResult> wait(std::chrono::milliseconds timeout);
  // What it has written so far.
  std::string output_so_far();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  std::optional<int> exit_code_;
};

// Runs argv to the end (killed after timeout, then the result says 137 or so).
CopierResult run_program(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::minutes(3));

// ---------------------------------------------------------------------------------------
// Holding a copy mid-way.

// Makes the copier's copy pass as slow as the test needs, whatever the machine: a page-
// cached copy of hundreds of MiB is over in a second, before a test can act "mid-copy".
// A thread polls /proc every 2 ms for the copy rsync below `copier` (the one with
// --info=progress2; the dry run runs freely) and stops its process group (the copier
// starts rsync as a group leader) with SIGSTOP the moment it appears: like a disk that
// takes no more data. Freezes once; after a release the copy runs to its end.
//
// Released (SIGCONT to the group) by resume(), after options.hold, or, with
// continue_on_stop_signal, as soon as the copier's SIGTERM is pending in the stopped
// rsync: a stopped process acts on no signal but SIGKILL/SIGCONT, and the copier
// SIGKILLs only after a grace of seconds. The destructor releases a group still stopped.
struct RsyncFreezerOptions {
  std::chrono::milliseconds hold = std::chrono::hours(1);
  bool continue_on_stop_signal = true;
};

class RsyncFreezer {
 public:
  explicit RsyncFreezer(pid_t copier, RsyncFreezerOptions options = {});
  ~RsyncFreezer();
  RsyncFreezer(const RsyncFreezer&) = delete;
  RsyncFreezer& operator=(const RsyncFreezer&) = delete;

  // Waits until the copy rsync is stopped; false on timeout.
  bool wait_frozen(std::chrono::milliseconds timeout);
  bool frozen();
  // The stopped group (rsync's pid), 0 before it was found.
  pid_t group();
  // Lets the stopped group run for `run`, then stops it again.
  void pulse(std::chrono::milliseconds run);
  // SIGCONT, and no more freezing.
  void resume();
  // SIGTERM is pending in the stopped rsync (the copier asked it to end).
  bool stop_signal_pending();
  // It was released because the copier's SIGTERM arrived.
  bool continued_on_stop_signal();

 private:
  void watch();
  void release_locked();

  pid_t copier_;
  RsyncFreezerOptions options_;
  std::mutex mutex_;
  pid_t group_ = 0;
  bool frozen_ = false;
  bool released_ = false;
  bool on_stop_signal_ = false;
  bool quit_ = false;
  std::chrono::steady_clock::time_point frozen_at_{};
  std::thread thread_;
};

// The processes of a process group that have not ended (zombies left out): the copy
// rsync and the helpers it forked, for the group freezer.group().
std::vector<pid_t> live_processes_in_group(pid_t group);

// The bytes of all regular files below root (those vanishing meanwhile count 0); top-level
// entries named in skip_top are left out. What rsync has written so far, temporary files
// included.
std::uint64_t file_bytes_below(const std::string& root, const std::vector<std::string>& skip_top = {});

// ---------------------------------------------------------------------------------------
// Trees.

// A file of size bytes of pseudo-random content (seed picks the content), with parents.
void make_file(const std::string& path, std::uint64_t size, unsigned seed = 1);

// One entry of a tree, as compared between the source and the disk.
struct TreeEntry {
  char type = '?';  // 'f' file, 'd' directory, 'l' symlink, 'o' other
  unsigned mode = 0;  // permission bits (07777)
  unsigned uid = 0, gid = 0;
  // Nanoseconds. Symlinks: not compared. Directories: compared to the second, as rsync
  // does (without --modify-window=-1 it takes a directory made in the same second as the
  // source's time for "same time" and leaves the sub-second part as created).
  std::int64_t mtime = 0;
  std::uint64_t size = 0;
  std::string digest;  // files: content hash; symlinks: the target
  std::string link_group;  // files with nlink > 1: the first path sharing the inode
};

// Relative path -> entry, for every entry below root (root itself excluded). Paths whose
// first component is in skip_top (e.g. "lost+found", ".usb-backup-copier") are left out.
std::map<std::string, TreeEntry> scan_tree(const std::string& root,
                                           const std::vector<std::string>& skip_top = {});
// Human-readable differences ("missing: a/b", "mode differs: x 0600 vs 0644"); empty: equal.
std::vector<std::string> tree_differences(const std::map<std::string, TreeEntry>& expected,
                                          const std::map<std::string, TreeEntry>& actual);
// The top-level entries the copier's disk always holds beside the copy.
const std::vector<std::string>& disk_own_entries();  // lost+found, .usb-backup-copier

// ---------------------------------------------------------------------------------------
// Looking at the disk after the copier has exited.

// Mounts the disk read-only at a temporary directory for the scope.
class DiskView {
 public:
  explicit DiskView(LoopDisk& disk);
  ~DiskView();
  DiskView(const DiskView&) = delete;
  DiskView& operator=(const DiskView&) = delete;
  const std::string& path() const { return path_; }

 private:
  LoopDisk& disk_;
  std::string path_;
};

// Everything on the disk, the copier's own files included.
std::map<std::string, TreeEntry> whole_disk(LoopDisk& disk);
// A job that stops before copying says "nothing was written" / "the disk was left
// untouched": every entry on the disk, the copier's own files included, is as it was.
void expect_disk_untouched(const std::map<std::string, TreeEntry>& before, LoopDisk& disk);

// The disk mounted read-write somewhere else, for the scope.
class RwMount {
 public:
  explicit RwMount(const std::string& devnode);
  ~RwMount();
  RwMount(const RwMount&) = delete;
  RwMount& operator=(const RwMount&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// True when devnode appears as a mount source in /proc/self/mountinfo.
bool is_mounted_anywhere(const std::string& devnode);
// True when path is a mount point (in /proc/self/mountinfo).
bool is_mount_point(const std::string& path);

// One row of state-directory/history.db.
struct HistoryRow {
  std::string uuid, outcome, reason, warnings;
  std::int64_t bytes = 0, files = 0;
};

// A short sleep between polls (50 ms).
void poll_pause();

// ---------------------------------------------------------------------------------------
// The fixture.

struct CopyFixtureOptions {
  std::string fstype = "ext4";  // ext4 or xfs here (this kernel mounts no vfat/exfat)
  int disk_mib = 64;            // xfs needs >= 300
  std::string label = "UBC-TEST";
  bool whitelist = true;        // list the disk's UUID in the config
  bool start_smtp = true;       // start an SmtpServer and point [Mail] at it
  bool starttls = false;        // SMTP server with STARTTLS and a test CA (config ca-file)
  bool silent_smtp = false;     // a server that accepts connections and never answers
  // Set: the server requires AUTH (also without TLS) with these, and [Mail] logs in with them.
  std::string smtp_username{};
  std::string smtp_password{};
  // Extra `key = value` lines for [Backup] / [Mail]. A key the fixture already writes is
  // replaced (the config refuses a key set twice), any other is appended.
  std::vector<std::string> backup_lines{};
  std::vector<std::string> mail_lines{};
  std::vector<std::string> veeam_lines{};  // the same for [VEEAM]
  std::string extra_sections{};  // appended verbatim, e.g. "[Debug]\ndebug = yes\n"
};

class CopyFixture {
 public:
  // Throws std::runtime_error (saying what to install) when a prerequisite is missing.
  explicit CopyFixture(CopyFixtureOptions options = {});
  ~CopyFixture();
  CopyFixture(const CopyFixture&) = delete;
  CopyFixture& operator=(const CopyFixture&) = delete;

  const CopyFixtureOptions& options() const { return options_; }
  const std::string& dir() const { return dir_; }
  std::string source() const { return dir_ + "/repo"; }
  std::string mount_point() const { return dir_ + "/mnt"; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string runtime_dir() const { return dir_ + "/run"; }
  std::string veeam_dir() const { return dir_ + "/veeam"; }
  std::string config_path() const { return dir_ + "/config.ini"; }
  std::string log_file() const { return dir_ + "/copier.log"; }
  std::string rsync_log() const { return dir_ + "/rsync.log"; }
  std::string lock_file() const { return source() + "/.usb-backup-copier.lock"; }
  std::string outbox_dir() const { return state_dir() + "/outbox"; }
  // runtime-directory/<uuid>.json
  std::string status_file() const { return runtime_dir() + "/" + disk_->uuid() + ".json"; }

  LoopDisk& disk() { return *disk_; }
  const std::string& uuid() const { return disk_->uuid(); }
  const std::string& devnode() const { return disk_->devnode(); }

  // The SMTP server, or nullptr when stopped / not started.
  SmtpServer* smtp() { return smtp_.get(); }
  int smtp_port() const { return smtp_port_; }
  // Stops the server (by pid); the config keeps pointing at its port, so mail fails.
  void stop_smtp();
  // Starts a new server on the same port (and the same TLS mode).
  void start_smtp();
  // The test CA the config's ca-file names (only with starttls).
  const std::string& ca_file() const { return certificates_.ca_file; }

  // Rewrites config.ini (mode 0600) from options() plus these extra lines (same rules as
  // CopyFixtureOptions::backup_lines). The constructor has written it once already.
  void write_config(const std::vector<std::string>& extra_backup_lines = {},
                    const std::vector<std::string>& extra_mail_lines = {});

  // `usb-backup-copier --config <cfg> copy --device <loop> [extra...]` to the end.
  CopierResult copy(const std::vector<std::string>& extra_args = {}) const;
  // The same, started in the background.
  std::unique_ptr<ChildProcess> start_copy(const std::vector<std::string>& extra_args = {}) const;
  // `usb-backup-copier --config <cfg> <args...>` (e.g. {"status", "--json"}).
  CopierResult copier(const std::vector<std::string>& args) const;
  // `<veeam-lock|veeam-unlock> --config <cfg> <args...>`.
  CopierResult veeam_tool(const std::string& name, const std::vector<std::string>& args) const;

  // Every row of history.db for this disk, oldest first (via the sqlite3 program).
  std::vector<HistoryRow> history() const;
  // The live status file, parsed; nullopt while absent.
  std::optional<Json> status() const;
  // Polls status() until pred holds; false on timeout.
  template <class Pred>
  bool wait_for_status(Pred pred, std::chrono::milliseconds timeout) const;
  // The disk's .usb-backup-copier/state.json, parsed (mounts the disk read-only for the
  // call); nullopt when the disk has none.
  std::optional<Json> disk_state();

  // Mails received so far, summarised by parse_mail() (empty without a server).
  std::vector<Json> mails();
  // Waits until the server holds at least count mails, then returns them all.
  std::vector<Json> wait_for_mails(
      std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // The mount point is empty, not a mount point, and the disk is mounted nowhere.
  bool disk_released() const;

 private:
  CopyFixtureOptions options_;
  std::string dir_;
  std::unique_ptr<LoopDisk> disk_;
  TestCertificates certificates_;
  std::unique_ptr<SmtpServer> smtp_;
  int smtp_port_ = 0;
};

template <class Pred>
bool CopyFixture::wait_for_status(Pred pred, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    if (const auto s = status(); s && pred(*s)) return true;
    poll_pause();
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace ubc::test
