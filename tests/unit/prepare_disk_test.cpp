// SPDX-License-Identifier: MIT
#include "core/prepare_disk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ubc::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

DiskFacts usb_disk() {
  DiskFacts d;
  d.given = "/dev/sdb";
  d.devnode = "/dev/sdb";
  d.name = "sdb";
  d.is_block_device = true;
  d.size_bytes = 500107862016ULL;
  d.model = "Seagate Expansion";
  d.removable = true;
  d.partitions = {"/dev/sdb1"};
  return d;
}

TEST(PrepareDiskRefusal, AnEmptyRemovableDiskMayBeErased) {
  EXPECT_EQ(prepare_refusal(usb_disk(), {}, "/srv/veeam"), std::nullopt);
}

TEST(PrepareDiskRefusal, NotABlockDeviceSaysHowToFindTheDisk) {
  DiskFacts d;
  d.given = "/tmp/x";
  const auto why = prepare_refusal(d, {}, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("'/tmp/x' is not a block device"));
  EXPECT_THAT(*why, HasSubstr("lsblk"));
}

TEST(PrepareDiskRefusal, APartitionNamesItsDisk) {
  DiskFacts d = usb_disk();
  d.given = "/dev/sdb1";
  d.is_partition = true;
  d.whole_disk = "/dev/sdb";
  const auto why = prepare_refusal(d, {}, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("is a partition"));
  EXPECT_THAT(*why, HasSubstr("'/dev/sdb'"));
}

TEST(PrepareDiskRefusal, TheSystemDiskComesBeforeBeingMounted) {
  const std::vector<DiskUse> uses{{DiskUse::Kind::mounted, "/dev/sdb1", "/"},
                                  {DiskUse::Kind::root, "/dev/sdb1", "/"}};
  const auto why = prepare_refusal(usb_disk(), uses, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("holds the root filesystem /"));
  EXPECT_THAT(*why, HasSubstr("system disk"));
}

TEST(PrepareDiskRefusal, TheRepositoryDiskIsNamedAsSuch) {
  const std::vector<DiskUse> uses{{DiskUse::Kind::mounted, "/dev/sdb1", "/srv"},
                                  {DiskUse::Kind::source, "/dev/sdb1", "/srv/veeam"}};
  const auto why = prepare_refusal(usb_disk(), uses, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("holds the repository backup-source '/srv/veeam'"));
}

TEST(PrepareDiskRefusal, SwapSaysSwapoff) {
  const auto why = prepare_refusal(usb_disk(), {{DiskUse::Kind::swap, "/dev/sdb1", "/dev/sdb1"}},
                                   "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("swapoff /dev/sdb1"));
}

TEST(PrepareDiskRefusal, AMountedPartitionSaysWhereAndHowToUnmount) {
  const auto why = prepare_refusal(
      usb_disk(), {{DiskUse::Kind::mounted, "/dev/sdb1", "/media/alice/DISK"}}, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("'/dev/sdb1' is mounted at '/media/alice/DISK'"));
  EXPECT_THAT(*why, HasSubstr("umount /media/alice/DISK"));
}

TEST(PrepareDiskRefusal, StackedDevicesAreInUse) {
  DiskFacts d = usb_disk();
  d.holders = {"dm-0"};
  const auto why = prepare_refusal(d, {}, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("in use by dm-0"));
}

TEST(PrepareDiskRefusal, AFixedDiskNeedsItsByIdName) {
  DiskFacts d = usb_disk();
  d.removable = false;
  const auto why = prepare_refusal(d, {}, "/srv/veeam");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("not a removable or USB disk"));
  EXPECT_THAT(*why, HasSubstr("/dev/disk/by-id/"));
  d.given = "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K0123456";
  EXPECT_EQ(prepare_refusal(d, {}, "/srv/veeam"), std::nullopt);
}

TEST(PrepareDiskRefusal, ByIdDoesNotExcuseAMountedDisk) {
  DiskFacts d = usb_disk();
  d.removable = false;
  d.given = "/dev/disk/by-id/usb-Seagate_Expansion_NAAB1234-0:0";
  EXPECT_TRUE(prepare_refusal(d, {{DiskUse::Kind::mounted, "/dev/sdb1", "/mnt"}}, "/srv"));
}

TEST(PrepareDiskConfirmation, ModelAndSizeTypedBackInAnyCase) {
  const DiskFacts d = usb_disk();
  EXPECT_EQ(confirmation_phrase(d), "Seagate Expansion 466 GiB");
  EXPECT_TRUE(confirmation_matches("  seagate   expansion 466 GiB ", d));
  EXPECT_FALSE(confirmation_matches("Seagate Expansion", d));
  EXPECT_FALSE(confirmation_matches("yes", d));
  EXPECT_FALSE(confirmation_matches("", d));
}

