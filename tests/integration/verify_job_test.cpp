// SPDX-License-Identifier: MIT
// What makes a disk's "complete" trustworthy, for real: the checksum manifest that
// sha256sum checks on any machine, read-back verification that sees damage the page cache
// hides, `usb-backup-copier verify`, and the mass-delete guard on a disk that carries none
// of our state.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

void make_small_repository(const std::string& src) {
  make_file(src + "/Jobs/Nightly.vbk", 3u << 20, 1);
  make_file(src + "/Jobs/Nightly-1.vib", 1u << 20, 2);
  make_file(src + "/Jobs/Nightly.vbm", 20000, 3);
}

CopierResult sha256sum_check(const std::string& root) {
  return run_program({"env", "-C", root, "sha256sum", "-c", "--quiet", "--strict", ".usb-backup-copier/SHA256SUMS"});
}

// Flips one byte of the file's first block in the disk's image file, below the mounted
// filesystem: the page cache keeps the old bytes, so only a read from the device sees it.
void corrupt_underneath(LoopDisk& disk, const std::string& relative) {
  DiskView view(disk);
  const std::string path = view.path() + "/" + relative;
  const std::string before = read_file(path);
  ASSERT_FALSE(before.empty());
  const std::string map = run_ok({"filefrag", "-v", path});
  std::smatch block_size, extent;
  ASSERT_TRUE(std::regex_search(map, block_size, std::regex(R"(\((\d+) blocks? of (\d+) bytes\))"))) << map;
  ASSERT_TRUE(std::regex_search(map, extent, std::regex(R"(\n\s*0:\s*0\.\.\s*\d+:\s*(\d+)\.\.)"))) << map;
  const off_t offset = static_cast<off_t>(std::stoull(extent[1]) * std::stoull(block_size[2]));
  const int fd = ::open(disk.image().c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  char byte = 0;
  ASSERT_EQ(::pread(fd, &byte, 1, offset), 1);
  ASSERT_EQ(byte, before[0]) << "the extent map points at the file's first byte";
  byte = static_cast<char>(byte ^ 0x5a);
  ASSERT_EQ(::pwrite(fd, &byte, 1, offset), 1);
  ASSERT_EQ(::fsync(fd), 0);
  ::close(fd);
  EXPECT_EQ(read_file(path), before) << "the page cache still holds the old bytes";
}

class VerifyJob : public ::testing::TestWithParam<const char*> {
 protected:
  CopyFixtureOptions options() const {
    CopyFixtureOptions o;
    o.fstype = GetParam();
    o.disk_mib = o.fstype == "xfs" ? 300 : 64;
    return o;
  }
};

TEST_P(VerifyJob, DamageBelowTheCacheIsFoundByVerifyAndRepairedByTheNextCopy) {
  CopyFixture f(options());
  make_small_repository(f.source());
  const CopierResult first = f.copy();
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("Verified: 4.02 MiB read back in 3 files, equal to the source"));
  {
    DiskView view(f.disk());
    const CopierResult check = sha256sum_check(view.path());
    EXPECT_EQ(check.exit_code, 0) << check.output;
  }
  EXPECT_EQ(f.copier({"verify", "--device", f.devnode()}).exit_code, 0);

  corrupt_underneath(f.disk(), "Jobs/Nightly-1.vib");
  {
    DiskView view(f.disk());
    EXPECT_NE(sha256sum_check(view.path()).exit_code, 0) << "sha256sum sees it too, on a fresh mount";
  }
  const CopierResult verify = f.copier({"verify", "--device", f.devnode()});
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("'Jobs/Nightly-1.vib' differs from the manifest"));
  EXPECT_THAT(verify.output, Not(HasSubstr("'Jobs/Nightly.vbk' differs")));
  EXPECT_TRUE(f.disk_released());
  ASSERT_EQ(f.history().size(), 3u);
  EXPECT_EQ(f.history().back().outcome, "failed");
  const auto mails = f.wait_for_mails(4);  // start and end of the copy, two verify reports
  ASSERT_EQ(mails.size(), 4u);
  EXPECT_THAT(field(mails.back(), "subject"), HasSubstr("verify FAILED"));

  // The damaged file has the source's size and time: only because it was remembered does
  // the next copy replace it.
  const CopierResult repair = f.copy();
  EXPECT_EQ(repair.exit_code, 0) << repair.output;
  EXPECT_THAT(repair.output, HasSubstr("Removed 1 file that the last check found damaged"));
  EXPECT_EQ(field(*f.disk_state(), "state"), "complete");
  EXPECT_EQ(f.copier({"verify", "--device", f.devnode()}).exit_code, 0);
}

