// SPDX-License-Identifier: MIT
// The copy job and Veeam's pre-/post-job scripts against each other, as the real programs:
// `usb-backup-copier copy` on a loop-device disk with real rsync, `veeam-lock` and
// `veeam-unlock` on the same lease directory. Who reads the repository is watched from
// /proc (rsync processes, open files), not taken from the programs' own word.
#include <dirent.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/types.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/copy_fixture.h"
#include "support/waiting.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using JsonMap = Json;

constexpr const char* kJob = "Nightly";
// Opened by the copier at each look at the leases (and by veeam-lock and veeam-unlock at
// theirs), in the fixture's veeam directory.
constexpr const char* kCoordination = "coordination.lock";
// Opened by veeam-lock at each look at whether a copier reads the repository.
constexpr const char* kCopierActive = "copier.active";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---------------------------------------------------------------------------------------
// Who reads the repository, seen from /proc.

struct ProcEntry {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  bool killed = false;  // SIGKILL pending: it runs no more code of its own
  std::string comm;
  std::string cmdline;  // NULs turned into blanks
};

// Whether SIGKILL (signal 9: bit 0x100) is in a "SigPnd:" or "ShdPnd:" mask of
// /proc/<pid>/status. A killed process stuck in the kernel (a write to a busy disk) stays
// in the table until that call returns, but it executes nothing more.
bool sigkill_pending(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("SigPnd:") && !line.starts_with("ShdPnd:")) continue;
    const auto mask = std::stoull(line.substr(line.find(':') + 1), nullptr, 16);
    if (mask & (1ULL << (SIGKILL - 1))) return true;
  }
  return false;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return pids;
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
      pids.push_back(std::stoi(name));
  }
  return pids;
}

// Processes vanish while we look: whatever cannot be read is skipped.
std::vector<ProcEntry> process_table() {
  std::vector<ProcEntry> out;
  for (const pid_t pid : all_pids()) {
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(stat_file, stat)) continue;
    // "pid (comm) state ppid ...": comm may hold blanks and parentheses.
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    ProcEntry p;
    p.pid = pid;
    p.comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 1));
    rest >> p.state >> p.ppid;
    p.killed = sigkill_pending(pid);
    std::ifstream cmd_file("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::ostringstream cmd;
    cmd << cmd_file.rdbuf();
    p.cmdline = cmd.str();
    std::replace(p.cmdline.begin(), p.cmdline.end(), '\0', ' ');
    out.push_back(std::move(p));
  }
  return out;
}

// Live rsync processes of this copy: descendants of the copier, and any rsync naming the
// source (rsync's forked helpers keep its argv and outlive a killed leader as orphans).
// Zombies and killed processes read nothing: the init of some containers reaps orphans
// only after a second, and under heavy I/O a killed receiver takes seconds to go.
std::vector<std::string> rsync_processes(pid_t copier, const std::string& source) {
  const auto table = process_table();
  std::map<pid_t, pid_t> parent;
  for (const auto& p : table) parent[p.pid] = p.ppid;
  std::vector<std::string> found;
  for (const auto& p : table) {
    if (p.comm != "rsync" || p.state == 'Z' || p.state == 'X' || p.killed) continue;
    bool below_copier = false;
    pid_t up = p.ppid;
    for (int depth = 0; depth < 64 && up > 1; ++depth) {
      if (up == copier) {
        below_copier = true;
        break;
      }
      const auto it = parent.find(up);
      if (it == parent.end()) break;
      up = it->second;
    }
    if (below_copier || contains(p.cmdline, source + "/"))
      found.push_back(std::to_string(p.pid) + " (parent " + std::to_string(p.ppid) + ", state " + p.state +
                      "): " + p.cmdline);
  }
  return found;
}

