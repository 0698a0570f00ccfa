// SPDX-License-Identifier: MIT
#include "sys/lease_directory.h"
#include "sys/fd_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

#include "core/format.h"
#include "core/lease.h"
#include "sys/process_info.h"

namespace ubc {

namespace {

// Holders keep the coordination lock for a directory scan and one small file write, i.e.
// milliseconds. Someone holding it this long is stuck (stopped, hung on a dead disk), and
// veeam-lock must still answer well inside Veeam's script timeout.
constexpr std::chrono::seconds kCoordinationWait{30};
constexpr std::size_t kMaxLeaseFileSize = 64 * 1024;
constexpr std::string_view kTempSuffix = ".tmp";

struct DirCloser {
  void operator()(DIR* dir) const noexcept { (void)::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string join(const std::string& dir, std::string_view name) { return dir + "/" + std::string(name); }

// The exclusive flock on the coordination file, for one check-and-act. Opened read-only:
// flock() needs no write access, so a non-root veeam-lock user can share the file.
class CoordinationLock {
 public:
  explicit CoordinationLock(const std::string& path) {
    fd_.reset(::open(path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd_) throw errno_error("open", path);
    // flock() cannot time out, so poll it with backoff; the deadline keeps a stuck holder
    // from hanging a Veeam job until Veeam kills its script.
    const auto deadline = std::chrono::steady_clock::now() + kCoordinationWait;
    std::chrono::milliseconds pause{1};
    while (::flock(fd_.get(), LOCK_EX | LOCK_NB) < 0) {
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) throw errno_error("flock", path);
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::system_error(EWOULDBLOCK, std::generic_category(),
                                "flock '" + path + "': held by another process for " +
                                    std::to_string(kCoordinationWait.count()) + " s");
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds{20});
    }
  }
  // Closing the fd drops the lock.
  CoordinationLock(const CoordinationLock&) = delete;
  CoordinationLock& operator=(const CoordinationLock&) = delete;

 private:
  UniqueFd fd_;
};

std::int64_t now_unix() { return static_cast<std::int64_t>(std::time(nullptr)); }

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

LeaseDirectory::LeaseDirectory(const Config& config, std::string disk)
    : directory_(config.veeam_lockfiles),
      coordination_path_(config.veeam_lockfile_path.empty()
                             ? join(config.veeam_lockfiles, kCoordinationFileName)
                             : config.veeam_lockfile_path),
      ttl_hours_(config.veeam_lease_ttl_hours),
      disk_(std::move(disk)) {}

LeaseDirectory::~LeaseDirectory() { leave(); }

UniqueFd LeaseDirectory::open_directory() {
  for (int attempt = 0;; ++attempt) {
    UniqueFd fd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) return fd;
    if (errno != ENOENT || attempt > 0) throw errno_error("open", directory_);
    if (::mkdir(directory_.c_str(), 0755) < 0 && errno != EEXIST) throw errno_error("mkdir", directory_);
  }
}

std::optional<Lease> LeaseDirectory::read_lease(int dir_fd, const std::string& name) {
  const std::string path = join(directory_, name);
  std::string problem;
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::nullopt;
  struct stat st {};
  if (!fd) {
    problem = std::system_error(errno, std::generic_category(), "open").what();
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return std::nullopt;
  } else if (::fstat(fd.get(), &st) < 0) {
    throw errno_error("fstat", path);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else {
    try {
      LeaseParse parsed = parse_lease(read_all(fd.get(), path, kMaxLeaseFileSize), name);
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
  lease.expires_at = lease.created_at + static_cast<std::int64_t>(ttl_hours_) * 3600;
  lease.file = name;
  return lease;
}

LeaseDirectory::Names LeaseDirectory::read_names(int dir_fd) {
  const int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) throw errno_error("fcntl(F_DUPFD_CLOEXEC)", directory_);
  DirPtr dir(::fdopendir(dup_fd));
  if (!dir) {
    const int error = errno;
    (void)::close(dup_fd);
    throw errno_error("fdopendir", directory_, error);
  }
  Names names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) throw errno_error("readdir", directory_);
      break;
    }
    const std::string_view name = entry->d_name;
    if (is_lease_file_name(name)) names.leases.emplace_back(name);
    else if (name.starts_with('.') && name.ends_with(std::string(kLeaseSuffix) + std::string(kTempSuffix)))
      names.temps.emplace_back(name);
  }
  return names;
}

std::vector<Lease> LeaseDirectory::read_leases(int dir_fd, const std::vector<std::string>& names) {
  std::vector<Lease> leases;
  for (const auto& name : names)
    if (auto lease = read_lease(dir_fd, name)) leases.push_back(std::move(*lease));
  return leases;
}

void LeaseDirectory::sort_by_creation(std::vector<Lease>& leases) {
  std::sort(leases.begin(), leases.end(), [](const Lease& a, const Lease& b) {
    return std::tie(a.created_at, a.file) < std::tie(b.created_at, b.file);
  });
}

LeaseDirectory::Scan LeaseDirectory::scan_and_clean(int dir_fd) {
  const Names names = read_names(dir_fd);
  // Leases are written under the coordination lock we hold, so a temporary file seen now
  // is what a writer left behind when it died.
  for (const auto& name : names.temps) (void)::unlinkat(dir_fd, name.c_str(), 0);
  LeasesByExpiry split = split_by_expiry(read_leases(dir_fd, names.leases), now_unix());
  for (const auto& lease : split.expired)
    if (::unlinkat(dir_fd, lease.file.c_str(), 0) < 0 && errno != ENOENT)
      throw errno_error("unlink", join(directory_, lease.file));
  sort_by_creation(split.live);
  return Scan{std::move(split.live), std::move(split.expired)};
}

std::vector<Lease> LeaseDirectory::read_live_leases() {
  UniqueFd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) return {};
    throw errno_error("open", directory_);
  }
  std::vector<Lease> live = split_by_expiry(read_leases(dir.get(), read_names(dir.get()).leases), now_unix()).live;
  sort_by_creation(live);
  return live;
}

