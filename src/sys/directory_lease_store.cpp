// SPDX-License-Identifier: MIT
#include "sys/directory_lease_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <utility>

#include "core/lease.h"
#include "sys/fd_io.h"
#include "sys/process_info.h"

namespace ubc {

namespace {

constexpr std::size_t kMaxMarkerSize = 64 * 1024;

// Eight hex digits that make the lease file name unique even for two calls of one pid
// in one second. GRND_NONBLOCK: right after boot the pool may not be ready, and a lease
// name needs no cryptographic quality, so fall back to the clock then.
std::string make_nonce() {
  std::uint32_t value = 0;
  if (::getrandom(&value, sizeof value, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof value)) {
    timespec ts{};
    (void)::clock_gettime(CLOCK_MONOTONIC, &ts);
    value = static_cast<std::uint32_t>(ts.tv_nsec) ^ static_cast<std::uint32_t>(::getpid() << 16);
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", value);
  return buf;
}

// `pid=..` and `disk=..` lines of copier.active.
CopierState parse_copier(const std::string& text) {
  CopierState state;
  state.active = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.starts_with("pid=")) {
      try {
        state.pid = std::stoi(line.substr(4));
      } catch (const std::exception&) {
        state.pid = 0;
      }
    } else if (line.starts_with("disk=")) {
      state.disk = line.substr(5);
    }
  }
  return state;
}

}  // namespace

DirectoryLeaseStore::DirectoryLeaseStore(const Config& config) : settings_(config) {}

Lease DirectoryLeaseStore::write_lease(int dir_fd, const std::string& job) {
  Lease lease = make_lease(job, host_name(), process_id(), static_cast<std::int64_t>(std::time(nullptr)),
                           settings_.ttl_hours);
  lease.file = lease_file_name(lease, make_nonce());
  // The lease appears complete under its final name in one step (inotify: IN_MOVED_TO).
  // Synced first, or a crash could leave an empty lease that keeps copies out for a whole
  // TTL; the directory is not: a lease lost in a crash belongs to a Veeam job the crash
  // ended too. The name is unique (pid, nonce) and we hold the lock, so nothing is replaced.
  write_file_atomic_at(dir_fd, settings_.directory, lease.file, format_lease(lease), 0644);
  return lease;
}

CopierState DirectoryLeaseStore::probe_copier(int dir_fd) {
  const std::string path = settings_.path_of(kCopierMarkerName);
  UniqueFd fd(::openat(dir_fd, std::string(kCopierMarkerName).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    throw errno_error("open", path);
  }
  // Copiers hold a shared lock; an exclusive one is granted only when none does. If we get
  // it, closing the fd gives it straight back.
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return {};
    if (errno == EWOULDBLOCK) break;
    if (errno != EINTR) throw errno_error("flock", path);
  }
  try {
    return parse_copier(read_all(fd.get(), path, kMaxMarkerSize));
  } catch (const std::exception&) {
    CopierState state;
    state.active = true;  // the lock says so; only the details are missing
    return state;
  }
}

LeaseCreated DirectoryLeaseStore::create_lease(const std::string& job) {
  if (const auto problem = job_name_problem(job)) throw std::invalid_argument(*problem);
  LeaseCreated created;
  LockedLeaseDirectory locked(settings_);
  LeaseScan scan = locked.scan_and_clean();
  created.others = std::move(scan.live);
  created.expired = std::move(scan.expired);
  created.lease = write_lease(locked.fd(), job);
  // Still under the lock: a copier that enters after this sees our lease and stays out,
  // so this answer can only go from "active" to "left", never back.
  created.copier = probe_copier(locked.fd());
  return created;
}

CopierState DirectoryLeaseStore::copier_state() {
  const UniqueFd dir = open_lease_directory(settings_.directory);
  return probe_copier(dir.get());
}

bool DirectoryLeaseStore::remove_lease(const Lease& lease) {
  if (!is_lease_file_name(lease.file) || lease.file.find('/') != std::string::npos)
    throw std::invalid_argument("not a lease file name: '" + lease.file + "'");
  LockedLeaseDirectory locked(settings_);
  return locked.remove(lease.file);
}

LeaseRemoval DirectoryLeaseStore::remove_oldest_lease(const std::string& job) {
  LeaseRemoval removal;
  LockedLeaseDirectory locked(settings_);
  LeaseScan scan = locked.scan_and_clean();
  removal.expired = std::move(scan.expired);
  removal.removed = lease_to_remove(scan.live, job);
  if (removal.removed) {
    (void)locked.remove(removal.removed->file);
    std::erase_if(scan.live, [&](const Lease& l) { return l.file == removal.removed->file; });
  }
  removal.live = std::move(scan.live);
  return removal;
}

LeaseListing DirectoryLeaseStore::list_leases() {
  LeaseListing listing;
  LockedLeaseDirectory locked(settings_);
  LeaseScan scan = locked.scan_and_clean();
  listing.live = std::move(scan.live);
  listing.expired = std::move(scan.expired);
  listing.copier = probe_copier(locked.fd());
  return listing;
}

}  // namespace ubc
