// SPDX-License-Identifier: MIT
// What FAT and exFAT cannot store, as the Linux drivers of the VM test's kernel refuse it.
#include "core/fs_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ubc {
namespace {

using ::testing::HasSubstr;

constexpr std::uint64_t kGiB = 1ULL << 30;

TEST(FsLimits, VfatHoldsFilesUpTo4GiBMinusOneByte) {
  const FsLimits vfat = fs_limits("vfat");
  EXPECT_FALSE(why_unstorable(vfat, "a/full.vbk", true, 4 * kGiB - 1));
  const auto why = why_unstorable(vfat, "a/full.vbk", true, 4 * kGiB);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "4.00 GiB; vfat holds files up to 4 GiB - 1 byte");
  EXPECT_FALSE(why_unstorable(vfat, "dir/", false, 5 * kGiB)) << "only files have a size";
  EXPECT_FALSE(why_unstorable(fs_limits("exfat"), "huge.vbk", true, 5000 * kGiB));
}

TEST(FsLimits, RefusesWindowsForbiddenCharactersOnFatAndExfat) {
  for (const char* fs : {"vfat", "exfat"}) {
    const FsLimits limits = fs_limits(fs);
    for (char c : std::string("\"*:<>?\\|")) {
      const std::string name = std::string("a") + c + "b";
      const auto why = why_unstorable(limits, "dir/" + name, true, 1);
      ASSERT_TRUE(why) << fs << " " << name;
      EXPECT_EQ(*why, std::string("'") + c + "' is not allowed");
    }
    for (unsigned char c = 1; c < 0x20; ++c)
      EXPECT_TRUE(why_unstorable(limits, std::string("x") + static_cast<char>(c), true, 1))
          << fs << " " << int(c);
    EXPECT_EQ(*why_unstorable(limits, "new\nline", true, 1), "control character \\x0A is not allowed");
    EXPECT_EQ(*why_unstorable(limits, "latin1-\xE9.txt", true, 1), "not valid UTF-8");
    EXPECT_EQ(*why_unstorable(limits, "ends in a dot.", false, 0), "ends in a dot");
    for (const char* fine : {"Grüße/naïve café.txt", "a+b,c;d=e[f]g", ".hidden", "a.b.c",
                             " leading space", "x~1", "DEL\x7F"})
      EXPECT_FALSE(why_unstorable(limits, fine, true, 1)) << fs << " " << fine;
  }
}

TEST(FsLimits, OnlyVfatRefusesATrailingSpace) {
  EXPECT_EQ(*why_unstorable(fs_limits("vfat"), "name ", true, 1), "ends in a space");
  // Linux's exfat driver keeps trailing spaces and finds the file again.
  EXPECT_FALSE(why_unstorable(fs_limits("exfat"), "name ", true, 1));
}

TEST(FsLimits, JudgesOnlyTheLastComponentAndNeverTheRoot) {
  const FsLimits vfat = fs_limits("vfat");
  EXPECT_FALSE(why_unstorable(vfat, "bad:dir/inside.txt", true, 1))
      << "the directory is listed by itself";
  EXPECT_TRUE(why_unstorable(vfat, "ok/bad:dir/", false, 0));
  EXPECT_FALSE(why_unstorable(vfat, "./", false, 0));
  EXPECT_FALSE(why_unstorable(vfat, ".", false, 0));
}

TEST(FsLimits, UnixFilesystemsAndNtfsHaveNone) {
  for (const char* fs : {"ext4", "xfs", "btrfs", "ntfs3"}) {
    const FsLimits limits = fs_limits(fs);
    EXPECT_FALSE(limits.any()) << fs;
    EXPECT_FALSE(why_unstorable(limits, "a:b?.", true, 100 * kGiB)) << fs;
  }
}

TEST(UnstorableEntries, ListsTheFirstTwentyAndCountsTheRest) {
  UnstorableEntries entries(fs_limits("exfat"));
  entries.check("fine.txt", true, 1);
  for (int i = 0; i < 25; ++i) entries.check("bad:" + std::to_string(i), true, 1);
  EXPECT_EQ(entries.count(), 25u);
  ASSERT_EQ(entries.listed().size(), UnstorableEntries::kListed);
  EXPECT_EQ(entries.listed().front(), "'bad:0' (':' is not allowed)");
  const UnstorableMessage m = describe_unstorable(entries);
  EXPECT_THAT(m.reason, HasSubstr("25 files or folders of the source cannot be stored on the disk's exfat filesystem: 'bad:0'"));
  EXPECT_THAT(m.reason, HasSubstr("'bad:19' (':' is not allowed) and 5 more; nothing was written to the disk"));
  EXPECT_THAT(m.advice, HasSubstr("'rsync-excludes-file'"));
  EXPECT_THAT(m.advice, HasSubstr("format the disk as ext4 and whitelist its new UUID"));
  entries.clear();
  EXPECT_EQ(entries.count(), 0u);
  EXPECT_TRUE(entries.listed().empty());
}

TEST(UnstorableEntries, AdvisesExfatOrExt4ForFilesTooLargeForVfat) {
  UnstorableEntries entries(fs_limits("vfat"));
  entries.check("jobs/server.vbk", true, 5 * kGiB);
  ASSERT_EQ(entries.count(), 1u);
  const UnstorableMessage m = describe_unstorable(entries);
  EXPECT_EQ(m.reason,
            "1 file or folder of the source cannot be stored on the disk's vfat filesystem: "
            "'jobs/server.vbk' (5.00 GiB; vfat holds files up to 4 GiB - 1 byte); nothing was "
            "written to the disk");
  EXPECT_THAT(m.advice, HasSubstr("or exFAT (both hold files of 4 GiB and more)"));
}

TEST(UnstorableEntries, ChecksNothingWithoutLimits) {
  UnstorableEntries entries;
  entries.check("a:b", true, 100 * kGiB);
  EXPECT_EQ(entries.count(), 0u);
}

TEST(PrintablePath, ShowsControlCharactersAndBadBytesVisibly) {
  EXPECT_EQ(printable_path("a\nb\x01"), "a\\x0Ab\\x01");
  EXPECT_EQ(printable_path("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(printable_path("x\xE9y"), "x\xEF\xBF\xBDy");
}

}  // namespace
}  // namespace ubc