Lease LeaseDirectory::write_lease(int dir_fd, const std::string& job) {
  Lease lease = make_lease(job, host_name(), process_id(), now_unix(), ttl_hours_);
  lease.file = lease_file_name(lease, make_nonce());
  const std::string temp = "." + lease.file + std::string(kTempSuffix);
  const std::string temp_path = join(directory_, temp);
  {
    UniqueFd fd(::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) throw errno_error("open", temp_path);
    try {
      write_all(fd.get(), format_lease(lease), temp_path);
      // Without it a crash can leave an empty lease behind the rename, which would then
      // keep copies out for a whole TTL. The directory is not synced: a lease lost in a
      // crash belongs to a Veeam job that the crash ended too.
      if (::fsync(fd.get()) < 0) throw errno_error("fsync", temp_path);
    } catch (...) {
      (void)::unlinkat(dir_fd, temp.c_str(), 0);
      throw;
    }
  }
  // The lease appears complete under its final name in one step (inotify: IN_MOVED_TO).
  if (::renameat2(dir_fd, temp.c_str(), dir_fd, lease.file.c_str(), RENAME_NOREPLACE) < 0) {
    // Filesystems without RENAME_NOREPLACE: the name is unique and we hold the lock.
    if (errno != EINVAL || ::renameat(dir_fd, temp.c_str(), dir_fd, lease.file.c_str()) < 0) {
      const int error = errno;
      (void)::unlinkat(dir_fd, temp.c_str(), 0);
      throw errno_error("rename", join(directory_, lease.file), error);
    }
  }
  return lease;
}

CopierState LeaseDirectory::probe_copier(int dir_fd) {
  const std::string path = join(directory_, kCopierMarkerName);
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
    return parse_copier(read_all(fd.get(), path, kMaxLeaseFileSize));
  } catch (const std::exception&) {
    CopierState state;
    state.active = true;  // the lock says so; only the details are missing
    return state;
  }
}

GateResult LeaseDirectory::try_enter() {
  leave();
  GateResult result;
  UniqueFd dir = open_directory();
  // The watch exists before we look, so no lease created after our look goes unseen.
  ensure_watch();
  CoordinationLock lock(coordination_path_);
  Scan scan = scan_and_clean(dir.get());
  result.expired = std::move(scan.expired);
  if (!scan.live.empty()) {
    result.live = std::move(scan.live);
    return result;
  }
  const std::string path = join(directory_, kCopierMarkerName);
  UniqueFd fd(::openat(dir.get(), std::string(kCopierMarkerName).c_str(),
                       O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) throw errno_error("open", path);
  // Shared: two copiers may read at once. It may wait a moment for veeam-lock's exclusive
  // probe, which is always non-blocking and let go at once.
  while (::flock(fd.get(), LOCK_SH) < 0)
    if (errno != EINTR) throw errno_error("flock", path);
  const std::string content =
      "pid=" + std::to_string(::getpid()) + "\ndisk=" + disk_ + "\nsince=" + format_utc(now_unix()) + "\n";
  if (::ftruncate(fd.get(), 0) < 0) throw errno_error("ftruncate", path);
  if (::pwrite(fd.get(), content.data(), content.size(), 0) < 0) throw errno_error("write", path);
  // Still under the lock, so whatever is queued now happened before we entered.
  (void)drain_events();
  appeared_ = false;
  active_fd_ = std::move(fd);
  result.entered = true;
  return result;
}

void LeaseDirectory::leave() {
  active_fd_.reset();
  appeared_ = false;
}

void LeaseDirectory::ensure_watch() {
  if (inotify_fd_) return;
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) throw errno_error("inotify_init1", directory_);
  constexpr std::uint32_t mask =
      IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
  if (::inotify_add_watch(fd.get(), directory_.c_str(), mask) < 0)
    throw errno_error("inotify_add_watch", directory_);
  inotify_fd_ = std::move(fd);
}