// Open files and working directories inside the source, by any process; `except` (the run
// lock file, which the copier holds all along) is not reading the repository.
std::vector<std::string> repository_readers(const std::string& source, const std::string& except) {
  std::vector<std::string> found;
  const auto inside = [&](const std::string& target) {
    return (target == source || target.starts_with(source + "/")) && target != except;
  };
  for (const pid_t pid : all_pids()) {
    const std::string base = "/proc/" + std::to_string(pid);
    std::error_code ec;
    const auto cwd = fs::read_symlink(base + "/cwd", ec);
    if (!ec && inside(cwd.string())) found.push_back(std::to_string(pid) + " cwd " + cwd.string());
    for (fs::directory_iterator it(base + "/fd", ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code link_ec;
      const auto target = fs::read_symlink(it->path(), link_ec);
      if (!link_ec && inside(target.string())) found.push_back(std::to_string(pid) + " fd " + target.string());
    }
  }
  return found;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

// ---------------------------------------------------------------------------------------
// Status, history, leases.

std::string phase_of(const JsonMap& s) { return json_string(s, "phase").value_or(""); }
std::string detail_of(const JsonMap& s) { return json_string(s, "detail").value_or(""); }
std::int64_t bytes_done_of(const JsonMap& s) { return json_int(s, "bytes_done").value_or(0); }

std::string describe(const std::optional<JsonMap>& s) {
  if (!s) return "(no status file)";
  return "phase '" + phase_of(*s) + "', detail '" + detail_of(*s) + "', bytes_done " +
         std::to_string(bytes_done_of(*s));
}

// The veeam_pauses column of this disk's newest history row (the fixture's history()
// does not read it); -1 when there is no row.
int veeam_pauses_recorded(const CopyFixture& f) {
  std::string out;
  const int rc = run({"sqlite3", "-readonly", f.state_dir() + "/history.db",
                      "SELECT veeam_pauses FROM runs WHERE uuid = '" + f.uuid() + "' ORDER BY id DESC LIMIT 1;"},
                     &out);
  if (rc != 0) throw std::runtime_error("sqlite3 failed: " + out);
  return out.empty() ? -1 : std::stoi(out);
}

std::vector<std::string> lease_files(const CopyFixture& f) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(f.veeam_dir()))
    if (e.path().extension() == ".lease" && !e.path().filename().string().starts_with("."))
      names.push_back(e.path().filename().string());
  return names;
}

std::vector<std::string> disk_differences(CopyFixture& f) {
  const auto expected = scan_tree(f.source());
  DiskView disk(f.disk());
  return tree_differences(expected, scan_tree(disk.path(), disk_own_entries()));
}

// The end mail (not the start mail) among those received.
std::optional<JsonMap> end_mail(const std::vector<JsonMap>& mails) {
  for (const auto& m : mails)
    if (!contains(json_string(m, "subject").value_or(""), "copy started")) return m;
  return std::nullopt;
}

// The run ended with a complete copy ("warning": this machine has no logind to inhibit
// shutdown, which the copier reports).
bool copy_complete(const std::string& outcome) { return outcome == "success" || outcome == "warning"; }

std::string read_log(const CopyFixture& f) { return fs::exists(f.log_file()) ? read_file(f.log_file()) : ""; }

// Backdates every entry below root by an hour, like a repository written earlier. rsync
// does not always restore the time of a directory whose source time lies in the second of
// the copy, so a tree copied right after it was made would differ in directory times.
void backdate_tree(const std::string& root) {
  const auto past = fs::file_time_type::clock::now() - 1h;
  for (const auto& e : fs::recursive_directory_iterator(root)) fs::last_write_time(e.path(), past);
  fs::last_write_time(root, past);
}

// A Veeam-like repository: a full backup and increments, `mib` MiB in all.
void make_repository(const std::string& source, int mib, unsigned seed = 1) {
  const std::uint64_t full = static_cast<std::uint64_t>(mib) * 3 / 4;
  const std::uint64_t increment = (static_cast<std::uint64_t>(mib) - full) / 4;
  make_file(source + "/Nightly/Nightly2026-11-22T220000.vbk", full << 20, seed);
  for (unsigned i = 0; i < 4; ++i)
    make_file(source + "/Nightly/Nightly2026-11-1" + std::to_string(i) + ".vib", increment << 20, seed + 1 + i);
  write_file(source + "/Nightly/Nightly.vbm", "<BackupMeta/>\n");
  backdate_tree(source);
}

// The tests that act mid-copy hold the copy rsync stopped (RsyncFreezer) instead of
// counting on a copy slow enough: a page-cached copy of this size takes well under a
// second. Big enough that a copy that was not held would surely be caught at it.
constexpr int kBigRepositoryMib = 200;
constexpr int kBigDiskMib = 512;

