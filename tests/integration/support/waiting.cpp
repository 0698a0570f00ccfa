// SPDX-License-Identifier: MIT
#include "support/waiting.h"

#include <fstream>
#include <future>

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

}  // namespace ubc::test
