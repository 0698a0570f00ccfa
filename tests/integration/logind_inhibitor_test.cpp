// SPDX-License-Identifier: MIT
// The inhibitor against no bus, against a real dbus-daemon without logind, and against a
// real dbus-daemon with a stand-in logind that hands out a pipe as the inhibitor fd.
#include "sys/logind_inhibitor.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "support/loop_disk.h"
#include "sys/posix_process_runner.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;

// Points sd_bus_open_system() at another address for the lifetime of this object.
class SystemBusAddress {
 public:
  explicit SystemBusAddress(const std::string& address) { (void)::setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1); }
  ~SystemBusAddress() { (void)::unsetenv("DBUS_SYSTEM_BUS_ADDRESS"); }
  SystemBusAddress(const SystemBusAddress&) = delete;
  SystemBusAddress& operator=(const SystemBusAddress&) = delete;
};

// A private dbus-daemon of type "system" listening in dir.
class DbusDaemon {
 public:
  explicit DbusDaemon(const std::string& dir) {
    const std::string config = dir + "/system.conf";
    test::write_file(config,
                     "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                     " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                     "<busconfig>\n"
                     "  <type>system</type>\n"
                     "  <listen>unix:path=" + dir + "/bus</listen>\n"
                     "  <auth>EXTERNAL</auth>\n"
                     "  <policy context=\"default\">\n"
                     "    <allow user=\"*\"/>\n"
                     "    <allow own=\"*\"/>\n"
                     "    <allow send_destination=\"*\"/>\n"
                     "    <allow receive_sender=\"*\"/>\n"
                     "  </policy>\n"
                     "</busconfig>\n");
    try {
      process_ = runner_.start({"dbus-daemon", "--config-file=" + config, "--nofork", "--nopidfile", "--print-address=1"});
    } catch (const std::system_error& e) {
      throw std::runtime_error(std::string(e.what()) + " (install the dbus-daemon package)");
    }
    std::string out;
    std::string err;
    for (int i = 0; i < 100 && out.find('\n') == std::string::npos; ++i) {
      const ProcessOutput o = process_->read(100ms);
      out += o.out;
      err += o.err;
      if (o.exited) break;
    }
    if (out.find('\n') == std::string::npos) throw std::runtime_error("dbus-daemon did not start: " + err);
    address_ = out.substr(0, out.find('\n'));
  }
  ~DbusDaemon() { process_->terminate(5s); }
  DbusDaemon(const DbusDaemon&) = delete;
  DbusDaemon& operator=(const DbusDaemon&) = delete;

  const std::string& address() const { return address_; }

 private:
  PosixProcessRunner runner_;
  std::unique_ptr<Process> process_;
  std::string address_;
};

// Serves org.freedesktop.login1.Manager.Inhibit like logind does: it returns one end of a
// pipe and watches the other; the lock ends when the client's end closes.
class FakeLogind {
 public:
  FakeLogind() {
    sd_bus* bus = nullptr;
    if (sd_bus_open_system(&bus) < 0) throw std::runtime_error("fake logind: cannot connect");
    bus_ = bus;
    if (sd_bus_request_name(bus_, "org.freedesktop.login1", 0) < 0) throw std::runtime_error("fake logind: name");
    if (sd_bus_add_object_vtable(bus_, nullptr, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                 kVtable, this) < 0) {
      throw std::runtime_error("fake logind: vtable");
    }
    thread_ = std::thread([this] {
      while (!stop_) {
        const int r = sd_bus_process(bus_, nullptr);
        if (r > 0) continue;
        if (r < 0) break;
        (void)sd_bus_wait(bus_, 100'000);
      }
    });
  }
  ~FakeLogind() {
    stop_ = true;
    thread_.join();
    (void)sd_bus_flush_close_unref(bus_);
  }
  FakeLogind(const FakeLogind&) = delete;
  FakeLogind& operator=(const FakeLogind&) = delete;

  std::string args() {
    std::lock_guard lock(mutex_);
    return args_;
  }
  // Whether the client still holds its end: no hang-up seen on ours within timeout.
  bool lock_alive(int timeout_ms) {
    std::lock_guard lock(mutex_);
    if (!watch_) return false;
    pollfd pfd{watch_.get(), POLLIN, 0};
    return ::poll(&pfd, 1, timeout_ms) == 0;
  }

 private:
  static int inhibit(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
    auto* self = static_cast<FakeLogind*>(userdata);
    const char* what = nullptr;
    const char* who = nullptr;
    const char* why = nullptr;
    const char* mode = nullptr;
    if (const int r = sd_bus_message_read(m, "ssss", &what, &who, &why, &mode); r < 0) return r;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return -errno;
    UniqueFd write_end(fds[1]);
    {
      std::lock_guard lock(self->mutex_);
      self->args_ = std::string(what) + "|" + who + "|" + why + "|" + mode;
      self->watch_.reset(fds[0]);
    }
    // The message takes its own duplicate of the fd.
    return sd_bus_reply_method_return(m, "h", write_end.get());
  }

  static constexpr sd_bus_vtable kVtable[] = {
      SD_BUS_VTABLE_START(0),
      SD_BUS_METHOD("Inhibit", "ssss", "h", inhibit, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_VTABLE_END,
  };

  sd_bus* bus_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::string args_;
  UniqueFd watch_;
};

class LogindInhibitorTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("ubc-inhibit"); }
  void TearDown() override { test::remove_tree(dir_); }
  std::string dir_;
};

