// SPDX-License-Identifier: MIT
// Restore points for real: the built copier with `restore-points` set, on ext4, xfs and
// btrfs loop disks, with real rsync hard-linking unchanged files (--link-dest). Each test
// looks at the disk as whoever restores from it would: the dated directories, `latest`,
// state.json, `sha256sum -c` inside a restore point, inode numbers shared between points.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <regex>
#include <thread>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kLockName = ".usb-backup-copier.lock";

// Restore points are named by their run's start, to the second: two runs in one second
// would want one name.
void wait_for_the_next_second() {
  const std::time_t start = std::time(nullptr);
  while (std::time(nullptr) == start) std::this_thread::sleep_for(20ms);
}

int disk_mib(const std::string& fstype) { return fstype == "xfs" ? 300 : fstype == "btrfs" ? 256 : 64; }

// The restore points' directories on the disk, oldest first.
std::vector<std::string> point_names(const std::string& root) {
  static const std::regex shape("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root))
    if (std::regex_match(e.path().filename().string(), shape)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

std::vector<std::string> state_point_names(const Json& state) {
  std::vector<std::string> names;
  if (state.contains("restore_points"))
    for (const auto& p : state.at("restore_points")) names.push_back(json_string(p, "name").value_or(""));
  return names;
}

// Anyone can check a restore point without this tool.
void expect_point_checks(const std::string& point) {
  const CopierResult check =
      run_program({"env", "-C", point, "sha256sum", "-c", "--quiet", "--strict", ".usb-backup-copier/SHA256SUMS"});
  EXPECT_EQ(check.exit_code, 0) << point << ": " << check.output;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// Files shared between restore points are hard links by design: the link groups within
// one tree are not compared.
std::map<std::string, TreeEntry> unlinked(std::map<std::string, TreeEntry> tree) {
  for (auto& [path, entry] : tree) entry.link_group.clear();
  return tree;
}

void expect_point_equals(const std::map<std::string, TreeEntry>& source, const std::string& point) {
  EXPECT_EQ(joined(tree_differences(unlinked(source), unlinked(scan_tree(point, {".usb-backup-copier"})))), "")
      << point;
}

CopyFixtureOptions with_points(const std::string& fstype, int points, int mib = 0) {
  CopyFixtureOptions o;
  o.fstype = fstype;
  o.disk_mib = mib ? mib : disk_mib(fstype);
  o.backup_lines = {"restore-points = " + std::to_string(points)};
  return o;
}

class RestorePoints : public ::testing::TestWithParam<std::string> {};

TEST_P(RestorePoints, ThreeRunsMakeThreePointsThatShareTheirUnchangedFiles) {
  CopyFixture f(with_points(GetParam(), 3));
  make_file(f.source() + "/Jobs/Nightly.vbk", 4u << 20, 1);
  make_file(f.source() + "/Jobs/Nightly-1.vib", 1u << 20, 2);
  make_file(f.source() + "/Jobs/gone-later.vbm", 3000, 3);
  fs::create_symlink("Jobs/Nightly.vbk", f.source() + "/current.vbk");
  std::vector<std::map<std::string, TreeEntry>> sources;

  for (int run = 0; run < 3; ++run) {
    // Changes after the second turned: rsync takes a file of the same size and second for
    // unchanged.
    if (run > 0) wait_for_the_next_second();
    if (run == 1) {
      make_file(f.source() + "/Jobs/Nightly-2.vib", 1u << 20, 4);
      fs::remove(f.source() + "/Jobs/gone-later.vbm");
    }
    if (run == 2) make_file(f.source() + "/Jobs/Nightly.vbk", 4u << 20, 5);  // changed
    const CopierResult r = f.copy();
    ASSERT_EQ(r.exit_code, 0) << r.output;
    sources.push_back(scan_tree(f.source(), {kLockName}));
  }

  DiskView view(f.disk());
  const auto names = point_names(view.path());
  ASSERT_EQ(names.size(), 3u);
  for (std::size_t i = 0; i < names.size(); ++i) {
    expect_point_equals(sources[i], view.path() + "/" + names[i]);
    expect_point_checks(view.path() + "/" + names[i]);
  }
  EXPECT_EQ(fs::read_symlink(view.path() + "/latest"), names[2]);
  EXPECT_FALSE(fs::exists(view.path() + "/.usb-backup-copier/in-progress"));
  EXPECT_FALSE(fs::exists(view.path() + "/Jobs")) << "nothing is mirrored onto the root";
  // Unchanged: one file in all three; changed: a new file in the third.
  const auto path = [&](std::size_t i, const std::string& rel) { return view.path() + "/" + names[i] + "/" + rel; };
  EXPECT_EQ(inode_of(path(0, "Jobs/Nightly-1.vib")), inode_of(path(1, "Jobs/Nightly-1.vib")));
  EXPECT_EQ(inode_of(path(0, "Jobs/Nightly-1.vib")), inode_of(path(2, "Jobs/Nightly-1.vib")));
  EXPECT_EQ(inode_of(path(1, "Jobs/Nightly-2.vib")), inode_of(path(2, "Jobs/Nightly-2.vib")));
  EXPECT_EQ(inode_of(path(0, "Jobs/Nightly.vbk")), inode_of(path(1, "Jobs/Nightly.vbk")));
  EXPECT_NE(inode_of(path(1, "Jobs/Nightly.vbk")), inode_of(path(2, "Jobs/Nightly.vbk")));
  EXPECT_TRUE(fs::exists(path(0, "Jobs/gone-later.vbm"))) << "the oldest point keeps what the source lost";

  const auto state = parse_json_object(read_file(view.path() + "/.usb-backup-copier/state.json"));
  ASSERT_TRUE(state);
  EXPECT_EQ(json_string(*state, "state"), "complete");
  EXPECT_EQ(state_point_names(*state), names);
  EXPECT_EQ(json_string(*state, "latest"), names[2]);
  EXPECT_EQ(json_count(state->at("restore_points").at(2), "files"), 3u);
  EXPECT_EQ(json_bool(state->at("restore_points").at(2), "verified"), true);
}

INSTANTIATE_TEST_SUITE_P(Filesystems, RestorePoints, ::testing::Values("ext4", "xfs", "btrfs"),
                         [](const auto& param_info) { return param_info.param; });

TEST(RestorePointsStop, SigtermMidCopyLeavesEveryEarlierPointAndLatestAsTheyWere) {
  // Room for the first point, the stopped run's files and then, for the space check, all
  // three changed files again: it counts a file rsync left partly written at its whole
  // size (rsync writes a new copy beside the partial one), and the SIGTERM may come late.
  CopyFixture f(with_points("ext4", 3, 256));
  make_file(f.source() + "/small.vbm", 5000, 1);
  for (int i = 0; i < 3; ++i) make_file(f.source() + "/Nightly/part" + std::to_string(i) + ".vbk", 24u << 20, i + 1);
  ASSERT_EQ(f.copy().exit_code, 0);
  std::string first, manifest_before;
  {
    DiskView view(f.disk());
    first = point_names(view.path()).at(0);
    manifest_before = read_file(view.path() + "/" + first + "/.usb-backup-copier/SHA256SUMS");
  }
  const auto first_tree = [&] {
    DiskView view(f.disk());
    return scan_tree(view.path() + "/" + first);
  }();
  wait_for_the_next_second();
  for (int i = 0; i < 3; ++i) make_file(f.source() + "/Nightly/part" + std::to_string(i) + ".vbk", 24u << 20, i + 11);

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  const std::string in_progress = f.mount_point() + "/.usb-backup-copier/in-progress";
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (file_bytes_below(in_progress) == 0 && std::chrono::steady_clock::now() < deadline) {
    freezer.pulse(10ms);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(file_bytes_below(in_progress), 0u) << "nothing reached the disk";
  copier->signal(SIGTERM);
  const auto r = copier->wait(60s);
  ASSERT_TRUE(r) << copier->output_so_far();
  EXPECT_EQ(r->exit_code, 1) << r->output;
  {
    DiskView view(f.disk());
    EXPECT_EQ(point_names(view.path()), std::vector<std::string>{first});
    EXPECT_EQ(fs::read_symlink(view.path() + "/latest"), first);
    EXPECT_EQ(read_file(view.path() + "/" + first + "/.usb-backup-copier/SHA256SUMS"), manifest_before);
    EXPECT_EQ(joined(tree_differences(unlinked(first_tree), unlinked(scan_tree(view.path() + "/" + first)))), "");
    expect_point_checks(view.path() + "/" + first);
    EXPECT_TRUE(fs::is_directory(view.path() + "/.usb-backup-copier/in-progress"));
  }
  const auto state = f.disk_state();
  EXPECT_EQ(json_string(*state, "state"), "incomplete");
  EXPECT_EQ(state_point_names(*state), std::vector<std::string>{first});

  wait_for_the_next_second();
  const CopierResult again = f.copy();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("Continuing the unfinished copy"));
  DiskView view(f.disk());
  const auto names = point_names(view.path());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], first);
  EXPECT_EQ(fs::read_symlink(view.path() + "/latest"), names[1]);
  expect_point_equals(scan_tree(f.source(), {kLockName}), view.path() + "/" + names[1]);
  expect_point_checks(view.path() + "/" + names[1]);
  EXPECT_FALSE(fs::exists(view.path() + "/.usb-backup-copier/in-progress"));
}

std::string sha256_of(const std::string& path) { return run_ok({"sha256sum", path}).substr(0, 64); }

// Flips the file's first byte in place and puts its mtime back: a damaged copy that rsync
// takes for the source's file (same size, same time).
ino_t damage_keeping_size_and_time(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  char byte = 0;
  EXPECT_EQ(::pread(fd, &byte, 1, 0), 1);
  byte = static_cast<char>(byte ^ 0x5a);
  EXPECT_EQ(::pwrite(fd, &byte, 1, 0), 1);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  EXPECT_EQ(::futimens(fd, times), 0);
  EXPECT_EQ(::fsync(fd), 0);
  ::close(fd);
  return st.st_ino;
}

TEST(RestorePointsDamage, AFileVerifyFoundDamagedIsCopiedAnewIntoTheNextPointNotLinked) {
  CopyFixture f(with_points("ext4", 3));
  make_file(f.source() + "/Jobs/Nightly.vbk", 2u << 20, 1);
  make_file(f.source() + "/Jobs/Nightly-1.vib", 1u << 20, 2);
  ASSERT_EQ(f.copy().exit_code, 0);
  std::string first;
  ino_t damaged = 0;
  {
    RwMount rw(f.devnode());
    first = point_names(rw.path()).at(0);
    damaged = damage_keeping_size_and_time(rw.path() + "/" + first + "/Jobs/Nightly-1.vib");
  }
  const CopierResult verify = f.copier({"verify", "--device", f.devnode()});
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("'Jobs/Nightly-1.vib' differs from the manifest"));

  wait_for_the_next_second();
  const CopierResult r = f.copy();  // verify = written: reads back only what it counts as written
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Copying 1 file that the last check found damaged anew"));
  DiskView view(f.disk());
  const auto names = point_names(view.path());
  ASSERT_EQ(names.size(), 2u);
  const auto path = [&](std::size_t i, const std::string& rel) { return view.path() + "/" + names[i] + "/" + rel; };
  EXPECT_EQ(sha256_of(path(1, "Jobs/Nightly-1.vib")), sha256_of(f.source() + "/Jobs/Nightly-1.vib"));
  EXPECT_NE(inode_of(path(1, "Jobs/Nightly-1.vib")), damaged) << "the damaged inode is not shared";
  EXPECT_EQ(inode_of(path(0, "Jobs/Nightly-1.vib")), damaged) << "the older point is left as it was";
  EXPECT_EQ(inode_of(path(0, "Jobs/Nightly.vbk")), inode_of(path(1, "Jobs/Nightly.vbk"))) << "the rest is linked";
  expect_point_checks(view.path() + "/" + names[1]);
}

TEST(RestorePointsVerify, DamageInTheOlderPointIsFoundOnlyByVerifyAll) {
  CopyFixture f(with_points("ext4", 3));
  make_file(f.source() + "/Jobs/Nightly.vbk", 2u << 20, 1);
  make_file(f.source() + "/Jobs/Nightly-1.vib", 1u << 20, 2);
  ASSERT_EQ(f.copy().exit_code, 0);
  wait_for_the_next_second();
  make_file(f.source() + "/Jobs/Nightly-1.vib", 1u << 20, 7);  // changed: its own file in the newer point
  ASSERT_EQ(f.copy().exit_code, 0);
  std::vector<std::string> names;
  {
    RwMount rw(f.devnode());
    names = point_names(rw.path());
    ASSERT_EQ(names.size(), 2u);
    damage_keeping_size_and_time(rw.path() + "/" + names[0] + "/Jobs/Nightly-1.vib");
  }

  const CopierResult newest = f.copier({"verify", "--device", f.devnode()});
  EXPECT_EQ(newest.exit_code, 0) << newest.output;
  EXPECT_THAT(newest.output, HasSubstr("Checking the newest restore point '" + names[1] + "'"));

  const CopierResult all = f.copier({"verify", "--device", f.devnode(), "--all"});
  EXPECT_EQ(all.exit_code, 1) << all.output;
  EXPECT_THAT(all.output, HasSubstr("'" + names[0] + "': 1 file differs or cannot be read, 0 files are missing: "
                                    "'Jobs/Nightly-1.vib' differs from the manifest"));
  EXPECT_THAT(all.output, HasSubstr("'" + names[1] + "': 2 files (3.00 MiB) match"));
  EXPECT_TRUE(f.disk_released());
}

std::uint64_t free_mib(LoopDisk& disk) {
  DiskView view(disk);
  struct statvfs v {};
  EXPECT_EQ(::statvfs(view.path().c_str(), &v), 0);
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize >> 20;
}

TEST(RestorePointsSpace, TheOldestGoesToMakeRoomButNeverTheNewestAndATooBigCopyTouchesNothing) {
  CopyFixture f(with_points("ext4", 5));
  // The space check wants the new bytes plus a 16 MiB margin. Files of s MiB, with
  // 3s + 16 > free >= 2s + 16 (and some slack): two points fit, a third only without the
  // first.
  const std::uint64_t free0 = free_mib(f.disk());
  const std::uint64_t s = (free0 - 16) * 45 / 100;
  ASSERT_GT(s, 4u) << "free: " << free0 << " MiB";
  std::vector<std::string> created;
  for (unsigned run = 0; run < 3; ++run) {
    if (run > 0) wait_for_the_next_second();
    make_file(f.source() + "/Nightly.vbk", s << 20, run + 1);
    const CopierResult r = f.copy();
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (run == 2) {
      EXPECT_THAT(r.output, HasSubstr("Deleted the oldest restore point"));
    }
    DiskView view(f.disk());
    created.push_back(point_names(view.path()).back());
  }
  {
    DiskView view(f.disk());
    EXPECT_EQ(point_names(view.path()), (std::vector<std::string>{created[1], created[2]}));
    EXPECT_EQ(fs::read_symlink(view.path() + "/latest"), created[2]);
    expect_point_checks(view.path() + "/" + created[1]);
  }
  EXPECT_EQ(state_point_names(*f.disk_state()), (std::vector<std::string>{created[1], created[2]}));

  // Bigger than the free space and the older point together: refused before anything.
  const auto before = whole_disk(f.disk());
  wait_for_the_next_second();
  make_file(f.source() + "/Nightly.vbk", (free0 - s + 4) << 20, 9);
  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Not enough space on the disk for a new restore point"));
  EXPECT_THAT(r.output, HasSubstr("deleting the 1 older restore point"));
  EXPECT_THAT(r.output, HasSubstr("nothing was written or deleted"));
  expect_disk_untouched(before, f.disk());
}

TEST(RestorePointsMigration, AMirrorBecomesTheFirstRestorePointByRenames) {
  CopyFixture f({.fstype = "ext4", .disk_mib = 64});
  make_file(f.source() + "/Jobs/Nightly.vbk", 2u << 20, 1);
  make_file(f.source() + "/Jobs/Nightly-1.vib", 1u << 20, 2);
  ASSERT_EQ(f.copy().exit_code, 0) << "restore-points = 1: a mirror";
  const auto mirror_tree = scan_tree(f.source(), {kLockName});
  std::string complete_at;
  ino_t mirrored_inode = 0;
  {
    DiskView view(f.disk());
    EXPECT_TRUE(point_names(view.path()).empty());
    EXPECT_FALSE(fs::exists(view.path() + "/latest"));
    mirrored_inode = inode_of(view.path() + "/Jobs/Nightly.vbk");
    const auto state = parse_json_object(read_file(view.path() + "/.usb-backup-copier/state.json"));
    EXPECT_FALSE(state->contains("restore_points")) << "a mirror's state.json is as before";
    std::time_t t = json_int(*state, "finished_at").value_or(0);
    char name[32];
    std::strftime(name, sizeof name, "%Y-%m-%dT%H%M%SZ", std::gmtime(&t));
    complete_at = name;
  }

  f.write_config({"restore-points = 2"});
  wait_for_the_next_second();
  make_file(f.source() + "/Jobs/Nightly-2.vib", 1u << 20, 3);
  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Moving the disk's mirror"));
  DiskView view(f.disk());
  const auto names = point_names(view.path());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], complete_at);
  expect_point_equals(mirror_tree, view.path() + "/" + names[0]);
  expect_point_checks(view.path() + "/" + names[0]);
  EXPECT_EQ(inode_of(view.path() + "/" + names[0] + "/Jobs/Nightly.vbk"), mirrored_inode) << "renamed, not copied";
  EXPECT_EQ(inode_of(view.path() + "/" + names[1] + "/Jobs/Nightly.vbk"), mirrored_inode) << "then linked";
  expect_point_equals(scan_tree(f.source(), {kLockName}), view.path() + "/" + names[1]);
  EXPECT_FALSE(fs::exists(view.path() + "/Jobs"));
  EXPECT_FALSE(fs::exists(view.path() + "/.usb-backup-copier/SHA256SUMS"));
  EXPECT_EQ(fs::read_symlink(view.path() + "/latest"), names[1]);
}

}  // namespace
}  // namespace ubc::test
