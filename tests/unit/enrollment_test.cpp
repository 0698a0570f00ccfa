// SPDX-License-Identifier: MIT
// Disk enrollment: the comparison, the decision, the alert, and `enroll` on fakes.
#include "core/enrollment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/disk_state.h"
#include "core/enroll_disk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_device_finder.h"
#include "fakes/fake_encrypted_volumes.h"
#include "fakes/fake_enrollment_store.h"
#include "fakes/fake_file_system.h"
#include "fakes/fake_mounter.h"

namespace ubc::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kUuid = "0a1b2c3d-1111-4222-8333-444455556666";
constexpr const char* kDev = "/dev/sdc1";
constexpr const char* kMount = "/media/usb-backup-copier";

BlockDevice disk(const std::string& label = "Offsite-3") { return {kDev, kUuid, label, "ext4"}; }

TEST(EqualInConstantTimeTest, ComparesEveryByteAndTheLength) {
  EXPECT_TRUE(equal_in_constant_time("", ""));
  EXPECT_TRUE(equal_in_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_in_constant_time("xbc", "abc"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abcd"));
  EXPECT_FALSE(equal_in_constant_time(std::string("a\0b", 3), std::string("a\0c", 3)));
}

class CheckEnrollmentTest : public ::testing::Test {
 protected:
  CheckEnrollmentTest() {
    store_.records_[kUuid] = Enrollment{kUuid, "Offsite-3", 1764000000, store_.digest("s3cr3t")};
  }
  EnrollmentCheck check(const std::string& uuid = kUuid) { return check_enrollment(fs_, store_, uuid, kMount); }
  void put_secret(const std::string& text) { fs_.files_[std::string(kMount) + "/" + kEnrollmentFile] = text; }

  FakeFileSystem fs_;
  FakeEnrollmentStore store_;
};

TEST_F(CheckEnrollmentTest, PassesTheSecretTheDiskWasEnrolledWithInAnyCaseOfItsUuid) {
  put_secret("s3cr3t\n");
  EXPECT_EQ(check().kind, EnrollmentCheck::Kind::passed);
  EXPECT_EQ(check("0A1B2C3D-1111-4222-8333-444455556666").kind, EnrollmentCheck::Kind::passed);
}

TEST_F(CheckEnrollmentTest, SaysWhichWayTheDiskFails) {
  EXPECT_EQ(check().kind, EnrollmentCheck::Kind::secret_missing);
  put_secret("s3cr3u\n");
  const auto wrong = check();
  EXPECT_EQ(wrong.kind, EnrollmentCheck::Kind::secret_wrong);
  EXPECT_THAT(wrong.detail, HasSubstr("does not match"));
  put_secret("");
  EXPECT_EQ(check().kind, EnrollmentCheck::Kind::secret_wrong);
  store_.records_.clear();
  EXPECT_EQ(check().kind, EnrollmentCheck::Kind::not_enrolled);
}

TEST_F(CheckEnrollmentTest, TreatsASecretThatCannotBeReadAsWrong) {
  put_secret("s3cr3t\n");
  fs_.not_regular_.insert(std::string(kMount) + "/" + kEnrollmentFile);
  const auto c = check();
  EXPECT_EQ(c.kind, EnrollmentCheck::Kind::secret_wrong);
  EXPECT_THAT(c.detail, HasSubstr("could not be read"));
}

TEST(DecideEnrollmentTest, RefusesOrLetsPassAsRequireEnrollmentSays) {
  using Kind = EnrollmentCheck::Kind;
  EnrollmentCheck c;
  c.record = Enrollment{kUuid, "Offsite-3", 1764000000, std::string(64, '0')};
  struct Case {
    Kind kind;
    bool require, refuse, alert, warn;
  };
  const Case cases[] = {
      {Kind::passed, true, false, false, false},       {Kind::passed, false, false, false, false},
      {Kind::not_enrolled, true, true, true, false},   {Kind::not_enrolled, false, false, false, false},
      {Kind::secret_missing, true, true, true, false}, {Kind::secret_missing, false, false, true, true},
      {Kind::secret_wrong, true, true, true, false},   {Kind::secret_wrong, false, true, true, false},
  };
  for (const Case& k : cases) {
    c.kind = k.kind;
    const EnrollmentDecision d = decide_enrollment(c, k.require, disk());
    SCOPED_TRACE(d.message);
    EXPECT_EQ(d.refuse, k.refuse);
    EXPECT_EQ(d.alert, k.alert);
    EXPECT_EQ(d.warn, k.warn);
    if (d.refuse) {
      EXPECT_THAT(d.message, HasSubstr("A disk claiming to be 'Offsite-3' (" + std::string(kUuid) + ") was refused"));
    }
  }
}

TEST(EnrollmentAlertTest, NamesTheDiskWithoutLettingItsLabelBreakTheMail) {
  EnrollmentCheck c;
  c.kind = EnrollmentCheck::Kind::secret_missing;
  c.record = Enrollment{kUuid, "x", 1764000000, std::string(64, '0')};
  Config config;
  config.sysop_mails = {"it@example.com"};
  config.cc_mails = {"boss@example.com"};
  config.from_mail = "copier@example.com";
  const BlockDevice hostile = disk("a\x1b[31mb\r\nBcc: x@evil");
  const EnrollmentDecision d = decide_enrollment(c, true, hostile);
  const Email mail = compose_enrollment_alert(config, "repo1", hostile, d);
  EXPECT_EQ(mail.to, std::vector<std::string>{"it@example.com"});
  EXPECT_EQ(mail.cc, std::vector<std::string>{"boss@example.com"});
  EXPECT_THAT(mail.subject, HasSubstr("repo1: SECURITY: disk"));
  EXPECT_THAT(mail.subject, HasSubstr("refused"));
  for (const std::string* text : {&mail.subject, &mail.body}) {
    EXPECT_EQ(text->find('\x1b'), std::string::npos) << *text;
    EXPECT_EQ(text->find('\r'), std::string::npos) << *text;
  }
  EXPECT_EQ(mail.subject.find('\n'), std::string::npos);
  EXPECT_THAT(mail.body, Not(HasSubstr("\nBcc:")));
  EXPECT_THAT(mail.body, HasSubstr("its enrollment secret is missing"));
  EXPECT_THAT(mail.body, HasSubstr("usb-backup-copier enroll --device /dev/sdc1"));
}

class EnrollDiskTest : public ::testing::Test {
 protected:
  EnrollDiskTest() {
    config_.path = "/etc/usb-backup-copier/config.ini";
    config_.backup_destination = kMount;
    config_.disks = {DiskEntry{kUuid, {}, 1}};
    devices_.devices_.push_back({kDev, "0A1B2C3D-1111-4222-8333-444455556666", "Offsite-3", "ext4"});
    fs_.dirs_.insert(kMount);
    clock_.start_unix_ = 1764000000;
  }
  EnrollResult enroll() { return enroll_disk(config_, ports_, kDev); }
  std::string secret_on_disk() { return mounter_.disks_[kDev][kEnrollmentFile]; }

  Config config_;
  FakeDeviceFinder devices_;
  FakeFileSystem fs_;
  FakeMounter mounter_{fs_};
  FakeEnrollmentStore store_;
  FakeClock clock_;
  FakeEncryptedVolumes volumes_;
  EnrollPorts ports_{devices_, mounter_, fs_, store_, clock_, volumes_};
};

TEST_F(EnrollDiskTest, WritesASecretOntoTheDiskAndKeepsOnlyItsDigest) {
  const EnrollResult r = enroll();
  ASSERT_TRUE(r.ok) << r.message << r.advice;
  EXPECT_TRUE(r.unmounted);
  EXPECT_THAT(r.message, HasSubstr("Enrolled disk 'Offsite-3'"));
  EXPECT_FALSE(mounter_.is_mounted(kMount));
  EXPECT_THAT(mounter_.calls_.front(), HasSubstr("mount /dev/sdc1 /media/usb-backup-copier ext4 nosuid,nodev,noexec,nosymfollow"));
  const std::string secret = secret_on_disk();
  ASSERT_EQ(secret.size(), 65u);
  EXPECT_EQ(secret.back(), '\n');
  ASSERT_EQ(store_.records_.size(), 1u);
  const Enrollment& e = store_.records_.begin()->second;
  EXPECT_EQ(e.uuid, kUuid);
  EXPECT_EQ(e.label, "Offsite-3");
  EXPECT_EQ(e.enrolled_at, 1764000000);
  EXPECT_EQ(e.secret_sha256, store_.digest(secret.substr(0, 64)));
  EXPECT_NE(e.secret_sha256, secret.substr(0, 64)) << "the server keeps the digest, not the secret";
  // What the copy job checks passes.
  mounter_.mount(kDev, kMount, "ext4", "");
  EXPECT_EQ(check_enrollment(fs_, store_, kUuid, kMount).kind, EnrollmentCheck::Kind::passed);
}

TEST_F(EnrollDiskTest, EnrollingAgainReplacesTheSecret) {
  ASSERT_TRUE(enroll().ok);
  const std::string first = secret_on_disk();
  const std::string first_digest = store_.records_.begin()->second.secret_sha256;
  ASSERT_TRUE(enroll().ok);
  EXPECT_NE(secret_on_disk(), first);
  EXPECT_EQ(store_.records_.size(), 1u);
  EXPECT_NE(store_.records_.begin()->second.secret_sha256, first_digest);
}

TEST_F(EnrollDiskTest, RefusesADiskThatIsNotWhitelistedWithoutMountingIt) {
  config_.disks.clear();
  const EnrollResult r = enroll();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.message, HasSubstr("is not whitelisted"));
  EXPECT_THAT(r.advice, HasSubstr("filesystem-ids-and-notification-mail-addresses"));
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(store_.records_.empty());
}

TEST_F(EnrollDiskTest, RefusesAMissingDeviceAMountedDiskAndABusyMountPoint) {
  EXPECT_THAT(enroll_disk(config_, ports_, "/dev/sdz9").message, HasSubstr("does not exist"));
  mounter_.elsewhere_[kDev] = {"/media/alice/Offsite-3"};
  EXPECT_THAT(enroll().message, HasSubstr("is mounted at '/media/alice/Offsite-3'"));
  mounter_.elsewhere_.clear();
  fs_.mountpoints_.insert(kMount);
  EXPECT_THAT(enroll().message, HasSubstr("not an empty directory, or something is mounted there"));
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(store_.records_.empty());
}

TEST_F(EnrollDiskTest, UnmountsWhenWritingTheSecretFails) {
  fs_.broken_prefixes_.push_back(std::string(kMount) + "/" + kDiskStateDir);
  EXPECT_THROW(enroll(), std::system_error);
  EXPECT_FALSE(mounter_.is_mounted(kMount));
  EXPECT_TRUE(store_.records_.empty());
}


class EnrollEncryptedDiskTest : public EnrollDiskTest {
 protected:
  EnrollEncryptedDiskTest() {
    devices_.devices_.at(0).fstype = "crypto_LUKS";
    devices_.devices_.at(0).label = "";
    volumes_.add_luks_disk(kDev, "xfs", "OFFSITE-LUKS");
  }
};

TEST_F(EnrollEncryptedDiskTest, WritesTheSecretInsideTheContainerAndClosesIt) {
  const EnrollResult r = enroll();
  ASSERT_TRUE(r.ok) << r.message << r.advice;
  EXPECT_THAT(r.message, HasSubstr("Enrolled disk 'OFFSITE-LUKS' ("));
  EXPECT_THAT(mounter_.calls_.front(), HasSubstr(std::string("mount ") + kLuksMapped + " " + kMount + " xfs"));
  EXPECT_THAT(volumes_.calls_, ElementsAre(std::string("open ") + kDev + " " + kLuksMapping + " " + kLuksKeyFile,
                                           std::string("close ") + kLuksMapping));
  EXPECT_TRUE(volumes_.open_.empty());
  EXPECT_FALSE(mounter_.is_mounted(kMount));
  const std::string secret = mounter_.disks_[kLuksMapped][kEnrollmentFile];
  ASSERT_EQ(secret.size(), 65u);
  ASSERT_EQ(store_.records_.size(), 1u);
  const Enrollment& e = store_.records_.begin()->second;
  EXPECT_EQ(e.uuid, kUuid) << "the whitelisted UUID is the container's";
  EXPECT_EQ(e.label, "OFFSITE-LUKS");
  EXPECT_EQ(e.secret_sha256, store_.digest(secret.substr(0, 64)));
}

TEST_F(EnrollEncryptedDiskTest, RefusesWhenTheKeyFileIsMissingOrOpensNoKeyslot) {
  volumes_.key_files_[kLuksKeyFile].content = "another key";
  EnrollResult r = enroll();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.message, HasSubstr("Could not open the encrypted disk /dev/sdc1"));
  EXPECT_THAT(r.message, HasSubstr("opens no keyslot"));
  EXPECT_THAT(r.advice, HasSubstr(kLuksKeyFile));
  volumes_.key_files_.clear();
  r = enroll();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.message, HasSubstr("there is no key file"));
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(volumes_.open_.empty());
  EXPECT_TRUE(store_.records_.empty());
}

TEST_F(EnrollEncryptedDiskTest, RefusesAnOpenContainerWithoutTouchingIt) {
  volumes_.open_.insert(kLuksMapping);
  const EnrollResult r = enroll();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.message, HasSubstr(std::string("is open as ") + kLuksMapped));
  EXPECT_THAT(r.advice, HasSubstr(std::string("cryptsetup close ") + kLuksMapping));
  EXPECT_TRUE(volumes_.calls_.empty());
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(store_.records_.empty());
}

TEST_F(EnrollEncryptedDiskTest, ClosesTheContainerWhenWritingTheSecretFails) {
  fs_.broken_prefixes_.push_back(std::string(kMount) + "/" + kDiskStateDir);
  EXPECT_THROW(enroll(), std::system_error);
  EXPECT_FALSE(mounter_.is_mounted(kMount));
  EXPECT_TRUE(volumes_.open_.empty());
  EXPECT_TRUE(store_.records_.empty());
}

}  // namespace
}  // namespace ubc::test