TEST_F(LogindInhibitorTest, WithoutASystemBusAcquireReturnsAnErrorTextAndDoesNotThrow) {
  SystemBusAddress no_bus("unix:path=" + dir_ + "/no-such-socket");
  LogindInhibitor inhibitor;
  std::optional<std::string> error;
  ASSERT_NO_THROW(error = inhibitor.acquire("copying disk 'Monday'"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("system bus"), std::string::npos) << *error;
  EXPECT_FALSE(inhibitor.held());
  EXPECT_NO_THROW(inhibitor.release());
  EXPECT_NO_THROW(inhibitor.release());
}

TEST_F(LogindInhibitorTest, OnThisMachinesDefaultBusAcquireNeverThrows) {
  // Here there is no system bus; on a full system logind answers. Either is fine, as long
  // as the result and held() agree.
  LogindInhibitor inhibitor;
  std::optional<std::string> error;
  ASSERT_NO_THROW(error = inhibitor.acquire("copying"));
  EXPECT_EQ(inhibitor.held(), !error.has_value());
  inhibitor.release();
  EXPECT_FALSE(inhibitor.held());
}

TEST_F(LogindInhibitorTest, ABusWithoutLogindGivesAnErrorNamingLogind) {
  DbusDaemon daemon(dir_);
  SystemBusAddress bus(daemon.address());
  LogindInhibitor inhibitor;
  const auto error = inhibitor.acquire("copying");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("org.freedesktop.login1"), std::string::npos) << *error;
  EXPECT_FALSE(inhibitor.held());
}

TEST_F(LogindInhibitorTest, HoldsTheLockFromLogindUntilReleased) {
  DbusDaemon daemon(dir_);
  SystemBusAddress bus(daemon.address());
  FakeLogind logind;

  LogindInhibitor inhibitor;
  const auto error = inhibitor.acquire("copying disk 'Monday'");
  ASSERT_FALSE(error) << *error;
  EXPECT_TRUE(inhibitor.held());
  EXPECT_EQ(logind.args(), "shutdown:sleep|usb-backup-copier|copying disk 'Monday'|block");
  // The reply message and the bus connection are gone; our duplicate keeps the lock.
  EXPECT_TRUE(logind.lock_alive(200));

  inhibitor.release();
  EXPECT_FALSE(inhibitor.held());
  EXPECT_FALSE(logind.lock_alive(2000)) << "logind still sees the lock after release";
}

TEST_F(LogindInhibitorTest, DestroyingTheInhibitorReleasesTheLock) {
  DbusDaemon daemon(dir_);
  SystemBusAddress bus(daemon.address());
  FakeLogind logind;
  {
    LogindInhibitor inhibitor;
    ASSERT_FALSE(inhibitor.acquire("copying"));
    EXPECT_TRUE(logind.lock_alive(100));
  }
  EXPECT_FALSE(logind.lock_alive(2000));
}

}  // namespace
}  // namespace ubc