// Lets the stopped copy rsync run in short steps until it has written something to the
// disk, so that a pause falls after data, not before the first byte; false on timeout.
bool let_some_data_through(CopyFixture& f, RsyncFreezer& freezer) {
  const auto deadline = Clock::now() + 30s;
  while (file_bytes_below(f.mount_point(), disk_own_entries()) == 0) {
    if (Clock::now() >= deadline) return false;
    freezer.pulse(10ms);
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// ---------------------------------------------------------------------------------------

TEST(VeeamCopy, WaitsUnmountedWhileALeaseIsHeldAndCopiesOnceItIsGiven) {
  CopyFixture f;
  make_repository(f.source(), 12);

  const CopierResult lock = f.veeam_tool("veeam-lock", {"--job", kJob});
  ASSERT_EQ(lock.exit_code, 0) << lock.output;
  EXPECT_TRUE(contains(lock.output, "no copy is reading the repository")) << lock.output;

  auto copier = f.start_copy();
  ASSERT_TRUE(f.wait_for_status(
      [](const JsonMap& s) { return phase_of(s) == "waiting-for-veeam" && contains(detail_of(s), kJob); }, 20s))
      << describe(f.status()) << "\n" << copier->output_so_far();
  EXPECT_EQ(json_int(*f.status(), "pid").value_or(0), copier->pid());

  // It keeps waiting, and the disk stays untouched meanwhile: it looks at the leases twice
  // more, and each time stays out.
  DirWatch veeam_dir(f.veeam_dir(), IN_OPEN);
  std::string broken;
  const bool looked = veeam_dir.wait_for_more(kCoordination, 2, 60s, [&] {
    if (!copier->running()) broken = "the copier ended:\n" + copier->output_so_far();
    else if (is_mounted_anywhere(f.devnode())) broken = "the disk was mounted while a Veeam lease was held";
    else if (const auto s = f.status(); !s || phase_of(*s) != "waiting-for-veeam") broken = describe(s);
    return broken.empty();
  });
  ASSERT_EQ(broken, "");
  ASSERT_TRUE(looked) << "the copier did not look at the leases again";

  // It goes on once the lease is given: before its wait-for-veeam-minutes are up, or it
  // would give up (exit 75).
  const CopierResult unlock = f.veeam_tool("veeam-unlock", {"--job", kJob});
  ASSERT_EQ(unlock.exit_code, 0) << unlock.output;
  EXPECT_TRUE(f.wait_for_status([](const JsonMap& s) { return phase_of(s) != "waiting-for-veeam"; }, 60s))
      << "still waiting after veeam-unlock: " << describe(f.status());

  const auto result = copier->wait(60s);
  ASSERT_TRUE(result) << "the copy did not end within 60 s:\n" << copier->output_so_far();
  EXPECT_EQ(result->exit_code, 0) << result->output;
  EXPECT_TRUE(contains(result->output, "Waiting for Veeam job 'Nightly'")) << result->output;
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
  const auto history = f.history();
  ASSERT_FALSE(history.empty());
  EXPECT_TRUE(copy_complete(history.back().outcome)) << history.back().outcome;
  EXPECT_EQ(veeam_pauses_recorded(f), 0);
  EXPECT_TRUE(lease_files(f).empty());
  EXPECT_TRUE(f.disk_released());
}

TEST(VeeamCopy, YieldsToALeaseMidCopyAndResumesWhereItStopped) {
  CopyFixtureOptions options;
  options.disk_mib = kBigDiskMib;
  options.backup_lines = {"wait-for-veeam-minutes = 2"};
  CopyFixture f(options);
  make_repository(f.source(), kBigRepositoryMib);

  auto copier = f.start_copy();
  // Held as soon as it starts; the copier's SIGTERM (on the lease) lets it go again.
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << describe(f.status()) << "\n" << copier->output_so_far();
  ASSERT_TRUE(let_some_data_through(f, freezer)) << "nothing reached the disk\n" << copier->output_so_far();
  const std::uint64_t on_disk_before = file_bytes_below(f.mount_point(), disk_own_entries());
  ASSERT_TRUE(copier->running()) << copier->output_so_far();
  ASSERT_FALSE(rsync_processes(copier->pid(), f.source()).empty()) << "copying, but no rsync runs";

  // veeam-lock returns while the copy rsync is still held stopped mid-way (the freezer lets
  // it go only on the copier's SIGTERM): it cannot have waited for the copy to end.
  const CopierResult lock = f.veeam_tool("veeam-lock", {"--job", kJob});
  // The moment veeam-lock says "go", Veeam writes: nothing may read any more.
  const auto rsync_at_return = rsync_processes(copier->pid(), f.source());
  const auto readers_at_return = repository_readers(f.source(), f.lock_file());
  const auto status_at_return = f.status();
  DirWatch veeam_dir(f.veeam_dir(), IN_OPEN);
  ASSERT_EQ(lock.exit_code, 0) << lock.output;
  EXPECT_TRUE(contains(lock.output, "copy paused after")) << lock.output;
  EXPECT_TRUE(rsync_at_return.empty()) << "rsync still runs after veeam-lock returned:" << joined(rsync_at_return);
  EXPECT_TRUE(readers_at_return.empty()) << "the repository is open:" << joined(readers_at_return);
  EXPECT_TRUE(status_at_return && phase_of(*status_at_return) == "paused-for-veeam") << describe(status_at_return);

  ASSERT_TRUE(f.wait_for_status(
      [](const JsonMap& s) { return phase_of(s) == "paused-for-veeam" && contains(detail_of(s), kJob); }, 60s))
      << describe(f.status());
  // The copier stopped rsync itself (SIGTERM): the freezer only passed that on.
  EXPECT_TRUE(freezer.continued_on_stop_signal());
  // rsync reports progress about once a second, so the status may still say 0 bytes; the
  // disk says the pause fell mid-copy.
  const std::int64_t paused_at = bytes_done_of(*f.status());
  std::cout << "[ pause    ] paused with " << on_disk_before << " bytes on the disk (status: " << paused_at
            << ") of " << json_int(*f.status(), "bytes_total").value_or(0) << " bytes" << std::endl;

  // Paused: no rsync, nothing of the repository open, the status unchanged, while the
  // copier looks at the leases twice more and each time stays out.
  std::string broken;
  const bool looked = veeam_dir.wait_for_more(kCoordination, 2, 60s, [&] {
    const auto rsync = rsync_processes(copier->pid(), f.source());
    const auto readers = repository_readers(f.source(), f.lock_file());
    const auto s = f.status();
    if (!copier->running()) broken = "the copier ended:\n" + copier->output_so_far();
    else if (!rsync.empty()) broken = "rsync runs while paused:" + joined(rsync);
    else if (!readers.empty()) broken = "the repository is read while paused:" + joined(readers);
    else if (!s || phase_of(*s) != "paused-for-veeam" || bytes_done_of(*s) != paused_at) broken = describe(s);
    return broken.empty();
  });
  ASSERT_EQ(broken, "");
  ASSERT_TRUE(looked) << "the paused copier did not look at the leases again";

  const CopierResult unlock = f.veeam_tool("veeam-unlock", {"--job", kJob});
  ASSERT_EQ(unlock.exit_code, 0) << unlock.output;
  EXPECT_TRUE(f.wait_for_status([](const JsonMap& s) { return phase_of(s) != "paused-for-veeam"; }, 60s))
      << "still paused after veeam-unlock: " << describe(f.status());

  const auto result = copier->wait(180s);
  ASSERT_TRUE(result) << "the copy did not end within 3 min:\n" << copier->output_so_far();
  EXPECT_EQ(result->exit_code, 0) << result->output;
  EXPECT_TRUE(contains(read_log(f), "paused")) << read_log(f);
  EXPECT_TRUE(contains(read_log(f), "resuming")) << read_log(f);
  EXPECT_EQ(veeam_pauses_recorded(f), 1);
  const auto history = f.history();
  ASSERT_FALSE(history.empty());
  EXPECT_TRUE(copy_complete(history.back().outcome)) << history.back().outcome;
  // The figures cover the whole copy, not only the rsync run after the pause: what the
  // stopped run reported plus what the resumed run did. rsync reports a file as it finishes
  // it, so one finished just before the signal may go uncounted; the file it was writing
  // is continued from its partial copy and counted once.
  const auto source_tree = scan_tree(f.source());
  std::int64_t source_files = 0;
  std::int64_t source_bytes = 0;
  std::int64_t largest = 0;
  for (const auto& [path, entry] : source_tree)
    if (entry.type == 'f') {
      ++source_files;
      source_bytes += static_cast<std::int64_t>(entry.size);
      largest = std::max(largest, static_cast<std::int64_t>(entry.size));
    }
  EXPECT_GE(history.back().files, source_files - 1);
  EXPECT_LE(history.back().files, source_files + 1);
  EXPECT_GE(history.back().bytes, source_bytes - largest);
  EXPECT_LE(history.back().bytes, source_bytes + largest);
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
  const auto mail = end_mail(f.wait_for_mails(2));
  ASSERT_TRUE(mail) << "no end mail";
  const std::string body = json_string(*mail, "body").value_or("");
  EXPECT_TRUE(contains(body, "Paused 1 time")) << body;
  EXPECT_TRUE(f.disk_released());
}

TEST(VeeamCopy, RemovesAnExpiredLeaseWithAWarningNamingItsJob) {
  CopyFixture f;
  make_repository(f.source(), 4);
  // veeam-lease-ttl-hours is at least 1, so an expired lease is written by hand, in the
  // format of core/lease.h: taken two days ago, expired yesterday.
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  const std::int64_t created = now - 2 * 86400;
  const std::int64_t expires = now - 86400;
  const std::string name = std::to_string(created) + "-Nightly-4242-0badf00d.lease";
  write_file(f.veeam_dir() + "/" + name,
             "# Veeam lease: written by veeam-lock, removed by veeam-unlock or when it expires\n"
             "job=Nightly\nhost=repo1\npid=4242\ncreated=" + std::to_string(created) +
                 "\nexpires=" + std::to_string(expires) + "\n");

  const CopierResult result = f.copy();
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_FALSE(contains(result.output, "Waiting for Veeam")) << result.output;
  EXPECT_TRUE(lease_files(f).empty()) << "the expired lease is still there";
  EXPECT_TRUE(contains(result.output, "expired Veeam lease of job 'Nightly'")) << result.output;
  const auto history = f.history();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().outcome, "warning");
  EXPECT_TRUE(contains(history.back().warnings, "expired Veeam lease of job 'Nightly'"))
      << history.back().warnings;
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
  const auto mail = end_mail(f.wait_for_mails(2));
  ASSERT_TRUE(mail) << "no end mail";
  EXPECT_TRUE(contains(json_string(*mail, "attachment").value_or(""), "expired Veeam lease of job 'Nightly'"));
}

TEST(VeeamCopy, GivesUpAfterWaitForVeeamMinutesWithoutMountingAndMails) {
  CopyFixtureOptions options;
  options.backup_lines = {"wait-for-veeam-minutes = 1"};
  CopyFixture f(options);
  make_repository(f.source(), 4);
  const CopierResult lock = f.veeam_tool("veeam-lock", {"--job", kJob});
  ASSERT_EQ(lock.exit_code, 0) << lock.output;

  const auto started = Clock::now();
  auto copier = f.start_copy();
  bool mounted = false;
  std::optional<CopierResult> result;
  // Its minute counts from when it begins to wait, after it was started: it must not give
  // up before. (A second's margin: wait() may see an exit one poll late.)
  while (!(result = copier->wait(200ms)) && Clock::now() < started + 59s)
    mounted = mounted || is_mounted_anywhere(f.devnode());
  ASSERT_FALSE(result) << "it gave up before its minute was up:\n" << result->output;
  // Then it gives up; two minutes in all are the safety net.
  while (!(result = copier->wait(200ms)) && Clock::now() < started + 120s)
    mounted = mounted || is_mounted_anywhere(f.devnode());
  ASSERT_TRUE(result) << "still running after 2 min:\n" << copier->output_so_far();
  EXPECT_EQ(result->exit_code, 75) << result->output;
  EXPECT_FALSE(mounted) << "the disk was mounted while waiting for Veeam";
  EXPECT_FALSE(contains(result->output, "Mounted ")) << result->output;
  EXPECT_TRUE(f.disk_released());
  const auto history = f.history();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().outcome, "gave-up");
  EXPECT_TRUE(contains(history.back().reason, "Nightly")) << history.back().reason;
  EXPECT_EQ(lease_files(f).size(), 1u) << "the live lease must stay";
  const auto mails = f.wait_for_mails(1);
  ASSERT_EQ(mails.size(), 1u) << "exactly the end mail (no copy started)";
  const std::string subject = json_string(mails[0], "subject").value_or("");
  EXPECT_TRUE(contains(subject, "FAILED") && contains(subject, "Veeam")) << subject;
  EXPECT_TRUE(contains(json_string(mails[0], "body").value_or(""), "Nothing was written to the disk"));
  EXPECT_TRUE(f.veeam_tool("veeam-unlock", {"--job", kJob}).exit_code == 0);
}

