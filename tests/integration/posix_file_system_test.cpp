// SPDX-License-Identifier: MIT
// PosixFileSystem on real directories, a real loop-device filesystem and bind mounts.
#include "sys/posix_file_system.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

#include "support/loop_disk.h"

namespace ubc {
namespace {

using test::LoopDisk;
using test::random_fs_uuid;
using test::read_file;
using test::write_file;

// A scratch directory; mounts left inside it by a failed test are detached before it is
// removed, so removing it never reaches into a mounted filesystem.
class TempDir {
 public:
  TempDir() : path_(test::make_temp_dir("ubc-fs")) {}
  ~TempDir() {
    for (const std::string& mount : mounts_)
      while (::umount2(mount.c_str(), MNT_DETACH) == 0) {
      }
    test::remove_tree(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  // Mounts source (a device, or a directory with "--bind") at name, a new subdirectory.
  std::string mount(const std::vector<std::string>& how, const std::string& name) {
    const std::string target = *this / name;
    std::filesystem::create_directories(target);
    std::vector<std::string> argv{"mount"};
    argv.insert(argv.end(), how.begin(), how.end());
    argv.push_back(target);
    mounts_.push_back(target);
    test::run_ok(argv);
    return target;
  }

 private:
  std::string path_;
  std::vector<std::string> mounts_;
};

unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The umask is process-wide: put it back whatever happens.
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { (void)::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::running_as_root()) << "integration tests need root (loop devices, mount)";
  }
  PosixFileSystem fs_;
  TempDir dir_;
};

TEST_F(PosixFileSystemTest, SpaceOfALoopFilesystemMatchesDf) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "space", 64);
  const std::string mounted = dir_.mount({disk.devnode()}, "disk");
  write_file(mounted + "/some", std::string(1 << 20, 'x'));
  test::run_ok({"sync", "-f", mounted});

  const SpaceInfo space = fs_.space(mounted);

  std::istringstream df(test::run_ok({"df", "-B1", "--output=avail,size", mounted}));
  std::string header_avail, header_size;
  std::uint64_t avail = 0, size = 0;
  df >> header_avail >> header_size >> avail >> size;
  EXPECT_EQ(space.free_bytes, avail);
  EXPECT_EQ(space.total_bytes, size);
  EXPECT_GT(space.total_bytes, 50ull << 20);
  EXPECT_LT(space.free_bytes, space.total_bytes);
}

TEST_F(PosixFileSystemTest, SpaceOfAMissingPathThrows) {
  EXPECT_THROW(fs_.space(dir_ / "missing"), std::system_error);
}

TEST_F(PosixFileSystemTest, IsMountpointKnowsMountsBindMountsAndPlainDirectories) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "mp", 32);
  const std::string mounted = dir_.mount({disk.devnode()}, "disk");
  std::filesystem::create_directories(mounted + "/inside");
  std::filesystem::create_directories(dir_ / "source/sub");
  // Same filesystem, same st_dev as its parent: only the mount table knows.
  const std::string bound = dir_.mount({"--bind", dir_ / "source/sub"}, "bound");
  std::filesystem::create_directories(dir_ / "plain");

  EXPECT_TRUE(fs_.is_mountpoint(mounted));
  EXPECT_TRUE(fs_.is_mountpoint(mounted + "/"));
  EXPECT_FALSE(fs_.is_mountpoint(mounted + "/inside"));
  EXPECT_TRUE(fs_.is_mountpoint(bound));
  EXPECT_FALSE(fs_.is_mountpoint(dir_ / "source/sub"));
  EXPECT_FALSE(fs_.is_mountpoint(dir_ / "plain"));
  EXPECT_FALSE(fs_.is_mountpoint(dir_ / "missing"));
  EXPECT_TRUE(fs_.is_mountpoint("/"));
}

