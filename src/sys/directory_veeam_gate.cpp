// SPDX-License-Identifier: MIT
#include "sys/directory_veeam_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ctime>
#include <utility>

#include "core/format.h"
#include "core/lease.h"
#include "sys/fd_io.h"

namespace ubc {

DirectoryVeeamGate::DirectoryVeeamGate(const Config& config, std::string disk)
    : settings_(config), disk_(std::move(disk)) {}

DirectoryVeeamGate::~DirectoryVeeamGate() { leave(); }

GateResult DirectoryVeeamGate::try_enter() {
  leave();
  GateResult result;
  LockedLeaseDirectory locked(settings_);
  // The watch exists before we look, so no lease created after our look goes unseen.
  ensure_watch();
  LeaseScan scan = locked.scan_and_clean();
  result.expired = std::move(scan.expired);
  if (!scan.live.empty()) {
    result.live = std::move(scan.live);
    return result;
  }
  const std::string path = settings_.path_of(kCopierMarkerName);
  UniqueFd fd(::openat(locked.fd(), std::string(kCopierMarkerName).c_str(),
                       O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) throw errno_error("open", path);
  // Shared: two copiers may read at once. It may wait a moment for veeam-lock's exclusive
  // probe, which is always non-blocking and let go at once.
  while (::flock(fd.get(), LOCK_SH) < 0)
    if (errno != EINTR) throw errno_error("flock", path);
  const std::string content = "pid=" + std::to_string(::getpid()) + "\ndisk=" + disk_ +
                              "\nsince=" + format_utc(static_cast<std::int64_t>(std::time(nullptr))) + "\n";
  if (::ftruncate(fd.get(), 0) < 0) throw errno_error("ftruncate", path);
  if (::pwrite(fd.get(), content.data(), content.size(), 0) < 0) throw errno_error("write", path);
  // Still under the lock, so whatever is queued now happened before we entered.
  (void)drain_events();
  appeared_ = false;
  active_fd_ = std::move(fd);
  result.entered = true;
  return result;
}

void DirectoryVeeamGate::leave() {
  active_fd_.reset();
  appeared_ = false;
}

void DirectoryVeeamGate::ensure_watch() {
  if (inotify_fd_) return;
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) throw errno_error("inotify_init1", settings_.directory);
  constexpr std::uint32_t mask =
      IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
  if (::inotify_add_watch(fd.get(), settings_.directory.c_str(), mask) < 0)
    throw errno_error("inotify_add_watch", settings_.directory);
  inotify_fd_ = std::move(fd);
}

bool DirectoryVeeamGate::drain_events() {
  if (!inotify_fd_) return true;  // lost earlier: the caller must look again
  bool lease_arrived = false;
  alignas(inotify_event) std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(inotify_fd_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return lease_arrived;
      throw errno_error("read(inotify)", settings_.directory);
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

bool DirectoryVeeamGate::lease_appeared() {
  if (!appeared_) appeared_ = drain_events();
  return appeared_;
}

void DirectoryVeeamGate::wait_for_change(std::chrono::milliseconds timeout) {
  if (!inotify_fd_) {
    (void)open_lease_directory(settings_.directory);
    ensure_watch();
  }
  pollfd pfd{inotify_fd_.get(), POLLIN, 0};
  const int ms = static_cast<int>(std::clamp<std::int64_t>(timeout.count(), 0, 24 * 3600 * 1000));
  const int ready = ::poll(&pfd, 1, ms);
  if (ready < 0) {
    if (errno == EINTR) return;  // a signal: the caller checks for a stop request
    throw errno_error("poll(inotify)", settings_.directory);
  }
  if (ready > 0 && drain_events() && active_fd_) appeared_ = true;
}

}  // namespace ubc
