// SPDX-License-Identifier: MIT
// One behaviour suite for the FileHasher port, run against the real OpenSSL adapter on real
// files and against the unit tests' fake, so that the fake cannot drift from the real thing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "fakes/fake_file_hasher.h"
#include "support/loop_disk.h"
#include "sys/openssl_file_hasher.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;

// Where the suite makes its files, and the hasher that reads them.
class HasherWorld {
 public:
  virtual ~HasherWorld() = default;
  virtual std::string file(const std::string& name, const std::string& content) = 0;  // its path
  virtual std::string symlink(const std::string& name) = 0;
  virtual std::string fifo(const std::string& name) = 0;
  virtual std::string missing(const std::string& name) = 0;
  virtual FileHasher& hasher() = 0;
};

// Files on the host's filesystem, which reads with O_DIRECT; on ramfs, which cannot, the
// adapter reads through the page cache instead.
class RealWorld final : public HasherWorld {
 public:
  explicit RealWorld(bool on_ramfs = false) : dir_(make_temp_dir("ubc-hasher")), ramfs_(on_ramfs) {
    if (ramfs_) run_ok({"mount", "-t", "ramfs", "ramfs", dir_});
  }
  ~RealWorld() override {
    if (ramfs_) run_ok({"umount", dir_});
    remove_tree(dir_);
  }
  std::string file(const std::string& name, const std::string& content) override {
    write_file(dir_ + "/" + name, content);
    return dir_ + "/" + name;
  }
  std::string symlink(const std::string& name) override {
    fs::create_symlink(file(name + ".target", "x"), dir_ + "/" + name);
    return dir_ + "/" + name;
  }
  std::string fifo(const std::string& name) override {
    EXPECT_EQ(::mkfifo((dir_ + "/" + name).c_str(), 0600), 0);
    return dir_ + "/" + name;
  }
  std::string missing(const std::string& name) override { return dir_ + "/" + name; }
  FileHasher& hasher() override { return hasher_; }

 private:
  std::string dir_;
  bool ramfs_;
  OpensslFileHasher hasher_;
};

class FakeWorld final : public HasherWorld {
 public:
  std::string file(const std::string& name, const std::string& content) override {
    fs_.files_["/w/" + name] = content;
    return "/w/" + name;
  }
  std::string symlink(const std::string& name) override { return special(name); }
  std::string fifo(const std::string& name) override { return special(name); }
  std::string missing(const std::string& name) override { return "/w/" + name; }
  FileHasher& hasher() override { return hasher_; }

 private:
  std::string special(const std::string& name) {
    fs_.files_["/w/" + name] = "";
    fs_.not_regular_.insert("/w/" + name);
    return "/w/" + name;
  }
  FakeFileSystem fs_;
  FakeFileHasher hasher_{fs_};
};

using WorldFactory = std::function<std::unique_ptr<HasherWorld>()>;

class FileHasherContract : public ::testing::TestWithParam<std::pair<const char*, WorldFactory>> {
 protected:
  void SetUp() override { world_ = GetParam().second(); }
  FileHasher& hasher() { return world_->hasher(); }
  static bool always(std::uint64_t) { return true; }
  std::unique_ptr<HasherWorld> world_;
};

TEST_P(FileHasherContract, EqualContentGivesEqualSumsAndOtherContentOtherSums) {
  const std::string content(3 << 20, 'v');  // more than one read block
  const auto a = world_->file("a", content);
  const auto c = world_->file("c", content.substr(1) + "w");
  const HashOutcome sa = hasher().hash_copy(a, always);
  ASSERT_EQ(sa.kind, HashOutcome::Kind::ok) << sa.error;
  EXPECT_EQ(sa.sha256.size(), 64u);
  EXPECT_EQ(sa.bytes, content.size());
  const HashOutcome other = hasher().hash_copy(c, always);
  ASSERT_EQ(other.kind, HashOutcome::Kind::ok);
  EXPECT_NE(other.sha256, sa.sha256);
}

// Sizes on both sides of the read block (256 KiB) and of the size from which the real adapter
// reads the copy on a second thread (4 MiB).
TEST_P(FileHasherContract, ACopyEqualToItsSourceIsEqualAndHashed) {
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{256} << 10, std::size_t{1} << 20,
                                 (std::size_t{3} << 20) + 7, std::size_t{4} << 20, (std::size_t{9} << 20) + 5}) {
    std::string content(size, 'e');
    for (std::size_t i = 0; i < size; i += 4093) content[i] = static_cast<char>(i / 4093);
    const auto source = world_->file("s" + std::to_string(size), content);
    const auto copy = world_->file("c" + std::to_string(size), content);
    const CompareOutcome r = hasher().compare_and_hash(source, copy, always);
    EXPECT_TRUE(r.equal) << size;
    ASSERT_EQ(r.source.kind, HashOutcome::Kind::ok) << r.source.error;
    ASSERT_EQ(r.copy.kind, HashOutcome::Kind::ok) << r.copy.error;
    EXPECT_EQ(r.copy.bytes, size);
    EXPECT_EQ(r.copy.sha256, hasher().hash_copy(copy, always).sha256) << "the copy's own sum, for the manifest";
  }
}

