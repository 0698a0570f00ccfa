// SPDX-License-Identifier: MIT
// `prepare-disk` on real loop devices: a blank disk becomes a whitelisted rotation disk that
// the next copy fills, and every refusal leaves the disk exactly as it was.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "support/copy_fixture.h"
#include "support/udevd.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kByIdPrefix = "/dev/disk/by-id/";

// Runs argv with `input` on its stdin; stdout and stderr together.
CopierResult run_with_input(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  CopierResult result;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// A blank disk with a partition table the kernel re-reads (losetup -P), named also by a
// /dev/disk/by-id link as a fixed disk would be.
class BlankDisk {
 public:
  explicit BlankDisk(int size_mib) {
    dir_ = make_temp_dir("ubc-blank");
    image_ = dir_ + "/disk.img";
    run_ok({"truncate", "-s", std::to_string(size_mib) + "M", image_});
    devnode_ = std::string(trim_newline(run_ok({"losetup", "--find", "--show", "--partscan", image_})));
    by_id_ = std::string(kByIdPrefix) + "ubc-test-" + std::to_string(getpid()) + "-" +
             devnode_.substr(devnode_.rfind('/') + 1);
    fs::create_directories(kByIdPrefix);
    fs::create_symlink(devnode_, by_id_);
  }
  ~BlankDisk() {
    std::error_code ec;
    fs::remove(by_id_, ec);
    (void)run({"losetup", "-d", devnode_});
    remove_tree(dir_);
  }
  const std::string& devnode() const { return devnode_; }
  const std::string& by_id() const { return by_id_; }
  std::string partition() const { return devnode_ + "p1"; }
  std::string image_hash() const { return run_ok({"sha256sum", image_}).substr(0, 64); }
  // The first and the last MiB: where a partition table (and GPT's backup) is written.
  std::string table_areas() const {
    return run_ok({"sh", "-c", "head -c 1M \"$0\" | sha256sum; tail -c 1M \"$0\" | sha256sum", image_});
  }

 private:
  static std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  std::string dir_, image_, devnode_, by_id_;
};

std::string blkid(const std::string& tag, const std::string& devnode) {
  std::string out;
  (void)run({"blkid", "-p", "-o", "value", "-s", tag, devnode}, &out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class PrepareDisk : public ::testing::Test {
 protected:
  PrepareDisk() : fixture_(options()) { shared_udevd(); }
  static CopyFixtureOptions options() {
    CopyFixtureOptions o;
    o.whitelist = false;
    // The prepared disk is enrolled: with this, its first copy proves it.
    o.backup_lines = {"require-enrollment = yes"};
    return o;
  }
  CopierResult prepare(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv{binary_path("usb-backup-copier"), "--config",
                                  fixture_.config_path(), "prepare-disk"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_with_input(argv, input);
  }
  CopyFixture fixture_;
};

TEST_F(PrepareDisk, ABlankDiskBecomesAWhitelistedRotationDiskThatTheNextCopyFills) {
  BlankDisk disk(64);
  make_file(fixture_.source() + "/Jobs/Nightly.vbk", 2u << 20, 7);
  ASSERT_EQ(chmod(fixture_.config_path().c_str(), 0640), 0);
  ASSERT_EQ(chown(fixture_.config_path().c_str(), 0, 4), 0);  // group adm, as an admin may set

  const CopierResult r = prepare({"--device", disk.by_id(), "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Added to filesystem-ids-and-notification-mail-addresses"));
  EXPECT_THAT(r.output, HasSubstr("Enrolled disk 'usb-backup'"));

  EXPECT_EQ(blkid("PTTYPE", disk.devnode()), "gpt");
  EXPECT_EQ(blkid("TYPE", disk.partition()), "ext4");
  EXPECT_EQ(blkid("LABEL", disk.partition()), "usb-backup");
  const std::string uuid = blkid("UUID", disk.partition());
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_THAT(r.output, HasSubstr("UUID " + uuid));

  struct stat st {};
  ASSERT_EQ(stat(fixture_.config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u) << "the config keeps its mode";
  EXPECT_EQ(st.st_gid, 4u) << "and its group";
  EXPECT_EQ(fixture_.copier({"check-config"}).exit_code, 0);
  EXPECT_EQ(fixture_.copier({"match", uuid}).exit_code, 0);
  EXPECT_THAT(fixture_.copier({"enroll", "--list"}).output, HasSubstr(uuid));

  const CopierResult copy = fixture_.copier({"copy", "--device", disk.partition()});
  ASSERT_EQ(copy.exit_code, 0) << copy.output;
  const std::string view = make_temp_dir("ubc-prepared");
  run_ok({"mount", "-o", "ro", disk.partition(), view});
  struct stat own {};
  EXPECT_EQ(stat((view + "/.usb-backup-copier").c_str(), &own), 0);
  EXPECT_EQ(own.st_mode & 07777, 0700u);
  struct stat secret {};
  EXPECT_EQ(stat((view + "/.usb-backup-copier/enrollment").c_str(), &secret), 0);
  EXPECT_EQ(secret.st_mode & 07777, 0600u);
  EXPECT_EQ(fs::file_size(view + "/Jobs/Nightly.vbk"), 2u << 20);
  run_ok({"umount", view});
  remove_tree(view);
}

TEST_F(PrepareDisk, XfsWithTheModelAndSizeTypedBack) {
  BlankDisk disk(320);
  const std::string name = disk.devnode().substr(disk.devnode().rfind('/') + 1);
  const CopierResult r =
      prepare({"--device", disk.by_id(), "--fs", "xfs", "--label", "offsite-2"}, name + "  320 mib\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("(" + name + " 320 MiB)"));
  EXPECT_EQ(blkid("TYPE", disk.partition()), "xfs");
  EXPECT_EQ(blkid("LABEL", disk.partition()), "offsite-2");
  EXPECT_EQ(fixture_.copier({"match", blkid("UUID", disk.partition())}).exit_code, 0);
}

TEST_F(PrepareDisk, AWrongConfirmationChangesNothing) {
  BlankDisk disk(64);
  run_ok({"mkfs.ext4", "-q", "-F", disk.devnode()});
  const std::string before = disk.image_hash();
  const std::string config_before = read_file(fixture_.config_path());
  const CopierResult r = prepare({"--device", disk.by_id()}, "yes\n");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("does not match"));
  EXPECT_EQ(disk.image_hash(), before);
  EXPECT_EQ(read_file(fixture_.config_path()), config_before);
}

TEST_F(PrepareDisk, AMountedDiskIsRefusedUntouched) {
  BlankDisk disk(64);
  run_ok({"mkfs.ext4", "-q", "-F", disk.devnode()});
  const std::string mnt = make_temp_dir("ubc-mounted");
  run_ok({"mount", disk.devnode(), mnt});
  // A mounted ext4 writes its own superblock and journal; the table areas stay ours to watch.
  const std::string before = disk.table_areas();
  const CopierResult r = prepare({"--device", disk.by_id(), "--yes"});
  const std::string after = disk.table_areas();
  run_ok({"umount", mnt});
  remove_tree(mnt);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("is mounted at '" + mnt + "'"));
  EXPECT_THAT(r.output, HasSubstr("Nothing was changed"));
  EXPECT_EQ(after, before);
  EXPECT_EQ(blkid("TYPE", disk.devnode()), "ext4");
}

TEST_F(PrepareDisk, AFixedDiskByItsKernelNameAndAPartitionAreRefused) {
  BlankDisk disk(64);
  const std::string before = disk.image_hash();
  CopierResult r = prepare({"--device", disk.devnode(), "--yes"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not a removable or USB disk"));
  ASSERT_EQ(prepare({"--device", disk.by_id(), "--yes"}).exit_code, 0);
  r = prepare({"--device", disk.partition(), "--yes"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("is a partition"));
  EXPECT_NE(disk.image_hash(), before) << "the by-id run in between did prepare it";
}

// The disk under "/" is refused for what it is. Three guards stand between a regression and
// this machine's system disk: it is mounted, it is not removable, and the confirmation is
// wrong; the message must name the first.
TEST_F(PrepareDisk, TheSystemDiskIsRefusedAsSuch) {
  struct stat root {};
  ASSERT_EQ(stat("/", &root), 0);
  const std::string sys = fs::canonical("/sys/dev/block/" + std::to_string(major(root.st_dev)) +
                                        ":" + std::to_string(minor(root.st_dev)))
                              .string();
  const bool partition = fs::exists(sys + "/partition");
  const std::string disk = "/dev/" + fs::path(partition ? fs::path(sys).parent_path() : fs::path(sys))
                                          .filename()
                                          .string();
  const CopierResult r = prepare({"--device", disk}, "no\n");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("holds the root filesystem /"));
}

}  // namespace
}  // namespace ubc::test
