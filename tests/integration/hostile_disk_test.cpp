// SPDX-License-Identifier: MIT
// A disk prepared by someone hostile (DESIGN.md §10): links to directories outside the
// disk in place of the copy's directories and of the copier's own files, device nodes,
// setuid files, FIFOs and odd names. The built copier runs on it for real; whatever it
// does, nothing outside the disk may change, no link may be followed, no device node or
// FIFO opened (a FIFO opened would block the run: that the run ends is the test), and the
// report must say what the disk held.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kLockName = ".usb-backup-copier.lock";

// A directory outside the disk standing in for /etc, a home, the state directory: the
// target of the disk's links. Removed at the end.
class Outside {
 public:
  Outside() : dir_(make_temp_dir("ubc-hostile-outside")) {
    write_file(dir_ + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    write_file(dir_ + "/etc/marker", "must stay as it is\n");
    fs::create_directories(dir_ + "/copier-dir");
    write_file(dir_ + "/copier-dir/marker", "not the disk's\n");
    write_file(dir_ + "/state-target.json", "{\"not\": \"the disk's state\"}\n");
    write_file(dir_ + "/sums-target", "precious\n");
  }
  ~Outside() { remove_tree(dir_); }
  Outside(const Outside&) = delete;
  Outside& operator=(const Outside&) = delete;
  const std::string& path() const { return dir_; }
  std::map<std::string, TreeEntry> scan() const { return scan_tree(dir_); }

 private:
  std::string dir_;
};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

std::string sha256_of(const std::string& path) { return run_ok({"sha256sum", path}).substr(0, 64); }

void make_fifo(const std::string& path) { ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0) << path; }

void make_node(const std::string& path, mode_t type, dev_t device) {
  ASSERT_EQ(::mknod(path.c_str(), type | 0666, device), 0) << path << ": " << std::strerror(errno);
}

void make_setuid_file(const std::string& path) {
  write_file(path, "#!/bin/sh\nid\n");
  ASSERT_EQ(::chmod(path.c_str(), 04755), 0);
}

const std::string kLongName = std::string(251, 'L') + ".vbk";  // 255 bytes, the most ext4 takes

// What the source holds: the names the disk's entries will collide with, and odd ones.
void make_source(const std::string& src) {
  make_file(src + "/Jobs/Nightly.vbk", 16u << 20, 1);
  make_file(src + "/Jobs/sub/Nightly-1.vib", 2000, 2);
  make_file(src + "/fifo-here.vbk", 300, 3);
  make_file(src + "/device-here.vbk", 400, 4);
  make_file(src + "/setuid-here.bin", 500, 5);
  make_file(src + "/" + kLongName, 600, 6);
  make_file(src + "/--delete", 70, 7);
  make_file(src + "/-rf x", 80, 8);
  make_file(src + "/new\nline.vbk", 90, 9);
  make_file(src + "/bad-\xff\xfe.vbk", 100, 10);
}

std::map<std::string, TreeEntry> disk_copy(LoopDisk& disk) {
  DiskView view(disk);
  return scan_tree(view.path(), disk_own_entries());
}

TEST(HostileDisk, ReplacesLinksDeviceNodesFifosAndSetuidFilesWithoutTouchingAnythingOutside) {
  // Most of what the disk holds is foreign and goes: not the mass deletion the limit is for.
  CopyFixture f({.backup_lines = {"max-delete-percent = 100"}});
  const Outside outside;
  make_source(f.source());
  // The block device node on the disk points at this loop device: if anything opened and
  // wrote it, its image would change.
  LoopDisk target("ext4", random_fs_uuid("ext4"), "UBC-NODE", 8);
  struct stat target_st {};
  ASSERT_EQ(::stat(target.devnode().c_str(), &target_st), 0);
  {
    RwMount rw(f.devnode());
    const std::string d = rw.path();
    fs::create_directory_symlink(outside.path() + "/etc", d + "/Jobs");  // (a) the copy's directory
    fs::create_symlink(outside.path() + "/etc/passwd", d + "/passwd-link");
    make_node(d + "/device-here.vbk", S_IFBLK, target_st.st_rdev);  // (c) where the source has a file
    make_node(d + "/extra-block", S_IFBLK, target_st.st_rdev);      // and where it has nothing
    make_node(d + "/extra-null", S_IFCHR, makedev(1, 3));
    make_setuid_file(d + "/setuid-here.bin");  // (d)
    make_setuid_file(d + "/extra-setuid");
    make_fifo(d + "/fifo-here.vbk");  // (e)
    make_fifo(d + "/extra-fifo");
    write_file(d + "/" + std::string(255, 'X'), "long\n");  // (f) odd names the source lacks
    write_file(d + "/odd\nname-\xff", "odd\n");
    make_fifo(d + "/--remove-source-files");
  }
  const auto outside_before = outside.scan();
  const std::string target_before = sha256_of(target.devnode());

  const CopierResult r = f.copy();

  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(joined(tree_differences(outside_before, outside.scan())), "") << "something outside the disk changed";
  EXPECT_EQ(sha256_of(target.devnode()), target_before) << "the device node's device was written";
  // The disk now holds exactly the source: every link, node, FIFO and setuid file replaced
  // by the source's file or deleted, the odd names copied as they are.
  EXPECT_EQ(joined(tree_differences(scan_tree(f.source(), {kLockName}), disk_copy(f.disk()))), "");

  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "warning") << rows[0].reason;
  EXPECT_THAT(rows[0].warnings, HasSubstr("The disk held 2 symbolic links, 3 device nodes, 3 FIFOs that the "
                                          "source does not have"));
  const auto mails = f.wait_for_mails(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_THAT(field(mails[1], "body"), HasSubstr("2 symbolic links, 3 device nodes, 3 FIFOs"));
  EXPECT_THAT(field(mails[1], "body"), HasSubstr("none was followed or opened"));
}