TEST_F(PosixFileSystemTest, WalkSpecialFindsLinksNodesAndFifosWithoutFollowingLinks) {
  const std::string root = dir_ / "disk";
  write_file(root + "/plain.txt", "x");
  write_file(dir_ / "elsewhere/hidden.txt", "x");
  ASSERT_EQ(::symlink((dir_ / "elsewhere").c_str(), (root + "/dir-link").c_str()), 0);
  std::filesystem::create_directories(root + "/sub");
  ASSERT_EQ(::mkfifo((root + "/sub/pipe").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((root + "/sub/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  std::filesystem::create_directories(root + "/lost+found");
  ASSERT_EQ(::mkfifo((root + "/lost+found/pipe").c_str(), 0644), 0);

  std::map<std::string, SpecialKind> found;
  fs_.walk_special(root, {"lost+found"}, [&](const std::string& path, SpecialKind kind) { found[path] = kind; });

  const std::map<std::string, SpecialKind> expected{
      {"dir-link", SpecialKind::symlink}, {"sub/pipe", SpecialKind::fifo}, {"sub/null", SpecialKind::device}};
  EXPECT_EQ(found, expected);
}

// The walk takes each entry's type from its directory entry where the filesystem gives it:
// on every filesystem a disk may have here, the kinds must come out as lstat would give
// them, and a filesystem mounted inside the tree must stay out of it.
TEST_F(PosixFileSystemTest, WalksSeeTheSameKindsOnExt4XfsAndBtrfs) {
  for (const auto& [fstype, mib] : {std::pair<std::string, int>{"ext4", 64}, {"xfs", 300}, {"btrfs", 128}}) {
    LoopDisk disk(fstype, random_fs_uuid(fstype), "walk", mib);
    const std::string root = dir_.mount({disk.devnode()}, "walk-" + fstype);
    write_file(root + "/a/b/plain.txt", "x");
    write_file(root + "/a/other.txt", "y");
    ASSERT_EQ(::symlink("a/b", (root + "/a/link").c_str()), 0);
    ASSERT_EQ(::mkfifo((root + "/a/b/pipe").c_str(), 0644), 0);
    ASSERT_EQ(::mknod((root + "/node").c_str(), S_IFBLK | 0600, makedev(7, 200)), 0);
    ASSERT_EQ(::mknod((root + "/a/sock").c_str(), S_IFSOCK | 0600, 0), 0);
    const std::string inner = dir_.mount({"-t", "tmpfs", "tmpfs"}, "walk-" + fstype + "/a/mounted");
    ASSERT_EQ(::mkfifo((inner + "/not-ours").c_str(), 0644), 0);

    std::map<std::string, SpecialKind> found;
    fs_.walk_special(root, {"lost+found"}, [&](const std::string& path, SpecialKind kind) { found[path] = kind; });
    const std::map<std::string, SpecialKind> expected{{"a/link", SpecialKind::symlink},
                                                      {"a/b/pipe", SpecialKind::fifo},
                                                      {"node", SpecialKind::device},
                                                      {"a/sock", SpecialKind::socket}};
    EXPECT_EQ(found, expected) << fstype;
    EXPECT_EQ(fs_.count_files_recursive(root, {"lost+found"}), 6u) << fstype;
    std::vector<std::string> directories;
    fs_.walk_directories(root, {"lost+found"}, [&](const std::string& path) { directories.push_back(path); });
    std::sort(directories.begin(), directories.end());
    EXPECT_EQ(directories, (std::vector<std::string>{"a", "a/b"})) << fstype << ": the mount point stays out";
    test::run_ok({"umount", inner});
    test::run_ok({"umount", root});
  }
}

TEST_F(PosixFileSystemTest, WriteAtomicWritesTheDataWithTheModeAndLeavesNoTmp) {
  const std::string path = dir_ / "state.json";
  UmaskGuard umask(077);

  fs_.write_atomic(path, "first", 0644);
  fs_.write_atomic(path, "second", 0644);

  EXPECT_EQ(read_file(path), "second");
  EXPECT_EQ(mode_of(path), 0644u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(PosixFileSystemTest, WriteAtomicReplacesASymlinkInsteadOfWritingThroughIt) {
  const std::string victim = dir_ / "victim";
  write_file(victim, "precious");
  const std::string path = dir_ / "status.json";
  ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);

  fs_.write_atomic(path, "status", 0600);

  EXPECT_EQ(read_file(victim), "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
  EXPECT_EQ(read_file(path), "status");
}

TEST_F(PosixFileSystemTest, WriteAtomicRemovesASymlinkAtTheTmpPathInsteadOfWritingThroughIt) {
  const std::string victim = dir_ / "victim";
  write_file(victim, "precious");
  const std::string path = dir_ / "status.json";
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);

  fs_.write_atomic(path, "status", 0600);

  EXPECT_EQ(read_file(victim), "precious");
  EXPECT_EQ(read_file(path), "status");
  EXPECT_FALSE(std::filesystem::is_symlink(path + ".tmp") || std::filesystem::exists(path + ".tmp"));
}

// A FIFO opened for writing blocks until someone reads it: the open must never happen.
TEST_F(PosixFileSystemTest, WriteAtomicRemovesAFifoAtTheTmpPathWithoutOpeningIt) {
  const std::string path = dir_ / "state.json";
  ASSERT_EQ(::mkfifo((path + ".tmp").c_str(), 0644), 0);

  fs_.write_atomic(path, "state", 0644);

  EXPECT_EQ(read_file(path), "state");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(PosixFileSystemTest, WriteAtomicIntoAMissingDirectoryThrowsAndLeavesNothing) {
  EXPECT_THROW(fs_.write_atomic(dir_ / "missing/state.json", "x", 0600), std::system_error);
  EXPECT_EQ(fs_.list_entries(dir_.path()).size(), 0u);
}

TEST_F(PosixFileSystemTest, WriteAtomicRemovesTheTmpFileWhenTheRenameFails) {
  const std::string path = dir_ / "occupied";
  std::filesystem::create_directories(path + "/not-empty");  // rename over it fails

  EXPECT_THROW(fs_.write_atomic(path, "x", 0600), std::system_error);

  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_TRUE(std::filesystem::is_directory(path));
}

TEST_F(PosixFileSystemTest, AppendCreatesAPrivateFileAndAppends) {
  const std::string path = dir_ / "run.log";
  UmaskGuard umask(0);

  fs_.append(path, "one\n");
  fs_.append(path, "two\n");

  EXPECT_EQ(read_file(path), "one\ntwo\n");
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST_F(PosixFileSystemTest, AppendRefusesAFifoWithoutBlocking) {
  const std::string path = dir_ / "run.log";
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);

  EXPECT_THROW(fs_.append(path, "line\n"), std::system_error);
  EXPECT_EQ(std::filesystem::status(path).type(), std::filesystem::file_type::fifo);
}

TEST_F(PosixFileSystemTest, AppendRefusesASymlink) {
  const std::string victim = dir_ / "victim";
  write_file(victim, "precious");
  ASSERT_EQ(::symlink(victim.c_str(), (dir_ / "run.log").c_str()), 0);

  EXPECT_THROW(fs_.append(dir_ / "run.log", "evil"), std::system_error);
  EXPECT_EQ(read_file(victim), "precious");
}

TEST_F(PosixFileSystemTest, ReadFileReturnsContentsNothingForMissingAndRefusesSymlinks) {
  const std::string path = dir_ / "data";
  const std::string binary("a\0b\nc", 5);
  write_file(path, binary);
  ASSERT_EQ(::symlink(path.c_str(), (dir_ / "link").c_str()), 0);

  EXPECT_EQ(fs_.read_file(path, 1 << 20), binary);
  EXPECT_EQ(fs_.read_file(dir_ / "missing", 1 << 20), std::nullopt);
  EXPECT_THROW(fs_.read_file(dir_ / "link", 1 << 20), std::system_error);
}

TEST_F(PosixFileSystemTest, RemoveSaysWhetherTheFileWasThere) {
  write_file(dir_ / "lock", "");
  EXPECT_TRUE(fs_.remove(dir_ / "lock"));
  EXPECT_FALSE(fs_.remove(dir_ / "lock"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "lock"));
  std::filesystem::create_directories(dir_ / "directory");
  EXPECT_THROW(fs_.remove(dir_ / "directory"), std::system_error);
}

TEST_F(PosixFileSystemTest, MakeDirectoriesCreatesEveryLevelWithTheMode) {
  UmaskGuard umask(077);
  const std::string deep = dir_ / "a/b/c";

  fs_.make_directories(deep, 0755);
  fs_.make_directories(deep + "/", 0755);  // again: nothing to do

  EXPECT_TRUE(std::filesystem::is_directory(deep));
  EXPECT_EQ(mode_of(dir_ / "a"), 0755u);
  EXPECT_EQ(mode_of(deep), 0755u);
  EXPECT_EQ(mode_of(dir_.path()), 0700u) << "existing directories keep their mode";
}

TEST_F(PosixFileSystemTest, MakeDirectoriesFollowsSymlinkedParentsButNotFiles) {
  std::filesystem::create_directories(dir_ / "real");
  ASSERT_EQ(::symlink((dir_ / "real").c_str(), (dir_ / "alias").c_str()), 0);
  write_file(dir_ / "file", "");

  fs_.make_directories(dir_ / "alias/x", 0700);

  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "real/x"));
  try {
    fs_.make_directories(dir_ / "file/x", 0700);
    FAIL() << "made a directory below a file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOTDIR);
  }
}

TEST_F(PosixFileSystemTest, KindDoesNotFollowSymlinks) {
  write_file(dir_ / "file", "x");
  std::filesystem::create_directories(dir_ / "dir");
  ASSERT_EQ(::symlink((dir_ / "dir").c_str(), (dir_ / "link").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);

  EXPECT_EQ(fs_.kind(dir_ / "file"), PathKind::file);
  EXPECT_EQ(fs_.kind(dir_ / "dir"), PathKind::directory);
  EXPECT_EQ(fs_.kind(dir_ / "link"), PathKind::other);
  EXPECT_EQ(fs_.kind(dir_ / "fifo"), PathKind::other);
  EXPECT_EQ(fs_.kind(dir_ / "missing"), PathKind::missing);
  EXPECT_EQ(fs_.kind(dir_ / "file/below"), PathKind::missing);
}

TEST_F(PosixFileSystemTest, FileSizeOnlyForRegularFiles) {
  write_file(dir_ / "file", std::string(12345, 'x'));
  ASSERT_EQ(::symlink((dir_ / "file").c_str(), (dir_ / "link").c_str()), 0);

  EXPECT_EQ(fs_.file_size(dir_ / "file"), 12345u);
  EXPECT_EQ(fs_.file_size(dir_ / "link"), std::nullopt);
  EXPECT_EQ(fs_.file_size(dir_.path()), std::nullopt);
  EXPECT_EQ(fs_.file_size(dir_ / "missing"), std::nullopt);
}

TEST_F(PosixFileSystemTest, ReadableDirectory) {
  write_file(dir_ / "file", "x");
  EXPECT_TRUE(fs_.readable_directory(dir_.path()));
  EXPECT_FALSE(fs_.readable_directory(dir_ / "file"));
  EXPECT_FALSE(fs_.readable_directory(dir_ / "missing"));
}

TEST_F(PosixFileSystemTest, CountEntriesCountsHiddenOnesButNotDotAndDotDot) {
  write_file(dir_ / ".hidden", "");
  write_file(dir_ / "visible", "");
  std::filesystem::create_directories(dir_ / "sub/deeper");

  EXPECT_EQ(fs_.list_entries(dir_.path()).size(), 3u);
  EXPECT_EQ(fs_.list_entries(dir_ / "sub").size(), 1u);
  EXPECT_THROW(fs_.list_entries(dir_ / "missing"), std::system_error);
}

TEST_F(PosixFileSystemTest, CountFilesRecursiveCountsEveryNonDirectoryAndStopsAtMounts) {
  write_file(dir_ / "top", "");
  write_file(dir_ / "a/one", "");
  write_file(dir_ / "a/b/two", "");
  write_file(dir_ / "a/b/.three", "");
  std::filesystem::create_directories(dir_ / "empty/dirs/only");
  ASSERT_EQ(::symlink("top", (dir_ / "a/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir_ / "a/b/fifo").c_str(), 0600), 0);
  // A symlink to a directory is counted, not followed.
  ASSERT_EQ(::symlink((dir_ / "a").c_str(), (dir_ / "dirlink").c_str()), 0);
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "count", 32);
  const std::string mounted = dir_.mount({disk.devnode()}, "a/mounted");
  write_file(mounted + "/x", "");
  write_file(mounted + "/y/z", "");

  // top, one, two, .three, link, fifo, dirlink; nothing from the mounted disk.
  EXPECT_EQ(fs_.count_files_recursive(dir_.path(), {}), 7u);
  EXPECT_EQ(fs_.count_files_recursive(mounted, {}), 2u);
  EXPECT_THROW(fs_.count_files_recursive(dir_ / "missing", {}), std::system_error);
}

TEST_F(PosixFileSystemTest, WalkDirectoriesVisitsEveryDirectoryButFollowsNoLinkAndStopsAtMounts) {
  std::filesystem::create_directories(dir_ / "a/b/.rsync-partial");
  std::filesystem::create_directories(dir_ / "left/out");
  write_file(dir_ / "a/file", "");
  ASSERT_EQ(::symlink((dir_ / "a").c_str(), (dir_ / "dirlink").c_str()), 0);
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "walkdirs", 32);
  const std::string mounted = dir_.mount({disk.devnode()}, "a/mounted");
  std::filesystem::create_directories(mounted + "/inside");

  std::vector<std::string> seen;
  fs_.walk_directories(dir_.path(), {"left"}, [&](const std::string& rel) { seen.push_back(rel); });
  std::sort(seen.begin(), seen.end());
  // The mount point itself is a directory of another filesystem: not part of this tree.
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "a/b", "a/b/.rsync-partial"}));
  EXPECT_THROW(fs_.walk_directories(dir_ / "missing", {}, [](const std::string&) {}), std::system_error);
}

TEST_F(PosixFileSystemTest, RemoveEmptyDirectoryRemovesOnlyAnEmptyOne) {
  std::filesystem::create_directories(dir_ / "empty");
  write_file(dir_ / "full/x", "");
  EXPECT_TRUE(fs_.remove_empty_directory(dir_ / "empty"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "empty"));
  EXPECT_FALSE(fs_.remove_empty_directory(dir_ / "full"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "full/x"));
  EXPECT_FALSE(fs_.remove_empty_directory(dir_ / "missing"));
}

// An empty .rsync-partial left in a copied directory goes without changing the directory's
// time, which the copy took from the source.
TEST_F(PosixFileSystemTest, RemoveEmptyDirectoryKeepsTheParentsTimes) {
  std::filesystem::create_directories(dir_ / "copied/.rsync-partial");
  const timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ / "copied").c_str(), old_times, 0), 0);
  EXPECT_TRUE(fs_.remove_empty_directory(dir_ / "copied/.rsync-partial"));
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ / "copied").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
}

