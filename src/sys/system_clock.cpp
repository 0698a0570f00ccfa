// SPDX-License-Identifier: MIT
#include "sys/system_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <system_error>

namespace ubc {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::array<int, 3> kStopSignals{SIGTERM, SIGINT, SIGHUP};

// Shared with the signal handler, which may only touch lock-free atomics and call
// async-signal-safe functions (write).
std::atomic<int> g_first_signal{0};
std::atomic<int> g_signal_count{0};
std::atomic<int> g_wake_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

std::atomic<bool> g_installed{false};
std::array<struct sigaction, kStopSignals.size()> g_previous{};

extern "C" void on_stop_signal(int sig) {
  const int saved_errno = errno;
  int none = 0;
  (void)g_first_signal.compare_exchange_strong(none, sig);
  g_signal_count.fetch_add(1);
  // The self-pipe wakes a poll() in any thread, not only the one the signal interrupted.
  // The pipe is non-blocking: when it is full, a wake-up is pending anyway.
  if (const int fd = g_wake_fd.load(); fd >= 0) {
    const ssize_t written = ::write(fd, "s", 1);
    (void)written;
  }
  errno = saved_errno;
}

void drain(int fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

std::system_error errno_error(const char* what) { return std::system_error(errno, std::generic_category(), what); }

}  // namespace

SignalStop::SignalStop() {
  bool expected = false;
  if (!g_installed.compare_exchange_strong(expected, true)) {
    throw std::system_error(EBUSY, std::generic_category(), "SignalStop: stop signal handlers already installed");
  }
  try {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) throw errno_error("pipe2");
    wake_read_.reset(fds[0]);
    wake_write_.reset(fds[1]);
    g_first_signal.store(0);
    g_signal_count.store(0);
    g_wake_fd.store(wake_write_.get());

    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigfillset(&action.sa_mask);
    // poll, ppoll and nanosleep are interrupted regardless; SA_RESTART spares every other
    // blocking call in the libraries we use from an unexpected EINTR.
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < kStopSignals.size(); ++i) {
      if (::sigaction(kStopSignals[i], &action, &g_previous[i]) < 0) {
        const int saved = errno;
        for (std::size_t j = 0; j < i; ++j) (void)::sigaction(kStopSignals[j], &g_previous[j], nullptr);
        throw std::system_error(saved, std::generic_category(), "sigaction");
      }
    }
  } catch (...) {
    g_wake_fd.store(-1);
    g_installed.store(false);
    throw;
  }
}

SignalStop::~SignalStop() {
  for (std::size_t i = 0; i < kStopSignals.size(); ++i) (void)::sigaction(kStopSignals[i], &g_previous[i], nullptr);
  // Handlers are gone before the pipe closes, so none can write to a reused fd number.
  g_wake_fd.store(-1);
  g_installed.store(false);
}

bool SignalStop::stop_requested() { return g_first_signal.load() != 0; }

std::string SignalStop::describe() {
  switch (const int sig = g_first_signal.load()) {
    case 0: return "";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(sig);
  }
}

bool SignalStop::wait(milliseconds duration) {
  // Bytes left from earlier signals must not cut this sleep short; only a signal that
  // arrives from now on counts. Drain first, then take the count: a signal in between
  // leaves a byte that ends the poll at once.
  drain(wake_read_.get());
  const int seen = g_signal_count.load();
  const auto deadline = steady_clock::now() + duration;
  for (;;) {
    if (g_signal_count.load() != seen) return true;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd pfd{wake_read_.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000LL * 60 * 60)));
    if (ready < 0 && errno != EINTR) throw errno_error("poll on the stop signal pipe");
    if (ready > 0) drain(wake_read_.get());
  }
}

std::int64_t SystemClock::now_unix() {
  timespec ts{};
  if (::clock_gettime(CLOCK_REALTIME, &ts) < 0) throw errno_error("clock_gettime CLOCK_REALTIME");
  return static_cast<std::int64_t>(ts.tv_sec);
}

milliseconds SystemClock::monotonic() {
  timespec ts{};
  if (::clock_gettime(CLOCK_MONOTONIC, &ts) < 0) throw errno_error("clock_gettime CLOCK_MONOTONIC");
  return milliseconds(static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
}

void SystemClock::sleep(milliseconds duration) {
  if (duration <= milliseconds::zero()) return;
  if (stop_ != nullptr) {
    (void)stop_->wait(duration);
    return;
  }
  timespec request{static_cast<time_t>(duration.count() / 1000), static_cast<long>(duration.count() % 1000) * 1000000L};
  timespec remaining{};
  while (::clock_nanosleep(CLOCK_MONOTONIC, 0, &request, &remaining) == EINTR) request = remaining;
}

}  // namespace ubc
