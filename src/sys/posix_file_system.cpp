// SPDX-License-Identifier: MIT
#include "sys/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>

#include "sys/dir.h"
#include "sys/fd_io.h"
#include "sys/libmount_mounter.h"
#include "sys/unique_fd.h"

namespace ubc {

namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

bool is_left_out(const std::vector<std::string>* leave_out, const char* name) {
  if (leave_out == nullptr) return false;
  for (const auto& s : *leave_out)
    if (s == name) return true;
  return false;
}

// What a walk's visitor needs of each entry other than a directory.
enum class Need {
  stat,       // all of its stat
  type_only,  // only the type in st_mode: taken from the directory entry where the
              // filesystem gives it (ext4, xfs, btrfs do), without reading the inode --
              // on a cold cache the inode reads are most of a walk over many small files
};

// Calls visit(relative path, stat) for every entry below the directory open as fd (a
// directory before what it holds), staying on device dev and never following a symlink.
// One fd per level: deep trees cost fds, but no path is ever longer than one name.
// leave_out applies to the top level only.
template <Need need, typename Visit>
void walk_below(UniqueFd fd, dev_t dev, const std::string& path, const std::string& relative,
                const std::vector<std::string>* leave_out, const Visit& visit) {
  DirStream dir(std::move(fd), path);
  while (const dirent* entry = dir.next()) {
    if (is_left_out(leave_out, entry->d_name)) continue;
    const std::string child_relative = relative.empty() ? entry->d_name : relative + "/" + entry->d_name;
    struct stat st {};
    if (need == Need::type_only && entry->d_type != DT_UNKNOWN && entry->d_type != DT_DIR) {
      st.st_mode = DTTOIF(entry->d_type);
      visit(child_relative, st);
      continue;
    }
    const std::string child = path + "/" + entry->d_name;
    if (::fstatat(dir.fd(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted while we looked
      throw_errno(errno, "fstatat '" + child + "'");
    }
    if (!S_ISDIR(st.st_mode)) {
      visit(child_relative, st);
      continue;
    }
    if (st.st_dev != dev) continue;  // another mount: not part of this tree
    visit(child_relative, st);
    UniqueFd sub(::openat(dir.fd(), entry->d_name,
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      if (errno == ENOENT) continue;
      throw_errno(errno, "openat '" + child + "'");
    }
    walk_below<need>(std::move(sub), dev, child, child_relative, nullptr, visit);
  }
}

template <Need need = Need::stat, typename Visit>
void walk_tree(const std::string& root, const std::vector<std::string>& leave_out, const Visit& visit) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw_errno(errno, "open '" + root + "'");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(errno, "fstat '" + root + "'");
  walk_below<need>(std::move(fd), st.st_dev, root, "", &leave_out, visit);
}

}  // namespace

PathKind PosixFileSystem::kind(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return PathKind::missing;
    throw_errno(errno, "lstat '" + path + "'");
  }
  if (S_ISDIR(st.st_mode)) return PathKind::directory;
  if (S_ISREG(st.st_mode)) return PathKind::file;
  return PathKind::other;
}

bool PosixFileSystem::readable_directory(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return false;
  // Opening can succeed where listing fails (a directory with r but no x, or an I/O error
  // on a dying disk): read one entry to be sure.
  try {
    DirStream dir(std::move(fd), path);
    (void)dir.next();
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

std::vector<std::string> PosixFileSystem::list_entries(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno(errno, "open '" + path + "'");
  return directory_names(fd.get(), path);
}

std::uint64_t PosixFileSystem::count_files_recursive(const std::string& path,
                                                    const std::vector<std::string>& leave_out) {
  std::uint64_t count = 0;
  walk_tree<Need::type_only>(path, leave_out, [&](const std::string&, const struct stat& st) {
    if (!S_ISDIR(st.st_mode)) ++count;
  });
  return count;
}

void PosixFileSystem::walk_files(const std::string& root, const std::vector<std::string>& leave_out,
                                 const FileVisitor& visit) {
  walk_tree(root, leave_out, [&](const std::string& relative, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return;
    visit(relative, FileStamp{static_cast<std::uint64_t>(st.st_size),
                              static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
  });
}

void PosixFileSystem::walk_directories(const std::string& root, const std::vector<std::string>& leave_out,
                                       const DirectoryVisitor& visit) {
  walk_tree<Need::type_only>(root, leave_out, [&](const std::string& relative, const struct stat& st) {
    if (S_ISDIR(st.st_mode)) visit(relative);
  });
}

void PosixFileSystem::walk_special(const std::string& root, const std::vector<std::string>& leave_out,
                                   const SpecialVisitor& visit) {
  walk_tree<Need::type_only>(root, leave_out, [&](const std::string& relative, const struct stat& st) {
    if (S_ISLNK(st.st_mode)) visit(relative, SpecialKind::symlink);
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) visit(relative, SpecialKind::device);
    else if (S_ISFIFO(st.st_mode)) visit(relative, SpecialKind::fifo);
    else if (S_ISSOCK(st.st_mode)) visit(relative, SpecialKind::socket);
  });
}

bool PosixFileSystem::is_mountpoint(const std::string& path) {
  // The mount table, not st_dev: a bind mount of a directory on the same filesystem has the
  // same st_dev as its parent and would be missed.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno(errno, "realpath '" + path + "'");
  }
  for (const auto& entry : read_mount_table())
    if (entry.target == resolved) return true;
  return false;
}

std::optional<std::uint64_t> PosixFileSystem::file_size(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw_errno(errno, "lstat '" + path + "'");
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

SpaceInfo PosixFileSystem::space(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) throw_errno(errno, "statvfs '" + path + "'");
  SpaceInfo info;
  // f_bavail leaves out blocks reserved for root (ext4's 5 %): rsync should not count on
  // them, and df shows the same figure as "Avail".
  info.free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  info.total_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  return info;
}

std::optional<std::string> PosixFileSystem::read_file(const std::string& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: a FIFO put in place of a state file must not block the open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) throw_errno(errno, "'" + path + "' is a symbolic link, not a file");
    throw_errno(errno, "open '" + path + "'");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(errno, "fstat '" + path + "'");
  if (!S_ISREG(st.st_mode)) throw_errno(EINVAL, "'" + path + "' is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw_errno(EFBIG, "'" + path + "' holds " + std::to_string(st.st_size) + " bytes, more than the " +
                           std::to_string(max_bytes) + " such a file may have");
  return read_all(fd.get(), path, max_bytes);
}

void PosixFileSystem::write_atomic(const std::string& path, const std::string& data,
                                   unsigned mode) {
  // The directory is synced too: the rename must be durable for state.json on the disk.
  write_file_atomic(path, path + ".tmp", data, mode, true);
}

void PosixFileSystem::append(const std::string& path, const std::string& data) {
  // O_NONBLOCK: a FIFO put in place of the run log on a disk must not block the open.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd) throw_errno(errno, "open '" + path + "'");
  require_regular_file(fd.get(), path);
  write_all(fd.get(), data, path);
  if (::close(fd.release()) != 0) throw_errno(errno, "close '" + path + "'");
}

bool PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw_errno(errno, "unlink '" + path + "'");
}

void PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw_errno(errno, "rename '" + from + "' to '" + to + "'");
}

