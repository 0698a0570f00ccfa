// SPDX-License-Identifier: MIT
#include "support/udevd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "support/loop_disk.h"

extern char** environ;

namespace ubc::test {

namespace {

constexpr const char* udevd_binary = "/lib/systemd/systemd-udevd";

bool udevd_answers() { return run({"udevadm", "control", "--ping", "--timeout=2"}) == 0; }

// Reaps the child if it has exited; true when it is gone.
bool reaped(pid_t pid) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

std::unique_ptr<ScopedUdevd>& shared_instance() {
  static std::unique_ptr<ScopedUdevd> instance;
  return instance;
}

class SharedUdevdEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { shared_instance().reset(); }
};

// Registered once, at load time; gtest owns the environment and runs TearDown after the
// last test, so the udevd started for this process does not outlive it.
[[maybe_unused]] ::testing::Environment* const shared_udevd_environment =
    ::testing::AddGlobalTestEnvironment(new SharedUdevdEnvironment);

}  // namespace

ScopedUdevd::ScopedUdevd() {
  if (!udevd_answers()) {
    if (!std::filesystem::exists(udevd_binary))
      throw std::runtime_error(std::string(udevd_binary) +
                               " is missing: install the Debian package 'udev'");
    // Not --daemon: as our own child its pid is known exactly, cannot be reused by another
    // process before we reap it, and it does not linger as a zombie of init. Its chatter
    // goes to /dev/null.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // Nothing else of ours: a daemon that outlives a killed test run must not keep its
    // pipes or an inherited lock (flock(1) around the run) open for ever.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    char* const argv[] = {const_cast<char*>(udevd_binary), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, udevd_binary, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn systemd-udevd");
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!udevd_answers()) {
      if (reaped(pid_) || std::chrono::steady_clock::now() >= deadline) {
        stop();
        throw std::runtime_error("systemd-udevd exited or does not answer 'udevadm control --ping'");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Fill the database with every block device present now.
  run_ok({"udevadm", "trigger", "--action=add", "--subsystem-match=block"});
  settle();
}

ScopedUdevd::~ScopedUdevd() { stop(); }

void ScopedUdevd::stop() {
  if (pid_ <= 0) return;
  if (!reaped(pid_)) {
    settle();
    // udevd stops its workers before it exits.
    (void)::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!reaped(pid_)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        (void)::kill(pid_, SIGKILL);
        (void)::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  pid_ = -1;
}

void ScopedUdevd::settle() { (void)run({"udevadm", "settle", "--timeout=30"}); }

void ScopedUdevd::refresh(const std::string& devnode) {
  // No --settle here: it has no timeout, and would hang if the udevd went away meanwhile.
  run_ok({"udevadm", "trigger", "--action=change", devnode});
  settle();
}

ScopedUdevd& shared_udevd() {
  auto& instance = shared_instance();
  if (!instance) instance = std::make_unique<ScopedUdevd>();
  return *instance;
}

}  // namespace ubc::test
