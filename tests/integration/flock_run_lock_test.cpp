// SPDX-License-Identifier: MIT
// Real flock(2) between real processes: a forked child, or util-linux's flock(1).
#include "sys/flock_run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "support/forked.h"
#include "support/loop_disk.h"
#include "sys/posix_process_runner.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;

// Runs body in a forked child. body calls report(value) once it holds what it took; the
// child then waits until finish() (or destruction) lets it go on and exit.
class ForkedHolder {
 public:
  using Report = std::function<void(int)>;

  explicit ForkedHolder(const std::function<void(const Report&)>& body) {
    int ready[2];
    int go[2];
    if (::pipe2(ready, O_CLOEXEC) < 0 || ::pipe2(go, O_CLOEXEC) < 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(go[1]);
      int code = 0;
      bool reported = false;
      const Report report = [&](int value) {
        const unsigned char byte = static_cast<unsigned char>(value);
        (void)!::write(ready[1], &byte, 1);
        reported = true;
        char c;
        while (::read(go[0], &c, 1) > 0) {
        }
      };
      try {
        body(report);
      } catch (...) {
        code = 1;
      }
      if (!reported) {
        const unsigned char failed = 255;
        (void)!::write(ready[1], &failed, 1);
      }
      ::_exit(code);
    }
    ::close(ready[1]);
    ::close(go[0]);
    go_ = go[1];
    unsigned char byte = 255;
    if (::read(ready[0], &byte, 1) != 1) byte = 255;
    ::close(ready[0]);
    result_ = byte;
  }
  ~ForkedHolder() { (void)finish(); }
  ForkedHolder(const ForkedHolder&) = delete;
  ForkedHolder& operator=(const ForkedHolder&) = delete;

  int result() const { return result_; }