bool PosixFileSystem::remove_empty_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat before {};
  const bool have_times = ::lstat(parent.c_str(), &before) == 0;
  if (::rmdir(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) return false;
    throw_errno(errno, "rmdir '" + path + "'");
  }
  if (have_times) {
    const timespec times[2] = {before.st_atim, before.st_mtim};
    if (::utimensat(AT_FDCWD, parent.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
      throw_errno(errno, "utimensat '" + parent + "'");
  }
  return true;
}

void PosixFileSystem::make_directories(const std::string& path, unsigned mode) {
  if (path.empty()) throw_errno(EINVAL, "make_directories ''");
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const std::string part = path.substr(0, pos);
    if (part.empty() || part.back() == '/') continue;  // "//" or a trailing slash
    if (::mkdir(part.c_str(), static_cast<mode_t>(mode)) == 0) {
      if (::chmod(part.c_str(), static_cast<mode_t>(mode)) != 0)
        throw_errno(errno, "chmod '" + part + "'");
      continue;
    }
    if (errno != EEXIST) throw_errno(errno, "mkdir '" + part + "'");
    // Existing components may be symlinks to directories (/var/run -> /run): follow them.
    struct stat st {};
    if (::stat(part.c_str(), &st) != 0) throw_errno(errno, "stat '" + part + "'");
    if (!S_ISDIR(st.st_mode)) throw_errno(ENOTDIR, "mkdir '" + part + "'");
  }
}

