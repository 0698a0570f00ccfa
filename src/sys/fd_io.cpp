// SPDX-License-Identifier: MIT
#include "sys/fd_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/unique_fd.h"

namespace ubc {

std::system_error errno_error(const std::string& call, const std::string& path, int error) {
  return std::system_error(error, std::generic_category(), call + " '" + path + "'");
}

std::string read_all(int fd, const std::string& path, std::uint64_t max_bytes) {
  std::string data;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errno_error("read", path);
    }
    if (n == 0) return data;
    if (data.size() + static_cast<std::size_t>(n) > max_bytes) throw errno_error("read", path, EFBIG);
    data.append(buffer, static_cast<std::size_t>(n));
  }
}

void require_regular_file(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw errno_error("fstat", path);
  if (!S_ISREG(st.st_mode))
    throw std::system_error(EINVAL, std::generic_category(), "'" + path + "' is not a regular file");
}

void write_all(int fd, std::string_view data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errno_error("write", path);
    }
    done += static_cast<std::size_t>(n);
  }
}

void write_file_atomic_at(int dir_fd, const std::string& dir_path, const std::string& name,
                          std::string_view data, unsigned mode) {
  const std::string tmp = "." + name + ".tmp";
  const std::string tmp_path = dir_path + "/" + tmp;
  {
    UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         static_cast<mode_t>(mode)));
    if (!fd) throw errno_error("open", tmp_path);
    try {
      write_all(fd.get(), data, tmp_path);
      if (::fsync(fd.get()) < 0) throw errno_error("fsync", tmp_path);
    } catch (...) {
      (void)::unlinkat(dir_fd, tmp.c_str(), 0);
      throw;
    }
  }
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) < 0) {
    const std::system_error error = errno_error("rename", tmp_path);
    (void)::unlinkat(dir_fd, tmp.c_str(), 0);
    throw error;
  }
}

void write_file_atomic(const std::string& path, const std::string& tmp, std::string_view data,
                       unsigned mode, bool sync_directory, const FileOwner* owner) {
  // Whatever is at tmp -- left by a crash, or planted on a disk: a symlink that would
  // redirect a root write elsewhere, a FIFO that would block the open for ever, a device
  // node -- is removed, never opened (unlink takes the entry itself), and O_EXCL makes the
  // file written the one created here. The final rename replaces a symlink at path itself;
  // it never writes through it.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) throw errno_error("unlink", tmp);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     static_cast<mode_t>(mode)));
  if (!fd) throw errno_error("open", tmp);
  try {
    if (owner != nullptr && ::fchown(fd.get(), owner->uid, owner->gid) != 0)
      throw errno_error("fchown", tmp);
    // The umask narrows the mode of a new file: set it explicitly (readers may run as
    // other users).
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) throw errno_error("fchmod", tmp);
    write_all(fd.get(), data, tmp);
    if (::fsync(fd.get()) != 0) throw errno_error("fsync", tmp);
    // close() can report a delayed write error (NFS, FUSE): check it before the rename.
    if (::close(fd.release()) != 0) throw errno_error("close", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw errno_error("rename '" + tmp + "' to", path);
  } catch (...) {
    (void)::unlink(tmp.c_str());
    throw;
  }
  if (sync_directory) sync_parent_directory(path);
}

void sync_parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) throw errno_error("open", dir);
  if (::fsync(dir_fd.get()) != 0 && errno != EINVAL)  // EINVAL: fsync on dirs unsupported
    throw errno_error("fsync", dir);
}

void rewrite_file(const std::string& path, std::string_view data) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw errno_error("stat", path);
  const FileOwner owner{st.st_uid, st.st_gid};
  write_file_atomic(path, path + ".tmp", data, st.st_mode & 07777, true, &owner);
}

}  // namespace ubc
