// SPDX-License-Identifier: MIT
#include "sys/logind_inhibitor.h"

#include <errno.h>
#include <fcntl.h>
#include <systemd/sd-bus.h>

#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>

namespace ubc {

namespace {

struct SdBusDeleter {
  // flush: nothing we sent may be left in the output queue when the connection goes.
  void operator()(sd_bus* bus) const noexcept { (void)sd_bus_flush_close_unref(bus); }
};
using SdBusPtr = std::unique_ptr<sd_bus, SdBusDeleter>;

struct SdBusMessageDeleter {
  void operator()(sd_bus_message* message) const noexcept { (void)sd_bus_message_unref(message); }
};
using SdBusMessagePtr = std::unique_ptr<sd_bus_message, SdBusMessageDeleter>;

// sd_bus_error owns heap strings once set; it is freed on every path.
class BusError {
 public:
  BusError() = default;
  ~BusError() { sd_bus_error_free(&error_); }
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  sd_bus_error* get() { return &error_; }
  bool is_set() const { return sd_bus_error_is_set(&error_) != 0; }
  std::string text() const {
    std::string t = error_.message ? error_.message : "";
    if (error_.name) t += std::string(t.empty() ? "" : " ") + "(" + error_.name + ")";
    return t;
  }

 private:
  sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

// A stuck logind must not hold up the copy for the library's default 25 s.
constexpr std::uint64_t kCallTimeoutUsec = 10'000'000;

std::string errno_text(int negative_errno) { return std::generic_category().message(-negative_errno); }

}  // namespace

std::optional<std::string> LogindInhibitor::acquire(const std::string& why) {
  if (fd_) return std::nullopt;

  sd_bus* raw_bus = nullptr;
  int r = sd_bus_open_system(&raw_bus);
  SdBusPtr bus(raw_bus);
  if (r < 0) return "cannot connect to the system bus: " + errno_text(r);

  sd_bus_message* raw_call = nullptr;
  r = sd_bus_message_new_method_call(bus.get(), &raw_call, "org.freedesktop.login1", "/org/freedesktop/login1",
                                     "org.freedesktop.login1.Manager", "Inhibit");
  SdBusMessagePtr call(raw_call);
  if (r < 0) return "cannot build the logind Inhibit call: " + errno_text(r);
  r = sd_bus_message_append(call.get(), "ssss", "shutdown:sleep", "usb-backup-copier", why.c_str(), "block");
  if (r < 0) return "cannot build the logind Inhibit call: " + errno_text(r);

  BusError error;
  sd_bus_message* raw_reply = nullptr;
  r = sd_bus_call(bus.get(), call.get(), kCallTimeoutUsec, error.get(), &raw_reply);
  SdBusMessagePtr reply(raw_reply);
  if (r < 0) {
    return "logind refused the shutdown inhibitor lock: " + (error.is_set() ? error.text() : errno_text(r));
  }

  // The fd belongs to the reply and closes with it: keep a duplicate of our own.
  int fd = -1;
  r = sd_bus_message_read(reply.get(), "h", &fd);
  if (r < 0) return "unexpected reply from logind Inhibit: " + errno_text(r);
  UniqueFd own(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!own) return "cannot keep the inhibitor lock: " + errno_text(-errno);
  fd_ = std::move(own);
  return std::nullopt;
}

}  // namespace ubc