TEST_F(PosixFileSystemTest, RenameMovesATreeButNeverReplacesWhatIsThere) {
  write_file(dir_ / "in-progress/a/file", "x");
  fs_.rename_no_replace(dir_ / "in-progress", dir_ / "point");
  EXPECT_EQ(read_file(dir_ / "point/a/file"), "x");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "in-progress"));
  // rename(2) would silently replace an empty directory.
  std::filesystem::create_directories(dir_ / "empty");
  EXPECT_THROW(fs_.rename_no_replace(dir_ / "point", dir_ / "empty"), std::system_error);
  EXPECT_EQ(read_file(dir_ / "point/a/file"), "x");
  EXPECT_THROW(fs_.rename_no_replace(dir_ / "missing", dir_ / "other"), std::system_error);
}

TEST_F(PosixFileSystemTest, ReplaceSymlinkPointsARelativeLinkAnewAndLeavesNoTmp) {
  std::filesystem::create_directories(dir_ / "one");
  std::filesystem::create_directories(dir_ / "two");
  fs_.replace_symlink(dir_ / "latest", "one");
  EXPECT_EQ(std::filesystem::read_symlink(dir_ / "latest"), "one");
  fs_.replace_symlink(dir_ / "latest", "two");
  EXPECT_EQ(std::filesystem::read_symlink(dir_ / "latest"), "two");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir_ / "latest.tmp")));
}