TEST(PrepareDiskConfirmation, WithoutAModelTheKernelNameStandsIn) {
  DiskFacts d = usb_disk();
  d.model = "  ";
  d.name = "loop7";
  d.size_bytes = 64ULL << 20;
  EXPECT_EQ(confirmation_phrase(d), "loop7 64.0 MiB");
}

TEST(PrepareDiskLabel, LengthsFollowTheFilesystem) {
  EXPECT_EQ(label_problem("ext4", "offsite-monday12"), std::nullopt);  // 16
  EXPECT_THAT(label_problem("xfs", "offsite-monday12").value_or(""), HasSubstr("at most 12"));
  EXPECT_EQ(label_problem("xfs", kDefaultDiskLabel), std::nullopt);
  EXPECT_THAT(label_problem("ext4", "").value_or(""), HasSubstr("empty"));
  EXPECT_THAT(label_problem("ext4", "a b").value_or(""), HasSubstr("letters, digits"));
  EXPECT_THAT(label_problem("ext4", "x\x1b[31m").value_or(""), HasSubstr("letters, digits"));
}

TEST(PrepareDiskWhitelist, TheUuidGoesOnALineOfItsOwnAfterTheList) {
  const std::string text =
      "[Backup]\n"
      "filesystem-ids-and-notification-mail-addresses = 1111-2222, a@example.com,\n"
      "    3333-4444 ; the spare\n"
      "backup-source = /srv\n";
  const auto out = add_disk_to_config_text(text, DiskListEntry{2, "1111-2222, a@example.com,\n3333-4444"},
                                           "0a1b2c3d-4e5f-6789-abcd-ef0123456789");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            "[Backup]\n"
            "filesystem-ids-and-notification-mail-addresses = 1111-2222, a@example.com,\n"
            "    3333-4444 ; the spare\n"
            "    0a1b2c3d-4e5f-6789-abcd-ef0123456789\n"
            "backup-source = /srv\n");
}

TEST(PrepareDiskWhitelist, AListOnTheLastLineWithoutNewline) {
  const auto out = add_disk_to_config_text("[Backup]\nfilesystem-ids-and-notification-mail-addresses = 1111-2222",
                                           DiskListEntry{2, "1111-2222"}, "5555-6666");
  ASSERT_TRUE(out);
  EXPECT_THAT(*out, testing::EndsWith("= 1111-2222\n    5555-6666\n"));
}

TEST(PrepareDiskWhitelist, AnEntryBeyondTheTextIsRefused) {
  EXPECT_EQ(add_disk_to_config_text("[Backup]\n", DiskListEntry{5, "x"}, "5555-6666"), std::nullopt);
  EXPECT_EQ(add_disk_to_config_text("[Backup]\n", DiskListEntry{0, "x"}, "5555-6666"), std::nullopt);
}

TEST(PrepareDiskPassphrase, EightGroupsOfFiveFromTwoHundredBits) {
  const std::string zeros(25, '\0');
  EXPECT_EQ(recovery_passphrase(zeros), "00000-00000-00000-00000-00000-00000-00000-00000");
  const std::string ones(25, '\xff');
  EXPECT_EQ(recovery_passphrase(ones), "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ");
  // 00001 00010 00011 ... 11111 00000: the alphabet in order, 32 characters from 20 bytes.
  const std::string counting("\x08\x86\x42\x98\xe8\x4a\x96\xc6\xb9\xf0\x8c\xa7\x4a\xda\xf8\xce\xb7\xce\xfb\xe0", 20);
  EXPECT_EQ(recovery_passphrase(counting), "12345-6789A-BCDEF-GHJKM-NPQRS-TVWXY-Z0");
  for (const char c : recovery_passphrase(std::string(25, '\x5a')))
    EXPECT_TRUE(std::string("0123456789ABCDEFGHJKMNPQRSTVWXYZ-").find(c) != std::string::npos) << c;
}

TEST(PrepareDiskPassphrase, ATypedOneNeedsSixteenCharacters) {
  EXPECT_THAT(passphrase_problem("short one").value_or(""), HasSubstr("at least 16"));
  EXPECT_EQ(passphrase_problem("e2e recovery passphrase, long enough"), std::nullopt);
  EXPECT_TRUE(passphrase_problem(std::string(513, 'x')));
}

}  // namespace
}  // namespace ubc::test
