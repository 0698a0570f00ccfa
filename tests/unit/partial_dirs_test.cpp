// SPDX-License-Identifier: MIT
// Empty partial dirs that a stopped rsync left: removed, and nothing else.
#include "core/partial_dirs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_file_system.h"

namespace ubc::test {
namespace {

constexpr const char* kRoot = "/media/disk/Nightly";

TEST(RemoveEmptyPartialDirs, RemovesEmptyOnesAtAnyDepth) {
  FakeFileSystem fs;
  fs.dirs_ = {std::string(kRoot) + "/.rsync-partial", std::string(kRoot) + "/a/b/.rsync-partial"};
  fs.files_[std::string(kRoot) + "/a/b/chain.vbk"] = "data";

  EXPECT_EQ(remove_empty_partial_dirs(fs, kRoot), 2u);
  EXPECT_THAT(fs.removed_dirs_, ::testing::UnorderedElementsAre(std::string(kRoot) + "/.rsync-partial",
                                                                std::string(kRoot) + "/a/b/.rsync-partial"));
  EXPECT_EQ(fs.kind(std::string(kRoot) + "/a/b/chain.vbk"), PathKind::file);
}

TEST(RemoveEmptyPartialDirs, KeepsAPartialDirThatHoldsAPartialCopy) {
  FakeFileSystem fs;
  fs.files_[std::string(kRoot) + "/.rsync-partial/big.vbk"] = "half";

  EXPECT_EQ(remove_empty_partial_dirs(fs, kRoot), 0u);
  EXPECT_TRUE(fs.removed_dirs_.empty());
  EXPECT_EQ(fs.files_.count(std::string(kRoot) + "/.rsync-partial/big.vbk"), 1u);
}

TEST(RemoveEmptyPartialDirs, KeepsEmptyDirectoriesOfOtherNames) {
  FakeFileSystem fs;
  fs.dirs_ = {std::string(kRoot) + "/empty", std::string(kRoot) + "/.rsync-partial-old",
              std::string(kRoot) + "/x.rsync-partial", std::string(kRoot) + "/.rsync-partial/inner"};

  EXPECT_EQ(remove_empty_partial_dirs(fs, kRoot), 0u) << "the partial dir holds a directory";
  EXPECT_TRUE(fs.removed_dirs_.empty());
}

TEST(RemoveEmptyPartialDirs, LeavesTheDisksOwnEntriesAlone) {
  FakeFileSystem fs;
  fs.dirs_ = {std::string(kRoot) + "/.usb-backup-copier/.rsync-partial",
              std::string(kRoot) + "/lost+found/.rsync-partial"};

  EXPECT_EQ(remove_empty_partial_dirs(fs, kRoot), 0u);
  EXPECT_TRUE(fs.removed_dirs_.empty());
}

}  // namespace
}  // namespace ubc::test