bool LeaseDirectory::drain_events() {
  if (!inotify_fd_) return true;  // lost earlier: the caller must look again
  bool lease_arrived = false;
  alignas(inotify_event) std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(inotify_fd_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return lease_arrived;
      throw errno_error("read(inotify)", directory_);
    }
    for (ssize_t off = 0; off < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buf.data() + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) lease_arrived = true;  // events were dropped
      if (event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        // The directory went away or moved: the watch sees nothing more. The next
        // try_enter makes a new one.
        inotify_fd_.reset();
        return true;
      }
      if ((event->mask & (IN_CREATE | IN_MOVED_TO)) && event->len > 0 && is_lease_file_name(event->name))
        lease_arrived = true;
    }
  }
}

bool LeaseDirectory::lease_appeared() {
  if (!appeared_) appeared_ = drain_events();
  return appeared_;
}

void LeaseDirectory::wait_for_change(std::chrono::milliseconds timeout) {
  if (!inotify_fd_) {
    (void)open_directory();
    ensure_watch();
  }
  pollfd pfd{inotify_fd_.get(), POLLIN, 0};
  const int ms = static_cast<int>(std::clamp<std::int64_t>(timeout.count(), 0, 24 * 3600 * 1000));
  const int ready = ::poll(&pfd, 1, ms);
  if (ready < 0) {
    if (errno == EINTR) return;  // a signal: the caller checks for a stop request
    throw errno_error("poll(inotify)", directory_);
  }
  if (ready > 0 && drain_events() && active_fd_) appeared_ = true;
}

LeaseCreated LeaseDirectory::create_lease(const std::string& job) {
  if (const auto problem = job_name_problem(job)) throw std::invalid_argument(*problem);
  LeaseCreated created;
  UniqueFd dir = open_directory();
  CoordinationLock lock(coordination_path_);
  Scan scan = scan_and_clean(dir.get());
  created.others = std::move(scan.live);
  created.expired = std::move(scan.expired);
  created.lease = write_lease(dir.get(), job);
  // Still under the lock: a copier that enters after this sees our lease and stays out,
  // so this answer can only go from "active" to "left", never back.
  created.copier = probe_copier(dir.get());
  return created;
}

CopierState LeaseDirectory::copier_state() {
  UniqueFd dir = open_directory();
  return probe_copier(dir.get());
}

bool LeaseDirectory::remove_lease(const Lease& lease) {
  if (!is_lease_file_name(lease.file) || lease.file.find('/') != std::string::npos)
    throw std::invalid_argument("not a lease file name: '" + lease.file + "'");
  UniqueFd dir = open_directory();
  CoordinationLock lock(coordination_path_);
  if (::unlinkat(dir.get(), lease.file.c_str(), 0) == 0) return true;
  if (errno == ENOENT) return false;
  throw errno_error("unlink", join(directory_, lease.file));
}

LeaseRemoval LeaseDirectory::remove_oldest_lease(const std::string& job) {
  LeaseRemoval removal;
  UniqueFd dir = open_directory();
  CoordinationLock lock(coordination_path_);
  Scan scan = scan_and_clean(dir.get());
  removal.expired = std::move(scan.expired);
  removal.removed = lease_to_remove(scan.live, job);
  if (removal.removed) {
    if (::unlinkat(dir.get(), removal.removed->file.c_str(), 0) < 0 && errno != ENOENT)
      throw errno_error("unlink", join(directory_, removal.removed->file));
    std::erase_if(scan.live, [&](const Lease& l) { return l.file == removal.removed->file; });
  }
  removal.live = std::move(scan.live);
  return removal;
}

LeaseListing LeaseDirectory::list_leases() {
  LeaseListing listing;
  UniqueFd dir = open_directory();
  CoordinationLock lock(coordination_path_);
  Scan scan = scan_and_clean(dir.get());
  listing.live = std::move(scan.live);
  listing.expired = std::move(scan.expired);
  listing.copier = probe_copier(dir.get());
  return listing;
}

}  // namespace ubc