  // Lets the child continue and exit; returns its exit status.
  int finish() {
    if (pid_ <= 0) return exit_status_;
    ::close(go_);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  int result_ = 255;
  int exit_status_ = -1;
};

class FlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::running_as_root()) << "integration tests run as root (sudo ctest -L integration)";
    dir_ = test::make_temp_dir("ubc-flock");
    path_ = dir_ + "/.usb-backup-copier.lock";
  }
  void TearDown() override { test::remove_tree(dir_); }

  bool exists(const std::string& p) const {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(FlockTest, CreatesTheFileWritesItsOwnerAndRemovesItOnRelease) {
  FlockRunLock lock;
  EXPECT_EQ(lock.acquire(path_), LockResult::taken);
  EXPECT_TRUE(lock.held());
  const std::string content = test::read_file(path_);
  EXPECT_EQ(content.rfind(std::to_string(::getpid()) + " ", 0), 0u) << content;
  EXPECT_EQ(content.back(), '\n');
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  lock.release_and_remove();
  EXPECT_FALSE(lock.held());
  EXPECT_FALSE(exists(path_));
}

TEST_F(FlockTest, ALeftoverFileNobodyHoldsIsTakenOverAsStale) {
  test::write_file(path_, "12345 oldhost 2026-01-01T00:00:00Z\n");
  FlockRunLock lock;
  EXPECT_EQ(lock.acquire(path_), LockResult::taken_over_stale);
  const std::string content = test::read_file(path_);
  EXPECT_EQ(content.rfind(std::to_string(::getpid()) + " ", 0), 0u) << content;
  EXPECT_EQ(content.find("oldhost"), std::string::npos);
}

TEST_F(FlockTest, ALockHeldByAnotherProcessIsBusyAndTheFileStays) {
  ForkedHolder child([&](const ForkedHolder::Report& report) {
    FlockRunLock lock;
    report(static_cast<int>(lock.acquire(path_)));
  });
  ASSERT_EQ(child.result(), static_cast<int>(LockResult::taken));
  const std::string owner = test::read_file(path_);

  FlockRunLock lock;
  EXPECT_EQ(lock.acquire(path_), LockResult::busy);
  EXPECT_FALSE(lock.held());
  EXPECT_TRUE(exists(path_));
  EXPECT_EQ(test::read_file(path_), owner);

  // The child dies without releasing: its file is left behind and is now stale.
  EXPECT_EQ(child.finish(), 0);
  EXPECT_EQ(lock.acquire(path_), LockResult::taken_over_stale);
}

TEST_F(FlockTest, AfterAnotherProcessReleasedTheLockIsTakenFresh) {
  ForkedHolder child([&](const ForkedHolder::Report& report) {
    FlockRunLock lock;
    report(static_cast<int>(lock.acquire(path_)));
    lock.release_and_remove();
  });
  ASSERT_EQ(child.result(), static_cast<int>(LockResult::taken));
  ASSERT_EQ(child.finish(), 0);
  EXPECT_FALSE(exists(path_));
  FlockRunLock lock;
  EXPECT_EQ(lock.acquire(path_), LockResult::taken);
}

TEST_F(FlockTest, ALockHeldWithTheFlockToolIsBusy) {
  test::write_file(path_, "");
  PosixProcessRunner runner;
  auto holder = runner.start({"flock", "--exclusive", path_, "sh", "-c", "echo locked; exec sleep 30"});
  std::string out;
  for (int i = 0; i < 100 && out.find("locked") == std::string::npos; ++i) {
    const ProcessOutput o = holder->read(100ms);
    out += o.out;
    ASSERT_FALSE(o.exited) << "flock(1) exited: " << o.err << " (util-linux provides flock)";
  }
  ASSERT_NE(out.find("locked"), std::string::npos);

  FlockRunLock lock;
  EXPECT_EQ(lock.acquire(path_), LockResult::busy);
  holder->terminate(5s);
  EXPECT_NE(lock.acquire(path_), LockResult::busy);
}

TEST_F(FlockTest, AMissingDirectoryThrowsNamingThePath) {
  FlockRunLock lock;
  const std::string path = dir_ + "/missing/lock";
  try {
    (void)lock.acquire(path);
    FAIL() << "acquire did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_FALSE(lock.held());
}

TEST_F(FlockTest, AnUnwritableDirectoryThrows) {
  // Root ignores permission bits, so the directory is made unwritable for real: a
  // read-only tmpfs.
  const std::string ro = dir_ + "/ro";
  ASSERT_EQ(::mkdir(ro.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", ro.c_str(), "tmpfs", MS_RDONLY, "size=1m"), 0) << std::strerror(errno);
  FlockRunLock lock;
  try {
    (void)lock.acquire(ro + "/lock");
    ADD_FAILURE() << "acquire did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EROFS);
    EXPECT_NE(std::string(e.what()).find(ro + "/lock"), std::string::npos) << e.what();
  }
  EXPECT_EQ(::umount(ro.c_str()), 0);
}

TEST_F(FlockTest, ASymlinkAtTheLockPathIsRefused) {
  const std::string target = dir_ + "/target";
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  FlockRunLock lock;
  try {
    (void)lock.acquire(path_);
    FAIL() << "acquire followed a symlink";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ELOOP);
  }
  EXPECT_FALSE(exists(target));
}

TEST_F(FlockTest, ReleaseThrowsWhenTheFileCannotBeDeletedAndStillDropsTheLock) {
  FlockRunLock lock;
  ASSERT_EQ(lock.acquire(path_), LockResult::taken);
  const std::string moved = dir_ + "/moved";
  ASSERT_EQ(::rename(path_.c_str(), moved.c_str()), 0);
  EXPECT_THROW(lock.release_and_remove(), std::system_error);
  EXPECT_FALSE(lock.held());
}

TEST_F(FlockTest, AcquiringTwiceWithOneObjectThrows) {
  FlockRunLock lock;
  ASSERT_EQ(lock.acquire(path_), LockResult::taken);
  EXPECT_THROW((void)lock.acquire(path_), std::system_error);
  EXPECT_TRUE(lock.held());
}

TEST_F(FlockTest, ProcessesRacingForTheLockNeverHoldItTogether) {
  // Each round: take the lock, prove nobody else is inside (O_EXCL marker), release.
  // Without the inode check a process could lock a file the previous holder had just
  // deleted while another locked the fresh one; without the empty-file rule a clean
  // race would be misreported as a dead run.
  const std::string marker = dir_ + "/inside";
  constexpr int kProcesses = 4;
  constexpr int kRounds = 200;
  const auto codes = test::run_in_children(kProcesses, [&](int) {
    int code = 0;
    try {
      FlockRunLock lock;
      for (int done = 0; done < kRounds;) {
        const LockResult r = lock.acquire(path_);
        if (r == LockResult::busy) {
          (void)::sched_yield();
          continue;
        }
        if (r == LockResult::taken_over_stale) code |= 2;
        const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
          code |= 1;
        } else {
          ::close(fd);
          (void)::unlink(marker.c_str());
        }
        lock.release_and_remove();
        ++done;
      }
    } catch (...) {
      code |= 4;
    }
    return code;
  });
  for (const int code : codes) {
    ASSERT_GE(code, 0) << "a child did not exit normally";
    EXPECT_EQ(code & 1, 0) << "two processes held the lock at once";
    EXPECT_EQ(code & 2, 0) << "a clean release was reported as a dead run";
    EXPECT_EQ(code & 4, 0) << "acquire or release threw";
  }
  EXPECT_FALSE(exists(path_));
}

// ---- job slots ----

class JobSlotsTest : public FlockTest {
 protected:
  void SetUp() override {
    FlockTest::SetUp();
    runtime_ = dir_ + "/run";
  }
  std::string runtime_;
};

TEST_F(JobSlotsTest, CreatesTheRuntimeDirectoryAndTheSlotFiles) {
  FlockJobSlots slots(runtime_);
  EXPECT_TRUE(slots.claim_disk("0B5E1C2A-7D4F-4C8E-9A61-3F2D8E7C6B5A"));
  EXPECT_TRUE(slots.try_claim_copy());
  struct stat st {};
  ASSERT_EQ(::stat(runtime_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_TRUE(exists(runtime_ + "/disk-0b5e1c2a-7d4f-4c8e-9a61-3f2d8e7c6b5a.lock"));
  EXPECT_TRUE(exists(runtime_ + "/copy.lock"));
}

TEST_F(JobSlotsTest, TheSameDiskCannotBeClaimedTwiceAcrossProcesses) {
  ForkedHolder child([&](const ForkedHolder::Report& report) {
    FlockJobSlots slots(runtime_);
    report(slots.claim_disk("ABCD-1234") ? 1 : 0);
  });
  ASSERT_EQ(child.result(), 1);

  FlockJobSlots slots(runtime_);
  EXPECT_FALSE(slots.claim_disk("ABCD-1234"));
  EXPECT_FALSE(slots.claim_disk("abcd-1234")) << "the same disk in other letter case";
  FlockJobSlots other(runtime_);
  EXPECT_TRUE(other.claim_disk("EF01-5678"));

  ASSERT_EQ(child.finish(), 0);
  EXPECT_TRUE(slots.claim_disk("ABCD-1234"));
}

TEST_F(JobSlotsTest, OnlyOneCopyRunsAtATime) {
  ForkedHolder child([&](const ForkedHolder::Report& report) {
    FlockJobSlots slots(runtime_);
    report(slots.try_claim_copy() ? 1 : 0);
  });
  ASSERT_EQ(child.result(), 1);
  FlockJobSlots slots(runtime_);
  EXPECT_FALSE(slots.try_claim_copy());
  ASSERT_EQ(child.finish(), 0);
  EXPECT_TRUE(slots.try_claim_copy());
  EXPECT_TRUE(slots.try_claim_copy()) << "claiming again what we hold";
}

TEST_F(JobSlotsTest, ReleaseLetsAnotherProcessIn) {
  FlockJobSlots slots(runtime_);
  ASSERT_TRUE(slots.claim_disk("ABCD-1234"));
  ASSERT_TRUE(slots.try_claim_copy());
  slots.release();
  ForkedHolder child([&](const ForkedHolder::Report& report) {
    FlockJobSlots theirs(runtime_);
    report((theirs.claim_disk("ABCD-1234") ? 1 : 0) + (theirs.try_claim_copy() ? 2 : 0));
  });
  EXPECT_EQ(child.result(), 3);
}

TEST_F(JobSlotsTest, RefusesUuidsThatAreNotFileNames) {
  FlockJobSlots slots(runtime_);
  EXPECT_THROW((void)slots.claim_disk("../../etc/x"), std::system_error);
  EXPECT_THROW((void)slots.claim_disk(""), std::system_error);
  EXPECT_FALSE(exists(dir_ + "/etc"));
}

TEST_F(JobSlotsTest, ASymlinkedSlotFileIsRefused) {
  ASSERT_EQ(::mkdir(runtime_.c_str(), 0755), 0);
  const std::string target = dir_ + "/elsewhere";
  ASSERT_EQ(::symlink(target.c_str(), (runtime_ + "/copy.lock").c_str()), 0);
  FlockJobSlots slots(runtime_);
  try {
    (void)slots.try_claim_copy();
    FAIL() << "followed a symlink";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ELOOP);
  }
  EXPECT_FALSE(exists(target));
}

}  // namespace
}  // namespace ubc
