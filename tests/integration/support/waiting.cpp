// SPDX-License-Identifier: MIT
#include "support/waiting.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <future>
#include <stdexcept>
#include <system_error>

namespace ubc::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Collected collect(Process& p, std::chrono::milliseconds safety_net) {
  Collected c;
  const auto deadline = Clock::now() + safety_net;
  while (!c.exited && Clock::now() < deadline) {
    ProcessOutput o = p.read(200ms);
    c.out += o.out;
    c.err += o.err;
    c.exited = o.exited;
  }
  return c;
}

std::string read_until(Process& p, const std::string& text, std::chrono::milliseconds safety_net) {
  std::string out;
  const auto deadline = Clock::now() + safety_net;
  while (out.find(text) == std::string::npos && Clock::now() < deadline) {
    ProcessOutput o = p.read(100ms);
    out += o.out;
    if (o.exited) break;
  }
  return out;
}

bool returns_within(std::chrono::milliseconds safety_net, const std::function<void()>& fn,
                    const std::function<void()>& unblock) {
  std::future<void> done = std::async(std::launch::async, fn);
  if (done.wait_for(safety_net) == std::future_status::ready) {
    done.get();
    return true;
  }
  if (unblock) unblock();
  done.wait();
  return false;
}

std::string process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return "";
  const auto close_paren = line.rfind(')');
  return close_paren == std::string::npos ? "" : line.substr(close_paren + 2, 1);
}

DirWatch::DirWatch(const std::string& dir, std::uint32_t mask) : dir_(dir) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
  if (::inotify_add_watch(fd_, dir.c_str(), mask) < 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "inotify_add_watch '" + dir + "'");
  }
}

DirWatch::~DirWatch() { ::close(fd_); }

void DirWatch::take(std::chrono::milliseconds timeout) {
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return;
  alignas(inotify_event) std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buf.data() + off);
      if (event->mask & IN_Q_OVERFLOW) throw std::runtime_error("inotify queue overflow watching " + dir_);
      if (event->len > 0) ++counts_[event->name];
      off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

int DirWatch::count(const std::string& name) {
  take(0ms);
  return counts_[name];
}

bool DirWatch::wait_for_more(const std::string& name, int count, std::chrono::milliseconds safety_net,
                             const std::function<bool()>& still_fine, std::chrono::milliseconds step) {
  const int target = this->count(name) + count;
  const auto deadline = Clock::now() + safety_net;
  for (;;) {
    if (!still_fine()) return false;
    if (counts_[name] >= target) return true;
    if (Clock::now() >= deadline) return false;
    take(step);
  }
}

}  // namespace ubc::test
