// SPDX-License-Identifier: MIT
// One contract for the LUKS adapter and its fake: how a key file is judged, what a device
// without a container and a wrong key give. Opening for real needs device-mapper, which
// this kernel lacks; the VM test opens, copies through and closes real containers.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <memory>

#include "fakes/fake_encrypted_volumes.h"
#include "support/loop_disk.h"
#include "sys/cryptsetup_volumes.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kKey = "0123456789abcdef0123456789abcdef";

// A world of devices and key files, either real (loop devices, files) or the fake's maps.
class World {
 public:
  virtual ~World() = default;
  virtual EncryptedVolumes& volumes() = 0;
  virtual std::string container(const std::string& key) = 0;  // a LUKS2 device opened by key
  virtual std::string plain_device() = 0;                     // an ext4 filesystem, no LUKS
  virtual std::string key_file(const std::string& content, unsigned mode, unsigned uid) = 0;
};

class RealWorld final : public World {
 public:
  RealWorld() : dir_(make_temp_dir("ubc-luks")) {}
  ~RealWorld() override {
    for (const auto& loop : loops_) (void)run({"losetup", "-d", loop});
    plain_.reset();
    remove_tree(dir_);
  }
  EncryptedVolumes& volumes() override { return volumes_; }
  std::string container(const std::string& key) override {
    const std::string image = dir_ + "/luks" + std::to_string(loops_.size()) + ".img";
    run_ok({"truncate", "-s", "32M", image});
    std::string out = run_ok({"losetup", "--find", "--show", image});
    out.erase(out.find_last_not_of("\n") + 1);
    loops_.push_back(out);
    format_luks2(out, key, "a recovery passphrase for the test", "CONTRACT");
    return out;
  }
  std::string plain_device() override {
    plain_ = std::make_unique<LoopDisk>("ext4", random_fs_uuid("ext4"), "PLAIN", 16);
    return plain_->devnode();
  }
  std::string key_file(const std::string& content, unsigned mode, unsigned uid) override {
    const std::string path = dir_ + "/k" + std::to_string(++keys_) + ".key";
    write_file(path, content);
    if (::chmod(path.c_str(), mode) != 0 || ::chown(path.c_str(), uid, 0) != 0)
      throw std::runtime_error("chmod/chown " + path);
    return path;
  }

 private:
  std::string dir_;
  CryptsetupVolumes volumes_;
  std::vector<std::string> loops_;
  std::unique_ptr<LoopDisk> plain_;
  int keys_ = 0;
};

class FakeWorld final : public World {
 public:
  EncryptedVolumes& volumes() override { return fake_; }
  std::string container(const std::string& key) override {
    const std::string dev = "/dev/fake" + std::to_string(fake_.containers_.size());
    fake_.containers_[dev] = {key, "ext4", "CONTRACT"};
    return dev;
  }
  std::string plain_device() override { return "/dev/plain"; }
  std::string key_file(const std::string& content, unsigned mode, unsigned uid) override {
    const std::string path = "/keys/k" + std::to_string(fake_.key_files_.size()) + ".key";
    fake_.key_files_[path] = {content, mode, uid};
    return path;
  }

 private:
  FakeEncryptedVolumes fake_;
};

using WorldFactory = std::function<std::unique_ptr<World>()>;

class EncryptedVolumesContract : public ::testing::TestWithParam<std::pair<const char*, WorldFactory>> {
 protected:
  void SetUp() override { world_ = GetParam().second(); }
  std::string open_error(const std::string& device, const std::string& key_file) {
    try {
      world_->volumes().open(device, "ubc-contract-test", key_file);
    } catch (const VolumeError& e) {
      return e.what();
    }
    return "opened";
  }
  std::unique_ptr<World> world_;
};

TEST_P(EncryptedVolumesContract, AMissingKeyFileIsNamed) {
  const std::string device = world_->container(kKey);
  EXPECT_THAT(open_error(device, "/nonexistent/disk.key"), HasSubstr("there is no key file '/nonexistent/disk.key'"));
}

TEST_P(EncryptedVolumesContract, AKeyFileOthersMayReadIsRefusedWithTheFix) {
  const std::string device = world_->container(kKey);
  const std::string key = world_->key_file(kKey, 0640, 0);
  const std::string error = open_error(device, key);
  EXPECT_THAT(error, HasSubstr("has mode 0640, so others may read it"));
  EXPECT_THAT(error, HasSubstr("chmod 600 " + key));
}

TEST_P(EncryptedVolumesContract, AKeyFileOwnedBySomeoneElseIsRefused) {
  const std::string device = world_->container(kKey);
  EXPECT_THAT(open_error(device, world_->key_file(kKey, 0600, 1000)), HasSubstr("owned by uid 1000, not root"));
}

TEST_P(EncryptedVolumesContract, APlainFilesystemHoldsNoContainer) {
  const std::string device = world_->plain_device();
  EXPECT_THAT(open_error(device, world_->key_file(kKey, 0600, 0)), HasSubstr("holds no readable LUKS header"));
}

TEST_P(EncryptedVolumesContract, AWrongKeyOpensNoKeyslot) {
  const std::string device = world_->container(kKey);
  EXPECT_THAT(open_error(device, world_->key_file("not the key at all", 0600, 0)), HasSubstr("opens no keyslot"));
}

TEST_P(EncryptedVolumesContract, AnUnknownMappingIsNotOpenAndClosesAsNotOpen) {
  EXPECT_FALSE(world_->volumes().is_open("ubc-contract-never-opened"));
  EXPECT_EQ(world_->volumes().close("ubc-contract-never-opened"), CloseResult::not_open);
}

INSTANTIATE_TEST_SUITE_P(
    RealAndFake, EncryptedVolumesContract,
    ::testing::Values(std::make_pair("Cryptsetup", WorldFactory([] { return std::unique_ptr<World>(new RealWorld); })),
                      std::make_pair("Fake", WorldFactory([] { return std::unique_ptr<World>(new FakeWorld); }))),
    [](const auto& param_info) { return std::string(param_info.param.first); });

// Only a real file can be a symlink: the key must be the file itself, never followed.
TEST(CryptsetupKeyFile, ASymlinkIsRefused) {
  const std::string dir = make_temp_dir("ubc-keylink");
  write_file(dir + "/real.key", kKey);
  ASSERT_EQ(::chmod((dir + "/real.key").c_str(), 0600), 0);
  ASSERT_EQ(::symlink((dir + "/real.key").c_str(), (dir + "/link.key").c_str()), 0);
  try {
    (void)read_key_file(dir + "/link.key");
    ADD_FAILURE() << "a symlinked key file was read";
  } catch (const VolumeError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("is a symbolic link"));
  }
  EXPECT_EQ(read_key_file(dir + "/real.key"), kKey);
  remove_tree(dir);
}

}  // namespace
}  // namespace ubc::test