TEST(VeeamCopy, WithoutYieldingVeeamLockWaitsForTheCopyToEnd) {
  CopyFixtureOptions options;
  options.disk_mib = kBigDiskMib;
  options.backup_lines = {"copy-yields-to-veeam = no"};
  CopyFixture f(options);
  make_repository(f.source(), kBigRepositoryMib, 7);

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid(), {.continue_on_stop_signal = false});
  ASSERT_TRUE(freezer.wait_frozen(60s)) << describe(f.status()) << "\n" << copier->output_so_far();
  DirWatch veeam_dir(f.veeam_dir(), IN_OPEN);
  DirWatch runtime_dir(f.runtime_dir(), IN_MOVED_TO);
  ChildProcess lock({binary_path("veeam-lock"), "--config", f.config_path(), "--job", kJob});

  // While the copy is held mid-way, veeam-lock waits and the copier does not stop rsync.
  bool paused = false;
  std::string broken;
  const auto still_fine = [&] {
    if (!lock.running()) broken = "veeam-lock returned while the copy runs:\n" + lock.output_so_far();
    else if (!copier->running()) broken = "the copier ended:\n" + copier->output_so_far();
    else if (rsync_processes(copier->pid(), f.source()).empty()) broken = "rsync ended while held";
    else if (freezer.stop_signal_pending()) broken = "the copier stopped rsync for veeam-lock";
    if (const auto s = f.status()) paused = paused || phase_of(*s) == "paused-for-veeam";
    return broken.empty();
  };
  // veeam-lock looks at the copier once with its lease written, then twice while it waits.
  const bool lock_looked = veeam_dir.wait_for_more(kCopierActive, 3, 60s, still_fine);
  ASSERT_EQ(broken, "");
  ASSERT_TRUE(lock_looked) << "veeam-lock did not look at the copier again";
  // The copier, now with the lease there, goes round its rsync loop, which publishes the
  // status every 2 s; after two publications it has been round once whole.
  const bool copier_went_round = runtime_dir.wait_for_more(f.uuid() + ".json", 2, 60s, still_fine);
  ASSERT_EQ(broken, "");
  ASSERT_TRUE(copier_went_round) << "the copier published no status while rsync was held";
  freezer.resume();

  // It returns only once the copier has let go of the repository, which it does after
  // unmounting the disk.
  std::optional<CopierResult> lock_result;
  const auto deadline = Clock::now() + 180s;
  while (!(lock_result = lock.wait(20ms)) && Clock::now() < deadline) {
    if (const auto s = f.status()) paused = paused || phase_of(*s) == "paused-for-veeam";
  }
  const auto rsync_at_return = rsync_processes(copier->pid(), f.source());
  const bool mounted_at_return = is_mounted_anywhere(f.devnode());
  ASSERT_TRUE(lock_result) << "veeam-lock still waits after 3 min:\n" << lock.output_so_far();
  EXPECT_EQ(lock_result->exit_code, 0) << lock_result->output;
  EXPECT_TRUE(contains(lock_result->output, "waiting up to")) << lock_result->output;
  EXPECT_TRUE(contains(lock_result->output, "the copy finished after")) << lock_result->output;
  EXPECT_TRUE(rsync_at_return.empty()) << joined(rsync_at_return);
  EXPECT_FALSE(mounted_at_return) << "veeam-lock returned while the disk was still mounted";
  EXPECT_FALSE(paused);

  const auto result = copier->wait(60s);
  ASSERT_TRUE(result) << copier->output_so_far();
  EXPECT_EQ(result->exit_code, 0) << result->output;
  EXPECT_FALSE(contains(read_log(f), "paused")) << read_log(f);
  EXPECT_EQ(veeam_pauses_recorded(f), 0);
  // One rsync run did it all: the copy went on, not over again.
  const auto history = f.history();
  ASSERT_FALSE(history.empty());
  EXPECT_TRUE(copy_complete(history.back().outcome)) << history.back().outcome;
  std::int64_t source_bytes = 0;
  for (const auto& [path, entry] : scan_tree(f.source()))
    if (entry.type == 'f') source_bytes += static_cast<std::int64_t>(entry.size);
  EXPECT_EQ(history.back().bytes, source_bytes);
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
  EXPECT_EQ(lease_files(f).size(), 1u) << "veeam-lock keeps its lease after the copy";
  EXPECT_EQ(f.veeam_tool("veeam-unlock", {"--job", kJob}).exit_code, 0);
}

