// SPDX-License-Identifier: MIT
// The whole copy job, for real: the built `usb-backup-copier copy` on a loop-device disk,
// with real rsync, mount, flock, SQLite and an SMTP server on 127.0.0.1. Each test checks
// what an admin would check afterwards: the disk (mounted read-only after the copier has
// exited), the history database, the mails and the exit code.
//
// Only ext4 and xfs are tested here: this kernel has no vfat or exfat driver. A copy onto
// those belongs in the VM tests (tests/e2e), which boot a full Debian kernel.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kLockName = ".usb-backup-copier.lock";

std::string host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// Without a system bus (as on a build machine) logind cannot be asked for an inhibitor
// lock: the copy then ends with that one warning, and says so.
bool no_system_bus() { return !fs::exists("/run/dbus/system_bus_socket"); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string str(const Json& m, const std::string& key) { return field(m, key); }

std::int64_t num(const Json& m, const std::string& key) {
  return json_int(m, key).value_or(-1);
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// The source as it must appear on the disk.
std::map<std::string, TreeEntry> source_tree(const CopyFixture& f) { return scan_tree(f.source(), {kLockName}); }

// The disk's copy: everything but the disk's own entries (and extra ones the test put there).
std::map<std::string, TreeEntry> disk_copy(LoopDisk& disk, std::vector<std::string> also_skip = {}) {
  DiskView view(disk);
  std::vector<std::string> skip = disk_own_entries();
  skip.insert(skip.end(), also_skip.begin(), also_skip.end());
  return scan_tree(view.path(), skip);
}

void expect_disk_equals_source(CopyFixture& f, std::vector<std::string> also_skip = {}) {
  EXPECT_EQ(joined(tree_differences(source_tree(f), disk_copy(f.disk(), also_skip))), "");
}

// Big and small files, symlinks, hard links, odd names, empty directories, a private file,
// a file of another owner, times with nanoseconds: what a Veeam repository (and its admin)
// may put there.
void make_rich_tree(const std::string& src) {
  make_file(src + "/Jobs/Nightly/Nightly.vbk", 32u << 20, 1);
  make_file(src + "/Jobs/Nightly/Nightly-1.vib", 20u << 20, 2);
  for (int i = 0; i < 12; ++i) make_file(src + "/Jobs/Small/file" + std::to_string(i) + ".vbm", 100 + i * 997, 10 + i);
  make_file(src + "/with space/a file name.txt", 1234, 3);
  make_file(src + "/ümlaut-ñ/日本語 ファイル.txt", 4321, 4);
  make_file(src + "/new\nline.txt", 77, 5);
  fs::create_directories(src + "/empty-dir");
  fs::create_directories(src + "/nested/empty/deeper");
  fs::create_symlink("Jobs/Nightly/Nightly.vbk", src + "/latest.vbk");
  fs::create_symlink("/nonexistent/target", src + "/dangling");
  fs::create_directories(src + "/hardlinks");
  fs::create_hard_link(src + "/Jobs/Small/file0.vbm", src + "/hardlinks/file0-again.vbm");
  make_file(src + "/private.key", 256, 6);
  ::chmod((src + "/private.key").c_str(), 0600);
  make_file(src + "/owned-by-other.bin", 512, 7);
  ASSERT_EQ(::chown((src + "/owned-by-other.bin").c_str(), 1234, 5678), 0);
  ::chmod((src + "/hardlinks").c_str(), 0750);
  const timespec times[2] = {{1600000000, 123456789}, {1600000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/Jobs/Nightly/Nightly-1.vib").c_str(), times, 0), 0);
}

// What every good first copy leaves: the disk equals the source, the disk says complete,
// nothing is left behind, one history row, a start and an end mail.
void expect_good_first_copy(CopyFixture& f, const CopierResult& r) {
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_disk_equals_source(f);
  {
    DiskView view(f.disk());
    EXPECT_TRUE(fs::exists(view.path() + "/.usb-backup-copier/last-run.log"));
    EXPECT_THAT(read_file(view.path() + "/.usb-backup-copier/last-run.log"), HasSubstr("Copy complete"));
    EXPECT_TRUE(fs::is_directory(view.path() + "/lost+found") || f.disk().fstype() != "ext4");
    // Anyone can check the copy without this tool, odd file names included.
    const CopierResult check = run_program({"env", "-C", view.path(), "sha256sum", "-c", "--quiet", "--strict",
                                            ".usb-backup-copier/SHA256SUMS"});
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_THAT(read_file(view.path() + "/.usb-backup-copier/SHA256SUMS"), HasSubstr("  Jobs/Nightly/Nightly.vbk\n"));
    EXPECT_THAT(read_file(view.path() + "/.usb-backup-copier/SHA256SUMS"), HasSubstr("  new\\nline.txt\n"));
  }
  const auto state = f.disk_state();
  ASSERT_TRUE(state);
  EXPECT_EQ(str(*state, "state"), "complete");
  EXPECT_EQ(str(*state, "source"), f.source());
  EXPECT_FALSE(fs::exists(f.lock_file()));
  EXPECT_TRUE(f.disk_released());
  EXPECT_FALSE(fs::exists(f.status_file()));

  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  const std::string verdict = no_system_bus() ? "WARNING" : "OK";
  if (no_system_bus()) {
    EXPECT_EQ(rows[0].outcome, "warning");
    EXPECT_THAT(rows[0].warnings, HasSubstr("Could not take a shutdown inhibitor lock"));
    EXPECT_EQ(lines_of(rows[0].warnings).size(), 1u) << rows[0].warnings;
  } else {
    EXPECT_EQ(rows[0].outcome, "success") << rows[0].warnings;
  }
  // `status --json` tells the same story: no job running, the disk's last run.
  const CopierResult status = f.copier({"status", "--json"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  const auto status_json = parse_json_object(status.output);
  ASSERT_TRUE(status_json) << status.output;
  EXPECT_EQ(status_json->at("jobs"), Json::array()) << status.output;
  ASSERT_EQ(status_json->at("disks").size(), 1u) << status.output;
  const Json& disk = status_json->at("disks").at(0);
  EXPECT_EQ(json_string(disk, "uuid"), f.uuid()) << status.output;
  EXPECT_EQ(json_string(disk, "label"), "UBC-TEST") << status.output;
  EXPECT_EQ(json_bool(disk, "stale"), false) << status.output;
  EXPECT_EQ(json_string(disk.at("last_run"), "outcome"), rows[0].outcome) << status.output;
  EXPECT_EQ(json_count(disk.at("last_good_copy"), "bytes"), static_cast<std::uint64_t>(rows[0].bytes)) << status.output;
  EXPECT_EQ(json_count(disk.at("last_verification"), "mismatches"), 0u) << status.output;
  std::uint64_t bytes = 0;
  for (const auto& [path, e] : source_tree(f))
    if (e.type == 'f' && (e.link_group.empty() || e.link_group == path)) bytes += e.size;
  EXPECT_EQ(static_cast<std::uint64_t>(rows[0].bytes), bytes);

  const auto mails = f.wait_for_mails(2);
  ASSERT_EQ(mails.size(), 2u);
  const std::string disk_part = host() + ", disk " + f.options().label + ": ";
  EXPECT_EQ(str(mails[0], "subject"), "[usb-backup-copier] " + disk_part + "copy started");
  EXPECT_EQ(str(mails[1], "subject"), "[usb-backup-copier] " + disk_part + verdict);
  for (const auto& m : mails) {
    EXPECT_THAT(str(m, "to"), HasSubstr("sysop@example.com"));
    EXPECT_THAT(str(m, "to"), HasSubstr("disk-owner@example.com"));
    EXPECT_EQ(num(m, "defects"), 0);
  }
  const auto body = lines_of(str(mails[1], "body"));
  EXPECT_LE(body.size(), 10u) << str(mails[1], "body");
  EXPECT_THAT(str(mails[1], "body"), HasSubstr("safe to unplug"));
  if (no_system_bus()) {
    EXPECT_THAT(str(mails[1], "body"), HasSubstr("Warning: Could not take a shutdown inhibitor"));
  }
  EXPECT_EQ(num(mails[1], "attachments"), 1);
  EXPECT_THAT(str(mails[1], "attachment_filename"), HasSubstr(f.uuid()));
  EXPECT_THAT(str(mails[1], "attachment"), HasSubstr("Copy complete"));
  EXPECT_THAT(str(mails[1], "attachment"), HasSubstr("Mounted " + f.devnode()));
}

TEST(CopyJob, FirstCopyOfARichTreeOnExt4MirrorsItExactlyAndReports) {
  CopyFixture f({.fstype = "ext4", .disk_mib = 128});
  make_rich_tree(f.source());
  const CopierResult r = f.copy();
  expect_good_first_copy(f, r);
  // The hard link is one inode on the disk too.
  DiskView view(f.disk());
  struct stat a {}, b {};
  ASSERT_EQ(::stat((view.path() + "/Jobs/Small/file0.vbm").c_str(), &a), 0);
  ASSERT_EQ(::stat((view.path() + "/hardlinks/file0-again.vbm").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
}

TEST(CopyJob, FirstCopyOfARichTreeOnXfsMirrorsItExactly) {
  CopyFixture f({.fstype = "xfs", .disk_mib = 300});
  make_rich_tree(f.source());
  expect_good_first_copy(f, f.copy());
}

// A small tree of count files named f00.bin ... with sizes that tell them apart.
void make_small_tree(const std::string& src, int count) {
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/dir%d/f%02d.bin", i % 3, i);
    make_file(src + name, 1000 + static_cast<std::uint64_t>(i) * 100, static_cast<unsigned>(i) + 1);
  }
}

TEST(CopyJob, IncrementalRerunTransfersOnlyTheChangesAndKeepsForeignEntries) {
  CopyFixture f;
  make_small_tree(f.source(), 10);
  ASSERT_EQ(f.copy().exit_code, 0);
  {
    RwMount rw(f.devnode());
    make_file(rw.path() + "/System Volume Information/IndexerVolumeGuid", 76, 9);
  }
  make_file(f.source() + "/dir0/f00.bin", 5000, 99);  // changed: new size and content
  make_file(f.source() + "/dir1/added.bin", 7000, 98);
  fs::remove(f.source() + "/dir2/f02.bin");

  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("in 2 files; to delete on the disk: 1 files"));
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].bytes, 5000 + 7000);
  EXPECT_EQ(rows[1].files, 2);

  expect_disk_equals_source(f, {"System Volume Information"});
  DiskView view(f.disk());
  EXPECT_FALSE(fs::exists(view.path() + "/dir2/f02.bin"));
  EXPECT_TRUE(fs::is_directory(view.path() + "/lost+found"));
  EXPECT_EQ(read_file(view.path() + "/System Volume Information/IndexerVolumeGuid").size(), 76u);
}

TEST(CopyJob, UnchangedRerunSaysAlreadyUpToDateWithoutAStartMail) {
  CopyFixture f;
  make_small_tree(f.source(), 5);
  ASSERT_EQ(f.copy().exit_code, 0);
  ASSERT_EQ(f.wait_for_mails(2).size(), 2u);

  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("already up to date"));
  const auto mails = f.wait_for_mails(3);
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_THAT(str(mails[2], "subject"), HasSubstr(": OK"));  // no copy pass: no inhibitor needed
  EXPECT_THAT(str(mails[2], "body"), HasSubstr("already up to date"));
  // A stray start mail would have come before this end mail: the copier sends in order
  // and only exits once the server has accepted, and the server stores before accepting.
  EXPECT_EQ(f.mails().size(), 3u);
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].outcome, "success");
  EXPECT_EQ(rows[1].bytes, 0);
  EXPECT_EQ(str(*f.disk_state(), "state"), "complete");
}

TEST(CopyJob, DiskTooSmallStopsBeforeWritingAnything) {
  CopyFixture f({.disk_mib = 64});
  make_file(f.source() + "/a.vbk", 40u << 20, 1);
  make_file(f.source() + "/b.vbk", 40u << 20, 2);
  const auto before = whole_disk(f.disk());

  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::smatch m;
  const std::regex figures(R"(the copy needs [^(]*\((\d+) bytes\), the disk has [^(]*\((\d+) bytes\) free)");
  ASSERT_TRUE(std::regex_search(r.output, m, figures)) << r.output;
  const std::uint64_t needed = std::stoull(m[1]), free = std::stoull(m[2]);
  EXPECT_GE(needed, 80ull << 20);
  EXPECT_GT(free, 0u);
  EXPECT_LT(free, needed);
  EXPECT_THAT(r.output, HasSubstr("nothing was written"));

  expect_disk_untouched(before, f.disk());
  EXPECT_FALSE(f.disk_state());
  EXPECT_TRUE(f.disk_released());
  EXPECT_FALSE(fs::exists(f.lock_file()));
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "failed");
  EXPECT_THAT(rows[0].reason, HasSubstr("Not enough space"));
}

