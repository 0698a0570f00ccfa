// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "core/status.h"

namespace ubc {

// Where live progress goes: the status file in the runtime directory and systemd's STATUS=.
class StatusSink {
 public:
  virtual ~StatusSink() = default;
  virtual void publish(const Status& status) = 0;
  // The job is over: its status file goes away.
  virtual void clear(const std::string& uuid) = 0;
};

}  // namespace ubc