// Copy and veeam-lock started at (nearly) the same moment, each round at another offset,
// so that the lease lands before the copier's gate, just after it, during the dry run or
// during the copy. The invariant: once veeam-lock has returned 0, no rsync of the copier
// runs until veeam-unlock.
TEST(VeeamCopy, CopyAndVeeamLockStartedTogetherNeverOverlap) {
  CopyFixtureOptions options;
  options.disk_mib = 256;
  options.backup_lines = {"wait-for-veeam-minutes = 1"};
  options.mail_lines = {"send-start-mail = no"};
  CopyFixture f(options);
  make_repository(f.source(), 8);
  const std::vector<std::string> lock_argv{binary_path("veeam-lock"), "--config", f.config_path(), "--job", kJob};

  constexpr int kRounds = 20;
  const auto test_start = Clock::now();
  std::map<std::string, int> kinds;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Something new each round, so that every round has a real copy pass.
    if (round > 0) fs::remove(f.source() + "/Nightly/round" + std::to_string(round - 1) + ".vib");
    make_file(f.source() + "/Nightly/round" + std::to_string(round) + ".vib", 32 << 20, 100 + round);
    backdate_tree(f.source());

    // From veeam-lock 100 ms ahead to the copier 170 ms ahead: the copier passes its gate
    // some 20 ms after it starts and holds the repository for 0.3 s or more, as its copy
    // rsync is held for 0.3 s (a cached copy alone may be over in a few ms), unless the
    // copier stops it for the lease first.
    const auto offset = std::chrono::milliseconds(-100 + (round % 10) * 30);
    std::unique_ptr<ChildProcess> copier;
    std::unique_ptr<ChildProcess> lock;
    std::unique_ptr<RsyncFreezer> freezer;
    const RsyncFreezerOptions hold{.hold = 300ms, .continue_on_stop_signal = true};
    if (offset < 0ms) {
      lock = std::make_unique<ChildProcess>(lock_argv);
      std::this_thread::sleep_for(-offset);
      copier = f.start_copy();
      freezer = std::make_unique<RsyncFreezer>(copier->pid(), hold);
    } else {
      copier = f.start_copy();
      freezer = std::make_unique<RsyncFreezer>(copier->pid(), hold);
      std::this_thread::sleep_for(offset);
      lock = std::make_unique<ChildProcess>(lock_argv);
    }

    std::optional<CopierResult> lock_result;
    const auto deadline = Clock::now() + 30s;
    while (!(lock_result = lock->wait(0ms)) && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
    const auto rsync_at_return = rsync_processes(copier->pid(), f.source());
    const bool mounted_at_return = is_mounted_anywhere(f.devnode());
    DirWatch veeam_dir(f.veeam_dir(), IN_OPEN);
    ASSERT_TRUE(lock_result) << "veeam-lock did not return within 30 s:\n" << lock->output_so_far();
    ASSERT_EQ(lock_result->exit_code, 0) << lock_result->output;
    ASSERT_TRUE(rsync_at_return.empty()) << "rsync runs although veeam-lock returned 0:" << joined(rsync_at_return)
                                         << "\n" << lock_result->output;
    // While the lease is held, no rsync may start either: a copier starts one only after a
    // look at the leases lets it in. So: none while it looks twice more (and stays out), or
    // until it ends, having finished before the lease.
    std::string broken;
    bool ended = false;
    const bool looked = veeam_dir.wait_for_more(
        kCoordination, 2, 30s,
        [&] {
          const auto rsync = rsync_processes(copier->pid(), f.source());
          if (!rsync.empty()) broken = "rsync runs while the lease is held:" + joined(rsync);
          ended = !copier->running();
          return broken.empty() && !ended;
        },
        5ms);
    ASSERT_EQ(broken, "");
    ASSERT_TRUE(looked || ended) << "the copier neither looked at the leases again nor ended:\n"
                                 << copier->output_so_far();
    const CopierResult unlock = f.veeam_tool("veeam-unlock", {"--job", kJob});
    ASSERT_EQ(unlock.exit_code, 0) << unlock.output;
    const auto result = copier->wait(60s);
    ASSERT_TRUE(result) << copier->output_so_far();
    ASSERT_EQ(result->exit_code, 0) << result->output;
    ASSERT_TRUE(f.disk_released());

    const std::string both = lock_result->output + "\n" + result->output;
    const bool lock_waited = contains(lock_result->output, "asking it to pause");
    // Waiting before the disk was mounted, not the wait inside a pause.
    const auto wait_at = result->output.find("Waiting for Veeam job");
    const bool copier_waited = wait_at != std::string::npos && wait_at < result->output.find("Mounted ");
    const bool copier_paused = contains(result->output, "copy paused");
    // A copier that paused was waited for. veeam-lock may also have waited for a copier
    // past its copy pass (finishing, unmounting) that then left without pausing.
    EXPECT_TRUE(!copier_paused || lock_waited) << both;
    EXPECT_FALSE(copier_waited && lock_waited) << both;
    // "No copy is reading": the copier had not passed its gate, or had left it, and it
    // leaves only after unmounting. Either way the disk is not mounted.
    if (!lock_waited) {
      EXPECT_FALSE(mounted_at_return) << both;
    }
    EXPECT_TRUE(lock_waited || copier_waited) << "neither side waited for the other:\n" << both;
    ++kinds[copier_paused ? "copy paused" : copier_waited ? "copy waited" : "veeam-lock waited, copy done"];
  }
  const double total = seconds_since(test_start);
  std::string summary;
  for (const auto& [kind, count] : kinds) summary += " " + kind + ": " + std::to_string(count) + ";";
  std::cout << "[ rounds   ] " << kRounds << " rounds in " << total << " s:" << summary << std::endl;
  // Both sides of the race were reached: a copy waiting at its gate, a copy yielding.
  EXPECT_GT(kinds["copy waited"], 0);
  EXPECT_GT(kinds["copy paused"], 0);
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
}