TEST(CopyJob, StaleLockFileIsTakenOverWithAWarning) {
  CopyFixture f;
  make_small_tree(f.source(), 3);
  // What a run that died leaves: its owner line (an empty file is a run starting now).
  write_file(f.lock_file(), "4711 " + host() + " 1700000000\n");

  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("left by a run that died; taking it over"));
  EXPECT_FALSE(fs::exists(f.lock_file()));
  expect_disk_equals_source(f);
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "warning");
  EXPECT_THAT(rows[0].warnings, HasSubstr("taking it over"));
  const auto mails = f.wait_for_mails(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_THAT(str(mails[1], "subject"), HasSubstr(": WARNING"));
  EXPECT_THAT(str(mails[1], "body"), HasSubstr("left by a run that died"));
}

TEST(CopyJob, LockHeldByAnotherProcessStopsTheJob) {
  CopyFixture f;
  make_small_tree(f.source(), 3);
  ChildProcess holder({"flock", "--exclusive", f.lock_file(), "sleep", "60"});
  // Held once a second flock cannot take it.
  bool held = false;
  for (int i = 0; i < 100 && !held; ++i) {
    held = fs::exists(f.lock_file()) && run({"flock", "--nonblock", f.lock_file(), "true"}) != 0;
    if (!held) poll_pause();
  }
  ASSERT_TRUE(held) << "flock did not take the lock: " << holder.output_so_far();

  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("held by another running copier"));
  EXPECT_TRUE(f.disk_released());
  EXPECT_TRUE(fs::exists(f.lock_file())) << "the lock file belongs to the other holder";
  EXPECT_TRUE(holder.running());
  EXPECT_FALSE(f.disk_state());
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "failed");
  const auto mails = f.wait_for_mails(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_THAT(str(mails[0], "subject"), HasSubstr("FAILED"));
}

