// SPDX-License-Identifier: MIT
// Disk enrollment for real: the built `usb-backup-copier enroll` and `copy` on loop-device
// disks, with the mails received by an SMTP server on 127.0.0.1. A stranger's disk made
// with the same UUID and label (`mkfs.ext4 -U <uuid> -L <label>`), and an enrolled disk
// whose secret was replaced, are refused: nothing is written to them, nothing is taken on
// the server (run lock, rsync), and the admins get a security mail.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "support/copy_fixture.h"
#include "support/udevd.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecretFile = ".usb-backup-copier/enrollment";

CopyFixtureOptions requiring(bool require) {
  CopyFixtureOptions o;
  o.backup_lines = {std::string("require-enrollment = ") + (require ? "yes" : "no")};
  return o;
}

void enroll(CopyFixture& f) {
  const CopierResult r = f.copier({"enroll", "--device", f.devnode()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_THAT(r.output, HasSubstr("Enrolled disk 'UBC-TEST' (" + f.uuid() + ")"));
  ASSERT_TRUE(f.disk_released()) << "enroll unmounts the disk";
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// The one security mail among those received: refused, naming the disk and why.
Json security_mail(CopyFixture& f, std::size_t expected_mails) {
  const auto mails = f.wait_for_mails(expected_mails);
  std::vector<Json> alerts;
  for (const auto& m : mails)
    if (field(m, "subject").find("SECURITY") != std::string::npos) alerts.push_back(m);
  EXPECT_EQ(alerts.size(), 1u);
  return alerts.empty() ? Json::object() : alerts.front();
}

// What every refusal leaves: exit 1, the reason, no run lock, the mount point free, a
// failed run in the history, a security mail and the end mail.
void expect_refused(CopyFixture& f, const CopierResult& r, const std::string& devnode, const std::string& why) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("A disk claiming to be 'UBC-TEST' (" + f.uuid() + ") was refused: " + why));
  EXPECT_THAT(r.output, HasSubstr("usb-backup-copier enroll --device " + devnode));
  EXPECT_THAT(r.output, Not(HasSubstr("Estimating")));
  EXPECT_FALSE(fs::exists(f.lock_file())) << "the run lock is never taken";
  EXPECT_FALSE(is_mounted_anywhere(devnode));
  EXPECT_FALSE(is_mount_point(f.mount_point()));
  const auto rows = f.history();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().outcome, "failed");
  EXPECT_THAT(rows.back().reason, HasSubstr(why));
  const Json alert = security_mail(f, 2);
  EXPECT_THAT(field(alert, "subject"), HasSubstr("disk 'UBC-TEST' (" + f.uuid() + ") refused"));
  EXPECT_THAT(field(alert, "body"), HasSubstr("A disk claiming to be 'UBC-TEST' (" + f.uuid() + ") was refused: " + why));
  EXPECT_THAT(field(alert, "body"), HasSubstr("usb-backup-copier enroll --device " + devnode));
}

TEST(EnrollmentTest, AnEnrolledDiskCarriesItsSecretAndIsCopiedTo) {
  CopyFixture f(requiring(true));
  make_file(f.source() + "/Jobs/Nightly.vbk", 2u << 20, 1);
  enroll(f);
  std::string secret;
  {
    DiskView view(f.disk());
    const std::string path = view.path() + "/" + kSecretFile;
    EXPECT_EQ(mode_of(path), 0600u);
    secret = read_file(path);
    ASSERT_EQ(secret.size(), 65u);
  }
  const std::string record = f.state_dir() + "/enrolled/" + f.uuid() + ".json";
  EXPECT_EQ(mode_of(record), 0600u);
  EXPECT_THAT(read_file(record), Not(HasSubstr(secret.substr(0, 64)))) << "the server keeps only the digest";
  const CopierResult list = f.copier({"enroll", "--list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_THAT(list.output, HasSubstr(f.uuid()));
  EXPECT_THAT(list.output, HasSubstr("UBC-TEST"));

  const CopierResult r = f.copy();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("The disk's enrollment secret matches"));
  {
    DiskView view(f.disk());
    EXPECT_TRUE(fs::exists(view.path() + "/Jobs/Nightly.vbk"));
    EXPECT_EQ(read_file(view.path() + "/" + kSecretFile), secret) << "the copy keeps the secret";
  }
  for (const auto& m : f.wait_for_mails(2)) EXPECT_THAT(field(m, "subject"), Not(HasSubstr("SECURITY")));

  // Enrolling again replaces the secret: the old one no longer passes.
  enroll(f);
  {
    DiskView view(f.disk());
    EXPECT_NE(read_file(view.path() + "/" + kSecretFile), secret);
  }
  // Forgotten, the disk is refused again.
  EXPECT_EQ(f.copier({"enroll", "--remove", f.uuid()}).exit_code, 0);
  EXPECT_EQ(f.copier({"enroll", "--remove", f.uuid()}).exit_code, 1);
  EXPECT_EQ(f.copy().exit_code, 1);
}

TEST(EnrollmentTest, RefusesAStrangersDiskWithTheSameUuidAndLabelAndWritesNothingToIt) {
  CopyFixture f(requiring(true));
  make_file(f.source() + "/Jobs/Nightly.vbk", 1u << 20, 1);
  enroll(f);
  // mkfs.ext4 -U <uuid> -L <label>: all it takes to look like our disk.
  LoopDisk stranger("ext4", f.uuid(), "UBC-TEST", 64);
  ScopedUdevd::refresh(stranger.devnode());
  const auto before = whole_disk(stranger);
  const CopierResult r =
      run_program({binary_path("usb-backup-copier"), "--config", f.config_path(), "copy", "--device", stranger.devnode()});
  expect_refused(f, r, stranger.devnode(), "its enrollment secret is missing");
  expect_disk_untouched(before, stranger);
  DiskView view(stranger);
  EXPECT_FALSE(fs::exists(view.path() + "/.usb-backup-copier")) << "not even our state";
}

TEST(EnrollmentTest, RefusesAWrongSecretEvenWithoutRequireEnrollment) {
  CopyFixture f(requiring(false));
  make_file(f.source() + "/Jobs/Nightly.vbk", 1u << 20, 1);
  enroll(f);
  {
    RwMount rw(f.devnode());
    write_file(rw.path() + "/" + kSecretFile, std::string(64, 'f') + "\n");
  }
  const auto before = whole_disk(f.disk());
  const CopierResult r = f.copy();
  expect_refused(f, r, f.devnode(), "its enrollment secret does not match");
  expect_disk_untouched(before, f.disk());
}

TEST(EnrollmentTest, RefusesADiskThatWasNeverEnrolledWhenRequired) {
  CopyFixture f(requiring(true));
  make_file(f.source() + "/Jobs/Nightly.vbk", 1u << 20, 1);
  const auto before = whole_disk(f.disk());
  const CopierResult r = f.copy();
  expect_refused(f, r, f.devnode(), "it was never enrolled on this server");
  expect_disk_untouched(before, f.disk());
}

TEST(EnrollmentTest, RefusesToEnrollADiskThatIsNotWhitelisted) {
  CopyFixtureOptions o;
  o.whitelist = false;
  CopyFixture f(o);
  const CopierResult r = f.copier({"enroll", "--device", f.devnode()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("is not whitelisted"));
  EXPECT_TRUE(f.disk_released());
  EXPECT_FALSE(fs::exists(f.state_dir() + "/enrolled/" + f.uuid() + ".json"));
}

}  // namespace
}  // namespace ubc::test