// sectors written to the loop device behind the disk, from /sys/block/loopN/stat.
std::uint64_t bytes_written_to(const std::string& devnode) {
  std::ifstream in("/sys/block/" + fs::path(devnode).filename().string() + "/stat");
  std::uint64_t field = 0, sectors = 0;
  for (int i = 1; i <= 7 && in >> field; ++i)
    if (i == 7) sectors = field;
  return sectors * 512;
}

// Pauses a copy for Veeam once a quarter of the big file is on the disk; the big file's
// partial copy is then in rsync's partial dir. Returns its size.
std::uint64_t pause_a_quarter_through(CopyFixture& f, ChildProcess& copier, RsyncFreezer& freezer,
                                      std::uint64_t size) {
  const auto deadline = Clock::now() + 60s;
  while (file_bytes_below(f.mount_point(), disk_own_entries()) < size / 4 && Clock::now() < deadline) {
    freezer.pulse(10ms);
    std::this_thread::sleep_for(20ms);
  }
  const CopierResult lock = f.veeam_tool("veeam-lock", {"--job", kJob});
  EXPECT_EQ(lock.exit_code, 0) << lock.output << copier.output_so_far();
  const fs::path partial = fs::path(f.mount_point()) / "Nightly" / ".rsync-partial" / "Nightly2026-11-22T220000.vbk";
  return fs::exists(partial) ? fs::file_size(partial) : 0;
}