TEST(CopyJob, SigtermMidCopyLeavesAnIncompleteMarkedDiskThatTheNextRunCompletes) {
  // The copy rsync is held stopped from its start (a cached copy of any size may be over
  // before the test could act) and let through in short steps until data reaches the
  // disk: then the copy is surely under way, and stays so until the SIGTERM.
  CopyFixture f({.disk_mib = 400});
  for (int i = 0; i < 6; ++i) make_file(f.source() + "/Nightly/part" + std::to_string(i) + ".vbk", 32u << 20, i + 1);

  auto copier = f.start_copy();
  // Lets rsync go once the copier passes the SIGTERM on to it.
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  ASSERT_TRUE(f.wait_for_status([](const auto& s) { return field(s, "phase") == "copying"; }, 60s))
      << copier->output_so_far();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (file_bytes_below(f.mount_point(), disk_own_entries()) == 0 && std::chrono::steady_clock::now() < deadline) {
    freezer.pulse(10ms);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(file_bytes_below(f.mount_point(), disk_own_entries()), 0u) << "nothing reached the disk";
  ASSERT_TRUE(copier->running()) << copier->output_so_far();
  copier->signal(SIGTERM);
  const auto r = copier->wait(60s);
  ASSERT_TRUE(r) << "the copier did not end after SIGTERM: " << copier->output_so_far();
  EXPECT_TRUE(freezer.continued_on_stop_signal());
  EXPECT_EQ(r->exit_code, 1) << r->output;
  EXPECT_THAT(r->output, HasSubstr("Stopped by SIGTERM"));
  EXPECT_TRUE(f.disk_released());
  EXPECT_FALSE(fs::exists(f.lock_file()));
  EXPECT_FALSE(fs::exists(f.status_file()));
  const auto state = f.disk_state();
  ASSERT_TRUE(state);
  EXPECT_EQ(str(*state, "state"), "incomplete");
  EXPECT_THAT(str(*state, "reason"), HasSubstr("SIGTERM"));
  auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "aborted");
  EXPECT_THAT(rows[0].reason, HasSubstr("SIGTERM"));
  auto mails = f.wait_for_mails(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_THAT(str(mails[1], "subject"), HasSubstr("FAILED: Stopped by SIGTERM"));
  EXPECT_THAT(str(mails[1], "body"), HasSubstr("incomplete"));

  const CopierResult again = f.copy();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(str(*f.disk_state(), "state"), "complete");
  expect_disk_equals_source(f);
  rows = f.history();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows[1].outcome, "aborted");
}

