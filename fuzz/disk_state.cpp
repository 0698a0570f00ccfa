// SPDX-License-Identifier: MIT
// <disk>/.usb-backup-copier/state.json: written by us, but read back from a disk anyone
// may have prepared. What parses must survive to_json and parsing again unchanged.
#include <cstdint>
#include <string>

#include "core/disk_state.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(ubc::fuzz::as_text(data, size));
  const auto state = ubc::disk_state_from_json(text);
  if (!state) return 0;
  const std::string written = ubc::to_json(*state);
  const auto again = ubc::disk_state_from_json(written);
  UBC_FUZZ_CHECK(again.has_value());
  UBC_FUZZ_CHECK(ubc::to_json(*again) == written);
  return 0;
}