TEST(VeeamCopy, ContinuesTheFileAPauseCutOffInsteadOfCopyingItAgain) {
  CopyFixtureOptions options;
  options.disk_mib = kBigDiskMib;
  options.backup_lines = {"wait-for-veeam-minutes = 2"};
  CopyFixture f(options);
  const std::uint64_t size = 160ULL << 20;
  make_file(f.source() + "/Nightly/Nightly2026-11-22T220000.vbk", size, 7);
  write_file(f.source() + "/Nightly/Nightly.vbm", "<BackupMeta/>\n");
  backdate_tree(f.source());

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  const std::uint64_t partial = pause_a_quarter_through(f, *copier, freezer, size);
  ASSERT_GT(partial, 0u) << "no partial copy after the pause\n" << copier->output_so_far();
  ASSERT_LT(partial, size);
  ::sync();  // what rsync wrote before the pause is on the disk, not counted below
  const std::uint64_t written_before = bytes_written_to(f.devnode());

  ASSERT_EQ(f.veeam_tool("veeam-unlock", {"--job", kJob}).exit_code, 0);
  const auto result = copier->wait(180s);
  ASSERT_TRUE(result) << "the copy did not end within 3 min:\n" << copier->output_so_far();
  EXPECT_EQ(result->exit_code, 0) << result->output;
  const std::uint64_t written_after = bytes_written_to(f.devnode()) - written_before;
  EXPECT_TRUE(contains(read_log(f), "Continuing 'Nightly/Nightly2026-11-22T220000.vbk' from its partial copy"))
      << read_log(f);
  // The rest of the file, the manifest and the state: not the whole file again.
  EXPECT_LT(written_after, size - partial / 2) << "partial " << partial << " of " << size;
  // Read back and compared with the source by the verification (verify = written).
  EXPECT_TRUE(contains(read_log(f), "Verified:")) << read_log(f);
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
  EXPECT_TRUE(f.disk_released());
}