TEST(CopyJob, DiskAlreadyMountedElsewhereIsLeftAlone) {
  CopyFixture f;
  make_small_tree(f.source(), 3);
  RwMount elsewhere(f.devnode());
  const auto before = scan_tree(elsewhere.path());

  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("already mounted at '" + elsewhere.path() + "'"));
  EXPECT_EQ(joined(tree_differences(before, scan_tree(elsewhere.path()))), "");
  EXPECT_FALSE(is_mount_point(f.mount_point()));
  EXPECT_FALSE(fs::exists(f.lock_file()));
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "failed");
}

TEST(CopyJob, NotWhitelistedDiskIsIgnoredWithOneLogLine) {
  CopyFixture f({.whitelist = false});
  make_small_tree(f.source(), 3);
  const auto before = whole_disk(f.disk());

  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not whitelisted"));
  EXPECT_TRUE(f.disk_released());
  EXPECT_EQ(joined(tree_differences(before, whole_disk(f.disk()))), "");
  EXPECT_TRUE(f.history().empty());
  // The copier has exited, and it sends before it exits: any mail would be here by now.
  EXPECT_TRUE(f.mails().empty());
}

TEST(CopyJob, EmptySourceLeavesTheEarlierCopyUntouched) {
  CopyFixture f;
  make_small_tree(f.source(), 5);
  ASSERT_EQ(f.copy().exit_code, 0);
  const auto before = whole_disk(f.disk());
  // The repository share did not mount: its mount point is an empty directory.
  for (const auto& e : fs::directory_iterator(f.source())) fs::remove_all(e.path());

  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("is empty"));
  EXPECT_EQ(joined(tree_differences(before, whole_disk(f.disk()))), "");
  EXPECT_EQ(str(*f.disk_state(), "state"), "complete");
  EXPECT_TRUE(f.disk_released());
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].outcome, "failed");
}

