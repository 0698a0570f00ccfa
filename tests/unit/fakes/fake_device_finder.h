// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>

#include "ports/device_finder.h"

namespace ubc::test {

class FakeDeviceFinder final : public DeviceFinder {
 public:
  std::optional<BlockDevice> by_devnode(const std::string& devnode) override {
    for (const auto& d : devices_)
      if (d.devnode == devnode) return d;
    return std::nullopt;
  }
  std::vector<BlockDevice> all() override { return devices_; }
  void unplug(const std::string& devnode) {
    devices_.erase(std::remove_if(devices_.begin(), devices_.end(),
                                  [&](const BlockDevice& d) { return d.devnode == devnode; }),
                   devices_.end());
  }
  std::vector<BlockDevice> devices_;
};

}  // namespace ubc::test