TEST(VeeamCopy, APartialCopyThatDiffersFromTheSourceIsSentAgainInFull) {
  CopyFixtureOptions options;
  options.disk_mib = kBigDiskMib;
  options.backup_lines = {"wait-for-veeam-minutes = 2"};
  CopyFixture f(options);
  const std::uint64_t size = 160ULL << 20;
  const std::string big = f.source() + "/Nightly/Nightly2026-11-22T220000.vbk";
  make_file(big, size, 8);
  backdate_tree(f.source());

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  const std::uint64_t partial = pause_a_quarter_through(f, *copier, freezer, size);
  ASSERT_GT(partial, 4096u) << copier->output_so_far();
  // Veeam rewrote the start of the file during the pause: the partial copy no longer
  // matches it, and appending to it would make a file that never existed.
  {
    std::fstream file(big, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(1000);
    file.put('\x5a').put('\xa5');
  }
  backdate_tree(f.source());

  ASSERT_EQ(f.veeam_tool("veeam-unlock", {"--job", kJob}).exit_code, 0);
  const auto result = copier->wait(180s);
  ASSERT_TRUE(result) << "the copy did not end within 3 min:\n" << copier->output_so_far();
  EXPECT_EQ(result->exit_code, 0) << result->output;
  EXPECT_TRUE(disk_differences(f).empty()) << joined(disk_differences(f));
  EXPECT_TRUE(f.disk_released());
}
}  // namespace
}  // namespace ubc::test