TEST_P(FileHasherContract, ACopyThatDiffersAnywhereIsNotEqual) {
  for (const std::size_t size : {std::size_t{1}, (std::size_t{3} << 20) + 7, (std::size_t{9} << 20) + 5}) {
    const std::string content(size, 'd');
    const auto source = world_->file("s" + std::to_string(size), content);
    for (const std::size_t at : {std::size_t{0}, size / 2, size - 1}) {
      std::string changed = content;
      changed[at] = 'x';
      const auto copy = world_->file("c" + std::to_string(size) + "-" + std::to_string(at), changed);
      const CompareOutcome r = hasher().compare_and_hash(source, copy, always);
      EXPECT_FALSE(r.equal) << size << " at " << at;
      EXPECT_EQ(r.source.kind, HashOutcome::Kind::ok);
      EXPECT_EQ(r.copy.kind, HashOutcome::Kind::ok) << "read, but not equal";
    }
    const auto longer = world_->file("l" + std::to_string(size), content + "+");
    EXPECT_FALSE(hasher().compare_and_hash(source, longer, always).equal) << "a copy longer than its source";
    EXPECT_FALSE(hasher().compare_and_hash(longer, source, always).equal) << "a copy shorter than its source";
  }
}

TEST_P(FileHasherContract, AMissingFileIsMissing) {
  EXPECT_EQ(hasher().hash_copy(world_->missing("nothing"), always).kind, HashOutcome::Kind::missing);
  const auto present = world_->file("present", "p");
  const CompareOutcome gone = hasher().compare_and_hash(world_->missing("gone"), present, always);
  EXPECT_EQ(gone.source.kind, HashOutcome::Kind::missing);
  EXPECT_EQ(gone.copy.kind, HashOutcome::Kind::ok) << "the copy is hashed on its own";
  EXPECT_FALSE(gone.equal);
  const CompareOutcome lost = hasher().compare_and_hash(present, world_->missing("lost"), always);
  EXPECT_EQ(lost.copy.kind, HashOutcome::Kind::missing);
  EXPECT_FALSE(lost.equal);
}

TEST_P(FileHasherContract, ASymlinkOrAFifoIsNeitherFollowedNorWaitedOn) {
  EXPECT_EQ(hasher().hash_copy(world_->symlink("link"), always).kind, HashOutcome::Kind::not_regular);
  EXPECT_EQ(hasher().hash_copy(world_->fifo("fifo"), always).kind, HashOutcome::Kind::not_regular);
  const auto present = world_->file("present", "p");
  EXPECT_EQ(hasher().compare_and_hash(world_->fifo("source-fifo"), present, always).source.kind,
            HashOutcome::Kind::not_regular);
  EXPECT_EQ(hasher().compare_and_hash(present, world_->symlink("copy-link"), always).copy.kind,
            HashOutcome::Kind::not_regular);
}

TEST_P(FileHasherContract, ProgressSaysHowFarTheCopyIsAndCanStopIt) {
  for (const std::size_t size : {std::size_t{2} << 20, std::size_t{9} << 20}) {
    const auto a = world_->file("a" + std::to_string(size), std::string(size, 'p'));
    std::uint64_t last = 0;
    const HashOutcome done = hasher().hash_copy(a, [&](std::uint64_t bytes) {
      EXPECT_GE(bytes, last);
      last = bytes;
      return true;
    });
    EXPECT_EQ(done.kind, HashOutcome::Kind::ok);
    EXPECT_EQ(last, size);
    last = 0;
    const CompareOutcome compared = hasher().compare_and_hash(a, a, [&](std::uint64_t bytes) {
      EXPECT_GE(bytes, last);
      last = bytes;
      return true;
    });
    EXPECT_TRUE(compared.equal);
    EXPECT_EQ(last, size);
    const CompareOutcome stopped = hasher().compare_and_hash(a, a, [](std::uint64_t) { return false; });
    EXPECT_EQ(stopped.copy.kind, HashOutcome::Kind::cancelled);
    EXPECT_FALSE(stopped.equal);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Adapters, FileHasherContract,
    ::testing::Values(std::make_pair("OpensslFileHasher", WorldFactory([] { return std::make_unique<RealWorld>(); })),
                      std::make_pair("OpensslFileHasherOnRamfs",
                                     WorldFactory([] { return std::make_unique<RealWorld>(true); })),
                      std::make_pair("FakeFileHasher", WorldFactory([] { return std::make_unique<FakeWorld>(); }))),
    [](const auto& adapter) { return std::string(adapter.param.first); });

TEST(OpensslFileHasherTest, GivesTheSumThatSha256sumGives) {
  RealWorld world;
  const auto empty = world.file("empty", "");
  const auto text = world.file("text", "usb-backup-copier\n");
  OpensslFileHasher hasher;
  auto always = [](std::uint64_t) { return true; };
  EXPECT_EQ(hasher.hash_copy(empty, always).sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string expected = run_ok({"sha256sum", text}).substr(0, 64);
  EXPECT_EQ(hasher.hash_copy(text, always).sha256, expected);
}

}  // namespace
}  // namespace ubc::test
