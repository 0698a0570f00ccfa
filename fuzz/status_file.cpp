// SPDX-License-Identifier: MIT
// A job's status file (/run/usb-backup-copier/<uuid>.json) as `status` and `serve` read
// it. What parses must survive to_json and parsing again unchanged.
#include <cstdint>
#include <string>

#include "core/status.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(ubc::fuzz::as_text(data, size));
  const auto status = ubc::status_from_json(text);
  if (!status) return 0;
  (void)ubc::status_line(*status);
  const std::string written = ubc::to_json(*status);
  const auto again = ubc::status_from_json(written);
  UBC_FUZZ_CHECK(again.has_value());
  UBC_FUZZ_CHECK(ubc::to_json(*again) == written);
  return 0;
}
