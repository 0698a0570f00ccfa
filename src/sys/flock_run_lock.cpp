// SPDX-License-Identifier: MIT
#include "sys/flock_run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <system_error>
#include <utility>

#include "core/format.h"
#include "core/text.h"
#include "sys/fd_io.h"
#include "sys/process_info.h"

namespace ubc {

namespace {

constexpr int kOpenFlags = O_RDWR | O_NOFOLLOW | O_CLOEXEC;

// Non-blocking exclusive flock: false when someone else holds it.
bool try_flock(int fd, const std::string& path) {
  while (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) throw errno_error("flock", path);
  }
  return true;
}

void write_owner(int fd, const std::string& path) {
  const std::string line = std::to_string(::getpid()) + " " + host_name() + " " +
                           format_utc(static_cast<std::int64_t>(std::time(nullptr))) + "\n";
  if (::ftruncate(fd, 0) < 0) throw errno_error("ftruncate", path);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::pwrite(fd, line.data() + done, line.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errno_error("write", path);
    }
    done += static_cast<std::size_t>(n);
  }
}

void ensure_directory(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw errno_error("mkdir", path);
}

UniqueFd open_slot(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), kOpenFlags | O_CREAT, 0644));
  if (!fd) throw errno_error("open", path);
  return fd;
}

}  // namespace

LockResult FlockRunLock::acquire(const std::string& path) {
  if (fd_) throw std::system_error(EALREADY, std::generic_category(), "run lock already held: '" + path_ + "'");
  // A holder that releases deletes the file before closing it, so between our open and
  // our flock the file can vanish: we would then lock an unlinked inode while the next
  // process creates a fresh file. Compare inodes after locking and start over if so.
  for (;;) {
    bool existed = true;
    UniqueFd fd(::open(path.c_str(), kOpenFlags));
    if (!fd) {
      if (errno != ENOENT) throw errno_error("open", path);
      existed = false;
      fd.reset(::open(path.c_str(), kOpenFlags | O_CREAT | O_EXCL, 0644));
      if (!fd) {
        if (errno == EEXIST) continue;  // someone else created it just now
        throw errno_error("open", path);
      }
    }
    if (!try_flock(fd.get(), path)) return LockResult::busy;

    struct stat held {};
    struct stat now {};
    if (::fstat(fd.get(), &held) < 0) throw errno_error("fstat", path);
    if (::lstat(path.c_str(), &now) < 0) {
      if (errno == ENOENT) continue;
      throw errno_error("lstat", path);
    }
    if (held.st_dev != now.st_dev || held.st_ino != now.st_ino) continue;
    // An empty file that we could lock was created by a process starting at the same
    // moment, which has not locked it yet (it will find it busy): that is no dead run.
    // Every holder writes its line while holding the lock, so a dead run leaves text.
    const bool stale = existed && held.st_size > 0;

    try {
      write_owner(fd.get(), path);
    } catch (...) {
      // Do not leave behind a file that the next run would take for a dead run's lock.
      if (!existed) (void)::unlink(path.c_str());
      throw;
    }
    fd_ = std::move(fd);
    path_ = path;
    return stale ? LockResult::taken_over_stale : LockResult::taken;
  }
}

void FlockRunLock::release_and_remove() {
  if (!fd_) return;
  // Unlink while still holding the lock, so nobody can lock the old file in between and
  // believe they own the run (see the inode check in acquire).
  const int unlink_result = ::unlink(path_.c_str());
  const int unlink_errno = errno;
  fd_.reset();
  if (unlink_result < 0) {
    throw std::system_error(unlink_errno, std::generic_category(), "unlink '" + path_ + "'");
  }
}

FlockJobSlots::FlockJobSlots(std::string runtime_directory) : directory_(std::move(runtime_directory)) {}

bool FlockJobSlots::claim_disk(const std::string& uuid) {
  if (uuid.empty()) throw std::system_error(EINVAL, std::generic_category(), "empty disk UUID");
  const auto stem = uuid_file_stem(uuid);
  if (!stem) throw std::system_error(EINVAL, std::generic_category(), "disk UUID '" + uuid + "' as a lock file name");
  const std::string& name = *stem;
  if (disk_ && name == disk_uuid_) return true;

  ensure_directory(directory_, 0755);
  const std::string path = directory_ + "/disk-" + name + ".lock";
  UniqueFd fd = open_slot(path);
  if (!try_flock(fd.get(), path)) return false;
  disk_ = std::move(fd);
  disk_uuid_ = name;
  return true;
}

bool FlockJobSlots::try_claim_copy() {
  if (copy_) return true;
  ensure_directory(directory_, 0755);
  const std::string path = directory_ + "/copy.lock";
  UniqueFd fd = open_slot(path);
  if (!try_flock(fd.get(), path)) return false;
  copy_ = std::move(fd);
  return true;
}

void FlockJobSlots::release() {
  disk_.reset();
  disk_uuid_.clear();
  copy_.reset();
}

}  // namespace ubc