TEST_F(PosixFileSystemTest, RemoveTreeRemovesEverythingBelowButNotWhatSymlinksPointTo) {
  write_file(dir_ / "keep/file", "kept");
  write_file(dir_ / "doomed/a/b", "x");
  std::filesystem::create_directory_symlink(dir_ / "keep", dir_ / "doomed/link");
  EXPECT_TRUE(fs_.remove_tree(dir_ / "doomed"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "doomed"));
  EXPECT_EQ(read_file(dir_ / "keep/file"), "kept");
  EXPECT_FALSE(fs_.remove_tree(dir_ / "doomed"));
}

TEST_F(PosixFileSystemTest, BytesFreedCountsOnlyFilesWhoseEveryLinkIsRemoved) {
  const std::string big(1 << 20, 'x');
  write_file(dir_ / "old/only-here", big);
  write_file(dir_ / "old/shared", big);
  write_file(dir_ / "older/linked-within", big);
  std::filesystem::create_directories(dir_ / "new");
  std::filesystem::create_hard_link(dir_ / "old/shared", dir_ / "new/shared");
  std::filesystem::create_hard_link(dir_ / "older/linked-within", dir_ / "old/linked-within");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "old/only-here").c_str(), &st), 0);
  const std::uint64_t one = static_cast<std::uint64_t>(st.st_blocks) * 512;
  ASSERT_GE(one, 1u << 20);
  EXPECT_EQ(fs_.bytes_freed_by_removing({dir_ / "old"}), one) << "the two shared files free nothing";
  EXPECT_EQ(fs_.bytes_freed_by_removing({dir_ / "old", dir_ / "older"}), 2 * one);
  EXPECT_EQ(fs_.bytes_freed_by_removing({dir_ / "new"}), 0u);
}

}  // namespace
}  // namespace ubc