TEST_P(VerifyJob, DamageBelowTheCacheIsFoundByTheNextCopyWithVerifyAll) {
  CopyFixture f(options());
  make_small_repository(f.source());
  ASSERT_EQ(f.copy().exit_code, 0);
  corrupt_underneath(f.disk(), "Jobs/Nightly-1.vib");

  f.write_config({"verify = all"});
  const CopierResult all = f.copy();
  EXPECT_EQ(all.exit_code, 1) << all.output;
  EXPECT_THAT(all.output, HasSubstr("'Jobs/Nightly-1.vib' differs from the source"));
  EXPECT_THAT(all.output, HasSubstr("Reading back 4.02 MiB in 3 files"));
  EXPECT_EQ(field(*f.disk_state(), "state"), "incomplete") << "the disk takes back the word complete";

  f.write_config({"verify = written"});
  const CopierResult repair = f.copy();
  EXPECT_EQ(repair.exit_code, 0) << repair.output;
  EXPECT_THAT(repair.output, HasSubstr("Removed 1 file that the last check found damaged"));
  EXPECT_EQ(field(*f.disk_state(), "state"), "complete");
  DiskView view(f.disk());
  EXPECT_EQ(sha256sum_check(view.path()).exit_code, 0);
}

TEST_P(VerifyJob, AnUnchangedRerunReadsNoFileAgain) {
  CopyFixture f(options());
  make_small_repository(f.source());
  ASSERT_EQ(f.copy().exit_code, 0);
  const CopierResult again = f.copy();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("Reading back 0 B in 0 files from the disk to compare with the source; "
                                      "3 files unchanged keep their sums"));
  DiskView view(f.disk());
  EXPECT_EQ(sha256sum_check(view.path()).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Filesystems, VerifyJob, ::testing::Values("ext4", "xfs"));

TEST(VerifyJobGuard, ADiskCopiedByPlainRsyncIsProtectedFromAMassDelete) {
  CopyFixture f;
  for (int i = 0; i < 10; ++i) make_file(f.source() + "/f" + std::to_string(i) + ".vbk", 1000, i + 1);
  {
    RwMount rw(f.devnode());
    run_ok({"rsync", "-a", f.source() + "/", rw.path() + "/"});
  }
  for (int i = 0; i < 8; ++i) fs::remove(f.source() + "/f" + std::to_string(i) + ".vbk");
  const auto before = whole_disk(f.disk());
  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("would delete 8 of the 10 files on the disk"));
  expect_disk_untouched(before, f.disk());
  EXPECT_TRUE(f.disk_released());
}

TEST(VerifyJobGuard, VerifyOfADiskWithoutAManifestSaysHowToGetOne) {
  CopyFixture f;
  make_small_repository(f.source());
  const CopierResult r = f.copier({"verify", "--device", f.devnode()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("holds no checksum manifest"));
  EXPECT_TRUE(f.disk_released());
}

// Whatever stands in place of state.json is reported and taken as "no state"; the copy
// neither hangs on a FIFO nor reads 2 GiB into memory, and leaves a proper file behind.
class HostileStateFile : public ::testing::TestWithParam<const char*> {};

TEST_P(HostileStateFile, IsTakenAsNoState) {
  CopyFixture f;
  make_small_repository(f.source());
  {
    RwMount rw(f.devnode());
    const std::string dir = rw.path() + "/.usb-backup-copier";
    fs::create_directories(dir);
    const std::string kind = GetParam();
    if (kind == "fifo") {
      ASSERT_EQ(::mkfifo((dir + "/state.json").c_str(), 0644), 0);
    } else if (kind == "symlink") {
      fs::create_symlink("/etc/shadow", dir + "/state.json");
    } else {
      run_ok({"truncate", "-s", "2G", dir + "/state.json"});
    }
  }
  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("treated as no state"));
  EXPECT_EQ(field(*f.disk_state(), "state"), "complete");
}

INSTANTIATE_TEST_SUITE_P(Kinds, HostileStateFile, ::testing::Values("fifo", "symlink", "huge"));

}  // namespace
}  // namespace ubc::test
