// SPDX-License-Identifier: MIT
// One behaviour suite for the EnrollmentStore port, run against DirectoryEnrollmentStore on
// a temporary state directory and against the unit tests' FakeEnrollmentStore, so that the
// fake the job's tests stand on cannot drift from the real store. What only the real store
// can show (files, modes, SHA-256 itself) follows the suite.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>

#include "fakes/fake_enrollment_store.h"
#include "support/loop_disk.h"
#include "sys/directory_enrollment_store.h"

namespace ubc::test {
namespace {

constexpr const char* kUuid = "0a1b2c3d-1111-4222-8333-444455556666";

bool lower_hex64(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Enrollment record(const std::string& uuid, const std::string& label, std::int64_t at, char digit) {
  return Enrollment{uuid, label, at, std::string(64, digit)};
}

class StoreWorld {
 public:
  virtual ~StoreWorld() = default;
  virtual EnrollmentStore& store() = 0;
};

class RealStoreWorld final : public StoreWorld {
 public:
  RealStoreWorld() : dir_(make_temp_dir("ubc-enrolled")), store_(dir_) {}
  ~RealStoreWorld() override { remove_tree(dir_); }
  EnrollmentStore& store() override { return store_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  DirectoryEnrollmentStore store_;
};

class FakeStoreWorld final : public StoreWorld {
 public:
  EnrollmentStore& store() override { return store_; }

 private:
  FakeEnrollmentStore store_;
};

template <class World>
class EnrollmentStoreContract : public ::testing::Test {
 protected:
  World world_;
  EnrollmentStore& store() { return world_.store(); }
};

using Worlds = ::testing::Types<RealStoreWorld, FakeStoreWorld>;
TYPED_TEST_SUITE(EnrollmentStoreContract, Worlds);

TYPED_TEST(EnrollmentStoreContract, KnowsNoDiskAtFirst) {
  EXPECT_FALSE(this->store().find(kUuid));
  EXPECT_TRUE(this->store().list().empty());
  EXPECT_FALSE(this->store().remove(kUuid));
}

TYPED_TEST(EnrollmentStoreContract, FindsASavedRecordInAnyCaseOfItsUuid) {
  this->store().save(record("0A1B2C3D-1111-4222-8333-444455556666", "Offsite-3", 1764000000, 'a'));
  for (const std::string uuid : {kUuid, "0A1B2C3D-1111-4222-8333-444455556666"}) {
    const auto found = this->store().find(uuid);
    ASSERT_TRUE(found) << uuid;
    EXPECT_EQ(found->uuid, kUuid) << "kept lower-case";
    EXPECT_EQ(found->label, "Offsite-3");
    EXPECT_EQ(found->enrolled_at, 1764000000);
    EXPECT_EQ(found->secret_sha256, std::string(64, 'a'));
  }
}

TYPED_TEST(EnrollmentStoreContract, ASecondSaveReplacesTheRecord) {
  this->store().save(record(kUuid, "Offsite-3", 1764000000, 'a'));
  this->store().save(record(kUuid, "Offsite-3b", 1764000100, 'b'));
  ASSERT_EQ(this->store().list().size(), 1u);
  EXPECT_EQ(this->store().find(kUuid)->secret_sha256, std::string(64, 'b'));
  EXPECT_EQ(this->store().find(kUuid)->label, "Offsite-3b");
}

TYPED_TEST(EnrollmentStoreContract, ListsByUuidAndForgetsWhatIsRemoved) {
  this->store().save(record("ffff-0001", "B", 2, 'b'));
  this->store().save(record("1A2B-3C4D", "A", 1, 'a'));
  const auto all = this->store().list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].uuid, "1a2b-3c4d");
  EXPECT_EQ(all[1].uuid, "ffff-0001");
  EXPECT_TRUE(this->store().remove("1a2b-3C4D"));
  EXPECT_FALSE(this->store().remove("1a2b-3c4d"));
  EXPECT_FALSE(this->store().find("1a2b-3c4d"));
  EXPECT_EQ(this->store().list().size(), 1u);
}

TYPED_TEST(EnrollmentStoreContract, KeepsAnyLabelAsData) {
  const std::string label = "a\x1b[31mb\r\n<i>\"x\"";
  this->store().save(record(kUuid, label, 1, 'c'));
  EXPECT_EQ(this->store().find(kUuid)->label, label);
}

TYPED_TEST(EnrollmentStoreContract, RefusesAUuidThatCannotNameARecord) {
  EXPECT_THROW(this->store().save(record("../../etc/passwd", "x", 1, 'a')), std::invalid_argument);
  EXPECT_THROW(this->store().save(record("", "x", 1, 'a')), std::invalid_argument);
  EXPECT_FALSE(this->store().find("../x"));
}

TYPED_TEST(EnrollmentStoreContract, MakesFreshSecretsOf64HexDigits) {
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    const std::string s = this->store().new_secret();
    EXPECT_TRUE(lower_hex64(s)) << s;
    EXPECT_TRUE(seen.insert(s).second) << "a secret came twice: " << s;
  }
}

TYPED_TEST(EnrollmentStoreContract, DigestsAreStableHexAndTellTextsApart) {
  const std::string a = this->store().digest("secret-a");
  EXPECT_TRUE(lower_hex64(a)) << a;
  EXPECT_EQ(this->store().digest("secret-a"), a);
  EXPECT_NE(this->store().digest("secret-b"), a);
  EXPECT_NE(this->store().digest(""), a);
  EXPECT_NE(a, "secret-a");
}

// The real store only.

TEST(DirectoryEnrollmentStoreTest, DigestIsSha256) {
  RealStoreWorld w;
  EXPECT_EQ(w.store().digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DirectoryEnrollmentStoreTest, KeepsRecordsPrivateAndDurableAcrossInstances) {
  RealStoreWorld w;
  w.store().save(record(kUuid, "Offsite-3", 1764000000, 'd'));
  struct stat dir_st {}, file_st {};
  ASSERT_EQ(::stat((w.dir() + "/enrolled").c_str(), &dir_st), 0);
  ASSERT_EQ(::stat((w.dir() + "/enrolled/" + kUuid + ".json").c_str(), &file_st), 0);
  EXPECT_EQ(dir_st.st_mode & 07777, 0700u);
  EXPECT_EQ(file_st.st_mode & 07777, 0600u);
  DirectoryEnrollmentStore again(w.dir());
  ASSERT_TRUE(again.find(kUuid));
  EXPECT_EQ(again.find(kUuid)->secret_sha256, std::string(64, 'd'));
}

TEST(DirectoryEnrollmentStoreTest, ADamagedRecordIsAnErrorNotAnUnenrolledDisk) {
  RealStoreWorld w;
  w.store().save(record(kUuid, "Offsite-3", 1, 'e'));
  write_file(w.dir() + "/enrolled/" + kUuid + ".json", "{\"uuid\": \"" + std::string(kUuid) + "\"}");
  EXPECT_THROW(w.store().find(kUuid), std::runtime_error);
  write_file(w.dir() + "/enrolled/" + kUuid + ".json", "not json");
  EXPECT_THROW(w.store().find(kUuid), std::runtime_error);
}

TEST(DirectoryEnrollmentStoreTest, DoesNotFollowALinkInPlaceOfARecord) {
  RealStoreWorld w;
  w.store().save(record("ffff-0001", "B", 2, 'b'));
  const std::string target = w.dir() + "/elsewhere.json";
  write_file(target, "{}");
  ASSERT_EQ(::symlink(target.c_str(), (w.dir() + "/enrolled/" + kUuid + ".json").c_str()), 0);
  EXPECT_THROW(w.store().find(kUuid), std::system_error);
}

}  // namespace
}  // namespace ubc::test