TEST(CopyJob, MassDeleteIsRefusedUnlessAllowedOnce) {
  CopyFixture f;
  make_small_tree(f.source(), 10);
  ASSERT_EQ(f.copy().exit_code, 0);
  const auto before = whole_disk(f.disk());
  for (int i = 2; i < 10; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/dir%d/f%02d.bin", i % 3, i);
    fs::remove(f.source() + name);
  }

  const CopierResult refused = f.copy();
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("would delete 8 of the"));
  EXPECT_THAT(refused.output, HasSubstr("--allow-mass-delete"));
  expect_disk_untouched(before, f.disk());
  EXPECT_TRUE(f.disk_released());

  const CopierResult allowed = f.copy({"--allow-mass-delete"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  expect_disk_equals_source(f);
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].outcome, "failed");
  EXPECT_EQ(rows[2].outcome, "warning");
  EXPECT_THAT(rows[2].warnings, HasSubstr("allowed once by --allow-mass-delete"));
}

std::vector<std::string> outbox_entries(const CopyFixture& f) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(f.outbox_dir(), ec))
    if (e.is_regular_file() && e.path().filename().string().front() != '.') out.push_back(e.path().string());
  return out;
}

TEST(CopyJob, MailKeptInTheOutboxWhileTheServerIsDownIsDeliveredFirstNextRun) {
  CopyFixture f;
  make_small_tree(f.source(), 3);
  f.stop_smtp();

  const CopierResult down = f.copy();
  ASSERT_EQ(down.exit_code, 0) << down.output;
  EXPECT_THAT(down.output, HasSubstr("kept"));
  EXPECT_EQ(str(*f.disk_state(), "state"), "complete");
  EXPECT_EQ(outbox_entries(f).size(), 2u);

  f.start_smtp();
  const CopierResult up = f.copy();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_THAT(up.output, HasSubstr("Sent 2 mails kept from earlier runs"));
  const auto mails = f.wait_for_mails(3);
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_THAT(str(mails[0], "subject"), HasSubstr("copy started"));
  EXPECT_THAT(str(mails[1], "subject"), HasSubstr(no_system_bus() ? ": WARNING" : ": OK"));
  EXPECT_THAT(str(mails[1], "body"), Not(HasSubstr("already up to date")));
  EXPECT_THAT(str(mails[2], "body"), HasSubstr("already up to date"));
  EXPECT_TRUE(outbox_entries(f).empty());
}

TEST(CopyJob, StarttlsMailIsDeliveredWithTheTestCa) {
  CopyFixture f({.starttls = true});
  make_small_tree(f.source(), 3);
  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(f.smtp()->wait_for_messages(2, 15s)) << f.smtp()->log();
  for (const auto& envelope : f.smtp()->envelopes()) {
    const auto e = parse_json_object(envelope);
    ASSERT_TRUE(e) << envelope;
    EXPECT_EQ(json_bool(*e, "tls"), true) << envelope;
  }
  EXPECT_TRUE(outbox_entries(f).empty());
}

TEST(CopyJob, BrokenConfigExits78AndTouchesNothing) {
  CopyFixture f;
  make_small_tree(f.source(), 3);
  f.write_config({"stall-timeout-minutes = soon"});
  const auto before = whole_disk(f.disk());

  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 78) << r.output;
  EXPECT_THAT(r.output, HasSubstr("stall-timeout-minutes"));
  EXPECT_TRUE(f.disk_released());
  EXPECT_EQ(joined(tree_differences(before, whole_disk(f.disk()))), "");
  EXPECT_FALSE(fs::exists(f.state_dir() + "/history.db"));
  EXPECT_FALSE(fs::exists(f.lock_file()));
  EXPECT_TRUE(f.mails().empty());
}

}  // namespace
}  // namespace ubc::test