// Our own directory as a link to a directory outside: the copier would write state.json,
// the manifest and the run log through it. The disk is mounted nosymfollow, so resolving
// any path through the link fails (O_NOFOLLOW alone guards the last component only): this
// test fails without that mount option.
TEST(HostileDisk, NeverWritesThroughALinkInPlaceOfItsOwnDirectory) {
  CopyFixture f;
  const Outside outside;
  make_file(f.source() + "/Jobs/Nightly.vbk", 4000, 1);
  {
    RwMount rw(f.devnode());
    fs::create_directory_symlink(outside.path() + "/copier-dir", rw.path() + "/.usb-backup-copier");
  }
  const auto outside_before = outside.scan();

  const CopierResult r = f.copy();

  EXPECT_EQ(joined(tree_differences(outside_before, outside.scan())), "") << r.output;
  EXPECT_EQ(r.exit_code, 1) << "the disk cannot hold its state, so the copy is not complete\n" << r.output;
  {
    DiskView view(f.disk());
    EXPECT_TRUE(fs::is_symlink(view.path() + "/.usb-backup-copier"));
  }
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "failed");
  EXPECT_THAT(rows[0].warnings, HasSubstr("1 symbolic link that the source does not have ('.usb-backup-copier')"));
  EXPECT_THAT(rows[0].reason, HasSubstr(".usb-backup-copier"));
  EXPECT_TRUE(f.disk_released());
}

// The copier's files as links to files outside, and FIFOs where it writes its temporary
// files and its run log: each is replaced, never written through or opened.
TEST(HostileDisk, ReplacesLinksAndFifosInPlaceOfItsOwnFiles) {
  CopyFixture f;
  const Outside outside;
  make_file(f.source() + "/Jobs/Nightly.vbk", 4000, 1);
  {
    RwMount rw(f.devnode());
    const std::string own = rw.path() + "/.usb-backup-copier";
    fs::create_directories(own);
    fs::create_symlink(outside.path() + "/state-target.json", own + "/state.json");
    fs::create_symlink(outside.path() + "/sums-target", own + "/SHA256SUMS");
    make_fifo(own + "/state.json.tmp");
    make_fifo(own + "/SHA256SUMS.tmp");
    make_fifo(own + "/last-run.log");
  }
  const auto outside_before = outside.scan();

  const CopierResult r = f.copy();

  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(joined(tree_differences(outside_before, outside.scan())), "");
  {
    DiskView view(f.disk());
    const std::string own = view.path() + "/.usb-backup-copier";
    for (const char* name : {"state.json", "SHA256SUMS", "last-run.log"})
      EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(own + "/" + name))) << name;
    EXPECT_FALSE(fs::exists(fs::symlink_status(own + "/state.json.tmp")));
    const CopierResult check = run_program({"env", "-C", view.path(), "sha256sum", "-c", "--quiet", "--strict",
                                            ".usb-backup-copier/SHA256SUMS"});
    EXPECT_EQ(check.exit_code, 0) << check.output;
  }
  const auto state = f.disk_state();
  ASSERT_TRUE(state);
  EXPECT_EQ(field(*state, "state"), "complete");
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].warnings, HasSubstr("2 symbolic links, 3 FIFOs that the source does not have"));
}

// The mount options are really in effect while rsync writes: a link on the disk cannot be
// resolved, not even by root, and the disk is nosuid, nodev, noexec.
TEST(HostileDisk, MountsTheDiskSoThatNoLinkOnItIsFollowed) {
  CopyFixture f;
  const Outside outside;
  make_file(f.source() + "/Jobs/Nightly.vbk", 16u << 20, 1);
  {
    RwMount rw(f.devnode());
    fs::create_directories(rw.path() + "/.usb-backup-copier");
    fs::create_directory_symlink(outside.path() + "/etc", rw.path() + "/.usb-backup-copier/probe");
  }

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();

  std::string options;
  {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string id, parent, devs, root, mount_point, mount_options;
      fields >> id >> parent >> devs >> root >> mount_point >> mount_options;
      if (mount_point == f.mount_point()) options = mount_options;
    }
  }
  for (const char* option : {"nosuid", "nodev", "noexec", "nosymfollow"})
    EXPECT_THAT("," + options + ",", HasSubstr(std::string(",") + option + ",")) << options;
  struct stat st {};
  const std::string through_link = f.mount_point() + "/.usb-backup-copier/probe/marker";
  EXPECT_EQ(::stat(through_link.c_str(), &st), -1) << "a link on the disk was followed";
  EXPECT_EQ(errno, ELOOP);

  freezer.resume();
  const auto r = copier->wait(120s);
  ASSERT_TRUE(r) << copier->output_so_far();
  EXPECT_EQ(r->exit_code, 0) << r->output;
}

}  // namespace
}  // namespace ubc::test