void PosixFileSystem::rename_no_replace(const std::string& from, const std::string& to) {
  // RENAME_NOREPLACE: plain rename(2) silently replaces an empty directory at `to`.
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0)
    throw_errno(errno, "rename '" + from + "' to '" + to + "'");
  sync_parent_directory(to);
  if (from.substr(0, from.find_last_of('/')) != to.substr(0, to.find_last_of('/'))) sync_parent_directory(from);
}

void PosixFileSystem::replace_symlink(const std::string& path, const std::string& target) {
  const std::string tmp = path + ".tmp";
  // A link left at tmp by a crash: symlink(2) does not replace anything.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) throw_errno(errno, "unlink '" + tmp + "'");
  if (::symlink(target.c_str(), tmp.c_str()) != 0) throw_errno(errno, "symlink '" + tmp + "'");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    (void)::unlink(tmp.c_str());
    throw_errno(error, "rename '" + tmp + "' to '" + path + "'");
  }
  sync_parent_directory(path);
}

bool PosixFileSystem::remove_tree(const std::string& path) {
  // remove_all removes symlinks themselves and never descends through them.
  std::error_code error;
  const auto removed = std::filesystem::remove_all(path, error);
  if (error) throw std::system_error(error, "remove_all '" + path + "'");
  if (removed == 0) return false;
  sync_parent_directory(path);
  return true;
}

std::uint64_t PosixFileSystem::bytes_freed_by_removing(const std::vector<std::string>& roots) {
  // An inode's blocks are freed when its last link goes: count the links met within roots
  // and compare with st_nlink.
  struct Inode {
    nlink_t seen = 0;
    nlink_t links = 0;
    std::uint64_t bytes = 0;
  };
  std::map<std::pair<dev_t, ino_t>, Inode> inodes;
  for (const auto& root : roots)
    walk_tree(root, {}, [&](const std::string&, const struct stat& st) {
      if (!S_ISREG(st.st_mode)) return;
      Inode& inode = inodes[{st.st_dev, st.st_ino}];
      ++inode.seen;
      inode.links = st.st_nlink;
      inode.bytes = static_cast<std::uint64_t>(st.st_blocks) * 512;  // st_blocks counts 512-byte units
    });
  std::uint64_t freed = 0;
  for (const auto& [key, inode] : inodes)
    if (inode.seen >= inode.links) freed += inode.bytes;
  return freed;
}

bool PosixFileSystem::clone_file(const std::string& from, const std::string& to) {
  // O_NONBLOCK: a FIFO in place of the file must not block the open; it is refused below.
  UniqueFd source(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!source) throw_errno(errno, "open '" + from + "'");
  require_regular_file(source.get(), from);
  // A fresh name in to's directory (the same filesystem, for FICLONE and the rename),
  // created O_EXCL with mode 0600: whatever lies at `to` is replaced, never written into.
  const auto slash = to.find_last_of('/');
  std::string tmp = (slash == std::string::npos ? std::string() : to.substr(0, slash + 1)) + ".ubc-clone.XXXXXX";
  UniqueFd target(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!target) throw_errno(errno, "mkostemp '" + tmp + "'");
  if (::ioctl(target.get(), FICLONE, source.get()) != 0) {
    const int error = errno;
    (void)::unlink(tmp.c_str());
    // EOPNOTSUPP: no reflink in this filesystem (ext4, tmpfs); EXDEV: the two files lie on
    // two filesystems; EINVAL: xfs made without reflink; ENOTTY: a filesystem that knows
    // no such ioctl at all.
    if (error == EOPNOTSUPP || error == EXDEV || error == EINVAL || error == ENOTTY) return false;
    throw_errno(error, "ioctl FICLONE '" + from + "' to '" + tmp + "'");
  }
  // The epoch, not the time of the clone: a clone made in the second its source was last
  // written would otherwise have the source's size and time, and rsync's quick check would
  // take a clone that an interrupted update left half-done for up to date.
  const struct timespec times[2] = {{0, UTIME_OMIT}, {0, 0}};
  if (::futimens(target.get(), times) != 0) {
    const int error = errno;
    (void)::unlink(tmp.c_str());
    throw_errno(error, "futimens '" + tmp + "'");
  }
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    const int error = errno;
    (void)::unlink(tmp.c_str());
    throw_errno(error, "rename '" + tmp + "' to '" + to + "'");
  }
  return true;
}

}  // namespace ubc
