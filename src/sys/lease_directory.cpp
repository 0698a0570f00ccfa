// SPDX-License-Identifier: MIT
#include "sys/lease_directory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

#include "core/lease.h"
#include "sys/dir.h"
#include "sys/fd_io.h"

namespace ubc {

namespace {

// Holders keep the coordination lock for a directory scan and one small file write, i.e.
// milliseconds. Someone holding it this long is stuck (stopped, hung on a dead disk), and
// veeam-lock must still answer well inside Veeam's script timeout.
constexpr std::chrono::seconds kCoordinationWait{30};
constexpr std::size_t kMaxLeaseFileSize = 64 * 1024;

// Opened read-only: flock() needs no write access, so a non-root veeam-lock user can share
// the file. Closing the fd drops the lock.
UniqueFd take_coordination_lock(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) throw errno_error("open", path);
  // flock() cannot time out, so poll it with backoff; the deadline keeps a stuck holder
  // from hanging a Veeam job until Veeam kills its script.
  const auto deadline = std::chrono::steady_clock::now() + kCoordinationWait;
  std::chrono::milliseconds pause{1};
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) throw errno_error("flock", path);
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::system_error(EWOULDBLOCK, std::generic_category(),
                              "flock '" + path + "': held by another process for " +
                                  std::to_string(kCoordinationWait.count()) + " s");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{20});
  }
  return fd;
}

// nullopt when the file vanished.
std::optional<Lease> read_lease(int dir_fd, const LeaseDirectorySettings& settings, const std::string& name) {
  std::string problem;
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::nullopt;
  struct stat st {};
  if (!fd) {
    problem = std::system_error(errno, std::generic_category(), "open").what();
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return std::nullopt;
  } else if (::fstat(fd.get(), &st) < 0) {
    throw errno_error("fstat", settings.path_of(name));
  } else if (!S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else {
    try {
      LeaseParse parsed = parse_lease(read_all(fd.get(), settings.path_of(name), kMaxLeaseFileSize), name);
      if (parsed.lease) return parsed.lease;
      problem = parsed.error;
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  // Not knowing whose lease it is, keep it live for a TTL from its last change: the safe
  // reading for a Veeam job that may be running, and it still cleans itself up.
  Lease lease;
  lease.job = "unreadable lease file " + name + " (" + problem + ")";
  lease.created_at = static_cast<std::int64_t>(st.st_mtime);
  lease.expires_at = lease.created_at + static_cast<std::int64_t>(settings.ttl_hours) * 3600;
  lease.file = name;
  return lease;
}

struct LeaseNames {
  std::vector<std::string> leases;
  std::vector<std::string> temps;  // ".<lease>.tmp": a writer's unfinished file
};

LeaseNames list_lease_names(int dir_fd, const std::string& directory) {
  LeaseNames names;
  for (std::string& name : directory_names(dir_fd, directory)) {
    if (is_lease_file_name(name))
      names.leases.push_back(std::move(name));
    else if (name.starts_with('.') && name.ends_with(std::string(kLeaseSuffix) + ".tmp"))
      names.temps.push_back(std::move(name));
  }
  return names;
}

std::vector<Lease> read_leases(int dir_fd, const LeaseDirectorySettings& settings,
                               const std::vector<std::string>& names) {
  std::vector<Lease> leases;
  for (const auto& name : names)
    if (auto lease = read_lease(dir_fd, settings, name)) leases.push_back(std::move(*lease));
  return leases;
}

void sort_by_creation(std::vector<Lease>& leases) {
  std::sort(leases.begin(), leases.end(), [](const Lease& a, const Lease& b) {
    return std::tie(a.created_at, a.file) < std::tie(b.created_at, b.file);
  });
}

}  // namespace

LeaseDirectorySettings::LeaseDirectorySettings(const Config& config)
    : directory(config.veeam_lockfiles),
      coordination_path(config.veeam_lockfile_path.empty()
                            ? config.veeam_lockfiles + "/" + std::string(kCoordinationFileName)
                            : config.veeam_lockfile_path),
      ttl_hours(config.veeam_lease_ttl_hours) {}

UniqueFd open_lease_directory(const std::string& directory) {
  for (int attempt = 0;; ++attempt) {
    UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) return fd;
    if (errno != ENOENT || attempt > 0) throw errno_error("open", directory);
    if (::mkdir(directory.c_str(), 0755) < 0 && errno != EEXIST) throw errno_error("mkdir", directory);
  }
}

// The directory first: it is created here, and the coordination file usually lives in it.
LockedLeaseDirectory::LockedLeaseDirectory(const LeaseDirectorySettings& settings)
    : settings_(settings),
      dir_(open_lease_directory(settings.directory)),
      lock_(take_coordination_lock(settings.coordination_path)) {}

bool LockedLeaseDirectory::remove(const std::string& name) {
  if (::unlinkat(dir_.get(), name.c_str(), 0) == 0) return true;
  if (errno == ENOENT) return false;
  throw errno_error("unlink", settings_.path_of(name));
}

LeaseScan LockedLeaseDirectory::scan_and_clean() {
  const LeaseNames names = list_lease_names(dir_.get(), settings_.directory);
  // Leases are written (write_file_atomic_at: ".<name>.tmp", then renamed) under the
  // coordination lock we hold, so a temporary file seen now is a dead writer's.
  for (const auto& name : names.temps) (void)::unlinkat(dir_.get(), name.c_str(), 0);
  LeasesByExpiry split =
      split_by_expiry(read_leases(dir_.get(), settings_, names.leases), static_cast<std::int64_t>(std::time(nullptr)));
  for (const auto& lease : split.expired) (void)remove(lease.file);
  sort_by_creation(split.live);
  return LeaseScan{std::move(split.live), std::move(split.expired)};
}

std::vector<Lease> read_live_leases(const LeaseDirectorySettings& settings) {
  UniqueFd dir(::open(settings.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) return {};
    throw errno_error("open", settings.directory);
  }
  const LeaseNames names = list_lease_names(dir.get(), settings.directory);
  std::vector<Lease> live = split_by_expiry(read_leases(dir.get(), settings, names.leases),
                                            static_cast<std::int64_t>(std::time(nullptr)))
                                .live;
  sort_by_creation(live);
  return live;
}

}  // namespace ubc
