// SPDX-License-Identifier: MIT
// Restore points of a big file that changed in a few blocks, for real: the built copier on
// xfs and btrfs loop disks clones the file from the newest restore point (FICLONE) and
// lets rsync write only what changed, so the disk's free space drops by a fraction of the
// file; on ext4 the same run copies it whole. Free space is read with statvfs on a fresh
// read-only mount, after the copier has synced and unmounted the disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::uint64_t kBig = 96ULL << 20;
constexpr const char* kBigFile = "/Jobs/Nightly.vbk";

std::string sha256_of(const std::string& path) {
  const CopierResult r = run_program({"sha256sum", path});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output.substr(0, 64);
}

std::uint64_t free_bytes(const std::string& mounted) {
  struct statvfs v {};
  EXPECT_EQ(::statvfs(mounted.c_str(), &v), 0);
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

// Restore points are named to the second: the next run needs a second of its own.
void wait_for_the_next_second() {
  const std::time_t start = std::time(nullptr);
  while (std::time(nullptr) == start) std::this_thread::sleep_for(20ms);
}

// What the disk's newest restore point is, its big file's sum and the disk's free space.
struct PointSeen {
  std::string name, big_sha256;
  std::uint64_t free = 0;
};

PointSeen newest_point(LoopDisk& disk) {
  DiskView view(disk);
  PointSeen seen;
  seen.name = fs::read_symlink(view.path() + "/latest").string();
  seen.big_sha256 = sha256_of(view.path() + "/" + seen.name + kBigFile);
  seen.free = free_bytes(view.path());
  const CopierResult check = run_program(
      {"env", "-C", view.path() + "/" + seen.name, "sha256sum", "-c", "--quiet", "--strict", ".usb-backup-copier/SHA256SUMS"});
  EXPECT_EQ(check.exit_code, 0) << seen.name << ": " << check.output;
  return seen;
}

// A first restore point of the big file, then 5 MiB of it (about 5 %) rewritten in place
// in the source, as a Veeam job does to a full backup file.
CopyFixture& with_first_point_and_a_change(CopyFixture& f, PointSeen& first) {
  make_file(f.source() + kBigFile, kBig, 1);
  make_file(f.source() + "/Jobs/Nightly.vbm", 5000, 2);
  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  first = newest_point(f.disk());
  wait_for_the_next_second();
  for (const char* mib : {"3", "21", "42", "63", "88"})
    run_ok({"dd", "if=/dev/urandom", "of=" + f.source() + kBigFile, "bs=1M", "count=1", "seek=" + std::string(mib),
            "conv=notrunc", "status=none"});
  return f;
}

CopyFixtureOptions disk_with_points(const std::string& fstype) {
  CopyFixtureOptions o;
  o.fstype = fstype;
  o.disk_mib = 320;  // two versions of the big file fit, whole, with the space check's margin
  o.backup_lines = {"restore-points = 3"};
  return o;
}

class ReflinkRestorePoints : public ::testing::TestWithParam<std::string> {};

TEST_P(ReflinkRestorePoints, AChangedBigFileCostsOnlyItsChangedBlocksWhereTheFilesystemCanShareThem) {
  CopyFixture f(disk_with_points(GetParam()));
  PointSeen first;
  with_first_point_and_a_change(f, first);
  ASSERT_FALSE(HasFailure());

  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const PointSeen second = newest_point(f.disk());
  ASSERT_NE(second.name, first.name);
  EXPECT_EQ(second.big_sha256, sha256_of(f.source() + kBigFile));
  {
    DiskView view(f.disk());
    EXPECT_EQ(sha256_of(view.path() + "/" + first.name + kBigFile), first.big_sha256) << "the older point is as it was";
  }
  const std::uint64_t used = first.free - second.free;
  if (GetParam() == "ext4") {
    EXPECT_GE(used, kBig) << "no reflink on ext4: the changed file is copied whole";
    EXPECT_THAT(r.output, Not(HasSubstr("in place")));
  } else {
    EXPECT_LT(used, kBig / 4) << "the new point took " << (used >> 20) << " MiB for a 96 MiB file with 5 MiB changed";
    EXPECT_THAT(r.output, HasSubstr("Updating 1 changed big file in place"));
  }
}

INSTANTIATE_TEST_SUITE_P(Filesystems, ReflinkRestorePoints, ::testing::Values("xfs", "btrfs", "ext4"),
                         [](const auto& param_info) { return param_info.param; });

std::string command_line_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ReflinkRestorePointsStop, AStopMidUpdateLeavesTheOlderPointAndTheNextRunCompletesTheFile) {
  CopyFixture f(disk_with_points("xfs"));
  PointSeen first;
  with_first_point_and_a_change(f, first);
  ASSERT_FALSE(HasFailure());

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  EXPECT_THAT(command_line_of(freezer.group()), HasSubstr("--inplace")) << "the first pass that writes";
  freezer.pulse(30ms);  // some of the changed blocks written into the clone
  copier->signal(SIGTERM);
  const auto stopped = copier->wait(60s);
  ASSERT_TRUE(stopped) << copier->output_so_far();
  EXPECT_EQ(stopped->exit_code, 1) << stopped->output;
  {
    DiskView view(f.disk());
    EXPECT_EQ(fs::read_symlink(view.path() + "/latest"), first.name);
    EXPECT_EQ(sha256_of(view.path() + "/" + first.name + kBigFile), first.big_sha256);
    EXPECT_TRUE(fs::is_regular_file(view.path() + "/.usb-backup-copier/in-progress" + kBigFile)) << "the clone stays";
  }

  wait_for_the_next_second();
  const CopierResult again = f.copy();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("Continuing the unfinished copy"));
  const PointSeen second = newest_point(f.disk());
  ASSERT_NE(second.name, first.name);
  EXPECT_EQ(second.big_sha256, sha256_of(f.source() + kBigFile));
  DiskView view(f.disk());
  EXPECT_EQ(sha256_of(view.path() + "/" + first.name + kBigFile), first.big_sha256);
}

}  // namespace
}  // namespace ubc::test
